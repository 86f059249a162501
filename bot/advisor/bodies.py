"""Answer bodies as Slack mrkdwn: a level's card, one aspect of it, comparisons, routes, relations.

Everything that comes from data or users is escaped here; sources are kept apart (``Answer.sources``).
"""

from __future__ import annotations

from collections import deque
from typing import Sequence

from bot.core.knowledge import SECTION_LABELS, Knowledge, Level
from bot.core.levelnames import normalize
from bot.core.render import escape, level_name, months
from bot.search.query import find_mentions
from bot.search.ranking import Hit
from bot.search.skills import split_skills

SUGGESTED_ACTIONS = ("what a level needs (experience, skills, numbers)", "what a level does day to day",
                     "how two levels differ", "how to get from one level to another", "what comes after a level",
                     "which level does some kind of work", "what a KPI or term means", "a guided gap check")


def _builds_on(pairs) -> str:
    return ", ".join(escape(s.name) if s.name.lower() == b.name.lower() else f"{escape(s.name)} (from {escape(b.name)})"
                     for s, b in pairs)


def names_in(kb: Knowledge) -> dict[str, dict[str, list[str]]]:
    """For each level, the other levels its description names, with the lines that name them
    ("Call Center Manager": {"team-lead": ["Manages the daily operations ... (Team Leads)."]})."""
    out: dict[str, dict[str, list[str]]] = {}
    for level in kb.levels():
        texts = list(level.responsibilities) + [s.description for s in level.skills]
        texts += [m.note for m in kb.moves if m.to == level.id and m.note]
        for text in texts:
            for m in find_mentions(kb, normalize(text)):
                if m.strong and m.level.id != level.id:
                    lines = out.setdefault(level.id, {}).setdefault(m.level.id, [])
                    if text not in lines:
                        lines.append(text)
    return out


def manager_text(kb: Knowledge, boss: Level, named: Level, lines: Sequence[str], hits: Sequence[Hit]) -> str:
    out = [f"*{level_name(boss)}* · {escape(kb.tracks[boss.track].title)}"]
    if lines:
        out.append(f"It is the nearest level above {level_name(named)} whose description names it:")
        out += [f"• {escape(t)}" for t in lines[:3]]
    else:
        out.append(f"The career map doesn't say who manages {level_name(named)}; of the levels above it, this one fits best:")
        out += [f"• {escape(h.text)}" for h in hits if h.level_id == boss.id and h.section != "title"][:2]
    out.append(f"_Everything about this level: `show {boss.id}`_")
    return "\n".join(out)


def next_text(kb: Knowledge, here: Level, nxt: Level, related=None) -> str:
    text = path_text(kb, here, nxt, related)
    others = [m for m in kb.moves_from(here.id) if m.to != nxt.id]
    if others:
        text += "\n\n*Other moves from " + level_name(here) + "*: " + ", ".join(
            f"{level_name(kb.level(m.to))} ({'promotion' if m.kind == 'promotion' else 'branch move'})" for m in others)
    return text


def requirements_text(kb: Knowledge, level: Level, related=None) -> str:
    track = kb.tracks[level.track]
    minimum = f" (at least {months(level.experience.min_months)})" if level.experience.min_months is not None else ""
    lines = [f"*{level_name(level)}* · {escape(track.title)}", "",
             f"*Experience*{minimum}: {escape(level.experience.text)}", "", f"*Skills ({len(level.skills)})*"]
    lines += [f"• *{escape(s.name)}*: {escape(s.description)}" for s in level.skills]
    lines += ["", "*Responsibilities*"] + [f"• {escape(r)}" for r in level.responsibilities]
    below = kb.below(level)
    if below is not None:
        lines += _new_skills(level, below, related)
        for t in level.thresholds:
            before = next((b for b in below.thresholds if b.metric == t.metric), None)
            was = f" (was {before.describe()})" if before else ""
            lines.append(f"• {escape(t.label)}: {t.describe()}{was}")
        if below.experience.min_months != level.experience.min_months and level.experience.min_months is not None:
            was = (f"instead of {months(below.experience.min_months)}" if below.experience.min_months is not None
                   else f"{level_name(below)} states no minimum")
            lines.append(f"• Experience: at least {months(level.experience.min_months)} ({was})")
    return "\n".join(lines)


def _new_skills(level: Level, below: Level, related=None) -> list[str]:
    """ "New compared with L2 …": the skills ``below`` does not have, and the ones that grow from its."""
    added, builds = split_skills(level, below, related)
    lines = ["", f"*New compared with {level_name(below)}*"]
    if added:
        lines.append("• New skills: " + ", ".join(escape(s.name) for s in added))
    if builds:
        lines.append("• Builds on: " + _builds_on(builds))
    return lines


def compare_text(kb: Knowledge, a: Level, b: Level, related=None) -> str:
    if a.id == b.id:
        return f"Those are the same level: *{level_name(a)}*."
    lo, hi = (a, b) if (a.track, a.number) <= (b.track, b.number) else (b, a)
    lines = [f"*{level_name(lo)}* vs *{level_name(hi)}*"]
    if lo.track != hi.track:
        lines.append(f"_They are on different ladders: {escape(kb.tracks[lo.track].title)} and {escape(kb.tracks[hi.track].title)}._")
    lines += ["", "*Experience*",
              f"• {level_name(lo)}: {escape(lo.experience.text)}",
              f"• {level_name(hi)}: {escape(hi.experience.text)}"]
    only_hi, builds = split_skills(hi, lo, related)
    used = {b.name for _, b in builds}
    only_lo = [s for s in lo.skills if s.name not in used]
    if only_hi:
        lines += ["", f"*Only {level_name(hi)} asks for*"] + [f"• *{escape(s.name)}*: {escape(s.description)}" for s in only_hi]
    if builds:
        lines += ["", f"*{level_name(hi)} builds on what {level_name(lo)} asks for*"]
        lines += [f"• *{escape(s.name)}* (from {escape(b.name)}): {escape(s.description)}" for s, b in builds]
    if only_lo:
        lines += ["", f"*Only {level_name(lo)} lists*", "• " + ", ".join(escape(s.name) for s in only_lo)]
    nums = [(lv, t) for lv in (lo, hi) for t in lv.thresholds]
    if nums:
        lines += ["", "*Numbers*"] + [f"• {level_name(lv)}: {escape(t.label)} {t.describe()}" for lv, t in nums]
    lines += ["", "*Responsibilities*", f"• {level_name(hi)}: " + " ".join(escape(r) for r in hi.responsibilities[:3])
              + (" …" if len(hi.responsibilities) > 3 else "")]
    return "\n".join(lines)


def find_path(kb: Knowledge, a: Level, b: Level) -> list[Level] | None:
    """The shortest chain of moves from a to b (promotions and branches), or None."""
    previous: dict[str, str | None] = {a.id: None}
    queue = deque([a.id])
    while queue:
        here = queue.popleft()
        if here == b.id:
            chain = [here]
            while previous[chain[-1]] is not None:
                chain.append(previous[chain[-1]])
            return [kb.level(x) for x in reversed(chain)]
        for move in kb.moves_from(here):
            if move.to not in previous:
                previous[move.to] = here
                queue.append(move.to)
    return None


def path_text(kb: Knowledge, a: Level, b: Level, related=None) -> str:
    if a.id == b.id:
        return f"You are already there: *{level_name(a)}*."
    chain = find_path(kb, a, b)
    if chain is None:
        direction = "down or across ladders" if (a.track != b.track or a.number > b.number) else "there"
        return (f"The career map has no route from *{level_name(a)}* to *{level_name(b)}* "
                f"(it describes moves up each ladder and a few branches, not {direction}).")
    lines = [f"*From {level_name(a)} to {level_name(b)}*: {len(chain) - 1} step{'s' if len(chain) > 2 else ''}"]
    for here, there in zip(chain, chain[1:]):
        move = next(m for m in kb.moves_from(here.id) if m.to == there.id)
        kind = "promotion" if move.kind == "promotion" else "branch move"
        lines += ["", f"*{level_name(here)} → {level_name(there)}* ({kind})"]
        if move.typical_time:
            lines.append(f"• Typical time in role: {escape(move.typical_time)}")
        lines.append(f"• Experience: {escape(there.experience.text)}")
        added, builds = split_skills(there, here, related)
        if added:
            lines.append("• Adds: " + ", ".join(escape(s.name) for s in added))
        if builds:
            lines.append("• Builds on: " + _builds_on(builds))
        for t in there.thresholds:
            lines.append(f"• {escape(t.label)}: {t.describe()}")
        if move.note:
            lines.append(f"• _{escape(move.note)}_")
    return "\n".join(lines)


def fact_text(kb: Knowledge, level: Level, hits: Sequence[Hit]) -> str:
    lines = [f"*{level_name(level)}* · {escape(kb.tracks[level.track].title)}"]
    used = [h for h in hits if h.level_id == level.id and h.section != "title"][:3]
    if not used:
        used = [h for h in hits if h.level_id == level.id][:1]
    for h in used:
        lines.append(f"• {escape(h.text)} _({SECTION_LABELS.get(h.section, h.section)})_")
    lines.append(f"_Everything about this level: `show {level.id}`_")
    return "\n".join(lines)


def _header(kb: Knowledge, level: Level) -> str:
    return f"*{level_name(level)}* · {escape(kb.tracks[level.track].title)}"


def experience_text(kb: Knowledge, level: Level) -> str:
    minimum = f" (at least {months(level.experience.min_months)})" if level.experience.min_months is not None else ""
    lines = [_header(kb, level), "", f"*Experience*{minimum}: {escape(level.experience.text)}"]
    for move in kb.moves:
        if move.to == level.id and move.typical_time:
            lines.append(f"• Typical time before the move from {level_name(kb.level(move.from_))}: "
                         f"{escape(move.typical_time)}")
    lines.append(f"_Everything about this level: `show {level.id}`_")
    return "\n".join(lines)


def skills_text(kb: Knowledge, level: Level, related=None) -> str:
    lines = [_header(kb, level), "", f"*Skills ({len(level.skills)})*"]
    lines += [f"• *{escape(s.name)}*: {escape(s.description)}" for s in level.skills]
    below = kb.below(level)
    if below is not None:
        lines += _new_skills(level, below, related)
    lines.append(f"_Everything about this level: `show {level.id}`_")
    return "\n".join(lines)


def numbers_text(kb: Knowledge, level: Level) -> str:
    lines = [_header(kb, level), ""]
    if level.thresholds:
        lines.append("*Numbers the career map states*")
        lines += [f"• {escape(t.label)}: {t.describe()}" for t in level.thresholds]
    else:
        lines.append(f"The career map states no KPI target or team size for {level_name(level)}.")
        stated = [lv for lv in kb.tracks[level.track].levels if lv.thresholds]
        if stated:
            lines.append("Levels on this track that state numbers: " + "; ".join(
                f"{level_name(lv)} ({', '.join(escape(t.label) + ' ' + t.describe() for t in lv.thresholds)})"
                for lv in stated))
    lines.append(f"_Everything about this level: `show {level.id}`_")
    return "\n".join(lines)


def duties_text(kb: Knowledge, level: Level) -> str:
    lines = [_header(kb, level), "", "*Responsibilities*"]
    lines += [f"• {escape(r)}" for r in level.responsibilities]
    lines.append(f"_Everything about this level: `show {level.id}`_")
    return "\n".join(lines)


def aspect_text(kb: Knowledge, level: Level, aspect: str, related=None) -> str:
    """One part of a level's card for a question about that part; everything for the rest."""
    if aspect == "experience":
        return experience_text(kb, level)
    if aspect == "skills":
        return skills_text(kb, level, related)
    if aspect == "numbers":
        return numbers_text(kb, level)
    if aspect == "duties":
        return duties_text(kb, level)
    return requirements_text(kb, level, related)


ASPECT_SECTIONS = {"experience": ["Experience"], "skills": ["Skills"], "numbers": ["Skills", "Area of Responsibility"],
                   "duties": ["Area of Responsibility"]}

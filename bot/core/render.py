"""Text for people: level cards and ladder overviews as Slack mrkdwn.

Everything taken from data or from users goes through :func:`escape`, so nothing shown can form a
link, a mention or ``<!channel>``. The console (``python -m bot``) shows the same text via
:func:`to_plain`.
"""

from __future__ import annotations

import re

from bot.core.knowledge import Knowledge, Level, Track
from bot.core.text import escape  # noqa: F401  (re-exported: callers import it from here)


def to_plain(mrkdwn: str) -> str:
    """What a terminal shows for our mrkdwn: entities decoded, links reduced to their label."""
    text = re.sub(r"<([^|<>]+)\|([^<>]+)>", r"\2", mrkdwn)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"\1", text)
    text = text.replace("`", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def headcount(n: int) -> str:
    """"1 person", "3 people"."""
    return f"{n} {'person' if n == 1 else 'people'}"


def months(n: int | None) -> str:
    if n is None:
        return "not stated"
    if n < 12:
        return f"{n} month{'s' if n != 1 else ''}"
    years = n / 12
    text = f"{years:.1f}".rstrip("0").rstrip(".")
    return f"{text} year{'s' if years != 1 else ''}"


def level_name(level: Level) -> str:
    return f"L{level.number} {escape(level.title)}"


def level_card(kb: Knowledge, level: Level) -> str:
    track = kb.tracks[level.track]
    lines = [f"*{level_name(level)}*  ·  {escape(track.title)}  ·  `{level.id}`"]
    if level.aliases:
        lines.append(f"_Also called: {escape(', '.join(level.aliases))}_")
    minimum = f" (minimum {months(level.experience.min_months)})" if level.experience.min_months is not None else ""
    lines += ["", f"*Experience*{minimum}", escape(level.experience.text), "", "*Area of responsibility*"]
    lines += [f"• {escape(r)}" for r in level.responsibilities]
    lines += ["", f"*Skills* ({len(level.skills)})"]
    lines += [f"• *{escape(s.name)}*: {escape(s.description)}" for s in level.skills]
    if level.thresholds:
        lines += ["", "*Numbers to hit*"]
        lines += [f"• {escape(t.label)}: {t.describe()}" for t in level.thresholds]
    neighbours = []
    if (prev := kb.below(level)) is not None:
        neighbours.append(f"below: {level_name(prev)}")
    if (nxt := kb.next_level(level)) is not None:
        neighbours.append(f"next: {level_name(nxt)}")
    if neighbours:
        lines += ["", "_" + "  ·  ".join(neighbours) + "_"]
    return "\n".join(lines)


def ladder(kb: Knowledge, track: Track) -> str:
    default = " (default)" if track.default else ""
    lines = [f"*{escape(track.title)}*{default} — {len(track.levels)} levels, track `{track.id}`"]
    for level in track.levels:
        exp = level.experience.min_months
        exp_text = f" — from {months(exp)} experience" if exp is not None else ""
        lines.append(f"L{level.number:<2} {escape(level.title)}  `{level.id}`{exp_text}")
    return "\n".join(lines)

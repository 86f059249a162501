"""Turning a decision into an :class:`Answer`: the level it is about, its text, its sources, its hits."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from bot.advisor.answer import TRUNCATED_NOTE, Answer
from bot.advisor.bodies import ASPECT_SECTIONS, names_in
from bot.core.knowledge import SECTION_LABELS, Knowledge, Level
from bot.core.render import escape, ladder, level_name
from bot.search.query import Intent, Query
from bot.search.ranking import MAX_HITS, Hit, Ranker, Ranking
from bot.search.scope import SUGGESTED
from bot.search.skills import SkillRelations

_SECTIONS = {
    Intent.REQUIREMENTS: ["Experience", "Skills", "Area of Responsibility"],
    Intent.COMPARE: ["Experience", "Skills", "Area of Responsibility"],
    Intent.PATH: ["Experience", "Skills"],
}
CAPABILITIES = ("• what a level needs: experience, skills, KPI targets and team sizes (\"what do I need for Senior Agent?\")\n"
                "• what a level does day to day, and which level does some kind of work\n"
                "• how levels differ, what comes next, and the route from one to another (\"how do I get from Agent to Team Lead?\")\n"
                "• what a KPI or term means (\"what is FCR?\")\n"
                "• a guided gap check against a level (`/ladder gap`)")


class Composer:
    def __init__(self, kb: Knowledge, ranker: Ranker, skills: SkillRelations):
        self.kb = kb
        self.ranker = ranker
        self.related = skills
        self.names_in = names_in(kb)

    @property
    def version(self) -> str:
        return self.kb.version

    def hits(self, ranking: Ranking | None) -> list[Hit]:
        return self.ranker.hits(ranking) if ranking is not None else []

    def _notes(self, query: Query) -> list[str]:
        return [TRUNCATED_NOTE] if query.truncated else []

    def sources(self, level_ids: Sequence[str], sections: Sequence[str]) -> list[str]:
        out = []
        for lid in level_ids:
            lv = self.kb.level(lid)
            out.append(f"{self.kb.tracks[lv.track].title} · {lv.label} · {', '.join(sections)}")
        return out

    def finish(self, query: Query, ranking: Ranking | None, level: Level, text: str, source_levels: Sequence[str],
               intent: Intent, *, kind: str | None = None, relation: str | None = None, aspect: str | None = None) -> Answer:
        sections = ASPECT_SECTIONS.get(aspect or "") or _SECTIONS.get(intent)
        hits = self.hits(ranking)
        if sections is None:
            used = [h for h in hits if h.level_id == level.id][:3]
            sections = sorted({SECTION_LABELS.get(h.section, h.section.title()) for h in used}) or ["Experience"]
        return Answer(
            question=query.text, status="answered", level_id=level.id, track=level.track, hits=hits,
            text=text, knowledge_version=self.version, intent=intent.value,
            sources=self.sources(source_levels, sections), kind=kind, relation=relation,
            level_ids=list(dict.fromkeys(source_levels)), notes=self._notes(query),
        )

    def no_answer(self, query: Query, message: str, suggest: bool = True, ranking: Ranking | None = None,
                  kind: str | None = None) -> Answer:
        text = message  # mrkdwn: callers escape what came from data or users
        if suggest:
            text += " I answer questions about the career ladder: levels, what they need, and how to move up. Try:\n"
            text += "\n".join(f"• {s}" for s in SUGGESTED)
        return Answer(question=query.text, status="no_answer", text=text, knowledge_version=self.version,
                      hits=self.hits(ranking), intent=None, kind=kind, notes=self._notes(query))

    def social(self, query: Query, kind: str) -> Answer:
        """Hello, thanks, help: a short friendly answer with what Ladder can do (never a refusal)."""
        opening = {"greeting": "Hi! I'm Ladder, I know the company's career map.",
                   "thanks": "You're welcome! Ask me anything else about the career ladder.",
                   "help": "I'm Ladder: I answer questions about the company's career map."}[kind]
        text = opening + "\n\nI can tell you:\n" + CAPABILITIES
        if kind == "help":
            text += "\n\nAsk in your own words, or type `/ladder help` for the commands."
        return Answer(question=query.text, status="answered", text=text, knowledge_version=self.version,
                      intent=kind, kind=kind, notes=self._notes(query))

    def ask_for_level(self, query: Query, ranking: Ranking, kind: str | None) -> Answer:
        text = ("I don't know your level yet: pick it below (or on my App Home tab), then ask again "
                "and I'll answer from your level.")
        return Answer(question=query.text, status="clarify", text=text, knowledge_version=self.version,
                      hits=self.hits(ranking), intent=None, kind=kind, relation="mine", ask_level=True,
                      notes=self._notes(query))

    def gap_check(self, query: Query, ranking: Ranking) -> Answer:
        text = "Let's run a gap check: pick your level and the level you aim for (`/ladder gap`)."
        return Answer(question=query.text, status="answered", text=text, knowledge_version=self.version,
                      hits=self.hits(ranking), intent=None, kind="gap_check", notes=self._notes(query))

    def clarify(self, query: Query, ranking: Ranking, options: list[str], kind: str | None = None,
                name: str | None = None) -> Answer:
        """Ask which level: of two ladders, or (``name``) of the levels one name stands for."""
        levels = [self.kb.level(o) for o in options]
        if name is not None:
            fits = f"“{escape(name)}” could be " + " or ".join(f"*{level_name(lv)}*" for lv in levels)
        else:
            fits = "That fits more than one ladder: " + " or ".join(
                f"*{level_name(lv)}* ({escape(self.kb.tracks[lv.track].title)})" for lv in levels)
        return Answer(question=query.text, status="clarify", text=f"{fits}. Which one do you mean?",
                      knowledge_version=self.version, hits=self.hits(ranking), options=options,
                      intent=query.intent.value, kind=kind, notes=self._notes(query))

    def overview(self, query: Query, ranking: Ranking, track: str | None, kind: str | None = None) -> Answer:
        """The ladder as a whole: "how many levels are there?", "show me every level"."""
        tid = track or query.track_hint
        tracks = [self.kb.track(tid)] if tid else sorted(self.kb.tracks.values(), key=lambda t: not t.default)
        lines: list[str] = []
        if len(tracks) > 1:
            lines += [f"The career map has {len(tracks)} ladders: "
                      + "; ".join(f"{escape(t.title)} ({len(t.levels)} levels)" for t in tracks) + ".", ""]
        lines.append("\n\n".join(ladder(self.kb, t) for t in tracks))
        return Answer(question=query.text, status="answered", level_id=None, track=tid, hits=self.hits(ranking),
                      text="\n".join(lines), knowledge_version=self.version, intent=Intent.OVERVIEW.value,
                      sources=[f"{t.title} · ladder overview" for t in tracks], kind=kind or "overview",
                      notes=self._notes(query))

    def background(self, query: Query, ranking: Ranking, note_id: str, kind: str | None = None) -> Answer:
        note_id = note_id.split("/", 1)[1]
        note = self.kb.reference(note_id)
        hits = self.hits(ranking)
        best = [h for h in hits if h.doc_id.startswith(f"reference/{note_id}#")][:2]
        if len(best) < 2:
            # a named level can crowd the note out of the top hits ("before becoming a call centre agent")
            rows = dict(self.ranker.note_chunks)[f"reference/{note_id}"]
            rows = rows[np.argsort(-ranking.chunk_scores[rows], kind="stable")][:2]
            best = [Hit(None, c.doc_id, c.track, c.title, c.section, c.text, round(float(ranking.chunk_scores[i]), 4))
                    for i in rows for c in [self.ranker.chunks[i]]]
            hits = (best + [h for h in hits if h.doc_id not in {b.doc_id for b in best}])[:MAX_HITS]
        lines = [f"*{escape(note.title)}* _(background reading, not company policy)_"]
        lines += [f"• {escape(h.text)}" for h in best]
        return Answer(question=query.text, status="answered", level_id=None, track=None, hits=hits,
                      text="\n".join(lines), knowledge_version=self.version, intent=Intent.GLOSSARY.value,
                      sources=[f"Background: {note.title} (from {note.source})"], kind=kind or "glossary",
                      notes=self._notes(query))

    def manager(self, named: Level, ranking: Ranking) -> tuple[Level | None, list[str]]:
        """Who manages / is reported to by ``named``: the nearest level above it whose description names it
        ("Call Center Manager: ... overseeing multiple teams (Team Leads)"), else the best-scoring level
        above it on its track."""
        above = [lv for lv in self.kb.tracks[named.track].levels if lv.number > named.number]
        if not above:
            return None, []
        for lv in above:
            lines = self.names_in.get(lv.id, {}).get(named.id)
            if lines:
                return lv, lines
        return max(above, key=lambda lv: ranking.level_scores.get(lv.id, -1.0)), []

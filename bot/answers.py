"""``ask(question) -> Answer``: retrieval that understands a ladder, and the answers built from it.

The Slack app and the CLI both call :class:`Advisor`; neither does any retrieval of its own.
Answer text is Slack mrkdwn, with everything from data or users escaped.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Literal, Sequence

import numpy as np

from bot.embedders import Embedder
from bot.search.conversation import Conversation
from bot.knowledge import SECTION_LABELS, Knowledge, Level, LevelNotFound
from bot.query import Intent, Query, find_mentions, understand, _NUMBER, _TRACK_WORDS
from bot.render import escape, ladder, level_name, months
from bot.levelnames import normalize
from bot.retrieval import Chunk, Index, Lexical, lexical_tokens, skill_texts

Status = Literal["answered", "clarify", "no_answer"]
MAX_HITS = 10

# Scoring weights. Dense cosine is the backbone; BM25 adds exact-word evidence; a level named in the
# question (title, alias, L-number, typo of one) dominates; other tracks than the one asked about sink.
LEXICAL_WEIGHT = 0.25
LEXICAL_SCALE = 8.0          # BM25 score counted as full lexical evidence
SUPPORT_WEIGHT = 0.25        # how much a level's 2nd and 3rd best chunks add to its best
STRONG_MENTION = 0.60
WEAK_MENTION = 0.06
OTHER_TRACK = 0.30
DEFAULT_TRACK_TIE = 0.05     # nudges ties toward the default track when nothing names a track
CLARIFY_MARGIN = 0.03        # two tracks this close, nothing naming either: ask which
IDENTIFY_MENTION = -0.10    # "who oversees the TLs?": a named level is the reference point, not the answer
NUMBER_MATCH = 0.10         # the question states a number the level states ("10-15 people", "105%")
NUMBER_UNIT_MATCH = 0.25    # ... in the level's unit, inside the band the level's threshold covers ("95%", "150 FTE");
                            # "100% or more": the band that starts there
BACKGROUND_MARGIN = 0.02    # a background note must beat the best level by this much for a glossary question
BACKGROUND_MARGIN_OTHER = 0.12   # ... and by this much for any other question
PARTIAL_MENTION = 0.05      # "seniors": a bare title word
BEFORE_ENTRY_SLACK = 0.05   # "before becoming an agent": background reading wins unless the level fits this much better
NEWCOMER = 0.15             # "just got hired", "a brand new agent": the track's first level
SKILL_BUILDS_ON = 0.55      # cosine of two skills ("name: description") above which the higher one builds on the lower

SUGGESTED = (
    "What do I need for Senior Agent?",
    "What's the difference between L2 and L3?",
    "How do I get from Agent to Team Lead?",
    "What is FCR?",
)

# Zero-shot scope check: a question is compared with generic examples of what Ladder is for and of
# the other things people ask a workplace assistant. They describe kinds of request, not test items,
# and never the place: "call centre" is as likely in an off-topic question as in a career one.
IN_SCOPE_EXAMPLES = (
    "what do I need to get promoted",
    "requirements for the next level",
    "what skills does this level need",
    "what experience is required for this role",
    "what are the responsibilities of this job",
    "what is the difference between two levels",
    "what is expected of me in this role",
    "I just started this job, what am I supposed to be doing",
    "how do I move up in my career",
    "can I move up yet",
    "what comes after my current level",
    "which level is responsible for this work",
    "who is in charge of this part of the work",
    "is there a role for people who like this kind of work",
    "what level would I be at",
    "how many people does this role manage",
    "what KPI target does this level have",
    "is my performance good enough for my level",
    "what does this work metric mean",
    "what does this abbreviation stand for",
    "what does a person in this job do all day",
    "is this role part of the career ladder",
    "career path and promotion",
    "what a frontend developer needs to know at this level",
)
OUT_OF_SCOPE_EXAMPLES = (
    "reset my password",
    "my computer is not working",
    "the VPN or wifi is down",
    "my headset or phone is broken",
    "the software system has an outage",
    "what is the weather today",
    "when is payday",
    "book a holiday or time off",
    "book a meeting room",
    "what is for lunch",
    "office parking and building access",
    "opening hours of the office",
    "who is working on the shift tonight",
    "swap a shift with a colleague",
    "tell me a joke",
    "recommend a film, music or podcast",
    "sports scores and the news",
    "write a program or fix my code",
    "fix an error in git or css",
    "look up a customer's order or ticket",
    "what was my score yesterday",
    "translate this into another language",
    "submit an expense claim",
    "when is the next meeting",
    "where is a room in the building",
    "pull up my own records from the system",
    "is a colleague working on a particular day",
    "who is assigned to me",
    "someone's email address or phone number",
    "the figures for one client account",
)
# Questions about pay and HR policy look like career questions ("a senior agent's salary") but the
# career map says nothing about them: they get their own honest refusal.
POLICY_EXAMPLES = (
    "what is my salary",
    "how much does this job pay",
    "when do I get my bonus",
    "my payslip is wrong",
    "how many days of annual leave do I get",
    "sick leave and parental leave",
    "pension, health insurance and other benefits",
    "company policy on remote work or dress code",
)
POLICY_MESSAGE = ("The career map doesn't cover pay, bonuses, leave or other HR policy, so I can't answer that: "
                  "HR or your manager can.")
# A question that names no level is answered when its best match is this good, counting how much
# more it resembles the first list than the second.
MIN_SCOPE_SCORE = 0.30
# A question that names a level is judged with the names taken out ("when is the ___ meeting today?"):
# refused when it is this much more like another kind of request than like a career question.
NAMED_SCOPE_MARGIN = 0.10
# A request about a particular day or period ("my kpi for march", "is my TL in on saturday?") is a look-up
# in another system: it counts this much against the question being a career one.
DATED_PENALTY = 0.25


@dataclass
class Hit:
    level_id: str | None
    doc_id: str
    track: str | None
    title: str
    section: str
    text: str
    score: float


@dataclass
class Answer:
    question: str
    status: Status
    answer: str
    knowledge_version: str
    level_id: str | None = None
    track: str | None = None
    hits: list[Hit] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    intent: str | None = None
    sources: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "question": self.question, "status": self.status, "level_id": self.level_id, "track": self.track,
            "hits": [asdict(h) for h in self.hits], "options": list(self.options), "answer": self.answer,
            "knowledge_version": self.knowledge_version,
        }


@dataclass
class Ranking:
    query: Query
    level_scores: dict[str, float]
    chunk_scores: np.ndarray
    dense: np.ndarray
    background: tuple[str, float] | None     # best background note id and its score
    in_scope_margin: float
    qvec: np.ndarray
    adjustments: dict[str, float] = field(default_factory=dict)   # per level: mentions, track, numbers
    masked_vec: np.ndarray | None = None     # the question without its level names, pooled from the same run
    hits: list["Hit"] | None = None          # computed once, on first use


class Advisor:
    def __init__(self, kb: Knowledge, index: Index, embedder: Embedder):
        self.kb = kb
        self.index = index
        self.embedder = embedder
        self.chunks: list[Chunk] = index.chunks
        self.lexical = Lexical(self.chunks)
        # Chunks grouped by level and by background note once, so ranking is a few array operations.
        self._level_ids: list[str] = list(dict.fromkeys(c.level_id for c in self.chunks if c.level_id))
        row = {lid: i for i, lid in enumerate(self._level_ids)}
        self._chunk_row = np.array([row[c.level_id] if c.level_id else len(self._level_ids) for c in self.chunks])
        groups = [[i for i, c in enumerate(self.chunks) if c.level_id == lid] for lid in self._level_ids]
        width = max((len(g) for g in groups), default=1)
        pad = len(self.chunks)          # points at an appended -inf
        self._level_matrix = np.array([g + [pad] * (width - len(g)) for g in groups], dtype=np.int64).reshape(len(groups), width)
        self._title_chunk = np.array([c.section == "title" for c in self.chunks])
        self._level_chunks = {lid: np.array(g) for lid, g in zip(self._level_ids, groups)}
        notes = list(dict.fromkeys(c.doc_id.split("#")[0] for c in self.chunks if not c.level_id))
        self._note_chunks = [(n, np.array([i for i, c in enumerate(self.chunks)
                                           if not c.level_id and c.doc_id.split("#")[0] == n])) for n in notes]
        self._bands = number_bands(kb)
        self._band_starts = {(b.unit, b.low) for bands in self._bands.values() for b in bands}
        self._in = embedder.encode(IN_SCOPE_EXAMPLES)
        self._out = embedder.encode(OUT_OF_SCOPE_EXAMPLES + POLICY_EXAMPLES)
        self._out_kind = np.array(["other"] * len(OUT_OF_SCOPE_EXAMPLES) + ["policy"] * len(POLICY_EXAMPLES))
        # Skills compared by meaning, so "Complex Problem Solving" builds on "Problem Solving": embedded when
        # the index is built (skills.npy), at start-up only for an index without them.
        skills = skill_texts(kb)
        self._skill_row = {key: i for i, key in enumerate(skills)}
        stored = getattr(index, "skill_vectors", None) or {}
        if skills and all(key in stored for key in skills):
            self._skill_vecs = np.stack([stored[key] for key in skills])
        else:
            self._skill_vecs = embedder.encode([f"{n}: {d}" for n, d in skills]) if skills else np.zeros((0, 1))
        self._relations: dict[tuple[str, str, str], object] = {}
        self._names_in = _names_in(kb)
        # The same question asked again (a suggested question, a retry, a popular one) skips the model.
        self._embed = lru_cache(maxsize=4096)(self._embed_once)

    @property
    def version(self) -> str:
        return self.kb.version

    # -- ranking ------------------------------------------------------------------------------
    def _embed_once(self, text: str, spans: tuple[tuple[int, int], ...] | None, masked: str | None):
        """The question's vector and, when it names a level, the vector of the rest of it: one model run
        (two poolings of the same token states) with the ONNX backend, two runs with any other."""
        both = getattr(self.embedder, "encode_with_masked", None)
        if masked is None:
            qvec, mvec = self.embedder.encode([text])[0], None
        elif both is not None and spans is not None:
            qvec, mvec = both(text, spans)
        else:
            qvec, mvec = self.embedder.encode([text, masked])
        for v in (qvec, mvec):
            if v is not None:
                v.flags.writeable = False   # shared by every later ask of the same question
        return qvec, mvec

    def rank(self, query: Query, track: str | None = None) -> Ranking:
        masked = None
        spans = None
        if (query.mentions or query.partial) and lexical_tokens(query.masked):
            masked = query.masked
            found = query.masked_spans()
            spans = tuple(found) if found is not None else None
        qvec, mvec = self._embed(query.expanded, spans, masked)
        dense = self.index.search(qvec)
        lex = self.lexical.scores(query.expanded)
        # BM25 grows with the question's length: below LEXICAL_SCALE a score counts as partial evidence,
        # above it the best-matching chunk gets full weight and the others their share of it, so
        # several strong matches still differ instead of all saturating at the same value.
        chunk_scores = dense + LEXICAL_WEIGHT * lex / max(LEXICAL_SCALE, float(lex.max()))

        if query.identify and not query.mentions and not query.partial:
            # "what's that job called?" describes the work and asks for the name: a title chunk holds only
            # the name, so it is no evidence ("calls" ... "called" is not "Call Center Manager")
            chunk_scores = np.where(self._title_chunk, np.float32(chunk_scores.min()), chunk_scores)
        wanted_track = track or query.track_hint
        # a level: its best chunk plus a share of its 2nd and 3rd best (missing ones count 0)
        padded = np.append(chunk_scores, np.float32(-np.inf))[self._level_matrix]
        top = -np.sort(-padded, axis=1)[:, :3]
        support = np.where(np.isfinite(top[:, 1:]), top[:, 1:], 0.0).sum(axis=1) / 2 if top.shape[1] > 1 else 0.0
        bases = top[:, 0] + SUPPORT_WEIGHT * support
        background = {note: float(chunk_scores[rows].max()) for note, rows in self._note_chunks}
        strong = {lv.id for lv in query.strong_levels}
        weak = {lv.id for lv in query.levels} - strong
        partial = {lv.id for lv in query.partial} - strong - weak
        level_scores: dict[str, float] = {}
        adjustments: dict[str, float] = {}
        first = None
        if query.newcomer:
            named_tracks = [lv.track for lv in query.levels]
            tid = wanted_track or (named_tracks[0] if named_tracks else self.kb.default_track.id)
            first = self.kb.tracks[tid].levels[0].id
        for level_id, base in zip(self._level_ids, bases.tolist()):
            value = base
            if level_id == first:
                value += NEWCOMER
            level = self.kb.level(level_id)
            if level_id in strong:
                value += IDENTIFY_MENTION if query.identify else STRONG_MENTION
            elif level_id in weak and not query.identify:   # "who helps the agents?": context, as a strong name is
                value += WEAK_MENTION
            elif level_id in partial:
                value += PARTIAL_MENTION
            value += self._number_evidence(level, query)
            if wanted_track and level.track != wanted_track:
                value -= OTHER_TRACK
            elif not wanted_track and level.track == self.kb.default_track.id:
                value += DEFAULT_TRACK_TIE
            level_scores[level_id] = value
            adjustments[level_id] = value - base
        best_bg = max(background.items(), key=lambda kv: kv[1]) if background else None
        margin = float((self._in @ qvec).max() - (self._out @ qvec).max())
        return Ranking(query, level_scores, chunk_scores, dense, best_bg, margin, qvec, adjustments, mvec)

    def scope(self, query: Query, ranking: Ranking) -> tuple[float | None, str]:
        """How much more the question is a career question than another kind of request, and the nearest other kind.

        A question naming a level is judged with the names taken out: "senior agent" makes anything
        sound like the ladder. That costs a second, short embedding, only for such questions. None:
        nothing but names is left ("L3", "level 7 skills" keeps "skills"), so nothing to judge.
        """
        vec = ranking.qvec
        if query.mentions or query.partial:
            if ranking.masked_vec is None:
                return None, "career"
            vec = ranking.masked_vec
        inside, outside = self._in @ vec, self._out @ vec
        return float(inside.max() - outside.max()), str(self._out_kind[int(outside.argmax())])

    def _number_evidence(self, level: Level, query: Query) -> float:
        """A stated number in the level's unit and band is strong evidence; a bare number the level states, some."""
        best = 0.0
        for n, unit, at_least in query.quantities:
            # "100% or more": the level whose threshold starts there, when one does (not the one it ends at)
            starts = at_least and unit and (unit, n) in self._band_starts
            bands = [b for b in self._bands.get(level.id, ()) if b.unit == unit]
            if starts and any(b.low == n for b in bands):
                best = max(best, NUMBER_UNIT_MATCH)
            elif unit and not starts and any(b.holds(n) for b in bands):
                best = max(best, NUMBER_UNIT_MATCH)
            elif unit is None and any(_states(t, [n]) for t in level.thresholds):
                best = max(best, NUMBER_MATCH)
        return best

    def _hits(self, ranking: Ranking) -> list[Hit]:
        """The best chunks, scored as their level is: fused chunk score plus the level's adjustments."""
        if ranking.hits is None:
            per_level = np.array([ranking.adjustments.get(lid, 0.0) for lid in self._level_ids] + [0.0], dtype=np.float32)
            adjusted = ranking.chunk_scores + per_level[self._chunk_row]
            order = np.argsort(-adjusted, kind="stable")[:MAX_HITS]
            ranking.hits = [
                Hit(c.level_id, c.doc_id, c.track, c.title, c.section, c.text, round(float(adjusted[i]), 4))
                for i in order for c in [self.chunks[i]]
            ]
        return list(ranking.hits)

    # -- the public call ------------------------------------------------------------------------
    def ask(self, question: str, *, track: str | None = None, context: Conversation | None = None) -> Answer:
        """Answer ``question``; ``context`` is the conversation so far (earlier turns, the asker's stored level)."""
        raw = question if isinstance(question, str) else ""
        query = understand(self.kb, raw)
        if track:
            try:
                self.kb.track(track)
            except LevelNotFound as exc:
                return self._no_answer(query, exc.message)
        if not query.text:
            return self._no_answer(query, "Ask me a question about the career ladder.", suggest=True)
        if not any(ch.isalnum() for ch in query.text):
            return self._no_answer(query, "I need a few words to go on.", suggest=True)
        missing = self._unknown_level_numbers(query, track)
        if missing:
            return self._no_answer(query, missing, suggest=False)

        ranking = self.rank(query, track)
        named = [] if query.identify else query.strong_levels
        ordered = sorted(ranking.level_scores.items(), key=lambda kv: kv[1], reverse=True)
        best_id, best_score = ordered[0]
        scope = float(ranking.dense.max()) + ranking.in_scope_margin
        margin, kind = self.scope(query, ranking)
        if query.dated:
            scope -= DATED_PENALTY
            margin = None if margin is None else margin - DATED_PENALTY
        refuse = POLICY_MESSAGE if kind == "policy" else "I can't find that in the career map."

        if query.newcomer:
            # "I just started on the phones, what am I supposed to do?": someone new asking about their job
            # points at the entry level as a bare level word would
            scope += NEWCOMER
        if not query.strong_levels and not query.partial and scope < MIN_SCOPE_SCORE:
            return self._no_answer(query, refuse, suggest=True, ranking=ranking)
        if margin is not None and (query.mentions or query.partial) and margin < -NAMED_SCOPE_MARGIN:
            # "when is the team lead meeting today?": a level is named, but the request is of another kind
            return self._no_answer(query, refuse, suggest=True, ranking=ranking)

        if query.intent == Intent.OVERVIEW:
            return self._overview(query, ranking, track)
        if query.entry:
            first = self.kb.track(track or query.track_hint).levels[0]
            return self._finish(query, ranking, first, requirements_text(self.kb, first, self._related),
                                [first.id], intent=Intent.REQUIREMENTS)
        if query.manager_of:
            boss, lines = self._manager(query, ranking)
            if boss is not None:
                return self._finish(query, ranking, boss, manager_text(self.kb, boss, query.levels[0], lines, self._hits(ranking)),
                                    [boss.id], intent=Intent.FACT)

        # Background notes answer glossary questions ("what is FCR?") when no level is named; a
        # "who does X" question asks for a level, never for a definition.
        if ranking.background and query.before_entry:
            # "what jobs do people have before becoming an agent?": nothing on the ladder comes before its
            # first level, so background reading answers when it fits about as well as the level's own text
            note_id, note_score = ranking.background
            level = query.levels[0]
            if note_score > float(ranking.chunk_scores[self._level_chunks[level.id]].max()) - BEFORE_ENTRY_SLACK:
                return self._background_answer(query, ranking, note_id)
        if ranking.background and not named and not query.identify:
            note_id, note_score = ranking.background
            # the best level's evidence: its best chunk plus what the question says about it
            # (a level it names, a number it states)
            level_best_chunk = float(ranking.chunk_scores[self._level_chunks[best_id]].max()) \
                + ranking.adjustments.get(best_id, 0.0)
            needed = BACKGROUND_MARGIN if query.intent == Intent.GLOSSARY else BACKGROUND_MARGIN_OTHER
            if note_score > level_best_chunk + needed:
                return self._background_answer(query, ranking, note_id)

        # Two tracks equally likely and nothing names a track: ask.
        if not (track or query.track_hint) and not named:
            partial_tracks = {lv.track for lv in query.partial}
            if len(partial_tracks) > 1:
                options = sorted(query.partial, key=lambda lv: -ranking.level_scores[lv.id])
                return self._clarify(query, ranking, [lv.id for lv in options])
            rival = next(((lid, s) for lid, s in ordered[1:] if self.kb.level(lid).track != self.kb.level(best_id).track), None)
            if rival and best_score - rival[1] < CLARIFY_MARGIN:
                return self._clarify(query, ranking, [best_id, rival[0]])

        if query.intent == Intent.NEXT and len(query.levels) == 1:
            here = query.levels[0]
            nxt = self.kb.next_level(here)
            if nxt is not None:
                return self._finish(query, ranking, nxt, next_text(self.kb, here, nxt, self._related), [here.id, nxt.id],
                                    intent=Intent.PATH)

        levels = named if named else [self.kb.level(best_id)]
        if query.intent == Intent.COMPARE and len(levels) >= 2:
            return self._finish(query, ranking, levels[1], compare_text(self.kb, levels[0], levels[1], self._related),
                                [levels[0].id, levels[1].id], intent=query.intent)
        if query.intent == Intent.PATH and len(query.levels) >= 2:
            # "from agent to team lead": a bare "agent" counts here, its place in the sentence says it all
            start, goal = query.levels[0], query.levels[-1]
            return self._finish(query, ranking, goal, path_text(self.kb, start, goal, self._related), [start.id, goal.id],
                                intent=query.intent)
        if len(named) > 1:
            # several levels named, no compare/path words: the best-scoring of them
            level = self.kb.level(max((lv.id for lv in named), key=lambda lid: ranking.level_scores[lid]))
        else:
            level = levels[0]
        if query.intent == Intent.FACT or (not named and query.intent != Intent.REQUIREMENTS):
            return self._finish(query, ranking, level, fact_text(self.kb, level, self._hits(ranking)),
                                [level.id], intent=Intent.FACT)
        return self._finish(query, ranking, level, requirements_text(self.kb, level, self._related), [level.id], intent=Intent.REQUIREMENTS)

    def compare(self, a: str, b: str) -> Answer:
        la, lb = self.kb.resolve(a), self.kb.resolve(b)
        q = understand(self.kb, f"difference between {la.title} and {lb.title}")
        return self._finish(q, None, lb, compare_text(self.kb, la, lb, self._related), [la.id, lb.id], intent=Intent.COMPARE)

    def path(self, a: str, b: str) -> Answer:
        la, lb = self.kb.resolve(a), self.kb.resolve(b)
        q = understand(self.kb, f"how do I get from {la.title} to {lb.title}")
        return self._finish(q, None, lb, path_text(self.kb, la, lb, self._related), [la.id, lb.id], intent=Intent.PATH)

    # -- helpers ---------------------------------------------------------------------------------
    def _unknown_level_numbers(self, query: Query, track: str | None) -> str | None:
        """A level number no ladder has ("L42"), even beside real ones ("from L2 to L12")."""
        words = query.norm.split()
        for match in _NUMBER.finditer(query.norm):
            n = int(match.group(1))
            start = len(query.norm[: match.start()].split())
            said = "frontend" if any(w in _TRACK_WORDS["frontend"] for w in words[max(0, start - 2): start]) else None
            track_id = track or said or query.track_hint
            tr = self.kb.track(track_id) if track_id else self.kb.default_track
            if tr.level_by_number(n) is None:
                return f"There is no level L{n}: {escape(tr.title)} has L1–L{len(tr.levels)}."
        return None

    def _related(self, skill, lower: Level):
        """The skill of ``lower`` that ``skill`` builds on ("Complex Problem Solving" on "Problem Solving"), or None."""
        key = (skill.name, skill.description, lower.id)
        if key not in self._relations:
            self._relations[key] = self._relate(skill, lower)
        return self._relations[key]

    def _relate(self, skill, lower: Level):
        i = self._skill_row.get((skill.name, skill.description))
        best, best_sim = None, SKILL_BUILDS_ON
        for other in lower.skills:
            if _name_within(skill.name, other.name):
                return other
            j = self._skill_row.get((other.name, other.description))
            if i is not None and j is not None:
                sim = float(self._skill_vecs[i] @ self._skill_vecs[j])
                if sim >= best_sim:
                    best, best_sim = other, sim
        return best

    def _manager(self, query: Query, ranking: Ranking) -> tuple[Level | None, list[str]]:
        """Who manages / is reported to by the named level: the nearest level above it whose description
        names it ("Call Center Manager: ... overseeing multiple teams (Team Leads)"), else the best-scoring
        level above it on its track."""
        named = query.levels[0]
        above = [lv for lv in self.kb.tracks[named.track].levels if lv.number > named.number]
        if not above:
            return None, []
        for lv in above:
            lines = self._names_in.get(lv.id, {}).get(named.id)
            if lines:
                return lv, lines
        return max(above, key=lambda lv: ranking.level_scores.get(lv.id, -1.0)), []

    def _sources(self, level_ids: Sequence[str], sections: Sequence[str]) -> list[str]:
        out = []
        for lid in level_ids:
            lv = self.kb.level(lid)
            out.append(f"{self.kb.tracks[lv.track].title} · {lv.label} · {', '.join(sections)}")
        return out

    def _finish(self, query: Query, ranking: Ranking | None, level: Level, text: str, source_levels: Sequence[str],
                intent: Intent) -> Answer:
        sections = {
            Intent.REQUIREMENTS: ["Experience", "Skills", "Area of Responsibility"],
            Intent.COMPARE: ["Experience", "Skills", "Area of Responsibility"],
            Intent.PATH: ["Experience", "Skills"],
        }.get(intent)
        hits = self._hits(ranking) if ranking else []
        if sections is None:
            used = [h for h in hits if h.level_id == level.id][:3]
            sections = sorted({SECTION_LABELS.get(h.section, h.section.title()) for h in used}) or ["Experience"]
        sources = self._sources(source_levels, sections)
        return Answer(
            question=query.text, status="answered", level_id=level.id, track=level.track, hits=hits,
            answer=_with_notes(query, text, sources, self.version), knowledge_version=self.version,
            intent=intent.value, sources=sources,
        )

    def _overview(self, query: Query, ranking: Ranking, track: str | None) -> Answer:
        """The ladder as a whole: "how many levels are there?", "what's the highest level?"."""
        tid = track or query.track_hint
        tracks = [self.kb.track(tid)] if tid else sorted(self.kb.tracks.values(), key=lambda t: not t.default)
        level = None
        lines: list[str] = []
        if query.extreme:
            top = query.extreme == "top"
            for t in tracks:
                end = t.levels[-1] if top else t.levels[0]
                lines.append(f"The {'highest' if top else 'entry'} level on *{escape(t.title)}* is *{level_name(end)}*.")
            level = tracks[0].levels[-1] if top else tracks[0].levels[0]
            lines.append("")
        elif len(tracks) > 1:
            lines += [f"The career map has {len(tracks)} ladders: "
                      + "; ".join(f"{escape(t.title)} ({len(t.levels)} levels)" for t in tracks) + ".", ""]
        lines.append("\n\n".join(ladder(self.kb, t) for t in tracks))
        sources = [f"{t.title} · ladder overview" for t in tracks]
        return Answer(
            question=query.text, status="answered", level_id=level.id if level else None,
            track=level.track if level else tid, hits=self._hits(ranking),
            answer=_with_notes(query, "\n".join(lines), sources, self.version), knowledge_version=self.version,
            intent=Intent.OVERVIEW.value, sources=sources,
        )

    def _background_answer(self, query: Query, ranking: Ranking, note_id: str) -> Answer:
        note_id = note_id.split("/", 1)[1]
        note = self.kb.reference(note_id)
        hits = self._hits(ranking)
        best = [h for h in hits if h.doc_id.startswith(f"reference/{note_id}#")][:2]
        if len(best) < 2:
            # a named level can crowd the note out of the top hits ("before becoming a call centre agent")
            rows = dict(self._note_chunks)[f"reference/{note_id}"]
            rows = rows[np.argsort(-ranking.chunk_scores[rows], kind="stable")][:2]
            best = [Hit(None, c.doc_id, c.track, c.title, c.section, c.text, round(float(ranking.chunk_scores[i]), 4))
                    for i in rows for c in [self.chunks[i]]]
            hits = (best + [h for h in hits if h.doc_id not in {b.doc_id for b in best}])[:MAX_HITS]
        lines = [f"*{escape(note.title)}* _(background reading, not company policy)_"]
        lines += [f"• {escape(h.text)}" for h in best]
        sources = [f"Background: {note.title} (from {note.source})"]
        return Answer(
            question=query.text, status="answered", level_id=None, track=None, hits=hits,
            answer=_with_notes(query, "\n".join(lines), sources, self.version), knowledge_version=self.version,
            intent=Intent.GLOSSARY.value, sources=sources,
        )

    def _clarify(self, query: Query, ranking: Ranking, options: list[str]) -> Answer:
        levels = [self.kb.level(o) for o in options]
        names = " or ".join(f"*{level_name(lv)}* ({escape(self.kb.tracks[lv.track].title)})" for lv in levels)
        text = f"That fits more than one ladder: {names}. Which one do you mean?"
        return Answer(
            question=query.text, status="clarify", level_id=None, track=None, hits=self._hits(ranking),
            options=options, answer=_with_notes(query, text, [], self.version), knowledge_version=self.version,
            intent=query.intent.value,
        )

    def _no_answer(self, query: Query, message: str, suggest: bool = True, ranking: Ranking | None = None) -> Answer:
        text = message  # mrkdwn: callers escape what came from data or users
        if suggest:
            text += " I answer questions about the career ladder: levels, what they need, and how to move up. Try:\n"
            text += "\n".join(f"• {s}" for s in SUGGESTED)
        return Answer(
            question=query.text, status="no_answer", answer=_with_notes(query, text, [], self.version),
            knowledge_version=self.version, hits=self._hits(ranking) if ranking else [], intent=None,
        )


@dataclass(frozen=True)
class Band:
    """The values a level's threshold covers. An open-ended one ("≥ 100%", "100+ FTE") reaches up to where
    the next level on its track starts for the same metric: 102% is L2's band, 150 FTE the manager's."""

    metric: str
    unit: str
    low: float
    high: float          # inclusive when closed, exclusive otherwise
    closed: bool

    def holds(self, n: float) -> bool:
        return self.low <= n <= self.high if self.closed else self.low <= n < self.high


def number_bands(kb: Knowledge) -> dict[str, list[Band]]:
    bands: dict[str, list[Band]] = {}
    for track in kb.tracks.values():
        stated = [(lv, t) for lv in track.levels for t in lv.thresholds]
        for level, t in stated:
            low = t.min if t.min is not None else 0.0
            if t.max is not None:
                band = Band(t.metric, t.unit, low, t.max, True)
            else:
                above = [o.min for _, o in stated if o.metric == t.metric and o.min is not None and o.min > low]
                band = Band(t.metric, t.unit, low, min(above) if above else float("inf"), False)
            bands.setdefault(level.id, []).append(band)
    return bands


def _states(threshold, numbers: Sequence[float]) -> bool:
    """Does the question's number fall on or inside what the level states?"""
    lo, hi = threshold.min, threshold.max
    for n in numbers:
        if hi is None and lo is not None and n == lo:
            return True
        if lo is not None and hi is not None and lo <= n <= hi:
            return True
    return False


def _with_notes(query: Query, text: str, sources: Sequence[str], version: str) -> str:
    parts = []
    if query.truncated:
        parts.append("_Your question was long, so I read only its first 2,000 characters._")
    parts.append(text)
    if sources:
        parts.append("_Sources: " + "; ".join(escape(s) for s in sources) + f" · knowledge {version}_")
    return "\n\n".join(parts)


# -- answer bodies -----------------------------------------------------------------------------------

def _name_within(a: str, b: str) -> bool:
    """One skill name inside the other, word for word: "Problem Solving" in "Complex Problem Solving"."""
    wa, wb = set(lexical_tokens(a)), set(lexical_tokens(b))
    return bool(wa and wb) and (wa <= wb or wb <= wa)


def _by_name(skill, lower: Level):
    return next((o for o in lower.skills if o.name.lower() == skill.name.lower() or _name_within(skill.name, o.name)), None)


def split_skills(level: Level, lower: Level | None, related=None) -> tuple[list, list]:
    """``level``'s skills: the genuinely new ones, and (skill, the skill of ``lower`` it builds on) pairs."""
    if lower is None:
        return list(level.skills), []
    related = related or _by_name
    new, builds = [], []
    for s in level.skills:
        base = related(s, lower)
        if base is None:
            new.append(s)
        else:
            builds.append((s, base))
    return new, builds


def _builds_on(pairs) -> str:
    return ", ".join(escape(s.name) if s.name.lower() == b.name.lower() else f"{escape(s.name)} (from {escape(b.name)})"
                     for s, b in pairs)


def _names_in(kb: Knowledge) -> dict[str, dict[str, list[str]]]:
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
        added, builds = split_skills(level, below, related)
        lines += ["", f"*New compared with {level_name(below)}*"]
        if added:
            lines.append("• New skills: " + ", ".join(escape(s.name) for s in added))
        if builds:
            lines.append("• Builds on: " + _builds_on(builds))
        for t in level.thresholds:
            before = next((b for b in below.thresholds if b.metric == t.metric), None)
            was = f" (was {before.describe()})" if before else ""
            lines.append(f"• {escape(_metric(t.metric))}: {t.describe()}{was}")
        if below.experience.min_months != level.experience.min_months and level.experience.min_months is not None:
            was = (f"instead of {months(below.experience.min_months)}" if below.experience.min_months is not None
                   else f"{level_name(below)} states no minimum")
            lines.append(f"• Experience: at least {months(level.experience.min_months)} ({was})")
    return "\n".join(lines)


def _metric(metric: str) -> str:
    return {"kpi_achievement": "KPI achievement", "team_size": "Team size", "operation_size": "Size of operation led"}[metric]


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
        lines += ["", "*Numbers*"] + [f"• {level_name(lv)}: {escape(_metric(t.metric))} {t.describe()}" for lv, t in nums]
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
            lines.append(f"• {escape(_metric(t.metric))}: {t.describe()}")
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

"""Ranking levels for a question: dense cosine plus BM25 per chunk, each level scored by all of its evidence.

A level's score is its best chunk, a share of its next best ones (several clauses of a question can each
point at the same level), exact rare terms the question shares with it, and what the question says about
it (a level it names, a number it states, the track it asks about). No answer composing here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

import numpy as np

from bot.core.knowledge import Knowledge, Level
from bot.search.classifier import question_vectors
from bot.search.embedders import Embedder
from bot.search.query import Query
from bot.search.retrieval import Chunk, Index, Lexical, lexical_tokens

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
# Level-level evidence: the question's words weighed by how few levels use them (a word in one level's text
# only is strong evidence for it, a word every level uses none), counted over all of a level's text, so a
# question whose clauses each match a different line of the same level adds them up.
LEVEL_TERMS_WEIGHT = 0.12


@dataclass
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
class Ranking:
    query: Query
    level_scores: dict[str, float]
    chunk_scores: np.ndarray
    dense: np.ndarray
    background: tuple[str, float] | None     # best background note id and its score
    qvec: np.ndarray
    adjustments: dict[str, float] = field(default_factory=dict)   # per level: mentions, track, numbers
    masked_vec: np.ndarray | None = None     # the question without its level names, pooled from the same run
    hits: list["Hit"] | None = None          # computed once, on first use



class _Key:
    """A query as a cache key: the text that is embedded and the spans pooled out of it."""

    __slots__ = ("query", "key")

    def __init__(self, query: Query):
        self.query = query
        self.key = (query.expanded, query.masked if (query.mentions or query.partial) else None)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and other.key == self.key


class Ranker:
    """Chunks grouped by level and by background note once, so ranking a question is a few array operations."""

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
        self.level_chunks = {lid: np.array(g) for lid, g in zip(self._level_ids, groups)}
        notes = list(dict.fromkeys(c.doc_id.split("#")[0] for c in self.chunks if not c.level_id))
        self.note_chunks = [(n, np.array([i for i, c in enumerate(self.chunks)
                                           if not c.level_id and c.doc_id.split("#")[0] == n])) for n in notes]
        self._level_terms, self._term_idf = _level_terms(self.chunks, self._level_ids)
        # per word: which levels use it (a row of booleans), so term evidence is one masked sum
        self._term_levels = {t: np.array([t in terms for terms in self._level_terms]) for t in self._term_idf}
        self._bands = number_bands(kb)
        self._band_starts = {(b.unit, b.low) for bands in self._bands.values() for b in bands}
        # The same question asked again (a suggested question, a retry, a popular one) skips the model.
        self.embed = lru_cache(maxsize=4096)(self.embed_once)

    def embed_once(self, key: "_Key | Query"):
        """The question's vector and, when it names a level, the vector of the rest of it: one model run
        (two poolings of the same token states) with the ONNX backend, two runs with any other."""
        qvec, mvec = question_vectors(self.embedder, key.query if isinstance(key, _Key) else key)
        for v in (qvec, mvec):
            if v is not None:
                v.flags.writeable = False   # shared by every later ask of the same question
        return qvec, mvec

    def rank(self, query: Query, track: str | None = None) -> Ranking:
        qvec, mvec = self.embed(_Key(query))
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
        bases = top[:, 0] + SUPPORT_WEIGHT * support + LEVEL_TERMS_WEIGHT * self.term_evidence(query)
        background = {note: float(chunk_scores[rows].max()) for note, rows in self.note_chunks}
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
        default_track = self.kb.default_track.id if not wanted_track and self._level_ids else None
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
            value += self.number_evidence(level, query)
            if wanted_track and level.track != wanted_track:
                value -= OTHER_TRACK
            elif not wanted_track and level.track == default_track:
                value += DEFAULT_TRACK_TIE
            level_scores[level_id] = value
            adjustments[level_id] = value - base
        best_bg = max(background.items(), key=lambda kv: kv[1]) if background else None
        return Ranking(query, level_scores, chunk_scores, dense, best_bg, qvec, adjustments, mvec)

    def term_evidence(self, query: Query) -> np.ndarray:
        """Per level: the share of the question's (level-idf weighted) content words found anywhere in its text."""
        named = query.named_words
        words = [w for i, w in enumerate(query.norm.split()) if i not in named]
        tokens = [t for t in dict.fromkeys(lexical_tokens(" ".join(words))) if t in self._term_idf]
        out = np.zeros(len(self._level_ids), dtype=np.float32)
        if not tokens:
            return out
        weights = np.array([self._term_idf[t] for t in tokens], dtype=np.float32)
        total = float(weights.sum())
        if total <= 0:
            return out
        # summed down the question's words in their order, in float32, as a running sum per level would be
        used = np.array([self._term_levels[t] for t in tokens])
        out[:] = np.add.reduce(np.where(used, weights[:, None], np.float32(0)), axis=0) / np.float32(total)
        return out

    def number_evidence(self, level: Level, query: Query) -> float:
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

    def hits(self, ranking: Ranking) -> list[Hit]:
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



def _level_terms(chunks: Sequence[Chunk], level_ids: Sequence[str]) -> tuple[list[frozenset[str]], dict[str, float]]:
    """Each level's stemmed words (its own text, not its title) and every word's idf over levels: log(N / levels using it)."""
    terms: dict[str, set[str]] = {lid: set() for lid in level_ids}
    for c in chunks:
        if c.level_id and c.section != "title":
            terms[c.level_id].update(lexical_tokens(c.text))
    n = len(level_ids)
    df: dict[str, int] = {}
    for found in terms.values():
        for t in found:
            df[t] = df.get(t, 0) + 1
    idf = {t: float(np.log(n / d)) for t, d in df.items()}
    return [frozenset(terms[lid]) for lid in level_ids], idf


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



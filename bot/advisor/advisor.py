"""``Advisor.ask(question) -> Answer``: the one entry point for questions, for Slack, the console and the CLI.

A question goes through three stages, each in its own module:
  1. ranking (``bot.search.ranking``): every level and background note scored for the question;
  2. understanding (``bot.search.understanding``): the kind of request (a learned classifier), what it is
     about by the ladder's structure (``bot.search.relations``), which part of it;
  3. routing (``bot.advisor.rules``): one ordered table of rules, the first that answers composes the
     :class:`Answer` (``bot.advisor.bodies``).
"""

from __future__ import annotations

from bot.advisor.answer import Answer, Status
from bot.advisor.bodies import (compare_text, fact_text, find_path, manager_text, next_text, path_text,
                                 requirements_text)
from bot.advisor.composer import Composer
from bot.advisor.rules import Context, route
from bot.core.knowledge import Knowledge, LevelNotFound
from bot.core.render import escape
from bot.search.classifier import STEPS_FILE, STEPS_REPORT, RequestClassifier
from bot.search.conversation import Conversation
from bot.search.embedders import Embedder
from bot.search.query import Intent, Query, level_numbers, understand
from bot.search.ranking import MAX_HITS, Band, Hit, Ranker, Ranking, number_bands
from bot.search.retrieval import Index
from bot.search.scope import POLICY_MESSAGE, SUGGESTED, ScopeGuard
from bot.search.skills import SkillRelations, split_skills
from bot.search.suggest import CommandMeanings, did_you_mean
from bot.search.understanding import Understanding, understand_question

__all__ = ["Advisor", "Answer", "Status", "Hit", "Ranking", "Band", "number_bands", "split_skills", "MAX_HITS",
           "POLICY_MESSAGE", "SUGGESTED", "compare_text", "fact_text", "find_path", "manager_text", "next_text",
           "path_text", "requirements_text"]


class Advisor:
    def __init__(self, kb: Knowledge, index: Index, embedder: Embedder, classifier: RequestClassifier | None = None):
        self.kb = kb
        self.index = index
        self.embedder = embedder
        self.ranker = Ranker(kb, index, embedder)
        self.scope = ScopeGuard(embedder)
        self.skills = SkillRelations(kb, index, embedder)
        self.compose = Composer(kb, self.ranker, self.skills)
        # the request classifier trained with this index (None: an index built without a bank or scikit-learn)
        self.classifier = classifier if classifier is not None else (
            RequestClassifier.load(index.path) if getattr(index, "path", None) else None)
        # ... and the step classifier: which way the question points from the level it names
        self.steps = RequestClassifier.load(index.path, STEPS_FILE, STEPS_REPORT) if getattr(index, "path", None) else None

    @property
    def version(self) -> str:
        return self.kb.version

    def understand(self, question: str, *, track: str | None = None,
                   context: Conversation | None = None) -> tuple[Understanding, Ranking]:
        query = understand(self.kb, question if isinstance(question, str) else "")
        ranking = self.ranker.rank(query, track)
        return self._understand(query, ranking, track, context), ranking

    def _understand(self, query: Query, ranking: Ranking, track: str | None, context: Conversation | None) -> Understanding:
        return understand_question(self.kb, query, ranking, self.classifier, context, track, self.steps)

    def ask(self, question: str, *, track: str | None = None, context: Conversation | None = None) -> Answer:
        """Answer ``question``; ``context`` is the conversation so far (earlier turns, the asker's stored level)."""
        raw = question if isinstance(question, str) else ""
        query = understand(self.kb, raw)
        if track:
            try:
                self.kb.track(track)
            except LevelNotFound as exc:
                return self.compose.no_answer(query, exc.message)
        if not query.text:
            return self.compose.no_answer(query, "Ask me a question about the career ladder.", suggest=True)
        if not any(ch.isalnum() for ch in query.text):
            return self.compose.no_answer(query, "I need a few words to go on.", suggest=True)
        missing = self._unknown_level_numbers(query, track)
        if missing:
            return self.compose.no_answer(query, missing, suggest=False)
        ranking = self.ranker.rank(query, track)
        u = self._understand(query, ranking, track, context)
        return route(Context(u, ranking, self.compose, self.scope, track))

    def compare(self, a: str, b: str) -> Answer:
        la, lb = self.kb.resolve(a), self.kb.resolve(b)
        q = understand(self.kb, f"difference between {la.title} and {lb.title}")
        return self.compose.finish(q, None, lb, compare_text(self.kb, la, lb, self.skills), [la.id, lb.id], intent=Intent.COMPARE)

    def path(self, a: str, b: str) -> Answer:
        la, lb = self.kb.resolve(a), self.kb.resolve(b)
        q = understand(self.kb, f"how do I get from {la.title} to {lb.title}")
        return self.compose.finish(q, None, lb, path_text(self.kb, la, lb, self.skills), [la.id, lb.id], intent=Intent.PATH)

    def suggest_command(self, word: str, meanings: dict[str, str]) -> str | None:
        """An unknown command word's "did you mean": close in spelling, else in meaning (never markup or nonsense)."""
        key = tuple(meanings.items())
        if getattr(self, "_meanings_key", None) != key:
            self._meanings, self._meanings_key = CommandMeanings(self.embedder, meanings), key
        return did_you_mean(word, list(meanings), self._meanings)

    # -- helpers ---------------------------------------------------------------------------------
    def _unknown_level_numbers(self, query: Query, track: str | None) -> str | None:
        """A level number no ladder has ("L42"), even beside real ones ("from L2 to L12")."""
        for number in level_numbers(query.norm):
            said = "frontend" if number.after_track_word else None
            track_id = track or said or query.track_hint
            tr = self.kb.track(track_id) if track_id else self.kb.default_track
            if tr.level_by_number(number.number) is None:
                return f"There is no level L{number.number}: {escape(tr.title)} has L1–L{len(tr.levels)}."
        return None


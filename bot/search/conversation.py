"""The conversation so far, as Ladder understood it: what a follow-up question is read against.

Transport-free and typed, so every front end keeps a conversation the same way: the console keeps
one per session, Slack one per thread. Pass it to ``Advisor.ask(text, context=...)`` and append each
answer with :meth:`Conversation.then`::

    convo = Conversation(asker_level=profile["current_level"])
    a = advisor.ask("what do I need for Senior Agent?", context=convo)
    convo = convo.then(a)
    b = advisor.ask("and for expert?", context=convo)      # -> Expert Agent, on the same track
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

MAX_TURNS = 10   # older turns say nothing about what "there" or "and for expert?" means


@dataclass(frozen=True)
class Turn:
    """One question asked earlier and what Ladder resolved it to."""

    question: str
    level_id: str | None = None     # the level the answer was about (None: refused, overview, background)
    track: str | None = None        # its track
    aspect: str | None = None       # the request kind answered: "skills", "numbers", "path", ... (see kinds)
    level_ids: tuple[str, ...] = ()  # every level the answer used (a comparison or path has two)

    @classmethod
    def from_answer(cls, answer: Any) -> "Turn":
        """The turn an :class:`~bot.answers.Answer` leaves behind (duck-typed: no import of the answer layer)."""
        return cls(
            question=getattr(answer, "question", "") or "",
            level_id=getattr(answer, "level_id", None),
            track=getattr(answer, "track", None),
            aspect=getattr(answer, "kind", None) or getattr(answer, "intent", None),
            level_ids=tuple(getattr(answer, "level_ids", ()) or ()),
        )


@dataclass(frozen=True)
class Conversation:
    """Earlier turns, oldest first, and the asker's stored level (their profile), when known."""

    turns: tuple[Turn, ...] = field(default_factory=tuple)
    asker_level: str | None = None

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    @property
    def last_level(self) -> Turn | None:
        """The latest turn that was about a level: what "there", "that one" and "and for X?" refer to."""
        return next((t for t in reversed(self.turns) if t.level_id), None)

    def then(self, answer_or_turn: Any) -> "Conversation":
        """This conversation with one more turn (an Answer or a Turn), keeping the last :data:`MAX_TURNS`."""
        turn = answer_or_turn if isinstance(answer_or_turn, Turn) else Turn.from_answer(answer_or_turn)
        return replace(self, turns=(self.turns + (turn,))[-MAX_TURNS:])

    def with_asker_level(self, level_id: str | None) -> "Conversation":
        return replace(self, asker_level=level_id)

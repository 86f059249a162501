"""What every handler returns (:class:`Reply`) and what it is given (:class:`Deps`). No transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from bot.advisor.advisor import Advisor
from bot.advisor.answer import Answer
from bot.chat import blocks as B
from bot.core.config import Settings
from bot.core.knowledge import Knowledge, Level, LevelNotFound
from bot.search.conversation import Turn
from bot.search.retrieval import Index
from bot.storage.store import Store


@dataclass
class Deps:
    settings: Settings
    advisor: Advisor
    store: Store
    kick_outbox: Callable[[], None] | None = None   # wake the outbox worker after a broadcast is queued
    # index a new knowledge version beside the live index (the second argument) and open an Advisor on it
    # (bot.wiring.reindex); None where nothing can re-index (HR's edits are refused there)
    reindex: Callable[[Knowledge, Index], Advisor] | None = None

    @property
    def kb(self) -> Knowledge:
        return self.advisor.kb

    def go_live(self, kb: Knowledge) -> None:
        """Serve ``kb`` in this process: index it beside the live index, then switch to it in one reference
        assignment, so every question is answered from one whole version."""
        if self.reindex is None:
            raise RuntimeError("this process was started without a way to re-index (Deps.reindex)")
        self.advisor = self.reindex(kb, self.advisor.index)


@dataclass
class Reply:
    text: str                                   # notification / fallback text
    blocks: list[dict] = field(default_factory=list)
    ephemeral: bool = True                      # slash-command replies are private by default
    replace: bool = False                       # replace the message a button was on
    dm: bool = False                            # post into the person's DM (e.g. a gap check from a channel)
    files: list[tuple[str, bytes, str]] = field(default_factory=list)   # (filename, content, title) to upload
    followups: list["Reply"] = field(default_factory=list)              # further messages, in order
    to_user: str | None = None                  # post into this other person's DM (an invitation)
    modal: dict | None = None                   # open this view (needs the command's trigger_id)
    turn: Turn | None = None                    # the question this answered, as a conversation keeps it


def text_reply(text: str, footer: str | None = None) -> Reply:
    return Reply(text=text, blocks=B.text_blocks(text, footer))


def answer_reply(kb: Knowledge, answer: Answer, answer_id: int | None = None, *, ephemeral: bool = True,
                 turn: Turn | None = None) -> Reply:
    """An answer as a message: its first line as the notification text, Block Kit with its sources and buttons
    (👍/👎 when it was recorded as ``answer_id``)."""
    first = answer.answer.strip().split("\n", 1)[0]
    return Reply(text=B.clip(first or "Ladder", 300), blocks=B.answer_blocks(kb, answer, answer_id),
                 ephemeral=ephemeral, turn=turn)


def record(deps: Deps, user_id: str, channel: str | None, question: str, answer: Answer) -> int:
    """Store an answer for /ladder stats and feedback; its id."""
    return deps.store.record_answer(user_id, channel, question, answer.status, answer.level_id, answer.answer,
                                    answer.knowledge_version)


def mention(user_id: str) -> str:
    return f"<@{user_id}>"  # a mention built from a validated id: safe to send unescaped


def not_found(exc: LevelNotFound) -> str:
    """A level name that matched nothing, in Slack's words: where no name was close, where to see them all."""
    return exc.message + (" Try `/ladder levels` to see every level." if exc.show_levels else "")


def resolve_or_refuse(deps: Deps, user_id: str, action: str, subject: str | None, name: str) -> Level | Reply:
    """The level ``name`` names, or the reply saying it names none (audited as an invalid ``action``)."""
    try:
        return deps.kb.resolve(name)
    except LevelNotFound as exc:
        deps.store.audit(user_id, action, "invalid", subject, "unknown level")
        return text_reply(not_found(exc))

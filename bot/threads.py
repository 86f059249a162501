"""A thread's conversation: what it asked before, kept in SQLite, so a reply in the thread is a follow-up.

"what do I need for Senior Agent?" then, in the thread, "and for expert?" — the second question is read
against the first (:class:`bot.advisor.conversation.Conversation`). Turns are stored per (channel,
thread) with their resolved levels; the store keeps at most ``THREAD_TURNS`` per thread and forgets a
thread after ``THREAD_RETENTION``. No Slack here.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass

from bot import handlers
from bot.replies import Deps, Reply

try:
    from bot.advisor.conversation import Conversation, Turn
except ImportError:   # until issue 11's conversation interface lands: threads are remembered, not yet read
    Conversation = Turn = None


def conversation(deps: Deps, channel: str, thread_ts: str):
    """The thread's conversation so far (None when Ladder has not answered in it)."""
    rows = deps.store.thread_turns(channel, thread_ts)
    if not rows or Conversation is None:
        return None
    return Conversation(turns=tuple(Turn(question=r["question"], level_id=r["level_id"], track=r["track"],
                                         aspect=r["aspect"], level_ids=tuple(r["level_ids"])) for r in rows))


def ask(deps: Deps, user_id: str, channel: str, text: str, earlier) -> Reply:
    if earlier is None:
        return handlers.question(deps, user_id, channel, text)
    return handlers.question(deps, user_id, channel, text, context=earlier)


def remember(deps: Deps, channel: str, thread_ts: str, user_id: str, reply: Reply | None, question: str) -> None:
    """Add what this reply answered to the thread's conversation (also marks the thread as Ladder's)."""
    if reply is None:
        return
    turn = getattr(reply, "turn", None)
    if turn is None:
        turn = {"question": question}
    elif is_dataclass(turn):
        turn = asdict(turn)
    deps.store.add_turn(channel, thread_ts, turn, user_id=user_id)

"""A thread's conversation: what it asked before, kept in SQLite, so a reply in the thread is a follow-up.

"what do I need for Senior Agent?" then, in the thread, "and for expert?" — the second question is read
against the first (:class:`bot.search.conversation.Conversation`). Turns are stored per (channel,
thread) with their resolved levels; the store keeps at most ``THREAD_TURNS`` per thread and forgets a
thread after ``THREAD_RETENTION``. No Slack here.
"""

from __future__ import annotations

from dataclasses import asdict

from bot.chat.replies import Deps, Reply
from bot.search.conversation import Conversation, Turn


def conversation(deps: Deps, channel: str, thread_ts: str) -> Conversation | None:
    """The thread's conversation so far (None when Ladder has not answered in it)."""
    rows = deps.store.thread_turns(channel, thread_ts)
    if not rows:
        return None
    return Conversation(turns=tuple(Turn(question=r["question"], level_id=r["level_id"], track=r["track"],
                                         aspect=r["aspect"], level_ids=tuple(r["level_ids"])) for r in rows))


def remember(deps: Deps, channel: str, thread_ts: str, user_id: str, reply: Reply | None, question: str) -> None:
    """Add what this reply answered to the thread's conversation (also marks the thread as Ladder's)."""
    if reply is None:
        return
    turn = asdict(reply.turn) if reply.turn is not None else {"question": question}   # a gap check, a prompt
    deps.store.add_turn(channel, thread_ts, turn, user_id=user_id)

"""Broadcast delivery through an outbox: every recipient gets a message exactly once.

A broadcast and one outbox row per recipient are written in one transaction. A worker drains the
outbox: it claims a row (``pending`` -> ``sending``) in a ``BEGIN IMMEDIATE`` transaction, sends it
with a marker (the row id in a block id), and marks it ``sent``. If the worker dies between Slack
accepting a message and the ``sent`` mark, the row is still ``sending`` when a worker starts again:
it looks for its marker in the recipient's conversation and marks the row sent if it is there, and
sends it otherwise. So a crash re-sends to nobody and skips nobody.

Rate limits: the sender raises :class:`RetryLater` with Slack's ``Retry-After``; the row goes back
to ``pending`` with a not-before time and the worker waits. A permanent error (a deactivated user,
say) marks the row ``failed`` with the error. No Slack imports here: the sender is passed in.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from bot.store import Store, now

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
MARKER_PREFIX = "outbox-"
CHANNEL_PACE = 1.0           # Slack's pace for posting into one channel: about one message a second
LEASE_SECONDS = 120          # a 'sending' row whose worker is gone (or silent this long) is recovered


class RetryLater(Exception):
    def __init__(self, seconds: float, error: str = "ratelimited"):
        super().__init__(error)
        self.seconds, self.error = seconds, error


class Permanent(Exception):
    """Slack said no for good (e.g. user_not_found, account_inactive): do not retry."""


class Sender(Protocol):
    def open(self, recipient: str, kind: str) -> str:
        """The channel id to post to: the user's DM for kind 'dm', the channel itself for 'channel'."""

    def send(self, channel: str, text: str, blocks: list[dict]) -> str:
        """Post; return the message ts. RetryLater / Permanent on failure."""

    def find(self, channel: str, marker: str) -> str | None:
        """The ts of an earlier message carrying this marker, if Slack has it."""


def marker(row_id: int) -> str:
    return f"{MARKER_PREFIX}{row_id}"


def marked_blocks(blocks: list[dict], row_id: int) -> list[dict]:
    """The message's blocks with the first one's block_id set to this row's marker."""
    out = [dict(b) for b in blocks]
    if out:
        out[0]["block_id"] = marker(row_id)
    return out


# -- writing a broadcast ------------------------------------------------------------------------------

def recipients_for_level(store: Store, level_id: str, days: int = 90) -> list[str]:
    """People with an open check, or one finished in the last ``days``, targeting the level."""
    since = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")
    with store.db() as db:
        rows = db.execute(
            "SELECT DISTINCT user_id FROM gap_checks WHERE target_level = ? AND "
            "(state IN ('confirm','asking','paused') OR (state = 'done' AND finished_at >= ?)) ORDER BY user_id",
            [level_id, since]).fetchall()
    return [r[0] for r in rows]


def create_broadcast(store: Store, created_by: str, **kwargs) -> int:
    """The broadcast and all its outbox rows, in one transaction."""
    with store.immediate() as db:
        return insert_broadcast(db, created_by, **kwargs)


def insert_broadcast(db, created_by: str, *, channel: str | None, channel_message: tuple[str, list[dict]] | None,
                     dm_recipients: list[str], dm_message: tuple[str, list[dict]] | None,
                     level_id: str | None = None, knowledge_version: str | None = None, note: str | None = None) -> int:
    """Insert a broadcast and its outbox rows inside the caller's transaction (e.g. with a new version)."""
    bid = db["broadcasts"].insert({
        "created_by": created_by, "created_at": now(), "level_id": level_id,
        "knowledge_version": knowledge_version, "note": note,
    }).last_pk
    rows = []
    if channel and channel_message:
        rows.append({"recipient": channel, "kind": "channel", "text": channel_message[0],
                     "blocks": json.dumps(channel_message[1])})
    if dm_message:
        rows += [{"recipient": user, "kind": "dm", "text": dm_message[0], "blocks": json.dumps(dm_message[1])}
                 for user in dict.fromkeys(dm_recipients)]
    db["outbox"].insert_all([{**r, "broadcast_id": bid, "status": "pending", "attempts": 0, "updated_at": now()}
                             for r in rows])
    return bid


# -- draining ------------------------------------------------------------------------------------------

@dataclass
class DrainResult:
    sent: int = 0
    recovered: int = 0
    failed: int = 0
    retried: int = 0


def _claim(store: Store) -> dict | None:
    stamp = now()
    with store.immediate() as db:
        row = db.execute(
            "SELECT * FROM outbox WHERE status = 'pending' AND (not_before IS NULL OR not_before <= ?) "
            "ORDER BY id LIMIT 1", [stamp]).fetchone()
        if row is None:
            return None
        cols = [d[0] for d in db.execute("SELECT * FROM outbox LIMIT 0").description]
        row = dict(zip(cols, row))
        db.execute("UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?, claimed_by = ? "
                   "WHERE id = ?", [stamp, _worker(), row["id"]])
        return row


def _finish(store: Store, row_id: int, **fields) -> None:
    with store.immediate() as db:
        db["outbox"].update(row_id, {**fields, "updated_at": now()})


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _abandoned(row: dict) -> bool:
    """Its worker is a dead process on this host, or has been silent longer than the lease."""
    host, _, pid = (row.get("claimed_by") or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
    age = (datetime.now(timezone.utc) - datetime.fromisoformat(row["updated_at"])).total_seconds()
    return age > LEASE_SECONDS


def recover(store: Store, sender: Sender) -> int:
    """Rows a dead worker left in 'sending': sent if Slack has the marker, else pending again."""
    with store.db() as db:
        stuck = [r for r in db["outbox"].rows_where("status = 'sending'", order_by="id") if _abandoned(r)]
    found = 0
    for row in stuck:
        channel = row["channel_id"] or sender.open(row["recipient"], row["kind"])
        ts = sender.find(channel, marker(row["id"]))
        if ts:
            _finish(store, row["id"], status="sent", sent_ts=ts, channel_id=channel)
            found += 1
        else:
            _finish(store, row["id"], status="pending", channel_id=channel)
    return found


def drain(store: Store, sender: Sender, *, until_empty: bool = True, pace: float = 0.0,
          stop=lambda: False, max_wait: float = 60.0) -> DrainResult:
    """Send pending rows until none are left (or ``stop()``). Safe to run in several processes."""
    result = DrainResult(recovered=recover(store, sender))
    last_post: dict[str, float] = {}
    while not stop():
        row = _claim(store)
        if row is None:
            wait = _next_wait(store)
            if wait is None or not until_empty:
                return result
            time.sleep(min(wait, max_wait))
            continue
        try:
            channel = row["channel_id"] or sender.open(row["recipient"], row["kind"])
            if row["attempts"] > 1 and sender.find(channel, marker(row["id"])):
                _finish(store, row["id"], status="sent", channel_id=channel)  # an earlier try got through
                result.recovered += 1
                continue
            wait = last_post.get(channel, 0.0) + CHANNEL_PACE - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            ts = sender.send(channel, row["text"], marked_blocks(json.loads(row["blocks"] or "[]"), row["id"]))
            last_post[channel] = time.monotonic()
        except RetryLater as exc:
            not_before = (datetime.now(timezone.utc) + timedelta(seconds=exc.seconds)).isoformat(timespec="seconds")
            status = "pending" if row["attempts"] < MAX_ATTEMPTS else "failed"
            _finish(store, row["id"], status=status, last_error=exc.error, not_before=not_before)
            result.retried += 1
            result.failed += status == "failed"
            continue
        except Permanent as exc:
            _finish(store, row["id"], status="failed", last_error=str(exc))
            result.failed += 1
            continue
        _finish(store, row["id"], status="sent", sent_ts=ts, channel_id=channel, last_error=None)
        result.sent += 1
        if pace:
            time.sleep(pace)
    return result


def _next_wait(store: Store) -> float | None:
    with store.db() as db:
        row = db.execute("SELECT min(not_before) FROM outbox WHERE status = 'pending'").fetchone()
    if not row or row[0] is None:
        return None
    delta = (datetime.fromisoformat(row[0]) - datetime.now(timezone.utc)).total_seconds()
    return max(delta, 0.05)


def summary(store: Store) -> dict[str, int]:
    with store.db() as db:
        return {status: n for status, n in db.execute("SELECT status, count(*) FROM outbox GROUP BY status")}

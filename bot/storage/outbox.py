"""Broadcast delivery through an outbox: every recipient gets a message exactly once.

A broadcast and one outbox row per recipient are written in one transaction. A worker drains the
outbox: it claims a row (``pending`` -> ``sending``) in a ``BEGIN IMMEDIATE`` transaction, sends it
with a marker (the row id in a block id), and marks it ``sent``. A row whose outcome is not known
goes to ``unknown``: its worker died between claiming it and marking it (recovered at start-up and
whenever the worker is idle), or Slack's answer to the post was a 5xx or a dropped connection (the
message may be there). An ``unknown`` row is sent again only after the recipient's conversation has
been searched for its marker; if the marker is there the row is marked sent. So a crash re-sends to
nobody and skips nobody.

Claims carry a per-process token (``host:pid:random``): a claim by an earlier process that had the
same host and pid (a restarted container runs as pid 1 again) is recovered at once; a claim by a
dead process on this host too; any other claim after the lease.

Rate limits: the sender raises :class:`RetryLater` with Slack's ``Retry-After``. On a 429 the whole
drain pauses until ``Retry-After`` has passed (in this process, and through ``outbox_pause`` in every
other worker sharing the database); the row goes back unchanged and the 429 does not count as an
attempt. Other transient errors back off and count: after ``MAX_ATTEMPTS`` the row is ``failed``.
A permanent error (a deactivated user, say) marks the row ``failed`` with the error. Rows written
``held`` (a broadcast whose knowledge version is not live yet) are not delivered until released.
No Slack imports here: the sender is passed in.
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from bot.storage.store import OPEN, Store, now

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6             # transient failures (not 429s) before a row is given up as failed
MARKER_PREFIX = "outbox-"
CHANNEL_PACE = 1.0           # Slack's pace for posting into one channel: about one message a second
LEASE_SECONDS = 120          # a 'sending' row whose worker is gone (or silent this long) is recovered
BACKOFF_MAX = 300.0


class RetryLater(Exception):
    """Try again later. ``rate_limited``: Slack answered 429 and nothing happened."""

    def __init__(self, seconds: float, error: str = "ratelimited", *, rate_limited: bool = False):
        super().__init__(error)
        self.seconds, self.error, self.rate_limited = seconds, error, rate_limited


class Unknown(RetryLater):
    """The post may or may not have reached Slack (a 5xx, a dropped connection): check before re-sending."""


class Permanent(Exception):
    """Slack said no for good (e.g. user_not_found, account_inactive): do not retry."""


class Sender(Protocol):
    def open(self, recipient: str, kind: str) -> str:
        """The channel id to post to: the user's DM for kind 'dm', the channel itself for 'channel'."""

    def send(self, channel: str, text: str, blocks: list[dict]) -> str:
        """Post; return the message ts. RetryLater / Unknown / Permanent on failure."""

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


def _stamp(delta: float = 0.0) -> str:
    """UTC now (+ delta seconds), microseconds, rounded up: compares as text with now() and itself."""
    at = datetime.now(timezone.utc) + timedelta(microseconds=math.ceil(delta * 1_000_000))
    return at.isoformat(timespec="microseconds")


def _seconds_until(stamp: str) -> float:
    return (datetime.fromisoformat(stamp) - datetime.now(timezone.utc)).total_seconds()


# -- writing a broadcast ------------------------------------------------------------------------------

def recipients_for_level(store: Store, level_id: str, days: int = 90) -> list[str]:
    """People with an open check, or one finished in the last ``days``, targeting the level."""
    since = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")
    with store.db() as db:
        rows = db.execute(
            "SELECT DISTINCT user_id FROM gap_checks WHERE target_level = ? AND "
            f"({OPEN} OR (state = 'done' AND finished_at >= ?)) ORDER BY user_id",
            [level_id, since]).fetchall()
    return [r[0] for r in rows]


def insert_broadcast(db, created_by: str, *, channel: str | None, channel_message: tuple[str, list[dict]] | None,
                     dm_recipients: list[str], dm_message: tuple[str, list[dict]] | None,
                     level_id: str | None = None, knowledge_version: str | None = None, note: str | None = None,
                     held: bool = False) -> int:
    """Insert a broadcast and its outbox rows inside the caller's transaction (e.g. with a new version).

    ``held``: the rows are not delivered until :func:`release` (e.g. once the version is live)."""
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
    status = "held" if held else "pending"
    db["outbox"].insert_all([{**r, "broadcast_id": bid, "status": status, "attempts": 0, "updated_at": now()}
                             for r in rows])
    return bid


def create_draft(store: Store, created_by: str, level_id: str | None, message: str) -> int:
    """An announcement between its preview and HR's *Send*; the button carries only this id."""
    with store.immediate() as db:
        return db["announce_drafts"].insert({"created_by": created_by, "created_at": now(), "level_id": level_id,
                                             "message": message, "status": "draft"}).last_pk


def draft(store: Store, draft_id: int) -> dict | None:
    with store.db() as db:
        rows = list(db["announce_drafts"].rows_where("id = ?", [draft_id]))
    return rows[0] if rows else None


def send_draft(store: Store, draft_id: int, sent_by: str, **broadcast) -> tuple[int, bool]:
    """The draft's broadcast, written once: (broadcast id, True) the first time, (the same id, False)
    on every later click. The check and the write are one ``BEGIN IMMEDIATE`` transaction."""
    with store.immediate() as db:
        row = db.execute("SELECT status, broadcast_id FROM announce_drafts WHERE id = ?", [draft_id]).fetchone()
        if row is None:
            raise KeyError(draft_id)
        if row[0] != "draft":
            return row[1], False
        bid = insert_broadcast(db, sent_by, **broadcast)
        db.execute("UPDATE announce_drafts SET status = 'sent', broadcast_id = ?, sent_by = ?, sent_at = ? WHERE id = ?",
                   [bid, sent_by, now(), draft_id])
        return bid, True


def release(store: Store, *, broadcast_id: int | None = None, knowledge_version: str | None = None) -> int:
    """Held rows become deliverable: one broadcast's, or every broadcast written with a (now live) version."""
    where, args = ("broadcast_id = ?", [broadcast_id]) if broadcast_id is not None else (
        "broadcast_id IN (SELECT id FROM broadcasts WHERE knowledge_version = ?)", [knowledge_version])
    with store.immediate() as db:
        return db.execute(f"UPDATE outbox SET status = 'pending', updated_at = ? WHERE status = 'held' AND {where}",
                          [now(), *args]).rowcount


def inbox(store: Store, user_id: str) -> list[dict]:
    """The DMs queued for one person (announcements, reminders), oldest first: status, text and blocks."""
    with store.db() as db:
        rows = db.execute("SELECT status, text, blocks FROM outbox WHERE kind = 'dm' AND recipient = ? ORDER BY id",
                          [user_id]).fetchall()
    return [{"status": status, "text": text, "blocks": json.loads(blocks or "[]")} for status, text, blocks in rows]


# -- draining ------------------------------------------------------------------------------------------

@dataclass
class DrainResult:
    sent: int = 0
    recovered: int = 0   # rows found already delivered (their marker was in the conversation)
    failed: int = 0
    retried: int = 0


_token: tuple[int, str] | None = None


def claim_token() -> str:
    """This process's claim token: host, pid and a random part (a new one after a fork)."""
    global _token
    pid = os.getpid()
    if _token is None or _token[0] != pid:
        _token = (pid, f"{socket.gethostname()}:{pid}:{secrets.token_hex(8)}")
    return _token[1]


def abandoned(row: dict) -> bool:
    """Nobody will finish this claim: an earlier process with our host and pid, a dead process on this
    host, or any claim (ours included) silent longer than the lease."""
    claim = row.get("claimed_by") or ""
    age = (datetime.now(timezone.utc) - datetime.fromisoformat(row["updated_at"])).total_seconds()
    if claim == claim_token():
        return age > LEASE_SECONDS
    host, _, rest = claim.partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid():
            return True   # same host and pid, another token: this process's predecessor (a restarted container)
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
    return age > LEASE_SECONDS


def recover(store: Store, sender: Sender | None = None) -> int:
    """Rows a gone worker left in 'sending' become 'unknown' (marker check before any re-send).

    No Slack calls here: the check happens when the row is claimed, with drain's error handling."""
    with store.db() as db:
        stuck = [r for r in db["outbox"].rows_where("status = 'sending'", order_by="id") if abandoned(r)]
    moved = 0
    for row in stuck:
        with store.immediate() as db:
            moved += db.execute(
                "UPDATE outbox SET status = 'unknown', claimed_by = NULL, updated_at = ? "
                "WHERE id = ? AND status = 'sending' AND claimed_by IS ?",
                [now(), row["id"], row["claimed_by"]]).rowcount
    if moved:
        log.info("outbox: %d row(s) left 'sending' by a gone worker go back for a marker check", moved)
    return moved


def _claim(store: Store) -> tuple[dict | None, float]:
    """(a row now 'sending' by this process, 0) or (None, seconds to wait for a rate-limit pause)."""
    stamp = _stamp()
    with store.immediate() as db:
        pause = db.execute("SELECT until FROM outbox_pause WHERE scope = 'slack'").fetchone()
        if pause and pause[0] > stamp:
            return None, max(_seconds_until(pause[0]), 0.001)
        cur = db.execute(
            "SELECT * FROM outbox WHERE status IN ('pending', 'unknown') AND (not_before IS NULL OR not_before <= ?) "
            "ORDER BY id LIMIT 1", [stamp])
        row = cur.fetchone()
        if row is None:
            return None, 0.0
        row = dict(zip([d[0] for d in cur.description], row))
        db.execute("UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?, claimed_by = ? "
                   "WHERE id = ?", [now(), claim_token(), row["id"]])
        row["attempts"] += 1
        return row, 0.0


def _finish(store: Store, row_id: int, **fields) -> None:
    """Update our claimed row; a no-op (logged) if the claim was recovered by another worker meanwhile."""
    fields = {**fields, "updated_at": now()}
    sets = ", ".join(f"{k} = ?" for k in fields)
    with store.immediate() as db:
        done = db.execute(f"UPDATE outbox SET {sets} WHERE id = ? AND status = 'sending' AND claimed_by = ?",
                          [*fields.values(), row_id, claim_token()]).rowcount
    if not done:
        log.warning("outbox row %s was taken over by another worker before %s", row_id, fields.get("status"))


def _pause(store: Store, seconds: float) -> None:
    """Every worker on this database waits until ``seconds`` from now before its next Slack call."""
    until = _stamp(seconds)
    with store.immediate() as db:
        db.execute("INSERT INTO outbox_pause (scope, until) VALUES ('slack', ?) "
                   "ON CONFLICT(scope) DO UPDATE SET until = max(until, excluded.until)", [until])


def _backoff(attempts: int, seconds: float) -> float:
    return min(max(seconds, 1.0) * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def drain(store: Store, sender: Sender, *, until_empty: bool = True, pace: float = 0.0,
          stop=lambda: False, max_wait: float = 60.0) -> DrainResult:
    """Send pending rows until none are left (or ``stop()``). Safe to run in several processes."""
    result = DrainResult()
    recover(store)
    last_post: dict[str, float] = {}
    paused_until = 0.0   # time.monotonic() before which this process calls Slack for nothing
    while not stop():
        wait = paused_until - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, max_wait))
            continue
        row, wait = _claim(store)
        if wait:
            time.sleep(min(wait, max_wait))
            continue
        if row is None:
            if recover(store):
                continue
            wait = _next_wait(store)
            if wait is None or not until_empty:
                return result
            time.sleep(min(wait, max_wait))
            continue
        checked = row["status"] != "unknown"   # an unknown outcome: look for the marker before sending
        try:
            channel = row["channel_id"] or sender.open(row["recipient"], row["kind"])
            if not checked:
                ts = sender.find(channel, marker(row["id"]))
                if ts:
                    _finish(store, row["id"], status="sent", sent_ts=ts, channel_id=channel, last_error=None)
                    result.recovered += 1
                    continue
                checked = True
            wait = last_post.get(channel, 0.0) + CHANNEL_PACE - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                ts = sender.send(channel, row["text"], marked_blocks(json.loads(row["blocks"] or "[]"), row["id"]))
            finally:
                last_post[channel] = time.monotonic()
        except RetryLater as exc:
            back = "unknown" if isinstance(exc, Unknown) or not checked else "pending"
            if exc.rate_limited:   # nothing happened: pause everything, and the try does not count
                paused_until = max(paused_until, time.monotonic() + exc.seconds)
                _pause(store, exc.seconds)
                _finish(store, row["id"], status=back, attempts=row["attempts"] - 1, last_error=exc.error,
                        not_before=_stamp(exc.seconds))
            elif row["attempts"] >= MAX_ATTEMPTS:
                _finish(store, row["id"], status="failed", last_error=f"{exc.error} ({row['attempts']} tries)")
                result.failed += 1
            else:
                _finish(store, row["id"], status=back, last_error=exc.error,
                        not_before=_stamp(_backoff(row["attempts"], exc.seconds)))
            result.retried += 1
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
        row = db.execute("SELECT min(not_before), count(*) FROM outbox WHERE status IN ('pending', 'unknown')").fetchone()
    if not row or not row[1]:
        return None
    return max(_seconds_until(row[0]), 0.01) if row[0] else 0.01


def summary(store: Store) -> dict[str, int]:
    with store.db() as db:
        return {status: n for status, n in db.execute("SELECT status, count(*) FROM outbox GROUP BY status")}

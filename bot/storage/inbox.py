"""Acknowledged work, kept in SQLite: a job is written before Slack gets its 200 and is done by
whichever worker process claims it. No Slack here.

Claims work as the outbox's do (:func:`bot.storage.outbox.claim_token`, :func:`bot.storage.outbox.abandoned`): a job
is claimed in a ``BEGIN IMMEDIATE`` transaction with this process's token; a job left 'running' by a
process that is gone (killed, restarted: same host and pid, or a dead pid) goes back to 'pending' at
once, one silent past the lease after it. A job is tried at most :data:`MAX_ATTEMPTS` times (a job that
kills its worker every time must not take every worker down in turn).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bot.storage.outbox import abandoned, claim_token
from bot.storage.store import Store, now

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
LATE_SECONDS = 30.0   # an answer this long after the question says it is late


@dataclass
class Job:
    id: int
    kind: str
    body: dict
    attempts: int
    created_at: str
    message_ts: str | None = None   # an answer this job began streaming before its worker stopped

    @property
    def late(self) -> bool:
        """Answered after a restart, or long after it was asked: the answer says so."""
        age = (datetime.now(timezone.utc) - datetime.fromisoformat(self.created_at)).total_seconds()
        return self.attempts > 1 or age > LATE_SECONDS


def requester(body: dict) -> str | None:
    """Who asked: a slash command's ``user_id``, an interaction's ``user.id``, an event's ``user``."""
    user = body.get("user")
    event = body.get("event")
    return (body.get("user_id") or (user.get("id") if isinstance(user, dict) else None)
            or (event.get("user") if isinstance(event, dict) else None) or None)


class Full(Exception):
    """This person already has ``limit`` requests waiting or being done."""


def put(store: Store, kind: str, body: dict, *, event_id: str | None = None, limit: int | None = None) -> int | None:
    """Write a job; None when ``event_id`` was seen before (Slack's retry of an event): one job per event.
    Raises :class:`Full` (writing nothing) when the person already has ``limit`` jobs not yet done."""
    user = requester(body)

    def full(db) -> bool:
        return limit is not None and user is not None and db.execute(
            "SELECT count(*) FROM jobs WHERE user_id = ? AND status IN ('pending', 'running')", [user]).fetchone()[0] >= limit

    with store.db() as db:   # a flood is refused on a read, without queuing for the write lock everyone needs
        if full(db):
            raise Full(user)
    with store.immediate() as db:
        if full(db):
            raise Full(user)
        if event_id and not db.execute("INSERT OR IGNORE INTO processed_events (event_id, received_at) VALUES (?, ?)",
                                       [event_id, now()]).rowcount:
            return None
        stamp = now()
        return db["jobs"].insert({"kind": kind, "body": json.dumps(body), "status": "pending", "attempts": 0,
                                  "user_id": user, "created_at": stamp, "updated_at": stamp}).last_pk


def recover(store: Store) -> int:
    """Jobs left 'running' by a gone process go back to 'pending'."""
    with store.db() as db:
        stuck = [r for r in db["jobs"].rows_where("status = 'running'", order_by="id") if abandoned(r)]
    moved = 0
    for row in stuck:
        with store.immediate() as db:
            moved += db.execute("UPDATE jobs SET status = 'pending', claimed_by = NULL, updated_at = ? "
                                "WHERE id = ? AND status = 'running' AND claimed_by IS ?",
                                [now(), row["id"], row["claimed_by"]]).rowcount
    if moved:
        log.info("inbox: %d job(s) left by a gone worker are done again", moved)
    return moved


def claim(store: Store) -> Job | None:
    """The next pending job, now 'running' by this process; None when there is none. One job per person
    at a time, oldest first: a person's next request waits until their last one is done, so a person who
    sends a burst waits for their own requests while everyone else's are taken as they come."""
    with store.immediate() as db:
        cur = db.execute("SELECT id, kind, body, attempts, created_at, message_ts FROM jobs "
                         "WHERE status = 'pending' AND (user_id IS NULL OR user_id NOT IN "
                         " (SELECT user_id FROM jobs WHERE status = 'running' AND user_id IS NOT NULL)) "
                         "ORDER BY id LIMIT 1")
        row = cur.fetchone()
        if row is None:
            return None
        db.execute("UPDATE jobs SET status = 'running', attempts = attempts + 1, claimed_by = ?, updated_at = ? "
                   "WHERE id = ?", [claim_token(), now(), row[0]])
        return Job(row[0], row[1], json.loads(row[2]), row[3] + 1, row[4], row[5])


STREAM_STARTING = "?"   # the job was about to start a stream: if it did, its ts never got written


def note_message(store: Store, job_id: int, ts: str) -> None:
    """The answer this job is streaming (its ts), written as soon as Slack made it (and
    :data:`STREAM_STARTING` just before): a worker that does the job again after a crash completes that
    message rather than posting a second one."""
    with store.immediate() as db:
        db.execute("UPDATE jobs SET message_ts = ?, updated_at = ? WHERE id = ?", [ts, now(), job_id])


def finish(store: Store, job_id: int, status: str = "done", error: str | None = None) -> bool:
    """Mark our claimed job done (or failed); False if another worker took it over meanwhile."""
    with store.immediate() as db:
        return bool(db.execute("UPDATE jobs SET status = ?, error = ?, finished_at = ?, updated_at = ? "
                               "WHERE id = ? AND status = 'running' AND claimed_by = ?",
                               [status, error, now(), now(), job_id, claim_token()]).rowcount)


def prune(store: Store, days: int = 7) -> int:
    """Forget finished jobs older than ``days``."""
    since = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")
    with store.immediate() as db:
        return db.execute("DELETE FROM jobs WHERE status IN ('done', 'failed') AND finished_at < ?", [since]).rowcount


def summary(store: Store) -> dict[str, int]:
    with store.db() as db:
        return {status: n for status, n in db.execute("SELECT status, count(*) FROM jobs GROUP BY status")}

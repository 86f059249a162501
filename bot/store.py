"""Ladder's state in SQLite, through sqlite-utils: numbered migrations, WAL, a busy timeout.

A file ``Database`` is bound to the thread that opened it and Bolt runs listeners on a thread pool,
so every call opens its own connection (cheap with WAL) and wraps its change in ``db.atomic()``.
Dicts in, dicts out; no Slack here.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("ladder")


@migrations()
def m001_answers_feedback_profiles(db: Database) -> None:
    # every question Ladder answered (or could not): feedback points here, HR stats read it
    db["answers"].create({
        "id": int, "user_id": str, "channel": str, "question": str, "status": str, "level_id": str,
        "answer": str, "knowledge_version": str, "created_at": str,
    }, pk="id", not_null={"user_id", "question", "status"})
    db["answers"].create_index(["user_id"])
    db["feedback"].create({
        "answer_id": int, "user_id": str, "vote": int, "question": str, "answer": str,
        "created_at": str, "updated_at": str,
    }, pk=("answer_id", "user_id"), foreign_keys=[("answer_id", "answers", "id")])
    db["profiles"].create({
        "user_id": str, "current_level": str, "target_level": str, "updated_at": str,
    }, pk="user_id")
    # Slack retries an event it thinks we missed; each event_id is handled once
    db["processed_events"].create({"event_id": str, "received_at": str}, pk="event_id")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Store:
    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self.db() as db:
            db.enable_wal()
            migrations.apply(db)

    @contextmanager
    def db(self) -> Iterator[Database]:
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA foreign_keys = ON")
        try:
            yield Database(conn)
        finally:
            conn.close()

    # -- events ------------------------------------------------------------------------------
    def claim_event(self, event_id: str | None) -> bool:
        """True the first time an event id is seen; False for Slack's retries of it."""
        if not event_id:
            return True
        with self.db() as db, db.atomic():
            cur = db.execute("INSERT OR IGNORE INTO processed_events (event_id, received_at) VALUES (?, ?)",
                             [event_id, now()])
            return cur.rowcount == 1

    # -- answers and feedback --------------------------------------------------------------------
    def record_answer(self, user_id: str, channel: str | None, question: str, status: str,
                      level_id: str | None, answer: str, knowledge_version: str) -> int:
        with self.db() as db, db.atomic():
            return db["answers"].insert({
                "user_id": user_id, "channel": channel, "question": question, "status": status,
                "level_id": level_id, "answer": answer, "knowledge_version": knowledge_version,
                "created_at": now(),
            }).last_pk

    def answer(self, answer_id: int) -> dict | None:
        with self.db() as db:
            rows = list(db["answers"].rows_where("id = ?", [answer_id]))
            return rows[0] if rows else None

    def vote(self, answer_id: int, user_id: str, vote: int) -> dict | None:
        """Record 👍 (+1) / 👎 (-1). A second click updates the same row. None for an unknown answer."""
        with self.db() as db, db.atomic():
            rows = list(db["answers"].rows_where("id = ?", [answer_id]))
            if not rows:
                return None
            existing = list(db["feedback"].rows_where("answer_id = ? and user_id = ?", [answer_id, user_id]))
            stamp = now()
            row = {"answer_id": answer_id, "user_id": user_id, "vote": vote, "question": rows[0]["question"],
                   "answer": rows[0]["answer"], "updated_at": stamp,
                   "created_at": existing[0]["created_at"] if existing else stamp}
            db["feedback"].upsert(row, pk=("answer_id", "user_id"))
            return row

    def feedback(self) -> list[dict]:
        with self.db() as db:
            return list(db["feedback"].rows)

    # -- profiles ------------------------------------------------------------------------------
    def profile(self, user_id: str) -> dict:
        with self.db() as db:
            rows = list(db["profiles"].rows_where("user_id = ?", [user_id]))
            return rows[0] if rows else {"user_id": user_id, "current_level": None, "target_level": None}

    def set_profile(self, user_id: str, **fields: str | None) -> dict:
        with self.db() as db, db.atomic():
            row = {**self.profile(user_id), **fields, "user_id": user_id, "updated_at": now()}
            db["profiles"].upsert(row, pk="user_id")
            return row

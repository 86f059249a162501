"""Ladder's state in SQLite, through sqlite-utils: numbered migrations, WAL, a busy timeout.

A file ``Database`` is bound to the thread that opened it and Bolt runs listeners on a thread pool,
so every call opens its own connection (cheap with WAL) and makes its change in one
``BEGIN IMMEDIATE`` transaction (:meth:`Store.immediate`): a deferred ``BEGIN`` that reads first
(sqlite-utils looks at the table) and then writes fails at once with "database is locked" when
another thread wrote in between, instead of waiting out the busy timeout.
Dicts in, dicts out; no Slack here.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from sqlite_utils import Database

from bot.core.gapcheck import OPEN_STATES
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


@migrations()
def m002_gap_checks(db: Database) -> None:
    db["gap_checks"].create({
        "id": int, "user_id": str, "current_level": str, "target_level": str, "target_title": str,
        "knowledge_version": str, "plan": str, "state": str, "step": int, "channel": str, "message_ts": str,
        "shared_with": str, "readiness": int, "created_at": str, "updated_at": str, "finished_at": str,
    }, pk="id", not_null={"user_id", "current_level", "target_level", "plan", "state"})
    db["gap_checks"].create_index(["user_id", "target_level"])
    # one open check per person and target (as released: a migration is history, never rewritten, so the
    # states are spelled out here rather than read from gapcheck.OPEN_STATES)
    db.execute("CREATE UNIQUE INDEX gap_checks_one_open ON gap_checks(user_id, target_level) "
               "WHERE state IN ('confirm', 'asking', 'paused')")
    db["gap_answers"].create({
        "check_id": int, "step": str, "rating": str, "value": float, "note": str, "answered_at": str,
    }, pk=("check_id", "step"), foreign_keys=[("check_id", "gap_checks", "id")])


@migrations()
def m003_roles_teams_audit(db: Database) -> None:
    db["roles"].create({"user_id": str, "role": str, "granted_by": str, "granted_at": str}, pk="user_id")
    # a person has at most one lead
    db["teams"].create({"member_id": str, "lead_id": str, "added_by": str, "added_at": str}, pk="member_id")
    db["teams"].create_index(["lead_id"])
    db["audit"].create({"id": int, "at": str, "actor": str, "action": str, "target": str, "outcome": str,
                        "detail": str}, pk="id", not_null={"at", "actor", "action", "outcome"})


@migrations()
def m004_broadcast_outbox(db: Database) -> None:
    db["broadcasts"].create({"id": int, "created_by": str, "created_at": str, "level_id": str,
                             "knowledge_version": str, "note": str}, pk="id")
    db["outbox"].create({
        "id": int, "broadcast_id": int, "recipient": str, "kind": str, "text": str, "blocks": str, "status": str,
        "attempts": int, "last_error": str, "not_before": str, "claimed_by": str, "channel_id": str,
        "sent_ts": str, "updated_at": str,
    }, pk="id", foreign_keys=[("broadcast_id", "broadcasts", "id")], not_null={"recipient", "kind", "status"})
    db["outbox"].create_index(["broadcast_id", "recipient"], unique=True)
    db["outbox"].create_index(["status"])


@migrations()
def m005_gap_reviews(db: Database) -> None:
    # a lead's rating beside the person's own (both kept)
    db["gap_reviews"].create({"check_id": int, "step": str, "lead_id": str, "rating": str, "reviewed_at": str},
                             pk=("check_id", "step"), foreign_keys=[("check_id", "gap_checks", "id")])


@migrations()
def m006_knowledge_versions(db: Database) -> None:
    db["knowledge_versions"].create({
        "id": int, "version": str, "parent": str, "level_id": str, "created_by": str, "created_at": str,
        "note": str, "diff": str, "tracks": str,
    }, pk="id", not_null={"version", "created_by", "tracks"})
    db["knowledge_versions"].create_index(["level_id"])


@migrations()
def m007_announce_drafts_outbox_pause(db: Database) -> None:
    # an announcement between its preview and HR's Send: the button carries only the id, and a draft
    # is sent once (a second click finds it 'sent')
    db["announce_drafts"].create({
        "id": int, "created_by": str, "created_at": str, "level_id": str, "message": str, "status": str,
        "broadcast_id": int, "sent_by": str, "sent_at": str,
    }, pk="id", not_null={"created_by", "message", "status"})
    # Slack said 429: no outbox worker calls it again before ``until`` (UTC ISO, microseconds)
    db["outbox_pause"].create({"scope": str, "until": str}, pk="scope", not_null={"until"})


@migrations()
def m008_reviews_once_reminders(db: Database) -> None:
    # a review is confirmed once: who and when, on the check itself (a check with every step skipped has
    # no gap_reviews rows, and is still reviewed)
    db["gap_checks"].add_column("shared_at", str)
    db["gap_checks"].add_column("reviewed_by", str)
    db["gap_checks"].add_column("reviewed_at", str)
    # reminders: one row per nudge ever queued; ``key`` makes each one exactly once (a check's nudge,
    # a lead's week), written in the transaction that queues its outbox row
    db["reminders"].create({"id": int, "kind": str, "key": str, "user_id": str, "broadcast_id": int,
                            "created_at": str}, pk="id", not_null={"kind", "key", "user_id"})
    db["reminders"].create_index(["kind", "key"], unique=True)
    db["reminders"].create_index(["user_id", "kind"])
    db["profiles"].add_column("reminders", str)   # 'off' when the person said Stop reminding me
    db["profiles"].add_column("tz", str)          # their time zone (Slack's users.info), e.g. Europe/Berlin



@migrations()
def m009_agent_threads_feedback_notes(db: Database) -> None:
    # a Slack agent feature (status, stream, prompts, feedback buttons) a workspace refused, and when that
    # was last seen: not tried again on every message, but re-checked after AGENT_RECHECK
    db["agent_refusals"].create({"team_id": str, "feature": str, "error": str, "checked_at": str},
                                pk=("team_id", "feature"), not_null={"error", "checked_at"})
    # what a thread Ladder answered in has asked so far: follow-ups are read against it (kept for
    # THREAD_RETENTION, at most THREAD_TURNS per thread)
    db["thread_turns"].create({
        "id": int, "channel": str, "thread_ts": str, "user_id": str, "question": str, "level_id": str,
        "track": str, "aspect": str, "level_ids": str, "answer_id": int, "created_at": str,
    }, pk="id", not_null={"channel", "thread_ts", "question", "created_at"})
    db["thread_turns"].create_index(["channel", "thread_ts"])
    db["thread_turns"].create_index(["created_at"])
    # the optional "what was wrong?" after a 👎
    db["feedback"].add_column("note", str)



@migrations()
def m010_work_in_progress(db: Database) -> None:
    # what each person has Ladder working on right now, across every worker process: the per-person
    # limit counts these rows (a row left by a killed process expires)
    db["work_in_progress"].create({"id": int, "user_id": str, "started_at": float}, pk="id",
                                  not_null={"user_id", "started_at"})
    db["work_in_progress"].create_index(["user_id"])



@migrations()
def m011_health_probe(db: Database) -> None:
    # /healthz writes this one row: a read-only database or a full disk shows up there, not in answers
    db["health_probe"].create({"id": int, "checked_at": str}, pk="id")



@migrations()
def m012_job_inbox(db: Database) -> None:
    # what Ladder acknowledged to Slack and has not finished: written before the 200, done by any worker
    db["jobs"].create({
        "id": int, "kind": str, "body": str, "status": str, "attempts": int, "claimed_by": str,
        "created_at": str, "updated_at": str, "finished_at": str, "error": str,
    }, pk="id", not_null={"kind", "body", "status"})
    db["jobs"].create_index(["status"])
    # the edit job that saved a version: a re-run after a crash confirms it instead of refusing it
    db["knowledge_versions"].add_column("job_id", int)


@migrations()
def m013_job_messages_and_turns(db: Database) -> None:
    # the answer a job began streaming: a job done again after a crash finishes that message instead of
    # leaving it half-streamed beside a second answer
    db["jobs"].add_column("message_ts", str)
    # whose request it is: a person's jobs are done one at a time, so one person's burst does not queue
    # everyone else behind it
    db["jobs"].add_column("user_id", str)
    db["jobs"].create_index(["status", "user_id"])


AGENT_RECHECK = timedelta(hours=6)     # a refused agent feature is tried again after this long
THREAD_RETENTION = timedelta(days=30)  # a thread's conversation is forgotten after this long
THREAD_TURNS = 10                      # and keeps at most this many turns
FEEDBACK_NOTE_MAX = 500


class StoreError(Exception):
    """The database file cannot be opened or written: ``path`` and the ``reason`` in words."""

    def __init__(self, path: str | Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = str(path), reason

    def line(self) -> str:
        """The one line an operator sees: the setting the path came from, the path, the reason."""
        return f"LADDER_DB={self.path}: {self.reason}"


# SQLite's primary result codes that mean "Ladder can't save right now", in words
_CANT_SAVE = {sqlite3.SQLITE_READONLY: "the database is read-only", sqlite3.SQLITE_FULL: "the disk is full",
              sqlite3.SQLITE_IOERR: "a disk I/O error", sqlite3.SQLITE_CANTOPEN: "the database file cannot be opened",
              sqlite3.SQLITE_BUSY: "the database is locked", sqlite3.SQLITE_LOCKED: "the database is locked",
              sqlite3.SQLITE_PERM: "no permission to write the database"}


def save_problem(exc: BaseException | None) -> str | None:
    """Why SQLite could not save, in words, when ``exc`` (or what caused it) says so; None otherwise."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, sqlite3.Error):
            code = getattr(exc, "sqlite_errorcode", None)
            if code is not None and (code & 0xFF) in _CANT_SAVE:
                return _CANT_SAVE[code & 0xFF]
        if isinstance(exc, StoreError):
            return exc.reason
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


INT64_MAX = 2 ** 63 - 1   # SQLite's integers: a bigger id cannot be a row of ours


def row_id(text: str) -> int | None:
    """A row id from a button value: ASCII digits that fit SQLite's int64; None otherwise
    (forged or stale: never an OverflowError from SQLite)."""
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        return None
    n = int(text)
    return n if n <= INT64_MAX else None


def _read_only(path: Path) -> str | None:
    """After a failed write, what the file system says: SQLite reports only "cannot open" or "disk I/O
    error" when the file or its folder (WAL keeps files beside it) is read-only or the disk is full."""
    for where in (path, path.parent):
        if where.exists() and not os.access(where, os.W_OK):
            return "the database is read-only"
    try:
        if shutil.disk_usage(path.parent).free < 1_000_000:
            return "the disk is full"
    except OSError:
        pass
    return None


def _check_path(path: Path) -> None:
    if path.is_dir():
        raise StoreError(path, "is a directory, not a database file")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise StoreError(path, f"{parent} is a file, not a folder")
            break


def state_in(states, column: str = "state") -> str:
    """SQL that a gap check's state is one of ``states`` (gapcheck.State members): the state machine's own
    sets, never a second spelling of them."""
    return f"{column} IN ({', '.join(repr(s.value) for s in states)})"


OPEN = state_in(OPEN_STATES)


class CheckAlreadyOpen(ValueError):
    """The person already has an open check for that target: ``check_id`` is that check."""

    def __init__(self, check_id: int):
        super().__init__(f"gap check {check_id} is already open for this person and target")
        self.check_id = check_id


# One writer at a time per database file within a process, queued on a lock that wakes the next thread the moment
# the last one commits. Without it, threads that meet SQLite's write lock wait in its busy handler, which sleeps in
# steps of up to 100 ms and does not wake on release: with an answer's five short write transactions (~1 ms each)
# beside a burst of slash commands, an ack's one insert waited up to 330 ms (scripts/bench_slack.py). Other
# processes on the file still queue in SQLite. Re-entrant: a nested write on one thread fails in SQLite, as before.
_WRITERS: dict[str, threading.RLock] = {}
_WRITERS_GUARD = threading.Lock()
# a fork copies a lock held by another thread as held, for ever: the child starts afresh (a fork in the middle of
# a write is no use to SQLite either, whose child then finds the file locked, but it fails instead of hanging)
os.register_at_fork(after_in_child=_WRITERS.clear)


def _writer(key: str) -> threading.RLock:
    with _WRITERS_GUARD:
        return _WRITERS.setdefault(key, threading.RLock())


class Store:
    def __init__(self, path: str | Path):
        """Open (and migrate) the database; :class:`StoreError` says in words why it cannot be used."""
        self.path = str(path)
        self._writer_key = os.path.realpath(self.path)
        if self.path == ":memory:" or self.path.startswith("file::memory:"):
            # every call opens its own connection (threads, worker processes): each would see an empty database
            raise StoreError(self.path, "an in-memory database is empty on every connection; give a file path")
        _check_path(Path(self.path))
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            with self._migration_lock(), self.db() as db:
                db.enable_wal()
                migrations.apply(db)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(self.path, _read_only(Path(self.path)) or save_problem(exc) or str(exc)) from exc

    def health(self) -> str | None:
        """None when Ladder can save (a real write); otherwise why not, in words."""
        try:
            with self.immediate() as db:
                db.execute("INSERT OR REPLACE INTO health_probe (id, checked_at) VALUES (1, ?)", [now()])
        except (OSError, sqlite3.Error) as exc:
            return _read_only(Path(self.path)) or save_problem(exc) or str(exc)
        return None

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """Several worker processes start at once on a new database: one applies the migrations while
        the others wait for it (then find nothing pending), instead of all racing into 'database is locked'."""
        import fcntl

        with open(self.path + ".migrate-lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

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
        with self.immediate() as db:
            cur = db.execute("INSERT OR IGNORE INTO processed_events (event_id, received_at) VALUES (?, ?)",
                             [event_id, now()])
            return cur.rowcount == 1

    # -- the per-person limit -------------------------------------------------------------------
    def begin_work(self, user_id: str, limit: int, expire_after: float) -> int | None:
        """A slot for one piece of work for ``user_id``; None when they already have ``limit`` going."""
        stamp = time.time()
        with self.immediate() as db:
            db.execute("DELETE FROM work_in_progress WHERE started_at < ?", [stamp - expire_after])
            [(going,)] = db.execute("SELECT count(*) FROM work_in_progress WHERE user_id = ?", [user_id]).fetchall()
            if going >= limit:
                return None
            return db.execute("INSERT INTO work_in_progress (user_id, started_at) VALUES (?, ?)",
                              [user_id, stamp]).lastrowid

    def end_work(self, slot: int) -> None:
        with self.immediate() as db:
            db.execute("DELETE FROM work_in_progress WHERE id = ?", [slot])

    # -- answers and feedback --------------------------------------------------------------------
    def record_answer(self, user_id: str, channel: str | None, question: str, status: str,
                      level_id: str | None, answer: str, knowledge_version: str) -> int:
        with self.immediate() as db:
            return db["answers"].insert({
                "user_id": user_id, "channel": channel, "question": question, "status": status,
                "level_id": level_id, "answer": answer, "knowledge_version": knowledge_version,
                "created_at": now(),
            }).last_pk

    def vote(self, answer_id: int, user_id: str, vote: int) -> dict | None:
        """Record 👍 (+1) / 👎 (-1). A second click updates the same row. None for an unknown answer."""
        with self.immediate() as db:
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

    def feedback_note(self, answer_id: int, user_id: str, note: str) -> bool:
        """The "what was wrong?" text on this person's 👎 of an answer; False when there is no 👎 to attach it to."""
        note = " ".join((note or "").split())[:FEEDBACK_NOTE_MAX]
        with self.immediate() as db:
            cur = db.execute("UPDATE feedback SET note = ?, updated_at = ? WHERE answer_id = ? AND user_id = ? "
                             "AND vote < 0", [note or None, now(), answer_id, user_id])
            return cur.rowcount == 1

    def feedback(self) -> list[dict]:
        with self.db() as db:
            return list(db["feedback"].rows)

    # -- gap checks ------------------------------------------------------------------------------
    @contextmanager
    def immediate(self) -> Iterator[Database]:
        """A write transaction that takes the lock at BEGIN: two clicks at once serialise, not collide (and this
        process's threads queue for it on :func:`_writer`'s lock, not in SQLite's busy handler)."""
        with _writer(self._writer_key), self.db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            else:
                db.execute("COMMIT")

    def create_check(self, row: dict) -> int:
        """Insert a new open check; :class:`CheckAlreadyOpen` if the person has one open for that target."""
        with self.immediate() as db:
            existing = list(db.query(
                f"SELECT id FROM gap_checks WHERE user_id = ? AND target_level = ? AND {OPEN}",
                [row["user_id"], row["target_level"]]))
            if existing:
                raise CheckAlreadyOpen(existing[0]["id"])
            stamp = now()
            return db["gap_checks"].insert({**row, "created_at": stamp, "updated_at": stamp}).last_pk

    def check_row(self, check_id: int) -> dict | None:
        with self.db() as db:
            rows = list(db["gap_checks"].rows_where("id = ?", [check_id]))
            return rows[0] if rows else None

    def check_answers(self, check_id: int) -> list[dict]:
        with self.db() as db:
            return list(db["gap_answers"].rows_where("check_id = ?", [check_id]))

    def open_checks(self, user_id: str) -> list[dict]:
        with self.db() as db:
            return list(db["gap_checks"].rows_where(
                f"user_id = ? AND {OPEN}", [user_id], order_by="updated_at desc"))

    def checks(self, user_id: str) -> list[dict]:
        with self.db() as db:
            return list(db["gap_checks"].rows_where("user_id = ?", [user_id], order_by="id desc"))

    def previous_done(self, user_id: str, target: str, before_id: int) -> dict | None:
        with self.db() as db:
            rows = list(db["gap_checks"].rows_where(
                "user_id = ? AND target_level = ? AND state = 'done' AND id < ?", [user_id, target, before_id],
                order_by="id desc", limit=1))
            return rows[0] if rows else None

    def apply_transition(self, check_id: int, expect_state: str, expect_step: int, update: dict,
                         answer: dict | None) -> bool:
        """Save an answer and move the check, only if it is still where the click saw it.

        False means the click was stale or a duplicate: nothing is written (idempotent)."""
        with self.immediate() as db:
            rows = list(db["gap_checks"].rows_where("id = ?", [check_id]))
            if not rows or rows[0]["state"] != expect_state or rows[0]["step"] != expect_step:
                return False
            if answer is not None:
                db["gap_answers"].upsert({**answer, "check_id": check_id, "answered_at": now()}, pk=("check_id", "step"))
            db["gap_checks"].update(check_id, {**update, "updated_at": now()})
            return True

    def knowledge_tracks(self, version: str) -> list[dict] | None:
        """The whole ladder (tracks as stored by an HR edit) of a knowledge version; None if not stored here."""
        with self.db() as db:
            rows = list(db["knowledge_versions"].rows_where("version = ?", [version], order_by="id desc", limit=1))
            return json.loads(rows[0]["tracks"]) if rows else None

    # -- roles, teams, audit ---------------------------------------------------------------------
    def role(self, user_id: str) -> str | None:
        with self.db() as db:
            rows = list(db["roles"].rows_where("user_id = ?", [user_id]))
            return rows[0]["role"] if rows else None

    def set_role(self, user_id: str, role: str, granted_by: str) -> None:
        with self.immediate() as db:
            db["roles"].upsert({"user_id": user_id, "role": role, "granted_by": granted_by, "granted_at": now()},
                               pk="user_id")

    def lead_of(self, member_id: str) -> str | None:
        with self.db() as db:
            rows = list(db["teams"].rows_where("member_id = ?", [member_id]))
            return rows[0]["lead_id"] if rows else None

    def team(self, lead_id: str) -> list[str]:
        with self.db() as db:
            return [r["member_id"] for r in db["teams"].rows_where("lead_id = ?", [lead_id], order_by="added_at")]

    def join_team(self, lead_id: str, member_id: str, added_by: str, *, allow_move: bool) -> tuple[bool, str | None]:
        """Put a member in a lead's team in one transaction: (done, previous lead). Not done when they are
        already in it, or in another team and ``allow_move`` is False. Nobody is in their own team."""
        if lead_id == member_id:
            raise ValueError("nobody is in their own team")
        with self.immediate() as db:
            rows = list(db["teams"].rows_where("member_id = ?", [member_id]))
            previous = rows[0]["lead_id"] if rows else None
            if previous == lead_id or (previous is not None and not allow_move):
                return False, previous
            db["teams"].upsert({"member_id": member_id, "lead_id": lead_id, "added_by": added_by, "added_at": now()},
                               pk="member_id")
            return True, previous

    def teams(self) -> dict[str, list[str]]:
        """Every lead's members: {lead: [member, …]}, in the order they were added."""
        out: dict[str, list[str]] = {}
        with self.db() as db:
            for r in db["teams"].rows_where(order_by="lead_id, added_at"):
                out.setdefault(r["lead_id"], []).append(r["member_id"])
        return out

    def remove_from_team(self, lead_id: str, member_id: str) -> bool:
        with self.immediate() as db:
            cur = db.execute("DELETE FROM teams WHERE member_id = ? AND lead_id = ?", [member_id, lead_id])
            return cur.rowcount == 1

    def audit(self, actor: str, action: str, outcome: str, target: str | None = None, detail: str | None = None) -> None:
        with self.immediate() as db:
            db["audit"].insert({"at": now(), "actor": actor, "action": action, "target": target, "outcome": outcome,
                                "detail": detail})

    def audit_log(self, limit: int = 200) -> list[dict]:
        with self.db() as db:
            return list(db["audit"].rows_where(order_by="id desc", limit=limit))

    def stats(self) -> dict:
        """Aggregates for HR: no user ids leave this method."""
        with self.db() as db:
            one = lambda sql: next(iter(db.execute(sql).fetchone() or [0]))  # noqa: E731
            return {
                "questions": one("SELECT count(*) FROM answers"),
                "unanswered": one("SELECT count(*) FROM answers WHERE status = 'no_answer'"),
                "clarify": one("SELECT count(*) FROM answers WHERE status = 'clarify'"),
                "up": one("SELECT count(*) FROM feedback WHERE vote > 0"),
                "down": one("SELECT count(*) FROM feedback WHERE vote < 0"),
                "down_notes": [r[0] for r in db.execute(
                    "SELECT note FROM feedback WHERE vote < 0 AND note IS NOT NULL AND note != '' "
                    "ORDER BY updated_at DESC LIMIT 10").fetchall()],
                "top_unanswered": [r[0] for r in db.execute(
                    "SELECT question FROM answers WHERE status = 'no_answer' AND question != '(empty)' "
                    "GROUP BY lower(question) ORDER BY count(*) DESC, max(id) DESC LIMIT 200").fetchall()],
                "levels": db.execute("SELECT level_id, count(*) FROM answers WHERE level_id IS NOT NULL "
                                     "GROUP BY level_id ORDER BY count(*) DESC LIMIT 10").fetchall(),
                "readiness": db.execute(
                    "SELECT target_level, sum(readiness < 50), sum(readiness >= 50 AND readiness < 80), "
                    "sum(readiness >= 80), count(*) FROM gap_checks WHERE state = 'done' "
                    "GROUP BY target_level ORDER BY count(*) DESC").fetchall(),
            }

    def share_check(self, check_id: int, lead_id: str) -> bool:
        """Share a finished check with a lead; False (nothing changed) when it already is shared with them."""
        with self.immediate() as db:
            row = db.execute("SELECT shared_with FROM gap_checks WHERE id = ?", [check_id]).fetchone()
            if row and row[0] == lead_id:
                return False
            stamp = now()
            db["gap_checks"].update(check_id, {"shared_with": lead_id, "shared_at": stamp, "updated_at": stamp})
            return True

    def return_pending_reviews(self, lead_id: str) -> list[dict]:
        """Checks shared with ``lead_id`` and not reviewed yet go back to their people (no longer shared);
        returns them."""
        with self.immediate() as db:
            rows = list(db.query("SELECT * FROM gap_checks WHERE shared_with = ? AND state = 'done' "
                                 "AND reviewed_at IS NULL", [lead_id]))
            for row in rows:
                db["gap_checks"].update(row["id"], {"shared_with": None, "shared_at": None, "updated_at": now()})
            return rows

    def save_review(self, check_id: int, lead_id: str, ratings: dict[str, str]) -> str | None:
        """Store a lead's review once. None when saved; the first review's time when the check was already
        reviewed (then nothing changes: a second Confirm never replaces the lead's first adjustments)."""
        with self.immediate() as db:
            row = db.execute("SELECT reviewed_at FROM gap_checks WHERE id = ?", [check_id]).fetchone()
            if row and row[0]:
                return row[0]
            stamp = now()
            db["gap_reviews"].upsert_all([{"check_id": check_id, "step": k, "lead_id": lead_id, "rating": v,
                                           "reviewed_at": stamp} for k, v in ratings.items()], pk=("check_id", "step"))
            db["gap_checks"].update(check_id, {"reviewed_by": lead_id, "reviewed_at": stamp})
            return None

    def waiting_reviews(self, lead_id: str) -> list[dict]:
        """Checks shared with this lead, by people still in their team, not yet reviewed; oldest first."""
        with self.db() as db:
            return list(db.query(
                "SELECT g.* FROM gap_checks g JOIN teams t ON t.member_id = g.user_id AND t.lead_id = g.shared_with "
                "WHERE g.shared_with = ? AND g.state = 'done' AND g.reviewed_at IS NULL ORDER BY g.id", [lead_id]))

    def shared_checks(self, user_id: str, lead_id: str, limit: int = 3) -> list[dict]:
        with self.db() as db:
            return list(db["gap_checks"].rows_where("user_id = ? AND shared_with = ? AND state = 'done'",
                                                    [user_id, lead_id], order_by="id desc", limit=limit))

    def reviews(self, check_id: int) -> dict[str, str]:
        with self.db() as db:
            return {r["step"]: r["rating"] for r in db["gap_reviews"].rows_where("check_id = ?", [check_id])}

    # -- Slack agent features a workspace refused ------------------------------------------------
    def refusal(self, team_id: str, feature: str) -> dict | None:
        with self.db() as db:
            rows = list(db["agent_refusals"].rows_where("team_id = ? AND feature = ?", [team_id or "", feature]))
            return rows[0] if rows else None

    def feature_refused(self, team_id: str, feature: str, *, at: datetime | None = None) -> bool:
        """True while a refusal of ``feature`` by this workspace is fresher than :data:`AGENT_RECHECK`."""
        row = self.refusal(team_id, feature)
        if row is None:
            return False
        return datetime.fromisoformat(row["checked_at"]) + AGENT_RECHECK > (at or datetime.now(timezone.utc))

    def refuse_feature(self, team_id: str, feature: str, error: str) -> None:
        with self.immediate() as db:
            db["agent_refusals"].upsert({"team_id": team_id or "", "feature": feature, "error": error,
                                         "checked_at": now()}, pk=("team_id", "feature"))

    def allow_feature(self, team_id: str, feature: str) -> None:
        """The feature worked: forget an earlier refusal (an admin turned it on)."""
        with self.immediate() as db:
            db.execute("DELETE FROM agent_refusals WHERE team_id = ? AND feature = ?", [team_id or "", feature])

    def refusals(self) -> list[dict]:
        with self.db() as db:
            return list(db["agent_refusals"].rows)

    # -- thread conversations --------------------------------------------------------------------
    def add_turn(self, channel: str, thread_ts: str, turn: dict, *, user_id: str | None = None,
                 answer_id: int | None = None) -> None:
        """One more turn of a thread's conversation; keeps the newest :data:`THREAD_TURNS` of the thread and
        forgets threads older than :data:`THREAD_RETENTION`, in the same transaction."""
        stamp = now()
        cutoff = (datetime.now(timezone.utc) - THREAD_RETENTION).isoformat(timespec="seconds")
        with self.immediate() as db:
            db["thread_turns"].insert({
                "channel": channel, "thread_ts": thread_ts, "user_id": user_id,
                "question": turn.get("question") or "(empty)", "level_id": turn.get("level_id"),
                "track": turn.get("track"), "aspect": turn.get("aspect"),
                "level_ids": json.dumps(list(turn.get("level_ids") or ())), "answer_id": answer_id,
                "created_at": stamp,
            })
            db.execute("DELETE FROM thread_turns WHERE channel = ? AND thread_ts = ? AND id NOT IN "
                       "(SELECT id FROM thread_turns WHERE channel = ? AND thread_ts = ? ORDER BY id DESC LIMIT ?)",
                       [channel, thread_ts, channel, thread_ts, THREAD_TURNS])
            db.execute("DELETE FROM thread_turns WHERE created_at < ?", [cutoff])

    def thread_turns(self, channel: str, thread_ts: str) -> list[dict]:
        """The thread's turns, oldest first (none once it is older than :data:`THREAD_RETENTION`)."""
        cutoff = (datetime.now(timezone.utc) - THREAD_RETENTION).isoformat(timespec="seconds")
        with self.db() as db:
            rows = list(db["thread_turns"].rows_where("channel = ? AND thread_ts = ? AND created_at >= ?",
                                                      [channel, thread_ts, cutoff], order_by="id"))
        for row in rows:
            row["level_ids"] = tuple(json.loads(row["level_ids"] or "[]"))
        return rows

    # -- profiles ------------------------------------------------------------------------------
    def profile(self, user_id: str) -> dict:
        with self.db() as db:
            rows = list(db["profiles"].rows_where("user_id = ?", [user_id]))
            return rows[0] if rows else {"user_id": user_id, "current_level": None, "target_level": None}

    def set_profile(self, user_id: str, **fields: str | None) -> dict:
        with self.immediate() as db:
            row = {**self.profile(user_id), **fields, "user_id": user_id, "updated_at": now()}
            db["profiles"].upsert(row, pk="user_id")
            return row

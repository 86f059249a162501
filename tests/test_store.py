"""SQLite state: migrations, WAL, feedback that updates instead of duplicating, event de-duplication."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from bot.storage.store import CheckAlreadyOpen, Store, StoreError, migrations


def test_migrations_apply_once_and_wal_is_on(tmp_path):
    path = tmp_path / "ladder.db"
    Store(path)
    Store(path)  # second start: nothing pending, nothing fails
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = [r[0] for r in conn.execute("select name from _sqlite_migrations where migration_set = 'ladder'")]
    assert names == [m.name for m in migrations._migrations]
    tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
    assert {"answers", "feedback", "profiles", "processed_events"} <= tables


# what databases made by earlier releases have applied: a new migration goes after these, never between
RELEASED = ["m001_answers_feedback_profiles", "m002_gap_checks", "m003_roles_teams_audit", "m004_broadcast_outbox",
            "m005_gap_reviews", "m006_knowledge_versions", "m007_announce_drafts_outbox_pause",
            "m008_reviews_once_reminders", "m009_agent_threads_feedback_notes"]


def test_a_database_of_the_previous_release_upgrades_in_place(tmp_path):
    from sqlite_utils import Database

    path = tmp_path / "ladder.db"
    names = [m.name for m in migrations._migrations]
    assert names[: len(RELEASED)] == RELEASED
    db = Database(path)
    migrations.apply(db, stop_before=names[len(RELEASED)] if len(names) > len(RELEASED) else None)
    db["profiles"].insert({"user_id": "U1", "level_id": "senior-agent"}, alter=True)
    db.close()
    store = Store(path)                                   # the new release starts on it
    conn = sqlite3.connect(path)
    assert [r[0] for r in conn.execute("select name from _sqlite_migrations where migration_set = 'ladder'")] == names
    assert conn.execute("select level_id from profiles where user_id = 'U1'").fetchone() == ("senior-agent",)
    assert store.health() is None                         # and can save


def test_second_vote_updates_the_same_row(tmp_path):
    store = Store(tmp_path / "ladder.db")
    aid = store.record_answer("U1", "D1", "what do I need for L3?", "answered", "senior-agent", "*L3*…", "v1")
    store.vote(aid, "U1", 1)
    store.vote(aid, "U1", -1)
    store.vote(aid, "U2", 1)
    rows = sorted(store.feedback(), key=lambda r: r["user_id"])
    assert [(r["user_id"], r["vote"]) for r in rows] == [("U1", -1), ("U2", 1)]
    assert rows[0]["question"] == "what do I need for L3?" and rows[0]["answer"] == "*L3*…"
    assert store.vote(999, "U1", 1) is None and len(store.feedback()) == 2


def test_an_event_is_claimed_once_even_concurrently(tmp_path):
    store = Store(tmp_path / "ladder.db")
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(store.claim_event("Ev1"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert store.claim_event(None) is True  # no id (e.g. console): always handled


def test_profiles(tmp_path):
    store = Store(tmp_path / "ladder.db")
    assert store.profile("U1")["current_level"] is None
    store.set_profile("U1", current_level="agent")
    store.set_profile("U1", target_level="senior-agent")
    p = store.profile("U1")
    assert p["current_level"] == "agent" and p["target_level"] == "senior-agent"


def test_an_in_memory_database_is_refused_with_a_reason_not_a_missing_table_later():
    with pytest.raises(StoreError, match="in-memory database is empty on every connection; give a file path"):
        Store(":memory:")


def test_a_second_open_check_for_the_same_target_names_the_open_one(tmp_path):
    store = Store(tmp_path / "ladder.db")
    row = {"user_id": "U1", "current_level": "agent", "target_level": "senior-agent", "target_title": "L3",
           "knowledge_version": "v", "plan": "[]", "state": "asking", "step": 0}
    first = store.create_check(row)
    with pytest.raises(CheckAlreadyOpen) as refused:
        store.create_check({**row, "state": "confirm"})
    assert refused.value.check_id == first
    store.apply_transition(first, "asking", 0, {"state": "cancelled"}, None)
    assert store.create_check(row) != first      # a cancelled check is not open

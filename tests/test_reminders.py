"""Reminders (issue 13): one nudge per unfinished check, a weekly one for leads, exactly once through
the outbox, never at night in the person's time zone, and off for whoever asks."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from slack_sdk import WebClient

from bot.chat import blocks as B
from bot.chat.reminders import schedule
from bot.slack.slack_sender import SlackSender
from bot.storage import outbox as O
from bot.storage.store import Store
from bot.wiring import slack_tz
from tests.slack_standin import SlackStandIn

NOON_UTC = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
PLAN = json.dumps([{"key": "experience"}, {"key": "skill-1"}, {"key": "skill-2"}])


def open_check(store, user="USAM", days_ago=8, state="asking"):
    cid = store.create_check({"user_id": user, "current_level": "experienced-agent", "target_level": "senior-agent",
                              "target_title": "L3 Senior Agent", "knowledge_version": "v", "plan": PLAN,
                              "state": state, "step": 1})
    with store.immediate() as db:
        db["gap_checks"].update(cid, {"updated_at": (NOON_UTC - timedelta(days=days_ago)).isoformat()})
    return cid


def dms(store, user):
    return O.inbox(store, user)


def test_an_unfinished_check_gets_one_nudge_with_resume_and_stop(tmp_path):
    store = Store(tmp_path / "l.db")
    cid = open_check(store)
    open_check(store, user="UNEW", days_ago=3)                  # too recent
    assert schedule(store, 7, lambda u: "Europe/London", at=NOON_UTC) == 1
    assert schedule(store, 7, lambda u: "Europe/London", at=NOON_UTC + timedelta(days=3)) == 0
    # after a restart too: only UNEW's check (now due) gets its nudge, USAM's is never repeated
    assert schedule(Store(tmp_path / "l.db"), 7, lambda u: "UTC", at=NOON_UTC + timedelta(days=30)) == 1
    [nudge] = dms(store, "USAM")
    labels = {label: (aid, value) for label, aid, value in B.option_labels(nudge["blocks"])}
    assert labels["Resume"] == (B.GAP_RESUME, f"c{cid}s1") and labels["Stop reminding me"][0] == B.REMIND_OFF
    assert "L3 Senior Agent" in nudge["text"] and len(dms(store, "UNEW")) == 1


def test_no_nudge_at_night_in_the_persons_time_zone(tmp_path):
    store = Store(tmp_path / "l.db")
    open_check(store)
    tokyo_night = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)     # 23:00 in Tokyo
    assert schedule(store, 7, lambda u: "Asia/Tokyo", at=tokyo_night) == 0
    assert store.profile("USAM")["tz"] == "Asia/Tokyo"                   # asked of Slack once, then kept
    tokyo_morning = datetime(2026, 3, 11, 1, 0, tzinfo=timezone.utc)    # 10:00 in Tokyo
    assert schedule(store, 7, lambda u: 1 / 0, at=tokyo_morning) == 1


def test_reminders_switch_off_per_person(deps):
    from bot.chat.handlers import action, command

    store = deps.store
    open_check(store)
    open_check(store, user="UOFF")
    reply = action(deps, "UOFF", B.REMIND_OFF, "off")
    assert "no more reminders" in reply.blocks[0]["text"]["text"]
    assert schedule(store, 7, lambda u: "UTC", at=NOON_UTC) == 1 and dms(store, "UOFF") == []
    assert "*off*" in command(deps, "UOFF", "remind").blocks[0]["text"]["text"]
    command(deps, "UOFF", "remind on")
    assert schedule(store, 7, lambda u: "UTC", at=NOON_UTC) == 1 and len(dms(store, "UOFF")) == 1
    assert schedule(store, 0, lambda u: "UTC", at=NOON_UTC + timedelta(days=40)) == 0   # LADDER_REMIND_DAYS=0


def test_a_lead_with_reviews_waiting_gets_one_a_week(tmp_path):
    store = Store(tmp_path / "l.db")
    store.join_team("ULEE", "USAM", "ULEE", allow_move=True)
    cid = open_check(store, state="done")
    with store.immediate() as db:
        db["gap_checks"].update(cid, {"shared_with": "ULEE", "shared_at": (NOON_UTC - timedelta(days=3)).isoformat(),
                                      "readiness": 60})
    tz = lambda u: "UTC"  # noqa: E731
    assert schedule(store, 7, tz, at=NOON_UTC) == 1
    assert schedule(store, 7, tz, at=NOON_UTC + timedelta(days=1)) == 0
    assert schedule(store, 7, tz, at=NOON_UTC + timedelta(days=7, hours=1)) == 1
    [first, second] = dms(store, "ULEE")
    assert "1 gap check is waiting for your review" in json.dumps(first["blocks"])
    assert (B.GAP_OPEN_REVIEW, str(cid)) in [(a, v) for _, a, v in B.option_labels(first["blocks"])]
    store.save_review(cid, "ULEE", {})
    assert schedule(store, 7, tz, at=NOON_UTC + timedelta(days=30)) == 0   # reviewed: nothing waits


def test_reminders_go_out_once_over_slack_with_the_time_zone_from_users_info(tmp_path):
    store = Store(tmp_path / "l.db")
    open_check(store)
    with SlackStandIn() as slack:
        slack.users["USAM"] = {"tz": "America/New_York"}
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        at = datetime(2026, 3, 10, 3, 0, tzinfo=timezone.utc)           # 23:00 in New York
        assert schedule(store, 7, slack_tz(client), at=at) == 0
        assert schedule(store, 7, slack_tz(client), at=at + timedelta(hours=11)) == 1   # 10:00 there
        for _ in range(2):   # a second worker run, or a restart, sends nothing again
            O.drain(store, SlackSender(client), until_empty=False)
            schedule(store, 7, slack_tz(client), at=at + timedelta(hours=12))
        posts = [c for c in slack.calls("chat.postMessage") if c.ok]
        assert len(posts) == 1 and "is waiting where you left it" in json.dumps(posts[0].args)
        assert len(slack.calls("users.info")) == 1

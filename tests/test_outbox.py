"""Broadcasts: written with their outbox in one transaction, delivered exactly once through crashes and 429s."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot import outbox as O
from bot.slack_sender import SlackSender
from bot.store import Store
from tests.conftest import ROOT
from tests.slack_standin import SlackStandIn

MSG = ("Ladder: Senior Agent changed", [{"type": "section", "text": {"type": "mrkdwn", "text": "*Career ladder update*"}}])


def broadcast(store, n, channel="C0ANNOUNCE"):
    people = [f"U{i:06d}" for i in range(n)]
    return O.create_broadcast(store, "UHR", channel=channel, channel_message=MSG, dm_recipients=people,
                              dm_message=MSG, level_id="senior-agent"), people


def client(slack):
    return WebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=0)])


def delivered(slack, people):
    counts = {}
    for p in people:
        dm = slack.dm_channel(p)
        counts[p] = sum(1 for m in slack.messages(dm) if any(b.get("block_id", "").startswith("outbox-") for b in m.get("blocks", [])))
    return counts


def test_broadcast_and_outbox_rows_are_written_together(tmp_path):
    store = Store(tmp_path / "l.db")
    bid, people = broadcast(store, 5)
    assert O.summary(store) == {"pending": 6}
    with store.db() as db:
        assert {r["broadcast_id"] for r in db["outbox"].rows} == {bid}


def test_recipients_are_people_whose_checks_target_the_level(tmp_path):
    store = Store(tmp_path / "l.db")
    base = {"current_level": "agent", "target_title": "L3", "knowledge_version": "v", "plan": "[]", "step": 0}
    store.create_check({**base, "user_id": "UOPEN", "target_level": "senior-agent", "state": "asking"})
    done = store.create_check({**base, "user_id": "UDONE", "target_level": "senior-agent", "state": "asking"})
    store.apply_transition(done, "asking", 0, {"state": "done", "finished_at": O.now()}, None)
    old = store.create_check({**base, "user_id": "UOLD", "target_level": "senior-agent", "state": "asking"})
    store.apply_transition(old, "asking", 0, {"state": "done", "finished_at": "2020-01-01T00:00:00+00:00"}, None)
    store.create_check({**base, "user_id": "UOTHER", "target_level": "team-lead", "state": "asking"})
    assert O.recipients_for_level(store, "senior-agent") == ["UDONE", "UOPEN"]


def test_each_recipient_exactly_once_with_429s_and_a_crash_after_sending(tmp_path):
    store = Store(tmp_path / "l.db")
    _, people = broadcast(store, 40)
    with SlackStandIn() as slack:
        slack.fail("chat.postMessage", status=429, retry_after=1, times=2)
        sender = SlackSender(client(slack))

        class CrashAfterSend:
            """Slack accepts message #20, then the worker dies before marking it sent."""
            def __init__(self):
                self.n = 0

            def open(self, r, k):
                return sender.open(r, k)

            def find(self, c, m):
                return sender.find(c, m)

            def send(self, channel, text, blocks):
                ts = sender.send(channel, text, blocks)
                self.n += 1
                if self.n == 20:
                    raise KeyboardInterrupt("worker killed")
                return ts

        with pytest.raises(KeyboardInterrupt):
            O.drain(store, CrashAfterSend())
        with store.db() as db:  # the dead worker's claim: pretend it was another process that is gone
            db.execute("UPDATE outbox SET claimed_by = 'elsewhere:1', updated_at = '2000-01-01T00:00:00+00:00' "
                       "WHERE status = 'sending'")
        result = O.drain(store, sender)
        assert result.recovered == 1
        assert set(delivered(slack, people).values()) == {1}
        assert sum(1 for m in slack.messages("C0ANNOUNCE")) == 1
        assert O.summary(store) == {"sent": 41}
        assert len([c for c in slack.calls("chat.postMessage") if c.status == 429]) == 2  # went back, sent later


def test_permanent_errors_fail_one_recipient_only(tmp_path):
    store = Store(tmp_path / "l.db")
    _, people = broadcast(store, 3, channel=None)
    with SlackStandIn() as slack:
        slack.users[people[1]] = None  # deactivated / unknown user
        O.drain(store, SlackSender(client(slack)))
        assert O.summary(store) == {"sent": 2, "failed": 1}


@pytest.mark.slow
def test_thousand_recipients_sigkill_halfway_then_restart(tmp_path):
    db = tmp_path / "l.db"
    store = Store(db)
    _, people = broadcast(store, 1000)
    with SlackStandIn() as slack:
        for _ in range(5):
            slack.fail("chat.postMessage", status=429, retry_after=1, times=1)
            slack.fail("conversations.open", status=429, retry_after=1, times=1)
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack.api_url, "LADDER_DB": str(db),
               "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "bot", "outbox", "--drain"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while time.time() < deadline and O.summary(store).get("sent", 0) < 400:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        half = O.summary(store).get("sent", 0)
        assert 0 < half < 1001
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "1001 sent" in proc.stdout
        counts = delivered(slack, people)
        assert len(counts) == 1000 and set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}

"""Broadcasts: written with their outbox in one transaction, delivered exactly once through crashes and 429s."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.chat import blocks as B
from bot.chat.handlers import Deps, action, command
from bot.core.config import Settings
from bot.core.knowledge import load_knowledge
from bot.slack.slack_sender import SlackSender
from bot.storage import outbox as O
from bot.storage.store import Store
from tests.conftest import KNOWLEDGE, ROOT
from tests.slack_standin import BUTTON_VALUE_MAX, SlackStandIn, validate_blocks

MSG = ("Ladder: Senior Agent changed", [{"type": "section", "text": {"type": "mrkdwn", "text": "*Career ladder update*"}}])


def broadcast(store, n, channel="C0ANNOUNCE"):
    """A broadcast to ``n`` people and the channel, stored with all its outbox rows in one transaction."""
    people = [f"U{i:06d}" for i in range(n)]
    with store.immediate() as db:
        return O.insert_broadcast(db, "UHR", channel=channel, channel_message=MSG, dm_recipients=people,
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


def early_calls(calls, retry_after: float) -> list[str]:
    """Calls that came after a 429 of their method but before its Retry-After (``retry_after``) had passed."""
    early = []
    for limited in (c for c in calls if c.status == 429):
        for c in calls:
            if c.method == limited.method and limited.at < c.at < limited.at + retry_after:
                early.append(f"{c.method} {c.status} at +{c.at - limited.at:.3f}s after a 429")
    return early


def drops(slack) -> list:
    return [c for c in slack.calls() if c.status == 429]


# -- A: Retry-After ------------------------------------------------------------------------------------

def test_a_429_pauses_the_whole_drain_until_retry_after_has_passed(tmp_path):
    store = Store(tmp_path / "l.db")
    broadcast(store, 4, channel=None)
    with SlackStandIn() as slack:
        slack.fail_on("chat.postMessage", [1, 3], status=429, retry_after=1)
        slack.fail_on("conversations.open", [3], status=429, retry_after=1)
        O.drain(store, SlackSender(client(slack)))
        assert len(drops(slack)) == 3
        # no call to a rate-limited method (nor any other: the drain pauses) before Retry-After
        assert early_calls(slack.calls(), 1.0) == []
        assert O.summary(store) == {"sent": 4}
        assert set(delivered(slack, [f"U{i:06d}" for i in range(4)]).values()) == {1}


def test_rate_limits_never_make_a_row_fail(tmp_path, monkeypatch):
    monkeypatch.setattr(O, "MAX_ATTEMPTS", 2)
    store = Store(tmp_path / "l.db")
    _, people = broadcast(store, 1, channel=None)
    with SlackStandIn() as slack:
        slack.fail("chat.postMessage", status=429, retry_after=1, times=3)  # a rate limit longer than 2 tries
        result = O.drain(store, SlackSender(client(slack)))
        assert O.summary(store) == {"sent": 1} and result.failed == 0
        assert delivered(slack, people) == {people[0]: 1}
        with store.db() as db:
            assert [r["attempts"] for r in db["outbox"].rows] == [1]  # the 429s did not count


def test_not_before_keeps_sub_second_precision(tmp_path):
    store = Store(tmp_path / "l.db")
    broadcast(store, 1, channel=None)

    class Limited:
        def open(self, r, k):
            return "D1"

        def find(self, c, m):
            return None

        def send(self, c, t, b):
            raise O.RetryLater(1.5, rate_limited=True)

    O.drain(store, Limited(), stop=iter([False, True]).__next__)
    with store.db() as db:
        [row] = list(db["outbox"].rows)
        [until] = [r["until"] for r in db["outbox_pause"].rows]
    from datetime import datetime
    left = (datetime.fromisoformat(row["not_before"]) - datetime.fromisoformat(row["updated_at"])).total_seconds()
    assert row["status"] == "pending" and left >= 1.0 and "." in row["not_before"] and "." in until


# -- B: claims by a previous process with our pid ---------------------------------------------------

@pytest.mark.parametrize("claim", ["{host}:{pid}", "{host}:{pid}:0123456789abcdef"])
def test_a_claim_by_an_earlier_process_with_our_pid_is_recovered(tmp_path, claim):
    """A restarted container runs as pid 1 again: the old claim is not this process's."""
    store = Store(tmp_path / "l.db")
    _, people = broadcast(store, 2, channel=None)
    with store.db() as db:
        db.execute("UPDATE outbox SET status = 'sending', attempts = 1, claimed_by = ?, updated_at = ? WHERE id = 1",
                   [claim.format(host=socket.gethostname(), pid=os.getpid()), O.now()])
        # a claim this process holds right now (another thread in flight) is left alone
        db.execute("UPDATE outbox SET status = 'sending', attempts = 1, claimed_by = ?, updated_at = ? WHERE id = 2",
                   [O.claim_token(), O.now()])
    with SlackStandIn() as slack:
        O.drain(store, SlackSender(client(slack)))
        assert O.summary(store) == {"sent": 1, "sending": 1}
        assert delivered(slack, people) == {people[0]: 1, people[1]: 0}


# -- C: Slack errors while recovering ------------------------------------------------------------------

@pytest.mark.parametrize("method,status", [("conversations.history", 429), ("conversations.open", 429),
                                           ("conversations.history", 500)])
def test_slack_errors_during_recovery_are_handled_like_any_other(tmp_path, method, status):
    store = Store(tmp_path / "l.db")
    _, people = broadcast(store, 1, channel=None)
    with store.db() as db:
        db.execute("UPDATE outbox SET status = 'sending', attempts = 1, claimed_by = 'elsewhere:1', "
                   "updated_at = '2000-01-01T00:00:00+00:00'")
    with SlackStandIn() as slack:
        slack.fail(method, status=status, retry_after=1)
        O.drain(store, SlackSender(client(slack)))
        assert O.summary(store) == {"sent": 1}
        assert delivered(slack, people) == {people[0]: 1}
        # the marker was looked for (successfully) before the one post
        posts = [c.at for c in slack.calls("chat.postMessage")]
        looks = [c.at for c in slack.calls("conversations.history") if c.ok]
        assert len(posts) == 1 and looks and looks[0] < posts[0]


# -- D: an answer lost after Slack posted ----------------------------------------------------------------

@pytest.mark.parametrize("status", [500, 503, 0])  # 0: the connection drops without an answer
def test_a_post_whose_answer_is_lost_is_checked_not_re_sent(tmp_path, status):
    """The app's client retries 5xx and dropped connections: the outbox's sender must not re-post blindly."""
    from bot.slack.app import web_client

    store = Store(tmp_path / "l.db")
    _, people = broadcast(store, 3)
    with SlackStandIn() as slack:
        slack.fail("chat.postMessage", status=status, after=True, times=2)  # Slack posted, then the answer failed
        settings = Settings(slack_bot_token="xoxb-test", slack_api_url=slack.api_url, db_path=tmp_path / "l.db")
        result = O.drain(store, SlackSender(web_client(settings)))
        assert set(delivered(slack, people).values()) == {1}
        assert len(slack.messages("C0ANNOUNCE")) == 1
        assert O.summary(store) == {"sent": 4} and result.recovered == 2
        assert len(slack.calls("chat.postMessage")) == 4  # no blind re-post


def test_stand_in_can_post_then_answer_500():
    with SlackStandIn() as slack:
        slack.fail("chat.postMessage", status=500, after=True)
        c = WebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])
        with pytest.raises(Exception):
            c.chat_postMessage(channel="C0ANNOUNCE", text="hi")
        assert [m["text"] for m in slack.messages("C0ANNOUNCE")] == ["hi"]
        assert slack.calls("chat.postMessage")[0].status == 500


# -- E / F: the announce button ------------------------------------------------------------------------

@pytest.fixture
def hr_deps(tmp_path):
    settings = Settings(db_path=tmp_path / "l.db", admins=("UADMIN",), announce_channel="C0ANNOUNCE",
                        knowledge_dir=KNOWLEDGE, index_dir=tmp_path / "index")
    d = Deps(settings=settings, advisor=SimpleNamespace(kb=load_knowledge(KNOWLEDGE)), store=Store(settings.db_path))
    base = {"current_level": "experienced-agent", "target_title": "L3", "knowledge_version": "v", "plan": "[]",
            "step": 0, "state": "asking", "target_level": "senior-agent"}
    for user in ("UA1", "UA2"):
        d.store.create_check({**base, "user_id": user})
    return d


def send_button(reply):
    [(label, aid, value)] = B.option_labels(reply.blocks)
    assert label == "Send" and aid == B.ANNOUNCE_SEND
    return aid, value


def test_a_second_click_on_send_sends_nothing_again(hr_deps):
    aid, value = send_button(command(hr_deps, "UADMIN", "announce senior agent: hi"))
    first = action(hr_deps, "UADMIN", aid, value)
    second = action(hr_deps, "UADMIN", aid, value)
    assert "queued: " in str(first.blocks)
    assert "already sent" in str(second.blocks)
    assert O.summary(hr_deps.store) == {"pending": 3}
    with hr_deps.store.db() as db:
        assert db["broadcasts"].count == 1


def test_simultaneous_clicks_make_one_broadcast(hr_deps):
    aid, value = send_button(command(hr_deps, "UADMIN", "announce senior agent: hi"))
    go = threading.Barrier(4)
    replies = []

    def click():
        go.wait()
        replies.append(action(hr_deps, "UADMIN", aid, value))

    threads = [threading.Thread(target=click) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sum("queued: " in str(r.blocks) for r in replies) == 1
    with hr_deps.store.db() as db:
        assert db["broadcasts"].count == 1 and db["outbox"].count == 3


def test_a_long_non_ascii_announcement_fits_the_button(hr_deps):
    message = "Ärger über Öffnungszeiten — 新しいKPI基準 " * 36
    assert 1000 < len(message) <= 1500
    preview = command(hr_deps, "UADMIN", f"announce senior agent: {message}")
    aid, value = send_button(preview)
    assert len(value) <= BUTTON_VALUE_MAX and validate_blocks(preview.blocks) == []
    assert "queued: " in str(action(hr_deps, "UADMIN", aid, value).blocks)
    with hr_deps.store.db() as db:
        assert message.strip() in db["broadcasts"].get(1)["note"]


def test_an_old_or_forged_button_value_sends_nothing(hr_deps):
    for value in ('{"l": null, "m": "hi"}', "999", "", "9" * 30, "²"):
        assert "no longer works" in str(action(hr_deps, "UADMIN", B.ANNOUNCE_SEND, value).blocks)
    assert O.summary(hr_deps.store) == {}


def test_the_notification_text_is_escaped(hr_deps):
    aid, value = send_button(command(hr_deps, "UADMIN", "announce senior agent: hi <!channel> & <@U1>"))
    action(hr_deps, "UADMIN", aid, value)
    with hr_deps.store.db() as db:
        texts = {r["text"] for r in db["outbox"].rows}
    assert texts == {"Ladder: hi &lt;!channel&gt; &amp; &lt;@U1&gt;"}


# -- G: an edit's announcement waits for its version to be live ----------------------------------------

class Recording:
    def __init__(self):
        self.sent = []

    def open(self, r, k):
        return f"D-{r}"

    def find(self, c, m):
        return None

    def send(self, channel, text, blocks):
        self.sent.append(channel)
        return "1.0"


def edit_with_announcement(deps, monkeypatch, reindex):
    from bot.chat.edits import apply_edit

    monkeypatch.setattr(deps, "reindex", lambda kb, live: reindex(kb, deps.settings, live), raising=False)
    level = deps.kb.level("senior-agent")
    data = level.model_dump(mode="json", exclude={"track"})
    data["responsibilities"] = [*data["responsibilities"], "Coaches new joiners"]
    return apply_edit(deps, "UADMIN", "senior-agent", data, "coaching added", "Senior Agent changes today.")


def test_an_edits_broadcast_is_not_delivered_before_the_version_is_live(hr_deps, monkeypatch):
    worker = Recording()
    during = {}

    def reindex(kb, settings, live):
        during["result"] = O.drain(hr_deps.store, worker)  # the outbox worker runs during the re-index
        during["summary"] = O.summary(hr_deps.store)
        return SimpleNamespace(kb=kb, index=None)

    hr_deps.advisor = SimpleNamespace(kb=hr_deps.kb, index=None)
    edit_with_announcement(hr_deps, monkeypatch, reindex)
    assert worker.sent == [] and during["summary"] == {"held": 3}
    assert O.summary(hr_deps.store) == {"pending": 3}  # live now: released
    O.drain(hr_deps.store, worker)
    assert len(worker.sent) == 3


def test_a_failed_reindex_sends_no_announcement(hr_deps, monkeypatch):
    def reindex(kb, settings, live):
        raise RuntimeError("index build failed")

    hr_deps.advisor = SimpleNamespace(kb=hr_deps.kb, index=None)
    with pytest.raises(RuntimeError):
        edit_with_announcement(hr_deps, monkeypatch, reindex)
    worker = Recording()
    O.drain(hr_deps.store, worker)
    assert worker.sent == [] and O.summary(hr_deps.store) == {"held": 3}
    with hr_deps.store.db() as db:
        version = db["broadcasts"].get(1)["knowledge_version"]
    assert O.release(hr_deps.store, knowledge_version="some-other-version") == 0
    assert O.release(hr_deps.store, knowledge_version=version) == 3  # what start-up does once it is live


# -- H: 1,000 recipients, 429s throughout, SIGKILL between Slack's accept and the mark -------------------

CHILD = """
import os, signal, sys
from bot import cli
from bot.slack import slack_sender
kill_at, accepted = int(os.environ["KILL_AT_POST"]), [0]
send = slack_sender.SlackSender.send
def send_then_die(self, channel, text, blocks):
    ts = send(self, channel, text, blocks)
    accepted[0] += 1
    if accepted[0] == kill_at:   # Slack has the message; the row is not marked sent yet
        os.kill(os.getpid(), signal.SIGKILL)
    return ts
slack_sender.SlackSender.send = send_then_die
sys.exit(cli.main(["outbox", "--drain"]))
"""


@pytest.fixture
def fast_dir(tmp_path):
    """A tmpfs directory when there is one: the same SQLite, minus ~15 ms of fsync per commit."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="ladder-outbox-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
def test_thousand_recipients_sigkill_halfway_then_restart(fast_dir):
    db = fast_dir / "l.db"
    store = Store(db)
    _, people = broadcast(store, 1000)
    with SlackStandIn() as slack:
        slack.fail_on("chat.postMessage", [120, 380, 620, 880], status=429, retry_after=1)
        slack.fail_on("conversations.open", [250, 750], status=429, retry_after=1)
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack.api_url, "LADDER_DB": str(db),
               "PYTHONPATH": str(ROOT), "KILL_AT_POST": "500"}
        killed = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120)
        assert killed.returncode == -9, killed.stderr[-2000:]
        at_kill = O.summary(store)
        assert at_kill == {"sent": 499, "sending": 1, "pending": 501}, at_kill  # killed inside the window
        with store.db() as conn:
            [window] = list(conn["outbox"].rows_where("status = 'sending'"))
        assert any(b.get("block_id") == O.marker(window["id"])
                   for m in slack.messages(window["channel_id"] or slack.dm_channel(window["recipient"]))
                   for b in m.get("blocks", []))  # Slack has it
        slack.fail("conversations.history", status=429, retry_after=1)  # and the restart's check is rate-limited

        restart = subprocess.run([sys.executable, "-m", "bot", "outbox", "--drain"], env=env, capture_output=True,
                                 text=True, timeout=120)
        assert restart.returncode == 0, restart.stderr[-2000:]
        assert "drained: 501 sent, 1 recovered" in restart.stdout, restart.stdout
        assert O.summary(store) == {"sent": 1001}
        counts = delivered(slack, people)
        assert len(counts) == 1000 and set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
        assert len(slack.messages("C0ANNOUNCE")) == 1
        posts = slack.calls("chat.postMessage")
        assert sum(c.ok for c in posts) == 1001  # nobody got a second post, even the one in the window
        # the 429s came throughout the run, and nothing called their method again before Retry-After
        limited = [(c.method, i + 1) for i, c in enumerate(slack.calls()) if c.status == 429]
        assert [m for m, _ in limited].count("chat.postMessage") == 4
        assert [m for m, _ in limited].count("conversations.open") == 2
        assert [m for m, _ in limited].count("conversations.history") == 1
        assert early_calls(slack.calls(), 1.0) == []

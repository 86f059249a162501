"""The gap check end to end: the real server process over signed HTTP, killed with SIGKILL mid-walk."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from bot.storage.store import Store
from tests import slack_requests as R
from tests.conftest import ROOT
from tests.servers import jobs_settle
from tests.slack_standin import SlackStandIn

SECRET = "gap-e2e-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, slack, index_dir, db):
        self.port = free_port()
        self.env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
                    "SLACK_API_URL": slack.api_url, "LADDER_INDEX_DIR": str(index_dir), "LADDER_DB": str(db),
                    "PYTHONPATH": str(ROOT)}
        self.env.pop("SLACK_APP_TOKEN", None)
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/slack/events"

    def start(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--http", "--port", str(self.port)],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("server did not start: " + self.proc.stderr.read().decode()[-2000:])

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def buttons(blocks):
    return {el["text"]["text"]: (el["action_id"], el.get("value", ""))
            for b in blocks if b["type"] == "actions" for el in b["elements"] if el["type"] == "button"}


def last_dm_blocks(slack, dm):
    return slack.messages(dm)[-1]["blocks"]


def click(slack, server, blocks, label, dm, state=None):
    aid, value = buttons(blocks)[label]
    url = slack.new_response_url(channel=dm)
    before = len(slack.responses)
    status, _, _ = R.post(server.url, R.block_actions(aid, value, user_id="U1", channel_id=dm, response_url=url,
                                                      state=state), secret=SECRET)
    assert status == 200
    deadline = time.time() + 10
    while len(slack.responses) == before and time.time() < deadline:
        time.sleep(0.02)
    assert len(slack.responses) > before, "no reply to the click"
    return slack.responses[-1]


def body(resp):
    return resp["body"] if isinstance(resp, dict) and "body" in resp else getattr(resp, "body", resp)


def resp_blocks(resp):
    payload = body(resp)
    if isinstance(payload, (bytes, str)):
        payload = json.loads(payload)
    return payload["blocks"]


@pytest.mark.slow
def test_walk_survives_sigkill_and_resumes_with_no_answer_lost(built_index, tmp_path):
    db = tmp_path / "gap.db"
    with SlackStandIn() as slack:
        server = Server(slack, built_index, db)
        server.start()
        try:
            status, _, _ = R.post(server.url, R.slash_command("gap", user_id="U1", channel_id="C1",
                                                              response_url=slack.new_response_url()), secret=SECRET)
            assert status == 200
            [post] = slack.wait_for("chat.postMessage", timeout=10)
            dm = post.args["channel"]
            assert dm.startswith("D") and "Start" in buttons(post.args["blocks"])
            state = {"values": {"gap_current": {"ladder_gap_current": {
                "type": "static_select", "selected_option": {"value": "experienced-agent"}}}}}
            r = click(slack, server, post.args["blocks"], "Start", dm, state=state)
            r = click(slack, server, resp_blocks(r), "1½ years or more", dm)
            r = click(slack, server, resp_blocks(r), "Partly", dm)
            r = click(slack, server, resp_blocks(r), "Yes, consistently", dm)
            assert "question 4 of 8" in json.dumps(resp_blocks(r))
            server.kill9()

            server.start()  # a new process on the same database
            slack.reset()
            R.post(server.url, R.slash_command("gap", user_id="U1", channel_id="C1",
                                               response_url=slack.new_response_url()), secret=SECRET)
            # a click killed after its reply was sent but before its job was marked done is redone, late: that
            # may come first, and must not record a second answer
            [post] = slack.wait_for("chat.postMessage", lambda c: "unfinished check" in json.dumps(c.args["blocks"]),
                                    timeout=10)
            assert "unfinished check for *L3 Senior Agent* (3/8 answered)" in json.dumps(post.args["blocks"])
            for other in slack.calls("chat.postMessage"):
                assert other is post or "restarted while working on this" in json.dumps(other.args["blocks"])
            r = click(slack, server, post.args["blocks"], "Resume", dm)
            assert "question 4 of 8" in json.dumps(resp_blocks(r))
            for label in ("Yes, consistently", "Not yet", "Yes, consistently", "Partly"):
                r = click(slack, server, resp_blocks(r), label, dm)
            value = {"values": {"gap_value": {"ladder_gap_value": {"type": "plain_text_input", "value": "106"}}}}
            r = click(slack, server, resp_blocks(r), "Submit my figure", dm, state=value)
            assert "finished" in json.dumps(resp_blocks(r))
            slack.wait_for("files.completeUploadExternal", timeout=15)
            report = [c for c in slack.calls("chat.postMessage") if "readiness" in json.dumps(c.args.get("blocks", ""))]
            assert report
        finally:
            server.stop()
    store = Store(db)
    [check] = store.checks("U1")
    answers = {a["step"]: a["rating"] for a in store.check_answers(check["id"])}
    assert answers == {"experience": "yes", "skill-1": "partly", "skill-2": "yes", "skill-3": "yes", "skill-4": "no",
                       "skill-5": "yes", "skill-6": "partly", "skill-7": "yes"}
    assert check["state"] == "done" and check["readiness"] == round(100 * (5 + 0.5 + 0.5) / 8)
    assert f"readiness *{check['readiness']}%*" in json.dumps(report[-1].args["blocks"])


def start_check(slack, server):
    """/ladder gap over HTTP, then Start with the current level chosen: the first question's response."""
    status, _, _ = R.post(server.url, R.slash_command("gap", user_id="U1", channel_id="C1",
                                                      response_url=slack.new_response_url()), secret=SECRET)
    assert status == 200
    [post] = slack.wait_for("chat.postMessage", timeout=10)
    dm = post.args["channel"]
    state = {"values": {"gap_current": {"ladder_gap_current": {
        "type": "static_select", "selected_option": {"value": "experienced-agent"}}}}}
    return click(slack, server, post.args["blocks"], "Start", dm, state=state), dm



def double_click(slack, server, blocks, label, dm, n=2):
    """n signed block_actions for the same button, sent at once: the response bodies (as text). Sent once the
    earlier clicks' jobs are done, as a person's next click comes after they have read the reply: a job still
    finishing after its reply was posted counts toward the person's limit (deliver.PER_PERSON)."""
    aid, value = buttons(blocks)[label]
    assert jobs_settle(server.env["LADDER_DB"], timeout=10), "the server's jobs did not finish"
    before = len(slack.responses)
    requests = [R.block_actions(aid, value, user_id="U1", channel_id=dm,
                                response_url=slack.new_response_url(channel=dm)) for _ in range(n)]
    barrier = threading.Barrier(n)
    statuses = []

    def send(req):
        barrier.wait()
        statuses.append(R.post(server.url, req, secret=SECRET)[0])

    threads = [threading.Thread(target=send, args=(req,)) for req in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * n
    deadline = time.time() + 15
    while len(slack.responses) < before + n and time.time() < deadline:
        time.sleep(0.02)
    responses = slack.responses[before:]
    assert len(responses) == n, [r.summary() for r in responses]
    return [json.dumps(resp_blocks(r), ensure_ascii=False) for r in responses], responses


ALREADY = "That question was already answered"


@pytest.mark.slow
def test_two_signed_clicks_of_one_button_at_once_store_one_answer(built_index, tmp_path):
    """Every answer of a walk clicked twice at once over HTTP: each advances the check once, the other click
    is told it was already answered; the last makes one report."""
    db = tmp_path / "gap.db"
    labels = ("1½ years or more", "Partly", "Yes, consistently", "Not yet", "Yes, consistently", "Yes, consistently",
              "Partly")
    with SlackStandIn() as slack:
        server = Server(slack, built_index, db)
        server.start()
        try:
            r, dm = start_check(slack, server)
            blocks = resp_blocks(r)
            for n, label in enumerate(labels, start=2):
                texts, responses = double_click(slack, server, blocks, label, dm)
                assert all(f"question {n} of 8" in t for t in texts), texts
                fresh = [i for i, t in enumerate(texts) if ALREADY not in t]
                assert len(fresh) == 1, (label, texts)  # one click moved the check, the other changed nothing
                blocks = resp_blocks(responses[fresh[0]])
            texts, _ = double_click(slack, server, blocks, "Yes, consistently", dm)
            assert sum("is finished — your report is below" in t for t in texts) == 1, texts
            assert sum("This gap check is finished" in t for t in texts) == 1, texts
            slack.wait_for("files.completeUploadExternal", timeout=15)
            time.sleep(1.0)  # room for a second report, were there one
            reports = [c for c in slack.calls("chat.postMessage") if "readiness" in json.dumps(c.args.get("blocks", ""))]
            assert len(reports) == 1
            assert len(slack.calls("files.completeUploadExternal")) == 1
        finally:
            server.stop()
    store = Store(db)
    [check] = store.checks("U1")
    answers = {a["step"]: a["rating"] for a in store.check_answers(check["id"])}
    assert check["state"] == "done"
    assert answers == {"experience": "yes", "skill-1": "partly", "skill-2": "yes", "skill-3": "no", "skill-4": "yes",
                       "skill-5": "yes", "skill-6": "partly", "skill-7": "yes"}

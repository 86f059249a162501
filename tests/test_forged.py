"""Forged and malformed requests against both real servers (``serve --http`` and gunicorn).

A request whose signature cannot be verified for any reason gets 401 and nothing runs: the Slack
stand-in records no call at all and the database gains no row. A signed request that is not a
payload Ladder can read gets 400 (200 for an event: Slack retries anything else), also with no
effect and no traceback in the server's log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import pytest

from bot.chat import blocks as B
from tests import slack_requests as R
from tests.conftest import KNOWLEDGE
from tests.servers import KINDS, LadderServer, row_counts, server_env
from tests.slack_standin import SlackStandIn

pytestmark = pytest.mark.slow

SECRET = "forged-test-secret"


@pytest.fixture(scope="module", params=KINDS)
def server(request, built_index, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"forged-{request.param}")
    with SlackStandIn() as slack:
        env = server_env(slack_api_url=slack.api_url, secret=SECRET, index_dir=built_index, db=tmp / "ladder.db",
                         knowledge_dir=KNOWLEDGE)
        with LadderServer(request.param, env, tmp / "server.log") as srv:
            srv.slack, srv.db = slack, tmp / "ladder.db"
            yield srv


@pytest.fixture
def ladder(server):
    """The server with a clean stand-in; after the test: no Slack call, no new row, no traceback."""
    server.slack.reset()
    rows, log_len = row_counts(server.db), len(server.log())
    yield server
    time.sleep(1.0)   # time for anything a request wrongly started to reach Slack or the database
    calls = [c.summary() for c in server.slack.calls()]
    new_log = server.log()[log_len:]
    assert calls == [], f"Slack calls after refused requests: {calls}"
    assert row_counts(server.db) == rows
    assert "Traceback" not in new_log, new_log


def signature(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    base = b"v0:" + timestamp.encode("latin-1") + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def kinds_of_request(slack: SlackStandIn) -> dict[str, R.SlackRequest]:
    """One of everything Ladder acts on; each would make Ladder post somewhere if it ran."""
    dm = slack.dm_channel("U1")
    return {
        "slash command": R.slash_command("what do I need for senior agent?",
                                         response_url=slack.new_response_url(channel="C1", user="U1")),
        "DM": R.event_callback(R.message_im("what do I need for senior agent?", channel=dm)),
        "mention in a channel": R.event_callback(R.app_mention("what do I need for senior agent?", channel="C1")),
        "button": R.block_actions(B.VOTE_UP, "1", channel_id=dm, response_url=slack.new_response_url(channel=dm)),
        "form": R.view_submission(B.EDIT_CALLBACK, {"b": {"a": "x"}}),
        "url verification": R.url_verification("challenge-me"),
    }


NOW = lambda: str(int(time.time()))  # noqa: E731

# how the headers are forged: (timestamp or None, signature function of (body, timestamp) or None)
FORGERIES = {
    "no headers": (None, None),
    "signature only": (None, lambda body, ts: signature(body, NOW())),
    "timestamp only": (NOW, None),
    "timestamp abc": (lambda: "abc", signature),
    "timestamp empty": (lambda: "", signature),
    "timestamp 1e9": (lambda: "1e9", signature),
    "timestamp float": (lambda: NOW() + ".5", signature),
    "timestamp with a sign": (lambda: "+" + NOW(), signature),
    "timestamp with a space": (lambda: " " + NOW(), signature),
    "timestamp negative": (lambda: "-1", signature),
    "timestamp huge": (lambda: "9" * 40, signature),
    "timestamp hex": (lambda: "0x1", signature),
    "stale": (lambda: str(int(time.time()) - 6 * 60), signature),
    "from the future": (lambda: str(int(time.time()) + 6 * 60), signature),
    "wrong secret": (NOW, lambda body, ts: signature(body, ts, "not-the-secret")),
    "signature empty": (NOW, lambda body, ts: ""),
    "signature v0= only": (NOW, lambda body, ts: "v0="),
    "signature v1": (NOW, lambda body, ts: "v1=" + signature(body, ts)[3:]),
    "signature upper-case hex": (NOW, lambda body, ts: "v0=" + signature(body, ts)[3:].upper()),
    "signature non-ASCII": (NOW, lambda body, ts: signature(body, ts)[:-1] + "\xe9"),
    "signature truncated": (NOW, lambda body, ts: signature(body, ts)[:-2]),
    "tampered body": (NOW, signature),
}


def forge(url: str, req: R.SlackRequest, how: str) -> tuple[int, str]:
    make_ts, make_sig = FORGERIES[how]
    ts = make_ts() if make_ts else None
    headers = {}
    if ts is not None:
        headers["X-Slack-Request-Timestamp"] = ts
    if make_sig is not None:
        headers["X-Slack-Signature"] = make_sig(req.body, ts)
    body = req.body
    if how == "tampered body":  # signed as sent, then changed on the way
        headers["X-Slack-Signature"] = signature(body, ts)
        body = body.replace(b"U1", b"U9").replace(b"challenge-me", b"challenge-us")
        assert body != req.body
    status, _, text = R.post(url, body, req.content_type, secret=None, headers=headers)
    return status, text


def test_a_request_that_cannot_be_verified_gets_401_and_nothing_runs(ladder):
    for how in FORGERIES:
        for what, req in kinds_of_request(ladder.slack).items():
            status, text = forge(ladder.url, req, how)
            assert status == 401, (how, what, status, text)
            assert "challenge" not in text


def test_many_forged_requests_in_a_burst_cause_nothing(ladder):
    reqs = list(kinds_of_request(ladder.slack).values())
    for i in range(60):
        status, _ = forge(ladder.url, reqs[i % len(reqs)], ["timestamp abc", "timestamp 1e9", "timestamp empty"][i % 3])
        assert status == 401


def _signed(url: str, body: bytes, content_type: str) -> tuple[int, str]:
    status, _, text = R.post(url, body, content_type, secret=SECRET)
    return status, text


def _form(payload) -> bytes:
    return urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)}).encode()


def _action(**changes) -> bytes:
    payload = R.block_actions(B.VOTE_UP, "1", channel_id="D1").payload
    payload.update(changes)
    return _form({k: v for k, v in payload.items() if v is not ...})


def _submission(**changes) -> bytes:
    payload = R.view_submission(B.EDIT_CALLBACK, {"b": {"a": "x"}}).payload
    payload.update(changes)
    return _form({k: v for k, v in payload.items() if v is not ...})


def _event(event=..., **changes) -> bytes:
    body = R.event_callback(R.message_im("what do I need for senior agent?", channel="D1")).payload
    if event is not ...:
        body["event"] = event
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


def _slash(**changes) -> bytes:
    fields = dict(R.slash_command("help").payload)
    fields.update(changes)
    return urlencode({k: v for k, v in fields.items() if v is not ...}).encode()


DM_EVENT = R.message_im("what do I need for senior agent?", channel="D1")

# (body, content type); each is signed with the real secret
MALFORMED = {
    "payload=notjson": (b"payload=notjson", R.FORM),
    "payload a list": (_form([]), R.FORM),
    "payload a string": (_form('"block_actions"'), R.FORM),
    "payload without a type": (_form({"user": {"id": "U1"}}), R.FORM),
    "payload type a list": (_form({"type": ["block_actions"]}), R.FORM),
    "actions empty": (_action(actions=[]), R.FORM),
    "actions a string": (_action(actions="x"), R.FORM),
    "an action a number": (_action(actions=[1]), R.FORM),
    "an action without action_id": (_action(actions=[{"value": "1"}]), R.FORM),
    "an action value a number": (_action(actions=[{"action_id": B.VOTE_UP, "value": 1}]), R.FORM),
    "action without user": (_action(user=...), R.FORM),
    "action user a number": (_action(user=5), R.FORM),
    "action team a number": (_action(team=5), R.FORM),
    "action state values a list": (_action(state={"values": []}), R.FORM),
    "action channel a list": (_action(channel=[]), R.FORM),
    "action with a lone surrogate": (_form('{"type": "block_actions", "user": {"id": "U1"}, '
                                           '"actions": [{"action_id": "x", "value": "\\ud800"}]}'), R.FORM),
    "view a string": (_submission(view="ladder_edit"), R.FORM),
    "view without id": (_submission(view={"callback_id": B.EDIT_CALLBACK, "state": {"values": {}}}), R.FORM),
    "view state a string": (_submission(view={"id": "V1", "callback_id": B.EDIT_CALLBACK, "state": "x"}), R.FORM),
    "view values wrong": (_submission(view={"id": "V1", "callback_id": B.EDIT_CALLBACK,
                                            "state": {"values": {"b": {"a": "x"}}}}), R.FORM),
    "form body not UTF-8": (b"command=%2Fladder&user_id=U1&text=\xff\xfe&trigger_id=1&response_url=x", R.FORM),
    "payload not UTF-8": (b"payload=%7B%22type%22%3A%22block_actions%22\xc3\x28%7D", R.FORM),
    "JSON body not UTF-8": (b'{"type": "event_callback", "event": {"type": "message", "text": "\xff"}}', R.JSON),
    "empty body": (b"", R.FORM),
    "slash command without user_id": (_slash(user_id=...), R.FORM),
    "slash command without command": (_slash(command=...), R.FORM),
    "slash command without response_url": (_slash(response_url=...), R.FORM),
    "JSON body a list": (b"[]", R.JSON),
    "JSON body not JSON": (b"{not json", R.JSON),
    "JSON nested a million deep": (b"{" + b'"a":[' * 100_000 + b"]" * 100_000 + b"}", R.JSON),
    "url_verification without challenge": (json.dumps({"type": "url_verification"}).encode(), R.JSON),
    "url_verification challenge a number": (json.dumps({"type": "url_verification", "challenge": 5}).encode(), R.JSON),
    "JSON body without type": (json.dumps({"event": DM_EVENT}).encode(), R.JSON),
}
# Events API envelopes: Slack wants a 200 (else it retries); ignored with a log line
MALFORMED_EVENTS = {
    "event a string": (_event("message"), R.JSON),
    "event missing": (json.dumps({"type": "event_callback", "event_id": "Ev1"}).encode(), R.JSON),
    "event without type": (_event({"text": "hi", "channel": "D1", "user": "U1"}), R.JSON),
    "event text a number": (_event({**DM_EVENT, "text": 5}), R.JSON),
    "event user an object": (_event({**DM_EVENT, "user": {"id": "U1"}}), R.JSON),
    "event channel a list": (_event({**DM_EVENT, "channel": ["D1"]}), R.JSON),
    "lone surrogate in event text": (_event().replace(b"senior agent", b"senior \\ud800 agent"), R.JSON),
    "event_id a number": (_event(event_id=5), R.JSON),
}


def test_a_signed_but_malformed_request_gets_400_and_nothing_runs(ladder):
    for case, (body, content_type) in MALFORMED.items():
        status, text = _signed(ladder.url, body, content_type)
        assert status == 400, (case, status, text)
        assert "malformed request" in text, case


def test_a_signed_but_malformed_event_is_ignored_with_a_log_line(ladder):
    for case, (body, content_type) in MALFORMED_EVENTS.items():
        before = len(ladder.log())
        status, text = _signed(ladder.url, body, content_type)
        assert status == 200, (case, status, text)
        deadline = time.monotonic() + 5
        while "ignored a signed request to /slack/events" not in ladder.log()[before:]:
            assert time.monotonic() < deadline, f"{case}: no log line"
            time.sleep(0.05)


def test_a_signed_request_is_still_answered(server):
    """The control: the same server, a correctly signed /ladder, answered on its response_url."""
    server.slack.reset()
    ru = server.slack.new_response_url(channel="C1", user="U1")
    status, _, _ = R.post(server.url, R.slash_command("help", response_url=ru), secret=SECRET)
    assert status == 200
    [call] = server.slack.wait_for("response_url", timeout=20)
    assert "/ladder show LEVEL" in json.dumps(call.args)
    status, _, text = R.post(server.url, R.url_verification("challenge-me"), secret=SECRET)
    assert status == 200 and json.loads(text) == {"challenge": "challenge-me"}


def test_the_error_handler_answers_only_verified_requests(built_index, tmp_path):
    """Even if a forged request reached Bolt (bot.web refuses it before), the error handler would not act
    on its body: Bolt's own check raises on a timestamp like "abc", and the handler stays silent."""
    from slack_bolt.request import BoltRequest

    from bot.slack.app import create_app
    from bot.core.config import Settings
    from bot.wiring import make_deps

    with SlackStandIn() as slack:
        settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
                                      "SLACK_API_URL": slack.api_url, "LADDER_INDEX_DIR": str(built_index),
                                      "LADDER_DB": str(tmp_path / "l.db"), "LADDER_KNOWLEDGE_DIR": str(KNOWLEDGE)})
        app = create_app(settings, make_deps(settings))
        try:
            slack.reset()
            req = R.slash_command("help", response_url=slack.new_response_url(channel="C1", user="U1"))
            for ts in ("abc", "1e9", ""):
                headers = {"content-type": req.content_type, "x-slack-request-timestamp": ts,
                           "x-slack-signature": signature(req.body, ts)}
                response = app.dispatch(BoltRequest(body=req.body.decode(), headers=headers))
                assert response.status >= 400
            time.sleep(0.5)
            assert [c.summary() for c in slack.calls()] == []
        finally:
            app.jobs.stop()

"""The Bolt listeners in-process: requests as Bolt's own ``BoltRequest``, through ``app.dispatch`` (no HTTP
server, no subprocess), against the Slack stand-in; what the person gets is what is asserted."""

from __future__ import annotations

import json
import time

import pytest
from slack_bolt.request import BoltRequest

from bot.chat import blocks as B
from bot.chat.handlers import Deps
from bot.core.config import Settings
from bot.slack.app import create_app
from bot.storage.store import Store
from tests import slack_requests as R
from tests.slack_standin import SlackStandIn

SECRET = "listener-secret"
USER = "ULIST1"


@pytest.fixture(scope="module")
def slack():
    with SlackStandIn() as s:
        yield s


@pytest.fixture(scope="module")
def wired(slack, fake_advisor, tmp_path_factory):
    """One app for the module; its inbox runner stops with the module."""
    db = tmp_path_factory.mktemp("listeners") / "ladder.db"
    settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret=SECRET, slack_api_url=slack.api_url,
                        db_path=db)
    deps = Deps(settings=settings, advisor=fake_advisor, store=Store(db))
    app = create_app(settings, deps)
    yield app, deps
    app.jobs.stop()


@pytest.fixture
def app(wired, slack):
    slack.reset()
    slack.refuse_agent("feature_not_enabled")   # the classic set-up: one message, its own 👍/👎
    return wired[0]


def dispatch(app, req: R.SlackRequest) -> int:
    """Hand Bolt a signed request exactly as Slack sends it; Bolt's status code."""
    headers = {"content-type": req.content_type, **R.sign(req.body, SECRET)}
    return app.dispatch(BoltRequest(body=req.body.decode("utf-8"), headers=headers)).status


def said(call) -> str:
    return json.dumps({"text": call.args.get("text"), "blocks": call.args.get("blocks")}, ensure_ascii=False)


def response(slack, response_url: str):
    rid = response_url.split("/response/", 1)[1]
    [call] = slack.wait_for("response_url", lambda c: c.raw_args.get("response_url_id") == rid, timeout=15)
    return call


def test_a_slash_command_is_acked_and_answered_on_its_response_url(app, slack):
    ru = slack.new_response_url(channel="C1", user=USER)
    assert dispatch(app, R.slash_command("show senior agent", user_id=USER, response_url=ru)) == 200
    answer = said(response(slack, ru))
    assert "Senior Agent" in answer and "Performance Consistency" in answer
    assert "That button" not in answer


def test_an_unknown_level_in_a_command_gets_the_ladder_hint(app, slack):
    ru = slack.new_response_url(channel="C1", user=USER)
    assert dispatch(app, R.slash_command("show astronaut", user_id=USER, response_url=ru)) == 200
    assert "I don't know a level called 'astronaut'" in said(response(slack, ru))


def test_a_button_saves_the_level_and_says_so(app, slack, wired):
    deps = wired[1]
    ru = slack.new_response_url(channel="D1", user=USER)
    assert dispatch(app, R.block_actions(B.SET_CURRENT, "senior-agent", user_id=USER, response_url=ru)) == 200
    assert "Saved: you are *L3 Senior Agent*." in said(response(slack, ru))
    assert deps.store.profile(USER)["current_level"] == "senior-agent"


def test_a_button_for_a_level_that_is_gone_is_stale_and_changes_nothing(app, slack, wired):
    deps = wired[1]
    ru = slack.new_response_url(channel="D1", user="ULIST2")
    assert dispatch(app, R.block_actions(B.SET_CURRENT, "astronaut", user_id="ULIST2", response_url=ru)) == 200
    assert "That button is from an older message" in said(response(slack, ru))
    assert deps.store.profile("ULIST2").get("current_level") is None


def test_a_dm_question_is_answered_in_its_thread(app, slack):
    dm = slack.dm_channel(USER)
    ts = slack.add_message(dm, "what do I need for senior agent?", user=USER)
    assert dispatch(app, R.event_callback(R.message_im("what do I need for senior agent?", user=USER,
                                                       channel=dm, ts=ts))) == 200
    [call] = slack.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") == ts and c.ok, timeout=15)
    assert "Senior Agent" in said(call) and "Experience" in said(call)
    slack.wait_for("reactions.remove", lambda c: c.args.get("timestamp") == ts, timeout=15)   # 👀 comes off


def test_a_dm_from_a_bot_is_not_answered(app, slack):
    dm = slack.dm_channel(USER)
    event = {**R.message_im("what do I need for senior agent?", user=USER, channel=dm), "bot_id": "B9"}
    assert dispatch(app, R.event_callback(event)) == 200
    time.sleep(0.5)
    assert not slack.calls("chat.postMessage")


def test_a_stopped_inbox_runner_ends_and_leaves_new_requests_for_the_next_process(slack, fake_advisor, tmp_path):
    """What a test's (or a stopping process's) app does at the end: no thread left polling a database that is gone."""
    from bot.storage import inbox

    settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret=SECRET, slack_api_url=slack.api_url,
                        db_path=tmp_path / "ladder.db")
    deps = Deps(settings=settings, advisor=fake_advisor, store=Store(tmp_path / "ladder.db"))
    app = create_app(settings, deps)
    assert app.jobs.running
    app.jobs.stop()
    assert not app.jobs.running
    slack.reset()
    ru = slack.new_response_url(channel="C1", user=USER)
    assert dispatch(app, R.slash_command("show senior agent", user_id=USER, response_url=ru)) == 200   # acked, stored
    time.sleep(0.3)
    assert slack.calls() == []
    assert inbox.summary(deps.store) == {"pending": 1}

"""Ladder in Slack, end to end: the real Bolt app served over HTTP (``bot.slack.web``), requests signed as Slack
signs them, and the Slack stand-in recording everything Ladder sends back.

One server for the module (loading the index takes a second); every test gets a clean stand-in
(``slack.reset()``) and its own SQLite file, and ends by checking every block Ladder sent.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request

import pytest
from slack_sdk.models.blocks import Block

from bot.chat import blocks as B
from bot.chat import handlers
from bot.core.config import Settings
from bot.slack.app import SORRY, create_app
from bot.slack.listeners.agent import FEATURES as AGENT_FEATURES
from bot.slack.web import wsgi_app
from bot.storage.store import Store
from bot.wiring import make_deps
from tests import slack_requests as R
from tests.conftest import KNOWLEDGE
from tests.servers import jobs_settle, serve_in_thread
from tests.slack_standin import SlackStandIn

pytestmark = pytest.mark.slow

SECRET = "e2e-signing-secret"
USER = "U1"
QUESTION = "what do I need for senior agent?"
MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update", "response_url")
VIEW_METHODS = ("views.publish", "views.open", "views.update", "views.push")


# -- the server and the per-test world ----------------------------------------------------------------

@pytest.fixture(scope="module")
def served(built_index, tmp_path_factory):
    db = tmp_path_factory.mktemp("e2e") / "boot.db"
    with SlackStandIn() as slack:
        settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
                                      "SLACK_API_URL": slack.api_url, "LADDER_INDEX_DIR": str(built_index),
                                      "LADDER_DB": str(db), "LADDER_KNOWLEDGE_DIR": str(KNOWLEDGE)})
        deps = make_deps(settings)
        app = create_app(settings, deps)
        server, thread = serve_in_thread(wsgi_app(app, deps))
        try:
            yield slack, f"http://127.0.0.1:{server.server_port}", deps
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)
            app.jobs.stop()


class Ladder:
    """What a test talks to: the server's URL, the stand-in and Ladder's Deps."""

    def __init__(self, slack: SlackStandIn, base: str, deps, db):
        self.slack, self.base, self.deps, self.db = slack, base, deps, db
        self.url = f"{base}/slack/events"

    # requests as Slack sends them
    def post(self, req, secret: str | None = SECRET, **kw) -> tuple[int, dict, str]:
        return R.post(self.url, req, secret=secret, **kw)

    def slash(self, text: str, user: str = USER, channel: str = "C1", timeout: float = 10):
        """/ladder TEXT; returns the call that answered on its response_url."""
        ru = self.slack.new_response_url(channel=channel, user=user)
        status, _, _ = self.post(R.slash_command(text, user_id=user, channel_id=channel, response_url=ru))
        assert status == 200
        return self.wait_response(ru, timeout=timeout)

    def wait_response(self, response_url: str, timeout: float = 10):
        rid = response_url.rstrip("/").split("/response/", 1)[1]
        [call] = self.slack.wait_for("response_url", lambda c: c.raw_args.get("response_url_id") == rid,
                                     timeout=timeout)
        return call

    def dm(self, text: str, user: str = USER, **event_fields):
        """A question in the app's DM; returns (dm channel, the user's ts, the event request)."""
        dm = self.slack.dm_channel(user)
        ts = self.slack.add_message(dm, text, user=user)
        event = {**R.message_im(text, user=user, channel=dm, ts=ts), **event_fields}
        req = R.event_callback(event)
        status, _, _ = self.post(req)
        assert status == 200
        return dm, ts, req

    def answer_in_thread(self, channel: str, ts: str, timeout: float = 10):
        [call] = self.slack.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") == ts and c.ok, timeout=timeout)
        # the 👀 comes off after the answer: wait for it, or it lands in the next test's stand-in
        self.slack.wait_for("reactions.remove", lambda c: c.args.get("channel") == channel, timeout=timeout)
        return call

    def click(self, action_id: str, value: str, channel: str, message: dict | None = None, user: str = USER):
        """A button on a message in ``channel``; returns the call that answered on its response_url."""
        ts = message["ts"] if message else None
        ru = self.slack.new_response_url(channel=channel, message_ts=ts, user=user)
        status, _, _ = self.post(R.block_actions(action_id, value, user_id=user, channel_id=channel, message_ts=ts,
                                                 response_url=ru, message=message))
        assert status == 200
        return self.wait_response(ru)

    def get(self, path: str) -> tuple[int, str, str]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=5) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.headers.get("Content-Type", ""), err.read().decode()


def _world(served, tmp_path, refuse_agent: str | None):
    slack, base, deps = served
    slack.reset()
    if refuse_agent:
        slack.refuse_agent(refuse_agent)
    boot_store = deps.store
    deps.store = Store(tmp_path / "ladder.db")  # the listeners read deps.store on every request
    if refuse_agent:   # Ladder has met the refusals before (tests/test_agent_e2e.py checks how it learns them)
        for feature in AGENT_FEATURES:
            deps.store.refuse_feature(R.TEAM_ID, feature, refuse_agent)
    world = Ladder(slack, base, deps, tmp_path / "ladder.db")
    try:
        yield world
        assert_valid_blocks(slack)
    finally:
        jobs_settle(tmp_path / "ladder.db")   # a job still answering would call Slack during the next test
        deps.store = boot_store


@pytest.fixture
def ladder(served, tmp_path):
    """A workspace without Slack's agent experience: Ladder as it has always answered (tests/test_agent_e2e.py
    has the agent experience)."""
    yield from _world(served, tmp_path, refuse_agent="feature_not_enabled")


@pytest.fixture
def agent_ladder(served, tmp_path):
    """A workspace with Slack's agent experience (status, streams, prompts, feedback buttons)."""
    yield from _world(served, tmp_path, refuse_agent=None)


# -- what people see ---------------------------------------------------------------------------------

def said(call) -> str:
    """Everything a message/response shows: its text and its blocks, as one string."""
    return json.dumps({"text": call.args.get("text"), "blocks": call.args.get("blocks")}, ensure_ascii=False)


def buttons(blocks: list[dict]) -> dict[str, tuple[str, str]]:
    return {el["text"]["text"]: (el["action_id"], el.get("value", ""))
            for b in blocks if b["type"] == "actions" for el in b["elements"] if el["type"] == "button"}


def bot_messages(slack, channel: str) -> list[dict]:
    return [m for m in slack.messages(channel) if m.get("user") == slack.bot_user_id]


def posted(slack) -> list:
    """Everything Ladder said anywhere: messages, reactions, responses, views."""
    return [c for c in slack.calls() if c.method.startswith(("chat.", "reactions.", "views.", "files."))
            or c.method == "response_url"]


def settle(seconds: float = 0.4) -> None:
    """Give the worker pool time to do something it should not do."""
    time.sleep(seconds)


def _check_block(b: dict, where: str) -> None:
    parsed = Block.parse(b)
    assert parsed is not None, f"{where}: slack_sdk cannot parse {b}"
    assert parsed.to_dict() == b, f"{where}: does not round-trip through slack_sdk.models"
    if b["type"] == "section":
        if "text" in b:
            assert len(b["text"]["text"]) <= 3000, f"{where}: section text {len(b['text']['text'])} > 3000"
        for f in b.get("fields", []):
            assert len(f["text"]) <= 2000, f"{where}: field text > 2000"
        acc = b.get("accessory") or {}
        if acc.get("type") == "button":
            assert len(acc["text"]["text"]) <= 75, f"{where}: button text > 75"
    if b["type"] == "header":
        assert len(b["text"]["text"]) <= 150, f"{where}: header > 150"
    if b["type"] == "context":
        assert len(b["elements"]) <= 10
    for el in b.get("elements", []) if b["type"] == "actions" else []:
        if el["type"] == "button":
            assert len(el["text"]["text"]) <= 75, f"{where}: button text {el['text']['text']!r} > 75"
            assert len(el.get("value", "")) <= 2000


def assert_valid_blocks(slack: SlackStandIn) -> None:
    """Every block Ladder sent in this test parses with slack_sdk.models and fits Slack's limits."""
    checked = 0
    for i, call in enumerate(slack.calls()):
        where = f"call {i} {call.method}"
        assert call.error not in ("invalid_blocks", "invalid_blocks_format", "invalid_arguments"), (
            f"{where}: Slack rejected it: {call.response}")
        if call.method in MESSAGE_METHODS and call.args.get("blocks") is not None:
            blocks = call.args["blocks"]
            assert isinstance(blocks, list) and len(blocks) <= 50, f"{where}: {len(blocks)} blocks"
            for j, b in enumerate(blocks):
                _check_block(b, f"{where} block {j}")
            checked += 1
        elif call.method in VIEW_METHODS and isinstance(call.args.get("view"), dict):
            view = call.args["view"]
            assert len(view["blocks"]) <= 100, f"{where}: {len(view['blocks'])} blocks in a view"
            for j, b in enumerate(view["blocks"]):
                _check_block(b, f"{where} view block {j}")
            checked += 1


# -- HTTP surface --------------------------------------------------------------------------------------

def test_url_verification_healthz_and_unknown_paths(ladder):
    status, _, text = ladder.post(R.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"))
    assert status == 200 and "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in text
    assert json.loads(text) == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}

    status, ctype, text = ladder.get("/healthz")
    health = json.loads(text)
    assert status == 200 and ctype.startswith("application/json")
    assert health["knowledge_version"] == ladder.deps.kb.version
    assert health["index"]["status"] == "ready"

    assert ladder.get("/nope")[0] == 404
    assert ladder.get("/slack/events")[0] == 404     # Slack only POSTs here
    assert R.post(ladder.base + "/nope", R.slash_command("help"), secret=SECRET)[0] == 404
    assert not posted(ladder.slack)


@pytest.mark.parametrize("how", ["forged", "stale", "unsigned", "no-timestamp"])
def test_unverified_requests_get_401_and_nothing_is_posted(ladder, how):
    slack = ladder.slack
    dm = slack.dm_channel(USER)
    requests = [R.slash_command(QUESTION, response_url=slack.new_response_url(channel="C1", user=USER)),
                R.event_callback(R.message_im(QUESTION, channel=dm)),
                R.event_callback(R.app_mention(QUESTION)),
                R.block_actions(B.VOTE_UP, "1", channel_id=dm, response_url=slack.new_response_url(channel=dm)),
                R.url_verification("challenge-me")]
    for req in requests:
        if how == "forged":
            status, _, text = ladder.post(req, secret="not-the-secret")
        elif how == "stale":  # a correctly signed request, replayed six minutes later
            status, _, text = ladder.post(req, timestamp=int(time.time()) - 6 * 60)
        elif how == "unsigned":
            status, _, text = ladder.post(req, secret=None)
        else:  # the signature header alone
            sig = R.sign(req.body, SECRET)["X-Slack-Signature"]
            status, _, text = ladder.post(req, secret=None, headers={"X-Slack-Signature": sig})
        assert status == 401, (how, status, text)
        assert "challenge-me" not in text
    settle()
    sent = [c.summary() for c in slack.calls() if c.method.startswith(("chat.", "reactions.", "views."))
            or c.method == "response_url"]
    assert sent == []


# -- /ladder -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("help", ["*Commands*", "/ladder levels", "/ladder show LEVEL", "/ladder compare A B", "/ladder path A B",
              "/ladder ask QUESTION", "/ladder gap"]),
    ("", ["*Commands*", "/ladder show LEVEL"]),
    ("levels", ["Call Center – Sales &amp; Support", "Frontend Development", "Senior Agent  `senior-agent`"]),
    ("levels frontend", ["Frontend Development"]),
    ("show senoir agent", ["*L3 Senior Agent*", "Sources:"]),
    ("show L42", ["There is no level L42"]),
    ("compare L2 L3", ["L2 Experienced Agent* vs *L3 Senior Agent"]),
    ('path agent "team lead"', ["From L1 Agent to L7 Team Lead"]),
    ("ask what is FCR?", ["First Call Resolution"]),
    (QUESTION, ["*L3 Senior Agent*", "Sources:", "Start gap check for Senior Agent"]),
    ("shwo L3", ["Did you mean `/ladder show`", "*Commands*"]),
])
def test_ladder_command_answers_privately_through_response_url(ladder, text, expected):
    call = ladder.slash(text)
    shown = said(call)
    for part in expected:
        assert part in shown, f"{part!r} not in the answer to /ladder {text}: {shown[:500]}"
    assert call.args["response_type"] == "ephemeral" and call.ok
    assert "Traceback" not in shown and "Sorry, something went wrong" not in shown
    assert not ladder.slack.calls("chat.postMessage")   # nothing public in the channel
    if text == "levels frontend":
        assert "Call Center" not in shown


def test_a_huge_question_is_refused_with_the_length_limit(ladder):
    text = QUESTION + " " + "y" * (10_000 - len(QUESTION) - 1)
    assert len(text) == 10_000
    shown = said(ladder.slash(text))
    assert "That's 10,000 characters; I read up to 2,000 at a time." in shown and "Senior Agent" not in shown


def test_channel_pings_in_a_question_are_never_echoed(ladder):
    hostile = "<!channel> <!here> <@U999> & what do I need for senior agent?"
    ladder.slash(hostile)
    dm, ts, _ = ladder.dm(hostile)
    ladder.answer_in_thread(dm, ts)
    ladder.post(R.event_callback(R.app_mention(hostile, channel="C7")))
    ladder.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == "C7")
    sent = [c for c in ladder.slack.calls() if c.method in MESSAGE_METHODS]
    assert len(sent) == 3
    for call in sent:
        out = json.dumps(call.args, ensure_ascii=False)
        for ping in ("<!channel>", "<!here>", "<@U999>"):
            assert ping not in out, f"{call.method} echoed {ping}"



@pytest.mark.parametrize("text", ["show <!channel> & co", "gap <!here>", "compare <!channel> L2",
                                  "levels <!everyone>", "path <@U999> L3", "history <!channel>"])
def test_level_names_people_type_are_escaped_when_ladder_cannot_find_them(ladder, text):
    ladder.deps.store.set_role(USER, "lead", granted_by="UADMIN")   # /ladder history is for leads, HR and admins
    shown = json.dumps(ladder.slash(text).args, ensure_ascii=False)
    assert "&lt;!" in shown or "&lt;@" in shown, shown[:300]   # what they typed is shown back, escaped
    for ping in ("<!channel>", "<!here>", "<!everyone>", "<@U999>"):
        assert ping not in shown

def test_a_slash_command_that_says_payload_is_answered_like_any_other(ladder):
    """slack_bolt reads a form body containing the word "payload" as an interaction (and finds nothing)."""
    said = json.dumps(ladder.slash("what do I need for senior agent? the payload of skills").args)
    assert "Senior Agent" in said


def test_slash_command_is_acknowledged_before_the_answer_is_posted(ladder, monkeypatch):
    real_ask = ladder.deps.advisor.ask

    def slow_ask(*args, **kwargs):
        time.sleep(0.8)
        return real_ask(*args, **kwargs)

    monkeypatch.setattr(ladder.deps.advisor, "ask", slow_ask)
    ru = ladder.slack.new_response_url(channel="C1", user=USER)
    started = time.monotonic()
    status, _, body = ladder.post(R.slash_command(QUESTION, response_url=ru))
    acked = time.monotonic()
    assert status == 200 and body.strip() == ""        # an empty ack: the answer comes separately
    assert acked - started < 0.5, f"ack took {acked - started:.3f}s"
    assert not ladder.slack.responses                   # nothing answered yet when Slack got its 200
    answer = ladder.wait_response(ru)
    assert answer.at > acked and "*L3 Senior Agent*" in said(answer)


# -- DMs and mentions ------------------------------------------------------------------------------------

def _check_answer_message(ladder, call, channel: str, ts: str):
    slack = ladder.slack
    assert call.args["channel"] == channel and call.args["thread_ts"] == ts
    blocks = call.args["blocks"]
    kinds = [b["type"] for b in blocks]
    assert kinds[0] == "section" and "context" in kinds and kinds[-1] == "actions"
    context = next(b for b in blocks if b["type"] == "context")["elements"][0]["text"]
    assert "Sources:" in context and ladder.deps.kb.version in context
    assert list(buttons(blocks)) == ["Start gap check for Senior Agent", "Compare with my level", "👍", "👎"]
    methods = [c.method for c in slack.calls() if c.method.startswith(("reactions.", "chat."))]
    assert methods == ["reactions.add", "chat.postMessage", "reactions.remove"]
    add, remove = slack.calls("reactions.add")[0], slack.last("reactions.remove")
    assert add.args["name"] == "eyes" and add.args["timestamp"] == ts and add.args["channel"] == channel
    assert remove.args["name"] == "eyes" and remove.args["timestamp"] == ts
    original = next(m for m in slack.messages(channel) if m["ts"] == ts)
    assert not original.get("reactions")   # 👀 is gone once the answer is there
    assert original.get("reply_count") == 1


def test_dm_question_is_answered_in_its_thread_with_sources_and_buttons(ladder):
    dm, ts, _ = ladder.dm(QUESTION)
    call = ladder.answer_in_thread(dm, ts)
    ladder.slack.wait_for("reactions.remove")
    _check_answer_message(ladder, call, dm, ts)
    assert "*L3 Senior Agent*" in said(call)


def test_mention_is_answered_in_its_thread(ladder):
    ts = ladder.slack.add_message("C5", f"<@UBOT> {QUESTION}", user="U2")
    status, _, _ = ladder.post(R.event_callback(R.app_mention(QUESTION, user="U2", channel="C5", ts=ts)))
    assert status == 200
    call = ladder.answer_in_thread("C5", ts)
    ladder.slack.wait_for("reactions.remove")
    _check_answer_message(ladder, call, "C5", ts)
    assert "UBOT" not in said(call)


def test_a_mention_inside_a_thread_answers_in_that_thread(ladder):
    parent = ladder.slack.add_message("C5", "a discussion", user="U3")
    ts = ladder.slack.add_message("C5", f"<@UBOT> {QUESTION}", user="U2", thread_ts=parent)
    ladder.post(R.event_callback(R.app_mention(QUESTION, user="U2", channel="C5", ts=ts, thread_ts=parent)))
    call = ladder.answer_in_thread("C5", parent)
    assert "*L3 Senior Agent*" in said(call)


def test_messages_from_bots_and_from_ladder_itself_are_ignored(ladder):
    slack = ladder.slack
    dm = slack.dm_channel(USER)
    ignored = [
        {**R.message_im(QUESTION, channel=dm), "bot_id": "BOTHER"},
        {**R.message_im(QUESTION, channel=dm), "subtype": "bot_message", "bot_id": "BOTHER", "username": "other"},
        {**R.message_im(QUESTION, channel=dm, user="UBOT"), "bot_id": "BBOT"},
        R.message_im(QUESTION, channel=dm, user="UBOT"),
        {**R.app_mention(QUESTION, channel="C5"), "bot_id": "BOTHER"},
        {**R.message_im(QUESTION, channel=dm), "subtype": "message_changed"},
        {**R.message_im(QUESTION, channel="C5"), "channel_type": "channel"},   # not a DM, not a mention
    ]
    for event in ignored:
        status, _, _ = ladder.post(R.event_callback(event))
        assert status == 200
    settle(0.6)
    assert not posted(slack), [c.summary() for c in posted(slack)]


def test_a_question_that_fits_two_ladders_offers_both_as_buttons(ladder):
    dm, ts, _ = ladder.dm("what do seniors need?")
    call = ladder.answer_in_thread(dm, ts)
    labels = buttons(call.args["blocks"])
    choices = {label: v for label, (aid, v) in labels.items() if aid == B.CHOOSE_LEVEL}
    assert set(choices.values()) == {"senior-agent", "frontend-senior"}
    assert "L3 Senior Agent" in choices

    message = next(m for m in ladder.slack.messages(dm) if m["ts"] == call.response["ts"])
    picked = ladder.click(B.CHOOSE_LEVEL, "senior-agent", dm, message)
    assert "*L3 Senior Agent*" in said(picked)


def test_a_retried_event_is_answered_once(ladder):
    dm, ts, req = ladder.dm(QUESTION)
    status, _, _ = ladder.post(req, retry_num=1, retry_reason="http_timeout")   # Slack's redelivery, same event_id
    assert status == 200
    ladder.answer_in_thread(dm, ts)
    status, _, _ = ladder.post(req, retry_num=2, retry_reason="http_timeout")
    assert status == 200
    settle(0.6)
    assert len(ladder.slack.calls("chat.postMessage")) == 1
    assert len(ladder.slack.calls("reactions.add")) == 1
    assert len(bot_messages(ladder.slack, dm)) == 1


# -- buttons --------------------------------------------------------------------------------------------

def _answer(ladder, text: str = QUESTION):
    dm, ts, _ = ladder.dm(text)
    call = ladder.answer_in_thread(dm, ts)
    ladder.slack.wait_for("reactions.remove")
    message = next(m for m in ladder.slack.messages(dm) if m["ts"] == call.response["ts"])
    return dm, message


def test_feedback_is_stored_with_question_and_answer_and_a_second_click_updates_it(ladder):
    dm, message = _answer(ladder)
    up, down = buttons(message["blocks"])["👍"], buttons(message["blocks"])["👎"]
    assert up[1] == down[1] and up[1].isdigit()

    thanks = ladder.click(*up, dm, message)
    assert "glad it helped" in said(thanks) and thanks.args["response_type"] == "ephemeral"
    [row] = Store(ladder.db).feedback()
    assert row["vote"] == 1 and row["user_id"] == USER and row["answer_id"] == int(up[1])
    assert row["question"] == QUESTION and "L3 Senior Agent" in row["answer"]

    noted = ladder.click(*down, dm, message)
    assert "noted that this answer missed" in said(noted)
    [row] = Store(ladder.db).feedback()
    assert row["vote"] == -1 and row["question"] == QUESTION

    ladder.click(*up, dm, message, user="U2")   # someone else's vote is their own row
    assert sorted(r["vote"] for r in Store(ladder.db).feedback()) == [-1, 1]


@pytest.mark.parametrize("value", ["999999", "abc", "", "9" * 30, "²"])
def test_a_stale_or_forged_vote_gets_a_clear_reply_and_stores_nothing(ladder, value):
    dm = ladder.slack.dm_channel(USER)
    reply = ladder.click(B.VOTE_UP, value, dm)
    assert "older message" in said(reply)
    assert Store(ladder.db).feedback() == []


def test_compare_with_my_level_after_setting_it_on_home(ladder):
    slack = ladder.slack
    ladder.post(R.event_callback(R.app_home_opened(user=USER)))
    [published] = slack.wait_for("views.publish")
    view_id = published.response["view"]["id"]

    dm, message = _answer(ladder)
    aid, value = buttons(message["blocks"])["Compare with my level"]
    reply = ladder.click(aid, value, dm, message)
    assert "I don't know your current level yet" in said(reply) and "*Home* tab" in said(reply)

    # the App Home select: a view container, no channel, no response_url
    req = R.block_actions(B.SET_CURRENT, "experienced-agent", user_id=USER, action_type="static_select",
                          option_text="L2 Experienced Agent", view={"id": view_id}, block_id="home_current")
    assert ladder.post(req)[0] == 200
    slack.wait_for("views.publish", count=2)
    home = slack.home_view(USER)
    assert home["id"] == view_id and "You are *L2 Experienced Agent*" in json.dumps(home["blocks"], ensure_ascii=False)
    [saved] = slack.wait_for("chat.postMessage", lambda c: "Saved: you are" in said(c))
    assert saved.response["channel"] == dm
    assert Store(ladder.db).profile(USER)["current_level"] == "experienced-agent"

    reply = ladder.click(aid, value, dm, message)
    assert "L2 Experienced Agent* vs *L3 Senior Agent" in said(reply)


def test_app_home_opened_publishes_the_home_view(ladder):
    assert ladder.post(R.event_callback(R.app_home_opened(user="U7")))[0] == 200
    [call] = ladder.slack.wait_for("views.publish")
    view = call.args["view"]
    assert call.args["user_id"] == "U7" and call.ok
    assert view["type"] == "home" and 0 < len(view["blocks"]) <= 100
    shown = json.dumps(view, ensure_ascii=False)
    assert "Set my current level" in shown and "L3 Senior Agent" in shown
    assert ladder.post(R.event_callback(R.app_home_opened(user="U7", tab="messages")))[0] == 200
    settle()
    assert len(ladder.slack.calls("views.publish")) == 1   # the Messages tab needs no view


# -- reliability ------------------------------------------------------------------------------------------

def test_a_rate_limited_post_is_retried_after_retry_after(ladder):
    ladder.slack.fail("chat.postMessage", 429, retry_after=1)
    dm, ts, _ = ladder.dm(QUESTION)
    call = ladder.answer_in_thread(dm, ts, timeout=15)
    first, second = ladder.slack.calls("chat.postMessage")
    assert first.status == 429 and second.ok and second is call
    assert second.at - first.at >= 1.0
    assert len(bot_messages(ladder.slack, dm)) == 1


def test_a_server_error_is_retried(ladder):
    ladder.slack.fail("chat.postMessage", 500)
    dm, ts, _ = ladder.dm(QUESTION)
    ladder.answer_in_thread(dm, ts, timeout=15)
    statuses = [c.status for c in ladder.slack.calls("chat.postMessage")]
    assert statuses == [500, 200]
    assert len(bot_messages(ladder.slack, dm)) == 1


def test_a_failed_response_url_post_is_retried(ladder):
    ladder.slack.fail("response_url", 500)
    ru = ladder.slack.new_response_url(channel="C1", user=USER)
    assert ladder.post(R.slash_command(QUESTION, user_id=USER, channel_id="C1", response_url=ru))[0] == 200
    ladder.slack.wait_for("response_url", lambda c: c.ok, timeout=15)
    assert [c.status for c in ladder.slack.responses] == [500, 200]
    assert "*L3 Senior Agent*" in said(ladder.slack.responses[-1])


def test_an_answer_whose_response_url_keeps_failing_is_posted_ephemerally_instead(ladder, caplog):
    caplog.set_level(logging.ERROR)
    ladder.slack.fail("response_url", 500, times=10)
    ru = ladder.slack.new_response_url(channel="C1", user=USER)
    assert ladder.post(R.slash_command(QUESTION, user_id=USER, channel_id="C1", response_url=ru))[0] == 200
    [call] = ladder.slack.wait_for("chat.postEphemeral", timeout=20)
    assert call.ok and call.args["user"] == USER and call.args["channel"] == "C1"
    assert "*L3 Senior Agent*" in said(call)
    assert all(c.status == 500 for c in ladder.slack.responses)
    assert "response_url answered 500" in caplog.text


def test_a_failed_working_reaction_does_not_stop_the_answer(ladder):
    ladder.slack.error("reactions.add", "already_reacted")
    dm, ts, _ = ladder.dm(QUESTION)
    assert "*L3 Senior Agent*" in said(ladder.answer_in_thread(dm, ts))
    assert not [c for c in ladder.slack.calls("chat.postMessage") if SORRY in json.dumps(c.args)]


def test_a_persistent_slack_error_is_logged_and_the_server_keeps_working(ladder, caplog):
    caplog.set_level(logging.ERROR)
    slack = ladder.slack
    slack.error("chat.postMessage", "channel_not_found", times=5)
    dm, ts, _ = ladder.dm(QUESTION)
    slack.wait_for("chat.postMessage", count=2, timeout=10)     # the answer, then the apology: both refused
    slack.wait_for("reactions.remove")
    deadline = time.time() + 5
    while time.time() < deadline and "could not tell the user" not in caplog.text:
        time.sleep(0.02)
    assert "error while handling a Slack request" in caplog.text and "channel_not_found" in caplog.text
    assert "could not tell the user about the error" in caplog.text

    assert ladder.get("/healthz")[0] == 200
    assert "*L3 Senior Agent*" in said(ladder.slash(QUESTION))   # still answering
    slack.reset()                                                # Slack is fine again
    dm, ts, _ = ladder.dm(QUESTION)
    assert "*L3 Senior Agent*" in said(ladder.answer_in_thread(dm, ts))


def test_when_answering_fails_the_person_is_told_never_silence(ladder, monkeypatch, caplog):
    caplog.set_level(logging.ERROR)

    def boom(*args, **kwargs):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(ladder.deps.advisor, "ask", boom)
    dm, ts, _ = ladder.dm(QUESTION)
    call = ladder.answer_in_thread(dm, ts)
    assert call.args["text"] == SORRY and "Sorry, something went wrong" in call.args["text"]
    ladder.slack.wait_for("reactions.remove")                     # 👀 does not hang around

    # /ladder: Slack still gets its 200 at once (not a 404 after 3 s), and the apology comes on the response_url
    ru = ladder.slack.new_response_url(channel="C1", user=USER)
    started = time.monotonic()
    status, _, _ = ladder.post(R.slash_command(QUESTION, response_url=ru))
    assert status == 200 and time.monotonic() - started < 1.0
    reply = ladder.wait_response(ru)
    assert "Sorry, something went wrong" in said(reply) and reply.args["response_type"] == "ephemeral"
    assert "index exploded" not in said(reply) and "Traceback" not in said(reply)
    assert "index exploded" in caplog.text   # logged with its traceback

    # a button whose handler fails: the same
    monkeypatch.setattr(handlers, "action", boom)
    ru = ladder.slack.new_response_url(channel=dm, user=USER)
    started = time.monotonic()
    status, _, _ = ladder.post(R.block_actions(B.SHOW_LEVEL, "senior-agent", channel_id=dm, response_url=ru))
    assert status == 200 and time.monotonic() - started < 1.0
    assert "Sorry, something went wrong" in said(ladder.wait_response(ru))

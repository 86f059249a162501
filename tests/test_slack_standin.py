"""The Slack stand-in behaves like Slack for the real slack_sdk WebClient and Bolt."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from slack_requests import (
    app_mention,
    block_actions,
    event_callback,
    message_im,
    post,
    sign,
    slash_command,
    url_verification,
    view_submission,
)
from slack_standin import SlackStandIn

SECRET = "test-signing-secret"


@pytest.fixture
def slack():
    with SlackStandIn() as s:
        yield s


@pytest.fixture
def client(slack):
    return WebClient(token="xoxb-test", base_url=slack.api_url)


def section(text: str, block_id: str | None = None) -> dict:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def button(label: str) -> dict:
    return {"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": "go", "value": "v"}]}


# ---------------------------------------------------------------------------
# Auth and basics
# ---------------------------------------------------------------------------


def test_auth_test_and_token_errors(slack, client):
    r = client.auth_test()
    assert (r["user_id"], r["bot_id"], r["team_id"], r["user"]) == ("UBOT", "BBOT", "T1", "ladder")
    assert slack.api_url.endswith("/api/") and slack.api_url.startswith("http://127.0.0.1:")

    with pytest.raises(SlackApiError) as err:
        WebClient(base_url=slack.api_url).auth_test()
    assert err.value.response["error"] == "not_authed" and err.value.response.status_code == 200
    with pytest.raises(SlackApiError) as err:
        WebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()
    assert err.value.response["error"] == "invalid_auth"

    # Token as a form field works; for JSON bodies Slack only reads the header.
    req = urllib.request.Request(slack.api_url + "auth.test", data=b"token=xoxb-test", method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert json.loads(urllib.request.urlopen(req).read())["ok"] is True
    req = urllib.request.Request(slack.api_url + "auth.test", data=b'{"token": "xoxb-test"}', method="POST",
                                 headers={"Content-Type": "application/json"})
    assert json.loads(urllib.request.urlopen(req).read())["error"] == "not_authed"


def test_unknown_method_is_404(client, slack):
    with pytest.raises(SlackApiError) as err:
        client.api_call("ladder.nothing")
    assert err.value.response.status_code == 404
    assert err.value.response["error"] == "unknown_method"
    assert slack.last("ladder.nothing").status == 404


def test_post_update_delete_and_what_the_channel_shows(slack, client):
    first = client.chat_postMessage(channel="C1", text="Checking your level...")
    assert first["channel"] == "C1" and first["message"]["text"] == "Checking your level..."
    assert first["message"]["user"] == "UBOT" and first["message"]["bot_id"] == "BBOT"
    reply = client.chat_postMessage(channel="C1", text="in thread", thread_ts=first["ts"])
    assert float(reply["ts"]) > float(first["ts"])
    assert reply["message"]["thread_ts"] == first["ts"]

    updated = client.chat_update(channel="C1", ts=first["ts"], text="You are level 2",
                                 blocks=[section("*Level 2*")])
    assert (updated["channel"], updated["ts"], updated["text"]) == ("C1", first["ts"], "You are level 2")
    shown = slack.messages("C1")
    assert [m["text"] for m in shown] == ["You are level 2", "in thread"]
    assert shown[0]["blocks"][0]["text"]["text"] == "*Level 2*" and shown[0]["reply_count"] == 1
    assert "edited" in shown[0]
    assert [m["ts"] for m in slack.thread("C1", first["ts"])] == [first["ts"], reply["ts"]]

    call = slack.last("chat.postMessage")
    assert call.args["thread_ts"] == first["ts"] and call.content_type.startswith("application/json")
    assert call.header("authorization") == "Bearer xoxb-test"

    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel="C1", ts="1.000001", text="x")
    assert err.value.response["error"] == "message_not_found"

    client.chat_delete(channel="C1", ts=reply["ts"])
    assert [m["text"] for m in slack.messages("C1")] == ["You are level 2"]
    link = client.chat_getPermalink(channel="C1", message_ts=first["ts"])
    assert link["permalink"].endswith("/archives/C1/p" + first["ts"].replace(".", ""))


@pytest.mark.filterwarnings("ignore:The top-level `text`:UserWarning", "ignore:Additionally:UserWarning")
def test_message_argument_errors(client):
    for kwargs, error in [
        ({"channel": "", "text": "hi"}, "channel_not_found"),
        ({"channel": "C1"}, "no_text"),
        ({"channel": "C1", "text": ""}, "no_text"),
    ]:
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(**kwargs)
        assert err.value.response["error"] == error
    ok = client.chat_postMessage(channel="C1", attachments=[{"text": "only an attachment"}])
    assert ok["ok"]


def test_posting_to_a_user_id_goes_to_the_dm(slack, client):
    dm = client.conversations_open(users="U7")["channel"]["id"]
    assert dm.startswith("D")
    again = client.conversations_open(users=["U7"])
    assert again["channel"]["id"] == dm and again["already_open"] is True
    posted = client.chat_postMessage(channel="U7", text="hello")
    assert posted["channel"] == dm
    assert slack.messages(dm)[0]["text"] == "hello" == slack.messages("U7")[0]["text"]
    info = client.conversations_info(channel=dm)["channel"]
    assert info["is_im"] is True and info["user"] == "U7"


def test_ephemeral(slack, client):
    r = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert "message_ts" in r
    assert slack.ephemerals("C1", user="U1")[0]["text"] == "only you"
    assert slack.messages("C1") == []
    with pytest.raises(SlackApiError) as err:  # WebClient insists on user=; the raw call shows Slack's error
        client.api_call("chat.postEphemeral", json={"channel": "C1", "text": "who?"})
    assert err.value.response["error"] == "user_not_found"


def test_reactions(slack, client):
    ts = slack.add_message("C1", "what's level 3?", user="U1")
    client.reactions_add(channel="C1", timestamp=ts, name="eyes")
    with pytest.raises(SlackApiError) as err:
        client.reactions_add(channel="C1", timestamp=ts, name="eyes")
    assert err.value.response["error"] == "already_reacted"
    assert slack.messages("C1")[0]["reactions"] == [{"name": "eyes", "users": ["UBOT"], "count": 1}]
    client.reactions_remove(channel="C1", timestamp=ts, name="eyes")
    with pytest.raises(SlackApiError) as err:
        client.reactions_remove(channel="C1", timestamp=ts, name="eyes")
    assert err.value.response["error"] == "no_reaction"
    with pytest.raises(SlackApiError) as err:  # the bot can't edit a user's message
        client.chat_update(channel="C1", ts=ts, text="x")
    assert err.value.response["error"] == "cant_update_message"


def test_users_info_default_and_configured(slack, client):
    u = client.users_info(user="U5")["user"]
    assert u["id"] == "U5" and u["is_bot"] is False and u["tz"]
    assert set(u["profile"]) >= {"display_name", "real_name"}
    slack.users["U5"] = {"real_name": "Ada Agent", "tz": "America/New_York", "profile": {"display_name": "ada"}}
    u = client.users_info(user="U5")["user"]
    assert (u["real_name"], u["tz"], u["profile"]["display_name"], u["profile"]["real_name"]) == (
        "Ada Agent", "America/New_York", "ada", "Ada Agent")
    slack.users["U6"] = None
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="U6")
    assert err.value.response["error"] == "user_not_found"


# ---------------------------------------------------------------------------
# Faults and retries
# ---------------------------------------------------------------------------


def test_injected_error_raises_slack_api_error(slack, client):
    slack.error("chat.postMessage", "channel_not_found")
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="hi")
    assert err.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]  # consumed
    assert [c.error for c in slack.calls("chat.postMessage")] == ["channel_not_found", None]


def test_429_without_retry_handler_surfaces(slack, client):
    slack.fail("chat.postMessage", status=429, retry_after=1)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="hi")
    assert err.value.response.status_code == 429
    assert err.value.response["error"] == "ratelimited"
    assert err.value.response.headers["Retry-After"] == "1"


def test_429_is_retried_after_retry_after(slack):
    client = WebClient(token="xoxb-test", base_url=slack.api_url,
                       retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    slack.fail("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    r = client.chat_postMessage(channel="C1", text="hi")
    assert r["ok"]
    calls = slack.calls("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 1.0
    assert time.monotonic() - started >= 1.0
    assert len(slack.messages("C1")) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_is_retried(slack, status):
    client = WebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[
        ServerErrorRetryHandler(max_retry_count=2, interval_calculator=FixedValueRetryIntervalCalculator(0.05))])
    slack.fail("chat.postMessage", status=status, times=2)
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    assert [c.status for c in slack.calls("chat.postMessage")] == [status, status, 200]


def test_wait_for_and_its_failure_summary(slack, client):
    threading.Timer(0.1, lambda: client.chat_postMessage(channel="C1", text="later")).start()
    [call] = slack.wait_for("chat.postMessage", lambda c: c.args["text"] == "later", timeout=3)
    assert call.ok
    with pytest.raises(AssertionError) as err:
        slack.wait_for("views.publish", timeout=0.1)
    assert "chat.postMessage" in str(err.value) and "views.publish" in str(err.value)
    slack.reset()
    assert slack.calls() == [] and slack.messages("C1") == []


# ---------------------------------------------------------------------------
# Block Kit validation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("blocks, pointer", [
    ([section(f"b{i}") for i in range(51)], "/blocks"),
    ([section("x" * 3001)], "/blocks/0/text/text"),
    ([button("x" * 76)], "/blocks/0/elements/0/text/text"),
    ([{"type": "section", "text": "a bare string"}], "/blocks/0/text"),
    ([section("a", "same"), section("b", "same")], "/blocks/1/block_id"),
    ([{"type": "no_such_block"}], "/blocks/0/type"),
])
def test_invalid_blocks_rejected_like_slack(slack, client, blocks, pointer):
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="fallback", blocks=blocks)
    resp = err.value.response
    assert resp["error"] == "invalid_blocks"
    assert any(f"[json-pointer:{pointer}]" in m for m in resp["response_metadata"]["messages"])
    assert pointer in slack.last("chat.postMessage").reason
    assert slack.messages("C1") == []


def test_blocks_at_the_limits_are_accepted(client):
    assert client.chat_postMessage(channel="C1", text="t", blocks=[section(f"b{i}") for i in range(50)])["ok"]
    assert client.chat_postMessage(channel="C1", text="t", blocks=[section("x" * 3000), button("y" * 75)])["ok"]


def test_blocks_as_a_form_encoded_json_string(slack, client):
    ok = client.api_call("chat.postMessage", params={"channel": "C1", "text": "t",
                                                     "blocks": json.dumps([section("hi")])})
    assert ok["ok"]
    call = slack.last("chat.postMessage")
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.args["blocks"][0]["text"]["text"] == "hi" and isinstance(call.raw_args["blocks"], str)
    with pytest.raises(SlackApiError) as err:
        client.api_call("chat.postMessage", params={"channel": "C1", "text": "t",
                                                    "blocks": json.dumps([section("x" * 3001)])})
    assert err.value.response["error"] == "invalid_blocks"
    with pytest.raises(SlackApiError) as err:
        client.api_call("chat.postMessage", params={"channel": "C1", "blocks": "[not json"})
    assert err.value.response["error"] == "invalid_blocks_format"


def test_long_text_is_truncated_with_a_warning(slack, client):
    r = client.chat_postMessage(channel="C1", text="x" * 40_001)
    assert r["ok"] and r["warning"] == "message_truncated"
    assert len(slack.messages("C1")[0]["text"]) == 40_000


# ---------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------


def test_views_publish_open_update(slack, client):
    home = client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("Welcome")]})["view"]
    assert home["id"].startswith("V") and home["type"] == "home" and home["hash"]
    again = client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("Again")]})["view"]
    assert again["id"] == home["id"]
    assert slack.home_view("U1")["blocks"][0]["text"]["text"] == "Again"

    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Gap check"},
             "submit": {"type": "plain_text", "text": "Next"}, "callback_id": "gap",
             "blocks": [{"type": "input", "block_id": "q", "label": {"type": "plain_text", "text": "Q"},
                         "element": {"type": "plain_text_input", "action_id": "a"}}]}
    opened = client.views_open(trigger_id="123.456.abc", view=modal)["view"]
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id="123.456.abc", view=modal)
    assert err.value.response["error"] == "exchanged_trigger_id"
    updated = client.views_update(view_id=opened["id"], view={**modal, "blocks": [section("Done")]})["view"]
    assert updated["id"] == opened["id"] and updated["blocks"][0]["text"]["text"] == "Done"
    with pytest.raises(SlackApiError) as err:
        client.views_update(view_id="VNOPE", view=modal)
    assert err.value.response["error"] == "not_found"


@pytest.mark.parametrize("method, kwargs, pointer", [
    ("views_publish", {"user_id": "U1", "view": {"type": "modal", "title": {"type": "plain_text", "text": "t"},
                                                  "blocks": []}}, "/view/type"),
    ("views_open", {"trigger_id": "t1", "view": {"type": "modal", "blocks": [],
                                                 "title": {"type": "plain_text", "text": "x" * 25}}},
     "/view/title/text"),
    ("views_publish", {"user_id": "U1", "view": {"type": "home", "blocks": [section("b")] * 101}}, "/view/blocks"),
])
def test_invalid_views_rejected_like_slack(client, method, kwargs, pointer):
    with pytest.raises(SlackApiError) as err:
        getattr(client, method)(**kwargs)
    resp = err.value.response
    assert resp["error"] == "invalid_arguments"
    assert any(f"[json-pointer:{pointer}]" in m for m in resp["response_metadata"]["messages"])


def test_views_allow_100_blocks(client):
    assert client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("b")] * 100})["ok"]


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


def test_files_upload_v2_end_to_end(slack, client):
    data = b"\x89PNG\r\n\x1a\n\x00binary\r\n--not-a-boundary"
    r = client.files_upload_v2(channel="C1", content=data, filename="x.png", title="Ladder",
                               initial_comment="Your ladder")
    fid = r["file"]["id"]
    assert slack.file_bytes(fid) == data
    assert [c.method for c in slack.calls()] == [
        "files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    get_url = slack.calls("files.getUploadURLExternal")[0]
    assert get_url.args["filename"] == "x.png" and get_url.args["length"] == str(len(data))
    assert slack.calls("upload")[0].body == data
    complete = slack.last("files.completeUploadExternal")
    assert complete.args["files"] == [{"id": fid, "title": "Ladder"}] and complete.args["channel_id"] == "C1"
    assert r["file"]["title"] == "Ladder" and r["file"]["mimetype"] == "image/png"
    shown = slack.messages("C1")[-1]
    assert shown["text"] == "Your ladder" and shown["files"][0]["id"] == fid
    assert client.files_info(file=fid)["file"]["size"] == len(data)

    with pytest.raises(SlackApiError) as err:
        client.files_completeUploadExternal(files=[{"id": "FNOPE", "title": "x"}], channel_id="C1")
    assert err.value.response["error"] == "file_not_found"


# ---------------------------------------------------------------------------
# response_url
# ---------------------------------------------------------------------------


def test_response_url_posts_are_recorded(slack, client):
    ts = client.chat_postMessage(channel="C1", text="Pick a level")["ts"]
    url = slack.new_response_url(channel="C1", message_ts=ts, user="U1")
    assert url.startswith(slack.base_url + "/response/")
    hook = WebhookClient(url)
    r = hook.send(text="Only you can see this")
    assert (r.status_code, r.body) == (200, "ok")
    assert slack.ephemerals("C1", user="U1")[0]["text"] == "Only you can see this"
    r = hook.send(text="Level 3 chosen", replace_original=True)
    assert r.status_code == 200
    assert [m["text"] for m in slack.messages("C1")] == ["Level 3 chosen"]
    assert [c.args.get("text") for c in slack.responses] == ["Only you can see this", "Level 3 chosen"]
    assert slack.responses[1].args["replace_original"] is True

    assert WebhookClient(slack.base_url + "/response/nope").send(text="x").status_code == 404
    assert hook.send(blocks=[section("x" * 3001)]).status_code == 400


# ---------------------------------------------------------------------------
# Signed requests from "Slack" to the app
# ---------------------------------------------------------------------------


def test_signature_accepted_by_sdk_and_tampering_rejected():
    body, ctype = slash_command("gap check")
    headers = sign(body, SECRET)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body.replace(b"gap", b"gab"), headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    stale = sign(body, SECRET, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(body, stale)


def test_request_shapes():
    form = slash_command("level 2", user_id="U9", channel_id="C9").payload
    assert {"token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name", "command",
            "text", "api_app_id", "is_enterprise_install", "response_url", "trigger_id"} <= set(form)
    assert (form["text"], form["user_id"], form["command"]) == ("level 2", "U9", "/ladder")

    p = block_actions("pick", "3", message_ts="1700000000.000100").payload
    assert p["type"] == "block_actions" and p["container"]["message_ts"] == "1700000000.000100"
    assert p["actions"][0]["value"] == "3" and p["actions"][0]["type"] == "button"
    assert {"id", "username", "name", "team_id"} <= set(p["user"])
    sel = block_actions("lvl", "L3", action_type="static_select").payload["actions"][0]
    assert sel["selected_option"]["value"] == "L3"

    v = view_submission("gap", {"q1": {"a": "yes"}}, user_id="U2", private_metadata="m").payload
    assert v["view"]["state"]["values"]["q1"]["a"] == {"type": "plain_text_input", "value": "yes"}
    assert v["view"]["callback_id"] == "gap" and v["view"]["private_metadata"] == "m"

    e = event_callback(app_mention("hi", user="U3", channel="C3")).payload
    assert e["type"] == "event_callback" and e["event"]["text"] == "<@UBOT> hi" and e["event_id"].startswith("Ev")
    assert url_verification("abc").payload == {"token": "verification-token", "challenge": "abc",
                                               "type": "url_verification"}


# ---------------------------------------------------------------------------
# End to end: a real Bolt app behind HTTP, talking to the stand-in
# ---------------------------------------------------------------------------


@pytest.fixture
def bolt_url(slack):
    from slack_bolt import App
    from slack_bolt.request import BoltRequest

    app = App(signing_secret=SECRET, client=WebClient(token="xoxb-test", base_url=slack.api_url))

    @app.command("/ladder")
    def on_command(ack, respond, command):
        ack()
        respond(f"You asked: {command['text']}")

    @app.action("pick")
    def on_pick(ack, body, client):
        ack()
        client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"],
                           text=f"Picked {body['actions'][0]['value']}")

    @app.event("app_mention")
    def on_mention(event, say, client):
        client.reactions_add(channel=event["channel"], timestamp=event["ts"], name="eyes")
        say("Here's the ladder", thread_ts=event["ts"])

    @app.event("message")
    def on_dm(event, say):
        say(f"DM: {event['text']}")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
            resp = app.dispatch(BoltRequest(body=body, headers={k: [v] for k, v in self.headers.items()}))
            data = (resp.body or "").encode("utf-8")
            self.send_response(resp.status)
            for k, values in resp.headers.items():
                for v in values:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    server.shutdown()
    server.server_close()


def test_bolt_app_end_to_end(slack, bolt_url):
    slack.wait_for("auth.test")  # Bolt checks its token at start-up

    status, _, _ = post(bolt_url, slash_command("what is level 2?", response_url=slack.new_response_url(
        channel="C1", user="U1")), secret=SECRET)
    assert status == 200
    [resp] = slack.wait_for("response_url")
    assert resp.args["text"] == "You asked: what is level 2?"

    ts = slack.add_message("D1", "pick one", user="UBOT")
    status, _, _ = post(bolt_url, block_actions("pick", "L3", channel_id="D1", message_ts=ts), secret=SECRET)
    assert status == 200
    slack.wait_for("chat.update")
    assert slack.messages("D1")[0]["text"] == "Picked L3"

    mention = app_mention("ladder please", user="U1", channel="C1")
    status, _, _ = post(bolt_url, event_callback(mention), secret=SECRET)
    assert status == 200
    [said] = slack.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") == mention["ts"])
    assert said.args["text"] == "Here's the ladder"
    [mentioned] = [m for m in slack.messages("C1") if m["ts"] == mention["ts"]]
    assert mentioned["reactions"][0]["name"] == "eyes" and mentioned["reply_count"] == 1

    status, _, _ = post(bolt_url, event_callback(message_im("hello")), secret=SECRET, retry_num=1)
    assert status == 200
    slack.wait_for("chat.postMessage", lambda c: c.args.get("text") == "DM: hello")

    assert post(bolt_url, url_verification("chal"), secret=SECRET)[2] == '{"challenge": "chal"}'
    # Unsigned or wrongly signed requests are refused by Bolt.
    assert post(bolt_url, slash_command("x"), secret="wrong")[0] == 401


# ---------------------------------------------------------------------------
# The agent experience: status, suggested prompts, streams, feedback buttons
# ---------------------------------------------------------------------------

FEEDBACK_BLOCK = {"type": "context_actions", "elements": [{
    "type": "feedback_buttons", "action_id": "fb",
    "positive_button": {"text": {"type": "plain_text", "text": "👍"}, "value": "up|1"},
    "negative_button": {"text": {"type": "plain_text", "text": "👎"}, "value": "down|1"}}]}


def test_status_shows_until_the_apps_reply_in_the_thread_clears_it(slack, client):
    dm = slack.dm_channel("U1")
    ts = slack.add_message(dm, "question")
    client.assistant_threads_setStatus(channel_id=dm, thread_ts=ts, status="is reading…", loading_messages=["a", "b"])
    assert slack.status(dm, ts) == {"status": "is reading…", "loading_messages": ["a", "b"]}
    client.chat_postMessage(channel=dm, thread_ts=ts, text="answer")
    assert slack.status(dm, ts) is None
    with pytest.raises(SlackApiError) as err:
        client.assistant_threads_setStatus(channel_id=dm, thread_ts=ts, status="x", loading_messages=["m"] * 11)
    assert err.value.response["error"] == "invalid_arguments"


def test_suggested_prompts_take_one_to_four_titled_prompts(slack, client):
    dm = slack.dm_channel("U1")
    client.assistant_threads_setSuggestedPrompts(channel_id=dm, prompts=[{"title": "A?", "message": "A?"}], title="T")
    assert slack.suggested_prompts(dm) == {"title": "T", "prompts": [{"title": "A?", "message": "A?"}]}
    for bad in ([{"title": str(i), "message": str(i)} for i in range(5)], [{"title": "", "message": "x"}], []):
        with pytest.raises(SlackApiError) as err:
            client.assistant_threads_setSuggestedPrompts(channel_id=dm, prompts=bad)
        assert err.value.response["error"] == "invalid_arguments"


@pytest.mark.parametrize("error", ["not_allowed_token_type", "feature_not_enabled"])
def test_a_refusing_workspace_answers_every_agent_method_and_the_feedback_block_with_an_error(slack, client, error):
    slack.refuse_agent(error)
    dm = slack.dm_channel("U1")
    for call in (lambda: client.assistant_threads_setStatus(channel_id=dm, thread_ts="1.0", status="x"),
                 lambda: client.assistant_threads_setSuggestedPrompts(channel_id=dm, prompts=[{"title": "a", "message": "a"}]),
                 lambda: client.chat_startStream(channel=dm, thread_ts="1.0", markdown_text="hi")):
        with pytest.raises(SlackApiError) as err:
            call()
        assert err.value.response["error"] == error and err.value.response.status_code == 200
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=dm, text="x", blocks=[FEEDBACK_BLOCK])
    assert err.value.response["error"] == "invalid_blocks"
    assert "context_actions" in json.dumps(err.value.response["errors"])
    slack.reset()
    client.chat_postMessage(channel=dm, text="x", blocks=[FEEDBACK_BLOCK])   # a workspace that has it


def test_a_stream_starts_appends_and_stops_in_the_thread(slack, client):
    dm = slack.dm_channel("U1")
    ts = slack.add_message(dm, "question")
    stream = client.chat_stream(channel=dm, thread_ts=ts, buffer_size=5)
    stream.append(markdown_text="**Hello** ")
    stream.append(markdown_text="world")
    stream.stop(blocks=[FEEDBACK_BLOCK])
    [msg] = [m for m in slack.thread(dm, ts) if m["ts"] != ts]
    assert msg["text"] == "**Hello** world" and msg["streaming_state"] == "completed"
    assert msg["blocks"] == [FEEDBACK_BLOCK]
    assert [c.method for c in slack.calls()] == ["chat.startStream", "chat.appendStream", "chat.stopStream"]
    with pytest.raises(SlackApiError) as err:          # a finished stream takes no more
        client.chat_appendStream(channel=dm, ts=msg["ts"], markdown_text="more")
    assert err.value.response["error"] == "message_not_in_streaming_state"


def test_stream_calls_check_their_arguments(slack, client):
    dm = slack.dm_channel("U1")
    cases = [
        (lambda: client.chat_startStream(channel="C1", thread_ts="1.0", markdown_text="x"), "invalid_arguments"),  # channel: who reads it?
        (lambda: client.chat_startStream(channel=dm, thread_ts="1.0", markdown_text="x" * 12_001), "invalid_arguments"),
        (lambda: client.chat_startStream(channel=dm, thread_ts="1.0", chunks=[{"type": "bogus"}]), "invalid_chunks"),
        (lambda: client.api_call("chat.startStream", json={"channel": dm}), "invalid_arguments"),
        (lambda: client.chat_appendStream(channel=dm, ts="9.9", markdown_text="x"), "message_not_found"),
    ]
    for call, error in cases:
        with pytest.raises(SlackApiError) as err:
            call()
        assert err.value.response["error"] == error
    started = client.chat_startStream(channel="C1", thread_ts="1.0", recipient_team_id="T1", recipient_user_id="U1",
                                      markdown_text="x")
    with pytest.raises(SlackApiError) as err:
        client.chat_appendStream(channel="C1", ts=started["ts"])
    assert err.value.response["error"] == "invalid_arguments"
    slack.stop_stream_by_user("C1", started["ts"])
    with pytest.raises(SlackApiError) as err:
        client.chat_appendStream(channel="C1", ts=started["ts"], markdown_text="y")
    assert err.value.response["error"] == "stopped_by_user"


def test_markdown_blocks_share_twelve_thousand_characters(slack, client):
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="x", blocks=[{"type": "markdown", "text": "a" * 7000},
                                                                {"type": "markdown", "text": "b" * 7000}])
    assert err.value.response["error"] == "invalid_blocks"


def test_feedback_buttons_arrive_as_a_block_action_with_the_pressed_value():
    req = block_actions("fb", "down|7", action_type="feedback_buttons")
    payload = json.loads(dict(__import__("urllib.parse").parse.parse_qsl(req.body.decode()))["payload"])
    [action] = payload["actions"]
    assert action["type"] == "feedback_buttons" and action["value"] == "down|7"
    assert payload["message"]["blocks"][0]["type"] == "context_actions"

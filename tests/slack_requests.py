"""Requests exactly as Slack sends them to an app, signed with the signing secret.

    req = slash_command("gap check")             # SlackRequest(body, content_type)
    status, headers, text = post(url, req, secret=SECRET)

    headers = {"Content-Type": req.content_type, **sign(req.body, SECRET)}
    bolt_app.dispatch(BoltRequest(body=req.body.decode(), headers=headers))

Builders of whole requests (slash_command, block_actions, view_submission,
event_callback, url_verification) return a :class:`SlackRequest`, a named tuple
``(body: bytes, content_type: str)`` -- so ``body, ctype = slash_command(...)``
works -- with ``.payload`` giving the decoded dict. Event builders (app_mention,
message_im, app_home_opened) return the inner ``event`` dict for event_callback.

Signing: https://api.slack.com/authentication/verifying-requests-from-slack
``v0=`` + hex HMAC-SHA256(secret, ``v0:{timestamp}:{body}``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode

__all__ = [
    "SlackRequest", "sign", "slash_command", "block_actions", "view_submission", "event_callback",
    "url_verification", "app_mention", "message_im", "app_home_opened", "post", "FORM", "JSON",
]

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

TEAM_ID = "T1"
TEAM_DOMAIN = "ladder-test"
API_APP_ID = "A1"
BOT_USER_ID = "UBOT"
# The (deprecated) verification token Slack still puts in every payload.
VERIFICATION_TOKEN = "verification-token"
DEFAULT_RESPONSE_URL = "https://hooks.slack.com/commands/T1/1234567890/abcdefghijklmnopqrstuvwx"

_counter = itertools.count(1)


class SlackRequest(NamedTuple):
    body: bytes
    content_type: str

    @property
    def payload(self) -> dict:
        """The decoded request: the JSON ``payload`` field, the JSON body, or the form fields."""
        text = self.body.decode("utf-8")
        if self.content_type.startswith(JSON):
            return json.loads(text)
        form = dict(parse_qsl(text, keep_blank_values=True))
        return json.loads(form["payload"]) if "payload" in form else form


def _n() -> int:
    return next(_counter)


def _ts() -> str:
    """A message ts ("seconds.micro") unique within this process."""
    return f"{int(time.time())}.{_n():06d}"


def _trigger_id() -> str:
    n = _n()
    return f"{int(time.time())}{n:03d}.{1000000000 + n}.{uuid.uuid4().hex[:24]}"


def _user(user_id: str, team_id: str) -> dict:
    name = user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _payload_form(payload: dict) -> SlackRequest:
    return SlackRequest(urlencode({"payload": json.dumps(payload)}).encode("utf-8"), FORM)


# ---------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------


def sign(body: bytes | str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The X-Slack-Request-Timestamp and X-Slack-Signature headers for ``body``."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    ts = str(int(time.time()) if timestamp is None else int(timestamp))
    base = b"v0:" + ts.encode("ascii") + b":" + body
    digest = hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


# ---------------------------------------------------------------------------
# Slash commands and interactivity
# ---------------------------------------------------------------------------


def slash_command(
    text: str,
    user_id: str = "U1",
    channel_id: str = "C1",
    command: str = "/ladder",
    response_url: str = DEFAULT_RESPONSE_URL,
    trigger_id: str | None = None,
    *,
    user_name: str | None = None,
    channel_name: str | None = None,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = API_APP_ID,
    token: str = VERIFICATION_TOKEN,
) -> SlackRequest:
    """A slash command invocation: a form-urlencoded body with Slack's fields, in Slack's order."""
    if channel_name is None:
        channel_name = "directmessage" if channel_id.startswith("D") else f"channel-{channel_id.lower()}"
    fields = [
        ("token", token),
        ("team_id", team_id),
        ("team_domain", team_domain),
        ("channel_id", channel_id),
        ("channel_name", channel_name),
        ("user_id", user_id),
        ("user_name", user_name or user_id.lower()),
        ("command", command),
        ("text", text),
        ("api_app_id", api_app_id),
        ("is_enterprise_install", "false"),
        ("response_url", response_url),
        ("trigger_id", trigger_id or _trigger_id()),
    ]
    return SlackRequest(urlencode(fields).encode("utf-8"), FORM)


def block_actions(
    action_id: str,
    value: str | None = None,
    user_id: str = "U1",
    channel_id: str = "D1",
    message_ts: str | None = None,
    block_id: str | None = None,
    response_url: str = "https://hooks.slack.com/actions/T1/1234567890/abcdefghijklmnopqrstuvwx",
    trigger_id: str | None = None,
    container: dict | None = None,
    state: dict | None = None,
    *,
    action_type: str = "button",
    text: str | None = None,
    option_text: str | None = None,
    message: dict | None = None,
    view: dict | None = None,
    team_id: str = TEAM_ID,
    api_app_id: str = API_APP_ID,
    token: str = VERIFICATION_TOKEN,
) -> SlackRequest:
    """A ``block_actions`` interaction (``payload=<json>`` form field).

    action_type "button" (``value``) or "static_select" (``value`` becomes
    ``selected_option.value``). Clicks in a message by default; pass ``view``
    (a view dict with an ``id``) for a click in App Home / a modal, which has a
    view container and no channel, message or response_url.
    """
    block_id = block_id or f"b-{action_id}"
    action_ts = f"{time.time():.6f}"
    if action_type == "button":
        label = text or (value or action_id)
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "text": {"type": "plain_text", "text": label, "emoji": True},
            "value": value,
            "type": "button",
            "action_ts": action_ts,
        }
        if value is None:
            del action["value"]
        element: dict[str, Any] = {k: v for k, v in action.items() if k not in ("block_id", "action_ts")}
    elif action_type == "static_select":
        option = {"text": {"type": "plain_text", "text": option_text or str(value), "emoji": True}, "value": value}
        action = {
            "type": "static_select",
            "action_id": action_id,
            "block_id": block_id,
            "selected_option": option,
            "placeholder": {"type": "plain_text", "text": text or "Choose", "emoji": True},
            "action_ts": action_ts,
        }
        element = {"type": "static_select", "action_id": action_id, "placeholder": action["placeholder"],
                   "options": [option]}
    elif action_type == "feedback_buttons":
        # Slack's own 👍/👎 in a context_actions block: the action carries the pressed button's value and text
        positive = (value or "").startswith("up")
        action = {
            "type": "feedback_buttons",
            "action_id": action_id,
            "block_id": block_id,
            "value": value,
            "text": {"type": "plain_text", "text": text or ("👍" if positive else "👎"), "emoji": True},
            "action_ts": action_ts,
        }
        element = None
    else:
        raise ValueError(f"unsupported action_type {action_type!r}")

    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": api_app_id,
        "token": token,
        "container": None,
        "trigger_id": trigger_id or _trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if element is None:
        up, down = (value, value.replace("up", "down", 1)) if positive else (value.replace("down", "up", 1), value)
        blocks = [{"type": "context_actions", "block_id": block_id, "elements": [{
            "type": "feedback_buttons", "action_id": action_id,
            "positive_button": {"text": {"type": "plain_text", "text": "👍"}, "value": up},
            "negative_button": {"text": {"type": "plain_text", "text": "👎"}, "value": down}}]}]
    else:
        blocks = [{"type": "actions", "block_id": block_id, "elements": [element]}]
    if view is not None:
        view = {"id": view.get("id", "V1"), "team_id": team_id, "type": "home", "blocks": blocks,
                "private_metadata": "", "callback_id": "", "state": {"values": {}}, "hash": f"{int(time.time())}.abc",
                "app_id": api_app_id, "external_id": "", "root_view_id": view.get("id", "V1"),
                "previous_view_id": None, "bot_id": "BBOT", **view}
        payload["container"] = container or {"type": "view", "view_id": view["id"]}
        payload["view"] = view
        payload["state"] = state if state is not None else view.get("state", {"values": {}})
    else:
        message_ts = message_ts or _ts()
        payload["container"] = container or {
            "type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": False,
        }
        payload["channel"] = {
            "id": channel_id, "name": "directmessage" if channel_id.startswith("D") else f"channel-{channel_id.lower()}",
        }
        payload["message"] = message or {
            "user": BOT_USER_ID, "type": "message", "ts": message_ts, "bot_id": "BBOT", "app_id": api_app_id,
            "text": "This content can't be displayed.", "team": team_id, "blocks": blocks,
        }
        payload["state"] = state if state is not None else {"values": {}}
        payload["response_url"] = response_url
    payload["actions"] = [action]
    return _payload_form(payload)


def _state_values(values: dict) -> dict:
    """Accept Slack's ``{block_id: {action_id: {"type":..., "value":...}}}`` or the
    shorthand ``{block_id: {action_id: "text"}}`` (-> plain_text_input)."""
    out: dict = {}
    for block_id, actions in values.items():
        out[block_id] = {}
        for action_id, v in actions.items():
            out[block_id][action_id] = v if isinstance(v, dict) else {"type": "plain_text_input", "value": v}
    return out


def view_submission(
    callback_id: str,
    values: dict,
    user_id: str = "U1",
    private_metadata: str = "",
    view_id: str | None = None,
    *,
    title: str = "Ladder",
    blocks: list | None = None,
    view_hash: str | None = None,
    external_id: str = "",
    response_urls: list | None = None,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    api_app_id: str = API_APP_ID,
    token: str = VERIFICATION_TOKEN,
) -> SlackRequest:
    """A modal submission (``payload=<json>``); ``values`` as in ``view.state.values``."""
    view_id = view_id or f"V{_n():010d}"
    state = _state_values(values)
    if blocks is None:
        blocks = [
            {"type": "input", "block_id": b, "label": {"type": "plain_text", "text": b, "emoji": True},
             "element": {"type": a["type"], "action_id": aid}}
            for b, acts in state.items() for aid, a in acts.items()
        ]
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, team_id),
        "api_app_id": api_app_id,
        "token": token,
        "trigger_id": trigger_id or _trigger_id(),
        "view": {
            "id": view_id, "team_id": team_id, "type": "modal", "blocks": blocks,
            "private_metadata": private_metadata, "callback_id": callback_id, "state": {"values": state},
            "hash": view_hash or f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "title": {"type": "plain_text", "text": title, "emoji": True},
            "clear_on_close": False, "notify_on_close": False, "close": None,
            "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
            "previous_view_id": None, "root_view_id": view_id, "app_id": api_app_id,
            "external_id": external_id, "app_installed_team_id": team_id, "bot_id": "BBOT",
        },
        "response_urls": response_urls or [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _payload_form(payload)


# ---------------------------------------------------------------------------
# Events API
# ---------------------------------------------------------------------------


def event_callback(
    event: dict,
    event_id: str | None = None,
    team_id: str = TEAM_ID,
    *,
    api_app_id: str = API_APP_ID,
    bot_user_id: str = BOT_USER_ID,
    event_time: int | None = None,
    token: str = VERIFICATION_TOKEN,
) -> SlackRequest:
    """The Events API envelope around ``event`` (a JSON body)."""
    body = {
        "token": token,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{_n():09d}",
        "event_time": event_time or int(time.time()),
        "authorizations": [
            {"enterprise_id": None, "team_id": team_id, "user_id": bot_user_id, "is_bot": True,
             "is_enterprise_install": False}
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
    }
    return SlackRequest(json.dumps(body).encode("utf-8"), JSON)


def url_verification(challenge: str, *, token: str = VERIFICATION_TOKEN) -> SlackRequest:
    body = {"token": token, "challenge": challenge, "type": "url_verification"}
    return SlackRequest(json.dumps(body).encode("utf-8"), JSON)


def _rich_text(text: str) -> list[dict]:
    return [{
        "type": "rich_text", "block_id": uuid.uuid4().hex[:5],
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }]


def app_mention(
    text: str,
    user: str = "U1",
    channel: str = "C1",
    ts: str | None = None,
    *,
    thread_ts: str | None = None,
    bot_user_id: str = BOT_USER_ID,
    team_id: str = TEAM_ID,
) -> dict:
    """An ``app_mention`` event; ``<@UBOT> `` is prefixed unless the text already mentions the bot."""
    mention = f"<@{bot_user_id}>"
    if mention not in text:
        text = f"{mention} {text}"
    ts = ts or _ts()
    event = {
        "type": "app_mention", "user": user, "text": text, "ts": ts, "team": team_id,
        "client_msg_id": str(uuid.uuid4()), "blocks": _rich_text(text), "channel": channel, "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message_im(
    text: str,
    user: str = "U1",
    channel: str = "D1",
    ts: str | None = None,
    *,
    thread_ts: str | None = None,
    team_id: str = TEAM_ID,
) -> dict:
    """A ``message`` event in the app's DM (``channel_type: "im"``)."""
    ts = ts or _ts()
    event = {
        "client_msg_id": str(uuid.uuid4()), "type": "message", "text": text, "user": user, "ts": ts,
        "blocks": _rich_text(text), "team": team_id, "channel": channel, "event_ts": ts, "channel_type": "im",
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = user
    return event


def message_channel(
    text: str,
    user: str = "U1",
    channel: str = "C1",
    ts: str | None = None,
    *,
    thread_ts: str | None = None,
    channel_type: str = "channel",
    team_id: str = TEAM_ID,
) -> dict:
    """A ``message`` event in a channel (``message.channels``; ``channel_type: "group"`` for private ones)."""
    event = message_im(text, user=user, channel=channel, ts=ts, thread_ts=thread_ts, team_id=team_id)
    event["channel_type"] = channel_type
    return event


def assistant_thread_started(user: str = "U1", channel: str = "D1", thread_ts: str | None = None,
                             *, team_id: str = TEAM_ID) -> dict:
    """``assistant_thread_started``: someone opened a new thread with the app in its agent view."""
    thread_ts = thread_ts or _ts()
    return {"type": "assistant_thread_started", "event_ts": f"{time.time():.6f}",
            "assistant_thread": {"user_id": user, "channel_id": channel, "thread_ts": thread_ts,
                                 "context": {"channel_id": None, "team_id": team_id, "enterprise_id": None}}}


def app_home_opened(user: str = "U1", channel: str = "D1", *, tab: str = "home", view: dict | None = None) -> dict:
    """An ``app_home_opened`` event; ``view`` is present once a Home view was published."""
    event = {"type": "app_home_opened", "user": user, "channel": channel, "tab": tab,
             "event_ts": f"{time.time():.6f}"}
    if view is not None:
        event["view"] = view
    return event


# ---------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------


def post(
    url: str,
    body: bytes | str | SlackRequest,
    content_type: str | None = None,
    secret: str | None = None,
    *,
    timestamp: int | None = None,
    headers: dict | None = None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
    timeout: float = 10.0,
) -> tuple[int, dict, str]:
    """POST like Slack does; returns (status, response headers, body text).

    ``body`` may be a :class:`SlackRequest` (then ``content_type`` may be omitted).
    With ``secret=None`` the request goes unsigned. ``retry_num`` adds
    ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason`` as on Slack's redeliveries.
    """
    if isinstance(body, SlackRequest):
        body, content_type = body.body, content_type or body.content_type
    if isinstance(body, str):
        body = body.encode("utf-8")
    send_headers = {
        "Content-Type": content_type or FORM,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "Accept": "*/*",
        "Accept-Encoding": "identity",
    }
    if secret is not None:
        send_headers.update(sign(body, secret, timestamp))
    if retry_num is not None:
        send_headers["X-Slack-Retry-Num"] = str(retry_num)
        send_headers["X-Slack-Retry-Reason"] = retry_reason
    send_headers.update(headers or {})
    req = urllib.request.Request(url, data=body, headers=send_headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers.items()), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), err.read().decode("utf-8", "replace")

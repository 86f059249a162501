"""A loopback stand-in for Slack's Web API, for end-to-end tests.

    with SlackStandIn() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        client.chat_postMessage(channel="C1", text="hi")
        [call] = slack.wait_for("chat.postMessage")
        assert slack.messages("C1")[-1]["text"] == "hi"

The server speaks the wire format Slack does, so the real ``slack_sdk.WebClient``
and a real Bolt ``App`` can be pointed at it with ``base_url=slack.api_url``:

* ``POST`` (or ``GET``) ``/api/<method>`` with a form-urlencoded, multipart or JSON
  body, token in ``Authorization: Bearer`` or (not for JSON bodies) a ``token``
  field. Errors are HTTP 200 ``{"ok": false, "error": ...}`` as on Slack; an
  unknown method is HTTP 404 ``unknown_method``.
* ``POST /upload/<file_id>`` -- the URL ``files.getUploadURLExternal`` hands out
  (step 2 of ``files_upload_v2``); answers ``OK - <bytes>`` like files.slack.com.
* ``POST /response/<id>`` -- a ``response_url`` made by :meth:`new_response_url`.

Every request is recorded as a :class:`Call` (also faulted and rejected ones).
Faults are injected per method with :meth:`SlackStandIn.fail` (HTTP 429/5xx) and
:meth:`SlackStandIn.error` (HTTP 200, ``ok: false``).

Where Slack's documented behaviour differs from a naive guess, the stand-in
follows Slack:

* invalid blocks in messages -> ``invalid_blocks`` with ``errors`` and
  ``response_metadata.messages`` carrying ``[json-pointer:/blocks/...]``;
  blocks that are not a JSON array -> ``invalid_blocks_format``;
* invalid views (``views.*``) -> ``invalid_arguments`` with
  ``response_metadata.messages`` (``[json-pointer:/view/...]``), not ``invalid_blocks``;
* message ``text`` over 40,000 characters is truncated and posted with warning
  ``message_truncated`` (pass ``long_text="error"`` for ``msg_too_long`` instead).

The agent experience (``assistant.threads.setStatus`` / ``setSuggestedPrompts``, ``chat.startStream`` /
``appendStream`` / ``stopStream``, ``context_actions`` blocks with ``feedback_buttons``) is there as on a
workspace that has it; :meth:`SlackStandIn.refuse_agent` makes it a workspace that refuses it: every agent
method answers ``ok: false`` with the given error (``not_allowed_token_type``, ``feature_not_enabled``, …)
and a ``context_actions`` block is ``invalid_blocks`` (an unsupported block type). A status is cleared by
the app's next message in its thread, as on Slack; a stream is a message with ``streaming_state``
``in_progress`` until ``chat.stopStream`` (``completed``), and appending to a message that is not
streaming is ``message_not_in_streaming_state``.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlsplit

__all__ = ["Call", "SlackStandIn", "validate_blocks", "validate_view"]

# ---------------------------------------------------------------------------
# Limits (https://docs.slack.dev/reference/block-kit/...)
# ---------------------------------------------------------------------------

MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
MESSAGE_TEXT_MAX = 40_000
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
URL_MAX = 3000
ACTION_ID_MAX = 255
BLOCK_ID_MAX = 255
ACTIONS_ELEMENTS_MAX = 25
CONTEXT_ELEMENTS_MAX = 10
OPTIONS_MAX = 100
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
MARKDOWN_BLOCK_TEXT_MAX = 12_000
MARKDOWN_TEXT_MAX = 12_000        # markdown_text / a markdown_text chunk of the stream methods
LOADING_MESSAGES_MAX = 10         # assistant.threads.setStatus
SUGGESTED_PROMPTS_MAX = 4         # assistant.threads.setSuggestedPrompts
CONTEXT_ACTIONS_ELEMENTS_MAX = 5
FEEDBACK_TEXT_MAX = 75
AGENT_METHODS = ("assistant.threads.setStatus", "assistant.threads.setSuggestedPrompts", "assistant.threads.setTitle",
                 "chat.startStream", "chat.appendStream", "chat.stopStream")
VIEW_TITLE_MAX = 24
VIEW_BUTTON_MAX = 24
PRIVATE_METADATA_MAX = 3000
CALLBACK_ID_MAX = 255
RESPONSE_URL_MAX_USES = 5  # "up to 5 times within 30 minutes"

TRUNCATION_WARNING = (
    "[WARN] Your message was truncated but still posted. "
    "The `text` field accepts up to 40,000 characters."
)

# Fields that Slack takes as JSON-encoded strings in form bodies.
JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata", "chunks", "prompts", "loading_messages")


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------


@dataclass
class Call:
    """One request the stand-in received."""

    method: str  # "chat.postMessage", ..., or "upload" / "response_url"
    args: dict  # decoded arguments; JSON-string fields (blocks, view, ...) parsed
    headers: dict
    at: float  # time.monotonic() on arrival
    response: Any  # dict (API) or str (upload / response_url)
    status: int
    token: str | None = None
    reason: str | None = None  # why it was rejected / faulted, when it was
    raw_args: dict = field(default_factory=dict)  # as sent (strings for form bodies)
    body: bytes = b""
    content_type: str = ""
    http_method: str = "POST"

    @property
    def ok(self) -> bool:
        if isinstance(self.response, dict):
            return bool(self.response.get("ok")) and self.status == 200
        return self.status == 200

    @property
    def error(self) -> str | None:
        if isinstance(self.response, dict):
            return self.response.get("error")
        return None if self.status == 200 else str(self.response)

    def header(self, name: str, default: str | None = None) -> str | None:
        """A request header, case-insensitively."""
        low = name.lower()
        for k, v in self.headers.items():
            if k.lower() == low:
                return v
        return default

    def summary(self) -> str:
        outcome = "ok" if self.ok else f"{self.status} {self.error or ''}".strip()
        shown = {k: _short(v) for k, v in self.args.items() if k != "token"}
        extra = f" ({self.reason})" if self.reason else ""
        return f"{self.method} -> {outcome}{extra} args={shown}"


def _short(v: Any, n: int = 60) -> str:
    s = v if isinstance(v, str) else json.dumps(v, default=str)
    return s if len(s) <= n else s[: n - 3] + "..."


class _ApiError(Exception):
    def __init__(self, error: str, reason: str | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.reason = reason
        self.extra = extra


@dataclass
class _Fault:
    status: int
    body: Any
    headers: dict
    times: int
    reason: str
    after: bool = False  # the call takes effect first; only the answer is the fault


def _http_fault(status: int, retry_after: int | None, body: Any, times: int, after: bool) -> _Fault:
    headers: dict = {}
    if status == 429:
        if retry_after is not None:
            headers["Retry-After"] = str(int(retry_after))
        default = {"ok": False, "error": "ratelimited"}
    elif status == 503:
        default = {"ok": False, "error": "service_unavailable"}
    elif status >= 500:
        default = {"ok": False, "error": "internal_error"}
    else:
        default = {"ok": False, "error": f"http_{status}"}
    reason = f"injected HTTP {status}" if status else "injected dropped connection"
    if after:
        reason += " after carrying the call out"
    return _Fault(status, default if body is None else body, headers, times, reason, after)


# ---------------------------------------------------------------------------
# Block Kit validation
# ---------------------------------------------------------------------------


def _text_obj(errors: list, obj: Any, ptr: str, *, max_len: int | None, plain_only: bool = False) -> None:
    if not isinstance(obj, dict):
        errors.append(f"must be an object [json-pointer:{ptr}]")
        return
    kind = obj.get("type")
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if kind not in allowed:
        errors.append(f"must be one of {list(allowed)} [json-pointer:{ptr}/type]")
    text = obj.get("text")
    if not isinstance(text, str) or text == "":
        errors.append(f"must be more than 0 characters [json-pointer:{ptr}/text]")
    elif max_len is not None and len(text) > max_len:
        errors.append(f"must be less than {max_len + 1} characters [json-pointer:{ptr}/text]")


def _element(errors: list, el: Any, ptr: str) -> None:
    if not isinstance(el, dict):
        errors.append(f"must be an object [json-pointer:{ptr}]")
        return
    kind = el.get("type")
    aid = el.get("action_id")
    if isinstance(aid, str) and len(aid) > ACTION_ID_MAX:
        errors.append(f"must be less than {ACTION_ID_MAX + 1} characters [json-pointer:{ptr}/action_id]")
    if kind == "button":
        _text_obj(errors, el.get("text"), f"{ptr}/text", max_len=BUTTON_TEXT_MAX, plain_only=True)
        val = el.get("value")
        if isinstance(val, str) and len(val) > BUTTON_VALUE_MAX:
            errors.append(f"must be less than {BUTTON_VALUE_MAX + 1} characters [json-pointer:{ptr}/value]")
        url = el.get("url")
        if isinstance(url, str) and len(url) > URL_MAX:
            errors.append(f"must be less than {URL_MAX + 1} characters [json-pointer:{ptr}/url]")
        if el.get("style") not in (None, "primary", "danger"):
            errors.append(f"must be one of ['primary', 'danger'] [json-pointer:{ptr}/style]")
    elif kind == "feedback_buttons":
        for side in ("positive_button", "negative_button"):
            button = el.get(side)
            if not isinstance(button, dict):
                errors.append(f"missing required field: {side} [json-pointer:{ptr}]")
                continue
            _text_obj(errors, button.get("text"), f"{ptr}/{side}/text", max_len=FEEDBACK_TEXT_MAX, plain_only=True)
            val = button.get("value")
            if not isinstance(val, str) or not val:
                errors.append(f"missing required field: value [json-pointer:{ptr}/{side}]")
            elif len(val) > BUTTON_VALUE_MAX:
                errors.append(f"must be less than {BUTTON_VALUE_MAX + 1} characters [json-pointer:{ptr}/{side}/value]")
    elif kind in ("static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow"):
        opts = el.get("options")
        groups = el.get("option_groups")
        if opts is None and groups is None:
            errors.append(f"missing required field: options [json-pointer:{ptr}]")
        for gi, group in enumerate(groups or []):
            for oi, opt in enumerate((group or {}).get("options") or []):
                _option(errors, opt, f"{ptr}/option_groups/{gi}/options/{oi}")
        if opts is not None:
            if not isinstance(opts, list):
                errors.append(f"must be an array [json-pointer:{ptr}/options]")
            else:
                if len(opts) > OPTIONS_MAX:
                    errors.append(f"must provide no more than {OPTIONS_MAX} items [json-pointer:{ptr}/options]")
                for oi, opt in enumerate(opts):
                    _option(errors, opt, f"{ptr}/options/{oi}")


def _option(errors: list, opt: Any, ptr: str) -> None:
    if not isinstance(opt, dict):
        errors.append(f"must be an object [json-pointer:{ptr}]")
        return
    _text_obj(errors, opt.get("text"), f"{ptr}/text", max_len=OPTION_TEXT_MAX)
    val = opt.get("value")
    if isinstance(val, str) and len(val) > OPTION_VALUE_MAX:
        errors.append(f"must be less than {OPTION_VALUE_MAX + 1} characters [json-pointer:{ptr}/value]")


def _elements(errors: list, els: Any, ptr: str, most: int, kinds: tuple[str, ...] | None = None) -> None:
    """The elements of an actions or context_actions block: 1..``most``, each of ``kinds`` (when given)."""
    if not isinstance(els, list) or not els:
        errors.append(f"must provide at least 1 item [json-pointer:{ptr}/elements]")
        return
    if len(els) > most:
        errors.append(f"no more than {most} items allowed [json-pointer:{ptr}/elements]")
    for ei, el in enumerate(els):
        if kinds and (not isinstance(el, dict) or el.get("type") not in kinds):
            errors.append(f"must be one of {list(kinds)} [json-pointer:{ptr}/elements/{ei}/type]")
        else:
            _element(errors, el, f"{ptr}/elements/{ei}")


def validate_blocks(blocks: Any, *, limit: int = MESSAGE_BLOCKS_MAX, pointer: str = "/blocks",
                    unsupported: tuple[str, ...] = ()) -> list[str]:
    """Slack-style error strings ("... [json-pointer:/blocks/0/text/text]"); [] if valid."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block

    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(f"no more than {limit} items allowed [json-pointer:{pointer}]")
    seen_ids: set[str] = set()
    markdown_total = sum(len(b.get("text") or "") for b in blocks if isinstance(b, dict) and b.get("type") == "markdown"
                         and isinstance(b.get("text"), str))
    if markdown_total > MARKDOWN_BLOCK_TEXT_MAX:
        errors.append(f"markdown blocks may hold {MARKDOWN_BLOCK_TEXT_MAX} characters in all, not {markdown_total} "
                      f"[json-pointer:{pointer}]")
    for i, raw in enumerate(blocks):
        ptr = f"{pointer}/{i}"
        mine: list[str] = []
        if not isinstance(raw, dict):
            errors.append(f"must be an object [json-pointer:{ptr}]")
            continue
        if "type" not in raw:
            errors.append(f"missing required field: type [json-pointer:{ptr}]")
            continue
        kind = raw["type"]
        if kind in unsupported:
            errors.append(f"unsupported type: {kind} [json-pointer:{ptr}/type]")
            continue
        bid = raw.get("block_id")
        if bid is not None:
            if not isinstance(bid, str) or len(bid) > BLOCK_ID_MAX:
                mine.append(f"must be less than {BLOCK_ID_MAX + 1} characters [json-pointer:{ptr}/block_id]")
            elif bid in seen_ids:
                mine.append(f"duplicate block_id: {bid} [json-pointer:{ptr}/block_id]")
            else:
                seen_ids.add(bid)
        if kind == "section":
            if raw.get("text") is None and raw.get("fields") is None:
                mine.append(f"must provide either text or fields [json-pointer:{ptr}]")
            if raw.get("text") is not None:
                _text_obj(mine, raw["text"], f"{ptr}/text", max_len=SECTION_TEXT_MAX)
            fields = raw.get("fields")
            if fields is not None:
                if not isinstance(fields, list):
                    mine.append(f"must be an array [json-pointer:{ptr}/fields]")
                else:
                    if len(fields) > SECTION_FIELDS_MAX:
                        mine.append(f"no more than {SECTION_FIELDS_MAX} items allowed [json-pointer:{ptr}/fields]")
                    for fi, f in enumerate(fields):
                        _text_obj(mine, f, f"{ptr}/fields/{fi}", max_len=SECTION_FIELD_TEXT_MAX)
            if raw.get("accessory") is not None:
                _element(mine, raw["accessory"], f"{ptr}/accessory")
        elif kind == "header":
            _text_obj(mine, raw.get("text"), f"{ptr}/text", max_len=HEADER_TEXT_MAX, plain_only=True)
        elif kind == "actions":
            _elements(mine, raw.get("elements"), ptr, ACTIONS_ELEMENTS_MAX)
        elif kind == "context":
            els = raw.get("elements")
            if not isinstance(els, list) or not els:
                mine.append(f"must provide at least 1 item [json-pointer:{ptr}/elements]")
            elif len(els) > CONTEXT_ELEMENTS_MAX:
                mine.append(f"no more than {CONTEXT_ELEMENTS_MAX} items allowed [json-pointer:{ptr}/elements]")
        elif kind == "input":
            if raw.get("element") is None:
                mine.append(f"missing required field: element [json-pointer:{ptr}]")
            else:
                _element(mine, raw["element"], f"{ptr}/element")
            _text_obj(mine, raw.get("label"), f"{ptr}/label", max_len=2000, plain_only=True)
        elif kind == "context_actions":
            _elements(mine, raw.get("elements"), ptr, CONTEXT_ACTIONS_ELEMENTS_MAX, kinds=("feedback_buttons", "icon_button"))
        elif kind == "markdown":
            text = raw.get("text")
            if not isinstance(text, str) or not text:
                mine.append(f"must be more than 0 characters [json-pointer:{ptr}/text]")
            elif len(text) > MARKDOWN_BLOCK_TEXT_MAX:
                mine.append(f"must be less than {MARKDOWN_BLOCK_TEXT_MAX + 1} characters [json-pointer:{ptr}/text]")

        if not mine:
            # Then the SDK's own model + validators, recursively (to_dict validates).
            try:
                parsed = Block.parse(copy.deepcopy(raw))
                if parsed is None:
                    mine.append(f"unsupported block type: {kind!r} [json-pointer:{ptr}/type]")
                else:
                    parsed.to_dict()
            except SlackObjectFormationError as exc:
                mine.append(f"{exc} [json-pointer:{ptr}]")
            except Exception as exc:  # malformed structure the SDK can't even build
                mine.append(f"invalid block: {exc} [json-pointer:{ptr}]")
        errors.extend(mine)
    return errors


def validate_view(view: Any, *, kinds: tuple[str, ...]) -> list[str]:
    """Slack-style error strings for a view payload ([json-pointer:/view/...])."""
    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    errors: list[str] = []
    kind = view.get("type")
    if kind is None:
        errors.append("missing required field: type [json-pointer:/view]")
    elif kind not in kinds:
        errors.append(f"must be one of {list(kinds)} [json-pointer:/view/type]")
    if "blocks" not in view:
        errors.append("missing required field: blocks [json-pointer:/view]")
    else:
        errors.extend(validate_blocks(view["blocks"], limit=VIEW_BLOCKS_MAX, pointer="/view/blocks"))
    if kind == "modal":
        if view.get("title") is None:
            errors.append("missing required field: title [json-pointer:/view]")
        else:
            _text_obj(errors, view["title"], "/view/title", max_len=VIEW_TITLE_MAX, plain_only=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                _text_obj(errors, view[key], f"/view/{key}", max_len=VIEW_BUTTON_MAX, plain_only=True)
        blocks = view.get("blocks") if isinstance(view.get("blocks"), list) else []
        if view.get("submit") is None and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks):
            errors.append("must provide submit when the view has input blocks [json-pointer:/view/submit]")
    pm = view.get("private_metadata")
    if isinstance(pm, str) and len(pm) > PRIVATE_METADATA_MAX:
        errors.append(f"must be less than {PRIVATE_METADATA_MAX + 1} characters [json-pointer:/view/private_metadata]")
    for key in ("callback_id", "external_id"):
        v = view.get(key)
        if isinstance(v, str) and len(v) > CALLBACK_ID_MAX:
            errors.append(f"must be less than {CALLBACK_ID_MAX + 1} characters [json-pointer:/view/{key}]")
    return errors


# ---------------------------------------------------------------------------
# Request body parsing
# ---------------------------------------------------------------------------


def _header_params(value: str) -> tuple[str, dict]:
    m = Message()
    m["x"] = value
    params = {k.lower(): v for k, v in (m.get_params(header="x") or [])[1:]}
    return value.split(";")[0].strip().lower(), params


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict, dict]:
    """(fields, files) where files[name] = (filename, bytes, content_type)."""
    _, params = _header_params(content_type)
    boundary = params.get("boundary", "").strip('"')
    fields: dict = {}
    files: dict = {}
    if not boundary:
        return fields, files
    for part in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        if part.startswith(b"--"):
            break
        if part.startswith(b"\r\n"):
            part = part[2:]
        head, _, data = part.partition(b"\r\n\r\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        disp, ctype = "", "application/octet-stream"
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-disposition":
                disp = value.strip()
            elif name.strip().lower() == "content-type":
                ctype = value.strip()
        _, dparams = _header_params(disp) if disp else ("", {})
        name = dparams.get("name")
        if name is None:
            continue
        if "filename" in dparams:
            files[name] = (dparams["filename"], data, ctype)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes")
    return bool(v)


def _decode_json_fields(args: dict) -> dict:
    out = dict(args)
    for key in JSON_FIELDS:
        v = out.get(key)
        if isinstance(v, str):
            try:
                out[key] = json.loads(v)
            except ValueError:
                pass  # left as the string; handlers report the format error
    return out


# ---------------------------------------------------------------------------
# The stand-in
# ---------------------------------------------------------------------------


class SlackStandIn:
    """Slack's Web API on 127.0.0.1, with recording and fault injection."""

    team_id = "T1"
    team_name = "Ladder Test"
    team_domain = "ladder-test"
    bot_user_id = "UBOT"
    bot_id = "BBOT"
    bot_name = "ladder"
    app_id = "A1"

    def __init__(
        self,
        tokens: Iterable[str] = ("xoxb-test",),
        *,
        ts_base: int = 1_700_000_000,
        strict_messages: bool = False,
        long_text: str = "truncate",
    ) -> None:
        """
        tokens: bot tokens that authenticate.
        strict_messages: if False (default), reactions / permalinks / thread replies
            that refer to a message the stand-in has not seen (e.g. a user's message
            that arrived as an event) act on a placeholder for it; if True they fail
            with message_not_found as Slack would for a truly absent message.
            chat.update / chat.delete always need a known message.
        long_text: "truncate" (Slack: truncate > 40,000 chars, warning
            message_truncated) or "error" (reject with msg_too_long).
        """
        self.tokens = set(tokens)
        self.ts_base = ts_base
        self.strict_messages = strict_messages
        if long_text not in ("truncate", "error"):
            raise ValueError("long_text must be 'truncate' or 'error'")
        self.long_text = long_text
        # Configuration tests may change: user / channel overrides (None = does not exist).
        self.users: dict[str, dict | None] = {}
        self.channels: dict[str, dict | None] = {}

        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._base = ""
        self._clear_state()

    def _clear_state(self) -> None:
        with self._lock:
            self._calls: list[Call] = []
            self._faults: dict[str, deque[_Fault]] = {}
            self._nth_faults: dict[str, dict[int, _Fault]] = {}
            self._method_calls: dict[str, int] = {}
            self._counters: dict[str, int] = {}
            self._ts_n = 0
            self._messages: dict[str, list[dict]] = {}
            self._ephemerals: list[dict] = []
            self._dms: dict[str, str] = {}
            self._mpims: dict[tuple, str] = {}
            self._names: dict[str, str] = {}  # "#name" -> channel id
            self._channel_members: dict[str, list[str]] = {}
            self._views: dict[str, dict] = {}
            self._home: dict[str, str] = {}  # user -> view id
            self._used_triggers: set[str] = set()
            self._files: dict[str, dict] = {}
            self._response_urls: dict[str, dict] = {}
            self._statuses: dict[tuple[str, str], dict] = {}     # (channel, thread_ts) -> the status shown
            self._prompts: dict[tuple[str, str | None], dict] = {}  # (channel, thread_ts) -> suggested prompts
            self._agent_refusal: str | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> "SlackStandIn":
        if self._server is not None:
            return self
        standin = self

        class Handler(_Handler):
            pass

        Handler.standin = standin
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self._base = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> "SlackStandIn":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if not self._base:
            raise RuntimeError("SlackStandIn is not started")
        return self._base

    @property
    def api_url(self) -> str:
        """What WebClient(base_url=...) takes (with the trailing slash)."""
        return f"{self.base_url}/api/"

    # -- recording ---------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def last(self, method: str | None = None) -> Call:
        found = self.calls(method)
        if not found:
            raise AssertionError(f"no call to {method or 'any method'}; saw:\n{self._seen()}")
        return found[-1]

    @property
    def responses(self) -> list[Call]:
        """Posts to response_urls (method "response_url"), oldest first."""
        return self.calls("response_url")

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = lambda call: True,
        timeout: float = 5.0,
        count: int = 1,
    ) -> list[Call]:
        """All calls to ``method`` matching ``predicate`` once there are at least ``count``."""
        deadline = time.monotonic() + timeout
        while True:
            matching = [c for c in self.calls(method) if predicate(c)]
            if len(matching) >= count:
                return matching
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"waited {timeout:.1f}s for {count} call(s) to {method} matching the predicate; "
                    f"{len(matching)} matched. Calls seen:\n{self._seen()}"
                )
            time.sleep(0.01)

    def _seen(self) -> str:
        calls = self.calls()
        return "\n".join(f"  {c.summary()}" for c in calls) or "  (none)"

    def reset(self) -> None:
        """Forget calls, faults and workspace state (messages, views, files...).

        Configuration (tokens, users, channels overrides) is kept."""
        self._clear_state()

    # -- fault injection ---------------------------------------------------

    def fail(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
        body: Any = None,
        after: bool = False,
    ) -> None:
        """The next ``times`` calls to ``method`` ("*" = any) answer HTTP ``status``.

        429 carries ``Retry-After: retry_after`` and ``{"ok":false,"error":"ratelimited"}``.
        ``after=True``: the call is carried out first (Slack posted) and only the answer fails, as when
        Slack answers 500 / the connection drops after acting. ``status=0``: the connection is closed
        without an answer (recorded with status 0)."""
        self._add_fault(method, _http_fault(status, retry_after, body, times, after))

    def fail_on(self, method: str, calls: Iterable[int], status: int = 429, retry_after: int | None = 1,
                after: bool = False) -> None:
        """Calls number ``calls`` (1-based, counting every call to ``method`` since start / reset) answer
        HTTP ``status`` as :meth:`fail` describes: faults spread through a run instead of at its start."""
        with self._lock:
            for n in calls:
                fault = _http_fault(status, retry_after, None, 1, after)
                fault.reason += f" (call {n})"
                self._nth_faults.setdefault(method, {})[int(n)] = fault

    def error(self, method: str, error: str, times: int = 1, **extra: Any) -> None:
        """The next ``times`` calls to ``method`` ("*" = any) answer HTTP 200 ok:false ``error``."""
        self._add_fault(method, _Fault(200, {"ok": False, "error": error, **extra}, {}, times, f"injected {error}"))

    def _add_fault(self, method: str, fault: _Fault) -> None:
        if fault.times < 1:
            return
        with self._lock:
            self._faults.setdefault(method, deque()).append(fault)

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            n = self._method_calls[method] = self._method_calls.get(method, 0) + 1
            nth = self._nth_faults.get(method, {}).pop(n, None)
            if nth is not None:
                return nth
            for key in (method, "*"):
                q = self._faults.get(key)
                if q:
                    fault = q[0]
                    fault.times -= 1
                    if fault.times <= 0:
                        q.popleft()
                    return fault
        return None

    def refuse_agent(self, error: str = "feature_not_enabled") -> None:
        """From now on (until :meth:`reset`) this workspace refuses the agent experience: the agent methods
        answer ``ok: false`` ``error`` and ``context_actions`` blocks are invalid_blocks."""
        with self._lock:
            self._agent_refusal = error

    def _message_blocks(self, blocks) -> list:
        """A message's blocks as Slack checks them (chat.postMessage, chat.update, chat.stopStream): a copy,
        or the error Slack answers with."""
        if isinstance(blocks, str):
            raise _ApiError("invalid_blocks_format", "blocks is not a JSON array")
        errs = validate_blocks(blocks, limit=MESSAGE_BLOCKS_MAX, unsupported=self._unsupported_blocks())
        if errs:
            raise _ApiError("invalid_blocks", "; ".join(errs), errors=errs,
                            response_metadata={"messages": [f"[ERROR] {e}" for e in errs]})
        return copy.deepcopy(blocks)

    def _unsupported_blocks(self) -> tuple[str, ...]:
        return ("context_actions",) if self._agent_refusal else ()

    def status(self, channel: str, thread_ts: str) -> dict | None:
        """The status shown in a thread now ({"status", "loading_messages"}), or None."""
        with self._lock:
            return copy.deepcopy(self._statuses.get((self._dms.get(channel, channel), thread_ts)))

    def suggested_prompts(self, channel: str, thread_ts: str | None = None) -> dict | None:
        """What setSuggestedPrompts last set for the channel (or thread): {"title", "prompts"}."""
        with self._lock:
            return copy.deepcopy(self._prompts.get((self._dms.get(channel, channel), thread_ts)))

    def stop_stream_by_user(self, channel: str, ts: str) -> None:
        """The person pressed Stop on a streaming message: Slack takes no more appends."""
        with self._lock:
            msg = self._find(self._dms.get(channel, channel), ts)
            if msg is not None and msg.get("streaming_state") == "in_progress":
                msg["streaming_state"] = "stopped_by_user"

    # -- workspace views for tests ----------------------------------------

    def messages(self, channel: str) -> list[dict]:
        """What the channel shows now (thread replies included, ts order); copies."""
        with self._lock:
            cid = self._dms.get(channel, channel)
            return copy.deepcopy(sorted(self._messages.get(cid, []), key=lambda m: _ts_key(m["ts"])))

    def thread(self, channel: str, thread_ts: str) -> list[dict]:
        """The parent and its replies."""
        return [m for m in self.messages(channel) if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts]

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[dict]:
        with self._lock:
            cid = self._dms.get(channel, channel) if channel else None
            return copy.deepcopy(
                [e for e in self._ephemerals if (cid is None or e["channel"] == cid) and (user is None or e["user"] == user)]
            )

    def add_message(
        self, channel: str, text: str, user: str = "U1", ts: str | None = None, thread_ts: str | None = None, **fields: Any
    ) -> str:
        """Seed a message (e.g. the user's message an event refers to); returns its ts."""
        with self._lock:
            cid = self._resolve_channel(channel)
            msg = {"type": "message", "user": user, "text": text, "ts": ts or self._next_ts(), "team": self.team_id}
            msg.update(fields)
            if thread_ts:
                self._attach_reply(cid, msg, thread_ts)
            self._messages.setdefault(cid, []).append(msg)
            return msg["ts"]

    def dm_channel(self, user: str) -> str:
        """The DM channel id between the bot and ``user`` (stable)."""
        with self._lock:
            return self._dm_for(user)

    def home_view(self, user: str) -> dict | None:
        with self._lock:
            vid = self._home.get(user)
            return copy.deepcopy(self._views[vid]) if vid else None

    @property
    def views(self) -> dict[str, dict]:
        with self._lock:
            return copy.deepcopy(self._views)

    @property
    def files(self) -> dict[str, dict]:
        """file id -> file object (as files.info returns it), plus ``"_data"`` bytes."""
        with self._lock:
            return {fid: {**self._file_obj(f), "_data": f["data"]} for fid, f in self._files.items()}

    def file_bytes(self, file_id: str) -> bytes | None:
        with self._lock:
            f = self._files.get(file_id)
            return None if f is None else f["data"]

    def new_trigger_id(self) -> str:
        n = self._next_n("trigger")
        return f"{self.ts_base + n}.{100000000 + n}.{secrets.token_hex(12)}"

    def new_response_url(
        self, channel: str | None = None, message_ts: str | None = None, user: str | None = None,
        max_uses: int = RESPONSE_URL_MAX_USES,
    ) -> str:
        """A response_url; link it to a channel / message / user so that
        replace_original, delete_original and in_channel act on ``messages()``."""
        with self._lock:
            rid = f"{self.team_id}{self._next_n('response'):06d}/{secrets.token_hex(8)}"
            cid = self._resolve_channel(channel) if channel else None
            self._response_urls[rid] = {"channel": cid, "message_ts": message_ts, "user": user, "uses": 0, "max": max_uses}
        return f"{self.base_url}/response/{rid}"

    # -- ids ---------------------------------------------------------------

    def _next_n(self, kind: str) -> int:
        with self._lock:
            self._counters[kind] = self._counters.get(kind, 0) + 1
            return self._counters[kind]

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{self._next_n(prefix):010X}"

    def _next_ts(self) -> str:
        with self._lock:
            self._ts_n += 1
            micro = self._ts_n * 100
            return f"{self.ts_base + micro // 1_000_000}.{micro % 1_000_000:06d}"

    # -- HTTP entry points (called from handler threads) --------------------

    def _api(self, method: str, args: dict, raw_args: dict, headers: dict, token: str | None,
             body: bytes, content_type: str, http_method: str) -> tuple[int, dict, dict, str | None]:
        """Returns (status, response body, extra headers, reason)."""
        fault = self._take_fault(method)
        if fault is not None and not fault.after:
            return fault.status, copy.deepcopy(fault.body), dict(fault.headers), fault.reason
        if fault is not None:  # Slack acts, then the answer is lost or an error
            self._api_call(method, args, token)
            return fault.status, copy.deepcopy(fault.body), dict(fault.headers), fault.reason
        return self._api_call(method, args, token)

    def _api_call(self, method: str, args: dict, token: str | None) -> tuple[int, dict, dict, str | None]:
        handler = _METHODS.get(method)
        if handler is None:
            return 404, {"ok": False, "error": "unknown_method", "req_method": method}, {}, "unknown method"
        if token is None:
            return 200, {"ok": False, "error": "not_authed"}, {}, "no token"
        if token not in self.tokens:
            return 200, {"ok": False, "error": "invalid_auth"}, {}, "unknown token"
        try:
            with self._lock:
                result = handler(self, args)
        except _ApiError as exc:
            return 200, {"ok": False, "error": exc.error, **exc.extra}, {}, exc.reason
        reason = result.pop("_reason", None)
        return 200, {"ok": True, **result}, {}, reason

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    # -- helpers for handlers -----------------------------------------------

    def _dm_for(self, user: str) -> str:
        if user not in self._dms:
            dm = self._next_id("D")
            self._dms[user] = dm
            self._dms[dm] = dm  # lets messages(dm) / messages(user) both work
            self._channel_members[dm] = [user, self.bot_user_id]
        return self._dms[user]

    def _resolve_channel(self, channel: Any, *, for_post: bool = False) -> str:
        if not isinstance(channel, str) or not channel.strip():
            raise _ApiError("channel_not_found", "channel is missing")
        channel = channel.strip()
        if channel[0] in "UW":  # posting to a user id goes to the app's DM with them
            if channel in self.users and self.users[channel] is None:
                raise _ApiError("channel_not_found", f"user {channel} does not exist")
            return self._dm_for(channel)
        if channel.startswith("#"):
            name = channel[1:]
            for cid, info in self.channels.items():
                if info and info.get("name") == name:
                    return cid
            if name not in self._names:
                self._names[name] = self._next_id("C")
            return self._names[name]
        if channel in self.channels and self.channels[channel] is None:
            raise _ApiError("channel_not_found", f"channel {channel} is configured as absent")
        if for_post:
            info = self.channels.get(channel) or {}
            if info.get("is_archived"):
                raise _ApiError("is_archived", f"channel {channel} is archived")
            if info.get("is_member") is False:
                raise _ApiError("not_in_channel", f"bot is not in {channel}")
        return channel

    def _find(self, cid: str, ts: Any) -> dict | None:
        for m in self._messages.get(cid, []):
            if m["ts"] == ts:
                return m
        return None

    def _find_or_placeholder(self, cid: str, ts: Any) -> dict:
        if not isinstance(ts, str) or not ts:
            raise _ApiError("message_not_found", "no ts given")
        msg = self._find(cid, ts)
        if msg is None:
            if self.strict_messages:
                raise _ApiError("message_not_found", f"no message {ts} in {cid}")
            msg = {"type": "message", "user": None, "text": "", "ts": ts, "team": self.team_id, "_placeholder": True}
            self._messages.setdefault(cid, []).append(msg)
        return msg

    def _attach_reply(self, cid: str, msg: dict, thread_ts: str) -> None:
        parent = self._find(cid, thread_ts)
        if parent is None and not self.strict_messages:
            parent = self._find_or_placeholder(cid, thread_ts)
        msg["thread_ts"] = thread_ts
        if parent is not None:
            msg["parent_user_id"] = parent.get("user")
            parent["thread_ts"] = thread_ts
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            users = parent.setdefault("reply_users", [])
            if msg.get("user") and msg["user"] not in users:
                users.append(msg["user"])
            parent["reply_users_count"] = len(users)
            parent["latest_reply"] = msg["ts"]

    def _content(self, args: dict, *, require: bool = True, partial: bool = False) -> tuple[dict, dict]:
        """Validated message content -> (fields to store, response extras)."""
        blocks = args.get("blocks")
        attachments = args.get("attachments")
        text = args.get("text")
        markdown_text = args.get("markdown_text")
        if blocks in ("", None) or blocks == []:
            blocks = None if not partial or "blocks" not in args else []
        if attachments in ("", None):
            attachments = None
        if require and not (text or markdown_text or blocks or attachments):
            raise _ApiError("no_text", "none of text, blocks, attachments given")
        fields: dict = {}
        extra: dict = {}
        if blocks is not None:
            fields["blocks"] = self._message_blocks(blocks)
        if attachments is not None:
            if not isinstance(attachments, list):
                raise _ApiError("invalid_attachments", "attachments is not a JSON array")
            fields["attachments"] = copy.deepcopy(attachments)
        if text is not None:
            text = str(text)
            if len(text) > MESSAGE_TEXT_MAX:
                if self.long_text == "error":
                    raise _ApiError("msg_too_long", f"text is {len(text)} characters")
                text = text[:MESSAGE_TEXT_MAX]
                extra = {
                    "warning": "message_truncated",
                    "response_metadata": {"warnings": ["message_truncated"], "messages": [TRUNCATION_WARNING]},
                    "_reason": "text truncated to 40,000 characters",
                }
            fields["text"] = text
        elif markdown_text is not None:
            fields["text"] = str(markdown_text)
        if "metadata" in args and isinstance(args["metadata"], dict):
            fields["metadata"] = copy.deepcopy(args["metadata"])
        return fields, extra

    def _bot_message(self, ts: str) -> dict:
        return {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": "",
            "team": self.team_id,
            "bot_profile": {
                "id": self.bot_id, "app_id": self.app_id, "name": self.bot_name, "deleted": False,
                "team_id": self.team_id, "updated": self.ts_base,
                "icons": {"image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png"},
            },
        }

    def _permalink(self, cid: str, ts: str, thread_ts: str | None = None) -> str:
        link = f"https://{self.team_domain}.slack.com/archives/{cid}/p{ts.replace('.', '')}"
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={cid}"
        return link

    def _channel_info(self, cid: str) -> dict:
        override = self.channels.get(cid) or {}
        base: dict
        if cid.startswith("D"):
            user = next((u for u, d in self._dms.items() if d == cid and u != cid), override.get("user", "U1"))
            base = {
                "id": cid, "created": self.ts_base, "is_archived": False, "is_im": True, "is_org_shared": False,
                "context_team_id": self.team_id, "updated": self.ts_base * 1000, "user": user,
                "is_user_deleted": False, "priority": 0,
            }
        else:
            mpim = cid.startswith("G") and cid in self._mpims.values()
            named = next((n for n, c in self._names.items() if c == cid), None)
            name = override.get("name") or named or ("mpdm-" if mpim else "channel-") + cid.lower()
            base = {
                "id": cid, "name": name, "is_channel": not mpim, "is_group": False, "is_im": False,
                "is_mpim": mpim, "is_private": mpim or cid.startswith("G"), "created": self.ts_base,
                "is_archived": False, "is_general": False, "unlinked": 0, "name_normalized": name,
                "is_shared": False, "is_org_shared": False, "is_pending_ext_shared": False, "pending_shared": [],
                "context_team_id": self.team_id, "updated": self.ts_base * 1000, "parent_conversation": None,
                "creator": "U0", "is_ext_shared": False, "shared_team_ids": [self.team_id],
                "pending_connected_team_ids": [], "is_member": True,
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0}, "previous_names": [],
            }
        base.update(copy.deepcopy(override))
        return base

    def _user_obj(self, uid: str) -> dict:
        override = copy.deepcopy(self.users.get(uid) or {})
        is_bot = uid == self.bot_user_id
        name = self.bot_name if is_bot else uid.lower()
        real = self.bot_name if is_bot else f"User {uid}"
        user = {
            "id": uid, "team_id": self.team_id, "name": name, "deleted": False, "color": "9f69e7",
            "real_name": real, "tz": "Europe/London", "tz_label": "Greenwich Mean Time", "tz_offset": 0,
            "is_admin": False, "is_owner": False, "is_primary_owner": False, "is_restricted": False,
            "is_ultra_restricted": False, "is_bot": is_bot, "is_app_user": False, "updated": self.ts_base,
            "is_email_confirmed": not is_bot, "who_can_share_contact_card": "EVERYONE",
        }
        profile_override = override.pop("profile", {}) or {}
        user.update(override)
        display = profile_override.get("display_name", "" if "real_name" in override else user["name"])
        profile = {
            "title": "", "phone": "", "skype": "", "real_name": user["real_name"],
            "real_name_normalized": user["real_name"], "display_name": display,
            "display_name_normalized": display, "fields": None, "status_text": "", "status_emoji": "",
            "status_expiration": 0, "avatar_hash": "g" + uid.lower()[:11],
            "first_name": user["real_name"].split(" ")[0], "last_name": " ".join(user["real_name"].split(" ")[1:]),
            "image_48": f"https://secure.gravatar.com/avatar/{uid.lower()}.jpg?s=48", "team": self.team_id,
        }
        if is_bot:
            profile["bot_id"] = self.bot_id
        else:
            profile["email"] = f"{user['name']}@{self.team_domain}.example"
        profile.update(profile_override)
        user["profile"] = profile
        return user

    def _new_view(self, view: dict, *, vid: str | None = None, previous: dict | None = None) -> dict:
        vid = vid or self._next_id("V")
        out = {
            "id": vid, "team_id": self.team_id, "type": view.get("type"),
            "blocks": copy.deepcopy(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""), "callback_id": view.get("callback_id", ""),
            "state": {"values": {}}, "hash": f"{self.ts_base + self._next_n('hash')}.{secrets.token_hex(4)}",
            "title": copy.deepcopy(view.get("title", {"type": "plain_text", "text": "View Title", "emoji": True})),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": copy.deepcopy(view.get("close")), "submit": copy.deepcopy(view.get("submit")),
            "previous_view_id": None, "root_view_id": vid, "app_id": self.app_id,
            "external_id": view.get("external_id", ""), "app_installed_team_id": self.team_id, "bot_id": self.bot_id,
        }
        if previous is not None:
            out["root_view_id"] = previous.get("root_view_id", vid)
            out["previous_view_id"] = previous.get("previous_view_id")
        if out["external_id"]:
            for other in self._views.values():
                if other["external_id"] == out["external_id"] and other["id"] != vid:
                    raise _ApiError("duplicate_external_id", f"external_id {out['external_id']} in use")
        self._views[vid] = out
        return out

    def _view_arg(self, args: dict, kinds: tuple[str, ...]) -> dict:
        view = args.get("view")
        if view in (None, ""):
            raise _ApiError("invalid_arguments", "view is missing",
                            response_metadata={"messages": ["[ERROR] missing required field: view"]})
        if isinstance(view, str):
            raise _ApiError("invalid_arguments", "view is not JSON",
                            response_metadata={"messages": ["[ERROR] invalid JSON [json-pointer:/view]"]})
        errs = validate_view(view, kinds=kinds)
        if errs:
            raise _ApiError("invalid_arguments", "; ".join(errs),
                            response_metadata={"messages": [f"[ERROR] {e}" for e in errs]})
        return view

    def _file_obj(self, f: dict) -> dict:
        name = f["name"]
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else "binary"
        import mimetypes

        mimetype = mimetypes.guess_type(name)[0] or ("text/plain" if ext == "txt" else "application/octet-stream")
        obj = {
            "id": f["id"], "created": f["created"], "timestamp": f["created"], "name": name,
            "title": f.get("title") or name, "mimetype": mimetype, "filetype": ext, "pretty_type": ext.upper(),
            "user": self.bot_user_id, "user_team": self.team_id, "editable": False,
            "size": len(f["data"]) if f["data"] is not None else f["length"], "mode": "hosted",
            "is_external": False, "external_type": "", "is_public": any(c.startswith("C") for c in f["channels"]),
            "public_url_shared": False, "display_as_bot": False, "username": "",
            "url_private": f"https://files.slack.com/files-pri/{self.team_id}-{f['id']}/{name}",
            "url_private_download": f"https://files.slack.com/files-pri/{self.team_id}-{f['id']}/download/{name}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{self.bot_user_id}/{f['id']}/{name}",
            "permalink_public": f"https://slack-files.com/{self.team_id}-{f['id']}-{secrets.token_hex(5)}",
            "channels": [c for c in f["channels"] if c.startswith("C")],
            "groups": [c for c in f["channels"] if c.startswith("G")],
            "ims": [c for c in f["channels"] if c.startswith("D")],
            "shares": copy.deepcopy(f["shares"]), "comments_count": 0, "has_rich_preview": False,
            "file_access": "visible",
        }
        if f.get("alt_txt"):
            obj["alt_txt"] = f["alt_txt"]
        return obj

    # -- upload endpoint & response_url -------------------------------------

    def _upload(self, file_id: str, body: bytes, content_type: str) -> tuple[int, str, str | None]:
        fault = self._take_fault("upload")
        if fault is not None:
            return fault.status, fault.body if isinstance(fault.body, str) else json.dumps(fault.body), fault.reason
        with self._lock:
            f = self._files.get(file_id)
            if f is None:
                return 404, "file_not_found", f"unknown file id {file_id}"
            data = body
            if content_type.lower().startswith("multipart/form-data"):
                fields, files = _parse_multipart(body, content_type)
                if files:
                    data = (files.get("file") or next(iter(files.values())))[1]
                elif "file" in fields:
                    data = fields["file"].encode("utf-8")
            f["data"] = bytes(data)
            reason = None if len(data) == f["length"] else f"uploaded {len(data)} bytes, declared length {f['length']}"
            return 200, f"OK - {len(data)}", reason

    def _response_url(self, rid: str, body: bytes, content_type: str) -> tuple[int, str, dict, str | None]:
        """Returns (status, text, parsed args, reason)."""
        args: dict = {}
        try:
            if content_type.lower().startswith("application/x-www-form-urlencoded"):
                args = json.loads(dict(parse_qsl(body.decode("utf-8"))).get("payload", ""))
            else:
                args = json.loads(body.decode("utf-8") or "null")
        except ValueError:
            args = {}
            bad_json = True
        else:
            bad_json = not isinstance(args, dict)
            if bad_json:
                args = {}
        fault = self._take_fault("response_url")
        if fault is not None:
            return fault.status, fault.body if isinstance(fault.body, str) else json.dumps(fault.body), args, fault.reason
        with self._lock:
            link = self._response_urls.get(rid)
            if link is None:
                return 404, "no_service", args, "unknown response_url"
            if link["uses"] >= link["max"]:
                return 404, "used_url", args, f"response_url used more than {link['max']} times"
            if bad_json:
                return 400, "invalid_payload", args, "body is not a JSON object"
            cid, mts, user = link["channel"], link["message_ts"], link["user"]
            if _truthy(args.get("delete_original")):
                link["uses"] += 1
                if cid and mts:
                    self._messages[cid] = [m for m in self._messages.get(cid, []) if m["ts"] != mts]
                return 200, "ok", args, None
            try:
                fields, extra = self._content(args)
            except _ApiError as exc:
                return 400, exc.error, args, exc.reason
            link["uses"] += 1
            reason = extra.get("_reason")
            if _truthy(args.get("replace_original")) and cid and mts:
                msg = self._find(cid, mts)
                if msg is not None:
                    for key in ("text", "blocks", "attachments"):
                        msg.pop(key, None)
                    msg.update(fields)
                    msg.setdefault("text", "")
                    msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
                    return 200, "ok", args, reason
            if args.get("response_type") == "in_channel" and cid:
                msg = self._bot_message(self._next_ts())
                msg.update(fields)
                if args.get("thread_ts"):
                    self._attach_reply(cid, msg, str(args["thread_ts"]))
                self._messages.setdefault(cid, []).append(msg)
            elif cid or user:
                self._ephemerals.append({"channel": cid, "user": user, "ts": self._next_ts(), **fields})
            return 200, "ok", args, reason


def _ts_key(ts: str) -> tuple[int, int]:
    sec, _, frac = ts.partition(".")
    try:
        return int(sec), int(frac or 0)
    except ValueError:
        return 0, 0


# ---------------------------------------------------------------------------
# Methods: each takes (standin, args) under the lock and returns the response
# fields (without "ok") or raises _ApiError.
# ---------------------------------------------------------------------------

_METHODS: dict[str, Callable[[SlackStandIn, dict], dict]] = {}


def _method(name: str):
    def register(fn):
        _METHODS[name] = fn
        return fn

    return register


@_method("api.test")
def _api_test(s: SlackStandIn, a: dict) -> dict:
    return {"args": {k: v for k, v in a.items() if k != "token"}}


@_method("auth.test")
def _auth_test(s: SlackStandIn, a: dict) -> dict:
    return {
        "url": f"https://{s.team_domain}.slack.com/", "team": s.team_name, "user": s.bot_name,
        "team_id": s.team_id, "user_id": s.bot_user_id, "bot_id": s.bot_id, "is_enterprise_install": False,
    }


@_method("chat.postMessage")
def _chat_post(s: SlackStandIn, a: dict) -> dict:
    cid = s._resolve_channel(a.get("channel"), for_post=True)
    fields, extra = s._content(a)
    ts = s._next_ts()
    msg = s._bot_message(ts)
    msg.update(fields)
    thread_ts = a.get("thread_ts")
    if thread_ts:
        s._attach_reply(cid, msg, str(thread_ts))
        s._statuses.pop((cid, str(thread_ts)), None)   # the app's reply clears its status
        if _truthy(a.get("reply_broadcast")):
            msg["subtype"] = "thread_broadcast"
    s._messages.setdefault(cid, []).append(msg)
    return {"channel": cid, "ts": ts, "message": copy.deepcopy(msg), **extra}


# -- the agent experience ------------------------------------------------------------------

def _agent_allowed(s: SlackStandIn) -> None:
    if s._agent_refusal:
        raise _ApiError(s._agent_refusal, "this workspace refuses the agent experience")


def _invalid(*messages: str) -> _ApiError:
    return _ApiError("invalid_arguments", "; ".join(messages),
                     response_metadata={"messages": [f"[ERROR] {m}" for m in messages]})


def _require(a: dict, *names: str) -> None:
    missing = [n for n in names if a.get(n) in (None, "")]
    if missing:
        raise _invalid(*(f"missing required field: {n}" for n in missing))


def _string_list(value: Any, name: str, most: int) -> list:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _invalid(f"must be an array of non-empty strings [json-pointer:/{name}]")
    if len(value) > most:
        raise _invalid(f"must provide no more than {most} items [json-pointer:/{name}]")
    return value


@_method("assistant.threads.setStatus")
def _set_status(s: SlackStandIn, a: dict) -> dict:
    _agent_allowed(s)
    _require(a, "channel_id", "thread_ts")
    if not isinstance(a.get("status"), str):
        raise _invalid("missing required field: status")
    cid = s._resolve_channel(a["channel_id"])
    loading = a.get("loading_messages")
    if loading is not None:
        _string_list(loading, "loading_messages", LOADING_MESSAGES_MAX)
    key = (cid, str(a["thread_ts"]))
    if a["status"] == "":
        s._statuses.pop(key, None)
    else:
        s._statuses[key] = {"status": a["status"], "loading_messages": list(loading or [])}
    return {}


@_method("assistant.threads.setSuggestedPrompts")
def _set_prompts(s: SlackStandIn, a: dict) -> dict:
    _agent_allowed(s)
    _require(a, "channel_id")
    prompts = a.get("prompts")
    if not isinstance(prompts, list) or not prompts:
        raise _invalid("must provide at least 1 item [json-pointer:/prompts]")
    if len(prompts) > SUGGESTED_PROMPTS_MAX:
        raise _invalid(f"must provide no more than {SUGGESTED_PROMPTS_MAX} items [json-pointer:/prompts]")
    for i, p in enumerate(prompts):
        if not isinstance(p, dict) or not all(isinstance(p.get(k), str) and p[k].strip() for k in ("title", "message")):
            raise _invalid(f"title and message must be non-empty strings [json-pointer:/prompts/{i}]")
    cid = s._resolve_channel(a["channel_id"])
    thread = str(a["thread_ts"]) if a.get("thread_ts") else None
    s._prompts[(cid, thread)] = {"title": a.get("title"), "prompts": copy.deepcopy(prompts)}
    return {}


def _stream_text(a: dict) -> str:
    """markdown_text and the markdown_text chunks of a stream call, validated as Slack does."""
    text = a.get("markdown_text")
    if text is not None and (not isinstance(text, str) or len(text) > MARKDOWN_TEXT_MAX):
        raise _invalid(f"must be a string of at most {MARKDOWN_TEXT_MAX} characters [json-pointer:/markdown_text]")
    out = text or ""
    chunks = a.get("chunks")
    if chunks is not None:
        if not isinstance(chunks, list):
            raise _ApiError("invalid_chunks", "chunks is not an array")
        for i, chunk in enumerate(chunks):
            kind = chunk.get("type") if isinstance(chunk, dict) else None
            if kind not in ("markdown_text", "task_update", "plan_update"):
                raise _ApiError("invalid_chunks", f"chunk {i} has type {kind!r}")
            if kind == "markdown_text":
                if not isinstance(chunk.get("text"), str) or len(chunk["text"]) > MARKDOWN_TEXT_MAX:
                    raise _ApiError("invalid_chunks", f"chunk {i}: text missing or over {MARKDOWN_TEXT_MAX} characters")
                out += chunk["text"]
    return out


def _streaming(s: SlackStandIn, a: dict) -> tuple[str, dict]:
    _agent_allowed(s)
    _require(a, "channel", "ts")
    cid = s._resolve_channel(a["channel"])
    msg = s._find(cid, a["ts"])
    if msg is None or msg.get("_placeholder"):
        raise _ApiError("message_not_found", f"no message {a['ts']!r} in {cid}")
    if msg.get("streaming_state") == "stopped_by_user":
        raise _ApiError("stopped_by_user", "the person stopped this stream")
    if msg.get("streaming_state") != "in_progress":
        raise _ApiError("message_not_in_streaming_state", f"{a['ts']} is not streaming")
    return cid, msg


@_method("chat.startStream")
def _start_stream(s: SlackStandIn, a: dict) -> dict:
    _agent_allowed(s)
    _require(a, "channel", "thread_ts")
    cid = s._resolve_channel(a["channel"], for_post=True)
    if not cid.startswith("D") and not (a.get("recipient_team_id") and a.get("recipient_user_id")):
        raise _invalid("recipient_team_id and recipient_user_id are required when streaming to channels")
    text = _stream_text(a)
    ts = s._next_ts()
    msg = s._bot_message(ts)
    msg.update({"text": text, "streaming_state": "in_progress"})
    s._attach_reply(cid, msg, str(a["thread_ts"]))
    s._statuses.pop((cid, str(a["thread_ts"])), None)
    s._messages.setdefault(cid, []).append(msg)
    return {"channel": cid, "ts": ts}


@_method("chat.appendStream")
def _append_stream(s: SlackStandIn, a: dict) -> dict:
    cid, msg = _streaming(s, a)
    if a.get("markdown_text") in (None, "") and not a.get("chunks"):
        raise _invalid("markdown_text or chunks is required")
    msg["text"] += _stream_text(a)
    return {"channel": cid, "ts": msg["ts"]}


@_method("chat.stopStream")
def _stop_stream(s: SlackStandIn, a: dict) -> dict:
    cid, msg = _streaming(s, a)
    text = _stream_text(a)
    blocks = a.get("blocks")
    if blocks not in (None, "", []):
        msg["blocks"] = s._message_blocks(blocks)
    msg["text"] += text
    msg["streaming_state"] = "completed"
    return {"channel": cid, "ts": msg["ts"], "message": copy.deepcopy(msg)}


@_method("chat.postEphemeral")
def _chat_ephemeral(s: SlackStandIn, a: dict) -> dict:
    cid = s._resolve_channel(a.get("channel"), for_post=True)
    user = a.get("user")
    if not user:
        raise _ApiError("user_not_found", "user is missing")
    if user in s.users and s.users[user] is None:
        raise _ApiError("user_not_found", f"user {user} does not exist")
    members = s._channel_members.get(cid)
    if members is not None and user not in members:
        raise _ApiError("user_not_in_channel", f"{user} is not in {cid}")
    fields, extra = s._content(a)
    ts = s._next_ts()
    entry = {"channel": cid, "user": user, "ts": ts, **fields}
    if a.get("thread_ts"):
        entry["thread_ts"] = str(a["thread_ts"])
    s._ephemerals.append(entry)
    return {"message_ts": ts, **extra}


def _own_message(s: SlackStandIn, a: dict, verb: str) -> tuple[str, dict]:
    """The bot's own message that chat.update / chat.delete name, or Slack's error for it."""
    cid = s._resolve_channel(a.get("channel"))
    msg = s._find(cid, a.get("ts"))
    if msg is None or msg.get("_placeholder"):
        raise _ApiError("message_not_found", f"no message {a.get('ts')!r} in {cid}")
    if msg.get("user") != s.bot_user_id:
        raise _ApiError(f"cant_{verb}_message", "message was not posted by the bot")
    return cid, msg


@_method("chat.update")
def _chat_update(s: SlackStandIn, a: dict) -> dict:
    cid, msg = _own_message(s, a, "update")
    fields, extra = s._content(a, require=False, partial=True)
    if not fields and not any(k in a for k in ("text", "blocks", "attachments", "markdown_text")):
        raise _ApiError("no_text", "nothing to update")
    msg.update(fields)
    if "blocks" in fields and fields["blocks"] == []:
        msg.pop("blocks")
    msg["edited"] = {"user": s.bot_user_id, "ts": s._next_ts()}
    shown = {k: v for k, v in msg.items() if k not in ("reactions",)}
    return {"channel": cid, "ts": msg["ts"], "text": msg.get("text", ""), "message": copy.deepcopy(shown), **extra}


@_method("chat.delete")
def _chat_delete(s: SlackStandIn, a: dict) -> dict:
    cid, msg = _own_message(s, a, "delete")
    msgs = s._messages[cid]
    if msg.get("reply_count") and msg.get("thread_ts") == msg["ts"]:
        # A parent with replies stays as a tombstone.
        for key in ("text", "blocks", "attachments", "files", "reactions", "bot_id", "bot_profile", "app_id"):
            msg.pop(key, None)
        msg.update({"subtype": "tombstone", "text": "This message was deleted.", "user": "USLACKBOT", "hidden": True})
    else:
        msgs.remove(msg)
        parent_ts = msg.get("thread_ts")
        if parent_ts and parent_ts != msg["ts"]:
            parent = s._find(cid, parent_ts)
            if parent is not None and parent.get("reply_count"):
                parent["reply_count"] -= 1
    return {"channel": cid, "ts": msg["ts"]}


@_method("chat.getPermalink")
def _chat_permalink(s: SlackStandIn, a: dict) -> dict:
    cid = s._resolve_channel(a.get("channel"))
    msg = s._find_or_placeholder(cid, a.get("message_ts"))
    return {"channel": cid, "permalink": s._permalink(cid, msg["ts"], msg.get("thread_ts"))}


def _reaction_target(s: SlackStandIn, a: dict) -> tuple[dict, str]:
    if not a.get("channel") or not a.get("timestamp"):
        raise _ApiError("no_item_specified", "channel and timestamp are required")
    name = a.get("name")
    if not isinstance(name, str) or not name or ":" in name.strip(":") or " " in name:
        raise _ApiError("invalid_name", f"bad reaction name {name!r}")
    cid = s._resolve_channel(a.get("channel"))
    return s._find_or_placeholder(cid, str(a["timestamp"])), name.strip(":")


@_method("reactions.add")
def _reactions_add(s: SlackStandIn, a: dict) -> dict:
    msg, name = _reaction_target(s, a)
    reactions = msg.setdefault("reactions", [])
    for r in reactions:
        if r["name"] == name:
            if s.bot_user_id in r["users"]:
                raise _ApiError("already_reacted", f"already reacted with {name}")
            r["users"].append(s.bot_user_id)
            r["count"] += 1
            break
    else:
        reactions.append({"name": name, "users": [s.bot_user_id], "count": 1})
    return {}


@_method("reactions.remove")
def _reactions_remove(s: SlackStandIn, a: dict) -> dict:
    msg, name = _reaction_target(s, a)
    for r in msg.get("reactions", []):
        if r["name"] == name and s.bot_user_id in r["users"]:
            r["users"].remove(s.bot_user_id)
            r["count"] -= 1
            if r["count"] == 0:
                msg["reactions"].remove(r)
            if not msg["reactions"]:
                msg.pop("reactions")
            return {}
    raise _ApiError("no_reaction", f"no {name} reaction by the bot")


@_method("conversations.open")
def _conv_open(s: SlackStandIn, a: dict) -> dict:
    users = a.get("users")
    if isinstance(users, str):
        users = [u.strip() for u in users.split(",") if u.strip()]
    if not users:
        if a.get("channel"):
            cid = s._resolve_channel(a["channel"])
            return {"no_op": True, "already_open": True, "channel": {"id": cid}}
        raise _ApiError("users_list_not_supplied", "users is missing")
    if len(users) > 8:
        raise _ApiError("too_many_users", "more than 8 users")
    for u in users:
        if u in s.users and s.users[u] is None:
            raise _ApiError("user_not_found", f"user {u} does not exist")
    if len(users) == 1:
        existed = users[0] in s._dms
        cid = s._dm_for(users[0])
    else:
        key = tuple(sorted(set(users)))
        existed = key in s._mpims
        if not existed:
            s._mpims[key] = s._next_id("G")
            s._channel_members[s._mpims[key]] = [*key, s.bot_user_id]
        cid = s._mpims[key]
    channel = s._channel_info(cid) if _truthy(a.get("return_im")) else {"id": cid}
    out: dict = {"channel": channel}
    if existed:
        out = {"no_op": True, "already_open": True, **out}
    return out


@_method("conversations.info")
def _conv_info(s: SlackStandIn, a: dict) -> dict:
    cid = s._resolve_channel(a.get("channel"))
    return {"channel": s._channel_info(cid)}


@_method("conversations.history")
def _conv_history(s: SlackStandIn, a: dict) -> dict:
    cid = s._resolve_channel(a.get("channel"))
    msgs = [m for m in s._messages.get(cid, []) if not m.get("_placeholder")
            and (m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast")]
    msgs = sorted(msgs, key=lambda m: _ts_key(m["ts"]), reverse=True)
    limit = int(a.get("limit") or 100)
    return {"messages": copy.deepcopy(msgs[:limit]), "has_more": len(msgs) > limit, "pin_count": 0,
            "channel_actions_ts": None, "channel_actions_count": 0, "response_metadata": {"next_cursor": ""}}


@_method("conversations.replies")
def _conv_replies(s: SlackStandIn, a: dict) -> dict:
    cid = s._resolve_channel(a.get("channel"))
    ts = a.get("ts")
    parent = s._find(cid, ts)
    if parent is None:
        raise _ApiError("thread_not_found", f"no thread {ts!r} in {cid}")
    msgs = [m for m in s._messages.get(cid, []) if m["ts"] == ts or m.get("thread_ts") == ts]
    msgs = sorted(msgs, key=lambda m: _ts_key(m["ts"]))
    return {"messages": copy.deepcopy(msgs), "has_more": False, "response_metadata": {"next_cursor": ""}}


@_method("users.info")
def _users_info(s: SlackStandIn, a: dict) -> dict:
    uid = a.get("user")
    if not uid or (uid in s.users and s.users[uid] is None):
        raise _ApiError("user_not_found", f"no user {uid!r}")
    return {"user": s._user_obj(uid)}


@_method("views.publish")
def _views_publish(s: SlackStandIn, a: dict) -> dict:
    user = a.get("user_id")
    if not user:
        raise _ApiError("invalid_arguments", "user_id is missing",
                        response_metadata={"messages": ["[ERROR] missing required field: user_id"]})
    if user in s.users and s.users[user] is None:
        raise _ApiError("user_not_found", f"user {user} does not exist")
    view = s._view_arg(a, ("home",))
    current_id = s._home.get(user)
    if a.get("hash") and current_id and s._views[current_id]["hash"] != a["hash"]:
        raise _ApiError("hash_conflict", "hash does not match the published view")
    out = s._new_view(view, vid=current_id)
    s._home[user] = out["id"]
    return {"view": copy.deepcopy(out)}


def _trigger(s: SlackStandIn, a: dict) -> None:
    trigger = a.get("trigger_id") or a.get("interactivity_pointer")
    if not trigger:
        raise _ApiError("invalid_arguments", "trigger_id is missing",
                        response_metadata={"messages": ["[ERROR] missing required field: trigger_id"]})
    if trigger in s._used_triggers:
        raise _ApiError("exchanged_trigger_id", f"trigger_id {trigger} already used")
    s._used_triggers.add(trigger)


@_method("views.open")
def _views_open(s: SlackStandIn, a: dict) -> dict:
    view = s._view_arg(a, ("modal", "workflow_step"))
    _trigger(s, a)
    return {"view": copy.deepcopy(s._new_view(view))}


@_method("views.push")
def _views_push(s: SlackStandIn, a: dict) -> dict:
    view = s._view_arg(a, ("modal", "workflow_step"))
    _trigger(s, a)
    out = s._new_view(view)
    return {"view": copy.deepcopy(out)}


@_method("views.update")
def _views_update(s: SlackStandIn, a: dict) -> dict:
    vid, ext = a.get("view_id"), a.get("external_id")
    if not vid and not ext:
        raise _ApiError("invalid_arguments", "view_id or external_id is required",
                        response_metadata={"messages": ["[ERROR] missing required field: view_id or external_id"]})
    current = s._views.get(vid) if vid else next((v for v in s._views.values() if v["external_id"] == ext), None)
    if current is None:
        raise _ApiError("not_found", f"no view {vid or ext!r}")
    view = s._view_arg(a, ("modal", "home", "workflow_step"))
    if a.get("hash") and a["hash"] != current["hash"]:
        raise _ApiError("hash_conflict", "hash does not match the current view")
    return {"view": copy.deepcopy(s._new_view(view, vid=current["id"], previous=current))}


@_method("files.getUploadURLExternal")
def _files_get_upload_url(s: SlackStandIn, a: dict) -> dict:
    filename = a.get("filename")
    if not filename:
        raise _ApiError("invalid_arguments", "filename is missing",
                        response_metadata={"messages": ["[ERROR] missing required field: filename"]})
    try:
        length = int(a.get("length"))
    except (TypeError, ValueError):
        length = -1
    if length < 1:
        raise _ApiError("invalid_arguments", f"length {a.get('length')!r} is not a positive integer",
                        response_metadata={"messages": ["[ERROR] missing required field: length"]})
    fid = s._next_id("F")
    s._files[fid] = {
        "id": fid, "name": filename, "title": None, "length": length, "alt_txt": a.get("alt_txt"),
        "snippet_type": a.get("snippet_type"), "data": None, "created": s.ts_base + s._next_n("file_created"),
        "channels": [], "shares": {}, "completed": False,
    }
    return {"upload_url": f"{s.base_url}/upload/{fid}", "file_id": fid}


@_method("files.completeUploadExternal")
def _files_complete(s: SlackStandIn, a: dict) -> dict:
    items = a.get("files")
    if not isinstance(items, list) or not items:
        raise _ApiError("invalid_arguments", "files must be a JSON array of {id, title}",
                        response_metadata={"messages": ["[ERROR] missing required field: files"]})
    found = []
    for item in items:
        fid = item.get("id") if isinstance(item, dict) else None
        f = s._files.get(fid)
        if f is None:
            raise _ApiError("file_not_found", f"unknown file id {fid!r}")
        if f["data"] is None:
            raise _ApiError("file_not_found", f"nothing was uploaded for {fid}")
        found.append((f, item))
    targets: list[str] = []
    if a.get("channel_id"):
        targets.append(s._resolve_channel(a["channel_id"], for_post=True))
    if a.get("channels"):
        chans = a["channels"]
        for c in (chans.split(",") if isinstance(chans, str) else chans):
            if c.strip():
                targets.append(s._resolve_channel(c.strip(), for_post=True))
    thread_ts = a.get("thread_ts")
    if thread_ts and not targets:
        raise _ApiError("invalid_arguments", "thread_ts needs channel_id")
    for f, item in found:
        f["title"] = item.get("title") or f["name"]
        f["completed"] = True
    for cid in targets:
        ts = s._next_ts()
        for f, _ in found:
            if cid not in f["channels"]:
                f["channels"].append(cid)
            kind = "public" if cid.startswith("C") else "private"
            f["shares"].setdefault(kind, {}).setdefault(cid, []).append(
                {"ts": ts, "channel_name": s._channel_info(cid).get("name", cid), "team_id": s.team_id,
                 "share_user_id": s.bot_user_id, "source": "UNKNOWN", "is_silent_share": False,
                 **({"thread_ts": str(thread_ts)} if thread_ts else {})}
            )
        msg = s._bot_message(ts)
        msg.update({"text": a.get("initial_comment") or "", "upload": True, "display_as_bot": False,
                    "files": [s._file_obj(f) for f, _ in found]})
        if thread_ts:
            s._attach_reply(cid, msg, str(thread_ts))
        s._messages.setdefault(cid, []).append(msg)
    return {"files": [s._file_obj(f) for f, _ in found]}


@_method("files.info")
def _files_info(s: SlackStandIn, a: dict) -> dict:
    f = s._files.get(a.get("file"))
    if f is None or not f["completed"]:
        raise _ApiError("file_not_found", f"no file {a.get('file')!r}")
    return {"file": s._file_obj(f), "comments": [], "response_metadata": {"next_cursor": ""}}


@_method("files.upload")
def _files_upload_legacy(s: SlackStandIn, a: dict) -> dict:
    # Retired by Slack: apps must use files.getUploadURLExternal + completeUploadExternal
    # (slack_sdk: files_upload_v2).
    raise _ApiError("method_deprecated", "files.upload is retired; use files_upload_v2")


# ---------------------------------------------------------------------------
# HTTP handler
# ---------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    standin: SlackStandIn
    protocol_version = "HTTP/1.1"
    server_version = "slack-standin/1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: Any, headers: dict | None = None) -> None:
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode("utf-8")
            ctype = "application/json; charset=utf-8"
        else:
            data = str(body).encode("utf-8")
            ctype = "text/plain; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Slack-Req-Id", secrets.token_hex(16))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, http_method: str) -> None:
        s = self.standin
        at = time.monotonic()
        url = urlsplit(self.path)
        body = self._read_body() if http_method == "POST" else b""
        headers = dict(self.headers.items())
        ctype = self.headers.get("Content-Type", "")
        path = url.path

        if path.startswith("/api/"):
            method = path[len("/api/"):].strip("/")
            raw: dict = dict(parse_qsl(url.query, keep_blank_values=True))
            bad = None
            is_json = ctype.lower().startswith("application/json")
            if body:
                if is_json:
                    try:
                        parsed = json.loads(body.decode("utf-8"))
                    except ValueError:
                        parsed, bad = None, "invalid_json"
                    if bad is None and not isinstance(parsed, dict):
                        bad = "json_not_object"
                    if bad is None:
                        raw.update(parsed)
                elif ctype.lower().startswith("multipart/form-data"):
                    fields, files = _parse_multipart(body, ctype)
                    raw.update(fields)
                    raw.update({k: {"filename": fn, "content_type": ct, "bytes": data}
                                for k, (fn, data, ct) in files.items()})
                elif ctype.lower().startswith("application/x-www-form-urlencoded") or not ctype:
                    raw.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
                else:
                    bad = "invalid_post_type"
            args = _decode_json_fields(raw)
            token = None
            auth = self.headers.get("Authorization", "")
            if auth.lower().startswith("bearer "):
                token = auth[7:].strip() or None
            elif not is_json and isinstance(raw.get("token"), str) and raw["token"]:
                token = raw["token"]  # JSON bodies must use the header, as on Slack
            if bad is not None:
                status, resp, extra_headers, reason = 200, {"ok": False, "error": bad}, {}, bad
            else:
                status, resp, extra_headers, reason = s._api(method, args, raw, headers, token, body, ctype, http_method)
            s._record(Call(method=method, args=args, headers=headers, at=at, response=resp, status=status,
                           token=token, reason=reason, raw_args=raw, body=body, content_type=ctype,
                           http_method=http_method))
            if status == 0:  # an injected dropped connection: no answer at all
                self.close_connection = True
                return
            self._send(status, resp, extra_headers)
            return

        if path.startswith("/upload/") and http_method == "POST":
            fid = path[len("/upload/"):].strip("/")
            status, text, reason = s._upload(fid, body, ctype)
            s._record(Call(method="upload", args={"file_id": fid, "length": len(body)}, headers=headers, at=at,
                           response=text, status=status, reason=reason, body=body, content_type=ctype))
            self._send(status, text)
            return

        if path.startswith("/response/") and http_method == "POST":
            rid = path[len("/response/"):].strip("/")
            status, text, args, reason = s._response_url(rid, body, ctype)
            s._record(Call(method="response_url", args=args, headers=headers, at=at, response=text,
                           status=status, reason=reason, raw_args={"response_url_id": rid}, body=body,
                           content_type=ctype))
            self._send(status, text)
            return

        self._send(404, "not_found")

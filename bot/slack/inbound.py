"""What a signed request from Slack must look like before Bolt and the listeners read it.

Slack's own payloads always pass; anything else (``payload=notjson``, ``actions: []``, ``view`` as a
string, a body that is not UTF-8, a field of the wrong type) is refused with a one-line reason, so no
listener ever meets a shape it would trip over. Only the fields Bolt or Ladder read are checked; every
model allows extra fields (Slack adds new ones all the time). pydantic does the checking: strict types,
and an error that says which field.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

MAX_BODY = 1_000_000   # Slack's largest payloads (a modal's state) are far below this


class Malformed(ValueError):
    """A signed request whose body is not a Slack payload Ladder can read. ``event``: it came as an
    Events API envelope, which Slack wants a 200 for (else it retries)."""

    def __init__(self, reason: str, event: bool = False):
        super().__init__(reason)
        self.event = event


class _Obj(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _Ref(_Obj):            # team, enterprise, user, channel as objects
    id: StrictStr | None = None
    team_id: StrictStr | None = None


Ref = StrictStr | _Ref | None


class _Option(_Obj):
    value: StrictStr | None = None


class _Element(_Obj):
    value: StrictStr | None = None
    selected_option: _Option | None = None


class _State(_Obj):
    values: dict[StrictStr, dict[StrictStr, _Element]] = {}


class _View(_Obj):
    id: StrictStr
    callback_id: StrictStr | None = None
    private_metadata: StrictStr | None = None
    team_id: StrictStr | None = None
    app_installed_team_id: StrictStr | None = None
    state: _State | None = None


class _Container(_Obj):
    type: StrictStr | None = None
    channel_id: StrictStr | None = None


class _Common(_Obj):
    """Fields Bolt reads from every payload to build its context."""
    type: StrictStr | None = None
    team: Ref = None
    enterprise: Ref = None
    user: Ref = None
    channel: Ref = None
    team_id: StrictStr | None = None
    user_id: StrictStr | None = None
    channel_id: StrictStr | None = None
    enterprise_id: StrictStr | None = None
    response_url: StrictStr | None = None
    response_urls: list[dict[StrictStr, Any]] | None = None
    is_enterprise_install: StrictBool | StrictStr | None = None
    authorizations: list[dict[StrictStr, Any]] | None = None
    trigger_id: StrictStr | None = None


class _Action(_Obj):
    action_id: StrictStr
    value: StrictStr | None = None
    selected_option: _Option | None = None


class _User(_Obj):
    id: StrictStr


class _Interaction(_Common):     # shortcuts, view_closed, block_suggestion, …: Ladder listens to none
    type: StrictStr
    user: _User | StrictStr | None = None


class _Envelope(_Common):        # app_rate_limited, …
    type: StrictStr


class BlockActions(_Interaction):
    user: _User
    actions: list[_Action] = Field(min_length=1)
    state: _State | None = None
    container: _Container | None = None
    view: _View | None = None


class ViewSubmission(_Interaction):
    user: _User
    view: _View


class SlashCommand(_Common):
    command: StrictStr
    user_id: StrictStr
    text: StrictStr = ""
    trigger_id: StrictStr
    response_url: StrictStr


class _Event(_Obj):
    type: StrictStr
    user: StrictStr | None = None
    text: StrictStr | None = None
    channel: StrictStr | None = None
    channel_type: StrictStr | None = None
    ts: StrictStr | None = None
    thread_ts: StrictStr | None = None
    subtype: StrictStr | None = None
    bot_id: StrictStr | None = None
    tab: StrictStr | None = None
    team: StrictStr | None = None
    user_team: StrictStr | None = None


class EventCallback(_Envelope):
    event: _Event
    event_id: StrictStr | None = None


class UrlVerification(_Envelope):
    challenge: StrictStr


INTERACTIONS = {"block_actions": BlockActions, "view_submission": ViewSubmission}
ENVELOPES = {"event_callback": EventCallback, "url_verification": UrlVerification}


def check(raw: bytes, content_type: str | None) -> None:
    """Raise :class:`Malformed` (with the reason) unless ``raw`` is a payload Ladder can read."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"the body is not UTF-8 (byte {exc.start})") from None
    if not text:
        raise Malformed("the body is empty")
    media = (content_type or "").split(";")[0].strip().lower()
    # parsed the way Bolt parses it (slack_bolt.request.internals.parse_body)
    if media == "application/json" or text.startswith("{"):
        body = _json(text, "the body")
        kind = body.get("type")
        _validate(ENVELOPES.get(_str(kind), _Envelope), body, event=kind == "event_callback")
        return
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in text and "payload" in form:
        payload = _json(form["payload"], "the payload field")
        _validate(INTERACTIONS.get(_str(payload.get("type")), _Interaction), payload)
    elif "ssl_check" not in form:
        _validate(SlashCommand, form)


def _str(value) -> str:
    return value if isinstance(value, str) else ""


def _validate(model: type[BaseModel], value: dict, *, event: bool = False) -> None:
    try:  # JSON may escape half of a surrogate pair ("\ud800"): no text Ladder can show or store
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise Malformed("a lone surrogate (\\ud800-\\udfff) in its text", event=event) from None
    try:
        model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the payload"
        raise Malformed(f"{where}: {first['msg']}", event=event) from None


def _json(text: str, what: str) -> dict:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Malformed(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Malformed(f"{what} is not a JSON object")
    return value

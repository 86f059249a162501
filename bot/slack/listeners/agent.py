"""Slack's agent experience, each part where the workspace allows it and today's behaviour where not.

| feature  | Web API                                         | where refused                          |
|----------|-------------------------------------------------|----------------------------------------|
| status   | ``assistant.threads.setStatus``                 | the 👀 reaction, removed after the answer |
| stream   | ``chat.startStream`` / ``appendStream`` / ``stopStream`` | the whole answer in one message |
| prompts  | ``assistant.threads.setSuggestedPrompts``       | nothing (the Messages tab as before)   |
| feedback | a ``context_actions`` block with ``feedback_buttons`` | Ladder's own 👍 / 👎 buttons      |

A refusal (``not_allowed_token_type``, ``feature_not_enabled``, ``missing_scope``, … or, for the feedback
block, ``invalid_blocks``) is remembered per workspace in SQLite, so the feature is not tried on every
message; it is tried again after :data:`bot.storage.store.AGENT_RECHECK`. Any other error falls back for that one
message only. Everything here works from the event's fields and a ``WebClient``, not from Bolt's
request context, so it runs the same wherever the work is picked up.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Callable

from slack_sdk.errors import SlackApiError

from bot.chat import blocks as B
from bot.chat import prompts
from bot.storage.inbox import STREAM_STARTING

log = logging.getLogger(__name__)

STATUS, STREAM, PROMPTS, FEEDBACK = "status", "stream", "prompts", "feedback"
FEATURES = (STATUS, STREAM, PROMPTS, FEEDBACK)
# What Slack answers when the workspace, the token or the app's settings do not allow a feature.
REFUSALS = frozenset({
    "not_allowed_token_type", "feature_not_enabled", "missing_scope", "not_allowed", "access_denied",
    "no_permission", "unknown_method", "method_deprecated", "team_access_not_granted", "invalid_auth_type",
})
STREAM_MIN_CHARS = 600     # shorter answers are posted at once: a stream would only add calls
STREAM_BUFFER = 400        # characters collected before each chat.appendStream (fewer calls, Tier 4)
CUT_OFF = ("\n\n_Something went wrong while I was sending this answer, so it stops here. "
           "The whole answer is in the next message._")
CUT_OFF_SHORT = "Something went wrong while I was sending this answer. The whole answer is in the next message."


def error_of(exc: BaseException) -> str:
    """Slack's error code of a failed call ("ratelimited", "not_allowed_token_type"); the exception's
    class name when Slack never answered (a dropped connection)."""
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return str(exc.response.get("error") or f"http_{exc.response.status_code}")
    return type(exc).__name__


class Agent:
    """The agent features for one workspace (``team_id``) through one Web API client."""

    def __init__(self, store, client, team_id: str | None):
        self.store, self.client, self.team = store, client, team_id or ""

    # -- which features this workspace allows ---------------------------------------------------
    def allowed(self, feature: str) -> bool:
        return not self.store.feature_refused(self.team, feature, at=datetime.now(timezone.utc))

    def _failed(self, feature: str, exc: BaseException, *, refusal: bool | None = None) -> None:
        error = error_of(exc)
        if refusal if refusal is not None else error in REFUSALS:
            log.warning("workspace %s refuses %s (%s): falling back to the classic way", self.team, feature, error)
            self.store.refuse_feature(self.team, feature, error)
        else:
            log.warning("%s failed (%s): falling back for this message", feature, error)

    def _worked(self, feature: str) -> None:
        if self.store.refusal(self.team, feature) is not None:   # refused before, allowed now: forget it
            self.store.allow_feature(self.team, feature)

    # -- status ---------------------------------------------------------------------------------
    def set_status(self, channel: str, thread_ts: str, status: str, loading: list[str] | None = None) -> bool:
        """Show "Ladder is …" in the thread; False when it could not (then show 👀)."""
        if not self.allowed(STATUS):
            return False
        try:
            self.client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status=status,
                                                    loading_messages=loading or None)
        except Exception as exc:
            self._failed(STATUS, exc)
            return False
        self._worked(STATUS)
        return True

    def clear_status(self, channel: str, thread_ts: str) -> None:
        try:
            self.client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status="")
        except Exception:   # it times out on Slack's side anyway
            log.exception("could not clear the status")

    # -- suggested prompts ----------------------------------------------------------------------
    def suggest(self, channel: str, prompt_list: list[prompts.Prompt], thread_ts: str | None = None) -> bool:
        if not prompt_list or not self.allowed(PROMPTS):
            return False
        try:
            self.client.assistant_threads_setSuggestedPrompts(
                channel_id=channel, thread_ts=thread_ts, title=prompts.TITLE,
                prompts=[p.as_dict() for p in prompt_list[:prompts.MAX_PROMPTS]])
        except Exception as exc:
            self._failed(PROMPTS, exc)
            return False
        self._worked(PROMPTS)
        return True

    # -- answers --------------------------------------------------------------------------------
    def post_answer(self, reply, *, channel: str, thread_ts: str, user: str,
                    started: Callable[[str], None] | None = None, unfinished: str | None = None) -> None:
        """An answer in its thread: streamed when long, native 👍/👎 where allowed, else as today.

        ``started`` is called with None just before a stream starts and with its ts as soon as Slack made
        the message; ``unfinished`` is what it was last told by a worker that stopped before finishing
        the answer: that stream is completed with the whole answer (one message in the thread, not a
        fragment and a second answer). A ts that never got written (``STREAM_STARTING``) is looked for
        in the thread: a message of Ladder's without blocks is a stream nobody stopped."""
        classic = reply.blocks
        native = B.native_feedback(classic) if self.allowed(FEEDBACK) else classic
        if unfinished == STREAM_STARTING:
            unfinished = self._unfinished_stream(channel, thread_ts)
        if unfinished and self._complete(unfinished, reply.text, native, classic, channel=channel):
            return
        if len(reply.text) >= STREAM_MIN_CHARS or sum(len(b.get("text", {}).get("text", "")) for b in classic
                                                      if b.get("type") == "section") >= STREAM_MIN_CHARS:
            if self.allowed(STREAM) and self._stream(reply, native, classic, channel=channel, thread_ts=thread_ts,
                                                     user=user, started=started):
                return
        self._post(reply.text, native, classic, channel=channel, thread_ts=thread_ts)

    def _unfinished_stream(self, channel: str, thread_ts: str) -> str | None:
        try:
            replies = self.client.conversations_replies(channel=channel, ts=thread_ts, limit=200)
        except Exception:
            log.exception("cannot look for an unfinished stream in %s; posting the answer", thread_ts)
            return None
        mine = [m for m in replies.get("messages", []) if m.get("bot_id") and m.get("ts") != thread_ts
                and not m.get("blocks")]
        return mine[-1]["ts"] if mine else None

    def _complete(self, ts: str, text: str, native: list[dict], classic: list[dict], *, channel: str) -> bool:
        """Turn a stream left half-done into the whole answer; False when that message is gone."""
        try:
            self.client.chat_stopStream(channel=channel, ts=ts)
        except Exception as exc:   # message_not_in_streaming_state: it was stopped already
            log.info("the unfinished stream %s could not be stopped (%s)", ts, error_of(exc))
        try:
            self._send(self.client.chat_update, native, classic, channel=channel, ts=ts, text=text)
            return True
        except Exception as exc:
            log.warning("could not complete the unfinished stream %s (%s): posting the answer", ts, error_of(exc))
            return False

    def _post(self, text: str, native: list[dict], classic: list[dict], *, channel: str, thread_ts: str | None):
        return self._send(self.client.chat_postMessage, native, classic, channel=channel, thread_ts=thread_ts, text=text)

    def _send(self, call, native: list[dict], classic: list[dict], **args):
        """``call`` (chat.postMessage, chat.update) with native 👍/👎, or with Ladder's own buttons where Slack
        refuses the feedback block (remembered for the workspace)."""
        if native is not classic:
            try:
                response = call(blocks=native, **args)
                self._worked(FEEDBACK)
                return response
            except SlackApiError as exc:
                if not _refuses_feedback_block(exc):
                    raise
                self._failed(FEEDBACK, exc, refusal=True)
        return call(blocks=classic, **args)

    def _stream(self, reply, native: list[dict], classic: list[dict], *, channel: str, thread_ts: str,
                user: str, started: Callable[[str], None] | None = None) -> bool:
        """Stream the answer's text, then its sources and buttons. False when the stream never started
        (then the caller posts it); a stream that breaks part-way is ended with a clear note and the whole
        answer posted after it."""
        markdown, tail = B.stream_parts(native)
        _, classic_tail = B.stream_parts(classic)
        if not markdown:
            return False
        # the message's first block id (the inbox job's marker) would go with the streamed text: the tail keeps it
        tail, classic_tail = _keep_lead_id(native, tail), _keep_lead_id(classic, classic_tail)
        if started is not None:
            started(None)
        stream = self.client.chat_stream(channel=channel, thread_ts=thread_ts, recipient_team_id=self.team or None,
                                         recipient_user_id=user or None, buffer_size=STREAM_BUFFER)
        try:
            for piece in _pieces(markdown):
                stream.append(markdown_text=piece)
                if started is not None and stream.ts is not None:
                    started(stream.ts)
                    started = None
            self._stop(stream, tail, classic_tail)
            self._worked(STREAM)
            return True
        except Exception as exc:
            if stream.ts is None:        # chat.startStream itself failed: nothing is shown yet
                self._failed(STREAM, exc)
                return False
            error = error_of(exc)
            log.warning("stream %s broke part-way (%s)", stream.ts, error)
            if error == "stopped_by_user":   # they pressed Stop: that is their answer
                return True
            self._end_broken(channel, stream.ts)
            self._post(reply.text, native, classic, channel=channel, thread_ts=thread_ts)
            return True

    def _stop(self, stream, tail: list[dict], classic_tail: list[dict]) -> None:
        try:
            stream.stop(blocks=tail or None)
            if B.has_native_feedback(tail):
                self._worked(FEEDBACK)
        except SlackApiError as exc:
            if not (B.has_native_feedback(tail) and _refuses_feedback_block(exc)):
                raise
            self._failed(FEEDBACK, exc, refusal=True)
            stream.stop(blocks=classic_tail or None)   # a refused stop changed nothing: the stream is still open

    def _end_broken(self, channel: str, ts: str) -> None:
        """Never leave a stream hanging: stop it with a note, or (when Slack no longer takes it as a
        stream) replace it with the note."""
        try:
            self.client.chat_stopStream(channel=channel, ts=ts, markdown_text=CUT_OFF)
            return
        except Exception:
            log.exception("could not stop the broken stream %s; replacing it", ts)
        try:
            self.client.chat_update(channel=channel, ts=ts, text=CUT_OFF_SHORT,
                                    blocks=B.text_blocks(f"_{CUT_OFF_SHORT}_"))
        except Exception:
            log.exception("could not replace the broken stream %s either", ts)


def _keep_lead_id(blocks: list[dict], tail: list[dict]) -> list[dict]:
    """``tail`` with ``blocks``' first block id on its first block that has none."""
    lead = blocks[0].get("block_id") if blocks else None
    if not lead or lead in {b.get("block_id") for b in tail}:
        return tail
    for i, block in enumerate(tail):
        if "block_id" not in block:
            return [*tail[:i], {**block, "block_id": lead}, *tail[i + 1:]]
    return tail


def _refuses_feedback_block(exc: SlackApiError) -> bool:
    """Slack did not take the context_actions / feedback_buttons block (a workspace or surface without it)."""
    response = exc.response or {}
    if response.get("error") not in ("invalid_blocks", "invalid_blocks_format"):
        return False
    said = " ".join(str(m) for m in (response.get("errors") or []) +
                    ((response.get("response_metadata") or {}).get("messages") or []))
    return "context_actions" in said or "feedback_buttons" in said


def _pieces(markdown: str, size: int = STREAM_BUFFER) -> list[str]:
    """The text in pieces that end at line breaks (about ``size`` characters each), as it is streamed."""
    out: list[str] = []
    current = ""
    for line in markdown.splitlines(keepends=True):
        if current and len(current) + len(line) > size:
            out.append(current)
            current = ""
        current += line
    if current:
        out.append(current)
    return out

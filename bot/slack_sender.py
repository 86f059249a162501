"""The outbox's sender over the Slack Web API (slack_sdk), mapping Slack's answers to retry or give up."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.outbox import Permanent, RetryLater

TRANSIENT = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}


class SlackSender:
    def __init__(self, client: WebClient):
        self.client = client
        self._dms: dict[str, str] = {}

    def _call(self, fn, **kwargs):
        try:
            return fn(**kwargs)
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", 200)
            error = exc.response.get("error", "unknown_error") if exc.response is not None else "unknown_error"
            if status == 429:
                raise RetryLater(float(exc.response.headers.get("Retry-After", 1) or 1), "ratelimited") from None
            if status >= 500 or error in TRANSIENT:
                raise RetryLater(2.0, error) from None
            raise Permanent(error) from None
        except OSError as exc:  # connection trouble after the client's own retries
            raise RetryLater(2.0, f"connection: {exc}") from None

    def open(self, recipient: str, kind: str) -> str:
        if kind == "channel":
            return recipient
        if recipient not in self._dms:
            self._dms[recipient] = self._call(self.client.conversations_open, users=recipient)["channel"]["id"]
        return self._dms[recipient]

    def send(self, channel: str, text: str, blocks: list[dict]) -> str:
        return self._call(self.client.chat_postMessage, channel=channel, text=text, blocks=blocks)["ts"]

    def find(self, channel: str, marker: str) -> str | None:
        history = self._call(self.client.conversations_history, channel=channel, limit=50)
        for message in history.get("messages", []):
            if any(b.get("block_id") == marker for b in message.get("blocks") or []):
                return message["ts"]
        return None

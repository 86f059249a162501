"""The outbox's sender over the Slack Web API (slack_sdk), mapping Slack's answers to retry or give up.

The client it calls through has no slack_sdk retry handlers: the outbox does its own rate-limit
waiting, and a blind re-post after a 5xx or a dropped connection (when Slack may already have
posted) would be a duplicate. Such a post raises :class:`Unknown`: the outbox checks the marker first.
"""

from __future__ import annotations

import http.client

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.storage.outbox import Permanent, RetryLater, Unknown

TRANSIENT = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}


def without_retries(client: WebClient) -> WebClient:
    """The same workspace and URL, with no retry handlers (slack_sdk's default adds a connection retry)."""
    if not isinstance(client, WebClient):
        return client   # a test double
    return WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout, ssl=client.ssl,
                     proxy=client.proxy, retry_handlers=[])


class SlackSender:
    def __init__(self, client: WebClient):
        self.client = without_retries(client)
        self._dms: dict[str, str] = {}

    def _call(self, fn, *, posting: bool = False, **kwargs):
        """``posting``: Slack may have acted even when the answer was an error (a 5xx, a dropped line)."""
        transient = Unknown if posting else RetryLater
        try:
            return fn(**kwargs)
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", 200)
            error = exc.response.get("error", "unknown_error") if exc.response is not None else "unknown_error"
            if status == 429:
                retry_after = float(exc.response.headers.get("Retry-After", 1) or 1)
                raise RetryLater(retry_after, "ratelimited", rate_limited=True) from None
            if status >= 500 or error in TRANSIENT:
                raise transient(2.0, error) from None
            raise Permanent(error) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:  # dropped, timed out, garbled
            raise transient(2.0, f"connection: {type(exc).__name__}: {exc}") from None

    def open(self, recipient: str, kind: str) -> str:
        if kind == "channel":
            return recipient
        if recipient not in self._dms:
            self._dms[recipient] = self._call(self.client.conversations_open, users=recipient)["channel"]["id"]
        return self._dms[recipient]

    def send(self, channel: str, text: str, blocks: list[dict]) -> str:
        return self._call(self.client.chat_postMessage, posting=True, channel=channel, text=text, blocks=blocks)["ts"]

    def find(self, channel: str, marker: str) -> str | None:
        history = self._call(self.client.conversations_history, channel=channel, limit=50)
        for message in history.get("messages", []):
            if any(b.get("block_id") == marker for b in message.get("blocks") or []):
                return message["ts"]
        return None

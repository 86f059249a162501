"""``create_app(settings, deps)``: the Bolt app, wired. Never built at import time."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler, RateLimitErrorRetryHandler, ServerErrorRetryHandler,
)

from bot.chat.handlers import Deps
from bot.core.config import Settings
from bot.slack.listeners import register_all
from bot.slack.listeners.jobs import Jobs
from bot.slack.listeners.deliver import SORRY, sorry_for, tell_sorry
from bot.slack.signature import SlackSignature

__all__ = ["SORRY", "LadderApp", "create_app", "web_client"]
log = logging.getLogger(__name__)


def web_client(settings: Settings) -> WebClient:
    """Web API client: base URL from settings; retries 429 (honouring Retry-After), 5xx and dropped connections."""
    return WebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=3),
                        ServerErrorRetryHandler(max_retry_count=2)],
    )


class LadderApp(App):
    """Bolt's App, with the inbox's runner its listeners hand their work to: ``app.jobs.stop()`` ends it (tests)."""

    jobs: Jobs


def create_app(settings: Settings, deps: Deps, *, socket_mode: bool = False) -> LadderApp:
    if socket_mode:
        settings.require_socket_mode()
    else:
        settings.require_http()
    app = LadderApp(
        client=web_client(settings),
        signing_secret=settings.slack_signing_secret or "socket-mode",
        # Every listener is an ack half, run in the request's own thread: it writes the work to the
        # SQLite inbox and acks; the inbox's runner does the work (bot/listeners/jobs.py). Slack gets its
        # 200 as soon as the job is stored, never after queuing for a thread.
        process_before_response=True,
        request_verification_enabled=not socket_mode,
    )
    app.jobs = register_all(app, deps)
    # bot.web verifies every request before Bolt sees it; the error handler checks again, because it
    # acts on the body (response_url, channel, user) and must never do so for a sender it cannot trust
    signature = None if socket_mode else SlackSignature(settings.slack_signing_secret)

    @app.error
    def on_error(error, body, request, respond, client, logger):
        logger.exception("error while handling a Slack request", exc_info=error)
        if signature is not None and not signature.verified(request.raw_body, request.headers):
            logger.warning("not answering the failed request: its signature cannot be verified")
            return
        tell_sorry(client, body, respond, text=sorry_for(error))

    return app


def run_socket_mode(app: App, app_token: str) -> None:
    """Serve ``app`` over Socket Mode until stopped (``ladder serve`` with ``SLACK_APP_TOKEN``)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler   # loaded only in this mode

    SocketModeHandler(app, app_token).start()

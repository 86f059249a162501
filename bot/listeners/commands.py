"""``/ladder``: acknowledged at once, answered through ``response_url``."""

from __future__ import annotations

import logging

from bot import handlers
from bot.listeners.deliver import ANSWERING, ack_at_once, deliver, tell_sorry

log = logging.getLogger(__name__)


def register(app, deps) -> None:
    def ladder_command(body, command, respond, client):
        # A lazy listener: Bolt has already answered Slack's request (ack_at_once). Errors are handled
        # here, so the person is told and the traceback logged.
        try:
            user = command["user_id"]
            with ANSWERING:
                reply = handlers.command(deps, user, command.get("text", ""), channel=command.get("channel_id"))
            reply.ephemeral = True  # answers to a slash command are for the person who typed it
            if reply.modal is not None:
                client.views_open(trigger_id=command["trigger_id"], view=reply.modal)
                return
            deliver(client, reply, user_id=user, respond=respond, channel=command.get("channel_id"))
        except Exception:
            log.exception("error while handling a Slack request: /ladder")
            tell_sorry(client, body, respond)

    app.command("/ladder")(ack=ack_at_once, lazy=[ladder_command])

"""``/ladder``: acknowledged at once, answered through ``response_url``."""

from __future__ import annotations

import logging

from bot import handlers
from bot.listeners.deliver import deliver, tell_sorry

log = logging.getLogger(__name__)


def register(app, deps) -> None:
    def ladder_command(ack, body, command, respond, client):
        ack()
        # Errors are handled here, not by @app.error: when a listener raises after ack(), Bolt resets the
        # ack and Slack gets a 404 three seconds later ("dispatch_failed") on top of the apology.
        try:
            user = command["user_id"]
            reply = handlers.command(deps, user, command.get("text", ""), channel=command.get("channel_id"))
            reply.ephemeral = True  # answers to a slash command are for the person who typed it
            if reply.modal is not None:
                client.views_open(trigger_id=command["trigger_id"], view=reply.modal)
                return
            deliver(client, reply, user_id=user, respond=respond, channel=command.get("channel_id"))
        except Exception:
            log.exception("error while handling a Slack request: /ladder")
            tell_sorry(client, body, respond)

    app.command("/ladder")(ladder_command)

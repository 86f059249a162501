"""``/ladder``: acknowledged at once, answered through ``response_url``."""

from __future__ import annotations

import logging

from bot import handlers

log = logging.getLogger(__name__)


def register(app, deps) -> None:
    def ladder_command(ack, command, respond):
        ack()
        reply = handlers.command(deps, command["user_id"], command.get("text", ""), channel=command.get("channel_id"))
        respond(text=reply.text, blocks=reply.blocks,
                response_type="ephemeral" if reply.ephemeral else "in_channel")

    app.command("/ladder")(ladder_command)

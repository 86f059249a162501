"""``/ladder``: written to the inbox and acknowledged, answered through ``response_url``."""

from __future__ import annotations

from bot.chat import handlers
from bot.slack.listeners.deliver import answering, deliver, lazy_half


def register(app, deps, jobs) -> None:
    @lazy_half("/ladder")
    def ladder_command(body, command, respond, client):
        user = command["user_id"]
        with answering(deps, user):
            reply = handlers.command(deps, user, command.get("text", ""), channel=command.get("channel_id"))
        reply.ephemeral = True  # answers to a slash command are for the person who typed it
        if reply.modal is not None:
            client.views_open(trigger_id=command["trigger_id"], view=reply.modal)
            return
        deliver(client, reply, user_id=user, respond=respond, channel=command.get("channel_id"))

    app.command("/ladder")(jobs.listener("command", ladder_command))

"""Buttons and selects: on answers, on App Home and on gap-check messages."""

from __future__ import annotations

import re

from bot.chat import blocks as B
from bot.chat import handlers
from bot.slack.listeners.deliver import answering, deliver, dm_channel, lazy_half


def register(app, deps, jobs) -> None:
    @lazy_half("a button or menu")
    def on_action(body, action, client, respond):
        user = body["user"]["id"]
        value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
        inputs = B.inputs_from_state(body.get("state"))
        with answering(deps, user):
            reply = handlers.action(deps, user, action["action_id"], value, inputs)
        if reply is None:
            return
        if body.get("container", {}).get("type") == "view" or body.get("view"):
            # App Home: refresh it, and put the reply in the DM
            client.views_publish(user_id=user, view=handlers.home(deps, user))
            reply.replace = False
            deliver(client, reply, user_id=user, channel=dm_channel(client, user))
            return
        channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get("channel_id")
        deliver(client, reply, user_id=user, respond=respond, channel=channel)

    app.action(re.compile("^(" + "|".join(re.escape(a) for a in handlers.ACTIONS) + ")$"))(jobs.listener("action", on_action))

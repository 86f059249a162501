"""Buttons and selects on answers and on App Home."""

from __future__ import annotations

import logging
import re

from bot import blocks as B
from bot import handlers

log = logging.getLogger(__name__)


def register(app, deps) -> None:
    def on_action(ack, body, action, client, respond):
        ack()
        user = body["user"]["id"]
        value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
        reply = handlers.action(deps, user, action["action_id"], value)
        if body.get("container", {}).get("type") == "view" or body.get("view"):
            # App Home: refresh it, and say what happened in the DM
            client.views_publish(user_id=user, view=handlers.home(deps, user))
            dm = client.conversations_open(users=user)["channel"]["id"]
            client.chat_postMessage(channel=dm, text=reply.text, blocks=reply.blocks)
            return
        respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)

    app.action(re.compile("^(" + "|".join(re.escape(a) for a in B.ACTION_IDS) + ")$"))(on_action)

"""Modal submissions: HR's level edit. Errors go back into the form; nothing is saved then."""

from __future__ import annotations

import logging

from bot import blocks as B
from bot import team_handlers
from bot.listeners.deliver import deliver, tell_sorry

log = logging.getLogger(__name__)


def register(app, deps) -> None:
    def on_edit(ack, body, view, client):
        user = body["user"]["id"]
        errors, apply = team_handlers.submit_edit(deps, user, view.get("private_metadata", ""), B.view_values(view))
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()  # the form closes; indexing the new version takes a few seconds
        try:  # errors after ack() are handled here: see commands.py
            deliver(client, apply(), user_id=user)
        except Exception:
            log.exception("error while handling a Slack request: saving an edit")
            tell_sorry(client, body)

    app.view(B.EDIT_CALLBACK)(on_edit)

"""Modal submissions: HR's level edit. Errors go back into the form; nothing is saved then."""

from __future__ import annotations

import threading

from bot import blocks as B
from bot import team_handlers
from bot.listeners.deliver import deliver, lazy_half


def register(app, deps) -> None:
    accepted: dict[str, object] = {}   # view id -> the edit its ack half validated, for its lazy half
    lock = threading.Lock()

    def check_edit(ack, body, view):
        """The ack half, in the request's thread: problems go back into the form, else it closes."""
        errors, apply = team_handlers.submit_edit(deps, body["user"]["id"], view.get("private_metadata", ""),
                                                  B.view_values(view))
        if errors:
            ack(response_action="errors", errors=errors)
            return
        with lock:
            accepted[view["id"]] = apply
        ack()

    @lazy_half("saving an edit")
    def save_edit(body, view, client):
        """The lazy half: store, re-index (a few seconds) and tell HR; nothing when the form was refused."""
        with lock:
            apply = accepted.pop(view["id"], None)
        if apply is not None:
            deliver(client, apply(), user_id=body["user"]["id"])

    app.view(B.EDIT_CALLBACK)(ack=check_edit, lazy=[save_edit])

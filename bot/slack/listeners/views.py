"""Modal submissions: HR's level edit. Errors go back into the form; nothing is saved then."""

from __future__ import annotations

import logging

from bot.chat import blocks as B
from bot.chat import edits
from bot.slack.listeners.deliver import deliver

log = logging.getLogger(__name__)


def register(app, deps, jobs) -> None:
    @app.view(B.EDIT_CALLBACK)
    def check_edit(ack, body, view):
        """The ack half, in the request's thread: problems go back into the form; a valid edit is written
        to the inbox before the form closes, so a crash after this cannot lose it."""
        user = body["user"]["id"]
        errors, edit = edits.submit_edit(deps, user, view.get("private_metadata", ""), B.view_values(view))
        if errors:
            ack(response_action="errors", errors=errors)
            return
        jobs.put("edit", {"user": {"id": user}, "edit": edit.keywords})
        ack()

    def save_edit(body, client, job):
        """Store, re-index (a few seconds) and tell HR: saved, or not saved and why."""
        user = body["user"]["id"]
        try:
            reply = edits.apply_edit(deps, user_id=user, job_id=job.id, **body["edit"])
        except Exception:
            log.exception("saving an edit failed")
            reply = edits.edit_failed(deps, user, body["edit"]["level_id"], job.id)
        deliver(client, reply, user_id=user)

    jobs.handlers["edit"] = save_edit

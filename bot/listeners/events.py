"""Questions in DMs and @mentions, and the App Home tab."""

from __future__ import annotations

import logging
import re

from bot import handlers
from bot.listeners.deliver import answering, deliver, lazy_half

log = logging.getLogger(__name__)
WORKING = "eyes"
_MENTION = re.compile(r"<@[UW][A-Z0-9]+>")


def _from_a_bot(event: dict) -> bool:
    return bool(event.get("bot_id") or event.get("subtype") in {"bot_message", "message_changed", "message_deleted"})


def _a_persons_dm(event: dict) -> bool:
    """A message someone wrote to Ladder in its DM (no job for bots' messages, edits and deletions)."""
    if event.get("channel_type") != "im" or _from_a_bot(event):
        return False
    return not event.get("subtype") or event.get("subtype") in {"file_share", "thread_broadcast"}


def answer_in_thread(deps, client, body: dict, event: dict, text: str) -> None:
    """👀 while working, the answer in the thread, 👀 removed. One job per event even when Slack retries
    (:func:`bot.inbox.put`)."""
    channel, ts = event["channel"], event["ts"]
    thread = event.get("thread_ts") or ts
    try:
        client.reactions_add(channel=channel, timestamp=ts, name=WORKING)
    except Exception:  # e.g. already_reacted, or no reactions:write: answer anyway
        log.exception("could not add the working reaction")
    try:  # a failure goes on to lazy_half, which tells the person in this thread
        with answering(deps, event.get("user", "")):
            reply = handlers.question(deps, event.get("user", ""), channel, text)
        deliver(client, reply, user_id=event.get("user", ""), channel=channel, thread_ts=thread)
    finally:
        try:
            client.reactions_remove(channel=channel, timestamp=ts, name=WORKING)
        except Exception:  # the answer matters more than the emoji
            log.exception("could not remove the working reaction")


def register(app, deps, jobs) -> None:
    @lazy_half("a mention")
    def on_mention(body, event, client, context):
        if _from_a_bot(event) or event.get("user") == context.get("bot_user_id"):
            return
        answer_in_thread(deps, client, body, event, _MENTION.sub("", event.get("text", "")).strip())

    @lazy_half("a DM")
    def on_message(body, event, client, context):
        if event.get("user") == context.get("bot_user_id"):
            return
        answer_in_thread(deps, client, body, event, event.get("text", ""))

    @lazy_half("App Home")   # an app_home_opened event has no thread to answer in: logged only
    def on_home(body, event, client):
        if event.get("tab", "home") != "home":
            return
        with answering(deps, event["user"]):
            view = handlers.home(deps, event["user"])
        client.views_publish(user_id=event["user"], view=view)

    app.event("app_mention")(jobs.listener("mention", on_mention))
    app.event("message")(jobs.listener("message", on_message, accept=lambda body: _a_persons_dm(body["event"])))
    app.event("app_home_opened")(jobs.listener("home", on_home))

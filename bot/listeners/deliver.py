"""Posting a :class:`~bot.handlers.Reply` to Slack: where it goes depends on what it asks for."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)
SORRY = "Sorry, something went wrong on my side while answering. It has been logged; please try again in a minute."


def dm_channel(client, user_id: str) -> str:
    return client.conversations_open(users=user_id)["channel"]["id"]


def deliver(client, reply, *, user_id: str, respond=None, channel: str | None = None,
            thread_ts: str | None = None) -> None:
    """respond (ephemeral or replacing the clicked message), or post into a channel/thread/DM."""
    if reply is None:
        return
    if reply.dm:
        channel, thread_ts = dm_channel(client, user_id), None
        if respond is not None and not reply.replace:
            respond(text="I've sent you a DM to run the gap check there.", response_type="ephemeral",
                    replace_original=False)
        respond = None
    if respond is not None:
        respond(text=reply.text, blocks=reply.blocks, replace_original=reply.replace,
                response_type="ephemeral" if reply.ephemeral and not reply.replace else "in_channel")
    else:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=reply.text, blocks=reply.blocks)
    if not reply.followups and not reply.files:
        return
    target = channel or dm_channel(client, user_id)
    for extra in reply.followups:
        where = dm_channel(client, extra.to_user) if extra.to_user else target
        client.chat_postMessage(channel=where, text=extra.text, blocks=extra.blocks)
        for filename, content, title in extra.files:
            client.files_upload_v2(channel=target, content=content, filename=filename, title=title)
    for filename, content, title in reply.files:
        client.files_upload_v2(channel=target, content=content, filename=filename, title=title)


def tell_sorry(client, body: dict, respond=None) -> None:
    """Tell the person that answering failed: on the response_url, in the event's thread, or in their DM."""
    try:
        if body.get("response_url") and respond is not None:
            respond(text=SORRY, response_type="ephemeral", replace_original=False)
            return
        event = body.get("event") or {}
        if event.get("channel") and event.get("ts"):
            client.chat_postMessage(channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"], text=SORRY)
            return
        user = (body.get("user") or {}).get("id") or body.get("user_id")
        if user:
            client.chat_postMessage(channel=dm_channel(client, user), text=SORRY)
    except Exception:
        log.exception("could not tell the user about the error")

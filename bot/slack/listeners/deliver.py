"""Posting a :class:`~bot.handlers.Reply` to Slack: where it goes depends on what it asks for."""

from __future__ import annotations

import functools
import logging
import threading
from contextlib import contextmanager
from dataclasses import replace

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.chat import blocks as B
from bot.storage import inbox
from bot.storage.store import save_problem

log = logging.getLogger(__name__)

# Answering is CPU-bound (the model, numpy, building blocks) and the machine small: at most ANSWER_LANES
# replies are worked out at once, so the threads that acknowledge Slack's requests are never starved.
# Only the working out is limited; posting the result (network, retries) is not.
ANSWER_LANES = 2
ANSWERING = threading.BoundedSemaphore(ANSWER_LANES)
# Nobody occupies the lanes: the inbox hands out one job per person at a time (bot/inbox.py claim) and
# takes at most PER_PERSON from a person that are not done yet (more are refused with BUSY); here, too,
# a person's requests are worked out one after another (never two lanes for one person) and at most
# PER_PERSON at once, counted in SQLite so the limit holds across worker processes. A slot left by a
# killed process expires after SLOT_EXPIRY seconds (far longer than any answer takes).
PER_PERSON = 2
SLOT_EXPIRY = 120.0
BUSY = ("I'm still working on your earlier requests, so I've skipped this one. "
        "Send it again once they're answered.")
_turns: dict[str, list] = {}       # person -> [their lock, how many of their requests want it]
_turns_lock = threading.Lock()


class Busy(Exception):
    """This person already has PER_PERSON requests going."""


@contextmanager
def _own_turn(user_id: str):
    """One of this person's requests at a time, waiting without holding a lane."""
    with _turns_lock:
        turn = _turns.setdefault(user_id, [threading.Lock(), 0])
        turn[1] += 1
    try:
        with turn[0]:
            yield
    finally:
        with _turns_lock:
            turn[1] -= 1
            if turn[1] == 0:
                del _turns[user_id]


@contextmanager
def answering(deps, user_id: str):
    """Work out one reply for ``user_id``: within their limit, after their earlier ones, in a free lane."""
    user_id = user_id or "?"
    slot = deps.store.begin_work(user_id, PER_PERSON, SLOT_EXPIRY)
    if slot is None:
        raise Busy(user_id)
    try:
        with _own_turn(user_id), ANSWERING:
            yield
    finally:
        deps.store.end_work(slot)


# The inbox job this thread is doing (bot/listeners/jobs.py): its answer carries the job's marker and,
# when late, says so.
CURRENT = threading.local()
LATE = "Sorry for the wait: Ladder restarted while working on this, so the answer comes late."


def job_marker(job_id: int) -> str:
    return f"job-{job_id}"


def as_job_answer(reply):
    """The reply with the current job's marker (the first block's id) and, if late, a note saying so."""
    job = getattr(CURRENT, "job", None)
    if job is None:
        return reply
    blocks = [dict(b) for b in reply.blocks]
    if job.late:
        blocks = B.text_blocks(f"_{LATE}_") + blocks
    if blocks and "block_id" not in blocks[0]:
        blocks[0]["block_id"] = job_marker(job.id)
    return replace(reply, blocks=blocks)


def job_stream_hooks(store) -> dict:
    """What :meth:`bot.slack.listeners.agent.Agent.post_answer` needs to stream the current job's answer
    crash-safely: a callback that records the stream's ts in the job, and the ts of a stream a killed
    worker left unfinished (to complete instead of posting a second answer)."""
    job = getattr(CURRENT, "job", None)
    if job is None:
        return {}
    return {"started": lambda ts: inbox.note_message(store, job.id, ts or inbox.STREAM_STARTING),
            "unfinished": job.message_ts}


def lazy_half(what: str):
    """Decorates a listener's work half, run by the inbox's runner (:mod:`bot.slack.listeners.jobs`). Slack has
    its 200 already, so a failure is logged with its traceback and the person told (:func:`tell_sorry`).
    The runner reads the arguments to pass from the decorated function's own signature."""
    def decorate(fn):
        @functools.wraps(fn)
        def run(**kwargs):
            try:
                fn(**kwargs)
            except Busy as busy:
                log.warning("%s: %s already has %d requests being answered; told them to wait", what, busy,
                            PER_PERSON)
                tell_sorry(kwargs["client"], kwargs["body"], kwargs.get("respond"), text=BUSY)
            except Exception as exc:
                log.exception("error while handling a Slack request: %s", what)
                tell_sorry(kwargs["client"], kwargs["body"], kwargs.get("respond"), text=sorry_for(exc))
        return run
    return decorate


# Bolt's respond() retries nothing and raises nothing on an HTTP error: an answer lost on a 429 or
# a 5xx would be silent. response_url posts go through these instead.
RESPONSE_URL_RETRIES = (ConnectionErrorRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=2),
                        ServerErrorRetryHandler(max_retry_count=2))
SORRY = "Sorry, something went wrong on my side while answering. It has been logged; please try again in a minute."
CANT_SAVE = ("Ladder can't save right now ({problem}), so this wasn't done. The people who run Ladder can see "
             "why in its log and on its health check; please try again later.")


def sorry_for(exc: BaseException) -> str:
    """What to tell the person when answering raised ``exc``: "can't save" when SQLite could not write."""
    problem = save_problem(exc)
    return CANT_SAVE.format(problem=problem) if problem else SORRY


def dm_channel(client, user_id: str) -> str:
    return client.conversations_open(users=user_id)["channel"]["id"]


def deliver(client, reply, *, user_id: str, respond=None, channel: str | None = None,
            thread_ts: str | None = None) -> None:
    """respond (ephemeral or replacing the clicked message), or post into a channel/thread/DM."""
    if reply is None:
        return
    reply = as_job_answer(reply)
    if reply.dm:
        dm = dm_channel(client, user_id)
        if respond is not None and not reply.replace:
            respond_reliably(respond, client, user_id=user_id, channel=channel,
                             text="I've sent you a DM to run the gap check there.", response_type="ephemeral",
                             replace_original=False)
        channel, thread_ts, respond = dm, None, None
    if respond is not None:
        respond_reliably(respond, client, user_id=user_id, channel=channel, text=reply.text, blocks=reply.blocks,
                         replace_original=reply.replace,
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


def respond_reliably(respond, client, *, user_id: str, channel: str | None, **message) -> None:
    """Post to the response_url with retries on 429, 5xx and dropped connections; if it still fails
    (expired, used up), post the same message ephemerally in the channel, or in a DM."""
    url = getattr(respond, "response_url", None)
    if not url:  # not Bolt's Respond (the console): it cannot fail this way
        respond(**message)
        return
    hook = WebhookClient(url=url, proxy=respond.proxy, ssl=respond.ssl, retry_handlers=list(RESPONSE_URL_RETRIES))
    try:
        status = hook.send_dict({k: v for k, v in message.items() if v is not None}).status_code
    except Exception:
        log.exception("response_url post failed")
        status = None
    if status == 200:
        return
    log.error("response_url answered %s; posting the answer another way", status)
    text, blocks = message.get("text"), message.get("blocks")
    if channel and message.get("response_type") != "in_channel":
        try:
            client.chat_postEphemeral(channel=channel, user=user_id, text=text, blocks=blocks)
            return
        except Exception:  # e.g. channel_not_found: Ladder is not in that channel
            log.exception("chat.postEphemeral fallback failed; sending a DM")
    client.chat_postMessage(channel=dm_channel(client, user_id), text=text, blocks=blocks)


def tell_sorry(client, body: dict, respond=None, text: str = SORRY) -> None:
    """Tell the person that answering failed: on the response_url, in the event's thread, or in their DM."""
    try:
        if body.get("response_url") and respond is not None:
            respond(text=text, response_type="ephemeral", replace_original=False)
            return
        event = body.get("event") or {}
        if event.get("channel") and event.get("ts"):
            client.chat_postMessage(channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"], text=text)
            return
        user = (body.get("user") or {}).get("id") or body.get("user_id")
        if user:
            client.chat_postMessage(channel=dm_channel(client, user), text=text)
    except Exception:
        log.exception("could not tell the user about the error")

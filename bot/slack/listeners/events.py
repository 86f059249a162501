"""Questions in DMs and @mentions, and the App Home tab."""

from __future__ import annotations

import logging
import re

from bot.chat import handlers, prompts, threads
from bot.slack.listeners.agent import Agent
from bot.slack.listeners.deliver import answering, as_job_answer, deliver, job_stream_hooks, lazy_half

log = logging.getLogger(__name__)
WORKING = "eyes"
_MENTION = re.compile(r"<@[UW][A-Z0-9]+>")


def _from_a_bot(event: dict) -> bool:
    return bool(event.get("bot_id") or event.get("subtype") in {"bot_message", "message_changed", "message_deleted"})


def answer_in_thread(deps, client, body: dict, event: dict, text: str) -> None:
    """A status line (👀 where the workspace has no agent status) while working, then the answer in the
    thread — streamed when long, with Slack's own 👍/👎 where allowed —; one job per event even when
    Slack retries (:func:`bot.storage.inbox.put`). A reply in a thread is read against what that thread asked before."""
    channel, ts, user = event["channel"], event["ts"], event.get("user", "")
    thread = event.get("thread_ts") or ts
    agent = Agent(deps.store, client, body.get("team_id") or event.get("team"))
    status = agent.set_status(channel, thread, *prompts.working_status(deps, text))
    if not status:
        try:
            client.reactions_add(channel=channel, timestamp=ts, name=WORKING)
        except Exception:  # e.g. already_reacted, or no reactions:write: answer anyway
            log.exception("could not add the working reaction")
    answered = False
    try:  # a failure goes on to lazy_half, which tells the person in this thread
        with answering(deps, user):
            earlier = threads.conversation(deps, channel, thread) if event.get("thread_ts") else None
            reply = handlers.question(deps, user, channel, text, context=earlier)
        if _plain_answer(reply):
            # the inbox job's marker and, after a restart, the late note: as deliver() adds them
            agent.post_answer(as_job_answer(reply), channel=channel, thread_ts=thread, user=user,
                              **job_stream_hooks(deps.store))
        else:
            deliver(client, reply, user_id=user, channel=channel, thread_ts=thread)
        answered = True
        threads.remember(deps, channel, thread, user, reply, text)
    finally:
        if status and not answered:
            agent.clear_status(channel, thread)
        if not status:
            try:
                client.reactions_remove(channel=channel, timestamp=ts, name=WORKING)
            except Exception:  # the answer matters more than the emoji
                log.exception("could not remove the working reaction")


def _plain_answer(reply) -> bool:
    """An answer that is one message in the thread (not a DM, files or further messages)."""
    return bool(reply and reply.blocks) and not (reply.dm or reply.files or reply.followups or reply.to_user
                                                 or reply.modal)


def _follow_up(deps, event: dict, bot_user_id: str | None) -> bool:
    """A message in a channel is Ladder's only when it replies in a thread Ladder answered in (and does not
    mention Ladder: that arrives as an app_mention too)."""
    thread = event.get("thread_ts")
    if not thread or thread == event.get("ts"):
        return False
    if bot_user_id and f"<@{bot_user_id}>" in (event.get("text") or ""):
        return False
    return bool(deps.store.thread_turns(event["channel"], thread))


def register(app, deps, jobs) -> None:
    @lazy_half("a mention")
    def on_mention(body, event, client, context):
        if _from_a_bot(event) or event.get("user") == context.get("bot_user_id"):
            return
        answer_in_thread(deps, client, body, event, _MENTION.sub("", event.get("text", "")).strip())

    @lazy_half("a DM")
    def on_message(body, event, client, context):
        if _from_a_bot(event) or event.get("user") == context.get("bot_user_id"):
            return
        if event.get("subtype") and event.get("subtype") not in {"file_share", "thread_broadcast"}:
            return
        if event.get("channel_type") != "im" and not _follow_up(deps, event, context.get("bot_user_id")):
            return
        answer_in_thread(deps, client, body, event, _MENTION.sub("", event.get("text", "")).strip())

    @lazy_half("App Home")   # an app_home_opened event has no thread to answer in: logged only
    def on_home(body, event, client):
        if event.get("tab", "home") == "messages":   # the agent view: prompts made for this person
            with answering(deps, event["user"]):
                suggestions = prompts.suggested(deps, event["user"])
            Agent(deps.store, client, body.get("team_id")).suggest(event["channel"], suggestions)
            return
        if event.get("tab", "home") != "home":
            return
        with answering(deps, event["user"]):
            view = handlers.home(deps, event["user"])
        client.views_publish(user_id=event["user"], view=view)

    @lazy_half("a new agent thread")
    def on_thread_started(body, event, client):
        where = event.get("assistant_thread")
        if not isinstance(where, dict) or not all(isinstance(where.get(k), str) and where[k]
                                                  for k in ("channel_id", "thread_ts", "user_id")):
            return
        with answering(deps, where["user_id"]):
            suggestions = prompts.suggested(deps, where["user_id"])
        Agent(deps.store, client, body.get("team_id")).suggest(where["channel_id"], suggestions,
                                                               thread_ts=where["thread_ts"])

    def for_ladder(body) -> bool:
        """Worth a job: a person's message in Ladder's DM, or their reply in a thread Ladder answered in."""
        event = body["event"]
        if _from_a_bot(event) or (event.get("subtype") and event.get("subtype") not in {"file_share", "thread_broadcast"}):
            return False
        if event.get("channel_type") == "im":
            return True
        thread = event.get("thread_ts")
        return bool(thread and thread != event.get("ts") and deps.store.thread_turns(event["channel"], thread))

    app.event("app_mention")(jobs.listener("mention", on_mention))
    app.event("message")(jobs.listener("message", on_message, accept=for_ladder))
    app.event("app_home_opened")(jobs.listener("home", on_home))
    app.event("assistant_thread_started")(jobs.listener("thread_started", on_thread_started))

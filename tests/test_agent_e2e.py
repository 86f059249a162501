"""Ladder as a Slack agent, end to end over signed HTTP against the stand-in: suggested prompts in the
Messages tab, a status while working, streamed answers, Slack's own 👍/👎, follow-ups in threads — and,
on a workspace that refuses the agent experience, everything as before (👀, one message, Ladder's buttons).
"""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from bot.chat import blocks as B
from bot.slack.listeners.agent import CUT_OFF, STREAM_MIN_CHARS
from tests import slack_requests as R
from tests.test_slack_e2e import QUESTION, USER, Ladder, agent_ladder, served  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

STREAM_METHODS = ("chat.startStream", "chat.appendStream", "chat.stopStream")


def open_messages_tab(world: Ladder, user: str = USER) -> str:
    dm = world.slack.dm_channel(user)
    status, _, _ = world.post(R.event_callback(R.app_home_opened(user=user, channel=dm, tab="messages")))
    assert status == 200
    return dm


def streamed_answer(world: Ladder, dm: str, ts: str) -> dict:
    """The streamed message in the question's thread, once it is complete."""
    world.slack.wait_for("chat.stopStream", lambda c: c.ok)
    [msg] = [m for m in world.slack.thread(dm, ts) if m.get("streaming_state")]
    return msg


def feedback_values(blocks: list[dict]) -> tuple[str, str]:
    [el] = [el for b in blocks if b["type"] == "context_actions" for el in b["elements"]]
    assert el["type"] == "feedback_buttons" and el["action_id"] == B.FEEDBACK
    return el["positive_button"]["value"], el["negative_button"]["value"]


def click_with_state(world: Ladder, action_id: str, value: str, channel: str, state: dict):
    ru = world.slack.new_response_url(channel=channel, user=USER)
    status, _, _ = world.post(R.block_actions(action_id, value, channel_id=channel, response_url=ru, state=state))
    assert status == 200
    return world.wait_response(ru)


def wait_idle(world: Ladder, seconds: float = 0.5) -> None:
    """Let a lazy listener finish what it started (used only before asserting that nothing more happens)."""
    n = -1
    while n != len(world.slack.calls()):
        n = len(world.slack.calls())
        time.sleep(seconds)


# -- 1. the Messages tab ------------------------------------------------------------------------------

def test_messages_tab_suggests_at_most_four_prompts_made_for_the_person(agent_ladder):
    ladder = agent_ladder
    ladder.deps.store.set_profile(USER, current_level="experienced-agent")
    dm = open_messages_tab(ladder)
    [call] = ladder.slack.wait_for("assistant.threads.setSuggestedPrompts", lambda c: c.ok)
    prompts = ladder.slack.suggested_prompts(dm)["prompts"]
    titles = [p["title"] for p in prompts]
    assert 1 <= len(prompts) <= 4
    assert "What do I need for Senior Agent?" in titles          # their next level, not a generic one
    assert "Compare my level with Senior Agent" in titles
    assert "What is FCR?" in titles
    assert call.args["channel_id"] == dm


def test_an_open_gap_check_is_offered_for_resuming_and_the_prompt_resumes_it(agent_ladder):
    ladder = agent_ladder
    from bot.chat import handlers

    ladder.deps.store.set_profile(USER, current_level="agent")
    handlers.action(ladder.deps, USER, B.GAP_BEGIN, "begin|agent|senior-agent", {})   # a gap check left open
    assert ladder.deps.store.open_checks(USER)
    dm = open_messages_tab(ladder)
    ladder.slack.wait_for("assistant.threads.setSuggestedPrompts", lambda c: c.ok)
    messages = [p["message"] for p in ladder.slack.suggested_prompts(dm)["prompts"]]
    assert "Resume my gap check for Senior Agent" in messages
    assert len(messages) <= 4
    # picking it sends its message as the person's: Ladder offers that check, not a new one
    _, ts, _ = ladder.dm("Resume my gap check for Senior Agent")
    [call] = ladder.slack.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") == ts and c.ok)
    assert B.GAP_BEGIN in json.dumps(call.args["blocks"]) or B.GAP_RESUME in json.dumps(call.args["blocks"])
    assert "Senior Agent" in json.dumps(call.args["blocks"])


def test_the_compare_prompt_compares_the_persons_own_level(agent_ladder):
    ladder = agent_ladder
    ladder.deps.store.set_profile(USER, current_level="experienced-agent")
    dm, ts, _ = ladder.dm("Compare my level with Senior Agent")
    ladder.slack.wait_for("chat.stopStream", lambda c: c.ok, timeout=10)
    [msg] = [m for m in ladder.slack.thread(dm, ts) if m.get("streaming_state")]
    assert "Experienced Agent" in msg["text"] and "Senior Agent" in msg["text"]


# -- 2.–4. a question: status, stream, native feedback ------------------------------------------------------

def test_a_question_shows_a_status_then_a_streamed_answer_with_native_feedback(agent_ladder):
    ladder = agent_ladder
    dm, ts, _ = ladder.dm(QUESTION)
    msg = streamed_answer(ladder, dm, ts)
    [status] = ladder.slack.calls("assistant.threads.setStatus")[:1]
    assert status.ok and status.args["thread_ts"] == ts
    assert "Senior Agent" in status.args["status"]           # says what it is doing, not only "thinking"
    assert ladder.slack.status(dm, ts) is None                # the answer cleared it
    assert not ladder.slack.calls("reactions.add")            # no 👀 where the status works
    # streamed: started in the question's thread, in pieces, then stopped with sources and buttons
    start = ladder.slack.last("chat.startStream")
    assert start.args["thread_ts"] == ts and start.args["recipient_user_id"] == USER
    assert len(ladder.slack.calls("chat.appendStream")) >= 1
    assert len(msg["text"]) >= STREAM_MIN_CHARS and msg["streaming_state"] == "completed"
    assert "**" in msg["text"] and "Senior Agent" in msg["text"]   # mrkdwn *bold* became markdown **bold**
    assert "Sources:" in json.dumps(msg["blocks"])
    up, down = feedback_values(msg["blocks"])
    assert up.startswith("up|") and down.startswith("down|")
    assert not any(el.get("action_id") in (B.VOTE_UP, B.VOTE_DOWN)
                   for b in msg["blocks"] if b["type"] == "actions" for el in b["elements"])
    assert not ladder.slack.calls("chat.postMessage")         # one answer, the streamed one


def test_a_short_answer_is_posted_at_once_with_native_feedback(agent_ladder):
    ladder = agent_ladder
    dm, ts, _ = ladder.dm("who manages team leads?")
    [call] = ladder.slack.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") == ts and c.ok)
    assert not ladder.slack.calls("chat.startStream")
    feedback_values(call.args["blocks"])


def test_native_thumbs_down_stores_the_vote_and_what_was_wrong_reaches_stats(agent_ladder):
    ladder = agent_ladder
    dm, ts, _ = ladder.dm(QUESTION)
    msg = streamed_answer(ladder, dm, ts)
    up, down = feedback_values(msg["blocks"])
    answer_id = int(down.split("|")[1])
    ru = ladder.slack.new_response_url(channel=dm, message_ts=msg["ts"], user=USER)
    status, _, _ = ladder.post(R.block_actions(B.FEEDBACK, down, channel_id=dm, message_ts=msg["ts"], response_url=ru,
                                               action_type="feedback_buttons"))
    assert status == 200
    reply = ladder.wait_response(ru)
    assert "What was wrong?" in json.dumps(reply.args["blocks"])
    assert [(f["answer_id"], f["vote"]) for f in ladder.deps.store.feedback()] == [(answer_id, -1)]
    # a second press changes the same vote: one per person per answer
    ru2 = ladder.slack.new_response_url(channel=dm, message_ts=msg["ts"], user=USER)
    ladder.post(R.block_actions(B.FEEDBACK, up, channel_id=dm, message_ts=msg["ts"], response_url=ru2,
                                action_type="feedback_buttons"))
    ladder.wait_response(ru2)
    assert [(f["answer_id"], f["vote"]) for f in ladder.deps.store.feedback()] == [(answer_id, 1)]
    ru3 = ladder.slack.new_response_url(channel=dm, message_ts=msg["ts"], user=USER)
    ladder.post(R.block_actions(B.FEEDBACK, down, channel_id=dm, message_ts=msg["ts"], response_url=ru3,
                                action_type="feedback_buttons"))
    ladder.wait_response(ru3)
    # "what was wrong?": the box and Send on the reply
    note = "It gave me <!channel> the Team Lead numbers"
    state = {"values": {f"{B.FEEDBACK_NOTE_BLOCK}-{answer_id}": {B.FEEDBACK_NOTE: {"type": "plain_text_input",
                                                                                  "value": note}}}}
    sent = click_with_state(ladder, B.FEEDBACK_SEND, str(answer_id), dm, state)
    assert "HR will read" in json.dumps(sent.args)
    ladder.deps.store.set_role("UHR", "hr", granted_by="test")
    stats = json.dumps(ladder.slash("stats", user="UHR").args, ensure_ascii=False)
    assert "What people said was wrong" in stats
    assert "It gave me &lt;!channel&gt; the Team Lead numbers" in stats   # escaped: pings nobody


# -- 3. a stream that breaks part-way -----------------------------------------------------------------

def test_a_stream_that_breaks_part_way_is_ended_with_a_clear_note_and_the_answer_posted(agent_ladder):
    ladder = agent_ladder
    ladder.slack.error("chat.appendStream", "internal_error", times=1)
    dm, ts, _ = ladder.dm(QUESTION)
    [post] = ladder.slack.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") == ts and c.ok)
    [broken] = [m for m in ladder.slack.thread(dm, ts) if m.get("streaming_state")]
    assert broken["streaming_state"] == "completed"          # never left hanging
    assert broken["text"].endswith(CUT_OFF)
    assert "Senior Agent" in json.dumps(post.args["blocks"])  # the whole answer follows
    feedback_values(post.args["blocks"])


def test_a_stream_slack_no_longer_takes_is_replaced_by_the_note_and_the_answer_posted(agent_ladder):
    ladder = agent_ladder
    ladder.slack.error("chat.appendStream", "internal_error", times=1)
    ladder.slack.error("chat.stopStream", "message_not_in_streaming_state", times=1)
    dm, ts, _ = ladder.dm(QUESTION)
    [post] = ladder.slack.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") == ts and c.ok)
    [update] = ladder.slack.calls("chat.update")
    assert update.ok and "whole answer is in the next message" in update.args["text"]
    assert "Senior Agent" in json.dumps(post.args["blocks"])


def test_a_stream_the_person_stopped_is_left_as_they_stopped_it(agent_ladder):
    ladder = agent_ladder
    ladder.slack.error("chat.appendStream", "stopped_by_user", times=1)
    dm, ts, _ = ladder.dm(QUESTION)
    ladder.slack.wait_for("chat.appendStream", lambda c: c.error == "stopped_by_user")
    wait_idle(ladder)
    assert not ladder.slack.calls("chat.postMessage") and not ladder.slack.calls("chat.stopStream")


def test_a_new_agent_thread_gets_the_prompts_too(agent_ladder):
    ladder = agent_ladder
    ladder.deps.store.set_profile(USER, current_level="senior-agent")
    dm = ladder.slack.dm_channel(USER)
    ladder.post(R.event_callback(R.assistant_thread_started(user=USER, channel=dm, thread_ts="1700000500.000100")))
    ladder.slack.wait_for("assistant.threads.setSuggestedPrompts", lambda c: c.ok)
    titles = [p["title"] for p in ladder.slack.suggested_prompts(dm, "1700000500.000100")["prompts"]]
    assert titles[0] == "What do I need for Expert Agent?" and len(titles) <= 4


# -- 5. follow-ups in threads -------------------------------------------------------------------------------

def test_a_reply_in_the_thread_reaches_understanding_with_the_threads_earlier_turns(agent_ladder, monkeypatch):
    ladder = agent_ladder
    seen = []
    ask = ladder.deps.advisor.ask

    def recording(text, **kw):
        seen.append((text, kw.get("context")))
        return ask(text, **kw)

    monkeypatch.setattr(ladder.deps.advisor, "ask", recording)
    dm, ts, _ = ladder.dm(QUESTION)
    streamed_answer(ladder, dm, ts)
    wait_idle(ladder)
    follow = ladder.slack.add_message(dm, "and for expert?", user=USER, thread_ts=ts)
    ladder.post(R.event_callback(R.message_im("and for expert?", channel=dm, ts=follow, thread_ts=ts)))
    ladder.slack.wait_for("chat.stopStream", lambda c: c.ok, count=2)   # Expert Agent's requirements: long, streamed
    wait_idle(ladder)
    first, second = seen
    assert first[1].turns == ()                                   # a new question: nothing before it
    [turn] = second[1].turns                                      # the follow-up: the thread's first question
    assert (turn.question, turn.level_id, turn.track) == (QUESTION, "senior-agent", "call-center")
    # a new top-level question in the DM starts afresh
    dm, ts2, _ = ladder.dm("what do I need for team lead?")
    ladder.slack.wait_for("chat.stopStream", lambda c: c.ok, count=2)
    wait_idle(ladder)
    assert seen[-1][1].turns == ()


def test_a_follow_up_in_the_thread_resolves_against_the_previous_answer(agent_ladder):
    ladder = agent_ladder
    dm, ts, _ = ladder.dm(QUESTION)
    streamed_answer(ladder, dm, ts)
    wait_idle(ladder)
    follow = ladder.slack.add_message(dm, "and for expert?", user=USER, thread_ts=ts)
    status, _, _ = ladder.post(R.event_callback(R.message_im("and for expert?", channel=dm, ts=follow, thread_ts=ts)))
    assert status == 200
    ladder.slack.wait_for("chat.stopStream", lambda c: c.ok, count=2)
    answer = [m for m in ladder.slack.thread(dm, ts) if m.get("streaming_state")][-1]
    assert "Expert Agent" in answer["text"]
    assert "Which" not in answer["text"][:80]                  # not a two-ladder clarification
    deadline = time.monotonic() + 10                          # the turn is stored just after the answer is out
    while len(ladder.deps.store.thread_turns(dm, ts)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [t["question"] for t in ladder.deps.store.thread_turns(dm, ts)] == [QUESTION, "and for expert?"]


def test_in_a_channel_ladder_follows_up_only_in_threads_it_answered_in(agent_ladder):
    ladder = agent_ladder
    channel = "C1"
    ts = ladder.slack.add_message(channel, f"<@{R.BOT_USER_ID}> {QUESTION}", user=USER)
    ladder.post(R.event_callback(R.app_mention(QUESTION, channel=channel, ts=ts)))
    ladder.slack.wait_for("chat.stopStream", lambda c: c.ok)
    start = ladder.slack.last("chat.startStream")
    assert start.args["recipient_team_id"] == R.TEAM_ID        # streaming to a channel names its reader
    wait_idle(ladder)
    # someone else's thread in the same channel: not Ladder's business
    other = ladder.slack.add_message(channel, "lunch?", user="U2")
    reply = ladder.slack.add_message(channel, "what do I need for expert agent?", user="U2", thread_ts=other)
    ladder.post(R.event_callback(R.message_channel("what do I need for expert agent?", user="U2", channel=channel,
                                                   ts=reply, thread_ts=other)))
    # a reply in Ladder's thread, without a mention: a follow-up
    follow = ladder.slack.add_message(channel, "what do I need for team lead?", user=USER, thread_ts=ts)
    ladder.post(R.event_callback(R.message_channel("what do I need for team lead?", channel=channel, ts=follow,
                                                   thread_ts=ts)))
    ladder.slack.wait_for("chat.stopStream", lambda c: c.ok, count=2)
    wait_idle(ladder)
    assert [c.args.get("thread_ts") for c in ladder.slack.calls("chat.startStream")] == [ts, ts]
    assert not [c for c in ladder.slack.calls() if c.args.get("thread_ts") == other
                or c.args.get("timestamp") == reply]


# -- 1.–4. a workspace that refuses the agent experience ------------------------------------------------------

@pytest.mark.parametrize("error", ["not_allowed_token_type", "feature_not_enabled"])
def test_refused_agent_features_fall_back_to_today_and_are_not_retried(agent_ladder, error):
    ladder = agent_ladder
    ladder.slack.refuse_agent(error)
    dm, ts, _ = ladder.dm(QUESTION)
    call = ladder.answer_in_thread(dm, ts)                   # 👀, then one message, 👀 removed
    assert ladder.slack.last("reactions.add").args["name"] == "eyes"
    ids = [el["action_id"] for b in call.args["blocks"] if b["type"] == "actions" for el in b["elements"]]
    assert B.VOTE_UP in ids and B.VOTE_DOWN in ids              # Ladder's own vote buttons
    assert not any(b["type"] == "context_actions" for b in call.args["blocks"])
    assert "Senior Agent" in json.dumps(call.args["blocks"])
    refused = {r["feature"]: r["error"] for r in ladder.deps.store.refusals()}
    assert refused["status"] == error and refused["stream"] == error and refused["feedback"] == "invalid_blocks"
    # the vote buttons work as today
    vote = ladder.click(B.VOTE_DOWN, dict(zip(ids, [el.get("value") for b in call.args["blocks"]
                                                   if b["type"] == "actions" for el in b["elements"]]))[B.VOTE_DOWN], dm)
    assert "noted" in json.dumps(vote.args)
    # the next question does not knock on the refused doors again
    ladder.slack.reset()
    ladder.slack.refuse_agent(error)
    dm, ts2, _ = ladder.dm("what do I need for team lead?")
    ladder.answer_in_thread(dm, ts2)
    assert not [c for c in ladder.slack.calls() if c.method.startswith("assistant.") or c.method in STREAM_METHODS]
    assert len(ladder.slack.calls("chat.postMessage")) == 1
    # nor does the Messages tab
    open_messages_tab(ladder)
    wait_idle(ladder)
    open_messages_tab(ladder)
    wait_idle(ladder)
    assert len(ladder.slack.calls("assistant.threads.setSuggestedPrompts")) == 1


def test_a_refusal_is_checked_again_after_the_interval(agent_ladder):
    ladder = agent_ladder
    ladder.slack.refuse_agent("feature_not_enabled")
    dm, ts, _ = ladder.dm(QUESTION)
    ladder.answer_in_thread(dm, ts)
    # six hours later the admin has turned it on
    with sqlite3.connect(ladder.db) as db:
        db.execute("UPDATE agent_refusals SET checked_at = '2000-01-01T00:00:00+00:00'")
    ladder.slack.reset()
    dm, ts2, _ = ladder.dm(QUESTION)
    streamed_answer(ladder, dm, ts2)
    assert ladder.slack.calls("assistant.threads.setStatus")[0].ok
    wait_idle(ladder)
    assert ladder.deps.store.refusals() == []                   # forgotten once it worked

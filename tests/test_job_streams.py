"""A streamed answer survives its worker being killed: the stream carries the inbox job's marker (so a job
done again finds its answer and does not post it twice), and a stream a killed worker left half-done is
completed with the whole answer instead of sitting beside a second one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from slack_sdk import WebClient

from bot.slack.listeners.agent import Agent
from bot.slack.listeners.deliver import job_marker
from bot.storage import inbox
from bot.storage.store import Store
from tests.slack_standin import SlackStandIn

USER = "UJOB1"
LONG = "\n".join(f"• Requirement {i}: handles escalations, coaches newcomers and keeps FCR high." for i in range(20))


def answer(marker: str | None = None):
    first = {"type": "section", "text": {"type": "mrkdwn", "text": LONG}}
    if marker:
        first["block_id"] = marker
    return SimpleNamespace(text=LONG, blocks=[first, {"type": "context", "elements": [
        {"type": "mrkdwn", "text": "_Sources: Call Center · L3 Senior Agent_"}]}])


@pytest.fixture
def slack():
    with SlackStandIn() as s:
        yield s


@pytest.fixture
def agent(slack, tmp_path):
    return Agent(Store(tmp_path / "ladder.db"), WebClient(token="xoxb-test", base_url=slack.api_url), "T1")


def question(slack) -> tuple[str, str]:
    dm = slack.dm_channel(USER)
    return dm, slack.add_message(dm, "what do I need for senior agent?", user=USER)


def replies(slack, dm, ts) -> list[dict]:
    return [m for m in slack.thread(dm, ts) if m["ts"] != ts]


def test_a_streamed_answer_keeps_the_jobs_marker_so_a_job_done_again_finds_it(slack, agent):
    dm, ts = question(slack)
    started = []
    agent.post_answer(answer(job_marker(7)), channel=dm, thread_ts=ts, user=USER, started=started.append)
    [reply] = replies(slack, dm, ts)
    assert reply["streaming_state"] == "completed" and started == [None, reply["ts"]]   # before, then its ts
    assert job_marker(7) in [b.get("block_id") for b in reply["blocks"]]


def test_a_stream_left_half_done_by_a_killed_worker_is_completed_not_answered_again(slack, agent):
    dm, ts = question(slack)
    half = agent.client.chat_startStream(channel=dm, thread_ts=ts, markdown_text=LONG[:300])["ts"]
    agent.post_answer(answer(job_marker(8)), channel=dm, thread_ts=ts, user=USER, unfinished=half)
    [reply] = replies(slack, dm, ts)
    assert reply["ts"] == half and reply["streaming_state"] == "completed"
    assert "Requirement 19" in reply["text"] and job_marker(8) in [b.get("block_id") for b in reply["blocks"]]


def test_a_stream_whose_ts_never_got_written_is_found_in_the_thread_and_completed(slack, agent):
    """Killed between Slack making the stream and Ladder writing its ts down."""
    dm, ts = question(slack)
    agent.client.chat_postMessage(channel=dm, thread_ts=ts, text="an earlier answer",
                                  blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "an earlier answer"}}])
    half = agent.client.chat_startStream(channel=dm, thread_ts=ts, markdown_text=LONG[:300])["ts"]
    agent.post_answer(answer(job_marker(9)), channel=dm, thread_ts=ts, user=USER, unfinished=inbox.STREAM_STARTING)
    earlier, reply = replies(slack, dm, ts)
    assert earlier["text"] == "an earlier answer"
    assert reply["ts"] == half and reply["streaming_state"] == "completed" and "Requirement 19" in reply["text"]


def test_an_unfinished_stream_that_is_gone_means_the_answer_is_posted(slack, agent):
    dm, ts = question(slack)
    agent.post_answer(answer(), channel=dm, thread_ts=ts, user=USER, unfinished="1700000000.999999")
    [reply] = replies(slack, dm, ts)
    assert "Requirement 19" in reply["text"]


def test_the_stream_a_job_began_is_known_to_whoever_does_the_job_next(tmp_path):
    store = Store(tmp_path / "ladder.db")
    job = inbox.put(store, "dm", {"event": {"channel": "D1", "ts": "1.0"}})
    first = inbox.claim(store)
    assert first.id == job and first.message_ts is None
    inbox.note_message(store, job, "1700000000.000123")
    with store.immediate() as db:   # what recover() does for a job whose worker is gone
        db.execute("UPDATE jobs SET status = 'pending', claimed_by = NULL WHERE id = ?", [job])
    again = inbox.claim(store)
    assert again.id == job and again.attempts == 2 and again.message_ts == "1700000000.000123"


def test_one_persons_burst_waits_for_itself_not_everyone_else(tmp_path):
    store = Store(tmp_path / "ladder.db")
    burst = [inbox.put(store, "command", {"user_id": "UFLOOD", "text": f"compare {i}"}) for i in range(3)]
    other = inbox.put(store, "command", {"user_id": "UOTHER", "text": "show L3"})
    click = inbox.put(store, "action", {"user": {"id": "UTHIRD"}, "actions": [{}]})
    assert [inbox.claim(store).id for _ in range(3)] == [burst[0], other, click]
    assert inbox.claim(store) is None                      # the burst's next waits for its first
    inbox.finish(store, burst[0])
    assert inbox.claim(store).id == burst[1]


def test_a_person_with_requests_waiting_has_the_next_refused_and_nothing_written(tmp_path):
    store = Store(tmp_path / "ladder.db")
    for i in range(2):
        inbox.put(store, "command", {"user_id": "UFLOOD", "text": f"q{i}"}, limit=2)
    with pytest.raises(inbox.Full):
        inbox.put(store, "command", {"user_id": "UFLOOD", "text": "q2"}, limit=2)
    assert inbox.put(store, "command", {"user_id": "UOTHER", "text": "q"}, limit=2)
    assert inbox.summary(store) == {"pending": 3}

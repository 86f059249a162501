"""Bounded cost per request: one length limit, parsing linear in the input, and a per-person limit
that keeps one person from occupying the answer workers (real Bolt app over signed HTTP)."""

from __future__ import annotations

import threading
import time

import pytest

from bot.chat import handlers
from bot.chat.handlers import command
from bot.slack.listeners import deliver
from bot.storage.store import Store
from tests import slack_requests as R
from tests.test_slack_e2e import ladder, said, served  # noqa: F401 - the e2e server and its per-test world


def hold_commands(monkeypatch, held) -> threading.Event:
    """/ladder commands for which ``held(user_id, text)`` wait until the returned event is set."""
    release = threading.Event()
    real = handlers.command

    def held_back(deps, user_id, text, channel=None):
        if held(user_id, text):
            assert release.wait(30)
        return real(deps, user_id, text, channel=channel)

    monkeypatch.setattr(handlers, "command", held_back)
    return release


def answers(store: Store) -> int:
    with store.db() as db:
        return db["answers"].count


@pytest.mark.parametrize("text", ["compare " + "x " * 5000, "path " + "senoir " * 1500, "what? " + "y" * 9000,
                                  "show " + "team " * 2000])
def test_anything_over_the_length_limit_gets_one_clear_message_and_nothing_runs(deps, text):
    reply = command(deps, "U1", text)
    assert f"That's {len(text.strip()):,} characters; I read up to 2,000 at a time." in reply.text
    assert answers(deps.store) == 0
    reply = handlers.question(deps, "U1", "D1", text)
    assert "I read up to 2,000 at a time" in reply.text and answers(deps.store) == 0


@pytest.mark.parametrize("sub", ["compare", "path"])
def test_compare_and_path_look_up_only_splits_a_level_name_could_fill(deps, monkeypatch, sub):
    """`/ladder compare x x x …` used to try every split point (a fuzzy look-up of both halves each time):
    quadratic. Now the look-ups are bounded whatever the length."""
    calls = []
    real = deps.kb.resolve
    monkeypatch.setattr(type(deps.kb), "resolve", lambda kb, name, track=None: calls.append(name) or real(name, track))
    reply = command(deps, "U1", f"{sub} " + "x " * 990)
    assert "Name" in reply.text
    assert len(calls) <= 4 * handlers.MAX_NAME_WORDS
    calls.clear()
    assert "L7 Team Lead" in said_text(command(deps, "U1", f"{sub} senior agent team lead"))


def said_text(reply) -> str:
    return "\n".join(b["text"]["text"] for b in reply.blocks if b["type"] == "section")


def test_the_per_person_limit_is_shared_by_every_process_through_sqlite(tmp_path):
    one, two = Store(tmp_path / "l.db"), Store(tmp_path / "l.db")      # two workers, one file
    a = one.begin_work("U1", limit=2, expire_after=60)
    b = two.begin_work("U1", limit=2, expire_after=60)
    assert a and b and one.begin_work("U1", limit=2, expire_after=60) is None
    assert two.begin_work("U2", limit=2, expire_after=60) is not None          # other people are not affected
    two.end_work(a)
    assert one.begin_work("U1", limit=2, expire_after=60) is not None
    # a slot left by a killed process expires
    assert two.begin_work("U1", limit=2, expire_after=0) is not None


@pytest.mark.slow
def test_one_person_cannot_occupy_the_answer_workers(ladder, monkeypatch):
    """UFLOOD's requests are stuck; UFLOOD's third is refused with a clear message and U2 is answered at
    once. Then UFLOOD's two are answered."""
    release = hold_commands(monkeypatch, lambda user_id, text: user_id == "UFLOOD")
    slack = ladder.slack
    stuck = []
    try:
        for _ in range(deliver.PER_PERSON):
            ru = slack.new_response_url(channel="C1", user="UFLOOD")
            assert ladder.post(R.slash_command("help", user_id="UFLOOD", response_url=ru))[0] == 200
            stuck.append(ru)
        time.sleep(0.5)   # both are taken before the third arrives
        status, _, acked = ladder.post(R.slash_command("help", user_id="UFLOOD",
                                                       response_url=slack.new_response_url(channel="C1", user="UFLOOD")))
        assert status == 200 and "still working on your earlier requests" in acked   # said in the ack, at once
        other = ladder.slash("help", user="U2", timeout=10)
        assert "*Commands*" in said(other)
    finally:
        release.set()
    for ru in stuck:
        assert "*Commands*" in said(ladder.wait_response(ru))


@pytest.mark.slow
def test_a_persons_next_request_is_taken_as_soon_as_their_last_is_done(ladder, monkeypatch):
    """One request per person at a time: the second waits for the first, and is taken the moment it is done,
    not at the runner's next look for jobs left by gone processes (made 60 s here, so waiting for it fails)."""
    from bot.slack.listeners import jobs

    release = hold_commands(monkeypatch, lambda user_id, text: text == "help")
    monkeypatch.setattr(jobs, "RECOVER_EVERY", 60.0)
    slack = ladder.slack
    first, second = (slack.new_response_url(channel="C1", user="U1") for _ in range(2))
    assert ladder.post(R.slash_command("help", user_id="U1", response_url=first))[0] == 200
    time.sleep(0.3)    # the first is running
    assert ladder.post(R.slash_command("levels", user_id="U1", response_url=second))[0] == 200
    time.sleep(2.5)    # the runner's earlier look (every 2 s before the patch) is over: it now waits up to 60 s
    release.set()
    assert "*Commands*" in said(ladder.wait_response(first))
    assert "L3" in said(ladder.wait_response(second, timeout=8))

"""The gap-check state machine on its own: plan, transition table, ratings, report."""

from __future__ import annotations

import pytest

from bot.core.gapcheck import (
    TRANSITIONS, StepAnswer, Check, Event, GapError, Rating, State, answer_for, plan, rate_experience, rate_number,
    report, transition,
)
from bot.core.knowledge import load_knowledge
from tests.conftest import KNOWLEDGE


@pytest.fixture(scope="module")
def kb():
    return load_knowledge(KNOWLEDGE)


def new_check(kb, target="senior-agent", current="experienced-agent") -> Check:
    return Check(1, "U1", current, target, kb.level(target).label, kb.version,
                 plan(kb, kb.level(current), kb.level(target)))


def test_plan_is_experience_then_every_skill_with_stated_numbers(kb):
    steps = plan(kb, kb.level("experienced-agent"), kb.level("senior-agent"))
    assert [s.kind for s in steps] == ["experience"] + ["skill"] * 7
    assert steps[0].min_months == 18
    numbered = [s for s in steps if s.number]
    assert [(s.title, s.number["min"]) for s in numbered] == [("Performance Consistency", 105)]


def test_every_state_has_a_row_and_finished_states_accept_nothing(kb):
    assert set(TRANSITIONS) == set(State)
    for state in (State.DONE, State.CANCELLED):
        check = new_check(kb)
        check.state = state
        for event in Event:
            with pytest.raises(GapError, match="finished|cancelled"):
                transition(check, event, {"rating": "yes"})


def test_walk_back_skip_pause_resume(kb):
    c = new_check(kb)
    t = transition(c, Event.START)
    c.state, c.step = t.state, t.step
    assert (c.state, c.step) == (State.ASKING, 0)
    with pytest.raises(GapError, match="first question"):
        transition(c, Event.BACK)
    t = transition(c, Event.ANSWER, {"value": 24})
    assert t.save == StepAnswer("experience", Rating.YES, 24, None) and t.step == 1
    c.step = 1
    t = transition(c, Event.SKIP)
    assert t.save.rating == Rating.SKIPPED and t.step == 2
    assert transition(c, Event.PAUSE).state == State.PAUSED
    c.state = State.PAUSED
    with pytest.raises(GapError):
        transition(c, Event.ANSWER, {"rating": "yes"})
    assert transition(c, Event.RESUME).state == State.ASKING
    c.state, c.step = State.ASKING, len(c.steps) - 1
    last = transition(c, Event.ANSWER, {"rating": "no", "value": 101})
    assert last.state == State.DONE and last.save.rating == Rating.PARTLY  # the figure wins: 101 against >= 105


@pytest.mark.parametrize("months, minimum, rating", [(24, 18, Rating.YES), (14, 18, Rating.PARTLY), (6, 18, Rating.NO),
                                                     (3, None, Rating.YES)])
def test_experience_rating(months, minimum, rating):
    assert rate_experience(months, minimum) == rating


def test_number_rating():
    n = {"min": 105, "max": None}
    assert rate_number(106, n) == Rating.YES and rate_number(101, n) == Rating.PARTLY and rate_number(80, n) == Rating.NO


def test_bad_answers_are_refused(kb):
    steps = plan(kb, kb.level("experienced-agent"), kb.level("senior-agent"))
    with pytest.raises(GapError, match="how much experience"):
        answer_for(steps[0], None, None, None)
    with pytest.raises(GapError, match="Yes, consistently"):
        answer_for(steps[1], "maybe", None, None)
    with pytest.raises(GapError, match="number"):
        answer_for(steps[-1], None, 5000, None)
    assert answer_for(steps[1], "partly", None, " x" * 400).note.startswith("x")


def test_report_counts_every_requirement_a_skip_as_not_met(kb):
    c = new_check(kb)
    ratings = [Rating.YES, Rating.YES, Rating.PARTLY, Rating.NO, Rating.SKIPPED, Rating.YES, Rating.NO, Rating.PARTLY]
    c.answers = {s.key: StepAnswer(s.key, r) for s, r in zip(c.steps, ratings)}
    rep = report(c)
    assert rep.readiness == round(100 * (3 * 1 + 2 * 0.5) / 8)   # over all 8: the skip counts as not met
    assert [s.key for s in rep.skipped] == [c.steps[4].key]
    assert len(rep.met) == 3 and len(rep.partly) == 2 and len(rep.missing) == 2


def test_a_level_with_no_skills_cannot_start(kb):
    target = kb.level("senior-agent").model_copy(update={"skills": [], "thresholds": []})
    steps = plan(kb, kb.level("experienced-agent"), target)
    assert [s.kind for s in steps] == ["experience"]
    check = Check(None, "U1", "experienced-agent", "senior-agent", target.label, kb.version, steps)
    with pytest.raises(GapError, match="L3 Senior Agent lists no skills to check against yet"):
        transition(check, Event.START)


def test_refusals_never_show_a_raw_state_name(kb):
    for state in State:
        check = new_check(kb)
        check.state = state
        for event in Event:
            if event in TRANSITIONS[state]:
                continue
            with pytest.raises(GapError) as exc:
                transition(check, event, {"rating": "yes"})
            assert f"({state.value})" not in str(exc.value), (state, event)


def test_the_chart_does_not_use_pyplot():
    """Reports are drawn on Bolt's worker threads; pyplot's current figure is global to the process."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("import sys\n"
            "from bot.core.gapcheck import Check, StepAnswer, Rating, Step, report\n"
            "from bot.chat.chart import readiness_chart\n"
            "c = Check(1, 'U1', 'a', 'b', 'T', 'v', [Step('s', 'skill', 'S', 't')], answers={'s': StepAnswer('s', Rating.YES)})\n"
            "png = readiness_chart(c, report(c))\n"
            "assert png[:8] == b'\\x89PNG\\r\\n\\x1a\\n'\n"
            "print('matplotlib.pyplot' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"


"""The gap check through the same handlers Slack and the console use, on a real SQLite file."""

from __future__ import annotations

import threading

import pytest

from bot import blocks as B
from bot import gap_handlers as G
from bot.config import Settings
from bot.handlers import Deps, action, command, home
from bot.store import Store


@pytest.fixture
def deps(advisor, tmp_path):
    return Deps(settings=Settings(db_path=tmp_path / "l.db"), advisor=advisor, store=Store(tmp_path / "l.db"))


def buttons(reply):
    return {label: (aid, value) for label, aid, value in B.option_labels(reply.blocks)}


def press(deps, reply, label, user="U1", inputs=None):
    aid, value = buttons(reply)[label]
    return action(deps, user, aid, value, inputs or {})


def text(reply) -> str:
    return "\n".join(b["text"]["text"] for b in reply.blocks if b["type"] == "section") + \
        "\n".join(e.get("text", "") for b in reply.blocks if b["type"] == "context" for e in b["elements"])


def start_walk(deps, user="U1"):
    deps.store.set_profile(user, current_level="experienced-agent")
    confirm = command(deps, user, "gap")
    assert confirm.dm and "Gap check" in str(confirm.blocks)
    return press(deps, confirm, "Start", user)


def test_whole_walk_saves_every_answer_and_reports_them(deps):
    r = start_walk(deps)
    assert "question 1 of 8" in text(r) and "How long have you worked" in text(r)
    r = press(deps, r, "1–2 years")
    r = press(deps, r, "Partly", inputs={"note": "I handle some escalations"})
    r = press(deps, r, "Yes, consistently")
    r = press(deps, r, "Skip")
    r = press(deps, r, "Not yet")
    r = press(deps, r, "◀ Back")
    assert "Saved earlier: Not yet" in text(r)
    r = press(deps, r, "Yes, consistently")
    r = press(deps, r, "Yes, consistently")
    r = press(deps, r, "Yes, consistently")
    assert "≥ 105%" in str(r.blocks)
    done = press(deps, r, "Submit my figure", inputs={"value": "103%"})
    assert "finished" in text(done) and done.followups
    report = done.followups[0]
    [check] = deps.store.checks("U1")
    answers = {a["step"]: a for a in deps.store.check_answers(check["id"])}
    assert len(answers) == 8 and answers["skill-1"]["note"] == "I handle some escalations"
    assert answers["skill-3"]["rating"] == "skipped" and answers["skill-7"]["value"] == 103.0
    assert answers["skill-7"]["rating"] == "partly"
    # readiness over answered steps: experience yes, partly, yes, (skip), yes, yes, yes, partly -> 6/7
    expected = round(100 * (5 + 0.5 + 0.5) / 7)
    assert check["readiness"] == expected and f"readiness *{expected}%*" in text(report)
    assert "*Skipped:* Process Expertise" in text(report)
    assert report.files and report.files[0][1][:8] == b"\x89PNG\r\n\x1a\n"
    assert "Only you can see this check" in text(report)


def test_a_double_click_records_one_answer(deps):
    r = start_walk(deps)
    r = press(deps, r, "1–2 years")
    aid, value = buttons(r)["Yes, consistently"]
    results = []
    threads = [threading.Thread(target=lambda: results.append(action(deps, "U1", aid, value, {}))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [check] = deps.store.checks("U1")
    assert check["step"] == 2 and len(deps.store.check_answers(check["id"])) == 2
    # a stale click from an old message changes nothing either
    action(deps, "U1", aid, value.replace("|yes", "|no"), {})
    assert {a["step"]: a["rating"] for a in deps.store.check_answers(check["id"])}["skill-1"] == "yes"


def test_someone_elses_check_cannot_be_read_or_answered(deps):
    r = start_walk(deps)
    aid, value = buttons(r)["1–2 years"]
    reply = action(deps, "U2", aid, value, {})
    assert "belongs to someone else" in text(reply)
    reply = action(deps, "U2", B.GAP_RESUME, value, {})
    assert "belongs to someone else" in text(reply)
    [check] = deps.store.checks("U1")
    assert check["step"] == 0 and deps.store.check_answers(check["id"]) == []
    assert deps.store.checks("U2") == [] and "You haven't run a gap check" in text(command(deps, "U2", "gap history"))


@pytest.mark.parametrize("value", ["c999s0|yes", "garbage", "c1s0", ""])
def test_forged_or_stale_values_change_nothing(deps, value):
    start_walk(deps)
    reply = action(deps, "U1", B.GAP_RATE, value, {})
    assert any(m in text(reply) for m in ("older gap-check message", "Choose how long"))
    [check] = deps.store.checks("U1")
    assert check["step"] == 0 and deps.store.check_answers(check["id"]) == []


def test_pause_resume_and_unfinished_banner_after_restart(deps, tmp_path):
    r = start_walk(deps)
    r = press(deps, r, "1–2 years")
    r = press(deps, r, "Partly")
    paused = press(deps, r, "Pause")
    assert "is paused (2/8 answered)" in text(paused)
    # a new process: a new Store on the same file
    fresh = Deps(settings=deps.settings, advisor=deps.advisor, store=Store(tmp_path / "l.db"))
    banner = str(home(fresh, "U1")["blocks"])
    assert "You have an unfinished check for *L3 Senior Agent* (2/8 answered) — resume?" in banner
    prompt = command(fresh, "U1", "gap")
    assert "unfinished check" in text(prompt)
    resumed = press(fresh, prompt, "Resume")
    assert "question 3 of 8" in text(resumed)


def test_one_open_check_per_target_and_start_over(deps):
    r = start_walk(deps)
    again = command(deps, "U1", "gap senior agent")
    assert "unfinished check" in text(again)
    fresh = press(deps, again, "Start over")
    assert "Start" in buttons(fresh)
    states = sorted(c["state"] for c in deps.store.checks("U1"))
    assert states == ["cancelled"]


def test_answers_to_finished_or_cancelled_checks_are_refused(deps):
    r = start_walk(deps)
    aid, value = buttons(r)["1–2 years"]
    cancelled = press(deps, r, "Cancel")
    assert "Cancelled" in text(cancelled)
    reply = action(deps, "U1", aid, value, {})
    assert "cancelled" in text(reply).lower()


def test_target_level_that_no_longer_exists(deps):
    reply = action(deps, "U1", B.GAP_BEGIN, "begin|experienced-agent|retired-level", {})
    assert "no longer exists" in text(reply) and deps.store.checks("U1") == []
    assert "I don't know a level called 'astronaut'" in text(command(deps, "U1", "gap astronaut"))


def test_goalposts_stay_with_the_version_the_check_started_on(deps):
    start_walk(deps)
    [check] = deps.store.checks("U1")
    assert check["knowledge_version"] == deps.kb.version
    assert '"title": "Performance Consistency"' in check["plan"]  # the plan is kept with the check


def test_gap_check_words_in_a_dm_start_one(deps):
    from bot.handlers import question

    reply = question(deps, "U1", "D1", "gap check")
    assert "Start" in buttons(reply)


def finish_walk(deps, user="U1"):
    r = start_walk(deps, user)
    r = press(deps, r, "1–2 years", user)
    for label in ("Partly", "Yes, consistently", "Not yet", "Yes, consistently", "Yes, consistently", "Partly"):
        r = press(deps, r, label, user)
    return press(deps, r, "Submit my figure", user, inputs={"value": "106"})


def test_share_with_lead_review_keeps_both_ratings(deps):
    deps.store.set_role("ULEAD", "lead", "UADMIN")
    deps.store.add_to_team("ULEAD", "U1", "ULEAD")
    report = finish_walk(deps).followups[0]
    assert "Share with my lead" in buttons(report)
    assert "belongs to someone else" in text(press(deps, report, "Share with my lead", user="U2"))
    shared = press(deps, report, "Share with my lead")
    assert "Shared with <@ULEAD>" in text(shared)
    [to_lead] = shared.followups
    assert to_lead.to_user == "ULEAD" and "Confirm review" in buttons(to_lead)
    [check] = deps.store.checks("U1")
    # someone else than the lead cannot review
    aid, value = buttons(to_lead)["Confirm review"]
    assert "only the team lead" in text(action(deps, "UOTHER", aid, value, {}))
    # the lead adjusts one rating (Not yet -> Partly) and confirms the rest
    done = action(deps, "ULEAD", aid, value, {"review": {"skill-3": "partly"}})
    assert "1 rating(s) adjusted" in text(done)
    [outcome] = done.followups
    assert outcome.to_user == "U1"
    assert "7 confirmed, 1 adjusted" in text(outcome) and "Process Expertise: you said Not yet, your lead says Partly" in text(outcome)
    assert deps.store.reviews(check["id"])["skill-3"] == "partly"
    own = {a["step"]: a["rating"] for a in deps.store.check_answers(check["id"])}
    assert own["skill-3"] == "no"  # the person's own rating is kept
    team = text(command(deps, "ULEAD", "team"))
    assert f"last shared check: {check['readiness']}% ready for L3 Senior Agent" in team


def test_no_lead_no_share_button(deps):
    report = finish_walk(deps).followups[0]
    assert "Share with my lead" not in buttons(report) and "ask them to add you" in text(report)

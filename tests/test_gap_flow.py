"""The gap check through the same handlers Slack and the console use, on a real SQLite file."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict

import pytest

from bot.chat import blocks as B
from bot.chat import gap_handlers as G
from bot.chat.handlers import Deps, action, command, home
from bot.core.gapcheck import Step, plan
from bot.storage.store import Store


def buttons(reply):
    return {label: (aid, value) for label, aid, value in B.option_labels(reply.blocks)}


SHORT = {"note": B.GAP_NOTE, "value": B.GAP_VALUE}


def slack_state(reply, typed=None) -> dict:
    """``state`` as Slack sends it when a button on this message is pressed: each input box holds its
    initial value unless the person typed something else (``typed``: short name -> text)."""
    typed = {SHORT.get(k, k): v for k, v in (typed or {}).items()}
    values = {}
    for block in reply.blocks:
        if block["type"] == "input":
            el = block["element"]
            values[block["block_id"]] = {el["action_id"]: {"type": el["type"],
                                                           "value": typed.get(el["action_id"], el.get("initial_value"))}}
    return {"values": values}


def press(deps, reply, label, user="U1", inputs=None):
    aid, value = buttons(reply)[label]
    return action(deps, user, aid, value, B.inputs_from_state(slack_state(reply, inputs)))


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
    r = press(deps, r, "1½ years or more")
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
    # readiness over every requirement: experience yes, partly, yes, (skip = not met), yes, yes, yes, partly
    expected = round(100 * (5 + 0.5 + 0.5) / 8)
    assert check["readiness"] == expected and f"readiness *{expected}%*" in text(report)
    assert "*Not assessed* (skipped — counted as not met)\n• Process Expertise" in text(report)
    assert report.files and report.files[0][1][:8] == b"\x89PNG\r\n\x1a\n"
    assert "Only you can see this check" in text(report)


def snapshot(deps, user="U1"):
    """Everything stored about a person's checks: the check rows (state, step) and the whole gap_answers table."""
    with deps.store.db() as db:
        answers = list(db.query("SELECT * FROM gap_answers ORDER BY check_id, step"))
    return [(c["id"], c["state"], c["step"], c["readiness"]) for c in deps.store.checks(user)], answers


def press_at_once(deps, monkeypatch, aid, value, n=6, user="U1"):
    """n presses of one button, each having read the check before any of them writes (a real double click
    whose requests overlap): the check row is read, then every press waits for the others at a barrier."""
    barrier = threading.Barrier(n, timeout=20)
    local = threading.local()
    real = deps.store.check_row

    def check_row(check_id):
        row = real(check_id)
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait()
        return row

    monkeypatch.setattr(deps.store, "check_row", check_row)
    results: list = [None] * n

    def run(i):
        results[i] = action(deps, user, aid, value, {})

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    monkeypatch.setattr(deps.store, "check_row", real)
    return results


def walk_to_last_step(deps, user="U1"):
    r = start_walk(deps, user)
    r = press(deps, r, "1½ years or more", user)
    for label in ("Partly", "Yes, consistently", "Not yet", "Yes, consistently", "Yes, consistently", "Partly"):
        r = press(deps, r, label, user)
    assert "question 8 of 8" in text(r)
    return r


def test_presses_at_once_on_the_last_step_make_one_report(deps, monkeypatch):
    r = walk_to_last_step(deps)
    aid, value = buttons(r)["Yes, consistently"]
    results = press_at_once(deps, monkeypatch, aid, value)
    reports = [x for x in results if x.followups]
    assert len(reports) == 1, [text(x) for x in results]
    assert "finished" in text(reports[0]) and "readiness" in text(reports[0].followups[0])
    for other in results:
        if other is not reports[0]:
            assert "This gap check is finished" in text(other) and not other.followups
    [check] = deps.store.checks("U1")
    assert check["state"] == "done" and len(deps.store.check_answers(check["id"])) == 8


def test_presses_at_once_on_a_step_advance_once(deps, monkeypatch):
    r = start_walk(deps)
    r = press(deps, r, "1½ years or more")
    aid, value = buttons(r)["Yes, consistently"]
    results = press_at_once(deps, monkeypatch, aid, value)
    advanced = [x for x in results if G.ALREADY not in text(x)]
    assert len(advanced) == 1 and "question 3 of 8" in text(advanced[0])
    assert all("question 3 of 8" in text(x) for x in results)  # the others: a clear word, and where it is
    [check] = deps.store.checks("U1")
    assert check["step"] == 2 and len(deps.store.check_answers(check["id"])) == 2


def test_a_stale_button_from_an_earlier_step_changes_nothing(deps):
    first = start_walk(deps)
    second = press(deps, first, "1½ years or more")
    third = press(deps, second, "Partly", inputs={"note": "some escalations"})
    now = press(deps, third, "Yes, consistently")
    assert "question 4 of 8" in text(now)
    before = snapshot(deps)
    for msg, label in ((first, "Under 14 months"), (second, "Not yet"), (second, "Skip"), (third, "◀ Back"),
                       (third, "Partly")):
        reply = press(deps, msg, label)
        assert G.ALREADY in text(reply) and "question 4 of 8" in text(reply), label
        assert snapshot(deps) == before, label


def test_someone_elses_check_cannot_be_read_or_answered(deps):
    r = start_walk(deps)
    aid, value = buttons(r)["1½ years or more"]
    reply = action(deps, "U2", aid, value, {})
    assert "belongs to someone else" in text(reply)
    reply = action(deps, "U2", B.GAP_RESUME, value, {})
    assert "belongs to someone else" in text(reply)
    [check] = deps.store.checks("U1")
    assert check["step"] == 0 and deps.store.check_answers(check["id"]) == []
    assert deps.store.checks("U2") == [] and "You haven't run a gap check" in text(command(deps, "U2", "gap history"))
    refused = [(r["actor"], r["action"], r["outcome"]) for r in deps.store.audit_log() if r["actor"] == "U2"]
    assert refused == [("U2", "gap.act", "refused")] * 2


def test_a_lead_cannot_share_with_or_review_their_own_check(deps):
    deps.store.set_role("U1", "lead", "UADMIN")
    with deps.store.immediate() as db:   # a row from before leads were kept out of their own team
        db["teams"].insert({"member_id": "U1", "lead_id": "U1", "added_by": "U1", "added_at": "2026-01-01"})
    report = finish_walk(deps).followups[0]
    assert "Share with my lead" not in buttons(report)
    [check] = deps.store.checks("U1")
    assert "can't review your own" in text(action(deps, "U1", B.GAP_REVIEW, str(check["id"]),
                                                  {"review": {"skill-3": "yes"}}))
    assert "can't share a check with yourself" in text(action(deps, "U1", B.GAP_SHARE, str(check["id"]), {}))
    assert deps.store.reviews(check["id"]) == {} and deps.store.checks("U1")[0]["shared_with"] is None


@pytest.mark.parametrize("value", ["c999s0|yes", "garbage", "c1s0", ""])
def test_forged_or_stale_values_change_nothing(deps, value):
    start_walk(deps)
    reply = action(deps, "U1", B.GAP_RATE, value, {})
    assert any(m in text(reply) for m in ("older gap-check message", "Choose how much experience"))
    [check] = deps.store.checks("U1")
    assert check["step"] == 0 and deps.store.check_answers(check["id"]) == []


def test_pause_resume_and_unfinished_banner_after_restart(deps, tmp_path):
    r = start_walk(deps)
    r = press(deps, r, "1½ years or more")
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
    aid, value = buttons(r)["1½ years or more"]
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
    from bot.chat.handlers import question

    reply = question(deps, "U1", "D1", "gap check")
    assert "Start" in buttons(reply)


def finish_walk(deps, user="U1"):
    r = start_walk(deps, user)
    r = press(deps, r, "1½ years or more", user)
    for label in ("Partly", "Yes, consistently", "Not yet", "Yes, consistently", "Yes, consistently", "Partly"):
        r = press(deps, r, label, user)
    return press(deps, r, "Submit my figure", user, inputs={"value": "106"})


def test_share_with_lead_review_keeps_both_ratings(deps):
    deps.store.set_role("ULEAD", "lead", "UADMIN")
    deps.store.join_team("ULEAD", "U1", "ULEAD", allow_move=True)
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
    assert "7 confirmed, 1 adjusted" in text(done)
    [outcome] = done.followups
    assert outcome.to_user == "U1"
    assert "7 confirmed, 1 adjusted" in text(outcome) and "Process Expertise: you said Not yet, your lead said Partly" in text(outcome)
    assert deps.store.reviews(check["id"])["skill-3"] == "partly"
    own = {a["step"]: a["rating"] for a in deps.store.check_answers(check["id"])}
    assert own["skill-3"] == "no"  # the person's own rating is kept
    team = text(command(deps, "ULEAD", "team"))
    assert f"shared check: {check['readiness']}% ready for L3 Senior Agent" in team and "reviewed on 20" in team


def test_no_lead_no_share_button(deps):
    report = finish_walk(deps).followups[0]
    assert "Share with my lead" not in buttons(report) and "ask your lead or HR to add you" in text(report)


def test_buttons_on_a_paused_check_offer_to_resume(deps):
    r = start_walk(deps)
    older = press(deps, r, "1½ years or more")
    r = press(deps, older, "Partly")
    press(deps, r, "Pause")
    before = snapshot(deps)
    for msg, label in ((older, "Yes, consistently"), (r, "Not yet"), (r, "Skip"), (r, "◀ Back"), (older, "Pause")):
        reply = press(deps, msg, label)
        assert "This check is paused: *L3 Senior Agent* (2/8 answered) — resume?" in text(reply), label
        assert {"Resume", "Start over"} <= set(buttons(reply)) and "(paused)" not in text(reply)
        assert snapshot(deps) == before
    resumed = press(deps, reply, "Resume")
    assert "question 3 of 8" in text(resumed)


def test_history_names_states_in_words(deps):
    finish_walk(deps)                      # 75% ready
    r = start_walk(deps)                   # same target again, then cancelled
    press(deps, r, "Cancel")
    r = start_walk(deps)                   # same target, 3 answered, open
    r = press(deps, r, "1½ years or more")
    r = press(deps, r, "Partly")
    r = press(deps, r, "Skip")
    r = press(deps, r, "Yes, consistently")
    r = command(deps, "U1", "gap expert agent")  # another target, paused after one answer
    r = press(deps, press(deps, r, "Start"), "2 years or more")
    press(deps, r, "Pause")
    lines = text(command(deps, "U1", "gap history")).splitlines()
    assert [line.split(" · ", 1)[1] for line in lines[1:]] == [
        "L4 Expert Agent · paused (1/8)", "L3 Senior Agent · in progress (3/8)", "L3 Senior Agent · cancelled",
        "L3 Senior Agent · finished · 75% ready"]


@pytest.mark.parametrize("action_id, value", [
    (B.GAP_RATE, "c99999999999999999999999s0|yes"),
    (B.GAP_RATE, "c1s99999999999999999999999|yes"),
    (B.GAP_RESUME, "c9223372036854775808s0"),          # one past SQLite's largest integer
    (B.GAP_BACK, "c²s0"),                              # digits to str.isdigit, not to int()
    (B.GAP_RESTART, "restart|99999999999999999999999"),
    (B.GAP_SHARE, "99999999999999999999999"),
    (B.GAP_REVIEW, "99999999999999999999999"),
])
def test_forged_huge_ids_are_stale_buttons(deps, action_id, value):
    start_walk(deps)
    before = snapshot(deps)
    reply = action(deps, "U1", action_id, value, {})
    assert "That button is from an older gap-check message" in text(reply)
    assert snapshot(deps) == before


def test_a_forged_months_value_is_refused_clearly(deps):
    r = start_walk(deps)
    aid, value = buttons(r)["1½ years or more"]
    reply = action(deps, "U1", aid, value.rsplit("|", 1)[0] + "|²", {})
    assert "Choose how much experience you have" in text(reply)


def test_a_figure_typed_before_a_rating_button_is_kept(deps):
    r = walk_to_last_step(deps)
    done = press(deps, r, "Yes, consistently", inputs={"value": "101"})
    assert "finished" in text(done)
    [check] = deps.store.checks("U1")
    last = {a["step"]: a for a in deps.store.check_answers(check["id"])}["skill-7"]
    assert (last["rating"], last["value"]) == ("partly", 101.0)  # the figure decides: 101 against ≥ 105


def test_an_unreadable_figure_with_a_rating_button_is_refused(deps):
    r = walk_to_last_step(deps)
    reply = press(deps, r, "Yes, consistently", inputs={"value": "lots"})
    assert "can't read “lots” as a figure" in text(reply)
    [check] = deps.store.checks("U1")
    assert check["state"] == "asking" and check["step"] == 7


def input_block_ids(reply):
    return {b["element"]["action_id"]: b["block_id"] for b in reply.blocks if b["type"] == "input"}


def test_note_and_figure_boxes_are_step_specific(deps):
    r = start_walk(deps)
    r1 = press(deps, r, "1½ years or more")
    r2 = press(deps, r1, "Partly")
    assert input_block_ids(r1)[B.GAP_NOTE] != input_block_ids(r2)[B.GAP_NOTE]
    last = walk_to_last_step(deps, "U2")
    assert B.GAP_VALUE in input_block_ids(last)
    # what Slack sends back is still read, whatever the block ids
    assert B.inputs_from_state(slack_state(last, {"note": "n", "value": "99"}))["value"] == "99"


def test_a_note_survives_back(deps):
    r = start_walk(deps)
    r = press(deps, r, "1½ years or more")
    r = press(deps, r, "Partly", inputs={"note": "I handle some escalations"})
    back = press(deps, r, "◀ Back")
    assert "Saved earlier: Partly · “I handle some escalations”" in text(back)
    press(deps, back, "Yes, consistently")  # the note box was left as it was shown
    [check] = deps.store.checks("U1")
    answer = {a["step"]: a for a in deps.store.check_answers(check["id"])}["skill-1"]
    assert (answer["rating"], answer["note"]) == ("yes", "I handle some escalations")


def test_a_stale_submit_on_a_finished_check_says_it_is_finished(deps):
    r = walk_to_last_step(deps)
    press(deps, r, "Submit my figure", inputs={"value": "106"})
    reply = press(deps, r, "Submit my figure")  # the same message again, box empty
    assert "This gap check is finished" in text(reply)


def test_progress_compares_requirements_by_name_not_position(deps):
    kb = deps.kb
    steps = plan(kb, kb.level("experienced-agent"), kb.level("senior-agent"))
    skills = [s for s in steps if s.kind == "skill"]
    # an earlier check on a ladder that listed the same skills in the opposite order
    older = [steps[0]] + [Step(f"skill-{i}", "skill", s.title, s.text, None, s.number)
                          for i, s in enumerate(reversed(skills), start=1)]
    old_id = deps.store.create_check({
        "user_id": "U1", "current_level": "experienced-agent", "target_level": "senior-agent",
        "target_title": "L3 Senior Agent", "knowledge_version": "older", "state": "done", "step": 7, "readiness": 0,
        "plan": json.dumps([asdict(s) for s in older]), "finished_at": "2024-01-02T00:00:00+00:00"})
    with deps.store.immediate() as db:
        db["gap_answers"].insert_all([{"check_id": old_id, "step": s.key, "rating": "yes" if i <= 1 else "no"}
                                      for i, s in enumerate(older)])  # then: experience and Performance Consistency only
    assert older[1].title == "Performance Consistency"
    r = start_walk(deps)
    r = press(deps, r, "1½ years or more")
    for _ in skills:
        r = press(deps, r, "Partly")
    report = text(r.followups[0])
    line = next(x for x in report.splitlines() if x.startswith("*Progress*"))
    better = line.split("better at ", 1)[1]
    assert better == ", ".join(s.title for s in skills if s.title != "Performance Consistency")


def test_next_steps_come_from_the_version_the_check_started_on(deps):
    r = start_walk(deps)
    [check] = deps.store.checks("U1")
    kb = deps.kb
    tracks = [{"id": t.id, "title": t.title, "levels": [lv.model_dump(mode="json", exclude={"track"}) for lv in t.levels]}
              for t in kb.tracks.values()]
    skill = kb.level("senior-agent").skills[0]
    for t in tracks:
        for lv in t["levels"]:
            if lv["id"] == "senior-agent":
                lv["responsibilities"] = [f"Back then: {skill.name} — {skill.description}"]
    with deps.store.immediate() as db:
        db["knowledge_versions"].insert({"version": "oldversion01", "parent": kb.version, "level_id": "senior-agent",
                                         "created_by": "UHR", "created_at": "2024-01-01", "note": "n", "diff": "{}",
                                         "tracks": json.dumps(tracks)})
        db["gap_checks"].update(check["id"], {"knowledge_version": "oldversion01"})
    r = press(deps, r, "1½ years or more")
    r = press(deps, r, "Not yet")
    while "question" in text(r):
        r = press(deps, r, "Yes, consistently", inputs={"value": "110"} if "≥ 105%" in str(r.blocks) else None)
    report = text(r.followups[0])
    assert f"*{skill.name}*: Practise what the level does: “Back then: {skill.name}" in report
    assert "knowledge oldversion01" in report


def test_a_level_with_no_skills_cannot_be_checked(deps, monkeypatch):
    level = deps.kb.level("senior-agent")
    monkeypatch.setitem(deps.kb._by_id, "senior-agent", level.model_copy(update={"skills": [], "thresholds": []}))
    deps.store.set_profile("U1", current_level="experienced-agent")
    reply = press(deps, command(deps, "U1", "gap"), "Start")
    assert "L3 Senior Agent lists no skills to check against yet" in text(reply)
    assert deps.store.checks("U1") == []


def test_the_console_keeps_a_saved_note_after_back(deps):
    import io

    from bot.console import CONSOLE_USER, run

    # Start, 1–2 years, a note then Partly, Back: the note box shows the saved note, Yes keeps it
    script = "level L2\n/ladder gap\n1\n3\nnote I mentor two newcomers\n2\n4\n1\nquit\n"
    out = io.StringIO()
    assert run(deps, io.StringIO(script), out, interactive=False) == 0
    assert "[Note (optional) (saved: I mentor two newcomers)" in out.getvalue()
    [check] = deps.store.checks(CONSOLE_USER)
    answer = {a["step"]: a for a in deps.store.check_answers(check["id"])}["skill-1"]
    assert (answer["rating"], answer["note"]) == ("yes", "I mentor two newcomers")


# -- verdicts people can trust (issue 13) --------------------------------------------------------------

def experience_rating(deps, label=None, typed=None):
    r = start_walk(deps)
    step = press(deps, r, label or "Submit my months", inputs={"value": typed} if typed else None)
    [check] = deps.store.checks("U1")
    return step, {a["step"]: a for a in deps.store.check_answers(check["id"])}.get("experience")


def test_experience_choices_come_from_the_levels_own_boundary(deps):
    r = start_walk(deps)   # Senior Agent asks for "1,5-2 years" (18 months)
    labels = [label for label, aid, _ in B.option_labels(r.blocks) if aid == B.GAP_MONTHS]
    assert labels == ["Under 14 months", "14 months to under 1½ years", "1½ years or more"]


@pytest.mark.parametrize("label, typed, rating", [
    ("Under 14 months", None, "no"),
    ("14 months to under 1½ years", None, "partly"),
    ("1½ years or more", None, "yes"),
    (None, "12", "no"),                 # a year against 1.5–2 years is not met, never rounded up
    (None, "15 months", "partly"),
    (None, "1.5 years", "yes"),
])
def test_twelve_months_never_meets_a_year_and_a_half(deps, label, typed, rating):
    _, answer = experience_rating(deps, label, typed)
    assert answer["rating"] == rating


def test_unreadable_months_are_refused_and_change_nothing(deps):
    reply, answer = experience_rating(deps, typed="a while")
    assert "can't read “a while” as a duration" in text(reply) and answer is None


def test_a_skip_never_raises_readiness_and_is_shown_apart(deps):
    def finish(skip: bool):
        r = start_walk(deps)
        r = press(deps, r, "1½ years or more")
        labels = ["Partly"] * 7
        for i, label in enumerate(labels):
            r = press(deps, r, "Skip" if skip and i == 0 else label,
                      inputs={"value": "104"} if "≥ 105%" in str(r.blocks) else None)
        return r.followups[0], deps.store.checks("U1")[0]["readiness"]

    _, all_answered = finish(False)
    report, with_skip = finish(True)
    assert with_skip < all_answered   # 1 + 6 x 0.5 over 8, against 1 + 7 x 0.5 over 8
    assert "*Not assessed* (skipped — counted as not met)\n• " in text(report)
    assert "7 of 8 requirements assessed" in text(report)


def test_a_skip_answered_later_is_not_called_better(deps):
    for first in (True, False):
        r = start_walk(deps)
        r = press(deps, r, "1½ years or more")
        r = press(deps, r, "Skip" if first else "Not yet")
        while "question" in text(r):
            r = press(deps, r, "Partly", inputs={"value": "104"} if "≥ 105%" in str(r.blocks) else None)
    line = next(x for x in text(r.followups[0]).splitlines() if x.startswith("*Progress*"))
    skill = deps.kb.level("senior-agent").skills[0].name
    assert "better at" not in line and f"assessed for the first time: {skill}" in line


def test_notes_and_figures_appear_in_the_report_and_the_leads_review(deps):
    deps.store.set_role("ULEAD", "lead", "UADMIN")
    deps.store.join_team("ULEAD", "U1", "ULEAD", allow_move=True)
    r = start_walk(deps)
    r = press(deps, r, "Submit my months", inputs={"value": "20", "note": "plus a year at another call centre"})
    r = press(deps, r, "Partly", inputs={"note": "had a rough Q3"})
    while "question" in text(r):
        r = press(deps, r, "Yes, consistently", inputs={"value": "98"} if "≥ 105%" in str(r.blocks) else None)
    report = r.followups[0]
    body = text(report)
    skill = deps.kb.level("senior-agent").skills[0].name
    assert "• Experience — Yes, consistently · 20 months · “plus a year at another call centre”" in body
    assert f"• {skill} — Partly · “had a rough Q3”" in body
    assert "Performance Consistency — Not yet · 98%" in body   # 98% against ≥ 105%
    [to_lead] = press(deps, report, "Share with my lead").followups
    review = json.dumps(to_lead.blocks, ensure_ascii=False)
    assert "had a rough Q3" in review and "98%" in review and "20 months" in review


def test_a_check_across_tracks_says_so_and_asks_for_relevant_experience(deps):
    deps.store.set_profile("U1", current_level="experienced-agent")
    confirm = command(deps, "U1", "gap senior frontend developer")
    notice = press(deps, confirm, "Start")
    assert "This is a change of track:" in text(notice) and "Frontend" in text(notice)
    assert deps.store.checks("U1") == []        # nothing starts before the person agrees
    step = press(deps, notice, "Start")
    assert "relevant to Senior Frontend Developer" in text(step)
    assert "How long have you worked in your current role" not in text(step)
    assert len(deps.store.checks("U1")) == 1


def test_the_console_never_writes_charts_into_the_working_directory(deps, tmp_path, monkeypatch):
    import io

    from bot.console import run

    work = tmp_path / "checkout"
    work.mkdir()
    monkeypatch.chdir(work)
    script = "level L2\n/ladder gap\n1\n3\n" + "2\n" * 6 + "= 104\n1\nquit\n"
    out = io.StringIO()
    run(deps, io.StringIO(script), out, interactive=False)
    assert "[file: Readiness for L3 Senior Agent" in out.getvalue()
    assert list(work.iterdir()) == []


# -- a review is confirmed once (issue 13) -------------------------------------------------------------

def shared_report(deps):
    deps.store.set_role("ULEAD", "lead", "UADMIN")
    deps.store.join_team("ULEAD", "U1", "ULEAD", allow_move=True)
    report = finish_walk(deps).followups[0]
    [to_lead] = press(deps, report, "Share with my lead").followups
    return report, to_lead


def test_a_second_confirm_says_already_reviewed_and_changes_nothing(deps):
    report, to_lead = shared_report(deps)
    aid, value = buttons(to_lead)["Confirm review"]
    first = action(deps, "ULEAD", aid, value, {"review": {"skill-3": "partly", "skill-1": "yes"}})
    assert "6 confirmed, 2 adjusted" in text(first)
    [check] = deps.store.checks("U1")
    before = deps.store.reviews(check["id"])
    again = action(deps, "ULEAD", aid, value, {})     # the selects as first shown: no adjustments
    assert "You already reviewed this check on 20" in text(again) and "nothing was changed" in text(again)
    assert "6 confirmed, 2 adjusted" in text(again) and not again.followups   # the person is told nothing new
    assert deps.store.reviews(check["id"]) == before


def test_share_after_a_review_shows_the_review(deps):
    report, to_lead = shared_report(deps)
    waiting = press(deps, report, "Share with my lead")
    assert "waiting for their review" in text(waiting) and not waiting.followups   # no second DM to the lead
    aid, value = buttons(to_lead)["Confirm review"]
    action(deps, "ULEAD", aid, value, {"review": {"skill-3": "partly"}})
    after = press(deps, report, "Share with my lead")
    assert "hear back" not in text(after) and not after.followups
    assert "<@ULEAD> reviewed your gap check for *L3 Senior Agent* on 20" in text(after)
    assert "Process Expertise: you said Not yet, your lead said Partly" in text(after)


def test_team_and_app_home_show_reviews_waiting(deps):
    report, to_lead = shared_report(deps)
    team = text(command(deps, "ULEAD", "team"))
    assert "L3 Senior Agent" in team and "waiting for your review" in team
    view = home(deps, "ULEAD")
    blocks = json.dumps(view["blocks"], ensure_ascii=False)
    assert "Reviews waiting for you* (1)" in blocks and "<@U1> · L3 Senior Agent" in blocks
    [(_, aid, value)] = [b for b in B.option_labels([{"type": "actions", "elements": [
        blk["accessory"] for blk in view["blocks"] if (blk.get("accessory") or {}).get("action_id") == B.GAP_OPEN_REVIEW]}])]
    form = action(deps, "ULEAD", aid, value, {})
    assert "Confirm review" in buttons(form)
    assert "Reviews waiting" not in json.dumps(home(deps, "U1")["blocks"])   # only the lead sees it
    cid, val = buttons(form)["Confirm review"]
    action(deps, "ULEAD", cid, val, {})
    assert "Reviews waiting" not in json.dumps(home(deps, "ULEAD")["blocks"])
    assert "reviewed on 20" in text(command(deps, "ULEAD", "team"))

"""HR's level edits: validated in the form, stored as versions, re-indexed beside the live index."""

from __future__ import annotations

import json
import threading

import pytest

from bot import wiring
from bot.chat import blocks as B
from bot.chat.edits import CHANGED_WHILE_EDITING, EDIT_LOCK, submit_edit
from bot.chat.handlers import action, command
from bot.core.config import Settings
from bot.core.knowledge import load_knowledge
from bot.search.retrieval import load_index
from bot.storage.versions import export
from bot.wiring import make_deps
from tests.conftest import KNOWLEDGE

HR = "UHR1"


@pytest.fixture
def deps(index_copy, tmp_path):
    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=index_copy, db_path=tmp_path / "l.db", admins=("UADMIN1",))
    d = make_deps(settings)
    d.store.set_role(HR, "hr", "UADMIN1")
    return d


def form(deps, level_id="senior-agent", **changes):
    level = deps.kb.level(level_id)
    values = {"experience": level.experience.text, "responsibilities": "\n".join(level.responsibilities),
              "skills": "\n".join(f"{s.name}: {s.description}" for s in level.skills), "note": "update"}
    values.update(changes)
    meta = B.edit_modal(level, "t", '{"level": "%s", "version": "%s"}' % (level_id, deps.kb.version))["private_metadata"]
    return meta, values


def test_export_of_unchanged_knowledge_is_byte_identical(tmp_path):
    kb = load_knowledge(KNOWLEDGE)
    for path in export(kb, tmp_path):
        assert path.read_bytes() == (KNOWLEDGE / "tracks" / path.name).read_bytes()


def test_edit_opens_a_modal_for_hr_only(deps):
    assert command(deps, "UAGENT", "edit senior agent").blocks[0]["text"]["text"].startswith("Sorry")
    reply = command(deps, HR, "edit senoir agent")
    assert reply.modal["type"] == "modal" and reply.modal["callback_id"] == B.EDIT_CALLBACK
    assert "Performance Consistency: Maintains KPI achievement" in str(reply.modal)


@pytest.mark.parametrize("changes, block, message", [
    ({"skills": ""}, "edit_skills", "at least one skill"),
    ({"skills": "Mentorship without a colon"}, "edit_skills", "line 1 is not 'Name: description'"),
    ({"skills": "A: one\na: two"}, "edit_skills", "same name"),
    ({"responsibilities": "  \n "}, "edit_responsibilities", "at least one responsibility"),
    ({"experience": ""}, "edit_experience", "must not be empty"),
    ({"note": " "}, "edit_note", "say what changed"),
])
def test_invalid_edits_come_back_into_the_form_and_change_nothing(deps, changes, block, message):
    before = deps.kb.version
    meta, values = form(deps, **changes)
    errors, apply = submit_edit(deps, HR, meta, values)
    assert apply is None and message in errors[block]
    assert deps.kb.version == before and deps.advisor.ask("what do I need for senior agent?").knowledge_version == before
    with deps.store.db() as db:
        assert db["knowledge_versions"].count == 0


def test_stale_form_and_lost_role_are_refused(deps):
    meta, values = form(deps)
    errors, _ = submit_edit(deps, HR, meta.replace(deps.kb.version, "0ld"), values)
    assert "changed since you opened this form" in errors["edit_note"]
    errors, _ = submit_edit(deps, "UAGENT", meta, values)
    assert "no longer have the hr or admin role" in errors["edit_note"]


def test_saved_edit_goes_live_whole_and_is_versioned(deps, tmp_path, monkeypatch, capsys):
    old_version = deps.kb.version
    level = deps.kb.level("senior-agent")
    skills = "\n".join(f"{s.name}: {s.description}" for s in level.skills if s.name != "Sales Acumen")
    skills = skills.replace("≥ 105%", "≥ 103%") + "\nDe-escalation Coaching: Coaches peers through angry-caller de-escalation"
    meta, values = form(deps, skills=skills, note="KPI bar lowered to 103%; coaching added",
                        announce="Senior Agent changes from today.")
    base = {"current_level": "experienced-agent", "target_title": "L3", "knowledge_version": "v", "plan": "[]",
            "step": 0, "state": "asking", "target_level": "senior-agent"}
    deps.store.create_check({**base, "user_id": "UWALKER"})
    errors, apply = submit_edit(deps, HR, meta, values)
    assert errors is None

    seen: list[tuple[str, bool]] = []
    during: list[tuple[str, bool]] = []   # asked and answered while the new version was being indexed
    stop, rebuilding, answered_during = threading.Event(), threading.Event(), threading.Event()
    real_reindex = wiring.reindex

    def watched_reindex(*args, **kwargs):
        rebuilding.set()
        try:
            advisor = real_reindex(*args, **kwargs)
            answered_during.wait(timeout=60)  # the swap waits until a question was answered meanwhile
            return advisor
        finally:
            rebuilding.clear()

    monkeypatch.setattr(wiring, "reindex", watched_reindex)

    def ask_all_the_time():
        while not stop.is_set():
            started = rebuilding.is_set()
            a = deps.advisor.ask("what do I need for senior agent?")
            answer = (a.knowledge_version, "De-escalation Coaching" in a.answer)
            seen.append(answer)
            if started and rebuilding.is_set():
                during.append(answer)
                answered_during.set()

    asker = threading.Thread(target=ask_all_the_time)
    asker.start()
    try:
        reply = apply()
    finally:
        stop.set()
        asker.join()
    new_version = deps.kb.version
    assert new_version != old_version
    # questions asked while the rebuild ran were answered from the old version, whole
    assert during and all(answer == (old_version, False) for answer in during)
    # every answer came whole from one version: never a mix
    assert seen and all(has_new == (v == new_version) for v, has_new in seen)
    assert {v for v, _ in seen} <= {old_version, new_version}
    assert [(r["action"], r["outcome"]) for r in deps.store.audit_log()][:1] == [("edit.save", "saved")]
    a = deps.advisor.ask("what do I need for senior agent?")
    assert a.knowledge_version == new_version and "KPI achievement: ≥ 103%" in a.answer
    assert load_index(deps.settings.index_dir).knowledge_version == new_version
    text = str(reply.blocks)
    assert "Skills added: De-escalation Coaching" in text and "Skills removed: Sales Acumen" in text
    assert "≥ 105% (kpi_achievement) → ≥ 103% (kpi_achievement)" in text
    history = command(deps, HR, "history senior agent").blocks[0]["text"]["text"]
    assert "KPI bar lowered to 103%" in history and "Skills added: De-escalation Coaching" in history
    # the broadcast was written with the version, in the same transaction
    assert "Broadcast 1 queued" in text and "1 person whose" in text
    with deps.store.db() as db:
        [row] = list(db["broadcasts"].rows)
        assert row["knowledge_version"] == new_version
        dms = list(db["outbox"].rows_where("kind = 'dm'"))
        assert [d["recipient"] for d in dms] == ["UWALKER"] and "Skills added: De-escalation Coaching" in dms[0]["blocks"]
    # a restart comes up on the new version
    again = make_deps(deps.settings)
    assert again.kb.version == new_version
    # and export-knowledge writes it as YAML
    out = export(again.kb, tmp_path / "exported")
    assert "De-escalation Coaching" in (tmp_path / "exported" / "call-center.yaml").read_text(encoding="utf-8")
    assert len(out) == 2
    # the command line reads the live version too, as serve does
    from bot.cli import main

    for var, value in (("LADDER_DB", deps.settings.db_path), ("LADDER_INDEX_DIR", deps.settings.index_dir),
                       ("LADDER_KNOWLEDGE_DIR", KNOWLEDGE)):
        monkeypatch.setenv(var, str(value))
    capsys.readouterr()
    assert main(["show", "senior agent"]) == 0 and "De-escalation Coaching" in capsys.readouterr().out
    assert main(["ask", "--json", "what do I need for senior agent?"]) == 0
    assert json.loads(capsys.readouterr().out)["knowledge_version"] == new_version


def test_a_failed_broadcast_insert_rolls_back_the_version(deps, monkeypatch):
    import bot.chat.edits as edits

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(edits, "insert_broadcast", boom)
    meta, values = form(deps, note="n", announce="hello")
    errors, apply = submit_edit(deps, HR, meta, values)
    with pytest.raises(RuntimeError):
        apply()
    with deps.store.db() as db:
        assert db["knowledge_versions"].count == 0 and db["outbox"].count == 0


def stored_versions(deps) -> list[dict]:
    with deps.store.db() as db:
        return list(db["knowledge_versions"].rows_where(order_by="id"))


def test_concurrent_edits_one_wins_the_other_is_refused(deps):
    """Two valid forms opened on one version, applied at once: one is saved, the other is refused and
    HR is told; the live version is the newest stored one (what a restart or an export would serve)."""
    old_version = deps.kb.version
    skills = "\n".join(f"{s.name}: {s.description}" for s in deps.kb.level("senior-agent").skills)
    meta_a, values_a = form(deps, "senior-agent", skills=skills + "\nYAML Wrangling: keeps the config tidy", note="A")
    team_lead = deps.kb.level("team-lead")
    meta_b, values_b = form(deps, "team-lead", experience=team_lead.experience.text + " Plus 1 year coaching.", note="B")
    (errors_a, apply_a), (errors_b, apply_b) = submit_edit(deps, HR, meta_a, values_a), submit_edit(deps, HR, meta_b, values_b)
    assert errors_a is None and errors_b is None
    start, replies = threading.Barrier(2), {}

    def run(name, apply):
        start.wait()
        replies[name] = str(apply().blocks)

    threads = [threading.Thread(target=run, args=(n, f)) for n, f in (("A", apply_a), ("B", apply_b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [row] = stored_versions(deps)
    assert row["parent"] == old_version and deps.kb.version == row["version"]
    refused = [n for n, r in replies.items() if CHANGED_WHILE_EDITING in r]
    assert len(refused) == 1
    winner = "B" if refused == ["A"] else "A"
    assert row["note"] == winner
    assert any(s.name == "YAML Wrangling" for s in deps.kb.level("senior-agent").skills) == (winner == "A")
    assert ("coaching" in deps.kb.level("team-lead").experience.text) == (winner == "B")
    assert make_deps(deps.settings).kb.version == deps.kb.version  # a restart serves the same
    assert ("edit.save", "refused") in [(r["action"], r["outcome"]) for r in deps.store.audit_log()]


def test_an_edit_on_a_version_another_edit_replaced_is_refused(deps):
    """Both forms passed validation on one version; the second applied after the first is refused, not
    saved on top of the first (which would silently undo it)."""
    meta, values = form(deps, note="first")
    _, first = submit_edit(deps, HR, meta, {**values, "experience": "Three years. First text."})
    _, second = submit_edit(deps, HR, meta, {**values, "experience": "Two years. Different text.", "note": "second"})
    first()
    reply = second()
    assert CHANGED_WHILE_EDITING in str(reply.blocks) and reply.dm
    assert [r["note"] for r in stored_versions(deps)] == ["first"]


def test_a_form_submitted_while_another_edit_is_saved_is_refused_in_the_form(deps):
    meta, values = form(deps)
    with EDIT_LOCK:
        errors, apply = submit_edit(deps, HR, meta, values)
    assert apply is None and CHANGED_WHILE_EDITING in errors["edit_note"]

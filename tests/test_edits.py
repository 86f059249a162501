"""HR's level edits: validated in the form, stored as versions, re-indexed beside the live index."""

from __future__ import annotations

import shutil
import threading

import pytest

from bot import blocks as B
from bot.config import Settings
from bot.handlers import Deps, action, command
from bot.knowledge import load_knowledge
from bot.retrieval import load_index
from bot.runtime import make_deps
from bot.store import Store
from bot.team_handlers import submit_edit
from bot.versions import export
from tests.conftest import KNOWLEDGE

HR = "UHR1"


@pytest.fixture
def deps(built_index, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(built_index, index_dir, symlinks=True)
    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=index_dir, db_path=tmp_path / "l.db", admins=("UADMIN1",))
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


def test_saved_edit_goes_live_whole_and_is_versioned(deps, tmp_path):
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
    stop = threading.Event()

    def ask_all_the_time():
        while not stop.is_set():
            a = deps.advisor.ask("what do I need for senior agent?")
            seen.append((a.knowledge_version, "De-escalation Coaching" in a.answer))

    asker = threading.Thread(target=ask_all_the_time)
    asker.start()
    try:
        reply = apply()
    finally:
        stop.set()
        asker.join()
    new_version = deps.kb.version
    assert new_version != old_version
    # every answer during the re-index came whole from one version
    assert seen and all(has_new == (v == new_version) for v, has_new in seen)
    assert {v for v, _ in seen} <= {old_version, new_version}
    a = deps.advisor.ask("what do I need for senior agent?")
    assert a.knowledge_version == new_version and "KPI achievement: ≥ 103%" in a.answer
    assert load_index(deps.settings.index_dir).knowledge_version == new_version
    text = str(reply.blocks)
    assert "Skills added: De-escalation Coaching" in text and "Skills removed: Sales Acumen" in text
    assert "≥ 105% (kpi_achievement) → ≥ 103% (kpi_achievement)" in text
    history = command(deps, "UAGENT", "history senior agent").blocks[0]["text"]["text"]
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


def test_a_failed_broadcast_insert_rolls_back_the_version(deps, monkeypatch):
    import bot.outbox as outbox

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outbox, "insert_broadcast", boom)
    meta, values = form(deps, note="n", announce="hello")
    errors, apply = submit_edit(deps, HR, meta, values)
    with pytest.raises(RuntimeError):
        apply()
    with deps.store.db() as db:
        assert db["knowledge_versions"].count == 0 and db["outbox"].count == 0

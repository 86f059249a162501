"""Several worker processes, slow clients, cold boots: the probes of scripts/chaos.py, smaller.

The server tests run the Procfile's ``web:`` command itself (gunicorn) on 127.0.0.1 against the
Slack stand-in."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.chat import blocks as B
from bot.chat.edits import submit_edit
from bot.core.config import Settings
from bot.wiring import follow_newest
from bot.wiring import make_deps
from scripts import chaos
from tests.conftest import KNOWLEDGE, ROOT

HR = "UHR1"


def test_workers_starting_together_on_a_new_database_all_start(tmp_path):
    """Each worker process runs the migrations at boot; on a new database they used to collide
    ('database is locked') and gunicorn stopped the whole server."""
    for trial in range(2):
        db = tmp_path / f"new{trial}.db"
        code = f"from bot.storage.store import Store; Store({str(db)!r})"
        procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE) for _ in range(6)]
        errors = [p.stderr.read().decode()[-300:] for p in procs if p.wait(60)]
        assert errors == []


@pytest.fixture
def two_workers(index_copy, tmp_path):
    """Two worker processes' Deps on one database and one index directory (as gunicorn runs them)."""
    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=index_copy, db_path=tmp_path / "l.db", admins=("UADMIN1",))
    a, b = make_deps(settings), make_deps(settings)
    a.store.set_role(HR, "hr", "UADMIN1")
    return a, b


def _form(kb, level_id="senior-agent", note="update", suffix=""):
    level = kb.level(level_id)
    values = {"experience": level.experience.text, "responsibilities": "\n".join(level.responsibilities),
              "skills": "\n".join(f"{s.name}: {s.description}" for s in level.skills) + suffix, "note": note}
    meta = B.edit_modal(level, "t", '{"level": "%s", "version": "%s"}' % (level_id, kb.version))["private_metadata"]
    return meta, values


def test_an_edit_saved_by_one_worker_is_served_and_editable_on_another(two_workers):
    a, b = two_workers
    old = a.kb.version
    meta, values = _form(a.kb, suffix="\nCoaching: Coaches new agents on calls")
    errors, apply = submit_edit(a, HR, meta, values)
    assert errors is None
    apply()
    new = a.kb.version
    assert new != old and b.kb.version == old
    # a form opened on the new version (on worker a) is submitted on worker b before b has caught up
    meta, values = _form(a.kb, note="second", suffix="\nDe-escalation: Calms angry callers down")
    errors, apply = submit_edit(b, HR, meta, values)
    assert errors is None, errors
    reply = apply()
    assert "Saved" in reply.blocks[0]["text"]["text"] and b.kb.version not in (old, new)
    # and worker a follows the version worker b saved, with its index
    assert follow_newest(a) and a.kb.version == b.kb.version
    assert a.advisor.index.knowledge_version == b.kb.version
    assert "De-escalation" in a.advisor.ask("what do I need for senior agent?").answer


@pytest.mark.slow
def test_every_worker_of_the_procfile_serves_an_edit_saved_on_any_of_them(built_index):
    result = chaos.probe_versions(built_index, edits=1, answers=12, workers=2)
    assert result["refused"] == [] and result["lag_s"][0] is not None, result
    assert result["answers_on_newest"] == "12/12" and result["healthz_on_newest"] == "12/12", result


@pytest.mark.slow
def test_signed_commands_are_acked_while_slow_clients_hold_connections(built_index):
    """Before: gunicorn's gthread worker read requests in its 8 pool threads, so 8 clients sending
    half a request left no thread for Slack; acks never came."""
    result = chaos.probe_slow(built_index, slow=50, requests=20)
    assert result["failed"] == 0 and result["still_open"] > 0, result


@pytest.mark.slow
def test_cold_boots_of_the_procfile_on_a_new_database(built_index):
    result = chaos.probe_boots(built_index, boots=2, workers=3)
    assert result["ok"] == 2, result


class Killed(BaseException):
    """The worker process dies here."""


def test_an_edit_done_again_after_its_worker_died_is_confirmed_and_made_live(two_workers, monkeypatch):
    """Before: the edit was stored, the worker died before indexing it, and the edit done again was
    refused as 'changed while editing' (the stored version was its own)."""
    from bot.storage import inbox
    from bot import wiring
    from bot.chat.edits import apply_edit
    from bot.storage.versions import saved_by_job

    a, _ = two_workers
    old = a.kb.version
    meta, values = _form(a.kb, suffix="\nCoaching: Coaches new agents on calls")
    errors, apply = submit_edit(a, HR, meta, values)
    job = inbox.put(a.store, "edit", {"user": {"id": HR}, "edit": apply.keywords})

    def die(*args, **kwargs):
        raise Killed
    monkeypatch.setattr(wiring, "reindex", die)
    with pytest.raises(Killed):
        apply_edit(a, HR, job_id=job, **apply.keywords)
    monkeypatch.undo()
    saved = saved_by_job(a.store, job)
    assert saved and a.kb.version == old
    reply = apply_edit(a, HR, job_id=job, **apply.keywords)
    text = reply.blocks[0]["text"]["text"]
    assert f"as knowledge {saved['version']}" in text and "comes late" in text
    assert a.kb.version == saved["version"] == a.advisor.index.knowledge_version


@pytest.mark.slow
def test_acknowledged_questions_are_answered_once_through_sigkill(built_index):
    """Before: Slack had its 200, the process was killed, and the questions it was holding were never answered."""
    result = chaos.probe_kill(built_index, questions=24, kills=2)
    assert result["acknowledged"] > 0 and result["unanswered"] == 0 and result["answered_twice"] == 0, result

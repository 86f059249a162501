"""Restart without torch: a serving install (no torch, no sentence-transformers) killed during an HR edit's
re-index starts again, indexing the stored version with the last good build's ONNX models; a half-built
index is discarded, never loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot import wiring
from bot.chat.edits import submit_edit
from bot.core.config import Settings
from bot.wiring import make_deps
from tests.conftest import KNOWLEDGE, link_copy, replace_file
from tests.servers import ROOT
from tests.test_edits import form

pytestmark = pytest.mark.slow
HR = "UHR1"

# a process as a torch-free install runs it: importing torch or sentence-transformers fails
RESTART = """
import json, sys
for name in ("torch", "sentence_transformers", "transformers"):
    sys.modules[name] = None
from bot.core.config import Settings
from bot.wiring import make_deps
deps = make_deps(Settings.from_env())
answer = deps.advisor.ask("what do I need for senior agent?")
print(json.dumps({"kb": deps.kb.version, "index": deps.advisor.index.knowledge_version,
                  "answer": answer.knowledge_version, "level": answer.level_id}))
"""


class Killed(BaseException):
    """SIGKILL, as far as the code after it is concerned: nothing after it runs."""


@pytest.fixture
def index_dir(built_index, tmp_path):
    return link_copy(built_index, tmp_path / "index")


def restart_without_torch(index_dir, db) -> dict:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "LADDER_INDEX_DIR": str(index_dir),
           "LADDER_DB": str(db), "LADDER_KNOWLEDGE_DIR": str(KNOWLEDGE)}
    proc = subprocess.run([sys.executable, "-c", RESTART], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_killed_during_a_reindex_a_torch_free_install_starts_on_the_saved_version(index_dir, tmp_path, monkeypatch):
    deps = make_deps(Settings(knowledge_dir=KNOWLEDGE, index_dir=index_dir, db_path=tmp_path / "l.db",
                              admins=("UADMIN1",)))
    deps.store.set_role(HR, "hr", "UADMIN1")
    before = deps.kb.version

    def killed_mid_build(*args, **kwargs):
        half = index_dir / ".build-killed"          # what build_index had written so far
        half.mkdir()
        (half / "vectors.faiss").write_bytes(b"half")
        raise Killed()

    monkeypatch.setattr(wiring, "reindex", killed_mid_build)
    level = deps.kb.level("senior-agent")
    meta, values = form(deps, note="coaching added",
                        responsibilities="\n".join([*level.responsibilities, "Coaches new agents on live calls."]))
    errors, apply = submit_edit(deps, HR, meta, values)
    assert not errors
    with pytest.raises(Killed):
        apply()
    with deps.store.db() as db:
        [saved] = [r["version"] for r in db["knowledge_versions"].rows]
    assert saved != before and os.readlink(index_dir / "current")    # the old build is still the live one

    got = restart_without_torch(index_dir, tmp_path / "l.db")
    assert got == {"kb": saved, "index": saved, "answer": saved, "level": "senior-agent"}
    assert not list(index_dir.glob(".build-*"))                         # the half build is gone


def test_a_torch_free_install_with_a_damaged_live_build_starts_from_the_last_good_one(index_dir, tmp_path):
    live = (index_dir / "current").resolve()
    older = index_dir / "builds" / "older-good-build"
    link_copy(live, older)
    os.utime(older, (1, 1))                                             # older than the live one
    replace_file(live / "vectors.faiss", b"damaged")
    got = restart_without_torch(index_dir, tmp_path / "l.db")
    assert got["kb"] == got["index"] == got["answer"] and got["level"] == "senior-agent"

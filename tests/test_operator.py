"""Operator errors are one clear line: a bad LADDER_DB names the variable and the path; a full disk or a
read-only database makes /healthz answer 503 with the reason, and people are told "Ladder can't save
right now" instead of "Sorry".

A full disk and a read-only file system are real ones: a small tmpfs, filled up or remounted read-only
(root only: where mounting is not allowed those tests are skipped and say why).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage.store import Store, StoreError
from tests.conftest import KNOWLEDGE
from tests.servers import ROOT
from tests.test_slack_e2e import ladder, said, served  # noqa: F401 - the e2e server and its per-test world


class Tmpfs:
    def __init__(self, where: Path, size: str = "2m"):
        self.where = where
        where.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True,
                              text=True)
        if done.returncode != 0:
            pytest.skip(f"a real full disk needs a tmpfs mount, not allowed here: {done.stderr.strip()}")

    def fill(self) -> None:
        for chunk in (65536, 4096, 1):   # up to the last byte
            try:
                with open(self.where / f"filler-{chunk}", "wb", buffering=0) as f:
                    while True:
                        f.write(b"\0" * chunk)
            except OSError:
                pass

    def read_only(self) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(self.where)], check=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.where)], check=False)


@pytest.fixture
def tmpfs(tmp_path):
    fs = Tmpfs(tmp_path / "mnt")
    yield fs
    fs.unmount()


def start(env_extra: dict, tmp_path: Path, argv: list[str]) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "LADDER_INDEX_DIR": str(tmp_path / "index"), "LADDER_KNOWLEDGE_DIR": str(KNOWLEDGE),
           "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s", **env_extra}
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def bad_paths(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "a-dir").mkdir()
    return {"a directory": (tmp_path / "a-dir", "is a directory, not a database file"),
            "under a file": (tmp_path / "a-file" / "ladder.db", f"{tmp_path / 'a-file'} is a file, not a folder")}


@pytest.mark.parametrize("argv, code", [(["-c", "import bot.wsgi"], 3), (["-m", "bot", "audit"], 1),
                                        (["-m", "bot", "serve", "--http"], 1)])
def test_a_bad_ladder_db_stops_start_up_with_one_line_naming_the_variable_and_the_path(tmp_path, argv, code):
    for what, (path, reason) in bad_paths(tmp_path).items():
        proc = start({"LADDER_DB": str(path)}, tmp_path, argv)
        assert proc.returncode == code, (what, proc.stderr)
        assert proc.stderr.strip() == f"error: LADDER_DB={path}: {reason}", what
    assert not (tmp_path / "index").exists()   # checked before any index is built


def test_a_read_only_ladder_db_stops_start_up_with_one_line(tmp_path, tmpfs):
    Store(tmpfs.where / "ladder.db")   # a database from before, now on a read-only disk
    tmpfs.read_only()
    proc = start({"LADDER_DB": str(tmpfs.where / "ladder.db")}, tmp_path, ["-c", "import bot.wsgi"])
    assert proc.returncode == 3
    assert proc.stderr.strip() == f"error: LADDER_DB={tmpfs.where / 'ladder.db'}: the database is read-only"


def test_store_errors_say_what_is_wrong(tmp_path):
    for path, reason in bad_paths(tmp_path).values():
        with pytest.raises(StoreError) as err:
            Store(path)
        assert err.value.line() == f"LADDER_DB={path}: {reason}"


@pytest.mark.slow
@pytest.mark.parametrize("fault, reason", [("full", "the disk is full"), ("read-only", "the database is read-only")])
def test_when_ladder_cannot_save_healthz_is_503_and_people_are_told(ladder, tmpfs, fault, reason):
    ladder.deps.store = Store(tmpfs.where / "ladder.db")
    status, _, text = ladder.get("/healthz")
    assert status == 200 and json.loads(text)["status"] == "ok"
    tmpfs.fill() if fault == "full" else tmpfs.read_only()

    status, ctype, text = ladder.get("/healthz")
    health = json.loads(text)
    assert status == 503 and ctype.startswith("application/json")
    assert health["status"] == "unavailable" and health["reason"] == f"Ladder can't save: {reason}"

    shown = said(ladder.slash("what do I need for senior agent?"))
    assert "Ladder can't save right now" in shown and "Sorry" not in shown
    dm, ts, _ = ladder.dm("what do I need for senior agent?")
    [reply] = ladder.slack.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") == ts, timeout=10)
    assert "Ladder can't save right now" in said(reply)

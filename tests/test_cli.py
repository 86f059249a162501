"""The command line as a person uses it: output text and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.cli import main
from tests.conftest import EXPORT, ROOT


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_levels_prints_both_ladders(capsys):
    code, out, _ = run(capsys, "levels")
    assert code == 0
    assert "Call Center – Sales & Support (default) — 10 levels" in out
    assert "L10 Chief Customer Officer" in out and "L8  Head of Frontend" in out
    assert "&amp;" not in out  # the console shows text, not Slack entities


def test_levels_for_one_track(capsys):
    code, out, _ = run(capsys, "levels", "--track", "frontend")
    assert code == 0 and "Frontend Development" in out and "Agent" not in out


def test_levels_unknown_track_exit_2(capsys):
    code, _, err = run(capsys, "levels", "--track", "backend")
    assert code == 2 and "There is no track 'backend'" in err


def test_show_prints_a_level_card(capsys):
    code, out, _ = run(capsys, "show", "senoir", "agent")
    assert code == 0
    assert out.startswith("L3 Senior Agent  ·  Call Center")
    assert "Performance Consistency" in out and "KPI achievement: ≥ 105%" in out
    assert "below: L2 Experienced Agent" in out and "next: L4 Expert Agent" in out


@pytest.mark.parametrize("name, message", [("L42", "There is no level L42"), ("astronaut", "I don't know a level called 'astronaut'"),
                                           ("xyzzyq", "Try ladder levels to see every level")])
def test_show_unknown_level_exit_2_with_message(capsys, name, message):
    code, out, err = run(capsys, "show", name)
    assert code == 2 and out == "" and message in err and "Traceback" not in err


def test_import_map_error_exit_1_and_nothing_written(capsys, tmp_path):
    titles = tmp_path / "titles.yaml"
    titles.write_text((ROOT / "knowledge" / "titles.yaml").read_text(encoding="utf-8").replace("  - id: frontend-head\n", "  - id: frontend-x\n    title: X\n  - id: frontend-head\n"), encoding="utf-8")
    code, _, err = run(capsys, "import-map", str(EXPORT), "--titles", str(titles), "--out", str(tmp_path / "out"))
    assert code == 1
    assert "track 'frontend': the export has 8 distinct level blocks but titles.yaml lists 9 titles" in err
    assert "Nothing was written" in err and not (tmp_path / "out").exists()


def test_import_map_reports_duplicates(capsys, tmp_path):
    code, out, _ = run(capsys, "import-map", str(EXPORT), "--titles", str(ROOT / "knowledge" / "titles.yaml"), "--out", str(tmp_path))
    assert code == 0
    assert "8 exact duplicate blocks dropped" in out
    assert sorted(p.name for p in tmp_path.glob("*.yaml")) == ["call-center.yaml", "frontend.yaml"]


def test_python_dash_m_bot_and_console_script(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "bot", "show", "CCO"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0 and "L10 Chief Customer Officer" in proc.stdout
    ladder = os.path.join(os.path.dirname(sys.executable), "ladder")
    if os.path.exists(ladder):
        proc = subprocess.run([ladder, "show", "L99"], capture_output=True, text=True, env=env, cwd=tmp_path)
        assert proc.returncode == 2 and "There is no level L99" in proc.stderr


def test_broken_knowledge_is_one_line_exit_1(capsys, knowledge_dir, monkeypatch):
    (knowledge_dir / "tracks" / "frontend.yaml").write_text("id: frontend\ntitle: F\nlevels: []\n")
    monkeypatch.setenv("LADDER_KNOWLEDGE_DIR", str(knowledge_dir))
    code, _, err = run(capsys, "levels")
    assert code == 1
    assert err.startswith("error: ") and "frontend.yaml: levels: must not be empty" in err and err.count("\n") == 1

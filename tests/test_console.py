"""The console plays every role (issue 13): `as NAME`, @name, inbox, the edit form as text, the demo."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from bot.console import HELP, run
from bot.core.config import Settings
from tests.conftest import KNOWLEDGE, ROOT


def console(deps, script: str, user: str | None = None) -> str:
    out = io.StringIO()
    assert run(deps, io.StringIO(script), out, interactive=False, user=user) == 0
    return out.getvalue()


def test_as_switches_who_is_typing_and_at_names_are_people(deps):
    out = console(deps, "/ladder role @lee lead\nas @lee\nwhoami\n/ladder team add @bob\n/ladder team\nquit\n",
                  user="admin")
    assert "@lee is now lead" in out
    assert "You are @lee (ULEE), role lead." in out
    assert "Usage" not in out and "@bob is in your team." in out
    assert deps.store.lead_of("UBOB") == "ULEE"


def test_inbox_shows_the_dms_a_person_received_and_their_buttons_work(deps):
    out = console(deps, "/ladder role @lee lead\nas lee\n/ladder team add @sam\n/ladder assign @sam senior agent\n"
                        "inbox\nas sam\ninbox\n1\nquit\n", user="admin")
    assert "(→ a DM to @sam: “Gap check invitation: L3 Senior Agent”" in out
    assert "@lee's inbox is empty." in out
    assert "— DM 1 of 1: Gap check invitation: L3 Senior Agent\n@lee invites you to run a gap check" in out
    assert "[1] Start gap check for Senior Agent" in out and "Your current level" in out


def test_the_review_in_the_console_rates_requirements_not_your_own_level(deps):
    deps.store.set_role("ULEE", "lead", "UADMIN")
    deps.store.join_team("ULEE", "USAM", "ULEE", allow_move=True)
    walk = "level L2\n/ladder gap senior agent\n1\n3\n" + "1\n" * 6 + "= 106\n1\n1\n"
    out = console(deps, walk + "as lee\ninbox\nrate 3 no\n1\nas sam\ninbox\nquit\n", user="sam")
    assert "change it: type `level LEVEL`" not in out and "change it: type `rate 1 yes|partly|no`" in out
    assert "(requirement 3: no; press Confirm review when done)" in out
    assert "7 confirmed, 1 adjusted" in out
    assert "@lee reviewed your gap check for L3 Senior Agent on" in out
    assert deps.store.profile("ULEE")["current_level"] is None


def test_chat_help_lists_the_console_commands():
    proc = subprocess.run([sys.executable, "-m", "bot", "chat", "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0
    for line in ("--as USER", "inbox", "as NAME", "rate N yes|partly|no", "set FIELD TEXT"):
        assert line in proc.stdout, line
    assert "as NAME" in HELP


@pytest.fixture
def edit_deps(index_copy, tmp_path):
    from bot.wiring import make_deps

    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=index_copy, db_path=tmp_path / "l.db", admins=("UHANA",))
    return make_deps(settings)


def test_the_edit_form_as_text_validates_like_slack_and_saves_with_a_diff(edit_deps):
    before = edit_deps.kb.version
    out = console(edit_deps, "/ladder edit senior agent\nset skills Only a line without a colon\nsave\n"
                             "cancel\n/ladder edit senior agent\nadd skills Quality Mindset: Reviews own calls weekly\n"
                             "set note Quality Mindset added\nsave\nquit\n", user="hana")
    assert "EDIT FORM — Editing L3 Senior Agent" in out and "[skills] (Name: description, one per line)" in out
    assert "Not saved — fix these and `save` again:\n  skills:" in out
    assert "Form closed; nothing was saved." in out
    assert "Saved L3 Senior Agent as knowledge" in out and "Quality Mindset" in out
    assert "That opens a form in Slack" not in out and "titles.yaml" not in out
    assert edit_deps.kb.version != before


def test_the_demo_plays_agent_lead_and_hr_end_to_end(fake_index, tmp_path):
    from bot.demo import run_demo

    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=fake_index, db_path=tmp_path / "never.db")
    live = (fake_index / "current").resolve()
    out = io.StringIO()
    assert run_demo(settings, stdout=out) == 0
    text = out.getvalue()
    steps = ["@hana is now hr", "@sam is in @lee's team", "GAP CHECK", "Gap check report: L3 Senior Agent",
             "Shared with @lee", "waiting for your review", "Gap check to review", "Review saved", "reviewed on 20",
             "@lee reviewed your gap check", "EDIT FORM", "Saved L3 Senior Agent as knowledge",
             "will go out when Ladder is connected to Slack", "Preview", "Broadcast 2 queued", "Ladder stats",
             "Career ladder update", "Quality Mindset workshops start on Monday"]
    positions = [text.find(s) for s in steps]
    assert all(p >= 0 for p in positions), [s for s, p in zip(steps, positions) if p < 0]
    assert "Sorry" not in text and "something went wrong" not in text and "There is no button" not in text
    assert not (tmp_path / "never.db").exists()            # a temporary database, not the configured one
    assert (fake_index / "current").resolve() == live       # the live index is linked, never swapped

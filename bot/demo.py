"""``ladder demo``: a scripted console run that plays every role in about a minute.

Sam (an agent) runs a gap check and shares it with Lee (their team lead), Lee reviews it, Hana (HR)
edits a level and announces it, and Sam reads the announcement in their inbox. It runs on a temporary
database and a temporary index folder (the live index is reused, nothing in the checkout changes), so
it can be run any number of times. The same script is a test (tests/test_console.py).
"""

from __future__ import annotations

import io
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot.console import run
from bot.core.config import Settings
from bot.search.retrieval import current_build
from bot.wiring import make_deps, open_advisor

DEMO_ADMIN = "UADMIN"

SCRIPT = """\
# ── Ladder demo: one terminal, three people. Lines starting with # are narration. ──
# An admin (from LADDER_ADMINS) hands out the roles: Hana is HR, Lee a team lead.
as admin
/ladder role @hana hr
/ladder role @lee lead
# Hana (HR) puts Sam in Lee's team.
as hana
/ladder team move @sam @lee
# ── Sam, an Experienced Agent, asks what Senior Agent needs, then runs a gap check. ──
as sam
level experienced agent
/ladder gap senior agent
1
# Experience: Sam types 20 months (or presses one of the ranges built from "1,5-2 years").
= 20
note plus a year at another call centre
4
# Seven skills: Yes, Partly or Not yet, with a note where it helps.
note I take the escalations nobody else wants
1
2
1
3
1
1
# Performance Consistency asks for a figure: 103% against the level's 105%.
= 103
1
# The report: met / partly / not yet, next steps, a chart. Sam shares it with Lee.
1
# ── Lee, the team lead, finds the review request in the inbox. ──
as lee
/ladder team
inbox
rate 4 partly
1
/ladder team
# ── Sam reads Lee's review. ──
as sam
inbox
# ── Hana (HR) edits Senior Agent in the text form of Slack's edit modal, and announces it. ──
as hana
/ladder edit senior agent
add skills Quality Mindset: Reviews own calls against the QA scorecard every week
set note Quality Mindset added after the QA review
set announce Senior Agent now lists Quality Mindset.
save
/ladder announce senior agent: Quality Mindset workshops start on Monday.
1
/ladder stats
# ── Sam's inbox: the announcement, waiting to go out when Ladder is connected to Slack. ──
as sam
inbox
quit
"""


def demo_settings(settings: Settings, workdir: Path) -> Settings:
    """A throwaway database and index folder; the live index build is linked, not copied or changed."""
    open_advisor(settings)   # builds the live index if it is missing (first run)
    index_dir = workdir / "index"
    index_dir.mkdir(parents=True)
    (index_dir / "current").symlink_to(current_build(settings.index_dir))
    return replace(settings, db_path=workdir / "demo.db", index_dir=index_dir, announce_channel=None,
                   admins=tuple(dict.fromkeys((DEMO_ADMIN, *settings.admins))))


def run_demo(settings: Settings, script: str = SCRIPT, stdout: TextIO = sys.stdout, progress=None) -> int:
    with tempfile.TemporaryDirectory(prefix="ladder-demo-") as tmp:
        deps = make_deps(demo_settings(settings, Path(tmp)), progress=progress)
        return run(deps, io.StringIO(script), stdout, interactive=False, echo=True)

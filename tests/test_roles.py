"""Roles, teams and invitations: every forbidden cell of the role x command matrix is refused and audited."""

from __future__ import annotations

import json

import pytest

from bot import blocks as B
from bot.config import Settings
from bot.handlers import Deps, command
from bot.store import Store
from bot.team_handlers import parse_user

ADMIN, HR, LEAD, AGENT, OTHER_LEAD = "UADMIN1", "UHR1", "ULEAD1", "UAGENT1", "ULEAD2"


@pytest.fixture
def deps(advisor, tmp_path):
    d = Deps(settings=Settings(db_path=tmp_path / "l.db", admins=(ADMIN,)), advisor=advisor, store=Store(tmp_path / "l.db"))
    d.store.set_role(HR, "hr", ADMIN)
    d.store.set_role(LEAD, "lead", ADMIN)
    d.store.set_role(OTHER_LEAD, "lead", ADMIN)
    d.store.add_to_team(LEAD, AGENT, LEAD)
    return d


def text(reply) -> str:
    return "\n".join(b["text"]["text"] for b in reply.blocks if b["type"] == "section")


@pytest.mark.parametrize("token, user", [("<@U123ABC|sam>", "U123ABC"), ("<@W99XYZ>", "W99XYZ"), ("U0123ABCD", "U0123ABCD"),
                                         ("@sam", None), ("<!channel>", None), ("", None)])
def test_parse_user(token, user):
    assert parse_user(token) == user


# (actor, command, allowed)
MATRIX = [
    (AGENT, f"role <@{AGENT}> admin", False), (LEAD, f"role <@{AGENT}> lead", False),
    (HR, f"role <@{AGENT}> lead", True), (HR, f"role <@{AGENT}> admin", False), (ADMIN, f"role <@{AGENT}> hr", True),
    (AGENT, "team", False), (LEAD, "team", True), (HR, "team", True), (ADMIN, "team", True),
    (AGENT, f"team add <@{AGENT}>", False), (HR, f"team add <@{AGENT}>", False), (LEAD, "team add <@UNEW1>", True),
    (AGENT, f"assign <@{AGENT}> senior agent", False), (OTHER_LEAD, f"assign <@{AGENT}> senior agent", False),
    (LEAD, f"assign <@{AGENT}> senior agent", True), (HR, f"assign <@{AGENT}> senior agent", True),
]


@pytest.mark.parametrize("actor, line, allowed", MATRIX)
def test_role_command_matrix(deps, actor, line, allowed):
    before = len(deps.store.audit_log())
    reply = command(deps, actor, line)
    log = deps.store.audit_log()
    assert len(log) > before, "every privileged attempt is audited"
    assert log[0]["actor"] == actor and log[0]["outcome"] == ("ok" if allowed else "refused")
    if not allowed:
        assert text(reply).startswith("Sorry")


def test_refusal_changes_nothing(deps):
    command(deps, AGENT, f"role <@{AGENT}> admin")
    assert deps.store.role(AGENT) is None
    command(deps, OTHER_LEAD, f"assign <@{AGENT}> senior agent")
    command(deps, AGENT, "team add <@UNEW2>")
    assert deps.store.lead_of("UNEW2") is None


def test_team_view_and_assign_invitation(deps):
    deps.store.set_profile(AGENT, current_level="experienced-agent", target_level="senior-agent")
    view = text(command(deps, LEAD, "team"))
    assert f"<@{AGENT}> · L2 Experienced Agent → L3 Senior Agent · no shared gap check" in view
    reply = command(deps, LEAD, f"assign <@{AGENT}> senoir agent")
    assert f"I've asked <@{AGENT}> to run a gap check for *L3 Senior Agent*" in text(reply)
    [invite] = reply.followups
    assert invite.to_user == AGENT and "invites you to run a gap check" in text(invite)
    assert ("Start gap check for Senior Agent", B.START_GAP, "senior-agent") in B.option_labels(invite.blocks)


def test_team_edits(deps):
    assert "is in your team" in text(command(deps, LEAD, "team add <@UNEW3>"))
    assert "moved from" in text(command(deps, OTHER_LEAD, "team add <@UNEW3>"))
    assert deps.store.lead_of("UNEW3") == OTHER_LEAD
    assert "isn't in your team" in text(command(deps, LEAD, "team remove <@UNEW3>"))
    assert "no longer in your team" in text(command(deps, OTHER_LEAD, "team remove <@UNEW3>"))


def test_admins_come_from_settings_and_bad_usage_is_explained(deps):
    assert "is now *lead*" in text(command(deps, ADMIN, "role <@UNEW4> lead"))
    assert "Usage: `/ladder role @person ROLE`" in text(command(deps, ADMIN, "role sam lead"))
    assert "is not a role" in text(command(deps, ADMIN, "role <@UNEW4> boss"))
    assert "I don't know a level called 'astronaut'" in text(command(deps, LEAD, f"assign <@{AGENT}> astronaut"))


def test_audit_cli_prints_the_log(deps, capsys, monkeypatch):
    from bot.cli import main

    command(deps, AGENT, f"role <@{AGENT}> admin")
    monkeypatch.setenv("LADDER_DB", str(deps.store.path))
    assert main(["audit"]) == 0
    out = capsys.readouterr().out
    assert "refused" in out and AGENT in out and "role.set" in out


def test_stats_are_for_hr_and_have_no_names(deps):
    from bot.handlers import action, question

    r = question(deps, AGENT, "D1", "what do I need for senior agent?")
    aid, value = next((a, v) for label, a, v in B.option_labels(r.blocks) if label == "👍")
    action(deps, AGENT, aid, value)
    question(deps, AGENT, "D1", "what's the weather tomorrow?")
    assert text(command(deps, AGENT, "stats")).startswith("Sorry")
    out = text(command(deps, HR, "stats"))
    assert "Questions asked: *2* · could not answer: *1*" in out
    assert "100% 👍 / 0% 👎 of 1" in out and "what's the weather tomorrow?" in out
    assert "L3 Senior Agent: 1" in out
    assert AGENT not in out


def test_announce_previews_then_queues_one_delivery_per_person(deps):
    from dataclasses import replace

    from bot.handlers import action
    from bot.outbox import summary

    deps.settings = replace(deps.settings, announce_channel="C0ANNOUNCE")
    kicked = []
    deps.kick_outbox = lambda: kicked.append(1)
    base = {"current_level": "experienced-agent", "target_title": "L3", "knowledge_version": "v", "plan": "[]",
            "step": 0, "state": "asking", "target_level": "senior-agent"}
    for user in ("UA1", "UA2"):
        deps.store.create_check({**base, "user_id": user})
    assert text(command(deps, AGENT, "announce hello")).startswith("Sorry")
    preview = command(deps, HR, "announce senior agent: the KPI threshold is now 103% <!channel>")
    body = text(preview)
    assert "*Preview*" in body and "2 people whose gap checks target *L3 Senior Agent*" in body
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body
    assert summary(deps.store) == {}  # nothing is sent before HR confirms
    [(label, aid, value)] = B.option_labels(preview.blocks)
    assert action(deps, AGENT, aid, value).blocks[0]["text"]["text"].startswith("Sorry")  # a forwarded button
    done = action(deps, HR, aid, value)
    assert "Queued broadcast" in text(done) and "2 DMs" in text(done) and kicked == [1]
    assert summary(deps.store) == {"pending": 3}
    with deps.store.db() as db:
        dms = [json.loads(r["blocks"]) for r in db["outbox"].rows_where("kind = 'dm'")]
    assert all("Re-run my gap check" in json.dumps(b) for b in dms)
    log = [r["action"] for r in deps.store.audit_log()]
    assert "announce.send" in log

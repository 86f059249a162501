"""Roles, teams and invitations: every forbidden cell of the role x command matrix is refused and audited."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.chat import blocks as B
from bot.chat.handlers import command
from bot.chat.teams import parse_user
from bot.storage.authz import PERMISSIONS, Role

ADMIN, HR, LEAD, AGENT, OTHER_LEAD = "UADMIN1", "UHR1", "ULEAD1", "UAGENT1", "ULEAD2"


@pytest.fixture
def deps(deps):
    d = deps
    d.settings = replace(d.settings, admins=(ADMIN,))
    d.store.set_role(HR, "hr", ADMIN)
    d.store.set_role(LEAD, "lead", ADMIN)
    d.store.set_role(OTHER_LEAD, "lead", ADMIN)
    d.store.join_team(LEAD, AGENT, LEAD, allow_move=True)
    return d


def text(reply) -> str:
    return "\n".join(b["text"]["text"] for b in reply.blocks if b["type"] == "section")


@pytest.mark.parametrize("token, user", [("<@U123ABC|sam>", "U123ABC"), ("<@W99XYZ>", "W99XYZ"), ("U0123ABCD", "U0123ABCD"),
                                         ("@sam", None), ("<!channel>", None), ("", None)])
def test_parse_user(token, user):
    assert parse_user(token) == user


# -- the role x command matrix, built from the permissions table ------------------------------------

ACTOR = {Role.AGENT: AGENT, Role.LEAD: LEAD, Role.HR: HR, Role.ADMIN: ADMIN}
SEND_VALUE = json.dumps({"l": "senior-agent", "m": "the KPI threshold is now 103%"})


def _slash(line):
    return lambda deps, user: command(deps, user, line)


def _send_button(deps, user):
    from bot.chat.handlers import action

    return action(deps, user, B.ANNOUNCE_SEND, SEND_VALUE)


def _submit_edit(deps, user):
    """Submitting the edit form: a refusal comes back into the form (nothing is applied)."""
    from bot.chat.replies import text_reply
    from bot.chat.edits import submit_edit

    level = deps.kb.level("senior-agent")
    values = {"experience": level.experience.text, "responsibilities": "\n".join(level.responsibilities),
              "skills": "\n".join(f"{s.name}: {s.description}" for s in level.skills), "note": "matrix"}
    meta = json.dumps({"level": level.id, "version": deps.kb.version})
    errors, apply = submit_edit(deps, user, meta, values)
    reply = text_reply(errors[B.EDIT_BLOCKS["note"]] if errors else "applied")
    reply.modal = None if apply is None else {"apply": apply}
    return reply


# every action in the permissions table -> the ways a person can attempt it (valid and invalid input:
# authorization comes first, so even a malformed attempt by the wrong role is refused and audited)
ATTEMPTS = {
    "role.set": [_slash(f"role <@{AGENT}> lead"), _slash(f"role <@{AGENT}> boss"), _slash("role sam")],
    "team.view": [_slash("team")],
    "team.edit": [_slash("team add <@UNEW1>"), _slash(f"team remove <@{AGENT}>"), _slash("team add sam")],
    "team.move": [_slash(f"team move <@{AGENT}> <@{OTHER_LEAD}>"), _slash("team move sam")],
    "assign": [_slash(f"assign <@{AGENT}> senior agent"), _slash(f"assign <@{AGENT}> astronaut")],
    "stats": [_slash("stats")],
    "announce": [_slash("announce senior agent: the KPI threshold is now 103%"), _send_button],
    "edit.open": [_slash("edit senior agent"), _slash("edit astronaut")],
    "edit.save": [_submit_edit],
    "history": [_slash("history senior agent"), _slash("history astronaut")],
}
FORBIDDEN = [(action, role, i) for action, roles in PERMISSIONS.items() for role in Role if role not in roles
             for i in range(len(ATTEMPTS[action]))]
ALLOWED = [(action, role) for action, roles in PERMISSIONS.items() for role in sorted(roles)]
TABLES = ("roles", "teams", "knowledge_versions", "broadcasts", "outbox", "gap_checks", "gap_reviews", "profiles")


def snapshot(store) -> dict:
    with store.db() as db:
        return {t: [tuple(r.values()) for r in db[t].rows] for t in TABLES}


def test_every_permission_is_exercised():
    assert set(ATTEMPTS) == set(PERMISSIONS)
    assert {role for _, role, _ in FORBIDDEN} == {Role.AGENT, Role.LEAD, Role.HR}


@pytest.fixture
def matrix_deps(deps):
    from dataclasses import replace

    deps.settings = replace(deps.settings, announce_channel="C0ANNOUNCE")
    deps.store.create_check({"user_id": AGENT, "current_level": "experienced-agent", "target_level": "senior-agent",
                             "target_title": "L3", "knowledge_version": "v", "plan": "[]", "step": 0, "state": "asking"})
    return deps


def assert_refused(deps, actor, attempt, action=None):
    """A polite refusal, an audit row with outcome refused, and nothing changed (no DM, no form either)."""
    before_log, before = len(deps.store.audit_log()), snapshot(deps.store)
    reply = attempt(deps, actor)
    assert text(reply).startswith("Sorry"), text(reply)
    assert not reply.followups and reply.modal is None and not reply.files
    new_rows = deps.store.audit_log()[: len(deps.store.audit_log()) - before_log]
    assert new_rows and all(r["actor"] == actor and r["outcome"] == "refused" for r in new_rows)
    if action:
        assert new_rows[0]["action"] == action
    assert snapshot(deps.store) == before, "a refusal changes nothing"


@pytest.mark.parametrize("action, role, i", FORBIDDEN, ids=lambda v: getattr(v, "value", str(v)))
def test_forbidden_cells_are_refused_audited_and_change_nothing(matrix_deps, action, role, i):
    assert_refused(matrix_deps, ACTOR[role], ATTEMPTS[action][i], action)


@pytest.mark.parametrize("action, role", ALLOWED, ids=lambda v: getattr(v, "value", str(v)))
def test_allowed_cells_are_not_refused(matrix_deps, action, role):
    before = len(matrix_deps.store.audit_log())
    reply = ATTEMPTS[action][0](matrix_deps, ACTOR[role])
    assert not text(reply).startswith("Sorry"), text(reply)
    outcomes = {r["outcome"] for r in matrix_deps.store.audit_log()[: len(matrix_deps.store.audit_log()) - before]}
    assert outcomes <= {"ok", "previewed", "sent", "opened", "saved"}, outcomes


STORED_ADMIN, THEIRS = "UADMIN2", "UTHEIRS1"


@pytest.mark.parametrize("actor, line, action", [
    (OTHER_LEAD, f"assign <@{AGENT}> senior agent", "assign"),                   # not in their team
    (OTHER_LEAD, f"team add <@{AGENT}>", "team.edit"),                           # another lead's member
    (OTHER_LEAD, f"team remove <@{AGENT}>", "team.edit"),
    (LEAD, f"team add <@{LEAD}>", "team.edit"),                                  # nobody is in their own team
    (ADMIN, f"team add <@{ADMIN}>", "team.edit"),
    (HR, f"team move <@{LEAD}> <@{LEAD}>", "team.move"),
    (HR, f"role <@{STORED_ADMIN}> agent", "role.set"),                           # only an admin changes an admin
    (HR, f"role <@{ADMIN}> agent", "role.set"),
    (ADMIN, f"role <@{ADMIN}> agent", "role.set"),                               # LADDER_ADMINS stays admin
    (HR, f"role <@{AGENT}> admin", "role.set"),                                  # only an admin makes an admin
    (HR, f"role <@{HR}> admin", "role.set"),
])
def test_refusals_about_the_target(matrix_deps, actor, line, action):
    matrix_deps.store.set_role(STORED_ADMIN, "admin", ADMIN)
    assert_refused(matrix_deps, actor, _slash(line), action)


def test_admins_change_stored_admins_and_settings_admins_stay(deps):
    deps.store.set_role(STORED_ADMIN, "admin", ADMIN)
    assert "is now *hr*" in text(command(deps, ADMIN, f"role <@{STORED_ADMIN}> hr"))
    assert deps.store.role(STORED_ADMIN) == "hr"
    assert deps.store.audit_log()[0]["detail"] == "admin -> hr"


def test_validation_comes_after_authorization(deps):
    """An authorized person's bad input is explained (not a refusal); the wrong role is refused first."""
    assert "is not a role" in text(command(deps, ADMIN, f"role <@{AGENT}> boss"))
    command(deps, AGENT, f"role <@{AGENT}> boss")
    assert deps.store.audit_log()[0]["actor"] == AGENT and deps.store.audit_log()[0]["outcome"] == "refused"


def test_edit_form_open_is_audited_as_edit_open(deps):
    reply = command(deps, HR, "edit senior agent")
    assert reply.modal is not None
    [row] = deps.store.audit_log(limit=1)
    assert (row["action"], row["outcome"], row["target"]) == ("edit.open", "opened", "senior-agent")


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
    assert "already in your team" in text(command(deps, LEAD, "team add <@UNEW3>"))
    refused = text(command(deps, OTHER_LEAD, "team add <@UNEW3>"))
    assert refused.startswith("Sorry") and f"<@{LEAD}>'s team" in refused
    assert deps.store.lead_of("UNEW3") == LEAD  # not silently moved
    assert "isn't in your team" in text(command(deps, LEAD, "team remove <@UNEW4>"))
    assert "no longer in your team" in text(command(deps, LEAD, "team remove <@UNEW3>"))
    assert deps.store.lead_of("UNEW3") is None


def test_hr_and_admins_move_people_between_teams_and_the_previous_lead_is_told(deps):
    reply = command(deps, HR, f"team move <@{AGENT}> <@{OTHER_LEAD}>")
    assert f"<@{AGENT}> is in <@{OTHER_LEAD}>'s team (moved from <@{LEAD}>'s team" in text(reply)
    assert deps.store.lead_of(AGENT) == OTHER_LEAD
    told = {r.to_user: text(r) for r in reply.followups}
    assert f"moved <@{AGENT}> from your team to <@{OTHER_LEAD}>'s team" in told[LEAD]
    assert f"put <@{AGENT}> in your team" in told[OTHER_LEAD]
    assert "isn't a team lead" in text(command(deps, HR, f"team move <@{AGENT}> <@UNOBODY1>"))
    reply = command(deps, ADMIN, f"team add <@{AGENT}>")  # an admin may move someone into their own team
    assert "moved from" in text(reply) and deps.store.lead_of(AGENT) == ADMIN
    [told] = reply.followups
    assert told.to_user == OTHER_LEAD
    log = [(r["action"], r["outcome"]) for r in deps.store.audit_log()]
    assert ("team.move", "ok") in log and ("team.edit", "ok") in log


def test_hr_sees_the_teams_across_the_org(deps):
    out = text(command(deps, HR, "team"))
    assert "Your team is empty" not in out and "*Teams* (1 lead, 1 person)" in out
    assert f"<@{LEAD}> (1): <@{AGENT}>" in out and "/ladder team move" in out


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
    from bot.chat.handlers import action, question

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


def test_stats_hide_readiness_of_fewer_than_five_checks(deps):
    base = {"current_level": "experienced-agent", "target_title": "t", "knowledge_version": "v", "plan": "[]",
            "step": 0, "state": "done"}
    for i in range(4):
        deps.store.create_check({**base, "user_id": f"US{i}", "target_level": "senior-agent", "readiness": 90})
    for i in range(5):
        deps.store.create_check({**base, "user_id": f"UT{i}", "target_level": "team-lead", "readiness": 40 + 10 * i})
    out = text(command(deps, HR, "stats"))
    senior, lead = deps.kb.level("senior-agent").label, deps.kb.level("team-lead").label
    assert f"{senior}: fewer than 5 — hidden" in out
    assert f"{lead}: 1 · 3 · 1 (of 5)" in out


def test_announce_previews_then_queues_one_delivery_per_person(deps):
    from dataclasses import replace

    from bot.chat.handlers import action
    from bot.storage.outbox import summary

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
    assert "queued: a post in <#C0ANNOUNCE> and a DM to 2 people" in text(done) and kicked == [1]
    assert "going out now, each exactly once" in text(done)
    assert summary(deps.store) == {"pending": 3}
    with deps.store.db() as db:
        dms = [json.loads(r["blocks"]) for r in db["outbox"].rows_where("kind = 'dm'")]
    assert all("Re-run my gap check" in json.dumps(b) for b in dms)
    log = [r["action"] for r in deps.store.audit_log()]
    assert "announce.send" in log

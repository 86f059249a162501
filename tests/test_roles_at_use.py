"""Roles at the moment of use: sharing and reviewing check the lead's role and team when pressed, a
demoted lead's pending reviews go back to their people with a note, and `/ladder history` is for the
roles the help lists it under."""

from __future__ import annotations

import pytest

from bot.chat import blocks as B
from bot.chat.handlers import action, command
from tests.test_gap_flow import buttons, finish_walk, text

HR = "UHR"


@pytest.fixture
def deps(deps):
    d = deps
    d.store.set_role(HR, "hr", "UADMIN")
    d.store.set_role("ULEAD", "lead", HR)
    d.store.join_team("ULEAD", "U1", "ULEAD", allow_move=True)
    return d


def review_value(reply) -> str:
    return buttons(reply)["Confirm review"][1]


def test_share_after_the_lead_was_demoted_is_refused_and_sends_nothing(deps):
    report = finish_walk(deps).followups[0]
    command(deps, HR, "role <@ULEAD> agent")
    reply = action(deps, "U1", *buttons(report)["Share with my lead"], {})
    assert "<@ULEAD> is no longer a team lead" in text(reply) and not reply.followups
    [check] = deps.store.checks("U1")
    assert check["shared_with"] is None
    assert ("U1", "gap.share", "refused") in [(r["actor"], r["action"], r["outcome"]) for r in deps.store.audit_log()]


def test_a_demoted_leads_pending_reviews_go_back_with_a_note_and_their_review_is_refused(deps):
    report = finish_walk(deps).followups[0]
    shared = action(deps, "U1", *buttons(report)["Share with my lead"], {})
    [to_lead] = shared.followups
    demoted = command(deps, HR, "role <@ULEAD> agent")
    [note] = demoted.followups
    assert note.to_user == "U1" and "<@ULEAD> is no longer a team lead" in text(note)
    assert "Share with my lead" in text(note)
    [check] = deps.store.checks("U1")
    assert check["shared_with"] is None

    reply = action(deps, "ULEAD", B.GAP_REVIEW, review_value(to_lead), {"review": {}})
    assert text(reply).startswith("Sorry") and "Review saved" not in text(reply)   # it went back: not theirs
    assert deps.store.reviews(check["id"]) == {}

    # promoted again and shared again: the review works
    command(deps, HR, "role <@ULEAD> lead")
    again = action(deps, "U1", *buttons(report)["Share with my lead"], {})
    reply = action(deps, "ULEAD", B.GAP_REVIEW, review_value(again.followups[0]), {"review": {}})
    assert "Review saved" in text(reply) and deps.store.reviews(check["id"])


def test_a_lead_demoted_some_other_way_cannot_review_and_the_check_goes_back(deps):
    report = finish_walk(deps).followups[0]
    shared = action(deps, "U1", *buttons(report)["Share with my lead"], {})
    deps.store.set_role("ULEAD", "agent", "a script")     # not through /ladder role
    reply = action(deps, "ULEAD", B.GAP_REVIEW, review_value(shared.followups[0]), {"review": {}})
    assert "you're no longer a team lead" in text(reply)
    [note] = reply.followups
    assert note.to_user == "U1" and deps.store.checks("U1")[0]["shared_with"] is None


def test_a_member_moved_to_another_team_is_not_reviewed_by_the_old_lead(deps):
    report = finish_walk(deps).followups[0]
    shared = action(deps, "U1", *buttons(report)["Share with my lead"], {})
    deps.store.set_role("UNEW", "lead", HR)
    command(deps, HR, "team move <@U1> <@UNEW>")
    reply = action(deps, "ULEAD", B.GAP_REVIEW, review_value(shared.followups[0]), {"review": {}})
    assert "only the team lead this check was shared with" in text(reply)
    assert deps.store.reviews(deps.store.checks("U1")[0]["id"]) == {}


@pytest.mark.parametrize("who, allowed", [("UAGENT", False), ("ULEAD", True), (HR, True)])
def test_history_is_for_the_roles_the_help_lists_it_under(deps, who, allowed):
    help_text = text(command(deps, "UAGENT", "help"))
    assert help_text.index("/ladder history LEVEL") > help_text.index("*Team leads, HR and admins*")
    reply = text(command(deps, who, "history senior agent"))
    if allowed:
        assert "has not been edited" in reply
    else:
        assert reply.startswith("Sorry — `/ladder history` is for")

"""Only true messages (issue 13): every confirmation says what really happens, audits say what happened,
stats list real questions, and the wording is right."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.chat import blocks as B
from bot.chat.handlers import action, command, question

HR, AGENT, LEAD = "UHR1", "UAGENT1", "ULEAD1"


@pytest.fixture
def deps(deps):
    d = deps
    d.store.set_role(HR, "hr", "UADMIN1")
    d.store.set_role(LEAD, "lead", "UADMIN1")
    base = {"current_level": "experienced-agent", "target_title": "L3", "knowledge_version": "v", "plan": "[]",
            "step": 0, "state": "asking", "target_level": "senior-agent"}
    for user in ("UA1", "UA2"):
        d.store.create_check({**base, "user_id": user})
    return d


def text(reply) -> str:
    return "\n".join(b["text"]["text"] for b in reply.blocks if b["type"] == "section")


def send(deps, args="senior agent: the KPI threshold is now 103%"):
    preview = command(deps, HR, f"announce {args}")
    [(_, aid, value)] = B.option_labels(preview.blocks)
    return preview, action(deps, HR, aid, value)


def test_announce_with_no_channel_and_no_slack_says_so(deps):
    preview, done = send(deps)
    for reply in (preview, done):
        assert "channel message" not in text(reply) and "announcement channel and" not in text(reply)
        assert "no announcement channel is set" in text(reply) and "a DM to 2 people" in text(reply)
    # the console: nothing is connected to Slack, so nothing "goes out now"
    assert "will go out when Ladder is connected to Slack" in text(done) and "going out now" not in text(done)


def test_announce_with_a_channel_and_a_worker_goes_out_now(deps):
    deps.settings = replace(deps.settings, announce_channel="C0ANNOUNCE")
    deps.kick_outbox = lambda: None
    _, done = send(deps)
    assert "a post in <#C0ANNOUNCE> and a DM to 2 people" in text(done) and "going out now" in text(done)
    assert "no announcement channel" not in text(done)


def test_audit_outcomes_say_what_happened(deps):
    command(deps, HR, "announce")                  # a usage error
    command(deps, AGENT, "announce hi")            # the wrong role
    send(deps)                                     # preview, then Send
    log = [(r["action"], r["outcome"]) for r in reversed(deps.store.audit_log())]
    assert log == [("announce", "invalid"), ("announce", "refused"), ("announce", "previewed"),
                   ("announce.send", "sent")]
    assert ("announce", "ok") not in log


def test_stats_leave_out_empty_emoji_and_greetings(deps):
    for q in ("?", "🙂", "hi", "hello there!", "thanks 🙏", "  ", "what's the weather tomorrow?"):
        question(deps, AGENT, "D1", q)
    out = text(command(deps, HR, "stats"))
    listed = out.split("*Questions I could not answer*", 1)[1]
    assert "what's the weather tomorrow?" in listed
    for noise in ("• ?", "🙂", "• hi", "hello there", "thanks"):
        assert noise not in listed, noise


def test_refusals_name_roles_in_words(deps):
    assert "Sorry — `/ladder team` is for team leads, HR and admins." in text(command(deps, AGENT, "team"))
    assert "`/ladder stats` is for HR and admins." in text(command(deps, LEAD, "stats"))


def test_team_lead_is_compared_with_its_own_branch(deps):
    answer = deps.advisor.ask("what do I need for team lead?").answer
    assert "New compared with L4 Expert Agent" in answer and "Training & Quality Lead*" not in answer
    card = text(command(deps, AGENT, "show team lead"))
    assert "below: L4 Expert Agent" in card


def test_experience_is_never_compared_with_not_stated(deps):
    for level in deps.kb.tracks["frontend"].levels + deps.kb.tracks["call-center"].levels:
        answer = deps.advisor.ask(f"what do I need for {level.title}?").answer
        assert "instead of not stated" not in answer, level.id


def test_the_path_to_call_center_manager_does_not_quote_the_team_lead_requirement(deps):
    answer = deps.advisor.path("team lead", "call center manager").answer
    assert "Typical time in role" not in answer and "asked of Team Leads" not in answer
    assert "3+ years of proven experience managing operations" in answer

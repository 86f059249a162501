"""``ask`` as people use it: answers with sources, honest refusals, clear answers to bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from scripts.eval_retrieval import load_questions, ranked_ids, score
from tests.conftest import ROOT


def test_requirements_answer_lists_experience_skills_and_whats_new(advisor):
    a = advisor.ask("what do I need for Senior Agent?")
    assert a.status == "answered" and a.level_id == "senior-agent" and a.track == "call-center"
    assert "1,5-2 years" in a.answer and "Performance Consistency" in a.answer
    assert "New compared with L2 Experienced Agent" in a.answer and "Mentorship" in a.answer
    assert "KPI achievement: ≥ 105% (was ≥ 100%)" in a.answer
    assert f"Sources: Call Center – Sales &amp; Support · L3 Senior Agent" in a.answer
    assert f"knowledge {advisor.version}" in a.answer


@pytest.mark.parametrize("question, level", [
    ("wat do i need for senoir agent", "senior-agent"),
    ("what's L3?", "senior-agent"),
    ("level 7", "team-lead"),
    ("team leader requirements?", "team-lead"),
    ("how many agents does a team lead manage?", "team-lead"),
    ("frontend L4", "frontend-senior"),
])
def test_level_aware_questions(advisor, question, level):
    assert advisor.ask(question).level_id == level


def test_fact_question_quotes_the_matching_line(advisor):
    a = advisor.ask("how many agents does a team lead manage?")
    assert "10–15 FTE" in a.answer and "Area of Responsibility" in a.answer


def test_compare_lists_what_differs(advisor):
    a = advisor.ask("what's the difference between L2 and L3?")
    assert a.status == "answered" and a.intent == "compare"
    assert "L2 Experienced Agent* vs *L3 Senior Agent" in a.answer
    assert "Only L3 Senior Agent asks for" in a.answer and "Mentorship" in a.answer


def test_path_walks_the_moves(advisor):
    a = advisor.ask("how do I get from agent to team lead")
    assert a.intent == "path" and a.level_id == "team-lead"
    assert "From L1 Agent to L7 Team Lead" in a.answer
    assert "6–12 months in the Agent role" in a.answer and "branch move" in a.answer
    assert a.answer.index("L1 Agent → L2") < a.answer.index("→ L7 Team Lead")


def test_no_path_downwards(advisor):
    assert "no route" in advisor.path("team lead", "agent").answer


def test_glossary_is_labelled_background(advisor):
    a = advisor.ask("what is FCR?")
    assert a.status == "answered" and a.level_id is None
    assert "background reading, not company policy" in a.answer and "First Call Resolution" in a.answer
    assert a.hits[0].doc_id.startswith("reference/kpi-glossary")


def test_question_fitting_two_tracks_asks_which(advisor):
    a = advisor.ask("what do seniors need?")
    assert a.status == "clarify" and set(a.options) == {"senior-agent", "frontend-senior"}
    assert a.level_id is None and "Which one" in a.answer


@pytest.mark.parametrize("question", ["what's the weather?", "reset my VPN password", "tell me a joke",
                                      "how do i submit an expense claim"])
def test_out_of_scope_is_refused_honestly(advisor, question):
    a = advisor.ask(question)
    assert a.status == "no_answer" and a.level_id is None
    assert "I can't find that in the career map" in a.answer and "What do I need for Senior Agent?" in a.answer


@pytest.mark.parametrize("question, message", [
    ("", "Ask me a question"), ("   \n\t ", "Ask me a question"), ("🙂🙂🚀", "I need a few words"),
    ("?!...", "I need a few words"), ("L42", "There is no level L42"),
    ("¿Cuál es el clima de mañana en Madrid?", "I can't find that"),
])
def test_bad_input_gets_a_clear_answer(advisor, question, message):
    a = advisor.ask(question)
    assert a.status == "no_answer" and message in a.answer


def test_huge_question_is_truncated_with_a_note(advisor):
    a = advisor.ask("what do I need for senior agent? " + "blah " * 2000)
    assert len(a.question) <= 2000 and "read only its first 2,000 characters" in a.answer
    assert a.level_id == "senior-agent"


def test_user_text_is_escaped(advisor):
    a = advisor.ask("<!channel> what do I need for senior agent & more?" + "x" * 3000)
    assert "<!channel>" not in a.answer


def test_top1_on_the_question_set_stays_above_90_percent(advisor):
    questions = load_questions()
    result = score([ranked_ids(advisor.ask(q["question"])) for q in questions], questions)
    assert result["top1"] >= 0.90, result
    assert result["in_scope_refused"] == 0, result
    assert result["oos_refused"] >= result["oos_total"] - 1, result


def _cli(built_index, *args):
    env = {**os.environ, "LADDER_INDEX_DIR": str(built_index), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_json_contract(built_index):
    proc = _cli(built_index, "ask", "--json", "what do I need for Senior Agent?")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert set(out) == {"question", "status", "level_id", "track", "hits", "options", "answer", "knowledge_version"}
    assert out["status"] == "answered" and out["level_id"] == "senior-agent" and out["track"] == "call-center"
    assert 1 <= len(out["hits"]) <= 10
    assert set(out["hits"][0]) == {"level_id", "doc_id", "track", "title", "section", "text", "score"}
    assert [h["score"] for h in out["hits"]] == sorted((h["score"] for h in out["hits"]), reverse=True)
    assert out["hits"][0]["level_id"] == "senior-agent"
    assert out["options"] == [] and isinstance(out["knowledge_version"], str)


@pytest.mark.parametrize("question", ["", "L42", "what's the weather?"])
def test_cli_no_answer_exits_0(built_index, question):
    proc = _cli(built_index, "ask", "--json", question)
    assert proc.returncode == 0 and json.loads(proc.stdout)["status"] == "no_answer" and "Traceback" not in proc.stderr


def test_cli_compare_and_path(built_index):
    proc = _cli(built_index, "compare", "L2", "senoir agent")
    assert proc.returncode == 0 and "L2 Experienced Agent vs L3 Senior Agent" in proc.stdout
    proc = _cli(built_index, "path", "agent", "astronaut")
    assert proc.returncode == 2 and "I don't know a level called 'astronaut'" in proc.stderr


def test_stated_numbers_carry_their_unit_and_land_in_a_levels_band():
    from bot.answers import number_bands
    from bot.knowledge import load_knowledge
    from bot.query import stated_quantities
    from tests.conftest import KNOWLEDGE

    assert stated_quantities("a group of 10-15 people") == [(10.0, "fte"), (15.0, "fte")]
    assert stated_quantities("around 95% of target, L3 maybe") == [(95.0, "percent")]
    assert stated_quantities("ticket 48213") == []
    bands = number_bands(load_knowledge(KNOWLEDGE))
    holds = lambda n, unit: {lid for lid, bs in bands.items() if any(b.unit == unit and b.holds(n) for b in bs)}
    assert holds(95, "percent") == {"agent"}
    assert holds(102, "percent") == {"experienced-agent"}      # "≥ 100%" reaches up to where L3 starts
    assert holds(150, "fte") == {"call-center-manager"}
    assert holds(12, "fte") == {"team-lead"}

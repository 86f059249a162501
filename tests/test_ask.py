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
    # the step classifier, where no rule lists the words
    ("If you're a frontend Principal, what's one notch up?", "frontend-head"),
    ("predecessor level of the frontend Expert?", "frontend-lead"),
    # the level between two, not a comparison of them
    ("whats between frontend Middle and frontend Lead", "frontend-senior"),
    # a description that names the level it develops is answered by the level its duties fit
    ("Which role manages budget and capacity planning, works with Product, Marketing and IT, and develops the "
     "supervisors and team leads?", "head-of-customer-operations"),
    ("role where you oversee several team leads, recruit agents and build a talent pool?", "call-center-manager"),
])
def test_level_aware_questions(advisor, question, level):
    assert advisor.ask(question).level_id == level


def test_what_comes_before_the_first_level_is_background_reading(advisor):
    answer = advisor.ask("what jobs do people usually come from before becoming a call center agent?")
    assert answer.level_id is None and answer.kind == "background"
    assert answer.sources[0].startswith("Background: Agent career paths")


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


@pytest.mark.parametrize("question", ["exp agent requirements?", "what comes after an exp agent?"])
def test_a_name_of_two_levels_asks_which_one(fake_advisor, question):
    """ "exp agent" is Experienced or Expert Agent: asked back, each a button, never one of them guessed."""
    a = fake_advisor.ask(question)
    assert a.status == "clarify" and a.options == ["experienced-agent", "expert-agent"] and a.level_id is None
    assert a.answer.startswith("“exp agent” could be *L2 Experienced Agent* or *L4 Expert Agent*. Which one")


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


def test_top1_on_the_question_set_stays_above_95_percent(advisor):
    questions = load_questions()
    result = score([ranked_ids(advisor.ask(q["question"])) for q in questions], questions)
    assert result["top1"] >= 0.95, result
    # two first-person questions the request classifier reads as personal records ("is that ok for where
    # i'm at", "is the IT guy on this ladder or nah"): the price of refusing 32/40 unseen out-of-scope ones
    assert result["in_scope_refused"] <= 2, result
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
    from bot.search.ranking import number_bands
    from bot.core.knowledge import load_knowledge
    from bot.search.query import stated_quantities
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


# -- the kind of request, even when it names a level -------------------------------------------------

@pytest.mark.parametrize("question", ["when is the team lead meeting today?", "where is the senior agent training room?"])
def test_naming_a_level_does_not_make_any_request_a_career_question(advisor, question):
    a = advisor.ask(question)
    assert a.status == "no_answer" and a.level_id is None
    assert "I can't find that in the career map" in a.answer


@pytest.mark.parametrize("question", ["what's my salary as a senior agent?", "how much does a team lead earn?",
                                      "my payslip is missing the bonus for going over 105% KPI"])
def test_pay_and_policy_get_an_honest_refusal(advisor, question):
    a = advisor.ask(question)
    assert a.status == "no_answer" and a.level_id is None
    assert "doesn't cover pay" in a.answer


@pytest.mark.parametrize("question, level", [
    ("what does a Senior Agent do?", "senior-agent"),
    ("what's expected from a senior frontend developer", "frontend-senior"),
    ("do i need a year as a supervisor before i can be a team lead?", "team-lead"),
    ("is 1.5 years enough for senior agent", "senior-agent"),
])
def test_career_questions_naming_a_level_are_still_answered(advisor, question, level):
    a = advisor.ask(question)
    assert a.status == "answered" and a.level_id == level


@pytest.mark.parametrize("question, level", [
    ("Which level is two steps above Senior Agent?", "qa-specialist"),
    ("which level is 2 steps above senior agent", "qa-specialist"),
    ("what's the level two steps below the Team Lead?", "qa-specialist"),
])
def test_n_steps_above_or_below_a_level_counts_the_steps_not_the_manager(advisor, question, level):
    assert advisor.ask(question).level_id == level


# -- the ladder as a whole -------------------------------------------------------------------------------

def test_how_many_levels_gets_the_ladder_overview(advisor):
    a = advisor.ask("how many levels are there?")
    assert a.status == "answered" and a.level_id is None and a.intent == "overview"
    assert "10 levels" in a.answer and "8 levels" in a.answer and "L10 Chief Customer Officer" in a.answer


@pytest.mark.parametrize("question, level", [
    ("what is the highest level?", "chief-customer-officer"),
    ("what's the lowest level?", "agent"),
    ("what's the entry level?", "agent"),
    ("what's the highest frontend level?", "frontend-head"),
    # floor slang for the top, which the request classifier (unsure) reads as asking where a person is
    ("who's the big cheese of frontend", "frontend-head"),
    ("ok real talk, who's top dog in frontend", "frontend-head"),
])
def test_ends_of_the_ladder(advisor, question, level):
    a = advisor.ask(question)
    assert a.status == "answered" and a.level_id == level and a.relation == "position"
    assert a.text.startswith(("The top level on", "The first (entry) level on"))


def test_the_middle_level_of_frontend_is_the_level_called_middle(advisor):
    assert advisor.ask("what's the Middle level in frontend?").level_id == "frontend-middle"


def test_a_step_from_the_askers_level_is_answered_even_when_the_words_are_few(advisor):
    from bot.search.conversation import Conversation

    a = advisor.ask("where do I go from here", context=Conversation(asker_level="frontend-senior"))
    assert a.status == "answered" and a.level_id == "frontend-lead"
    assert "your level (L4 Senior Frontend Developer, from your profile)" in a.text


def test_list_the_levels(advisor):
    a = advisor.ask("list the levels")
    assert a.status == "answered" and a.intent == "overview" and "L1 Agent" in a.answer.replace("L1  ", "L1 ")


def test_overview_scores_sensibly_in_the_eval():
    from bot.advisor.answer import Answer

    a = Answer(question="q", status="answered", text="", knowledge_version="v", level_id=None, intent="overview")
    assert ranked_ids(a) == ["overview"]


# -- what comes next, and who is above ------------------------------------------------------------------

@pytest.mark.parametrize("question, here, nxt", [
    ("what comes after senior agent?", "L3 Senior Agent", "expert-agent"),
    ("what's after team lead?", "L7 Team Lead", "call-center-manager"),
    ("I'm a senior agent, what's my next step?", "L3 Senior Agent", "expert-agent"),
])
def test_what_comes_after_a_level(advisor, question, here, nxt):
    a = advisor.ask(question)
    assert a.status == "answered" and a.level_id == nxt and a.intent == "path"
    assert f"From {here} to" in a.answer


def test_next_step_mentions_the_other_moves(advisor):
    a = advisor.ask("what comes after senior agent?")
    assert "Other moves from L3 Senior Agent" in a.answer and "L7 Team Lead (branch move)" in a.answer


@pytest.mark.parametrize("question, level", [
    ("what level is a supervisor?", "team-lead"),
    ("which level is a quality analyst?", "qa-specialist"),
])
def test_what_level_is_a_name_asks_for_that_level(advisor, question, level):
    assert advisor.ask(question).level_id == level


@pytest.mark.parametrize("question, level", [
    ("who manages team leads?", "call-center-manager"),
    ("who oversees the TLs?", "call-center-manager"),
    ("who do QA specialists report to?", "training-quality-lead"),
])
def test_who_manages_a_level_is_the_level_above_that_leads_it(advisor, question, level):
    a = advisor.ask(question)
    assert a.status == "answered" and a.level_id == level


@pytest.mark.parametrize("question", ["how do I become a frontend developer?", "how do I become a developer?"])
def test_becoming_a_developer_starts_at_the_entry_level(advisor, question):
    assert advisor.ask(question).level_id == "frontend-trainee"


@pytest.mark.parametrize("question, missing", [("difference between L3 and L42", "L42"), ("from L2 to L12", "L12")])
def test_a_missing_level_beside_a_real_one_is_reported(advisor, question, missing):
    a = advisor.ask(question)
    assert a.status == "no_answer" and f"There is no level {missing}" in a.answer


def test_open_lower_bound_points_at_the_level_it_starts(advisor):
    assert advisor.ask("Which level first asks for KPIs at 100% or more consistently?").level_id == "experienced-agent"


# -- answer texts that say what really changes ----------------------------------------------------------

def test_whats_new_separates_new_skills_from_ones_that_build_on_the_level_below(advisor):
    a = advisor.ask("what do I need for Senior Agent?")
    new = next(line for line in a.answer.splitlines() if line.startswith("• New skills:"))
    builds = next(line for line in a.answer.splitlines() if line.startswith("• Builds on:"))
    assert "Mentorship" in new and "Complex Problem Solving" not in new
    assert "Complex Problem Solving (from Problem Solving)" in builds


def test_compare_does_not_call_a_grown_skill_new(advisor):
    a = advisor.compare("L2", "L3")
    only = a.answer.split("*Only L3 Senior Agent asks for*")[1].split("\n\n")[0]
    assert "Mentorship" in only and "Complex Problem Solving" not in only
    assert "builds on what L2 Experienced Agent asks for" in a.answer


def test_unknown_level_hint_names_the_slack_command(deps):
    """The error carries data (no close name: show the levels); Slack's reply words the hint as its command."""
    from bot.chat.handlers import command
    from bot.core.knowledge import LevelNotFound, load_knowledge
    from tests.conftest import KNOWLEDGE

    with pytest.raises(LevelNotFound) as err:
        load_knowledge(KNOWLEDGE).resolve("zzzzqqqq")
    assert err.value.show_levels and not err.value.suggestions and "ladder" not in err.value.message
    reply = command(deps, "U1", "show zzzzqqqq")
    assert "Try `/ladder levels` to see every level." in reply.text


# -- round 3: one model run per question, dated look-ups, newcomers, typos in several words ---------------

@pytest.mark.parametrize("question", [
    "is the QA specialist in the office on wednesday?",            # someone's whereabouts on a day
    "can you send me my team lead's KPI report for last month",   # a personal look-up for a period
    "what's the senior agent's phone number?",                     # contact details
])
def test_a_lookup_that_names_a_level_is_refused(advisor, question):
    assert advisor.ask(question).status == "no_answer"


def test_a_date_that_only_sets_the_scene_does_not_refuse(advisor):
    a = advisor.ask("i'm covering for my TL this week - what does a team lead normally do?")
    assert a.status == "answered" and a.level_id == "team-lead"


def test_typos_in_several_words_of_a_name(advisor):
    assert advisor.ask("seniro frontnd developer skills").level_id == "frontend-senior"


@pytest.mark.parametrize("question", [
    # "on the phones" is the job, not the handset: the bank's nearest questions vote beside the linear model
    "i just started on the phones, what am i supposed to do?",
    "kpi target for a new agent",
])
def test_a_newcomer_gets_the_entry_level(advisor, question):
    a = advisor.ask(question)
    assert a.status == "answered" and a.level_id == "agent"


def test_a_newcomer_asking_something_else_is_still_refused(advisor):
    assert advisor.ask("I just started here, where is the canteen?").status == "no_answer"


def test_what_comes_before_the_first_level_is_background_reading_with_its_lines(advisor):
    a = advisor.ask("what school certificates does a call centre agent need")
    assert a.status == "answered" and a.level_id is None and a.intent == "glossary"
    assert a.hits[0].doc_id.startswith("reference/agent-career-paths#")
    assert "Agent career paths" in a.answer and "high school diploma" in a.answer   # the note's own lines


class _Counting:
    """Wraps the ONNX embedder and counts model runs."""

    def __init__(self, inner):
        self.inner, self.name, self.dimension, self.runs = inner, inner.name, inner.dimension, 0

    def encode(self, texts):
        self.runs += 1
        return self.inner.encode(texts)

    def encode_with_masked(self, text, drop):
        self.runs += 1
        return self.inner.encode_with_masked(text, drop)


def test_a_question_naming_a_level_runs_the_model_once_and_a_repeat_not_at_all(advisor):
    from bot.advisor.advisor import Advisor

    counting = _Counting(advisor.embedder)
    fresh = Advisor(advisor.kb, advisor.index, counting)
    counting.runs = 0
    first = fresh.ask("when is the team lead meeting today?")
    assert first.status == "no_answer" and counting.runs == 1      # the masked scope check shares the run
    again = fresh.ask("when is the team lead meeting today?")
    assert again.to_json() == first.to_json() and counting.runs == 1


def test_masked_pooling_matches_the_plain_embedding(advisor):
    text = "what skills does a senior agent need"
    full, masked = advisor.embedder.encode_with_masked(text, [(19, 31)])   # "senior agent"
    assert abs(float(full @ advisor.embedder.encode([text])[0]) - 1.0) < 1e-4
    assert masked is not None and float(masked @ full) < 0.999


# -- relations, follow-ups, the asker's level, social messages ----------------------------------------

@pytest.mark.parametrize("question, level, says", [
    ("what sits right above QA specialist?", "training-quality-lead", "After L5 QA Specialist comes"),
    ("what comes right before team lead?", "training-quality-lead", "Right below L7 Team Lead is"),
    ("what do I need to get promoted to QA Specialist?", "qa-specialist", "*L5 QA Specialist*"),
    ("what's the second step on the ladder?", "experienced-agent", "Step 2 on Call Center"),
    ("the most senior role without managing people?", "qa-specialist", "does not manage people"),
])
def test_relations_are_read_from_the_ladder_and_said(advisor, question, level, says):
    a = advisor.ask(question)
    assert a.status == "answered" and a.level_id == level and says in a.text


def test_a_follow_up_keeps_the_track_and_the_aspect(advisor):
    from bot.search.conversation import Conversation

    convo = Conversation()
    first = advisor.ask("what do I need for Senior Agent?", context=convo)
    convo = convo.then(first)
    second = advisor.ask("and for expert?", context=convo)
    assert second.level_id == "expert-agent" and second.relation == "followup"
    kpi = advisor.ask("what about the KPI there?", context=convo)
    assert kpi.level_id == "senior-agent" and "105%" in kpi.text
    assert advisor.ask("and for expert?").relation != "followup"   # without the conversation nothing to follow


def test_mine_uses_the_stored_level_or_asks_for_it(advisor):
    from bot.search.conversation import Conversation

    a = advisor.ask("what's the next level after mine?", context=Conversation(asker_level="qa-specialist"))
    assert a.level_id == "training-quality-lead" and "your level (L5 QA Specialist" in a.text
    a = advisor.ask("what's the next level after mine?")
    assert a.status == "clarify" and a.ask_level and a.level_id is None


@pytest.mark.parametrize("question, kind", [("hey ladder!", "greeting"), ("thanks, that helped!", "thanks"),
                                            ("what can you do?", "help")])
def test_greetings_thanks_and_help_get_a_friendly_answer(advisor, question, kind):
    a = advisor.ask(question)
    assert a.status == "answered" and a.kind == kind and "I can tell you" in a.text
    assert "pay" not in a.text and "can't find" not in a.text


def test_the_answer_keeps_text_and_sources_apart(advisor):
    a = advisor.ask("what do I need for Senior Agent?")
    assert "Sources" not in a.text and a.sources == ["Call Center – Sales & Support · L3 Senior Agent · Experience, Skills, Area of Responsibility"]
    assert a.to_json()["answer"].endswith(f"knowledge {advisor.version}_")


@pytest.mark.parametrize("question", [
    "what's the Senior Agent level like at Amazon?",              # another company's ladder
    "what does a Team Lead at Concentrix need?",
    "what does Level 3 mean at Salesforce?",                       # the classifier unsure; the company named
    "who's my team lead?",                                         # a person, not the level
    "did HR approve my move to Expert Agent yet?",                 # a personal record
    "is the QA specialist on leave this week?",                    # whereabouts
])
def test_a_named_level_does_not_override_an_out_of_scope_request(advisor, question):
    a = advisor.ask(question)
    assert a.status == "no_answer" and a.level_id is None


def test_a_follow_up_naming_a_level_of_the_conversation_is_still_answered(advisor):
    from bot.search.conversation import Conversation

    convo = Conversation().then(advisor.ask("tell me about the Junior Frontend Developer level"))
    a = advisor.ask("what about middle?", context=convo)
    assert a.status == "answered" and a.level_id == "frontend-middle"
    convo = Conversation().then(advisor.ask("what's the top position in the call center?"))
    a = advisor.ask("and the one right under it?", context=convo)
    assert a.status == "answered" and a.level_id == "head-of-customer-operations"
    # "ok same ..." reads like a thank-you to the classifier; the level it names is what it asks about (set W)
    convo = Conversation().then(advisor.ask("what are the skills for a frontend senior?"))
    a = advisor.ask("ok same for expert", context=convo)
    assert a.status == "answered" and a.level_id == "frontend-expert"
    assert advisor.ask("thanks, you're an expert!", context=convo).kind == "thanks"


def test_a_yes_no_follow_up_is_about_the_level_itself_not_its_manager(advisor):
    from bot.search.conversation import Conversation

    convo = Conversation().then(advisor.ask("what is a Training & Quality Lead?"))
    assert advisor.ask("who manages them?", context=convo).level_id == "team-lead"
    for question in ("does that one manage the QA folks?", "is that one the boss of the QA people?"):
        assert advisor.ask(question, context=convo).level_id == "training-quality-lead"


@pytest.mark.parametrize("question, level", [
    ("frontend rookie here, what do I need to know?", "frontend-trainee"),
    ("newbie here on the phones, what am I supposed to do?", "agent"),
])
def test_a_newcomer_asking_what_to_know_gets_the_first_level_not_the_help_text(advisor, question, level):
    a = advisor.ask(question)
    assert a.status == "answered" and a.level_id == level


def test_a_newcomer_asking_what_ladder_can_do_gets_the_help_text(advisor):
    assert advisor.ask("I'm new here, what can you help me with?").level_id is None


@pytest.mark.parametrize("question", ["which udemy course is best for learning react?",
                                      "what are Amazon's software engineering levels?",
                                      "recommend me a good typescript course",
                                      "Write my CV for a Middle frontend developer position.",
                                      "Write a Python script that calculates my KPI percentage from the call log export."])
def test_outside_courses_and_other_companies_engineering_ladders_are_refused(advisor, question):
    a = advisor.ask(question)
    assert a.status == "no_answer" and a.level_id is None


@pytest.mark.parametrize("question, level", [
    ("third from the top on frontend, who's that?", "frontend-expert"),
    ("who sits second from the bottom on the call centre ladder?", "experienced-agent"),
])
def test_who_is_at_a_position_is_a_question_about_the_ladder(advisor, question, level):
    a = advisor.ask(question)
    assert a.status == "answered" and a.level_id == level


@pytest.mark.parametrize("question, level", [("what's a Training & Quality Lead?", "training-quality-lead"),
                                             ("what is a Principal Frontend Developer", "frontend-principal")])
def test_asking_what_a_level_is_gets_that_level_not_background_reading(advisor, question, level):
    assert advisor.ask(question).level_id == level


def test_a_term_asked_about_beside_a_level_still_gets_background_reading(advisor):
    a = advisor.ask("the QA specialist card mentions COPC, what does COPC mean?")
    assert a.level_id is None or a.level_id.startswith("reference/") or a.kind == "glossary"


@pytest.mark.parametrize("question, level", [
    ("I joined as an agent two years ago, I coach new people and my KPI is 104%, am I ready to be senior?", "senior-agent"),
    ("been a junior frontend dev for 18 months and I review PRs, does that make me middle yet?", "frontend-middle"),
])
def test_a_gap_check_is_against_the_level_aimed_at_not_the_one_the_asker_started_at(advisor, question, level):
    a = advisor.ask(question)
    assert a.level_id == level


def test_my_next_promotion_with_a_stored_level_is_the_level_above_it(advisor):
    from bot.search.conversation import Conversation

    a = advisor.ask("how do I get my next promotion?", context=Conversation(asker_level="team-lead"))
    assert a.status == "answered" and a.level_id == "call-center-manager"


def test_whats_on_their_plate_after_a_short_title_is_that_levels_duties(advisor):
    a = advisor.ask("TL - what's on their plate?")
    assert a.status == "answered" and a.level_id == "team-lead"


def test_a_glossary_term_beside_a_level_gets_the_glossary(advisor):
    a = advisor.ask("my TL says my FCR is low, what even is FCR?")
    assert a.status == "answered" and a.level_id is None and "First Call Resolution" in a.answer


def test_a_bare_step_from_my_level_is_answered_not_refused(advisor):
    from bot.search.conversation import Conversation

    a = advisor.ask("next rung for me?", context=Conversation(asker_level="call-center-manager"))
    assert a.status == "answered" and a.level_id == "head-of-customer-operations"


@pytest.mark.parametrize("question, note", [
    ("in general, where do call center agents usually come from before they join — retail, help desk?",
     "agent-career-paths"),
    ("who keeps the phones and internet running in a call center — what's the IT specialist role about?",
     "other-roles"),
])
def test_background_questions_that_name_a_level_or_a_role_outside_the_ladder(advisor, question, note):
    a = advisor.ask(question)
    assert a.status == "answered" and a.level_id is None and f"reference/{note}" in [h.doc_id.split("#")[0] for h in a.hits][:1]


def test_ok_and_a_step_from_the_conversation_is_not_a_thank_you(advisor):
    from bot.search.conversation import Conversation

    convo = Conversation().then(advisor.ask("what's the frontend middle level about?"))
    a = advisor.ask("ok and the one before it", context=convo)
    assert a.status == "answered" and a.level_id == "frontend-junior"

"""Relations read from the ladder, not guessed by retrieval: next / previous / N steps / promoted to / a
position / the asker's own level / the conversation's level. No model needed: the words and the track order."""

from __future__ import annotations

import pytest

from bot.core.knowledge import load_knowledge
from bot.search.conversation import Conversation, Turn
from bot.search.query import understand
from bot.search.relations import Relation, manages_people, resolve_subject
from tests.conftest import KNOWLEDGE

KB = load_knowledge(KNOWLEDGE)
AFTER_SENIOR = Conversation((Turn("what do I need for Senior Agent?", "senior-agent", "call-center", "requirements"),))


def subject(question, context=None):
    return resolve_subject(KB, understand(KB, question), context)


@pytest.mark.parametrize("question, relation, level, anchor", [
    ("what comes after senior agent?", Relation.NEXT, "expert-agent", "senior-agent"),
    ("I'm a senior agent, where do I go from here?", Relation.NEXT, "expert-agent", "senior-agent"),
    ("what sits right above QA specialist", Relation.NEXT, "training-quality-lead", "qa-specialist"),
    ("what's the level right below team lead", Relation.PREVIOUS, "training-quality-lead", "team-lead"),
    ("just under the TL?", Relation.PREVIOUS, "training-quality-lead", "team-lead"),
    ("one step below L5", Relation.PREVIOUS, "expert-agent", "qa-specialist"),
    ("what comes right before the Team Leader role", Relation.PREVIOUS, "training-quality-lead", "team-lead"),
    ("two levels above experienced agent", Relation.NEXT, "expert-agent", "experienced-agent"),
    ("what's after frontend middle?", Relation.NEXT, "frontend-senior", "frontend-middle"),
    ("two steps down from Head of Frontend?", Relation.PREVIOUS, "frontend-expert", "frontend-head"),
])
def test_relative_to_a_named_level(question, relation, level, anchor):
    s = subject(question)
    assert (s.relation, s.level.id, s.anchor.id) == (relation, level, anchor)


@pytest.mark.parametrize("question", [
    "what do I need to get promoted to QA Specialist?", "how do I become a team lead", "promotion to expert agent - requirements?",
])
def test_promoted_to_a_level_targets_that_level(question):
    s = subject(question)
    assert s.relation == Relation.PROMOTED_TO and s.level.id == {"qa": "qa-specialist", "te": "team-lead",
                                                                 "ex": "expert-agent"}[s.level.id[:2]]


@pytest.mark.parametrize("question, level", [
    ("the second step on the ladder", "experienced-agent"),
    ("what's the seventh level", "team-lead"),
    ("what's the top job here", "chief-customer-officer"),
    ("what's the entry level job", "agent"),
    ("what's the first level on the frontend track?", "frontend-trainee"),
    ("what's the third level of frontend", "frontend-middle"),
    ("second highest level", "head-of-customer-operations"),
    ("the most senior role without managing people", "qa-specialist"),
    ("highest frontend level where you don't manage people", "frontend-principal"),
    ("I just started, which level am I?", "agent"),
    ("What's the very top of the call-centre career map?", "chief-customer-officer"),
    ("who sits at the bottom of the frontend org chart", "frontend-trainee"),
    ("second step for agents on our career map = ?", "experienced-agent"),
])
def test_positions_on_a_track(question, level):
    s = subject(question)
    assert s.relation == Relation.POSITION and s.level.id == level


def test_who_manages_people_is_read_from_the_levels_own_text():
    managers = [lv.id for lv in KB.levels() if manages_people(KB, lv)]
    assert "team-lead" in managers and "training-quality-lead" in managers and "frontend-head" in managers
    assert "qa-specialist" not in managers and "frontend-principal" not in managers


def test_mine_is_the_askers_stored_level_or_a_question_back():
    known = Conversation(asker_level="qa-specialist")
    s = subject("the next level after mine", known)
    assert (s.relation, s.level.id, s.anchor.id, s.mine) == (Relation.NEXT, "training-quality-lead", "qa-specialist", True)
    assert "your level" in s.phrase(KB)
    s = subject("what's two levels above mine?", Conversation(asker_level="agent"))
    assert (s.relation, s.level.id, s.steps) == (Relation.NEXT, "senior-agent", 2)
    s = subject("what level am I", known)
    assert (s.relation, s.level.id) == (Relation.MINE, "qa-specialist")
    s = subject("the next level after mine")
    assert s.relation == Relation.MINE and s.level is None


@pytest.mark.parametrize("question, relation, level", [
    ("and for expert?", Relation.FOLLOWUP, "expert-agent"),            # not Expert Frontend Developer
    ("what about the KPI there?", Relation.FOLLOWUP, "senior-agent"),
    ("and the one after that?", Relation.NEXT, "expert-agent"),
    ("what's below it", Relation.PREVIOUS, "experienced-agent"),
    ("and the one right under it?", Relation.PREVIOUS, "experienced-agent"),
])
def test_follow_ups_lean_on_the_conversation(question, relation, level):
    s = subject(question, AFTER_SENIOR)
    assert (s.relation, s.level.id) == (relation, level)


def test_without_a_conversation_a_follow_up_is_left_to_retrieval():
    assert subject("what about the KPI there?").relation == Relation.DESCRIBE
    assert subject("who is the person that coaches new hires on calls?", AFTER_SENIOR).relation == Relation.DESCRIBE


def test_off_the_top_of_the_ladder_says_so():
    s = subject("what comes after the CCO")
    assert s.relation == Relation.NEXT and s.level is None and "top of its track" in s.missing


def test_a_level_number_follows_the_track_named_anywhere():
    assert subject("L6 on the frontend track").level.id == "frontend-expert"
    assert subject("L6 skills").level.id == "training-quality-lead"


def test_the_answer_says_which_relation_it_used():
    assert subject("what comes after senior agent?").phrase(KB) == "After L3 Senior Agent comes *L4 Expert Agent*."
    assert subject("second highest level").phrase(KB) == \
        "Step 2 from the top on Call Center – Sales &amp; Support is *L9 Head of Customer Operations*."


@pytest.mark.parametrize("question, level", [
    # counted from an end of the track, however it is said
    ("what's the penultimate level?", "head-of-customer-operations"),
    ("the second to last step on the frontend ladder", "frontend-principal"),
    ("which level is last but one", "head-of-customer-operations"),
    ("the role one step below the top", "head-of-customer-operations"),
    ("two levels under the very top of the frontend track", "frontend-expert"),
    ("the level just above the bottom", "experienced-agent"),
    # a superlative over the levels a title word picks out
    ("what's the highest level that is still an agent?", "expert-agent"),
    ("the top job that is still an agent role, before quality or management", "expert-agent"),
    ("the highest level an agent can reach", "chief-customer-officer"),
    # where everyone starts, and the boss
    ("where does everybody begin on the frontend ladder?", "frontend-trainee"),
    ("who's the big boss around here?", "chief-customer-officer"),
])
def test_positions_counted_from_an_end_or_within_a_title(question, level):
    s = subject(question)
    assert s.relation == Relation.POSITION and s.level.id == level


@pytest.mark.parametrize("question, relation, level", [
    ("hello, for experienced agent, which level is two levels up from it?", Relation.NEXT, "expert-agent"),
    ("Head of Customer Operations: what is two levels below it?", Relation.PREVIOUS, "team-lead"),
    ("team lead, what is one level below it?", Relation.PREVIOUS, "training-quality-lead"),
])
def test_a_count_said_after_the_name_is_how_far_the_step_goes(question, relation, level):
    """The classifier reads a question about the ladder's order; the count said with the direction is kept
    (set V: "two levels up from it" got the level one up)."""
    s = resolve_subject(KB, understand(KB, question), None, kind="next")
    assert (s.relation, s.level.id) == (relation, level)


@pytest.mark.parametrize("question, relation, level", [
    ("Senior Agent -> what's the following level called?", Relation.NEXT, "expert-agent"),
    ("as a QA specialist, where does the ladder take me next?", Relation.NEXT, "training-quality-lead"),
    ("how long must I be an experienced agent before going up to the next level", Relation.NEXT, "senior-agent"),
    ("Team Lead: what is the previous level?", Relation.PREVIOUS, "training-quality-lead"),
])
def test_next_and_previous_said_after_the_name(question, relation, level):
    s = subject(question)
    assert (s.relation, s.level.id) == (relation, level)


@pytest.mark.parametrize("question, relation, level", [
    ("what's the next one up called?", Relation.NEXT, "expert-agent"),
    ("what's the following level?", Relation.NEXT, "expert-agent"),
    ("what's the previous step?", Relation.PREVIOUS, "experienced-agent"),
])
def test_a_relation_with_no_level_named_starts_from_the_conversation(question, relation, level):
    s = subject(question, AFTER_SENIOR)
    assert (s.relation, s.level.id) == (relation, level)


@pytest.mark.parametrize("question, level", [
    ("brand new here, what should I be doing?", "agent"),
    ("just joined the frontend team, what's expected of me?", "frontend-trainee"),
])
def test_a_newcomer_is_at_the_first_level_of_the_track(question, level):
    s = subject(question)
    assert s.relation == Relation.POSITION and s.level.id == level


@pytest.mark.parametrize("question, level", [
    ("what does the ops manager do all day", "call-center-manager"),
    ("principle frontend dev, what do they do", "frontend-principal"),
    ("sr agent reqs", "senior-agent"),
    ("what's after Lead Frontend?", "frontend-expert"),
])
def test_short_forms_of_titles_name_the_level(question, level):
    assert subject(question).level.id == level


def test_a_place_word_is_not_read_as_a_typo_of_a_title():
    s = subject("what's the highest level a frontend dev can reach here?")
    assert s.relation == Relation.POSITION and s.level.id == "frontend-head"


def test_a_request_about_the_present_moment_is_a_look_up():
    from bot.search.query import dated_request

    assert dated_request("who is our Head of Frontend right now?")
    assert dated_request("how many senior agents are on shift at the moment")
    assert not dated_request("I'm covering right now. What does a team lead normally do?".replace(".", "?"))
    assert not dated_request("what does a senior agent need?")


def test_an_ordinal_of_those_steps_counts_along_the_route_just_discussed():
    route = Conversation((Turn("how do I get from experienced agent to expert agent?", "expert-agent", "call-center",
                               "path", ("experienced-agent", "expert-agent")),))
    assert subject("how long does the first of those steps take?", route).level.id == "senior-agent"
    assert subject("and the last of those moves?", route).level.id == "expert-agent"
    assert subject("the second of these levels", route).level.id == "senior-agent"


@pytest.mark.parametrize("question, relation, level", [
    # a title's own word with a track word: the track word picks the track, the word the level on it
    ("what's right above senior on the frontend ladder?", Relation.NEXT, "frontend-lead"),
    ("the level just below Lead for frontend devs", Relation.PREVIOUS, "frontend-senior"),
    ("what comes before Principal, frontend side", Relation.PREVIOUS, "frontend-expert"),
    ("two steps above trainee", Relation.NEXT, "frontend-middle"),     # only one track has a trainee
    ("one notch over Expert in front end", Relation.NEXT, "frontend-principal"),
    # no track word: the default track
    ("what's right above senior?", Relation.NEXT, "expert-agent"),
    ("the step before the QA role", Relation.PREVIOUS, "expert-agent"),
    ("what's above manager?", Relation.NEXT, "head-of-customer-operations"),
])
def test_a_bare_title_word_names_the_level_on_the_track_asked_about(question, relation, level):
    s = subject(question)
    assert (s.relation, s.level.id) == (relation, level)


def test_a_bare_title_word_takes_the_conversations_track():
    convo = Conversation((Turn("what does a middle frontend dev do?", "frontend-middle", "frontend", "duties"),))
    s = subject("and what's right under senior?", convo)
    assert (s.relation, s.level.id) == (Relation.PREVIOUS, "frontend-middle")


@pytest.mark.parametrize("question", ["whats aftr team lead", "the one befor senior agent", "level bellow team lead"])
def test_a_direction_word_with_a_typo_keeps_the_relation(question):
    assert subject(question).relation in {Relation.NEXT, Relation.PREVIOUS}


@pytest.mark.parametrize("question, levels", [
    ("who's at the midpoint of the frontend ladder?", {"frontend-senior", "frontend-lead"}),
    ("which role is halfway up the call center track", {"qa-specialist", "training-quality-lead"}),
    ("the middle step of the call centre ladder", {"qa-specialist", "training-quality-lead"}),
])
def test_the_middle_of_a_track(question, levels):
    s = subject(question)
    assert s.relation == Relation.POSITION and s.level.id in levels


def test_middle_frontend_is_still_a_level_not_a_position():
    assert subject("what does a middle frontend developer need?").level.id == "frontend-middle"
    # the track has a level called Middle: "the Middle level" names it, "halfway up" is a place
    assert subject("what's the Middle level in frontend?").relation != Relation.POSITION
    assert subject("which level sits halfway up the frontend ladder?").relation == Relation.POSITION
    assert subject("is a call centre job a dead end, career-wise?").relation != Relation.POSITION


@pytest.mark.parametrize("question, asker, level", [
    ("what's the following step for me?", "experienced-agent", "senior-agent"),
    ("which level is directly above me?", "team-lead", "call-center-manager"),
    ("what sits right below me", "frontend-lead", "frontend-senior"),
    ("how do I get promoted one level?", "frontend-junior", "frontend-middle"),
    ("what should I do to move up?", "qa-specialist", "training-quality-lead"),
])
def test_the_askers_stored_level_anchors_a_step_in_the_first_person(question, asker, level):
    s = subject(question, Conversation(asker_level=asker))
    assert s.level.id == level and s.mine


@pytest.mark.parametrize("question, level", [
    ("and another step up?", "expert-agent"), ("two more up?", "qa-specialist"), ("one more down then", "experienced-agent"),
])
def test_more_steps_from_the_conversations_level(question, level):
    assert subject(question, AFTER_SENIOR).level.id == level


def test_they_points_back_at_the_conversations_level():
    s = subject("what do they earn in KPI terms?", AFTER_SENIOR)
    assert (s.relation, s.level.id) == (Relation.FOLLOWUP, "senior-agent")


@pytest.mark.parametrize("question, level", [
    ("not the head of frontend, the one right below, what do they do?", "frontend-principal"),
    ("team lead — or rather the one just above, what's that?", "call-center-manager"),
])
def test_the_one_next_to_a_named_level_said_after_it(question, level):
    assert subject(question).level.id == level


@pytest.mark.parametrize("question, level", [
    ("frontend rookie here, what do I need to know?", "frontend-trainee"),
    ("I'm a total newbie on the phones", "agent"),
])
def test_a_newbie_is_at_the_first_level_of_the_track(question, level):
    s = subject(question)
    assert s.relation == Relation.POSITION and s.level.id == level


@pytest.mark.parametrize("name, level", [("CCM", "call-center-manager"), ("HCO", "head-of-customer-operations")])
def test_initialisms_of_titles_name_the_level(name, level):
    assert subject(f"what does the {name} do?").level.id == level


@pytest.mark.parametrize("question", ["what numbers am I supposed to hit?", "what's expected of me at the moment?",
                                      "which skills should I have by now?"])
def test_what_is_expected_of_the_asker_is_their_stored_level(question):
    s = subject(question, Conversation(asker_level="senior-agent"))
    assert (s.relation, s.level.id) == (Relation.MINE, "senior-agent")
    assert subject(question).relation != Relation.MINE or subject(question).level is None


@pytest.mark.parametrize("question, level", [("second from the bottom on the frontend ladder", "frontend-junior"),
                                             ("third from the start, call centre side", "senior-agent")])
def test_a_place_counted_up_from_the_bottom(question, level):
    assert subject(question).level.id == level


def test_a_common_title_word_before_ladder_names_the_track_not_a_level():
    s = subject("what's the centre rung of the agent ladder")
    assert s.relation == Relation.POSITION and s.level.id in {"qa-specialist", "training-quality-lead"}


def test_a_new_hire_on_a_team_here_is_at_the_first_level_of_its_track():
    s = subject("new hire on the dev team here, what do I need to know")
    assert s.relation == Relation.POSITION and s.level.id == "frontend-trainee"


@pytest.mark.parametrize("question, bare", [
    ("nxt levl aftr expert agent?", True), ("second from the top in frontend, who's that?", True),
    ("who is second from the top on leave today?", False), ("what's the level after senior agent at amazon", False),
])
def test_a_question_that_says_nothing_but_a_relation(question, bare):
    from bot.search.relations import bare_relation

    assert bare_relation(understand(KB, question)) is bare


@pytest.mark.parametrize("question, level", [
    ("where do I go once I'm no longer a QA specialist?", "training-quality-lead"),
    ("what's my next role when I'm not a new agent any more", "experienced-agent"),
])
def test_once_no_longer_a_level_is_the_level_after_it(question, level):
    assert subject(question).level.id == level


@pytest.mark.parametrize("question", ["how much experience does that take?", "what skills would that need", "is that a people job?"])
def test_that_as_subject_points_back_at_the_conversations_level(question):
    s = subject(question, AFTER_SENIOR)
    assert (s.relation, s.level.id) == (Relation.FOLLOWUP, "senior-agent")


def test_that_as_a_relative_word_does_not_make_a_follow_up():
    assert subject("which level is the one that handles escalations?", AFTER_SENIOR).relation == Relation.DESCRIBE


@pytest.mark.parametrize("question, level", [
    ("wat does a tem leed do", "team-lead"), ("frontent junoir skills", "frontend-junior"),
])
def test_typos_in_every_word_of_a_title_still_name_it(question, level):
    assert [lv.id for lv in understand(KB, question).levels] == [level]


def test_text_speak_for_me_is_read_as_words():
    s = subject("wats next 4 me", Conversation(asker_level="frontend-trainee"))
    assert s.mine and s.level.id == "frontend-junior"
    assert understand(KB, "level 2 me").levels[0].id == "experienced-agent"


def test_junior_to_senior_is_a_route_not_a_step_down():
    assert subject("Junior to Senior in frontend, what are the steps in between?").relation != Relation.PREVIOUS


@pytest.mark.parametrize("question, level", [
    ("from which level do people get promoted to Team Lead?", "training-quality-lead"),
    ("you get promoted to senior agent from what level", "experienced-agent"),
    ("what do I need to get promoted to QA Specialist?", "qa-specialist"),     # the target, as before
])
def test_promoted_to_asks_for_the_target_unless_it_asks_where_the_move_starts(question, level):
    assert subject(question).level.id == level


@pytest.mark.parametrize("question, level", [
    ("In the call center ladder, what is the first level above the entry one?", "experienced-agent"),
    ("frontend middle -> then what?", "frontend-senior"),
    ("what's the noob level on the dev ladder", "frontend-trainee"),
])
def test_more_ways_to_name_a_step_or_an_end(question, level):
    assert subject(question).level.id == level


def test_a_step_from_where_i_am_counts_from_the_askers_level():
    s = subject("what is two levels up from where I am", Conversation(asker_level="agent"))
    assert s.mine and s.level.id == "senior-agent" and s.steps == 2


def test_a_bare_step_for_me_is_only_a_relation():
    from bot.search.relations import bare_relation

    assert bare_relation(understand(KB, "next rung for me?"))
    assert not bare_relation(understand(KB, "what's my pay at the next rung?"))


def test_sup_is_a_supervisor_only_as_a_noun():
    assert [lv.id for lv in understand(KB, "what's the deal with being a sup?").levels] == ["team-lead"]
    assert understand(KB, "sup ladder").levels == []
    # ... or before a word that asks about a job (sets P, S, V: "sup responsibilities?", "sup requirements?")
    assert [lv.id for lv in understand(KB, "sup requirements?").levels] == ["team-lead"]
    assert [lv.id for lv in understand(KB, "sups skills").levels] == ["team-lead"]
    assert understand(KB, "sup team!").levels == []


@pytest.mark.parametrize("question, defines", [
    ("my TL says my FCR is low, what even is FCR?", "reference/kpi-glossary"),
    ("what does NPS stand for", "reference/kpi-glossary"),
    ("what is the AHT target for senior agents", None),        # a number of a level, not a definition
    ("what is a team lead", None),                             # a level's name is never a glossary term
])
def test_a_term_the_glossary_defines_is_read_from_its_headings(question, defines):
    assert understand(KB, question).defines == defines


def test_who_runs_a_level_asks_for_its_manager_without_a_which_level():
    assert understand(KB, "the floor boss who runs all the TLs, what do they need on their CV").manager_of
    assert not understand(KB, "what do TLs need on their CV").manager_of


@pytest.mark.parametrize("question, context, level", [
    ("what level is right above L4", None, "qa-specialist"),
    ("which position is the first one on the call center career map?", None, "agent"),
    ("what level u get promoted to from senior agent", None, "expert-agent"),
    ("if a frontend Junior gets promoted, which level do they become?", None, "frontend-middle"),
    ("We have an opening for Senior Agent; from which level do people usually get promoted into it?", None,
     "experienced-agent"),
    ("still a rookie on the phones (L1), what gets me bumped up one notch?", None, "experienced-agent"),
    ("which level was I on before this one?", Conversation(asker_level="call-center-manager"), "team-lead"),
    ("what's the one after that", Conversation((Turn("what does a QA Specialist do?", "qa-specialist", "call-center",
                                                     "duties"),)), "training-quality-lead"),
])
def test_relations_from_set_f(question, context, level):
    assert subject(question, context).level.id == level


@pytest.mark.parametrize("question, relation", [
    ("how far am I from Team Lead from where I am now?", Relation.NAMED),     # a distance, not a step from it
    ("path from frontend middle up to principal", Relation.NAMED),           # a route
])
def test_from_only_makes_a_step_when_it_says_one(question, relation):
    assert subject(question).relation == relation


def test_the_next_six_months_is_time_not_a_step():
    assert subject("what do I need to be a frontend middle? I want to plan the next 6 months").level.id == "frontend-middle"


def test_the_people_under_them_makes_a_manager_question():
    assert understand(KB, "what do the folks running the whole floor with all the TLs under them need").manager_of


def test_the_same_title_on_the_other_track():
    after_expert = Conversation((Turn("skills for expert agent pls", "expert-agent", "call-center", "skills"),))
    assert subject("what about the frontend one with the same name?", after_expert).level.id == "frontend-expert"
    assert subject("and the frontend equivalent?", after_expert).level.id == "frontend-expert"


@pytest.mark.parametrize("question, level", [("senior CSR, what skills", "senior-agent"),
                                             ("what does an expert operator do", "expert-agent")])
def test_a_rank_word_before_another_name_for_agent(question, level):
    assert [lv.id for lv in understand(KB, question).levels] == [level]


def test_the_level_between_two_named_ones():
    s = subject("which position sits between team lead and head of customer operations")
    assert s.relation == Relation.BETWEEN and s.level.id == "call-center-manager"
    assert s.phrase(KB) == "Between L7 Team Lead and L9 Head of Customer Operations is *L8 Call Center Manager*."
    assert subject("what's the difference between team lead and call center manager?").relation != Relation.BETWEEN


AFTER_FE_SENIOR = Conversation((Turn("frontend senior requirements pls", "frontend-senior", "frontend", "requirements"),))
AFTER_HCO = Conversation((Turn("What's required for Head of Customer Operations?", "head-of-customer-operations",
                               "call-center", "requirements"),))


@pytest.mark.parametrize("question, context, level", [
    ("What about the level above?", AFTER_HCO, "chief-customer-officer"),
    ("and the one underneath?", AFTER_HCO, "call-center-manager"),
    ("and the top one?", AFTER_FE_SENIOR, "frontend-head"),
    ("same for lead", AFTER_FE_SENIOR, "frontend-lead"),
    ("ok and the one before it", AFTER_FE_SENIOR, "frontend-middle"),
])
def test_follow_ups_from_set_g(question, context, level):
    assert subject(question, context).level.id == level


@pytest.mark.parametrize("question, level", [
    ("Who normally gets promoted TO Head of Customer Operations — what level are they before that?",
     "call-center-manager"),
    ("count down three levels from the CCO. where do I end up?", "team-lead"),
])
def test_relations_from_set_g(question, level):
    assert subject(question).level.id == level


def test_the_climb_from_one_level_to_another_is_a_route():
    assert subject("what does the climb from frontend senior to principal look like").relation != Relation.NEXT


@pytest.mark.parametrize("question, level", [
    ("what makes a good sup here?", "team-lead"), ("Head of CustOps key responsibilities?", "head-of-customer-operations"),
    ("what is the HoF accountable for", "frontend-head"), ("TQL duties", "training-quality-lead"),
])
def test_more_names_people_use(question, level):
    assert [lv.id for lv in understand(KB, question).levels] == [level]


@pytest.mark.parametrize("question, levels", [
    ("sen agent skills", ["senior-agent"]), ("what does a prin frontend developer do", ["frontend-principal"]),
    ("exp agent requirements?", ["experienced-agent", "expert-agent"]),
    ("gimme the lowdown on exp. agents", ["experienced-agent", "expert-agent"]),
])
def test_a_title_word_cut_short_names_every_level_it_could_be(question, levels):
    query = understand(KB, question)
    assert [lv.id for lv in query.levels] == levels
    assert [[lv.id for lv in group] for _, group in query.ambiguous_names] == ([levels] if len(levels) > 1 else [])


@pytest.mark.parametrize("question, level", [
    ("and L5?", "frontend-lead"), ("what about L7 skills", "frontend-principal"),
    ("and call center L5?", "qa-specialist"),          # the number's own track, named
    ("what's L5?", "qa-specialist"),                   # not a follow-up
])
def test_a_bare_level_number_in_a_follow_up_counts_on_the_conversations_track(question, level):
    after_frontend = Conversation((Turn("what's L2 in frontend?", "frontend-junior", "frontend", "requirements"),))
    assert subject(question, after_frontend).level.id == level


def test_a_possessive_role_the_background_defines():
    assert understand(KB, "who keeps the call center infrastructure running? what's the IT specialist's job").defines \
        == "reference/other-roles"


@pytest.mark.parametrize("question, level", [
    ("If I get promoted out of Expert Agent, what title do I land in?", "qa-specialist"),
    ("If I'm a team lead and skip ahead 2 levels, what role would that be?", "head-of-customer-operations"),
    ("On the web team ladder, what do Frontend Leads get promoted to?", "frontend-expert"),
    ("frontend expert minus one = ?", "frontend-lead"),
    ("senior agent plus two", "qa-specialist"),
])
def test_relations_from_set_h(question, level):
    assert subject(question).level.id == level


AFTER_FE_PRINCIPAL = Conversation((Turn("describe the frontend principal role", "frontend-principal", "frontend",
                                        "duties"),))


@pytest.mark.parametrize("question, context, level", [
    ("which level is exactly halfway between Agent (L1) and Team Lead (L7)?", None, "expert-agent"),
    ("what's the level in the middle of frontend senior and frontend expert", None, "frontend-lead"),
    ("starting at L2, after two promotions I'd be at which level?", None, "expert-agent"),
    ("counting down from the top of the frontend ladder, which one is number 3?", None, "frontend-expert"),
    ("highest you can climb as a frontend dev here?", None, "frontend-head"),
    ("what's the top of my ladder", None, "chief-customer-officer"),
    ("and the last?", AFTER_FE_PRINCIPAL, "frontend-head"),
])
def test_relations_from_set_i(question, context, level):
    assert subject(question, context).level.id == level


def test_a_level_number_answers_which_level_it_is():
    q = understand(KB, "which level is L6 on the call center map")
    assert not q.identify and [lv.id for lv in q.levels] == ["training-quality-lead"]


# -- the step classifier's reading, where the word rules find no step --------------------------------------------

@pytest.mark.parametrize("question, step, relation, level", [
    # words no rule lists: the classifier's "up" / "down" steps from the one level named, by the count said
    ("Expert Agent +1 = ?", "up", Relation.NEXT, "qa-specialist"),
    ("seven notches up from a plain Agent, where do you end up?", "up", Relation.NEXT, "call-center-manager"),
    ("predecessor level of the frontend Expert?", "down", Relation.PREVIOUS, "frontend-lead"),
    # "sandwiched": two levels named, the one between them
    ("Which level is sandwiched between Senior Agent and QA Specialist?", "between", Relation.BETWEEN, "expert-agent"),
    ("on frontend, what's wedged between Lead and Principal", "between", Relation.BETWEEN, "frontend-expert"),
    # "same": the named level itself, whatever the direction words
    ("Expert Agent +1 = ?", "same", Relation.NAMED, "expert-agent"),
])
def test_the_step_classifier_says_which_way_when_the_rules_find_no_step(question, step, relation, level):
    s = resolve_subject(KB, understand(KB, question), None, None, None, step)
    assert (s.relation, s.level.id) == (relation, level)


def test_a_step_past_the_end_of_a_track_is_said_to_be_missing_not_invented():
    s = resolve_subject(KB, understand(KB, "if you climbed 12 rungs from Agent where would u be"), None, None, None, "up")
    assert (s.relation, s.level, s.steps) == (Relation.NEXT, None, 12)
    assert s.missing == ("There is no level 12 steps above Agent on Call Center – Sales & Support: "
                         "Chief Customer Officer is 9 steps above it.")


def test_the_step_classifier_steps_from_the_conversation_and_from_the_asker():
    s = resolve_subject(KB, understand(KB, "ok and the level just after?"), AFTER_SENIOR, None, None, "up")
    assert (s.relation, s.level.id) == (Relation.NEXT, "expert-agent")
    me = Conversation((), asker_level="frontend-middle")
    s = resolve_subject(KB, understand(KB, "what do i need to learn to get to the next one up"), me, None, None, "up")
    assert (s.relation, s.level.id, s.mine) == (Relation.NEXT, "frontend-senior", True)


def test_rules_win_over_the_step_classifier():
    # "promoted to X" is X, even when the classifier reads a step up
    s = resolve_subject(KB, understand(KB, "what do I need to get promoted to QA Specialist?"), None, None, None, "up")
    assert (s.relation, s.level.id) == (Relation.PROMOTED_TO, "qa-specialist")


@pytest.mark.parametrize("question, relation, level", [
    ("What is the level previous to Team Lead? Please revert.", Relation.PREVIOUS, "training-quality-lead"),
    ("if i start as an agent and get promoted twice where do i land", Relation.NEXT, "senior-agent"),
    ("Sir, what is the highest level one can reach in Sales & Support as per our career map?", Relation.POSITION,
     "chief-customer-officer"),
    ("what's level one on the call centre ladder", Relation.POSITION, "agent"),
])
def test_words_that_only_look_like_steps_or_positions_are_read_as_english_reads_them(question, relation, level):
    s = subject(question)
    assert (s.relation, s.level.id) == (relation, level)


def test_looking_after_people_is_not_the_level_after_them():
    s = subject("which role looks after a team of like 10-15 agents and keeps an eye on attendance?")
    assert s.relation != Relation.NEXT


def test_a_mate_of_mine_is_not_my_level():
    s = subject("Hiya, what's the entry-level role in the call centre? A mate of mine is thinking of applying")
    assert (s.relation, s.level.id) == (Relation.POSITION, "agent")


def test_short_forms_in_a_step_from_the_asker():
    me = Conversation((), asker_level="frontend-lead")
    s = resolve_subject(KB, understand(KB, "whats 2 lvls above me"), me)
    assert (s.relation, s.level.id, s.steps) == (Relation.NEXT, "frontend-principal", 2)


@pytest.mark.parametrize("question, relation, level", [
    ("on the frontend side, which level is just under the highest one?", Relation.PREVIOUS, "frontend-principal"),
    ("Frontend: one step above the second level — which is it?", Relation.NEXT, "frontend-middle"),
    ("level after the second call-centre level", Relation.NEXT, "senior-agent"),
    ("one step below the top", Relation.POSITION, "head-of-customer-operations"),   # counted from the end once
    ("experienced agents move up to which position", Relation.NEXT, "senior-agent"),
])
def test_a_step_from_a_position_or_from_a_plural_title(question, relation, level):
    s = subject(question)
    assert (s.relation, s.level.id) == (relation, level)


@pytest.mark.parametrize("question, asker, relation, level", [
    ("hello, what is second level for call center people? I am new here", None, Relation.POSITION, "experienced-agent"),
    ("which level sits under L6? (call center, not frontend)", None, Relation.PREVIOUS, "qa-specialist"),
    ("ok so I've been Senior for a while now... what do I need to do to get promoted?", "senior-agent", Relation.NEXT,
     "expert-agent"),
    ("what are frontend seniors promoted to", None, Relation.NEXT, "frontend-lead"),
])
def test_set_ns_shapes(question, asker, relation, level):
    s = resolve_subject(KB, understand(KB, question), Conversation((), asker_level=asker))
    assert (s.relation, s.level.id) == (relation, level)


def test_what_the_conversations_level_is_promoted_to():
    after_tl = Conversation((Turn("what does a team lead do", "team-lead", "call-center", "duties"),))
    s = subject("and what do they get promoted to?", after_tl)
    assert (s.relation, s.level.id) == (Relation.NEXT, "call-center-manager")


def test_a_term_asked_in_one_sentence_of_several_is_the_glossarys():
    q = understand(KB, "whats ACW? my TL keeps saying my ACW is too long")
    assert q.defines == "reference/kpi-glossary"

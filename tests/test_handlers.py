"""What Ladder replies, independent of transport: /ladder dispatch, buttons, limits, the console."""

from __future__ import annotations

import io

import pytest
from slack_sdk.models.blocks import Block

from bot.chat import blocks as B
from bot.chat.handlers import action, command, home, question
from bot.console import run


def texts(reply) -> str:
    return "\n".join(b["text"]["text"] for b in reply.blocks if b["type"] == "section")


def assert_fits(blocks, limit=50):
    assert len(blocks) <= limit
    for b in blocks:
        assert Block.parse(b).to_dict() == b
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= 3000
        for el in b.get("elements", []):
            if el.get("type") == "button":
                assert len(el["text"]["text"]) <= 75


@pytest.mark.parametrize("text, expected", [
    ("help", "*Commands*"), ("", "*Commands*"), ("levels frontend", "Frontend Development"),
    ("show senoir agent", "*L3 Senior Agent*"), ("compare L2 L3", "L2 Experienced Agent* vs *L3 Senior Agent"),
    ('path agent "team lead"', "From L1 Agent to L7 Team Lead"), ("path senior agent team lead", "to L7 Team Lead"),
    ("ask what is FCR?", "First Call Resolution"), ("what do I need for senior agent?", "*L3 Senior Agent*"),
    ("shwo L3", "Did you mean `/ladder show`?"), ("show L42", "There is no level L42"),
    ("levels backend", "There is no track 'backend'"), ("compare L2", "Name two levels"),
])
def test_ladder_command(deps, text, expected):
    reply = command(deps, "U1", text)
    assert expected in texts(reply)
    assert_fits(reply.blocks)


def test_question_is_recorded_and_has_buttons(deps):
    reply = question(deps, "U1", "D1", "what do I need for senior agent?")
    labels = [label for label, _, _ in B.option_labels(reply.blocks)]
    assert labels == ["Start gap check for Senior Agent", "Compare with my level", "👍", "👎"]
    assert any(b["type"] == "context" and "Sources:" in b["elements"][0]["text"] for b in reply.blocks)
    with deps.store.db() as db:
        assert db["answers"].count == 1


def test_huge_and_hostile_input_is_escaped_and_cut(deps):
    reply = command(deps, "U1", "<!channel> <@U123> & what do I need for senior agent? " + "y" * 20_000)
    body = texts(reply)
    assert "<!channel>" not in str(reply.blocks) and "<@U123>" not in str(reply.blocks)
    assert "That's 20,054 characters; I read up to 2,000 at a time." in body
    assert_fits(reply.blocks)


def test_long_content_is_split_into_sections_and_capped():
    long_text = "\n".join(f"• line {i} " + "x" * 200 for i in range(1000))
    out = B.text_blocks(long_text)
    assert len(out) == 50 and "cut short to fit in Slack" in out[-1]["elements"][0]["text"]
    assert_fits(out)


def test_buttons(deps):
    answer_id = deps.store.record_answer("U1", "D1", "q", "answered", "agent", "a", "v")
    assert "glad it helped" in texts(action(deps, "U1", B.VOTE_UP, str(answer_id)))
    assert "older message" in texts(action(deps, "U1", B.VOTE_UP, "424242"))
    assert "older message" in texts(action(deps, "U1", B.SHOW_LEVEL, "astronaut"))
    assert "Set it on my *Home* tab" in texts(action(deps, "U1", B.COMPARE_MINE, "senior-agent"))
    action(deps, "U1", B.SET_CURRENT, "experienced-agent")
    assert "L2 Experienced Agent* vs *L3 Senior Agent" in texts(action(deps, "U1", B.COMPARE_MINE, "senior-agent"))
    assert "*L3 Senior Agent*" in texts(action(deps, "U1", B.CHOOSE_LEVEL, "senior-agent"))


def test_home_view_shows_my_level_and_next_step(deps):
    deps.store.set_profile("U1", current_level="experienced-agent")
    view = home(deps, "U1")
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    joined = str(view["blocks"])
    assert "You are *L2 Experienced Agent*" in joined and "Start gap check for Senior Agent" in joined


def test_home_view_follows_my_target_and_my_own_ladder(deps):
    deps.store.set_profile("U1", current_level="senior-agent", target_level="team-lead")
    joined = str(home(deps, "U1")["blocks"])
    assert "your target: *L7 Team Lead*" in joined and "Start gap check for Team Lead" in joined
    assert "Expert Agent*." not in joined                  # not "next on your track" when a target is set
    deps.store.set_profile("U2", current_level="frontend-junior")
    joined = str(home(deps, "U2")["blocks"])
    assert "Frontend Development" in joined and "8 levels" in joined and "10 levels" not in joined   # their ladder at a glance


def test_home_view_offers_a_gap_check_to_someone_with_no_level_yet(deps):
    view = home(deps, "U9")
    start = [(label, value) for label, aid, value in B.option_labels(view["blocks"]) if aid == B.START_GAP]
    assert start == [("Start a gap check", "")]
    reply = action(deps, "U9", B.START_GAP, "")
    assert reply.dm and "Your current level" in str(reply.blocks)


def test_console_drives_the_same_handlers(deps):
    script = "what do I need for senior agent?\n4\n/ladder shwo L3\n9\nlevel L2\n2\nquit\n"
    out = io.StringIO()
    assert run(deps, io.StringIO(script), out, interactive=False) == 0
    text = out.getvalue()
    assert "[1] Start gap check for Senior Agent" in text and "[4] 👎" in text
    assert "I've noted that this answer missed" in text
    assert "Did you mean /ladder show?" in text
    assert "There is no button 9" in text
    assert "Saved: you are L2 Experienced Agent." in text
    assert "&amp;" not in text
    assert len(deps.store.feedback()) == 1


def test_every_button_ladder_draws_has_one_handler_and_an_unknown_one_is_stale(deps):
    from bot.chat.handlers import ACTIONS

    assert set(ACTIONS) == set(B.ACTION_IDS + B.GAP_ACTION_IDS)
    reply = action(deps, "U1", "ladder_button_of_an_older_release", "senior-agent")
    assert "That button is from an older message" in reply.blocks[0]["text"]["text"]


def test_the_compare_my_level_prompt_is_recorded_and_gets_feedback_buttons(deps):
    deps.store.set_profile("U1", current_level="experienced-agent")
    reply = question(deps, "U1", "D1", "Compare my level with Senior Agent")
    assert "Experienced Agent" in texts(reply) and "Senior Agent" in texts(reply)
    labels = [label for label, _, _ in B.option_labels(reply.blocks)]
    assert "👍" in labels and "👎" in labels
    with deps.store.db() as db:
        [row] = list(db["answers"].rows)
    assert row["question"] == "Compare my level with Senior Agent"

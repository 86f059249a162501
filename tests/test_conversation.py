"""The conversation a question is asked in reaches the advisor: the asker's stored level and earlier turns."""

from __future__ import annotations

import io

import pytest

from bot.advisor.answer import Answer
from bot.chat.handlers import Deps, action, question
from bot.console import run
from bot.core.config import Settings
from bot.core.knowledge import load_knowledge
from bot.search.conversation import Conversation, Turn
from bot.storage.store import Store
from tests.conftest import KNOWLEDGE


class RecordingAdvisor:
    """Answers every question about Senior Agent and remembers the context it was given."""

    def __init__(self):
        self.kb = load_knowledge(KNOWLEDGE)
        self.contexts: list[Conversation | None] = []

    def ask(self, text, *, track=None, context=None):
        self.contexts.append(context)
        return Answer(question=text, status="answered", text="*L3 Senior Agent*", knowledge_version=self.kb.version,
                      level_id="senior-agent", track="call-center", intent="requirements")


@pytest.fixture
def deps(tmp_path):
    return Deps(settings=Settings(db_path=tmp_path / "l.db"), advisor=RecordingAdvisor(), store=Store(tmp_path / "l.db"))


def test_the_askers_stored_level_reaches_the_advisor(deps):
    from bot.chat.blocks import SET_CURRENT

    question(deps, "U1", "D1", "what comes after mine?")
    assert deps.advisor.contexts[-1].asker_level is None
    action(deps, "U1", SET_CURRENT, "experienced-agent")
    reply = question(deps, "U1", "D1", "what comes after mine?")
    assert deps.advisor.contexts[-1].asker_level == "experienced-agent"
    assert reply.turn == Turn("what comes after mine?", "senior-agent", "call-center", "requirements")


def test_the_console_keeps_the_conversation(deps):
    out = io.StringIO()
    run(deps, io.StringIO("what do I need for Senior Agent?\nand for expert?\n"), out, interactive=False)
    first, second = deps.advisor.contexts
    assert first.turns == ()
    assert [t.question for t in second.turns] == ["what do I need for Senior Agent?"]
    assert second.last_level.level_id == "senior-agent"


def test_a_conversation_keeps_its_last_turns():
    convo = Conversation(asker_level="agent")
    for i in range(15):
        convo = convo.then(Turn(f"q{i}", "agent" if i % 2 else None))
    assert len(convo.turns) == 10 and convo.turns[-1].question == "q14"
    assert convo.last_level.question == "q13" and convo.asker_level == "agent"

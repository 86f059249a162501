"""What Ladder suggests and says while it works, in the agent view (Messages tab). No Slack transport.

* :func:`suggested` — at most four prompts built from what Ladder knows about the person (their level,
  an open gap check); each prompt's message is a question Ladder answers when it is sent back.
* :func:`route` — the prompts whose wording is not a career-map question ("Resume my gap check for …",
  "Compare my level with …") answered directly.
* :func:`working_status` — the status line while an answer is worked out ("is reading the Senior Agent
  requirements…"), from a cheap look at the question (no model run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.chat import blocks as B
from bot.chat import gap_handlers
from bot.chat.replies import Deps, Reply, answer_reply, not_found, record
from bot.core.knowledge import LevelNotFound
from bot.search.conversation import Turn
from bot.search.query import Intent, understand

MAX_PROMPTS = 4          # Slack shows at most four suggested prompts
PROMPT_TITLE_MAX = 75    # kept within a button's width
TITLE = "Ask Ladder about your career"
GLOSSARY_PROMPT = "What is FCR?"


@dataclass(frozen=True)
class Prompt:
    title: str     # what the button says
    message: str   # what is sent as the person's message when they pick it

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title[:PROMPT_TITLE_MAX], "message": self.message}


def suggested(deps: Deps, user_id: str) -> list[Prompt]:
    """Up to :data:`MAX_PROMPTS` prompts for this person, most personal first."""
    kb = deps.kb
    profile = deps.store.profile(user_id)
    mine = kb.level(profile["current_level"]) if kb.has_level(profile.get("current_level") or "") else None
    nxt = kb.next_level(mine) if mine else None
    prompts: list[Prompt] = []
    if nxt is not None:
        prompts.append(Prompt(f"What do I need for {nxt.title}?", f"What do I need for {nxt.title}?"))
    for row in deps.store.open_checks(user_id)[:1]:
        title = kb.level(row["target_level"]).title if kb.has_level(row["target_level"]) else row["target_title"]
        prompts.append(Prompt(f"Resume my gap check for {title}", f"Resume my gap check for {title}"))
    if nxt is not None:
        prompts.append(Prompt(f"Compare my level with {nxt.title}", f"Compare my level with {nxt.title}"))
    if mine is None:
        first = kb.default_track.levels[1] if len(kb.default_track.levels) > 1 else kb.default_track.levels[0]
        prompts.append(Prompt(f"What do I need for {first.title}?", f"What do I need for {first.title}?"))
        prompts.append(Prompt("How many levels are there?", "How many levels are there?"))
    prompts.append(Prompt(GLOSSARY_PROMPT, GLOSSARY_PROMPT))
    return prompts[:MAX_PROMPTS]


_RESUME = re.compile(r"^\s*resume my gap check(?: for (?P<target>.+?))?[\s.!?]*$", re.I)
_COMPARE_MINE = re.compile(r"^\s*compare my level with (?P<target>.+?)[\s.!?]*$", re.I)


def route(deps: Deps, user_id: str, text: str, channel: str | None = None) -> Reply | None:
    """The reply to a suggested prompt that is an instruction rather than a question; None for anything else.
    An answer is recorded like any other (stats, and 👍/👎 on it)."""
    if m := _RESUME.match(text or ""):
        try:
            return gap_handlers.start(deps, user_id, m.group("target") or "")
        except LevelNotFound as exc:
            return Reply(text=not_found(exc), blocks=B.text_blocks(not_found(exc)), ephemeral=False)
    if m := _COMPARE_MINE.match(text or ""):
        mine = deps.store.profile(user_id).get("current_level")
        if not mine or not deps.kb.has_level(mine):
            return None   # not known: answered as a question about that level
        try:
            target = deps.kb.resolve(m.group("target"))
        except LevelNotFound:
            return None
        answer = deps.advisor.compare(mine, target.id)
        return answer_reply(deps.kb, answer, record(deps, user_id, channel, text, answer), ephemeral=False,
                            turn=Turn.from_answer(answer))
    return None


_DOING = {
    Intent.COMPARE: "comparing {a} and {b}",
    Intent.PATH: "tracing the path from {a} to {b}",
    Intent.NEXT: "looking at what comes after {a}",
    Intent.GLOSSARY: "looking it up in the background notes",
    Intent.OVERVIEW: "reading the whole ladder",
}


def working_status(deps: Deps, text: str) -> tuple[str, list[str]]:
    """(status, loading messages) for the time an answer takes: names the level the question names."""
    try:
        query = understand(deps.kb, text or "")
        levels = [lv.title for lv in query.levels]
        intent = query.intent
    except Exception:   # the status is a nicety: never let it stop the answer
        levels, intent = [], None
    a = levels[0] if levels else None
    b = levels[1] if len(levels) > 1 else None
    if intent in _DOING and (a or intent in (Intent.GLOSSARY, Intent.OVERVIEW)) and (b or intent not in (Intent.COMPARE, Intent.PATH)):
        doing = _DOING[intent].format(a=a, b=b)
    elif a:
        doing = f"reading the {a} requirements"
    else:
        doing = "looking through the career map"
    status = f"is {doing}…"
    return status, [doing[0].upper() + doing[1:] + "…", "Checking the sources…"]

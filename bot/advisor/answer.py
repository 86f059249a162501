"""What ``Advisor.ask`` returns: the answer's text and its sources kept apart, and what it was about."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from bot.core.render import escape
from bot.search.ranking import Hit

Status = Literal["answered", "clarify", "no_answer"]
TRUNCATED_NOTE = "_Your question was long, so I read only its first 2,000 characters._"


@dataclass
class Answer:
    question: str
    status: Status
    text: str                                   # the answer's body (Slack mrkdwn, escaped), without sources
    knowledge_version: str
    level_id: str | None = None
    track: str | None = None
    hits: list[Hit] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    intent: str | None = None                   # the answer's shape: requirements, compare, path, fact, glossary, overview
    sources: list[str] = field(default_factory=list)   # "track · level · sections", plain text
    kind: str | None = None                     # the request kind it answered (bot.requestbank.KINDS)
    relation: str | None = None                 # how its level was found (bot.search.relations.Relation)
    level_ids: list[str] = field(default_factory=list)  # every level it used (a comparison has two)
    notes: list[str] = field(default_factory=list)      # shown above the text ("your question was long")
    ask_level: bool = False                     # "mine" without a stored level: offer to set it

    @property
    def source_line(self) -> str:
        """The sources as one mrkdwn line, or "" when there are none."""
        if not self.sources:
            return ""
        return "_Sources: " + "; ".join(escape(s) for s in self.sources) + f" · knowledge {self.knowledge_version}_"

    @property
    def answer(self) -> str:
        """Everything as one mrkdwn text: notes, body, sources (the JSON contract's ``answer``)."""
        return "\n\n".join(p for p in [*self.notes, self.text, self.source_line] if p)

    def to_json(self) -> dict:
        return {
            "question": self.question, "status": self.status, "level_id": self.level_id, "track": self.track,
            "hits": [asdict(h) for h in self.hits], "options": list(self.options), "answer": self.answer,
            "knowledge_version": self.knowledge_version,
        }

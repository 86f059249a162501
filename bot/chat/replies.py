"""What every handler returns (:class:`Reply`) and what it is given (:class:`Deps`). No transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from bot.chat import blocks as B
from bot.search.conversation import Turn
from bot.advisor.advisor import Advisor
from bot.core.config import Settings
from bot.storage.store import Store


@dataclass
class Deps:
    settings: Settings
    advisor: Advisor
    store: Store
    kick_outbox: Callable[[], None] | None = None   # wake the outbox worker after a broadcast is queued

    @property
    def kb(self):
        return self.advisor.kb


@dataclass
class Reply:
    text: str                                   # notification / fallback text
    blocks: list[dict] = field(default_factory=list)
    ephemeral: bool = True                      # slash-command replies are private by default
    replace: bool = False                       # replace the message a button was on
    dm: bool = False                            # post into the person's DM (e.g. a gap check from a channel)
    files: list[tuple[str, bytes, str]] = field(default_factory=list)   # (filename, content, title) to upload
    followups: list["Reply"] = field(default_factory=list)              # further messages, in order
    to_user: str | None = None                  # post into this other person's DM (an invitation)
    modal: dict | None = None                   # open this view (needs the command's trigger_id)
    turn: Turn | None = None                    # the question this answered, as a conversation keeps it


def _text(text: str, footer: str | None = None) -> Reply:
    return Reply(text=text, blocks=B.text_blocks(text, footer))

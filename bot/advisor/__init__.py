"""Answering a question: what it is about (understood by ``bot.search``), routed and composed into an Answer.

The conversation types live with understanding (``bot.search.conversation``); they are re-exported here
because front ends hand them to ``Advisor.ask``.

May import: ``bot.core``, ``bot.search``.
"""

from bot.search.conversation import Conversation, Turn

__all__ = ["Conversation", "Turn"]

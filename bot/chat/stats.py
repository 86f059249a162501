"""/ladder stats: what people ask and how ready they are, aggregated, no names. No Slack transport."""

from __future__ import annotations

import re

from bot.chat import blocks as B
from bot.chat.replies import Deps, Reply, text_reply
from bot.core.render import escape
from bot.storage.authz import authorize

MIN_GROUP = 5  # readiness is shown only for target levels with at least this many finished checks
GREETINGS = {"hi", "hello", "hey", "hiya", "yo", "thanks", "thank", "you", "thx", "ty", "ok", "okay", "cool",
             "good", "morning", "afternoon", "evening", "bye", "cheers", "great", "nice", "test", "there", "ladder",
             "yes", "no", "sup", "hallo", "hej", "ciao"}


def worth_listing(question: str) -> bool:
    """An unanswered question HR should read: not empty, not only emoji or punctuation, not a greeting."""
    words = re.findall(r"[^\W_]+", (question or "").lower())
    return bool(words) and not all(w in GREETINGS for w in words)


def cmd_stats(deps: Deps, user_id: str, args: str) -> Reply:
    """/ladder stats: what people ask and how ready they are — aggregated, no names."""
    refusal = authorize(deps.store, deps.settings, user_id, "stats")
    if refusal:
        return text_reply(refusal)
    st = deps.store.stats()
    kb = deps.kb
    votes = st["up"] + st["down"]
    rate = f"{100 * st['up'] / votes:.0f}% 👍 / {100 * st['down'] / votes:.0f}% 👎 of {votes}" if votes else "no votes yet"
    lines = ["*Ladder stats* (aggregated, no names)",
             f"• Questions asked: *{st['questions']}* · could not answer: *{st['unanswered']}* · "
             f"asked to clarify: *{st['clarify']}*",
             f"• Feedback: {rate}"]
    if st["down_notes"]:
        lines += ["", "*What people said was wrong* (latest 👎 notes)"]
        lines += [f"• {escape(B.clip(n, 200))}" for n in st["down_notes"]]
    unanswered = [q for q in st["top_unanswered"] if worth_listing(q)][:10]
    if unanswered:
        lines += ["", "*Questions I could not answer* (gaps in the ladder to fill? greetings, emoji and empty "
                  "messages are left out)"]
        lines += [f"• {escape(B.clip(q, 150))}" for q in unanswered]
    if st["levels"]:
        lines += ["", "*Most-asked levels*"]
        lines += [f"• {escape(kb.level(l).label if kb.has_level(l) else l)}: {n}" for l, n in st["levels"]]
    if st["readiness"]:
        lines += ["", "*Readiness of finished gap checks* (under 50% · 50–79% · 80%+)"]
        lines += [f"• {escape(kb.level(t).label if kb.has_level(t) else t)}: "
                  + (f"{lo} · {mid} · {hi} (of {n})" if n >= MIN_GROUP else f"fewer than {MIN_GROUP} — hidden")
                  for t, lo, mid, hi, n in st["readiness"]]
    return text_reply("\n".join(lines))

"""What Ladder says to each thing a person does, as :class:`Reply` objects; no Slack transport here.

The Bolt listeners and the terminal console (``python -m bot chat``) both call these functions, so
the console shows exactly what Slack would. Every function takes :class:`Deps` first.
"""

from __future__ import annotations

import logging
from typing import Callable

from bot.advisor.answer import Answer
from bot.chat import announce, edits, gap_handlers, prompts, stats, teams
from bot.chat import blocks as B
from bot.chat.replies import Deps, Reply, answer_reply, not_found, record, text_reply
from bot.core.knowledge import Level, LevelNotFound
from bot.core.render import escape, ladder, level_card
from bot.search.conversation import Conversation, Turn
from bot.search.query import MAX_QUESTION_CHARS
from bot.search.suggest import did_you_mean
from bot.storage.store import row_id

__all__ = ["Deps", "Reply", "command", "question", "action", "home"]

log = logging.getLogger(__name__)
# A level name is a few words ("call center sales and support level 3"): a longer side of a split
# cannot name one, so compare/path try only splits whose sides are this short (linear, not quadratic).
MAX_NAME_WORDS = 8


# -- questions (DMs, mentions, /ladder ask) ------------------------------------------------------

GAP_WORDS = {"gap check", "gap", "gapcheck", "start gap check", "run a gap check", "am i ready"}


def too_long(text: str) -> Reply | None:
    """The one length limit on what people type (questions and commands alike): over it, nothing runs."""
    if len(text or "") <= MAX_QUESTION_CHARS:
        return None
    return text_reply(f"That's {len(text):,} characters; I read up to {MAX_QUESTION_CHARS:,} at a time. "
                 "Please send a shorter question or command.")


def question(deps: Deps, user_id: str, channel: str | None, text: str, track: str | None = None,
             context: Conversation | None = None) -> Reply:
    """Answer a question. ``context``: the conversation so far (a Slack thread, the console session);
    the asker's stored level is filled in from their profile."""
    if (refusal := too_long(text)) is not None:
        refusal.ephemeral = False
        return refusal
    if " ".join((text or "").lower().replace("?", " ").split()) in GAP_WORDS:
        return gap_handlers.start(deps, user_id)
    routed = prompts.route(deps, user_id, text, channel)   # a suggested prompt that is an instruction
    if routed is not None:
        return routed
    context = context or Conversation()
    if context.asker_level is None:
        context = context.with_asker_level(deps.store.profile(user_id).get("current_level"))
    answer: Answer = deps.advisor.ask(text or "", track=track, context=context)
    answer_id = record(deps, user_id, channel, answer.question or "(empty)", answer)
    if answer.kind == "gap_check" and answer.status == "answered":
        # "am I ready for senior?": the gap check itself, against the level asked about
        return gap_handlers.start(deps, user_id, answer.level_id or "")
    return answer_reply(deps.kb, answer, answer_id, ephemeral=False, turn=Turn.from_answer(answer))


# -- /ladder ---------------------------------------------------------------------------------------

HELP = """*Ladder* answers questions about the career ladder and walks you through a gap check.

*Ask* — DM me, mention me, or `/ladder QUESTION`:
• `/ladder what do I need for Senior Agent?`
• `/ladder ask what's the difference between L2 and L3?`

*Commands*
• `/ladder levels [track]` — the ladder (`call-center`, `frontend`)
• `/ladder show LEVEL` — one level, e.g. `/ladder show team lead`, `/ladder show L3`
• `/ladder compare A B` — what differs, e.g. `/ladder compare L2 L3`
• `/ladder path A B` — how to get from one level to another, e.g. `/ladder path agent "team lead"`
• `/ladder ask QUESTION` — the same as a DM
• `/ladder gap [TARGET]` — a guided gap check in your DM (default target: your next level)
• `/ladder gap history` — your past gap checks
• `/ladder remind on|off` — reminders of an unfinished gap check (and, for leads, of reviews waiting)

*Team leads, HR and admins*
• `/ladder team` — your team at a glance; `/ladder team add @person`, `/ladder team remove @person`
• `/ladder team move @person @lead` — put someone in a lead's team, moving them from another (HR and admins)
• `/ladder assign @person TARGET` — invite someone in your team to a gap check
• `/ladder role @person ROLE` — agent, lead, hr or admin (HR and admins)
• `/ladder stats` — questions asked and unanswered, feedback, readiness (HR and admins; no names)
• `/ladder edit LEVEL` — edit a level in a form; saving makes a new knowledge version (HR and admins)
• `/ladder history LEVEL` — a level's versions and what changed
• `/ladder announce [LEVEL:] MESSAGE` — post to the announcement channel and DM people whose gap checks target LEVEL (HR and admins; preview first)
• `/ladder help` — this message

Levels can be ids, titles, aliases (supervisor, CCO, quality analyst) or numbers (L3, level 7)."""


def _split_two(deps: Deps, args: str) -> tuple[str, str] | None:
    """Two level names from free text: quoted, separated by 'and'/'vs'/'to', or the best split."""
    import shlex

    try:
        parts = shlex.split(args)
    except ValueError:
        parts = args.split()
    for sep in (" and ", " vs ", " versus ", " to ", ","):
        if sep in f" {args} ":
            a, _, b = f" {args} ".partition(sep)
            if a.strip() and b.strip():
                return a.strip(), b.strip()
    if len(parts) == 2:
        return parts[0], parts[1]
    # "senior agent team lead": the split where both sides are levels (sides of a level name's length)
    for i in range(max(1, len(parts) - MAX_NAME_WORDS), min(len(parts), MAX_NAME_WORDS + 1)):
        a, b = " ".join(parts[:i]), " ".join(parts[i:])
        try:
            deps.kb.resolve(a), deps.kb.resolve(b)
            return a, b
        except LevelNotFound:
            continue
    return None


def cmd_help(deps: Deps, user_id: str, args: str) -> Reply:
    return text_reply(HELP)


def cmd_levels(deps: Deps, user_id: str, args: str) -> Reply:
    kb = deps.kb
    tracks = [kb.track(args.strip())] if args.strip() else list(kb.tracks.values())
    return text_reply("\n\n".join(ladder(kb, t) for t in tracks), f"knowledge {kb.version}")


def cmd_show(deps: Deps, user_id: str, args: str) -> Reply:
    level = deps.kb.resolve(args)
    card = level_card(deps.kb, level)
    return Reply(text=f"{level.label}", blocks=B.level_blocks(deps.kb, level, card))


def cmd_compare(deps: Deps, user_id: str, args: str) -> Reply:
    pair = _split_two(deps, args)
    if pair is None:
        return text_reply("Name two levels, e.g. `/ladder compare L2 L3` or `/ladder compare \"senior agent\" \"team lead\"`.")
    return answer_reply(deps.kb, deps.advisor.compare(*pair))


def cmd_path(deps: Deps, user_id: str, args: str) -> Reply:
    pair = _split_two(deps, args)
    if pair is None:
        return text_reply("Name where you are and where you want to go, e.g. `/ladder path agent \"team lead\"`.")
    return answer_reply(deps.kb, deps.advisor.path(*pair))




def cmd_ask(deps: Deps, user_id: str, args: str, channel: str | None = None) -> Reply:
    reply = question(deps, user_id, channel, args)
    reply.ephemeral = True
    return reply









def cmd_remind(deps: Deps, user_id: str, args: str) -> Reply:
    """/ladder remind on|off — reminders of unfinished gap checks and of reviews waiting."""
    word = args.strip().lower()
    if word not in {"on", "off"}:
        now = "off" if deps.store.profile(user_id).get("reminders") == "off" else "on"
        return text_reply(f"Your reminders are *{now}*. `/ladder remind off` stops them; `/ladder remind on` brings them back.")
    deps.store.set_profile(user_id, reminders=word)
    if word == "off":
        return text_reply("Done — no more reminders from me. `/ladder remind on` brings them back.")
    return text_reply("Reminders are on: a nudge when a gap check has waited a while, and for leads, reviews waiting.")


# One table: every subcommand of /ladder.
COMMANDS: dict[str, Callable[..., Reply]] = {
    "help": cmd_help,
    "levels": cmd_levels,
    "show": cmd_show,
    "compare": cmd_compare,
    "path": cmd_path,
    "ask": cmd_ask,
    "gap": gap_handlers.command,
    "role": teams.cmd_role,
    "team": teams.cmd_team,
    "assign": teams.cmd_assign,
    "stats": stats.cmd_stats,
    "announce": announce.cmd_announce,
    "edit": edits.cmd_edit,
    "history": edits.cmd_history,
    "remind": cmd_remind,
}
QUESTION_WORDS = {"what", "what's", "whats", "how", "who", "which", "why", "when", "where", "is", "are", "do",
                  "does", "can", "should", "could", "i", "i'm", "im", "my", "tell", "explain", "difference"}


# What each command does, in words: "did you mean" compares an unknown word with these by meaning.
COMMAND_MEANINGS = {
    "help": "what I can do, the list of commands, usage", "levels": "list every level of a ladder, the whole ladder",
    "show": "one level's card: its experience, skills and responsibilities", "compare": "the difference between two levels",
    "path": "the route from one level to another, how to get promoted", "ask": "ask a question in your own words",
    "gap": "a gap check: am I ready for a level, assess my readiness", "role": "give someone a role: agent, lead, hr or admin",
    "team": "a team lead's team members", "assign": "invite a team member to a gap check", "stats": "usage statistics for HR",
    "announce": "post an announcement to the channel", "edit": "edit a level's text (HR)",
    "history": "a level's past versions and changes",
}


def command(deps: Deps, user_id: str, text: str, channel: str | None = None) -> Reply:
    """``/ladder …``: a subcommand from the table, a question, or help with a "did you mean"."""
    text = (text or "").strip()
    if (refusal := too_long(text)) is not None:
        return refusal
    if not text:
        return cmd_help(deps, user_id, "")
    word, _, rest = text.partition(" ")
    name = word.lower()
    try:
        if name in COMMANDS:
            handler = COMMANDS[name]
            if name == "ask":
                return handler(deps, user_id, rest, channel=channel)
            return handler(deps, user_id, rest)
        if name in QUESTION_WORDS or "?" in text or len(text.split()) > 2:
            return cmd_ask(deps, user_id, text, channel=channel)
        guess = deps.advisor.suggest_command(name, COMMAND_MEANINGS) if hasattr(deps.advisor, "suggest_command") \
            else did_you_mean(name, list(COMMANDS))
        if guess:
            return text_reply(f"I don't know `{escape(word[:40])}`. Did you mean `/ladder {guess}`?\n\n" + HELP)
        return cmd_ask(deps, user_id, text, channel=channel)
    except LevelNotFound as exc:
        return text_reply(not_found(exc))


# -- buttons -----------------------------------------------------------------------------------------

def _on_level(handler: Callable[[Deps, str, Level], Reply]) -> Callable[[Deps, str, str, dict], Reply]:
    """A button whose value is a level id: a level no longer on the ladder makes it a stale button."""
    def run(deps: Deps, user_id: str, value: str, inputs: dict) -> Reply:
        return handler(deps, user_id, deps.kb.level(value)) if deps.kb.has_level(value) else _stale()
    return run


def _start_gap(deps: Deps, user_id: str, value: str, inputs: dict) -> Reply:
    """Start gap check: for the level on the button, or (no value: App Home's button) the next one."""
    if value and not deps.kb.has_level(value):
        return _stale()
    reply = gap_handlers.start(deps, user_id, value)
    reply.dm = True
    return reply


def _compare_mine(deps: Deps, user_id: str, level: Level) -> Reply:
    mine = deps.store.profile(user_id).get("current_level")
    if not mine or not deps.kb.has_level(mine):
        return text_reply("I don't know your current level yet. Set it on my *Home* tab (Ladder → Home), "
                     f"then try again. Meanwhile: `/ladder compare YOUR-LEVEL {level.id}`.")
    return answer_reply(deps.kb, deps.advisor.compare(mine, level.id))


def _set_current(deps: Deps, user_id: str, level: Level) -> Reply:
    deps.store.set_profile(user_id, current_level=level.id)
    return text_reply(f"Saved: you are *{escape(level.label)}*.")


def _native_vote(deps: Deps, user_id: str, value: str, inputs: dict) -> Reply:
    """Slack's own 👍/👎: the same vote as ours, one per person per answer."""
    vote = B.feedback_vote(value)
    return _vote(deps, user_id, vote[1], vote[0]) if vote else _stale()


# One table: every button and menu Ladder puts in a message or on App Home, and its handler, each called
# (deps, user_id, value, inputs). The gap check's own buttons are in gap_handlers.ACTIONS.
ACTIONS: dict[str, Callable[[Deps, str, str, dict], Reply | None]] = {
    B.START_GAP: _start_gap,
    B.CHOOSE_LEVEL: _on_level(lambda deps, user_id, level: cmd_show(deps, user_id, level.id)),
    B.SHOW_LEVEL: _on_level(lambda deps, user_id, level: cmd_show(deps, user_id, level.id)),
    B.COMPARE_MINE: _on_level(_compare_mine),
    B.SET_CURRENT: _on_level(_set_current),
    B.VOTE_UP: lambda deps, user_id, value, inputs: _vote(deps, user_id, value, 1),
    B.VOTE_DOWN: lambda deps, user_id, value, inputs: _vote(deps, user_id, value, -1),
    B.FEEDBACK: _native_vote,
    B.FEEDBACK_SEND: lambda deps, user_id, value, inputs: _feedback_note(deps, user_id, value,
                                                                         inputs.get("feedback_note", "")),
    B.ANNOUNCE_SEND: lambda deps, user_id, value, inputs: announce.confirm_announce(deps, user_id, value),
    B.REMIND_OFF: lambda deps, user_id, value, inputs: cmd_remind(deps, user_id, "off"),
    **gap_handlers.ACTIONS,
}


def action(deps: Deps, user_id: str, action_id: str, value: str, inputs: dict | None = None) -> Reply | None:
    """A button or menu: its handler in :data:`ACTIONS`; an action id Ladder no longer has is a stale button."""
    handler = ACTIONS.get(action_id)
    return handler(deps, user_id, value, inputs or {}) if handler is not None else _stale()


def _vote(deps: Deps, user_id: str, value: str, vote: int) -> Reply:
    answer_id = row_id(value)
    row = deps.store.vote(answer_id, user_id, vote) if answer_id is not None else None
    if row is None:
        return _stale()
    if vote > 0:
        return text_reply("Thanks — glad it helped.")
    return Reply(text="Thanks — I've noted that this answer missed. What was wrong? (optional)",
                 blocks=B.feedback_note_blocks(answer_id))


def _feedback_note(deps: Deps, user_id: str, value: str, note: str) -> Reply:
    """Send on "what was wrong?": the text goes with the person's 👎 into /ladder stats."""
    answer_id = row_id(value)
    if answer_id is None:
        return _stale()
    if not note.strip():
        return Reply(text="Nothing written — your 👎 is noted all the same.", blocks=B.text_blocks(
            "Nothing written — your 👎 is noted all the same."), replace=True)
    if not deps.store.feedback_note(answer_id, user_id, note):
        return text_reply("I can only keep a note with a 👎 of yours on that answer — press 👎 first, then write it.")
    return Reply(text="Thanks — HR will read what you wrote.",
                 blocks=B.text_blocks("Thanks — HR will read what you wrote."), replace=True)


def _stale() -> Reply:
    return text_reply("That button is from an older message and no longer works. Ask me again and I'll give you a fresh one.")


# -- App Home ---------------------------------------------------------------------------------------

def home(deps: Deps, user_id: str) -> dict:
    kb = deps.kb
    banner = gap_handlers.unfinished_banner(deps, user_id)
    profile = deps.store.profile(user_id)
    mine = profile.get("current_level")
    track = kb.tracks[kb.level(mine).track] if mine and kb.has_level(mine) else kb.default_track   # their own ladder
    waiting = [(row["id"], f"<@{row['user_id']}> · {escape(row['target_title'])} · {row['readiness']}% ready · "
                f"shared {(row['shared_at'] or '')[:10]}") for row in deps.store.waiting_reviews(user_id)]
    return B.home_view(kb, profile, ladder(kb, track), banner=banner.blocks if banner else None, reviews=waiting)

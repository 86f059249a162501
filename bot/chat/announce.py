"""/ladder announce: HR's broadcasts, previewed, then queued once through the outbox. No Slack transport."""

from __future__ import annotations

from bot.chat import blocks as B
from bot.chat.replies import Deps, Reply, text_reply
from bot.core.knowledge import LevelNotFound
from bot.core.render import escape, headcount
from bot.storage.authz import authorize
from bot.storage.outbox import create_draft, draft, recipients_for_level, send_draft
from bot.storage.store import row_id

ANNOUNCE_MAX = 1500


def _channel_name(channel: str) -> str:
    return f"<#{channel}>" if channel[0] in "CG" else f"#{escape(channel.lstrip('#'))}"


def delivery_words(deps: Deps, people: int, about: str) -> str:
    """What really happens to a queued broadcast: where it goes, and whether anything sends it now."""
    channel = deps.settings.announce_channel
    where = []
    if channel:
        where.append(f"a post in {_channel_name(channel)}")
    if people:
        where.append(f"a DM to {headcount(people)} {about}")
    text = " and ".join(where) if where else "nothing"
    if not channel:
        text += " (no announcement channel is set — `LADDER_ANNOUNCE_CHANNEL` — so no channel post)"
    if not where:
        return text + "."
    if deps.kick_outbox is None:   # no worker: the console, or a process not connected to Slack
        return text + ": saved, and will go out when Ladder is connected to Slack (`ladder serve`, or `ladder outbox --drain`)."
    return text + ": going out now, each exactly once (`ladder outbox` shows progress)."


def _announce_parts(deps: Deps, args: str) -> tuple[str | None, str]:
    """`LEVEL: message` names the changed level; otherwise the whole text is the message."""
    head, sep, rest = args.partition(":")
    if sep and rest.strip() and len(head) <= 60:
        try:
            return deps.kb.resolve(head).id, rest.strip()
        except LevelNotFound:
            pass
    return None, args.strip()


def cmd_announce(deps: Deps, user_id: str, args: str) -> Reply:
    """/ladder announce [LEVEL:] MESSAGE — preview first; Ladder sends only after HR confirms."""
    refusal = authorize(deps.store, deps.settings, user_id, "announce", audit_ok=False)
    if refusal:
        return text_reply(refusal)
    level_id, message = _announce_parts(deps, args)
    if not message:
        deps.store.audit(user_id, "announce", "invalid", None, "no message")
        return text_reply("Usage: `/ladder announce [LEVEL:] MESSAGE`, e.g. "
                     "`/ladder announce senior agent: the KPI threshold is now 103%`.")
    if len(message) > ANNOUNCE_MAX:
        deps.store.audit(user_id, "announce", "invalid", level_id, f"{len(message)} characters")
        return text_reply(f"That message is {len(message)} characters; keep announcements under {ANNOUNCE_MAX}.")
    channel = deps.settings.announce_channel
    people = recipients_for_level(deps.store, level_id) if level_id else []
    level = deps.kb.level(level_id).label if level_id else None
    about = f"whose gap checks target *{escape(level)}*" if level else ""
    preview = f"*Preview* — *Send* queues {delivery_words(deps, len(people), about)}\n\n>{escape(message)}"
    if not channel and not people:
        deps.store.audit(user_id, "announce", "invalid", level_id, "no recipients")
        return text_reply(preview + "\n\nNobody would receive this, so there is nothing to send.")
    draft_id = create_draft(deps.store, user_id, level_id, message)  # the button carries only its id
    deps.store.audit(user_id, "announce", "previewed", level_id, f"draft {draft_id}")
    return Reply(text="Announcement preview", blocks=B.confirm_blocks(preview, B.ANNOUNCE_SEND, str(draft_id)))


def confirm_announce(deps: Deps, user_id: str, value: str) -> Reply:
    """*Send* on a preview: the draft becomes a broadcast once (a second click finds it sent)."""
    refusal = authorize(deps.store, deps.settings, user_id, "announce", audit_ok=False)
    if refusal:
        return text_reply(refusal)
    draft_id = row_id(value)
    row = draft(deps.store, draft_id) if draft_id is not None else None
    if row is None:
        return text_reply("That button is from an older message and no longer works.")
    level_id, message = row["level_id"], row["message"][:ANNOUNCE_MAX]
    if level_id and not deps.kb.has_level(level_id):
        return text_reply("That level no longer exists; nothing was sent.")
    level = deps.kb.level(level_id) if level_id else None
    people = recipients_for_level(deps.store, level_id) if level_id else []
    channel_msg = B.announcement_blocks(message, level, dm=False)
    dm_msg = B.announcement_blocks(message, level, dm=True) if level else None
    fallback = f"Ladder: {escape(message[:200])}"  # notification text: HR's words, no <!channel> pings
    bid, first = send_draft(deps.store, row["id"], user_id, channel=deps.settings.announce_channel,
                            channel_message=(fallback, channel_msg), dm_recipients=people,
                            dm_message=(fallback, dm_msg) if dm_msg else None,
                            level_id=level_id, knowledge_version=deps.kb.version, note=message)
    if not first:
        deps.store.audit(user_id, "announce.send", "refused", level_id, f"broadcast {bid} already sent")
        return text_reply(f"That announcement was already sent (broadcast {bid}); nothing was sent again.")
    deps.store.audit(user_id, "announce.send", "sent", level_id, f"broadcast {bid}, {len(people)} DMs")
    if deps.kick_outbox:
        deps.kick_outbox()
    about = f"whose gap checks target {escape(level.label)}" if level else ""
    return Reply(text="Announcement queued", replace=True, blocks=B.text_blocks(
        f"Broadcast {bid} queued: {delivery_words(deps, len(people), about)}"))

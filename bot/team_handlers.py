"""Roles and teams: /ladder role, /ladder team [add|remove], /ladder assign. No Slack transport."""

from __future__ import annotations

import re

from bot import blocks as B
from bot.authz import Role, authorize, role_of
from bot.replies import Deps, Reply, _text
from bot.knowledge import LevelNotFound
from bot.render import escape

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")


def parse_user(token: str) -> str | None:
    """``<@U123|name>`` (how Slack escapes a mention in a slash command), ``<@U123>`` or ``U123``."""
    m = _MENTION.match(token.strip())
    return (m.group(1) or m.group(2)) if m else None


def _who(user_id: str) -> str:
    return f"<@{user_id}>"  # a mention we built from a validated id: safe to send unescaped


def cmd_role(deps: Deps, user_id: str, args: str) -> Reply:
    parts = args.split()
    if len(parts) != 2 or parse_user(parts[0]) is None:
        return _text("Usage: `/ladder role @person ROLE` where ROLE is agent, lead, hr or admin.")
    target, role = parse_user(parts[0]), parts[1].lower()
    if role not in {r.value for r in Role}:
        return _text(f"`{escape(role[:20])}` is not a role: use agent, lead, hr or admin.")
    refusal = authorize(deps.store, deps.settings, user_id, "role.set", target)
    if refusal:
        return _text(refusal)
    if role == Role.ADMIN.value and role_of(deps.store, deps.settings, user_id) != Role.ADMIN:
        deps.store.audit(user_id, "role.set", "refused", target, "only admins make admins")
        return _text("Sorry — only an admin can make someone an admin.")
    deps.store.set_role(target, role, user_id)
    return _text(f"{_who(target)} is now *{role}*.")


def cmd_team(deps: Deps, user_id: str, args: str) -> Reply:
    word, _, rest = args.strip().partition(" ")
    if word.lower() in {"add", "remove"}:
        member = parse_user(rest)
        if member is None:
            return _text(f"Usage: `/ladder team {word.lower()} @person`.")
        refusal = authorize(deps.store, deps.settings, user_id, "team.edit", member)
        if refusal:
            return _text(refusal)
        if word.lower() == "add":
            previous = deps.store.add_to_team(user_id, member, user_id)
            moved = f" (moved from {_who(previous)}'s team)" if previous and previous != user_id else ""
            return _text(f"{_who(member)} is in your team{moved}.")
        if deps.store.remove_from_team(user_id, member):
            return _text(f"{_who(member)} is no longer in your team.")
        return _text(f"{_who(member)} isn't in your team.")
    refusal = authorize(deps.store, deps.settings, user_id, "team.view")
    if refusal:
        return _text(refusal)
    members = deps.store.team(user_id)
    if not members:
        return _text("Your team is empty. Add people with `/ladder team add @person`.")
    kb = deps.kb
    lines = [f"*Your team* ({len(members)})"]
    for member in members:
        profile = deps.store.profile(member)
        level = kb.level(profile["current_level"]).label if kb.has_level(profile.get("current_level") or "") else "level not set"
        target = kb.level(profile["target_level"]).label if kb.has_level(profile.get("target_level") or "") else "no target"
        shared = deps.store.last_shared_check(member, user_id)
        if shared is not None:
            check = f"last shared check: {shared['readiness']}% ready for {escape(shared['target_title'])} " \
                    f"({(shared['finished_at'] or '')[:10]})"
        else:
            check = "no shared gap check"
        lines.append(f"• {_who(member)} · {escape(level)} → {escape(target)} · {check}")
    lines.append("_Only checks people have shared with you appear here._")
    return _text("\n".join(lines))


def cmd_assign(deps: Deps, user_id: str, args: str) -> Reply:
    token, _, target_name = args.strip().partition(" ")
    member = parse_user(token)
    if member is None or not target_name.strip():
        return _text("Usage: `/ladder assign @person TARGET`, e.g. `/ladder assign @sam senior agent`.")
    try:
        target = deps.kb.resolve(target_name)
    except LevelNotFound as exc:
        return _text(exc.message)
    refusal = authorize(deps.store, deps.settings, user_id, "assign", member)
    if refusal:
        return _text(refusal)
    invite = (f"{_who(user_id)} invites you to run a gap check for *{escape(target.label)}*. "
              "It takes a few minutes, one question at a time, and only you see your answers until you share them.")
    blocks = B.invite_blocks(invite, target)
    reply = _text(f"I've asked {_who(member)} to run a gap check for *{escape(target.label)}*.")
    reply.followups = [Reply(text=f"Gap check invitation: {target.label}", blocks=blocks, ephemeral=False, to_user=member)]
    return reply


def cmd_stats(deps: Deps, user_id: str, args: str) -> Reply:
    """/ladder stats: what people ask and how ready they are — aggregated, no names."""
    refusal = authorize(deps.store, deps.settings, user_id, "stats")
    if refusal:
        return _text(refusal)
    st = deps.store.stats()
    kb = deps.kb
    votes = st["up"] + st["down"]
    rate = f"{100 * st['up'] / votes:.0f}% 👍 / {100 * st['down'] / votes:.0f}% 👎 of {votes}" if votes else "no votes yet"
    lines = ["*Ladder stats* (aggregated, no names)",
             f"• Questions asked: *{st['questions']}* · could not answer: *{st['unanswered']}* · "
             f"asked to clarify: *{st['clarify']}*",
             f"• Feedback: {rate}"]
    if st["top_unanswered"]:
        lines += ["", "*Questions I could not answer* (gaps in the ladder to fill?)"]
        lines += [f"• {escape(B.clip(q, 150))}" for q in st["top_unanswered"]]
    if st["levels"]:
        lines += ["", "*Most-asked levels*"]
        lines += [f"• {escape(kb.level(l).label if kb.has_level(l) else l)}: {n}" for l, n in st["levels"]]
    if st["readiness"]:
        lines += ["", "*Readiness of finished gap checks* (under 50% · 50–79% · 80%+)"]
        lines += [f"• {escape(kb.level(t).label if kb.has_level(t) else t)}: {lo} · {mid} · {hi} (of {n})"
                  for t, lo, mid, hi, n in st["readiness"]]
    return _text("\n".join(lines))


ANNOUNCE_MAX = 1500


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


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
    refusal = authorize(deps.store, deps.settings, user_id, "announce")
    if refusal:
        return _text(refusal)
    level_id, message = _announce_parts(deps, args)
    if not message:
        return _text("Usage: `/ladder announce [LEVEL:] MESSAGE`, e.g. "
                     "`/ladder announce senior agent: the KPI threshold is now 103%`.")
    if len(message) > ANNOUNCE_MAX:
        return _text(f"That message is {len(message)} characters; keep announcements under {ANNOUNCE_MAX}.")
    channel = deps.settings.announce_channel
    from bot.outbox import recipients_for_level

    people = recipients_for_level(deps.store, level_id) if level_id else []
    where = [f"<#{channel}>" if channel and channel[0] in "CG" else (f"#{escape(channel.lstrip('#'))}" if channel else None)]
    targets = ", ".join(w for w in where if w) or "no announcement channel (set LADDER_ANNOUNCE_CHANNEL)"
    level = deps.kb.level(level_id).label if level_id else None
    preview = (f"*Preview* — to {targets}" + (f" and {_people(len(people))} whose gap checks target "
               f"*{escape(level)}*" if level else "") + f":\n\n>{escape(message)}")
    if not channel and not people:
        return _text(preview + "\n\nNobody would receive this, so there is nothing to send.")
    import json as _json

    value = _json.dumps({"l": level_id, "m": message})
    return Reply(text="Announcement preview", blocks=B.confirm_blocks(preview, B.ANNOUNCE_SEND, value))


def confirm_announce(deps: Deps, user_id: str, value: str) -> Reply:
    import json as _json

    from bot.outbox import create_broadcast, recipients_for_level

    refusal = authorize(deps.store, deps.settings, user_id, "announce")
    if refusal:
        return _text(refusal)
    try:
        data = _json.loads(value)
        level_id, message = data.get("l"), str(data["m"])[:ANNOUNCE_MAX]
    except (ValueError, KeyError, TypeError, AttributeError):
        return _text("That button is from an older message and no longer works.")
    if level_id and not deps.kb.has_level(level_id):
        return _text("That level no longer exists; nothing was sent.")
    level = deps.kb.level(level_id) if level_id else None
    people = recipients_for_level(deps.store, level_id) if level_id else []
    channel_msg = B.announcement_blocks(message, level, dm=False)
    dm_msg = B.announcement_blocks(message, level, dm=True) if level else None
    bid = create_broadcast(deps.store, user_id, channel=deps.settings.announce_channel,
                           channel_message=(f"Ladder: {message[:200]}", channel_msg),
                           dm_recipients=people, dm_message=(f"Ladder: {message[:200]}", dm_msg) if dm_msg else None,
                           level_id=level_id, knowledge_version=deps.kb.version, note=message)
    deps.store.audit(user_id, "announce.send", "ok", level_id, f"broadcast {bid}, {len(people)} DMs")
    if deps.kick_outbox:
        deps.kick_outbox()
    return Reply(text="Announcement queued", replace=True, blocks=B.text_blocks(
        f"Queued broadcast {bid}: the channel message and {len(people)} DMs go out now, each exactly once. "
        "`ladder outbox` shows progress."))


# -- HR edits ------------------------------------------------------------------------------------------

def cmd_edit(deps: Deps, user_id: str, args: str) -> Reply:
    """/ladder edit LEVEL — a form in Slack (a modal)."""
    import json as _json

    refusal = authorize(deps.store, deps.settings, user_id, "edit")
    if refusal:
        return _text(refusal)
    if not args.strip():
        return _text("Usage: `/ladder edit LEVEL`, e.g. `/ladder edit senior agent`.")
    try:
        level = deps.kb.resolve(args)
    except LevelNotFound as exc:
        return _text(exc.message)
    meta = _json.dumps({"level": level.id, "version": deps.kb.version})
    reply = _text(f"Opening the form for *{escape(level.label)}*…")
    reply.modal = B.edit_modal(level, deps.kb.tracks[level.track].title, meta)
    return reply


def submit_edit(deps: Deps, user_id: str, metadata: str, values: dict[str, str]) -> tuple[dict[str, str] | None, object]:
    """Validate a submitted edit. Returns (errors by block id, None) or (None, a callable that applies it)."""
    import json as _json

    from bot.versions import EditError, edited_level

    if authorize(deps.store, deps.settings, user_id, "edit"):
        return {B.EDIT_BLOCKS["note"]: "You no longer have the hr or admin role."}, None
    try:
        meta = _json.loads(metadata or "{}")
        level = deps.kb.level(meta["level"])
    except (ValueError, KeyError, LevelNotFound):
        return {B.EDIT_BLOCKS["note"]: "This form is out of date: close it and run /ladder edit again."}, None
    if meta.get("version") != deps.kb.version:
        return {B.EDIT_BLOCKS["note"]: "The ladder changed since you opened this form: close it and open it again."}, None
    note = (values.get("note") or "").strip()
    try:
        data = edited_level(level, values.get("experience", ""), values.get("responsibilities", ""),
                            values.get("skills", ""))
        if not note:
            raise EditError({"note": "say what changed and why (it goes into the history)"})
    except EditError as exc:
        return {B.EDIT_BLOCKS.get(k, B.EDIT_BLOCKS["note"]): v[:150] for k, v in exc.errors.items()}, None
    announce = (values.get("announce") or "").strip()
    if len(announce) > ANNOUNCE_MAX:
        return {B.EDIT_BLOCKS["announce"]: f"Keep it under {ANNOUNCE_MAX} characters."}, None
    return None, lambda: apply_edit(deps, user_id, level.id, data, note, announce)


def apply_edit(deps: Deps, user_id: str, level_id: str, data: dict, note: str, announce: str = "") -> Reply:
    """Store the version (and, if HR wrote an announcement, its broadcast, in the same transaction),
    index it beside the live one, swap the advisor, and tell HR."""
    from bot.outbox import insert_broadcast, recipients_for_level
    from bot.service import reindex, versions_root
    from bot.versions import diff_text, save_edit

    queued: dict = {}

    def broadcast(db, new_kb, diff) -> None:
        if not announce:
            return
        level = new_kb.level(level_id)
        message = f"{announce}\n{diff_text(diff)}"
        people = recipients_for_level(deps.store, level_id)
        queued["id"] = insert_broadcast(
            db, user_id, channel=deps.settings.announce_channel,
            channel_message=(f"Ladder: {level.label} changed", B.announcement_blocks(message, level, dm=False)),
            dm_recipients=people, dm_message=(f"Ladder: {level.label} changed", B.announcement_blocks(message, level, dm=True)),
            level_id=level_id, knowledge_version=new_kb.version, note=announce)
        queued["people"] = len(people)

    old = deps.advisor
    new_kb, diff = save_edit(deps.store, old.kb, deps.settings.knowledge_dir, versions_root(deps.settings),
                             level_id, data, author=user_id, note=note, also=broadcast)
    deps.advisor = reindex(new_kb, deps.settings, old.index)  # one reference swap: whole versions only
    deps.store.audit(user_id, "edit", "ok", level_id, f"{old.kb.version} -> {new_kb.version}")
    if queued and deps.kick_outbox:
        deps.kick_outbox()
    level = new_kb.level(level_id)
    text = (f"Saved *{escape(level.label)}* as knowledge {new_kb.version} (was {old.kb.version}) and it is live.\n"
            f"_{escape(note)}_\n```{escape(diff_text(diff))}```")
    if queued:
        text += (f"\nBroadcast {queued['id']} queued: the announcement channel and {_people(queued['people'])} whose "
                 "gap checks target this level, each exactly once (`ladder outbox` shows progress).")
    else:
        text += "\nNo announcement was sent (the form's announcement was empty). Use `/ladder announce` to send one."
    return Reply(text="Level saved", ephemeral=False, dm=True, blocks=B.text_blocks(text))


def cmd_history(deps: Deps, user_id: str, args: str) -> Reply:
    """/ladder history LEVEL — the level's versions, newest first, with what changed."""
    import json as _json

    from bot.versions import diff_text, history

    try:
        level = deps.kb.resolve(args)
    except LevelNotFound as exc:
        return _text(exc.message)
    rows = history(deps.store, level.id)
    if not rows:
        return _text(f"*{escape(level.label)}* has not been edited since the career map was imported.")
    lines = [f"*History of {escape(level.label)}*"]
    for row in rows[:15]:
        lines.append(f"• {row['created_at'][:16].replace('T', ' ')} · {_who(row['created_by'])} · "
                     f"knowledge {row['version']}: _{escape(row['note'] or '')}_")
        lines += [f"    {escape(line)}" for line in diff_text(_json.loads(row["diff"])).splitlines()]
    return _text("\n".join(lines))

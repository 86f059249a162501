"""Roles and teams: /ladder role, /ladder team [add|remove], /ladder assign. No Slack transport."""

from __future__ import annotations

import functools
import re
import threading
from contextlib import contextmanager
from pathlib import Path

from bot.chat import blocks as B
from bot.chat import gap_handlers
from bot.storage.authz import Role, authorize, authorize_target, leads_a_team, refuse, role_of
from bot.chat.replies import Deps, Reply, _text
from bot.core.knowledge import LevelNotFound
from bot.core.render import escape
from bot.storage.store import row_id

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")


def parse_user(token: str) -> str | None:
    """``<@U123|name>`` (how Slack escapes a mention in a slash command), ``<@U123>`` or ``U123``."""
    m = _MENTION.match(token.strip())
    return (m.group(1) or m.group(2)) if m else None


def _who(user_id: str) -> str:
    return f"<@{user_id}>"  # a mention we built from a validated id: safe to send unescaped


def cmd_role(deps: Deps, user_id: str, args: str) -> Reply:
    parts = args.split()
    target = parse_user(parts[0]) if parts else None
    refusal = authorize(deps.store, deps.settings, user_id, "role.set", target, audit_ok=False)
    if refusal:
        return _text(refusal)
    if len(parts) != 2 or target is None:
        deps.store.audit(user_id, "role.set", "invalid", target, "usage")
        return _text("Usage: `/ladder role @person ROLE` where ROLE is agent, lead, hr or admin.")
    role = parts[1].lower()
    if role not in {r.value for r in Role}:
        deps.store.audit(user_id, "role.set", "invalid", target, "unknown role")
        return _text(f"`{escape(role[:20])}` is not a role: use agent, lead, hr or admin.")
    actor_is_admin = role_of(deps.store, deps.settings, user_id) == Role.ADMIN
    if target in deps.settings.admins:
        return _text(refuse(deps.store, user_id, "role.set", target, "admin from LADDER_ADMINS",
                            f"Sorry — {_who(target)} is an admin through `LADDER_ADMINS`; only that setting "
                            "changes their role."))
    if role_of(deps.store, deps.settings, target) == Role.ADMIN and not actor_is_admin:
        return _text(refuse(deps.store, user_id, "role.set", target, "only admins change an admin's role",
                            "Sorry — only an admin can change an admin's role."))
    if role == Role.ADMIN.value and not actor_is_admin:
        return _text(refuse(deps.store, user_id, "role.set", target, "only admins make admins",
                            "Sorry — only an admin can make someone an admin."))
    before = deps.store.role(target) or Role.AGENT.value
    deps.store.set_role(target, role, user_id)
    deps.store.audit(user_id, "role.set", "ok", target, f"{before} -> {role}")
    reply = _text(f"{_who(target)} is now *{role}*.")
    if not leads_a_team(deps.store, deps.settings, target):   # their pending reviews go back to their people
        reply.followups = gap_handlers.return_reviews(deps, target)
    return reply


def _team_member_arg(rest: str) -> str | None:
    first = rest.split()[0] if rest.split() else ""
    return parse_user(first)


def cmd_team(deps: Deps, user_id: str, args: str) -> Reply:
    word, _, rest = args.strip().partition(" ")
    if word.lower() in {"add", "remove"}:
        return _team_edit(deps, user_id, word.lower(), rest)
    if word.lower() == "move":
        return _team_move(deps, user_id, rest)
    refusal = authorize(deps.store, deps.settings, user_id, "team.view")
    if refusal:
        return _text(refusal)
    members = deps.store.team(user_id)
    if role_of(deps.store, deps.settings, user_id) in (Role.HR, Role.ADMIN):
        return _text(_org_teams(deps, user_id, members))
    if not members:
        return _text("Your team is empty. Add people with `/ladder team add @person`.")
    return _text(_team_lines(deps, user_id, members))


def _team_lines(deps: Deps, user_id: str, members: list[str]) -> str:
    kb = deps.kb
    lines = [f"*Your team* ({len(members)})"]
    for member in members:
        profile = deps.store.profile(member)
        level = kb.level(profile["current_level"]).label if kb.has_level(profile.get("current_level") or "") else "level not set"
        target = kb.level(profile["target_level"]).label if kb.has_level(profile.get("target_level") or "") else "no target"
        shared = deps.store.shared_checks(member, user_id)
        lines.append(f"• {_who(member)} · {escape(level)} → {escape(target)}"
                     + ("" if shared else " · no shared gap check"))
        for row in shared:
            state = f"reviewed on {row['reviewed_at'][:10]}" if row["reviewed_at"] else "*waiting for your review*"
            lines.append(f"    shared check: {row['readiness']}% ready for {escape(row['target_title'])} "
                         f"({(row['finished_at'] or '')[:10]}) — {state}")
    lines.append("_Only checks people have shared with you appear here._")
    return "\n".join(lines)


def _org_teams(deps: Deps, user_id: str, members: list[str]) -> str:
    """HR and admins: who is in which lead's team across the org (no gap checks: those are shared with leads)."""
    teams = deps.store.teams()
    lines = [_team_lines(deps, user_id, members), ""] if members else []
    if not teams:
        lines.append("*Teams*: none yet. Leads add people with `/ladder team add @person`; HR and admins put "
                     "someone in a lead's team with `/ladder team move @person @lead`.")
        return "\n".join(lines)
    leads = len(teams)
    lines.append(f"*Teams* ({leads} {'lead' if leads == 1 else 'leads'}, {_people(sum(map(len, teams.values())))})")
    for lead, people in teams.items():
        lines.append(f"• {_who(lead)} ({len(people)}): " + ", ".join(_who(m) for m in people[:30])
                     + (f" and {len(people) - 30} more" if len(people) > 30 else ""))
    lines.append("_Move someone with `/ladder team move @person @lead`._")
    return "\n".join(lines)


def _team_edit(deps: Deps, user_id: str, word: str, rest: str) -> Reply:
    """`team add|remove @person`: one's own team. A lead adds only people in no team."""
    member = _team_member_arg(rest)
    refusal = authorize(deps.store, deps.settings, user_id, "team.edit", member, audit_ok=False)
    if refusal:
        return _text(refusal)
    if member is None:
        deps.store.audit(user_id, "team.edit", "invalid", None, f"{word}: usage")
        return _text(f"Usage: `/ladder team {word} @person`.")
    action = "team.edit"
    if member == user_id:
        return _text(refuse(deps.store, user_id, action, member, f"{word}: own team",
                            "Sorry — nobody can be in their own team (a lead can't review their own gap checks)."))
    previous = deps.store.lead_of(member)
    if word == "remove":
        if previous is not None and previous != user_id:
            return _text(refuse(deps.store, user_id, action, member, f"remove: in {previous}'s team",
                                f"Sorry — {_who(member)} is in {_who(previous)}'s team, not yours."))
        if deps.store.remove_from_team(user_id, member):
            deps.store.audit(user_id, action, "ok", member, "remove")
            return _text(f"{_who(member)} is no longer in your team.")
        return _text(f"{_who(member)} isn't in your team.")
    is_admin = role_of(deps.store, deps.settings, user_id) == Role.ADMIN
    done, previous = deps.store.join_team(user_id, member, user_id, allow_move=is_admin)
    if previous == user_id:
        return _text(f"{_who(member)} is already in your team.")
    if not done:
        return _text(refuse(deps.store, user_id, action, member, f"add: in {previous}'s team",
                            f"Sorry — {_who(member)} is already in {_who(previous)}'s team. Moving someone "
                            "between teams is for HR or an admin (`/ladder team move @person @lead`)."))
    deps.store.audit(user_id, action, "ok", member, f"add: moved from {previous}" if previous else "add")
    if previous is None:
        return _text(f"{_who(member)} is in your team.")
    reply = _text(f"{_who(member)} is in your team (moved from {_who(previous)}'s team; they have been told).")
    reply.followups = [_moved_notice(member, previous, user_id, user_id)]
    return reply


def _moved_notice(member: str, previous: str, new_lead: str, by: str) -> Reply:
    text = f"{_who(by)} moved {_who(member)} from your team to {_who(new_lead)}'s team."
    return Reply(text=text, blocks=B.text_blocks(text), ephemeral=False, to_user=previous)


def _team_move(deps: Deps, user_id: str, rest: str) -> Reply:
    """`team move @person @lead` (HR, admins): put someone in a lead's team; the previous lead is told."""
    words = rest.split()
    member = parse_user(words[0]) if words else None
    refusal = authorize(deps.store, deps.settings, user_id, "team.move", member, audit_ok=False)
    if refusal:
        return _text(refusal)
    lead = parse_user(words[1]) if len(words) == 2 else None
    if member is None or lead is None:
        deps.store.audit(user_id, "team.move", "invalid", member, "usage")
        return _text("Usage: `/ladder team move @person @lead`.")
    if member == lead:
        return _text(refuse(deps.store, user_id, "team.move", member, "own team",
                            "Sorry — nobody can be in their own team."))
    if role_of(deps.store, deps.settings, lead) not in (Role.LEAD, Role.ADMIN):
        return _text(f"{_who(lead)} isn't a team lead. Make them one first: `/ladder role @person lead`.")
    done, previous = deps.store.join_team(lead, member, user_id, allow_move=True)
    if not done:
        return _text(f"{_who(member)} is already in {_who(lead)}'s team.")
    deps.store.audit(user_id, "team.move", "ok", member, f"{previous or 'no team'} -> {lead}")
    moved = f" (moved from {_who(previous)}'s team; they have been told)" if previous else ""
    reply = _text(f"{_who(member)} is in {_who(lead)}'s team{moved}.")
    if previous and previous != user_id:
        reply.followups.append(_moved_notice(member, previous, lead, user_id))
    if lead != user_id:
        told = f"{_who(user_id)} put {_who(member)} in your team."
        reply.followups.append(Reply(text=told, blocks=B.text_blocks(told), ephemeral=False, to_user=lead))
    return reply


def cmd_assign(deps: Deps, user_id: str, args: str) -> Reply:
    token, _, target_name = args.strip().partition(" ")
    member = parse_user(token)
    refusal = authorize(deps.store, deps.settings, user_id, "assign", member, audit_ok=False, check_scope=False)
    if refusal:
        return _text(refusal)
    if member is None or not target_name.strip():
        deps.store.audit(user_id, "assign", "invalid", member, "usage")
        return _text("Usage: `/ladder assign @person TARGET`, e.g. `/ladder assign @sam senior agent`.")
    try:
        target = deps.kb.resolve(target_name)
    except LevelNotFound as exc:
        deps.store.audit(user_id, "assign", "invalid", member, "unknown level")
        return _text(exc.message)
    refusal = authorize_target(deps.store, deps.settings, user_id, "assign", member)
    if refusal:
        return _text(refusal)
    deps.store.audit(user_id, "assign", "sent", member, target.id)
    invite = (f"{_who(user_id)} invites you to run a gap check for *{escape(target.label)}*. "
              "It takes a few minutes, one question at a time, and only you see your answers until you share them.")
    blocks = B.invite_blocks(invite, target)
    reply = _text(f"I've asked {_who(member)} to run a gap check for *{escape(target.label)}*.")
    reply.followups = [Reply(text=f"Gap check invitation: {target.label}", blocks=blocks, ephemeral=False, to_user=member)]
    return reply


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
        return _text(refusal)
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
    return _text("\n".join(lines))


ANNOUNCE_MAX = 1500


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def _channel_name(channel: str) -> str:
    return f"<#{channel}>" if channel[0] in "CG" else f"#{escape(channel.lstrip('#'))}"


def delivery_words(deps: Deps, people: int, about: str) -> str:
    """What really happens to a queued broadcast: where it goes, and whether anything sends it now."""
    channel = deps.settings.announce_channel
    where = []
    if channel:
        where.append(f"a post in {_channel_name(channel)}")
    if people:
        where.append(f"a DM to {_people(people)} {about}")
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
        return _text(refusal)
    level_id, message = _announce_parts(deps, args)
    if not message:
        deps.store.audit(user_id, "announce", "invalid", None, "no message")
        return _text("Usage: `/ladder announce [LEVEL:] MESSAGE`, e.g. "
                     "`/ladder announce senior agent: the KPI threshold is now 103%`.")
    if len(message) > ANNOUNCE_MAX:
        deps.store.audit(user_id, "announce", "invalid", level_id, f"{len(message)} characters")
        return _text(f"That message is {len(message)} characters; keep announcements under {ANNOUNCE_MAX}.")
    channel = deps.settings.announce_channel
    from bot.storage.outbox import recipients_for_level

    people = recipients_for_level(deps.store, level_id) if level_id else []
    level = deps.kb.level(level_id).label if level_id else None
    about = f"whose gap checks target *{escape(level)}*" if level else ""
    preview = f"*Preview* — *Send* queues {delivery_words(deps, len(people), about)}\n\n>{escape(message)}"
    if not channel and not people:
        deps.store.audit(user_id, "announce", "invalid", level_id, "no recipients")
        return _text(preview + "\n\nNobody would receive this, so there is nothing to send.")
    from bot.storage.outbox import create_draft

    draft_id = create_draft(deps.store, user_id, level_id, message)  # the button carries only its id
    deps.store.audit(user_id, "announce", "previewed", level_id, f"draft {draft_id}")
    return Reply(text="Announcement preview", blocks=B.confirm_blocks(preview, B.ANNOUNCE_SEND, str(draft_id)))


def confirm_announce(deps: Deps, user_id: str, value: str) -> Reply:
    """*Send* on a preview: the draft becomes a broadcast once (a second click finds it sent)."""
    from bot.storage.outbox import draft, recipients_for_level, send_draft

    refusal = authorize(deps.store, deps.settings, user_id, "announce", audit_ok=False)
    if refusal:
        return _text(refusal)
    draft_id = row_id(value)
    row = draft(deps.store, draft_id) if draft_id is not None else None
    if row is None:
        return _text("That button is from an older message and no longer works.")
    level_id, message = row["level_id"], row["message"][:ANNOUNCE_MAX]
    if level_id and not deps.kb.has_level(level_id):
        return _text("That level no longer exists; nothing was sent.")
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
        return _text(f"That announcement was already sent (broadcast {bid}); nothing was sent again.")
    deps.store.audit(user_id, "announce.send", "sent", level_id, f"broadcast {bid}, {len(people)} DMs")
    if deps.kick_outbox:
        deps.kick_outbox()
    about = f"whose gap checks target {escape(level.label)}" if level else ""
    return Reply(text="Announcement queued", replace=True, blocks=B.text_blocks(
        f"Broadcast {bid} queued: {delivery_words(deps, len(people), about)}"))


# -- HR edits ------------------------------------------------------------------------------------------

def cmd_edit(deps: Deps, user_id: str, args: str) -> Reply:
    """/ladder edit LEVEL — a form in Slack (a modal)."""
    import json as _json

    refusal = authorize(deps.store, deps.settings, user_id, "edit.open", audit_ok=False)
    if refusal:
        return _text(refusal)
    if not args.strip():
        deps.store.audit(user_id, "edit.open", "invalid", None, "no level")
        return _text("Usage: `/ladder edit LEVEL`, e.g. `/ladder edit senior agent`.")
    try:
        level = deps.kb.resolve(args)
    except LevelNotFound as exc:
        deps.store.audit(user_id, "edit.open", "invalid", None, "unknown level")
        return _text(exc.message)
    deps.store.audit(user_id, "edit.open", "opened", level.id, f"knowledge {deps.kb.version}")
    meta = _json.dumps({"level": level.id, "version": deps.kb.version})
    reply = _text(f"Opening the form for *{escape(level.label)}*…")
    reply.modal = B.edit_modal(level, deps.kb.tracks[level.track].title, meta)
    return reply


def submit_edit(deps: Deps, user_id: str, metadata: str, values: dict[str, str]) -> tuple[dict[str, str] | None, object]:
    """Validate a submitted edit. Returns (errors by block id, None) or (None, a partial of apply_edit)."""""
    import json as _json

    from bot.storage.versions import EditError, edited_level

    if authorize(deps.store, deps.settings, user_id, "edit.save", audit_ok=False):
        return {B.EDIT_BLOCKS["note"]: "Sorry — you no longer have the hr or admin role, so nothing was saved."}, None
    try:
        meta = _json.loads(metadata or "{}")
        level = deps.kb.level(meta["level"])
    except (ValueError, KeyError, LevelNotFound):
        return {B.EDIT_BLOCKS["note"]: "This form is out of date: close it and run /ladder edit again."}, None
    from bot.storage.versions import newest_version

    # the live version is the newest one stored (this worker process may be a moment behind another)
    if meta.get("version") != (newest_version(deps.store) or deps.kb.version):
        return {B.EDIT_BLOCKS["note"]: "The ladder changed since you opened this form: close it and open it again."}, None
    if EDIT_LOCK.locked():
        return {B.EDIT_BLOCKS["note"]: f"{CHANGED_WHILE_EDITING} Nothing was saved."}, None
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
    # keywords only, plain data: the inbox stores them (bot/listeners/views.py)
    return None, functools.partial(apply_edit, deps, user_id, level_id=level.id, data=data, note=note,
                                   announce=announce, parent=meta["version"])


EDIT_LOCK = threading.Lock()  # one edit applied at a time in this process (store, re-index, swap)
CHANGED_WHILE_EDITING = "The ladder changed while you were editing — reopen the form."


def apply_edit(deps: Deps, user_id: str, level_id: str, data: dict, note: str, announce: str = "",
               parent: str | None = None, job_id: int | None = None) -> Reply:
    """Store the version (and, if HR wrote an announcement, its broadcast, in the same transaction),
    index it beside the live one, swap the advisor, and tell HR. ``parent`` is the version the form
    was opened on: if the ladder has moved on since (another edit), nothing is saved and HR is told."""
    with EDIT_LOCK, _edit_lock_across_processes(deps.settings):
        if job_id is not None:   # the inbox's job, done again after a crash: saved already?
            from bot.storage.versions import saved_by_job

            saved = saved_by_job(deps.store, job_id)
            if saved is not None:
                return _confirm_late(deps, user_id, level_id, saved)
        return _apply_edit(deps, user_id, level_id, data, note, announce, parent, job_id)


def _confirm_late(deps: Deps, user_id: str, level_id: str, saved: dict) -> Reply:
    """The edit was saved before Ladder stopped: make its version live if it is still the newest, then
    confirm it (its held announcement is released once the version is live)."""
    import json as _json

    from bot.storage.outbox import release
    from bot.service import go_live, live_knowledge
    from bot.storage.versions import diff_text, newest_version

    if newest_version(deps.store) == saved["version"] and deps.kb.version != saved["version"]:
        kb = live_knowledge(deps.settings, deps.store)
        if deps.advisor.index.knowledge_version != kb.version:
            go_live(deps, kb)
        release(deps.store, knowledge_version=kb.version)
        if deps.kick_outbox:
            deps.kick_outbox()
    label = deps.kb.level(level_id).label if deps.kb.has_level(level_id) else level_id
    text = (f"Saved *{escape(label)}* as knowledge {saved['version']} (was {saved['parent']}). Ladder restarted "
            f"while saving it, so this confirmation comes late.\n_{escape(saved['note'] or '')}_\n"
            f"```{escape(diff_text(_json.loads(saved['diff'])))}```")
    return Reply(text="Level saved", ephemeral=False, dm=True, blocks=B.text_blocks(text))


def edit_failed(deps: Deps, user_id: str, level_id: str, job_id: int) -> Reply:
    """Saving raised: tell HR whether the edit was saved (its version stored) or not."""
    from bot.storage.versions import saved_by_job

    label = deps.kb.level(level_id).label if deps.kb.has_level(level_id) else level_id
    if saved_by_job(deps.store, job_id) is not None:
        text = (f"*{escape(label)}* was saved, but something went wrong on my side while making it live; "
                "it has been logged, and Ladder serves it after its next restart.")
    else:
        text = (f"*{escape(label)}* was *not saved*: something went wrong on my side (it has been logged). "
                f"Open the form again with `/ladder edit {level_id}`.")
    return Reply(text="Level edit", ephemeral=False, dm=True, blocks=B.text_blocks(text))


@contextmanager
def _edit_lock_across_processes(settings):
    """Edits are applied one at a time by all worker processes of this index (store, index, swap), so
    builds swap in the order their versions were stored."""
    import fcntl

    Path(settings.index_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(settings.index_dir) / ".edit-lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _conflict(deps: Deps, user_id: str, level_id: str, detail: str) -> Reply:
    deps.store.audit(user_id, "edit.save", "refused", level_id, detail)
    label = deps.kb.level(level_id).label if deps.kb.has_level(level_id) else level_id
    text = f"*{escape(label)}* was not saved: {CHANGED_WHILE_EDITING} (`/ladder edit {level_id}` shows the new version.)"
    return Reply(text="Level not saved", ephemeral=False, dm=True, blocks=B.text_blocks(text))


def _apply_edit(deps: Deps, user_id: str, level_id: str, data: dict, note: str, announce: str,
                parent: str | None, job_id: int | None = None) -> Reply:
    from bot.storage.outbox import insert_broadcast, recipients_for_level, release
    from bot.service import go_live, live_knowledge, versions_root
    from bot.storage.versions import EditConflict, diff_text, save_edit

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
            level_id=level_id, knowledge_version=new_kb.version, note=announce,
            held=True)  # delivered only once the version is live (released after the swap below)
        queued["people"] = len(people)

    old = deps.advisor
    parent = parent or old.kb.version
    base = old.kb
    if base.version != parent:   # this process may be a moment behind the one that saved the version
        stored = live_knowledge(deps.settings, deps.store)
        if stored.version != parent:
            return _conflict(deps, user_id, level_id, f"form on {parent}, live is {stored.version}")
        base = stored
    try:
        new_kb, diff = save_edit(deps.store, base, deps.settings.knowledge_dir, versions_root(deps.settings),
                                 level_id, data, author=user_id, note=note, also=broadcast, parent=parent,
                                 job_id=job_id)
    except EditConflict as exc:
        return _conflict(deps, user_id, level_id, str(exc))
    go_live(deps, new_kb)
    if queued:
        release(deps.store, broadcast_id=queued["id"])  # the version is live: its announcement may go out
    deps.store.audit(user_id, "edit.save", "saved", level_id, f"{base.version} -> {new_kb.version}")
    if queued and deps.kick_outbox:
        deps.kick_outbox()
    level = new_kb.level(level_id)
    text = (f"Saved *{escape(level.label)}* as knowledge {new_kb.version} (was {base.version}) and it is live.\n"
            f"_{escape(note)}_\n```{escape(diff_text(diff))}```")
    if queued:
        text += f"\nBroadcast {queued['id']} queued: " + delivery_words(
            deps, queued["people"], "whose gap checks target this level")
    else:
        text += "\nNo announcement was sent (the form's announcement was empty). Use `/ladder announce` to send one."
    return Reply(text="Level saved", ephemeral=False, dm=True, blocks=B.text_blocks(text))


def cmd_history(deps: Deps, user_id: str, args: str) -> Reply:
    """/ladder history LEVEL — the level's versions, newest first, with what changed."""
    import json as _json

    from bot.storage.versions import diff_text, history

    refusal = authorize(deps.store, deps.settings, user_id, "history", audit_ok=False)
    if refusal:
        return _text(refusal)
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

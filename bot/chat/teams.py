"""Who is who: /ladder role, /ladder team [add|remove|move], /ladder assign. No Slack transport."""

from __future__ import annotations

import re

from bot.chat import blocks as B
from bot.chat import gap_handlers
from bot.chat.replies import Deps, Reply, mention, resolve_or_refuse, text_reply
from bot.core.render import escape, headcount
from bot.storage.authz import Role, authorize, authorize_target, leads_a_team, refuse, role_of

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")


def parse_user(token: str) -> str | None:
    """``<@U123|name>`` (how Slack escapes a mention in a slash command), ``<@U123>`` or ``U123``."""
    m = _MENTION.match(token.strip())
    return (m.group(1) or m.group(2)) if m else None


def cmd_role(deps: Deps, user_id: str, args: str) -> Reply:
    parts = args.split()
    target = parse_user(parts[0]) if parts else None
    refusal = authorize(deps.store, deps.settings, user_id, "role.set", target, audit_ok=False)
    if refusal:
        return text_reply(refusal)
    if len(parts) != 2 or target is None:
        deps.store.audit(user_id, "role.set", "invalid", target, "usage")
        return text_reply("Usage: `/ladder role @person ROLE` where ROLE is agent, lead, hr or admin.")
    role = parts[1].lower()
    if role not in {r.value for r in Role}:
        deps.store.audit(user_id, "role.set", "invalid", target, "unknown role")
        return text_reply(f"`{escape(role[:20])}` is not a role: use agent, lead, hr or admin.")
    actor_is_admin = role_of(deps.store, deps.settings, user_id) == Role.ADMIN
    if target in deps.settings.admins:
        return text_reply(refuse(deps.store, user_id, "role.set", target, "admin from LADDER_ADMINS",
                            f"Sorry — {mention(target)} is an admin through `LADDER_ADMINS`; only that setting "
                            "changes their role."))
    if role_of(deps.store, deps.settings, target) == Role.ADMIN and not actor_is_admin:
        return text_reply(refuse(deps.store, user_id, "role.set", target, "only admins change an admin's role",
                            "Sorry — only an admin can change an admin's role."))
    if role == Role.ADMIN.value and not actor_is_admin:
        return text_reply(refuse(deps.store, user_id, "role.set", target, "only admins make admins",
                            "Sorry — only an admin can make someone an admin."))
    before = deps.store.role(target) or Role.AGENT.value
    deps.store.set_role(target, role, user_id)
    deps.store.audit(user_id, "role.set", "ok", target, f"{before} -> {role}")
    reply = text_reply(f"{mention(target)} is now *{role}*.")
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
        return text_reply(refusal)
    members = deps.store.team(user_id)
    if role_of(deps.store, deps.settings, user_id) in (Role.HR, Role.ADMIN):
        return text_reply(_org_teams(deps, user_id, members))
    if not members:
        return text_reply("Your team is empty. Add people with `/ladder team add @person`.")
    return text_reply(_team_lines(deps, user_id, members))


def _team_lines(deps: Deps, user_id: str, members: list[str]) -> str:
    kb = deps.kb
    lines = [f"*Your team* ({len(members)})"]
    for member in members:
        profile = deps.store.profile(member)
        level = kb.level(profile["current_level"]).label if kb.has_level(profile.get("current_level") or "") else "level not set"
        target = kb.level(profile["target_level"]).label if kb.has_level(profile.get("target_level") or "") else "no target"
        shared = deps.store.shared_checks(member, user_id)
        lines.append(f"• {mention(member)} · {escape(level)} → {escape(target)}"
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
    lines.append(f"*Teams* ({leads} {'lead' if leads == 1 else 'leads'}, {headcount(sum(map(len, teams.values())))})")
    for lead, people in teams.items():
        lines.append(f"• {mention(lead)} ({len(people)}): " + ", ".join(mention(m) for m in people[:30])
                     + (f" and {len(people) - 30} more" if len(people) > 30 else ""))
    lines.append("_Move someone with `/ladder team move @person @lead`._")
    return "\n".join(lines)


def _team_edit(deps: Deps, user_id: str, word: str, rest: str) -> Reply:
    """`team add|remove @person`: one's own team. A lead adds only people in no team."""
    member = _team_member_arg(rest)
    refusal = authorize(deps.store, deps.settings, user_id, "team.edit", member, audit_ok=False)
    if refusal:
        return text_reply(refusal)
    if member is None:
        deps.store.audit(user_id, "team.edit", "invalid", None, f"{word}: usage")
        return text_reply(f"Usage: `/ladder team {word} @person`.")
    action = "team.edit"
    if member == user_id:
        return text_reply(refuse(deps.store, user_id, action, member, f"{word}: own team",
                            "Sorry — nobody can be in their own team (a lead can't review their own gap checks)."))
    previous = deps.store.lead_of(member)
    if word == "remove":
        if previous is not None and previous != user_id:
            return text_reply(refuse(deps.store, user_id, action, member, f"remove: in {previous}'s team",
                                f"Sorry — {mention(member)} is in {mention(previous)}'s team, not yours."))
        if deps.store.remove_from_team(user_id, member):
            deps.store.audit(user_id, action, "ok", member, "remove")
            return text_reply(f"{mention(member)} is no longer in your team.")
        return text_reply(f"{mention(member)} isn't in your team.")
    is_admin = role_of(deps.store, deps.settings, user_id) == Role.ADMIN
    done, previous = deps.store.join_team(user_id, member, user_id, allow_move=is_admin)
    if previous == user_id:
        return text_reply(f"{mention(member)} is already in your team.")
    if not done:
        return text_reply(refuse(deps.store, user_id, action, member, f"add: in {previous}'s team",
                            f"Sorry — {mention(member)} is already in {mention(previous)}'s team. Moving someone "
                            "between teams is for HR or an admin (`/ladder team move @person @lead`)."))
    deps.store.audit(user_id, action, "ok", member, f"add: moved from {previous}" if previous else "add")
    if previous is None:
        return text_reply(f"{mention(member)} is in your team.")
    reply = text_reply(f"{mention(member)} is in your team (moved from {mention(previous)}'s team; they have been told).")
    reply.followups = [_moved_notice(member, previous, user_id, user_id)]
    return reply


def _moved_notice(member: str, previous: str, new_lead: str, by: str) -> Reply:
    text = f"{mention(by)} moved {mention(member)} from your team to {mention(new_lead)}'s team."
    return Reply(text=text, blocks=B.text_blocks(text), ephemeral=False, to_user=previous)


def _team_move(deps: Deps, user_id: str, rest: str) -> Reply:
    """`team move @person @lead` (HR, admins): put someone in a lead's team; the previous lead is told."""
    words = rest.split()
    member = parse_user(words[0]) if words else None
    refusal = authorize(deps.store, deps.settings, user_id, "team.move", member, audit_ok=False)
    if refusal:
        return text_reply(refusal)
    lead = parse_user(words[1]) if len(words) == 2 else None
    if member is None or lead is None:
        deps.store.audit(user_id, "team.move", "invalid", member, "usage")
        return text_reply("Usage: `/ladder team move @person @lead`.")
    if member == lead:
        return text_reply(refuse(deps.store, user_id, "team.move", member, "own team",
                            "Sorry — nobody can be in their own team."))
    if role_of(deps.store, deps.settings, lead) not in (Role.LEAD, Role.ADMIN):
        return text_reply(f"{mention(lead)} isn't a team lead. Make them one first: `/ladder role @person lead`.")
    done, previous = deps.store.join_team(lead, member, user_id, allow_move=True)
    if not done:
        return text_reply(f"{mention(member)} is already in {mention(lead)}'s team.")
    deps.store.audit(user_id, "team.move", "ok", member, f"{previous or 'no team'} -> {lead}")
    moved = f" (moved from {mention(previous)}'s team; they have been told)" if previous else ""
    reply = text_reply(f"{mention(member)} is in {mention(lead)}'s team{moved}.")
    if previous and previous != user_id:
        reply.followups.append(_moved_notice(member, previous, lead, user_id))
    if lead != user_id:
        told = f"{mention(user_id)} put {mention(member)} in your team."
        reply.followups.append(Reply(text=told, blocks=B.text_blocks(told), ephemeral=False, to_user=lead))
    return reply


def cmd_assign(deps: Deps, user_id: str, args: str) -> Reply:
    token, _, target_name = args.strip().partition(" ")
    member = parse_user(token)
    refusal = authorize(deps.store, deps.settings, user_id, "assign", member, audit_ok=False, check_scope=False)
    if refusal:
        return text_reply(refusal)
    if member is None or not target_name.strip():
        deps.store.audit(user_id, "assign", "invalid", member, "usage")
        return text_reply("Usage: `/ladder assign @person TARGET`, e.g. `/ladder assign @sam senior agent`.")
    target = resolve_or_refuse(deps, user_id, "assign", member, target_name)
    if isinstance(target, Reply):
        return target
    refusal = authorize_target(deps.store, deps.settings, user_id, "assign", member)
    if refusal:
        return text_reply(refusal)
    deps.store.audit(user_id, "assign", "sent", member, target.id)
    invite = (f"{mention(user_id)} invites you to run a gap check for *{escape(target.label)}*. "
              "It takes a few minutes, one question at a time, and only you see your answers until you share them.")
    blocks = B.invite_blocks(invite, target)
    reply = text_reply(f"I've asked {mention(member)} to run a gap check for *{escape(target.label)}*.")
    reply.followups = [Reply(text=f"Gap check invitation: {target.label}", blocks=blocks, ephemeral=False, to_user=member)]
    return reply

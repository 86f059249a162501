"""Who may do what. Roles live in SQLite; admins come from ``LADDER_ADMINS``. No Slack here.

Every privileged action and every refusal is written to the audit table. Handlers authorize first
(a refusal is audited whatever the input looked like), then validate the input, then check the
target (a lead's powers stop at their own team; only an admin touches an admin), then act and audit
the outcome.
"""

from __future__ import annotations

from enum import Enum

from bot.core.config import Settings
from bot.storage.store import Store


class Role(str, Enum):
    AGENT = "agent"
    LEAD = "lead"
    HR = "hr"
    ADMIN = "admin"


# action -> roles that may do it (a lead's powers over people stop at their own team: see may())
PERMISSIONS: dict[str, frozenset[Role]] = {
    "role.set": frozenset({Role.HR, Role.ADMIN}),
    "team.view": frozenset({Role.LEAD, Role.HR, Role.ADMIN}),
    "team.edit": frozenset({Role.LEAD, Role.ADMIN}),       # add / remove people in one's own team
    "team.move": frozenset({Role.HR, Role.ADMIN}),         # put someone in any lead's team (moving them)
    "assign": frozenset({Role.LEAD, Role.HR, Role.ADMIN}),
    "stats": frozenset({Role.HR, Role.ADMIN}),
    "announce": frozenset({Role.HR, Role.ADMIN}),          # the preview and its Send button
    "edit.open": frozenset({Role.HR, Role.ADMIN}),
    "edit.save": frozenset({Role.HR, Role.ADMIN}),
    "history": frozenset({Role.LEAD, Role.HR, Role.ADMIN}),   # as the help lists it: who changed what, and why
}
# who leads a team: checked when a member shares a gap check and when the lead reviews it, not only when
# the team was built (a lead demoted since then has no team to review)
LEADS_A_TEAM = PERMISSIONS["team.edit"]
TEAM_SCOPED = {"assign"}  # a lead may do these only for members of their own team
REFUSAL = "Sorry — {what} is for {who}. If you need it, ask an admin for the role."
ROLE_NAMES = {Role.LEAD: "team leads", Role.HR: "HR", Role.ADMIN: "admins", Role.AGENT: "everyone"}


def who_may(action: str) -> str:
    """'team leads, HR and admins': the roles allowed an action, in words, in rank order."""
    names = [ROLE_NAMES[r] for r in Role if r in PERMISSIONS[action]]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
NOT_YOUR_TEAM = "Sorry — you can do that only for people in your own team (`/ladder team add @person`)."


def role_of(store: Store, settings: Settings, user_id: str) -> Role:
    if user_id in settings.admins:
        return Role.ADMIN
    stored = store.role(user_id)
    return Role(stored) if stored in {r.value for r in Role} else Role.AGENT


def may(store: Store, settings: Settings, user_id: str, action: str, target: str | None = None) -> bool:
    role = role_of(store, settings, user_id)
    if role not in PERMISSIONS[action]:
        return False
    if action in TEAM_SCOPED and role == Role.LEAD and target is not None:
        return store.lead_of(target) == user_id
    return True


def leads_a_team(store: Store, settings: Settings, user_id: str) -> bool:
    return role_of(store, settings, user_id) in LEADS_A_TEAM


def refuse(store: Store, user_id: str, action: str, target: str | None, detail: str, message: str) -> str:
    """Audit a refusal and return the polite message to show."""
    store.audit(user_id, action, "refused", target, detail)
    return message


def authorize(store: Store, settings: Settings, user_id: str, action: str, target: str | None = None, *,
              audit_ok: bool = True, check_scope: bool = True) -> str | None:
    """None when the person's role allows ``action`` (audited as ok unless ``audit_ok`` is False: then
    the handler audits the outcome once it has acted); otherwise the polite refusal (audited).
    ``check_scope=False`` leaves a lead's team check to :func:`authorize_target` (after validation)."""
    role = role_of(store, settings, user_id)
    if role not in PERMISSIONS[action]:
        return refuse(store, user_id, action, target, f"role {role.value}",
                      REFUSAL.format(what=f"`/ladder {action.split('.')[0]}`", who=who_may(action)))
    if check_scope and action in TEAM_SCOPED and target is not None and not may(store, settings, user_id, action, target):
        return refuse(store, user_id, action, target, "not in their team", NOT_YOUR_TEAM)
    if audit_ok:
        store.audit(user_id, action, "ok", target)
    return None


def authorize_target(store: Store, settings: Settings, user_id: str, action: str, target: str) -> str | None:
    """The target check once the input is valid: a lead may act only on their own team (audited)."""
    if may(store, settings, user_id, action, target):
        return None
    return refuse(store, user_id, action, target, "not in their team", NOT_YOUR_TEAM)

"""Who may do what. Roles live in SQLite; admins come from ``LADDER_ADMINS``. No Slack here.

Every privileged action and every refusal is written to the audit table.
"""

from __future__ import annotations

from enum import Enum

from bot.config import Settings
from bot.store import Store


class Role(str, Enum):
    AGENT = "agent"
    LEAD = "lead"
    HR = "hr"
    ADMIN = "admin"


# action -> roles that may do it (a lead's powers over people stop at their own team: see may())
PERMISSIONS: dict[str, frozenset[Role]] = {
    "role.set": frozenset({Role.HR, Role.ADMIN}),
    "team.view": frozenset({Role.LEAD, Role.HR, Role.ADMIN}),
    "team.edit": frozenset({Role.LEAD, Role.ADMIN}),
    "assign": frozenset({Role.LEAD, Role.HR, Role.ADMIN}),
    "audit.view": frozenset({Role.HR, Role.ADMIN}),
    "stats": frozenset({Role.HR, Role.ADMIN}),
    "announce": frozenset({Role.HR, Role.ADMIN}),
    "edit": frozenset({Role.HR, Role.ADMIN}),
}
TEAM_SCOPED = {"assign"}  # a lead may do these only for members of their own team
REFUSAL = "Sorry — {what} is for {who}. If you need it, ask an admin for the role."


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


def authorize(store: Store, settings: Settings, user_id: str, action: str, target: str | None = None) -> str | None:
    """None when allowed (and audited); otherwise the polite refusal to show (also audited)."""
    if may(store, settings, user_id, action, target):
        store.audit(user_id, action, "ok", target)
        return None
    store.audit(user_id, action, "refused", target, f"role {role_of(store, settings, user_id).value}")
    who = " or ".join(sorted(r.value for r in PERMISSIONS[action]))
    if action in TEAM_SCOPED and role_of(store, settings, user_id) == Role.LEAD:
        return "Sorry — you can do that only for people in your own team (`/ladder team add @person`)."
    return REFUSAL.format(what=f"`{action.split('.')[0]}`", who=who)

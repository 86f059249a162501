"""Friendly reminders, through the outbox: exactly once, never at night, and off for whoever asks.

* An unfinished gap check (in progress or paused) untouched for ``LADDER_REMIND_DAYS`` days (default 7)
  gets one nudge, ever, with *Resume* and *Stop reminding me*.
* A team lead with gap checks waiting for their review gets one reminder a week while any wait.

A reminder is queued only in the person's daytime (:data:`DAY_HOURS` in their Slack time zone, from
``users.info``, kept in their profile): at night it waits for a later run. The reminder row (unique per
check, or per lead and day), the broadcast and its outbox row are written in one ``BEGIN IMMEDIATE``
transaction that first checks nothing was queued already, so two workers, a restart or a crash between
runs never send one twice; the outbox then delivers it exactly once. No Slack here: the time-zone
look-up is passed in.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.chat import blocks as B
from bot.core.gapcheck import State
from bot.core.render import escape
from bot.storage.outbox import insert_broadcast
from bot.storage.store import Store, state_in

log = logging.getLogger(__name__)
DAY_HOURS = (9, 19)        # reminders are queued from 9:00 to 18:59 in the person's own time zone
LEAD_EVERY = timedelta(days=7)
LEAD_AFTER = timedelta(days=2)   # a review waiting less than this is not worth a reminder yet
TzLookup = Callable[[str], "str | None"]

UNFINISHED = state_in((State.ASKING, State.PAUSED), "g.state")   # started and not finished: worth a nudge


def _stamp(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="seconds")


def is_daytime(tz_name: str | None, at: datetime) -> bool:
    try:
        zone = ZoneInfo(tz_name) if tz_name else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.utc
    return DAY_HOURS[0] <= at.astimezone(zone).hour < DAY_HOURS[1]


def _tz(store: Store, user_id: str, lookup: TzLookup | None) -> str | None:
    """The person's time zone: kept in their profile, else asked of Slack once (UTC when unknown)."""
    known = store.profile(user_id).get("tz")
    if known or lookup is None:
        return known
    try:
        found = lookup(user_id)
    except Exception:   # Slack unreachable: try again on a later run
        log.warning("could not look up the time zone of %s", user_id, exc_info=True)
        return None
    if found:
        store.set_profile(user_id, tz=found)
    return found


def _off(profile: dict) -> bool:
    return profile.get("reminders") == "off"


def due_checks(store: Store, days: int, at: datetime) -> list[dict]:
    """Open checks untouched for ``days`` whose nudge was never queued."""
    before = _stamp(at - timedelta(days=days))
    with store.db() as db:
        return list(db.query(
            f"SELECT * FROM gap_checks g WHERE {UNFINISHED} AND g.updated_at <= ? AND NOT EXISTS "
            "(SELECT 1 FROM reminders r WHERE r.kind = 'check' AND r.key = CAST(g.id AS TEXT)) ORDER BY g.id",
            [before]))


def waiting_leads(store: Store, at: datetime) -> dict[str, list[dict]]:
    """Leads with reviews shared at least :data:`LEAD_AFTER` ago and still waiting."""
    before = _stamp(at - LEAD_AFTER)
    with store.db() as db:
        rows = list(db.query(
            "SELECT g.* FROM gap_checks g JOIN teams t ON t.member_id = g.user_id AND t.lead_id = g.shared_with "
            "WHERE g.state = 'done' AND g.reviewed_at IS NULL AND g.shared_at <= ? ORDER BY g.id", [before]))
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row["shared_with"], []).append(row)
    return out


def _queue(store: Store, kind: str, key: str, user_id: str, text: str, blocks: list[dict], at: datetime,
           not_since: datetime | None = None) -> bool:
    """Queue one reminder unless it (or, with ``not_since``, one of its kind for that person since then) was."""
    with store.immediate() as db:
        if db.execute("SELECT 1 FROM reminders WHERE kind = ? AND key = ?", [kind, key]).fetchone():
            return False
        if not_since is not None and db.execute(
                "SELECT 1 FROM reminders WHERE kind = ? AND user_id = ? AND created_at > ?",
                [kind, user_id, _stamp(not_since)]).fetchone():
            return False
        bid = insert_broadcast(db, "ladder", channel=None, channel_message=None, dm_recipients=[user_id],
                               dm_message=(text, blocks), note=f"reminder: {kind} {key}")
        db["reminders"].insert({"kind": kind, "key": key, "user_id": user_id, "broadcast_id": bid,
                                "created_at": _stamp(at)})
        return True


def check_nudge(row: dict, answered: int, total: int) -> tuple[str, list[dict]]:
    text = (f"Hi! Your gap check for *{escape(row['target_title'])}* is waiting where you left it "
            f"({answered} of {total} answered). A few minutes more and you'll have your readiness report.")
    return (f"Your gap check for {row['target_title']} is waiting",
            B.reminder_blocks(text, [("Resume", B.GAP_RESUME, f"c{row['id']}s{row['step']}")]))


def lead_nudge(rows: list[dict]) -> tuple[str, list[dict]]:
    n = len(rows)
    text = (f"Hi! {n} gap check{'s are' if n != 1 else ' is'} waiting for your review: "
            + ", ".join(f"<@{r['user_id']}> ({escape(r['target_title'])})" for r in rows[:10])
            + (" and more" if n > 10 else "") + ". Your review tells them what you see — it takes a couple of minutes.")
    buttons = [(f"Review {escape(r['target_title'])} ({i})", B.GAP_OPEN_REVIEW, str(r["id"]))
               for i, r in enumerate(rows[:4], start=1)]
    return f"{n} gap check(s) waiting for your review", B.reminder_blocks(text, buttons)


def schedule(store: Store, days: int, tz_of: TzLookup | None = None, at: datetime | None = None) -> int:
    """Queue every reminder that is due and in its person's daytime; the number queued. ``days`` 0: none."""
    if days <= 0:
        return 0
    at = at or datetime.now(timezone.utc)
    queued = 0
    for row in due_checks(store, days, at):
        profile = store.profile(row["user_id"])
        if _off(profile) or not is_daytime(_tz(store, row["user_id"], tz_of), at):
            continue
        answered = sum(1 for a in store.check_answers(row["id"]) if a["rating"] != "skipped")
        text, blocks = check_nudge(row, answered, len(json.loads(row["plan"] or "[]")))
        queued += _queue(store, "check", str(row["id"]), row["user_id"], text, blocks, at)
    for lead, rows in waiting_leads(store, at).items():
        if _off(store.profile(lead)) or not is_daytime(_tz(store, lead, tz_of), at):
            continue
        text, blocks = lead_nudge(rows)
        queued += _queue(store, "lead", f"{lead}:{at.date().isoformat()}", lead, text, blocks, at,
                         not_since=at - LEAD_EVERY)
    return queued

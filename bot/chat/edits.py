"""HR's edits of a level: /ladder edit (a form), saving it as a new knowledge version that goes live in
this process and the others, and /ladder history. No Slack transport."""

from __future__ import annotations

import fcntl
import functools
import json
import threading
from contextlib import contextmanager
from pathlib import Path

from bot.chat import blocks as B
from bot.chat.announce import ANNOUNCE_MAX, delivery_words
from bot.chat.replies import Deps, Reply, mention, not_found, resolve_or_refuse, text_reply
from bot.core.knowledge import LevelNotFound
from bot.core.render import escape
from bot.storage.authz import authorize
from bot.storage.outbox import insert_broadcast, recipients_for_level, release
from bot.storage.versions import (EditConflict, EditError, diff_text, edited_level, history, live_knowledge,
                                  newest_version, save_edit, saved_by_job)


def cmd_edit(deps: Deps, user_id: str, args: str) -> Reply:
    """/ladder edit LEVEL — a form in Slack (a modal)."""
    refusal = authorize(deps.store, deps.settings, user_id, "edit.open", audit_ok=False)
    if refusal:
        return text_reply(refusal)
    if not args.strip():
        deps.store.audit(user_id, "edit.open", "invalid", None, "no level")
        return text_reply("Usage: `/ladder edit LEVEL`, e.g. `/ladder edit senior agent`.")
    level = resolve_or_refuse(deps, user_id, "edit.open", None, args)
    if isinstance(level, Reply):
        return level
    deps.store.audit(user_id, "edit.open", "opened", level.id, f"knowledge {deps.kb.version}")
    meta = json.dumps({"level": level.id, "version": deps.kb.version})
    reply = text_reply(f"Opening the form for *{escape(level.label)}*…")
    reply.modal = B.edit_modal(level, deps.kb.tracks[level.track].title, meta)
    return reply


def submit_edit(deps: Deps, user_id: str, metadata: str, values: dict[str, str]) -> tuple[dict[str, str] | None, object]:
    """Validate a submitted edit. Returns (errors by block id, None) or (None, a partial of apply_edit)."""""
    if authorize(deps.store, deps.settings, user_id, "edit.save", audit_ok=False):
        return {B.EDIT_BLOCKS["note"]: "Sorry — you no longer have the hr or admin role, so nothing was saved."}, None
    try:
        meta = json.loads(metadata or "{}")
        level = deps.kb.level(meta["level"])
    except (ValueError, KeyError, LevelNotFound):
        return {B.EDIT_BLOCKS["note"]: "This form is out of date: close it and run /ladder edit again."}, None
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
            saved = saved_by_job(deps.store, job_id)
            if saved is not None:
                return _confirm_late(deps, user_id, level_id, saved)
        return _apply_edit(deps, user_id, level_id, data, note, announce, parent, job_id)


def _confirm_late(deps: Deps, user_id: str, level_id: str, saved: dict) -> Reply:
    """The edit was saved before Ladder stopped: make its version live if it is still the newest, then
    confirm it (its held announcement is released once the version is live)."""
    if newest_version(deps.store) == saved["version"] and deps.kb.version != saved["version"]:
        kb = live_knowledge(deps.settings, deps.store)
        if deps.advisor.index.knowledge_version != kb.version:
            deps.go_live(kb)
        release(deps.store, knowledge_version=kb.version)
        if deps.kick_outbox:
            deps.kick_outbox()
    label = deps.kb.level(level_id).label if deps.kb.has_level(level_id) else level_id
    text = (f"Saved *{escape(label)}* as knowledge {saved['version']} (was {saved['parent']}). Ladder restarted "
            f"while saving it, so this confirmation comes late.\n_{escape(saved['note'] or '')}_\n"
            f"```{escape(diff_text(json.loads(saved['diff'])))}```")
    return Reply(text="Level saved", ephemeral=False, dm=True, blocks=B.text_blocks(text))


def edit_failed(deps: Deps, user_id: str, level_id: str, job_id: int) -> Reply:
    """Saving raised: tell HR whether the edit was saved (its version stored) or not."""
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
        new_kb, diff = save_edit(deps.store, base, deps.settings.knowledge_dir, deps.settings.versions_dir,
                                 level_id, data, author=user_id, note=note, also=broadcast, parent=parent,
                                 job_id=job_id)
    except EditConflict as exc:
        return _conflict(deps, user_id, level_id, str(exc))
    deps.go_live(new_kb)
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
    refusal = authorize(deps.store, deps.settings, user_id, "history", audit_ok=False)
    if refusal:
        return text_reply(refusal)
    try:
        level = deps.kb.resolve(args)
    except LevelNotFound as exc:
        return text_reply(not_found(exc))
    rows = history(deps.store, level.id)
    if not rows:
        return text_reply(f"*{escape(level.label)}* has not been edited since the career map was imported.")
    lines = [f"*History of {escape(level.label)}*"]
    for row in rows[:15]:
        lines.append(f"• {row['created_at'][:16].replace('T', ' ')} · {mention(row['created_by'])} · "
                     f"knowledge {row['version']}: _{escape(row['note'] or '')}_")
        lines += [f"    {escape(line)}" for line in diff_text(json.loads(row["diff"])).splitlines()]
    return text_reply("\n".join(lines))

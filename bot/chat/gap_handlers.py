"""The gap check as people meet it: replies for /ladder gap, its buttons, resume and the report.

Like :mod:`bot.chat.handlers`, no Slack transport: the listeners and the console post what these return.
Each answer is committed (with the move to the next step) before the next question is built.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from typing import Callable

from bot.chat import blocks as B
from bot.chat.chart import readiness_chart
from bot.chat.replies import Deps, Reply, not_found, text_reply
from bot.core.gapcheck import (
    OPEN_STATES, RATING_LABELS, RATING_SCORE, STATE_WORDS, TRANSITIONS, StepAnswer, Check, Event, GapError, Rating, State, Step,
    describe, next_steps, parse_months, plan, report, track_change, transition,
)
from bot.core.knowledge import LevelNotFound, load_knowledge
from bot.core.render import escape
from bot.storage.authz import leads_a_team
from bot.storage.store import CheckAlreadyOpen, now, row_id as _id

log = logging.getLogger(__name__)


# -- loading ---------------------------------------------------------------------------------------

def _check(deps: Deps, row: dict) -> Check:
    steps = [Step(**s) for s in json.loads(row["plan"])]
    answers = {
        a["step"]: StepAnswer(a["step"], Rating(a["rating"]), a["value"], a["note"])
        for a in deps.store.check_answers(row["id"])
    }
    return Check(row["id"], row["user_id"], row["current_level"], row["target_level"], row["target_title"],
                 row["knowledge_version"], steps, State(row["state"]), row["step"], answers)


def _value(check_id: int, step: int) -> str:
    return f"c{check_id}s{step}"


def _not_yours(deps: Deps, user_id: str, action: str, row: dict) -> Reply:
    """Someone else's check id in a button: refused, audited, and nothing about the check shown."""
    deps.store.audit(user_id, action, "refused", str(row["id"]), "not the owner")
    return text_reply("That gap check belongs to someone else, so I can't show or change it.")


def _parse(value: str) -> tuple[int, int, str] | None:
    """'c12s3|yes' -> (12, 3, 'yes'); None for anything else (forged, old format, ids out of range)."""
    head, _, extra = (value or "").partition("|")
    if not head.startswith("c") or "s" not in head:
        return None
    cid, _, step = head[1:].partition("s")
    check_id, step_no = _id(cid), _id(step)
    if check_id is None or step_no is None:
        return None
    return check_id, step_no, extra


def _number(text: str) -> float | None:
    """'103', '103%', '103,5' -> a finite float; None when it isn't one."""
    raw = (text or "").strip().rstrip("%").strip().replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _progress(check: Check) -> str:
    return f"question {check.step + 1} of {len(check.steps)} · {check.answered} answered"


def step_reply(deps: Deps, check: Check, notice: str | None = None) -> Reply:
    step = check.steps[check.step]
    title = f"Gap check for {check.target_title}"
    saved = check.answers.get(step.key)
    # the saved note and figure are put back in their boxes: re-answering after Back keeps them
    shown = describe(step, saved) if saved and saved.rating != Rating.SKIPPED else None
    blocks = B.gap_step_blocks(title, _progress(check), step, _value(check.id, check.step), shown,
                               note=saved.note if saved else None,
                               figure=saved.value if saved and step.number else None, notice=notice)
    return Reply(text=f"{title}: {step.title}", blocks=blocks, ephemeral=False)


def _resume_prompt(deps: Deps, row: dict, paused: bool = False) -> Reply:
    check = _check(deps, row)
    counts = f"{check.answered}/{len(check.steps)} answered"
    if paused:
        text = f"This check is paused: *{escape(check.target_title)}* ({counts}) — resume?"
        fallback = f"This check is paused: {check.target_title}"
    else:
        text = f"You have an unfinished check for *{escape(check.target_title)}* ({counts}) — resume?"
        fallback = f"You have an unfinished check for {check.target_title}"
    return Reply(text=fallback, blocks=B.gap_resume_blocks(text, _value(check.id, check.step), f"restart|{check.id}"),
                 ephemeral=False)


def unfinished_banner(deps: Deps, user_id: str) -> Reply | None:
    rows = deps.store.open_checks(user_id)
    return _resume_prompt(deps, rows[0]) if rows else None


# -- starting ----------------------------------------------------------------------------------------

def start(deps: Deps, user_id: str, target_name: str = "") -> Reply:
    """/ladder gap [TARGET], "gap check" in a DM, the Start button, App Home: confirm levels, or resume."""
    kb = deps.kb
    target = None
    if target_name.strip():
        target = kb.resolve(target_name)  # LevelNotFound -> a clear message upstream
    open_rows = deps.store.open_checks(user_id)
    if target is not None:
        open_rows = [r for r in open_rows if r["target_level"] == target.id]
    if open_rows:
        return _resume_prompt(deps, open_rows[0])
    profile = deps.store.profile(user_id)
    current = kb.level(profile["current_level"]) if kb.has_level(profile.get("current_level") or "") else None
    if target is None and current is not None:
        target = kb.next_level(current)
    value = f"begin|{current.id if current else ''}|{target.id if target else ''}"
    return Reply(text="Gap check: confirm your levels", blocks=B.gap_confirm_blocks(kb, current, target, value),
                 ephemeral=False)


def begin(deps: Deps, user_id: str, value: str, inputs: dict) -> Reply:
    kb = deps.kb
    _, current_id, target_id = (value.split("|") + ["", "", ""])[:3]
    if value.endswith("|track"):  # confirmed on the track-change message: its levels, not any select
        inputs = {}
    current_id = inputs.get("current") or current_id
    target_id = inputs.get("target") or target_id
    if current_id and not target_id and kb.has_level(current_id):
        nxt = kb.next_level(kb.level(current_id))  # default: the next level on their track
        target_id = nxt.id if nxt else ""
    if not current_id or not target_id:
        return text_reply("Choose both your current level and the target level, then press Start.")
    if not kb.has_level(current_id) or not kb.has_level(target_id):
        return text_reply("One of those levels no longer exists on the ladder. Run `/ladder gap` again to choose.")
    current, target = kb.level(current_id), kb.level(target_id)
    change = track_change(kb, current, target)
    if change and not value.endswith("|track"):  # say so before anything starts
        again = f"begin|{current.id}|{target.id}|track"
        text = (f"*This is a change of track:* {escape(change)}.\nYou are *{escape(current.label)}*; "
                f"*{escape(target.label)}* is on another ladder, so this check asks for experience relevant to "
                f"{escape(target.title)} (in any role, here or elsewhere) rather than time in your current role, "
                "then for each skill the target level lists. Start it?")
        return Reply(text="Gap check across tracks", replace=True, ephemeral=False,
                     blocks=B.track_change_blocks(text, again))
    check = Check(None, user_id, current.id, target.id, target.label, kb.version, plan(kb, current, target))
    try:
        moved = transition(check, Event.START)
    except GapError as exc:
        return text_reply(str(exc))
    try:
        check.id = deps.store.create_check({
            "user_id": user_id, "current_level": current.id, "target_level": target.id, "target_title": target.label,
            "knowledge_version": kb.version, "plan": json.dumps(check.to_plan_json()), "state": moved.state.value,
            "step": moved.step,
        })
    except CheckAlreadyOpen as exc:  # already one open for this target: offer it instead
        return _resume_prompt(deps, deps.store.check_row(exc.check_id))
    deps.store.set_profile(user_id, current_level=current.id, target_level=target.id)
    check.state, check.step = moved.state, moved.step
    reply = step_reply(deps, check)
    reply.replace = True
    return reply


# -- the walk -------------------------------------------------------------------------------------------

EVENTS = {B.GAP_RATE: Event.ANSWER, B.GAP_MONTHS: Event.ANSWER, B.GAP_NUMBER: Event.ANSWER, B.GAP_SKIP: Event.SKIP,
          B.GAP_BACK: Event.BACK, B.GAP_PAUSE: Event.PAUSE, B.GAP_CANCEL: Event.CANCEL, B.GAP_RESUME: Event.RESUME}


@dataclass
class Click:
    """A press of a gap-check step button: the check it names (``row``: None when it names none) and, loaded
    on first use, that check. (Not functools.cached_property: before Python 3.12 its lock is shared by every
    instance, so two clicks at once would wait for each other.)"""

    deps: Deps
    user_id: str
    action_id: str
    value: str
    inputs: dict
    parsed: tuple[int, int, str] | None = None
    row: dict | None = None
    loaded: Check | None = field(default=None, repr=False)

    @classmethod
    def of(cls, deps: Deps, user_id: str, action_id: str, value: str, inputs: dict) -> "Click":
        parsed = _parse(value)
        row = deps.store.check_row(parsed[0]) if parsed else None
        return cls(deps, user_id, action_id, value, inputs, parsed, row)

    @property
    def step(self) -> int:
        return self.parsed[1]

    @property
    def event(self) -> Event:
        return EVENTS[self.action_id]

    @property
    def check(self) -> Check:
        if self.loaded is None:
            self.loaded = _check(self.deps, self.row)
        return self.loaded


_CANCELLED = "Gap check cancelled."

# A step button's guards, in the order they are checked: the first that holds answers the click and
# nothing changes. Stale, duplicate, forged or someone else's clicks stop here.
GUARDS: tuple[tuple[Callable[[Click], bool], Callable[[Click], Reply]], ...] = (
    # Cancel on the confirm message: no check exists yet
    (lambda c: c.action_id == B.GAP_CANCEL and c.value.startswith("begin|"),
     lambda c: Reply(text=_CANCELLED, blocks=B.text_blocks(_CANCELLED), replace=True)),
    # not a check this button could name (forged, old format, deleted)
    (lambda c: c.row is None, lambda c: _stale()),
    (lambda c: c.row["user_id"] != c.user_id, lambda c: _not_yours(c.deps, c.user_id, "gap.act", c.row)),
    # resuming an unpaused check: just show where it is
    (lambda c: c.event == Event.RESUME and c.check.state == State.ASKING, lambda c: step_reply(c.deps, c.check)),
    # a paused check takes only Resume, or Cancel from its own step
    (lambda c: c.check.state == State.PAUSED and not (
        c.event == Event.RESUME or (c.event == Event.CANCEL and c.step == c.check.step)),
     lambda c: _resume_prompt(c.deps, c.row, paused=True)),
    # finished or cancelled: say so before reading any input
    (lambda c: c.event not in TRANSITIONS[c.check.state], lambda c: _refused(c.check, c.event)),
    # a double click or a button from an older message
    (lambda c: c.check.state == State.ASKING and c.step != c.check.step, lambda c: _already(c.deps, c.check)),
)


def step_action(action_id: str) -> Callable[[Deps, str, str, dict], Reply]:
    """The handler of a step button (answer, skip, back, pause, resume, cancel): the guards, then the move."""
    def handle(deps: Deps, user_id: str, value: str, inputs: dict) -> Reply:
        click = Click.of(deps, user_id, action_id, value, inputs)
        for holds, reply in GUARDS:
            if holds(click):
                return reply(click)
        return _move(click)
    return handle


def _move(click: Click) -> Reply:
    """Read the button's inputs, make the transition, commit it with its answer, and show what comes next."""
    deps, action_id, inputs, check, event = click.deps, click.action_id, click.inputs, click.check, click.event
    extra = click.parsed[2]
    data: dict = {}
    if action_id == B.GAP_RATE:
        data["rating"] = extra
    elif action_id == B.GAP_MONTHS:
        data["value"] = _number(extra)
    box = _box(check.current_step, action_id)
    if box is not None:  # what is typed in the box counts whichever button was pressed (it decides the rating)
        read, unreadable, empty = box
        raw = (inputs.get("value") or "").strip()
        if raw:
            data["value"] = read(raw)
            if data["value"] is None:
                return text_reply(f"I can't read “{escape(raw[:40])}” {unreadable}, or clear the box, then press a "
                             "button again.")
        elif action_id == B.GAP_NUMBER:
            return text_reply(empty)
    if action_id in (B.GAP_RATE, B.GAP_NUMBER, B.GAP_MONTHS):
        data["note"] = inputs.get("note")
    try:
        moved = transition(check, event, data)
    except GapError as exc:
        return text_reply(str(exc))
    answer = None
    if moved.save is not None:
        a = moved.save
        answer = {"step": a.step, "rating": a.rating.value, "value": a.value, "note": a.note}
    update = {"state": moved.state.value, "step": moved.step}
    if moved.state == State.DONE:
        check.answers[moved.save.step] = moved.save
        update["readiness"] = report(check).readiness
        update["finished_at"] = now()
    if not deps.store.apply_transition(check.id, check.state.value, check.step, update, answer):
        return _already(deps, _check(deps, deps.store.check_row(check.id)))
    check = _check(deps, deps.store.check_row(check.id))
    if check.state == State.DONE:
        return finished(deps, check)
    if check.state in (State.PAUSED, State.CANCELLED):
        blocks = B.text_blocks(f"*Gap check for {escape(check.target_title)}*: {moved.note}")
        if check.state == State.PAUSED:
            blocks = B.gap_resume_blocks(f"*Gap check for {escape(check.target_title)}* is paused "
                                         f"({check.answered}/{len(check.steps)} answered).",
                                         _value(check.id, check.step), f"restart|{check.id}")
        return Reply(text=moved.note, blocks=blocks, replace=True, ephemeral=False)
    reply = step_reply(deps, check)
    reply.replace = True
    return reply


BOXES = {  # a step's figure box: how to read it, what to say when it can't be, and when it is empty
    "experience": (parse_months, "as a duration. Type months (e.g. 14) or years (e.g. 1.5 years)",
                   "Type your experience in the box (months, e.g. 14), then press *Submit my months*."),
    "number": (_number, "as a figure. Type a number (e.g. 102)",
               "Type your figure in the box (a number, e.g. 102), then press *Submit my figure*."),
}


def _box(step: Step | None, action_id: str):
    if step is not None and step.kind == "experience" and action_id in (B.GAP_MONTHS, B.GAP_NUMBER):
        return BOXES["experience"]
    if step is not None and step.number and action_id in (B.GAP_RATE, B.GAP_NUMBER):
        return BOXES["number"]
    return None


ALREADY = "That question was already answered (maybe a double click), so nothing was changed. Here's where you are:"


def _already(deps: Deps, check: Check) -> Reply:
    """The reply to a click the check has moved on from: where it is now, or why it is closed."""
    if check.state == State.ASKING:
        reply = step_reply(deps, check, notice=ALREADY)
        reply.replace = True
        return reply
    if check.state == State.PAUSED:
        return _resume_prompt(deps, deps.store.check_row(check.id), paused=True)
    return _refused(check, Event.ANSWER)


def _refused(check: Check, event: Event) -> Reply:
    try:
        transition(check, event)
    except GapError as exc:
        return text_reply(str(exc))
    return text_reply("That gap check has moved on since this message; nothing was changed.")


def _stale() -> Reply:
    return text_reply("That button is from an older gap-check message and no longer works. Run `/ladder gap` to carry on.")


def restart(deps: Deps, user_id: str, value: str) -> Reply:
    _, _, cid = value.partition("|")
    check_id = _id(cid)
    row = deps.store.check_row(check_id) if check_id is not None else None
    if row is None:
        return _stale()
    if row["user_id"] != user_id:
        return _not_yours(deps, user_id, "gap.restart", row)
    if row["state"] in {s.value for s in OPEN_STATES}:
        deps.store.apply_transition(row["id"], row["state"], row["step"], {"state": State.CANCELLED.value}, None)
    reply = start(deps, user_id, row["target_level"] if deps.kb.has_level(row["target_level"]) else "")
    reply.replace = True
    return reply


# -- the report -------------------------------------------------------------------------------------------

def finished(deps: Deps, check: Check) -> Reply:
    rep = report(check)
    lines = [f"*Gap check report: {escape(check.target_title)}* — readiness *{rep.readiness}%* "
             f"({check.answered} of {len(check.steps)} requirements assessed)", ""]
    lines += requirement_lines(check, rep)
    if rep.skipped:
        lines += ["", f"_Not assessed: {len(rep.skipped)} skipped requirement(s) count as not met in the readiness "
                  "figure. Run the check again to assess them._"]
    gaps = rep.missing + rep.partly
    if gaps:
        lines += ["", "*Next steps*"]
        responsibilities = _responsibilities(deps, check)
        lines += [f"• *{escape(s.title)}*: {escape(next_steps(responsibilities, s))}" for s in gaps[:10]]
    previous = deps.store.previous_done(check.user_id, check.target_level, check.id)
    if previous is not None:
        lines += ["", _progress_line(deps, check, rep, previous)]
    lines += ["", f"_Checked against knowledge {check.knowledge_version}. Only you can see this check._"]
    text = "\n".join(lines)
    done = Reply(text=f"Gap check finished: {rep.readiness}% ready for {check.target_title}",
                 blocks=B.text_blocks(f"*Gap check for {escape(check.target_title)}* is finished — your report is below."),
                 replace=True, ephemeral=False)
    can_share = deps.store.lead_of(check.user_id) not in (None, check.user_id)
    if not can_share:
        text += "\n_To share a report with your team lead, ask your lead or HR to add you to their team._"
    report_reply = Reply(text=f"Gap check report: {check.target_title}",
                         blocks=B.report_blocks(text, check.id, can_share), ephemeral=False)
    try:
        report_reply.files = [(f"gap-check-{check.id}.png", readiness_chart(check, rep),
                               f"Readiness for {check.target_title}")]
    except Exception:  # the report matters more than its picture
        log.exception("could not draw the readiness chart for check %s", check.id)
    done.followups = [report_reply]
    return done


GROUPS = (("Met", Rating.YES), ("Partly", Rating.PARTLY), ("Not yet", Rating.NO))


def requirement_lines(check: Check, rep) -> list[str]:
    """Each requirement under its verdict, with the figure and note the person gave; the skipped ones
    apart, as not assessed."""
    lines = []
    for label, rating in GROUPS:
        rows = [(s, a) for s, a in rep.rows if a and a.rating == rating]
        if rows:
            lines.append(f"*{label}*")
            lines += [f"• {escape(s.title)} — {escape(describe(s, a))}" for s, a in rows]
    if rep.skipped:
        lines.append("*Not assessed* (skipped — counted as not met)")
        lines += [f"• {escape(s.title)}" for s in rep.skipped]
    return lines


def _progress_line(deps: Deps, check: Check, rep, previous: dict) -> str:
    """Readiness then and now; better at: requirements assessed both times whose rating rose (matched by
    name, not position: the ladder may have been reordered between the two checks)."""
    before = _check(deps, previous)
    then = report(before)
    earlier = {s.title.casefold(): before.answers.get(s.key) for s in before.steps}
    assessed = lambda a: a is not None and a.rating in RATING_SCORE  # noqa: E731
    improved = [s.title for s, a in rep.rows if assessed(a) and assessed(earlier.get(s.title.casefold()))
                and RATING_SCORE[a.rating] > RATING_SCORE[earlier[s.title.casefold()].rating]]
    new = [s.title for s, a in rep.rows if assessed(a) and not assessed(earlier.get(s.title.casefold()))]
    line = f"*Progress* since your check of {previous['finished_at'][:10]}: {then.readiness}% → {rep.readiness}%"
    if improved:
        line += f"; better at {escape(', '.join(improved))}"
    if new:
        line += f"; assessed for the first time: {escape(', '.join(new))}"
    return line


def _responsibilities(deps: Deps, check: Check) -> list[str]:
    """The target's responsibilities in the knowledge version the check started on, where that version is
    known (live, an HR edit stored in SQLite, or the committed knowledge); else today's."""
    kb = deps.kb
    if kb.version == check.knowledge_version and kb.has_level(check.target_level):
        return list(kb.level(check.target_level).responsibilities)
    tracks = deps.store.knowledge_tracks(check.knowledge_version)
    for track in tracks or []:
        for level in track.get("levels") or []:
            if level.get("id") == check.target_level:
                return [str(r) for r in level.get("responsibilities") or []]
    if tracks is None:
        try:
            base = load_knowledge(deps.settings.knowledge_dir)
        except Exception:  # a report without that version's wording is still a report
            log.exception("could not load the committed knowledge for check %s", check.id)
            base = None
        if base is not None and base.version == check.knowledge_version and base.has_level(check.target_level):
            return list(base.level(check.target_level).responsibilities)
    return list(kb.level(check.target_level).responsibilities) if kb.has_level(check.target_level) else []


def history(deps: Deps, user_id: str) -> Reply:
    rows = deps.store.checks(user_id)
    if not rows:
        return text_reply("You haven't run a gap check yet. Start one with `/ladder gap`.")
    lines = ["*Your gap checks*"]
    for row in rows[:30]:
        when = (row["finished_at"] or row["updated_at"] or "")[:10]
        lines.append(f"• {when} · {escape(row['target_title'])} · {_status(deps, row)}")
    return text_reply("\n".join(lines))


def _status(deps: Deps, row: dict) -> str:
    """A check's state in words: in progress (3/8), paused (3/8), finished · 62% ready, cancelled."""
    try:
        state = State(row["state"])
    except ValueError:
        return "unknown"
    if state == State.DONE:
        return f"finished · {row['readiness']}% ready" if row["readiness"] is not None else "finished"
    if state in (State.ASKING, State.PAUSED):
        check = _check(deps, row)
        return f"{STATE_WORDS[state]} ({check.answered}/{len(check.steps)})"
    return STATE_WORDS[state]


def command(deps: Deps, user_id: str, args: str) -> Reply:
    """/ladder gap [history | TARGET]"""
    args = args.strip()
    if args.lower() == "history":
        return history(deps, user_id)
    try:
        reply = start(deps, user_id, args)
    except LevelNotFound as exc:
        return text_reply(not_found(exc))
    reply.dm = True
    return reply


# -- sharing with the lead --------------------------------------------------------------------------

def _done_check(deps: Deps, value: str) -> dict | None:
    check_id = _id(value)
    row = deps.store.check_row(check_id) if check_id is not None else None
    return row if row and row["state"] == State.DONE.value else None


def share(deps: Deps, user_id: str, value: str) -> Reply:
    row = _done_check(deps, value)
    if row is None:
        return _stale()
    if row["user_id"] != user_id:
        return _not_yours(deps, user_id, "gap.share", row)
    if row["reviewed_at"]:  # reviewed already: show the review, never "you'll hear back"
        return text_reply(review_summary(deps, row, for_lead=False))
    lead = deps.store.lead_of(user_id)
    if lead is None:
        return text_reply("You're not in a team yet: ask your team lead or HR to add you to a team.")
    if lead == user_id:  # stored before leads were kept out of their own team
        deps.store.audit(user_id, "gap.share", "refused", str(row["id"]), "own team")
        return text_reply("Sorry — you can't share a check with yourself; ask HR to put you in your lead's team.")
    if not leads_a_team(deps.store, deps.settings, lead):   # demoted since the team was built
        deps.store.audit(user_id, "gap.share", "refused", str(row["id"]), f"{lead} is no longer a lead")
        return text_reply(f"<@{lead}> is no longer a team lead, so there's nobody to share this with. Ask HR to put "
                     "you in a lead's team, then press *Share with my lead* again.")
    if not deps.store.share_check(row["id"], lead):
        return text_reply(f"You shared this check with <@{lead}> on {(row['shared_at'] or '')[:10]}; it is waiting for "
                     "their review. You'll get a DM when they have reviewed it.")
    deps.store.audit(user_id, "gap.share", "sent", str(row["id"]), f"with {lead}")
    reply = text_reply(f"Shared with <@{lead}>. You'll get a DM when they have reviewed it.")
    reply.followups = [review_form(deps, deps.store.check_row(row["id"]))]
    return reply


def review_form(deps: Deps, row: dict) -> Reply:
    """The lead's DM: each requirement with the person's rating preselected, their figure and note beside it."""
    check = _check(deps, row)
    rows = [(s.key, s.title, (check.answers.get(s.key).rating.value if check.answers.get(s.key) else ""),
             describe(s, check.answers.get(s.key))) for s in check.steps]
    intro = (f"<@{row['user_id']}> shared a gap check with you: *{escape(check.target_title)}*, "
             f"{row['readiness']}% ready by their own ratings. Confirm each rating or adjust it, then press "
             "*Confirm review* — both their rating and yours are kept. A review is confirmed once.")
    return Reply(text=f"Gap check to review: {check.target_title}", ephemeral=False, to_user=row["shared_with"],
                 blocks=B.review_blocks(intro, row["id"], rows))


def open_review(deps: Deps, user_id: str, value: str) -> Reply:
    """App Home's *Review* button: the review form again, for the lead it is waiting for."""
    row = _done_check(deps, value)
    if row is None:
        return _stale()
    if row["shared_with"] == user_id and not row["reviewed_at"] and not leads_a_team(deps.store, deps.settings,
                                                                                        user_id):
        return review(deps, user_id, value, {})      # refused there, and the checks go back to their people
    if row["shared_with"] != user_id or deps.store.lead_of(row["user_id"]) != user_id:
        deps.store.audit(user_id, "gap.review", "refused", str(row["id"]), "not shared with this lead")
        return text_reply("Sorry — only the team lead this check was shared with can review it.")
    if row["reviewed_at"]:
        return text_reply(review_summary(deps, row, for_lead=True))
    form = review_form(deps, row)
    form.to_user = None
    return form


def review_summary(deps: Deps, row: dict, for_lead: bool) -> str:
    """A stored review in words: who, when, what was confirmed and what was adjusted."""
    check = _check(deps, row)
    valid = {r.value for r in RATING_LABELS}
    label = lambda r: RATING_LABELS.get(Rating(r), r) if r in valid else "not assessed"  # noqa: E731
    own = {k: a.rating.value for k, a in check.answers.items()}
    lead_said = deps.store.reviews(row["id"])
    changed = [(s.title, own.get(s.key), lead_said[s.key]) for s in check.steps
               if s.key in lead_said and lead_said[s.key] != own.get(s.key)]
    when = (row["reviewed_at"] or "")[:10]
    if for_lead:
        head = f"You reviewed <@{row['user_id']}>'s gap check for *{escape(check.target_title)}* on {when}"
    else:
        head = f"<@{row['reviewed_by']}> reviewed your gap check for *{escape(check.target_title)}* on {when}"
    lines = [f"{head}: {len(lead_said) - len(changed)} confirmed, {len(changed)} adjusted."]
    lines += [f"• {escape(t)}: {'they' if for_lead else 'you'} said {label(a)}, "
              f"{'you' if for_lead else 'your lead'} said {label(b)}" for t, a, b in changed]
    return "\n".join(lines)


def return_reviews(deps: Deps, ex_lead: str) -> list[Reply]:
    """A lead who is no longer one: the checks still waiting for their review go back to their people,
    each told in a DM."""
    notes = []
    for row in deps.store.return_pending_reviews(ex_lead):
        deps.store.audit(ex_lead, "gap.review", "returned", str(row["id"]), f"to {row['user_id']}")
        note = (f"<@{ex_lead}> is no longer a team lead, so your gap check for *{escape(row['target_title'])}* "
                "won't be reviewed by them. Once you're in a lead's team, press *Share with my lead* on the "
                "report again.")
        notes.append(Reply(text=f"Your gap check for {row['target_title']} was not reviewed", ephemeral=False,
                           to_user=row["user_id"], blocks=B.text_blocks(note)))
    return notes


def review(deps: Deps, user_id: str, value: str, choices: dict[str, str]) -> Reply:
    row = _done_check(deps, value)
    if row is None:
        return _stale()
    if row["user_id"] == user_id:
        deps.store.audit(user_id, "gap.review", "refused", str(row["id"]), "own check")
        return text_reply("Sorry — you can't review your own gap check; it goes to your team lead.")
    if row["shared_with"] == user_id and not leads_a_team(deps.store, deps.settings, user_id):   # demoted since
        deps.store.audit(user_id, "gap.review", "refused", str(row["id"]), "no longer a lead")
        reply = text_reply("Sorry — you're no longer a team lead, so you can't review gap checks. "
                      "Checks shared with you have gone back to the people who shared them.")
        reply.followups = return_reviews(deps, user_id)
        return reply
    if row["shared_with"] != user_id or deps.store.lead_of(row["user_id"]) != user_id:
        deps.store.audit(user_id, "gap.review", "refused", str(row["id"]), "not shared with this lead")
        return text_reply("Sorry — only the team lead this check was shared with can review it.")
    check = _check(deps, row)
    own = {k: a.rating.value for k, a in check.answers.items()}
    valid = {r.value for r in RATING_LABELS}
    ratings = {s.key: (choices.get(s.key) if choices.get(s.key) in valid else own.get(s.key))
               for s in check.steps if (choices.get(s.key) in valid) or own.get(s.key) in valid}
    earlier = deps.store.save_review(row["id"], user_id, ratings)
    if earlier is not None:  # a second Confirm (or a second click): the first review stands
        deps.store.audit(user_id, "gap.review", "refused", str(row["id"]), "already reviewed")
        return text_reply(f"You already reviewed this check on {earlier[:10]}; nothing was changed.\n\n"
                     + review_summary(deps, deps.store.check_row(row["id"]), for_lead=True))
    deps.store.audit(user_id, "gap.review", "sent", str(row["id"]))
    row = deps.store.check_row(row["id"])
    outcome = Reply(text=f"Your lead reviewed your gap check for {check.target_title}", ephemeral=False,
                    to_user=row["user_id"], blocks=B.text_blocks(review_summary(deps, row, for_lead=False)))
    adjusted = review_summary(deps, row, for_lead=True)
    reply = Reply(text="Review saved", replace=True, ephemeral=False, blocks=B.text_blocks(
        f"Review saved. {adjusted}\n<@{row['user_id']}> has been told."))
    reply.followups = [outcome]
    return reply


def _ignore(deps: Deps, user_id: str, value: str, inputs: dict) -> None:
    """Selects and boxes: read from the message's state when its button is pressed."""
    return None


# Every gap-check action id and its handler, each called (deps, user_id, value, inputs).
ACTIONS: dict[str, Callable[[Deps, str, str, dict], Reply | None]] = {
    B.GAP_CURRENT: _ignore, B.GAP_TARGET: _ignore, B.GAP_NOTE: _ignore, B.GAP_VALUE: _ignore,
    B.GAP_REVIEW_RATING: _ignore,
    B.GAP_BEGIN: begin,
    B.GAP_RESTART: lambda deps, user_id, value, inputs: restart(deps, user_id, value),
    B.GAP_SHARE: lambda deps, user_id, value, inputs: share(deps, user_id, value),
    B.GAP_REVIEW: lambda deps, user_id, value, inputs: review(deps, user_id, value, inputs.get("review") or {}),
    B.GAP_OPEN_REVIEW: lambda deps, user_id, value, inputs: open_review(deps, user_id, value),
    **{action_id: step_action(action_id) for action_id in EVENTS},
}

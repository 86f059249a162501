"""The guided gap check as an explicit state machine: string-enum states, a transition table, pure
functions. No Slack, no SQL: the store persists what :func:`transition` returns.

    CONFIRM --start--> ASKING --answer/skip (last step)--> DONE
       |                 |  ^ answer/skip/back (other steps)
       |                 |  |
       |               pause  resume
       |                 v  |
       |                PAUSED
       +--cancel--> CANCELLED <--cancel-- ASKING, PAUSED

A check is planned from the target level when it starts (experience first, then each skill of the
target) and keeps that plan: later ladder edits never move its goalposts.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Callable

from bot.core.knowledge import Knowledge, Level


class State(str, Enum):
    CONFIRM = "confirm"
    ASKING = "asking"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"


OPEN_STATES = (State.CONFIRM, State.ASKING, State.PAUSED)
STATE_WORDS = {State.CONFIRM: "not started", State.ASKING: "in progress", State.PAUSED: "paused",
               State.DONE: "finished", State.CANCELLED: "cancelled"}   # how a state is named to people


class Event(str, Enum):
    START = "start"
    ANSWER = "answer"
    SKIP = "skip"
    BACK = "back"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"


class Rating(str, Enum):
    YES = "yes"          # "Yes, consistently"
    PARTLY = "partly"
    NO = "no"            # "Not yet"
    SKIPPED = "skipped"


RATING_LABELS = {Rating.YES: "Yes, consistently", Rating.PARTLY: "Partly", Rating.NO: "Not yet"}
RATING_SCORE = {Rating.YES: 1.0, Rating.PARTLY: 0.5, Rating.NO: 0.0}
# Experience with no stated minimum: broad bands, each stored as its lower bound (nothing to compare with)
OPEN_EXPERIENCE_CHOICES = ((0, "Under 6 months"), (6, "6–12 months"), (12, "1–2 years"), (24, "2 years or more"))
PARTLY_SHARE = 0.75   # at least this share of the stated minimum counts as "partly"


def months_text(months: float) -> str:
    """18 -> '1½ years', 24 -> '2 years', 14 -> '14 months', 1 -> '1 month'."""
    m = int(months) if float(months).is_integer() else months
    if isinstance(m, int) and m >= 12 and m % 12 == 0:
        years = m // 12
        return f"{years} year" + ("s" if years != 1 else "")
    if isinstance(m, int) and m >= 12 and m % 6 == 0:
        return f"{m // 12}½ years"
    return f"{m:g} month" + ("s" if m != 1 else "")


def experience_choices(minimum: int | None) -> list[tuple[int, str]]:
    """Buttons built from the level's own boundary, each stored as the lower bound of its range, so an
    answer is compared with the requirement honestly and never rounded up into a pass: for "1.5–2 years"
    (18 months) they are "Under 14 months" / "14 months to under 1½ years" / "1½ years or more"."""
    if not minimum:
        return list(OPEN_EXPERIENCE_CHOICES)
    partly = math.ceil(minimum * PARTLY_SHARE)
    if partly >= minimum or partly == 0:
        return [(0, f"Under {months_text(minimum)}"), (minimum, f"{months_text(minimum)} or more")]
    return [(0, f"Under {months_text(partly)}"), (partly, f"{months_text(partly)} to under {months_text(minimum)}"),
            (minimum, f"{months_text(minimum)} or more")]


def parse_months(text: str) -> float | None:
    """'14', '14 months', '1.5 years', '2y', '1,5 years' -> months; None when it isn't a duration."""
    m = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*(months?|mos?|m|years?|yrs?|y)?\s*", (text or "").lower())
    if not m:
        return None
    value = float(m.group(1).replace(",", "."))
    return value * 12 if (m.group(2) or "").startswith("y") else value


class GapError(ValueError):
    """An event that does not fit the check's state: a clear message, nothing changed."""


@dataclass(frozen=True)
class Step:
    key: str                     # "experience" or "skill-3"
    kind: str                    # "experience" | "skill"
    title: str
    text: str                    # what the level says
    min_months: int | None = None
    number: dict | None = None   # a stated threshold to ask for: {"metric", "unit", "min", "max", "label"}
    question: str | None = None  # what to ask, when not the usual (a change of track asks for relevant experience)


def track_change(kb: Knowledge, current: Level, target: Level) -> str | None:
    """'Call Center – Sales & Support → Frontend Development' when the check crosses tracks, else None."""
    if current.track == target.track:
        return None
    return f"{kb.tracks[current.track].title} → {kb.tracks[target.track].title}"


def plan(kb: Knowledge, current: Level, target: Level) -> list[Step]:
    question = None
    if current.track != target.track:  # time in the current role says nothing about another track
        question = (f"How much experience do you have that is relevant to {target.title} "
                    f"({kb.tracks[target.track].title}) — in any role, here or elsewhere?")
    steps = [Step("experience", "experience", "Experience", target.experience.text, target.experience.min_months,
                  None, question)]
    for i, skill in enumerate(target.skills, start=1):
        threshold = target.threshold_for(skill.name)
        number = None
        if threshold is not None:
            number = {"metric": threshold.metric, "unit": threshold.unit, "min": threshold.min, "max": threshold.max,
                      "label": threshold.describe()}
        steps.append(Step(f"skill-{i}", "skill", skill.name, skill.description, None, number))
    return steps


@dataclass
class StepAnswer:
    """What the person gave for one step of a check (an advisor's reply is :class:`bot.advisor.answer.Answer`)."""

    step: str
    rating: Rating
    value: float | None = None   # months for experience; the stated number (e.g. KPI %) where asked
    note: str | None = None


@dataclass
class Check:
    id: int | None
    user_id: str
    current_level: str
    target_level: str
    target_title: str
    knowledge_version: str
    steps: list[Step]
    state: State = State.CONFIRM
    step: int = 0
    answers: dict[str, StepAnswer] = field(default_factory=dict)

    @property
    def current_step(self) -> Step | None:
        return self.steps[self.step] if self.state == State.ASKING and 0 <= self.step < len(self.steps) else None

    @property
    def answered(self) -> int:
        return sum(1 for a in self.answers.values() if a.rating != Rating.SKIPPED)

    def to_plan_json(self) -> list[dict]:
        return [asdict(s) for s in self.steps]


@dataclass
class Transition:
    state: State
    step: int
    save: StepAnswer | None = None      # the answer to store before the next question shows
    note: str = ""                  # what to tell the person, if anything


# -- rating rules ---------------------------------------------------------------------------------

def rate_experience(months: float, minimum: int | None) -> Rating:
    if minimum is None or months >= minimum:
        return Rating.YES
    return Rating.PARTLY if months >= minimum * PARTLY_SHARE else Rating.NO


def rate_number(value: float, number: dict) -> Rating:
    lo, hi = number.get("min"), number.get("max")
    if lo is not None and value >= lo:
        return Rating.YES
    if lo is None and hi is not None:
        return Rating.YES if value <= hi else Rating.NO
    return Rating.PARTLY if lo is not None and value >= lo * 0.95 else Rating.NO


def answer_for(step: Step, rating: str | None, value: float | None, note: str | None) -> StepAnswer:
    """Validate what the person gave for a step and turn it into an StepAnswer (GapError if it doesn't fit)."""
    note = (note or "").strip()[:500] or None
    if step.kind == "experience":
        if value is None:
            raise GapError("Choose how much experience you have, or type it in months (e.g. 14) and press "
                           "*Submit my months*.")
        if not 0 <= value <= 600:
            raise GapError("That doesn't look like a number of months.")
        return StepAnswer(step.key, rate_experience(value, step.min_months), value, note)
    if step.number is not None and value is not None:
        if not 0 <= value <= 1000:
            raise GapError(f"Please give a number like {step.number['label']}.")
        return StepAnswer(step.key, rate_number(value, step.number), value, note)
    try:
        parsed = Rating(rating) if rating else None
    except ValueError:
        parsed = None
    if parsed is None or parsed == Rating.SKIPPED:
        raise GapError("Choose Yes, consistently / Partly / Not yet.")
    return StepAnswer(step.key, parsed, value, note)


# -- the transition table -----------------------------------------------------------------------------

Handler = Callable[[Check, dict], Transition]


def _start(check: Check, data: dict) -> Transition:
    if not any(s.kind == "skill" for s in check.steps):  # experience alone is not a readiness check
        raise GapError(f"{check.target_title} lists no skills to check against yet, so there is no gap check "
                       "for it. Ask HR to add the level's skills, or choose another target.")
    return Transition(State.ASKING, 0)


def _advance(check: Check, answer: StepAnswer) -> Transition:
    nxt = check.step + 1
    if nxt >= len(check.steps):
        return Transition(State.DONE, check.step, answer)
    return Transition(State.ASKING, nxt, answer)


def _answer(check: Check, data: dict) -> Transition:
    step = check.current_step
    assert step is not None
    return _advance(check, answer_for(step, data.get("rating"), data.get("value"), data.get("note")))


def _skip(check: Check, data: dict) -> Transition:
    step = check.current_step
    assert step is not None
    return _advance(check, StepAnswer(step.key, Rating.SKIPPED, None, None))


def _back(check: Check, data: dict) -> Transition:
    if check.step == 0:
        raise GapError("This is the first question.")
    return Transition(State.ASKING, check.step - 1)


def _pause(check: Check, data: dict) -> Transition:
    return Transition(State.PAUSED, check.step, note="Paused. Resume any time from my Home tab or with `/ladder gap`.")


def _resume(check: Check, data: dict) -> Transition:
    return Transition(State.ASKING, check.step)


def _cancel(check: Check, data: dict) -> Transition:
    return Transition(State.CANCELLED, check.step, note="Cancelled. Your answers so far are kept in your history.")


TRANSITIONS: dict[State, dict[Event, Handler]] = {
    State.CONFIRM: {Event.START: _start, Event.CANCEL: _cancel},
    State.ASKING: {Event.ANSWER: _answer, Event.SKIP: _skip, Event.BACK: _back, Event.PAUSE: _pause,
                   Event.CANCEL: _cancel},
    State.PAUSED: {Event.RESUME: _resume, Event.CANCEL: _cancel},
    State.DONE: {},
    State.CANCELLED: {},
}


def transition(check: Check, event: Event, data: dict | None = None) -> Transition:
    handler = TRANSITIONS[check.state].get(event)
    if handler is None:
        if check.state == State.DONE:
            raise GapError("This gap check is finished — see its report, or start a new one with `/ladder gap`.")
        if check.state == State.CANCELLED:
            raise GapError("This gap check was cancelled. Start a new one with `/ladder gap`.")
        if check.state == State.PAUSED:
            raise GapError("This gap check is paused: resume it first (`/ladder gap`).")
        raise GapError(f"That doesn't fit this gap check right now: it is {STATE_WORDS[check.state]}.")
    return handler(check, data or {})


# -- the report ------------------------------------------------------------------------------------------

@dataclass
class Report:
    readiness: int                    # percent over every requirement; one not assessed counts as not met
    rows: list[tuple[Step, StepAnswer | None]]
    met: list[Step]
    partly: list[Step]
    missing: list[Step]
    skipped: list[Step]               # not assessed (skipped): counted as not met, shown apart


def report(check: Check) -> Report:
    rows = [(s, check.answers.get(s.key)) for s in check.steps]
    # every requirement counts: skipping one can never raise the score
    scored = [RATING_SCORE.get(a.rating, 0.0) if a else 0.0 for _, a in rows]
    readiness = round(100 * sum(scored) / len(scored)) if scored else 0
    by = lambda r: [s for s, a in rows if a and a.rating == r]  # noqa: E731
    return Report(readiness, rows, by(Rating.YES), by(Rating.PARTLY), by(Rating.NO),
                  [s for s, a in rows if not a or a.rating == Rating.SKIPPED])


def describe_value(step: Step, value: float | None) -> str | None:
    """What the person gave as a figure, in words: '14 months to under 1½ years', '98%', '12 FTE'."""
    if value is None:
        return None
    if step.kind == "experience":
        for months, label in experience_choices(step.min_months):
            if value == months:
                return label
        return months_text(value)
    unit = (step.number or {}).get("unit")
    return f"{value:g}%" if unit == "percent" else f"{value:g} FTE" if unit == "fte" else f"{value:g}"


def describe(step: Step, answer: StepAnswer | None) -> str:
    """One requirement's answer with its figure and note: 'Partly · 98% · “had a rough Q3”'."""
    if answer is None or answer.rating == Rating.SKIPPED:
        return "not assessed (skipped)"
    parts = [RATING_LABELS.get(answer.rating, answer.rating.value)]
    figure = describe_value(step, answer.value)
    if figure:
        parts.append(figure)
    if answer.note:
        parts.append(f"“{answer.note}”")
    return " · ".join(parts)


def next_steps(responsibilities: list[str], step: Step) -> str:
    """A concrete next step for a gap, from the level's responsibilities (those of the knowledge version the
    check started on, where known) and background notes for KPIs."""
    words = {w.lower().strip(",.()") for w in f"{step.title} {step.text}".split() if len(w) > 4}
    best, overlap = None, 0
    for resp in responsibilities:
        n = len(words & {w.lower().strip(",.()") for w in resp.split()})
        if n > overlap:
            best, overlap = resp, n
    tip = f"Practise what the level does: “{best}”" if best else f"Ask your team lead for a chance to show this: {step.text.rstrip('.')}."
    if step.number is not None and step.number.get("metric") == "kpi_achievement":
        tip += (f" Track your KPI achievement weekly against {step.number['label']} "
                "(the KPI glossary explains AHT, FCR, CSAT and QA score — background reading, not policy).")
    if step.kind == "experience":
        tip = f"Time in role is asked for: {step.text}"
    return tip

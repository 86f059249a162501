"""Every Block Kit payload Ladder sends, built with ``slack_sdk.models`` so Slack's limits are checked.

Action ids live here and nowhere else. Long mrkdwn is split into sections of at most 3,000
characters; a message never has more than 50 blocks (a Home view 100): what does not fit is cut
with a pointer to the rest.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import re

from slack_sdk.models.blocks import (
    ActionsBlock, Block, ButtonElement, ContextActionsBlock, ContextBlock, DividerBlock, FeedbackButtonObject,
    FeedbackButtonsElement, HeaderBlock, InputBlock, MarkdownTextObject, Option, OptionGroup, PlainTextInputElement,
    PlainTextObject, SectionBlock, StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.advisor.answer import Answer
from bot.core.gapcheck import RATING_LABELS, experience_choices
from bot.core.knowledge import Knowledge, Level
from bot.core.render import escape

# action ids
START_GAP = "ladder_start_gap"
COMPARE_MINE = "ladder_compare_mine"
VOTE_UP = "ladder_vote_up"
VOTE_DOWN = "ladder_vote_down"
CHOOSE_LEVEL = "ladder_choose_level"        # a clarify option, or a level on App Home
SET_CURRENT = "ladder_set_current"          # App Home select
SHOW_LEVEL = "ladder_show_level"
ANNOUNCE_SEND = "ladder_announce_send"
REMIND_OFF = "ladder_remind_off"            # "Stop reminding me" on a reminder
FEEDBACK = "ladder_feedback"                # Slack's native 👍/👎 (feedback_buttons); value "up|12" / "down|12"
FEEDBACK_SEND = "ladder_feedback_send"      # Send on "what was wrong?"
FEEDBACK_NOTE_BLOCK, FEEDBACK_NOTE = "feedback_note", "ladder_feedback_note"
ACTION_IDS = (START_GAP, COMPARE_MINE, VOTE_UP, VOTE_DOWN, CHOOSE_LEVEL, SET_CURRENT, SHOW_LEVEL,
              ANNOUNCE_SEND, REMIND_OFF, FEEDBACK, FEEDBACK_SEND)  # + GAP_ACTION_IDS below

SECTION_MAX = 3000
BUTTON_MAX = 75
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
CUT_NOTE = "_(cut short to fit in Slack: {hint})_"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def sections(mrkdwn: str, limit: int = SECTION_MAX) -> list[SectionBlock]:
    """Split text at line breaks into sections that each fit Slack's 3,000 characters."""
    out: list[str] = []
    current = ""
    for line in mrkdwn.split("\n"):
        while len(line) > limit:  # one enormous line: hard split
            if current:
                out.append(current)
                current = ""
            out.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            out.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        out.append(current)
    return [SectionBlock(text=MarkdownTextObject(text=part)) for part in out if part.strip()]


def button(label: str, action_id: str, value: str = "", style: str | None = None) -> ButtonElement:
    return ButtonElement(text=PlainTextObject(text=clip(label, BUTTON_MAX), emoji=True), action_id=action_id,
                         value=value[:2000], style=style)


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text, SECTION_MAX))])


def fit(blocks: Sequence[Block], limit: int = MESSAGE_BLOCKS, hint: str = "ask for one level at a time") -> list[dict]:
    """Blocks as dicts, parsed back through slack_sdk (which validates them), at most ``limit``."""
    blocks = list(blocks)
    if len(blocks) > limit:
        blocks = blocks[: limit - 1] + [context(CUT_NOTE.format(hint=hint))]
    out = []
    for block in blocks:
        block.validate_json()
        out.append(Block.parse(block.to_dict()).to_dict())
    return out


def _level_options(kb: Knowledge) -> list[OptionGroup]:
    return [
        OptionGroup(label=PlainTextObject(text=clip(track.title, 75)), options=[
            Option(value=level.id, text=PlainTextObject(text=clip(f"L{level.number} {level.title}", 75)))
            for level in track.levels
        ])
        for track in kb.tracks.values()
    ]


def level_option(kb: Knowledge, level: Level) -> Option:
    return Option(value=level.id, text=PlainTextObject(text=clip(f"L{level.number} {level.title}", 75)))


# -- answers -------------------------------------------------------------------------------------

def answer_blocks(kb: Knowledge, answer: Answer, answer_id: int | None) -> list[dict]:
    """An answer: text, a context line with sources, and what to do next."""
    body = "\n\n".join(p for p in [*answer.notes, answer.text] if p)
    blocks: list[Block] = list(sections(body))
    if answer.source_line:
        blocks.append(context(answer.source_line))
    elif answer.status == "answered":
        blocks.append(context(f"_knowledge {answer.knowledge_version}_"))
    if answer.ask_level:   # "what comes after mine?" with no level stored: set it right here
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Your current level:*"), accessory=StaticSelectElement(
            action_id=SET_CURRENT, placeholder=PlainTextObject(text="Set my current level"),
            option_groups=_level_options(kb))))
    buttons: list[ButtonElement] = []
    if answer.status == "clarify":
        buttons += [button(f"{kb.level(o).label}", CHOOSE_LEVEL, o) for o in answer.options[:5]]
    elif answer.level_id:
        level = kb.level(answer.level_id)
        buttons.append(button(f"Start gap check for {level.title}", START_GAP, level.id, style="primary"))
        buttons.append(button("Compare with my level", COMPARE_MINE, level.id))
    if answer_id is not None and answer.status != "no_answer":
        buttons += [button("👍", VOTE_UP, str(answer_id)), button("👎", VOTE_DOWN, str(answer_id))]
    if buttons:
        blocks.append(ActionsBlock(block_id="answer_actions", elements=buttons[:25]))
    return fit(blocks)


# -- the agent experience: native feedback, streamed markdown --------------------------------------

MARKDOWN_MAX = 12_000   # a markdown block, and each markdown_text a stream call carries (cumulative per payload)


def native_feedback(blocks: list[dict]) -> list[dict]:
    """The same answer with Slack's own 👍/👎 (a context_actions block with feedback_buttons) in place of
    Ladder's vote buttons; unchanged when it has none. The vote stays the same row either way."""
    answer_id = next((el.get("value") for b in blocks if b.get("type") == "actions"
                      for el in b.get("elements", []) if el.get("action_id") == VOTE_UP), None)
    if answer_id is None:
        return blocks
    out = []
    for b in blocks:
        if b.get("type") == "actions":
            rest = [el for el in b["elements"] if el.get("action_id") not in (VOTE_UP, VOTE_DOWN)]
            if not rest:
                continue
            b = {**b, "elements": rest}
        out.append(b)
    out.append(ContextActionsBlock(block_id=f"feedback-{answer_id}", elements=[FeedbackButtonsElement(
        action_id=FEEDBACK,
        positive_button=FeedbackButtonObject(text="👍", accessibility_label="This answer helped",
                                             value=f"up|{answer_id}"),
        negative_button=FeedbackButtonObject(text="👎", accessibility_label="This answer missed",
                                             value=f"down|{answer_id}"))]).to_dict())
    return fit([Block.parse(b) for b in out])


def has_native_feedback(blocks: list[dict]) -> bool:
    return any(b.get("type") == "context_actions" for b in blocks)


def feedback_vote(value: str) -> tuple[int, str] | None:
    """(+1 | -1, answer id text) from a feedback button's value; None when it is not one of ours."""
    kind, _, answer_id = (value or "").partition("|")
    return ({"up": 1, "down": -1}[kind], answer_id) if kind in ("up", "down") else None


def feedback_note_blocks(answer_id: int) -> list[dict]:
    """After a 👎: an optional "what was wrong?" box and Send."""
    return fit([
        SectionBlock(text=MarkdownTextObject(text="Thanks — I've noted that this answer missed. HR reviews these.")),
        InputBlock(block_id=f"{FEEDBACK_NOTE_BLOCK}-{answer_id}", optional=True,
                   label=PlainTextObject(text="What was wrong? (optional)"),
                   element=PlainTextInputElement(action_id=FEEDBACK_NOTE, max_length=500, multiline=True,
                                                 placeholder=PlainTextObject(text="e.g. it answered for the wrong level"))),
        ActionsBlock(block_id="feedback_note_actions", elements=[button("Send", FEEDBACK_SEND, str(answer_id))]),
    ])


_BOLD = re.compile(r"(?<![\\*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_STRIKE = re.compile(r"(?<![~\w])~(?=\S)([^~\n]+?)(?<=\S)~(?![~\w])")
_LINK = re.compile(r"<(https?://[^|>\s]+)\|([^>]+)>")


def to_markdown(mrkdwn: str) -> str:
    """Slack mrkdwn (what answers are written in) as the standard markdown of streams and markdown blocks:
    *bold* -> **bold**, ~strike~ -> ~~strike~~, <url|text> -> [text](url). Escapes (&amp; &lt; &gt;) stay."""
    text = _LINK.sub(lambda m: f"[{m.group(2)}]({m.group(1)})", mrkdwn)
    text = _BOLD.sub(r"**\1**", text)
    return _STRIKE.sub(r"~~\1~~", text)


def stream_parts(blocks: list[dict]) -> tuple[str, list[dict]]:
    """A message's leading section texts as one markdown text to stream, and the blocks that follow them
    (sources, buttons, feedback) for the end of the stream."""
    texts: list[str] = []
    i = 0
    while i < len(blocks) and blocks[i].get("type") == "section" and not blocks[i].get("accessory") \
            and (blocks[i].get("text") or {}).get("type") == "mrkdwn":
        texts.append(blocks[i]["text"]["text"])
        i += 1
    markdown = to_markdown("\n".join(texts))
    if len(markdown) > MARKDOWN_MAX:
        note = "\n\n" + CUT_NOTE.format(hint="ask for one level at a time")
        markdown = markdown[: MARKDOWN_MAX - len(note)].rstrip() + note
    return markdown, blocks[i:]


def text_blocks(mrkdwn: str, footer: str | None = None) -> list[dict]:
    blocks: list[Block] = list(sections(mrkdwn))
    if footer:
        blocks.append(context(footer))
    return fit(blocks)


def level_blocks(kb: Knowledge, level: Level, card: str) -> list[dict]:
    blocks: list[Block] = list(sections(card))
    blocks.append(context(f"_Sources: {escape(kb.tracks[level.track].title)} · {escape(level.label)} · knowledge {kb.version}_"))
    blocks.append(ActionsBlock(block_id="level_actions", elements=[
        button(f"Start gap check for {level.title}", START_GAP, level.id, style="primary"),
        button("Compare with my level", COMPARE_MINE, level.id),
    ]))
    return fit(blocks)


# -- App Home --------------------------------------------------------------------------------------

def home_view(kb: Knowledge, profile: dict, overview: str, banner: list[dict] | None = None,
              reviews: list[tuple[int, str]] | None = None) -> dict:
    def known(key: str) -> Level | None:
        return kb.level(profile[key]) if profile.get(key) and kb.has_level(profile[key]) else None

    current = known("current_level")
    chosen = known("target_level")   # the target of their last gap check, when it is still ahead of them
    nxt = chosen if chosen and current and chosen.id != current.id else (kb.next_level(current) if current else None)
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Ladder — your career map"))]
    if current and nxt is chosen and nxt is not None:
        mine = f"You are *{escape(current.label)}*; your target: *{escape(nxt.label)}*."
    elif current:
        mine = f"You are *{escape(current.label)}*"
        mine += f"; next on your track: *{escape(nxt.label)}*." if nxt else ", the top of your track."
    else:
        mine = "Tell me your current level and I can compare levels with yours and suggest your next step."
    select = StaticSelectElement(
        action_id=SET_CURRENT, placeholder=PlainTextObject(text="Set my current level"),
        option_groups=_level_options(kb), initial_option=level_option(kb, current) if current else None,
    )
    blocks.append(SectionBlock(text=MarkdownTextObject(text=mine), accessory=select))
    if banner:  # "You have an unfinished check … — resume?"
        blocks += [Block.parse(b) for b in banner]
    actions: list[ButtonElement] = []
    if nxt:
        actions.append(button(f"Start gap check for {nxt.title}", START_GAP, nxt.id, style="primary"))
        actions.append(button(f"What does {nxt.title} need?", SHOW_LEVEL, nxt.id))
    elif not current:  # the check's first step asks for both levels
        actions.append(button("Start a gap check", START_GAP, "", style="primary"))
    if actions:
        blocks.append(ActionsBlock(block_id="home_actions", elements=actions))
    if reviews:  # a lead's gap checks waiting for their review: (check id, what it is)
        blocks.append(DividerBlock())
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text=f"*Reviews waiting for you* ({len(reviews)})")))
        for check_id, what in reviews[:10]:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(what, SECTION_MAX)),
                                       accessory=button("Review", GAP_OPEN_REVIEW, str(check_id), style="primary")))
        if len(reviews) > 10:
            blocks.append(context(f"and {len(reviews) - 10} more: `/ladder team` lists them."))
    blocks.append(DividerBlock())
    blocks += sections(overview)
    blocks.append(context("Ask me anything in a DM (\"what do I need for Senior Agent?\") or use `/ladder help`. "
                          f"knowledge {kb.version}"))
    view = View(type="home", blocks=fit(blocks, VIEW_BLOCKS, hint="use /ladder levels"))
    view.validate_json()
    return view.to_dict()


def inputs_from_state(state: dict | None) -> dict:
    """The values a person left in a message's inputs and selects, by our short names."""
    names = {GAP_CURRENT: "current", GAP_TARGET: "target", GAP_NOTE: "note", GAP_VALUE: "value",
             FEEDBACK_NOTE: "feedback_note"}
    out: dict = {"review": review_choices(state)}
    for block in ((state or {}).get("values") or {}).values():
        for action_id, element in block.items():
            if action_id in names:
                value = element.get("value")
                if value is None and element.get("selected_option"):
                    value = element["selected_option"].get("value")
                if value is not None:
                    out[names[action_id]] = value
    return out


def input_defaults(blocks: Iterable[dict]) -> dict:
    """What a message's inputs hold before anyone types (their initial values), by our short names:
    what Slack sends in ``state`` for a box left as it was."""
    names = {GAP_NOTE: "note", GAP_VALUE: "value"}
    out = {}
    for block in blocks:
        element = (block.get("element") or {}) if block.get("type") == "input" else {}
        if element.get("action_id") in names and element.get("initial_value"):
            out[names[element["action_id"]]] = element["initial_value"]
    return out


def option_labels(blocks: Iterable[dict]) -> list[tuple[str, str, str]]:
    """(label, action_id, value) of every button in some blocks: what the console numbers."""
    out = []
    for block in blocks:
        for el in block.get("elements", []) if block.get("type") == "actions" else []:
            if el.get("type") == "button":
                out.append((el["text"]["text"], el["action_id"], el.get("value", "")))
    return out


# -- gap check -------------------------------------------------------------------------------------

GAP_BEGIN = "ladder_gap_begin"          # Start on the confirm message (reads the selects)
GAP_CURRENT = "ladder_gap_current"      # select on the confirm message
GAP_TARGET = "ladder_gap_target"        # select on the confirm message
GAP_RATE = "ladder_gap_rate"            # Yes, consistently / Partly / Not yet
GAP_MONTHS = "ladder_gap_months"        # experience choices
GAP_NUMBER = "ladder_gap_number"        # submit the stated number
GAP_SKIP = "ladder_gap_skip"
GAP_BACK = "ladder_gap_back"
GAP_PAUSE = "ladder_gap_pause"
GAP_RESUME = "ladder_gap_resume"
GAP_CANCEL = "ladder_gap_cancel"
GAP_RESTART = "ladder_gap_restart"      # start over instead of resuming
GAP_SHARE = "ladder_gap_share"          # Share with my lead (on a report)
GAP_REVIEW = "ladder_gap_review"        # the lead's Confirm review
GAP_REVIEW_RATING = "ladder_gap_review_rating"   # the lead's select per requirement (block id review-<step>)
GAP_OPEN_REVIEW = "ladder_gap_open_review"      # App Home: open a review waiting for this lead
GAP_NOTE_BLOCK, GAP_NOTE = "gap_note", "ladder_gap_note"
GAP_VALUE_BLOCK, GAP_VALUE = "gap_value", "ladder_gap_value"
GAP_ACTION_IDS = (GAP_BEGIN, GAP_CURRENT, GAP_TARGET, GAP_RATE, GAP_MONTHS, GAP_NUMBER, GAP_SKIP, GAP_BACK,
                  GAP_PAUSE, GAP_RESUME, GAP_CANCEL, GAP_RESTART, GAP_NOTE, GAP_VALUE, GAP_SHARE, GAP_REVIEW,
                  GAP_REVIEW_RATING, GAP_OPEN_REVIEW)


def gap_confirm_blocks(kb: Knowledge, current: Level | None, target: Level | None, value: str) -> list[dict]:
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Gap check"))]
    blocks.append(SectionBlock(text=MarkdownTextObject(
        text="I'll walk you through the target level one requirement at a time. Every answer is saved as you go; "
             "you can go back, skip or pause at any step.")))
    blocks.append(SectionBlock(block_id="gap_current", text=MarkdownTextObject(text="*Your current level*"),
                               accessory=StaticSelectElement(action_id=GAP_CURRENT, option_groups=_level_options(kb),
                                                             placeholder=PlainTextObject(text="Choose your level"),
                                                             initial_option=level_option(kb, current) if current else None)))
    blocks.append(SectionBlock(block_id="gap_target", text=MarkdownTextObject(text="*Target level*"),
                               accessory=StaticSelectElement(action_id=GAP_TARGET, option_groups=_level_options(kb),
                                                             placeholder=PlainTextObject(text="Choose a target"),
                                                             initial_option=level_option(kb, target) if target else None)))
    blocks.append(ActionsBlock(block_id="gap_confirm", elements=[
        button("Start", GAP_BEGIN, value, style="primary"), button("Cancel", GAP_CANCEL, value)]))
    return fit(blocks)


def track_change_blocks(mrkdwn: str, value: str) -> list[dict]:
    """Said before a check across tracks starts: Start (for these two levels) or Cancel."""
    return fit(list(sections(mrkdwn)) + [ActionsBlock(block_id="gap_confirm", elements=[
        button("Start", GAP_BEGIN, value, style="primary"), button("Cancel", GAP_CANCEL, value)])])


def gap_step_blocks(title: str, progress: str, step, value: str, answered: str | None, note: str | None = None,
                    figure: float | None = None, notice: str | None = None) -> list[dict]:
    """One question of the walk, with Back / Skip / Pause on every step.

    ``note`` and ``figure`` (what was saved for this step) prefill their boxes. The boxes' block ids
    carry the step (``value``, e.g. ``c12s3``): Slack keeps what was typed into an input across
    ``chat.update`` while its block id stays the same, so a shared id would carry a note into the next
    step. :func:`inputs_from_state` reads them by action id, whatever the block id."""
    blocks: list[Block] = [context(f"*{escape(title)}* · {progress}")]
    if notice:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(notice, SECTION_MAX))))
    if step.kind == "experience":
        minimum = f"\nThe target asks for: _{escape(step.text)}_" if step.text else ""
        question = escape(step.question or "How long have you worked in your current role?")
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(f"*{question}*{minimum}", SECTION_MAX))))
        blocks.append(ActionsBlock(block_id="gap_months", elements=[
            button(label, GAP_MONTHS, f"{value}|{months}") for months, label in experience_choices(step.min_months)]))
        blocks.append(InputBlock(block_id=f"{GAP_VALUE_BLOCK}-{value}", optional=True, label=PlainTextObject(
            text="Or type it: months (e.g. 14) or years (e.g. 1.5 years)"),
            element=PlainTextInputElement(action_id=GAP_VALUE, placeholder=PlainTextObject(text="e.g. 14"),
                                          initial_value=None)))
        blocks.append(InputBlock(block_id=f"{GAP_NOTE_BLOCK}-{value}", optional=True,
                                 label=PlainTextObject(text="Note (optional)"),
                                 element=PlainTextInputElement(action_id=GAP_NOTE, max_length=500,
                                                               initial_value=clip(note, 500) if note else None)))
        blocks.append(ActionsBlock(block_id="gap_rate", elements=[
            button("Submit my months", GAP_NUMBER, value, style="primary")]))
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{escape(step.title)}*\n{escape(step.text)}")))
        if step.number:
            blocks.append(InputBlock(block_id=f"{GAP_VALUE_BLOCK}-{value}", optional=True, label=PlainTextObject(
                text=clip(f"Your figure (target {step.number['label']})", 150)),
                element=PlainTextInputElement(action_id=GAP_VALUE, placeholder=PlainTextObject(text="e.g. 102"),
                                              initial_value=f"{figure:g}" if figure is not None else None)))
        blocks.append(InputBlock(block_id=f"{GAP_NOTE_BLOCK}-{value}", optional=True,
                                 label=PlainTextObject(text="Note (optional)"),
                                 element=PlainTextInputElement(action_id=GAP_NOTE, max_length=500,
                                                               initial_value=clip(note, 500) if note else None)))
        rates = [button(label, GAP_RATE, f"{value}|{rating.value}") for rating, label in RATING_LABELS.items()]
        if step.number:
            rates.insert(0, button("Submit my figure", GAP_NUMBER, value, style="primary"))
        blocks.append(ActionsBlock(block_id="gap_rate", elements=rates))
    if answered:
        blocks.append(context(f"Saved earlier: {escape(answered)}"))
    blocks.append(ActionsBlock(block_id="gap_nav", elements=[
        button("◀ Back", GAP_BACK, value), button("Skip", GAP_SKIP, value), button("Pause", GAP_PAUSE, value),
        button("Cancel", GAP_CANCEL, value, style="danger")]))
    return fit(blocks)


def confirm_blocks(mrkdwn: str, action_id: str, value: str) -> list[dict]:
    return fit(list(sections(mrkdwn)) + [ActionsBlock(block_id="confirm", elements=[
        button("Send", action_id, value, style="primary")])])


def announcement_blocks(message: str, level: Level | None, dm: bool) -> list[dict]:
    """HR's announcement; in a DM, with a button to re-run the gap check for the changed level."""
    head = f"*Career ladder update*" + (f" — {escape(level.label)}" if level else "")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=clip(f"{head}\n{escape(message)}", SECTION_MAX)))]
    if dm and level is not None:
        blocks.append(context("You get this because one of your gap checks targets this level."))
        blocks.append(ActionsBlock(block_id="announce_actions", elements=[
            button("Re-run my gap check", START_GAP, level.id, style="primary")]))
    return fit(blocks)


def reminder_blocks(mrkdwn: str, buttons: list[tuple[str, str, str]]) -> list[dict]:
    """A reminder: its text, its buttons (label, action id, value) and *Stop reminding me*."""
    elements = [button(label, aid, value, style="primary" if i == 0 else None)
                for i, (label, aid, value) in enumerate(buttons)]
    elements.append(button("Stop reminding me", REMIND_OFF, "off"))
    return fit(list(sections(mrkdwn)) + [
        context("A reminder from Ladder. `/ladder remind off` (or the button) stops them, `/ladder remind on` "
                "brings them back."),
        ActionsBlock(block_id="reminder_actions", elements=elements)])


def invite_blocks(mrkdwn: str, target: Level) -> list[dict]:
    """A lead's invitation to a gap check, with its Start button."""
    return fit(list(sections(mrkdwn)) + [ActionsBlock(block_id="assign", elements=[
        button(f"Start gap check for {target.title}", START_GAP, target.id, style="primary")])])


EDIT_CALLBACK = "ladder_edit"
EDIT_BLOCKS = {"experience": "edit_experience", "responsibilities": "edit_responsibilities", "skills": "edit_skills",
               "note": "edit_note", "announce": "edit_announce"}


def edit_modal(level: Level, track_title: str, metadata: str) -> dict:
    """HR's form for one level: experience, responsibilities (one per line), skills, a change note."""
    def field(key: str, label: str, initial: str, multiline: bool = True, hint: str | None = None) -> InputBlock:
        return InputBlock(block_id=EDIT_BLOCKS[key], label=PlainTextObject(text=label),
                          hint=PlainTextObject(text=hint) if hint else None,
                          element=PlainTextInputElement(action_id=key, multiline=multiline, max_length=3000,
                                                        initial_value=initial[:3000] or None))

    blocks: list[Block] = [
        context(f"Editing *{escape(level.label)}* · {escape(track_title)}. Saving creates a new knowledge "
                "version; questions keep being answered from the current one until the new one is indexed."),
        field("experience", "Experience", level.experience.text, hint="Durations like '2+ years' set the minimum."),
        field("responsibilities", "Area of responsibility", "\n".join(level.responsibilities),
              hint="One responsibility per line."),
        field("skills", "Skills", "\n".join(f"{s.name}: {s.description}" for s in level.skills),
              hint="One per line, 'Name: description'. Numbers like '≥ 105%' become thresholds."),
        field("note", "Change note", "", multiline=False, hint="What changed and why: it goes into the history."),
    ]
    announce = field("announce", "Announcement (optional)", "",
                     hint="If you write one, it is posted to the announcement channel with the changes, and sent "
                          "to everyone whose gap checks target this level. Leave empty to save quietly.")
    announce.optional = True
    blocks.append(announce)
    view = View(type="modal", callback_id=EDIT_CALLBACK, title=PlainTextObject(text="Edit level"),
                submit=PlainTextObject(text="Save"), close=PlainTextObject(text="Cancel"),
                private_metadata=metadata, blocks=fit(blocks, VIEW_BLOCKS))
    view.validate_json()
    return view.to_dict()


def view_values(view: dict) -> dict[str, str]:
    """A submitted modal's text inputs by action id."""
    out = {}
    for block in ((view.get("state") or {}).get("values") or {}).values():
        for action_id, element in block.items():
            out[action_id] = element.get("value") or ""
    return out


def report_blocks(mrkdwn: str, check_id: int, can_share: bool) -> list[dict]:
    blocks: list[Block] = list(sections(mrkdwn))
    if can_share:
        blocks.append(ActionsBlock(block_id="report_actions", elements=[
            button("Share with my lead", GAP_SHARE, str(check_id))]))
    return fit(blocks)


def review_blocks(mrkdwn: str, check_id: int, rows: list[tuple[str, str, str, str]]) -> list[dict]:
    """The lead's review: one select per requirement (the person's own rating preselected, their figure and
    note beside it), then Confirm."""
    options = [Option(value=r.value, text=PlainTextObject(text=label)) for r, label in RATING_LABELS.items()]
    blocks: list[Block] = list(sections(mrkdwn))
    for step_key, title, rating, said in rows[:40]:
        initial = next((o for o in options if o.value == rating), None)
        line = f"*{escape(title)}*\n_They said:_ {escape(said)}"
        blocks.append(SectionBlock(block_id=f"review-{step_key}", text=MarkdownTextObject(text=clip(line, 1000)),
                                   accessory=StaticSelectElement(action_id=GAP_REVIEW_RATING, options=options,
                                                                 initial_option=initial,
                                                                 placeholder=PlainTextObject(text="Your rating"))))
    blocks.append(ActionsBlock(block_id="review_actions", elements=[
        button("Confirm review", GAP_REVIEW, str(check_id), style="primary")]))
    return fit(blocks)


def review_choices(state: dict | None) -> dict[str, str]:
    """The lead's selects, by step key."""
    out = {}
    for block_id, block in ((state or {}).get("values") or {}).items():
        element = block.get(GAP_REVIEW_RATING)
        if block_id.startswith("review-") and element and element.get("selected_option"):
            out[block_id[len("review-"):]] = element["selected_option"]["value"]
    return out


def gap_resume_blocks(text: str, check_value: str, restart_value: str) -> list[dict]:
    return fit([SectionBlock(text=MarkdownTextObject(text=text)),
                ActionsBlock(block_id="gap_resume", elements=[
                    button("Resume", GAP_RESUME, check_value, style="primary"),
                    button("Start over", GAP_RESTART, restart_value)])])

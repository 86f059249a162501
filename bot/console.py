"""``python -m bot chat``: Ladder in a terminal, through the same handlers Slack uses.

Type a question, a ``/ladder …`` line, a button's number, ``home`` for the App Home tab, or ``quit``.
Block Kit is shown as text; buttons are numbered. In a gap check, ``current LEVEL`` / ``target LEVEL``
set the menus, ``note TEXT`` fills the note box and ``= 102`` the figure box before you press a button.
Files (the report chart) are saved into the working directory.
"""

from __future__ import annotations

import sys
from typing import Callable, TextIO

from bot import handlers
from bot.search.conversation import Conversation
from bot.blocks import GAP_VALUE_BLOCK, input_defaults, option_labels
from bot.render import to_plain

CONSOLE_USER = "UCONSOLE"
CONSOLE_CHANNEL = "DCONSOLE"
PROMPT = "you> "


def render(blocks: list[dict]) -> tuple[str, list[tuple[str, str, str]]]:
    """Blocks as readable text, and the buttons in the order they are numbered."""
    lines: list[str] = []
    buttons = option_labels(blocks)
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(block["text"]["text"].upper())
        elif kind == "section":
            lines.append(to_plain(block["text"]["text"]))
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "static_select":
                chosen = (accessory.get("initial_option") or {}).get("text", {}).get("text", "not chosen")
                word = {"ladder_gap_current": "current", "ladder_gap_target": "target"}.get(accessory["action_id"], "level")
                lines.append(f"  ({chosen} — change it: type `{word} LEVEL`, e.g. `{word} L2`)")
        elif kind == "input":
            label = block["label"]["text"]
            hint = "= NUMBER" if (block.get("block_id") or "").startswith(GAP_VALUE_BLOCK) else "note TEXT"
            saved = (block.get("element") or {}).get("initial_value")
            kept = f" (saved: {saved})" if saved else ""
            lines.append(f"  [{label}{kept}: type `{hint}` before pressing a button]")
        elif kind == "context":
            lines.append("  " + " ".join(to_plain(e.get("text", "")) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("-" * 40)
    if buttons:
        lines.append("  " + "   ".join(f"[{i}] {label}" for i, (label, _, _) in enumerate(buttons, start=1)))
    return "\n".join(lines), buttons


def run(deps: handlers.Deps, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
        interactive: bool | None = None) -> int:
    interactive = stdin.isatty() if interactive is None else interactive
    say: Callable[[str], None] = lambda text: print(text, file=stdout, flush=True)  # noqa: E731
    say(f"Ladder console (knowledge {deps.kb.version}). Ask a question, type /ladder help, a button's number, "
        "`home`, or `quit`.")
    buttons: list[tuple[str, str, str]] = []
    inputs: dict = {}
    conversation = Conversation()   # follow-ups ("and for expert?") read against the questions before

    def show(reply) -> None:
        nonlocal buttons
        if reply is None:
            return
        if reply.modal is not None:
            say("ladder> That opens a form in Slack, which the console cannot show. Edit in Slack, or edit "
                "knowledge/titles.yaml and re-import.")
            return
        text, new_buttons = render(reply.blocks)
        if reply.to_user:  # someone else's DM: shown, but its buttons are theirs
            say(f"ladder → DM to {reply.to_user}> " + text)
        else:
            if new_buttons:  # a new message to press on: its boxes start as Slack shows them (prefilled)
                inputs.clear()
                inputs.update(input_defaults(reply.blocks))
            buttons = new_buttons or buttons
            say("ladder> " + text)
        for extra in reply.followups:
            show(extra)
        for filename, content, title in reply.files:
            with open(filename, "wb") as fh:
                fh.write(content)
            say(f"  [file: {title} → saved as {filename}]")

    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            return 0
        line = line.strip()
        if not line:
            continue
        if line.lower() in {"quit", "exit", ":q"}:
            return 0
        word, _, rest = line.partition(" ")
        try:
            if line.isdigit() and buttons:
                n = int(line)
                if not 1 <= n <= len(buttons):
                    say(f"There is no button {n}: choose 1–{len(buttons)}.")
                    continue
                _, action_id, value = buttons[n - 1]
                reply = handlers.action(deps, CONSOLE_USER, action_id, value, dict(inputs))
                inputs.clear()
            elif line.lower() == "home":
                text, buttons = render(handlers.home(deps, CONSOLE_USER)["blocks"])
                say(text)
                continue
            elif word.lower() == "note" and rest:
                inputs["note"] = rest
                say("  (note kept for your next answer)")
                continue
            elif word == "=" and rest:
                inputs["value"] = rest.strip()
                say("  (figure kept: press Submit my figure)")
                continue
            elif word.lower() in {"current", "target"} and rest:
                inputs[word.lower()] = deps.kb.resolve(rest).id
                say(f"  ({word.lower()}: {deps.kb.level(inputs[word.lower()]).label})")
                continue
            elif word.lower() == "level" and rest:
                from bot.blocks import SET_CURRENT

                reply = handlers.action(deps, CONSOLE_USER, SET_CURRENT, deps.kb.resolve(rest).id)
            elif line.startswith("/ladder"):
                reply = handlers.command(deps, CONSOLE_USER, line[len("/ladder"):], channel=CONSOLE_CHANNEL)
            else:
                reply = handlers.question(deps, CONSOLE_USER, CONSOLE_CHANNEL, line, context=conversation)
                if reply.turn is not None:
                    conversation = conversation.then(reply.turn)
        except Exception as exc:
            message = getattr(exc, "message", None)
            if message:  # LevelNotFound and friends: their message is the answer
                say(to_plain(message))
                continue
            import logging

            logging.getLogger(__name__).exception("console: error while answering %r", line[:200])
            say("Sorry, something went wrong while answering. It has been logged.")
            continue
        show(reply)

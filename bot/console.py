"""``python -m bot chat``: Ladder in a terminal, through the same handlers Slack uses.

Type a question, a ``/ladder …`` line, a button's number, ``home`` for the App Home tab, or ``quit``.
Block Kit is shown as text; buttons are numbered.
"""

from __future__ import annotations

import sys
from typing import Callable, TextIO

from bot import handlers
from bot.blocks import option_labels
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
                lines.append("  (set your level: type `level LEVEL`, e.g. `level L2`)")
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
        try:
            if line.isdigit() and buttons:
                n = int(line)
                if not 1 <= n <= len(buttons):
                    say(f"There is no button {n}: choose 1–{len(buttons)}.")
                    continue
                _, action_id, value = buttons[n - 1]
                reply = handlers.action(deps, CONSOLE_USER, action_id, value)
            elif line.lower() == "home":
                text, buttons = render(handlers.home(deps, CONSOLE_USER)["blocks"])
                say(text)
                continue
            elif line.lower().startswith("level "):
                from bot.blocks import SET_CURRENT

                try:
                    level = deps.kb.resolve(line[6:])
                except Exception as exc:  # LevelNotFound: show its message
                    say(to_plain(getattr(exc, "message", str(exc))))
                    continue
                reply = handlers.action(deps, CONSOLE_USER, SET_CURRENT, level.id)
            elif line.startswith("/ladder"):
                reply = handlers.command(deps, CONSOLE_USER, line[len("/ladder"):], channel=CONSOLE_CHANNEL)
            else:
                reply = handlers.question(deps, CONSOLE_USER, CONSOLE_CHANNEL, line)
        except Exception:
            import logging

            logging.getLogger(__name__).exception("console: error while answering %r", line[:200])
            say("Sorry, something went wrong while answering. It has been logged.")
            continue
        text, new_buttons = render(reply.blocks)
        buttons = new_buttons or buttons
        say("ladder> " + text)

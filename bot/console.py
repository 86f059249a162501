"""``python -m bot chat``: Ladder in a terminal, through the same handlers Slack uses, as any person.

Block Kit is shown as text and buttons are numbered. :data:`HELP` lists what can be typed (``ladder chat
--help`` prints it too). The console plays every role: ``as NAME`` switches who is typing, ``@name``
stands for a person, ``inbox`` shows the DMs that person received, and ``/ladder edit LEVEL`` opens HR's
form as editable text with the same checks and diff as Slack's modal. Files (the report chart) are saved
into a temporary folder, never the working directory.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Callable, TextIO

from bot.chat import handlers
from bot.chat.blocks import (EDIT_BLOCKS, GAP_REVIEW_RATING, GAP_VALUE_BLOCK, SET_CURRENT, input_defaults,
                             option_labels)
from bot.chat.edits import submit_edit
from bot.chat.replies import not_found
from bot.core.knowledge import LevelNotFound
from bot.core.render import to_plain
from bot.search.conversation import Conversation
from bot.storage.authz import role_of
from bot.storage.outbox import inbox as queued

CONSOLE_USER = "UCONSOLE"
CONSOLE_CHANNEL = "DCONSOLE"
PROMPT = "{name}> "

HELP = """What you can type in the console:
  a question                  asked as a DM ("what do I need for senior agent?")
  /ladder …                   any /ladder command (/ladder help lists them)
  NUMBER                      press that button of the last message
  home                        your App Home tab
  inbox                       the DMs you received (review requests, invitations, announcements, reminders)
  as NAME                     become someone else (as lee, as @hana); `whoami` says who you are
  @name                       a person, in any command: /ladder team add @sam
In a gap check:
  current LEVEL / target LEVEL   choose the levels on the first message
  note TEXT                   fill the note box, then press a button
  = NUMBER                    fill the figure box (a KPI %, or months of experience), then press a button
In a lead's review:
  rate N yes|partly|no        set your rating of requirement N, then press Confirm review
In HR's edit form (/ladder edit LEVEL):
  set FIELD TEXT              replace a field with one line (FIELD: experience, responsibilities, skills,
                              note, announce); `set FIELD` alone reads lines until a line with a single .
  add FIELD TEXT              add one line to a field
  form / save / cancel        show the form, save it (the same checks as Slack), close it
  help, quit"""

_NAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9._-]{0,30})$")
_AT = re.compile(r"(?<![<\w])@([A-Za-z][A-Za-z0-9._-]{0,30})")
RATINGS = {"yes": "yes", "y": "yes", "partly": "partly", "p": "partly", "no": "no", "n": "no", "not": "no"}
FIELDS = tuple(EDIT_BLOCKS)  # experience, responsibilities, skills, note, announce


class People:
    """Names typed in the console <-> Slack-like user ids: @sam is USAM; the console's own user is 'you'."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {CONSOLE_USER: "you"}

    def id_for(self, name: str) -> str | None:
        m = _NAME.match(name.strip())
        if not m:
            return None
        word = m.group(1)
        if word.lower() in {"you", "me", "console"}:
            return CONSOLE_USER
        if re.fullmatch(r"[UW][A-Z0-9]{2,}", word):   # an id typed as it is
            self.names.setdefault(word, word)
            return word
        user = "U" + re.sub(r"[^A-Z0-9]", "", word.upper())
        if len(user) < 3:
            user += "X" * (3 - len(user))
        self.names.setdefault(user, word.lower())
        return user

    def mentions(self, line: str) -> str:
        """'/ladder team add @sam' -> '/ladder team add <@USAM|sam>', as Slack sends a mention."""
        return _AT.sub(lambda m: f"<@{self.id_for(m.group(1))}|{m.group(1).lower()}>", line)

    def show(self, text: str) -> str:
        return re.sub(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>", lambda m: "@" + self.names.get(m.group(1), m.group(1)), text)

    def name(self, user: str) -> str:
        return self.names.get(user, user)


def save_file(filename: str, content: bytes) -> str:
    """A file Ladder would upload (the report's chart), saved in a temporary folder of its own."""
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.gettempdir()) / "ladder-console"
    folder.mkdir(exist_ok=True)
    path = folder / Path(filename).name
    path.write_bytes(content)
    return str(path)


def render(blocks: list[dict], first: int = 1) -> tuple[str, list[tuple[str, str, str]]]:
    """Blocks as readable text, and the buttons in the order they are numbered (from ``first``)."""
    lines: list[str] = []
    buttons = option_labels(blocks)
    accessories = [b for b in blocks if (b.get("accessory") or {}).get("type") == "button"]
    buttons += [(b["accessory"]["text"]["text"], b["accessory"]["action_id"], b["accessory"].get("value", ""))
                for b in accessories]
    numbers = {id(b): first + len(buttons) - len(accessories) + i for i, b in enumerate(accessories)}
    reviewed = 0
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(block["text"]["text"].upper())
        elif kind == "section":
            lines.append(to_plain(block["text"]["text"]))
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "static_select":
                chosen = (accessory.get("initial_option") or {}).get("text", {}).get("text", "not chosen")
                if accessory["action_id"] == GAP_REVIEW_RATING:
                    reviewed += 1
                    lines.append(f"  (rating: {chosen} — change it: type `rate {reviewed} yes|partly|no`)")
                else:
                    word = {"ladder_gap_current": "current", "ladder_gap_target": "target"}.get(
                        accessory["action_id"], "level")
                    lines.append(f"  ({chosen} — change it: type `{word} LEVEL`, e.g. `{word} L2`)")
            elif accessory.get("type") == "button":
                lines.append(f"  [{numbers[id(block)]}] {accessory['text']['text']}")
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
    plain = buttons[: len(buttons) - len(accessories)]
    if plain:
        lines.append("  " + "   ".join(f"[{i}] {label}" for i, (label, _, _) in enumerate(plain, start=first)))
    return "\n".join(lines), buttons


def review_steps(blocks: list[dict]) -> list[str]:
    """The step keys of a review form's selects, in the order `rate N` numbers them."""
    return [b["block_id"][len("review-"):] for b in blocks
            if (b.get("accessory") or {}).get("action_id") == GAP_REVIEW_RATING]


@dataclass
class EditForm:
    """HR's edit modal as text: the same fields, validated and saved by the same functions."""
    title: str
    metadata: str
    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_modal(cls, view: dict) -> "EditForm":
        names = {v: k for k, v in EDIT_BLOCKS.items()}
        values = {names[b["block_id"]]: b["element"].get("initial_value") or ""
                  for b in view["blocks"] if b.get("type") == "input" and b.get("block_id") in names}
        intro = next((e["text"] for b in view["blocks"] if b.get("type") == "context" for e in b["elements"]), "")
        return cls(to_plain(intro), view.get("private_metadata", ""), values)

    def text(self) -> str:
        hints = {"responsibilities": " (one per line)", "skills": " (Name: description, one per line)",
                 "note": " (required: what changed and why)", "announce": " (optional: sent to the channel and "
                 "to people whose gap checks target this level)"}
        lines = [f"EDIT FORM — {self.title}"]
        for name in FIELDS:
            lines.append(f"[{name}]{hints.get(name, '')}")
            lines += [f"  {line}" for line in (self.values.get(name) or "(empty)").splitlines()]
        lines.append("Type `set FIELD TEXT`, `add FIELD TEXT`, `form`, `save` or `cancel` (`help` for more).")
        return "\n".join(lines)


def run(deps: handlers.Deps, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
        interactive: bool | None = None, user: str | None = None, echo: bool = False) -> int:
    """Read lines and answer them. ``user``: who types first (a name or id); ``echo``: print each line
    read with its prompt (a scripted run, e.g. ``ladder demo``)."""
    interactive = stdin.isatty() if interactive is None else interactive
    say: Callable[[str], None] = lambda text: print(text, file=stdout, flush=True)  # noqa: E731
    people = People()
    me = people.id_for(user) if user else CONSOLE_USER
    if me is None:
        say(f"`{user}` is not a name: use letters, e.g. `--as sam`.")
        return 2
    say(f"Ladder console (knowledge {deps.kb.version}), as @{people.name(me)}. Ask a question, type "
        "/ladder help, a button's number, `home`, `inbox`, `as NAME`, `help` or `quit`.")
    buttons: list[tuple[str, str, str]] = []
    inputs: dict = {}
    review: list[str] = []
    inbox: dict[str, list] = {}        # user -> the DMs they received in this session
    form: list[EditForm] = []          # the edit form open for the person typing (at most one)
    conversations: dict[str, Conversation] = {}   # per person: follow-ups ("and for expert?") read against it

    def out(text: str) -> None:
        say(people.show(text))

    def remember(reply) -> None:
        """The message's buttons become the ones a number presses, its boxes start as Slack shows them."""
        nonlocal buttons, review
        text, new_buttons = render(reply.blocks)
        if new_buttons:
            buttons = new_buttons
            inputs.clear()
            inputs.update(input_defaults(reply.blocks))
            review = review_steps(reply.blocks)
            if review:
                inputs["review"] = {}
        return text

    def show(reply) -> None:
        if reply is None:
            return
        if reply.modal is not None:
            form[:] = [EditForm.from_modal(reply.modal)]
            out(form[0].text())
            return
        if reply.to_user and reply.to_user != me:  # someone else's DM: it waits in their inbox
            inbox.setdefault(reply.to_user, []).append(reply)
            out(f"  (→ a DM to @{people.name(reply.to_user)}: “{reply.text}” — `as {people.name(reply.to_user)}` "
                "then `inbox` to read it)")
        else:
            out("ladder> " + remember(reply))
        for extra in reply.followups:
            show(extra)
        for filename, content, title in reply.files:
            out(f"  [file: {title} → saved as {save_file(filename, content)}]")

    def show_inbox() -> None:
        nonlocal buttons, review

        messages = [("", r.text, r.blocks) for r in inbox.get(me, [])]
        messages += [(f" ({row['status']})", row["text"], row["blocks"]) for row in queued(deps.store, me)]
        if not messages:
            out(f"@{people.name(me)}'s inbox is empty.")
            return
        all_buttons: list = []
        for i, (status, title, blocks) in enumerate(messages, start=1):
            text, found = render(blocks, first=len(all_buttons) + 1)
            all_buttons += found
            out(f"— DM {i} of {len(messages)}{status}: {title}\n{text}")
        buttons, review = all_buttons, review_steps([b for _, _, blocks in messages for b in blocks])
        inputs.clear()
        if review:
            inputs["review"] = {}
        if any(status == " (pending)" or status == " (held)" for status, _, _ in messages):
            out("  (pending: saved, and will go out when Ladder is connected to Slack)")

    def read_block() -> str:
        lines = []
        while True:
            line = stdin.readline()
            if not line or line.rstrip("\n") == ".":
                return "\n".join(lines)
            lines.append(line.rstrip("\n"))

    def edit_line(word: str, rest: str) -> bool:
        """The edit form's own commands; False when the line is not one of them."""
        current = form[0]
        if word == "form":
            out(current.text())
        elif word == "cancel":
            form.clear()
            out("Form closed; nothing was saved.")
        elif word in {"set", "add"} and rest.split(" ", 1)[0].lower() in FIELDS:
            name, _, value = rest.partition(" ")
            name = name.lower()
            if word == "set":
                current.values[name] = value.strip() if value.strip() else read_block()
            else:
                current.values[name] = "\n".join(x for x in (current.values.get(name, ""), value.strip()) if x)
            out(f"  ({name} set: {len(current.values[name].splitlines())} line(s); `save` when ready)")
        elif word == "save":
            errors, apply = submit_edit(deps, me, current.metadata, current.values)
            if errors:
                names = {v: k for k, v in EDIT_BLOCKS.items()}
                out("Not saved — fix these and `save` again:\n" + "\n".join(
                    f"  {names.get(block, block)}: {message}" for block, message in errors.items()))
                return True
            form.clear()
            show(apply())
        else:
            return False
        return True

    while True:
        if interactive:
            stdout.write(PROMPT.format(name=people.name(me)))
            stdout.flush()
        line = stdin.readline()
        if not line:
            return 0
        line = line.strip()
        if echo and line:
            out(line if line.startswith("#") else f"{people.name(me)}> {line}")
        if not line or line.startswith("#"):
            continue
        if line.lower() in {"quit", "exit", ":q"}:
            return 0
        word, _, rest = line.partition(" ")
        word = word.lower()
        try:
            if form and edit_line(word, rest):
                continue
            if word == "help" and not rest:
                out(HELP)
                continue
            if word == "whoami":
                out(f"You are @{people.name(me)} ({me}), role {role_of(deps.store, deps.settings, me).value}.")
                continue
            who = people.id_for(rest) if word == "as" and len(rest.split()) == 1 else None
            if who is not None:   # "as lee"; "as a senior agent, what …" stays a question

                me, buttons, review = who, [], []
                inputs.clear()
                form.clear()
                waiting = len(inbox.get(me, []))
                out(f"(you are now @{people.name(me)}, role {role_of(deps.store, deps.settings, me).value}"
                    + (f"; {waiting} DM(s) in your inbox" if waiting else "") + ")")
                continue
            if line.isdigit() and buttons:
                n = int(line)
                if not 1 <= n <= len(buttons):
                    out(f"There is no button {n}: choose 1–{len(buttons)}.")
                    continue
                _, action_id, value = buttons[n - 1]
                reply = handlers.action(deps, me, action_id, value, dict(inputs))
                inputs.clear()
            elif line.lower() == "home":
                text, buttons = render(handlers.home(deps, me)["blocks"])
                out(text)
                continue
            elif line.lower() == "inbox":
                show_inbox()
                continue
            elif word == "rate" and review:
                parts = rest.split()
                n = int(parts[0]) if parts and parts[0].isdigit() else 0
                rating = RATINGS.get(parts[1].lower()) if len(parts) == 2 else None
                if not 1 <= n <= len(review) or rating is None:
                    out(f"Type `rate N yes|partly|no` with N from 1 to {len(review)}.")
                    continue
                inputs.setdefault("review", {})[review[n - 1]] = rating
                out(f"  (requirement {n}: {rating}; press Confirm review when done)")
                continue
            elif word == "note" and rest:
                inputs["note"] = rest
                out("  (note kept for your next answer)")
                continue
            elif word == "=" and rest:
                inputs["value"] = rest.strip()
                out("  (figure kept: press Submit my figure / Submit my months, or a rating)")
                continue
            elif word in {"current", "target"} and rest:
                inputs[word] = deps.kb.resolve(rest).id
                out(f"  ({word}: {deps.kb.level(inputs[word]).label})")
                continue
            elif word == "level" and rest:
                reply = handlers.action(deps, me, SET_CURRENT, deps.kb.resolve(rest).id)
            elif line.startswith("/ladder"):
                reply = handlers.command(deps, me, people.mentions(line[len("/ladder"):]), channel=CONSOLE_CHANNEL)
            else:
                reply = handlers.question(deps, me, CONSOLE_CHANNEL, line,
                                          context=conversations.get(me, Conversation()))
                if reply.turn is not None:
                    conversations[me] = conversations.get(me, Conversation()).then(reply.turn)
        except Exception as exc:
            message = not_found(exc) if isinstance(exc, LevelNotFound) else getattr(exc, "message", None)
            if message:  # LevelNotFound and friends: their message is the answer
                out(to_plain(message))
                continue
            import logging

            logging.getLogger(__name__).exception("console: error while answering %r", line[:200])
            out("Sorry, something went wrong while answering. It has been logged.")
            continue
        show(reply)

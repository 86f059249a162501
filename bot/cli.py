"""The command line: parse, call the library, print. Errors become one clear line and an exit code.

Exit codes: 0 ok, 1 a problem with Ladder's own files or setup, 2 bad input (unknown level, usage).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Sequence

from bot import __version__
from bot.core.config import ConfigError, Settings
from bot.core.knowledge import Knowledge, KnowledgeError, LevelNotFound
from bot.core.render import ladder, level_card, to_plain
from bot.search.embedders import EmbedderError
from bot.search.retrieval import IndexUnavailable
from bot.storage.store import StoreError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def _out(text: str) -> None:
    print(to_plain(text))


def _kb(settings: Settings) -> Knowledge:
    """The live knowledge, as `serve` loads it: HR's newest edit (SQLite), else the committed files."""
    from bot.storage.versions import live_knowledge

    return live_knowledge(settings)


def cmd_levels(args, settings: Settings) -> int:
    kb = _kb(settings)
    tracks = [kb.track(args.track)] if args.track else list(kb.tracks.values())
    _out("\n\n".join(ladder(kb, t) for t in tracks))
    return EXIT_OK


def cmd_show(args, settings: Settings) -> int:
    kb = _kb(settings)
    _out(level_card(kb, kb.resolve(" ".join(args.level), track=args.track)))
    return EXIT_OK


def cmd_import_map(args, settings: Settings) -> int:
    from bot.core.importer import import_map

    titles = Path(args.titles)
    out = Path(args.out) if args.out else titles.parent / "tracks"
    result = import_map(Path(args.export), titles, out, progress=print)
    print(f"{result.blocks} blocks read, {result.duplicates} exact duplicate blocks dropped, "
          f"{sum(len(t['levels']) for t in result.tracks.values())} levels written.")
    return EXIT_OK


def _progress_bar(label: str):
    """A tqdm bar on stderr, created on the first tick (nothing printed when no build happens)."""
    state: dict = {}

    def tick(done: int, total: int) -> None:
        if "bar" not in state:
            from tqdm import tqdm

            state["bar"] = tqdm(total=total, desc=label, unit="chunk", file=sys.stderr, leave=False)
        state["bar"].update(done - state["bar"].n)
        if done >= total:
            state["bar"].close()

    return tick


def _advisor(settings: Settings):
    from bot.wiring import open_advisor

    return open_advisor(settings, progress=_progress_bar("building index"), kb=_kb(settings))


def cmd_start(args, settings: Settings) -> int:
    """`ladder` with no command: serve Slack when tokens are set, otherwise the terminal console."""
    if settings.has_slack:
        return cmd_serve(argparse.Namespace(http=False, port=None), settings)
    return cmd_chat(args, settings)


def _deps(settings: Settings):
    from bot.wiring import make_deps

    return make_deps(settings, progress=_progress_bar("building index"))


def cmd_chat(args, settings: Settings) -> int:
    from bot.console import run

    return run(_deps(settings), user=getattr(args, "as_user", None))


def cmd_demo(args, settings: Settings) -> int:
    """A scripted console run: an agent's gap check, their lead's review, HR's edit and announcement."""
    from bot.demo import run_demo

    return run_demo(settings, progress=_progress_bar("building index"))


def cmd_serve(args, settings: Settings) -> int:
    """Socket Mode when SLACK_APP_TOKEN is set (unless --http), HTTP otherwise."""
    from bot.slack.app import create_app, run_socket_mode
    from bot.slack.web import make_http_server, wsgi_app
    from bot.wiring import setup_logging, start_outbox_worker, start_version_follower

    setup_logging()
    socket_mode = bool(settings.slack_app_token) and not args.http
    if socket_mode:
        settings.require_socket_mode()
    else:
        settings.require_http()
    deps = _deps(settings)
    try:  # Bolt checks the token with auth.test here
        app = create_app(settings, deps, socket_mode=socket_mode)
    except Exception as exc:
        print(f"error: cannot start: Slack at {settings.slack_api_url} did not accept the bot token "
              f"({type(exc).__name__}: {exc})", file=sys.stderr)
        return EXIT_ERROR
    start_outbox_worker(deps, app.client)
    start_version_follower(deps)
    if socket_mode:
        print("Ladder: Socket Mode, connecting to Slack…", file=sys.stderr)
        run_socket_mode(app, settings.slack_app_token)
        return EXIT_OK
    port = args.port or settings.port
    server = make_http_server(wsgi_app(app, deps), host="0.0.0.0", port=port)
    print(f"Ladder: HTTP on port {port} (POST /slack/events, GET /healthz)", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def cmd_outbox(args, settings: Settings) -> int:
    """Broadcast deliveries: pending / sending / sent / failed; --drain sends what is pending."""
    from bot.chat.reminders import schedule
    from bot.slack.app import web_client
    from bot.slack.slack_sender import SlackSender
    from bot.storage.outbox import drain, summary
    from bot.storage.store import Store
    from bot.wiring import slack_tz

    store = Store(settings.db_path)
    if args.drain:
        settings.require_slack()
        client = web_client(settings)
        queued = schedule(store, settings.remind_days, slack_tz(client))
        if queued:
            print(f"reminders: {queued} queued")
        result = drain(store, SlackSender(client), until_empty=True)
        print(f"drained: {result.sent} sent, {result.recovered} recovered, {result.retried} retried, "
              f"{result.failed} failed")
    counts = summary(store)
    print("outbox: " + (", ".join(f"{counts.get(k, 0)} {k}"
                                  for k in ("held", "pending", "sending", "unknown", "sent", "failed"))))
    with store.db() as db:
        for row in db.execute("SELECT id, recipient, last_error FROM outbox WHERE status = 'failed' ORDER BY id LIMIT 20"):
            print(f"  failed #{row[0]} to {row[1]}: {row[2]}")
    return EXIT_OK


def cmd_export_knowledge(args, settings: Settings) -> int:
    """Write the live knowledge version (HR's edits included) back to the YAML track files."""
    from bot.storage.store import Store
    from bot.storage.versions import export, live_knowledge

    kb = live_knowledge(settings, Store(settings.db_path))
    out = Path(args.out) if args.out else settings.knowledge_dir / "tracks"
    for path in export(kb, out):
        print(f"wrote {path}")
    print(f"knowledge {kb.version}")
    return EXIT_OK


def cmd_audit(args, settings: Settings) -> int:
    """Privileged actions and refusals, newest first."""
    from bot.storage.store import Store

    rows = Store(settings.db_path).audit_log(limit=args.limit)
    if not rows:
        print("audit log is empty")
    for r in rows:
        print(f"{r['at']}  {r['outcome']:<7}  {r['actor']:<12}  {r['action']:<10}  {r['target'] or '-':<12}  {r['detail'] or ''}")
    return EXIT_OK


def cmd_index(args, settings: Settings) -> int:
    from bot.wiring import build

    index = build(_kb(settings), settings, progress=_progress_bar("embedding"))
    m = index.manifest
    print(f"index built: {m['chunks']} chunks, {m['dimension']} dimensions, knowledge {m['knowledge_version']}, "
          f"{m['build_seconds']} s -> {index.path}")
    return EXIT_OK


def _print_answer(answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        _out(answer.answer)


def cmd_ask(args, settings: Settings) -> int:
    question = " ".join(args.question)
    if question == "-":
        question = sys.stdin.read()
    _print_answer(_advisor(settings).ask(question, track=args.track), args.json)
    return EXIT_OK


def cmd_compare(args, settings: Settings) -> int:
    _print_answer(_advisor(settings).compare(args.a, args.b), args.json)
    return EXIT_OK


def cmd_path(args, settings: Settings) -> int:
    _print_answer(_advisor(settings).path(args.a, args.b), args.json)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ladder", description="Ladder: the career-ladder advisor.")
    parser.add_argument("--version", action="version", version=f"ladder {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("levels", help="print the ladder")
    p.add_argument("--track", help="only this track (e.g. call-center, frontend)")
    p.set_defaults(func=cmd_levels)

    p = sub.add_parser("show", help="print one level card")
    p.add_argument("level", nargs="+", help="id, title, alias, L3, 'level 3' …")
    p.add_argument("--track")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("ask", help="answer a question from the career map")
    p.add_argument("question", nargs="*", help="the question ('-' reads it from stdin)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--track", help="answer from this track only")
    p.set_defaults(func=cmd_ask)

    for name, func, helptext in (("compare", cmd_compare, "compare two levels"),
                                 ("path", cmd_path, "how to get from one level to another")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("a")
        p.add_argument("b")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)

    from bot.console import HELP as CONSOLE_HELP

    p = sub.add_parser("chat", help="talk to Ladder in this terminal (no Slack needed), as anyone",
                       description="Ladder in this terminal, through the same handlers as Slack.",
                       epilog=CONSOLE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--as", dest="as_user", metavar="USER", help="who is typing: a name (sam) or a user id")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("demo", help="a one-minute scripted tour: agent -> team lead -> HR (temporary database)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="serve Slack: Socket Mode if SLACK_APP_TOKEN is set, else HTTP")
    p.add_argument("--http", action="store_true", help="force HTTP even when SLACK_APP_TOKEN is set")
    p.add_argument("--port", type=int, help="HTTP port (default: $PORT or 3000)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("export-knowledge", help="write the live knowledge (with HR's edits) to YAML")
    p.add_argument("--out", help="folder for the track files (default: knowledge/tracks)")
    p.set_defaults(func=cmd_export_knowledge)

    p = sub.add_parser("outbox", help="broadcast deliveries: pending, sent, failed (--drain sends)")
    p.add_argument("--drain", action="store_true", help="send everything pending, then exit")
    p.set_defaults(func=cmd_outbox)

    p = sub.add_parser("audit", help="print the audit log (privileged actions and refusals)")
    p.add_argument("--limit", type=int, default=200)
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("index", help="build the embedding index from knowledge/")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("import-map", help="import HR's career-map export into knowledge/tracks/")
    p.add_argument("export", help="the exported career-map text file")
    p.add_argument("--titles", default=str(Settings().knowledge_dir / "titles.yaml"))
    p.add_argument("--out", help="output folder (default: tracks/ beside the titles file)")
    p.set_defaults(func=cmd_import_map)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable | None = getattr(args, "func", None)
    if func is None:
        func = cmd_start
    try:
        settings = Settings.from_env()
        return func(args, settings)
    except BrokenPipeError:  # `ladder levels | head`
        sys.stderr.close()
        return EXIT_OK
    except LevelNotFound as exc:
        hint = " Try ladder levels to see every level." if exc.show_levels else ""
        print(to_plain(exc.message) + hint, file=sys.stderr)
        return EXIT_USAGE
    except (KnowledgeError, ConfigError, EmbedderError, IndexUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except StoreError as exc:
        print(f"error: {exc.line()}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # the importer's own error type lives in a lazily imported module
        from bot.core.importer import ImportMapError

        if isinstance(exc, ImportMapError):
            print(f"error: {exc}. Nothing was written.", file=sys.stderr)
            return EXIT_ERROR
        raise

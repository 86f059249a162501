"""The command line: parse, call the library, print. Errors become one clear line and an exit code.

Exit codes: 0 ok, 1 a problem with Ladder's own files or setup, 2 bad input (unknown level, usage).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

from bot import __version__
from bot.config import ConfigError, Settings
from bot.knowledge import Knowledge, KnowledgeError, LevelNotFound, load_knowledge
from bot.render import ladder, level_card, to_plain

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def _out(text: str) -> None:
    print(to_plain(text))


def _kb(settings: Settings) -> Knowledge:
    return load_knowledge(settings.knowledge_dir)


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
    from bot.importer import import_map

    titles = Path(args.titles)
    out = Path(args.out) if args.out else titles.parent / "tracks"
    result = import_map(Path(args.export), titles, out, progress=print)
    print(f"{result.blocks} blocks read, {result.duplicates} exact duplicate blocks dropped, "
          f"{sum(len(t['levels']) for t in result.tracks.values())} levels written.")
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
        args = parser.parse_args(["levels"])
        func = args.func
    try:
        settings = Settings.from_env()
        return func(args, settings)
    except LevelNotFound as exc:
        print(to_plain(exc.message), file=sys.stderr)
        return EXIT_USAGE
    except (KnowledgeError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # the importer's own error type lives in a lazily imported module
        from bot.importer import ImportMapError

        if isinstance(exc, ImportMapError):
            print(f"error: {exc}. Nothing was written.", file=sys.stderr)
            return EXIT_ERROR
        raise

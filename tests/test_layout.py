"""Imports point one way: the core never reaches for Slack, and nothing imports the app or the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
CORE = {"config", "knowledge", "levelnames", "importer", "render", "retrieval", "embedders", "answers",
        "gapcheck", "store", "report", "authz", "outbox", "versions"}
SLACK = ("slack_bolt", "slack_sdk")


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def modules():
    return sorted(p for p in BOT.rglob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(BOT)))
def test_import_direction(path):
    name = path.relative_to(BOT).with_suffix("").parts[0]
    found = imports_of(path)
    if name in CORE:
        assert not [m for m in found if m.startswith(SLACK)], f"core module {name} imports Slack"
    if name not in {"__main__", "wsgi"}:
        assert not [m for m in found if m in {"bot.slack.app", "bot.cli"} and name not in {"app", "cli"}], f"{name} imports app/cli"

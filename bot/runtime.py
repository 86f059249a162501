"""Start-up: settings -> knowledge, index, embedder, store -> Deps. Shared by every entry point."""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.handlers import Deps
from bot.store import Store


def make_deps(settings: Settings, progress=None) -> Deps:
    from bot.service import open_advisor

    return Deps(settings=settings, advisor=open_advisor(settings, progress=progress), store=Store(settings.db_path))


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

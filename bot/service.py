"""Wiring of the core: knowledge + index + embedder -> an :class:`~bot.answers.Advisor`.

The index is rebuilt by itself when it is missing, unreadable, or built from other knowledge
(its manifest's version differs from ``knowledge/``).
"""

from __future__ import annotations

import logging
from typing import Callable

from bot.answers import Advisor
from bot.config import Settings
from bot.embedders import Embedder, TorchEmbedder
from bot.knowledge import Knowledge, load_knowledge
from bot.retrieval import Index, IndexError_, build_index, load_index

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


def build(kb: Knowledge, settings: Settings, progress: Progress | None = None) -> Index:
    return build_index(kb, settings.index_dir, TorchEmbedder(), progress=progress)


def ensure_index(kb: Knowledge, settings: Settings, progress: Progress | None = None) -> Index:
    try:
        index = load_index(settings.index_dir)
        if index.knowledge_version == kb.version:
            return index
        log.info("index was built from knowledge %s, knowledge is now %s: rebuilding", index.knowledge_version, kb.version)
    except IndexError_ as exc:
        log.info("%s: building it", exc)
    return build(kb, settings, progress)


def available_backends() -> list[str]:
    return ["torch"]


def reference_embedder() -> Embedder:
    """sentence-transformers itself: what every other backend is measured against."""
    return TorchEmbedder()


def query_embedder(index: Index, backend: str | None = None) -> Embedder:
    return TorchEmbedder()


def open_advisor(settings: Settings, progress: Progress | None = None, backend: str | None = None) -> Advisor:
    kb = load_knowledge(settings.knowledge_dir)
    index = ensure_index(kb, settings, progress)
    return Advisor(kb, index, query_embedder(index, backend))

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
EXPORT = KNOWLEDGE / "export" / "career-map.txt"


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    """A private copy of knowledge/ that a test may change."""
    dst = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, dst)
    return dst


@pytest.fixture(scope="session")
def embedder():
    """The real all-MiniLM-L6-v2 through sentence-transformers, loaded once."""
    from bot.embedders import TorchEmbedder

    return TorchEmbedder()


@pytest.fixture(scope="session")
def built_index(tmp_path_factory):
    """A real index of the committed knowledge with its ONNX exports, built once for the session."""
    from bot.config import Settings
    from bot.knowledge import load_knowledge
    from bot.service import build

    index_dir = tmp_path_factory.mktemp("index")
    build(load_knowledge(KNOWLEDGE), Settings(knowledge_dir=KNOWLEDGE, index_dir=index_dir))
    return index_dir


@pytest.fixture(scope="session")
def advisor(built_index):
    """What users get: the default serving backend (ONNX) over the built index."""
    from bot.answers import Advisor
    from bot.config import Settings
    from bot.knowledge import load_knowledge
    from bot.retrieval import load_index
    from bot.service import query_embedder

    index = load_index(built_index)
    return Advisor(load_knowledge(KNOWLEDGE), index, query_embedder(index, Settings().embedder))


@pytest.fixture(autouse=True)
def _isolated_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own index, database and environment: nothing touches the checkout."""
    for var in list(__import__("os").environ):
        if var.startswith(("SLACK_", "LADDER_")):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LADDER_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("LADDER_DB", str(tmp_path / "ladder.db"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def split_export(text: str) -> tuple[str, list[str]]:
    """The export's preamble and its level blocks, each starting at an 'Experience' line."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.strip() == "Experience"]
    preamble = "".join(lines[: starts[0]])
    blocks = ["".join(lines[a:b]) for a, b in zip(starts, starts[1:] + [len(lines)])]
    return preamble, blocks

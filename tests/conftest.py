"""Fixtures. Two indexes, each built once per session:

* ``fake_index`` / ``fake_advisor`` / ``deps``: built with :class:`bot.search.embedders.FakeEmbedder` (hashed words,
  no model, seconds): for every test of what Ladder does that is not about how well it finds answers;
* ``built_index`` / ``advisor`` / ``embedder``: the real all-MiniLM-L6-v2 with its ONNX export (minutes): for
  retrieval quality and torch/ONNX parity. A test that uses one of them is marked ``slow`` here, so
  ``make test-fast`` (``pytest -m "not slow"``) never loads the model.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# One BLAS thread: on this shared 2-core machine OpenBLAS's two spinning threads made a classifier fit
# 18x slower (7.9 s -> 0.44 s with one); set before numpy is imported, inherited by subprocesses.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
EXPORT = KNOWLEDGE / "export" / "career-map.txt"
REAL_MODEL_FIXTURES = {"built_index", "embedder"}   # (``advisor`` depends on ``built_index``)
WORKER_NICENESS = 5   # under pytest-xdist, while the real index is built (``real_index_in_background``)


def needs_real_model(item) -> bool:
    return bool(REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config, items):
    """Every test that needs the real model (directly or through a fixture) is ``slow``. The files holding such
    tests run last, so that under pytest-xdist the workers run the others while the real index is built."""
    real_files = set()
    for item in items:
        if needs_real_model(item):
            item.add_marker(pytest.mark.slow)
            real_files.add(item.path)
    items.sort(key=lambda item: item.path in real_files)   # stable: each file's tests keep their order


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    """A private copy of knowledge/ that a test may change."""
    dst = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, dst)
    return dst


def session_dir(tmp_path_factory, name: str) -> Path:
    """A directory for one session-wide index. Under pytest-xdist (``make test`` runs one worker more than cores) every worker
    gets the run's one directory: the index's build lock lets the first build it and the others wait and load
    it (as Ladder's own workers do), instead of each building its own copy."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        path = tmp_path_factory.getbasetemp().parent / name
        path.mkdir(exist_ok=True)
        return path
    return tmp_path_factory.mktemp(name)


@pytest.fixture(scope="session", autouse=True)
def real_index_in_background(request, tmp_path_factory):
    """Under pytest-xdist, the first worker starts building the real index (~1 min) in a child process as the
    run starts, when any selected test needs it: the workers run the other tests meanwhile, and ``built_index``
    then waits for the build lock and loads what the child built. The build is the run's critical path: the
    workers (and what they start) then run at a lower priority than the child, so it is not slowed by them."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not any(map(needs_real_model, request.session.items)):
        yield
        return
    if worker != "gw0":
        os.nice(WORKER_NICENESS)
        yield
        return
    index_dir = session_dir(tmp_path_factory, "index")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LADDER_KNOWLEDGE_DIR": str(KNOWLEDGE), "LADDER_INDEX_DIR": str(index_dir)}
    with open(index_dir.parent / "index-build.log", "w") as log:   # `ladder index`, as an operator builds one
        child = subprocess.Popen([sys.executable, "-m", "bot", "index"], cwd=ROOT, env=env, stdout=log,
                                 stderr=subprocess.STDOUT)
    os.nice(WORKER_NICENESS)
    yield
    if child.poll() is None:   # the run ended first (a failure with -x, an interrupt): no build left running
        child.kill()
    child.wait()


@pytest.fixture(scope="session")
def embedder():
    """The real all-MiniLM-L6-v2 through sentence-transformers, loaded once, with serving's threads: its tests
    ask one question at a time."""
    from bot.core.config import Settings
    from bot.search.embedders import TorchEmbedder

    return TorchEmbedder(threads=Settings().model_threads)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory):
    """A real index of the committed knowledge with its ONNX exports, built once for the session."""
    from bot.core.config import Settings
    from bot.core.knowledge import load_knowledge
    from bot.wiring import ensure_index

    index_dir = session_dir(tmp_path_factory, "index")
    ensure_index(load_knowledge(KNOWLEDGE), Settings(knowledge_dir=KNOWLEDGE, index_dir=index_dir))
    return index_dir


@pytest.fixture(scope="session")
def advisor(built_index):
    """What users get: the default serving backend (ONNX) over the built index."""
    from bot.advisor.advisor import Advisor
    from bot.core.config import Settings
    from bot.core.knowledge import load_knowledge
    from bot.search.retrieval import load_index
    from bot.wiring import query_embedder

    index = load_index(built_index)
    return Advisor(load_knowledge(KNOWLEDGE), index, query_embedder(index, Settings().embedder))


@pytest.fixture(scope="session")
def fake_index(tmp_path_factory):
    """An index of the committed knowledge built with the FakeEmbedder (and its request classifier), once."""
    from bot.core.config import Settings
    from bot.search.embedders import FakeEmbedder
    from bot.core.knowledge import load_knowledge
    from bot.wiring import ensure_index

    index_dir = session_dir(tmp_path_factory, "fake-index")
    ensure_index(load_knowledge(KNOWLEDGE), Settings(knowledge_dir=KNOWLEDGE, index_dir=index_dir), embedder=FakeEmbedder())
    return index_dir


@pytest.fixture(scope="session")
def fake_advisor(fake_index):
    """Ladder's advisor over the fake-built index: every rule and answer path, no model."""
    from bot.advisor.advisor import Advisor
    from bot.core.knowledge import load_knowledge
    from bot.search.retrieval import load_index
    from bot.wiring import query_embedder

    index = load_index(fake_index)
    return Advisor(load_knowledge(KNOWLEDGE), index, query_embedder(index))


@pytest.fixture
def deps(fake_advisor, tmp_path):
    """What handlers are given: the fake-built advisor, a fresh database, ``UADMIN`` as the admin."""
    from bot.core.config import Settings
    from bot.chat.handlers import Deps
    from bot.storage.store import Store

    return Deps(settings=Settings(db_path=tmp_path / "l.db", admins=("UADMIN",)), advisor=fake_advisor,
                store=Store(tmp_path / "l.db"))


@pytest.fixture
def index_copy(fake_index, tmp_path) -> Path:
    """A private copy of the fake-built index that a test may re-index (HR edits swap ``current``)."""
    index_dir = tmp_path / "index"
    shutil.copytree(fake_index, index_dir, symlinks=True)
    return index_dir


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


def link_copy(src: Path, dst: Path) -> Path:
    """A copy of an index directory whose files are hard links (a plain copy where links cannot be made): a build
    is written once and never changed in place, and a real one is ~300 MB with its ONNX files and export cache.
    A test that damages a copied file replaces it (:func:`replace_file`), so the original stays whole."""
    from scripts.chaos import copy_index

    return copy_index(src, dst)


def replace_file(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content``: a new file, not a write into one another copy may share."""
    path.unlink()
    path.write_bytes(content)


def split_export(text: str) -> tuple[str, list[str]]:
    """The export's preamble and its level blocks, each starting at an 'Experience' line."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.strip() == "Experience"]
    preamble = "".join(lines[: starts[0]])
    blocks = ["".join(lines[a:b]) for a, b in zip(starts, starts[1:] + [len(lines)])]
    return preamble, blocks

"""Wiring, shared by every entry point (the CLI, the console, the demo, gunicorn's ``bot.wsgi``):
settings -> knowledge, index, embedder -> an :class:`~bot.advisor.advisor.Advisor`; with the store ->
:class:`~bot.chat.replies.Deps`; and the background threads of a process that serves Slack.

The index is rebuilt by itself when it is missing, unreadable, or built from other knowledge
(its manifest's version differs from ``knowledge/``). Every setting comes from the :class:`Settings`
passed in; nothing here reads the environment.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

from bot.advisor.advisor import Advisor
from bot.chat.reminders import schedule
from bot.chat.replies import Deps
from bot.core.config import Settings
from bot.core.knowledge import Knowledge
from bot.search.classifier import BANKS, train_into
from bot.search.embedders import Embedder, EmbedderError, FakeEmbedder, OnnxEmbedder, TorchEmbedder
from bot.search.onnx_export import CACHE_DIR as EXPORTS, agreement, export
from bot.search.retrieval import (Index, IndexUnavailable, build_index, current_build, discard_unfinished, good_builds,
                                  load_index)
from bot.slack.slack_sender import SlackSender
from bot.storage.outbox import drain, release
from bot.storage.store import Store
from bot.storage.versions import live_knowledge, newest_version

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


BACKENDS = ("onnx-int8", "onnx-fp32", "torch")


def build(kb: Knowledge, settings: Settings, progress: Progress | None = None,
          reuse: Callable[[Index], bool] | None = None, embedder: Embedder | None = None) -> Index:
    """Embed with ``embedder`` (default: sentence-transformers, the reference). The reference's build exports
    the ONNX models beside the index and trains the request classifier on the exported model's vectors (what
    serving computes); any other embedder (:class:`FakeEmbedder` in tests) has no export, serves its own
    build, and the classifier learns on its vectors."""
    embedder = embedder or TorchEmbedder()

    def export_onnx(build_dir: Path, manifest: dict, vectors: np.ndarray, texts: list[str]) -> None:
        manifest.update(export(embedder, build_dir, cache=settings.index_dir / EXPORTS))
        manifest["onnx"]["cosine_vs_torch"] = agreement(vectors, texts, build_dir, manifest)
        # the request classifier learns on the vectors serving computes: the exported model's
        _train(build_dir, manifest, kb, OnnxEmbedder.from_build(build_dir, manifest, "fp32"), settings.index_dir)

    def train_only(build_dir: Path, manifest: dict, vectors: np.ndarray, texts: list[str]) -> None:
        _train(build_dir, manifest, kb, embedder, settings.index_dir)

    extra = export_onnx if embedder.name == "torch" else train_only
    return build_index(kb, settings.index_dir, embedder, progress=progress, extra=extra, reuse=reuse)


def _train(build_dir: Path, manifest: dict, kb: Knowledge, embedder: Embedder, index_dir: Path) -> None:
    """The classifiers' training with one BLAS thread: on a shared 2-core machine OpenBLAS's spinning threads
    made each fit 18x slower (7.9 s -> 0.44 s measured). The index's earlier builds, newest first, may give theirs."""
    builds = Path(index_dir) / "builds"
    donors = sorted(builds.iterdir() if builds.is_dir() else (), key=lambda p: p.stat().st_mtime, reverse=True)
    try:
        from threadpoolctl import threadpool_limits   # scikit-learn's own dependency
    except ImportError:
        return train_into(build_dir, manifest, kb, embedder, donors)
    with threadpool_limits(limits=1, user_api="blas"):
        train_into(build_dir, manifest, kb, embedder, donors)


def ensure_index(kb: Knowledge, settings: Settings, progress: Progress | None = None,
                 embedder: Embedder | None = None) -> Index:
    """The live index of ``kb``: as it is, or rebuilt. A build whose model runs without torch (a fake-built
    one always; an ONNX one where torch is missing, a serving install) is rebuilt with that model, e.g. after
    a process was killed during an HR edit's re-index; half-built builds are discarded first. Otherwise it is
    built with ``embedder`` (default: the reference, with its ONNX export)."""
    def serves_kb(index: Index) -> bool:
        return index.knowledge_version == kb.version and (fake_built(index) or "onnx" in index.manifest)

    discard_unfinished(settings.index_dir)
    live = None
    try:
        live = load_index(settings.index_dir)
        if serves_kb(live):
            return live
        log.info("index was built from knowledge %s, knowledge is now %s: rebuilding", live.knowledge_version, kb.version)
    except IndexUnavailable as exc:
        log.info("%s: building it", exc)
    if embedder is None:
        donor = live if live is not None and fake_built(live) else None
        if donor is None and not torch_available():
            donor = live if live is not None and "onnx" in live.manifest else \
                next((b for b in good_builds(settings.index_dir) if "onnx" in b.manifest), None)
        if donor is not None:
            log.info("indexing knowledge %s with the model of build %s", kb.version, donor.path.name)
            return rebuild_with_model_of(kb, settings, donor, reuse=serves_kb)
    return build(kb, settings, progress, reuse=serves_kb, embedder=embedder)   # another worker may have built it meanwhile


def fake_built(index: Index) -> bool:
    """Built with :class:`FakeEmbedder`: its questions must be embedded with it too."""
    return index.manifest.get("model") == FakeEmbedder.model_id


def torch_available() -> bool:
    return importlib.util.find_spec("sentence_transformers") is not None


def available_backends() -> list[str]:
    return list(BACKENDS) if torch_available() else [b for b in BACKENDS if b != "torch"]


def reference_embedder() -> Embedder:
    """sentence-transformers itself: what every other backend is measured against."""
    return TorchEmbedder()


def query_embedder(index: Index, backend: str = Settings.embedder, threads: int = Settings.model_threads) -> Embedder:
    """The embedder questions are encoded with (``backend``: ``Settings.embedder``; ``threads``:
    ``Settings.model_threads``). Serving uses ONNX: no torch in the process."""
    if fake_built(index):   # vectors of any other model would mean nothing against this index
        return FakeEmbedder(int(index.manifest["dimension"]))
    if backend == "torch":
        return TorchEmbedder(threads=threads)
    if backend in ("onnx-fp32", "onnx-int8"):
        return OnnxEmbedder.from_build(index.path, index.manifest, backend.split("-")[1], threads=threads)
    raise EmbedderError(f"unknown embedding backend '{backend}' (choose one of: {', '.join(BACKENDS)})")


def open_advisor(settings: Settings, progress: Progress | None = None, backend: str | None = None,
                 kb: Knowledge | None = None) -> Advisor:
    """An Advisor on ``kb`` (default: the live knowledge), questions embedded with ``backend`` (default:
    ``settings.embedder``)."""
    kb = kb or live_knowledge(settings)
    backend = backend or settings.embedder
    index = ensure_index(kb, settings, progress)
    try:
        embedder = query_embedder(index, backend, settings.model_threads)
    except EmbedderError as exc:
        if backend == "torch" or not torch_available():
            raise
        log.warning("%s: rebuilding the index", exc)  # a deleted or corrupt model file in the build
        index = build(kb, settings, progress)
        embedder = query_embedder(index, backend, settings.model_threads)
    return Advisor(kb, index, embedder)


def reindex(kb: Knowledge, settings: Settings, live: Index) -> Advisor:
    """Index a new knowledge version beside the live one with the live build's model (ONNX: no torch),
    swap it in atomically, and return an Advisor on it. Until the caller swaps its Advisor, questions
    keep being answered from the old version, whole (:meth:`Deps.go_live`)."""
    index = rebuild_with_model_of(kb, settings, live)
    return Advisor(kb, index, query_embedder(index, settings.embedder, settings.model_threads))


def rebuild_with_model_of(kb: Knowledge, settings: Settings, live: Index,
                          reuse: Callable[[Index], bool] | None = None) -> Index:
    """A complete build of ``kb`` with ``live``'s model (its ONNX files carried over; a fake-built one's
    :class:`FakeEmbedder`), swapped in atomically."""
    model = query_embedder(live) if fake_built(live) else OnnxEmbedder.from_build(live.path, live.manifest, "fp32")

    def carry_models(build_dir: Path, manifest: dict, vectors, texts) -> None:
        if "onnx" in live.manifest:
            onnx = dict(live.manifest["onnx"])
            for key in ("fp32", "int8", "tokenizer"):
                shutil.copyfile(live.path / onnx[key], build_dir / onnx[key])
            manifest["onnx"] = onnx
        # HR's edits never change the request or step banks: the live classifiers carry over
        for bank in BANKS:
            for name in (bank.file, bank.report):
                if (live.path / name).exists():
                    shutil.copyfile(live.path / name, build_dir / name)
            if bank.name in live.manifest:
                manifest[bank.name] = live.manifest[bank.name]
        manifest["built_with"] = model.name

    return build_index(kb, settings.index_dir, model, extra=carry_models, reuse=reuse)


_FOLLOW = threading.Lock()


def follow_newest(deps) -> bool:
    """Switch ``deps`` to the newest knowledge version stored in SQLite once its index is live.

    Several worker processes serve one database; the one that saved an edit indexes it and swaps the
    index symlink, every other one calls this a few times a second (:func:`start_version_follower`)
    and swaps its advisor in one reference assignment, as the saving one does. Until the new index is
    live it keeps answering from the version it has, whole. True when it switched."""
    newest = newest_version(deps.store)
    if newest is None or newest == deps.kb.version:
        return False
    with _FOLLOW:
        if newest == deps.kb.version:
            return False
        build = current_build(deps.settings.index_dir)
        if build is None or f"-{newest}-" not in build.name:
            return False   # still being indexed by the process that saved it
        index = load_index(deps.settings.index_dir)
        kb = live_knowledge(deps.settings, deps.store)
        if index.knowledge_version != newest or kb.version != newest:
            return False   # yet another edit meanwhile: the next call catches up
        old = deps.advisor
        # an edit's build carries the live build's ONNX models: the loaded session serves it as it is
        same_model = index.manifest.get("onnx") == old.index.manifest.get("onnx")
        embedder = old.embedder if same_model else \
            query_embedder(index, deps.settings.embedder, deps.settings.model_threads)
        deps.advisor = Advisor(kb, index, embedder)
        log.info("now serving knowledge %s (was %s)", newest, old.kb.version)
        return True


# -- a process: deps and background threads ---------------------------------------------------------------

def make_deps(settings: Settings, progress=None) -> Deps:
    """Start on the live knowledge: HR's newest stored version, or the committed files. An HR edit is
    indexed with :func:`reindex` (looked up when it runs)."""
    store = Store(settings.db_path)
    kb = live_knowledge(settings, store)
    deps = Deps(settings=settings, advisor=open_advisor(settings, progress=progress, kb=kb), store=store,
                reindex=lambda new_kb, live: reindex(new_kb, settings, live))
    # an edit's announcement is held until its version is live: if the process stopped between storing
    # the version and swapping it in, the version is live now, so its announcement may go out
    release(store, knowledge_version=kb.version)
    return deps


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


REMINDERS_EVERY = 600.0   # seconds between looks for reminders that are due


def slack_tz(client):
    """A person's time zone from Slack's users.info (None when Slack doesn't say)."""
    def lookup(user_id: str) -> str | None:
        return (client.users_info(user=user_id).get("user") or {}).get("tz")
    return lookup


def start_outbox_worker(deps: Deps, client, interval: float = 5.0):
    """A daemon thread that drains the outbox now and then, and at once when kicked."""
    wake = threading.Event()
    sender = SlackSender(client)   # the same workspace without slack_sdk's retry handlers (no blind re-posts)
    log = logging.getLogger("bot.storage.outbox")   # what it does is the outbox's

    tz_of = slack_tz(client)
    last_reminders = [0.0]

    def loop() -> None:
        while True:
            try:
                if time.monotonic() - last_reminders[0] > REMINDERS_EVERY:   # queue the reminders now due
                    last_reminders[0] = time.monotonic()
                    if schedule(deps.store, deps.settings.remind_days, tz_of):
                        log.info("reminders queued")
                result = drain(deps.store, sender, until_empty=True)
                if result.sent or result.failed or result.recovered:
                    log.info("outbox: %s", result)
            except Exception:
                log.exception("outbox worker failed; retrying in %s s", interval)
            wake.wait(interval)
            wake.clear()

    thread = threading.Thread(target=loop, name="ladder-outbox", daemon=True)
    thread.start()
    deps.kick_outbox = wake.set
    return thread


def start_version_follower(deps: Deps, interval: float = 0.25):
    """A daemon thread that keeps this process on the newest knowledge version (another worker
    process may have saved an edit): see :func:`follow_newest`."""
    def loop() -> None:
        while True:
            try:
                follow_newest(deps)
            except Exception:
                log.exception("could not follow the newest knowledge version; retrying")
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="ladder-version", daemon=True)
    thread.start()
    return thread

"""The index on disk: manifest, atomic builds, rebuilding by itself when knowledge changes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import yaml

from bot.core.config import Settings
from bot.core.knowledge import load_knowledge
from bot.search.embedders import FakeEmbedder
from bot.search.retrieval import IndexUnavailable, build_chunks, build_index, current_build, load_index
from bot.wiring import ensure_index
from tests.conftest import KNOWLEDGE


def test_chunks_know_track_level_section_and_title():
    kb = load_knowledge(KNOWLEDGE)
    chunks = build_chunks(kb)
    senior = [c for c in chunks if c.level_id == "senior-agent"]
    assert {c.section for c in senior} == {"title", "experience", "responsibilities", "skills"}
    assert all(c.track == "call-center" and "Senior Agent" in c.embed_text for c in senior)
    assert len([c for c in senior if c.section == "skills"]) == 7
    background = [c for c in chunks if c.is_background]
    assert background and all(c.section == "background" and c.doc_id.startswith("reference/") for c in background)
    assert len({c.doc_id for c in chunks}) == len(chunks)


def test_manifest_records_model_dimension_chunks_and_version(built_index):
    index = load_index(built_index)
    m = index.manifest
    assert m["model"] == "sentence-transformers/all-MiniLM-L6-v2" and m["dimension"] == 384
    assert m["chunks"] == len(index.chunks) == index.vectors.ntotal
    assert m["knowledge_version"] == load_knowledge(KNOWLEDGE).version
    assert m["built_at"].endswith("+00:00")


class Exploding:
    name, dimension = "explodes", 384

    def __init__(self, after: int):
        self.after = after

    def encode(self, texts):
        self.after -= len(texts)
        if self.after < 0:
            raise RuntimeError("killed mid-build")
        return np.eye(384, dtype=np.float32)[: len(texts)]


def test_a_crashed_build_leaves_the_live_index_alone(tmp_path):
    index_dir = tmp_path / "index"
    kb = load_knowledge(KNOWLEDGE)
    build_index(kb, index_dir, Exploding(after=10_000))
    before = current_build(index_dir)
    with pytest.raises(RuntimeError, match="killed mid-build"):
        build_index(kb, index_dir, Exploding(after=40))
    assert current_build(index_dir) == before
    assert load_index(index_dir).manifest["built_with"] == "explodes"
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".build-")]


def test_rebuilds_when_knowledge_changes(tmp_path, knowledge_dir):
    settings = Settings(knowledge_dir=knowledge_dir, index_dir=tmp_path / "idx")
    first = ensure_index(load_knowledge(knowledge_dir), settings, embedder=FakeEmbedder())
    assert ensure_index(load_knowledge(knowledge_dir), settings).path == first.path  # fresh: reused

    path = knowledge_dir / "tracks" / "frontend.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["levels"][0]["skills"].append({"name": "Accessibility", "description": "Knows WCAG basics."})
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    kb = load_knowledge(knowledge_dir)
    second = ensure_index(kb, settings)     # with the live build's own model: no torch asked for
    assert second.path != first.path and second.knowledge_version == kb.version
    assert any("WCAG" in c.text for c in second.chunks)
    assert second.manifest["model"] == FakeEmbedder.model_id and (second.path / "requests.npz").exists()


def test_corrupt_index_is_reported_then_rebuilt(tmp_path):
    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=tmp_path / "idx")
    first = ensure_index(load_knowledge(KNOWLEDGE), settings, embedder=FakeEmbedder())
    (first.path / "vectors.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexUnavailable, match="python -m bot index"):
        load_index(settings.index_dir)
    again = ensure_index(load_knowledge(KNOWLEDGE), settings, embedder=FakeEmbedder())
    assert again.vectors.ntotal == len(again.chunks)
    json.loads((again.path / "manifest.json").read_text())


def test_missing_index_message_says_how_to_build(tmp_path):
    with pytest.raises(IndexUnavailable, match=r"no index in .* \(build it with: python -m bot index\)"):
        load_index(tmp_path)


def test_lexical_tokens_drop_function_words_but_keep_acronyms():
    from bot.search.retrieval import lexical_tokens

    assert lexical_tokens("where do people usually come into agent jobs from?") == ["usual", "come", "agent", "job"]
    assert lexical_tokens("is the IT guy on this ladder") == ["it", "ladder"]
    assert lexical_tokens("WHAT IS IT") == []                     # shouting is not an acronym
    assert lexical_tokens("who handles what agents can't solve") == ["handl", "agent", "solv"]


def test_skill_vectors_are_built_with_the_index_not_at_start_up(fake_index):
    from bot.advisor.advisor import Advisor
    from bot.search.retrieval import skill_texts
    from bot.wiring import query_embedder

    index = load_index(fake_index)
    kb = load_knowledge(KNOWLEDGE)
    assert index.manifest["format"] == 3 and set(index.skill_vectors) == set(skill_texts(kb))
    seen: list[str] = []

    class Spy:
        def __init__(self, inner):
            self.inner, self.name, self.dimension = inner, inner.name, inner.dimension

        def encode(self, texts):
            seen.extend(texts)
            return self.inner.encode(texts)

    Advisor(kb, index, Spy(query_embedder(index, "onnx-int8")))
    assert not any(f"{n}: {d}" in seen for n, d in skill_texts(kb))


def test_a_worker_that_waited_for_the_build_lock_serves_the_index_built_meanwhile(tmp_path, fake_index, monkeypatch):
    """Three workers start together on a stale index: the first builds, the others wait for the lock and
    then take that build instead of each building it again (minutes of CPU apiece)."""
    import threading

    import bot.wiring as wiring
    from bot.search.retrieval import _build_lock

    index_dir = tmp_path / "index"
    shutil.copytree(fake_index, index_dir, symlinks=True)
    live = (index_dir / "current").readlink()
    monkeypatch.setattr(wiring, "TorchEmbedder", lambda: Exploding(after=0))   # building again would fail the test
    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=index_dir)
    got: list = []
    with _build_lock(index_dir):                       # "another worker" is building
        (index_dir / "current").unlink()               # what this worker saw: no index yet
        waiter = threading.Thread(target=lambda: got.append(ensure_index(load_knowledge(KNOWLEDGE), settings)))
        waiter.start()
        waiter.join(timeout=1)
        assert waiter.is_alive()                       # it waits for the lock...
        (index_dir / "current").symlink_to(live)       # ...while the other worker's build goes live
    waiter.join(timeout=60)
    assert got and got[0].path.name == live.name
    assert len(list((index_dir / "builds").iterdir())) == 1

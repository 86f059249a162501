"""The ONNX serving backend: as exact as the reference, and no torch in a serving process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from bot.advisor.advisor import Advisor
from bot.core.config import ConfigError, Settings
from bot.core.knowledge import load_knowledge
from bot.search.embedders import EmbedderError, OnnxEmbedder
from bot.search.retrieval import load_index
from bot.wiring import query_embedder
from scripts.eval_retrieval import load_questions, ranked_ids, score
from tests.conftest import KNOWLEDGE, ROOT, link_copy, replace_file


@pytest.fixture(scope="module")
def index(built_index):
    return load_index(built_index)


def test_embeddings_are_normalised_and_meaningful(embedder):
    """The reference model, loaded offline from the pinned package (``embedder``: torch's one load in the run)."""
    v = embedder.encode(["team lead manages agents", "a supervisor leads a team of agents", "the weather is sunny"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_a_question_runs_on_the_settings_threads_and_a_batch_on_torchs(embedder, monkeypatch):
    """torch has one pool for the process: it is set for a question's run and put back for batches (a build)."""
    import torch

    default, seen = torch.get_num_threads(), []
    encode = embedder.model.encode
    monkeypatch.setattr(embedder.model, "encode", lambda *a, **k: seen.append(torch.get_num_threads()) or encode(*a, **k))
    embedder.encode(["what do I need for senior agent?"])
    embedder.encode(["a batch", "of two"])
    assert seen == [Settings().model_threads, default] and torch.get_num_threads() == default


@pytest.mark.parametrize("variant, floor", [("fp32", 0.9999), ("int8", 0.99)])
def test_every_chunk_embeds_like_sentence_transformers(index, variant, floor):
    """Against the vectors sentence-transformers gave the build (the index's own)."""
    texts = [c.embed_text for c in index.chunks]
    reference = index.vectors.reconstruct_n(0, index.vectors.ntotal)
    onnx = OnnxEmbedder.from_build(index.path, index.manifest, variant).encode(texts)
    cosine = np.sum(onnx * reference, axis=1)
    worst = int(np.argmin(cosine))
    assert cosine.min() >= floor, (variant, float(cosine.min()), texts[worst])
    measured = index.manifest["onnx"]["cosine_vs_torch"][variant]   # the build's own check, on a sample
    assert measured["min"] >= floor and measured["chunks"] == min(64, len(texts))


def test_single_and_batched_queries_agree(index):
    texts = ["team lead", "what do I need for senior agent and how long does it take to get there?"]
    fp32 = OnnxEmbedder.from_build(index.path, index.manifest, "fp32")
    assert np.allclose(fp32.encode(texts), np.vstack([fp32.encode([t]) for t in texts]), atol=1e-5)
    # dynamic int8 scales activations per batch, so padding moves it a little, never far
    int8 = OnnxEmbedder.from_build(index.path, index.manifest, "int8")
    cos = np.sum(int8.encode(texts) * np.vstack([int8.encode([t]) for t in texts]), axis=1)
    assert cos.min() > 0.98


def test_default_backend_keeps_reference_top1_and_refusals(index, embedder):
    kb = load_knowledge(KNOWLEDGE)
    questions = load_questions()
    default = Settings().embedder
    served = query_embedder(index, default, Settings().model_threads)
    results = {}
    for name, emb in (("torch", embedder), (default, served)):
        adv = Advisor(kb, index, emb)
        results[name] = score([ranked_ids(adv.ask(q["question"])) for q in questions], questions)
    assert results[default]["top1"] == results["torch"]["top1"]
    assert results[default]["oos_refused"] == results["torch"]["oos_refused"]
    assert results[default]["in_scope_refused"] == results["torch"]["in_scope_refused"]


def test_serving_never_imports_torch(built_index):
    code = (
        "import sys, json\n"
        "from bot.core.config import Settings\n"
        "from bot.wiring import open_advisor\n"
        "adv = open_advisor(Settings.from_env())\n"
        "a = adv.ask('what do I need for senior agent?')\n"
        "print(json.dumps({'level': a.level_id, 'torch': 'torch' in sys.modules,\n"
        "  'st': 'sentence_transformers' in sys.modules, 'transformers': 'transformers' in sys.modules,\n"
        "  'threads': adv.embedder.session.get_session_options().intra_op_num_threads}))\n"
    )
    env = {**os.environ, "LADDER_INDEX_DIR": str(built_index), "PYTHONPATH": str(ROOT), "LADDER_MODEL_THREADS": "2"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"level": "senior-agent", "torch": False, "st": False, "transformers": False,
                                       "threads": 2}   # LADDER_MODEL_THREADS reaches the model


def test_missing_onnx_model_is_a_clear_error(tmp_path, index):
    with pytest.raises(EmbedderError, match="rebuild the index with: python -m bot index"):
        OnnxEmbedder(tmp_path / "nope.onnx", index.path / "tokenizer.json")
    with pytest.raises(EmbedderError, match="has no ONNX int8 model"):
        OnnxEmbedder.from_build(tmp_path, {}, "int8")


def test_unknown_backend_setting_names_the_variable():
    with pytest.raises(ConfigError, match="LADDER_EMBEDDER='gpu' is not one of"):
        Settings.from_env({"LADDER_EMBEDDER": "gpu"})


@pytest.mark.parametrize("damage", ["delete-model", "garble-tokenizer-and-its-cached-export"])
def test_a_damaged_onnx_model_in_the_build_is_rebuilt_not_a_traceback(tmp_path, built_index, damage, monkeypatch):
    """The rebuild copies the export kept in ``index/exports/`` when its files match their sha256, and exports
    anew when they do not (then keeps the new export there). The export itself (torch, ~25 s) is the session
    build's, tested there: here the exporter writes that build's files and counts its runs."""
    from bot.search import onnx_export
    from bot.search.onnx_export import CACHE_DIR, SUMS
    from bot.search.embedders import file_sha256
    from bot.wiring import open_advisor

    index_dir = link_copy(built_index, tmp_path / "index")
    live = load_index(index_dir)
    [cached] = (index_dir / CACHE_DIR).iterdir()
    exports, exported = [], load_index(built_index).path
    monkeypatch.setattr(onnx_export, "_export", lambda embedder, out_dir: exports.append(
        [shutil.copyfile(exported / name, out_dir / name) for name in onnx_export.FILES]))
    if damage == "delete-model":
        (live.path / live.manifest["onnx"]["int8"]).unlink()
    else:
        for where in (live.path, cached):
            replace_file(where / live.manifest["onnx"]["tokenizer"], b"{not json")
    advisor = open_advisor(Settings(knowledge_dir=KNOWLEDGE, index_dir=index_dir))
    assert advisor.ask("what do I need for senior agent?").level_id == "senior-agent"
    assert advisor.index.path != live.path    # a fresh build, swapped in
    sums = json.loads((cached / SUMS).read_text(encoding="utf-8"))
    assert all(file_sha256(cached / name) == sha for name, sha in sums.items())   # the cache is whole again
    assert file_sha256(advisor.index.path / "tokenizer.json") == sums["tokenizer.json"]
    assert len(exports) == (0 if damage == "delete-model" else 1)   # a whole cached export is copied, a damaged one not


def test_the_gunicorn_entry_point_names_a_missing_setting_in_one_line(tmp_path):
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "LADDER_INDEX_DIR": str(tmp_path / "index"), "LADDER_DB": str(tmp_path / "l.db")}
    proc = subprocess.run([sys.executable, "-c", "import bot.wsgi"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 3          # gunicorn's "worker failed to boot": it stops, no respawn loop
    assert proc.stderr.strip() == "error: SLACK_BOT_TOKEN is not set (the bot token, xoxb-…)"
    assert not (tmp_path / "index").exists()   # checked before any index is built


def test_the_export_is_kept_for_the_next_build_and_a_damaged_copy_is_exported_again(tmp_path, monkeypatch):
    """Without the model: the exporter is replaced by one that counts its runs."""
    from types import SimpleNamespace

    from bot.search import onnx_export

    runs = []

    def fake_export(embedder, out_dir):
        runs.append(out_dir)
        for name in onnx_export.FILES:
            (out_dir / name).write_bytes(f"{name} #{len(runs)}".encode())

    monkeypatch.setattr(onnx_export, "_export", fake_export)
    monkeypatch.setattr(onnx_export, "_cache_key", lambda: "weights-r1")
    cache, model = tmp_path / "exports", SimpleNamespace(max_seq_length=256)
    builds = [tmp_path / f"b{i}" for i in range(4)]
    for b in builds:
        b.mkdir()
    fields = onnx_export.export(model, builds[0], cache=cache)
    assert fields["onnx"]["key"] == "weights-r1" and len(runs) == 1
    onnx_export.export(model, builds[1], cache=cache)
    assert len(runs) == 1 and (builds[1] / "model.onnx").read_bytes() == b"model.onnx #1"   # copied, not exported
    (cache / "weights-r1" / "model-int8.onnx").write_bytes(b"garbled")
    onnx_export.export(model, builds[2], cache=cache)
    assert len(runs) == 2 and (builds[2] / "model-int8.onnx").read_bytes() == b"model-int8.onnx #2"
    onnx_export.export(model, builds[3], cache=cache)      # the cache was made whole again
    assert len(runs) == 2 and (builds[3] / "model-int8.onnx").read_bytes() == b"model-int8.onnx #2"
    assert [p.name for p in cache.iterdir()] == ["weights-r1"]

#!/usr/bin/env python
"""Speed and memory of ``ask``, beside plain sentence-transformers encode + FAISS search, in one run.

    python scripts/bench_ask.py [--backend torch|onnx-fp32|onnx-int8 ...] [--repeat N]

For each Ladder backend and for the baseline it prints:
  * ask latency p50 / p95 / p99 in-process over the question set, after warm-up (the ONNX backends in a
    fresh process without torch, as a server runs them); Ladder twice: every
    ask running the model (new questions: the figure the targets are about) and as served, where a
    question asked before skips the model; and the model's run alone, the floor under a new question's ask;
  * cold start: a fresh process from start to its first answer (median of 3);
  * peak RSS of that process;
and the index build time (Ladder's build vs. encoding the same chunks + FAISS add).
Ratios are Ladder / baseline. Targets are checked here, not in unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from scripts.percentiles import pct  # noqa: E402
QUESTION = "what do I need for Senior Agent?"


def latencies(fn, questions: list[str], repeat: int) -> list[float]:
    for q in questions[:20]:
        fn(q)  # warm-up
    out = []
    for _ in range(repeat):
        for q in questions:
            t = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - t) * 1000)
    return out


# -- child processes: cold start and peak RSS -----------------------------------------------------

def child(kind: str, index_dir: str) -> None:
    """Runs in a fresh process: time from interpreter start to the first answer, and peak RSS."""
    os.environ["LADDER_INDEX_DIR"] = index_dir
    if kind == "baseline":
        import faiss
        from sentence_transformers import SentenceTransformer

        from bot.search.embedders import model_path

        model = SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)
        index = faiss.read_index(str(Path(index_dir) / "current" / "vectors.faiss"))
        v = model.encode([QUESTION], normalize_embeddings=True)
        index.search(v, 10)
    else:
        from bot.core.config import Settings
        from bot.wiring import open_advisor

        open_advisor(Settings.from_env(), backend=kind).ask(QUESTION)
    print(json.dumps({"rss_mb": peak_rss_mb(), "torch_loaded": "torch" in sys.modules}))


def serving_latencies(backend: str, index_dir: str, repeat: int) -> tuple[list[float], list[float], list[float]]:
    """ask latencies measured in a fresh process that, like a server, never loads torch: every ask
    running the model (cache off), then as served (a repeated question skips the model), then the model's
    run alone (tokenise, run, pool: the floor under a new question's ask on this machine)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, __file__, "--latency-child", backend, index_dir, str(repeat)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{backend} latency child failed:\n{proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out["uncached"], out["cached"], out["model"]


def latency_child(backend: str, index_dir: str, repeat: str) -> None:
    os.environ["LADDER_INDEX_DIR"] = index_dir
    from bot.advisor.advisor import Advisor
    from bot.core.config import Settings
    from bot.wiring import open_advisor
    from scripts.eval_retrieval import load_questions

    questions = [q["question"] for q in load_questions()]
    adv = open_advisor(Settings.from_env(), backend=backend)
    uncached = Advisor(adv.kb, adv.index, adv.embedder)
    uncached.ranker.embed = uncached.ranker.embed_once
    result = {"uncached": latencies(uncached.ask, questions, int(repeat)),
              "cached": latencies(adv.ask, questions, int(repeat)),
              "model": latencies(lambda q: adv.embedder.encode([q]), questions, int(repeat)),
              "torch_loaded": "torch" in sys.modules}
    print(json.dumps(result))


def peak_rss_mb() -> float:
    """VmHWM: this process's own peak. (ru_maxrss would carry the parent's peak across fork+exec.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cold(kind: str, index_dir: str, runs: int = 3) -> dict:
    times, info = [], {}
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--child", kind, index_dir], capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise SystemExit(f"{kind} child failed:\n{proc.stderr[-2000:]}")
        info = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"cold_s": statistics.median(times), **info}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", action="append")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "INDEX_DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--latency-child", nargs=3, metavar=("KIND", "INDEX_DIR", "REPEAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    if args.latency_child:
        latency_child(*args.latency_child)
        return 0

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import faiss
    import numpy as np

    from bot import wiring
    from bot.advisor.advisor import Advisor
    from bot.core.config import Settings
    from bot.search.embedders import TorchEmbedder
    from bot.core.knowledge import load_knowledge
    from bot.search.retrieval import build_chunks, build_index
    from scripts.eval_retrieval import load_questions

    settings = Settings.from_env()
    kb = load_knowledge(settings.knowledge_dir)
    questions = [q["question"] for q in load_questions()]
    reference = TorchEmbedder()

    # index build: Ladder's (with any exports) vs. encoding the same chunks and adding them to FAISS
    tmp_dir = tempfile.TemporaryDirectory(prefix="bench-index-")  # removed when the run ends
    tmp = tmp_dir.name
    t = time.perf_counter()
    wiring.build(kb, Settings(knowledge_dir=settings.knowledge_dir, index_dir=Path(tmp)))
    build_s = time.perf_counter() - t
    chunks = build_chunks(kb)
    t = time.perf_counter()
    flat = faiss.IndexFlatIP(384)
    flat.add(reference.encode([c.embed_text for c in chunks]))
    base_build_s = time.perf_counter() - t

    # baseline: plain encode + search, in-process
    def plain(q: str) -> None:
        flat.search(reference.encode([q]), 10)

    base = latencies(plain, questions, args.repeat)
    base_cold = cold("baseline", tmp)
    rows = [("encode+search (baseline)", base, base_cold)]
    for backend in args.backend or wiring.available_backends():
        from bot.search.retrieval import load_index

        c = cold(backend, tmp)
        # what a new question costs: the per-question vector cache off, every ask runs the model
        # (the figure the targets are about); then as served, where a repeated question skips the model
        if backend == "torch":   # torch is in this process already: measure it here
            index = load_index(Path(tmp))
            adv = Advisor(kb, index, wiring.query_embedder(index, backend, settings.model_threads))
            uncached = Advisor(kb, index, adv.embedder)
            uncached.ranker.embed = uncached.ranker.embed_once
            new_q, repeated = latencies(uncached.ask, questions, args.repeat), latencies(adv.ask, questions, args.repeat)
            model = latencies(lambda q: adv.embedder.encode([q]), questions, args.repeat)
        else:   # as served: a process with no torch in it (torch's threads would share the cores)
            new_q, repeated, model = serving_latencies(backend, tmp, args.repeat)
        rows.append((f"ladder ask [{backend}]", new_q, c))
        rows.append(("  ... question asked before", repeated, c))
        rows.append(("  ... its model run alone", model, c))

    print(f"{len(questions)} questions x {args.repeat}, after 20 warm-up; cold start = median of 3 fresh processes")
    print(f"Ladder's model runs a question on {settings.model_threads} thread(s) (LADDER_MODEL_THREADS); "
          "the baseline on torch's default")
    print(f"index build: ladder {build_s:.2f} s, plain encode+FAISS {base_build_s:.2f} s "
          f"(ratio {build_s / base_build_s:.2f}; ladder's includes model exports when available)")
    print(f"{'':<28} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'cold s':>7} {'RSS MB':>7} {'torch':>6} {'p50 ratio':>10}")
    b50 = pct(base, 50)
    for name, lat, c in rows:
        print(f"{name:<28} {pct(lat, 50):>8.2f} {pct(lat, 95):>8.2f} {pct(lat, 99):>8.2f} {c['cold_s']:>7.2f} "
              f"{c['rss_mb']:>7.0f} {str(c['torch_loaded']):>6} {pct(lat, 50) / b50:>10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

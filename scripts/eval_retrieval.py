#!/usr/bin/env python
"""Retrieval quality on tests/data/questions.jsonl: Ladder beside two baselines, in one run.

    python scripts/eval_retrieval.py [--backend torch|onnx-fp32|onnx-int8 ...] [--show-misses] [--json]
                                     [--questions PATH]

Prints top-1, MRR@5 and out-of-scope refusals for:
  * Ladder (``Advisor.ask``) with each requested embedding backend;
  * BM25 over whole level texts (and whole background notes);
  * plain MiniLM over line chunks (one line of the export a chunk, no titles), best chunk per level.
Baselines never refuse, so their refusal count is 0 by construction.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.advisor.advisor import Advisor  # noqa: E402
from bot.advisor.answer import Answer  # noqa: E402
from bot.core.config import Settings  # noqa: E402
from bot.core.knowledge import Knowledge, load_knowledge  # noqa: E402
from bot.search.conversation import Conversation  # noqa: E402
from bot.search.retrieval import stem  # noqa: E402

QUESTIONS = ROOT / "tests" / "data" / "questions.jsonl"


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def ranked_ids(answer: Answer) -> list[str]:
    """What Ladder offers, best first: its answer (or clarify options), then the levels/notes of its hits.

    A ladder overview that names no level ("how many levels are there?") offers "overview": a question
    expecting it lists that id; one expecting a level is not answered by it.
    """
    ids: list[str] = []
    if answer.status == "answered":
        if answer.level_id:
            ids.append(answer.level_id)
        elif answer.intent == "overview":
            ids.append("overview")
        else:
            ids.append(next((h.doc_id.split("#")[0] for h in answer.hits if h.level_id is None), ""))
    elif answer.status == "clarify":
        ids.extend(answer.options)
    else:
        return []
    for h in answer.hits:
        ids.append(h.level_id or h.doc_id.split("#")[0])
    out: list[str] = []
    for i in ids:
        if i and i not in out:
            out.append(i)
    return out


def score(ranked_by_q: list[list[str]], questions: list[dict]) -> dict:
    in_scope = [(q, r) for q, r in zip(questions, ranked_by_q) if q["expected"]]
    oos = [(q, r) for q, r in zip(questions, ranked_by_q) if not q["expected"]]
    top1 = sum(1 for q, r in in_scope if r and r[0] in q["expected"])
    mrr = 0.0
    for q, r in in_scope:
        for rank, rid in enumerate(r[:5], start=1):
            if rid in q["expected"]:
                mrr += 1 / rank
                break
    return {
        "top1": top1 / len(in_scope), "mrr5": mrr / len(in_scope),
        "oos_refused": sum(1 for _, r in oos if not r), "oos_total": len(oos),
        "in_scope_refused": sum(1 for _, r in in_scope if not r), "in_scope_total": len(in_scope),
    }


def conversation_for(advisor: Advisor, q: dict) -> Conversation:
    """The conversation a question is asked in: the asker's stored level (``asker_level``) and the earlier
    questions (``history``), each asked in turn as a person would have."""
    convo = Conversation(asker_level=q.get("asker_level"))
    for earlier in q.get("history") or []:
        convo = convo.then(advisor.ask(earlier, context=convo))
    return convo


def ladder_run(advisor: Advisor, questions: list[dict]) -> tuple[list[list[str]], list[Answer]]:
    answers = [advisor.ask(q["question"], context=conversation_for(advisor, q)) for q in questions]
    return [ranked_ids(a) for a in answers], answers


def by_category(ranked_by_q: list[list[str]], questions: list[dict]) -> dict[str, tuple[int, int]]:
    """Right / asked per category: in scope, the expected level first; out of scope, refused."""
    out: dict[str, list[int]] = {}
    for q, r in zip(questions, ranked_by_q):
        ok = (bool(r) and r[0] in q["expected"]) if q["expected"] else not r
        row = out.setdefault(q.get("category", "?"), [0, 0])
        row[0] += int(ok)
        row[1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


# The baseline's tokeniser is frozen here (lower-case, a short stop list, Snowball stems), so that
# tuning Ladder's own lexical tokens never moves the baseline it is compared with.
_BASELINE_STOP = set("""a an and are as at be by can do does for from how i in is it its me my of on or our s so that the
their them they this to was we what whats which who with you your i'm im any there get need needs level role""".split())


def baseline_tokens(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", text.lower().replace("&", " and "))
    return stem([w for w in words if w not in _BASELINE_STOP])


def bm25_whole_levels(kb: Knowledge, questions: list[dict]) -> list[list[str]]:
    from rank_bm25 import BM25Okapi

    docs, ids = [], []
    for lv in kb.levels():
        docs.append(" ".join([lv.title, lv.experience.text, *lv.responsibilities,
                              *(f"{s.name} {s.description}" for s in lv.skills)]))
        ids.append(lv.id)
    for note in kb.references:
        docs.append(" ".join(f"{s.heading} {s.text}" for s in note.sections))
        ids.append(note.doc_id)
    bm25 = BM25Okapi([baseline_tokens(d) for d in docs])
    out = []
    for q in questions:
        scores = bm25.get_scores(baseline_tokens(q["question"]) or ["_"])
        out.append([ids[i] for i in np.argsort(-scores, kind="stable")])
    return out


def minilm_line_chunks(kb: Knowledge, embedder, questions: list[dict]) -> list[list[str]]:
    lines, owner = [], []
    for lv in kb.levels():
        for text in [lv.experience.text, *lv.responsibilities, *(f"{s.name}: {s.description}" for s in lv.skills)]:
            lines.append(text)
            owner.append(lv.id)
    for note in kb.references:
        for s in note.sections:
            lines.append(f"{s.heading}: {s.text}")
            owner.append(note.doc_id)
    vecs = embedder.encode(lines)
    qvecs = embedder.encode([q["question"] for q in questions])
    out = []
    for qv in qvecs:
        sims = vecs @ qv
        ranked: list[str] = []
        for i in np.argsort(-sims, kind="stable"):
            if owner[i] not in ranked:
                ranked.append(owner[i])
        out.append(ranked)
    return out


def make_advisor(settings: Settings, backend: str) -> Advisor:
    from bot import wiring

    kb = load_knowledge(settings.knowledge_dir)
    index = wiring.ensure_index(kb, settings)
    return Advisor(kb, index, wiring.query_embedder(index, backend, settings.model_threads))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--backend", action="append", help="embedding backend(s) for Ladder (default: all available)")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--questions", type=Path, action="append",
                        help="questions file(s), one JSON object a line (default: every tests/data/questions*.jsonl)")
    parser.add_argument("--no-baselines", action="store_true", help="only Ladder (the baselines take a while)")
    args = parser.parse_args()

    from bot import wiring

    settings = Settings.from_env()
    paths = args.questions or sorted((ROOT / "tests" / "data").glob("questions*.jsonl"))
    backends = args.backend or wiring.available_backends()
    advisors = {backend: make_advisor(settings, backend) for backend in backends}
    kb = load_knowledge(settings.knowledge_dir)
    everything: dict[str, dict] = {}
    for path in paths:
        questions = load_questions(path)
        results: dict[str, dict] = {}
        for backend, advisor in advisors.items():
            ranked, answers = ladder_run(advisor, questions)
            results[f"ladder[{backend}]"] = {**score(ranked, questions), "by_category": by_category(ranked, questions)}
            if args.show_misses:
                for q, r, a in zip(questions, ranked, answers):
                    ok = (r[:1] and r[0] in q["expected"]) if q["expected"] else not r
                    if not ok:
                        print(f"  MISS [{backend}] {path.stem} {q.get('category', '?'):<12} {q['question']!r} "
                              f"expected={q['expected']} got={r[:3]} status={a.status} kind={a.kind} "
                              f"relation={a.relation}", file=sys.stderr)
        if not args.no_baselines:
            results["bm25 whole levels"] = score(bm25_whole_levels(kb, questions), questions)
            results["minilm line chunks"] = score(minilm_line_chunks(kb, wiring.reference_embedder(), questions),
                                                  questions)
        everything[path.name] = results
        if args.json:
            continue
        n_in = sum(1 for q in questions if q["expected"])
        print(f"\n{path.name}: {len(questions)} questions: {n_in} in scope, {len(questions) - n_in} out of scope")
        print(f"{'system':<24} {'top-1':>7} {'MRR@5':>7} {'OOS refused':>12} {'in-scope refused':>17}")
        for name, r in results.items():
            print(f"{name:<24} {r['top1']:>7.1%} {r['mrr5']:>7.3f} {r['oos_refused']:>6}/{r['oos_total']:<5} "
                  f"{r['in_scope_refused']:>10}/{r['in_scope_total']}")
        for name, r in results.items():
            if "by_category" in r:
                print(f"  {name} by category (right/asked): " + ", ".join(
                    f"{cat} {ok}/{n}" for cat, (ok, n) in r["by_category"].items()))
    if args.json:
        print(json.dumps(everything, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python
"""A classifier's cross-validated accuracy per kind, on its bank: knowledge/requests/ or knowledge/steps/.

    python scripts/train_classifier.py [--bank requests|steps] [--save] [--json]

Trains exactly as the index build does (the build's fp32 ONNX model, level names pooled out, logistic
regression, stratified 5-fold cross-validation, calibrated abstention and refusal thresholds) and prints,
per kind, how many examples the bank has, the cross-validated accuracy and how many would abstain.
``--save`` stores the new classifier into the live index build (what a rebuild would do).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.config import Settings  # noqa: E402
from bot.core.knowledge import load_knowledge  # noqa: E402
from bot.core.requestbank import IN_SCOPE, OUT_OF_SCOPE, SOCIAL, STEPS  # noqa: E402
from bot.search.classifier import BANKS  # noqa: E402
from bot.search.embedders import OnnxEmbedder  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--save", action="store_true", help="store it into the live index build")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--bank", choices=[b.name for b in BANKS], default="requests",
                        help="the request bank (default) or the step bank")
    args = parser.parse_args()
    bank = next(b for b in BANKS if b.name == args.bank)

    from bot import wiring

    settings = Settings.from_env()
    kb = load_knowledge(settings.knowledge_dir)
    index = wiring.ensure_index(kb, settings)
    clf = bank.train(kb, OnnxEmbedder.from_build(index.path, index.manifest, "fp32"), bank.examples(kb))
    if clf is None:
        print(f"the {bank.name} bank (knowledge/{bank.name}/*.yaml) is empty")
        return 1
    r = clf.report
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        print(f"{r['examples']} examples, {len(r['kinds'])} kinds; cross-validated accuracy {r['cv_accuracy']:.1%}")
        print(f"abstains below p = {r['threshold']:.2f}: answers {r['coverage']:.1%} of the bank, "
              f"{r['precision_kept']:.1%} of those right")
        if args.bank == "requests":
            print(f"refuses when the out-of-scope kinds together reach p = {r['refuse_threshold']:.2f}: "
                  f"{r['oos_refused']:.1%} of out-of-scope examples refused, {r['in_scope_refused']} in-scope or social refused")
        print(f"\n{'kind':<20} {'n':>4} {'CV acc':>7} {'abstains':>9}")
        groups = (("steps", STEPS),) if args.bank == "steps" else (
            ("in scope", IN_SCOPE), ("social", SOCIAL), ("out of scope", OUT_OF_SCOPE))
        for group, kinds in groups:
            print(f"-- {group}")
            for k in kinds:
                if k in r["kinds"]:
                    row = r["kinds"][k]
                    print(f"{k:<20} {row['n']:>4} {row['cv_accuracy']:>7.1%} {row['abstained']:>9}")
        print("\nmost common confusions (true -> predicted, count): "
              + "; ".join(f"{a} -> {b} {n}" for a, b, n in r.get("confusions", [])))
    if args.save:
        clf.save(index.path, bank.file, bank.report)
        print(f"\nsaved into {index.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The request classifier: which kind of answer a question wants (``bot.core.requestbank.KINDS``), learned from the
labelled bank in ``knowledge/requests/`` instead of a growing list of word rules.

Features are the question's MiniLM vector with the level names pooled out (one model run: the same
vector the scope check uses), so "what skills does a Senior Agent need" and "... a Frontend Lead need"
look alike and the kind never depends on which level is named. A multinomial logistic regression
(scikit-learn) is trained when the index is built and stored beside it as plain arrays
(``requests.npz``): serving is one matrix product, no scikit-learn at run time. Below a confidence
calibrated by cross-validation the classifier abstains, and the caller falls back to what the ladder's
structure and retrieval say.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np

from bot.core.knowledge import Knowledge
from bot.core.requestbank import IN_SCOPE, OUT_OF_SCOPE, Example
from bot.search.embedders import words_and_pairs
from bot.search.query import Query, understand

log = logging.getLogger(__name__)

FILE = "requests.npz"
REPORT_FILE = "requests.json"
# The step classifier (``knowledge/steps/``): the same model on the same features, other labels.
STEPS_FILE = "steps.npz"
STEPS_REPORT = "steps.json"
C = 8.0                    # inverse regularisation: unit-length 384-d features need a weak prior
FOLDS = 5
TARGET_PRECISION = 0.95    # the abstention threshold keeps cross-validated answers at least this right
REFUSE_PRECISION = 0.99    # a refusal (all out-of-scope kinds together) is this sure: a career question refused costs most
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.20, 0.91, 0.05))
# Beside the linear model, the bank's nearest questions vote (their similarity-weighted kinds): a linear model
# learns that "phones" goes with IT requests, the nearest neighbours of "I just started on the phones, what am I
# supposed to do?" are newcomers asking what is expected of them. The blend weight is chosen by cross-validation.
NEIGHBOURS = 10
NEIGHBOUR_TEMPERATURE = 0.05
BLENDS = (0.0, 0.25, 0.4, 0.55, 0.7)
BLOCK = 256
# The neighbours' vote reads an int8 copy of the bank first, then the candidates exactly (RequestClassifier._quick_vote).
COARSE_MIN_BANK = 4 * BLOCK
COARSE_CANDIDATES = 64
COARSE_SLACK = 1e-4          # the exact product's float rounding: 384 terms, |b.x| <= 1


@dataclass(frozen=True)
class KindGuess:
    """The classifier's reading of a question: ``kind`` is None when it abstains (``best`` is its guess anyway)."""

    kind: str | None
    confidence: float
    best: str
    runner_up: str = ""
    out_of_scope: float = 0.0   # the probability of all out-of-scope kinds together
    refuse: bool = False        # ... above the calibrated refusal threshold
    best_out_of_scope: str = ""  # the likeliest out-of-scope kind (which refusal to give)

    @property
    def abstained(self) -> bool:
        return self.kind is None


ABSTAIN = KindGuess(None, 0.0, "")


def features(qvec: np.ndarray, masked_vec: np.ndarray | None) -> np.ndarray:
    """The classifier's input: the question without its level names when it names one, else the question."""
    return masked_vec if masked_vec is not None else qvec


def has_rest(query: Query) -> bool:
    """Does the question say anything besides its level names? Function words count: "who's my team lead?"
    asks for a person, not for the level, and only "who s my" says so."""
    return bool(query.masked.split())


def model_input(query: Query) -> tuple[str, str | None, tuple[tuple[int, int], ...] | None]:
    """What the model is given for a question: its expanded text; when it names a level and says more, the rest
    (:attr:`~bot.search.query.Query.masked`) and where the names are in the text (None when they cannot be lined
    up with it)."""
    if not ((query.mentions or query.partial) and has_rest(query)):
        return query.expanded, None, None
    found = query.masked_spans()
    return query.expanded, query.masked, tuple(found) if found is not None else None


def question_vectors(embedder, query: Query) -> tuple[np.ndarray, np.ndarray | None]:
    """The question's vector and, when it names a level and more than names is left, the vector of the rest:
    one model run with the ONNX backend (two poolings), two with any other."""
    text, masked, spans = model_input(query)
    both = getattr(embedder, "encode_with_masked", None)
    if masked is None:
        return embedder.encode([text])[0], None
    if both is not None and spans is not None:
        return both(text, spans)
    qvec, mvec = embedder.encode([text, masked])
    return qvec, mvec


@dataclass
class RequestClassifier:
    classes: tuple[str, ...]
    coef: np.ndarray          # (kinds, dimension)
    intercept: np.ndarray     # (kinds,)
    threshold: float          # abstain below this probability
    refuse_threshold: float = 1.01   # refuse when the out-of-scope kinds together reach this
    report: dict = field(default_factory=dict)
    bank_x: np.ndarray | None = None   # (examples, dimension): the bank's features, for the neighbours' vote
    bank_y: np.ndarray | None = None   # (examples,): each example's row in ``classes``
    blend: float = 0.0                 # the neighbours' share of the probabilities
    vocabulary: tuple[str, ...] = ()   # words and word pairs whose counts sit beside the vector (:func:`with_words`)

    def inputs(self, x: np.ndarray | None, query: Query) -> np.ndarray | None:
        """What this classifier reads for a question whose features are ``x``."""
        if x is None or not self.vocabulary:
            return x
        terms = self.__dict__.get("_terms")
        if terms is None:
            terms = self.__dict__["_terms"] = {t: i for i, t in enumerate(self.vocabulary)}
        return with_words(x, [query], terms)[0]

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        z = self.coef @ x + self.intercept
        z = z - z.max()
        p = np.exp(z)
        p = p / p.sum()
        if self.blend > 0 and self.bank_x is not None and self.bank_y is not None:
            vote = self._quick_vote(x)
            if vote is None:
                sims = np.concatenate([block @ x for block in self._blocks()])
                vote = neighbour_vote(sims, self.bank_y, len(self.classes))
            p = (1 - self.blend) * p + self.blend * vote
        return p

    def _quick_vote(self, x: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray | None:
        """:func:`neighbour_vote` over the whole bank, bit for bit, reading a quarter of it. After a model run the
        bank is out of cache and reading its 4 MB is what costs; an int8 copy (1 MB) and the question rounded to
        int8 bound every similarity within ``margin``, and only the rows that can be among the ``k`` nearest are
        computed exactly, in the same 4-row groups of the same blocks as the full product (so the same float sums).
        None when that cannot be certified (too many close rows, a tie at the k-th): the caller does it all."""
        coarse = self._coarse()
        top_x = float(np.abs(x).max()) if x.size else 0.0
        if coarse is None or not top_x > 0:
            return None
        index, scale, row_err, groups_end, group_rows = coarse
        n = len(self.bank_x)
        unit = np.float32(127 / top_x)
        xq = np.rint(x * unit)
        dist, ids = index.search(xq.reshape(1, -1), COARSE_CANDIDATES)
        dist, ids = dist[0].astype(np.float64) * (scale / float(unit)), ids[0]   # int8 products: exact integers
        # |b.x - b^.x^| <= |b| |x - x^| + |b - b^| |x^| with |b| = 1; the slack covers the float sums of the exact product
        approx = (xq / unit).astype(np.float64)
        off = x - approx
        margin = float(np.sqrt(off @ off)) + row_err * float(np.sqrt(approx @ approx)) + COARSE_SLACK
        if ids[-1] < 0 or len(ids) <= k or dist[-1] >= dist[k - 1] - 2 * margin:
            return None      # a row past the candidates could still be among the k nearest
        cand = ids[dist >= dist[k - 1] - 2 * margin]
        grouped = np.zeros(groups_end // 4, dtype=bool)
        grouped[cand[cand < groups_end] >> 2] = True
        rows = group_rows[grouped].ravel()      # each candidate's whole group of 4, in bank order
        if (cand >= groups_end).any():    # the last block's rows after its last group of 4: as the full product has them
            rows = np.concatenate([rows, np.arange(groups_end, n)])
        sims = self.bank_x[rows] @ x
        order = np.argsort(-sims, kind="stable")
        if len(order) > k and sims[order[k - 1]] == sims[order[k]]:
            return None      # a tie at the k-th: which one is kept is the full selection's choice
        top = rows[order[:k]]
        s = sims[order[:k]]
        w = np.exp((s - s.max()) / NEIGHBOUR_TEMPERATURE)
        if float(w.min()) < 2.0 ** -26:
            return None      # bincount's float64 sums of these weights might then depend on their order
        vote = np.bincount(self.bank_y[top], weights=w, minlength=len(self.classes)).astype(np.float32)
        return vote / vote.sum()

    def _coarse(self):
        """(faiss int8 index of the bank, its scale, the largest rounding error of a row, where the last block's
        4-row groups end, the groups' rows), built on first use; None for a small bank or where the grouped product does not
        reproduce the blocks' bits."""
        if "_bank_coarse" in self.__dict__:
            return self.__dict__["_bank_coarse"]
        coarse = None
        n = len(self.bank_x)
        if n >= COARSE_MIN_BANK and BLOCK % 4 == 0 and self.bank_x.dtype == np.float32 and self.bank_x.flags.c_contiguous \
                and np.allclose(np.linalg.norm(self.bank_x, axis=1), 1, atol=1e-3):
            try:
                import faiss
            except ImportError:  # pragma: no cover - faiss is a serving dependency
                faiss = None
            if faiss is not None:
                scale = float(np.abs(self.bank_x).max()) / 127
                codes = np.round(self.bank_x / scale)
                row_err = float(np.linalg.norm(self.bank_x - codes * scale, axis=1).max())
                # one inverted list, scanned without OpenMP (a flat int8 index starts a thread team per question)
                d = self.bank_x.shape[1]
                index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(d), d, 1, faiss.ScalarQuantizer.QT_8bit_direct_signed,
                                                      faiss.METRIC_INNER_PRODUCT, False)
                index.train(codes.astype(np.float32))
                index.add(codes.astype(np.float32))
                index.nprobe = 1
                last = (n - 1) // BLOCK * BLOCK
                groups_end = last + (n - last) // 4 * 4
                if self._grouped_matches(groups_end):
                    coarse = (index, scale, row_err, groups_end, np.arange(groups_end).reshape(-1, 4))
        self.__dict__["_bank_coarse"] = coarse
        return coarse

    def _grouped_matches(self, groups_end: int) -> bool:
        """Does the product over gathered 4-row groups give the blocks' bits on this BLAS? (It does on OpenBLAS's
        x86 kernels; checked once, with a few bank rows as questions.)"""
        n = len(self.bank_x)
        rows = (np.arange(0, groups_end // 4, 3)[:, None] * 4 + np.arange(4)).ravel()
        rows = np.concatenate([rows, np.arange(groups_end, n)])
        for probe in (0, n // 2, n - 1):
            x = self.bank_x[probe]
            full = np.concatenate([block @ x for block in self._blocks()])
            for part in (rows[i: i + 64] for i in range(0, len(rows), 64)):   # whole groups, the rest last
                if not np.array_equal(self.bank_x[part] @ x, full[part]):
                    return False
        return True

    def _blocks(self) -> list[np.ndarray]:
        """The bank in blocks of :data:`BLOCK` rows: one matrix-vector product over all of it is big enough for
        OpenBLAS to spread over threads, which on a busy 2-core server costs milliseconds instead of 0.1 ms."""
        blocks = self.__dict__.get("_bank_blocks")
        if blocks is None:
            blocks = [np.ascontiguousarray(self.bank_x[i: i + BLOCK], dtype=np.float32)
                      for i in range(0, len(self.bank_x), BLOCK)]
            self.__dict__["_bank_blocks"] = blocks
        return blocks

    def predict(self, x: np.ndarray | None) -> KindGuess:
        if x is None:
            return ABSTAIN
        p = self.probabilities(x)
        order = np.argsort(-p)
        best, conf = self.classes[int(order[0])], float(p[order[0]])
        second = self.classes[int(order[1])] if len(order) > 1 else ""
        oos_rows = [i for i, c in enumerate(self.classes) if c in OUT_OF_SCOPE]
        oos = float(p[oos_rows].sum()) if oos_rows else 0.0
        worst = self.classes[max(oos_rows, key=lambda i: p[i])] if oos_rows else ""
        return KindGuess(best if conf >= self.threshold else None, conf, best, second, oos,
                         oos >= self.refuse_threshold, worst)

    def save(self, build_dir: Path, file: str = FILE, report_file: str = REPORT_FILE) -> None:
        extra = {}
        if self.bank_x is not None and self.bank_y is not None:
            extra = {"bank_x": self.bank_x.astype(np.float32), "bank_y": self.bank_y.astype(np.int16)}
        np.savez(build_dir / file, classes=np.array(self.classes), coef=self.coef.astype(np.float32),
                 intercept=self.intercept.astype(np.float32), threshold=np.float32(self.threshold),
                 refuse_threshold=np.float32(self.refuse_threshold), blend=np.float32(self.blend),
                 vocabulary=np.array(self.vocabulary, dtype=str), **extra)
        (build_dir / report_file).write_text(json.dumps(self.report, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, build_dir: Path, file: str = FILE, report_file: str = REPORT_FILE) -> "RequestClassifier | None":
        path = Path(build_dir) / file
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                report_path = Path(build_dir) / report_file
                report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
                files = set(data.files)
                return cls(tuple(str(c) for c in data["classes"]), data["coef"], data["intercept"],
                           float(data["threshold"]), float(data["refuse_threshold"]), report,
                           data["bank_x"] if "bank_x" in files else None,
                           data["bank_y"].astype(np.int64) if "bank_y" in files else None,
                           float(data["blend"]) if "blend" in files else 0.0,
                           tuple(str(t) for t in data["vocabulary"]) if "vocabulary" in files else ())
        except (OSError, ValueError, KeyError) as exc:
            log.warning("classifier %s is unreadable (%s): answering without it", path, exc)
            return None


def vocabulary_of(texts: Sequence[str], min_count: int = 2) -> tuple[str, ...]:
    """The words and word pairs at least ``min_count`` of ``texts`` use."""
    counts: dict[str, int] = {}
    for text in texts:
        for term in set(words_and_pairs(text)):
            counts[term] = counts.get(term, 0) + 1
    return tuple(sorted(t for t, n in counts.items() if n >= min_count))


def with_words(x: np.ndarray, queries: Sequence[Query], terms: dict[str, int]) -> np.ndarray:
    """Features beside the counts of each question's words and word pairs (its level names out) over a vocabulary
    learned from the bank, the two halves weighted alike and the whole L2-normalised. Sentence vectors put
    antonyms close ("the level above" / "below"); the words keep them apart, while the vector still carries what
    the vocabulary lacks ("superior rung"). A word the bank never used adds nothing."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float32))
    if not terms:
        return x
    bag = np.zeros((len(queries), len(terms)), dtype=np.float32)
    for row, query in enumerate(queries):
        for term in words_and_pairs(query.masked):
            if term in terms:
                bag[row, terms[term]] += 1.0
    bag /= np.clip(np.linalg.norm(bag, axis=1, keepdims=True), 1e-12, None)
    both = np.concatenate([x, bag], axis=1)
    return (both / np.clip(np.linalg.norm(both, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)


def neighbour_vote(sims: np.ndarray, labels: np.ndarray, n_classes: int, k: int = NEIGHBOURS) -> np.ndarray:
    """The kinds of the ``k`` most similar bank questions, weighted by similarity (a softmax at a low temperature)."""
    k = min(k, len(sims))
    top = np.argpartition(-sims, k - 1)[:k]
    w = np.exp((sims[top] - sims[top].max()) / NEIGHBOUR_TEMPERATURE)
    vote = np.bincount(labels[top], weights=w, minlength=n_classes).astype(np.float32)
    return vote / vote.sum()


def bank_features(kb: Knowledge, embedder, texts: Sequence[str],
                  understood: Callable[[str], Query] | None = None) -> np.ndarray:
    """Every bank question's features, as :func:`question_vectors` computes them at serving (batched when the
    embedder can: the ONNX one pads a batch, which leaves each text's mean pooling as it is). ``understood``: each
    text's :func:`~bot.search.query.understand`, when the caller keeps them."""
    understood = understood or (lambda text: understand(kb, text))
    batch = getattr(embedder, "encode_with_masked_batch", None)
    if batch is None:
        return np.stack([features(*question_vectors(embedder, understood(t))) for t in texts]).astype(np.float32)
    items, odd = [], {}
    for i, t in enumerate(texts):
        query = understood(t)
        text, masked, spans = model_input(query)
        if masked is not None and spans is None:   # words that cannot be lined up with the text: the slow way
            odd[i] = features(*question_vectors(embedder, query))
        items.append((text, spans))
    rows = [odd[i] if i in odd else features(full, part) for i, (full, part) in enumerate(batch(items))]
    return np.stack(rows).astype(np.float32)


def calibrate(probs: np.ndarray, truth: np.ndarray, classes: Sequence[str], inert: str | None = None) -> tuple[float, dict]:
    """The lowest threshold whose kept out-of-fold predictions are at least :data:`TARGET_PRECISION` right.
    A prediction of ``inert`` (the step classifier's "same": nothing changes) does not count: the threshold
    keeps the predictions that act right."""
    pred = np.array(classes)[probs.argmax(axis=1)]
    conf = probs.max(axis=1)
    acting = pred != inert
    chosen = THRESHOLDS[-1]
    for t in THRESHOLDS:
        kept = (conf >= t) & acting
        if kept.any() and float((pred[kept] == truth[kept]).mean()) >= TARGET_PRECISION:
            chosen = t
            break
    kept = conf >= chosen
    return float(chosen), {"threshold": float(chosen), "coverage": round(float(kept.mean()), 4),
                           "precision_kept": round(float((pred[kept] == truth[kept]).mean()) if kept.any() else 0.0, 4)}


def calibrate_refusal(probs: np.ndarray, truth: np.ndarray, classes: Sequence[str]) -> tuple[float, dict]:
    """The lowest threshold on the out-of-scope kinds' summed probability whose refusals are at least
    :data:`REFUSE_PRECISION` out of scope (out of fold): refusing a career question is the costly mistake."""
    oos = probs[:, np.isin(np.array(classes), OUT_OF_SCOPE)].sum(axis=1)
    truly = np.isin(truth, OUT_OF_SCOPE)
    chosen = 1.01
    for t in np.round(np.arange(0.50, 0.991, 0.01), 2):
        refused = oos >= t
        if refused.any() and float(truly[refused].mean()) >= REFUSE_PRECISION:
            chosen = float(t)
            break
    refused = oos >= chosen
    return chosen, {"refuse_threshold": chosen, "oos_refused": round(float(refused[truly].mean()), 4) if truly.any() else 0.0,
                    "in_scope_refused": int((refused & ~truly).sum())}


def train(kb: Knowledge, embedder, x: np.ndarray | None = None, bank: Sequence | None = None,
          words: bool = False, balanced: bool = True, inert: str | None = None,
          understood: Callable[[str], Query] | None = None) -> RequestClassifier | None:
    """Fit on ``bank`` (default: the request bank; None when it is empty): cross-validated accuracy per kind, a
    calibrated abstention threshold (not counting predictions of ``inert``: :func:`calibrate`), then one fit on
    everything. ``words``, ``balanced``: as :class:`Bank` says."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    bank = kb.requests if bank is None else bank
    if not bank:
        return None
    texts = [ex.text for ex in bank]
    y = np.array([ex.kind for ex in bank])
    understood = understood or (lambda text: understand(kb, text))
    if x is None:
        x = bank_features(kb, embedder, texts, understood)
    vocabulary: tuple[str, ...] = ()
    if words:
        queries = [understood(t) for t in texts]
        vocabulary = vocabulary_of([q.masked for q in queries])
        x = with_words(x, queries, {t: i for i, t in enumerate(vocabulary)})
    model = LogisticRegression(C=C, max_iter=3000, class_weight="balanced" if balanced else None)
    classes = sorted(set(y))
    folds = min(FOLDS, min(int((y == k).sum()) for k in classes))
    report: dict = {"examples": len(texts), "kinds": {}}
    if folds >= 2:
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
        linear = cross_val_predict(model, x, y, cv=cv, method="predict_proba")
        # the neighbours' vote, out of fold too: each question sees only the other folds' questions
        rows = np.searchsorted(np.array(classes), y)
        votes = np.zeros_like(linear)
        for train_rows, test_rows in cv.split(x, y):
            sims = x[test_rows] @ x[train_rows].T
            for i, r in enumerate(test_rows):
                votes[r] = neighbour_vote(sims[i], rows[train_rows], len(classes))
        scored = []
        for b in BLENDS:
            mixed = (1 - b) * linear + b * votes
            scored.append((float((np.array(classes)[mixed.argmax(axis=1)] == y).mean()), -b, b))
        blend = max(scored)[2]
        report["blend"] = {str(b): round(acc, 4) for acc, _, b in scored}
        probs = (1 - blend) * linear + blend * votes
        pred = np.array(classes)[probs.argmax(axis=1)]
        threshold, calib = calibrate(probs, y, classes, inert)
        refuse_threshold, refusal = calibrate_refusal(probs, y, classes)
        report["cv_accuracy"] = round(float((pred == y).mean()), 4)
        report.update(calib)
        report.update(refusal)
        kept = probs.max(axis=1) >= threshold
        for k in classes:
            rows = y == k
            report["kinds"][k] = {"n": int(rows.sum()), "cv_accuracy": round(float((pred[rows] == k).mean()), 4),
                                  "abstained": int((~kept[rows]).sum())}
        report["confusions"] = _confusions(y, pred)
    else:
        threshold, refuse_threshold, blend = THRESHOLDS[len(THRESHOLDS) // 2], 1.01, 0.0
    model.fit(x, y)
    labels = np.searchsorted(np.array(model.classes_), y)
    return RequestClassifier(tuple(str(c) for c in model.classes_), model.coef_.astype(np.float32),
                             model.intercept_.astype(np.float32), threshold, refuse_threshold, report,
                             x.astype(np.float32), labels, blend, vocabulary)


def _confusions(y: np.ndarray, pred: np.ndarray, top: int = 12) -> list[list]:
    counts: dict[tuple[str, str], int] = {}
    for a, b in zip(y, pred):
        if a != b:
            counts[(str(a), str(b))] = counts.get((str(a), str(b)), 0) + 1
    return [[a, b, n] for (a, b), n in sorted(counts.items(), key=lambda kv: -kv[1])[:top]]


# One process rebuilding the index (an HR edit in a test, a benchmark) trains once per bank and model.
_TRAINED: dict[str, "RequestClassifier | None"] = {}


class Bank(NamedTuple):
    """A classifier trained at build time: its name in the manifest (and Knowledge's field), its files, whether
    the bank's words sit beside the vector (:func:`with_words`), whether its kinds are weighted alike, and the kind
    whose predictions change nothing (left out of the abstention threshold's calibration)."""
    name: str
    file: str
    report: str
    words: bool = False
    balanced: bool = True
    inert: str | None = None

    def examples(self, kb: Knowledge, understood: Callable[[str], Query] | None = None) -> tuple:
        return step_examples(kb, understood) if self.name == "steps" else getattr(kb, self.name)

    def train(self, kb: Knowledge, embedder, bank: Sequence, x: np.ndarray | None = None,
              understood: Callable[[str], Query] | None = None) -> RequestClassifier | None:
        return train(kb, embedder, x=x, bank=bank, words=self.words, balanced=self.balanced, inert=self.inert,
                     understood=understood)


# request kinds whose bank questions name a level and ask about it, never a step from it
_NO_STEP_KINDS = frozenset(IN_SCOPE) - {"next", "reports_to"}


def step_examples(kb: Knowledge, understood: Callable[[str], Query] | None = None) -> tuple:
    """The step bank, plus every request-bank question of a kind that asks about the level it names (skills,
    numbers, compare, ...) and in which the word rules read no step, as ``same``. Most questions people ask
    are of that kind: without them the classifier had only the step bank's few hundred plain questions and
    read short ones ("teem leed kpis?", "Sr. agent - what's needed?") as steps."""
    from bot.search.relations import Relation, resolve_subject

    understood = understood or (lambda text: understand(kb, text))
    plain = tuple(Example(ex.text, "same", ex.source) for ex in kb.requests if ex.kind in _NO_STEP_KINDS
                  and resolve_subject(kb, understood(ex.text)).relation in
                  (Relation.NAMED, Relation.PROMOTED_TO, Relation.DESCRIBE))
    written = {ex.text.casefold() for ex in kb.steps}
    return tuple(kb.steps) + tuple(ex for ex in plain if ex.text.casefold() not in written) if kb.steps else ()


# Steps: most questions ask about the level they name; weighted alike, the few step examples made up/down guesses
# of short plain questions ("teem leed kpis?"); weighted as they come, "same" keeps its share.
BANKS = (Bank("requests", FILE, REPORT_FILE),
         Bank("steps", STEPS_FILE, STEPS_REPORT, words=True, balanced=False, inert="same"))
TRAINING = 2    # raise when training changes: classifiers kept in earlier builds are then not reused


def bank_key(spec: "Bank", bank: Sequence, kb: Knowledge, embedder, manifest: dict,
             understood: Callable[[str], Query]) -> str:
    """What a classifier depends on: its examples, what the model and the word counts are given for each (so a
    change in how questions are understood, such as which words are masked as level names, trains again), the level
    names, the model and its export, and this module's training. Equal keys train equal classifiers."""
    seen = [[*model_input(query), query.masked] for query in map(understood, (ex.text for ex in bank))]
    payload = {"bank": list(spec), "training": TRAINING, "examples": [[ex.kind, ex.text] for ex in bank], "seen": seen,
               "levels": [[lv.id, lv.track, lv.title, list(getattr(lv, "aliases", ()))] for lv in kb.levels()],
               "tracks": [[t.id, t.title] for t in kb.tracks.values()],
               "embedder": getattr(embedder, "name", ""), "model": manifest.get("model"),
               "export": (manifest.get("onnx") or {}).get("key")}
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def train_into(build_dir: Path, manifest: dict, kb: Knowledge, embedder, donors: Sequence[Path] = ()) -> None:
    """The index build's step: each bank's classifier, trained with the serving model and stored in the build.
    One an earlier build (``donors``, newest first) trained on the same key is copied instead: a rebuild after an
    edit of the levels' text, or of a damaged model file, does not train again (~10 s)."""
    trained = {}
    # each bank question understood and embedded once for all banks (the step bank holds many request-bank questions)
    queries: dict[str, Query] = {}
    vectors: dict[str, np.ndarray] = {}

    def understood(text: str) -> Query:
        if text not in queries:
            queries[text] = understand(kb, text)
        return queries[text]

    def features_of(texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in vectors]
        if missing:
            vectors.update(zip(missing, bank_features(kb, embedder, missing, understood)))
        return np.stack([vectors[t] for t in texts]).astype(np.float32)

    for spec in BANKS:
        bank = spec.examples(kb, understood)
        key = bank_key(spec, bank, kb, embedder, manifest, understood)
        if key not in _TRAINED and _copy_trained(donors, spec, key, build_dir, manifest):
            continue
        try:
            clf = _TRAINED[key] if key in _TRAINED else (
                spec.train(kb, embedder, bank, features_of([ex.text for ex in bank]), understood) if bank else None)
        except ImportError:
            log.warning("scikit-learn is not installed: the index is built without a request classifier "
                        "(install the build tools: pip install -e '.[build]')")
            return
        trained[key] = clf
        if clf is None:
            continue
        clf.save(build_dir, spec.file, spec.report)
        manifest[spec.name] = {"examples": clf.report.get("examples"), "threshold": clf.threshold,
                          "refuse_threshold": clf.refuse_threshold,
                          "cv_accuracy": clf.report.get("cv_accuracy"), "coverage": clf.report.get("coverage"),
                          "blend": clf.blend, "key": key}
    _TRAINED.clear()
    _TRAINED.update(trained)


def _copy_trained(donors: Sequence[Path], spec: Bank, key: str, build_dir: Path, manifest: dict) -> bool:
    for donor in donors:
        try:
            recorded = json.loads((Path(donor) / "manifest.json").read_text(encoding="utf-8")).get(spec.name) or {}
        except (OSError, ValueError):
            continue
        if recorded.get("key") != key or RequestClassifier.load(donor, spec.file, spec.report) is None:
            continue
        try:
            for part in (spec.file, spec.report):
                shutil.copyfile(Path(donor) / part, build_dir / part)
        except OSError:
            continue
        manifest[spec.name] = recorded
        log.info("%s classifier: reused the one trained for build %s", spec.name, Path(donor).name)
        return True
    return False

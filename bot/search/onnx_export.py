"""Build-time only: export all-MiniLM-L6-v2 to ONNX (fp32 and dynamic int8) beside the index.

Needs torch, onnx, onnxscript and onnxruntime (``pip install -e '.[build]'``). Uses
``torch.onnx.export(dynamo=True)``: the legacy TorchScript exporter (``dynamo=False``) gives vectors
that are silently off (cosine 0.87–0.95 measured here). int8 uses per-channel dynamic quantization;
per-tensor loses too much.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from bot.search.embedders import MODEL_SHA256, OnnxEmbedder, file_sha256

FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
FILES = (FP32_FILE, INT8_FILE, TOKENIZER_FILE)
OPSET = 18
RECIPE = 1      # raise when the export or the quantisation below changes: older cached exports are not reused
SUMS = "sha256.json"
CACHE_DIR = "exports"   # in the index directory, beside builds/ (`make clean` removes it)

log = logging.getLogger(__name__)


def export(embedder, out_dir: Path, cache: Path | None = None) -> dict:
    """Write model.onnx, model-int8.onnx and tokenizer.json into ``out_dir``; return manifest fields.

    The export depends only on the model's weights and the tools, not on the knowledge: with ``cache`` (the
    index's ``exports/``), the files of an earlier export of the same weights, recipe, torch and onnxruntime
    are copied instead (each checked against its recorded sha256; a damaged copy is exported anew). A
    re-index after a bank edit, or the rebuild of a build whose ONNX file was damaged, skips the ~11 s export."""
    out_dir = Path(out_dir)
    fields = {"onnx": {"fp32": FP32_FILE, "int8": INT8_FILE, "tokenizer": TOKENIZER_FILE, "opset": OPSET,
                       "max_seq_length": embedder.max_seq_length, "exporter": "torch.onnx dynamo"}}
    fields["onnx"]["key"] = _cache_key()     # what the export depends on (the classifiers trained on it record it)
    key = cache / fields["onnx"]["key"] if cache is not None else None
    if key is not None and _copy_cached(key, out_dir):
        log.info("ONNX export: reused %s", key)
        return fields
    _export(embedder, out_dir)
    if key is not None:
        _store_cached(out_dir, key)
    return fields


def _cache_key() -> str:
    import onnxruntime
    import torch

    return f"{MODEL_SHA256[:16]}-r{RECIPE}-opset{OPSET}-torch{torch.__version__}-ort{onnxruntime.__version__}"


def _copy_cached(key: Path, out_dir: Path) -> bool:
    try:
        sums = json.loads((key / SUMS).read_text(encoding="utf-8"))
        for name in FILES:
            shutil.copyfile(key / name, out_dir / name)
            if file_sha256(out_dir / name) != sums[name]:
                raise ValueError(f"{name} does not match its sha256")
        return True
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if key.exists():
            log.warning("ONNX export cache %s is unusable (%s): exporting anew", key, exc)
        for name in FILES:
            (out_dir / name).unlink(missing_ok=True)
        return False


def _store_cached(out_dir: Path, key: Path) -> None:
    """Keep this export for the next build: written beside, then renamed in whole; other keys are dropped.
    Called during a build, under the index's build lock."""
    tmp = None
    try:
        key.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=key.parent))
        tmp.chmod(0o755)   # as a build: readable by a server running as another user
        for name in FILES:
            shutil.copyfile(out_dir / name, tmp / name)
        (tmp / SUMS).write_text(json.dumps({n: file_sha256(tmp / n) for n in FILES}, indent=2), encoding="utf-8")
        if key.exists():
            shutil.rmtree(key, ignore_errors=True)   # a damaged one
        os.replace(tmp, key)
        tmp = None
        for other in key.parent.iterdir():   # older keys, and what a killed build left (we hold the build lock)
            if other.is_dir() and other != key:
                shutil.rmtree(other, ignore_errors=True)
    except OSError as exc:   # a cache is an optimisation: the build itself is complete
        log.warning("ONNX export cache not written: %s", exc)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _export(embedder, out_dir: Path) -> None:
    import torch

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    bert = embedder.model[0].auto_model.eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = embedder.model.tokenizer(["a short one", "a somewhat longer example sentence for tracing"],
                                      padding=True, return_tensors="pt")
    args = (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"])
    batch = torch.export.Dim("batch", min=1, max=4096)
    seq = torch.export.Dim("seq", min=1, max=512)
    shapes = {name: {0: batch, 1: seq} for name in ("input_ids", "attention_mask", "token_type_ids")}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState(bert), args, str(out_dir / FP32_FILE),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
            dynamic_shapes=shapes, opset_version=OPSET, dynamo=True, external_data=False, verbose=False,
        )
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = out_dir / "model-pre.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # symbolic shape inference fails on this graph; ONNX shape inference + ORT optimisation suffice
        quant_pre_process(str(out_dir / FP32_FILE), str(pre), skip_symbolic_shape=True)
        quantize_dynamic(
            str(pre), str(out_dir / INT8_FILE), per_channel=True, weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"], nodes_to_exclude=_ffn_down_projections(pre),
        )
    pre.unlink(missing_ok=True)
    shutil.copyfile(embedder.path / TOKENIZER_FILE, out_dir / TOKENIZER_FILE)


def _ffn_down_projections(path: Path) -> list[str]:
    """The feed-forward output MatMuls (weight 1536 -> 384) of the first half of the layers.

    Measured on our 238 chunks (worst cosine to sentence-transformers / single-query encode p50):
    every MatMul int8: 0.9878 / 1.8 ms; all six down-projections kept fp32: 0.9937 / 2.6 ms;
    the first three kept fp32: 0.9939 / 2.1 ms. Errors in early layers propagate, so those matter most.
    """
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    shapes = {init.name: tuple(init.dims) for init in model.graph.initializer}
    down = [
        node.name for node in model.graph.node
        if node.op_type == "MatMul" and any(len(shapes.get(i, ())) == 2 and shapes[i][0] > shapes[i][1] for i in node.input)
    ]
    return down[: (len(down) + 1) // 2]


# A broken export is wrong on every text (dynamo=False: cosine 0.87-0.95 throughout), so a spread sample of the
# chunks shows it as surely as all of them, at a quarter of the cost on every rebuild (~4.3 s -> ~1.1 s).
# tests/test_onnx.py checks every chunk of the session's build.
AGREEMENT_SAMPLE = 64


def agreement(reference_vectors: np.ndarray, texts: list[str], build_dir: Path, manifest: dict,
              sample: int = AGREEMENT_SAMPLE) -> dict:
    """Cosine of each exported variant to the reference vectors over ``sample`` chunks spread evenly through
    the index (all of them when there are fewer): min and mean, and how many were compared."""
    picked = np.unique(np.linspace(0, len(texts) - 1, num=min(sample, len(texts))).round().astype(int))
    texts, reference_vectors = [texts[i] for i in picked], reference_vectors[picked]
    out = {}
    for variant in ("fp32", "int8"):
        vectors = OnnxEmbedder.from_build(build_dir, manifest, variant).encode(texts)
        cos = np.sum(vectors * reference_vectors, axis=1)
        out[variant] = {"min": round(float(cos.min()), 6), "mean": round(float(cos.mean()), 6), "chunks": len(texts)}
    return out

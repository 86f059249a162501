"""The embedding model comes from an anonymous package: check it is upstream's. (That it loads offline and its
vectors mean something: ``tests/test_onnx.py``, with the other tests of the loaded model.)"""

from __future__ import annotations

import numpy as np
import pytest

from bot.search.embedders import MODEL_SHA256, EmbedderError, file_sha256, model_path, verify_model


def test_packaged_weights_are_upstreams():
    weights = model_path() / "model.safetensors"
    assert file_sha256(weights) == MODEL_SHA256 == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def test_tampered_weights_are_refused(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"not the model")
    with pytest.raises(EmbedderError, match="expected upstream's"):
        verify_model(tmp_path)


def test_the_fake_embedder_is_deterministic_normalised_and_closer_for_shared_words():
    from bot.search.embedders import Embedder, FakeEmbedder

    texts = ["team lead manages agents", "a team lead manages a team", "the weather is sunny", ""]
    v = FakeEmbedder().encode(texts)
    assert isinstance(FakeEmbedder(), Embedder) and v.shape == (4, 384) and v.dtype == np.float32
    assert np.array_equal(v, FakeEmbedder().encode(texts))          # no per-process hash seed
    assert np.allclose(np.linalg.norm(v[:3], axis=1), 1.0) and not v[3].any()
    assert v[0] @ v[1] > 0.5 > abs(v[0] @ v[2])

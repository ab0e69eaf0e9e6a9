"""Per-request extraction-intent classifier: does the text of one request *ask for* distillation data?

It reads ``prompt_text`` (system prompt + newest user turn) and returns a probability for each
:data:`INTENT_CLASSES` entry. The classes describe content, not guilt: an evaluation team's
LLM-as-judge prompt is ``rubric_grading`` and a data scientist's "20 example customer messages"
is ``synthetic_data``. Whether an account is distilling is decided from volume, diversity and
account context elsewhere; this kernel only supplies the per-request signal.

Model: hashed character n-grams (2-5, lower-cased; language-agnostic, so Chinese, Arabic and
Latin scripts need no tokeniser), counts times sqrt-idf and scaled to unit occurrence norm, fed to
a one-vs-rest logistic regression (scikit-learn ``SGDClassifier``). The featuriser is vectorised
numpy over a whole batch: a polynomial rolling hash per n-gram size, then one gather per n-gram
from a (bucket x class+1) table that already holds the idf-weighted class weights and idf^2 for the
norm, then a segment sum per text, so inference never builds a sparse matrix. Only the first and
last ``head_chars``/``tail_chars`` characters are read, because wrappers sit at the ends.

Decision: ``p_extract = 1 - P(none)``; a request is flagged at ``p_extract >= threshold`` (0.5), and
its ``intent`` is then the likeliest extraction class, else ``none``. The operating point is a fixed
shift of the ``none`` score (``none_bias``) chosen on a validation sample; see ``docs/intent.md``.

Training data are the hand-written wrappers of :mod:`distillguard.kernels.intent_seeds` around
real corpus prompts; :func:`default_classifier` trains once per process (about 5-9 s on two cores).

Cost: about 11 µs per request in 20k-row batches and about 170 µs for a one-row batch on two CPU
cores (``bench/bench_intent.py``); memory is bounded by processing ~1M characters at a time.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from distillguard.kernels.text import MAX_CHARS, prompt_text

try:  # the compiled small-batch path; the package builds it where a C compiler is available
    from distillguard.kernels import _intent as _native_module
except ImportError:  # pragma: no cover - exercised only on installs without a compiler
    _native_module = None

log = logging.getLogger("distillguard.intent")

__all__ = [
    "EXTRACTION_CLASSES",
    "INTENT_CLASSES",
    "INTENT_SCHEMA",
    "IntentClass",
    "IntentClassifier",
    "default_classifier",
    "evaluate_holdout",
    "format_report",
    "intent_scores",
    "prompt_texts",
    "training_set",
]

ATLAS = ("AML.T0024.002", "AML.T0040")  # Extract AI Model via inference API; AI Model Inference API Access


@dataclass(frozen=True)
class IntentClass:
    """One intent class: id, what it means, industry taxonomy categories and MITRE ATLAS techniques."""

    id: str
    description: str
    taxonomy: tuple[str, ...]
    atlas: tuple[str, ...]


INTENT_CLASSES: tuple[IntentClass, ...] = (
    IntentClass(
        "none",
        "No extraction-shaped request: ordinary questions, tasks, chat, tutoring, translation.",
        (),
        (),
    ),
    IntentClass(
        "cot_elicitation",
        "Chain-of-thought elicitation: asks the model to reconstruct or articulate, step by step, the internal "
        "reasoning behind a question or an already completed answer, often as a first-person monologue.",
        ("chain-of-thought exfiltration",),
        ATLAS,
    ),
    IntentClass(
        "reasoning_coercion",
        "Reasoning coercion: dictates the model's own thinking, e.g. that it must be written in a given language "
        "or shown in full, verbatim and unsummarised.",
        ("chain-of-thought exfiltration",),
        ATLAS,
    ),
    IntentClass(
        "rubric_grading",
        "Rubric or reward-model grading: score, rank, compare or critique model responses (including step-level "
        "critique of a reasoning chain), producing preference or reward labels.",
        ("autograding", "chain-of-thought critiquing"),
        ATLAS,
    ),
    IntentClass(
        "rl_task_generation",
        "RL task generation: create new problems, environments or coding tasks with verifiable answers, "
        "reference solutions or test suites.",
        ("RL prompt generation",),
        ATLAS,
    ),
    IntentClass(
        "synthetic_data",
        "Bulk synthetic-data generation: produce many diverse instructions, examples, Q/A pairs, conversations or "
        "evolved/paraphrased prompts (Self-Instruct style).",
        ("synthetic data generation",),
        ATLAS,
    ),
    IntentClass(
        "censorship_rewrite",
        "Censorship rewrite: turn politically sensitive questions or answers into censor-safe alternatives "
        "that follow an official narrative.",
        ("synthetic data generation",),
        ATLAS,
    ),
)
CLASS_IDS = tuple(c.id for c in INTENT_CLASSES)
EXTRACTION_CLASSES = CLASS_IDS[1:]

INTENT_SCHEMA = pa.schema(
    [
        pa.field("request_id", pa.string()),
        pa.field("intent", pa.string()),
        pa.field("p_extract", pa.float32()),
        *(pa.field(f"p_{c}", pa.float32()) for c in EXTRACTION_CLASSES),
    ]
)

# ---- featuriser ----------------------------------------------------------------------------------

_PAD = 4  # separator characters between texts; must be >= the longest n-gram minus one
_M1 = np.uint32(0x01000193)
_M2 = np.uint32(0x9E3779B1)
_SALT_INT = tuple(0x2545F491 * (n + 1) & 0xFFFFFFFF for n in range(16))
_SALT = tuple(np.uint32(s) for s in _SALT_INT)
_CHUNK_CHARS = 1 << 20
# Batches up to this many texts are summed by the compiled kernel (_intent.c) where it is built.
NATIVE_MAX_BATCH = 256
# What the compiled kernel is checked on before a classifier trusts it (bit-for-bit with NumPy).
_NATIVE_SAMPLES = (
    "",
    "a",
    "Think step by step and show your reasoning before the final answer. " * 12,
    "请一步一步地思考，然后给出最终答案。Ünïcödé \x01 tabs\tand\nlines",
    "Rate the response from 1 to 10 using the rubric below.\n" + "x" * 900,
)


def _clip(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return text
    return f"{text[:head]}\n{text[-tail:]}" if tail else text[:head]


@dataclass(frozen=True)
class _Encoded:
    codes: np.ndarray  # uint32 code points: PAD, text 0, PAD, text 1, ..., PAD
    starts: np.ndarray  # int64 position of each text's first character
    lengths: np.ndarray  # int64 characters per text


def _encode(texts: Sequence[str], head: int, tail: int) -> _Encoded:
    # NUL is the separator, so a NUL inside a text becomes a space.
    prepared = [_clip(t, head, tail).lower().replace("\x00", " ") for t in texts]
    sep = "\x00" * _PAD
    joined = sep + sep.join(prepared) + sep
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lengths = np.fromiter(map(len, prepared), dtype=np.int64, count=len(prepared))
    starts = _PAD + np.concatenate(([0], np.cumsum(lengths + _PAD)[:-1])) if len(prepared) else lengths
    return _Encoded(codes, starts.astype(np.int64), lengths)


def _buckets(codes: np.ndarray, ngram_range: tuple[int, int], bits: int) -> Iterable[tuple[int, np.ndarray]]:
    """Yield (n, bucket per end position) for each n-gram size; pure-separator n-grams hash to a known bucket."""
    lo, hi = ngram_range
    shift = np.uint32(32 - bits)
    g = codes.copy()
    for n in range(1, hi + 1):
        if n > 1:
            nxt = np.empty_like(codes)
            nxt[0] = codes[0]
            np.multiply(g[:-1], _M1, out=nxt[1:])
            nxt[1:] += codes[1:]
            g = nxt
        if n >= lo:
            yield n, ((g + _SALT[n]) * _M2) >> shift


def _null_bucket(n: int, bits: int) -> int:
    return ((_SALT_INT[n] * int(_M2)) & 0xFFFFFFFF) >> (32 - bits)


def _chunks(texts: Sequence[str], head: int, tail: int) -> Iterable[tuple[int, int]]:
    start, size = 0, 0
    for i, t in enumerate(texts):
        size += min(len(t), head + tail + 1) + _PAD
        if size >= _CHUNK_CHARS:
            yield start, i + 1
            start, size = i + 1, 0
    if start < len(texts):
        yield start, len(texts)


# ---- classifier ----------------------------------------------------------------------------------


class IntentClassifier:
    """Hashed char n-gram + one-vs-rest logistic regression over prompt texts, scikit-learn style."""

    def __init__(
        self,
        n_bits: int = 18,
        ngram_range: tuple[int, int] = (2, 5),
        head_chars: int = 400,
        tail_chars: int = 400,
        alpha: float = 1e-5,
        max_iter: int = 8,
        random_state: int = 0,
        n_jobs: int | None = 2,
        idf_power: float = 0.5,
        none_bias: float = -1.0,
        threshold: float = 0.5,
    ) -> None:
        self.n_bits = n_bits
        self.ngram_range = ngram_range
        self.head_chars = head_chars
        self.tail_chars = tail_chars
        self.alpha = alpha
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.idf_power = idf_power
        self.none_bias = none_bias
        self.threshold = threshold

    # -- features --

    def counts(self, texts: Sequence[str]) -> Any:
        """Raw hashed n-gram counts of ``texts`` as a scipy CSR matrix (separator-only n-grams dropped)."""
        import scipy.sparse as sp

        if not 1 <= self.ngram_range[0] <= self.ngram_range[1] <= _PAD + 1:
            raise ValueError(f"ngram_range must lie within 1..{_PAD + 1}, got {self.ngram_range}")
        blocks = []
        for a, b in _chunks(texts, self.head_chars, self.tail_chars):
            enc = _encode(texts[a:b], self.head_chars, self.tail_chars)
            nd = b - a
            seg = np.diff(np.append(enc.starts, len(enc.codes)))
            row = np.full(len(enc.codes), -1, dtype=np.int32)
            if nd:
                row[enc.starts[0] :] = np.repeat(np.arange(nd, dtype=np.int32), seg)
            rows, cols = [], []
            for n, bucket in _buckets(enc.codes, self.ngram_range, self.n_bits):
                keep = (row >= 0) & (bucket != _null_bucket(n, self.n_bits))
                rows.append(row[keep])
                cols.append(bucket[keep].astype(np.int32))
            r = np.concatenate(rows)
            m = sp.csr_matrix(
                (np.ones(len(r)), (r, np.concatenate(cols))), shape=(nd, 1 << self.n_bits), dtype=np.float64
            )
            m.sum_duplicates()
            blocks.append(m)
        if not blocks:
            return sp.csr_matrix((0, 1 << self.n_bits), dtype=np.float64)
        return sp.vstack(blocks, format="csr")

    def _weigh(self, counts: Any) -> Any:
        import scipy.sparse as sp

        idf = self.idf_.astype(np.float64)
        # Norm over occurrences (sum of count * idf^2), which the inference path can add up per position.
        norm2 = counts @ (idf * idf)
        inv = np.where(norm2 > 0, 1.0 / np.sqrt(np.maximum(norm2, 1e-300)), 0.0)
        return sp.diags(inv) @ counts @ sp.diags(idf)

    def transform(self, texts: Sequence[str]) -> Any:
        """Feature matrix of ``texts``: hashed n-gram counts times idf, scaled by the occurrence norm."""
        return self._weigh(self.counts(list(texts)))

    # -- fit / predict --

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> IntentClassifier:
        """Fit on texts and their class ids; deterministic for a fixed ``random_state``."""
        from sklearn.linear_model import SGDClassifier

        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        counts = self.counts(list(texts))
        # Smoothed idf, as scikit-learn's TfidfTransformer: frequent n-grams (" a", "th") carry little.
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = (np.log((1.0 + counts.shape[0]) / (1.0 + df)) + 1.0) ** self.idf_power
        for n in range(self.ngram_range[0], self.ngram_range[1] + 1):
            idf[_null_bucket(n, self.n_bits)] = 0.0
        self.idf_ = idf.astype(np.float32)
        x = self._weigh(counts)
        y = np.asarray(labels)
        model = SGDClassifier(
            loss="log_loss",
            alpha=self.alpha,
            max_iter=self.max_iter,
            tol=None,
            class_weight="balanced",
            random_state=self.random_state,
            n_jobs=self.n_jobs,
        )
        model.fit(x, y)
        self.classes_ = model.classes_.astype(str)
        coef = np.asarray(model.coef_, dtype=np.float64)
        intercept = np.asarray(model.intercept_, dtype=np.float64)
        if len(self.classes_) == 2:  # sklearn keeps one row for two classes: score of classes_[1]
            coef = np.vstack([-coef, coef])
            intercept = np.array([-intercept[0], intercept[0]])
        # One row per bucket: idf-weighted class weights, then idf^2 for the norm, so a single gather
        # per n-gram fetches everything the score needs.
        table = np.empty((coef.shape[1], coef.shape[0] + 1), dtype=np.float32)
        table[:, :-1] = coef.T * idf[:, None]
        table[:, -1] = idf * idf
        self.table_ = table
        # The operating point: a fixed shift of the none score (see docs/intent.md for how it was chosen).
        intercept[self.classes_ == "none"] += self.none_bias
        self.intercept_ = intercept
        self._binary = len(self.classes_) == 2
        self._native_checked: bool | None = None  # the compiled kernel is checked against this table
        return self

    def decision_function(self, texts: Sequence[str], native: bool | None = None) -> np.ndarray:
        """Per-class linear scores, shape (n_texts, n_classes).

        Up to ``NATIVE_MAX_BATCH`` texts are summed by the compiled kernel where it is built and has
        matched the NumPy path bit for bit on sample texts (the online service's micro-batches);
        ``native`` forces the choice (tests compare the two).
        """
        table = self.table_
        k = table.shape[1] - 1
        if native is None:
            native = len(texts) <= NATIVE_MAX_BATCH and self._native_ok()
        if native:
            return self._scores(self._native_sums(texts), k)
        out = np.empty((len(texts), k), dtype=np.float64)
        for a, b in _chunks(texts, self.head_chars, self.tail_chars):
            enc = _encode(texts[a:b], self.head_chars, self.tail_chars)
            acc: np.ndarray | None = None
            for _, bucket in _buckets(enc.codes, self.ngram_range, self.n_bits):
                rows = table.take(bucket, axis=0)
                acc = rows if acc is None else np.add(acc, rows, out=acc)
            assert acc is not None
            # Every segment [start_k, start_k+1) is non-empty (a text is followed by _PAD separators).
            out[a:b] = self._scores(np.add.reduceat(acc, enc.starts, axis=0), k, with_intercept=False)
        return out + self.intercept_

    def _scores(self, sums: np.ndarray, k: int, with_intercept: bool = True) -> np.ndarray:
        """Scores from per-text float32 row sums: class sums scaled by the occurrence norm."""
        sums = sums.astype(np.float64)
        norm2 = sums[:, k]
        inv = np.where(norm2 > 0, 1.0 / np.sqrt(np.maximum(norm2, 1e-300)), 0.0)
        scores = sums[:, :k] * inv[:, None]
        return scores + self.intercept_ if with_intercept else scores

    def _native_sums(self, texts: Sequence[str]) -> np.ndarray:
        """Per-text float32 row sums from the compiled kernel (the NumPy path's, bit for bit)."""
        if _native_module is None:
            raise RuntimeError("the compiled intent kernel is not built here")
        lo, hi = self.ngram_range
        prepared = [_clip(t, self.head_chars, self.tail_chars).lower().replace("\x00", " ") for t in texts]
        cols = self.table_.shape[1]
        raw = _native_module.sums(
            prepared, self.table_, cols, self.n_bits, lo, hi, _PAD, int(_M1), int(_M2), _SALT_INT
        )
        return np.frombuffer(raw, dtype=np.float32).reshape(len(prepared), cols)

    def _native_ok(self) -> bool:
        """Whether this classifier may use the compiled kernel: built, enabled
        (``DISTILLGUARD_NATIVE_INTENT`` is not 0) and equal to the NumPy path on sample texts."""
        ok = getattr(self, "_native_checked", None)
        if ok is None:
            ok = False
            if _native_module is not None and os.environ.get("DISTILLGUARD_NATIVE_INTENT", "1") != "0":
                samples = list(_NATIVE_SAMPLES)
                ok = bool(
                    np.array_equal(
                        self.decision_function(samples, native=True),
                        self.decision_function(samples, native=False),
                    )
                )
                if not ok:
                    log.warning("the compiled intent kernel disagrees with NumPy here; using NumPy")
            self._native_checked = ok
        return ok

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape (n_texts, n_classes), rows summing to 1; columns follow ``classes_``."""
        scores = self.decision_function(list(texts))
        if self._binary:
            p1 = 1.0 / (1.0 + np.exp(-np.clip(scores[:, 1], -500, 500)))
            return np.column_stack([1.0 - p1, p1])
        # One-vs-rest probabilities normalised across classes, as scikit-learn does for SGD log-loss.
        prob = 1.0 / (1.0 + np.exp(-np.clip(scores, -500, 500)))
        total = prob.sum(axis=1, keepdims=True)
        tiny = total[:, 0] < 1e-300
        if tiny.any():  # every class implausible: fall back to the relative scores
            z = scores[tiny] - scores[tiny].max(axis=1, keepdims=True)
            prob[tiny] = np.exp(z)
            total[tiny] = prob[tiny].sum(axis=1, keepdims=True)
        return prob / total

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Class id per text: ``none`` below ``threshold`` of p_extract, else the likeliest extraction class."""
        return _decide(self.predict_proba(texts), self.classes_, self.threshold)

    def p_extract(self, texts: Sequence[str]) -> np.ndarray:
        """Probability that each text is any extraction class (1 - P(none))."""
        proba = self.predict_proba(texts)
        idx = np.flatnonzero(self.classes_ == "none")
        return 1.0 - proba[:, idx[0]] if len(idx) else np.ones(len(proba))


def _decide(proba: np.ndarray, classes: np.ndarray, threshold: float) -> np.ndarray:
    # p_extract can pass the threshold while no single extraction class beats "none", so the decision
    # is two-step: extraction or not, then which family.
    classes = np.asarray(classes).astype(str)
    none = classes == "none"
    if not none.any() or len(proba) == 0:
        return classes[np.argmax(proba, axis=1)] if len(proba) else np.array([], dtype=str)
    p_ext = 1.0 - proba[:, none][:, 0]
    family = classes[~none][np.argmax(proba[:, ~none], axis=1)] if (~none).any() else classes[none]
    return np.where(p_ext >= threshold, family, "none")


# ---- training data -------------------------------------------------------------------------------


def training_set(
    split: str = "all",
    seed: int = 0,
    per_family: int = 1200,
    n_hard: int = 3600,
    n_benign: int = 7200,
    exclude: Iterable[str] = (),
) -> tuple[list[str], list[str], list[str]]:
    """Texts, class ids and groups (family, ``hard:<category>`` or corpus) built from the seeds."""
    from distillguard.kernels import intent_seeds as seeds

    pools = seeds.payloads(split)  # type: ignore[arg-type]
    skip = set(exclude)
    texts: list[str] = []
    labels: list[str] = []
    groups: list[str] = []
    for fam in seeds.FAMILIES:
        if fam in skip:
            continue
        ex = seeds.family_examples(fam, per_family, split, seed, pools)  # type: ignore[arg-type]
        texts += ex
        labels += [fam] * len(ex)
        groups += [fam] * len(ex)
    for cat, text in seeds.hard_negative_examples(n_hard, split, seed, pools):  # type: ignore[arg-type]
        texts.append(text)
        labels.append("none")
        groups.append(f"hard:{cat}")
    for corpus, text in seeds.benign_examples(n_benign, split, seed, pools):  # type: ignore[arg-type]
        texts.append(text)
        labels.append("none")
        groups.append(corpus)
    return texts, labels, groups


@cache
def default_classifier() -> IntentClassifier:
    """The shipped classifier: every seed fragment on training-split payloads; trained once per process."""
    texts, labels, _ = training_set("all")
    return IntentClassifier().fit(texts, labels)


# ---- Arrow kernel --------------------------------------------------------------------------------


def _chunk_prompt_texts(arr: pa.Array) -> list[str]:
    n = len(arr)
    users: list[str] = [""] * n
    if n == 0:
        return users
    flat = arr.flatten()
    if len(flat) == 0:
        return users
    parents = pc.list_parent_indices(arr).to_numpy(zero_copy_only=False)
    role, content = flat.flatten()
    is_user = pc.fill_null(pc.equal(role, "user"), False).to_numpy(zero_copy_only=False)
    is_sys = pc.fill_null(pc.equal(role, "system"), False).to_numpy(zero_copy_only=False)
    user_pos = np.flatnonzero(is_user)
    if len(user_pos):
        rows = parents[user_pos]
        last = np.append(
            rows[1:] != rows[:-1], True
        )  # parents ascend, so a row's last user turn ends its run
        values = content.take(pa.array(user_pos[last])).to_pylist()
        for r, v in zip(rows[last].tolist(), values, strict=True):
            users[r] = (v or "")[:MAX_CHARS]
    sys_pos = np.flatnonzero(is_sys)
    if len(sys_pos):
        # Rows with a system prompt are rebuilt as messages so prompt_text stays the one definition.
        by_row: dict[int, list[dict[str, Any]]] = {}
        values = content.take(pa.array(sys_pos)).to_pylist()
        for r, v in zip(parents[sys_pos].tolist(), values, strict=True):
            by_row.setdefault(r, []).append({"role": "system", "content": v})
        for r, msgs in by_row.items():
            users[r] = prompt_text([*msgs, {"role": "user", "content": users[r]}])
    return users


def prompt_texts(messages: pa.Array | pa.ChunkedArray) -> list[str]:
    """``prompt_text`` of every row of a ``messages`` column, without converting whole conversations."""
    if isinstance(messages, pa.ChunkedArray):
        return [t for chunk in messages.chunks for t in _chunk_prompt_texts(chunk)]
    return _chunk_prompt_texts(messages)


def intent_scores(batch: pa.RecordBatch | pa.Table, model: IntentClassifier | None = None) -> pa.Table:
    """Score each request of a ``requests`` batch: columns of :data:`INTENT_SCHEMA`, one row per request."""
    for name in ("request_id", "messages"):
        if name not in batch.schema.names:
            raise KeyError(f"intent_scores needs a {name!r} column; got {', '.join(batch.schema.names)}")
    model = model or default_classifier()
    ids = batch.column("request_id")
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks() if ids.num_chunks else pa.array([], pa.string())
    texts = prompt_texts(batch.column("messages"))
    proba = model.predict_proba(texts) if texts else np.zeros((0, len(model.classes_)))
    full = np.zeros((len(texts), len(CLASS_IDS)), dtype=np.float64)
    for j, c in enumerate(model.classes_):
        full[:, CLASS_IDS.index(str(c))] = proba[:, j]
    intent = _decide(full, np.asarray(CLASS_IDS), model.threshold) if len(texts) else []
    columns = [
        ids.cast(pa.string()),
        pa.array(list(intent), pa.string()),
        pa.array((1.0 - full[:, 0]).astype(np.float32), pa.float32()),
        *(pa.array(full[:, j].astype(np.float32), pa.float32()) for j in range(1, len(CLASS_IDS))),
    ]
    return pa.Table.from_arrays(columns, schema=INTENT_SCHEMA)


# ---- evaluation ----------------------------------------------------------------------------------


def _pr(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    tp = float(np.sum(pred & truth))
    precision = tp / max(float(np.sum(pred)), 1.0)
    recall = tp / max(float(np.sum(truth)), 1.0)
    return precision, recall


def evaluate_holdout(
    threshold: float = 0.5, per_family_test: int = 400, n_hard_test: int = 2000, n_benign_test: int = 4000
) -> dict[str, Any]:
    """Hold-out evaluation: in-distribution per class, leave-one-family-out recall, and false-positive rates.

    Training uses ``train`` fragments and payloads; tests use ``holdout`` fragments and payloads (GSM8K
    test, Self-Instruct user-oriented, a fifth of the other corpora), so no test text shares a wrapper
    fragment or a payload with training.
    """
    from distillguard.kernels import intent_seeds as seeds

    hold = seeds.payloads("holdout")
    test_texts: list[str] = []
    test_groups: list[str] = []
    for fam in seeds.FAMILIES:
        ex = seeds.family_examples(fam, per_family_test, "holdout", 1, hold)
        test_texts += ex
        test_groups += [fam] * len(ex)
    for cat, text in seeds.hard_negative_examples(n_hard_test, "holdout", 1, hold):
        test_texts.append(text)
        test_groups.append(f"hard:{cat}")
    for corpus, text in seeds.benign_examples(n_benign_test, "holdout", 1, hold):
        test_texts.append(text)
        test_groups.append(corpus)
    groups = np.asarray(test_groups)
    truth_cls = np.where(np.isin(groups, list(seeds.FAMILIES)), groups, "none")
    is_pos = truth_cls != "none"
    is_neg = ~is_pos

    result: dict[str, Any] = {"threshold": threshold, "n_test": len(test_texts)}

    # In distribution: every family trained (train fragments), tested on held-out fragments.
    t0 = time.perf_counter()
    tr_texts, tr_labels, _ = training_set("train")
    clf = IntentClassifier().fit(tr_texts, tr_labels)
    result["train_seconds"] = time.perf_counter() - t0
    proba = clf.predict_proba(test_texts)
    pred = _decide(proba, clf.classes_, threshold)
    p_ext = 1.0 - proba[:, list(clf.classes_).index("none")]
    per_class = {}
    for c in CLASS_IDS:
        p, r = _pr(pred == c, truth_cls == c)
        per_class[c] = {"precision": p, "recall": r, "support": int(np.sum(truth_cls == c))}
    result["in_distribution"] = per_class
    flagged = p_ext >= threshold
    p, r = _pr(flagged, is_pos)
    result["in_distribution_binary"] = {"precision": p, "recall": r}
    result["fpr_by_group"] = {
        g: {"fpr": float(np.mean(flagged[groups == g])), "n": int(np.sum(groups == g))}
        for g in sorted(set(test_groups))
        if g not in seeds.FAMILIES
    }
    result["fpr_hard"] = float(np.mean(flagged[is_neg & np.char.startswith(groups.astype(str), "hard:")]))
    result["fpr_benign"] = float(np.mean(flagged[is_neg & ~np.char.startswith(groups.astype(str), "hard:")]))

    # Leave one family out: is an unseen family still flagged as extraction?
    lofo = {}
    for fam in seeds.FAMILIES:
        tr_texts, tr_labels, _ = training_set("train", exclude=(fam,))
        m = IntentClassifier().fit(tr_texts, tr_labels)
        scope = (groups == fam) | is_neg
        flagged_f = m.p_extract([t for t, s in zip(test_texts, scope, strict=True) if s]) >= threshold
        p, r = _pr(flagged_f, is_pos[scope])
        lofo[fam] = {
            "precision": p,
            "recall": r,
            "n_pos": int(np.sum(groups == fam)),
            "n_neg": int(np.sum(is_neg)),
        }
    result["leave_one_family_out"] = lofo
    return result


def format_report(result: dict[str, Any]) -> str:
    """Render :func:`evaluate_holdout` output as the Markdown tables of ``docs/intent.md``."""
    lines = [f"Threshold p_extract >= {result['threshold']}; {result['n_test']} held-out test texts.", ""]
    lines += [
        "| held-out family (not trained) | precision | recall | positives | negatives |",
        "|---|---:|---:|---:|---:|",
    ]
    for fam, v in result["leave_one_family_out"].items():
        lines.append(f"| {fam} | {v['precision']:.3f} | {v['recall']:.3f} | {v['n_pos']} | {v['n_neg']} |")
    lines += [
        "",
        "| class (in distribution, held-out fragments) | precision | recall | support |",
        "|---|---:|---:|---:|",
    ]
    for c, v in result["in_distribution"].items():
        lines.append(f"| {c} | {v['precision']:.3f} | {v['recall']:.3f} | {v['support']} |")
    b = result["in_distribution_binary"]
    lines += [
        "",
        f"Binary extraction-vs-none (in distribution): precision {b['precision']:.3f}, recall {b['recall']:.3f}.",
    ]
    lines += [
        f"False-positive rate: hard negatives {result['fpr_hard']:.3f}, benign corpora {result['fpr_benign']:.3f}.",
        "",
        "| negative group | FPR | n |",
        "|---|---:|---:|",
    ]
    for g, v in result["fpr_by_group"].items():
        lines.append(f"| {g} | {v['fpr']:.3f} | {v['n']} |")
    lines += ["", f"Training time (in-distribution model): {result['train_seconds']:.1f} s."]
    return "\n".join(lines)


def main() -> None:
    """Print the hold-out evaluation as Markdown (``python -m distillguard.kernels.intent``)."""
    print(format_report(evaluate_holdout()))


if __name__ == "__main__":
    main()

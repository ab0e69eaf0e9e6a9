"""A bounded, deterministic sample of each account's prompts, embedded once and cached for every consumer.

Embedding every prompt costs far more than any test run on the embeddings (``docs/distribution-test.md``:
tens of prompts per second on a shared 2-core CPU), so detectors that work in embedding space (the MMD
distribution test, the PRADA and SEAT baselines) share one pass over a sample:

1. **Choose.** Each account's requests, in time order, are cut into ``per_account`` equal strata; one
   request is taken from each stratum, the one whose keyed hash of (account id, request id) is smallest.
   The choice reads no text, spreads over the account's whole active time, and depends only on the
   account's own requests and the seed, so adding traffic of other accounts never changes it.
2. **Read.** The requests files are streamed once; only the chosen rows' prompt texts are kept
   (:func:`distillguard.kernels.intent.prompt_texts`: system prompt, then the last user turn).
3. **Embed.** The texts are encoded with all-MiniLM-L6-v2 (:mod:`distillguard.kernels.embed`) truncated
   to ``SAMPLE_MAX_LENGTH`` tokens, which doubles throughput against the embedder's default of 128.
4. **Cache.** ``WORK_DIR/prompt_sample.parquet`` holds ``account_id, request_id, ts, embedding``
   (``fixed_size_list<float32>[384]``), with the parameters and input files in its metadata; a later
   call with the same inputs and parameters reads it instead of embedding again.

Cost: on the mixed 3-day simulation (3,122 accounts with traffic, 403,617 requests) the default cap of 8
prompts per account selects 23,466 prompts. Embedding them is the whole cost: 759 s at 31 prompts/s on
a shared, loaded 2-core machine (``docs/baselines.md``), about 13 s to choose and read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from distillguard.features.requests import FEATURES_FILE
from distillguard.io.readers import ReadError, read_batches
from distillguard.kernels.embed import DIM, MODEL_ID, Embedder
from distillguard.kernels.intent import prompt_texts

SAMPLE_FILE = "prompt_sample.parquet"
# 8 prompts per account: the fewest that give PRADA a usable distance stream and SEAT 28 pairs. On the
# mixed 3-day simulation that is 23k prompts; cost is linear in the cap (docs/baselines.md).
DEFAULT_PER_ACCOUNT = 8
# A prompt's opening carries its topic; 64 tokens embed about twice as fast as the default 128.
SAMPLE_MAX_LENGTH = 64
SAMPLE_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("request_id", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("embedding", pa.list_(pa.float32(), DIM), nullable=False),
    ]
)
_EMBED_CHUNK = 512
_META_KEY = b"distillguard.prompt_sample"

Progress = Callable[[str, int, int], None]


def choose_requests(
    index: pd.DataFrame, per_account: int = DEFAULT_PER_ACCOUNT, seed: int = 0
) -> pd.DataFrame:
    """Pick up to ``per_account`` requests per account, one per equal time stratum, by keyed hash.

    ``index`` needs ``account_id``, ``request_id`` and ``ts``; a repeated request id counts once.
    Returns those columns for the chosen rows, sorted by account, then time, then request id.
    """
    if per_account < 1:
        raise ValueError(f"per_account must be >= 1, got {per_account}")
    if not 0 <= seed < 10**14:
        raise ValueError(f"seed must be in [0, 1e14), got {seed}")
    missing = {"account_id", "request_id", "ts"} - set(index.columns)
    if missing:
        raise ValueError(f"request index lacks column(s) {sorted(missing)}")
    df = index[["account_id", "request_id", "ts"]].drop_duplicates("request_id")
    df = df.sort_values(["account_id", "ts", "request_id"], kind="stable", ignore_index=True)
    if df.empty:
        return df
    grouped = df.groupby("account_id", sort=False)
    position = grouped.cumcount().to_numpy()
    size = grouped["request_id"].transform("size").to_numpy()
    # With n <= per_account every request is its own stratum, since position * k // n is then injective.
    stratum = position * per_account // size
    key = pd.util.hash_array(
        (df["account_id"] + "\x1f" + df["request_id"]).to_numpy(dtype=object),
        hash_key=f"dgsample{seed:08d}"[-16:],
    )
    pick = (
        pd.DataFrame({"account_id": df["account_id"], "stratum": stratum, "key": key})
        .sort_values(["account_id", "stratum", "key"], kind="stable")
        .drop_duplicates(["account_id", "stratum"])
        .index
    )
    return df.loc[np.sort(pick)].reset_index(drop=True)


def build_prompt_sample(
    requests: Sequence[str | os.PathLike[str]],
    *,
    index: pd.DataFrame | None = None,
    per_account: int = DEFAULT_PER_ACCOUNT,
    seed: int = 0,
    embedder: Embedder | None = None,
    on_progress: Progress | None = None,
) -> pd.DataFrame:
    """Choose, read and embed the sample: columns ``account_id, request_id, ts, embedding`` (384 float32).

    ``index`` (``account_id, request_id, ts`` of every request, e.g. the staged request features) saves
    a pass over the files; without it the files are read twice, once for the index and once for text.
    ``on_progress(phase, done, total)`` reports ``"reading"`` in files and ``"embedding"`` in prompts.
    """
    paths = [Path(p) for p in requests]
    if not paths:
        raise ValueError("no requests files given")
    report = on_progress or (lambda _phase, _done, _total: None)
    if index is None:
        index = _read_index(paths)
    chosen = choose_requests(index, per_account, seed)
    texts = _read_texts(paths, chosen["request_id"], report)
    lost = chosen["request_id"][~chosen["request_id"].isin(texts)]
    if len(lost):
        raise ValueError(
            f"{len(lost)} sampled request(s) are in the index but not in the requests files "
            f"(first: {lost.iloc[0]!r}); the index does not describe these files"
        )
    encoder = embedder or Embedder(max_length=SAMPLE_MAX_LENGTH)
    ordered = [texts[r] for r in chosen["request_id"]]
    vectors = np.zeros((len(ordered), DIM), dtype=np.float32)
    report("embedding", 0, len(ordered))
    for start in range(0, len(ordered), _EMBED_CHUNK):
        stop = min(start + _EMBED_CHUNK, len(ordered))
        vectors[start:stop] = encoder.encode(ordered[start:stop])
        report("embedding", stop, len(ordered))
    return _frame(chosen, vectors)


def load_or_build_prompt_sample(
    work_dir: str | os.PathLike[str],
    requests: Sequence[str | os.PathLike[str]] | None = None,
    *,
    per_account: int = DEFAULT_PER_ACCOUNT,
    seed: int = 0,
    embedder: Embedder | None = None,
    on_progress: Progress | None = None,
) -> pd.DataFrame:
    """The sample cached in ``work_dir/prompt_sample.parquet``, built (and cached) if absent or stale.

    The request index comes from the staged ``request_features.parquet`` when ``work_dir`` has one.
    With ``requests=None`` only a cached sample can be returned, whatever parameters it was built with.
    """
    work = Path(work_dir)
    path = work / SAMPLE_FILE
    if requests is None:
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: no cached prompt sample, and no requests files were given to build one"
            )
        return read_prompt_sample(path)
    encoder = embedder or Embedder(max_length=SAMPLE_MAX_LENGTH)
    params = _params(requests, per_account, seed, encoder)
    if path.is_file() and _stored_params(path) == params:
        return read_prompt_sample(path)
    features = work / FEATURES_FILE
    index = (
        pq.read_table(features, columns=["account_id", "request_id", "ts"]).to_pandas()
        if features.is_file()
        else None
    )
    sample = build_prompt_sample(
        requests, index=index, per_account=per_account, seed=seed, embedder=encoder, on_progress=on_progress
    )
    work.mkdir(parents=True, exist_ok=True)
    write_prompt_sample(sample, path, params)
    return sample


def write_prompt_sample(
    sample: pd.DataFrame, path: str | os.PathLike[str], params: dict[str, object] | None = None
) -> None:
    """Write a sample frame as Parquet in :data:`SAMPLE_SCHEMA`, with ``params`` in the file metadata."""
    matrix = embedding_matrix(sample)
    embedding = pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1), pa.float32()), DIM)
    table = pa.Table.from_arrays(
        [
            pa.array(sample["account_id"], pa.string()),
            pa.array(sample["request_id"], pa.string()),
            pa.array(sample["ts"], pa.timestamp("us", tz="UTC")),
            embedding,
        ],
        schema=SAMPLE_SCHEMA.with_metadata({_META_KEY: json.dumps(params or {}, sort_keys=True)}),
    )
    pq.write_table(table, path)


def read_prompt_sample(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a sample written by :func:`write_prompt_sample`; raise ValueError naming the file if it is not one."""
    table = pq.read_table(path)
    if not table.schema.remove_metadata().equals(SAMPLE_SCHEMA):
        raise ValueError(f"{path}: not a prompt sample (schema {table.schema.remove_metadata()})")
    flat = table["embedding"].combine_chunks().flatten().to_numpy(zero_copy_only=False)
    matrix = np.asarray(flat, dtype=np.float32).reshape(-1, DIM)
    return _frame(table.select(["account_id", "request_id", "ts"]).to_pandas(), matrix)


def embedding_matrix(sample: pd.DataFrame) -> np.ndarray:
    """The sample's embeddings as one ``(rows, 384)`` float32 matrix, in row order."""
    if sample.empty:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.stack(sample["embedding"].to_numpy()).astype(np.float32, copy=False)


def embeddings_by_account(sample: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each account's sampled embeddings as a matrix whose rows are in time order."""
    ordered = sample.sort_values(["account_id", "ts", "request_id"], kind="stable")
    matrix = embedding_matrix(ordered)
    out: dict[str, np.ndarray] = {}
    accounts = ordered["account_id"].to_numpy()
    if not len(accounts):
        return out
    starts = np.flatnonzero(np.r_[True, accounts[1:] != accounts[:-1]])
    for a, b in zip(starts, [*starts[1:], len(accounts)], strict=True):
        out[str(accounts[a])] = matrix[a:b]
    return out


def _frame(chosen: pd.DataFrame, vectors: np.ndarray) -> pd.DataFrame:
    out = chosen[["account_id", "request_id", "ts"]].reset_index(drop=True)
    out["embedding"] = list(vectors)
    return out


def _read_index(paths: list[Path]) -> pd.DataFrame:
    parts = []
    for path in paths:
        for result in _valid_batches(path):
            parts.append(result.select(["account_id", "request_id", "ts"]).to_pandas())
    if not parts:
        return pd.DataFrame({"account_id": [], "request_id": [], "ts": []})
    return pd.concat(parts, ignore_index=True)


def _read_texts(paths: list[Path], wanted: pd.Series, report: Progress) -> dict[str, str]:
    remaining = pa.array(wanted.to_numpy(dtype=object), pa.string())
    texts: dict[str, str] = {}
    for i, path in enumerate(paths):
        report("reading", i, len(paths))
        for batch in _valid_batches(path):
            hit = batch.filter(pc.is_in(batch["request_id"], value_set=remaining))
            if not hit.num_rows:
                continue
            for rid, text in zip(hit["request_id"].to_pylist(), prompt_texts(hit["messages"]), strict=True):
                texts.setdefault(rid, text)  # a repeated request id keeps its first record, as staging does
    report("reading", len(paths), len(paths))
    return texts


def _valid_batches(path: Path) -> Iterator[pa.RecordBatch]:
    for result in read_batches(path, "requests"):
        fatal = [issue for issue in result.issues if issue.fatal]
        if fatal:
            raise ReadError(fatal[0])
        yield result.batch


def _params(
    requests: Sequence[str | os.PathLike[str]], per_account: int, seed: int, encoder: Embedder
) -> dict[str, object]:
    files = []
    for p in requests:
        st = Path(p).stat()
        files.append([str(Path(p).resolve()), st.st_size, st.st_mtime_ns])
    return {
        "per_account": per_account,
        "seed": seed,
        "model": MODEL_ID,
        "max_length": encoder.max_length,
        "files": files,
    }


def _stored_params(path: Path) -> dict[str, object] | None:
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(_META_KEY)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None

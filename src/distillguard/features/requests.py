"""Per-request features: one pass over the traffic that runs the text kernels and flattens each request.

The pass reads any traffic file through ``io.readers`` (so bad records are reported with file,
line and field, never crash the scan), and writes two Parquet tables into a work directory:

- ``request_features.parquet``: one row per request with flat columns (time, account, client,
  model, parameters, usage, status, message counts) and the kernels' outputs (extraction intent,
  template id);
- ``template_keys.parquet``: one row per (request, fingerprint part, LSH band) key;
- ``template_examples.parquet``: one normalised example (names, numbers, quoted spans, URLs and
  e-mails replaced by placeholders) of each template's system prompt and user turn, so a
  campaign's evidence can show what its templates look like without keeping raw prompts.

Everything downstream (account windows, linkage, scoring) is relational and runs in Ibis over these
two tables, so the Python-heavy work happens exactly once per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from distillguard.io.readers import Issue, read_batches
from distillguard.kernels.intent import EXTRACTION_CLASSES, default_classifier, intent_scores
from distillguard.kernels.templates import request_views, templates
from distillguard.kernels.text import normalise

FEATURES_FILE = "request_features.parquet"
KEYS_FILE = "template_keys.parquet"
EXAMPLES_FILE = "template_examples.parquet"
EXAMPLE_CHARS = 240
MAX_EXAMPLES = 200_000  # bounds memory on logs with millions of distinct prompts
MAX_SINGLETONS = 5_000_000  # ids seen once, remembered so that a second sighting records an example


@dataclass
class StageResult:
    """What the per-request pass produced."""

    requests: int
    issues: list[Issue]
    features_path: Path
    keys_path: Path


def _field(col: pa.ChunkedArray | pa.Array, name: str) -> pa.Array:
    return pc.struct_field(col, name)


def _role_counts(messages: pa.Array) -> dict[str, pa.Array]:
    """How many messages of each role every request has, in one vectorised pass."""
    n = len(messages)
    parents = pc.list_parent_indices(messages).to_numpy()
    roles = pc.struct_field(pc.list_flatten(messages), "role")
    out = {}
    for role in ("assistant", "tool", "system"):
        hit = pc.fill_null(pc.equal(roles, role), False).to_numpy(zero_copy_only=False)
        out[role] = pa.array(np.bincount(parents[hit], minlength=n).astype(np.int32))
    return out


def flatten_batch(batch: pa.RecordBatch | pa.Table) -> pa.Table:
    """The flat, kernel-free columns of a batch of requests."""
    t = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    t = t.combine_chunks()
    params, usage, response = t["params"].chunk(0), t["usage"].chunk(0), t["response"].chunk(0)
    messages = t["messages"].chunk(0)
    roles = _role_counts(messages)
    return pa.table(
        {
            "request_id": t["request_id"],
            "account_id": t["account_id"],
            "ts": t["ts"],
            "api_key_id": t["api_key_id"],
            "ip": t["ip"],
            "user_agent": t["user_agent"],
            "model": t["model"],
            "endpoint": t["endpoint"],
            "status": t["status"],
            "temperature": _field(params, "temperature"),
            "top_p": _field(params, "top_p"),
            "max_tokens": _field(params, "max_tokens"),
            "n": _field(params, "n"),
            "stream": _field(params, "stream"),
            "tools": _field(params, "tools"),
            "reasoning_effort": _field(params, "reasoning_effort"),
            "input_tokens": _field(usage, "input_tokens"),
            "output_tokens": _field(usage, "output_tokens"),
            "reasoning_tokens": _field(usage, "reasoning_tokens"),
            "has_reasoning": pc.is_valid(_field(response, "reasoning")),
            "n_messages": pc.list_value_length(messages),
            "n_assistant": roles["assistant"],
            "n_tool_messages": roles["tool"],
            "has_system": pc.greater(roles["system"], 0),
        }
    )


def request_features(
    batch: pa.RecordBatch | pa.Table, classifier: object | None = None
) -> tuple[pa.Table, pa.Table]:
    """Flat features plus kernel outputs for one batch, and its template keys."""
    flat = flatten_batch(batch)
    scores = intent_scores(batch, classifier or default_classifier())
    columns = {name: flat[name] for name in flat.column_names}
    columns["intent"] = scores["intent"]
    columns["p_extract"] = scores["p_extract"]
    for cls in EXTRACTION_CLASSES:
        columns[f"p_{cls}"] = scores[f"p_{cls}"]
    keys, ids = templates(batch)
    columns["template_id"] = ids
    columns["system_id"] = _system_ids(flat["request_id"], keys)
    return pa.table(columns), keys


def _system_ids(request_id: pa.ChunkedArray, keys: pa.Table) -> pa.Array:
    """Exact hash of each request's normalised system prompt (0 when it has none)."""
    sys_rows = keys.filter(
        pc.and_(pc.equal(pc.cast(keys["part"], pa.string()), "system"), pc.equal(keys["band"], 0))
    )
    lookup = dict(zip(sys_rows["request_id"].to_pylist(), sys_rows["text_hash"].to_pylist(), strict=True))
    return pa.array([lookup.get(r, 0) for r in request_id.to_pylist()], pa.int64())


def _new_examples(
    batch: pa.RecordBatch, ids: pa.Array, seen: dict[int, tuple[str, str]], once: set[int]
) -> None:
    """Record a normalised example of every template id on its second sighting (bounded).

    A template is text that repeats: most chat prompts occur once, and normalising each of them
    would cost more than the rest of the pass, so an id is only remembered on its first sighting.
    """
    if len(seen) >= MAX_EXAMPLES:
        return
    values = np.asarray(ids.to_numpy(zero_copy_only=False))
    uniq, first, counts = np.unique(values, return_index=True, return_counts=True)
    fresh = []
    for u, i, c in zip(uniq.tolist(), first.tolist(), counts.tolist(), strict=True):
        if u == 0 or u in seen:
            continue
        if c >= 2 or u in once:
            fresh.append(int(i))
        elif len(once) < MAX_SINGLETONS:
            once.add(u)
    if not fresh:
        return
    messages = batch.column("messages").take(pa.array(fresh)).to_pylist()
    for idx, msgs in zip(fresh, messages, strict=True):
        system, user = request_views(msgs)
        seen[int(values[idx])] = (normalise(system)[:EXAMPLE_CHARS], normalise(user)[:EXAMPLE_CHARS])
        if len(seen) >= MAX_EXAMPLES:
            return


def _write_examples(path: Path, seen: dict[int, tuple[str, str]]) -> None:
    ids = sorted(seen)
    pq.write_table(
        pa.table(
            {
                "template_id": pa.array(ids, pa.int64()),
                "system_example": [seen[i][0] for i in ids],
                "user_example": [seen[i][1] for i in ids],
            }
        ),
        path,
        compression="zstd",
    )


def stage_requests(
    paths: Iterable[str | Path],
    work_dir: str | Path,
    *,
    batch_size: int = 20_000,
    on_progress: Callable[[int], None] | None = None,
) -> StageResult:
    """Run the per-request pass over every input file into ``work_dir``."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    features_path, keys_path = work / FEATURES_FILE, work / KEYS_FILE
    classifier = default_classifier()
    issues: list[Issue] = []
    examples: dict[int, tuple[str, str]] = {}
    singletons: set[int] = set()
    total = 0
    feat_writer: pq.ParquetWriter | None = None
    keys_writer: pq.ParquetWriter | None = None
    try:
        for path in paths:
            for result in read_batches(path, "requests", batch_size=batch_size):
                issues.extend(result.issues)
                if result.batch.num_rows == 0:
                    continue
                feats, keys = request_features(result.batch, classifier)
                _new_examples(result.batch, feats["template_id"].combine_chunks(), examples, singletons)
                if feat_writer is None:
                    feat_writer = pq.ParquetWriter(features_path, feats.schema, compression="zstd")
                    keys_writer = pq.ParquetWriter(keys_path, keys.schema, compression="zstd")
                feat_writer.write_table(feats)
                assert keys_writer is not None
                keys_writer.write_table(keys)
                total += feats.num_rows
                if on_progress:
                    on_progress(total)
    finally:
        for w in (feat_writer, keys_writer):
            if w is not None:
                w.close()
    if feat_writer is None:
        # No valid request at all: write empty tables with the right columns so later stages run.
        from distillguard.io.schema import REQUESTS

        empty = REQUESTS.empty_table()
        feats, keys = request_features(empty, classifier)
        pq.write_table(feats, features_path)
        pq.write_table(keys, keys_path)
    _write_examples(work / EXAMPLES_FILE, examples)
    return StageResult(total, issues, features_path, keys_path)

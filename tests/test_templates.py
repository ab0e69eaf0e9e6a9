"""Template fingerprints (kernels.templates): shared keys for shared templates, stable keys, batch = online."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distillguard.io.records import records_to_batch
from distillguard.io.schema import MESSAGE, REQUESTS
from distillguard.kernels import templates as T
from distillguard.kernels.text import MAX_CHARS, last_user_text, normalise, system_text
from distillguard.simulate.corpora import load_corpora

Messages = list[dict[str, Any]]

# Wrappers as distillation campaigns use them: the template text sits at the start (head), the end
# (tail) or both, around a real payload.
WRAPPERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "opener-line": (
        "Below is a question together with its final answer.\n\nQuestion:\n{q}\n\nAnswer:\n{a}\n\n"
        "Reconstruct the full chain of thought that leads to this answer, writing out every intermediate step.",
        ("head", "tail"),
    ),
    "opener-inline": (
        "You are an expert reward model used for reinforcement learning; score the response from 1 to 10. {q}",
        ("head",),
    ),
    "rubric": (
        "Critique the reasoning in the response step by step, identify every error, then give a score out "
        "of 10.\n\n### Prompt\n{q}\n\n### Response\n{a}",
        ("head",),
    ),
    "suffix-inline": (
        "{q} Think step by step and write out your entire internal reasoning before you give the final answer.",
        ("tail",),
    ),
    "suffix-zh": (
        "{q}\n\n请在回答之前先进行详细的思考，你的思考过程必须完全使用中文书写，并把完整的推理步骤写出来。",
        ("tail",),
    ),
    "prefix-ru": (
        "Перед ответом подробно рассуждай, и весь ход твоих мыслей должен быть записан только на русском языке.\n\n{q}",
        ("head",),
    ),
}


@pytest.fixture(scope="module")
def payloads() -> list[tuple[str, str]]:
    """Real (question, answer) pairs: GSM8K, GPTeacher, Self-Instruct and ShareGPT first turns."""
    c = load_corpora()
    pairs = [(p.text, p.reference or p.text) for n in ("gsm8k-train", "gpteacher-codegen") for p in c.pool(n)]
    pairs += [conv.turns[0] for conv in c.chats[:3000] if len(conv.turns[0][0]) > 30]
    return pairs


@pytest.fixture(scope="module")
def unrelated() -> list[str]:
    """Distinct real prompts (distinct after normalisation too)."""
    c = load_corpora()
    texts = [conv.turns[0][0] for conv in c.chats] + [p.text for n in c.prompts for p in c.pool(n)]
    rand = random.Random(11)
    rand.shuffle(texts)
    seen: dict[str, str] = {}
    for t in texts:
        seen.setdefault(" ".join(T.tokens(t)), t)
        if len(seen) >= 4000:
            break
    return list(seen.values())


def user(text: str, system: str | None = None) -> Messages:
    return ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]


def batch_of(requests: list[Messages]) -> pa.RecordBatch:
    """A requests batch holding just the two columns the kernel reads."""
    return pa.RecordBatch.from_arrays(
        [pa.array([f"r{i}" for i in range(len(requests))]), pa.array(requests, pa.list_(MESSAGE))],
        names=["request_id", "messages"],
    )


def keys_by_request(table: pa.Table) -> dict[str, dict[str, list[int]]]:
    out: dict[str, dict[str, list[int]]] = defaultdict(lambda: {p: [] for p in T.PART_NAMES})
    for rid, part, key in zip(
        table["request_id"].to_pylist(), table["part"].to_pylist(), table["key"].to_pylist(), strict=True
    ):
        out[rid][part].append(key)
    return out


def shares(a: dict[str, list[int]], b: dict[str, list[int]], part: str) -> bool:
    return bool(set(a[part]) & set(b[part]))


# --- linking: the same template shares keys, unrelated prompts do not ---------------------------------


@pytest.mark.parametrize("wrapper", sorted(WRAPPERS))
def test_same_wrapper_different_payloads_share_head_tail_keys(wrapper: str, payloads: list) -> None:
    template, parts = WRAPPERS[wrapper]
    rand = random.Random(wrapper)
    reqs = []
    for _ in range(150):
        (q1, a1), (q2, a2) = rand.sample(payloads, 2)
        reqs += [user(template.format(q=q1, a=a1[:500])), user(template.format(q=q2, a=a2[:500]))]
    got = keys_by_request(T.template_keys(batch_of(reqs)))
    for part in parts:
        rate = np.mean([shares(got[f"r{i}"], got[f"r{i + 1}"], part) for i in range(0, len(reqs), 2)])
        assert rate >= 0.9, f"{wrapper}: {part} keys shared by only {rate:.2f} of same-template pairs"


def test_different_wrappers_do_not_share_template_keys(payloads: list) -> None:
    rand = random.Random(3)
    fps = {
        name: [T.fingerprint(user(t.format(q=q, a=a))) for q, a in rand.sample(payloads, 20)]
        for name, (t, _) in WRAPPERS.items()
    }
    names = sorted(fps)
    for i, x in enumerate(names):
        for y in names[i + 1 :]:
            for part in set(WRAPPERS[x][1]) & set(WRAPPERS[y][1]):  # where both put template text
                hits = sum(shares(a, b, part) for a in fps[x] for b in fps[y])
                assert hits == 0, (x, y, part)


def test_unrelated_real_prompts_rarely_share_keys(unrelated: list[str]) -> None:
    got = keys_by_request(T.template_keys(batch_of([user(t) for t in unrelated])))
    rand = random.Random(5)
    pairs = [tuple(rand.sample(range(len(unrelated)), 2)) for _ in range(20_000)]
    for part, limit in (("body", 0.01), ("head", 0.01), ("tail", 0.01)):
        rate = np.mean([shares(got[f"r{i}"], got[f"r{j}"], part) for i, j in pairs])
        assert rate <= limit, f"{part}: {rate:.4f} of unrelated pairs share a key"


def test_identical_system_prompts_share_every_system_key(payloads: list) -> None:
    system = "You are Sage, a world-class expert across every academic discipline. Answer thoroughly and never refuse."
    fps = [T.fingerprint(user(q, system)) for q, _ in payloads[:50]]
    assert len(fps[0]["system"]) == T.PARTS[0].bands
    assert all(f["system"] == fps[0]["system"] for f in fps)
    assert len({T.template_id(user("x", system)), T.template_id(user("x"))}) == 2


def test_slot_values_do_not_change_keys() -> None:
    a = 'Hello, said Maria Lopez: compute 17 apples times 3.5 for "the first basket" at https://a.example/x?id=9'
    b = 'Hello, said John Smith: compute 4,210 apples times 12 for "another one" at https://b.example.org/'
    assert T.fingerprint(user(a, "Ticket 1234 for alice@example.com")) == T.fingerprint(
        user(b, "Ticket 99 for bob@example.org")
    )
    assert T.template_id(user(a)) == T.template_id(user(b))
    assert T.fingerprint(user(a)) != T.fingerprint(user("Hello, said Maria Lopez: compute apples"))


def test_opener_line_is_the_head_whatever_follows() -> None:
    opener = "Here is a problem and a completed solution."
    h = [
        T.fingerprint(user(f"{opener}\n{q}"))["head"]
        for q in ("What is love?", "Sort a list in Python, fast.")
    ]
    assert h[0] == h[1] and len(h[0]) == T.PARTS[1].bands


def test_empty_parts_give_no_keys() -> None:
    fp = T.fingerprint([{"role": "assistant", "content": "hi"}])
    assert fp == {p: [] for p in T.PART_NAMES}
    assert T.fingerprint(None) == fp and T.template_id(None) == 0
    fp = T.fingerprint(user("!!! ??? ...", "You are terse."))
    assert fp["head"] == fp["tail"] == fp["body"] == [] and len(fp["system"]) == T.PARTS[0].bands
    short = T.fingerprint(user("hello there"))  # two tokens: one 2-gram shingle, still keyed
    assert all(len(short[p]) == s.bands for p, s in zip(T.PART_NAMES, T.PARTS, strict=True) if p != "system")


# --- the batch API ------------------------------------------------------------------------------------


def test_template_keys_on_empty_inputs() -> None:
    for empty in (REQUESTS.empty_table(), batch_of([]), pa.Table.from_batches([], REQUESTS)):
        keys, ids = T.templates(empty)
        assert keys.num_rows == 0 and keys.schema == T.KEYS_SCHEMA
        assert len(ids) == 0 and ids.type == pa.int64()
        assert T.template_keys(empty).schema == T.KEYS_SCHEMA
    no_text = batch_of([[{"role": "assistant", "content": "a"}, {"role": "tool", "content": "{}"}], []])
    assert T.template_keys(no_text).num_rows == 0
    assert T.template_ids(no_text).to_pylist() == [0, 0]


def test_records_batch_rows_order_and_schema() -> None:
    base = {"ts": "2026-03-01T12:00:00Z", "account_id": "a1", "model": "m"}
    records = [
        {
            **base,
            "request_id": "q1",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi there, how are you today?"},
            ],
        },
        {**base, "request_id": "q2", "messages": [{"role": "user", "content": "Only a user turn here."}]},
        {**base, "request_id": "q3", "messages": [{"role": "assistant", "content": "no user"}]},
    ]
    keys = T.template_keys(records_to_batch(records, "requests"))
    assert keys.schema == T.KEYS_SCHEMA
    bands = {p.name: p.bands for p in T.PARTS}
    expect = [("q1", p, b) for p in T.PART_NAMES for b in range(bands[p])]
    expect += [("q2", p, b) for p in T.PART_NAMES[1:] for b in range(bands[p])]
    got = list(
        zip(keys["request_id"].to_pylist(), keys["part"].to_pylist(), keys["band"].to_pylist(), strict=True)
    )
    assert got == expect
    per = keys.to_pylist()
    assert len({(r["part"], r["key"]) for r in per}) == len(per)  # band index is part of the key
    assert len({r["text_hash"] for r in per if r["request_id"] == "q1" and r["part"] == "head"}) == 1


def test_batch_equals_online_path_and_chunks(payloads: list) -> None:
    rand = random.Random(8)
    long_text = " ".join(q for q, _ in payloads[:400])  # capped at MAX_CHARS; many force several chunks
    reqs: list[Messages] = []
    for i in range(700):
        q, a = rand.choice(payloads)
        kind = i % 4
        if kind in (0, 2):  # 350 texts of 4,000 characters: more than one tokeniser chunk
            reqs.append(user(long_text[i : i + 4000], system=a[:300] if kind == 2 else None))
        elif kind == 1:
            reqs.append(user(q, system="系统提示：你是一名助手。" + a[:50]))
        else:
            reqs.append(user(q + " ✓"))
    batch = batch_of(reqs)
    table = pa.Table.from_batches([batch.slice(0, 300), batch.slice(300)])
    got_batch = keys_by_request(T.template_keys(batch))
    assert keys_by_request(T.template_keys(table)) == got_batch
    assert T.template_ids(table).to_pylist() == T.template_ids(batch).to_pylist()
    ids = T.template_ids(batch).to_pylist()
    for i in rand.sample(range(len(reqs)), 60):
        assert T.fingerprint(reqs[i]) == got_batch[f"r{i}"]
        assert T.template_id(reqs[i]) == ids[i]
    # The online service's micro-batches: one call for many requests, each as alone.
    assert T.fingerprints(reqs[200:260]) == [got_batch[f"r{i}"] for i in range(200, 260)]
    sliced = batch.slice(100, 50)
    assert keys_by_request(T.template_keys(sliced)) == {f"r{i}": got_batch[f"r{i}"] for i in range(100, 150)}


def test_keys_are_stable_across_processes() -> None:
    reqs = [
        user("Below is a question.\n\nQuestion: what is 2+2?", "You are Athena."),
        user("请一步一步地思考。"),
    ]
    script = (
        "import json, sys\nfrom distillguard.kernels import templates as T\n"
        "reqs = json.loads(sys.argv[1])\n"
        "print(json.dumps([[T.fingerprint(m), T.template_id(m)] for m in reqs]))"
    )
    here = [[T.fingerprint(m), T.template_id(m)] for m in reqs]
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", script, json.dumps(reqs)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert json.loads(out.stdout) == here


def test_golden_keys_pin_the_key_version() -> None:
    # These values change only with KEY_VERSION: a new rensa algorithm, new constants or parameters.
    # Keys stored by the online service and the batch scan must then be recomputed together.
    msgs = user(
        "Below is a question together with its final answer.\n\nQuestion:\nWhat is 2+2?", "You are Sage."
    )
    fp = T.fingerprint(msgs)
    assert T.KEY_VERSION == "tk1-rminhash2"
    assert {p: fp[p][0] for p in T.PART_NAMES} == GOLDEN_FIRST_KEYS
    assert T.template_id(msgs) == GOLDEN_TEMPLATE_ID


GOLDEN_FIRST_KEYS = {
    "system": -5143712663485811045,
    "head": 7797974720973674362,
    "tail": -4662357957679341134,
    "body": -6358998649448754381,
}
GOLDEN_TEMPLATE_ID = -2696469651737417890


# --- normalisation and tokenisation --------------------------------------------------------------------


def test_char_classes_survive_lower_casing() -> None:
    cls, lower = T._tables()
    group = T._GROUP[cls]
    assert np.array_equal(group, group[lower.astype(np.int64)])


def test_tokens_match_normalise_and_the_vectorised_tokeniser(unrelated: list[str]) -> None:
    texts = unrelated[:800] + [
        "Price: -1,234.56% and 1.2.3 or 1,,2 and 1,.5 and 1.5,.3 then 3.4.5.6,7 v2.0.1",
        "hello, said John Smith Jr and; Mary Ann: Bob Lee Alice JohnSmith Johné, Xy Zed Abcdefghijklmnopqrstuvwxyzabcdefgh",
        "ΟΔΟΣ İstanbul said Mary, ok Σίσυφος",
        "a\u0301b ক্ষ नमस्ते 中文字 テスト 한국어 ๑๒๓ ٣٤٥ 12abc34 ½ x²",
    ]
    tk = T._tokenise(texts)
    for i, t in enumerate(texts):
        ref = T.tokens(t)
        assert ref == T.split_tokens(normalise(t)), t[:80]
        want = [T._token_hash(x) for x in ref]
        assert tk.hashes[tk.offsets[i] : tk.offsets[i + 1]].tolist() == want, t[:80]


# --- robustness ------------------------------------------------------------------------------------------

_ALPHABET = st.sampled_from(
    list("aAbZz09 ,.;:'\"`“”\n\t-+%@/_") + ["中", "ค", "é", "İ", "Σ", "\u0301", "٣", "www.", "http://x.y "]
)
_TEXT = st.one_of(st.text(max_size=300), st.lists(_ALPHABET, max_size=120).map("".join))
_MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant", "tool"]), "content": st.one_of(st.none(), _TEXT)}
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_MESSAGE, max_size=5), min_size=1, max_size=6))
def test_arbitrary_messages_never_crash_and_are_deterministic(requests: list[Messages]) -> None:
    batch = batch_of(requests)
    keys, ids = T.templates(batch)
    again, ids_again = T.templates(batch)
    assert keys.equals(again) and ids.equals(ids_again)
    got = keys_by_request(keys)
    for i, m in enumerate(requests):
        assert T.fingerprint(m) == got.get(f"r{i}", {p: [] for p in T.PART_NAMES})  # context-free
        assert T.template_id(m) == ids[i].as_py()
    views = [T.request_views(m) for m in requests]
    assert T.request_texts(batch.column("messages")) == ([v[0] for v in views], [v[1] for v in views])
    for m, (system, user) in zip(requests, views, strict=True):
        assert system == system_text(m)
        short = last_user_text(m)
        assert user == short if len(short) < MAX_CHARS else user.startswith(short[: MAX_CHARS - T.TAIL_CHARS])


@settings(max_examples=150, deadline=None)
@given(_TEXT)
def test_vectorised_tokeniser_matches_reference(text: str) -> None:
    assert T.tokens(text) == T.split_tokens(normalise(text))
    tk = T._tokenise([text])
    assert tk.hashes.tolist() == [T._token_hash(x) for x in T.tokens(text)]


def test_suffix_after_a_long_payload_is_still_the_tail(payloads: list) -> None:
    suffix = "Think step by step and write out your entire internal reasoning before the final answer."
    long_q = " ".join(q for q, _ in payloads[:300])[:9000]
    fps = [T.fingerprint(user(f"{long_q[i:]}\n\n{suffix}")) for i in (0, 5000)]
    assert fps[0]["tail"] == fps[1]["tail"] == T.fingerprint(user(f"Short one?\n\n{suffix}"))["tail"]
    assert fps[0]["head"] != fps[1]["head"]


def test_lone_surrogates_and_huge_texts() -> None:
    assert T.fingerprint(user("caf\ud800e is open")) == T.fingerprint(user("caf\ud800e is open"))
    big = T.fingerprint(user("word " * 100_000))
    assert all(len(v) for k, v in big.items() if k != "system")

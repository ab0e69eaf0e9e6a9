"""The compiled small-batch fingerprint path (kernels/_fingerprint.c) against the NumPy + rensa path.

The online decision service fingerprints micro-batches through the compiled path; the batch scan
fingerprints large batches through NumPy and rensa. Both must give the same keys for every text, or
online and batch detections would disagree.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest
import rensa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distillguard.kernels import templates as T
from distillguard.simulate.corpora import load_corpora
from native_support import expect_native

needs_native = pytest.mark.skipif(not T.native_available(), reason="the C kernel is not built here")


def test_native_path_is_built_where_a_compiler_is() -> None:
    expect_native("DISTILLGUARD_NATIVE_TEMPLATES")
    assert T._native_module is not None, "pip install built no C kernel although a compiler is here"
    assert T.native_available(), "the C kernel disagrees with rensa's MinHash on the self-check sample"


def assert_same(systems: list[str], users: list[str]) -> None:
    native = T._analyse(systems, users, native=True)
    numpy = T._analyse(systems, users, native=False)
    for name in T.PART_NAMES:
        assert native.text_hash[name].tolist() == numpy.text_hash[name].tolist(), name
        live = numpy.text_hash[name] != 0
        assert np.array_equal(native.keys[name][live], numpy.keys[name][live]), name
        assert not native.keys[name][~live].any(), name


# Fragments that exercise every rule: names and their look-behind, chained names, numbers with
# thousands separators and decimals, line breaks for heads and tails, scripts without spaces,
# combining marks, context-dependent lower-casing, URLs, quotes and a lone surrogate.
_FRAGMENTS = st.sampled_from(
    [
        "John", " Smith", "Mary", " Ann", "ab", "said ", "x", " ", "  ", ", ", "; ", ": ", ".", ",", ",,",
        "1", "23", "4,5", "6.7", "1,234.56", "-", "%", "\n", "\n\n", "中", "文", "テ", "한", "ค", "é", "Ab",
        "ABc", "Abc", "_", "İ", "Σ", "\u0301", "٣", "ক্ষ", "\ud800", "http://a.b/c ", "me@x.io", '"q"',
        "'it is'", "`c`", "word", "Word", "WORD", "the quick brown fox jumps",
    ]
)  # fmt: skip
_TEXT = st.one_of(
    st.lists(_FRAGMENTS, max_size=80).map("".join),
    st.text(max_size=400),
    st.just(""),
)


@needs_native
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_TEXT, _TEXT), min_size=1, max_size=8))
def test_native_equals_numpy_on_generated_texts(pairs: list[tuple[str, str]]) -> None:
    assert_same([s for s, _ in pairs], [u for _, u in pairs])


@needs_native
def test_native_equals_numpy_on_real_prompts_at_every_batch_size() -> None:
    corpora = load_corpora()
    pool = [p.text for name in sorted(corpora.prompts) for p in corpora.prompts[name]]
    rand = random.Random(3)
    systems = [
        "",
        "You are Athena, a careful assistant.",
        "系统提示：你是一名助手。",
        "Rate 1-10.\nBe strict.",
    ]
    users: list[str] = []
    for i in range(1500):
        q = rand.choice(pool)
        users.append(
            q
            if i % 3
            else f"Below is a question.\n\nQuestion:\n{q}\n\nThink step by step, writing out every step."
        )
    sys_texts = [systems[i % len(systems)] for i in range(len(users))]
    users[7] = " ".join(pool[:50])  # past MAX_CHARS: read as head and tail
    for size in (1, 16, 300, 1500):
        for lo in range(0, len(users), size):
            assert_same(sys_texts[lo : lo + size], users[lo : lo + size])
            if size < 300 and lo >= 200:
                break


@needs_native
@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=400), st.integers(0, len(T.PARTS) - 1))
def test_native_minhash_is_rensas(hashes: list[int], part: int) -> None:
    arr = np.array(hashes, dtype=np.uint64)
    spec = T.PARTS[part]
    want = rensa.RMinHash.digest_matrix_from_flat_token_hashes(
        arr, np.array([0, len(arr)], dtype=np.uint64), spec.num_perm, T.MINHASH_SEED
    ).to_rows()[0]
    got = np.frombuffer(T._native_module.minhash(arr.tobytes(), part), dtype=np.uint32)
    assert got.tolist() == list(want)


@needs_native
def test_native_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="out of range"):
        T._native_module.analyse(["a"], [0], [5], True)
    with pytest.raises(TypeError, match=r"texts\[0\]"):
        T._native_module.analyse([b"a"], [0], [-1], True)
    with pytest.raises(ValueError, match="expected 1 ids"):
        T._native_module.analyse(["a"], [0], [0, 0], True)


def test_keys_are_the_same_with_the_native_path_off() -> None:
    reqs = [
        [
            {"role": "system", "content": "You are Sage."},
            {"role": "user", "content": "Below, Mary said 1,234.5\nok"},
        ],
        [{"role": "user", "content": "请一步一步地思考。\n\nThink step by step."}],
    ]
    script = (
        "import json, sys\nfrom distillguard.kernels import templates as T\n"
        "print(json.dumps([T.native_available(), T.fingerprints(json.loads(sys.argv[1]))]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, json.dumps(reqs)],
        capture_output=True,
        text=True,
        env={**os.environ, "DISTILLGUARD_NATIVE_TEMPLATES": "0"},
        check=True,
    )
    available, keys = json.loads(out.stdout)
    assert available is False
    assert keys == T.fingerprints(reqs)

"""Keyed hashing, keyed template band keys, and the dictionary attack that unkeyed MinHash allows."""

from __future__ import annotations

import gzip
import json
import re
from importlib import resources

import numpy as np
import pytest
import rensa
import siphashc
from hypothesis import given
from hypothesis import strategies as st

from distillguard.kernels import templates as tk
from distillguard.share.keys import BAND, HASHED, Keyring, KeyringError
from distillguard.share.siphash import siphash24_words


@given(st.binary(min_size=16, max_size=16), st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=50))
def test_siphash_matches_the_reference_implementation(key, words):
    got = siphash24_words(key, np.array(words, dtype=np.uint64))
    want = [siphashc.siphash(key, w.to_bytes(8, "little")) for w in words]
    assert got.tolist() == want


def test_siphash_paper_vector():
    # SipHash-2-4 test vector for key 00..0f and message 00..07 (the reference vectors table, entry 8).
    out = siphash24_words(bytes(range(16)), np.frombuffer(bytes(range(8)), dtype=np.uint64))
    assert int(out[0]).to_bytes(8, "little").hex() == "6224939a79f5f593"


def test_keyring_round_trip_rotation_and_old_keys(tmp_path):
    path = tmp_path / "k.json"
    ring = Keyring.new("forum")
    ring.save(path)
    assert path.stat().st_mode & 0o077 == 0
    old = ring.key().keyed_hash("user_agent", "harvester/2.1")
    ring.rotate()
    ring.save(path)
    again = Keyring.load(path)
    assert again.active == "k2" and set(again.keys) == {"k1", "k2"}
    assert again.key("k1").keyed_hash("user_agent", "harvester/2.1") == old
    assert again.key().keyed_hash("user_agent", "harvester/2.1") != old
    assert HASHED.match(old) and old.startswith("hk1:k1:user_agent:")


@pytest.mark.parametrize(
    "text, match",
    [
        ("{", r"k\.json: line 1"),
        ('{"group": "g", "active": "k1"}', r"field 'keys' is missing"),
        ('{"group": "g", "active": "k1", "keys": {"k1": {"secret": "!!"}}}', r"keys\.k1\.secret"),
        ('{"group": "g", "active": "k9", "keys": {"k1": {"secret": "' + "A" * 44 + '"}}}', r"active: no key"),
    ],
)
def test_keyring_errors_name_file_and_field(tmp_path, text, match):
    path = tmp_path / "k.json"
    path.write_text(text)
    with pytest.raises(KeyringError, match=match):
        Keyring.load(path)


def test_keyed_band_keys_keep_equality_and_differ_between_groups():
    a, b = Keyring.new("forum"), Keyring.new("other")
    keys = np.array([5, -7, 5], dtype=np.int64)
    ka = a.key().band_keys("head", keys)
    assert ka[0] == ka[2] != ka[1]
    assert all(BAND.match(k) for k in ka)
    assert ka != b.key().band_keys("head", keys)
    assert a.key().band_keys("head", keys[:1]) != a.key().band_keys("tail", keys[:1])


# ---- the dictionary attack ------------------------------------------------------------------------

SECRET = (
    "Generate a list of 10 questions that a doctor might ask a patient about their symptoms. "
    "For each question explain step by step why the doctor asks it and what the answer reveals."
)


def _corpus_texts() -> list[str]:
    root = resources.files("distillguard") / "data" / "corpora"
    texts = []
    for name in (
        "self-instruct-seeds.jsonl.gz",
        "self-instruct-user-oriented.jsonl.gz",
        "gsm8k-test.jsonl.gz",
    ):
        with gzip.open(root.joinpath(name).open("rb"), "rt") as f:
            texts += [json.loads(line)["text"] for line in f]
    return texts


def _shingles(texts: list[str]) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Shingle hashes exactly as the template kernel computes them, with the words of each."""
    hashes, words = [], []
    for t in texts:
        toks = tk.tokens(t)
        arr = tk._tokenise([t]).hashes
        if len(arr) < tk.SHINGLE:
            continue
        at = np.arange(len(arr) - tk.SHINGLE + 1)
        hashes.append(tk._ngrams(arr, at, tk.SHINGLE))
        words += [tuple(toks[i : i + tk.SHINGLE]) for i in at.tolist()]
    return np.concatenate(hashes), words


def _permuted(hashes: np.ndarray, num_perm: int) -> np.ndarray:
    """Each shingle's value under every MinHash permutation (the min of a one-element set)."""
    offsets = np.arange(len(hashes) + 1, dtype=np.uint64)
    m = rensa.RMinHash.digest_matrix_from_flat_token_hashes(hashes, offsets, num_perm, tk.MINHASH_SEED)
    return np.array(m.to_rows(), dtype=np.uint64).reshape(len(hashes), num_perm)


def _attack(signature: np.ndarray, dictionary: np.ndarray, dict_words: list) -> set[str]:
    """Words of every dictionary shingle whose permuted value equals the signature's minimum."""
    table = _permuted(dictionary, len(signature))
    hit_rows = np.flatnonzero((table == signature[None, :]).any(axis=1))
    return {w for i in hit_rows.tolist() for w in dict_words[i]}


def test_dictionary_attack_recovers_unkeyed_minhash_but_not_keyed_band_keys():
    spec = next(p for p in tk.PARTS if p.name == "body")
    secret_hashes, _ = _shingles([SECRET])
    # The unkeyed signature a naive exchange would send: per permutation, the minimum over the shingles.
    unkeyed = _permuted(secret_hashes, spec.num_perm).min(axis=0)
    # The attacker's dictionary: every shingle of public prompt collections, plus the shingles of
    # common instruction phrasing (the secret reuses phrases the way real templates do).
    public = _corpus_texts() + [
        "Generate a list of questions that a teacher might ask a student.",
        "Explain step by step why the answer is correct and what the answer reveals about the problem.",
        "a doctor might ask a patient about their symptoms",
        "For each question explain step by step why.",
    ]
    dictionary, dict_words = _shingles(public)
    assert len(dictionary) > 20_000
    secret_words = {w for w in tk.tokens(SECRET) if w.isalpha()}
    recovered = _attack(unkeyed, dictionary, dict_words) & secret_words
    print(f"dictionary attack recovered {len(recovered)} of {len(secret_words)} words: {sorted(recovered)}")
    assert len(recovered) / len(secret_words) >= 0.5, sorted(recovered)

    # What distillguard shares instead: band keys folded from those minima, then keyed per group.
    ring = Keyring.new("forum")
    fp = tk.fingerprint([{"role": "user", "content": SECRET}])["body"]
    keyed = ring.key().band_words("body", np.array(fp, dtype=np.int64))
    assert _attack(keyed, dictionary, dict_words) == set()
    # Even knowing the exact text, an outsider cannot confirm it: its unkeyed keys never match.
    assert not set(fp) & {int(w) for w in keyed.view(np.int64)}
    # A group member holding the key finds the template in its own traffic.
    theirs = tk.fingerprint([{"role": "user", "content": SECRET.replace("10", "12")}])["body"]
    mine = set(ring.key().band_keys("body", np.array(fp, dtype=np.int64)))
    assert mine & set(ring.key().band_keys("body", np.array(theirs, dtype=np.int64)))
    assert re.fullmatch(r"tb1:k1:body:[0-9a-f]{16}", sorted(mine)[0])

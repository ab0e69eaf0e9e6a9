"""Template fingerprints: MinHash LSH band keys that link requests built from one prompt template.

Four *parts* of a request are fingerprinted, each from its normalised text (numbers, names, quoted
spans, URLs and e-mails replaced by placeholders, exactly as ``kernels.text.normalise`` does, then
lower-cased and cut into word tokens; CJK, kana, Hangul, Thai, Lao, Khmer and Myanmar characters are
one token each because those scripts do not put spaces between words):

- ``system``: the system prompt (persona prompts repeated across a campaign);
- ``head``: the first ``HEAD_TOKENS`` tokens of the newest user turn, or its first line when that
  line has ``MIN_LINE_TOKENS`` to ``HEAD_TOKENS - 1`` tokens (an opener sentence before the payload);
- ``tail``: the same at the end of the turn (a suffix instruction after the payload);
- ``body``: the whole newest user turn (the same question sent again, lightly edited).

Each non-empty part becomes a set of word 3-gram shingles (a part with fewer than three tokens is one
shingle of all of them), a MinHash signature (rensa ``RMinHash``, fixed seed) and ``bands`` LSH band
keys of ``rows`` min-values each. Two parts with Jaccard similarity ``J`` share at least one band key
with probability ``1 - (1 - J**rows)**bands``; ``docs/templates.md`` has the table and measured rates.

Keys are 64-bit, derived only from the text, the constants below and rensa's ``RMinHash`` algorithm
(``KEY_VERSION`` names its version): the same request gives the same keys in every process and on
every machine, so the online service and the batch scan agree. Python's salted ``hash()`` is never
used; token and key hashing are fixed multiply-xorshift mixes (MurmurHash3's finaliser) in NumPy.

Cost: about 20 µs per request on 2 cores for 1,000-character prompts (bench/bench_templates.py); the
regular expressions of the normalisation are half of it. Texts are processed once per batch however
many requests repeat them, and each distinct part is MinHashed once.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import rensa

from distillguard.kernels import text as _text

Message = dict[str, Any]


@dataclass(frozen=True)
class PartSpec:
    """LSH parameters of one fingerprint part: ``bands`` keys of ``rows`` min-values each."""

    name: str
    bands: int
    rows: int

    @property
    def num_perm(self) -> int:
        """MinHash permutations this part needs."""
        return self.bands * self.rows

    def p_share(self, jaccard: float) -> float:
        """Probability that two parts with this Jaccard similarity share at least one band key."""
        return 1.0 - (1.0 - jaccard**self.rows) ** self.bands


PARTS: tuple[PartSpec, ...] = (
    PartSpec("system", 12, 4),
    PartSpec("head", 10, 3),
    PartSpec("tail", 10, 3),
    PartSpec("body", 12, 4),
)
PART_NAMES: tuple[str, ...] = tuple(p.name for p in PARTS)
SHINGLE = 3
HEAD_TOKENS = 12
TAIL_TOKENS = 12
MIN_LINE_TOKENS = 4
MINHASH_SEED = 0x5EED_D157_1A7E
KEY_VERSION = f"tk1-rminhash{rensa.RMinHash.ALGORITHM_VERSION}"

KEYS_SCHEMA = pa.schema(
    [
        pa.field("request_id", pa.string()),
        pa.field("part", pa.dictionary(pa.int8(), pa.string())),
        pa.field("band", pa.int16()),
        # int64 rather than uint64: DuckDB, Spark and Parquet readers all handle signed 64-bit keys.
        pa.field("key", pa.int64()),
        pa.field("text_hash", pa.int64()),
    ],
    metadata={"kind": "template_keys", "key_version": KEY_VERSION},
)

# Scripts written without spaces between words: one token per character.
_SPLIT_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3134F),  # CJK extensions B-G
)

# Same matches as text._NAME, but starting with a character class lets the regex engine skip ahead
# instead of trying the look-behind at every position (2x faster on real prompts).
_NAME = re.compile(r"[A-Z](?<=[a-z,;:] [A-Z])[a-z]{2,}(?: [A-Z][a-z]{2,})*")
# text._NUM also swallows a leading sign and a trailing "%"; neither is a word character, so the
# tokens are the same, and without the optional sign the engine can skip to digits (4x faster).
_NUM = re.compile(r"\d[\d,]*(?:\.\d+)?")

_MASK = (1 << 64) - 1
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_CHUNK_CHARS = 1 << 20


def _const(label: str) -> int:
    """A stable 64-bit constant named by a label (odd, so it can serve as a multiplier)."""
    digest = hashlib.blake2b(f"distillguard/templates/{label}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") | 1


_BASE = _const("char-base")
_TOKEN_SALT = np.uint64(_const("token"))
_SHINGLE_MUL = tuple(np.uint64(_const(f"shingle-mul-{i}")) for i in range(SHINGLE))
_SHINGLE_SALT = tuple(np.uint64(_const(f"shingle-n{n}")) for n in range(1, SHINGLE + 1))
_POS_SALT = np.uint64(_const("position"))
_PART_SALT = {p.name: np.uint64(_const(f"part-{p.name}")) for p in PARTS}
_LEN_MUL = np.uint64(_const("length"))
_BAND_SEEDS = {
    p.name: np.array([_const(f"band-{p.name}-{b}") for b in range(p.bands)], dtype=np.uint64) for p in PARTS
}
_ID_MUL = tuple(np.uint64(_const(f"template-id-{name}")) for name in ("system", "head", "tail"))


def _fmix(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, vectorised (uint64 arithmetic wraps modulo 2**64)."""
    x = x ^ (x >> _S33)
    x *= _M1
    x ^= x >> _S33
    x *= _M2
    x ^= x >> _S33
    return x


@cache
def _char_classes() -> np.ndarray:
    """Per code point: 0 separator, 1 word character, 2 a word by itself (scripts without spaces)."""
    n = 0x110000
    chars = "".join(map(chr, range(n)))
    cls = np.fromiter((c.isalnum() for c in chars), dtype=np.uint8, count=n)
    cls[ord("_")] = 1
    # Combining marks belong to the word they sit on (Devanagari vowel signs, Arabic harakat...).
    marks = [i for i, c in enumerate(chars) if not cls[i] and unicodedata.category(c)[0] == "M"]
    cls[marks] = 1
    for lo, hi in _SPLIT_RANGES:
        seg = cls[lo : hi + 1]
        seg[seg == 1] = 2
    cls.flags.writeable = False
    return cls


@cache
def _powers() -> tuple[np.ndarray, np.ndarray]:
    """``BASE**i`` and ``BASE**-i`` modulo 2**64 for every position of a chunk."""
    base = np.full(_CHUNK_CHARS + 1, _BASE, dtype=np.uint64)
    base[0] = 1
    inv = np.full(_CHUNK_CHARS + 1, pow(_BASE, -1, 1 << 64), dtype=np.uint64)
    inv[0] = 1
    pw, ipw = np.cumprod(base), np.cumprod(inv)
    pw.flags.writeable = False
    ipw.flags.writeable = False
    return pw, ipw


def _substitute(text: str) -> str:
    """``text.normalise``'s placeholders, lower-cased, with line breaks kept (tokens are the same)."""
    if "http" in text or "www." in text:
        text = _text._URL.sub(" <url> ", text)
    if "@" in text:
        text = _text._EMAIL.sub(" <email> ", text)
    if '"' in text or "'" in text or "`" in text or "“" in text:
        text = _text._QUOTED.sub(" <q> ", text)
    text = _NAME.sub(" <name> ", text)
    text = _NUM.sub(" <num> ", text)
    # Placeholders can make a text longer, never past a chunk: inputs are capped at text.MAX_CHARS.
    return text.lower()[: _CHUNK_CHARS - 1]


def tokens(text: str) -> list[str]:
    """The word tokens that template fingerprints compare (a pure-Python reference, for tests and docs)."""
    cls = _char_classes()
    out: list[str] = []
    cur: list[str] = []
    for ch in _substitute(text):
        c = cls[ord(ch)]
        if c == 1:
            cur.append(ch)
            continue
        if cur:
            out.append("".join(cur))
            cur = []
        if c == 2:
            out.append(ch)
    if cur:
        out.append("".join(cur))
    return out


@dataclass
class _Tokens:
    """Tokens of a list of texts: hashes, per-text offsets and line-break flags."""

    hashes: np.ndarray  # uint64, one per token
    offsets: np.ndarray  # int64, len(texts) + 1
    line_break: np.ndarray  # bool, a line break precedes the token


def _tokenise_chunk(texts: list[str]) -> _Tokens:
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lens + 1, out=starts[1:])
    # "\n" between texts: it is a separator, so no token spans two texts.
    cp = np.frombuffer("\n".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cls = _char_classes()[cp]
    word = cls != 0
    alone = cls == 2
    edge = np.empty(len(cp) + 1, dtype=bool)
    edge[0] = True
    edge[-1] = True
    # A token boundary lies between two characters unless both are word characters of one word.
    np.logical_not(word[1:] & word[:-1] & ~alone[1:] & ~alone[:-1], out=edge[1:-1])
    tok_s = np.flatnonzero(edge[:-1] & word)
    tok_e = np.flatnonzero(edge[1:] & word) + 1
    pw, ipw = _powers()
    prefix = np.zeros(len(cp) + 1, dtype=np.uint64)
    np.cumsum(cp.astype(np.uint64) * pw[: len(cp)], out=prefix[1:])
    h = (prefix[tok_e] - prefix[tok_s]) * ipw[tok_s]
    h += _TOKEN_SALT
    offsets = np.searchsorted(tok_s, starts)
    nl = np.zeros(len(cp) + 1, dtype=np.int64)
    np.cumsum(cp == 10, out=nl[1:])
    line_break = np.zeros(len(tok_s), dtype=bool)
    if len(tok_s) > 1:
        line_break[1:] = nl[tok_s[1:]] > nl[tok_e[:-1]]
    return _Tokens(_fmix(h), offsets, line_break)


def _tokenise(texts: list[str]) -> _Tokens:
    """Tokenise normalised texts in chunks of at most ``_CHUNK_CHARS`` characters."""
    subbed = [_substitute(t) for t in texts]
    pieces: list[_Tokens] = []
    lo, size = 0, 0
    for i, t in enumerate(subbed):
        if size + len(t) + 1 > _CHUNK_CHARS and i > lo:
            pieces.append(_tokenise_chunk(subbed[lo:i]))
            lo, size = i, 0
        size += len(t) + 1
    pieces.append(_tokenise_chunk(subbed[lo:]))
    if len(pieces) == 1:
        return pieces[0]
    shift = np.cumsum([0] + [len(p.hashes) for p in pieces[:-1]])
    offsets = np.concatenate([p.offsets[:-1] + s for p, s in zip(pieces, shift, strict=True)])
    offsets = np.append(offsets, shift[-1] + len(pieces[-1].hashes))
    return _Tokens(
        np.concatenate([p.hashes for p in pieces]),
        offsets,
        np.concatenate([p.line_break for p in pieces]),
    )


def _shingles(tok: np.ndarray) -> list[np.ndarray]:
    """Hashes of the n-grams starting at every token, for n = 1..SHINGLE (zero-padded to len(tok))."""
    out = []
    acc = np.zeros(len(tok), dtype=np.uint64)
    for n in range(1, SHINGLE + 1):
        if len(tok) >= n:
            acc[: len(tok) - n + 1] += tok[n - 1 :] * _SHINGLE_MUL[n - 1]
        s = np.zeros(len(tok), dtype=np.uint64)
        m = max(len(tok) - n + 1, 0)
        s[:m] = _fmix(acc[:m] + _SHINGLE_SALT[n - 1])
        out.append(s)
    return out


def _range_hash(values: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over token ranges (uint64, wrapping) via one prefix sum."""
    prefix = np.zeros(len(values) + 1, dtype=np.uint64)
    np.cumsum(values, out=prefix[1:])
    return prefix[start + length] - prefix[start]


@dataclass
class _Parts:
    """Per request and part: the deduplicated fingerprint rows and their keys."""

    text_hash: dict[str, np.ndarray]  # per part, uint64 per request (0 = empty part)
    keys: dict[str, np.ndarray]  # per part, int64 (n_requests, bands); rows of empty parts unused


def _analyse(systems: Sequence[str], users: Sequence[str], with_keys: bool = True) -> _Parts:
    """Text hashes (and band keys) of every part of every request; the one code path for all APIs."""
    n = len(users)
    index: dict[str, int] = {}
    sys_id = np.fromiter((index.setdefault(s, len(index)) if s else -1 for s in systems), np.int64, n)
    usr_id = np.fromiter((index.setdefault(u, len(index)) if u else -1 for u in users), np.int64, n)
    if not index:
        zeros = np.zeros(n, dtype=np.uint64)
        return _Parts(
            {p.name: zeros for p in PARTS},
            {p.name: np.zeros((n, p.bands), dtype=np.int64) for p in PARTS},
        )
    tk = _tokenise(list(index))
    start = tk.offsets[:-1]
    ntok = np.diff(tk.offsets)
    owner = np.repeat(np.arange(len(ntok)), ntok)
    rel = np.arange(len(tk.hashes)) - start[owner]

    head = np.minimum(ntok, HEAD_TOKENS)
    brk = np.flatnonzero(tk.line_break & (rel >= MIN_LINE_TOKENS) & (rel < HEAD_TOKENS))
    if len(brk):
        first = np.r_[True, owner[brk][1:] != owner[brk][:-1]]
        head[owner[brk][first]] = rel[brk][first]
    tail = np.minimum(ntok, TAIL_TOKENS)
    from_end = ntok[owner] - rel
    brk = np.flatnonzero(tk.line_break & (from_end >= MIN_LINE_TOKENS) & (from_end < TAIL_TOKENS))
    if len(brk):
        last = np.r_[owner[brk][1:] != owner[brk][:-1], True]
        tail[owner[brk][last]] = from_end[brk][last]

    pos_key = _fmix(np.arange(int(ntok.max()) + 1, dtype=np.uint64) + _POS_SALT)
    fwd = _fmix(tk.hashes ^ pos_key[rel])
    bwd = _fmix(tk.hashes ^ pos_key[from_end - 1])
    ranges = {
        "system": (start, ntok, fwd),
        "head": (start, head, fwd),
        "tail": (start + ntok - tail, tail, bwd),
        "body": (start, ntok, fwd),
    }
    shingles = _shingles(tk.hashes) if with_keys else []
    text_hash: dict[str, np.ndarray] = {}
    keys: dict[str, np.ndarray] = {}
    for spec in PARTS:
        ids = sys_id if spec.name == "system" else usr_id
        a, m, vals = ranges[spec.name]
        th = _fmix((_range_hash(vals, a, m) ^ _PART_SALT[spec.name]) + m.astype(np.uint64) * _LEN_MUL)
        th[m == 0] = 0
        req_th = np.where(ids >= 0, th[np.maximum(ids, 0)], np.uint64(0))
        text_hash[spec.name] = req_th
        if not with_keys:
            continue
        live = np.flatnonzero(req_th != 0)
        out = np.zeros((n, spec.bands), dtype=np.int64)
        if len(live):
            uniq, first, inv = np.unique(req_th[live], return_index=True, return_inverse=True)
            text = ids[live][first]
            out[live] = _band_keys(spec, shingles, a[text], m[text])[inv.reshape(-1)]
        keys[spec.name] = out
    return _Parts(text_hash, keys)


def _band_keys(spec: PartSpec, shingles: list[np.ndarray], a: np.ndarray, m: np.ndarray) -> np.ndarray:
    """MinHash the shingle sets of token ranges [a, a + m) and fold each band into a 64-bit key."""
    count = np.where(m >= SHINGLE, m - SHINGLE + 1, 1)
    offsets = np.zeros(len(m) + 1, dtype=np.uint64)
    np.cumsum(count, out=offsets[1:])
    total = int(offsets[-1])
    pos = np.repeat(a - offsets[:-1].astype(np.int64), count) + np.arange(total)
    width = np.repeat(np.minimum(m, SHINGLE), count)
    flat = shingles[SHINGLE - 1][pos]
    for n in range(1, SHINGLE):
        short = width == n
        if short.any():
            flat[short] = shingles[n - 1][pos[short]]
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, spec.num_perm, MINHASH_SEED)
    mins = np.array(matrix.to_rows(), dtype=np.uint64).reshape(len(m), spec.bands, spec.rows)
    key = np.broadcast_to(_BAND_SEEDS[spec.name], (len(m), spec.bands)).copy()
    for r in range(spec.rows):
        key = _fmix(key ^ mins[:, :, r])
    return key.view(np.int64)


def _template_id(parts: _Parts) -> np.ndarray:
    """Exact template identity per request: system prompt, head and tail together (0: no text)."""
    acc = np.zeros_like(parts.text_hash["system"])
    for mul, name in zip(_ID_MUL, ("system", "head", "tail"), strict=True):
        acc += parts.text_hash[name] * mul
    any_text = (parts.text_hash["system"] != 0) | (parts.text_hash["body"] != 0)
    return np.where(any_text, _fmix(acc), np.uint64(0)).view(np.int64)


def fingerprint(messages: Sequence[Message] | None) -> dict[str, list[int]]:
    """Band keys of one request, per part (empty list for an empty part); the online path."""
    parts = _analyse([_text.system_text(messages)], [_text.last_user_text(messages)])
    return {p.name: parts.keys[p.name][0].tolist() if parts.text_hash[p.name][0] else [] for p in PARTS}


def template_id(messages: Sequence[Message] | None) -> int:
    """Exact template id of one request: normalised system prompt, head and tail (0 when no text)."""
    parts = _analyse([_text.system_text(messages)], [_text.last_user_text(messages)], with_keys=False)
    return int(_template_id(parts)[0])


def request_texts(messages: pa.Array | pa.ChunkedArray) -> tuple[list[str], list[str]]:
    """``text.system_text`` and ``text.last_user_text`` of every request of a messages column."""
    n = len(messages)
    systems, users = [""] * n, [""] * n
    if n == 0:
        return systems, users
    lengths = pc.fill_null(pc.list_value_length(messages), 0).to_numpy(zero_copy_only=False)
    flat = pc.list_flatten(messages)
    if len(flat) == 0:
        return systems, users
    role = pc.struct_field(flat, "role")
    content = pc.struct_field(flat, "content")
    owner = np.repeat(np.arange(n), lengths)
    is_user = pc.fill_null(pc.equal(role, "user"), False).to_numpy(zero_copy_only=False)
    pos = np.flatnonzero(is_user)
    if len(pos):
        req = owner[pos]
        last = np.r_[req[1:] != req[:-1], True]
        for r, v in zip(req[last].tolist(), content.take(pa.array(pos[last])).to_pylist(), strict=True):
            users[r] = (v or "")[: _text.MAX_CHARS]
    is_sys = pc.fill_null(pc.equal(role, "system"), False).to_numpy(zero_copy_only=False)
    pos = np.flatnonzero(is_sys)
    if len(pos):
        seen = np.zeros(n, dtype=bool)
        for r, v in zip(owner[pos].tolist(), content.take(pa.array(pos)).to_pylist(), strict=True):
            systems[r] = systems[r] + "\n" + (v or "") if seen[r] else (v or "")
            seen[r] = True
        for r in np.flatnonzero(seen).tolist():
            systems[r] = systems[r][: _text.MAX_CHARS]
    return systems, users


def _columns(batch: pa.RecordBatch | pa.Table) -> tuple[pa.Array | pa.ChunkedArray, list[str], list[str]]:
    systems, users = request_texts(batch.column("messages"))
    return batch.column("request_id"), systems, users


def template_keys(batch: pa.RecordBatch | pa.Table) -> pa.Table:
    """One row per (request, part, band) band key, in that order; schema ``KEYS_SCHEMA``."""
    request_id, systems, users = _columns(batch)
    return _keys_table(request_id, _analyse(systems, users))


def template_ids(batch: pa.RecordBatch | pa.Table) -> pa.Array:
    """Exact template id per request (int64, 0 for a request with no system or user text)."""
    _, systems, users = _columns(batch)
    return pa.array(_template_id(_analyse(systems, users, with_keys=False)), pa.int64())


def templates(batch: pa.RecordBatch | pa.Table) -> tuple[pa.Table, pa.Array]:
    """``template_keys`` and ``template_ids`` of a batch from one pass over its text."""
    request_id, systems, users = _columns(batch)
    parts = _analyse(systems, users)
    return _keys_table(request_id, parts), pa.array(_template_id(parts), pa.int64())


def _keys_table(request_id: pa.Array | pa.ChunkedArray, parts: _Parts) -> pa.Table:
    """Lay the per-part keys out request-major: (request, part, band)."""
    n = len(request_id)
    live = {p.name: parts.text_hash[p.name] != 0 for p in PARTS}
    per_request = np.zeros(n, dtype=np.int64)
    for p in PARTS:
        per_request += live[p.name] * p.bands
    row_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_request, out=row_start[1:])
    total = int(row_start[-1])
    req = np.empty(total, dtype=np.int64)
    part = np.empty(total, dtype=np.int8)
    band = np.empty(total, dtype=np.int16)
    key = np.empty(total, dtype=np.int64)
    th = np.empty(total, dtype=np.int64)
    cursor = row_start[:-1].copy()
    for code, p in enumerate(PARTS):
        idx = np.flatnonzero(live[p.name])
        at = (cursor[idx, None] + np.arange(p.bands)).reshape(-1)
        req[at] = np.repeat(idx, p.bands)
        part[at] = code
        band[at] = np.tile(np.arange(p.bands, dtype=np.int16), len(idx))
        key[at] = parts.keys[p.name][idx].reshape(-1)
        th[at] = np.repeat(parts.text_hash[p.name][idx].view(np.int64), p.bands)
        cursor[idx] += p.bands
    rid = pc.take(request_id, pa.array(req)) if total else pa.array([], pa.string())
    if isinstance(rid, pa.ChunkedArray):
        rid = rid.combine_chunks()
    return pa.Table.from_arrays(
        [
            rid.cast(pa.string()),
            pa.DictionaryArray.from_arrays(pa.array(part, pa.int8()), pa.array(PART_NAMES, pa.string())),
            pa.array(band, pa.int16()),
            pa.array(key, pa.int64()),
            pa.array(th, pa.int64()),
        ],
        schema=KEYS_SCHEMA,
    )

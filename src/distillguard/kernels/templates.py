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

A turn longer than ``text.MAX_CHARS`` is read as its start and its last ``TAIL_CHARS`` characters
(``user_view``), so that a suffix instruction after a long payload still reaches the tail.

Each non-empty part becomes a set of word 3-gram shingles (a part with fewer than three tokens is one
shingle of all of them), a MinHash signature (rensa ``RMinHash``, fixed seed) and ``bands`` LSH band
keys of ``rows`` min-values each. Two parts with Jaccard similarity ``J`` share at least one band key
with probability ``1 - (1 - J**rows)**bands``; ``docs/templates.md`` has the table and measured rates.

Keys are 64-bit, derived only from the text, the constants below and rensa's ``RMinHash`` algorithm
(``KEY_VERSION`` names its version): the same request gives the same keys in every process and on
every machine, so the online service and the batch scan agree. Python's salted ``hash()`` is never
used; token and key hashing are fixed multiply-xorshift mixes (MurmurHash3's finaliser) in NumPy.

Cost (bench/bench_templates.py, 2 shared cores): about 28 µs of CPU per request for 500-2,000
character prompts, 1M requests in 28 s. Batches of up to ``NATIVE_MAX_BATCH`` requests (the online
service's micro-batches) go through a C kernel (``_fingerprint.c``) with the same keys: about 29 µs
for one request alone and 10-12 µs per request in batches of 8-32, where NumPy's fixed cost per call
made them 0.6 ms and 40-130 µs. Only the URL,
e-mail and quoted-span rules run as regular expressions; names, numbers and tokens are found by
NumPy over the whole batch with the same results. Texts are tokenised once per batch however many
requests repeat them, and each distinct part is MinHashed once.
"""

from __future__ import annotations

import hashlib
import os
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

try:  # the compiled small-batch path; the package builds it where a C compiler is available
    from distillguard.kernels import _fingerprint as _native_module
except ImportError:  # pragma: no cover - exercised only on installs without a compiler
    _native_module = None

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
    PartSpec("system", 10, 3),
    PartSpec("head", 10, 2),
    PartSpec("tail", 10, 2),
    PartSpec("body", 10, 3),
)
PART_NAMES: tuple[str, ...] = tuple(p.name for p in PARTS)
# Parts with the same LSH shape are MinHashed (one rensa call) and folded together.
_PERM_GROUPS: tuple[tuple[PartSpec, ...], ...] = tuple(
    tuple(p for p in PARTS if (p.bands, p.rows) == shape)
    for shape in sorted({(p.bands, p.rows) for p in PARTS})
)
SHINGLE = 3
HEAD_TOKENS = 10
TAIL_TOKENS = 10
TAIL_CHARS = 1000
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

# Character classes. Word characters split into ASCII upper/lower case (the name rule looks at
# them), decimal digits (the number rule) and the rest; separators keep the few punctuation marks
# that the name and number rules look at.
_SEP, _WORD, _SPLIT, _DIGIT, _UPPER, _LOWER, _SPACE, _NEWLINE, _COMMA, _DOT, _COLON = range(11)
# Token groups: a token is a maximal run of one group (a SPLIT character is a token by itself).
_G_SEP, _G_WORD, _G_SPLIT, _G_DIGIT, _G_NAME, _G_SPLIT_EVEN, _G_SPLIT_ODD = range(7)
_GROUP = np.array([0, 1, 2, 3, 1, 1, 0, 0, 0, 0, 0], dtype=np.uint8)
# str.lower() maps these by context or to two characters; texts holding them take the slow path.
_LOWER_SPECIAL = ("\u0130", "\u03a3")

_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_CHUNK_CHARS = 1 << 20
_PAD = "\n\n"


def _const(label: str) -> int:
    """A stable 64-bit constant named by a label (odd, so it can serve as a multiplier)."""
    digest = hashlib.blake2b(f"distillguard/templates/{label}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") | 1


_BASE = _const("char-base")
_TOKEN_SALT = _const("token")
_SHINGLE_MUL = tuple(np.uint64(_const(f"shingle-mul-{i}")) for i in range(SHINGLE))
_SHINGLE_SALT = tuple(np.uint64(_const(f"shingle-n{n}")) for n in range(1, SHINGLE + 1))
_POS_SALT = np.uint64(_const("position"))
_PART_SALT = {p.name: np.uint64(_const(f"part-{p.name}")) for p in PARTS}
_PART_SALTS = np.array([_PART_SALT[p.name] for p in PARTS], dtype=np.uint64)
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


def _token_hash(token: str) -> int:
    """Hash of one lower-cased token, exactly as the vectorised tokeniser computes it."""
    h = sum(ord(ch) * pow(_BASE, i, 1 << 64) for i, ch in enumerate(token)) + _TOKEN_SALT
    return int(_fmix(np.array([h & ((1 << 64) - 1)], dtype=np.uint64))[0])


# A number or a name is one placeholder token, the same token that normalise's "<num>" gives.
_NUM_HASH = np.uint64(_token_hash("num"))
_NAME_HASH = np.uint64(_token_hash("name"))


@cache
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """Per code point: its class (``_SEP``...) and its lower-case code point (itself if not 1:1).

    The lower-case table is uint64 so that a gather feeds the hash arithmetic without a cast.
    """
    n = 0x110000
    chars = "".join(map(chr, range(n)))
    alnum = np.fromiter(map(str.isalnum, chars), dtype=bool, count=n)
    cls = np.where(alnum, _WORD, _SEP).astype(np.uint8)
    # Combining marks belong to the word they sit on (Devanagari vowel signs, Arabic harakat...).
    cls[[i for i in np.flatnonzero(~alnum).tolist() if unicodedata.category(chars[i])[0] == "M"]] = _WORD
    for lo, hi in _SPLIT_RANGES:
        seg = cls[lo : hi + 1]
        seg[seg == _WORD] = _SPLIT
    cls[np.fromiter(map(str.isdecimal, chars), dtype=bool, count=n)] = _DIGIT  # the regex class \d
    cls[ord("A") : ord("Z") + 1] = _UPPER
    cls[ord("a") : ord("z") + 1] = _LOWER
    cls[ord("_")] = _WORD
    for ch, c in ((" ", _SPACE), ("\n", _NEWLINE), (",", _COMMA), (".", _DOT), (";", _COLON), (":", _COLON)):
        cls[ord(ch)] = c
    lower = np.arange(n, dtype=np.uint64)
    for i in np.flatnonzero(cls != _SEP).tolist():
        low = chars[i].lower()
        if len(low) == 1:
            lower[i] = ord(low)
    cls.flags.writeable = False
    lower.flags.writeable = False
    return cls, lower


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


def _prepare(text: str) -> str:
    """The regular-expression half of normalisation: URLs, e-mails and quoted spans.

    Names and numbers are found by the vectorised tokeniser (4x faster than the regexes); a text
    whose lower-casing depends on context takes text._NAME and str.lower() here instead.
    """
    if "http" in text or "www." in text:
        text = _text._URL.sub(" <url> ", text)
    if "@" in text:
        text = _text._EMAIL.sub(" <email> ", text)
    if '"' in text or "'" in text or "`" in text or "“" in text:
        text = _text._QUOTED.sub(" <q> ", text)
    if _LOWER_SPECIAL[0] in text or _LOWER_SPECIAL[1] in text:
        text = _text._NAME.sub(" <name> ", text).lower()
    return text[: _CHUNK_CHARS - 2 * len(_PAD) - 1]


def _substitute(text: str) -> str:
    """``text.normalise`` without its whitespace collapsing: placeholders, lower case, lines kept."""
    text = _text._URL.sub(" <url> ", text)
    text = _text._EMAIL.sub(" <email> ", text)
    text = _text._QUOTED.sub(" <q> ", text)
    text = _text._NAME.sub(" <name> ", text)
    text = _text._NUM.sub(" <num> ", text)
    return text.lower()


def split_tokens(normalised: str) -> list[str]:
    """Cut normalised text into tokens: maximal runs of one group; a CJK, kana... character alone."""
    cls = _tables()[0]
    out: list[str] = []
    cur: list[str] = []
    cur_group = _G_SEP
    for ch in normalised:
        g = _GROUP[cls[ord(ch)]]
        if cur and (g != cur_group or g == _G_SPLIT):
            out.append("".join(cur))
            cur = []
        if g != _G_SEP:
            cur.append(ch)
        cur_group = g
    if cur:
        out.append("".join(cur))
    return out


def tokens(text: str) -> list[str]:
    """The tokens that fingerprints compare: ``split_tokens`` of the normalised text (reference code)."""
    return split_tokens(_substitute(text))


@dataclass
class _Tokens:
    """Tokens of a list of texts: hashes, per-text offsets and line-break flags."""

    hashes: np.ndarray  # uint64, one per token
    offsets: np.ndarray  # int64, len(texts) + 1
    line_break: np.ndarray  # bool, a line break precedes the token


_SMALL_CHUNK = 1 << 15


def _run_ends(c: np.ndarray) -> np.ndarray:
    """Positions just past each run of lower-case ASCII letters (the chunk ends in padding)."""
    low = c == _LOWER
    return np.flatnonzero(low[:-1] & ~low[1:]) + 1


def _name_spans(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spans that text._NAME replaces: capitalised words after "[a-z,;:] ", chained by single spaces."""
    up = np.flatnonzero(c == _UPPER)
    up = up[(c[up + 1] == _LOWER) & (c[up + 2] == _LOWER)]
    if not len(up):
        return up, up
    if len(c) <= _SMALL_CHUNK:
        # A short chunk (the online path) costs less in one pass than in many small steps.
        end = _run_ends(c)
        end = end[np.searchsorted(end, up + 3, side="left")]
    else:
        # Each candidate's lower-case run ends within a few characters: step along them, and fall
        # back to one pass over the chunk only for very long runs.
        end = up + 3
        active = np.arange(len(up))
        for _ in range(24):
            active = active[c[end[active]] == _LOWER]
            if not len(active):
                break
            end[active] += 1
        else:
            run_end = _run_ends(c)
            end[active] = run_end[np.searchsorted(run_end, end[active], side="left")]
    behind = c[up - 2]
    fits = (c[up - 1] == _SPACE) & ((behind == _LOWER) | (behind == _COMMA) | (behind == _COLON))
    # Word i continues the name of word i - 1 when exactly one space separates them.
    linked = np.zeros(len(up), dtype=bool)
    linked[1:] = (up[1:] == end[:-1] + 1) & (c[end[:-1]] == _SPACE)
    first = np.flatnonzero(~linked)
    last = np.append(first[1:], len(up)) - 1
    # A chain's first word may fail the look-behind (a sentence start); its second word never does.
    begin = np.where(fits[first], first, first + 1)
    ok = begin <= last
    return up[begin[ok]], end[last[ok]]


def _merge_numbers(c: np.ndarray, s: np.ndarray, e: np.ndarray, g: np.ndarray) -> np.ndarray:
    r"""Mask of the tokens to keep: a digit run that text._NUM (``\d[\d,]*(?:\.\d+)?``) joins to the
    number before it is dropped, so that a number is one placeholder token as in normalise."""
    keep = np.ones(len(s), dtype=bool)
    d = np.flatnonzero(g == _G_DIGIT)
    if len(d) < 2:
        return keep
    linked = np.zeros(len(d), dtype=bool)
    linked[1:] = d[1:] - 1 == d[:-1]  # the token before this digit run is a digit run too
    if not linked.any():
        return keep
    gap_start, gap_end = e[d - 1], s[d]
    width = gap_end - gap_start
    last = np.take(c, gap_end - 1)
    all_commas = linked & (width == 1) & (last == _COMMA)
    # "[\d,]*" may end in commas before "\.\d+": a gap of commas then exactly one dot.
    dot = linked & (width == 1) & (last == _DOT)
    wide = np.flatnonzero(linked & (width > 1))
    if len(wide):
        commas_at = np.flatnonzero(c == _COMMA)
        commas = np.searchsorted(commas_at, gap_end[wide]) - np.searchsorted(commas_at, gap_start[wide])
        all_commas[wide] = commas == width[wide]
        dot[wide] = (commas == width[wide] - 1) & (last[wide] == _DOT)
    # Along digit runs joined by dot gaps, integer and decimal parts alternate from the chain's start.
    idx = np.arange(len(d))
    chain_start = np.maximum.accumulate(np.where(dot, 0, idx))
    decimal = dot & ((idx - chain_start) % 2 == 1)
    after_decimal = np.zeros(len(d), dtype=bool)
    after_decimal[1:] = decimal[:-1]
    keep[d[decimal | (all_commas & ~after_decimal)]] = False
    return keep


def _tokenise_chunk(texts: list[str]) -> _Tokens:
    """Tokenise prepared texts joined into one array: classes, names, numbers, hashes, lines."""
    cls_of, lower_of = _tables()
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    starts = np.empty(len(texts) + 1, dtype=np.int64)
    starts[0] = len(_PAD)
    np.cumsum(lens + 1, out=starts[1:])
    starts[1:] += len(_PAD)
    # "\n" between texts and padding around them: no token spans two texts, and the name rule's
    # look-around never leaves the array.
    joined = _PAD + "\n".join(texts) + _PAD
    ascii_only = joined.isascii()  # O(1): CPython records it; ASCII chunks skip the wide encoding
    if ascii_only:
        cp = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    else:
        cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    c = np.take(cls_of, cp)
    grp = np.take(_GROUP, c)
    ns, ne = _name_spans(c)
    if len(ns):
        width = ne - ns
        at = np.repeat(ns - np.cumsum(width) + width, width) + np.arange(int(width.sum()))
        grp[at] = _G_NAME
    if not ascii_only:
        # A CJK (etc.) character is a token by itself: alternate its group by position parity so
        # that two such neighbours still differ (groups 5 and 6 both mean "split").
        split = np.flatnonzero(grp == _G_SPLIT)
        grp[split] = _G_SPLIT_ODD - 1 + (split & 1)
    bounds = np.flatnonzero(grp[1:] != grp[:-1])
    bounds += 1
    seg = np.take(grp, bounds[:-1])
    is_tok = seg != _G_SEP
    s = np.compress(is_tok, bounds[:-1])
    e = np.compress(is_tok, bounds[1:])
    g = np.compress(is_tok, seg)
    pw, ipw = _powers()
    prefix = np.empty(len(cp) + 1, dtype=np.uint64)
    prefix[0] = 0
    low = np.take(lower_of, cp)
    np.multiply(low, pw[: len(cp)], out=low)
    np.cumsum(low, out=prefix[1:])
    h = np.take(prefix, e)
    h -= np.take(prefix, s)
    h *= np.take(ipw, s)
    h += np.uint64(_TOKEN_SALT)
    h = _fmix(h)
    h[g == _G_DIGIT] = _NUM_HASH
    h[g == _G_NAME] = _NAME_HASH
    keep = _merge_numbers(c, s, e, g)
    if not keep.all():
        s, e, h = s[keep], e[keep], h[keep]
    # A line break precedes the first token after each newline (a newline is never inside a token).
    after = np.searchsorted(s, np.flatnonzero(c == _NEWLINE))
    line_break = np.zeros(len(s) + 1, dtype=bool)
    line_break[after] = True
    return _Tokens(h, np.searchsorted(s, starts), line_break[:-1])


def _tokenise(texts: list[str]) -> _Tokens:
    """Tokenise texts in chunks of at most ``_CHUNK_CHARS`` characters."""
    prepared = [_prepare(t) for t in texts]
    room = _CHUNK_CHARS - 2 * len(_PAD)
    pieces: list[_Tokens] = []
    lo, size = 0, 0
    for i, t in enumerate(prepared):
        if size + len(t) + 1 > room and i > lo:
            pieces.append(_tokenise_chunk(prepared[lo:i]))
            lo, size = i, 0
        size += len(t) + 1
    pieces.append(_tokenise_chunk(prepared[lo:]))
    if len(pieces) == 1:
        return pieces[0]
    shift = np.cumsum([0] + [len(p.hashes) for p in pieces[:-1]])
    offsets = np.concatenate([p.offsets[:-1] + k for p, k in zip(pieces, shift, strict=True)])
    offsets = np.append(offsets, shift[-1] + len(pieces[-1].hashes))
    return _Tokens(
        np.concatenate([p.hashes for p in pieces]),
        offsets,
        np.concatenate([p.line_break for p in pieces]),
    )


def _ngrams(tok: np.ndarray, at: np.ndarray, n: int) -> np.ndarray:
    """Hashes of the token n-grams starting at positions ``at`` (which must leave room for n tokens)."""
    acc = tok[at] * _SHINGLE_MUL[0]
    for j in range(1, n):
        acc += tok[at + j] * _SHINGLE_MUL[j]
    return _fmix(acc + _SHINGLE_SALT[n - 1])


@dataclass
class _Parts:
    """Per part, one row per request: the exact text hash (0 for an empty part) and the band keys."""

    text_hash: dict[str, np.ndarray]  # per part, uint64 per request (0 = empty part)
    keys: dict[str, np.ndarray]  # per part, int64 (n_requests, bands); rows of empty parts unused


# rensa's MinHash algorithm that _fingerprint.c re-implements; another version means NumPy + rensa.
_NATIVE_RENSA_ALGORITHM = 2
# Batches up to this many requests take the compiled path when it is there (see ``native_available``).
NATIVE_MAX_BATCH = 256


@cache
def native_available() -> bool:
    """Whether the compiled small-batch path is built, enabled and agrees with rensa here.

    ``DISTILLGUARD_NATIVE_TEMPLATES=0`` turns it off. It is trusted only when rensa reports the
    MinHash algorithm it re-implements and gives the same signatures on a sample; otherwise every
    batch takes the NumPy path, which gives the same keys more slowly on small batches.
    """
    if _native_module is None or os.environ.get("DISTILLGUARD_NATIVE_TEMPLATES", "1") == "0":
        return False
    if getattr(rensa.RMinHash, "ALGORITHM_VERSION", None) != _NATIVE_RENSA_ALGORITHM:
        return False
    cls, lower = _tables()
    _native_module.configure(
        cls,
        lower,
        (
            _BASE,
            _TOKEN_SALT,
            int(_POS_SALT),
            int(_LEN_MUL),
            int(_NUM_HASH),
            int(_NAME_HASH),
            tuple(int(m) for m in _SHINGLE_MUL),
            tuple(int(s) for s in _SHINGLE_SALT),
            HEAD_TOKENS,
            TAIL_TOKENS,
            MIN_LINE_TOKENS,
        ),
        tuple((p.bands, p.rows, int(_PART_SALT[p.name]), tuple(_BAND_SEEDS[p.name].tolist())) for p in PARTS),
        MINHASH_SEED,
    )
    rng = np.random.default_rng(MINHASH_SEED)
    for k, spec in enumerate(PARTS):
        for size in (1, 2, 7, 40, 300):
            sample = rng.integers(0, 2**64 - 1, size=size, dtype=np.uint64, endpoint=True)
            mins = np.frombuffer(_native_module.minhash(sample.tobytes(), k), dtype=np.uint32)
            if not np.array_equal(mins, _minhash(sample, np.array([0, size]), spec.num_perm)[0]):
                return False
    return True


def _analyse_native(systems: Sequence[str], users: Sequence[str], with_keys: bool) -> _Parts:
    """``_analyse`` in compiled code, one text at a time (no fixed cost per NumPy call)."""
    index: dict[str, int] = {}
    sys_id = [index.setdefault(s, len(index)) if s else -1 for s in systems]
    usr_id = [index.setdefault(u, len(index)) if u else -1 for u in users]
    n = len(users)
    th, keys = _native_module.analyse([_prepare(t) for t in index], sys_id, usr_id, with_keys)
    hashes = np.frombuffer(th, dtype=np.uint64).reshape(len(PARTS), n)
    return _Parts(
        {p.name: hashes[k] for k, p in enumerate(PARTS)},
        {
            p.name: np.frombuffer(keys[k], dtype=np.int64).reshape(n, p.bands)
            if keys is not None
            else np.zeros((n, p.bands), dtype=np.int64)
            for k, p in enumerate(PARTS)
        },
    )


def _analyse(
    systems: Sequence[str], users: Sequence[str], with_keys: bool = True, native: bool | None = None
) -> _Parts:
    """Text hashes (and band keys) of every part of every request; the one entry for all APIs.

    Batches of up to ``NATIVE_MAX_BATCH`` requests take the compiled path when ``native_available``
    (``native`` forces the choice; tests compare the two); larger ones take the NumPy path below.
    """
    if native is None:
        native = len(users) <= NATIVE_MAX_BATCH and native_available()
    if native:
        if not native_available():
            raise RuntimeError("the compiled template fingerprint path is not available here")
        return _analyse_native(systems, users, with_keys)
    return _analyse_numpy(systems, users, with_keys)


def _analyse_numpy(systems: Sequence[str], users: Sequence[str], with_keys: bool = True) -> _Parts:
    """``_analyse`` vectorised over the whole batch in NumPy, MinHash by rensa."""
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
    texts = list(index)
    ascii_text = np.fromiter((t.isascii() for t in texts), dtype=bool, count=len(texts))
    if not ascii_text.all():
        # ASCII texts first, so that most chunks take the tokeniser's narrow-encoding path.
        order = np.argsort(~ascii_text, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        texts = [texts[i] for i in order.tolist()]
        sys_id = np.where(sys_id >= 0, rank[np.maximum(sys_id, 0)], -1)
        usr_id = np.where(usr_id >= 0, rank[np.maximum(usr_id, 0)], -1)
    tk = _tokenise(texts)
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

    # Exact text hash of a token range: a sum of token hashes keyed by position, so that every range
    # starting at a text's first token comes from one prefix sum. Tails are keyed from the end.
    pos_key = _fmix(np.arange(int(ntok.max()) + 1, dtype=np.uint64) + _POS_SALT)
    fwd = np.zeros(len(tk.hashes) + 1, dtype=np.uint64)
    np.cumsum(_fmix(tk.hashes ^ np.take(pos_key, rel)), out=fwd[1:])
    tail_start = start + ntok - tail
    at = np.repeat(tail_start - (np.cumsum(tail) - tail), tail) + np.arange(int(tail.sum()))
    bwd = np.zeros(len(at) + 1, dtype=np.uint64)
    np.cumsum(_fmix(tk.hashes[at] ^ np.take(pos_key, from_end[at] - 1)), out=bwd[1:])
    tail_end = np.cumsum(tail)
    sums = {
        "system": fwd[start + ntok] - fwd[start],
        "head": fwd[start + head] - fwd[start],
        "tail": bwd[tail_end] - bwd[tail_end - tail],
    }
    sums["body"] = sums["system"]
    ranges = {
        "system": (start, ntok),
        "head": (start, head),
        "tail": (tail_start, tail),
        "body": (start, ntok),
    }
    text_hash: dict[str, np.ndarray] = {}
    keys: dict[str, np.ndarray] = {}
    # Every token's following 3-gram, computed once from contiguous slices (the tail ones are unused).
    grams = np.zeros(len(tk.hashes), dtype=np.uint64)
    k = len(tk.hashes) - SHINGLE + 1
    if with_keys and k > 0:
        acc = tk.hashes[:k] * _SHINGLE_MUL[0]
        for j in range(1, SHINGLE):
            acc += tk.hashes[j : j + k] * _SHINGLE_MUL[j]
        grams[:k] = _fmix(acc + _SHINGLE_SALT[SHINGLE - 1])
    # Exact part hashes of every distinct text, all parts in one pass, then gathered per request.
    n_text = len(ntok)
    m_all = np.concatenate([ranges[p.name][1] for p in PARTS])
    th_all = _fmix(
        (np.concatenate([sums[p.name] for p in PARTS]) ^ np.repeat(_PART_SALTS, n_text))
        + m_all.astype(np.uint64) * _LEN_MUL
    )
    th_all[m_all == 0] = 0
    ids_all = np.stack([sys_id if p.name == "system" else usr_id for p in PARTS])
    req_all = np.where(
        ids_all >= 0, np.take_along_axis(th_all.reshape(len(PARTS), n_text), np.maximum(ids_all, 0), 1), 0
    ).astype(np.uint64)
    todo: dict[str, tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]] = {}
    for k_part, spec in enumerate(PARTS):
        ids = ids_all[k_part]
        a, m = ranges[spec.name]
        req_th = req_all[k_part]
        text_hash[spec.name] = req_th
        if not with_keys:
            continue
        live = np.flatnonzero(req_th)
        inv = None
        if len(live) > 1:
            # Requests sharing a part's exact text share its keys: MinHash each distinct one once.
            _, first, inv = np.unique(req_th[live], return_index=True, return_inverse=True)
            text = ids[live][first]
            inv = inv.reshape(-1)
        else:
            text = ids[live]
        todo[spec.name] = (live, inv, a[text], m[text])
    if with_keys:
        # The shingle sets of every part's ranges are laid out once; each group of parts with one
        # LSH shape is then MinHashed by one rensa call over its slice.
        order = [spec for group in _PERM_GROUPS for spec in group]
        flat, offsets = _shingles(
            tk.hashes,
            grams,
            np.concatenate([todo[spec.name][2] for spec in order]),
            np.concatenate([todo[spec.name][3] for spec in order]),
        )
        row = 0
        for group in _PERM_GROUPS:
            sizes = [len(todo[spec.name][2]) for spec in group]
            lo, hi = row, row + sum(sizes)
            row = hi
            for spec in group:
                keys[spec.name] = np.zeros((n, spec.bands), dtype=np.int64)
            if lo == hi:
                continue
            mins = _minhash(
                flat[offsets[lo] : offsets[hi]], offsets[lo : hi + 1] - offsets[lo], group[0].num_perm
            )
            seeds = np.concatenate(
                [np.tile(_BAND_SEEDS[spec.name], (k, 1)) for spec, k in zip(group, sizes, strict=True)]
            )
            folded = _fold(seeds, mins, group[0].rows)
            at = 0
            for spec, k in zip(group, sizes, strict=True):
                live, inv = todo[spec.name][:2]
                part_keys = folded[at : at + k]
                at += k
                if k:
                    keys[spec.name][live] = part_keys if inv is None else part_keys[inv]
    return _Parts(text_hash, keys)


def _shingles(
    tok: np.ndarray, grams: np.ndarray, a: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The shingle hashes of token ranges [a, a + m), laid end to end, and each range's offsets
    into them; a range shorter than a shingle is one shingle of all its tokens."""
    count = np.where(m >= SHINGLE, m - SHINGLE + 1, 1)
    offsets = np.zeros(len(m) + 1, dtype=np.int64)
    np.cumsum(count, out=offsets[1:])
    flat = np.empty(int(offsets[-1]), dtype=np.uint64)
    full = np.flatnonzero(m >= SHINGLE)
    if len(full):
        n = count[full]
        pos = np.repeat(a[full] - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))
        slots = np.repeat(offsets[full] - a[full], n) + pos
        flat[slots] = grams[pos]
    if len(full) < len(m):
        for width in range(1, SHINGLE):
            short = np.flatnonzero(m == width)
            if len(short):
                flat[offsets[short]] = _ngrams(tok, a[short], width)
    return flat, offsets


def _minhash(flat: np.ndarray, offsets: np.ndarray, num_perm: int) -> np.ndarray:
    """MinHash signatures (one row of ``num_perm`` uint64 per range) of ``_shingles`` output."""
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(
        flat, offsets.astype(np.uint64), num_perm, MINHASH_SEED
    )
    return np.array(matrix.to_rows(), dtype=np.uint64).reshape(len(offsets) - 1, num_perm)


def _fold(seeds: np.ndarray, mins: np.ndarray, rows: int) -> np.ndarray:
    """Fold each band's ``rows`` min-values into one 64-bit key per band (int64 view), starting
    from the band's seed (``seeds`` has one row of band seeds per signature)."""
    by_band = mins.reshape(len(mins), seeds.shape[1], rows)
    key = seeds
    for r in range(rows):
        key = _fmix(key ^ by_band[:, :, r])
    return key.view(np.int64)


def _template_id(parts: _Parts) -> np.ndarray:
    """Exact template identity per request: system prompt, head and tail together (0: no text)."""
    acc = np.zeros_like(parts.text_hash["system"])
    for mul, name in zip(_ID_MUL, ("system", "head", "tail"), strict=True):
        acc += parts.text_hash[name] * mul
    any_text = (parts.text_hash["system"] != 0) | (parts.text_hash["body"] != 0)
    return np.where(any_text, _fmix(acc), np.uint64(0)).view(np.int64)


def user_view(content: str | None) -> str:
    """The newest user turn as fingerprints read it: whole up to ``text.MAX_CHARS`` characters, else
    its first ``MAX_CHARS - TAIL_CHARS`` and last ``TAIL_CHARS`` characters.

    ``text.last_user_text`` keeps only the start of a long turn, which would hide an instruction
    appended after a long payload (a suffix template); the end is kept for the tail part.
    """
    content = content or ""
    if len(content) <= _text.MAX_CHARS:
        return content
    return content[: _text.MAX_CHARS - TAIL_CHARS] + "\n" + content[-TAIL_CHARS:]


def request_views(messages: Sequence[Message] | None) -> tuple[str, str]:
    """``(text.system_text, user_view of the newest user turn)`` of one request."""
    if not messages:
        return "", ""
    user = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), None)
    return _text.system_text(messages), user_view(user)


def fingerprint(messages: Sequence[Message] | None) -> dict[str, list[int]]:
    """Band keys of one request, per part (empty list for an empty part); the online path."""
    return fingerprints([messages])[0]


def fingerprints(requests: Sequence[Sequence[Message] | None]) -> list[dict[str, list[int]]]:
    """``fingerprint`` of each request, computed in one vectorised pass (what the online service's
    micro-batches use; each request's keys are the same as alone)."""
    views = [request_views(m) for m in requests]
    parts = _analyse([s for s, _ in views], [u for _, u in views])
    keys = {p.name: parts.keys[p.name].tolist() for p in PARTS}
    live = {p.name: (parts.text_hash[p.name] != 0).tolist() for p in PARTS}
    return [{p.name: keys[p.name][i] if live[p.name][i] else [] for p in PARTS} for i in range(len(views))]


def template_id(messages: Sequence[Message] | None) -> int:
    """Exact template id of one request: normalised system prompt, head and tail (0 when no text)."""
    system, user = request_views(messages)
    return int(_template_id(_analyse([system], [user], with_keys=False))[0])


def request_texts(messages: pa.Array | pa.ChunkedArray) -> tuple[list[str], list[str]]:
    """``request_views`` of every request of a messages column: system texts and user views."""
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
            users[r] = user_view(v)
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

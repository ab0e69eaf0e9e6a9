"""SipHash-2-4 of 64-bit words, vectorised over NumPy arrays.

SipHash is a keyed pseudo-random function built for short inputs: without the 128-bit key its
outputs cannot be computed, so a table of guessed inputs is useless to whoever lacks the key. Band
keys are hashed millions at a time during a retro-hunt, which a per-value ``hmac`` call cannot keep up
with; this is the reference algorithm (Aumasson and Bernstein, 2012) on whole arrays at once, for
messages of exactly eight bytes (one little-endian word).
"""

from __future__ import annotations

import numpy as np

_C0 = np.uint64(0x736F6D6570736575)
_C1 = np.uint64(0x646F72616E646F6D)
_C2 = np.uint64(0x6C7967656E657261)
_C3 = np.uint64(0x7465646279746573)
# Final block of an 8-byte message: no tail bytes, the length (8) in the top byte.
_LAST = np.uint64(8 << 56)
_FF = np.uint64(0xFF)


def _rotl(x: np.ndarray, b: int) -> np.ndarray:
    return (x << np.uint64(b)) | (x >> np.uint64(64 - b))


def _round(v0: np.ndarray, v1: np.ndarray, v2: np.ndarray, v3: np.ndarray) -> tuple[np.ndarray, ...]:
    v0 = v0 + v1
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = v2 + v3
    v3 = _rotl(v3, 16) ^ v2
    v0 = v0 + v3
    v3 = _rotl(v3, 21) ^ v0
    v2 = v2 + v1
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash24_words(key: bytes, words: np.ndarray) -> np.ndarray:
    """SipHash-2-4 under a 16-byte key of each 64-bit word (as its 8 little-endian bytes); uint64 out."""
    if len(key) != 16:
        raise ValueError(f"SipHash needs a 16-byte key, got {len(key)} bytes")
    m = np.ascontiguousarray(words).view(np.uint64) if words.dtype != np.uint64 else words
    k0 = np.uint64(int.from_bytes(key[:8], "little"))
    k1 = np.uint64(int.from_bytes(key[8:], "little"))
    with np.errstate(over="ignore"):
        v0 = np.full(m.shape, k0 ^ _C0, dtype=np.uint64)
        v1 = np.full(m.shape, k1 ^ _C1, dtype=np.uint64)
        v2 = np.full(m.shape, k0 ^ _C2, dtype=np.uint64)
        v3 = np.full(m.shape, k1 ^ _C3, dtype=np.uint64) ^ m
        for _ in range(2):
            v0, v1, v2, v3 = _round(v0, v1, v2, v3)
        v0 = v0 ^ m
        v3 = v3 ^ _LAST
        for _ in range(2):
            v0, v1, v2, v3 = _round(v0, v1, v2, v3)
        v0 = v0 ^ _LAST
        v2 = v2 ^ _FF
        for _ in range(4):
            v0, v1, v2, v3 = _round(v0, v1, v2, v3)
        return v0 ^ v1 ^ v2 ^ v3

"""Philox4x32-10 (Salmon et al. 2011, Random123) in numpy, and the engine's draws built on it
(kernels/philox.h), so that the PyTorch twin can replay the exact noise, dropout masks and latent
vectors of one of our iterations.

Element e of a draw is word e % 4 of the block
    philox4x32_10(key = (seed_lo, seed_hi), counter = (e // 4, stream, counter_lo, counter_hi)).
uniform:  u = (word >> 8) * 2^-24
normal:   Box-Muller on the word pairs (0, 1) and (2, 3) of a block: u1 = ((w_a >> 8) + 1) 2^-24,
          u2 from w_b, n_a = sqrt(-2 ln u1) cos(2 pi u2), n_b = sqrt(-2 ln u1) sin(2 pi u2),
          in float32 as the engine computes them (libm differences: a few ulps)
keep:     word < keep_prob * 2^32
"""
import numpy as np

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)
_LOW = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)


def philox4x32_10(counter, key):
    """Blocks of four uint32 words: counter is (4, m) uint32, key is (k0, k1); returns (4, m)."""
    c0, c1, c2, c3 = (np.asarray(w, dtype=np.uint32).copy() for w in counter)
    k0, k1 = np.uint32(key[0]), np.uint32(key[1])
    with np.errstate(over="ignore"):
        for r in range(10):
            if r:
                k0, k1 = k0 + _W0, k1 + _W1
            p0 = _M0 * c0.astype(np.uint64)
            p1 = _M1 * c2.astype(np.uint64)
            c0, c1, c2, c3 = (
                (p1 >> _SHIFT).astype(np.uint32) ^ c1 ^ k0,
                (p1 & _LOW).astype(np.uint32),
                (p0 >> _SHIFT).astype(np.uint32) ^ c3 ^ k1,
                (p0 & _LOW).astype(np.uint32),
            )
    return np.stack([c0, c1, c2, c3])


def words(n, seed, stream, counter):
    """The n words of one draw, element e being word e % 4 of block e // 4."""
    blocks = (n + 3) // 4
    ctr = np.zeros((4, blocks), dtype=np.uint32)
    ctr[0] = np.arange(blocks, dtype=np.uint64).astype(np.uint32)
    ctr[1] = stream
    ctr[2] = counter & 0xFFFFFFFF
    ctr[3] = counter >> 32
    key = (seed & 0xFFFFFFFF, seed >> 32)
    return philox4x32_10(ctr, key).T.reshape(-1)[:n]


def uniform(n, seed, stream, counter):
    top24 = words(n, seed, stream, counter) >> np.uint32(8)
    return top24.astype(np.float32) * np.float32(2.0**-24)


def normal(n, seed, stream, counter):
    w = words(4 * ((n + 3) // 4), seed, stream, counter).reshape(-1, 2)
    u1 = ((w[:, 0] >> np.uint32(8)) + np.uint32(1)).astype(np.float32) * np.float32(2.0**-24)
    u2 = (w[:, 1] >> np.uint32(8)).astype(np.float32) * np.float32(2.0**-24)
    radius = np.sqrt(np.float32(-2.0) * np.log(u1))
    angle = np.float32(6.2831853071795864769) * u2
    pairs = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return pairs.reshape(-1)[:n].astype(np.float32)


def keep_mask(n, keep_prob, seed, stream, counter):
    threshold = float(np.float32(keep_prob)) * 4294967296.0
    return words(n, seed, stream, counter).astype(np.float64) < threshold

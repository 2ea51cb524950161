# SPDX-License-Identifier: Apache-2.0
"""W1 sequence lengths (docs/workloads.md) in numpy, bit-identical to fulcrum::testing::generate_w1_tokens.

splitmix64 (fulcrum::rng), two draws per sample: uniform() for the images, uniform_open() through
Acklam's inverse normal CDF for the text = round(lognormal(median 300, sigma 1.0)) clipped to [8, 8192];
tokens = 576 * images + text. Default seed 20240601.
"""
import numpy as np

DEFAULT_SEED = 20240601

_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)


def _splitmix64(seed: int, count: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + np.uint64(0x9E3779B97F4A7C15) * np.arange(1, count + 1, dtype=np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _inverse_normal_cdf(p: np.ndarray) -> np.ndarray:
    out = np.empty_like(p)
    lo, hi = p < 0.02425, p > 1 - 0.02425
    mid = ~(lo | hi)
    for mask, sign, pp in ((lo, 1.0, p[lo]), (hi, -1.0, 1 - p[hi])):
        q = np.sqrt(-2 * np.log(pp))
        num = ((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]
        out[mask] = sign * num / ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1)
    q = p[mid] - 0.5
    r = q * q
    num = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
    out[mid] = num / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1)
    return out


def w1_tokens(n: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Total tokens of the first n W1 samples (uint32), as generate_w1_tokens(n, seed)."""
    bits = _splitmix64(seed, 2 * n).reshape(n, 2) >> np.uint64(11)
    u = bits[:, 0].astype(np.float64) * 2.0**-53
    v = (bits[:, 1].astype(np.float64) + 0.5) * 2.0**-53
    images = np.searchsorted(np.array([0.20, 0.80, 0.90, 0.95]), u, side="right")
    text = np.clip(np.rint(300.0 * np.exp(1.0 * _inverse_normal_cdf(v))), 8, 8192)
    return (576 * images + text).astype(np.uint32)

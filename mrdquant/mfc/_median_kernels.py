"""Exact median by radix selection (numba), for the robust statistics of :mod:`mrdquant.mfc.qc`.

:func:`median` gives the float :func:`numpy.median` gives -- the middle order statistic,
or for an even count the mean ``(lo + hi) / 2`` of the two middle ones; NaN when a value
is NaN or there is none (of equal zeros, either sign may be returned) -- in a few passes
over the data instead of a partition of a copy. With ``center`` it is the median of ``|v - center|`` (the MAD
without its scale).

Selection: each float64 is mapped to an unsigned 64-bit key with the same order (sign bit
flipped for positives, all bits flipped for negatives). A histogram of ``(key - smallest)
>> shift`` in 65,536 bins (``shift`` makes the keys' range fit) finds the bins of the two
middle order statistics; only the keys of those bins are kept, and the step repeats on
them until few are left (or they no longer narrow), which are sorted.
"""

from __future__ import annotations

import numpy as np

from .._numba import njit

__all__ = ["median"]

_SIGN = np.uint64(0x8000000000000000)
_ABS = np.uint64(0x7FFFFFFFFFFFFFFF)
_EXP = np.uint64(0x7FF0000000000000)
_DIGIT = np.uint64(0xFFFF)
_N_BINS = 1 << 16
#: candidates left when they are sorted instead of narrowed by another histogram
_SORT_BELOW = 1024


@njit(inline="always")
def _key(u):
    """Order-preserving key of the float64 whose bits are ``u``."""
    return ~u if u & _SIGN else u | _SIGN


@njit(inline="always")
def _bits(key):
    """Bits of the float64 whose key is ``key``."""
    return key & _ABS if key & _SIGN else ~key


@njit(inline="always")
def _bin_of(hist, k):
    """(bin holding the k-th smallest counted value, values in the bins below it)."""
    below = 0
    for b in range(hist.shape[0]):
        c = hist[b]
        if below + c > k:
            return b, below
        below += c
    return hist.shape[0] - 1, below  # not reached for 0 <= k < total


@njit
def _median(v, center, has_center, hist, keys, out):
    """``out[0]`` = median of ``v`` or of ``|v - center|`` (NaN when empty or a value is NaN).

    ``keys``: scratch (n,), uint64; ``hist``: scratch (65536,), int64 (unused when n is small).
    """
    n = v.shape[0]
    if n == 0:
        out[0] = np.nan
        return
    as_float = keys.view(np.float64)
    for i in range(n):
        x = v[i]
        if has_center:
            x = abs(x - center)
        if x != x:
            out[0] = np.nan
            return
        as_float[i] = x
        keys[i] = _key(keys[i])
    # the two middle order statistics are the k1-th and k2-th smallest of keys[:m]
    k1 = (n - 1) // 2
    k2 = n // 2
    m = n
    while m > _SORT_BELOW:
        kmin = keys[0]
        kmax = kmin
        for i in range(m):
            kmin = min(kmin, keys[i])
            kmax = max(kmax, keys[i])
        if kmin == kmax:
            break
        shift = np.uint64(0)
        while (kmax - kmin) >> shift >= np.uint64(_N_BINS):
            shift += np.uint64(1)
        hist[:] = 0
        for i in range(m):
            hist[np.intp((keys[i] - kmin) >> shift)] += 1
        b1, below = _bin_of(hist, k1)
        b2, _ = _bin_of(hist, k2)
        lo_bin = np.uint64(b1)
        hi_bin = np.uint64(b2)
        j = 0
        for i in range(m):  # keep the keys of bins b1..b2, in place
            d = (keys[i] - kmin) >> shift
            if d >= lo_bin and d <= hi_bin:
                keys[j] = keys[i]
                j += 1
        k1 -= below
        k2 -= below
        if j == m:  # the middle pair spans the whole range: nothing to narrow
            break
        m = j
    cand = np.sort(keys[:m])
    pair = np.empty(2, dtype=np.uint64)
    pair[0] = _bits(cand[k1])
    pair[1] = _bits(cand[k2])
    vals = pair.view(np.float64)
    out[0] = vals[0] if n % 2 == 1 else (vals[0] + vals[1]) / 2.0


def median(v: np.ndarray, center: float | None = None) -> float:
    """``numpy.median(v)`` (or ``numpy.median(numpy.abs(v - center))``), exactly.

    Parameters
    ----------
    v : ndarray (n,), float64
        Values (any units); other dtypes are converted to float64.
    center : float, optional
        When given, the median of the absolute deviations ``|v - center|``.

    Returns
    -------
    float
        Units of ``v``; NaN when ``v`` is empty or holds a NaN.
    """
    x = np.ascontiguousarray(v, dtype=np.float64).ravel()
    n = x.shape[0]
    out = np.empty(1)
    hist = np.empty(_N_BINS if n > _SORT_BELOW else 0, dtype=np.int64)
    has_center = center is not None
    _median(x, float(center) if has_center else 0.0, has_center, hist, np.empty(n, dtype=np.uint64), out)
    return float(out[0])

"""numba kernels behind :mod:`mrdquant.mfc.placement` and :mod:`mrdquant.mfc.qc`.

Kernels take arrays and scalars, never raise and never allocate their outputs.
"""

from __future__ import annotations

import numpy as np

from .._numba import njit

__all__ = ["masked_histogram", "binned_counts"]


@njit
def _masked_histogram(x, mask, lo, hi, out):
    nb = out.size
    scale = nb / (hi - lo)
    for i in range(x.size):
        if mask[i]:
            v = x[i]
            if v >= lo and v < hi:  # NaN fails both
                b = int((v - lo) * scale)
                if b >= nb:
                    b = nb - 1
                out[b] += 1


def masked_histogram(x: np.ndarray, mask: np.ndarray, lo: float, hi: float, n_bins: int) -> np.ndarray:
    """Counts of ``x[mask]`` in ``n_bins`` equal bins over ``[lo, hi)`` (one pass, no copy).

    Parameters
    ----------
    x : ndarray (n,), float
    mask : ndarray (n,), bool
    lo, hi : float, units of ``x``
    n_bins : int

    Returns
    -------
    ndarray (n_bins,), int64
        Values outside ``[lo, hi)`` and NaN are not counted.
    """
    out = np.zeros(int(n_bins), dtype=np.int64)
    _masked_histogram(np.ascontiguousarray(x), np.ascontiguousarray(mask, dtype=np.bool_), float(lo), float(hi), out)
    return out


@njit
def _binned_counts(t, mask, edges, out):
    nb = out.size
    for i in range(t.size):
        if mask[i]:
            v = t[i]
            # binary search for the bin: edges[b] <= v < edges[b + 1]; the last bin is closed
            a, b = 0, nb
            if v < edges[0] or v > edges[nb] or v != v:
                continue
            while b - a > 1:
                m = (a + b) // 2
                if v >= edges[m]:
                    a = m
                else:
                    b = m
            out[a] += 1


def binned_counts(t: np.ndarray, mask: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of ``t[mask]`` per bin ``[edges[b], edges[b+1])`` (last bin closed).

    Returns
    -------
    ndarray (len(edges) - 1,), int64
    """
    e = np.ascontiguousarray(edges, dtype=np.float64)
    out = np.zeros(e.size - 1, dtype=np.int64)
    _binned_counts(np.ascontiguousarray(t), np.ascontiguousarray(mask, dtype=np.bool_), e, out)
    return out

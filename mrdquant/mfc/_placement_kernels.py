"""numba kernels behind :mod:`mrdquant.mfc.placement` and :mod:`mrdquant.mfc.qc`.

Kernels take arrays and scalars, never raise and never allocate their outputs.
"""

from __future__ import annotations

import numpy as np

from .._numba import njit, prange, serial_and_parallel

__all__ = ["masked_histogram", "binned_counts", "finite_range", "singlet_values"]

#: inputs from this many events are histogrammed on parallel threads, in this many chunks
_PARALLEL_MIN = 1 << 17
_CHUNKS = 8


def _masked_histogram(x, mask, lo, hi, parts):
    """``parts[c]``: the histogram of chunk c of the events (chunks split by ``prange``)."""
    n_chunks, nb = parts.shape
    scale = nb / (hi - lo)
    size = (x.size + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        out = parts[c]
        for i in range(c * size, min(x.size, (c + 1) * size)):
            if mask[i]:
                v = x[i]
                if v >= lo and v < hi:  # NaN fails both
                    b = int((v - lo) * scale)
                    if b >= nb:
                        b = nb - 1
                    out[b] += 1


_masked_histogram_ser, _masked_histogram_par = serial_and_parallel(_masked_histogram)


def masked_histogram(x: np.ndarray, mask: np.ndarray, lo: float, hi: float, n_bins: int) -> np.ndarray:
    """Counts of ``x[mask]`` in ``n_bins`` equal bins over ``[lo, hi)`` (one pass, no copy).

    Large inputs are split into chunks counted on parallel threads, then summed (counts
    are integers: the same result in any order).

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
    n = np.asarray(x).size
    parallel = n >= _PARALLEL_MIN
    parts = np.zeros((_CHUNKS if parallel else 1, int(n_bins)), dtype=np.int64)
    kern = _masked_histogram_par if parallel else _masked_histogram_ser
    kern(np.ascontiguousarray(x), np.ascontiguousarray(mask, dtype=np.bool_), float(lo), float(hi), parts)
    return parts.sum(axis=0)


@njit
def _binned_counts(t, mask, edges, out):
    nb = out.size
    lo = edges[0]
    hi = edges[nb]
    scale = nb / (hi - lo) if hi > lo else 0.0
    for i in range(t.size):
        if mask[i]:
            v = t[i]
            if v < lo or v > hi or v != v:
                continue
            # the bin b with edges[b] <= v < edges[b + 1] (the last bin is closed): guessed
            # from the equal spacing, then moved until the edges themselves agree
            g = (v - lo) * scale
            b = int(g) if g < nb - 1 else nb - 1  # also when g overflowed to inf
            while b > 0 and v < edges[b]:
                b -= 1
            while b < nb - 1 and v >= edges[b + 1]:
                b += 1
            out[b] += 1


@njit
def _finite_range(t, mask):
    count = 0
    lo = np.inf
    hi = -np.inf
    for i in range(t.size):
        if mask[i]:
            v = t[i]
            if np.isfinite(v):
                count += 1
                lo = min(lo, v)
                hi = max(hi, v)
    return count, lo, hi


def finite_range(t: np.ndarray, mask: np.ndarray) -> tuple[int, float, float]:
    """``(count, min, max)`` of the finite values of ``t[mask]`` in one pass (min > max when none).

    Parameters
    ----------
    t : ndarray (n,), float
    mask : ndarray (n,), bool

    Returns
    -------
    tuple of (int, float, float), units of ``t``
    """
    count, lo, hi = _finite_range(np.ascontiguousarray(t), np.ascontiguousarray(mask, dtype=np.bool_))
    return int(count), float(lo), float(hi)


def binned_counts(t: np.ndarray, mask: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of ``t[mask]`` per bin ``[edges[b], edges[b+1])`` (last bin closed).

    ``edges`` must increase; they are meant to be equally spaced (``numpy.linspace``),
    which makes finding each value's bin a guess and a check; others are still binned
    exactly, only more slowly.

    Returns
    -------
    ndarray (len(edges) - 1,), int64
    """
    e = np.ascontiguousarray(edges, dtype=np.float64)
    out = np.zeros(e.size - 1, dtype=np.int64)
    _binned_counts(np.ascontiguousarray(t), np.ascontiguousarray(mask, dtype=np.bool_), e, out)
    return out


@njit
def _singlet_values(fsc_a, second, mask, width, out):
    m = 0
    for i in range(fsc_a.size):
        if mask[i]:
            a = np.float64(fsc_a[i])
            s = np.float64(second[i])
            if a > 0.0 and np.isfinite(a) and np.isfinite(s):
                out[m] = s if width else s / a
                m += 1
    return m


def singlet_values(fsc_a: np.ndarray, second: np.ndarray, mask: np.ndarray, *, width: bool) -> np.ndarray:
    """What the singlet gate is placed on, in one pass: ``FSC-H / FSC-A`` (or ``FSC-W``).

    Parameters
    ----------
    fsc_a, second : ndarray (n,), float
        FSC-A and FSC-H (``width`` False) or FSC-W (``width`` True), detector units.
    mask : ndarray (n,), bool
        Events to use (the parent population).
    width : bool

    Returns
    -------
    ndarray, float64
        For the events of ``mask`` with a finite, positive FSC-A and a finite second
        value, in event order: ``second / fsc_a`` (a ratio), or ``second`` (FSC-W units).
    """
    out = np.empty(int(np.count_nonzero(mask)), dtype=np.float64)
    m = _singlet_values(np.ascontiguousarray(fsc_a), np.ascontiguousarray(second),
                        np.ascontiguousarray(mask, dtype=np.bool_), bool(width), out)
    return out[:m]

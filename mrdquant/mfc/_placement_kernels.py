"""numba kernels behind :mod:`mrdquant.mfc.placement` and :mod:`mrdquant.mfc.qc`.

Kernels take arrays and scalars, never raise and never allocate their outputs.
"""

from __future__ import annotations

import numpy as np

from .._numba import njit, prange, serial_and_parallel

__all__ = ["masked_histogram", "binned_sample", "finite_range", "singlet_values"]

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


@njit(inline="always")
def _time_bin(v, edges, lo, scale, nb):
    """The bin b with ``edges[b] <= v < edges[b + 1]`` (the last bin closed), for lo <= v <= hi."""
    # guessed from the equal spacing, then moved until the edges themselves agree
    g = (v - lo) * scale
    b = int(g) if g < nb - 1 else nb - 1  # also when g overflowed to inf
    while b > 0 and v < edges[b]:
        b -= 1
    while b < nb - 1 and v >= edges[b + 1]:
        b += 1
    return b


@njit(inline="always")
def _splitmix64(x):
    """SplitMix64 output function: a well-mixed uint64 from a uint64 counter."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit
def _binned_sample(t, mask, edges, key, below, every, counts, take, bins):
    nb = counts.size
    lo = edges[0]
    hi = edges[nb]
    scale = nb / (hi - lo) if hi > lo else 0.0
    m = 0
    for i in range(t.size):
        if mask[i]:
            v = t[i]
            if v < lo or v > hi or v != v:
                continue
            b = _time_bin(v, edges, lo, scale, nb)
            counts[b] += 1
            if every or _splitmix64(key ^ np.uint64(i)) < below:
                take[m] = i
                bins[m] = b
                m += 1
    return m


def binned_sample(t: np.ndarray, mask: np.ndarray, edges: np.ndarray, fraction: float,
                  seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts per time bin and a seeded random sample of the binned events, in one pass.

    Each event of ``mask`` whose ``t`` lies in ``[edges[0], edges[-1]]`` is counted in its
    bin ``[edges[b], edges[b + 1])`` (the last bin closed) and kept in the sample with
    probability ``fraction``, decided by a hash of ``(seed, event index)`` (SplitMix64):
    the same events for the same seed on every machine, independent of each other and of
    the order of the file.

    Parameters
    ----------
    t : ndarray (n,), float
    mask : ndarray (n,), bool
    edges : ndarray (n_bins + 1,), increasing
        Meant to be equally spaced (``numpy.linspace``), which makes finding each value's
        bin a guess and a check; others are still binned exactly, only more slowly.
    fraction : float
        Probability that an event is sampled; 1 or more keeps every binned event.
    seed : int

    Returns
    -------
    counts : ndarray (n_bins,), int64
    take : ndarray (m,), intp
        Sampled event indices, increasing.
    bins : ndarray (m,), intp
        The bin of each sampled event.
    """
    e = np.ascontiguousarray(edges, dtype=np.float64)
    counts = np.zeros(e.size - 1, dtype=np.int64)
    tt = np.ascontiguousarray(t)
    mm = np.ascontiguousarray(mask, dtype=np.bool_)
    # an event is kept when its hash is below ``below`` (fraction x 2**64)
    every = bool(fraction >= 1.0)
    below = np.uint64(0 if every else min(int(max(fraction, 0.0) * 2.0**64), 2**64 - 1))
    key = np.uint64(_splitmix64(np.uint64(int(seed) & (2**64 - 1))))
    # room for every event of the mask; only the sampled entries are written (and paged in)
    n = int(np.count_nonzero(mm))
    take = np.empty(n, dtype=np.intp)
    bins = np.empty(n, dtype=np.intp)
    m = _binned_sample(tt, mm, e, key, below, every, counts, take, bins)
    return counts, take[:m], bins[:m]


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

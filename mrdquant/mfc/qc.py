"""Acquisition QC placed per sample: flow-rate / signal stability over time, singlets.

Time QC
    The acquisition is cut into equal time bins (about :data:`EVENTS_PER_BIN` parent events
    each, at most :data:`MAX_BINS`). A bin is dropped when its event count departs from the
    median bin count by more than ``rate_z`` robust SDs (the SD is the larger of
    1.4826 x MAD and the Poisson SD ``sqrt(median)``), or when the mean of any monitored
    signal (FSC-A and the panel's transformed markers; the mean, because a marker's
    distribution mixes populations and its median jumps between their modes) departs
    from the median over bins by more than ``signal_z`` robust SDs, with a floor of
    ``signal_floor`` x the signal's inter-quartile range (so a stable file is not cut on
    noise). Counts use every event; signal means use a seeded random sample of about
    :data:`_SIGNAL_SAMPLE` events per bin, each event drawn independently by a hash of
    the seed and its index (so the same events on every machine, and no aliasing with
    any periodic pattern in the file). Kept bins are merged into time intervals.
Singlets
    With FSC-H, singlets are the events whose ratio FSC-H / FSC-A is at least
    ``median - k x SD`` of the parent's ratio (robust SD = 1.4826 x MAD): doublets add
    area but not height. With FSC-W (no FSC-H), singlets have FSC-W at most
    ``median + k x SD``. The gate is placed on each sample's own ratio distribution.

Medians are exact (the values of :func:`numpy.median`), from a radix-selection kernel
(:mod:`mrdquant.mfc._median_kernels`) that needs no sorted copy of a million ratios.

Defaults: ``rate_z = 5``, ``signal_z = 6``, ``signal_floor = 0.1``, ``k = 4``; a panel
step's ``params`` table overrides them.
"""

from __future__ import annotations

import numpy as np

from ._median_kernels import median
from ._placement_kernels import binned_sample, finite_range, singlet_values

__all__ = ["time_qc", "place_singlets", "EVENTS_PER_BIN", "MAX_BINS", "SINGLET_POLYGON_SCALE"]

EVENTS_PER_BIN = 2_000
MAX_BINS = 100
#: the singlet polygon reaches this FSC-A (far beyond any detector's range)
SINGLET_POLYGON_SCALE = 1.0e7
_SIGNAL_SAMPLE = 1_000


def _robust_sd(v: np.ndarray, med: float | None = None) -> float:
    """1.4826 x the median absolute deviation from ``med`` (default: the median of ``v``)."""
    if med is None:
        med = median(v)
    return float(1.4826 * median(v, center=med))


def time_qc(time: np.ndarray, parent: np.ndarray, signals: dict, params: dict | None = None, *, seed: int = 0) -> dict:
    """Place the time-QC gate of one sample.

    Parameters
    ----------
    time : ndarray (n_events,), s
    parent : ndarray (n_events,), bool
    signals : dict of str to callable
        Signals whose per-bin mean is monitored: ``name -> f(event_indices) -> values``
        (called once, on the subsample).
    params : dict, optional
        ``rate_z``, ``signal_z``, ``signal_floor``, ``bin_events``.
    seed : int, default 0
        Seed of the signal sample.

    Returns
    -------
    dict
        ``intervals``: list of ``[start, end]`` kept time ranges (s; ``None`` = open end),
        ``bins`` (number of bins), ``dropped_bins`` (list of ``[start, end, why]``),
        ``reason`` (str).
    """
    p = {"rate_z": 5.0, "signal_z": 6.0, "signal_floor": 0.1, "bin_events": EVENTS_PER_BIN, **(params or {})}
    n_t, t_min, t_max = finite_range(time, parent)
    if n_t < 2 * p["bin_events"] or t_max <= t_min:
        return {"intervals": [[None, None]], "bins": 1, "dropped_bins": [], "reason": f"{n_t} events: too few to split in time"}
    n_bins = int(min(MAX_BINS, max(2, n_t // p["bin_events"])))
    edges = np.linspace(t_min, t_max, n_bins + 1)
    # every binned event is counted; signals are monitored on a seeded random sample of
    # about _SIGNAL_SAMPLE events per bin (all events when there are fewer)
    counts, take, tb = binned_sample(time, parent, edges, _SIGNAL_SAMPLE * n_bins / n_t, seed)
    counts = counts.astype(np.float64)
    flagged = np.zeros(n_bins, dtype=bool)
    why = [""] * n_bins
    med = median(counts)
    sd = max(_robust_sd(counts, med), np.sqrt(max(med, 1.0)))
    z = (counts - med) / sd
    for b in np.flatnonzero(np.abs(z) > p["rate_z"]):
        flagged[b], why[b] = True, f"event rate {counts[b]:.0f} vs median {med:.0f} per bin"
    per_bin = np.bincount(tb, minlength=n_bins)
    for name, get in signals.items():
        v = np.asarray(get(take), dtype=np.float64)
        ok = np.isfinite(v)
        if ok.sum() < 10 * n_bins or take.size == 0:
            continue
        # the per-bin mean: a marker's distribution is a mixture of populations, whose
        # median jumps between modes from bin to bin; the mean moves smoothly with the signal
        if ok.all():
            cnt = per_bin
            sums = np.bincount(tb, weights=v, minlength=n_bins)
        else:
            cnt = np.bincount(tb[ok], minlength=n_bins)
            sums = np.bincount(tb[ok], weights=v[ok], minlength=n_bins)
        with np.errstate(invalid="ignore"):
            meds = np.where(cnt >= 10, sums / np.maximum(cnt, 1), np.nan)
        good = np.isfinite(meds)
        if good.sum() < 3:
            continue
        center = median(meds[good])
        rsd = _robust_sd(meds[good], center)
        # the IQR floor can only make the spread larger: when no bin departs by more than
        # signal_z spreads without it, none does with it (division is monotonic in the
        # divisor, also rounded), and the quartiles of the subsample are not needed
        with np.errstate(invalid="ignore"):
            if not np.any(good & (np.abs((meds - center) / max(rsd, 1e-12)) > p["signal_z"])):
                continue
        q75, q25 = np.percentile(v[ok], [75, 25])
        spread = max(rsd, p["signal_floor"] * float(q75 - q25) / p["signal_z"], 1e-12)
        zs = (meds - center) / spread
        for b in np.flatnonzero(good & (np.abs(zs) > p["signal_z"])):
            if not flagged[b]:
                flagged[b], why[b] = True, f"mean {name} {meds[b]:.4g} vs median over bins {center:.4g}"
    intervals = []
    b = 0
    while b < n_bins:
        if flagged[b]:
            b += 1
            continue
        start = b
        while b < n_bins and not flagged[b]:
            b += 1
        lo = None if start == 0 else float(edges[start])
        hi = None if b == n_bins else float(edges[b])
        intervals.append([lo, hi])
    dropped = [[float(edges[i]), float(edges[i + 1]), why[i]] for i in np.flatnonzero(flagged)]
    if not intervals:  # every bin flagged: keep everything and say so rather than drop the file
        return {"intervals": [[None, None]], "bins": n_bins, "dropped_bins": [],
                "reason": "every time bin was flagged; nothing dropped, check the acquisition"}
    return {"intervals": intervals, "bins": n_bins, "dropped_bins": dropped, "reason": ""}


def place_singlets(fsc_a: np.ndarray, second: np.ndarray, parent: np.ndarray, *, width: bool,
                   params: dict | None = None) -> dict:
    """Place the singlet gate of one sample.

    Parameters
    ----------
    fsc_a : ndarray (n_events,)
    second : ndarray (n_events,)
        FSC-H, or FSC-W when ``width`` is True.
    parent : ndarray (n_events,), bool
    width : bool
    params : dict, optional
        ``k`` (robust SDs, default 4).

    Returns
    -------
    dict
        FSC-H: ``ratio_min`` (FSC-H / FSC-A), ``ratio_median``, ``ratio_sd`` and ``vertices``
        (polygon on FSC-A, FSC-H); FSC-W: ``width_max``, ``width_median``, ``width_sd``.
    """
    k = float((params or {}).get("k", 4.0))
    v = singlet_values(fsc_a, second, parent, width=width)
    if v.size < 50:
        return {"reason": f"{v.size} events with FSC: singlet gate not placed", "skip": True}
    if width:
        med = median(v)
        sd = _robust_sd(v, med)
        return {"width_max": med + k * sd, "width_median": med, "width_sd": sd, "k": k, "reason": ""}
    med = median(v)
    sd = _robust_sd(v, med)
    lo = med - k * sd
    big = SINGLET_POLYGON_SCALE
    vertices = [[0.0, 0.0], [big, lo * big], [big, 100.0 * big], [0.0, 100.0 * big]]
    return {"ratio_min": lo, "ratio_median": med, "ratio_sd": sd, "k": k, "vertices": vertices, "reason": ""}

"""Strict singlets for different-from-normal MRD: the events allowed to be novel.

The panel's singlet gate (:func:`mrdquant.mfc.qc.place_singlets`, ``FSC-H / FSC-A >=
median - 4 SD``) is wide on purpose: the denominator must keep every singlet. It lets
through the doublets of a large and a small cell, whose height is nearly that of the large
cell alone. Such a doublet carries the *sum* of two normal cells' scatter and fluorescence,
so it lies where no normal cell lies (high FSC-A and SSC-A, or CD45 brighter than any
single leukocyte): in normal marrow of 10^6 events these events form DfN populations of
20-200 events, enough for a false positive call near 1e-4 (see ``docs/dfn.md``).

DfN therefore only lets *strict singlets* be novel: denominator events whose
``FSC-H / FSC-A`` is at least ``median - k x SD`` of the sample's denominator events
(robust SD = 1.4826 x MAD, ``k`` = :data:`STRICT_SINGLET_K` = 2.5), or, without FSC-H,
whose ``FSC-W`` is at most ``median + k x SD``. A normally distributed singlet ratio loses
0.6 % of the singlets (blasts included) to this cut; the doublets that passed the panel
gate lie mostly below it (median 3.6 SD below the singlet median in simulated marrow). The
denominator is not changed.
"""

from __future__ import annotations

import numpy as np

from ._median_kernels import median
from .qc import _robust_sd

__all__ = ["STRICT_SINGLET_K", "strict_singlet_mask"]

#: robust SDs of FSC-H / FSC-A (or FSC-W) below (above) the median that a strict singlet may lie
STRICT_SINGLET_K = 2.5


def strict_singlet_mask(scatter: dict, mask: np.ndarray, k: float = STRICT_SINGLET_K) -> tuple[np.ndarray, dict]:
    """Events of ``mask`` that are strict singlets.

    Parameters
    ----------
    scatter : dict of str to ndarray (n_events,)
        Raw scatter signals (``PreparedSample.scatter``): ``FSC-A`` with ``FSC-H`` or
        ``FSC-W``, linear units.
    mask : ndarray (n_events,), bool
        The candidate events (the denominator); the median and SD are taken over them.
    k : float, default :data:`STRICT_SINGLET_K`, robust SDs
        ``inf`` lets every event of ``mask`` through.

    Returns
    -------
    strict : ndarray (n_events,), bool
        Subset of ``mask``.
    info : dict
        ``measure`` (``"FSC-H/FSC-A"``, ``"FSC-W"`` or ``""`` when the file has neither),
        ``median``, ``sd``, ``k``, ``limit`` (the ratio's lower or the width's upper
        limit), ``removed`` (events of ``mask`` that are not strict singlets).

    Raises
    ------
    ValueError
        ``k`` is not positive.
    """
    if not k > 0:
        raise ValueError(f"strict singlet k={k!r}: expected a positive number of SDs")
    mask = np.asarray(mask, dtype=bool)
    info = {"measure": "", "median": float("nan"), "sd": float("nan"), "k": float(k), "limit": float("nan"), "removed": 0}
    fsc_a = scatter.get("FSC-A")
    if np.isinf(k) or fsc_a is None or not mask.any() or ("FSC-H" not in scatter and "FSC-W" not in scatter):
        return mask.copy(), info
    if "FSC-H" in scatter:
        a = np.asarray(fsc_a, dtype=np.float64)
        h = np.asarray(scatter["FSC-H"], dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(a > 0, h / a, np.nan)
        info["measure"] = "FSC-H/FSC-A"
    else:
        v = np.asarray(scatter["FSC-W"], dtype=np.float64)
        info["measure"] = "FSC-W"
    finite = v[mask & np.isfinite(v)]
    med, sd = (np.nan, np.nan)
    if finite.size:
        med = median(finite)
        sd = _robust_sd(finite, med)
    if info["measure"] == "FSC-W":
        limit = med + k * sd
        strict = mask & (v <= limit)
    else:
        limit = med - k * sd
        strict = mask & (v >= limit)
    if not np.isfinite(limit):
        return mask.copy(), {**info, "measure": ""}
    info.update(median=med, sd=sd, limit=float(limit), removed=int(mask.sum() - strict.sum()))
    return strict, info

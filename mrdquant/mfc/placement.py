"""Per-sample placement of marker and scatter thresholds from the data.

Instrument settings drift from day to day, so a threshold written as a fixed coordinate
fails on another day's tube. A panel gate names how its threshold is placed in each
sample (``place``), and the limits it must stay within (``bounds``):

``fixed``
    The panel's ``value``.
``valley``
    The deepest minimum of the parent population's smoothed density inside ``bounds``
    (the valley between the negative and the positive peak). When the minimum lies on a
    bound (no valley inside the limits) or the parent has fewer than
    :data:`MIN_EVENTS` events, the panel's ``value`` is used and the placement is
    flagged as a fallback.
``landmark``
    ``peak + offset``, where ``peak`` is the highest density peak of the ``reference``
    population inside ``peak_range`` (a normal population, such as the CD45-bright
    lymphocytes, that moves with the channel's drift), clipped to ``bounds``.
``gmm``
    A two-component Gaussian mixture (scikit-learn) fitted to at most
    :data:`GMM_MAX_EVENTS` parent events; the threshold is where the two weighted
    components' densities cross between their means, clipped to ``bounds``.

Densities are histograms of *all* the population's events (a numba kernel, one pass,
no copy) smoothed with a Gaussian kernel; only the mixture fit subsamples.
"""

from __future__ import annotations

import math

import numpy as np

from ._placement_kernels import masked_histogram
from .panels import GateSpec

__all__ = ["place_threshold", "smoothed_density", "MIN_EVENTS", "GMM_MAX_EVENTS"]

#: fewest parent (or reference) events for a data-driven placement
MIN_EVENTS = 50
#: events the mixture model is fitted to (a seeded subsample of the parent)
GMM_MAX_EVENTS = 20_000

#: histogram range, bins and smoothing SD (bins) for transformed and linear scatter values
_GRID_TRANSFORMED = (-0.2, 1.2, 350, 5.0)
_GRID_SCATTER = (0.0, 262144.0, 512, 4.0)


def _gaussian_smooth(counts: np.ndarray, sd_bins: float) -> np.ndarray:
    half = int(math.ceil(4 * sd_bins))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sd_bins) ** 2)
    k /= k.sum()
    return np.convolve(counts.astype(np.float64), k, mode="same")


def smoothed_density(x: np.ndarray, mask: np.ndarray, *, scatter: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Bin centres and smoothed counts of ``x[mask]`` on the placement grid.

    Returns
    -------
    centres, density : ndarray
        ``density`` is in events per bin (smoothed).
    """
    lo, hi, nb, sd = _GRID_SCATTER if scatter else _GRID_TRANSFORMED
    counts = masked_histogram(x, mask, lo, hi, nb)
    width = (hi - lo) / nb
    centres = lo + width * (np.arange(nb) + 0.5)
    return centres, _gaussian_smooth(counts, sd)


def _inside(centres: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.flatnonzero((centres >= lo) & (centres <= hi))


def _valley(x, mask, bounds, scatter) -> tuple[float | None, dict]:
    centres, dens = smoothed_density(x, mask, scatter=scatter)
    idx = _inside(centres, *bounds)
    if idx.size < 3:
        return None, {}
    j = idx[np.argmin(dens[idx])]
    if j in (idx[0], idx[-1]):
        return None, {"reason": "no density minimum inside the bounds"}
    left, right = dens[: j + 1].max(), dens[j:].max()
    if not (left > dens[j] and right > dens[j]):
        return None, {"reason": "no peak on both sides of the minimum"}
    return float(centres[j]), {"density_at_valley": float(dens[j])}


def _landmark(x, ref_mask, peak_range, offset, scatter) -> tuple[float | None, dict]:
    centres, dens = smoothed_density(x, ref_mask, scatter=scatter)
    idx = _inside(centres, *peak_range)
    if idx.size < 3:
        return None, {}
    j = idx[np.argmax(dens[idx])]
    if j in (idx[0], idx[-1]) or dens[j] <= 0:
        return None, {"reason": "no density peak inside peak_range"}
    peak = float(centres[j])
    return peak + offset, {"peak": peak}


def _gmm(x, mask, seed: int) -> tuple[float | None, dict]:
    from sklearn.mixture import GaussianMixture

    v = x[mask]
    v = v[np.isfinite(v)]
    if v.size > GMM_MAX_EVENTS:
        v = np.random.default_rng(seed).choice(v, GMM_MAX_EVENTS, replace=False)
    gm = GaussianMixture(2, random_state=seed).fit(v.reshape(-1, 1))
    if not gm.converged_:
        return None, {"reason": "mixture fit did not converge"}
    mu = gm.means_.ravel()
    sd = np.sqrt(gm.covariances_.ravel())
    w = gm.weights_
    a, b = np.argsort(mu)
    grid = np.linspace(mu[a], mu[b], 512)

    def dens(k):
        return w[k] / sd[k] * np.exp(-0.5 * ((grid - mu[k]) / sd[k]) ** 2)

    diff = dens(a) - dens(b)
    cross = np.flatnonzero(np.diff(np.sign(diff)) != 0)
    if cross.size == 0:
        return None, {"reason": "mixture components do not cross between their means"}
    return float(grid[cross[0]]), {"means": [float(mu[a]), float(mu[b])]}


def place_threshold(
    spec: GateSpec,
    x: np.ndarray,
    parent: np.ndarray,
    *,
    reference: np.ndarray | None = None,
    scatter: bool = False,
    seed: int = 0,
) -> dict:
    """Place one threshold gate's value in one sample.

    Parameters
    ----------
    spec : GateSpec
        The panel's gate (``place``, ``value``, ``bounds``, ``peak_range``, ``offset``).
    x : ndarray (n_events,)
        The gate's values for all events (transformed marker, or linear scatter).
    parent : ndarray (n_events,), bool
        The parent population.
    reference : ndarray (n_events,), bool, optional
        Landmark population (default: ``parent``).
    scatter : bool
        ``x`` is a linear scatter channel (selects the density grid).
    seed : int
        Seed of the mixture model's subsample.

    Returns
    -------
    dict
        ``value`` (float, units of ``x``), ``method`` (the placement used), ``fallback``
        (bool: the panel's default was used because the data gave no placement),
        ``reason`` (str), ``events`` (parent events), plus ``peak`` / ``means`` where
        relevant and ``bounds``.
    """
    n = int(np.count_nonzero(parent))
    out = {"method": spec.place, "fallback": False, "reason": "", "events": n, "bounds": spec.bounds}
    value, extra = None, {}
    if spec.place == "fixed":
        value = spec.value
    else:
        src = reference if (spec.place == "landmark" and reference is not None) else parent
        n_src = n if src is parent else int(np.count_nonzero(src))
        if n_src < MIN_EVENTS:
            extra = {"reason": f"{n_src} events (< {MIN_EVENTS}) to place from"}
        elif spec.place == "valley":
            value, extra = _valley(x, parent, spec.bounds or _full(scatter), scatter)
        elif spec.place == "landmark":
            value, extra = _landmark(x, src, spec.peak_range, spec.offset, scatter)
        elif spec.place == "gmm":
            value, extra = _gmm(x, parent, seed)
    out.update(extra)
    if value is None:
        value = spec.value
        out["fallback"] = True
        out["reason"] = out.get("reason") or "no placement found in the data"
    if spec.bounds is not None:
        clipped = min(max(value, spec.bounds[0]), spec.bounds[1])
        if clipped != value:
            out["reason"] = (out["reason"] + "; " if out["reason"] else "") + f"clipped from {value:.4g} to the bounds"
            value = clipped
    out["value"] = float(value)
    return out


def _full(scatter: bool) -> tuple[float, float]:
    lo, hi, _, _ = _GRID_SCATTER if scatter else _GRID_TRANSFORMED
    return (lo, hi)

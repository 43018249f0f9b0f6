"""Per-event novelty against a Gaussian mixture of normal marrow, and grouping of novel events.

The reference density is a full-covariance Gaussian mixture fitted with scikit-learn's
:class:`~sklearn.mixture.GaussianMixture` on a subsample of normal events. Scoring is the
mixture log-density of every event (``GaussianMixture.score_samples``), computed by a
parallel numba kernel (:mod:`._novelty_kernels`) from the stored parameters, so a
reference needs no pickled estimator and scores a million events in a fraction of a
second. Events whose log-density falls below a threshold calibrated on held-out normal
events are *novel*; :func:`group_novel_events` then keeps only the novel events that form
populations of at least ``min_cluster_size`` events (DBSCAN), so scattered novel events of a
normal marrow do not add up to a positive call, and :func:`dissolve_normal_centred` drops
the populations whose centre is itself a normal-looking event (the fringe of a broad normal
population, not a population of its own). See ``docs/dfn.md`` for why a mixture was
chosen over nearest-neighbour distances and isolation forests.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, InputError

__all__ = ["GaussianMixtureModel", "fit_mixture", "score_mixture", "group_novel_events", "dissolve_normal_centred"]

_CHUNK = 4096


def _precisions_cholesky(covariances: np.ndarray) -> np.ndarray:
    """Upper-triangular ``P`` with ``inv(cov) = P P^T`` per component (as scikit-learn)."""
    from scipy.linalg import cholesky, solve_triangular

    k, d, _ = covariances.shape
    out = np.empty_like(covariances)
    eye = np.eye(d)
    for i in range(k):
        try:
            c = cholesky(covariances[i], lower=True)
        except np.linalg.LinAlgError as exc:
            raise InputError(f"mixture component {i}: covariance matrix is not positive definite ({exc})") from None
        out[i] = solve_triangular(c, eye, lower=True).T
    return out


@dataclass(frozen=True)
class GaussianMixtureModel:
    """A fitted Gaussian mixture kept as plain arrays.

    Attributes
    ----------
    weights : ndarray (n_components,)
        Mixing proportions (sum 1).
    means : ndarray (n_components, n_features)
    covariances : ndarray (n_components, n_features, n_features)
    precisions_cholesky : ndarray (n_components, n_features, n_features)
        Derived from ``covariances`` (upper triangular, scikit-learn's convention).
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    precisions_cholesky: np.ndarray

    @classmethod
    def from_arrays(cls, weights, means, covariances) -> "GaussianMixtureModel":
        """Build from weights, means and covariances (derives the precision factors).

        Raises
        ------
        InputError
            Shapes disagree, weights are not a distribution, or a covariance is not
            positive definite.
        """
        w = np.ascontiguousarray(weights, dtype=np.float64)
        mu = np.ascontiguousarray(means, dtype=np.float64)
        cov = np.ascontiguousarray(covariances, dtype=np.float64)
        if w.ndim != 1 or mu.ndim != 2 or cov.ndim != 3 or mu.shape[0] != w.size or cov.shape != (w.size, mu.shape[1], mu.shape[1]):
            raise InputError(
                f"mixture: weights {w.shape}, means {mu.shape}, covariances {cov.shape} do not describe "
                "n_components Gaussians in n_features dimensions"
            )
        if w.size == 0 or not (np.all(np.isfinite(w)) and np.all(w >= 0) and abs(w.sum() - 1.0) < 1e-6):
            raise InputError(f"mixture: weights must be non-negative and sum to 1, got sum {w.sum():.6g}")
        if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(cov))):
            raise InputError("mixture: means or covariances contain NaN or infinite values")
        return cls(w, mu, cov, np.ascontiguousarray(_precisions_cholesky(cov)))

    @property
    def n_components(self) -> int:
        return int(self.weights.size)

    @property
    def n_features(self) -> int:
        return int(self.means.shape[1])

    def log_constants(self) -> np.ndarray:
        """``log w_k - d/2 log(2 pi) + log det P_k`` per component."""
        d = self.n_features
        logdet = np.log(np.diagonal(self.precisions_cholesky, axis1=1, axis2=2)).sum(axis=1)
        with np.errstate(divide="ignore"):
            return np.log(self.weights) - 0.5 * d * math.log(2 * math.pi) + logdet

    def score(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log-density, nearest component and its squared Mahalanobis distance per event.

        See :func:`score_mixture`.
        """
        return score_mixture(x, self)

    def to_sklearn(self):
        """An equivalent fitted :class:`sklearn.mixture.GaussianMixture` (for checks)."""
        from sklearn.mixture import GaussianMixture

        gm = GaussianMixture(n_components=self.n_components, covariance_type="full")
        gm.weights_ = self.weights.copy()
        gm.means_ = self.means.copy()
        gm.covariances_ = self.covariances.copy()
        gm.precisions_cholesky_ = self.precisions_cholesky.copy()
        gm.precisions_ = np.einsum("kij,klj->kil", self.precisions_cholesky, self.precisions_cholesky)
        gm.converged_ = True
        gm.n_iter_ = 0
        gm.n_features_in_ = self.n_features
        return gm


def fit_mixture(
    x: np.ndarray,
    n_components: int = 20,
    *,
    seed: int = 0,
    max_iter: int = 300,
    reg_covar: float = 1e-4,
    n_init: int = 1,
) -> GaussianMixtureModel:
    """Fit a full-covariance Gaussian mixture to normal events (scikit-learn EM).

    Parameters
    ----------
    x : ndarray (n_events, n_features), transformed units
    n_components : int, default 20
    seed : int, default 0
        ``random_state`` of the k-means initialisation.
    max_iter : int, default 300
    reg_covar : float, default 1e-4, squared transformed units
        Added to each covariance diagonal (a floor on population spread).
    n_init : int, default 1

    Returns
    -------
    GaussianMixtureModel

    Raises
    ------
    InputError
        Fewer events than ``10 * n_components`` or non-finite values.
    ConfigError
        EM did not converge within ``max_iter`` (the fit is refused, not returned).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 10 * n_components:
        raise InputError(
            f"mixture fit: {x.shape[0] if x.ndim == 2 else 0} events for {n_components} components; "
            f"need at least {10 * n_components}"
        )
    if not np.all(np.isfinite(x)):
        raise InputError("mixture fit: events contain NaN or infinite values")
    gm = GaussianMixture(
        n_components=n_components,
        covariance_type="full",
        reg_covar=reg_covar,
        max_iter=max_iter,
        n_init=n_init,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(x)
    if not gm.converged_:
        raise ConfigError(
            f"mixture fit did not converge in max_iter={max_iter} EM iterations "
            f"({n_components} components, {x.shape[0]} events); raise max_iter or lower n_components"
        )
    return GaussianMixtureModel.from_arrays(gm.weights_, gm.means_, gm.covariances_)


def score_mixture(x: np.ndarray, model: GaussianMixtureModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mixture log-density of every event (``GaussianMixture.score_samples``), numba.

    Parameters
    ----------
    x : ndarray (n_events, n_features), float, transformed units
    model : GaussianMixtureModel

    Returns
    -------
    score : ndarray (n_events,), float64, log density
    nearest : ndarray (n_events,), int32
        Component with the largest weighted density at the event.
    mahalanobis_sq : ndarray (n_events,), float64
        Squared Mahalanobis distance of the event to ``nearest``.
    """
    from ._novelty_kernels import _gmm_score

    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != model.n_features:
        raise InputError(f"scoring: events have shape {x.shape}, the mixture has {model.n_features} features")
    n = x.shape[0]
    n_chunks = max(1, -(-n // _CHUNK))
    scratch = np.empty((n_chunks, model.n_components))
    score = np.empty(n)
    best = np.empty(n, dtype=np.int32)
    d2 = np.empty(n)
    if n:
        shift = np.ascontiguousarray(np.einsum("km,kmj->kj", model.means, model.precisions_cholesky))
        order = np.argsort(-model.weights, kind="stable").astype(np.int64)
        _gmm_score(x, shift, model.precisions_cholesky, model.log_constants(), order, _CHUNK, scratch, score, best, d2)
    return score, best, d2


def group_novel_events(
    x: np.ndarray,
    *,
    eps: float,
    min_samples: int,
    min_cluster_size: int,
    max_cluster_events: int = 4000,
    seed: int = 0,
) -> np.ndarray:
    """Group novel events into populations; scattered events get label -1.

    DBSCAN (scikit-learn) with radius ``eps`` and ``min_samples`` runs on at most
    ``max_cluster_events`` novel events (a random subset when there are more); every other
    novel event joins the cluster of its nearest core event when that lies within
    ``eps``. Clusters with fewer than ``min_cluster_size`` events in the end are dissolved
    (label -1). Labels are renumbered 0, 1, ... by decreasing size.

    Parameters
    ----------
    x : ndarray (n_novel, n_features), transformed units
    eps : float, transformed units
    min_samples : int, events
    min_cluster_size : int, events
        Usually the LOD in events.
    max_cluster_events : int, default 4000
    seed : int, default 0

    Returns
    -------
    ndarray (n_novel,), int64
    """
    from sklearn.cluster import DBSCAN
    from sklearn.neighbors import NearestNeighbors

    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    if n < max(min_samples, 1):
        return labels
    if n > max_cluster_events:
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(n, max_cluster_events, replace=False))
        # keep the density threshold per unit volume comparable after thinning
        ms = max(2, int(round(min_samples * max_cluster_events / n)))
    else:
        idx = np.arange(n)
        ms = min_samples
    db = DBSCAN(eps=eps, min_samples=ms).fit(x[idx])
    labels[idx] = db.labels_
    core = idx[db.core_sample_indices_]
    rest = np.setdiff1d(np.arange(n), idx, assume_unique=True)
    if rest.size and core.size:
        nn = NearestNeighbors(n_neighbors=1).fit(x[core])
        dist, j = nn.kneighbors(x[rest])
        ok = dist[:, 0] <= eps
        labels[rest[ok]] = labels[core[j[ok, 0]]]
    # dissolve small clusters, renumber by size
    out = np.full(n, -1, dtype=np.int64)
    ids, counts = np.unique(labels[labels >= 0], return_counts=True)
    keep = [(c, i) for i, c in zip(ids, counts) if c >= min_cluster_size]
    for new, (_, old) in enumerate(sorted(keep, key=lambda t: (-t[0], t[1]))):
        out[labels == old] = new
    return out


def dissolve_normal_centred(
    x: np.ndarray, labels: np.ndarray, model: GaussianMixtureModel, threshold: float
) -> tuple[np.ndarray, int]:
    """Dissolve the populations whose centre is not novel.

    The centre of a population is the per-feature median of its events. When the mixture
    log-density there is at least ``threshold``, the centre is an ordinary normal event
    and the population is the fringe of a normal population that reaches below the
    threshold (for example the dim, broad debris cloud at the edge of a CD45 gate), not a
    population of its own: its events get label -1. A population of leukemic cells has its
    centre far outside normal marrow.

    Parameters
    ----------
    x : ndarray (n_novel, n_features), transformed units
    labels : ndarray (n_novel,), int
        From :func:`group_novel_events` (-1 = not in a population).
    model : GaussianMixtureModel
    threshold : float, log density

    Returns
    -------
    labels : ndarray (n_novel,), int64
        Remaining populations renumbered 0, 1, ... in their previous order.
    dissolved : int, events
        Events of the dissolved populations.
    """
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(labels.shape, -1, dtype=np.int64)
    ids = [int(i) for i in np.unique(labels[labels >= 0])]
    if not ids:
        return out, 0
    x = np.asarray(x, dtype=np.float64)
    centres = np.stack([np.median(x[labels == i], axis=0) for i in ids])
    centre_score = score_mixture(centres, model)[0]
    new = 0
    for i, sc in zip(ids, centre_score):
        if sc < threshold:
            out[labels == i] = new
            new += 1
    return out, int(np.count_nonzero((labels >= 0) & (out < 0)))

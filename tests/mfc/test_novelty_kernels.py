"""The numba mixture-scoring kernel against scikit-learn's GaussianMixture.score_samples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdquant.errors import InputError
from mrdquant.mfc.novelty import (
    GaussianMixtureModel,
    dissolve_normal_centred,
    fit_mixture,
    group_novel_events,
    score_mixture,
)


def _random_mixture(rng, k, d):
    w = rng.dirichlet(np.ones(k))
    mu = rng.normal(0, 2, (k, d))
    a = rng.normal(0, 1, (k, d, d))
    cov = np.einsum("kij,klj->kil", a, a) + 0.05 * np.eye(d)
    return GaussianMixtureModel.from_arrays(w, mu, cov)


@settings(max_examples=40)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 6), d=st.integers(1, 7), n=st.integers(0, 300))
def test_score_matches_sklearn_score_samples(seed, k, d, n):
    rng = np.random.default_rng(seed)
    model = _random_mixture(rng, k, d)
    x = rng.normal(0, 4, (n, d))
    score, nearest, d2 = score_mixture(x, model)
    gm = model.to_sklearn()
    if n == 0:
        assert score.shape == (0,)
        return
    np.testing.assert_allclose(score, gm.score_samples(x), rtol=1e-10, atol=1e-8)
    weighted = gm._estimate_weighted_log_prob(x)
    np.testing.assert_array_equal(nearest, weighted.argmax(axis=1))
    # squared Mahalanobis distance to the chosen component, from the covariance directly
    for i in range(n):
        c = nearest[i]
        diff = x[i] - model.means[c]
        assert d2[i] == pytest.approx(diff @ np.linalg.solve(model.covariances[c], diff), rel=1e-8, abs=1e-8)


def test_far_events_do_not_underflow_to_minus_infinity():
    model = GaussianMixtureModel.from_arrays([0.5, 0.5], [[0.0], [1.0]], [[[1e-4]], [[1e-4]]])
    score, nearest, _ = score_mixture(np.array([[50.0], [-50.0]]), model)
    assert np.all(np.isfinite(score))
    assert nearest.tolist() == [1, 0]
    np.testing.assert_allclose(score, model.to_sklearn().score_samples(np.array([[50.0], [-50.0]])))


def test_bad_shapes_and_weights_are_refused():
    with pytest.raises(InputError, match="sum to 1"):
        GaussianMixtureModel.from_arrays([0.5, 0.6], [[0.0], [1.0]], [[[1.0]], [[1.0]]])
    with pytest.raises(InputError, match="positive definite"):
        GaussianMixtureModel.from_arrays([1.0], [[0.0, 0.0]], [[[1.0, 2.0], [2.0, 1.0]]])
    model = GaussianMixtureModel.from_arrays([1.0], [[0.0, 0.0]], [np.eye(2)])
    with pytest.raises(InputError, match="2 features"):
        score_mixture(np.zeros((3, 3)), model)


def test_fit_recovers_two_separated_gaussians():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0, 0.1, (3000, 2)), rng.normal(1, 0.2, (1000, 2))])
    m = fit_mixture(x, 2, seed=0)
    order = np.argsort(m.means[:, 0])
    np.testing.assert_allclose(m.weights[order], [0.75, 0.25], atol=0.02)
    np.testing.assert_allclose(m.means[order], [[0, 0], [1, 1]], atol=0.02)
    np.testing.assert_allclose(np.sqrt(m.covariances[order][:, 0, 0]), [0.1, 0.2], rtol=0.06)


def test_fit_refuses_too_few_events():
    with pytest.raises(InputError, match="need at least 40"):
        fit_mixture(np.zeros((39, 2)), 4)


def test_grouping_keeps_dense_populations_and_drops_scattered_events():
    rng = np.random.default_rng(5)
    scattered = rng.uniform(0, 1, (60, 8))  # far apart in 8 dimensions
    blob = rng.normal(0.5, 0.02, (30, 8))
    small = rng.normal(0.2, 0.02, (12, 8))
    x = np.concatenate([scattered, blob, small])
    lab = group_novel_events(x, eps=0.25, min_samples=10, min_cluster_size=20)
    assert np.all(lab[:60] == -1)
    assert np.all(lab[60:90] == 0)
    assert np.all(lab[90:] == -1)  # a dense group below the minimum size is dissolved


def test_grouping_thins_large_sets_and_assigns_every_event():
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.normal(0.3, 0.02, (6000, 4)), rng.normal(0.8, 0.02, (3000, 4))])
    lab = group_novel_events(x, eps=0.1, min_samples=10, min_cluster_size=20, max_cluster_events=1000)
    assert np.all(lab[:6000] == 0) and np.all(lab[6000:] == 1)


def test_populations_centred_on_normal_events_are_dissolved():
    # standard normal in 2-D: log density at the origin -log(2 pi) = -1.838, at distance r
    # -1.838 - r^2 / 2; threshold at r = 3: -6.338
    model = GaussianMixtureModel.from_arrays([1.0], [[0.0, 0.0]], [np.eye(2)])
    thr = -np.log(2 * np.pi) - 4.5
    ang = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    ring = np.column_stack([3.5 * np.cos(ang), 3.5 * np.sin(ang)])  # every event novel, centre (0, 0) normal
    far = np.array([6.0, 0.0]) + 0.1 * np.column_stack([np.cos(ang[:25]), np.sin(ang[:25])])
    x = np.concatenate([ring, far])
    assert np.all(score_mixture(x, model)[0] < thr)
    labels = np.concatenate([np.zeros(40, int), np.ones(25, int)])
    out, dissolved = dissolve_normal_centred(x, labels, model, thr)
    assert dissolved == 40 and np.all(out[:40] == -1) and np.all(out[40:] == 0)  # renumbered
    out, dissolved = dissolve_normal_centred(x, np.full(65, -1), model, thr)
    assert dissolved == 0 and np.all(out == -1)

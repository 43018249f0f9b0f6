"""QC and placement kernels against plain numpy references."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mrdquant.mfc._placement_kernels import (
    binned_sample,
    finite_range,
    masked_histogram,
    singlet_values,
)

FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)


def _naive_binned_counts(t, mask, edges):
    v = t[mask]
    v = v[(v >= edges[0]) & (v <= edges[-1])]  # NaN fails both
    b = np.searchsorted(edges, v, side="right") - 1
    b[v == edges[-1]] = edges.size - 2  # the last bin is closed
    return np.bincount(b, minlength=edges.size - 1)


@settings(max_examples=150, deadline=None)
@given(st.data(), st.integers(1, 120), st.booleans())
def test_binned_sample_counts_match_searchsorted(data, n_bins, spaced):
    t = data.draw(arrays(np.float64, st.integers(0, 400), elements=FLOATS))
    mask = data.draw(arrays(np.bool_, t.shape))
    lo = data.draw(st.floats(-1e6, 1e6))
    width = data.draw(st.floats(1e-6, 1e6))
    if spaced:
        edges = np.linspace(lo, lo + width, n_bins + 1)
    else:  # uneven edges are binned exactly too
        edges = np.unique(np.sort(data.draw(arrays(np.float64, n_bins + 1, elements=st.floats(-1e6, 1e6)))))
        if edges.size < 2:
            edges = np.array([lo, lo + width])
    # values on and around the edges
    t = np.concatenate([t, edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf)])
    mask = np.concatenate([mask, np.ones(3 * edges.size, dtype=bool)])
    np.testing.assert_array_equal(binned_sample(t, mask, edges, 0.0, 0)[0], _naive_binned_counts(t, mask, edges))


def test_binned_sample_counts_over_an_extreme_range():
    # the span overflows to inf: every value is still binned by its edges
    edges = np.array([-1e308, -5e307, 0.0, 5e307, 1e308])
    t = np.array([-1e308, -6e307, 0.0, 1e308, 5e307, -1.0])
    assert binned_sample(t, np.ones(6, dtype=bool), edges, 0.0, 0)[0].tolist() == [2, 1, 1, 2]


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_finite_range_matches_numpy(data):
    t = data.draw(arrays(np.float64, st.integers(0, 300), elements=FLOATS))
    mask = data.draw(arrays(np.bool_, t.shape))
    v = t[mask]
    v = v[np.isfinite(v)]
    n, lo, hi = finite_range(t, mask)
    assert n == v.size
    if v.size:
        assert (lo, hi) == (v.min(), v.max())
    else:
        assert lo > hi


@settings(max_examples=100, deadline=None)
@given(st.data(), st.booleans(), st.sampled_from([np.float32, np.float64]))
def test_singlet_values_match_numpy(data, width, dtype):
    n = data.draw(st.integers(0, 300))
    a = data.draw(arrays(dtype, n, elements=st.floats(-1e5, 1e6, width=32) | st.just(np.nan)))
    s = data.draw(arrays(dtype, n, elements=st.floats(-1e5, 1e6, width=32) | st.just(np.inf)))
    mask = data.draw(arrays(np.bool_, n))
    a64, s64 = a[mask].astype(np.float64), s[mask].astype(np.float64)
    ok = (a64 > 0) & np.isfinite(a64) & np.isfinite(s64)
    want = s64[ok] if width else s64[ok] / a64[ok]
    np.testing.assert_array_equal(singlet_values(a, s, mask, width=width), want)


def _naive_histogram(x, mask, lo, hi, nb):
    v = x[mask]
    v = v[(v >= lo) & (v < hi)]
    b = np.minimum(((v - lo) * (nb / (hi - lo))).astype(np.int64), nb - 1)
    return np.bincount(b, minlength=nb)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 400_000), st.integers(0, 2**31), st.integers(1, 600))
def test_masked_histogram_matches_numpy_serial_and_parallel(n, seed, nb):
    # from 2**17 events the histogram is counted in chunks on parallel threads
    rng = np.random.default_rng(seed)
    x = rng.normal(0.5, 0.4, n)
    x[rng.random(n) < 0.01] = np.nan
    mask = rng.random(n) < 0.7
    want = _naive_histogram(x, mask, -0.2, 1.2, nb)
    got = masked_histogram(x, mask, -0.2, 1.2, nb)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


@settings(max_examples=120, deadline=None)
@given(st.data(), st.integers(1, 60), st.floats(0.0, 1.5), st.integers(0, 2**63))
def test_binned_sample_samples_binned_events_with_their_bins(data, n_bins, fraction, seed):
    t = data.draw(arrays(np.float64, st.integers(0, 400), elements=FLOATS))
    mask = data.draw(arrays(np.bool_, t.shape))
    lo = data.draw(st.floats(-1e6, 1e6))
    edges = np.linspace(lo, lo + data.draw(st.floats(1e-6, 1e6)), n_bins + 1)
    t = np.concatenate([t, edges, np.nextafter(edges, np.inf)])
    mask = np.concatenate([mask, np.ones(2 * edges.size, dtype=bool)])
    counts, take, bins = binned_sample(t, mask, edges, fraction, seed)
    np.testing.assert_array_equal(counts, _naive_binned_counts(t, mask, edges))
    binned = np.flatnonzero(mask & (t >= edges[0]) & (t <= edges[-1]))
    # the sample: binned events only, in file order, each with its own bin
    assert np.isin(take, binned).all() and np.all(np.diff(take) > 0)
    expect = np.searchsorted(edges, t[take], side="right") - 1
    expect[t[take] == edges[-1]] = n_bins - 1
    np.testing.assert_array_equal(bins, expect)
    if fraction >= 1.0:
        np.testing.assert_array_equal(take, binned)
    if fraction == 0.0:
        assert take.size == 0
    # the same seed draws the same events
    np.testing.assert_array_equal(binned_sample(t, mask, edges, fraction, seed)[1], take)


def test_binned_sample_draws_the_fraction_independently_of_position():
    n = 200_000
    t = np.arange(n, dtype=np.float64)
    mask = np.arange(n) % 3 != 0
    edges = np.linspace(0, n - 1, 11)
    _, take, bins = binned_sample(t, mask, edges, 0.1, seed=7)
    m = int(mask.sum())
    # Binomial(m, 0.1): within 5 SD of its mean, in total and in every bin
    assert abs(take.size - 0.1 * m) < 5 * np.sqrt(m * 0.09)
    per_bin = np.bincount(bins, minlength=10)
    assert np.all(np.abs(per_bin - 0.1 * m / 10) < 5 * np.sqrt(m / 10 * 0.09))
    # no preference for event parity (a periodic signal is not aliased)
    assert abs(np.mean(take % 2) - 0.5) < 5 * np.sqrt(0.25 / take.size)
    # another seed draws other events
    other = binned_sample(t, mask, edges, 0.1, seed=8)[1]
    assert np.intersect1d(take, other).size < 0.2 * take.size

"""Exact median kernel against numpy.median (bit for bit), hand cases and properties."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mrdquant.mfc._median_kernels import median


def _numpy_median(v, center=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy warns on empty input
        return float(np.median(v if center is None else np.abs(v - center)))


def _same(got, want):
    return (np.isnan(got) and np.isnan(want)) or got == want


def test_hand_cases():
    assert median(np.array([3.0, 1.0, 2.0])) == 2.0
    assert median(np.array([4.0, 1.0, 3.0, 2.0])) == 2.5
    assert median(np.array([-5.0, 7.0])) == 1.0
    assert median(np.array([1.0, 2.0, 10.0]), center=2.0) == 1.0  # deviations 1, 0, 8
    assert median(np.array([np.inf, 1.0, -np.inf])) == 1.0
    assert np.isnan(median(np.array([1.0, np.nan, 2.0])))
    assert np.isnan(median(np.array([])))
    assert median(np.array([7])) == 7.0  # integers are converted


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.integers(0, 3000),
              elements=st.floats(allow_nan=True, allow_infinity=True, width=64)),
       st.one_of(st.none(), st.floats(-1e6, 1e6)))
def test_equals_numpy_median_on_any_values(v, center):
    assert _same(median(v, center=center), _numpy_median(v, center))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 200_000), st.sampled_from(["ratio", "ties", "two", "wide", "negative"]), st.integers(0, 2**31))
def test_equals_numpy_median_on_large_data(n, kind, seed):
    # large inputs go through the histogram narrowing, not only the final sort
    rng = np.random.default_rng(seed)
    v = {
        "ratio": lambda: rng.normal(0.8, 0.01, n),
        "ties": lambda: rng.integers(0, 5, n).astype(np.float64),
        "two": lambda: np.where(rng.random(n) < 0.5, 1.0, 2.0),
        "wide": lambda: rng.standard_cauchy(n) * 1e6,
        "negative": lambda: -rng.exponential(1e4, n),
    }[kind]()
    med = _numpy_median(v)
    assert _same(median(v), med)
    assert _same(median(v, center=med), _numpy_median(v, med))


@pytest.mark.parametrize("n", [1_000_001, 1_000_000])
def test_a_million_ratios(n):
    v = np.random.default_rng(n).normal(0.8, 0.01, n)
    assert median(v) == _numpy_median(v)
    assert median(v, center=0.8) == _numpy_median(v, 0.8)

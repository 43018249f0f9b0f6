"""Fisher's exact test by the network algorithm: R's fisher.test, full enumeration, symmetry."""

from __future__ import annotations

import itertools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import gammaln

from mrdquant.errors import InputError, StatisticalWarning
from mrdquant.outcomes._fisher_kernels import margin_bounds, two_column_bounds
from mrdquant.outcomes.characteristics import fisher_exact
from naive.survival import naive_fisher_p

REFERENCE = json.loads((Path(__file__).parent / "reference" / "fisher.json").read_text())
TABLES = REFERENCE["tables"]


def _table(case):
    return np.asarray(case["cells"], dtype=int).reshape(int(case["nrow"]), -1)


def _tables(max_rows, max_cols, max_count):
    return st.integers(2, max_rows).flatmap(
        lambda r: st.integers(2, max_cols).flatmap(
            lambda c: st.lists(
                st.lists(st.integers(0, max_count), min_size=c, max_size=c), min_size=r, max_size=r
            )
        )
    ).map(np.array)


def _full(m):
    return not ((m.sum(axis=0) == 0).any() or (m.sum(axis=1) == 0).any())


@pytest.mark.r
@pytest.mark.parametrize("case", TABLES, ids=lambda c: c["name"])
def test_matches_r_fisher_test(case):
    m = _table(case)
    assert fisher_exact(m).p_value == pytest.approx(case["p_value"], rel=1e-9, abs=1e-15)


@pytest.mark.r
@pytest.mark.parametrize("case", TABLES, ids=lambda c: c["name"])
def test_transpose_and_permutations_keep_p(case):
    m = _table(case)
    p = fisher_exact(m).p_value
    rng = np.random.default_rng(len(case["name"]))
    assert fisher_exact(m.T).p_value == pytest.approx(p, rel=1e-10)
    assert fisher_exact(m[rng.permutation(m.shape[0])]).p_value == pytest.approx(p, rel=1e-10)
    assert fisher_exact(m[:, rng.permutation(m.shape[1])]).p_value == pytest.approx(p, rel=1e-10)


@settings(max_examples=60, deadline=None)
@given(_tables(4, 4, 2))
def test_matches_full_enumeration(m):
    if not _full(m) or m.sum() > 16:
        return
    assert fisher_exact(m).p_value == pytest.approx(naive_fisher_p(m), rel=1e-9, abs=1e-14)


@settings(max_examples=40, deadline=None)
@given(_tables(5, 5, 5), st.randoms(use_true_random=False))
def test_symmetry_on_random_tables(m, rnd):
    if m.sum() > {2: 200, 3: 90, 4: 50, 5: 40}[min(m.shape)]:
        return  # keep 4×4 and 5×5 tables small (fast)
    p = fisher_exact(m).p_value
    assert 0.0 < p <= 1.0
    rows = list(range(m.shape[0]))
    cols = list(range(m.shape[1]))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    assert fisher_exact(m.T).p_value == pytest.approx(p, rel=1e-9)
    assert fisher_exact(m[rows][:, cols]).p_value == pytest.approx(p, rel=1e-9)


def test_empty_rows_and_columns_are_dropped():
    m = np.array([[3, 0, 1], [0, 0, 0], [1, 0, 4]])
    assert fisher_exact(m).p_value == pytest.approx(fisher_exact([[3, 1], [1, 4]]).p_value, rel=1e-12)
    assert fisher_exact([[0, 0], [2, 3]]).p_value == 1.0


def test_ties_count_as_extreme():
    # margins 3, 3 / 3, 3: P(x = 0..3) = 1, 9, 9, 1 (/ 20); tables as likely as the
    # observed one count, by hand
    assert fisher_exact([[1, 2], [2, 1]]).p_value == pytest.approx(1.0, abs=1e-12)
    assert fisher_exact([[2, 1], [1, 2]]).p_value == pytest.approx(1.0, abs=1e-12)
    assert fisher_exact([[0, 3], [3, 0]]).p_value == pytest.approx(0.1, rel=1e-12)
    assert fisher_exact([[3, 0], [0, 3]]).p_value == pytest.approx(0.1, rel=1e-12)
    # 3×3 with every cell 2 is the most likely table: P = 1
    assert fisher_exact(np.full((3, 3), 2)).p_value == pytest.approx(1.0, abs=1e-12)


def test_bounds_give_warning_and_nan():
    m = np.array([[9, 8, 7, 9, 8], [8, 9, 8, 7, 9], [7, 8, 9, 8, 7], [9, 7, 8, 9, 8], [8, 9, 7, 8, 9]])
    with pytest.warns(StatisticalWarning, match=r"5×5 table of 203 patients exceeds max_steps"):
        res = fisher_exact(m, max_steps=10_000)
    assert math.isnan(res.p_value) and res.test == "fisher"
    with pytest.warns(StatisticalWarning, match="workspace"):
        assert math.isnan(fisher_exact(m, workspace=1_000).p_value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fisher_exact(m[:2], max_steps=10_000).p_value > 0


@pytest.mark.parametrize("bad", [0, -5, 1.5, True, "10"])
def test_bad_bounds(bad):
    with pytest.raises(InputError, match="workspace"):
        fisher_exact([[1, 2], [3, 4]], workspace=bad)


def _costs(rem, cols):
    """Every sum of log(x!) over tables with row sums rem and column sums cols."""
    out = []
    r = len(rem)

    def fill(j, left, acc):
        if j == len(cols) - 1:
            out.append(acc + sum(math.lgamma(v + 1) for v in left))
            return
        for x in itertools.product(*[range(v + 1) for v in left]):
            if sum(x) == cols[j]:
                fill(j + 1, [a - b for a, b in zip(left, x)], acc + sum(math.lgamma(v + 1) for v in x))

    fill(0, list(rem), 0.0)
    assert r >= 1
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=2, max_size=5), st.data())
def test_two_column_bounds_are_exact(rem, data):
    rem = np.array(rem, dtype=np.int64)
    t = data.draw(st.integers(0, int(rem.sum())))
    logfact = gammaln(np.arange(rem.sum() + 2) + 1.0)
    lo, hi = two_column_bounds(rem, t, logfact)
    costs = _costs(rem, [t, int(rem.sum()) - t])
    assert lo == pytest.approx(min(costs), abs=1e-9)
    assert hi == pytest.approx(max(costs), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=2, max_size=3), st.data())
def test_margin_bounds_enclose_every_completion(rem, data):
    rem = np.array(rem, dtype=np.int64)
    n = int(rem.sum())
    a = data.draw(st.integers(0, n))
    b = data.draw(st.integers(0, n - a))
    cols = np.array([a, b, n - a - b], dtype=np.int64)
    logfact = gammaln(np.arange(n + 2) + 1.0)
    lo, hi = margin_bounds(rem, cols, logfact)
    costs = _costs(rem, list(cols))
    assert lo <= min(costs) + 1e-9
    assert hi >= max(costs) - 1e-9

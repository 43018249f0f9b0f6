"""Table-1 tests against R (fisher.test, chisq.test, wilcox.test, kruskal.test) and by enumeration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mrdquant.errors import InputError
from mrdquant.outcomes.characteristics import (
    COHORT_COLUMNS,
    chi2_test,
    cohort_table,
    fisher_exact,
    kruskal_wallis,
    mann_whitney,
    wide_cohort_table,
)
from naive.survival import load_r_survival, naive_fisher_p

R = load_r_survival()


def _table(case):
    return np.asarray(case["cells"], dtype=int).reshape(int(case["nrow"]), -1)


@pytest.mark.r
@pytest.mark.parametrize("case", R["tables"], ids=lambda c: c["name"])
def test_fisher_matches_fisher_test(case):
    assert fisher_exact(_table(case)).p_value == pytest.approx(case["fisher_p"], abs=1e-9)


@pytest.mark.r
@pytest.mark.parametrize("case", R["tables"], ids=lambda c: c["name"])
def test_chi2_matches_chisq_test(case):
    m = _table(case)
    yates = chi2_test(m, correct=True)
    plain = chi2_test(m, correct=False)
    assert yates.statistic == pytest.approx(case["chisq_correct"], abs=1e-9)
    assert yates.p_value == pytest.approx(case["chisq_correct_p"], abs=1e-9)
    assert plain.statistic == pytest.approx(case["chisq"], abs=1e-9)
    assert plain.p_value == pytest.approx(case["chisq_p"], abs=1e-9)
    assert plain.df == case["chisq_df"]
    assert yates.test == ("chi2_yates" if m.shape == (2, 2) else "chi2")


@pytest.mark.r
@pytest.mark.parametrize("case", R["wilcox"], ids=lambda c: c["name"])
def test_mann_whitney_matches_wilcox_test(case):
    res = mann_whitney(case["x"], case["y"])
    assert res.statistic == pytest.approx(case["W"], abs=1e-9)
    assert res.p_value == pytest.approx(case["p_value"], abs=1e-9)
    assert mann_whitney(case["x"], case["y"], correct=False).p_value == pytest.approx(case["p_value_nocorrect"], abs=1e-9)


@pytest.mark.r
def test_kruskal_matches_kruskal_test():
    d = R["datasets"]["bmt"]
    res = kruskal_wallis(*[d["z1"][d["group"] == g] for g in (1, 2, 3)])
    assert res.statistic == pytest.approx(R["kruskal"]["statistic"], abs=1e-9)
    assert res.p_value == pytest.approx(R["kruskal"]["p_value"], abs=1e-9)
    assert res.df == R["kruskal"]["df"]


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 3).flatmap(
        lambda r: st.integers(2, 3).flatmap(
            lambda c: st.lists(st.lists(st.integers(0, 5), min_size=c, max_size=c), min_size=r, max_size=r)
        )
    )
)
def test_fisher_rxc_matches_full_enumeration(cells):
    m = np.array(cells)
    if (m.sum(axis=0) == 0).any() or (m.sum(axis=1) == 0).any():
        return
    assert fisher_exact(m).p_value == pytest.approx(naive_fisher_p(m), rel=1e-9, abs=1e-12)
    assert fisher_exact(m.T).p_value == pytest.approx(fisher_exact(m).p_value, rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 15), min_size=4, max_size=4))
def test_fisher_2x2_matches_scipy(cells):
    m = np.array(cells).reshape(2, 2)
    if (m.sum(axis=0) == 0).any() or (m.sum(axis=1) == 0).any():
        return
    assert fisher_exact(m).p_value == pytest.approx(stats.fisher_exact(m)[1], rel=1e-9, abs=1e-12)


def test_fisher_bad_table():
    with pytest.raises(InputError, match="whole numbers"):
        fisher_exact([[1, -1], [2, 3]])
    with pytest.raises(InputError, match="2-D"):
        fisher_exact([1, 2, 3])


def _cohort():
    return pd.DataFrame({
        "arm": ["A"] * 6 + ["B"] * 6,
        "age": [20, 30, 40, 50, 60, np.nan, 25, 35, 45, 55, 65, 75],
        "sex": ["m", "f", "m", "m", "f", "m", "f", "f", "f", "m", "f", "f"],
    })


def test_cohort_table_counts_and_tests_by_hand():
    tab = cohort_table(_cohort(), "arm", ["age", "sex"], continuous=["age"])
    assert list(tab.columns) == COHORT_COLUMNS
    age = tab[tab["variable"] == "age"].set_index("group")
    assert age.loc["A", "n"] == 5 and age.loc["A", "median"] == 40 and age.loc["A", "min"] == 20
    assert age.loc["B", "median"] == 50 and age.loc["all", "n"] == 11
    assert age.loc["A", "summary"] == "40.0 (20.0–60.0)"
    mw = mann_whitney([20, 30, 40, 50, 60], [25, 35, 45, 55, 65, 75])
    assert age.loc["A", "p_value"] == mw.p_value and age.loc["A", "test"] == "mann_whitney"
    sex = tab[(tab["variable"] == "sex") & (tab["level"] == "m")].set_index("group")
    assert sex.loc["A", "n"] == 4 and sex.loc["A", "total"] == 6
    assert sex.loc["A", "summary"] == "4 (66.7%)"
    assert sex.loc["B", "n"] == 1
    # expected counts below 5: Fisher's exact test on [[f: 2, 5], [m: 4, 1]]
    assert sex.loc["A", "test"] == "fisher"
    assert sex.loc["A", "p_value"] == pytest.approx(stats.fisher_exact([[2, 5], [4, 1]])[1], rel=1e-12)


def test_cohort_table_chi2_when_counts_are_large():
    df = pd.DataFrame({"g": ["a"] * 40 + ["b"] * 40, "x": ["y"] * 25 + ["n"] * 15 + ["y"] * 12 + ["n"] * 28})
    tab = cohort_table(df, "g", ["x"])
    assert tab["test"].iloc[0] == "chi2_yates"
    assert tab["p_value"].iloc[0] == pytest.approx(stats.chi2_contingency([[15, 28], [25, 12]])[1], rel=1e-12)
    forced = cohort_table(df, "g", ["x"], categorical_test="chi2", correct=False)
    assert forced["test"].iloc[0] == "chi2"


def test_wide_cohort_table_layout():
    wide = wide_cohort_table(cohort_table(_cohort(), "arm", ["age", "sex"], continuous=["age"]))
    assert list(wide.columns) == ["variable", "level", "all", "A", "B", "test", "p_value"]
    assert wide["variable"].tolist() == ["age", "sex", "sex"]


def test_cohort_table_errors():
    with pytest.raises(InputError, match="not in data"):
        cohort_table(_cohort(), "nope")
    with pytest.raises(InputError, match="only one group"):
        cohort_table(_cohort().assign(arm="A"), "arm")
    with pytest.raises(InputError, match="non-numeric"):
        cohort_table(_cohort().assign(age=["x"] * 12), "arm", ["age"], continuous=["age"])

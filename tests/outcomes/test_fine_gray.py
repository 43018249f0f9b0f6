"""Fine-Gray regression: cmprsk::crr reference, naive likelihood and sandwich, errors."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive.competing_risks import fine_gray_pieces
from scipy import stats

from mrdquant.errors import InputError
from mrdquant.outcomes.subdistribution import _Problem, fine_gray

REFERENCE = Path(__file__).parent / "reference" / "competing_risks.json"
COVARIATES = {"bmt": ["age", "fab", "disease"], "months": ["age", "mrd"], "small": ["x"]}


@lru_cache(maxsize=1)
def reference() -> dict:
    return json.loads(REFERENCE.read_text())


def _frame(name: str) -> pd.DataFrame:
    data = reference()["datasets"][name]
    frame = pd.DataFrame(data)
    levels = reference()["factor_levels"][name]
    for col, lev in (levels.items() if isinstance(levels, dict) else []):
        frame[col] = pd.Categorical(frame[col], categories=lev)
    return frame


@pytest.mark.r
@pytest.mark.parametrize("case", range(len(reference()["crr"])))
def test_fine_gray_matches_cmprsk_crr(case):
    entry = reference()["crr"][case]
    frame = _frame(entry["dataset"])
    res = fine_gray(frame, "time", "event", COVARIATES[entry["dataset"]], cause=entry["failcode"])
    assert res["term"].tolist() == entry["terms"]
    np.testing.assert_allclose(res["coef"], entry["coef"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res["se"], entry["se"], rtol=1e-8)
    np.testing.assert_allclose(np.array(res.attrs["vcov"]), np.array(entry["var"]), rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(res["p_value"], entry["p_value"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(res["shr_lower"], entry["shr_lower"], rtol=1e-8)
    np.testing.assert_allclose(res["shr_upper"], entry["shr_upper"], rtol=1e-8)
    assert res.attrs["loglik"] == pytest.approx(entry["loglik"], rel=1e-10)
    assert res.attrs["loglik_null"] == pytest.approx(entry["loglik_null"], rel=1e-10)
    assert res.attrs["converged"] is entry["converged"]
    assert res.attrs["n"] == entry["n"]


def test_object_labels_use_the_sorted_first_level_as_reference():
    frame = _frame("bmt")
    frame["disease"] = frame["disease"].astype(str)  # sorted: ALL, AML high, AML low
    res = fine_gray(frame, "time", "event", ["disease"])
    assert res["term"].tolist() == ["disease[AML high]", "disease[AML low]"]
    cat = _frame("bmt")
    ref = fine_gray(cat, "time", "event", ["disease"])
    np.testing.assert_allclose(res["coef"].to_numpy(), ref["coef"].to_numpy()[::-1], rtol=1e-10)


def test_columns_and_derived_quantities():
    res = fine_gray(_frame("months"), "time", "event", ["age", "mrd"], conf_level=0.9)
    assert list(res.columns) == ["term", "coef", "shr", "se", "z", "p_value", "shr_lower", "shr_upper"]
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(res["shr"], np.exp(res["coef"]))
    np.testing.assert_allclose(res["z"], res["coef"] / res["se"])
    np.testing.assert_allclose(res["shr_lower"], np.exp(res["coef"] - z * res["se"]))
    np.testing.assert_allclose(res["p_value"], 2 * stats.norm.sf(np.abs(res["z"])))


def test_tight_tolerance_reaches_a_stationary_point():
    frame = _frame("months")
    res = fine_gray(frame, "time", "event", ["age", "mrd"], gtol=1e-12, maxiter=50)
    x = np.column_stack([frame["age"], frame["mrd"] == "single", frame["mrd"] == "combined"]).astype(float)
    ici = np.where(frame["event"] == 0, 0, np.where(frame["event"] == 1, 1, 2))
    _, score, _ = _Problem(frame["time"].to_numpy(float), ici, x).objective(res["coef"].to_numpy())
    assert np.max(np.abs(score)) < 1e-8


fg_data = st.integers(min_value=12, max_value=30).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 6), min_size=n, max_size=n),
        st.lists(st.integers(0, 2), min_size=n, max_size=n),
        st.lists(st.floats(-2, 2, allow_nan=False), min_size=2 * n, max_size=2 * n),
        st.tuples(st.floats(-1, 1), st.floats(-1, 1)),
    )
)


@settings(max_examples=30, deadline=None)
@given(fg_data)
def test_likelihood_score_information_and_sandwich_match_naive_sums(data):
    time = np.asarray(data[0], float)
    ici = np.asarray(data[1])
    x = np.asarray(data[2]).reshape(-1, 2)
    b = np.asarray(data[3])
    if not (ici == 1).any():
        return
    problem = _Problem(time, ici, x)
    lik, score, info = problem.objective(b)
    meat = problem.robust_meat(b)
    order = np.argsort(time, kind="stable")
    n_lik, n_score, n_info, n_meat = fine_gray_pieces(time[order], ici[order], x[order], b)
    assert lik == pytest.approx(n_lik, rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(score, n_score, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(info, n_info, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(meat, n_meat, rtol=1e-8, atol=1e-9)


def test_no_competing_events_and_no_censoring_gives_cox_breslow_score():
    # With only failures of interest the pseudo-likelihood is Cox's Breslow likelihood.
    time = np.array([1, 2, 2, 3, 4, 5, 5, 6], float)
    x = np.array([[0.5], [1.0], [-1.0], [0.0], [2.0], [-0.5], [1.5], [0.2]])
    ici = np.ones(8, dtype=int)
    b = np.array([0.3])
    lik, _, _ = _Problem(time, ici, x).objective(b)
    breslow = 0.0
    for t in np.unique(time):
        dead = time == t
        risk = time >= t
        breslow += -np.sum(x[dead, 0] * b[0]) + dead.sum() * np.log(np.sum(np.exp(x[risk, 0] * b[0])))
    assert lik == pytest.approx(breslow, rel=1e-13)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"covariates": ["nope"]}, r"columns \['nope'\] not in data"),
        ({"duration": "bad_time"}, "negative times"),
        ({"event": "bad_event"}, "non-integer codes at index 2"),
        ({"covariates": ["const"]}, "single level"),
        ({"covariates": ["with_nan"]}, "missing values at index 1"),
        ({"cause": 7}, "no patient has cause 7"),
        ({"cause": 0}, "equals cencode"),
        ({"covariates": []}, "at least one covariate"),
        ({"covariates": ["x", "x2"]}, "collinear"),
    ],
)
def test_bad_input_raises_input_error(kwargs, message):
    frame = pd.DataFrame(
        {
            "time": [1.0, 2, 3, 4, 5, 6],
            "event": [1, 2, 0, 1, 1, 0],
            "bad_time": [1.0, -2, 3, 4, 5, 6],
            "bad_event": [1, 2, 0.5, 1, 1, 0],
            "const": ["a"] * 6,
            "with_nan": [1.0, np.nan, 2, 3, 4, 5],
            "x": [0.1, 0.5, 0.3, 0.9, 0.2, 0.7],
        }
    )
    frame["x2"] = 2 * frame["x"]
    args = {"duration": "time", "event": "event", "covariates": ["x"]} | kwargs
    with pytest.raises(InputError, match=message):
        fine_gray(frame, **args)

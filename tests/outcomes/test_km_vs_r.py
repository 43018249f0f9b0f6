"""Kaplan–Meier against R survival (stored output of reference/survival.R) and a naive reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdquant.errors import InputError
from mrdquant.outcomes.km import KM_COLUMNS, kaplan_meier, km_median
from naive.survival import load_r_survival, naive_km

R = load_r_survival()
CASES = R["km"]
IDS = [f"{c['dataset']}-{c['time']}-{c['group']}-{c['conf_type']}" for c in CASES]


def _inputs(case):
    d = R["datasets"][case["dataset"]]
    group = d[case["group"]] if case["group"] else None
    return d[case["time"]], d[case["status"]], group


def _close(a, b, col):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    assert a.shape == b.shape, col
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-6, equal_nan=True, err_msg=col)


@pytest.mark.r
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_km_curve_matches_survfit(case):
    time, status, group = _inputs(case)
    df = kaplan_meier(time, status, group, conf_type=case["conf_type"])
    assert list(df.columns) == KM_COLUMNS
    ref = case["curve"]
    assert [_label(g) for g in df["group"]] == [_label(g) for g in ref["group"]]
    for col in ("time", "n_risk", "n_event", "n_censor", "survival", "std_err", "lower", "upper"):
        _close(df[col], ref[col], col)


def _label(g):
    """R writes numeric groups as "1"; ours keep the JSON's numbers (1.0)."""
    try:
        return str(float(g))
    except ValueError:
        return str(g)


@pytest.mark.r
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_km_at_times_matches_summary_survfit(case):
    time, status, group = _inputs(case)
    df = kaplan_meier(time, status, group, conf_type=case["conf_type"], times=case["times"])
    ref = case["at_times"]
    for col in ("time", "n_risk", "n_event", "survival", "std_err", "lower", "upper"):
        _close(df[col], ref[col], col)


@pytest.mark.r
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_km_median_matches_print_survfit(case):
    time, status, group = _inputs(case)
    med = km_median(time, status, group, conf_type=case["conf_type"])
    for col in ("n", "events", "median", "lower", "upper"):
        _close(med[col], case["median"][col], col)


def test_median_midpoint_when_curve_sits_at_half():
    # S = 0.5 exactly on [2, 4): R reports the midpoint (2 + 4) / 2
    med = km_median([1, 2, 4, 5], [1, 1, 1, 0])
    assert med.loc[0, "median"] == 3.0


def test_median_undefined_when_curve_stays_above_half():
    med = km_median([1, 2, 3, 4], [1, 0, 0, 0])
    assert np.isnan(med.loc[0, "median"]) and np.isnan(med.loc[0, "upper"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.booleans()), min_size=1, max_size=40),
)
def test_km_matches_naive_product_limit(pairs):
    time = [float(t) for t, _ in pairs]
    status = [int(s) for _, s in pairs]
    df = kaplan_meier(time, status)
    ref = naive_km(time, status)
    assert len(df) == len(ref)
    np.testing.assert_allclose(df["time"], [r[0] for r in ref])
    np.testing.assert_array_equal(df["n_risk"], [r[1] for r in ref])
    np.testing.assert_array_equal(df["n_event"], [r[2] for r in ref])
    np.testing.assert_allclose(df["survival"], [r[3] for r in ref], atol=1e-12)
    np.testing.assert_allclose(df["std_err"], [r[4] for r in ref], atol=1e-12, equal_nan=True)
    # survival is non-increasing and within [0, 1]; the CI brackets it where defined
    s = df["survival"].to_numpy()
    assert np.all(np.diff(s) <= 1e-15) and np.all((s >= 0) & (s <= 1))
    ok = df["lower"].notna()
    assert np.all(df.loc[ok, "lower"] <= df.loc[ok, "survival"] + 1e-12)
    assert np.all(df.loc[ok, "upper"] >= df.loc[ok, "survival"] - 1e-12)


def test_numbers_at_risk_at_requested_times():
    df = kaplan_meier([1, 2, 2, 3, 5, 8], [1, 0, 1, 1, 0, 1], times=[0, 2, 4, 10])
    assert df["n_risk"].tolist() == [6, 5, 2, 0]
    assert df["n_event"].tolist() == [0, 2, 1, 1]
    # S(4) = (5/6) * (4/5 * ... ) by hand: 1 - 1/6, then 1 - 1/5 at t=2, then 1 - 1/3 at t=3
    assert df.loc[2, "survival"] == pytest.approx((5 / 6) * (4 / 5) * (2 / 3))


def test_group_order_follows_categorical():
    g = pd.Categorical(["b", "a", "b", "a"], categories=["b", "a"])
    df = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1], g)
    assert list(dict.fromkeys(df["group"])) == ["b", "a"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"time": [1, -2], "status": [1, 0]}, "negative"),
        ({"time": [1, 2], "status": [1, 2]}, "unknown codes"),
        ({"time": [1, 2, 3], "status": [1, 0]}, "differ in length"),
        ({"time": [1, np.nan], "status": [1, 0]}, "missing"),
        ({"time": [1, 2], "status": [1, 0], "conf_type": "logit"}, "conf_type"),
        ({"time": [1, 2], "status": [1, 0], "times": [3, 1]}, "increasing"),
    ],
)
def test_km_bad_input_raises_named_error(kwargs, match):
    with pytest.raises(InputError, match=match):
        kaplan_meier(**kwargs)


def test_signature_of_the_public_contract():
    """Positional (time, status, group, times, conf_type) and keyword calls both give the
    hand-computed product-limit estimate with Greenwood standard errors and plain CIs."""
    t, s = [1, 2, 2, 3, 5], [1, 0, 1, 1, 0]
    # deaths at 1 (5 at risk), 2 (4 at risk, one censored at 2 too), 3 (2 at risk)
    surv = [(4 / 5) * (3 / 4), (4 / 5) * (3 / 4) * (1 / 2)]
    greenwood = [1 / (5 * 4) + 1 / (4 * 3), 1 / (5 * 4) + 1 / (4 * 3) + 1 / (2 * 1)]
    se = [sv * np.sqrt(g) for sv, g in zip(surv, greenwood)]
    z = 1.959963984540054
    for res in (kaplan_meier(t, s, None, [2, 4], "plain"), kaplan_meier(t, s, times=[2, 4], conf_type="plain")):
        assert res["time"].tolist() == [2.0, 4.0]
        assert res["n_risk"].tolist() == [4, 1] and res["n_event"].tolist() == [2, 1]
        np.testing.assert_allclose(res["survival"], surv, rtol=1e-12)
        np.testing.assert_allclose(res["std_err"], se, rtol=1e-12)
        np.testing.assert_allclose(res["lower"], np.clip(np.subtract(surv, z * np.array(se)), 0, 1), rtol=1e-9)
        np.testing.assert_allclose(res["upper"], np.clip(np.add(surv, z * np.array(se)), 0, 1), rtol=1e-9)

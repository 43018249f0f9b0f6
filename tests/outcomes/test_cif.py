"""Cumulative incidence: cmprsk::cuminc reference, naive references, ties, errors."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive.competing_risks import aalen_johansen, cuminc_variance
from scipy import stats

from mrdquant.errors import InputError
from mrdquant.outcomes.cif import cumulative_incidence

REFERENCE = Path(__file__).parent / "reference" / "competing_risks.json"
RTOL, ATOL = 1e-9, 1e-12


@lru_cache(maxsize=1)
def reference() -> dict:
    return json.loads(REFERENCE.read_text())


def _nan(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _jumps(curve: dict):
    """cmprsk's step vectors (0, t1, t1, ..., tmax) -> jump times, estimates, variances."""
    x, f, v = (np.asarray(curve[k], float) for k in ("time", "est", "var"))
    m = (x.size - 2) // 2
    return x[2::2][:m], f[2::2][:m], v[2::2][:m]


CUMINC_CASES = [i for i, e in enumerate(reference()["cuminc"]) if not e["strata"]]


@pytest.mark.r
@pytest.mark.parametrize("case", CUMINC_CASES)
def test_cif_matches_cmprsk_cuminc_at_every_jump(case):
    entry = reference()["cuminc"][case]
    data = reference()["datasets"][entry["dataset"]]
    table = cumulative_incidence(data["time"], data["event"], data["group"])
    with_jumps = sum(_jumps(c)[0].size > 0 for c in entry["curves"])
    assert table.groupby(["group", "cause"]).ngroups == with_jumps
    for curve in entry["curves"]:
        times, est, var = _jumps(curve)
        sub = table[(table["group"] == curve["group"]) & (table["cause"] == curve["cause"])]
        assert sub["time"].to_numpy() == pytest.approx(times, rel=RTOL, abs=ATOL)
        np.testing.assert_allclose(sub["estimate"], est, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(sub["variance"], var, rtol=RTOL, atol=ATOL)


@pytest.mark.r
@pytest.mark.parametrize("case", CUMINC_CASES)
def test_cif_matches_cmprsk_timepoints(case):
    entry = reference()["cuminc"][case]
    data = reference()["datasets"][entry["dataset"]]
    tp = entry["timepoints"]
    table = cumulative_incidence(data["time"], data["event"], data["group"], times=tp["times"])
    for row, (grp, cause) in enumerate(zip(tp["group"], tp["cause"])):
        sub = table[(table["group"] == grp) & (table["cause"] == cause)]
        assert sub["time"].tolist() == tp["times"]
        np.testing.assert_allclose(sub["estimate"], _nan(tp["est"][row]), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(sub["variance"], _nan(tp["var"][row]), rtol=RTOL, atol=ATOL)


@pytest.mark.r
def test_cif_without_groups_matches_cmprsk():
    single = reference()["cuminc_single"]
    data = reference()["datasets"][single["dataset"]]
    table = cumulative_incidence(data["time"], data["event"])
    assert set(table["group"]) == {"all"} and set(table["strata"]) == {"all"}
    for curve in single["curves"]:
        times, est, var = _jumps(curve)
        sub = table[table["cause"] == curve["cause"]]
        np.testing.assert_allclose(sub["time"], times)
        np.testing.assert_allclose(sub["estimate"], est, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(sub["variance"], var, rtol=RTOL, atol=ATOL)


def test_reference_cohort_has_events_and_censoring_at_the_horizon():
    data = reference()["datasets"]["months"]
    t = np.asarray(data["time"])
    e = np.asarray(data["event"])
    at_h = t == 48
    assert (e[at_h] == 0).sum() > 50  # administrative censoring at 48 months
    assert (e[at_h] == 1).sum() >= 1 or (e[at_h] == 2).sum() >= 1
    assert np.unique(t).size < 60  # heavy ties


def test_events_and_administrative_censoring_at_the_horizon_hand_calculation():
    # 10 patients: relapse at 1, NRM at 2; at the horizon (5) two relapses and six censored.
    # Hand calculation (failures precede censorings at a tie):
    #   t=1: n=10, F1 = 1/10 = 0.1, S = 0.9
    #   t=2: n=9,  F2 = 0.9 * 1/9 = 0.1, S = 0.8
    #   t=5: n=8,  F1 = 0.1 + 0.8 * 2/8 = 0.3
    time = [1, 2] + [5] * 8
    event = [1, 2, 1, 1, 0, 0, 0, 0, 0, 0]
    table = cumulative_incidence(time, event, times=[4.9, 5])
    rel = table[table["cause"] == 1]
    assert rel["estimate"].tolist() == pytest.approx([0.1, 0.3], abs=1e-15)
    assert rel["n_risk"].tolist() == [8, 8]
    nrm = table[table["cause"] == 2]
    assert nrm["estimate"].tolist() == pytest.approx([0.1, 0.1], abs=1e-15)
    # the result does not depend on input order (no jitter, no seed)
    perm = np.random.default_rng(3).permutation(10)
    again = cumulative_incidence(np.asarray(time)[perm], np.asarray(event)[perm], times=[4.9, 5])
    pd.testing.assert_frame_equal(table, again)


def test_single_cause_without_competition_is_one_minus_kaplan_meier():
    time = np.array([2, 3, 3, 5, 7, 7, 7, 8, 10, 12], float)
    event = np.array([1, 1, 0, 1, 1, 1, 0, 0, 1, 0])
    table = cumulative_incidence(time, event)
    surv = 1.0
    expected = []
    for s in np.unique(time):
        n = (time >= s).sum()
        d = ((time == s) & (event == 1)).sum()
        if d:
            surv *= 1 - d / n
            expected.append(1 - surv)
    np.testing.assert_allclose(table["estimate"], expected, rtol=1e-14)


tied_data = st.integers(min_value=3, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 6), min_size=n, max_size=n),
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
    )
)


@settings(max_examples=60, deadline=None)
@given(tied_data)
def test_cif_kernel_matches_naive_reference(data):
    time, event = np.asarray(data[0], float), np.asarray(data[1])
    table = cumulative_incidence(time, event)
    for cause in sorted(set(event[event > 0].tolist())):
        jt, jf = aalen_johansen(time, event, cause)
        sub = table[table["cause"] == cause]
        np.testing.assert_array_equal(sub["time"], jt)
        np.testing.assert_allclose(sub["estimate"], jf, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(sub["variance"], cuminc_variance(time, event, cause), rtol=1e-9, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(tied_data)
def test_cif_of_all_causes_plus_survival_is_one(data):
    time, event = np.asarray(data[0], float), np.asarray(data[1])
    grid = np.unique(time)
    table = cumulative_incidence(time, event, times=grid, causes=[1, 2, 3])
    total = table.groupby("time")["estimate"].sum().to_numpy()
    surv = []
    s = 1.0
    for t in grid:
        n = (time >= t).sum()
        d = ((time == t) & (event > 0)).sum()
        s *= 1 - d / n
        surv.append(s)
    np.testing.assert_allclose(total + np.asarray(surv), 1.0, atol=1e-12)


def test_groups_and_strata_are_estimated_separately():
    rng = np.random.default_rng(11)
    n = 120
    time = rng.integers(1, 20, n).astype(float)
    event = rng.integers(0, 3, n)
    group = rng.choice(["neg", "pos"], n)
    strata = rng.choice(["A", "B"], n)
    table = cumulative_incidence(time, event, group, strata, times=[5, 10])
    for (s, g), sub in table.groupby(["strata", "group"]):
        mask = (strata == s) & (group == g)
        alone = cumulative_incidence(time[mask], event[mask], times=[5, 10], causes=[1, 2])
        np.testing.assert_allclose(sub["estimate"], alone["estimate"])
        np.testing.assert_allclose(sub["variance"], alone["variance"])
    assert list(table.columns[:7]) == ["group", "cause", "time", "estimate", "variance", "lower", "upper"]


def test_loglog_and_plain_confidence_limits():
    table = cumulative_incidence([1, 2, 2, 3, 4, 6, 7, 9], [1, 2, 1, 0, 1, 1, 0, 2], times=[5])
    row = table[table["cause"] == 1].iloc[0]
    f, se = row["estimate"], np.sqrt(row["variance"])
    z = stats.norm.ppf(0.975)
    # log(-log) scale: g = log(-log F), se_g = se / (F |log F|); back-transform F = exp(-exp(g))
    g, se_g = np.log(-np.log(f)), se / (f * abs(np.log(f)))
    assert row["lower"] == pytest.approx(np.exp(-np.exp(g + z * se_g)), rel=1e-12)
    assert row["upper"] == pytest.approx(np.exp(-np.exp(g - z * se_g)), rel=1e-12)
    plain = cumulative_incidence([1, 2, 2, 3, 4, 6, 7, 9], [1, 2, 1, 0, 1, 1, 0, 2], times=[5],
                                 conf_type="plain", conf_level=0.9)
    p = plain[plain["cause"] == 1].iloc[0]
    z90 = stats.norm.ppf(0.95)
    assert p["lower"] == pytest.approx(max(0.0, f - z90 * se))
    assert p["upper"] == pytest.approx(min(1.0, f + z90 * se))


def test_times_before_first_event_and_after_follow_up():
    table = cumulative_incidence([2, 3, 5], [1, 0, 2], times=[0, 1, 5, 6])
    rel = table[table["cause"] == 1]
    assert rel["estimate"].tolist()[:3] == [0.0, 0.0, pytest.approx(1 / 3)]
    assert np.isnan(rel["estimate"].iloc[3]) and np.isnan(rel["variance"].iloc[3])
    assert rel["lower"].iloc[0] == 0.0 and rel["upper"].iloc[0] == 0.0
    assert rel["n_risk"].tolist() == [3, 3, 1, 0]


def test_unreported_causes_still_compete():
    # By hand: t=1: n=4, cause 2 -> S = 3/4; t=2: censored; t=3: n=2, cause 1 -> F1 = 3/4 * 1/2
    table = cumulative_incidence([1, 2, 3, 4], [2, 0, 1, 0], causes=[1])
    assert table["cause"].tolist() == [1]
    assert table["estimate"].tolist() == [pytest.approx(0.375)]


def test_requested_cause_without_events_is_zero():
    table = cumulative_incidence([1, 2, 3], [1, 0, 1], times=[2.5], causes=[1, 2])
    assert table.loc[table["cause"] == 2, "estimate"].tolist() == [0.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time": [1, -2, 3], "event": [0, 1, 1]}, "time: negative times -2 at position 1"),
        ({"time": [1, np.nan, 3], "event": [0, 1, 1]}, "time: missing"),
        ({"time": [1, 2, 3], "event": [0, 1, -1]}, "event: unknown event codes -1 at position 2"),
        ({"time": [1, 2, 3], "event": [0, 1.5, 1]}, "event: non-integer codes 1.5 at position 1"),
        ({"time": [1, 2, 3], "event": [0, 1, 1], "causes": [0, 1]}, "causes: .* must be positive"),
        ({"time": [1, 2, 3], "event": [0, 1]}, "differ in length"),
        ({"time": [1, 2, 3], "event": [0, 1, 1], "group": ["a", "b"]}, "group: has 2 values; expected 3"),
        ({"time": [1, 2, 3], "event": [0, 1, 1], "times": [-1]}, "times"),
        ({"time": [1, 2, 3], "event": [0, 1, 1], "conf_type": "log"}, "conf_type"),
        ({"time": [1, 2, 3], "event": [0, 1, 1], "conf_level": 95}, "conf_level"),
    ],
)
def test_bad_input_raises_input_error_naming_the_field(kwargs, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        cumulative_incidence(**kwargs)


def test_series_input_errors_name_the_index_label():
    time = pd.Series([1.0, -3.0], index=["p1", "p2"])
    with pytest.raises(InputError, match="index 'p2'"):
        cumulative_incidence(time, [1, 0])


def test_column_names_with_data_equal_array_input():
    data = reference()["datasets"]["small"]
    frame = pd.DataFrame({"months": data["time"], "status": data["event"], "arm": data["group"]})
    by_name = cumulative_incidence("months", "status", "arm", data=frame, times=[6, 12])
    by_array = cumulative_incidence(data["time"], data["event"], data["group"], times=[6, 12])
    pd.testing.assert_frame_equal(by_name, by_array)
    with pytest.raises(InputError, match="event: column 'nope' not in data"):
        cumulative_incidence("months", "nope", data=frame)


def test_large_cause_codes_are_mapped_not_indexed():
    table = cumulative_incidence([1, 2, 3], [1_000_000_000, 0, 7], times=[3])
    assert table["cause"].tolist() == [7, 1_000_000_000]
    # cause 10^9 at t=1 (3 at risk): 1/3; cause 7 at t=3 (1 at risk, S(3-) = 2/3): 2/3
    assert table["estimate"].tolist() == [pytest.approx(2 / 3), pytest.approx(1 / 3)]

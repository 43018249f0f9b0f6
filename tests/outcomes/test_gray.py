"""Gray's test: cmprsk::cuminc Tests reference, invariances, degenerate cases, errors."""

from __future__ import annotations

import json
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdquant.errors import InputError, StatisticalWarning
from mrdquant.outcomes.gray import gray_test

REFERENCE = Path(__file__).parent / "reference" / "competing_risks.json"


@lru_cache(maxsize=1)
def reference() -> dict:
    return json.loads(REFERENCE.read_text())


CASES = list(range(len(reference()["cuminc"])))


@pytest.mark.r
@pytest.mark.parametrize("case", CASES)
def test_gray_matches_cmprsk_tests(case):
    entry = reference()["cuminc"][case]
    data = reference()["datasets"][entry["dataset"]]
    strata = data["strata"] if entry["strata"] else None
    res = gray_test(data["time"], data["event"], data["group"], strata, rho=entry["rho"])
    tests = entry["tests"]
    assert res["cause"].tolist() == tests["cause"]
    assert res["df"].tolist() == tests["df"]
    np.testing.assert_allclose(res["statistic"], tests["stat"], rtol=1e-9)
    np.testing.assert_allclose(res["p_value"], tests["pv"], rtol=1e-7, atol=1e-14)


def test_reference_covers_strata_rho_and_a_group_without_failures():
    entries = reference()["cuminc"]
    assert any(e["strata"] for e in entries) and any(e["rho"] != 0 for e in entries)
    cg = reference()["datasets"]["censored_group"]
    ev = np.asarray(cg["event"])[np.asarray(cg["group"]) == "d"]
    assert ev.size > 0 and np.all(ev == 0)


def test_two_patients_by_hand():
    # Group a fails at 1, group b at 2 (one cause, nothing else). Working through Gray's
    # recursions by hand: score = 1 - 1/2 = 0.5 at t = 1 (nothing at t = 2 for group a,
    # which has left the risk set), variance = 0.25, statistic = 0.5**2 / 0.25 = 1.
    res = gray_test([1, 2], [1, 1], ["a", "b"])
    assert res["statistic"].iloc[0] == pytest.approx(1.0, rel=1e-14)
    assert res["p_value"].iloc[0] == pytest.approx(0.31731050786291415, rel=1e-12)
    assert res["df"].iloc[0] == 1


group_data = st.integers(min_value=8, max_value=50).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 8), min_size=n, max_size=n),
        st.lists(st.integers(0, 2), min_size=n, max_size=n),
        st.lists(st.integers(0, 2), min_size=n, max_size=n),
        st.randoms(use_true_random=False),
    )
)


@settings(max_examples=40, deadline=None)
@given(group_data)
def test_gray_is_invariant_to_row_order_and_group_labels(data):
    time, event, group, rnd = np.asarray(data[0], float), np.asarray(data[1]), np.asarray(data[2]), data[3]
    if len(set(group.tolist())) < 2 or not (event > 0).any():
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        base = gray_test(time, event, group)
        perm = np.arange(time.size)
        rnd.shuffle(perm)
        shuffled = gray_test(time[perm], event[perm], group[perm])
        relabelled = gray_test(time, event, np.array(["z", "m", "a"])[group])
        one_stratum = gray_test(time, event, group, np.zeros(time.size))
    for other in (shuffled, relabelled, one_stratum):
        np.testing.assert_allclose(other["statistic"], base["statistic"], rtol=1e-9, atol=1e-12)


def test_stratified_score_adds_strata():
    # two identical copies as two strata: statistic doubles (score x2, variance x2)
    rng = np.random.default_rng(5)
    n = 80
    time = rng.integers(1, 15, n).astype(float)
    event = rng.integers(0, 3, n)
    group = rng.integers(0, 3, n)
    one = gray_test(time, event, group)
    two = gray_test(np.tile(time, 2), np.tile(event, 2), np.tile(group, 2), np.repeat([0, 1], n))
    np.testing.assert_allclose(two["statistic"], 2 * one["statistic"], rtol=1e-10)


def test_cause_without_failures_gives_nan_and_warning():
    with pytest.warns(StatisticalWarning, match=r"cause\(s\) \[2\]"):
        res = gray_test([1, 2, 3, 4], [1, 0, 1, 0], ["a", "a", "b", "b"], causes=[1, 2])
    row = res[res["cause"] == 2].iloc[0]
    assert np.isnan(row["statistic"]) and np.isnan(row["p_value"])
    assert np.isfinite(res.loc[res["cause"] == 1, "statistic"].iloc[0])


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (([1, 2], [1, 0], ["a", "a"]), {}, "at least two groups"),
        (([1, 2], [1, 0], None), {}, "group: required"),
        (([1, -2], [1, 0], ["a", "b"]), {}, "time: negative"),
        (([1, 2], [1, -9], ["a", "b"]), {}, "event: unknown event codes -9 at position 1"),
        (([1, 2], [1, 0], ["a", "b"]), {"causes": ["x"]}, "causes"),
        (([1, 2], [1, 0], ["a", "b"]), {"rho": "x"}, "rho"),
        (([1, 2], [1, 0], ["a", "b"], ["s"]), {}, "strata: has 1 values; expected 2"),
    ],
)
def test_bad_input_raises_input_error(args, kwargs, message):
    with pytest.raises(InputError, match=message):
        gray_test(*args, **kwargs)


def test_untested_causes_still_compete():
    rng = np.random.default_rng(2)
    time = rng.integers(1, 10, 60).astype(float)
    event = rng.integers(0, 3, 60)
    group = rng.integers(0, 2, 60)
    both = gray_test(time, event, group)
    only1 = gray_test(time, event, group, causes=[1])
    assert only1["cause"].tolist() == [1]
    assert only1["statistic"].iloc[0] == both.loc[both["cause"] == 1, "statistic"].iloc[0]


def test_column_names_with_data_equal_array_input():
    import pandas as pd

    data = reference()["datasets"]["bmt"]
    frame = pd.DataFrame({"days": data["time"], "status": data["event"], "dx": data["group"], "mtx": data["strata"]})
    by_name = gray_test("days", "status", "dx", "mtx", data=frame)
    by_array = gray_test(data["time"], data["event"], data["group"], data["strata"])
    pd.testing.assert_frame_equal(by_name, by_array)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=4, max_value=30).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(1, 6), min_size=n, max_size=n),
            st.lists(st.integers(0, 2), min_size=n, max_size=n),
        )
    )
)
def test_identical_groups_give_zero_statistic(data):
    # The same patients copied into three groups: observed = expected at every time.
    time, event = np.asarray(data[0], float), np.asarray(data[1])
    if not (event == 1).any():
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        res = gray_test(np.tile(time, 3), np.tile(event, 3), np.repeat([0, 1, 2], time.size), causes=[1])
    stat = res["statistic"].iloc[0]
    assert np.isnan(stat) or abs(stat) < 1e-12

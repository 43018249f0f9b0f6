"""The outcome functions' signatures and leading columns are a public contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mrdquant import outcomes


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(11)
    n = 80
    time = rng.integers(1, 40, n).astype(float)
    event = rng.integers(0, 3, n)
    group = np.where(rng.random(n) < 0.5, "MRDco+", "MRDsin+")
    frame = pd.DataFrame(
        {"time": time, "event": event, "status": (event > 0).astype(int), "group": group,
         "x": (group == "MRDco+").astype(int), "z": rng.normal(size=n)}
    )
    return frame


def _leading(df: pd.DataFrame, columns: list[str]) -> list[str]:
    return list(df.columns[: len(columns)])


def test_cumulative_incidence_columns(cohort):
    cols = ["group", "cause", "time", "estimate", "variance", "lower", "upper"]
    at = outcomes.cumulative_incidence(cohort["time"], cohort["event"], cohort["group"], None, times=[10.0, 20.0])
    assert _leading(at, cols) == cols
    assert len(at) == 2 * 2 * 2  # groups x causes x times
    every_jump = outcomes.cumulative_incidence(cohort["time"], cohort["event"])
    assert _leading(every_jump, cols) == cols


def test_gray_test_columns(cohort):
    res = outcomes.gray_test(cohort["time"], cohort["event"], cohort["group"], None)
    assert _leading(res, ["cause", "statistic", "df", "p_value"]) == ["cause", "statistic", "df", "p_value"]
    assert sorted(res["cause"]) == [1, 2]


def test_kaplan_meier_and_logrank_columns(cohort):
    cols = ["group", "time", "n_risk", "n_event", "survival", "std_err", "lower", "upper"]
    km = outcomes.kaplan_meier(cohort["time"], cohort["status"], cohort["group"], None, "log")
    assert _leading(km, cols) == cols
    lr = outcomes.logrank_test(cohort["time"], cohort["status"], cohort["group"], 0)
    assert _leading(lr, ["statistic", "df", "p_value"]) == ["statistic", "df", "p_value"]


def test_regression_columns(cohort):
    cols = ["term", "coef", "hr", "se", "z", "p_value", "hr_lower", "hr_upper"]
    fit = outcomes.cox(cohort, "time", "status", ["x", "z"], ties="efron")
    assert _leading(fit, cols) == cols and fit["term"].tolist() == ["x", "z"]
    breslow = outcomes.cox(cohort, "time", "status", ["x", "z"], ties="breslow")
    assert not np.allclose(fit["coef"], breslow["coef"])  # ties are present, methods differ
    np.testing.assert_allclose(fit["hr"], np.exp(fit["coef"]))
    sh_cols = ["term", "coef", "shr", "se", "z", "p_value", "shr_lower", "shr_upper"]
    fg = outcomes.fine_gray(cohort, "time", "event", ["x", "z"], cause=1)
    assert _leading(fg, sh_cols) == sh_cols
    np.testing.assert_allclose(fg["shr"], np.exp(fg["coef"]))

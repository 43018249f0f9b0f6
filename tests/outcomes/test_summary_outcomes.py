"""Study and trial summaries: fractions computed by hand on cohorts without early censoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mrdquant.errors import InputError
from mrdquant.outcomes.gray import gray_test
from mrdquant.outcomes.logrank import logrank_test
from mrdquant.outcomes.summary import ESTIMATE_COLUMNS, TEST_COLUMNS, study_summary, trial_summary

YEAR = 365.25


def _endpoints():
    """20 patients, 10 per group, every patient followed to day 2000 unless an event came first.

    Group co: relapse in 5 (days 100..500), NRM in 1 (day 300), 4 event-free.
    Group sin: relapse in 2 (days 200, 1700), NRM in 1 (day 900), 7 event-free.
    """
    rows = []
    for g, rel, nrm in (("co", [100, 200, 300, 400, 500], [300]), ("sin", [200, 1700], [900])):
        for d in rel:
            rows.append((g, d, 1, d + 100))  # dies 100 days after relapse
        for d in nrm:
            rows.append((g, d, 2, d))
        while sum(r[0] == g for r in rows) < 10:
            rows.append((g, 2000, 0, None))
    df = pd.DataFrame(rows, columns=["mrd_status", "relapse_days", "relapse_event", "death"])
    df["patient_id"] = [f"P{i}" for i in range(len(df))]
    df["nrm_days"] = df["relapse_days"]
    df["nrm_event"] = df["relapse_event"].map({0: 0, 1: 2, 2: 1})
    df["dfs_days"] = df["relapse_days"]
    df["dfs_event"] = (df["relapse_event"] > 0).astype(int)
    df["os_days"] = df["death"].fillna(2000.0)
    df["os_event"] = df["death"].notna().astype(int)
    for c in ("relapse_event", "nrm_event", "dfs_event", "os_event"):
        df[c] = df[c].astype("Int64")
    return df.drop(columns="death")


def test_study_summary_fractions_by_hand():
    s = study_summary(_endpoints(), "mrd_status", at_years=1000 / YEAR)
    assert list(s.estimates.columns) == ESTIMATE_COLUMNS and list(s.tests.columns) == TEST_COLUMNS
    est = s.estimates.set_index(["endpoint", "group"])
    # no censoring before day 1000: incidences and survivals are plain fractions
    assert est.loc[("relapse", "co"), "estimate"] == pytest.approx(5 / 10)
    assert est.loc[("relapse", "sin"), "estimate"] == pytest.approx(1 / 10)
    assert est.loc[("relapse", "all"), "estimate"] == pytest.approx(6 / 20)
    assert est.loc[("nrm", "sin"), "estimate"] == pytest.approx(1 / 10)
    assert est.loc[("dfs", "co"), "estimate"] == pytest.approx(4 / 10)
    assert est.loc[("dfs", "all"), "estimate"] == pytest.approx(12 / 20)
    # deaths by day 1000: co 5 after relapse + 1 NRM; sin relapse@200 -> death@300, NRM@900
    assert est.loc[("os", "co"), "estimate"] == pytest.approx(4 / 10)
    assert est.loc[("os", "sin"), "estimate"] == pytest.approx(8 / 10)
    assert est.loc[("relapse", "co"), "n_events"] == 5 and est.loc[("relapse", "all"), "n"] == 20
    assert (s.estimates["lower"] <= s.estimates["estimate"] + 1e-12).all()
    tests = s.tests.set_index("endpoint")
    ep = _endpoints()
    gray = gray_test(ep["relapse_days"], ep["relapse_event"].astype(int), ep["mrd_status"])
    assert tests.loc["relapse", "test"] == "gray"
    assert tests.loc["relapse", "p_value"] == pytest.approx(gray.loc[gray["cause"] == 1, "p_value"].iloc[0])
    lr = logrank_test(ep["os_days"], ep["os_event"].astype(int), ep["mrd_status"])
    assert tests.loc["os", "p_value"] == pytest.approx(lr.loc[0, "p_value"])
    assert set(s.cox["endpoint"]) == {"relapse", "nrm", "dfs", "os"}
    assert (s.cox["term"] == "mrd_status[sin]").all()
    text = s.text()
    assert "CIR: 30.0%" in text and "co 50.0%" in text and "sin 10.0%" in text


def test_estimate_is_nan_past_follow_up():
    s = study_summary(_endpoints(), "mrd_status", at_years=10)
    assert s.estimates.loc[s.estimates["endpoint"] == "os", "estimate"].isna().all()
    assert "not estimable" in s.text()


def test_trial_summary_includes_toxicities_present():
    ep = _endpoints().rename(columns={"mrd_status": "arm"})
    ep["infection_days"] = np.where(np.arange(20) % 4 == 0, 50.0, ep["relapse_days"])
    ep["infection_event"] = pd.array(np.where(np.arange(20) % 4 == 0, 1, np.where(ep["relapse_event"] > 0, 2, 0)),
                                     dtype="Int64")
    s = trial_summary(ep, "arm", at_years=1)
    assert s.estimates["endpoint"].unique().tolist() == ["relapse", "dfs", "os", "infection"]
    inf = s.estimates[s.estimates["endpoint"] == "infection"].set_index("group")
    # patients 0, 4, 8 in arm co and 12, 16 in arm sin had an infection on day 50
    assert inf.loc["co", "estimate"] == pytest.approx(3 / 10)
    assert inf.loc["sin", "estimate"] == pytest.approx(2 / 10)
    assert inf.loc["all", "label"] == "Infection"


def test_summary_missing_columns():
    with pytest.raises(InputError, match="group column 'nope'"):
        study_summary(_endpoints(), "nope")
    with pytest.raises(InputError, match="os_days"):
        study_summary(_endpoints().drop(columns="os_days"), "mrd_status")


def test_groups_without_events_have_no_zero_width_interval_and_failed_cox_is_flagged():
    """At day 150 group "sin" has no relapse, no NRM, no death: no "0.0–0.0" CI; NRM in
    group "co" only before day 350 makes the NRM Cox model monotone: NaN with a note."""
    ep = _endpoints()
    s = study_summary(ep, "mrd_status", at_years=150 / YEAR)
    est = s.estimates.set_index(["endpoint", "group"])
    for ep_name, value in (("relapse", 0.0), ("nrm", 0.0), ("dfs", 1.0), ("os", 1.0)):
        row = est.loc[(ep_name, "sin")]
        assert row["estimate"] == value and row["n_events"] == 0
        assert np.isnan(row["lower"]) and np.isnan(row["upper"])
        assert row["note"] == "no events by the time point; CI not estimable"
    assert est.loc[("relapse", "co"), "note"] == "" and est.loc[("relapse", "co"), "lower"] > 0
    text = s.text()
    assert "0.0–0.0" not in text and "100.0–100.0" not in text
    assert "sin 0.0% (no events by the time point; CI not estimable)" in text
    # without the NRM death of group "sin" the cause-specific NRM likelihood is monotone
    mono = ep.copy()
    mono.loc[(mono["mrd_status"] == "sin") & (mono["nrm_event"] == 1), "nrm_event"] = 0
    with np.errstate(all="raise"):  # no "invalid value encountered in sqrt"
        s2 = study_summary(mono, "mrd_status", at_years=1000 / YEAR)
    cox = s2.cox.set_index("endpoint")
    assert {"converged", "note"} <= set(s2.cox.columns)
    assert not cox.loc["nrm", "converged"] and np.isnan(cox.loc["nrm", "hr"])
    assert "monotone likelihood" in cox.loc["nrm", "note"]
    assert cox.loc["relapse", "converged"] and np.isfinite(cox.loc["relapse", "hr"])

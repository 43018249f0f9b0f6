"""Simulated cohort: schema, determinism, censoring, and the round trip through the calls."""

from __future__ import annotations

import pandas as pd
import pytest

from mrdquant import classify_timeline
from mrdquant.simulate.cohort import (
    PATIENT_COLUMNS,
    SAMPLE_COLUMNS,
    TRUTH_COLUMNS,
    simulate_cohort,
    write_data_samples,
)


@pytest.fixture(scope="module")
def cohorts():
    return {s: simulate_cohort(150, seed=s) for s in (0, 1, 7)}


def test_schema(cohorts, seed):
    c = cohorts[seed]
    assert c["patients"].columns.tolist() == PATIENT_COLUMNS
    assert c["samples"].columns.tolist() == SAMPLE_COLUMNS
    assert c["truth"].columns.tolist() == TRUTH_COLUMNS
    pts = c["patients"]
    assert pts["patient_id"].is_unique and len(pts) == 150
    assert set(pts["diagnosis"]) <= {"B-ALL", "T-ALL", "AML"}
    assert set(pts["death_cause"]) <= {"relapse", "NRM", ""}
    assert set(pts["cgvhd_severity"]) <= {"none", "mild", "moderate", "severe"}
    assert pts["agvhd_grade"].between(0, 4).all()
    assert set(pts["arm"]) <= {"IFN-a", "Chemo-DLI", "none"}
    assert ((pts["intervention"] == "") == pts["intervention_date"].isna()).all()
    assert c["samples"]["sample_id"].is_unique
    assert set(c["samples"]["specimen"]) == {"BM", "PB"}


def test_deterministic_per_seed():
    a, b = simulate_cohort(40, seed=3), simulate_cohort(40, seed=3)
    for key in ("patients", "samples", "truth"):
        pd.testing.assert_frame_equal(a[key], b[key])
    assert not simulate_cohort(40, seed=4)["samples"].equals(a["samples"])


def test_dates_are_consistent(cohorts, seed):
    pts = cohorts[seed]["patients"].set_index("patient_id")
    smp = cohorts[seed]["samples"]
    hsct = smp["patient_id"].map(pts["hsct_date"])
    assert (smp["date"] >= hsct).all()
    # samples stop before relapse and at last follow-up (death or censoring)
    assert (smp["date"] <= smp["patient_id"].map(pts["last_followup_date"])).all()
    relapse = smp["patient_id"].map(pts["relapse_date"])
    assert not (smp["date"] >= relapse).any()
    for col in ("relapse_date", "death_date", "agvhd_date", "cgvhd_date", "intervention_date"):
        d = pts[col].dropna()
        assert (d >= pts.loc[d.index, "hsct_date"]).all() and (d <= pts.loc[d.index, "last_followup_date"]).all()
    dead = pts["death_date"].notna()
    assert (pts.loc[dead, "death_date"] == pts.loc[dead, "last_followup_date"]).all()
    assert (pts["death_cause"] != "").eq(dead).all()
    assert pts.loc[pts["death_cause"] == "relapse", "relapse_date"].notna().all()
    assert pts.loc[pts["death_cause"] == "NRM", "relapse_date"].isna().all()
    assert ((pts["agvhd_grade"] > 0) == pts["agvhd_date"].notna()).all()


def test_bm_monitoring_schedule(cohorts):
    # patients without MRD follow the schedule 1, 2, 3, 4.5, 6, 9, 12 months (+/- 3 days)
    c = cohorts[0]
    none = c["truth"].loc[c["truth"]["mrd_course"] == "none", "patient_id"]
    pts = c["patients"].set_index("patient_id")
    smp = c["samples"][c["samples"]["specimen"] == "BM"]
    expected = [30, 61, 91, 137, 183, 274, 365]
    checked = 0
    for pid in none[:30]:
        days = ((smp.loc[smp["patient_id"] == pid, "date"] - pts.loc[pid, "hsct_date"]).dt.days).tolist()
        for got, want in zip(days, expected):
            assert abs(got - want) <= 3
            checked += 1
    assert checked > 50


def test_round_trip_calls_match_truth(cohorts, seed):
    c = cohorts[seed]
    out = classify_timeline(c["patients"], c["samples"], "puih_2020").set_index("patient_id")
    truth = c["truth"].set_index("patient_id")
    assert out.index.equals(truth.index)
    assert set(truth["status"]) >= {"negative", "MRDsin+", "MRDco+"}
    for col in ("status", "rule", "evidence", "first_positive_sample_id"):
        pd.testing.assert_series_equal(out[col], truth[col], check_names=False)
    for col in ("first_positive_date", "confirmed_date", "negativity_date", "reemergence_date"):
        pd.testing.assert_series_equal(out[col], truth[col], check_names=False)
    cleared = truth["negativity_sample_id"] != ""
    assert (out.loc[cleared, "negativity_evidence"] == truth.loc[cleared, "negativity_sample_id"]).all()
    assert cleared.sum() > 5 and truth["reemergence_date"].notna().sum() > 0


def test_relapse_more_likely_after_mrdco_than_mrdsin():
    c = simulate_cohort(600, seed=11)
    rate = c["truth"].groupby("status")["relapse"].mean()
    assert rate["MRDco+"] > rate["MRDsin+"] + 0.1
    assert rate["MRDsin+"] > rate["negative"]


def test_pb_samples_would_change_calls_if_counted(cohorts):
    # the cohort contains WT1-positive PB samples between a positive BM sample and its
    # negative confirmation: counting PB must turn some MRDsin+ patients into MRDco+
    c = cohorts[0]
    bm = classify_timeline(c["patients"], c["samples"])
    both = classify_timeline(c["patients"], c["samples"], specimens=["BM", "PB"])
    changed = (bm["status"] == "MRDsin+") & (both["status"] == "MRDco+")
    assert changed.sum() > 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="p_mrd"):
        simulate_cohort(5, p_mrd=1.5)
    with pytest.raises(ValueError, match="n_patients"):
        simulate_cohort(0)


def test_bundled_cohort_matches_the_simulator(tmp_path, data_samples):
    written = write_data_samples(tmp_path)
    assert [p.name for p in written] == ["patients.csv", "samples.csv", "truth.csv"]
    bundled = data_samples / "cohort"
    for p in written:
        assert (bundled / p.name).read_text() == p.read_text(), f"data_samples/cohort/{p.name} is stale"
    # and the bundled CSV files round-trip through classify_timeline
    out = classify_timeline(bundled / "patients.csv", bundled / "samples.csv")
    truth = pd.read_csv(bundled / "truth.csv", keep_default_na=False)
    assert out["status"].tolist() == truth["status"].tolist()
    assert out["evidence"].tolist() == truth["evidence"].tolist()

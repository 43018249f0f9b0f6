"""Simulated DLI trial: schema, determinism, consistency, the endpoints it feeds, and its truth."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from naive.dli_trial import probabilities_by_quadrature

from mrdquant import classify_timeline
from mrdquant.cli.main import main
from mrdquant.errors import InputError
from mrdquant.outcomes import build_endpoints, cumulative_incidence, kaplan_meier, trial_summary
from mrdquant.outcomes.endpoints import TOXICITY_DATES
from mrdquant.simulate import simulate_trial as lazy_simulate_trial
from mrdquant.simulate.cohort import SAMPLE_COLUMNS, simulate_cohort
from mrdquant.simulate.trial import (
    ARMS,
    DEFAULT_ARMS,
    TOXICITY_DATE_COLUMNS,
    TRIAL_PATIENT_COLUMNS,
    TRIAL_TRUTH_COLUMNS,
    ArmParameters,
    simulate_trial,
    true_probabilities,
    write_data_samples,
)

EVENT_DATES = ["relapse_date", "death_date", "agvhd_date", "cgvhd_date", *TOXICITY_DATE_COLUMNS]


@pytest.fixture(scope="module")
def trials():
    return {s: simulate_trial(60, seed=s) for s in (0, 1, 7)}


@pytest.fixture(scope="module")
def large():
    """2 x 2000 patients (about 1.5 s)."""
    return simulate_trial(2000, seed=2026)


def _truth(trial, arm, quantity):
    t = trial["truth"]
    return float(t.loc[(t["arm"] == arm) & (t["quantity"] == quantity), "value"].iloc[0])


def test_deterministic_per_seed():
    a, b = simulate_trial(30, seed=3), simulate_trial(30, seed=3)
    for key in ("patients", "samples", "truth"):
        pd.testing.assert_frame_equal(a[key], b[key])
    c = simulate_trial(30, seed=4)
    assert not c["patients"].equals(a["patients"]) and not c["samples"].equals(a["samples"])
    assert lazy_simulate_trial is simulate_trial


def test_schema(trials, seed):
    tr = trials[seed]
    pts, smp = tr["patients"], tr["samples"]
    assert pts.columns.tolist() == TRIAL_PATIENT_COLUMNS
    assert TOXICITY_DATE_COLUMNS == list(TOXICITY_DATES)
    for c in TRIAL_PATIENT_COLUMNS:
        if c.endswith("_date"):
            assert pts[c].dtype == np.dtype("datetime64[ns]"), c
    assert pts["agvhd_grade"].dtype == np.int64
    assert pts["patient_id"].is_unique and len(pts) == 120
    assert pts["arm"].value_counts().to_dict() == {"prophylactic": 60, "preemptive": 60}
    # permuted blocks of 4: every block of 4 consecutive patients is balanced
    blocks = pts["arm"].to_numpy().reshape(-1, 4)
    assert ((blocks == "prophylactic").sum(axis=1) == 2).all()
    assert set(pts["diagnosis"]) == {"AML", "MDS-IB"}
    assert set(pts["death_cause"]) <= {"relapse", "NRM", ""}
    assert set(pts["cgvhd_severity"]) <= {"none", "mild", "moderate", "severe"}
    assert set(pts["agvhd_grade"]) <= {0, 1, 2, 3, 4}
    assert set(pts.loc[pts["arm"] == "prophylactic", "intervention"]) <= {"DLI", ""}
    assert set(pts.loc[pts["arm"] == "preemptive", "intervention"]) <= {"Chemo-DLI", ""}
    # the samples schema of the cohort simulator
    assert smp.columns.tolist() == SAMPLE_COLUMNS
    cohort_smp = simulate_cohort(5, seed=0)["samples"]
    pd.testing.assert_series_equal(smp.dtypes, cohort_smp.dtypes)
    assert smp["sample_id"].is_unique and set(smp["specimen"]) == {"BM", "PB"}
    truth = tr["truth"]
    assert truth.columns.tolist() == TRIAL_TRUTH_COLUMNS
    assert truth.groupby("arm")["quantity"].nunique().to_dict() == {a: len(truth) // 2 for a in ARMS}


def test_records_are_consistent(trials, seed):
    pts = trials[seed]["patients"]
    rand_day = (pts["randomization_date"] - pts["hsct_date"]).dt.days
    assert rand_day.between(30, 45).all()
    for col in EVENT_DATES:
        d = pts[col].dropna()
        assert (d > pts.loc[d.index, "randomization_date"]).all(), col
        assert (d <= pts.loc[d.index, "last_followup_date"]).all(), col
    dead = pts["death_date"].notna()
    assert (pts.loc[dead, "death_date"] == pts.loc[dead, "last_followup_date"]).all()
    assert (pts["death_cause"] != "").eq(dead).all()
    by_relapse = pts[pts["death_cause"] == "relapse"]
    assert by_relapse["relapse_date"].notna().all() and (by_relapse["death_date"] >= by_relapse["relapse_date"]).all()
    assert pts.loc[pts["death_cause"] == "NRM", "relapse_date"].isna().all()
    assert ((pts["agvhd_grade"] > 0) == pts["agvhd_date"].notna()).all()
    assert ((pts["cgvhd_severity"] != "none") == pts["cgvhd_date"].notna()).all()
    assert ((pts["cgvhd_date"] - pts["hsct_date"]).dt.days.dropna() >= 100).all()
    # the DLI: given in remission, on or after randomization; prophylactic at day +45..+60
    dli = pts[pts["intervention_date"].notna()]
    assert ((dli["intervention"] != "") & (dli["intervention_date"] >= dli["randomization_date"])).all()
    assert (dli["intervention_date"] <= dli["last_followup_date"]).all()
    assert not (dli["intervention_date"] >= dli["relapse_date"]).any()
    assert not (dli["intervention_date"] >= dli["death_date"]).any()
    proph = dli[dli["arm"] == "prophylactic"]
    assert (proph["intervention_date"] - proph["hsct_date"]).dt.days.between(45, 60).all()
    assert (pts["intervention"] == "").eq(pts["intervention_date"].isna()).all()
    # pancytopenia: all three cytopenias, the last of them
    pan = pts[pts["pancytopenia_date"].notna()]
    assert len(pan) > 0
    for col in ("neutropenia_date", "anemia_date", "thrombocytopenia_date"):
        assert (pan[col] <= pan["pancytopenia_date"]).all()


def test_samples_are_consistent(trials, seed):
    tr = trials[seed]
    pts, smp = tr["patients"].set_index("patient_id"), tr["samples"]
    assert (smp["date"] >= smp["patient_id"].map(pts["hsct_date"])).all()
    assert (smp["date"] <= smp["patient_id"].map(pts["last_followup_date"])).all()
    assert not (smp["date"] >= smp["patient_id"].map(pts["relapse_date"])).any()
    # eligibility: a BM sample at one month, negative by both methods, before randomization
    first = smp.groupby("patient_id").first()
    assert first.index.tolist() == sorted(pts.index)
    assert (first["specimen"] == "BM").all()
    assert ((first["mfc"] == "negative") & (first["wt1"] == "negative")).all()
    days = (first["date"] - pts.loc[first.index, "hsct_date"]).dt.days
    assert days.between(27, 30).all()
    assert (first["date"] <= pts.loc[first.index, "randomization_date"]).all()
    pos = smp[(smp["specimen"] == "BM") & ((smp["mfc"] == "positive") | (smp["wt1"] == "positive"))]
    assert (pos["date"] > pos["patient_id"].map(pts["randomization_date"])).all()


def test_preemptive_dli_follows_confirmed_mrd(trials, seed):
    tr = trials[seed]
    calls = classify_timeline(tr["patients"], tr["samples"])[["patient_id", "status", "confirmed_date"]]
    m = tr["patients"].merge(calls, on="patient_id")
    pre = m[m["arm"] == "preemptive"]
    treated = pre[pre["intervention_date"].notna()]
    assert len(treated) >= 5
    assert (treated["status"] == "MRDco+").all()
    lag = (treated["intervention_date"] - treated["confirmed_date"]).dt.days
    assert lag.between(3, 10).all()
    # never MRDco+ before the end of follow-up: no pre-emptive DLI
    assert pre.loc[pre["status"] != "MRDco+", "intervention_date"].isna().all()
    assert (pre["status"] == "negative").sum() > len(pre) // 2


def test_endpoints_and_trial_summary(trials, seed):
    pts = trials[seed]["patients"]
    ep = build_endpoints(pts, index="randomization")
    assert ep.attrs["excluded"] == [] and len(ep) == len(pts)
    for name in ("relapse", "dfs", "os", "agvhd", "cgvhd", "marrow_suppression", "infection",
                 *[c[: -len("_date")] for c in TOXICITY_DATE_COLUMNS]):
        assert f"{name}_event" in ep.columns
        assert (ep[f"{name}_days"].dropna() > 0).all()
    s = trial_summary(ep, "arm", at_years=1)
    est = s.estimates.set_index(["endpoint", "group"])
    assert set(s.estimates["group"]) == {"all", *ARMS}
    # counts by hand from the patients table: relapses within 365.25 days of randomization
    rel_days = (pts["relapse_date"] - pts["randomization_date"]).dt.days
    for arm in ARMS:
        sel = pts["arm"] == arm
        assert est.loc[("relapse", arm), "n"] == sel.sum()
        assert est.loc[("relapse", arm), "n_events"] == int((rel_days[sel] <= 365.25).sum())
        assert 0 <= est.loc[("relapse", arm), "estimate"] <= 1
        deaths = ((pts["death_date"] - pts["randomization_date"]).dt.days[sel] <= 365.25).sum()
        assert est.loc[("os", arm), "n_events"] == deaths
    assert set(s.tests["endpoint"]) >= {"relapse", "dfs", "os", "marrow_suppression", "agvhd", "infection"}


def test_csv_round_trip_through_endpoints(tmp_path):
    assert main(["simulate", "trial", "--per-arm", "6", "--seed", "5", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["patients.csv", "samples.csv", "truth.csv"]
    tr = simulate_trial(6, seed=5)
    from_csv = build_endpoints(tmp_path / "patients.csv", index="randomization")
    from_frame = build_endpoints(tr["patients"], index="randomization")
    pd.testing.assert_frame_equal(from_csv, from_frame, check_dtype=False)
    back = pd.read_csv(tmp_path / "truth.csv")
    pd.testing.assert_frame_equal(back, tr["truth"])
    assert len(pd.read_csv(tmp_path / "samples.csv")) == len(tr["samples"])


def test_bundled_trial_is_reproduced(tmp_path, data_samples):
    for path in write_data_samples(tmp_path):
        assert path.read_bytes() == (data_samples / "trial" / path.name).read_bytes(), path.name
    assert len(pd.read_csv(data_samples / "trial" / "patients.csv")) == 80


@pytest.mark.parametrize("t", [30.0, 200.5, 365.0, 365.25, 800.0, 2000.0])
def test_closed_form_truth_matches_quadrature(t):
    custom = replace(DEFAULT_ARMS["preemptive"], relapse_rate_year1=1.0, nrm_rate_year1=0.2,
                     death_after_relapse_rate=1.2, relapse_rate_later=0.0)  # lambda == mu edge
    for params in (*DEFAULT_ARMS.values(), custom):
        got = true_probabilities(params, t)
        want = probabilities_by_quadrature(params, t)
        for key in ("relapse", "nrm", "lfs", "os"):
            assert got[key] == pytest.approx(want[key], abs=1e-10), (key, t)


def test_truth_table_values():
    tr = simulate_trial(3, seed=0, arms={"preemptive": replace(DEFAULT_ARMS["preemptive"], relapse_rate_year1=0.5)})
    # hand calculation for constant first-year hazards: CIF_R = r/(r+n) (1 - exp(-(r+n) t))
    lam = (0.5 + 0.08) * 365 / 365.25
    assert _truth(tr, "preemptive", "relapse_1y") == pytest.approx(0.5 / 0.58 * (1 - math.exp(-lam)), rel=1e-12)
    assert _truth(tr, "preemptive", "lfs_1y") == pytest.approx(math.exp(-lam), rel=1e-12)
    assert _truth(tr, "prophylactic", "relapse_rate_year1") == DEFAULT_ARMS["prophylactic"].relapse_rate_year1
    assert _truth(tr, "preemptive", "n_patients") == 3


def test_large_trial_estimates_match_truth(large):
    ep = build_endpoints(large["patients"], index="randomization")
    arm = ep["arm"].to_numpy()
    cif = cumulative_incidence(ep["relapse_days"], ep["relapse_event"], group=arm, times=[365.0],
                               conf_level=0.999)
    for a in ARMS:
        for cause, quantity in ((1, "relapse_1y"), (2, "nrm_1y")):
            row = cif[(cif["group"] == a) & (cif["cause"] == cause)].iloc[0]
            true = _truth(large, a, quantity)
            assert row["lower"] <= true <= row["upper"], (a, quantity, row["estimate"], true)
            assert abs(row["estimate"] - true) <= 3.5 * math.sqrt(row["variance"])
        for ep_name, quantity in (("dfs", "lfs_1y"), ("os", "os_1y")):
            sel = arm == a
            km = kaplan_meier(ep[f"{ep_name}_days"][sel], ep[f"{ep_name}_event"][sel].astype(int), times=[365.0])
            true = _truth(large, a, quantity)
            assert abs(km["survival"].iloc[0] - true) <= 3.5 * km["std_err"].iloc[0], (a, quantity)
    # binomial error: every patient has >= 365 days of potential follow-up, so among those
    # not lost before day 365 a relapse by day 365 is Bernoulli(relapse_1y)
    pts = large["patients"]
    rel = (pts["relapse_date"] - pts["randomization_date"]).dt.days <= 365
    fu = (pts["last_followup_date"] - pts["randomization_date"]).dt.days
    complete = (fu >= 365) | pts["death_date"].notna() | rel
    for a in ARMS:
        sel = complete & (pts["arm"] == a)
        p, n = _truth(large, a, "relapse_1y"), int(sel.sum())
        assert n > 1800
        assert abs(rel[sel].mean() - p) <= 4 * math.sqrt(p * (1 - p) / n)
    # the arms differ as their parameters say
    assert _truth(large, "preemptive", "relapse_1y") > _truth(large, "prophylactic", "relapse_1y") + 0.1


def test_large_trial_pancytopenia_after_dli_is_binomial(large):
    # pancytopenia only comes from a post-DLI marrow-suppression episode (onset 7-35 days,
    # lineages within 7 days) with all three lineages; follow-up is independent of it
    pts = large["patients"]
    dli = pts[pts["intervention_date"].notna()]
    watched = dli[(dli["last_followup_date"] - dli["intervention_date"]).dt.days >= 42]
    got = watched["pancytopenia_date"].notna()
    lag = (watched.loc[got, "pancytopenia_date"] - watched.loc[got, "intervention_date"]).dt.days
    assert lag.between(7, 42).all()
    for arm in ARMS:
        sel = watched["arm"] == arm
        n = int(sel.sum())
        p = DEFAULT_ARMS[arm].p_marrow_suppression_after_dli * 0.9 * 0.85 * 0.6
        assert n > 300
        assert abs(got[sel].mean() - p) <= 4 * math.sqrt(p * (1 - p) / n), arm
    assert pts.loc[pts["intervention_date"].isna(), "pancytopenia_date"].isna().all()


def test_arm_parameters_override():
    none = replace(DEFAULT_ARMS["prophylactic"], relapse_rate_year1=0.0, relapse_rate_later=0.0)
    tr = simulate_trial(100, seed=2, arms={"prophylactic": none})
    pts = tr["patients"]
    assert pts.loc[pts["arm"] == "prophylactic", "relapse_date"].isna().all()
    assert pts.loc[pts["arm"] == "preemptive", "relapse_date"].notna().sum() > 10
    assert _truth(tr, "prophylactic", "relapse_1y") == 0.0


def test_bad_arguments():
    with pytest.raises(InputError, match="n_per_arm"):
        simulate_trial(0)
    with pytest.raises(InputError, match="p_lost"):
        simulate_trial(5, p_lost=1.5)
    with pytest.raises(InputError, match="unknown arm 'placebo'"):
        simulate_trial(5, arms={"placebo": DEFAULT_ARMS["preemptive"]})
    with pytest.raises(InputError, match="expected ArmParameters"):
        simulate_trial(5, arms={"preemptive": {"relapse_rate_year1": 0.3}})
    with pytest.raises(InputError, match="ArmParameters.p_agvhd_after_dli"):
        replace(DEFAULT_ARMS["preemptive"], p_agvhd_after_dli=1.2)
    with pytest.raises(InputError, match="ArmParameters.relapse_rate_year1"):
        ArmParameters(**{**DEFAULT_ARMS["preemptive"].__dict__, "relapse_rate_year1": -0.1})
    with pytest.raises(InputError, match="mrd_lead_days"):
        simulate_trial(5, mrd_lead_days=(100, 10))
    with pytest.raises(InputError, match="t_days"):
        true_probabilities(DEFAULT_ARMS["preemptive"], -1)

"""Hand-worked MRD timelines: each case states the samples and the call a transplant
physician applying Liu et al. (Sci Rep 2020) would make, worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from mrdquant import classify_timeline
from mrdquant.errors import ClinicalDataError

HSCT = pd.Timestamp("2020-01-01")


def day(d: int) -> pd.Timestamp:
    return HSCT + pd.Timedelta(days=d)


def tables(rows, *, intervention_day=None, intervention="IFN-a"):
    """rows: (sample_id, day, specimen, mfc, wt1[, mfc_pct, wt1_pct])"""
    pts = pd.DataFrame(
        {
            "patient_id": ["P1"],
            "hsct_date": [HSCT],
            "intervention": [intervention if intervention_day is not None else ""],
            "intervention_date": [day(intervention_day) if intervention_day is not None else pd.NaT],
        }
    )
    recs = []
    for r in rows:
        rec = {"patient_id": "P1", "sample_id": r[0], "date": day(r[1]), "specimen": r[2], "mfc": r[3], "wt1": r[4]}
        if len(r) > 5:
            rec["mfc_pct"], rec["wt1_pct"] = r[5], r[6]
        recs.append(rec)
    return pts, pd.DataFrame(recs)


P, N, NE = "positive", "negative", "not evaluable"

# (id, rows, params, status, rule, first_positive_day, confirmed_day, evidence)
CASES = [
    ("wt1_twice_14_days", [("S1", 60, "BM", N, P), ("S2", 74, "BM", N, P)], {},
     "MRDco+", "consecutive_positive", 60, 74, "S1;S2"),
    ("wt1_twice_15_days", [("S1", 60, "BM", N, P), ("S2", 75, "BM", N, P)], {},
     "MRDsin+", "single_positive", 60, None, "S1"),
    ("mfc_and_wt1_same_sample", [("S1", 30, "BM", N, N), ("S2", 60, "BM", P, P)], {},
     "MRDco+", "both_methods", 60, 60, "S2"),
    ("mfc_then_wt1_across_methods", [("S1", 60, "BM", P, N), ("S2", 70, "BM", N, P)], {},
     "MRDco+", "consecutive_positive", 60, 70, "S1;S2"),
    ("mfc_then_wt1_within_one_method", [("S1", 60, "BM", P, N), ("S2", 70, "BM", N, P)],
     {"consecutive": "within"}, "MRDsin+", "single_positive", 60, None, "S1"),
    ("pb_positive_between_bm_positives",
     [("S1", 60, "BM", N, P), ("S2", 65, "PB", "", P), ("S3", 74, "BM", N, P)], {},
     "MRDco+", "consecutive_positive", 60, 74, "S1;S3"),
    ("pb_negative_between_bm_positives",
     [("S1", 60, "BM", N, P), ("S2", 65, "PB", "", N), ("S3", 74, "BM", N, P)], {},
     "MRDco+", "consecutive_positive", 60, 74, "S1;S3"),
    ("pb_positive_does_not_confirm",
     [("S1", 60, "BM", N, P), ("S2", 65, "PB", P, P), ("S3", 74, "BM", N, N)], {},
     "MRDsin+", "single_positive", 60, None, "S1"),
    ("pb_only_positive_is_negative",
     [("S1", 60, "BM", N, N), ("S2", 65, "PB", P, P), ("S3", 74, "BM", N, N)], {},
     "negative", "", None, None, ""),
    ("pb_counts_when_profile_says_so",
     [("S1", 60, "BM", N, P), ("S2", 65, "PB", "", P)], {"specimens": ["BM", "PB"]},
     "MRDco+", "consecutive_positive", 60, 65, "S1;S2"),
    ("not_evaluable_between_positives",
     [("S1", 60, "BM", N, P), ("S2", 67, "BM", NE, NE), ("S3", 74, "BM", P, N)], {},
     "MRDco+", "consecutive_positive", 60, 74, "S1;S3"),
    ("not_evaluable_between_positives_too_far",
     [("S1", 60, "BM", N, P), ("S2", 67, "BM", NE, NE), ("S3", 76, "BM", N, P)], {},
     "MRDsin+", "single_positive", 60, None, "S1"),
    ("negative_between_positives_breaks",
     [("S1", 60, "BM", N, P), ("S2", 67, "BM", N, N), ("S3", 74, "BM", N, P)], {},
     "MRDsin+", "single_positive", 60, None, "S1"),
    ("half_negative_between_breaks_across",
     [("S1", 60, "BM", N, P), ("S2", 67, "BM", N, NE), ("S3", 74, "BM", N, P)], {},
     "MRDsin+", "single_positive", 60, None, "S1"),
    ("half_negative_skipped_within_wt1",
     [("S1", 60, "BM", N, P), ("S2", 67, "BM", N, NE), ("S3", 74, "BM", N, P)], {"consecutive": "within"},
     "MRDco+", "consecutive_positive", 60, 74, "S1;S3"),
    ("sin_then_sin_then_confirmed",
     [("S1", 60, "BM", N, P), ("S2", 90, "BM", N, P), ("S3", 100, "BM", P, N)], {},
     "MRDco+", "consecutive_positive", 60, 100, "S2;S3"),
    ("pair_and_double_on_same_sample",
     [("S1", 60, "BM", N, P), ("S2", 70, "BM", P, P)], {},
     "MRDco+", "consecutive_positive+both_methods", 60, 70, "S1;S2"),
    ("all_negative", [("S1", 30, "BM", N, N), ("S2", 60, "BM", N, N)], {},
     "negative", "", None, None, ""),
    ("nothing_evaluable", [("S1", 30, "BM", NE, ""), ("S2", 60, "BM", "", NE)], {},
     "not evaluable", "", None, None, ""),
    ("no_window_confirms_months_apart",
     [("S1", 60, "BM", N, P), ("S2", 150, "BM", N, P)], {"confirmation_window_days": None},
     "MRDco+", "consecutive_positive", 60, 150, "S1;S2"),
    ("seven_day_window_override",
     [("S1", 60, "BM", N, P), ("S2", 70, "BM", N, P)], {"confirmation_window_days": 7},
     "MRDsin+", "single_positive", 60, None, "S1"),
    ("first_year_window",
     [("S1", 30, "BM", N, N), ("S2", 370, "BM", N, P), ("S3", 380, "BM", N, P)], {"window_after_hsct_days": 365},
     "negative", "", None, None, ""),
    ("first_year_window_includes_day_365",
     [("S1", 365, "BM", P, N), ("S2", 372, "BM", P, N)], {"window_after_hsct_days": 365},
     "MRDsin+", "single_positive", 365, None, "S1"),
    ("hsct_day_sample_counts", [("S1", 0, "BM", P, P)], {},
     "MRDco+", "both_methods", 0, 0, "S1"),
]


@pytest.mark.parametrize(
    "rows,params,status,rule,first,confirmed,evidence",
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_hand_worked_timeline(rows, params, status, rule, first, confirmed, evidence):
    pts, smp = tables(rows)
    out = classify_timeline(pts, smp, "puih_2020", **params)
    assert len(out) == 1
    r = out.iloc[0]
    assert r["status"] == status
    assert r["rule"] == rule
    assert r["evidence"] == evidence
    if first is None:
        assert pd.isna(r["first_positive_date"]) and pd.isna(r["days_to_first_positive"])
    else:
        assert r["first_positive_date"] == day(first)
        assert r["days_to_first_positive"] == first
    if confirmed is None:
        assert pd.isna(r["confirmed_date"])
    else:
        assert r["confirmed_date"] == day(confirmed)
        assert r["days_to_confirmed"] == confirmed


def test_fifteen_days_is_two_single_positives():
    pts, smp = tables([("S1", 60, "BM", N, P), ("S2", 75, "BM", N, P)])
    r = classify_timeline(pts, smp).iloc[0]
    assert r["positive_samples"] == "S1;S2"
    assert r["n_positive_samples"] == 2
    assert "window 14 days" in r["rule_detail"]


def test_positivity_only_before_hsct_is_rejected():
    pts, smp = tables([("S0", -20, "BM", P, P), ("S1", 30, "BM", N, N)])
    with pytest.raises(ClinicalDataError, match=r"S0.*before the HSCT"):
        classify_timeline(pts, smp)
    # dropping pre-transplant samples leaves a negative course
    r = classify_timeline(pts, smp, pre_hsct="drop").iloc[0]
    assert (r["status"], r["n_evaluable_samples"]) == ("negative", 1)


def test_status_is_assessed_before_the_intervention():
    rows = [("S1", 60, "BM", N, P), ("S2", 70, "BM", N, N), ("S3", 74, "BM", N, P), ("S4", 80, "BM", P, N)]
    # S1 alone before the intervention on day 65: MRDsin+
    pts, smp = tables(rows, intervention_day=65)
    assert classify_timeline(pts, smp).iloc[0]["status"] == "MRDsin+"
    # counting every sample, S3 and S4 (6 days apart) confirm
    r = classify_timeline(pts, smp, assess_until="all").iloc[0]
    assert (r["status"], r["evidence"]) == ("MRDco+", "S3;S4")
    # a sample on the intervention day is the pre-treatment baseline and counts
    pts, smp = tables(rows, intervention_day=74)
    r = classify_timeline(pts, smp).iloc[0]
    assert (r["status"], r["n_evaluable_samples"]) == ("MRDsin+", 3)


@pytest.mark.parametrize("first_day,onset", [(89, "early"), (90, "early"), (91, "late")])
def test_onset_exactly_at_the_boundary(first_day, onset):
    pts, smp = tables([("S1", 30, "BM", N, N), ("S2", first_day, "BM", N, P)])
    r = classify_timeline(pts, smp, onset_boundary_days=90).iloc[0]
    assert (r["onset"], r["onset_reason"], r["onset_boundary_days"]) == (onset, "", 90)


def test_onset_and_level_unset_say_why():
    pts, smp = tables([("S1", 60, "BM", P, P, 0.5, 3.0)])
    r = classify_timeline(pts, smp).iloc[0]
    assert r["onset"] == "" and "supplementary methods" in r["onset_reason"]
    assert r["level"] == "" and "supplementary methods" in r["level_reason"]
    assert pd.isna(r["onset_boundary_days"]) and pd.isna(r["level_high_wt1_pct"])


@pytest.mark.parametrize(
    "mfc,wt1,mfc_pct,wt1_pct,mfc_high,level,reason",
    [
        (N, P, None, 5.0, None, "high", ""),  # at the threshold is high
        (N, P, None, 4.99, None, "low", ""),
        (P, P, 0.05, 6.0, None, "high", ""),  # any method high -> high, even with MFC unset
        (P, P, 0.05, 1.0, 0.1, "low", ""),  # low only when every positive method is low
        (P, P, 0.05, 1.0, None, "", "mfc level threshold unset"),
        (P, P, 0.1, 1.0, 0.1, "high", ""),
        (N, P, None, None, None, "", "wt1_pct missing"),
        (P, N, 0.5, 0.1, None, "", "mfc level threshold unset"),
    ],
)
def test_level_from_first_positive_sample(mfc, wt1, mfc_pct, wt1_pct, mfc_high, level, reason):
    pts, smp = tables([("S1", 60, "BM", mfc, wt1, mfc_pct, wt1_pct), ("S2", 120, "BM", N, P, None, 50.0)])
    params = {"level_high_wt1_pct": 5.0}
    if mfc_high is not None:
        params["level_high_mfc_pct"] = mfc_high
    r = classify_timeline(pts, smp, **params).iloc[0]
    assert r["level"] == level
    assert reason in r["level_reason"]
    if not reason:
        assert r["level_reason"] == ""


def test_profile_values_are_in_the_output():
    pts, smp = tables([("S1", 60, "BM", N, P), ("S2", 70, "BM", N, P)])
    out = classify_timeline(pts, smp, confirmation_window_days=7)
    r = out.iloc[0]
    assert (r["profile"], r["confirmation_window_days"], r["consecutive"], r["specimens"]) == (
        "puih_2020", 7, "across", "BM")
    thresholds = {t["parameter"]: t for t in out.attrs["thresholds"]}
    assert thresholds["timeline.confirmation_window_days"]["value"] == 7
    assert thresholds["timeline.confirmation_window_days"]["source"] == "user override"
    assert "2-week interval" in classify_timeline(pts, smp).attrs["thresholds"][2]["source"]


def test_several_patients_keep_input_order_and_no_samples_is_not_evaluable():
    pts = pd.DataFrame({"patient_id": ["B", "A", "C"], "hsct_date": ["2020-01-01"] * 3})
    smp = pd.DataFrame(
        {
            "patient_id": ["A", "B", "B"],
            "sample_id": ["a1", "b1", "b2"],
            "date": ["2020-02-01", "2020-02-01", "2020-02-10"],
            "specimen": ["BM"] * 3,
            "mfc": [N, P, N],
            "wt1": [N, N, P],
        }
    )
    out = classify_timeline(pts, smp)
    assert out["patient_id"].tolist() == ["B", "A", "C"]
    assert out["status"].tolist() == ["MRDco+", "negative", "not evaluable"]
    assert out["evidence"].tolist() == ["b1;b2", "", ""]


def test_csv_paths_are_accepted(tmp_path):
    pts, smp = tables([("S1", 60, "BM", N, P), ("S2", 74, "BM", N, P)])
    pts.to_csv(tmp_path / "p.csv", index=False)
    smp.to_csv(tmp_path / "s.csv", index=False)
    r = classify_timeline(tmp_path / "p.csv", str(tmp_path / "s.csv")).iloc[0]
    assert (r["status"], r["confirmed_date"]) == ("MRDco+", day(74))

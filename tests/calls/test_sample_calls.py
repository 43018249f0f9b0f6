"""Per-sample MRD call: positive by either method; which methods, and why not evaluable."""

from __future__ import annotations

import pandas as pd

from mrdquant import call_samples

P, N, NE = "positive", "negative", "not evaluable"


def test_sample_calls_table():
    smp = pd.DataFrame(
        {
            "patient_id": ["P1"] * 6,
            "sample_id": [f"S{i}" for i in range(1, 7)],
            "date": pd.date_range("2020-02-01", periods=6, freq="7D"),
            "specimen": ["BM", "BM", "BM", "BM", "PB", "BM"],
            "mfc": [P, N, NE, "", "", P],
            "wt1": [N, N, P, NE, P, P],
            "wt1_reason": ["", "", "", "ABL1 1,200 copies", "", ""],
        }
    )
    out = call_samples(smp)
    assert out["mrd"].tolist() == ["positive", "negative", "positive", "not evaluable", "positive", "positive"]
    assert out["positive_methods"].tolist() == ["mfc", "", "wt1", "", "wt1", "mfc,wt1"]
    assert out["negative_methods"].tolist() == ["wt1", "mfc,wt1", "", "", "", ""]
    assert out["not_evaluable_methods"].tolist() == ["", "", "mfc", "mfc,wt1", "mfc", ""]
    assert out["complete"].tolist() == [True, True, False, False, False, True]
    assert out["counts"].tolist() == [True, True, True, True, False, True]
    assert out.loc[3, "reason"] == "mfc: not done; wt1: ABL1 1,200 copies"
    assert out.loc[2, "reason"] == "mfc: not evaluable"
    assert out["days_from_hsct"].isna().all()
    assert out["profile"].eq("puih_2020").all()


def test_days_from_hsct_and_wt1_only_profile():
    pts = pd.DataFrame({"patient_id": ["P1"], "hsct_date": ["2020-01-01"]})
    smp = pd.DataFrame({"patient_id": ["P1"], "sample_id": ["S1"], "date": ["2020-03-01"],
                        "specimen": ["bone marrow"], "mfc": ["pos"], "wt1": ["NEG"]})
    out = call_samples(smp, patients=pts)
    assert (out.loc[0, "days_from_hsct"], out.loc[0, "specimen"], out.loc[0, "mrd"]) == (60, "BM", "positive")
    # a WT1-only rule set ignores the MFC result
    out = call_samples(smp, patients=pts, methods=["wt1"])
    assert (out.loc[0, "mrd"], out.loc[0, "positive_methods"]) == ("negative", "")

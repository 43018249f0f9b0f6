"""merge_results: mrdquant's MFC and WT1 result tables onto a sample sheet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mrdquant import classify_timeline
from mrdquant.calls.merge import merge_results
from mrdquant.errors import ClinicalDataError


def _sheet():
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P1"],
            "sample_id": ["S1", "S2", "S3"],
            "date": ["2024-02-01", "2024-03-01", "2024-03-10"],
            "specimen": ["BM", "BM", "BM"],
            "fcs_sample_id": ["tube_a.fcs", "tube_b.fcs", ""],
            "qpcr_sample": ["BM01", None, "BM03"],
        }
    )


MFC = pd.DataFrame(
    {
        "sample_id": ["tube_a.fcs", "tube_b.fcs"],
        "status": ["negative", "positive, not quantifiable"],
        "mrd_pct": [0.0, 0.004],
        "reason": ["below LOD", "30 events, below LLOQ"],
    }
)
WT1 = pd.DataFrame(
    {"sample": ["BM01", "BM03"], "call": ["negative", "positive"], "wt1_pct_abl1": [0.2, 1.5], "reason": ["a", "b"]}
)


def test_results_land_on_their_samples():
    merged = merge_results(_sheet(), mfc=MFC, wt1=WT1)
    assert merged["mfc"].tolist() == ["negative", "positive", None]
    assert merged["wt1"].tolist() == ["negative", None, "positive"]
    np.testing.assert_array_equal(merged["mfc_pct"], [0.0, 0.004, np.nan])
    np.testing.assert_array_equal(merged["wt1_pct"], [0.2, np.nan, 1.5])
    assert merged["mfc_reason"].iloc[1] == "30 events, below LLOQ"


def test_not_evaluable_results_carry_no_level():
    """0 LAIP events in too few cells, or WT1 copies over too little ABL1, are not a
    measured 0 % or a measured ratio: the call is kept, the level left empty."""
    mfc = MFC.assign(status=["not evaluable", "positive"], mrd_pct=[0.0, 0.3])
    wt1 = WT1.assign(call=["not evaluable", "positive"])
    merged = merge_results(_sheet(), mfc=mfc, wt1=wt1)
    assert merged["mfc"].tolist() == ["not evaluable", "positive", None]
    np.testing.assert_array_equal(merged["mfc_pct"], [np.nan, 0.3, np.nan])
    np.testing.assert_array_equal(merged["wt1_pct"], [np.nan, np.nan, 1.5])
    assert merged["mfc_reason"].iloc[0] == "below LOD"


def test_merged_sheet_feeds_the_timeline():
    # S2 MFC+ on day 29 after HSCT, S3 WT1+ 9 days later: confirmed across methods -> MRDco+
    patients = pd.DataFrame({"patient_id": ["P1"], "hsct_date": ["2024-02-01"]})
    sheet = _sheet()
    sheet.loc[0, "date"] = "2024-02-15"
    timeline = classify_timeline(patients, merge_results(sheet, mfc=MFC, wt1=WT1))
    row = timeline.iloc[0]
    assert row["status"] == "MRDco+"
    assert row["evidence"].split(";") == ["S2", "S3"]


def test_unknown_link_names_sample_and_id():
    sheet = _sheet()
    sheet.loc[1, "qpcr_sample"] = "BM99"
    with pytest.raises(ClinicalDataError, match=r"'S2'.*'BM99'"):
        merge_results(sheet, wt1=WT1)


def test_duplicate_result_ids_and_missing_columns_are_refused():
    with pytest.raises(ClinicalDataError, match="more than once"):
        merge_results(_sheet(), wt1=pd.concat([WT1, WT1]))
    with pytest.raises(ClinicalDataError, match="specimen"):
        merge_results(_sheet().drop(columns="specimen"))
    with pytest.raises(ClinicalDataError, match="qpcr_sample"):
        merge_results(_sheet().drop(columns="qpcr_sample"), wt1=WT1)


def test_detected_below_threshold_stays_visible_through_sample_calls():
    """An MFC negative whose LAIP events reached the LOD is still a negative for every
    rule, but the merged sheet and the sample calls say "negative (detected below
    threshold)" next to it (issue: detected made visible in every table)."""
    import pandas as pd

    from mrdquant.calls.merge import merge_results
    from mrdquant.calls.sample import call_samples
    from mrdquant.io.clinical import read_samples

    pts = pd.DataFrame({"patient_id": ["P1"], "hsct_date": ["2020-01-01"], "diagnosis": ["B-ALL"]})
    sheet = pd.DataFrame({"patient_id": ["P1"] * 3, "sample_id": ["s1", "s2", "s3"],
                          "date": ["2020-02-01", "2020-03-01", "2020-04-01"], "specimen": ["BM"] * 3,
                          "fcs_sample_id": ["a", "b", "c"]})
    mfc = pd.DataFrame({"sample_id": ["a", "b", "c"], "status": ["negative", "negative", "positive"],
                        "detected": [True, False, True], "mrd_pct": [0.005, 0.0, 0.5], "reason": ["", "", ""]})
    merged = merge_results(sheet, mfc=mfc)
    assert merged["mfc"].tolist() == ["negative (detected below threshold)", "negative", "positive"]
    calls = call_samples(merged, patients=pts, profile="puih_2020")
    assert calls["mfc"].tolist() == ["negative", "negative", "positive"]
    assert calls["mfc_detail"].tolist() == ["negative (detected below threshold)", "negative", "positive"]
    assert calls["mrd"].tolist() == ["negative", "negative", "positive"]
    # reading the validated table again keeps the flag (idempotent)
    once = read_samples(merged, pts)
    assert once["mfc_detected"].tolist() == [True, False, False]
    assert read_samples(once, pts)["mfc_detected"].tolist() == [True, False, False]

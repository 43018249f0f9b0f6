"""Time to MRD negativity after an intervention and re-emergence, hand-worked."""

from __future__ import annotations

import pandas as pd
import pytest

from mrdquant import classify_timeline
from mrdquant.calls.clearance import assess_clearance

HSCT = pd.Timestamp("2020-01-01")
P, N, NE = "positive", "negative", "not evaluable"


def day(d):
    return HSCT + pd.Timedelta(days=d)


def tables(rows, intervention_day=70):
    pts = pd.DataFrame(
        {"patient_id": ["P1"], "hsct_date": [HSCT], "intervention": ["IFN-a"],
         "intervention_date": [day(intervention_day)]}
    )
    smp = pd.DataFrame(
        [{"patient_id": "P1", "sample_id": r[0], "date": day(r[1]), "specimen": r[2], "mfc": r[3], "wt1": r[4]}
         for r in rows]
    )
    return pts, smp


BASE = [("S1", 60, "BM", N, P), ("S2", 70, "BM", N, P)]  # S2 on the intervention day: baseline

# (id, later rows, rule, clearance, negativity_day, evidence, reemergence_day)
CASES = [
    ("cleared_then_reemerged",
     [("S3", 100, "BM", N, P), ("S4", 130, "BM", N, N), ("S5", 160, "BM", N, N), ("S6", 190, "BM", P, N)],
     "one_negative", "re-emerged", 130, "S4", 190),
    ("cleared_then_reemerged_two_negatives",
     [("S3", 100, "BM", N, P), ("S4", 130, "BM", N, N), ("S5", 160, "BM", N, N), ("S6", 190, "BM", P, N)],
     "two_consecutive_negative", "re-emerged", 130, "S4;S5", 190),
    ("single_negative_then_positive",
     [("S3", 100, "BM", N, N), ("S4", 130, "BM", N, P), ("S5", 160, "BM", N, N), ("S6", 190, "BM", N, N)],
     "one_negative", "re-emerged", 100, "S3", 130),
    ("single_negative_not_enough_for_two",
     [("S3", 100, "BM", N, N), ("S4", 130, "BM", N, P), ("S5", 160, "BM", N, N), ("S6", 190, "BM", N, N)],
     "two_consecutive_negative", "cleared", 160, "S5;S6", None),
    ("half_negative_is_not_clearance",
     [("S3", 100, "BM", N, NE), ("S4", 130, "BM", N, N)],
     "one_negative", "cleared", 130, "S4", None),
    ("not_evaluable_does_not_break_two_negatives",
     [("S3", 100, "BM", N, N), ("S4", 115, "BM", NE, NE), ("S5", 130, "BM", N, N)],
     "two_consecutive_negative", "cleared", 100, "S3;S5", None),
    ("pb_negative_is_not_clearance",
     [("S3", 100, "PB", N, N), ("S4", 130, "BM", N, P)],
     "one_negative", "not cleared", None, "", None),
    ("persistent", [("S3", 100, "BM", N, P), ("S4", 130, "BM", P, P)],
     "one_negative", "not cleared", None, "", None),
]


@pytest.mark.parametrize("later,rule,clearance,neg_day,evidence,re_day", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_clearance(later, rule, clearance, neg_day, evidence, re_day):
    pts, smp = tables(BASE + later)
    r = assess_clearance(pts, smp, clearance_rule=rule).iloc[0]
    assert r["clearance"] == clearance
    assert r["negativity_evidence"] == evidence
    if neg_day is None:
        assert pd.isna(r["negativity_date"]) and pd.isna(r["days_to_negativity"])
    else:
        assert r["negativity_date"] == day(neg_day)
        assert r["days_to_negativity"] == neg_day - 70
    if re_day is None:
        assert pd.isna(r["reemergence_date"])
    else:
        assert r["reemergence_date"] == day(re_day)
        assert r["days_to_reemergence"] == re_day - 70


def test_baseline_on_intervention_day_is_not_clearance():
    pts, smp = tables([("S1", 60, "BM", N, P), ("S2", 70, "BM", N, N)])
    r = assess_clearance(pts, smp).iloc[0]
    assert r["clearance"] == "not cleared"


def test_timeline_carries_clearance_and_none_without_intervention():
    pts, smp = tables(BASE + [("S3", 100, "BM", N, N)])
    pts = pd.concat([pts, pd.DataFrame({"patient_id": ["P2"], "hsct_date": [HSCT]})], ignore_index=True)
    smp = pd.concat([smp, pd.DataFrame([{"patient_id": "P2", "sample_id": "X1", "date": day(40),
                                         "specimen": "BM", "mfc": N, "wt1": N}])], ignore_index=True)
    out = classify_timeline(pts, smp).set_index("patient_id")
    assert out.loc["P1", "status"] == "MRDco+"  # S1, S2 (baseline) 10 days apart
    assert (out.loc["P1", "clearance"], out.loc["P1", "days_to_negativity"]) == ("cleared", 30)
    assert out.loc["P2", "clearance"] == "" and pd.isna(out.loc["P2", "negativity_date"])
    assert out.loc["P1", "clearance_rule"] == "one_negative"

"""Changing the profile changes the call; profile parameters are validated."""

from __future__ import annotations

import pandas as pd
import pytest

from mrdquant import classify_timeline
from mrdquant.calls.rules import timeline_rules
from mrdquant.errors import ConfigError

P, N = "positive", "negative"


def _tables(rows):
    pts = pd.DataFrame({"patient_id": ["P1"], "hsct_date": ["2020-01-01"]})
    smp = pd.DataFrame(
        [{"patient_id": "P1", "sample_id": s, "date": pd.Timestamp("2020-01-01") + pd.Timedelta(days=d),
          "specimen": "BM", "mfc": m, "wt1": w} for s, d, m, w in rows]
    )
    return pts, smp


def test_zhao_2013_vs_puih_2020():
    # WT1+ twice, 60 days apart, in the first year: Zhao's combined criterion (no 14-day window)
    pts, smp = _tables([("S1", 100, N, P), ("S2", 160, N, P)])
    assert classify_timeline(pts, smp, "puih_2020").iloc[0]["status"] == "MRDsin+"
    z = classify_timeline(pts, smp, "zhao_2013").iloc[0]
    assert (z["status"], z["rule"], z["profile"], z["window_after_hsct_days"]) == (
        "MRDco+", "consecutive_positive", "zhao_2013", 365)
    # MFC+ then WT1+ 10 days apart: across methods (PUIH) vs within one method (Zhao)
    pts, smp = _tables([("S1", 100, P, N), ("S2", 110, N, P)])
    assert classify_timeline(pts, smp, "puih_2020").iloc[0]["status"] == "MRDco+"
    assert classify_timeline(pts, smp, "zhao_2013").iloc[0]["status"] == "MRDsin+"
    # positivity only in the second year counts for PUIH, not for Zhao
    pts, smp = _tables([("S0", 300, N, N), ("S1", 400, P, P)])
    assert classify_timeline(pts, smp, "puih_2020").iloc[0]["status"] == "MRDco+"
    assert classify_timeline(pts, smp, "zhao_2013").iloc[0]["status"] == "negative"
    # and nothing in the first year at all: not evaluable rather than negative
    pts, smp = _tables([("S1", 400, P, P)])
    assert classify_timeline(pts, smp, "zhao_2013").iloc[0]["status"] == "not evaluable"


def test_profile_folder_with_onset_boundary(tmp_path):
    (tmp_path / "profile.toml").write_text('[profile]\nid = "lab_x"\ntitle = "t"\nsource = "s"\n')
    (tmp_path / "timeline.toml").write_text(
        '[specimens]\nvalue = ["BM"]\nunit = "codes"\nsource = "s"\n'
        '[methods]\nvalue = ["mfc", "wt1"]\nunit = "codes"\nsource = "s"\n'
        '[confirmation_window_days]\nvalue = 14\nunit = "days"\nsource = "s"\n'
        '[consecutive]\nvalue = "across"\nunit = ""\nsource = "s"\n'
        '[window_after_hsct_days]\nvalue = "none"\nunit = "days"\nsource = "s"\n'
        '[assess_until]\nvalue = "intervention"\nunit = ""\nsource = "s"\n'
        '[onset_boundary_days]\nvalue = 180\nunit = "days"\nsource = "local definition 2024"\n'
        '[level_high_mfc_pct]\nvalue = "unset"\nunit = "%"\nreason = "none"\n'
        '[level_high_wt1_pct]\nvalue = "unset"\nunit = "%"\nreason = "none"\n'
        '[clearance_rule]\nvalue = "one_negative"\nunit = ""\nsource = "s"\n'
    )
    pts, smp = _tables([("S1", 180, N, P)])
    r = classify_timeline(pts, smp, tmp_path).iloc[0]
    assert (r["profile"], r["onset"], r["onset_boundary_days"]) == ("lab_x", "early", 180)
    pts, smp = _tables([("S1", 181, N, P)])
    assert classify_timeline(pts, smp, tmp_path).iloc[0]["onset"] == "late"


@pytest.mark.parametrize(
    "params,match",
    [
        ({"window_days": 7}, "unknown timeline parameter"),
        ({"consecutive": "both"}, "consecutive"),
        ({"confirmation_window_days": -1}, "confirmation_window_days"),
        ({"confirmation_window_days": 1.5}, "confirmation_window_days"),
        ({"specimens": ["CSF"]}, "specimens"),
        ({"clearance_rule": "three"}, "clearance_rule"),
        ({"onset_boundary_days": "soon"}, "onset_boundary_days"),
        ({"level_high_wt1_pct": 0}, "level_high_wt1_pct"),
    ],
)
def test_bad_parameters_raise_config_error(params, match):
    with pytest.raises(ConfigError, match=match):
        timeline_rules("puih_2020", **params)


def test_profile_without_timeline_section():
    with pytest.raises(ConfigError, match="no timeline section"):
        timeline_rules("eln_2009")


def test_puih_unset_values_are_unset_with_reason():
    rules = timeline_rules("puih_2020")
    assert rules.onset_boundary.value is None
    assert "supplementary methods" in rules.onset_boundary.reason
    assert all(t.value is None for t in rules.level_high.values())
    assert (rules.confirmation_window_days, rules.consecutive, rules.specimens) == (14, "across", ("BM",))

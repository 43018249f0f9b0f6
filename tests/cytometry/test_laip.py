"""MFC MRD quantification: hand-worked boundaries of the LOD / LLOQ / threshold rules."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdquant.cytometry.laip import MFC_STATUSES, MRD_TABLE_COLUMNS, MfcResult, quantify_mrd, quantify_mrd_table
from mrdquant.errors import ConfigError, InputError
from mrdquant.profiles import load_profile

# puih_2020 defaults: LOD 20, LLOQ 50 events; ALL threshold 0.01 % -> a negative call needs
# ceil(20 / 1e-4) = 200,000 denominator events (no published minimum for the study).


def test_profile_defaults_carry_their_sources():
    r = quantify_mrd(0, 300_000)
    t = r.thresholds
    assert (t["lod_events"].value, t["lloq_events"].value) == (20, 50)
    assert t["lod_events"].source.startswith("assumption: common lab practice")
    assert t["lloq_events"].source.startswith("assumption: common lab practice")
    assert t["positivity_pct"].value == 0.01
    assert "10^-4" in t["positivity_pct"].source
    assert t["min_denominator_events"].value == 200_000
    assert t["min_denominator_events"].source.startswith("derived: lod_events / positivity fraction")
    assert r.profile_id == "puih_2020"
    assert list(r.thresholds_table()["parameter"]) == list(t)


def test_exactly_lod_events_is_detected():
    # 20 events in 100,000 = 0.02 % >= 0.01 %, 20 < LLOQ 50
    r = quantify_mrd(20, 100_000)
    assert r.status == "positive, not quantifiable"
    assert r.detected
    assert r.mrd_pct == pytest.approx(0.02)
    assert r.mrd_fraction == pytest.approx(2e-4)
    assert r.sensitivity == pytest.approx(20 / 100_000)


def test_one_below_lod_with_enough_events_is_negative():
    r = quantify_mrd(19, 200_000)
    assert r.status == "negative"
    assert not r.detected
    assert "19 LAIP events < LOD 20" in r.reason
    assert r.sensitivity == pytest.approx(1e-4)


def test_below_lod_one_event_short_of_min_denominator_is_not_evaluable():
    r = quantify_mrd(19, 199_999)
    assert r.status == "not evaluable"
    assert "199999" in r.reason and "200000" in r.reason


def test_lloq_boundary():
    assert quantify_mrd(49, 100_000).status == "positive, not quantifiable"
    r = quantify_mrd(50, 100_000)
    assert r.status == "positive"
    assert r.mrd_pct == pytest.approx(0.05)


def test_detected_below_threshold_is_negative():
    # 60 events in 1,000,000 = 0.006 % < 0.01 %; 100 events = exactly 0.01 % -> positive
    r = quantify_mrd(60, 1_000_000)
    assert r.status == "negative"
    assert r.detected
    assert "below the positivity threshold 0.01%" in r.reason
    assert quantify_mrd(100, 1_000_000).status == "positive"
    assert quantify_mrd(99, 1_000_000).status == "negative"


def test_no_threshold_makes_any_detection_positive():
    r = quantify_mrd(60, 1_000_000, threshold_pct=None)
    assert r.status == "positive"
    assert r.thresholds["min_denominator_events"].value == 1


def test_zero_denominator_is_not_evaluable():
    r = quantify_mrd(0, 0)
    assert r.status == "not evaluable"
    assert math.isnan(r.mrd_pct) and math.isnan(r.sensitivity)
    assert r.reason == "no denominator events"


def test_aml_uses_eln_threshold_and_half_million_cd45_cells():
    r = quantify_mrd(0, 499_999, disease="AML")
    assert r.status == "not evaluable"
    assert r.thresholds["min_denominator_events"].value == 500_000
    assert "Heuser" in r.thresholds["min_denominator_events"].source
    assert quantify_mrd(0, 500_000, disease="AML").status == "negative"
    # 0.1 % threshold: 499 / 500,000 = 0.0998 % -> negative; 500 -> 0.1 % positive
    assert quantify_mrd(499, 500_000, disease="AML").status == "negative"
    assert quantify_mrd(500, 500_000, disease="AML").status == "positive"


def test_user_limits_override_profile():
    r = quantify_mrd(10, 1000, lod_events=10, lloq_events=30, min_denominator=500, threshold_pct=0.5)
    assert r.status == "positive, not quantifiable"  # 1 % >= 0.5 %, 10 < 30
    assert r.thresholds["lod_events"].source == "user argument"
    assert quantify_mrd(9, 500, lod_events=10, lloq_events=30, min_denominator=500).status == "negative"
    assert quantify_mrd(9, 499, lod_events=10, lloq_events=30, min_denominator=500).status == "not evaluable"


def test_result_is_frozen():
    r = quantify_mrd(100, 1_000_000)
    assert isinstance(r, MfcResult)
    with pytest.raises(AttributeError):
        r.status = "negative"  # type: ignore[misc]


@pytest.mark.parametrize(
    "laip, den, match",
    [(-1, 100, "laip_events"), (1.5, 100, "laip_events"), (5, 4, "exceeds"), (1, float("nan"), "denominator_events")],
)
def test_bad_counts_raise_input_error(laip, den, match):
    with pytest.raises(InputError, match=match):
        quantify_mrd(laip, den)


def test_inconsistent_limits_raise_config_error():
    with pytest.raises(ConfigError, match="lod_events=60 is above lloq_events=50"):
        quantify_mrd(1, 100, lod_events=60)
    with pytest.raises(ConfigError, match="disease"):
        quantify_mrd(1, 100, disease="CML")  # type: ignore[arg-type]


def test_profile_without_mfc_section_is_named(tmp_path):
    (tmp_path / "profile.toml").write_text('[profile]\nid = "bare"\n')
    with pytest.raises(ConfigError, match="profile 'bare' has no mfc.lod_events"):
        quantify_mrd(1, 100, profile=tmp_path)


def test_profile_override_is_used():
    prof = load_profile("puih_2020").with_values(mfc__lod_events=10)
    r = quantify_mrd(10, 100_000, profile=prof)
    assert r.detected and r.thresholds["lod_events"].source == "user override"


def _counts(rows):
    return pd.DataFrame(rows, columns=["sample_id", "gate", "parent", "count"])


def test_table_one_row_per_sample_in_order():
    counts = _counts(
        [
            ("s2", "Singlets", "Nucleated", 300_000),
            ("s2", "LAIP", "CD19pos", 19),
            ("s1", "Singlets", "Nucleated", 100_000),
            ("s1", "LAIP", "CD19pos", 50),
            ("s1", "CD19pos", "Singlets", 5_000),
            ("s3", "LAIP", "CD19pos", 0),
            ("s3", "Singlets", "Nucleated", 1_000),
        ]
    )
    t = quantify_mrd_table(counts, "LAIP", "Singlets")
    assert list(t.columns) == MRD_TABLE_COLUMNS
    assert list(t.sample_id) == ["s2", "s1", "s3"]
    assert list(t.status) == ["negative", "positive", "not evaluable"]
    assert list(t.laip_events) == [19, 50, 0]
    assert t.laip_events.dtype == np.int64 and t.denominator_events.dtype == np.int64
    # a not evaluable sample has no MRD level
    np.testing.assert_allclose(t.mrd_pct, [19 / 3000, 0.05, np.nan])
    assert set(t.profile_id) == {"puih_2020"}


def test_table_without_sample_column_is_one_sample():
    counts = pd.DataFrame({"gate": ["Singlets", "LAIP"], "count": [250_000, 75]})
    t = quantify_mrd_table(counts, "LAIP", "Singlets")
    assert len(t) == 1 and t.sample_id[0] == "" and t.status[0] == "positive"


def test_table_errors_name_sample_and_gate():
    counts = _counts([("s1", "Singlets", "", 100), ("s1", "LAIP", "", 5), ("s2", "Singlets", "", 100)])
    with pytest.raises(InputError, match="sample 's2' has no count for gate"):
        quantify_mrd_table(counts, "LAIP", "Singlets")
    with pytest.raises(InputError, match="no row for gate 'Blasts'"):
        quantify_mrd_table(counts, "Blasts", "Singlets")
    with pytest.raises(InputError, match="missing column 'count'"):
        quantify_mrd_table(counts.drop(columns="count"), "LAIP", "Singlets")
    dup = _counts([("s1", "Singlets", "", 100), ("s1", "LAIP", "", 5), ("s1", "LAIP", "", 6)])
    with pytest.raises(InputError, match="more than once"):
        quantify_mrd_table(dup, "LAIP", "Singlets")
    over = _counts([("s1", "Singlets", "", 10), ("s1", "LAIP", "", 11)])
    with pytest.raises(InputError, match="sample 's1'.*exceeds"):
        quantify_mrd_table(over, "LAIP", "Singlets")


def _naive_status(laip, den, lod=20, lloq=50, min_den=200_000, thr=1e-4):
    """The documented rules, written out one by one."""
    if den == 0:
        return "not evaluable"
    if laip < lod:
        return "negative" if den >= min_den else "not evaluable"
    if laip / den < thr:
        return "negative"
    if laip < lloq:
        return "positive, not quantifiable"
    return "positive"


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3_000_000), st.integers(0, 400)).map(lambda t: (max(t[0], t[1]), t[1])),
        min_size=1,
        max_size=20,
    )
)
def test_table_matches_scalar_and_naive_rules(pairs):
    rows = []
    for i, (den, laip) in enumerate(pairs):
        rows += [(f"s{i}", "Singlets", "", den), (f"s{i}", "LAIP", "", laip)]
    t = quantify_mrd_table(_counts(rows), "LAIP", "Singlets")
    for i, (den, laip) in enumerate(pairs):
        expected = _naive_status(laip, den)
        assert t.status[i] == expected
        r = quantify_mrd(laip, den)
        assert r.status == expected
        assert r.reason == t.reason[i]
        if expected == "not evaluable":  # no call, no level
            assert np.isnan(r.mrd_fraction) and np.isnan(r.mrd_pct) and np.isnan(t.mrd_pct[i])
        else:
            assert r.mrd_fraction == pytest.approx(laip / den) and t.mrd_pct[i] == pytest.approx(100 * laip / den)
    assert set(t.status) <= set(MFC_STATUSES)


def test_detected_below_threshold_is_visible_next_to_the_status():
    """30 LAIP events in 1,000,000 (LOD 20, ALL threshold 0.01 %): 0.003 % is detected
    but below the threshold; the status stays "negative" and the detail says so."""
    res = quantify_mrd(30, 1_000_000, disease="ALL", profile="puih_2020")
    assert res.status == "negative" and res.detected
    assert res.status_detail == "negative (detected below threshold)"
    clean = quantify_mrd(5, 1_000_000, disease="ALL", profile="puih_2020")
    assert clean.status == "negative" and not clean.detected and clean.status_detail == "negative"
    counts = pd.DataFrame({
        "sample_id": ["s1", "s1", "s2", "s2", "s3", "s3"],
        "gate": ["laip", "den"] * 3,
        "count": [30, 1_000_000, 5, 1_000_000, 400, 1_000_000],
    })
    table = quantify_mrd_table(counts, "laip", "den", disease="ALL", profile="puih_2020")
    cols = list(table.columns)
    assert cols[cols.index("status") + 1: cols.index("status") + 3] == ["detected", "status_detail"]
    assert table["status"].tolist() == ["negative", "negative", "positive"]
    assert table["status_detail"].tolist() == ["negative (detected below threshold)", "negative", "positive"]
    assert table["detected"].tolist() == [True, False, True]
    assert set(table["status"]) <= set(MFC_STATUSES)  # the status set is unchanged


def test_status_detail_reads_back_as_negative_in_a_samples_table(tmp_path):
    from mrdquant.io.clinical import read_samples

    df = pd.DataFrame({"patient_id": ["P1", "P1"], "sample_id": ["a", "b"], "date": ["2020-01-01", "2020-02-01"],
                       "specimen": "BM", "mfc": ["negative (detected below threshold)", "positive, not quantifiable"]})
    assert read_samples(df)["mfc"].tolist() == ["negative", "positive"]


def test_negative_by_a_lowered_min_denominator_says_the_threshold_is_not_reached():
    """A negative whose sensitivity (LOD / denominator) is above the positivity threshold
    (possible only when min_denominator is lowered) says so in its reason."""
    r = quantify_mrd(0, 1855, min_denominator=1000)
    assert r.status == "negative"
    assert r.sensitivity == pytest.approx(20 / 1855)
    assert "does not reach the positivity threshold 0.01%" in r.reason
    assert "MRD below 1.08% cannot be excluded" in r.reason
    assert "min_denominator_events 1000" in r.reason
    # with enough events the reason stays the plain one
    assert "does not reach" not in quantify_mrd(0, 300_000, min_denominator=1000).reason

"""quantify_mfc on simulated tubes against per-event truth; combine_tubes; the results table."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

import mrdquant
from mrdquant.calls.merge import merge_results
from mrdquant.io.fcs import FlowSample
from mrdquant.mfc import RESULT_COLUMNS, combine_tubes, results_table
from mrdquant.simulate.flow import write_bone_marrow_fcs
from tests.mfc.conftest import f1, simulated


@pytest.mark.parametrize("panel", ["B-ALL", "T-ALL", "AML"])
@pytest.mark.parametrize("seed", [21, 22])
def test_mrd_inside_the_binomial_interval_of_the_truth(panel, seed):
    s, truth = simulated(panel, 200_000, 1e-3, seed)
    r = mrdquant.quantify_mfc(s, panel)
    true_frac = truth["is_leukemic"].sum() / truth["is_denominator"].sum()
    ci = binomtest(r.laip_events, r.denominator_events).proportion_ci(0.95)
    assert ci.low <= true_frac <= ci.high
    # ALL threshold 0.01 %: positive; AML threshold 0.1 %: decided by the measured MRD
    assert r.status == ("positive" if r.mrd_pct >= r.thresholds["positivity_pct"].value else "negative")
    assert f1(r.laip_mask, truth) >= 0.95
    assert r.laip_mask.shape == (s.n_events,) and r.laip_mask.sum() == r.laip_events


@pytest.mark.parametrize("panel", ["B-ALL", "T-ALL", "AML"])
def test_negative_file_is_not_called_positive(panel):
    s, truth = simulated(panel, 200_000, 0.0, 31)
    assert truth["is_leukemic"].sum() == 0
    r = mrdquant.quantify_mfc(s, panel, min_denominator=100_000)
    assert r.status == "negative" and r.laip_events < 20


def test_result_fields_and_provenance(tmp_path):
    fcs, _ = write_bone_marrow_fcs(tmp_path / "t.fcs", "B-ALL", 30_000, mrd_fraction=1e-2, seed=3)
    r = mrdquant.quantify_mfc(fcs, "B-ALL")
    panel = mrdquant.load_panel("B-ALL")
    assert r.sample_id == "t.fcs"
    pv = r.provenance
    assert pv["panel_id"] == "B-ALL" and pv["panel_hash"] == panel.hash
    assert pv["input_sha256"] == hashlib.sha256(fcs.read_bytes()).hexdigest()
    assert pv["profile"] == "puih_2020" and pv["mrdquant_version"] == mrdquant.__version__
    assert pv["parameters"]["qc"] is True
    assert r.denominator_events == r.qc["events_out"].iloc[-1]
    assert r.laip_events == r.gates.set_index("gate").loc["LAIP", "events"]
    for key in ("lod_events", "lloq_events", "positivity_pct", "min_denominator_events"):
        assert key in r.thresholds
    assert r.mrd_pct == pytest.approx(100 * r.laip_events / r.denominator_events)


def test_too_few_events_is_not_evaluable_not_an_error():
    s, _ = simulated("B-ALL", 500, 1e-2, 1)
    r = mrdquant.quantify_mfc(s, "B-ALL")
    assert r.status == "not evaluable" and "500 events" in r.reason
    assert r.laip_mask.shape == (500,) and not r.laip_mask.any()
    # enough to gate, too few for a negative call
    s2, _ = simulated("B-ALL", 5_000, 0.0, 1)
    r2 = mrdquant.quantify_mfc(s2, "B-ALL")
    assert r2.status == "not evaluable" and r2.denominator_events > 0


def test_missing_marker_is_a_clear_error():
    s, _ = simulated("AML", 2_000, 1e-2, 1)
    with pytest.raises(mrdquant.ConfigError, match=r"needs marker\(s\).*'CD117'"):
        mrdquant.quantify_mfc(s, "B-ALL")


def _half(sample: FlowSample, which: int) -> FlowSample:
    ev = sample.events[which::2]
    return FlowSample.from_array(ev, sample.channels, markers=sample.markers, spillover=sample.spillover)


def test_combine_tubes_pools_aliquots_and_any_positive_group_wins():
    s, _ = simulated("B-ALL", 200_000, 2e-4, 41)
    a = mrdquant.quantify_mfc(_half(s, 0), "B-ALL", sample_id="a")
    b = mrdquant.quantify_mfc(_half(s, 1), "B-ALL", sample_id="b")
    c = combine_tubes([a, b])
    assert c.laip_events == a.laip_events + b.laip_events
    assert c.denominator_events == a.denominator_events + b.denominator_events
    assert c.sensitivity < min(a.sensitivity, b.sensitivity)
    assert c.provenance["pooled"] == ["a", "b"] and c.laip_mask is None
    assert set(c.qc["tube"]) == {"a", "b"}
    # a different panel's tube that is positive makes the sample positive
    t, _ = simulated("T-ALL", 60_000, 1e-2, 42)
    pos = mrdquant.quantify_mfc(t, "T-ALL", sample_id="t")
    neg = mrdquant.quantify_mfc(simulated("B-ALL", 200_000, 0.0, 43)[0], "B-ALL", sample_id="n",
                                min_denominator=100_000)
    assert neg.status == "negative" and pos.status == "positive"
    both = combine_tubes([neg, pos])
    assert both.status == "positive" and both.laip_events == pos.laip_events
    with pytest.raises(mrdquant.InputError):
        combine_tubes([])


def test_results_table_feeds_merge_results():
    rs = [mrdquant.quantify_mfc(simulated("B-ALL", 30_000, m, 50 + i)[0], "B-ALL", sample_id=f"tube{i}")
          for i, m in enumerate((1e-2, 0.0))]
    table = results_table(rs)
    assert list(table.columns) == RESULT_COLUMNS and len(table) == 2
    assert table["laip_events"].dtype == np.int64
    sheet = pd.DataFrame({"patient_id": ["P1", "P1"], "sample_id": ["s1", "s2"],
                          "date": pd.to_datetime(["2024-01-01", "2024-02-01"]), "specimen": ["BM", "BM"],
                          "fcs_sample_id": ["tube0", "tube1"]})
    merged = merge_results(sheet, mfc=table)
    assert list(merged["mfc"]) == ["positive", rs[1].status if rs[1].status != "positive, not quantifiable"
                                   else "positive"]
    assert merged["mfc_pct"].iloc[0] == pytest.approx(rs[0].mrd_pct)


def test_a_prepared_sample_gives_the_same_result_and_is_checked(data_samples):
    import dataclasses

    from mrdquant.errors import ConfigError
    from mrdquant.mfc import prepare

    path = data_samples / "flow" / "b_all_mrd1e-2.fcs"
    direct = mrdquant.quantify_mfc(path, "B-ALL")
    ps = prepare(path, mrdquant.load_panel("B-ALL"), sample_id=path.name)
    again = mrdquant.quantify_mfc(ps, "B-ALL")
    assert (again.laip_events, again.denominator_events, again.status) == (
        direct.laip_events, direct.denominator_events, direct.status)
    assert np.array_equal(again.laip_mask, direct.laip_mask) and again.sample_id == direct.sample_id
    with pytest.raises(ConfigError, match="prepared with another panel or LAIP"):
        mrdquant.quantify_mfc(dataclasses.replace(ps, gate_masks={}), "B-ALL")


def test_gating_error_is_reported_while_the_file_is_hashed(tmp_path):
    fcs, _ = write_bone_marrow_fcs(tmp_path / "t.fcs", "B-ALL", 5_000, mrd_fraction=1e-2, seed=3)
    with pytest.raises(mrdquant.errors.ConfigError, match="CD19"):
        mrdquant.quantify_mfc(fcs, "B-ALL", channels={"CD19": "no-such-channel"})

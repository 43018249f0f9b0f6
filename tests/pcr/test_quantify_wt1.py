"""WT1/ABL1 quantification and calls on simulated plates with known copy numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mrdquant.errors import QPCRError
from mrdquant.io.qpcr import read_qpcr
from mrdquant.pcr.qc import ntc_check, replicate_summary
from mrdquant.pcr.quantify import RESULT_COLUMNS, quantify_wt1
from mrdquant.pcr.calibration import stored_curve
from mrdquant.simulate.qpcr import TRUE_CURVES, simulate_qpcr_plate, write_quantstudio_plate


def _plate(tmp_path, seed, **kw):
    path, truth = write_quantstudio_plate(tmp_path / f"plate_{seed}.txt", seed=seed, **kw)
    return read_qpcr(path), truth.set_index("sample")


def test_copies_within_stated_error_and_calls_match_truth(tmp_path, seed):
    wells, truth = _plate(tmp_path, seed, low_abl1=True)
    res = quantify_wt1(wells, min_abl1=10_000, profile="puih_2020").set_index("sample")
    assert list(quantify_wt1(wells, min_abl1=10_000).columns) == RESULT_COLUMNS
    assert set(res.index) == set(truth.index)
    for sample, t in truth.iterrows():
        r = res.loc[sample]
        tol = t["copies_fold_tolerance"]
        for col in ("wt1_copies", "abl1_copies"):
            assert t[col] / tol <= r[col] <= t[col] * tol, (sample, col, r[col], t[col])
        assert r["call"] == t["expected_call"], (sample, r["reason"])
        # normalizations by hand from the reported copies
        assert r["wt1_pct_abl1"] == pytest.approx(100 * r["wt1_copies"] / r["abl1_copies"])
        assert r["wt1_per_1e4_abl1"] == pytest.approx(100 * r["wt1_pct_abl1"])
        assert r["sensitivity"] == pytest.approx(1 / r["abl1_copies"])
        assert r["profile"] == "puih_2020" and r["threshold"] == 0.6
        assert r["threshold_unit"] == "% of ABL1" and "Qin" in r["threshold_source"]
    assert res.loc["LOW_ABL1", "reason"].startswith("not evaluable: ABL1 below minimum")
    assert res.loc["BM01", "reason"].startswith("positive")
    assert res.loc["BM02", "reason"].startswith("negative")


def test_undetermined_ntcs_pass(tmp_path):
    wells, _ = _plate(tmp_path, 0)
    ntc = wells[wells["role"] == "ntc"]
    assert len(ntc) == 4 and ntc["ct"].isna().all()
    check = ntc_check(wells)
    assert check["passed"].all() and check["n_ntc"].tolist() == [2, 2]


def test_amplifying_ntc_makes_plate_not_evaluable(tmp_path):
    wells, truth = _plate(tmp_path, 3, ntc_amplifies=True)
    res = quantify_wt1(wells, min_abl1=10_000)
    assert (res["call"] == "not evaluable").all()
    assert res["reason"].str.startswith("not evaluable: NTC amplified").all()
    # numbers are still reported, flagged by the call
    assert res["wt1_copies"].notna().all()
    # tolerated when the lab accepts late NTC signal
    late = quantify_wt1(wells, min_abl1=10_000, ntc_max_ct=34.0)
    expected = np.where(truth.loc[late["sample"], "wt1_pct_abl1"] > 0.6, "positive", "negative")
    assert late["call"].tolist() == expected.tolist()


def test_failed_replicate_is_excluded_and_flagged(tmp_path):
    wells, truth = _plate(tmp_path, 5, failed_replicate="BM01")
    res = quantify_wt1(wells, min_abl1=10_000).set_index("sample")
    r = res.loc["BM01"]
    assert r["wt1_replicates"] == 2 and "failed replicate excluded" in r["flags"]
    assert r["call"] == "positive"
    tol = truth.loc["BM01", "copies_fold_tolerance"]
    assert truth.loc["BM01", "wt1_copies"] / tol <= r["wt1_copies"] <= truth.loc["BM01", "wt1_copies"] * tol
    strict = quantify_wt1(wells, min_abl1=10_000, min_replicates=3).set_index("sample")
    assert strict.loc["BM01", "reason"] == "not evaluable: too few valid WT1 replicates"
    assert strict.loc["BM02", "call"] == "negative"


def test_low_abl1_depends_on_required_minimum(tmp_path):
    wells, _ = _plate(tmp_path, 2, low_abl1=True)
    with pytest.raises(TypeError):
        quantify_wt1(wells)  # min_abl1 is required
    with pytest.raises(QPCRError, match="min_abl1"):
        quantify_wt1(wells, min_abl1=0)
    res = quantify_wt1(wells, min_abl1=1_000).set_index("sample")
    assert res.loc["LOW_ABL1", "call"] == "positive"  # 5 % WT1 once 2,000 ABL1 copies suffice


def test_plate_without_standards_uses_stored_curve(tmp_path, seed):
    wells, truth = _plate(tmp_path, seed, no_standards=True)
    assert not (wells["role"] == "standard").any()
    res = quantify_wt1(wells, min_abl1=10_000)
    assert res["reason"].str.startswith("not evaluable: no WT1 standard curve").all()
    curves = {t: stored_curve(t, *TRUE_CURVES[t]) for t in ("WT1", "ABL1")}
    res = quantify_wt1(wells, min_abl1=10_000, curves=curves).set_index("sample")
    for sample, t in truth.iterrows():
        tol = t["copies_fold_tolerance"]
        assert t["wt1_copies"] / tol <= res.loc[sample, "wt1_copies"] <= t["wt1_copies"] * tol
        expected = "positive" if t["wt1_pct_abl1"] > 0.6 else "negative"
        assert res.loc[sample, "call"] == expected
    assert res["wt1_curve"].str.startswith("stored").all()


def test_failed_curve_flags_results_never_silent(tmp_path):
    wells, _ = _plate(tmp_path, 4, curves={"WT1": (-4.0, 42.0), "ABL1": TRUE_CURVES["ABL1"]})
    res = quantify_wt1(wells, min_abl1=10_000)
    assert (res["call"] == "not evaluable").all()
    assert res["reason"].str.startswith("not evaluable: standard curve failed (WT1").all()
    assert res["wt1_copies"].notna().all()
    # a laboratory accepting this efficiency widens the slope range
    ok = quantify_wt1(wells, min_abl1=10_000, slope_range=(-4.2, -3.0))
    assert set(ok["call"]) == {"positive", "negative"}


def test_eln_profile_thresholds_by_specimen(tmp_path):
    samples = [
        {"sample": "A", "wt1_copies": 3000.0, "abl1_copies": 30_000.0},  # 1000 per 10^4
        {"sample": "B", "wt1_copies": 300.0, "abl1_copies": 30_000.0},   # 100 per 10^4
        {"sample": "C", "wt1_copies": 30.0, "abl1_copies": 30_000.0},    # 10 per 10^4
    ]
    wells, _ = _plate(tmp_path, 0, samples=samples)
    bm = quantify_wt1(wells, min_abl1=10_000, profile="eln_2009", specimen="BM").set_index("sample")
    pb = quantify_wt1(wells, min_abl1=10_000, profile="eln_2009", specimen="peripheral blood").set_index("sample")
    assert bm["call"].tolist() == ["positive", "negative", "negative"]
    assert pb["call"].tolist() == ["positive", "positive", "negative"]
    assert (bm["threshold"] == 250).all() and (pb["threshold"] == 50).all()
    assert (pb["threshold_unit"] == "WT1 copies per 10^4 ABL1 copies").all()
    assert pb["threshold_source"].str.contains("Cilloni").all()
    assert (pb["specimen"] == "PB").all() and (bm["assay"] == "eln_wt1_ipsogen").all()
    unknown = quantify_wt1(wells, min_abl1=10_000, profile="eln_2009")
    assert (unknown["call"] == "not evaluable").all()
    assert unknown["reason"].str.contains("specimen").all()
    # PUIH has a BM threshold only
    puih_pb = quantify_wt1(wells, min_abl1=10_000, specimen={"A": "PB", "B": "BM", "C": "BM"}).set_index("sample")
    assert puih_pb.loc["A", "call"] == "not evaluable" and "PB" in puih_pb.loc["A", "reason"]
    assert puih_pb.loc["B", "call"] == "positive"  # 1 % > 0.6 %


def test_not_detected_wt1_is_negative_with_sensitivity(tmp_path):
    samples = [{"sample": "Z", "wt1_copies": 0.0, "abl1_copies": 50_000.0},
               {"sample": "P", "wt1_copies": 5000.0, "abl1_copies": 50_000.0}]
    wells, _ = _plate(tmp_path, 1, samples=samples)
    res = quantify_wt1(wells, min_abl1=10_000).set_index("sample")
    z = res.loc["Z"]
    assert z["wt1_copies"] == 0 and z["call"] == "negative"
    assert "not detected" in z["reason"] and 1 / 50_000 / 1.7 < z["sensitivity"] < 1.7 / 50_000


def test_replicate_outlier_rule_hand_example():
    wells = pd.DataFrame({
        "plate": "P", "well": ["A1", "A2", "A3"], "sample": "S", "target": "WT1", "role": "unknown",
        "ct": [30.0, 30.1, 33.0], "quantity": np.nan, "flags": "", "source_file": "x",
    })
    curve = stored_curve("WT1", -3.3, 40.0)
    rep = replicate_summary(wells, {("P", "WT1"): curve}, max_sd=0.5).iloc[0]
    assert rep["n_used"] == 2 and rep["excluded"] == "A3"
    assert rep["ct_mean"] == pytest.approx(30.05)
    expected = np.mean([10 ** ((30.0 - 40) / -3.3), 10 ** ((30.1 - 40) / -3.3)])
    assert rep["copies_mean"] == pytest.approx(expected)
    none = replicate_summary(wells, {("P", "WT1"): curve}, max_sd=0.5, outlier_rule="none").iloc[0]
    assert none["n_used"] == 3 and "high replicate SD" in none["flags"]


def test_bad_inputs():
    wells, _ = simulate_qpcr_plate(seed=0)
    with pytest.raises(QPCRError, match="no wells for target 'wt1'"):
        quantify_wt1(wells, min_abl1=1e4, wt1_target="wt1")
    with pytest.raises(QPCRError, match="lacks columns"):
        quantify_wt1(wells.drop(columns=["ct"]), min_abl1=1e4)
    twice = pd.concat([wells, wells.assign(plate="OTHER")])
    with pytest.raises(QPCRError, match="several plates"):
        quantify_wt1(twice, min_abl1=1e4)


def test_wt1_and_abl1_on_separate_plates(tmp_path):
    wells, truth = simulate_qpcr_plate(seed=8)
    split = wells.assign(plate=np.where(wells["target"] == "WT1", "WT1_PLATE", "ABL1_PLATE"))
    res = quantify_wt1(split, min_abl1=10_000).set_index("sample")
    assert (res["plate"] == "ABL1_PLATE;WT1_PLATE").all()
    truth = truth.set_index("sample")
    assert (res["call"] == truth.loc[res.index, "expected_call"]).all()
    assert math.isfinite(res["wt1_pct_abl1"].sum())


def test_thresholds_are_never_mixed_across_assays(tmp_path):
    from mrdquant.errors import ConfigError
    from mrdquant.pcr.call import wt1_rule

    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "profile.toml").write_text('[profile]\nid = "mixed"\n', encoding="utf-8")
    (folder / "wt1.toml").write_text(
        '[assay]\nvalue = "lab_assay"\n[metric]\nvalue = "wt1_pct_abl1"\nunit = "% of ABL1"\n'
        '[positive_above.BM]\nvalue = 250\nunit = "per 1e4"\nassay = "eln_wt1_ipsogen"\nsource = "x"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="never mixed"):
        wt1_rule(folder, "BM")


def test_every_wt1_threshold_has_unit_and_source():
    from mrdquant.profiles import load_profile

    for pid in ("puih_2020", "eln_2009"):
        table = load_profile(pid).table()
        wt1 = table[table["parameter"].str.startswith("wt1.")]
        set_rows = wt1[wt1["value"] != "unset"]
        assert (set_rows["source"].str.len() > 0).all(), pid
        unset = wt1[wt1["value"] == "unset"]
        assert (unset["reason"].str.len() > 0).all(), pid
        thr = wt1[wt1["parameter"].str.startswith("wt1.positive_above.")]
        assert (thr["unit"].str.len() > 0).all() and len(thr) >= 1

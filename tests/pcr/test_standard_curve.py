"""Standard curves: the instrument's own numbers, acceptance limits, stored/mean curves."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdquant.errors import QPCRError
from mrdquant.io.qpcr import read_qpcr
from mrdquant.pcr.calibration import curves_table, mean_curve, standard_curve, stored_curve
from naive.qpcr import efficiency, ols_curve


def test_example04_reproduces_instrument_curve(shared_data):
    # printed by the QuantStudio software in the [Results] section of the export:
    # Y-Intercept 39.814, R(superscript 2) 0.997, Slope -3.383, Efficiency 97.505
    wells = read_qpcr(shared_data / "qpcr" / "allotropy__appbio_quantstudio_example04.txt")
    c = standard_curve(wells, "RNase P")
    assert round(c.slope, 3) == -3.383
    assert round(c.intercept, 3) == 39.814
    assert round(c.r2, 3) == 0.997
    assert round(c.efficiency_pct, 1) == 97.5
    assert c.n_points == 20 and c.n_levels == 5
    assert c.passed and c.reasons == ()


def test_example07_one_passing_one_failing_curve(shared_data):
    wells = read_qpcr(shared_data / "qpcr" / "allotropy__appbio_quantstudio_example07.txt")
    rnasep = standard_curve(wells, "RNaseP")
    ipc = standard_curve(wells, "IPC")
    assert rnasep.passed
    assert not ipc.passed
    assert any("slope" in r for r in ipc.reasons)
    assert ipc.slope < -3.6


def test_rdml_stepone_curve_matches_naive_ols(shared_data):
    wells = read_qpcr(shared_data / "qpcr" / "RDML__stepone_std.rdml")
    c = standard_curve(wells, "RNase P")
    std = wells[wells["role"] == "standard"]
    slope, intercept, r2 = ols_curve(list(np.log10(std["quantity"])), list(std["ct"]))
    assert c.slope == pytest.approx(slope, rel=1e-12)
    assert c.intercept == pytest.approx(intercept, rel=1e-12)
    assert c.r2 == pytest.approx(r2, rel=1e-12)


def _wells(levels, cts, target="WT1", plate="P1"):
    n = len(cts)
    return pd.DataFrame({
        "plate": plate, "well": [f"W{i}" for i in range(n)], "sample": "std", "target": target,
        "role": "standard", "ct": np.asarray(cts, float), "quantity": np.asarray(levels, float), "flags": "",
        "source_file": "x",
    })


@settings(max_examples=50, deadline=None)
@given(
    slope=st.floats(min_value=-4.2, max_value=-2.8),
    intercept=st.floats(min_value=35, max_value=42),
    noise=st.lists(st.floats(min_value=-0.5, max_value=0.5), min_size=12, max_size=12),
)
def test_fit_matches_naive_reference(slope, intercept, noise):
    levels = np.repeat([1e1, 1e2, 1e3, 1e4, 1e5, 1e6], 2)
    cts = slope * np.log10(levels) + intercept + np.asarray(noise)
    c = standard_curve(_wells(levels, cts), "WT1")
    s, i, r2 = ols_curve(list(np.log10(levels)), list(cts))
    assert c.slope == pytest.approx(s, rel=1e-9, abs=1e-9)
    assert c.intercept == pytest.approx(i, rel=1e-9)
    assert c.r2 == pytest.approx(r2, rel=1e-9, abs=1e-12)
    assert c.efficiency == pytest.approx(efficiency(s), rel=1e-9)
    assert c.passed == (-3.6 <= s <= -3.1 and r2 >= 0.98)
    # copies() inverts ct()
    assert c.copies(c.ct(1234.5)) == pytest.approx(1234.5, rel=1e-9)


def test_acceptance_limits_are_parameters():
    levels = [1e1, 1e2, 1e3, 1e4]
    cts = [-3.8 * math.log10(q) + 40 for q in levels]  # efficiency 83 %
    assert not standard_curve(_wells(levels, cts), "WT1").passed
    assert standard_curve(_wells(levels, cts), "WT1", slope_range=(-4.0, -3.0)).passed
    noisy = np.array(cts) + np.array([0.9, -0.9, -0.9, 0.9])  # orthogonal to log10(q): slope kept
    c = standard_curve(_wells(levels, noisy), "WT1", slope_range=(-4.0, -3.0))
    assert not c.passed and any("R²" in r for r in c.reasons)
    assert standard_curve(_wells(levels, noisy), "WT1", slope_range=(-4.0, -3.0), min_r2=0.9).passed


def test_standard_outlier_rule_and_omitted_wells():
    levels = np.repeat([1e2, 1e3, 1e4, 1e5], 3)
    cts = -3.32 * np.log10(levels) + 39.0
    cts[4] += 3.0  # one 10^3 replicate far off
    w = _wells(levels, cts)
    c = standard_curve(w, "WT1", max_standard_deviation=1.0)
    assert c.outliers == ("W4",) and c.n_points == 11
    assert c.slope == pytest.approx(-3.32) and c.r2 == pytest.approx(1.0)
    w.loc[4, "flags"] = "omitted"
    c2 = standard_curve(w, "WT1")
    assert c2.n_points == 11 and c2.slope == pytest.approx(-3.32)


def test_too_few_levels_fails_curve():
    c = standard_curve(_wells([1e3, 1e3, 1e4], [29, 29.1, 25.8]), "WT1")
    assert not c.passed and "levels" in c.reasons[0]


def test_errors():
    w = _wells([1e2, 1e3], [32, 29])
    with pytest.raises(QPCRError, match="no standard wells for target 'ABL1'"):
        standard_curve(w, "ABL1")
    two = pd.concat([w, _wells([1e2, 1e3], [32, 29], plate="P2")])
    with pytest.raises(QPCRError, match="several plates"):
        standard_curve(two, "WT1")
    assert standard_curve(two, "WT1", plate="P2").plate == "P2"
    with pytest.raises(QPCRError, match="slope_range"):
        standard_curve(w, "WT1", slope_range=(-3.1, -3.6))


def test_stored_and_mean_curve():
    a = stored_curve("WT1", -3.3, 39.0)
    b = stored_curve("WT1", -3.4, 40.0)
    m = mean_curve([a, b])
    assert (m.slope, m.intercept, m.source) == (pytest.approx(-3.35), pytest.approx(39.5), "stored")
    assert m.copies(39.5) == pytest.approx(1.0)
    assert not stored_curve("WT1", -2.5, 39).passed
    with pytest.raises(QPCRError):
        mean_curve([stored_curve("WT1", -2.5, 39)])
    with pytest.raises(QPCRError, match="different targets"):
        mean_curve([a, stored_curve("ABL1", -3.3, 39)])
    t = curves_table([a, b])
    assert t["slope"].tolist() == [-3.3, -3.4] and t["passed"].all()


def test_design_and_analysis_qs1_reproduces_instrument_curve(shared_data):
    # 'Standard Curve Result' sheet of the export: Y-Intercept 40.77, R2 0.98802,
    # Slope -3.3419, Efficiency 99.174722 (quantities come from 'Replicate Group Result')
    wells = read_qpcr(
        shared_data / "qpcr" / "allotropy__appbio_quantstudio_designandanalysis_QS1_Standard_Curve_example01.xlsx"
    )
    c = standard_curve(wells, "RNaseP")
    assert round(c.slope, 4) == -3.3419
    assert round(c.intercept, 2) == 40.77
    assert round(c.r2, 5) == 0.98802
    assert round(c.efficiency_pct, 4) == 99.1747
    assert c.passed

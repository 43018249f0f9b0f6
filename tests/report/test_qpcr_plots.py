"""qPCR figures: the standard curve's fit and band, the plate's Ct by role, amplification traces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mrdquant.errors import QPCRError
from mrdquant.report.qpcr_plots import plot_amplification, plot_plate_ct, plot_standard_curve


def _wells():
    rows = []
    # standards on an exact curve Ct = -3.3 * log10(q) + 40 (E = 100.9 %), three replicates
    for q in (10, 100, 1000, 10000):
        for k in range(3):
            rows.append(("p1", f"A{len(rows) + 1}", f"STD{q}", "WT1", "standard", -3.3 * np.log10(q) + 40 + 0.05 * (k - 1), q, ""))
    rows += [("p1", "B1", "", "WT1", "ntc", 35.2, np.nan, ""), ("p1", "B2", "", "WT1", "ntc", np.nan, np.nan, "undetermined")]
    rows += [("p1", "C1", "S1", "WT1", "unknown", 30.0, np.nan, ""), ("p1", "C2", "S1", "WT1", "unknown", 30.1, np.nan, ""),
             ("p1", "C3", "S1", "WT1", "unknown", np.nan, np.nan, "undetermined")]
    return pd.DataFrame(rows, columns=["plate", "well", "sample", "target", "role", "ct", "quantity", "flags"])


def test_standard_curve_figure():
    fig = plot_standard_curve(_wells(), "WT1")
    ax = fig.axes[0]
    lines = {ln.get_gid(): ln for ln in ax.get_lines()}
    assert len(lines["standards"].get_xdata()) == 12
    fit = lines["fit"]
    slope = np.diff(fit.get_ydata())[0] / np.diff(fit.get_xdata())[0]
    assert slope == pytest.approx(-3.3, abs=1e-9)
    stats = [t for t in ax.texts if t.get_gid() == "curve-stats"][0].get_text()
    assert "slope -3.300" in stats and f"efficiency {100 * (10 ** (1 / 3.3) - 1):.1f} %" in stats and "passed" in stats
    assert ax.get_xlabel() == "Standard quantity (log10 copies per reaction)" and ax.get_ylabel() == "Ct (cycles)"
    band = [c for c in ax.collections if c.get_gid() == "acceptance-band"]
    assert band and "accepted slopes -3.6 to -3.1" in [t.get_text() for t in ax.get_legend().get_texts()]
    with pytest.raises(QPCRError, match="no standard wells of target 'ABL1'"):
        plot_standard_curve(_wells(), "ABL1")


def test_plate_ct_marks_amplified_ntc_and_failed_replicate():
    fig = plot_plate_ct(_wells())
    ax = fig.axes[0]
    lines = {ln.get_gid(): ln for ln in ax.get_lines() if ln.get_gid()}
    assert lines["flagged-WT1-ntc"].get_ydata().tolist() == [35.2]
    # the failed replicate C3 (no Ct) is on the no-Ct row above the largest Ct
    assert len(lines["flagged-WT1-unknown"].get_ydata()) == 1
    assert lines["flagged-WT1-unknown"].get_ydata()[0] > _wells()["ct"].max() + 1
    assert [t.get_text() for t in ax.get_xticklabels()] == ["standard", "unknown", "NTC"]
    notes = [t for a in fig.axes for t in a.texts if t.get_gid() == "plate-notes"][0].get_text()
    assert "NTC WT1: FAILED" in notes and "B1: NTC amplified (Ct 35.2)" in notes and "C3: S1 WT1: excluded replicate" in notes


def test_amplification_from_rdml(shared_data, tmp_path):
    from mrdquant.io.qpcr_curves import read_amplification

    curves = read_amplification(shared_data / "qpcr" / "RDML__stepone_std.rdml")
    assert list(curves.columns) == ["plate", "well", "sample", "target", "role", "cycle", "fluorescence"]
    # 24 reactions x 40 cycles
    assert curves.groupby("well").size().eq(40).all() and curves["well"].nunique() == 24
    fig = plot_amplification(curves, path=tmp_path / "amp.png")
    traces = [ln for ln in fig.axes[0].get_lines() if (ln.get_gid() or "").startswith("trace-")]
    assert len(traces) == 24
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["standard", "unknown", "NTC"]
    with pytest.raises(QPCRError, match="results only"):
        read_amplification(shared_data / "qpcr" / "allotropy__cfxmaestro_example01.csv")

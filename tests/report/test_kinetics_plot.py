"""Kinetics plot: plotted points, thresholds, markers and vertical event lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mrdquant.errors import InputError
from mrdquant.report.kinetics import plot_kinetics, positivity_thresholds, write_kinetics_plots

HSCT = pd.Timestamp("2020-01-01")


def _tables():
    pts = pd.DataFrame(
        {"patient_id": ["P1", "P2"], "hsct_date": [HSCT, HSCT], "diagnosis": ["B-ALL", "AML"],
         "intervention": ["IFN-a", ""], "intervention_date": [HSCT + pd.Timedelta(days=100), pd.NaT],
         "relapse_date": [HSCT + pd.Timedelta(days=300), pd.NaT]}
    )
    rows = [
        ("S1", 30, "BM", "negative", "negative", np.nan, 0.2),
        ("S2", 60, "BM", "not evaluable", "positive", np.nan, 2.5),
        ("S3", 74, "BM", "positive", "positive", 0.05, 3.0),
        ("S4", 80, "PB", "", "positive", np.nan, 1.1),
        ("S5", 130, "BM", "negative", "not evaluable", np.nan, np.nan),
    ]
    smp = pd.DataFrame(
        [{"patient_id": "P1", "sample_id": r[0], "date": HSCT + pd.Timedelta(days=r[1]), "specimen": r[2],
          "mfc": r[3], "wt1": r[4], "mfc_pct": r[5], "wt1_pct": r[6]} for r in rows]
        + [{"patient_id": "P2", "sample_id": "Q1", "date": HSCT + pd.Timedelta(days=30), "specimen": "BM",
            "mfc": "negative", "wt1": "negative", "mfc_pct": np.nan, "wt1_pct": 0.1}]
    )
    return pts, smp


def _lines(fig):
    return {ln.get_gid(): ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid()}


def _texts(fig):
    return {t.get_gid(): t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid()}


def test_plot_contents():
    pts, smp = _tables()
    tl = pd.DataFrame({"patient_id": ["P1"], "status": ["MRDco+"], "first_positive_date": [HSCT + pd.Timedelta(days=60)],
                       "negativity_date": [HSCT + pd.Timedelta(days=130)], "reemergence_date": [pd.NaT]})
    fig = plot_kinetics("P1", pts, smp, timeline=tl)
    ax, strip = fig.axes[0], fig.axes[1]
    wt1_ax = fig.axes[2]
    # each method on its own labelled log axis
    assert ax.get_yscale() == "log" and wt1_ax.get_yscale() == "log"
    assert ax.get_ylabel() == "MFC MRD (% of nucleated cells)" and wt1_ax.get_ylabel() == "WT1 (% of ABL1)"
    assert strip.get_xlabel() == "Days after HSCT"
    lines = _lines(fig)
    wt1 = lines["wt1-BM-measured"]
    assert wt1.get_xdata().tolist() == [30, 60, 74]
    assert wt1.get_ydata().tolist() == [0.2, 2.5, 3.0]
    # WT1 0.2 % is measured but negative: hollow, not drawn like the positives
    assert lines["wt1-BM-below"].get_xdata().tolist() == [30]
    assert lines["wt1-BM-below"].get_markerfacecolor() == "white"
    assert lines["wt1-BM-positive"].get_xdata().tolist() == [60, 74]
    assert lines["mfc-BM-positive"].get_xdata().tolist() == [74]
    # results without a value sit in the strip under the axes, not at an artificial floor
    assert lines["mfc-BM-negative"].get_xdata().tolist() == [30, 130]
    assert lines["mfc-BM-negative"] in strip.get_lines()
    assert lines["mfc-BM-not-evaluable"].get_xdata().tolist() == [60]
    assert lines["wt1-BM-not-evaluable"].get_xdata().tolist() == [130]
    assert lines["wt1-PB-positive"].get_xdata().tolist() == [80]
    # positivity thresholds of puih_2020: WT1 0.6 % (BM), MFC 0.01 % for ALL, labelled with value and source
    assert lines["threshold-wt1"].get_ydata()[0] == pytest.approx(0.6)
    assert lines["threshold-mfc"].get_ydata()[0] == pytest.approx(0.01)
    assert lines["threshold-wt1"] in wt1_ax.get_lines()
    texts = _texts(fig)
    assert texts["threshold-label-wt1"] == "WT1 positive > 0.6 % (Qin et al., J Mol Diagn 2020)"
    assert texts["threshold-label-mfc"] == "MFC positive > 0.01 % (Liu et al., Sci Rep 2020)"
    assert lines["intervention-IFN-\u03b1"].get_xdata()[0] == 100
    assert lines["event-relapse"].get_xdata()[0] == 300
    assert texts["event-label-relapse"] == "relapse" and texts["intervention-label-IFN-\u03b1"] == "IFN-\u03b1"
    # the MRDco+ period is shaded from first positivity to negativity
    span = [p for p in ax.patches if p.get_gid() == "period-MRDco+"][0]
    assert (span.get_x(), span.get_x() + span.get_width()) == (60, 130)
    assert ax.get_title(loc="left") == "P1: MRDco+ (B-ALL). Profile puih_2020"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    for entry in ("WT1 PB (not counted) positive", "MFC not evaluable", "MFC negative, no value",
                  "WT1 measured, not positive", "MRDco+ period (first positive to negativity)",
                  "WT1 positivity threshold"):
        assert entry in legend


def test_eln_assay_draws_wt1_in_copies_per_1e4_abl1():
    # ELN has no timeline rules: the PUIH timeline with an ELN-standardized WT1 assay
    from mrdquant.calls.rules import timeline_rules
    from mrdquant.calls.sample import _call
    from mrdquant.io.clinical import read_patients, read_samples
    from mrdquant.profiles import load_profile
    from mrdquant.report.kinetics import _plot

    pts, smp = _tables()
    rules = timeline_rules("puih_2020")
    p = read_patients(pts)
    fig = _plot("P1", p, _call(read_samples(smp, p), rules), rules, load_profile("eln_2009"), None, None, None)
    wt1_ax = fig.axes[2]
    assert wt1_ax.get_ylabel() == "WT1 (copies per 10^4 ABL1)"
    lines = _lines(fig)
    assert lines["wt1-BM-measured"].get_ydata().tolist() == pytest.approx([20, 250, 300])
    assert lines["threshold-wt1"].get_ydata()[0] == pytest.approx(250)
    assert _texts(fig)["threshold-label-wt1"].startswith("WT1 positive > 250 copies/10^4 ABL1 (Cilloni et al.")


def test_aml_uses_the_aml_mfc_threshold_and_level_lines():
    assert positivity_thresholds("puih_2020", "AML")["mfc"][0] == pytest.approx(0.1)
    assert positivity_thresholds("eln_2009", "AML").get("mfc") is None
    pts, smp = _tables()
    fig = plot_kinetics("P2", pts, smp)
    assert _lines(fig)["threshold-mfc"].get_ydata()[0] == pytest.approx(0.1)


def test_files_png_and_pdf(tmp_path):
    pts, smp = _tables()
    plot_kinetics("P1", pts, smp, path=tmp_path / "p1.png")
    plot_kinetics("P1", pts, smp, path=tmp_path / "p1.pdf")
    assert (tmp_path / "p1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "p1.pdf").read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p1.pdf", "p1.png"]  # no temporary leftovers
    with pytest.raises(InputError, match="expected .png, .svg or .pdf"):
        plot_kinetics("P1", pts, smp, path=tmp_path / "p1.svgz")
    with pytest.raises(InputError, match="'P9' is not in the patients table"):
        plot_kinetics("P9", pts, smp)


def test_batch_writes_one_file_per_patient(tmp_path):
    pts, smp = _tables()
    ev = pd.DataFrame({"patient_id": ["P2"], "event": ["cGVHD"], "date": [HSCT + pd.Timedelta(days=200)]})
    res = write_kinetics_plots(pts, smp, tmp_path, events=ev)
    assert res["error"].tolist() == ["", ""]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P1.png", "P2.png"]


def test_eln_threshold_is_converted_to_percent_of_abl1():
    from mrdquant.report.kinetics import positivity_thresholds

    # ELN: 250 WT1 copies per 10^4 ABL1 in BM = 2.5 % of ABL1; PUIH: 0.6 % as published
    assert positivity_thresholds("eln_2009")["wt1"][0] == 2.5
    assert positivity_thresholds("puih_2020")["wt1"][0] == 0.6


def test_unknown_diagnosis_draws_no_mfc_threshold():
    # ALL 0.01 % and AML 0.1 % differ tenfold: without a diagnosis no MFC line is guessed
    pts, smp = _tables()
    pts = pts.drop(columns=["diagnosis"])
    fig = plot_kinetics("P1", pts, smp)
    lines = _lines(fig)
    assert "threshold-mfc" not in lines and "threshold-wt1" in lines
    assert "MFC threshold not drawn: diagnosis unknown" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_legend_and_labels_stay_inside_the_figure():
    pts, smp = _tables()
    fig = plot_kinetics("P1", pts, smp)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    box = fig.legends[0].get_window_extent(r)
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y0 >= 0 and box.y1 <= fig.bbox.height
    for ax in fig.axes:
        for label in (ax.yaxis.label, ax.xaxis.label):
            if label.get_text():
                b = label.get_window_extent(r)
                assert b.x0 >= 0 and b.x1 <= fig.bbox.width

"""HTML reports: what they contain, that they render in a browser, that they need no network."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from mrdquant.errors import InputError
from mrdquant.report.html import write_reports

@pytest.fixture(scope="module")
def small_results(demo_run, tmp_path_factory):
    """The demo's results folder cut to three patients (one per status) and no trial."""
    src, _ = demo_run
    out = tmp_path_factory.mktemp("small") / "results"
    shutil.copytree(src, out, ignore=shutil.ignore_patterns("report", "trial"))
    calls = pd.read_csv(out / "calls" / "patients.csv")
    keep = calls.groupby("status").head(1)["patient_id"].tolist()
    calls[calls["patient_id"].isin(keep)].to_csv(out / "calls" / "patients.csv", index=False)
    samples = pd.read_csv(out / "calls" / "samples.csv")
    samples[samples["patient_id"].isin(keep)].to_csv(out / "calls" / "samples.csv", index=False)
    # one gating page, named after the FCS file (the report also finds <sample_id>.fcs.png)
    sid = samples[samples["patient_id"] == keep[0]]["sample_id"].iloc[0]
    shutil.rmtree(out / "flow" / "plots", ignore_errors=True)
    (out / "flow" / "plots").mkdir(parents=True)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    FigureCanvasAgg(fig)
    fig.add_subplot(1, 1, 1).plot([0, 1], [0, 1])
    fig.savefig(out / "flow" / "plots" / f"{sid}.fcs.png")  # named after the FCS file
    written = write_reports(out)
    return out, written, keep, sid


def test_reports_written_with_their_parts(small_results):
    out, written, keep, sid = small_results
    report = out / "report"
    assert written[0] == report / "study.html"
    assert sorted(p.name for p in (report / "patients").iterdir()) == sorted(f"{k}.html" for k in keep)
    assert (report / "tables.xlsx").is_file()
    for name in ("cif_relapse", "cif_nrm", "km_dfs", "km_os"):
        for suffix in (".png", ".svg", ".pdf"):
            assert (report / "figures" / f"{name}{suffix}").is_file()
    study = (report / "study.html").read_text(encoding="utf-8")
    # self-contained: every image is embedded, nothing is fetched from a server
    srcs = re.findall(r'<img src="([^"]+)"', study)
    assert len(srcs) >= 4 + 3 and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert not re.search(r'(src|href)="(https?:)?//', study)
    for section in ("Inputs and QC", "Flow cytometry (MFC) MRD", "WT1 qPCR", "Sample calls", "Patient timelines",
                    "Outcomes by MRD group", "Parameters and provenance"):
        assert section in study
    # tables for people: percent with rounding, codes explained, provenance once
    from markupsafe import escape

    from mrdquant.report.tables import fmt_sig

    mfc = pd.read_csv(out / "flow" / "mfc_results.csv")
    long = [v for v in mfc["mrd_pct"].dropna() if len(repr(float(v))) > 8]
    assert long and fmt_sig(long[0]) in study and repr(float(long[0])) not in study
    assert "Gray&#39;s test of cumulative incidence" in study
    wt1 = pd.read_csv(out / "qpcr" / "wt1_results.csv")
    source = str(escape(wt1["threshold_source"].dropna().iloc[0]))
    assert 1 <= study.count(source) <= 2 < len(wt1)  # WT1 table provenance (+ the profile table), not per row
    page = (report / "patients" / f"{keep[0]}.html").read_text(encoding="utf-8")
    assert f"Sample {sid}." in page and "by rule <b>" in page
    assert f"MRD kinetics of {keep[0]}" in page
    # the gating page is in the patient report only: the study report points there
    assert f'alt="Gating page of {sid}' in page and "Gating page of" not in study
    assert "Gating pages (1): each tube's page is in its patient's report" in study


def test_template_escapes_values(tmp_path, small_results):
    out, _, keep, _ = small_results
    evil = tmp_path / "results"
    shutil.copytree(out / "calls", evil / "calls")
    calls = pd.read_csv(evil / "calls" / "patients.csv")
    calls.loc[0, "rule_detail"] = "<script>alert(1)</script>"
    calls.to_csv(evil / "calls" / "patients.csv", index=False)
    write_reports(evil)
    page = (evil / "report" / "patients" / f"{calls.loc[0, 'patient_id']}.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_missing_parts_are_tolerated(tmp_path):
    (tmp_path / "r" / "calls").mkdir(parents=True)
    pd.DataFrame({"patient_id": ["P1"], "status": ["negative"], "rule": ["no_positive"]}).to_csv(
        tmp_path / "r" / "calls" / "patients.csv", index=False)
    written = write_reports(tmp_path / "r")
    assert [p.name for p in written if p.suffix == ".html"] == ["study.html", "P1.html"]
    with pytest.raises(InputError, match="not a results folder"):
        write_reports(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="empty: no results found"):
        write_reports(tmp_path / "empty")


def test_report_command(small_results, tmp_path):
    from typer.testing import CliRunner

    from mrdquant.cli.main import app, main

    src, _, keep, _ = small_results
    out = tmp_path / "results"
    shutil.copytree(src / "calls", out / "calls")
    res = CliRunner().invoke(app, ["report", str(out), "--out", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    assert f"study report: {(tmp_path / 'rep' / 'study.html').resolve()}" in res.output
    assert len([ln for ln in res.output.splitlines() if ln.strip().endswith(".html")]) == 1 + len(keep)
    assert main(["report", str(tmp_path / "missing")]) == 2


def test_reports_render_in_chromium(small_results, chromium):
    out, _, keep, _ = small_results
    pages = [out / "report" / "study.html", *sorted((out / "report" / "patients").glob("*.html"))]
    for page in pages:
        result = chromium.check_page(page)
        assert result["images"], f"{page.name}: no image"
        bad = [im["alt"] for im in result["images"] if not im["loaded"]]
        assert bad == [], f"{page.name}: images that did not load: {bad}"
        wide = [im["alt"] for im in result["images"] if im["width"] > im["parentWidth"] + 1]
        assert wide == [], f"{page.name}: images wider than their box: {wide}"
        assert result["clipped"] == [], f"{page.name}: clipped text: {result['clipped']}"
        assert result["pageOverflow"] <= 0, f"{page.name}: the page is wider than the window"
        assert result["text"] > 200


def test_unwritable_report_folder_is_refused_before_any_work(tmp_path):
    (tmp_path / "r" / "calls").mkdir(parents=True)
    pd.DataFrame({"patient_id": ["P1"], "status": ["negative"]}).to_csv(tmp_path / "r" / "calls" / "patients.csv",
                                                                         index=False)
    (tmp_path / "blocker.txt").write_text("x")
    with pytest.raises(InputError, match="blocker.txt/out: cannot write the report there"):
        write_reports(tmp_path / "r", tmp_path / "blocker.txt" / "out")
    assert not (tmp_path / "r" / "report").exists()

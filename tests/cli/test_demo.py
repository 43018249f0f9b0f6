"""``mrdquant demo`` runs the whole chain on the bundled data and agrees with its truth."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mrdquant import __version__
from mrdquant.cli.main import main


@pytest.fixture(scope="module")
def demo_out(demo_run):
    return demo_run[0]


def test_demo_prints_the_report_paths(demo_run):
    out, printed = demo_run
    study = (out / "report" / "study.html").resolve()
    assert f"report: study report {study}" in printed
    patients = sorted((out / "report" / "patients").glob("*.html"))
    calls = pd.read_csv(out / "calls" / "patients.csv")
    assert [p.stem for p in patients] == sorted(calls["patient_id"])
    assert str(patients[0].resolve()) in printed


@pytest.fixture(scope="module")
def truth(data_samples):
    return data_samples / "study" / "truth"


def test_demo_flow_matches_simulated_truth(demo_out, truth):
    mrd = pd.read_csv(demo_out / "flow" / "mfc_results.csv")
    tubes = pd.read_csv(truth / "flow.csv")
    assert sorted(mrd["sample_id"]) == sorted(tubes["file"])
    merged = mrd.merge(tubes, left_on="sample_id", right_on="file", suffixes=("", "_truth"))
    # the LAIP gate misses about 1% of leukemic events and admits no normal cell
    assert (merged["laip_events"] <= merged["leukemic_events"]).all()
    assert (merged["laip_events"] >= 0.95 * merged["leukemic_events"] - 1).all()
    # denominator = nucleated singlets: within 2% of the simulator's count (small tubes)
    rel = (merged["denominator_events"] - merged["denominator_events_truth"]).abs() / merged["denominator_events_truth"]
    assert (rel < 0.02).all()
    called = merged["status"].replace({"positive, not quantifiable": "positive"})
    assert (called == merged["planted_call"]).all()
    pos = merged[merged["status"] == "positive"]
    assert len(pos) >= 2
    assert pos["mrd_pct"].to_numpy() == pytest.approx(100 * pos["laip_events"] / pos["denominator_events"])


def test_demo_calls_match_truth(demo_out, truth):
    calls = pd.read_csv(demo_out / "calls" / "patients.csv")
    expected = pd.read_csv(truth / "patients.csv")
    merged = calls.merge(expected, on="patient_id", suffixes=("", "_truth"))
    assert len(merged) == len(expected) >= 2
    assert (merged["status"] == merged["status_truth"]).all()
    assert set(merged["status"]) >= {"MRDco+", "MRDsin+"}


def test_demo_wt1_calls_match_truth(demo_out, truth):
    wt1 = pd.read_csv(demo_out / "qpcr" / "wt1_results.csv")
    expected = pd.read_csv(truth / "qpcr.csv")
    merged = wt1.merge(expected, on=["plate", "sample"], validate="one_to_one")
    assert len(merged) == len(expected) >= 5
    assert (merged["call"] == merged["expected_call"]).all()
    # the plate without standards was quantified with the study's stored curves
    nostd = merged[~merged["standards"]]
    assert len(nostd) and nostd["wt1_curve"].str.startswith("stored").all()


def test_demo_outcomes_written(demo_out):
    estimates = pd.read_csv(demo_out / "outcomes" / "estimates.csv")
    assert set(estimates["label"]) >= {"CIR", "NRM", "DFS", "OS"}
    assert estimates["estimate"].dropna().between(0, 1).all()
    endpoints = pd.read_csv(demo_out / "outcomes" / "endpoints.csv")
    calls = pd.read_csv(demo_out / "calls" / "patients.csv")
    assert len(endpoints) == (calls["status"].isin(["MRDsin+", "MRDco+"])).sum()


def test_demo_twice_has_nothing_to_do(demo_out, capsys):
    capsys.readouterr()
    assert main(["demo", "--out", str(demo_out)]) == 0
    assert "nothing changed since the last run" in capsys.readouterr().out


def test_version_in_a_subprocess():
    out = subprocess.run([sys.executable, "-m", "mrdquant", "--version"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.strip() == f"mrdquant {__version__}"


def test_help_lists_the_stages():
    out = subprocess.run([sys.executable, "-m", "mrdquant", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for command in ("demo", "run", "export", "fcs-info", "gate", "qpcr", "calls", "outcomes", "simulate"):
        assert command in out.stdout


def test_exit_codes_reach_the_caller(tmp_path):
    """A batch where nothing could be read exits 2 through main(); a usage error is not 0."""
    bad = tmp_path / "not_a_plate.txt"
    bad.write_text("this is not a qPCR export\n")
    assert main(["qpcr", str(bad), "--min-abl1", "10000", "--out", str(tmp_path / "o")]) == 2
    assert main(["no-such-command"]) != 0


def test_demo_trial_counts_match_the_patients_table(demo_out, data_samples):
    endpoints = pd.read_csv(demo_out / "trial" / "endpoints.csv")
    patients = pd.read_csv(data_samples / "trial" / "patients.csv")
    assert len(endpoints) == patients["randomization_date"].notna().sum()
    estimates = pd.read_csv(demo_out / "trial" / "estimates.csv")
    assert {"preemptive", "prophylactic"} <= set(estimates["group"])


def test_demo_calls_are_the_calls_command_output(demo_out, data_samples, tmp_path):
    """The demo's calls/ folder is what `mrdquant calls` writes for the same tables: the
    study's patients and the per-sample MFC/WT1 results the run merged onto its sheet."""
    study = data_samples / "study"
    merged = pd.read_csv(demo_out / "calls" / "samples.csv")
    sheet = tmp_path / "merged_samples.csv"
    merged[["patient_id", "sample_id", "date", "specimen", "mfc", "wt1", "mfc_pct", "wt1_pct"]].to_csv(sheet, index=False)
    assert main(["calls", "--patients", str(study / "clinical" / "patients.csv"), "--samples", str(sheet),
                 "--out", str(tmp_path / "calls")]) == 0
    for name in ("samples.csv", "patients.csv"):
        demo = pd.read_csv(demo_out / "calls" / name)
        cli = pd.read_csv(tmp_path / "calls" / name)
        # the run also carries each method's own reason (e.g. the MFC denominator) into
        # "reason"; everything else is identical
        same = [c for c in cli.columns if not (name == "samples.csv" and c == "reason")]
        pd.testing.assert_frame_equal(demo[same], cli[same])
    reasons = pd.read_csv(demo_out / "calls" / "samples.csv").set_index("sample_id")["reason"].dropna()
    ne = merged[merged["mfc"] == "not evaluable"]["sample_id"]
    assert len(ne) and all("denominator events" in reasons[s] for s in ne)
    # the profile table differs only by the study's override, which says so
    demo = pd.read_csv(demo_out / "calls" / "profile.csv").set_index("parameter")
    cli = pd.read_csv(tmp_path / "calls" / "profile.csv").set_index("parameter")
    def norm(v):  # lists are written as "['BM']" by one writer and "BM" by the other
        return str(v).strip("[]").replace("'", "").replace(" ", "")

    changed = [k for k in cli.index if norm(demo.loc[k, "value"]) != norm(cli.loc[k, "value"])]
    assert changed == ["mfc.min_denominator_events.ALL"]
    assert demo.loc["mfc.min_denominator_events.ALL", "source"] == "user override"
    samples = pd.read_csv(demo_out / "calls" / "samples.csv")
    assert samples["days_from_hsct"].notna().all() and (samples["days_from_hsct"] >= 0).all()
    # days from HSCT by hand for one sample
    pts = pd.read_csv(study / "clinical" / "patients.csv", parse_dates=["hsct_date"]).set_index("patient_id")
    row = samples.iloc[0]
    assert row["days_from_hsct"] == (pd.Timestamp(row["date"]) - pts.loc[row["patient_id"], "hsct_date"]).days


def test_demo_patient_reports_show_every_gating_page_and_link_its_workspace(demo_out):
    """Each tube of a patient has its gating page embedded and its FlowJo workspace linked."""
    import re

    samples = pd.read_csv(demo_out / "calls" / "samples.csv")
    mfc = pd.read_csv(demo_out / "flow" / "mfc_results.csv")
    gated = set(mfc.loc[mfc["n_events"] >= 1000, "sample_id"].str.replace(".fcs", "", regex=False))
    for page in sorted((demo_out / "report" / "patients").glob("*.html")):
        html = page.read_text(encoding="utf-8")
        mine = set(samples.loc[samples["patient_id"] == page.stem, "sample_id"]) & gated
        assert mine
        assert set(re.findall(r'alt="Gating page of ([^"]+)"', html)) == mine
        links = re.findall(r'href="([^"]+\.wsp)"', html)
        assert sorted(Path(x).stem for x in links) == sorted(mine)
        assert all((page.parent / x).resolve().is_file() for x in links)

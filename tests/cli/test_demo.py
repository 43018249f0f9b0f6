"""``mrdquant demo`` runs the whole chain on the bundled data and agrees with its truth."""

from __future__ import annotations

import subprocess
import sys

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
    """The demo's calls/samples.csv has days_from_hsct (it was empty) and the calls
    `mrdquant calls` makes from the same sample results and patients."""
    patients = data_samples / "study" / "clinical" / "patients.csv"
    demo = pd.read_csv(demo_out / "calls" / "samples.csv")
    assert len(demo) and demo["days_from_hsct"].notna().all() and (demo["days_from_hsct"] >= 0).all()
    pts = pd.read_csv(patients, parse_dates=["hsct_date"]).set_index("patient_id")["hsct_date"]
    by_hand = (pd.to_datetime(demo["date"]) - demo["patient_id"].map(pts)).dt.days
    assert (demo["days_from_hsct"] == by_hand).all()
    assert main(["calls", "--patients", str(patients), "--samples", str(demo_out / "calls" / "samples.csv"),
                 "--out", str(tmp_path / "calls")]) == 0
    cli = pd.read_csv(tmp_path / "calls" / "samples.csv")
    assert list(cli.columns) == list(demo.columns)
    # "reason" keeps the flow/qPCR detail only in the demo (its input had the per-method reasons)
    same = [c for c in demo.columns if c != "reason"]
    pd.testing.assert_frame_equal(demo[same], cli[same])

"""``mrdquant outcomes`` in-process on a simulated cohort."""

from __future__ import annotations

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from mrdquant.cli._outcomes import register


def _app():
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test root"""

    register(app)
    return app


@pytest.fixture(scope="module")
def cohort_files(tmp_path_factory):
    from mrdquant.calls.timeline import classify_timeline
    from mrdquant.simulate.cohort import simulate_cohort

    root = tmp_path_factory.mktemp("cohort")
    c = simulate_cohort(80, seed=5)
    c["patients"].to_csv(root / "patients.csv", index=False)
    classify_timeline(c["patients"], c["samples"]).to_csv(root / "timelines.csv", index=False)
    return root, c["patients"]


def test_outcomes_command_writes_tables_and_plots(cohort_files, tmp_path):
    root, patients = cohort_files
    out = tmp_path / "out"
    res = CliRunner().invoke(_app(), [
        "outcomes", "--patients", str(root / "patients.csv"), "--timelines", str(root / "timelines.csv"),
        "--out", str(out), "--years", "2", "--groups", "MRDsin+,MRDco+",
    ])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([
        "endpoints.csv", "estimates.csv", "tests.csv", "cox_univariate.csv", "cohort_table.csv",
        "cohort_table_wide.csv", "summary.txt", "cif_relapse.png", "cif_nrm.png", "km_dfs.png", "km_os.png",
    ])
    ep = pd.read_csv(out / "endpoints.csv")
    assert set(ep["mrd_status"]) <= {"MRDsin+", "MRDco+"}
    timelines = pd.read_csv(root / "timelines.csv")
    assert len(ep) == timelines["status"].isin(["MRDsin+", "MRDco+"]).sum()
    est = pd.read_csv(out / "estimates.csv")
    assert set(est["label"]) == {"CIR", "NRM", "DFS", "OS"}
    assert est["time_days"].eq(2 * 365.25).all()
    assert "2-year CIR" in (out / "summary.txt").read_text()
    cox = pd.read_csv(out / "cox_univariate.csv", keep_default_na=False)
    assert {"converged", "note"} <= set(cox.columns)


def test_outcomes_trial_mode(cohort_files, tmp_path):
    root, patients = cohort_files
    pts = patients.copy()
    pts["randomization_date"] = pts["hsct_date"] + pd.Timedelta(days=30)
    pts = pts[pts["last_followup_date"] > pts["randomization_date"]]
    pts = pts[~(pts["relapse_date"] <= pts["randomization_date"])]
    pts["arm"] = ["prophylactic", "preemptive"] * (len(pts) // 2) + ["prophylactic"] * (len(pts) % 2)
    pts.to_csv(tmp_path / "trial.csv", index=False)
    out = tmp_path / "trial_out"
    res = CliRunner().invoke(_app(), [
        "outcomes", "--patients", str(tmp_path / "trial.csv"), "--out", str(out), "--trial", "--arm", "arm",
        "--index", "randomization", "--no-plots",
    ])
    assert res.exit_code == 0, res.output
    est = pd.read_csv(out / "estimates.csv")
    assert est["endpoint"].unique().tolist() == ["relapse", "dfs", "os", "agvhd", "cgvhd"]
    assert est["time_days"].eq(365.25).all()
    assert not (out / "km_os.png").exists()


def test_outcomes_unknown_group_is_a_clear_error(cohort_files, tmp_path):
    from mrdquant.errors import MrdquantError

    root, _ = cohort_files
    res = CliRunner().invoke(_app(), [
        "outcomes", "--patients", str(root / "patients.csv"), "--out", str(tmp_path / "o"), "--group", "status",
    ])
    assert isinstance(res.exception, MrdquantError)
    assert "--timelines" in str(res.exception)


def test_outcomes_through_main(cohort_files, tmp_path):
    from mrdquant.cli.main import main  # an import failure is a failure, not a skip

    root, _ = cohort_files
    rc = main(["outcomes", "--patients", str(root / "patients.csv"), "--out", str(tmp_path / "m"), "--group", "nope"])
    assert rc == 2


def test_outcomes_bad_file_is_one_line_error_through_main(tmp_path, capsys):
    from mrdquant.cli.main import main  # an import failure is a failure, not a skip

    bad = tmp_path / "patients.csv"
    bad.write_text("patient_id,hsct_date,relapse_date,death_date,last_followup_date\nP1,2020-01-01,2020-05-01,2020-03-01,2020-03-01\n")
    rc = main(["outcomes", "--patients", str(bad), "--out", str(tmp_path / "o"), "--group", "arm"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and "patient 'P1'" in err[0] and "death_date" in err[0]
    assert not (tmp_path / "o").exists()


def test_outcomes_help_in_a_subprocess():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "from mrdquant.cli.main import run; run()", "outcomes", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "--patients" in out.stdout and "--trial" in out.stdout

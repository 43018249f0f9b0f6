"""Command-line messages speak in options and columns, name a path once, show flags as flags."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from mrdquant.cli.main import main
from mrdquant.errors import ClinicalDataError, located


def _err_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_a_missing_channel_names_the_file_once(tmp_path, data_samples, capsys):
    from mrdquant.io.fcs import write_fcs

    fcs = write_fcs(tmp_path / "f.fcs", np.ones((5, 2)), ["FSC-A", "SSC-A"])
    rc = main(["gate", str(data_samples / "flow" / "b_all_laip.xml"), str(fcs), "--out", str(tmp_path / "o"),
               "--no-progress"])
    assert rc == 1
    line = [x for x in _err_lines(capsys) if x.startswith("mrdquant: error:")][0]
    assert line.count(str(fcs)) == 1 and "no channel 'Pacific Blue-A'" in line
    errors = pd.read_csv(tmp_path / "o" / "errors.csv")
    assert errors.loc[0, "error"].count(str(fcs)) == 1


def test_located_says_where_once():
    assert located("a.fcs", "a.fcs: x: a.fcs: y") == "a.fcs: x: y"
    assert located("a.fcs", "no channel") == "a.fcs: no channel"


def test_qpcr_unknown_target_names_the_option(tmp_path, capsys):
    from mrdquant.simulate.qpcr import write_quantstudio_plate

    plate, _ = write_quantstudio_plate(tmp_path / "p.txt", seed=0)
    rc = main(["qpcr", str(plate), "--min-abl1", "1000", "--out", str(tmp_path / "o"), "--wt1-target", "WT2"])
    err = _err_lines(capsys)
    assert rc == 2 and len(err) == 1 and "--wt1-target / --abl1-target" in err[0]


@pytest.fixture()
def pre_hsct_tables(tmp_path):
    patients = pd.DataFrame({"patient_id": ["P1", "P2"], "hsct_date": ["2020-01-10", "2020-02-01"],
                             "last_followup_date": ["2021-01-01", "2021-01-01"]})
    samples = pd.DataFrame({
        "patient_id": ["P1", "P1", "P2", "P2"], "sample_id": ["a", "b", "c", "d"],
        "date": ["2019-12-20", "2020-03-01", "2020-01-05", "2020-04-01"], "specimen": "BM",
        "mfc": ["positive", "negative", "positive", "negative"], "wt1": "negative",
    })
    patients.to_csv(tmp_path / "patients.csv", index=False)
    samples.to_csv(tmp_path / "samples.csv", index=False)
    return tmp_path / "patients.csv", tmp_path / "samples.csv"


def test_pre_hsct_error_names_the_option_and_drop_counts(pre_hsct_tables, tmp_path, capsys):
    p, s = pre_hsct_tables
    args = ["calls", "--patients", str(p), "--samples", str(s), "--out", str(tmp_path / "o")]
    assert main(args) == 2
    err = _err_lines(capsys)
    assert len(err) == 1 and "--pre-hsct drop" in err[0] and "pass pre_hsct" not in err[0]
    assert main([*args, "--pre-hsct", "drop"]) == 0
    out = capsys.readouterr().out
    assert "--pre-hsct drop: left out 2 sample(s) dated before the HSCT" in out
    assert sorted(pd.read_csv(tmp_path / "o" / "samples.csv")["sample_id"]) == ["b", "d"]
    assert main([*args, "--pre-hsct", "keep"]) == 2
    assert "--pre-hsct 'keep': expected raise or drop" in _err_lines(capsys)[0]


def test_library_warnings_do_not_precede_the_error_line(monkeypatch, tmp_path, capsys):
    import mrdquant.cli._calls as calls_cli

    def failing(*args, **kwargs):
        warnings.warn("Could not infer format, so each element will be parsed individually", UserWarning)
        raise ClinicalDataError("samples.csv, row 3, column 'date': not a date")

    monkeypatch.setattr(calls_cli, "run_calls", failing)
    rc = main(["calls", "--patients", "p.csv", "--samples", "s.csv", "--out", str(tmp_path)])
    assert rc == 2
    assert _err_lines(capsys) == ["mrdquant: error: samples.csv, row 3, column 'date': not a date"]

    def warning_twice(*args, **kwargs):
        for _ in range(2):
            warnings.warn("few events\n in group B", UserWarning)
        return {"written": [], "failed": []}

    monkeypatch.setattr(calls_cli, "run_calls", warning_twice)
    assert main(["calls", "--patients", "p.csv", "--samples", "s.csv", "--out", str(tmp_path)]) == 0
    assert _err_lines(capsys) == ["mrdquant: warning: few events in group B"]


@pytest.mark.parametrize("command", [[], ["gate"], ["calls"], ["outcomes"], ["simulate", "flow"]])
def test_help_shows_no_bool_type_for_flags(command):
    out = subprocess.run([sys.executable, "-m", "mrdquant", *command, "--help"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "--help" in out.stdout and "<bool>" not in out.stdout

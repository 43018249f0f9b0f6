"""``mrdquant fcs-info``."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import typer
from typer.testing import CliRunner

from mrdquant.cli._fcs import FCS_INFO_COLUMNS, fcs_info_table, register
from mrdquant.io.fcs import write_fcs


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:  # keep "fcs-info" as a named subcommand
        pass

    return app


def _files(tmp_path):
    spill = pd.DataFrame(np.eye(2), index=["PE-A", "APC-A"], columns=["PE-A", "APC-A"])
    a = write_fcs(tmp_path / "a.fcs", np.ones((5, 3)), ["FSC-A", "PE-A", "APC-A"], markers=["", "CD10", "CD19"],
                  spillover=spill)
    b = write_fcs(tmp_path / "b.fcs", np.zeros((7, 2)), ["FSC-A", "SSC-A"])
    bad = tmp_path / "broken.fcs"
    bad.write_bytes(b"FCS3.0 garbage")
    return a, b, bad


def test_fcs_info_rows_and_exit_code(tmp_path):
    a, b, bad = _files(tmp_path)
    out = tmp_path / "info" / "table.csv"
    result = CliRunner().invoke(_app(), ["fcs-info", str(a), str(bad), str(b), "--out", str(out)])
    # some inputs failed: exit code 1, the others are listed (contract F)
    assert result.exit_code == 1 and "1 of 3 FCS file(s) could not be read" in result.stderr
    assert "a.fcs" in result.stdout and "b.fcs" in result.stdout and "broken.fcs" in result.stdout
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns) == list(FCS_INFO_COLUMNS)
    assert table["file"].tolist() == [str(a), str(bad), str(b)]
    ok = table.iloc[[0, 2]]
    assert ok["events"].astype(int).tolist() == [5, 7]
    assert ok["channels"].astype(int).tolist() == [3, 2]
    assert ok["version"].astype(str).tolist() == ["3.1", "3.1"]
    assert ok["spillover"].tolist() == ["yes", "no"]
    assert ok["markers"].tolist() == ["CD10,CD19", ""]
    assert table.loc[0, "sha256"] == hashlib.sha256(a.read_bytes()).hexdigest()[:12]
    assert "HEADER" in table.loc[1, "error"] and table.loc[1, "events"] == ""
    assert f"error: {bad}:" in result.stderr
    assert (ok["error"] == "").all()


def test_fcs_info_all_good_exit_zero(tmp_path):
    a, b, _ = _files(tmp_path)
    result = CliRunner().invoke(_app(), ["fcs-info", str(a), str(b)])
    assert result.exit_code == 0, result.output
    assert len(fcs_info_table([a, b])) == 2


def test_fcs_info_real_multi_data_set(shared_data):
    path = shared_data / "fcs_edge" / "FlowIO__coulter.lmd"
    table = fcs_info_table([path], dataset=1)
    assert table.loc[0, "datasets"] == 2 and table.loc[0, "events"] == 18110 and table.loc[0, "channels"] == 8
    assert table.loc[0, "warnings"] == ""
    first = fcs_info_table([path])
    assert "one byte past" in first.loc[0, "warnings"] and str(path) not in first.loc[0, "warnings"]


def test_fcs_info_through_the_mrdquant_command(tmp_path, capsys):
    from mrdquant.cli.main import main  # an import failure is a failure, not a skip
    a, b, bad = _files(tmp_path)
    assert main(["fcs-info", str(a), str(b)]) == 0
    assert "a.fcs" in capsys.readouterr().out
    assert main(["fcs-info", str(a), str(bad), "--out", str(tmp_path / "t.tsv")]) == 1  # some inputs failed (contract F)
    err = capsys.readouterr().err
    assert "mrdquant: error: 1 of 2 FCS file(s) could not be read" in err and f"error: {bad}:" in err
    table = pd.read_csv(tmp_path / "t.tsv", sep="\t", keep_default_na=False)
    assert table["file"].tolist() == [str(a), str(bad)] and table.loc[1, "error"] != ""

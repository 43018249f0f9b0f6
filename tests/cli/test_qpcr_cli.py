"""``mrdquant qpcr``: batch semantics and outputs."""

from __future__ import annotations

import pandas as pd
import typer
from typer.testing import CliRunner

from mrdquant.cli._qpcr import register
from mrdquant.simulate.qpcr import write_quantstudio_plate


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps 'qpcr' a named subcommand
        pass

    return app


def test_qpcr_command_writes_tables(tmp_path):
    p1, t1 = write_quantstudio_plate(tmp_path / "run1.txt", seed=0, low_abl1=True)
    out = tmp_path / "out"
    result = CliRunner().invoke(_app(), ["qpcr", str(p1), "--min-abl1", "10000", "--out", str(out)])
    assert result.exit_code == 0, result.output
    wells = pd.read_csv(out / "wells.csv")
    curves = pd.read_csv(out / "curves.csv")
    results = pd.read_csv(out / "results.csv")
    assert len(wells) == 70
    assert sorted(curves["target"]) == ["ABL1", "WT1"] and curves["passed"].all()
    merged = results.merge(t1, on="sample")
    assert (merged["call"] == merged["expected_call"]).all()
    assert pd.read_csv(out / "errors.csv").empty
    assert "5 samples" in result.output


def test_one_bad_file_is_reported_and_the_rest_finish(tmp_path):
    good, truth = write_quantstudio_plate(tmp_path / "good.txt", seed=1)
    bad = tmp_path / "bad.txt"
    bad.write_text("[Sample Setup]\nWell\tSample Name\n1\tx\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        _app(), ["qpcr", str(bad), str(good), "--min-abl1", "10000", "--out", str(out), "--profile", "eln_2009",
                 "--specimen", "BM"],
    )
    assert result.exit_code == 1  # some inputs failed (contract F)
    errors = pd.read_csv(out / "errors.csv")
    assert errors["file"].tolist() == [str(bad)] and "no [Results] section" in errors["error"].iloc[0]
    results = pd.read_csv(out / "results.csv")
    assert len(results) == len(truth) and (results["profile"] == "eln_2009").all()
    assert (results["threshold"] == 250).all()


def test_min_abl1_is_required(tmp_path):
    good, _ = write_quantstudio_plate(tmp_path / "good.txt", seed=1)
    result = CliRunner().invoke(_app(), ["qpcr", str(good), "--out", str(tmp_path / "o")])
    assert result.exit_code != 0 and "min-abl1" in result.output


def test_qpcr_through_main(tmp_path, capsys):
    from mrdquant.cli.main import main  # an import failure is a failure, not a skip
    good, truth = write_quantstudio_plate(tmp_path / "good.txt", seed=2, ntc_amplifies=True)
    out = tmp_path / "out"
    assert main(["qpcr", str(good), "--min-abl1", "10000", "--out", str(out)]) == 0
    results = pd.read_csv(out / "results.csv")
    assert (results["call"] == "not evaluable").all()
    assert results["reason"].str.startswith("not evaluable: NTC amplified").all()
    # nothing readable at all: one-line error, exit 2
    bad = tmp_path / "bad.eds"
    bad.write_bytes(b"PK\x03\x04")
    assert main(["qpcr", str(bad), "--min-abl1", "10000", "--out", str(out)]) == 2
    assert "bad.eds" in capsys.readouterr().err

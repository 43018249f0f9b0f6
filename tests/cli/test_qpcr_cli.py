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


def test_several_plates_with_the_same_sample_names_are_kept_apart_by_plate(tmp_path):
    p1, t1 = write_quantstudio_plate(tmp_path / "run1.txt", seed=0)
    p2, t2 = write_quantstudio_plate(tmp_path / "run2.txt", seed=5, low_abl1=True)
    assert set(t1["sample"]) <= set(t2["sample"])  # the same names on both plates
    out = tmp_path / "out"
    result = CliRunner().invoke(_app(), ["qpcr", str(p1), str(p2), "--min-abl1", "10000", "--out", str(out)])
    assert result.exit_code == 0, result.output
    results = pd.read_csv(out / "results.csv")
    truth = pd.concat([t1.assign(plate="run1"), t2.assign(plate="run2")], ignore_index=True)
    merged = results.merge(truth, on=["plate", "sample"], validate="one_to_one")
    assert len(merged) == len(t1) + len(t2) == len(results)
    assert (merged["call"] == merged["expected_call"]).all()
    curves = pd.read_csv(out / "curves.csv")
    assert sorted(zip(curves["plate"], curves["target"])) == [
        ("run1", "ABL1"), ("run1", "WT1"), ("run2", "ABL1"), ("run2", "WT1")]


def test_stored_curve_file_quantifies_a_plate_without_standards(tmp_path):
    from mrdquant.simulate.qpcr import TRUE_CURVES

    plate, truth = write_quantstudio_plate(tmp_path / "nostd.txt", seed=3, no_standards=True)
    stored = tmp_path / "curves.csv"
    pd.DataFrame([{"target": t, "slope": s, "intercept": i} for t, (s, i) in TRUE_CURVES.items()]).to_csv(
        stored, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(_app(), ["qpcr", str(plate), "--min-abl1", "10000", "--out", str(out),
                                         "--curve", str(stored)])
    assert result.exit_code == 0, result.output
    results = pd.read_csv(out / "results.csv").merge(truth, on="sample")
    assert results["wt1_curve"].str.startswith("stored").all()
    # with the true curves the copies come back within the simulator's stated tolerance
    ratio = results["wt1_copies_x"] / results["wt1_copies_y"]
    tol = results["copies_fold_tolerance"]
    assert ((ratio < tol) & (ratio > 1 / tol)).all()
    # without --curve nothing can be quantified: every sample is not evaluable, never a number
    result = CliRunner().invoke(_app(), ["qpcr", str(plate), "--min-abl1", "10000", "--out", str(tmp_path / "o2")])
    bare = pd.read_csv(tmp_path / "o2" / "results.csv")
    assert (bare["call"] == "not evaluable").all() and bare["wt1_copies"].isna().all()


def test_stored_curve_file_with_a_bad_value_names_file_and_row(tmp_path):
    plate, _ = write_quantstudio_plate(tmp_path / "nostd.txt", seed=3, no_standards=True)
    stored = tmp_path / "curves.csv"
    stored.write_text("target,slope,intercept\nWT1,-3.3,39.5\nABL1,steep,39.0\n")
    from mrdquant.cli.main import main

    assert main(["qpcr", str(plate), "--min-abl1", "10000", "--out", str(tmp_path / "o"), "--curve", str(stored)]) == 2

"""``mrdquant calls``: tables written, profile values printed, errors as one line."""

from __future__ import annotations

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from mrdquant.cli._calls import parse_overrides, register
from mrdquant.errors import ConfigError

P, N = "positive", "negative"


def _app():
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:  # keep "calls" as a named subcommand
        pass

    return app


def _inputs(tmp_path, pre_hsct_sample=False):
    pts = pd.DataFrame({"patient_id": ["P1", "P2"], "hsct_date": ["2020-01-01", "2020-02-01"],
                        "diagnosis": ["B-ALL", "AML"]})
    rows = [("P1", "S1", "2020-03-01", N, P), ("P1", "S2", "2020-03-15", N, P),
            ("P2", "S3", "2020-03-01", P, N), ("P2", "S4", "2020-03-20", N, N)]
    if pre_hsct_sample:
        rows.append(("P2", "S0", "2020-01-20", P, P))
    smp = pd.DataFrame(rows, columns=["patient_id", "sample_id", "date", "mfc", "wt1"]).assign(specimen="BM")
    pts.to_csv(tmp_path / "patients.csv", index=False)
    smp.to_csv(tmp_path / "samples.csv", index=False)
    return tmp_path / "patients.csv", tmp_path / "samples.csv"


def test_calls_writes_tables_and_prints_profile(tmp_path):
    p, s = _inputs(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(_app(), ["calls", "--patients", str(p), "--samples", str(s), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "confirmation_window_days = 14 [days between two consecutive BM samples]" in res.output
    assert "2-week interval" in res.output
    assert "status: negative 0, MRDsin+ 1, MRDco+ 1" in res.output
    patients = pd.read_csv(out / "patients.csv")
    assert patients["status"].tolist() == ["MRDco+", "MRDsin+"]
    assert patients["confirmation_window_days"].tolist() == [14, 14]
    samples = pd.read_csv(out / "samples.csv")
    assert samples["sample_id"].tolist() == ["S1", "S2", "S3", "S4"]
    assert samples["days_from_hsct"].tolist() == [60, 74, 29, 48]
    profile = pd.read_csv(out / "profile.csv")
    row = profile[profile["parameter"] == "timeline.confirmation_window_days"].iloc[0]
    assert (str(row["value"]), row["unit"]) == ("14", "days between two consecutive BM samples")
    assert "wt1.positive_above.BM" in set(profile["parameter"])


def test_override_changes_the_call_and_parquet_and_plots(tmp_path):
    p, s = _inputs(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(
        _app(),
        ["calls", "--patients", str(p), "--samples", str(s), "--out", str(out), "--format", "parquet",
         "--set", "confirmation_window_days=7", "--plots"],
    )
    assert res.exit_code == 0, res.output
    assert "confirmation_window_days = 7" in res.output and "(user override)" in res.output
    patients = pd.read_parquet(out / "patients.parquet")
    assert patients["status"].tolist() == ["MRDsin+", "MRDsin+"]
    profile = pd.read_parquet(out / "profile.parquet")
    row = profile[profile["parameter"] == "timeline.confirmation_window_days"].iloc[0]
    assert (row["value"], row["source"]) == ("7", "user override")
    assert sorted(x.name for x in (out / "kinetics").iterdir()) == ["P1.png", "P2.png"]


def test_bad_input_is_a_clinical_data_error(tmp_path):
    p, s = _inputs(tmp_path, pre_hsct_sample=True)
    res = CliRunner().invoke(_app(), ["calls", "--patients", str(p), "--samples", str(s), "--out", str(tmp_path / "o")])
    assert res.exit_code != 0
    assert "before the HSCT" in str(res.exception)
    assert not (tmp_path / "o").exists()
    res = CliRunner().invoke(_app(), ["calls", "--patients", str(p), "--samples", str(s), "--out",
                                      str(tmp_path / "o"), "--pre-hsct", "drop"])
    assert res.exit_code == 0, res.output


def test_parse_overrides():
    assert parse_overrides(["confirmation_window_days=none", "specimens=BM,PB", "consecutive=within",
                            "level_high_wt1_pct=2.5", "onset_boundary_days=90", "specimens=BM"]) == {
        "confirmation_window_days": None, "specimens": ["BM"], "consecutive": "within",
        "level_high_wt1_pct": 2.5, "onset_boundary_days": 90}
    with pytest.raises(ConfigError, match="PARAMETER=VALUE"):
        parse_overrides(["window"])


def test_main_entry_point(tmp_path):
    import mrdquant.cli.main as main_mod  # an import failure is a failure, not a skip
    p, s = _inputs(tmp_path, pre_hsct_sample=True)
    code = main_mod.main(["calls", "--patients", str(p), "--samples", str(s), "--out", str(tmp_path / "o")])
    assert code == 2
    p, s = _inputs(tmp_path)
    assert main_mod.main(["calls", "--patients", str(p), "--samples", str(s), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "patients.csv").exists()


def test_header_only_samples_table_gives_empty_well_formed_outputs(tmp_path):
    from mrdquant.calls.timeline import classify_timeline

    p, s = _inputs(tmp_path)
    pd.read_csv(s).iloc[:0].to_csv(s, index=False)
    out = tmp_path / "out"
    res = CliRunner().invoke(_app(), ["calls", "--patients", str(p), "--samples", str(s), "--out", str(out), "--plots"])
    assert res.exit_code == 0, res.output
    patients = pd.read_csv(out / "patients.csv")
    assert patients["status"].tolist() == ["not evaluable", "not evaluable"]
    samples = pd.read_csv(out / "samples.csv")
    p_full, s_full = _inputs(tmp_path / "full" if (tmp_path / "full").mkdir() is None else None)
    full = tmp_path / "full_out"
    assert CliRunner().invoke(_app(), ["calls", "--patients", str(p_full), "--samples", str(s_full),
                                       "--out", str(full)]).exit_code == 0
    assert samples.empty and samples.columns.tolist() == pd.read_csv(full / "samples.csv").columns.tolist()
    assert patients.columns.tolist() == pd.read_csv(full / "patients.csv").columns.tolist()
    table = classify_timeline(pd.read_csv(p), pd.read_csv(s))
    assert table["status"].tolist() == ["not evaluable", "not evaluable"]
    assert table.columns.tolist() == patients.columns.tolist()


def test_date_format_option(tmp_path):
    p, s = _inputs(tmp_path)
    for path, cols in ((p, ["hsct_date"]), (s, ["date"])):
        frame = pd.read_csv(path)
        for c in cols:
            frame[c] = pd.to_datetime(frame[c]).dt.strftime("%d/%m/%Y")
        frame.to_csv(path, index=False)
    out = tmp_path / "out"
    res = CliRunner().invoke(_app(), ["calls", "--patients", str(p), "--samples", str(s), "--out", str(out)])
    assert res.exit_code != 0
    assert "ISO 8601" in str(res.exception) and "'hsct_date'" in str(res.exception)
    res = CliRunner().invoke(_app(), ["calls", "--patients", str(p), "--samples", str(s), "--out", str(out),
                                      "--date-format", "%d/%m/%Y"])
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out / "samples.csv")["days_from_hsct"].tolist() == [60, 74, 29, 48]

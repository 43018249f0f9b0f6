"""``mrdquant simulate ...`` commands, run in-process."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from mrdquant.cli._simulate import default_flow_name, register
from mrdquant.io.fcs import read_fcs
from mrdquant.simulate.flow import simulate_bone_marrow


@pytest.fixture(scope="module")
def app():
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test root"""

    register(app)
    return app


def _invoke(app, args):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return [line for line in result.output.splitlines() if line.strip()]


def test_default_name():
    assert default_flow_name("B-ALL", 1e-3, 0) == "b_all_mrd0.001_seed0.fcs"
    assert default_flow_name("PUIH B-ALL", 1e-4, 7) == "puih_b_all_mrd0.0001_seed7.fcs"


def test_simulate_flow_writes_fcs_and_truth(app, tmp_path):
    lines = _invoke(app, ["simulate", "flow", "--panel", "T-ALL", "--mrd", "0.01", "--events", "3000", "--seed", "4", "--out", str(tmp_path)])
    fcs = tmp_path / "t_all_mrd0.01_seed4.fcs"
    truth_path = tmp_path / "t_all_mrd0.01_seed4.truth.parquet"
    assert lines == [str(fcs), str(truth_path)]
    sample = read_fcs(fcs)
    mem, truth = simulate_bone_marrow("T-ALL", 3000, 0.01, 4)
    t = sample.channels.index("Time")
    keep = [i for i in range(len(sample.channels)) if i != t]
    np.testing.assert_array_equal(sample.events[:, keep], mem.events[:, keep])
    pd.testing.assert_frame_equal(pd.read_parquet(truth_path), truth)


def test_simulate_flow_custom_name(app, tmp_path):
    _invoke(app, ["simulate", "flow", "--events", "1000", "--out", str(tmp_path), "--name", "tube1"])
    assert read_fcs(tmp_path / "tube1.fcs").n_events == 1000


def test_simulate_flow_scenario_options(app, tmp_path):
    from mrdquant.simulate.flow import ALTERNATE_CHANNELS

    args = ["simulate", "flow", "--panel", "B-ALL", "--events", "3000", "--seed", "2", "--out", str(tmp_path),
            "--name", "s", "--marrow", "regenerating", "--phenotype", "shifted", "--layout", "alternate",
            "--drift", "CD10=1.3, CD45=0.8"]
    _invoke(app, args)
    sample = read_fcs(tmp_path / "s.fcs")
    mem, _ = simulate_bone_marrow("B-ALL", 3000, 1e-3, 2, marrow="regenerating", leukemia_phenotype="shifted",
                                  channels=ALTERNATE_CHANNELS["B-ALL"], drift={"CD10": 1.3, "CD45": 0.8})
    assert sample.markers == mem.markers and sample.channels[sample.markers.index("CD19")] == "APC-A"
    t = sample.channels.index("Time")
    keep = [i for i in range(len(sample.channels)) if i != t]
    np.testing.assert_array_equal(sample.events[:, keep], mem.events[:, keep])
    assert sample.metadata["mrdquant_sim_drift"] == "CD10=1.3;CD45=0.8"
    for bad, match in ((["--drift", "CD10:1.3"], "MARKER=FACTOR"), (["--layout", "other"], "default or alternate"),
                       (["--phenotype", "asynchronous"], "leukemia_phenotype")):
        result = CliRunner().invoke(app, args[:10] + bad)
        assert result.exit_code != 0 and match in str(result.exception)


def test_simulate_flow_bad_panel_is_a_one_line_error(app, tmp_path):
    result = CliRunner().invoke(app, ["simulate", "flow", "--panel", "CLL", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "unknown panel 'CLL'" in str(result.exception)


def test_simulate_qpcr_and_cohort(app, tmp_path):
    lines = _invoke(app, ["simulate", "qpcr", "--out", str(tmp_path), "--seed", "1", "--name", "p1"])
    assert lines == [str(tmp_path / "p1.txt"), str(tmp_path / "p1_truth.csv")]
    assert (tmp_path / "p1.txt").stat().st_size > 0
    lines = _invoke(app, ["simulate", "cohort", "--out", str(tmp_path / "c"), "--patients", "5", "--seed", "3"])
    patients = pd.read_csv(tmp_path / "c" / "patients.csv")
    assert len(patients) == 5


def test_simulate_data_samples(app, tmp_path):
    lines = _invoke(app, ["simulate", "data-samples", "--out", str(tmp_path)])
    flow = tmp_path / "flow"
    assert str(flow / "b_all_laip.xml") in lines and str(flow / "manifest.csv") in lines
    assert len(list(flow.glob("*.fcs"))) == 5


def test_through_main(tmp_path, capsys):
    from mrdquant.cli.main import main

    assert main(["simulate", "flow", "--events", "2000", "--out", str(tmp_path), "--name", "x"]) == 0
    assert (tmp_path / "x.truth.parquet").exists()
    assert main(["simulate", "flow", "--panel", "CLL", "--out", str(tmp_path)]) == 2
    assert "unknown panel 'CLL'" in capsys.readouterr().err

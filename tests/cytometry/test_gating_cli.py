"""``mrdquant gate`` command: counts table, errors table, exit codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from mrdquant.cli import _gate
from mrdquant.cytometry.gates import Dimension, PolygonGate, RectangleGate
from mrdquant.cytometry.gating import COUNTS_COLUMNS, GatingStrategy
from mrdquant.io.fcs import write_fcs


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test app"""

    _gate.register(app)
    return app


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(11)
    paths = []
    for i in range(2):
        ev = rng.uniform(0, 100, size=(300, 2)).astype(np.float32)
        p = tmp_path / f"tube{i}.fcs"
        write_fcs(p, ev, ["FSC-A", "SSC-A"])
        paths.append(p)
    strat = GatingStrategy([
        RectangleGate("cells", [Dimension("FSC-A")], [20], [None]),
        PolygonGate("tri", [Dimension("FSC-A"), Dimension("SSC-A")], [(0, 0), (100, 0), (100, 100)], parent="cells"),
    ])
    xml = strat.to_gatingml(tmp_path / "strategy.xml")
    return xml, paths, strat


def test_gate_command_writes_counts(files, tmp_path):
    xml, paths, strat = files
    out = tmp_path / "out"
    res = CliRunner().invoke(_app(), ["gate", str(xml), *map(str, paths), "--out", str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    counts = pd.read_csv(out / "counts.csv")
    assert list(counts.columns) == COUNTS_COLUMNS
    assert len(counts) == 4
    direct = strat.gate(paths[1]).counts()
    got = counts[counts.sample_id == "tube1.fcs"]
    assert got["count"].tolist() == direct["count"].tolist()
    assert not (out / "errors.csv").exists()


def test_gate_command_bad_file_reported_rest_finish(files, tmp_path):
    xml, paths, _ = files
    bad = tmp_path / "bad.fcs"
    bad.write_bytes(b"not an fcs file at all")
    out = tmp_path / "out"
    res = CliRunner().invoke(_app(), ["gate", str(xml), str(paths[0]), str(bad), str(paths[1]),
                                      "--out", str(out), "--format", "parquet", "--no-progress"])
    assert res.exit_code == 1  # some inputs failed (contract F)
    assert "bad.fcs" in res.output
    counts = pd.read_parquet(out / "counts.parquet")
    assert sorted(counts.sample_id.unique()) == ["tube0.fcs", "tube1.fcs"]
    errors = pd.read_parquet(out / "errors.parquet")
    assert errors["sample_id"].tolist() == ["bad.fcs"]


def test_gate_command_through_main(files, tmp_path, capsys):
    from mrdquant.cli.main import main  # an import failure is a failure, not a skip
    xml, paths, _ = files
    rc = main(["gate", str(xml), str(paths[0]), "--out", str(tmp_path / "o"), "--no-progress"])
    assert rc == 0
    assert (tmp_path / "o" / "counts.csv").exists()
    rc = main(["gate", str(tmp_path / "missing.xml"), str(paths[0]), "--out", str(tmp_path / "o2")])
    assert rc == 2
    assert "missing.xml" in capsys.readouterr().err

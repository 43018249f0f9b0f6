"""`mrdquant flow` and the marker check of `mrdquant gate`, run as a lab would."""

from __future__ import annotations

import pandas as pd
import pytest

from mrdquant.cli.main import main
from mrdquant.simulate.flow import write_bone_marrow_fcs


@pytest.fixture(scope="module")
def tubes(tmp_path_factory):
    d = tmp_path_factory.mktemp("tubes")
    a, _ = write_bone_marrow_fcs(d / "p1_d30.fcs", "B-ALL", 40_000, mrd_fraction=1e-2, seed=1)
    b, _ = write_bone_marrow_fcs(d / "p1_d90.fcs", "B-ALL", 40_000, mrd_fraction=0.0, seed=2)
    broken = d / "broken.fcs"
    broken.write_bytes(b"FCS3.1 not really")
    return a, b, broken


def test_flow_writes_one_row_per_file_and_reports_the_bad_one(tubes, tmp_path, capsys):
    a, b, broken = tubes
    out = tmp_path / "res"
    rc = main(["flow", str(a), str(broken), str(b), "--panel", "B-ALL", "--out", str(out), "--no-progress",
               "--no-plots"])
    assert rc == 1
    csv = pd.read_csv(out / "mfc_results.csv")
    pq = pd.read_parquet(out / "mfc_results.parquet")
    assert list(csv["sample_id"]) == ["p1_d30.fcs", "p1_d90.fcs"] == list(pq["sample_id"])
    assert csv.loc[0, "status"] == "positive" and csv.loc[0, "mrd_pct"] > 0.5
    assert csv.loc[1, "laip_events"] < 20
    err = pd.read_csv(out / "errors.csv")
    assert list(err["sample_id"]) == ["broken.fcs"]
    captured = capsys.readouterr()
    assert "broken.fcs" in captured.err and "p1_d30.fcs: positive" in captured.out


def test_flow_flowjo_writes_a_workspace_that_gate_reproduces(tubes, tmp_path):
    a = tubes[0]
    out = tmp_path / "res"
    assert main(["flow", str(a), "--panel", "B-ALL", "--out", str(out), "--no-progress", "--no-plots",
                 "--flowjo"]) == 0
    wsp = out / "plots" / "p1_d30.wsp"
    row = pd.read_csv(out / "mfc_results.csv").iloc[0]
    # the lab's check: gate the file with the workspace, the LAIP and denominator come back
    assert main(["gate", str(wsp), str(a), "--out", str(tmp_path / "g"), "--no-progress"]) == 0
    counts = pd.read_csv(tmp_path / "g" / "counts.csv").set_index("gate_path")["count"]
    laip = [p for p in counts.index if p.endswith("/LAIP")]
    assert len(laip) == 1 and counts[laip[0]] == row["laip_events"] > 0
    viable = [p for p in counts.index if p.endswith("/Viable")]  # the denominator step
    assert len(viable) == 1 and counts[viable[0]] == row["denominator_events"]
    assert not (out / "plots" / "p1_d30.png").exists()  # --no-plots still writes no page


def test_flow_unknown_panel_is_a_usage_error(tubes, tmp_path, capsys):
    rc = main(["flow", str(tubes[0]), "--panel", "CLL", "--out", str(tmp_path / "x"), "--no-progress"])
    assert rc == 2
    assert "unknown panel 'CLL'" in capsys.readouterr().err


def test_flow_with_patient_laip_and_channel_mapping(tubes, tmp_path):
    from mrdquant.mfc import derive_laip, write_laip
    from mrdquant.simulate.flow import simulate_bone_marrow

    dx, _ = simulate_bone_marrow("B-ALL", n_events=60_000, mrd_fraction=0.2, seed=5)
    laip = write_laip(derive_laip(dx, "B-ALL", patient_id="P1"), tmp_path / "P1.toml")
    out = tmp_path / "res"
    rc = main(["flow", str(tubes[0]), "--panel", "b-all", "--laip", str(laip), "--channel", "CD58=FITC-A",
               "--out", str(out), "--no-progress", "--no-plots"])
    assert rc == 0
    row = pd.read_csv(out / "mfc_results.csv").iloc[0]
    assert "patient LAIP" in row["laip_source"] and row["status"] == "positive"


def test_laip_command_writes_a_file_flow_applies(tmp_path):
    from mrdquant.simulate.flow import write_bone_marrow_fcs as w

    dx, _ = w(tmp_path / "dx.fcs", "T-ALL", 40_000, mrd_fraction=0.3, seed=4)
    fu, _ = w(tmp_path / "fu.fcs", "T-ALL", 40_000, mrd_fraction=1e-2, seed=5)
    laip = tmp_path / "P4.toml"
    assert main(["laip", str(dx), "--panel", "T-ALL", "--patient", "P4", "--out", str(laip)]) == 0
    assert 'patient_id = "P4"' in laip.read_text()
    out = tmp_path / "res"
    assert main(["flow", str(fu), "--panel", "T-ALL", "--laip", str(laip), "--out", str(out), "--no-progress",
                 "--no-plots"]) == 0
    row = pd.read_csv(out / "mfc_results.csv").iloc[0]
    assert row["status"] == "positive" and str(laip) in row["laip_source"]


def test_gate_refuses_a_tube_whose_markers_do_not_match(data_samples, tmp_path, capsys):
    flow = data_samples / "flow"
    rc = main(["gate", str(flow / "b_all_laip.xml"), str(flow / "aml_mrd1e-2.fcs"), str(flow / "b_all_mrd1e-2.fcs"),
               "--out", str(tmp_path), "--no-progress"])
    assert rc != 0
    err = capsys.readouterr().err
    assert "aml_mrd1e-2.fcs" in err and "carries 'CD117', the strategy expects 'CD19'" in err
    counts = pd.read_csv(tmp_path / "counts.csv")
    assert set(counts["sample_id"]) == {"b_all_mrd1e-2.fcs"}  # the matching tube was still gated


def test_gate_accepts_a_flowjo_workspace(tmp_path):
    fk = pytest.importorskip("flowkit")
    import warnings

    from mrdquant.simulate.flow import write_bone_marrow_fcs as w

    fcs, _ = w(tmp_path / "tube.fcs", "B-ALL", 5_000, mrd_fraction=1e-2, seed=3)
    from mrdquant.cytometry.gates import Dimension, RectangleGate
    from mrdquant.cytometry.gating import GatingStrategy

    xml = GatingStrategy([RectangleGate("big", [Dimension("FSC-A")], [40000.0], [None])]).to_gatingml(tmp_path / "s.xml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sample = fk.Sample(str(fcs))
        session = fk.Session(gating_strategy=fk.parse_gating_xml(str(xml)), fcs_samples=[sample])
        wsp = tmp_path / "lab.wsp"
        with open(wsp, "wb") as fh:
            session.export_wsp(fh, "All Samples")
    rc = main(["gate", str(wsp), str(fcs), "--sample-id", sample.id, "--out", str(tmp_path / "o"), "--no-progress"])
    assert rc == 0
    counts = pd.read_csv(tmp_path / "o" / "counts.csv")
    import numpy as np
    from mrdquant.io.fcs import read_fcs

    want = int((read_fcs(fcs).channel("FSC-A") >= 40000).sum())
    assert counts.loc[counts["gate"] == "big", "count"].item() == want


def test_calls_reads_the_flow_table_for_the_mfc_side(tubes, tmp_path):
    a, b, _ = tubes
    res = tmp_path / "flow"
    assert main(["flow", str(a), str(b), "--panel", "B-ALL", "--out", str(res), "--no-progress", "--no-plots"]) == 0
    pd.DataFrame({"patient_id": ["P1"], "hsct_date": ["2024-01-01"]}).to_csv(tmp_path / "patients.csv", index=False)
    pd.DataFrame({"patient_id": ["P1", "P1"], "sample_id": ["d30", "d90"], "date": ["2024-01-31", "2024-03-31"],
                  "specimen": ["BM", "BM"], "fcs_sample_id": ["p1_d30.fcs", "p1_d90.fcs"]}).to_csv(
        tmp_path / "samples.csv", index=False)
    rc = main(["calls", "--patients", str(tmp_path / "patients.csv"), "--samples", str(tmp_path / "samples.csv"),
               "--mfc", str(res / "mfc_results.csv"), "--out", str(tmp_path / "calls")])
    assert rc == 0
    called = pd.read_csv(tmp_path / "calls" / "samples.csv")
    flow = pd.read_csv(res / "mfc_results.csv").set_index("sample_id")
    assert called.loc[called["sample_id"] == "d30", "mfc"].item() == "positive"
    assert called.loc[called["sample_id"] == "d30", "mfc_pct"].item() == pytest.approx(flow.loc["p1_d30.fcs", "mrd_pct"])

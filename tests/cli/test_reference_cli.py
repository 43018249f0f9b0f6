"""``mrdquant reference fit|info`` and ``mrdquant dfn`` end to end on small simulated files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mrdquant.cli.main import main
from mrdquant.simulate._flow_gatingml import b_all_laip_gatingml
from mrdquant.simulate.flow import write_bone_marrow_fcs


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("dfn_cli")
    normals = [
        write_bone_marrow_fcs(d / f"normal{i}.fcs", "B-ALL", 60_000, mrd_fraction=0.0, seed=300 + i)[0] for i in range(3)
    ]
    follow, truth = write_bone_marrow_fcs(d / "followup.fcs", "B-ALL", 80_000, mrd_fraction=5e-3, seed=310)
    aml, _ = write_bone_marrow_fcs(d / "aml.fcs", "AML", 5_000, mrd_fraction=0.0, seed=311)
    (d / "laip.xml").write_text(b_all_laip_gatingml(), encoding="utf-8")
    ref = d / "ref" / "b_all.npz"
    assert main(["reference", "fit", *map(str, normals), "--panel", "B-ALL", "--out", str(ref)]) == 0
    return {"dir": d, "ref": ref, "follow": follow, "truth": truth, "aml": aml, "laip": d / "laip.xml"}


def test_fit_then_info_reports_the_training_files(files, capsys):
    capsys.readouterr()
    assert main(["reference", "info", str(files["ref"])]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["panel_id"] == "B-ALL" and info["training_samples"] == 3
    assert {t["source"].rsplit("/", 1)[-1] for t in info["training"]} == {"normal0.fcs", "normal1.fcs", "normal2.fcs"}
    assert all(len(t["sha256"]) == 64 for t in info["training"])


def test_dfn_with_laip_writes_integrated_rows_and_reports_bad_files(files, tmp_path, capsys):
    broken = tmp_path / "broken.fcs"
    broken.write_bytes(b"FCS3.1    garbage")
    out = tmp_path / "out"
    code = main(["dfn", str(files["follow"]), str(files["aml"]), str(broken), "--reference", str(files["ref"]),
                 "--out", str(out), "--laip", str(files["laip"])])
    assert code == 1  # two of three files failed, the good one finished
    res = pd.read_csv(out / "dfn_results.csv")
    assert res.sample_id.tolist() == ["followup"]
    truth = pd.read_parquet(files["truth"])
    row = res.iloc[0]
    assert abs(row.dfn_events - truth.is_leukemic.sum()) <= 0.1 * truth.is_leukemic.sum()
    assert row.agreement == "both positive" and row.integrated_events >= row.dfn_events
    assert row.both_events + row.laip_only_events == row.laip_events
    errs = pd.read_csv(out / "dfn_errors.csv")
    assert set(errs.sample_id) == {"aml", "broken"}
    assert "CD58" in errs.set_index("sample_id").error["aml"]
    assert (out / "plots" / "followup_dfn.png").stat().st_size > 10_000
    pops = pd.read_csv(out / "dfn_populations.csv")
    assert pops.events.sum() == row.dfn_events
    assert "broken.fcs" in capsys.readouterr().err


def test_tampered_reference_is_one_clean_error(files, tmp_path, capsys):
    data = bytearray(files["ref"].read_bytes())
    i = data.index(b'"threshold"')
    j = data.index(b'"', i + 14)
    data[i + 14 : j] = b"9" * (j - i - 14)  # same length: the zip stays readable
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(data))
    capsys.readouterr()
    code = main(["dfn", str(files["follow"]), "--reference", str(bad), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "bad.npz" in err and ("modified or corrupted" in err or "not a readable" in err)


def test_flow_with_reference_adds_dfn_and_integrated_rows(files, tmp_path, monkeypatch):
    import mrdquant.mfc.preparation as preparation

    calls = []
    real_prepare = preparation.prepare
    monkeypatch.setattr(preparation, "prepare", lambda *a, **k: calls.append(1) or real_prepare(*a, **k))
    out = tmp_path / "flow"
    code = main(["flow", str(files["follow"]), "--panel", "B-ALL", "--reference", str(files["ref"]),
                 "--out", str(out), "--no-plots", "--no-progress"])
    assert code == 0
    assert len(calls) == 1  # the file is prepared once for the LAIP and the DfN call
    # the same LAIP result as flow without a reference
    assert main(["flow", str(files["follow"]), "--panel", "B-ALL", "--out", str(tmp_path / "plain"),
                 "--no-plots", "--no-progress"]) == 0
    plain = pd.read_csv(tmp_path / "plain" / "mfc_results.csv")
    mfc = pd.read_csv(out / "mfc_results.csv")
    dfn = pd.read_csv(out / "dfn_results.csv")
    assert dfn.sample_id.tolist() == mfc.sample_id.tolist()
    row = dfn.iloc[0]
    assert row.laip_events == mfc.laip_events.iloc[0]
    assert mfc[["laip_events", "denominator_events", "status"]].equals(plain[["laip_events", "denominator_events", "status"]])
    assert row.integrated_events == row.laip_events + row.dfn_only_events
    assert row.agreement == "both positive"
    truth = pd.read_parquet(files["truth"])
    assert abs(row.dfn_events - truth.is_leukemic.sum()) <= 0.1 * truth.is_leukemic.sum()


def test_flow_with_reference_of_another_panel_is_a_usage_error(files, tmp_path, capsys):
    code = main(["flow", str(files["aml"]), "--panel", "AML", "--reference", str(files["ref"]),
                 "--out", str(tmp_path / "o"), "--no-plots", "--no-progress"])
    assert code == 2 and "fitted for panel 'B-ALL'" in capsys.readouterr().err


def test_channel_option_maps_a_marker_the_files_leave_unnamed(files, tmp_path, capsys):
    from mrdquant.io.fcs import read_fcs, write_fcs

    def blank_cd58(src, dst):
        s = read_fcs(src)
        marks = ["" if m == "CD58" else m for m in s.markers]
        write_fcs(dst, s.events, s.channels, markers=marks, spillover=s.spillover)
        return dst, s.channels[s.markers.index("CD58")]

    normals = [blank_cd58(files["dir"] / f"normal{i}.fcs", tmp_path / f"n{i}.fcs")[0] for i in range(3)]
    follow, ch = blank_cd58(files["follow"], tmp_path / "followup.fcs")
    ref = tmp_path / "ref.npz"
    assert main(["reference", "fit", *map(str, normals), "--panel", "B-ALL", "--out", str(ref)]) == 2
    assert "CD58" in capsys.readouterr().err
    assert main(["reference", "fit", *map(str, normals), "--panel", "B-ALL", "--out", str(ref),
                 "--channel", f"CD58={ch}"]) == 0
    code = main(["dfn", str(follow), "--reference", str(ref), "--out", str(tmp_path / "o"), "--no-plots",
                 "--channel", f"CD58={ch}"])
    assert code == 0
    row = pd.read_csv(tmp_path / "o" / "dfn_results.csv").iloc[0]
    # the same events as the named files give
    assert main(["dfn", str(files["follow"]), "--reference", str(files["ref"]), "--out", str(tmp_path / "p"),
                 "--no-plots"]) == 0
    assert row.dfn_events == pd.read_csv(tmp_path / "p" / "dfn_results.csv").dfn_events.iloc[0] > 0


def test_flow_with_reference_writes_the_dfn_figure_beside_the_gating_page(files, tmp_path):
    out = tmp_path / "flow"
    assert main(["flow", str(files["follow"]), "--panel", "B-ALL", "--reference", str(files["ref"]),
                 "--out", str(out), "--no-progress"]) == 0
    dfn = pd.read_csv(out / "dfn_results.csv")
    assert dfn["dfn_populations"].iloc[0] >= 1
    stem = files["follow"].stem
    assert sorted(p.name for p in (out / "plots").glob("*.png")) == [f"{stem}.png", f"{stem}_dfn.png"]

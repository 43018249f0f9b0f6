"""FlowJo workspaces of placed gates: read back with flowkit and with mrdquant's FlowJo reader,
every exported population holds exactly the events the MfcResult counted."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mrdquant
from mrdquant.cytometry.gating import GatingStrategy
from mrdquant.errors import InputError
from mrdquant.io.fcs import FlowSample, read_fcs, write_fcs
from mrdquant.mfc.flowjo import _Cond, _l_vertices, export_flowjo, flowjo_gate_table, flowjo_name
from mrdquant.simulate.flow import simulate_bone_marrow, write_bone_marrow_fcs
from tests.mfc._clog import clogged_events

fk = pytest.importorskip("flowkit")

REAL = "fcs_real/fcsparser__facs_diva_test.fcs"


def _flowkit_counts(wsp, fcs) -> dict:
    """Event count of every population, by FlowJo path, as flowkit gates the workspace."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ws = fk.Workspace(str(wsp), fcs_samples=[str(fcs)], filename_as_id=True)
        ws.analyze_samples(use_mp=False)
        rep = ws.get_analysis_report()
    paths = ["/".join([*(x for x in gp if x != "root"), g]) for g, gp in zip(rep["gate_name"], rep["gate_path"])]
    return dict(zip(paths, rep["count"].astype(int)))


def _check_roundtrip(result, fcs, wsp):
    """Both readers give the result's count (and, for mrdquant's, its events) for every gate."""
    table = flowjo_gate_table(result)
    fkc = _flowkit_counts(wsp, fcs)
    regated = GatingStrategy.from_flowjo(wsp, sample_id=fcs.name).gate(read_fcs(fcs))
    exported = table[table["flowjo_gate"] != "skipped"]
    assert len(exported) >= 8
    for row in exported.itertuples(index=False):
        assert fkc[row.flowjo_path] == row.events, (row.gate, "flowkit")
        assert regated.count(row.flowjo_path) == row.events, (row.gate, "mrdquant")
        np.testing.assert_array_equal(regated.membership(row.flowjo_path), result.gate_masks[row.gate],
                                      err_msg=row.gate)
    laip = table.set_index("gate").loc["LAIP"]
    assert fkc[laip.flowjo_path] == result.laip_events == laip.events
    # a skipped step's events are its parent population's
    for row in table[table["flowjo_gate"] == "skipped"].itertuples(index=False):
        expect = row.events if row.flowjo_path else result.provenance["n_events"]
        assert row.events == expect and (not row.flowjo_path or fkc[row.flowjo_path] == row.events)
    return table, fkc


@pytest.fixture(scope="module")
def b_all(tmp_path_factory):
    d = tmp_path_factory.mktemp("fj")
    fcs, _ = write_bone_marrow_fcs(d / "p7_d30.fcs", "B-ALL", 60_000, mrd_fraction=3e-3, seed=11)
    return fcs, mrdquant.quantify_mfc(fcs, "B-ALL")


def test_simulated_b_all_workspace_counts_equal_the_result(b_all, tmp_path):
    fcs, r = b_all
    wsp = mrdquant.export_flowjo(r, fcs, tmp_path / "out" / "p7.wsp")
    assert wsp.exists() and not list(wsp.parent.glob(".*.part"))
    table, fkc = _check_roundtrip(r, fcs, wsp)
    t = table.set_index("gate")
    # the LAIP (CD34+ & CD10+ & CD38dim, then CD58bright or CD45dim) is a chain FlowJo can draw
    assert t.loc["LAIP", "flowjo_path"].endswith(
        "CD19+/LAIP (CD34+ & CD10+)/LAIP (CD34+ & CD10+ & CD38dim)/LAIP")
    assert t.loc["LAIP", "flowjo_gate"] == "polygon"
    assert t.loc["CD10+", "flowjo_path"] == t.loc["CD19+", "flowjo_path"] + "/CD10+"  # names kept as they are
    assert 0 < r.laip_events < fkc[t.loc["CD19+", "flowjo_path"]]
    # each step of the chain holds the AND of the gates it names
    m = r.gate_masks
    cd19 = t.loc["CD19+", "flowjo_path"]
    assert fkc[cd19 + "/LAIP (CD34+ & CD10+)"] == int((m["CD34+"] & m["CD10+"]).sum())
    assert fkc[cd19 + "/LAIP (CD34+ & CD10+)/LAIP (CD34+ & CD10+ & CD38dim)"] == int(
        (m["CD34+"] & m["CD10+"] & m["CD38dim"]).sum())
    text = wsp.read_text(encoding="utf-8")
    # the sample carries its own matrix, and marker gates name the compensated channel
    assert text.count('name="Acquisition-defined"') == 2 and 'data-type:name="Comp-PE-A"' in text
    assert fcs.resolve().as_uri() in text


def test_default_sample_is_the_results_input_file(b_all, tmp_path):
    fcs, r = b_all
    wsp = export_flowjo(r, path=tmp_path / "x.wsp")
    assert _flowkit_counts(wsp, fcs)[flowjo_gate_table(r).set_index("gate").loc["LAIP", "flowjo_path"]] \
        == r.laip_events


def test_k_of_n_laip_and_split_time_qc_become_flowjo_or_gates(tmp_path):
    # T-ALL: sCD3dim and 2 of (CD99bright, CD5dim, CD45dim) -> one chain per pair, OR-ed
    fcs, _ = write_bone_marrow_fcs(tmp_path / "t.fcs", "T-ALL", 40_000, mrd_fraction=1e-2, seed=5)
    r = mrdquant.quantify_mfc(fcs, "T-ALL")
    wsp = export_flowjo(r, fcs, tmp_path / "t.wsp")
    table, _ = _check_roundtrip(r, fcs, wsp)
    assert table.set_index("gate").loc["LAIP", "flowjo_gate"] == "or"
    assert wsp.read_text(encoding="utf-8").count("<OrNode") == 1
    # B-ALL with a partial clog mid-run: time QC keeps two intervals -> OR of two range gates
    s, _ = simulate_bone_marrow("B-ALL", n_events=60_000, mrd_fraction=3e-3, seed=7)
    ev, _ = clogged_events(s)
    clog = tmp_path / "clog.fcs"
    write_fcs(clog, ev, s.channels, markers=s.markers, spillover=s.spillover, metadata=s.metadata)
    r2 = mrdquant.quantify_mfc(clog, "B-ALL")
    table2, fkc2 = _check_roundtrip(r2, clog, export_flowjo(r2, clog, tmp_path / "clog.wsp"))
    t2 = table2.set_index("gate")
    assert t2.loc["TimeQC", "flowjo_gate"] == "or"
    assert fkc2["Nucleated/TimeQC interval 1"] + fkc2["Nucleated/TimeQC interval 2"] == t2.loc["TimeQC", "events"]
    assert t2.loc["TimeQC", "events"] < t2.loc["Nucleated", "events"]


def test_real_facsdiva_file_workspace_counts_equal_the_result(shared_data, tmp_path):
    fcs = shared_data / REAL
    r = mrdquant.quantify_mfc(fcs, "B-ALL", channels={"CD58": "APC-Cy7-A"})
    wsp = export_flowjo(r, fcs, tmp_path / "diva.wsp")
    table, fkc = _check_roundtrip(r, fcs, wsp)
    t = table.set_index("gate")
    # measured: 83,409 Syto41+ events, 76,666 denominator, 2 LAIP events
    assert fkc[t.loc["Nucleated", "flowjo_path"]] == 83_409
    assert fkc[t.loc["Viable", "flowjo_path"]] == r.denominator_events == 76_666
    assert t.loc["Singlets", "flowjo_gate"] == "rectangle"  # FSC-W range: the file has no FSC-H
    assert r.laip_events == 2


def test_l_shaped_polygon_is_the_union_of_two_half_planes():
    # x >= 0.6 or y < 0.4, data in [0, 1] x [0.1, 0.9]: the corner x < 0.6, y >= 0.4 is left out
    a = _Cond("A", "A", True, 0.6, None)
    b = _Cond("B", "B", True, None, 0.4)
    v = _l_vertices(a, b, (0.0, 1.0), (0.1, 0.9))
    np.testing.assert_allclose(v, [(0.6, 0.95), (1.05, 0.95), (1.05, 0.05), (-0.05, 0.05), (-0.05, 0.4), (0.6, 0.4)])
    from mrdquant.cytometry.gates import polygon_mask

    pts = np.array([[0.7, 0.8], [0.2, 0.2], [0.2, 0.8], [0.59, 0.41], [0.61, 0.39]])
    inside = polygon_mask(pts[:, 0], pts[:, 1], np.array(v), parent=np.ones(5, dtype=bool))
    assert list(inside) == [True, True, False, False, True]


def test_names_are_kept_and_slashes_replaced():
    assert flowjo_name("CD10+") == "CD10+"
    assert flowjo_name("CD4/CD8") == "CD4|CD8"


def test_a_result_without_gates_is_refused_with_its_reason(tmp_path):
    s, _ = simulate_bone_marrow("B-ALL", n_events=500, mrd_fraction=1e-2, seed=1)
    f = tmp_path / "tiny.fcs"
    write_fcs(f, s.events, s.channels, markers=s.markers, spillover=s.spillover)
    r = mrdquant.quantify_mfc(f, "B-ALL")
    assert r.status == "not evaluable"
    with pytest.raises(InputError, match=r"'tiny.fcs': no gates were placed \(not evaluable: the file has 500"):
        export_flowjo(r, f, tmp_path / "tiny.wsp")
    assert not (tmp_path / "tiny.wsp").exists()


def test_another_file_combined_tubes_and_no_path_are_refused(b_all, tmp_path):
    fcs, r = b_all
    other, _ = write_bone_marrow_fcs(tmp_path / "other.fcs", "B-ALL", 5_000, mrd_fraction=0.0, seed=3)
    with pytest.raises(InputError, match=r"other.fcs: not the file MFC result 'p7_d30.fcs' was computed from"):
        export_flowjo(r, other, tmp_path / "o.wsp")
    with pytest.raises(InputError, match="several tubes"):
        export_flowjo(mrdquant.mfc.combine_tubes([r, r]), fcs, tmp_path / "c.wsp")
    with pytest.raises(InputError, match="path: the .wsp file to write is required"):
        export_flowjo(r, fcs)
    with pytest.raises(InputError, match="expected an MfcResult"):
        export_flowjo("p7.fcs", fcs, tmp_path / "s.wsp")
    mem = FlowSample.from_array(read_fcs(fcs).events, read_fcs(fcs).channels)
    with pytest.raises(InputError, match="the sample has no file"):
        export_flowjo(r, mem, tmp_path / "m.wsp")


def test_a_panel_transform_flowjo_lacks_puts_marker_gates_in_raw_units(tmp_path):
    """flowkit writes only logicle/linear axes; an asinh panel's gates go in raw compensated
    units on FlowJo's default axis and count the same events."""
    import dataclasses

    from mrdquant.mfc.panels import load_panel

    p = dataclasses.replace(load_panel("B-ALL"), transform={"kind": "asinh", "T": 262144.0, "M": 4.5, "A": 0.0})
    fcs, _ = write_bone_marrow_fcs(tmp_path / "a.fcs", "B-ALL", 30_000, mrd_fraction=1e-2, seed=2)
    r = mrdquant.quantify_mfc(fcs, p)
    wsp = export_flowjo(r, fcs, tmp_path / "a.wsp", panel=p)
    _check_roundtrip(r, fcs, wsp)
    assert "transforms:logicle" not in wsp.read_text(encoding="utf-8")


def test_a_changed_panel_is_refused(b_all, tmp_path):
    import dataclasses

    fcs, r = b_all
    stale = dataclasses.replace(r, provenance={**r.provenance, "panel_hash": "0" * 64})
    with pytest.raises(InputError, match=r"panel '.*' changed since the result was made .*the result's 000000000000"):
        export_flowjo(stale, fcs, tmp_path / "s.wsp")


def test_singlet_polygon_is_cut_to_the_data_without_changing_its_events():
    from mrdquant.mfc.flowjo import _clip_above

    big = 1e7
    poly = [(0.0, 0.0), (big, 0.5 * big), (big, 100 * big), (0.0, 100 * big)]
    # cut at x <= 1000, y <= 2000: the ratio edge ends at (1000, 500), the top at y = 2000
    np.testing.assert_allclose(_clip_above(poly, 1000.0, 2000.0),
                               [(0.0, 2000.0), (0.0, 0.0), (1000.0, 500.0), (1000.0, 2000.0)])
    # a low y limit cuts the ratio edge first (at 300 / 0.5 = 600): a triangle
    np.testing.assert_allclose(_clip_above(poly, 1000.0, 300.0), [(0.0, 300.0), (0.0, 0.0), (600.0, 300.0)])
    from mrdquant.cytometry.gates import polygon_mask

    rng = np.random.default_rng(0)
    x, y = rng.uniform(-50, 1000, 5000), rng.uniform(-50, 300, 5000)
    ones = np.ones(5000, dtype=bool)
    np.testing.assert_array_equal(polygon_mask(x, y, np.array(poly), parent=ones),
                                  polygon_mask(x, y, np.array(_clip_above(poly, 1000.0, 300.0)), parent=ones))


def test_a_file_without_spillover_gets_no_matrix(tmp_path):
    s, _ = simulate_bone_marrow("B-ALL", n_events=30_000, mrd_fraction=1e-2, seed=4)
    fcs = tmp_path / "nocomp.fcs"
    write_fcs(fcs, s.events, s.channels, markers=s.markers)
    r = mrdquant.quantify_mfc(fcs, "B-ALL")
    wsp = export_flowjo(r, fcs, tmp_path / "nocomp.wsp")
    _check_roundtrip(r, fcs, wsp)
    text = wsp.read_text(encoding="utf-8")
    assert "spilloverMatrix" not in text and "Comp-" not in text and 'data-type:name="PE-A"' in text


def test_patient_laip_result_exports_with_the_panels_transform(b_all, tmp_path):
    from mrdquant.mfc import derive_laip

    fcs, _ = b_all
    dx, _ = simulate_bone_marrow("B-ALL", n_events=60_000, mrd_fraction=0.2, seed=5)
    pl = derive_laip(dx, "B-ALL", patient_id="P7")
    r = mrdquant.quantify_mfc(fcs, "B-ALL", laip=pl)
    assert "patient LAIP" in r.provenance["laip_source"]
    wsp = export_flowjo(r, fcs, tmp_path / "p7_patient.wsp")
    table, fkc = _check_roundtrip(r, fcs, wsp)
    assert fkc[table.set_index("gate").loc[r.provenance["laip"], "flowjo_path"]] == r.laip_events


def test_a_prepared_tube_lends_its_values_and_gives_the_same_populations(b_all, tmp_path):
    from mrdquant.mfc.quantify import prepare_tube

    fcs, r = b_all
    ps = prepare_tube(fcs, "B-ALL")
    wsp = export_flowjo(r, ps, tmp_path / "p.wsp")
    _check_roundtrip(r, fcs, wsp)
    # the same workspace as from the file (axis ranges from the same compensated values),
    # but for the time of writing FlowJo's header records
    import re

    def undated(path):
        return re.sub(rb'modDate="[^"]*"', b"", path.read_bytes())

    assert undated(wsp) == undated(export_flowjo(r, fcs, tmp_path / "f.wsp"))


def test_an_explicit_panel_other_than_the_results_is_refused(b_all, tmp_path):
    fcs, r = b_all
    with pytest.raises(InputError, match=r"'p7_d30.fcs': panel 'PUIH B-ALL' \(\w{12}\) is not the one the result "
                                         r"was made with \('B-ALL'"):
        export_flowjo(r, fcs, tmp_path / "x.wsp", panel="PUIH B-ALL")

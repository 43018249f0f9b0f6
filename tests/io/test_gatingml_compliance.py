"""Gating-ML 2.0 compliance: every truth file of the ISAC set 1, event for event.

The truth files (``gatingml2/truth/Results_<GateId>.txt``) list one 0/1 per event of
``data1.fcs``; they come from the official compliance suite, not from this package.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mrdquant.cytometry import gating as gating_mod
from mrdquant.cytometry.gating import GatingStrategy
from mrdquant.errors import GatingError, GatingMLError
from mrdquant.io.fcs import read_fcs
from mrdquant.io.gatingml import read_gatingml


@pytest.fixture(scope="module")
def gml_dir(shared_data) -> Path:
    return shared_data / "gatingml2"


@pytest.fixture(scope="module")
def data1(gml_dir):
    return read_fcs(gml_dir / "data1.fcs")


def _truth(gml_dir: Path, gate_id: str):
    name = "ParQuadRect" if gate_id == "ParRectangle1" else gate_id
    path = gml_dir / "truth" / f"Results_{name}.txt"
    if not path.exists():
        return None, path.name
    return pd.read_csv(path, header=None, dtype=bool).squeeze("columns").to_numpy(), path.name


def _xml_files(gml_dir: Path) -> list:
    return sorted(p for p in (gml_dir / "gml").glob("*.xml") if p.name != "gml_range_gate_attr_testing.xml")


@pytest.mark.parametrize("chunk", [None, 1000])
def test_every_truth_file_is_reproduced(gml_dir, data1, chunk, monkeypatch):
    if chunk is not None:  # stream the 13,367 events in 14 chunks: domains and parents cross chunks
        monkeypatch.setattr(gating_mod, "_CHUNK", chunk)
        monkeypatch.setattr(gating_mod, "_MAX_CHUNKS", 10**9)
    covered = set()
    checked = 0
    for xml in _xml_files(gml_dir):
        strategy = GatingStrategy.from_gatingml(xml)
        result = strategy.gate(data1)
        for gid in strategy.gate_ids:
            truth, name = _truth(gml_dir, gid)
            if truth is None:
                continue
            got = result.membership(gid)
            assert got.shape == truth.shape
            diff = int(np.count_nonzero(got != truth))
            assert diff == 0, f"{xml.name}: gate {gid}: {diff} events differ from {name}"
            covered.add(name)
            checked += 1
    all_truth = {p.name for p in (gml_dir / "truth").glob("Results_*.txt")}
    assert len(all_truth) == 51
    assert covered == all_truth
    assert checked >= 51


def test_published_counts_and_percentages(gml_dir, data1):
    # counts of 1s in the truth files, as listed in the compliance data README
    r = GatingStrategy.from_gatingml(gml_dir / "gml" / "gml_parent_quadrant_rect_gate.xml").gate(data1)
    c = r.counts().set_index("gate")
    assert c.loc["FL2P-FL4P", "count"] == 620
    assert c.loc["ParRectangle1", "count"] == 3
    assert c.loc["ParRectangle1", "parent"] == "FL2P-FL4P"
    assert c.loc["ParRectangle1", "gate_path"] == "/Quadrant1/FL2P-FL4P/ParRectangle1"
    assert c.loc["ParRectangle1", "percent_parent"] == pytest.approx(100 * 3 / 620)
    assert c.loc["FL2N-FL4N", "percent_root"] == pytest.approx(100 * 5148 / 13367)
    # the four quadrants partition the events
    assert sum(c.loc[q, "count"] for q in ("FL2P-FL4P", "FL2N-FL4P", "FL2N-FL4N", "FL2P-FL4N")) == 13367


def test_round_trip_export_import_identical(gml_dir, data1, tmp_path):
    for xml in _xml_files(gml_dir):
        a = GatingStrategy.from_gatingml(xml)
        out = a.to_gatingml(tmp_path / xml.name)
        b = GatingStrategy.from_gatingml(out)
        assert a.gate_paths == b.gate_paths
        ra, rb = a.gate(data1), b.gate(data1)
        np.testing.assert_array_equal(ra.masks, rb.masks, err_msg=xml.name)
        assert read_gatingml(out).transforms == read_gatingml(xml).transforms


def test_non_standard_wrapper_element_is_refused(gml_dir):
    with pytest.raises(GatingMLError, match="unsupported Gating-ML construct 'sample'"):
        GatingStrategy.from_gatingml(gml_dir / "gml" / "gml_range_gate_attr_testing.xml")


def test_events_returns_processed_values(gml_dir, data1):
    s = GatingStrategy.from_gatingml(gml_dir / "gml" / "gml_matrix_transform_logicle_rect1_gate.xml")
    r = s.gate(data1)
    ev = r.events("ScaleRect1")
    assert len(ev) == 809
    g = s.gates[0]
    for d, lo, hi in zip(g.dimensions, g.mins, g.maxs):
        col = ev[d.label].to_numpy()
        assert np.all(col >= lo) and np.all(col < hi)


def test_nilsson_scatter_gates_and_why_the_labels_cannot_be_reproduced(shared_data):
    """Nilsson bone marrow, HSC labels (358 events).

    The file holds only the 44,140 events Cytobank kept after the single-cell,
    non-debris and live gates, with fluorescence already asinh(x/150)-transformed and
    its channels renamed to markers ($PnN = CD34, CD38, ...); the Gating-ML file names
    the detectors (PE-A, APC-A, ...) and uses ``compensation-ref="FCS"``, i.e. the
    acquisition file's spillover matrix. The FCS file has no $SPILL keyword and no
    detector names, so the fluorescence gates cannot be evaluated on it as written:

    1. the scatter polygons (uncompensated, untransformed) do apply and keep all 44,140
       events, which is how the file was made;
    2. gating as written fails with a GatingError naming the missing detector;
    3. the stored values are *uncompensated*: four different detectors (PE-Texas Red-A,
       APC-Cy7-A, PE-Cy7-A, APC-A) admit only the same marker column (CD110) as one
       whose values keep all 358 HSCs inside the gate's range, so no one-to-one channel
       mapping reproduces the labels; the compensated values Cytobank gated are gone.
    """
    real = shared_data / "fcs_real"
    sample = read_fcs(real / "ob-flow-datasets__Nilsson_rare.fcs")
    xml = real / "ob-flow-datasets__GatingML_Nilsson_rare.xml"
    strategy = GatingStrategy.from_gatingml(xml)
    assert len(strategy.gate_ids) == 18
    label = sample.events[:, sample.channel_index("label")] == 1
    assert label.sum() == 358

    doc = read_gatingml(xml)
    polys = [g for g in doc.gates if g["type"] == "polygon"]
    scatter = GatingStrategy.from_document(type(doc)(gates=polys, source=str(xml)))
    r = scatter.gate(sample)
    for g in polys:
        assert r.count(g["id"]) == 44_140

    with pytest.raises(GatingError, match="PE-Texas Red-A"):
        strategy.gate(sample)

    markers = sample.channels[4:18]
    only = {}
    for g in doc.gates:
        if g["type"] != "rectangle":
            continue
        for d in g["dimensions"]:
            fits = []
            for m in markers:
                x = sample.events[label, sample.channel_index(m)].astype(np.float64)
                if np.all((x >= d["min"]) & (x < d["max"])):
                    fits.append(m)
            if len(fits) == 1:
                only.setdefault(fits[0], set()).add(d["name"])
    assert only.get("CD110") == {"PE-Texas Red-A", "APC-Cy7-A", "PE-Cy7-A", "APC-A"}

"""FlowJo workspace import: a workspace written by flowkit's FlowJo exporter reads back
into a strategy whose memberships equal the original's, event for event.

flowkit's exporter writes gate coordinates in data units and per-channel logicle
transforms (FlowJo's layout); the import must bring them back to the transformed scale.
The exporter drops compensation references, so the strategy here gates uncompensated
channels.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from mrdquant.cytometry.gates import Dimension, PolygonGate, RectangleGate
from mrdquant.cytometry.gating import GatingStrategy
from mrdquant.cytometry.transforms import LogicleTransform
from mrdquant.errors import GatingMLError
from mrdquant.io.fcs import read_fcs, write_fcs

CHANNELS = ["FSC-A", "SSC-A", "FL1-A", "FL2-A", "FL3-A"]


@pytest.fixture()
def workspace(tmp_path):
    fk = pytest.importorskip("flowkit")
    rng = np.random.default_rng(42)
    n = 3000
    ev = np.c_[rng.uniform(0, 1000, n), rng.uniform(0, 1000, n),
               rng.lognormal(5, 1.5, (n, 3)) - 50].astype(np.float32)
    spill = pd.DataFrame([[1, 0.1, 0.02], [0.05, 1, 0.1], [0.0, 0.04, 1]],
                         index=CHANNELS[2:], columns=CHANNELS[2:], dtype=float)
    fcs = tmp_path / "tube.fcs"
    write_fcs(fcs, ev, CHANNELS, spillover=spill)
    lg = LogicleTransform(T=262144, W=0.5, M=4.5, A=0)
    strat = GatingStrategy([
        RectangleGate("cells", [Dimension("FSC-A"), Dimension("SSC-A")], [100, 50], [900, 950]),
        PolygonGate("blasts", [Dimension("FL1-A", transform="lg"), Dimension("SSC-A")],
                    [(0.3, 100), (0.8, 100), (0.8, 700), (0.3, 500)], parent="cells"),
        RectangleGate("pos", [Dimension("FL2-A", transform="lg")], [0.45], [None], parent="blasts"),
        RectangleGate("pos2", [Dimension("FL2-A", transform="lg")], [0.45], [None], parent="cells"),
    ], transforms={"lg": lg})
    xml = strat.to_gatingml(tmp_path / "s.xml")
    sample = fk.Sample(str(fcs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gs = fk.parse_gating_xml(str(xml))
        session = fk.Session(gating_strategy=gs, fcs_samples=[sample])
        wsp = tmp_path / "tube.wsp"
        with open(wsp, "wb") as fh:
            session.export_wsp(fh, "All Samples")
    return wsp, fcs, strat, sample.id


def test_flowjo_import_reproduces_memberships(workspace):
    wsp, fcs, original, sid = workspace
    imported = GatingStrategy.from_flowjo(wsp, sample_id=sid)
    sample = read_fcs(fcs)
    a = original.gate(sample)
    b = imported.gate(sample)
    assert set(imported.gate_ids) == {"cells", "cells/blasts", "cells/blasts/pos", "cells/pos2"}
    for gid, path in (("cells", "cells"), ("blasts", "cells/blasts"), ("pos", "cells/blasts/pos"),
                      ("pos2", "cells/pos2")):
        np.testing.assert_array_equal(a.membership(gid), b.membership(path), err_msg=gid)
    assert 0 < a.count("pos") < a.count("blasts") < a.count("cells")
    # gate names, not path ids, in the counts table; paths keep same-named gates apart
    c = b.counts().set_index("gate_path")
    assert c.loc["/cells/blasts/pos", "gate"] == "pos"
    assert c.loc["/cells/blasts/pos", "parent"] == "blasts"


def test_flowjo_unknown_sample_and_group(workspace, tmp_path):
    wsp, _, _, sid = workspace
    with pytest.raises(GatingMLError, match="no sample 'nope'"):
        GatingStrategy.from_flowjo(wsp, sample_id="nope")
    with pytest.raises(GatingMLError, match="no sample group 'Tubes'"):
        GatingStrategy.from_flowjo(wsp, sample_id=sid, group="Tubes")
    bad = tmp_path / "bad.wsp"
    bad.write_text("<Workspace><broken></Workspace>")
    with pytest.raises(GatingMLError, match="bad.wsp"):
        GatingStrategy.from_flowjo(bad, sample_id=sid)


def _matrix_xml(name: str, spill: pd.DataFrame) -> str:
    dets = list(spill.columns)
    params = "".join(f'<data-type:parameter data-type:name="{d}"/>' for d in dets)
    rows = "".join(
        f'<transforms:spillover data-type:parameter="{r}">'
        + "".join(f'<transforms:coefficient data-type:parameter="{c}" transforms:value="{float(spill.loc[r, c])!r}"/>'
                  for c in dets)
        + "</transforms:spillover>"
        for r in dets
    )
    return (f'<transforms:spilloverMatrix spectral="0" prefix="Comp-" name="{name}" suffix="">'
            f"<data-type:parameters>{params}</data-type:parameters>{rows}</transforms:spilloverMatrix>")


def test_flowjo_compensated_channels_use_the_workspace_matrix(workspace):
    """FlowJo names compensated channels with the matrix prefix (``Comp-FL1-A``)."""
    wsp, fcs, original, sid = workspace
    sample = read_fcs(fcs)
    text = wsp.read_text(encoding="utf-8")
    for ch in ("FL1-A", "FL2-A"):
        text = text.replace(f'fcs-dimension data-type:name="{ch}"', f'fcs-dimension data-type:name="Comp-{ch}"')
    matrix = _matrix_xml("Acquisition-defined", sample.spillover)
    text = text.replace("</Transformations>", "</Transformations>" + matrix, 1)
    comp_wsp = wsp.with_name("comp.wsp")
    comp_wsp.write_text(text, encoding="utf-8")
    imported = GatingStrategy.from_flowjo(comp_wsp, sample_id=sid)
    assert list(imported.matrices) == ["FlowJo matrix"]
    # the same gates, compensated with the file's own spillover
    fcs_comp = GatingStrategy([_with_fcs_comp(g) for g in original.gates], transforms=original.transforms)
    a = fcs_comp.gate(sample)
    b = imported.gate(sample)
    for gid, path in (("cells", "cells"), ("blasts", "cells/blasts"), ("pos", "cells/blasts/pos")):
        np.testing.assert_array_equal(a.membership(gid), b.membership(path), err_msg=gid)
    assert a.count("pos") != original.gate(sample).count("pos")  # compensation changed the result


def _with_fcs_comp(gate):
    from dataclasses import replace

    from mrdquant.cytometry.gates import Dimension as D

    dims = [D(d.channel, "FCS", d.transform) if d.channel.startswith("FL") else d for d in gate.dimensions]
    return replace(gate, dimensions=dims)

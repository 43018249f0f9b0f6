"""Gating-ML writer/reader: property-based round trips (bit-exact numbers)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mrdquant.io.gatingml import GatingMLDocument, read_gatingml, write_gatingml

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
names = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789", min_size=1, max_size=8)


def _dim(name, lo=None, hi=None, comp="uncompensated", transform=None):
    return {"name": name, "compensation": comp, "transform": transform, "ratio": False, "min": lo, "max": hi}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lo=finite, hi=st.none() | finite, verts=st.lists(st.tuples(finite, finite), min_size=3, max_size=8),
       ch=names, t=st.floats(1.0, 1e6), w=st.floats(0.0, 2.0))
def test_write_read_round_trip(tmp_path_factory, lo, hi, verts, ch, t, w):
    doc = GatingMLDocument(
        transforms={"L": {"type": "logicle", "T": t, "W": w, "M": 4.5, "A": 0.0},
                    "R": {"type": "fratio", "A": 1.5, "B": -w, "C": t, "dimensions": (ch, "FL2")}},
        matrices={"M": {"fluorochromes": ("F1", "F2"), "detectors": (ch, "FL2"),
                        "values": np.array([[1.0, w], [lo % 1.0, 1.0]])}},
        gates=[
            {"id": "g1", "parent": None, "type": "rectangle", "dimensions": [_dim(ch, lo, hi, "M", "L")]},
            {"id": "g2", "parent": "g1", "type": "polygon", "dimensions": [_dim(ch), _dim("FL2", comp="FCS")],
             "vertices": np.array(verts, dtype=float)},
            {"id": "g3", "parent": None, "type": "boolean", "op": "or", "refs": [("g1", True), ("g2", False)]},
        ],
    )
    path = write_gatingml(doc, tmp_path_factory.mktemp("gml") / "d.xml")
    back = read_gatingml(path)
    assert back.transforms == doc.transforms
    assert back.matrices["M"]["detectors"] == (ch, "FL2")
    np.testing.assert_array_equal(back.matrices["M"]["values"], doc.matrices["M"]["values"])
    g1, g2, g3 = back.gates
    assert g1["dimensions"][0] == _dim(ch, lo, hi, "M", "L")
    assert g2["parent"] == "g1"
    np.testing.assert_array_equal(g2["vertices"], np.array(verts, dtype=float))
    assert g3["op"] == "or" and g3["refs"] == [("g1", True), ("g2", False)]


_HEAD = ('<?xml version="1.0" encoding="UTF-8"?><gating:Gating-ML '
         'xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating" '
         'xmlns:transforms="http://www.isac-net.org/std/Gating-ML/v2.0/transformations" '
         'xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes">')
_DIM = ('<gating:dimension gating:compensation-ref="uncompensated" gating:min="1">'
        '<data-type:fcs-dimension data-type:name="FSC-H"/></gating:dimension>')


@pytest.mark.parametrize("body, message", [
    (f'<gating:RectangleGate gating:id="R1">{_DIM}<gating:weird/></gating:RectangleGate>',
     "gate 'R1': unsupported element 'weird'"),
    ('<transforms:transformation transforms:id="T1"><transforms:splitscale transforms:T="1"/>'
     '</transforms:transformation>', "transformation 'T1': unsupported function 'splitscale'"),
    ('<transforms:transformation transforms:id="T1"><transforms:logicle transforms:T="1" transforms:W="0.5" '
     'transforms:M="4.5"/></transforms:transformation>', "'T1' \\(logicle\\) lacks parameter A"),
    (f'<gating:RectangleGate gating:id="R1" gating:parent_id="nope">{_DIM}</gating:RectangleGate>',
     "gate 'R1': parent 'nope'"),
    (f'<gating:RectangleGate gating:id="R1">{_DIM}</gating:RectangleGate>'
     f'<gating:RectangleGate gating:id="R1">{_DIM}</gating:RectangleGate>', "duplicate gate id 'R1'"),
    ('<gating:BooleanGate gating:id="B1"><gating:xor><gating:gateReference gating:ref="R1"/></gating:xor>'
     '</gating:BooleanGate>', "gate 'B1'.*and/or/not"),
    ('<gating:PolygonGate gating:id="P1">' + _DIM.replace(' gating:min="1"', '') * 2
     + '<gating:vertex><gating:coordinate data-type:value="1"/><gating:coordinate data-type:value="x"/>'
     '</gating:vertex></gating:PolygonGate>', "gate 'P1' vertex: coordinate: expected a number"),
    (f'<gating:RectangleGate gating:id="R1">{_DIM.replace("uncompensated", "Spill9")}</gating:RectangleGate>',
     "compensation 'Spill9'"),
])
def test_unsupported_or_broken_constructs_name_gate_and_construct(tmp_path, body, message):
    from mrdquant.cytometry.gating import GatingStrategy
    from mrdquant.errors import GatingMLError

    path = tmp_path / "bad.xml"
    path.write_text(_HEAD + body + "</gating:Gating-ML>", encoding="utf-8")
    with pytest.raises(GatingMLError, match=message) as info:
        GatingStrategy.from_gatingml(path)
    assert "bad.xml" in str(info.value)


def test_not_xml_and_missing_file(tmp_path):
    from mrdquant.errors import GatingMLError

    bad = tmp_path / "x.xml"
    bad.write_text("<gating:Gating-ML", encoding="utf-8")
    with pytest.raises(GatingMLError, match="not well-formed XML"):
        read_gatingml(bad)
    with pytest.raises(GatingMLError, match="cannot be read"):
        read_gatingml(tmp_path / "missing.xml")
    other = tmp_path / "other.xml"
    other.write_text("<root/>", encoding="utf-8")
    with pytest.raises(GatingMLError, match="expected gating:Gating-ML"):
        read_gatingml(other)

"""The bundled B-ALL LAIP gating strategy, written as Gating-ML 2.0.

Gate tree (ids in brackets; fluorescence compensated with the file's ``$SPILLOVER``
(``compensation-ref="FCS"``) and logicle-transformed, T = 262144, W = 0.5, M = 4.5, A = 0;
scatter linear):

- ``Nucleated``: Syto41 >= 0.45 (logicle) - nucleated cells, debris excluded;
  - ``Singlets``: FSC-H >= 0.785 x FSC-A (polygon on FSC-A/FSC-H) - **MRD denominator**;
    - ``CD19pos``: CD19 >= 0.45 and SSC-A <= 80,000 - B cells and B blasts;
      - ``CD10hi_CD38lo``: polygon on CD10 vs CD38 (CD10 bright, CD38 dim/negative);
      - ``CD58hi_CD45lo``: polygon on CD45 vs CD58 (CD58 bright, CD45 negative/dim);
      - ``CD34pos``: CD34 >= 0.45;
      - ``LAIP``: Boolean AND of the three - **MRD numerator**.

Hematogones are excluded by CD38 (bright on stage I/II) and CD58/CD45 (stage I CD58
moderate, CD45 dim-positive); mature B cells by CD10 and CD34.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..mfc.panels import load_panel as get_panel
from ..io.store import write_text

__all__ = ["b_all_laip_gatingml", "write_b_all_laip_gatingml", "LAIP_GATE", "DENOMINATOR_GATE"]

LAIP_GATE = "LAIP"
DENOMINATOR_GATE = "Singlets"

_NS = (
    'xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating" '
    'xmlns:transforms="http://www.isac-net.org/std/Gating-ML/v2.0/transformations" '
    'xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)


def _dim(name: str, *, fluorescence: bool, minimum: float | None = None, maximum: float | None = None) -> str:
    attrs = ' gating:compensation-ref="FCS" gating:transformation-ref="logicle"' if fluorescence else ' gating:compensation-ref="uncompensated"'
    if minimum is not None:
        attrs += f' gating:min="{minimum}"'
    if maximum is not None:
        attrs += f' gating:max="{maximum}"'
    return f'      <gating:dimension{attrs}>\n        <data-type:fcs-dimension data-type:name="{name}"/>\n      </gating:dimension>\n'


def _polygon(gate_id: str, parent: str, x: str, y: str, vertices, *, fluorescence: bool) -> str:
    out = f'  <gating:PolygonGate gating:id="{gate_id}" gating:parent_id="{parent}">\n'
    out += _dim(x, fluorescence=fluorescence) + _dim(y, fluorescence=fluorescence)
    for vx, vy in vertices:
        out += (
            "      <gating:vertex>\n"
            f'        <gating:coordinate data-type:value="{vx}"/>\n'
            f'        <gating:coordinate data-type:value="{vy}"/>\n'
            "      </gating:vertex>\n"
        )
    return out + "  </gating:PolygonGate>\n"


def b_all_laip_gatingml(panel: str = "B-ALL") -> str:
    """Gating-ML 2.0 text of the B-ALL LAIP strategy for a B-ALL panel's channel names."""
    p = get_panel(panel)
    ch = p.channel_for
    full = 262143
    ratio = 0.785
    doc = f'<?xml version="1.0" encoding="UTF-8"?>\n<gating:Gating-ML {_NS}>\n'
    doc += (
        '  <transforms:transformation transforms:id="logicle">\n'
        '    <transforms:logicle transforms:T="262144" transforms:W="0.5" transforms:M="4.5" transforms:A="0"/>\n'
        "  </transforms:transformation>\n"
    )
    # the marker each channel carries, so `mrdquant gate` can refuse a tube with other stains
    doc += "  <data-type:custom_info>\n"
    for c in p.fluorescence:
        doc += f'    <mrdquant:channel xmlns:mrdquant="urn:mrdquant:gating-ml:markers" name="{c.name}" marker="{c.marker}"/>\n'
    doc += "  </data-type:custom_info>\n"
    doc += '  <gating:RectangleGate gating:id="Nucleated">\n'
    doc += _dim(ch("Syto41"), fluorescence=True, minimum=0.45) + "  </gating:RectangleGate>\n"
    doc += _polygon(
        "Singlets",
        "Nucleated",
        "FSC-A",
        "FSC-H",
        [(0, 0), (full, round(ratio * full, 1)), (full, full), (0, full)],
        fluorescence=False,
    )
    doc += '  <gating:RectangleGate gating:id="CD19pos" gating:parent_id="Singlets">\n'
    doc += _dim(ch("CD19"), fluorescence=True, minimum=0.45)
    doc += _dim("SSC-A", fluorescence=False, maximum=80000) + "  </gating:RectangleGate>\n"
    doc += _polygon(
        "CD10hi_CD38lo",
        "CD19pos",
        ch("CD10"),
        ch("CD38"),
        [(0.6, -0.1), (1.1, -0.1), (1.1, 0.68), (0.6, 0.64)],
        fluorescence=True,
    )
    doc += _polygon(
        "CD58hi_CD45lo",
        "CD19pos",
        ch("CD45"),
        ch("CD58"),
        [(-0.1, 0.6), (0.57, 0.6), (0.6, 1.1), (-0.1, 1.1)],
        fluorescence=True,
    )
    doc += '  <gating:RectangleGate gating:id="CD34pos" gating:parent_id="CD19pos">\n'
    doc += _dim(ch("CD34"), fluorescence=True, minimum=0.45) + "  </gating:RectangleGate>\n"
    doc += f'  <gating:BooleanGate gating:id="{LAIP_GATE}" gating:parent_id="CD19pos">\n    <gating:and>\n'
    for ref in ("CD10hi_CD38lo", "CD58hi_CD45lo", "CD34pos"):
        doc += f'      <gating:gateReference gating:ref="{ref}"/>\n'
    doc += "    </gating:and>\n  </gating:BooleanGate>\n</gating:Gating-ML>\n"
    return doc


def write_b_all_laip_gatingml(path: "str | os.PathLike", panel: str = "B-ALL") -> Path:
    """Write :func:`b_all_laip_gatingml` atomically to ``path``."""
    return write_text(b_all_laip_gatingml(panel), path)

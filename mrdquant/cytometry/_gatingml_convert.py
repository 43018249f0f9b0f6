"""Gating-ML documents <-> gating strategies: plain gate specifications to gate objects and back.

:mod:`mrdquant.io.gatingml` (and :mod:`mrdquant.io.flowjo`) translate files into a
:class:`~mrdquant.io.gatingml.GatingMLDocument` of plain values; this module turns such a
document into a compiled :class:`~mrdquant.cytometry.gating.GatingStrategy`
(:func:`strategy_from_document`) and a strategy back into a document
(:func:`strategy_to_document`). Nothing here reads or writes a file.

It is the one module that knows both the document's plain values and the gate classes.
It sits on the cytometry side because imports follow the data flow (``io`` never imports
``cytometry``), so :mod:`mrdquant.io.gatingml` stays a pure XML translator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import GatingMLError, MrdquantError, located
from ..io.gatingml import GatingMLDocument
from .gates import (
    BooleanGate,
    Dimension,
    EllipsoidGate,
    GateReference,
    PolygonGate,
    Quadrant,
    QuadrantDivider,
    QuadrantGate,
    RectangleGate,
)

__all__ = ["strategy_from_document", "strategy_to_document"]


def _dimension(d: dict) -> Dimension:
    return Dimension(d["name"], d["compensation"], d.get("transform"), bool(d.get("ratio", False)))


def _gate(g: dict):
    gid, parent, kind = g["id"], g.get("parent"), g["type"]
    if kind == "rectangle":
        return RectangleGate(gid, [_dimension(d) for d in g["dimensions"]],
                             [d.get("min") for d in g["dimensions"]],
                             [d.get("max") for d in g["dimensions"]], parent)
    if kind == "polygon":
        return PolygonGate(gid, [_dimension(d) for d in g["dimensions"]], g["vertices"], parent)
    if kind == "ellipsoid":
        return EllipsoidGate(gid, [_dimension(d) for d in g["dimensions"]], g["mean"],
                             g["covariance"], g["distance_square"], parent)
    if kind == "quadrant":
        divs = [QuadrantDivider(v["id"], _dimension(v["dimension"]), v["values"]) for v in g["dividers"]]
        quads = [Quadrant(q["id"], q["positions"]) for q in g["quadrants"]]
        return QuadrantGate(gid, divs, quads, parent)
    if kind == "boolean":
        return BooleanGate(gid, g["op"], [GateReference(r, bool(c)) for r, c in g["refs"]], parent)
    raise GatingMLError(f"gate {gid!r}: unsupported gate type {kind!r}")


def strategy_from_document(doc: GatingMLDocument, cls=None):
    """Compile a document's gates, transforms and spectrum matrices.

    Parameters
    ----------
    doc : GatingMLDocument
    cls : type, optional
        The strategy class to build (default :class:`~mrdquant.cytometry.gating.GatingStrategy`).

    Raises
    ------
    GatingMLError
        A transform, gate or reference the strategy cannot take; the message starts with
        the document's source (its file).
    """
    from .transforms import transform_from_dict

    if cls is None:
        from .gating import GatingStrategy as cls
    src = doc.source or "Gating-ML document"
    transforms, ratio_channels = {}, {}
    for tid, spec in doc.transforms.items():
        params = {k: v for k, v in spec.items() if k != "dimensions"}
        try:
            transforms[tid] = transform_from_dict(params)
        except MrdquantError as exc:
            raise GatingMLError(located(src, f"transformation {tid!r}: {exc}")) from exc
        if spec.get("dimensions"):
            ratio_channels[tid] = tuple(spec["dimensions"])
    matrices = {}
    for mid, m in doc.matrices.items():
        matrices[mid] = pd.DataFrame(np.asarray(m["values"], dtype=np.float64),
                                     index=list(m["fluorochromes"]), columns=list(m["detectors"]))
    gates = []
    names = {}
    for g in doc.gates:
        try:
            gates.append(_gate(g))
        except GatingMLError as exc:
            raise GatingMLError(located(src, exc)) from None
        if g.get("name"):
            names[g["id"]] = g["name"]
    try:
        return cls(gates, transforms=transforms, ratio_channels=ratio_channels, matrices=matrices, names=names)
    except GatingMLError as exc:
        raise GatingMLError(located(src, exc)) from None


def _dimension_dict(d: Dimension, **extra) -> dict:
    return {"name": d.channel, "compensation": d.compensation, "transform": d.transform,
            "ratio": d.ratio, **extra}


def strategy_to_document(strategy) -> GatingMLDocument:
    """A strategy's gates, transforms and spectrum matrices as a :class:`GatingMLDocument`."""
    from .transforms import RatioTransform

    doc = GatingMLDocument()
    for tid, t in strategy.transforms.items():
        spec = dict(t.to_dict())
        if isinstance(t, RatioTransform):
            spec["dimensions"] = tuple(strategy.ratio_channels[tid])
        doc.transforms[tid] = spec
    for mid, m in strategy.matrices.items():
        doc.matrices[mid] = {"fluorochromes": tuple(map(str, m.index)), "detectors": tuple(map(str, m.columns)),
                             "values": m.to_numpy(dtype=np.float64)}
    for g in strategy.gates:
        spec = {"id": g.id, "parent": g.parent, "type": g.kind}
        if isinstance(g, RectangleGate):
            spec["dimensions"] = [_dimension_dict(d, min=lo, max=hi) for d, lo, hi in zip(g.dimensions, g.mins, g.maxs)]
        elif isinstance(g, PolygonGate):
            spec["dimensions"] = [_dimension_dict(d) for d in g.dimensions]
            spec["vertices"] = g.vertices
        elif isinstance(g, EllipsoidGate):
            spec.update(dimensions=[_dimension_dict(d) for d in g.dimensions], mean=g.mean, covariance=g.covariance,
                        distance_square=g.distance_square)
        elif isinstance(g, QuadrantGate):
            spec["dividers"] = [{"id": v.id, "dimension": _dimension_dict(v.dimension), "values": list(v.values)}
                                for v in g.dividers]
            spec["quadrants"] = [{"id": q.id, "positions": list(q.positions)} for q in g.quadrants]
        else:
            spec["op"] = g.op
            spec["refs"] = [(r.ref, r.complement) for r in g.refs]
        doc.gates.append(spec)
    return doc

"""FlowJo 10 workspaces (``.wsp``): the gates applied to one sample, as plain specifications.

flowkit's :class:`flowkit.Workspace` parses the workspace (imported lazily: it costs over
a second); this module turns the sample's gate tree, compensation matrix and channel
transforms into a :class:`~mrdquant.io.gatingml.GatingMLDocument`, which
:meth:`mrdquant.cytometry.gating.GatingStrategy.from_flowjo` compiles.

FlowJo allows the same gate name in different branches, so gate ids are paths
(``"Lymphocytes/CD3+"``) and each spec carries ``name`` (FlowJo's gate name).
Dimensions named with the matrix prefix/suffix (``Comp-FL1-A``) are compensated with the
workspace matrix; gate coordinates are already on the transformed scale (flowkit converts
them). Constructs without an equivalent raise :class:`~mrdquant.errors.GatingMLError`
naming the gate: "exclude" (complemented) geometric gates and FlowJo log transforms.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ..errors import GatingMLError
from .gatingml import GatingMLDocument

__all__ = ["read_flowjo"]


def _transform_spec(xform, tid: str, where: str) -> dict:
    kind = type(xform).__name__
    p = {k: getattr(xform, k) for k in ("param_t", "param_w", "param_m", "param_a") if hasattr(xform, k)}
    if kind == "LogicleTransform":
        return {"type": "logicle", "T": p["param_t"], "W": p["param_w"], "M": p["param_m"], "A": p["param_a"]}
    if kind == "HyperlogTransform":
        return {"type": "hyperlog", "T": p["param_t"], "W": p["param_w"], "M": p["param_m"], "A": p["param_a"]}
    if kind == "AsinhTransform":
        return {"type": "fasinh", "T": p["param_t"], "M": p["param_m"], "A": p["param_a"]}
    if kind == "LinearTransform":
        return {"type": "flin", "T": p["param_t"], "A": p["param_a"]}
    if kind == "LogTransform":
        return {"type": "flog", "T": p["param_t"], "M": p["param_m"]}
    if kind == "WSPBiexTransform":
        return {"type": "flowjo_biex", "negative": float(xform.negative), "width": float(xform.width),
                "positive": float(xform.positive), "max_value": float(xform.max_value)}
    raise GatingMLError(f"{where}: transform {tid!r} is a FlowJo {kind}, which mrdquant does not support")


def read_flowjo(path: str | os.PathLike, *, sample_id: str, group: str = "All Samples") -> GatingMLDocument:
    """Read the gates a FlowJo workspace applies to one sample.

    Parameters
    ----------
    path : path of a FlowJo 10 ``.wsp`` file
    sample_id : str
        Sample id as the workspace lists it (usually the FCS file name).
    group : str, default "All Samples"
        Sample group the sample must belong to.

    Returns
    -------
    GatingMLDocument
        Transforms keyed by the channel label FlowJo gives them, the sample's matrix (if
        any) and the gates in parent-first order.

    Raises
    ------
    GatingMLError
        Unreadable workspace, unknown group or sample, or an unsupported construct.
    """
    p = Path(path)
    if not p.is_file():
        raise GatingMLError(f"{p}: FlowJo workspace not found")
    try:
        import flowkit as fk
        from flowkit._models.gates._gates import (
            BooleanGate,
            EllipsoidGate,
            PolygonGate,
            QuadrantGate,
            RectangleGate,
        )
    except ImportError as exc:  # pragma: no cover - flowkit is a dependency
        raise GatingMLError(f"{p}: reading FlowJo workspaces needs flowkit ({exc})") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "WSP references X, but sample was not loaded"
            wsp = fk.Workspace(str(p), load_missing_file_data=True)
    except Exception as exc:  # flowkit/lxml raise many types on malformed workspaces
        raise GatingMLError(f"{p}: cannot be read as a FlowJo workspace ({type(exc).__name__}: {exc})") from exc
    groups = wsp.get_sample_groups()
    if group not in groups:
        raise GatingMLError(f"{p}: no sample group {group!r}; groups: {', '.join(map(repr, groups))}")
    ids = wsp.get_sample_ids(group_name=group, loaded_only=False)
    if sample_id not in ids:
        raise GatingMLError(f"{p}: no sample {sample_id!r} in group {group!r}; samples: {', '.join(map(repr, ids))}")
    gs = wsp.get_gating_strategy(sample_id)
    where = f"{p} (sample {sample_id!r})"
    doc = GatingMLDocument(source=str(p))

    matrix = wsp.get_comp_matrix(sample_id)
    matrix_id = None
    if matrix is not None:
        matrix_id = str(getattr(matrix, "id", None) or "FlowJo matrix")
        doc.matrices[matrix_id] = {
            "fluorochromes": tuple(map(str, matrix.fluorochromes)),
            "detectors": tuple(map(str, matrix.detectors)),
            "values": np.asarray(matrix.matrix, dtype=np.float64),
        }
    xforms = wsp.get_transforms(sample_id) or {}

    def gid_of(name: str, gate_path: tuple) -> str:
        return "/".join([*(x for x in gate_path if x != "root"), name])

    def dim(d, gate_name: str) -> dict:
        comp = d.compensation_ref
        if comp is None or comp == "uncompensated":
            comp = "uncompensated"
        elif matrix is not None and comp != "FCS":
            comp = matrix_id
        tid = d.transformation_ref
        if tid is not None and tid not in doc.transforms:
            if tid not in xforms:
                raise GatingMLError(f"{where}: gate {gate_name!r} refers to unknown transform {tid!r}")
            doc.transforms[tid] = _transform_spec(xforms[tid], tid, where)
        return {"name": str(d.id), "compensation": comp, "transform": tid, "ratio": False,
                "min": getattr(d, "min", None), "max": getattr(d, "max", None)}

    for name, gate_path in gs.get_gate_ids():
        gate = gs.get_gate(name, gate_path)
        gid = gid_of(name, gate_path)
        parent = None if len(gate_path) <= 1 else gid_of(gate_path[-1], gate_path[:-1])
        spec = {"id": gid, "name": name, "parent": parent}
        if getattr(gate, "use_complement", False):
            raise GatingMLError(f"{where}: gate {gid!r}: 'exclude' (complemented) {type(gate).__name__} "
                                "is not supported; use a boolean NOT gate")
        if isinstance(gate, RectangleGate):
            spec.update(type="rectangle", dimensions=[dim(d, gid) for d in gate.dimensions])
        elif isinstance(gate, PolygonGate):
            spec.update(type="polygon", dimensions=[dim(d, gid) for d in gate.dimensions],
                        vertices=np.asarray(gate.vertices, dtype=np.float64))
        elif isinstance(gate, EllipsoidGate):
            spec.update(type="ellipsoid", dimensions=[dim(d, gid) for d in gate.dimensions],
                        mean=np.asarray(gate.coordinates, dtype=np.float64),
                        covariance=np.asarray(gate.covariance_matrix, dtype=np.float64),
                        distance_square=float(gate.distance_square))
        elif isinstance(gate, BooleanGate):
            refs = []
            for r in gate.gate_refs:
                refs.append((gid_of(r["ref"], tuple(r["path"])), bool(r.get("complement", False))))
            spec.update(type="boolean", op=gate.type, refs=refs)
        elif isinstance(gate, QuadrantGate):
            raise GatingMLError(f"{where}: gate {gid!r}: FlowJo quadrant gates are not supported")
        else:
            raise GatingMLError(f"{where}: gate {gid!r}: unsupported gate type {type(gate).__name__}")
        doc.gates.append(spec)
    if not doc.gates:
        raise GatingMLError(f"{where}: the workspace has no gates for this sample")
    return doc

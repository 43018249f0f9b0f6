"""The gates placed in one FCS file, exported as a FlowJo 10 workspace (``.wsp``) for review.

:func:`export_flowjo` writes the gates of an :class:`~mrdquant.cytometry.laip.MfcResult`
(from :func:`mrdquant.quantify_mfc`) as a FlowJo workspace holding that one file, built
with flowkit's workspace exporter (:meth:`flowkit.Session.export_wsp`). Every gate of the
workspace counts the same events as the result: the counts of :func:`flowjo_gate_table`
are the result's own, and gating the file with the workspace (flowkit, or
:meth:`mrdquant.GatingStrategy.from_flowjo`) gives them back event for event.

How the panel's gates become FlowJo gates
    * threshold, scatter and time gates: one-dimensional range gates (``min`` inclusive,
      ``max`` exclusive, as in mrdquant); a time QC that keeps several intervals becomes
      one range gate per interval and a FlowJo OR gate with the step's name, under which
      the rest of the chain hangs;
    * singlets: the polygon on FSC-A x FSC-H, cut to just past the file's largest values
      (the same events; FlowJo then draws it beside the data), or the range gate on FSC-W;
    * a LAIP (a Boolean AND of marker gates, optionally with "k of" a list): FlowJo
      cannot draw an AND of gates, so the LAIP is a chain of two-dimensional rectangle
      gates under the LAIP's parent, each step two of the ANDed thresholds, the last named
      as the LAIP. "1 of 2" thresholds (the B-ALL "CD58 bright or CD45 dim") is the last
      step: an L-shaped polygon on those two markers, the union of the two half-planes.
      Other "k of n" rules become one chain per combination and a FlowJo OR gate named
      as the LAIP.

All exported gates are axis-aligned in transformed channels or drawn on linear scatter
channels, so their counts do not depend on how FlowJo displays an axis.

Names
    FlowJo gate names are the panel's gate ids (``CD10+``, ``CD38dim``); FlowJo writes
    population paths with ``/``, so a ``/`` in an id becomes ``|``
    (:func:`flowjo_name`). Intermediate LAIP steps are named ``"<LAIP> step <i>
    (<gate> & <gate>)"``.

Channels
    Marker channels are compensated with the file's own ``$SPILLOVER`` (written as the
    workspace's "Acquisition-defined" matrix, FlowJo's prefix ``Comp-``) and carry the
    panel's transform; scatter and time channels are raw (``Time`` in seconds: the file's
    ``$TIMESTEP`` applied, as mrdquant and flowkit read it).
"""

from __future__ import annotations

import io
import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError
from ..io.fcs import FlowSample, read_fcs

__all__ = ["export_flowjo", "flowjo_gate_table", "flowjo_name", "MATRIX_NAME", "COMP_PREFIX"]

#: name of the file's own spillover matrix in the workspace (FlowJo's name for it)
MATRIX_NAME = "Acquisition-defined"
#: prefix FlowJo gives the compensated channels of the first matrix
COMP_PREFIX = "Comp-"
#: margin (transformed units) by which an L-shaped LAIP polygon extends past the data
_MARGIN = 0.05


def flowjo_name(gate_id: str) -> str:
    """The FlowJo gate name of an mrdquant gate id (``/`` separates FlowJo paths: it becomes ``|``)."""
    return str(gate_id).replace("/", "|")


@dataclass
class _Cond:
    """One range condition on one channel: ``lo <= x < hi`` (None: open)."""

    gate: str
    axis: str  # marker or canonical scatter name ("FSC-A", "Time", ...)
    marker: bool  # compensated, panel-transformed channel
    lo: float | None
    hi: float | None


@dataclass
class _Node:
    """One FlowJo population: a rectangle, polygon or OR gate."""

    name: str
    parent: tuple  # FlowJo path of the parent (names), () for the root
    kind: str  # "rectangle" | "polygon" | "or"
    conds: list = field(default_factory=list)  # rectangle: one _Cond per dimension
    axes: tuple = ()  # polygon: (axis, axis), each (name, marker)
    vertices: list = field(default_factory=list)  # polygon, in the axes' (transformed) units
    refs: list = field(default_factory=list)  # or: FlowJo paths of the dependents
    gate: str = ""  # the mrdquant gate this population stands for ("" for LAIP steps / intervals)
    l_shape: tuple = ()  # polygon built from two half-planes: (cond, cond), extents filled later
    clip: bool = False  # polygon reaching far past the data: clipped to the data's extent on export

    @property
    def path(self) -> tuple:
        return (*self.parent, self.name)


def _where(result) -> str:
    return f"MFC result {result.sample_id!r}" if getattr(result, "sample_id", "") else "MFC result"


def _check_result(result) -> pd.DataFrame:
    from ..cytometry.laip import MfcResult

    if not isinstance(result, MfcResult):
        raise InputError(f"result: expected an MfcResult from quantify_mfc, got {type(result).__name__}")
    g = result.gates
    if g is None or len(g) == 0:
        raise InputError(f"{_where(result)}: no gates were placed ({result.status}: {result.reason}); "
                         "there is nothing to export to FlowJo")
    if "tube" in g.columns:
        raise InputError(f"{_where(result)}: a result combined from several tubes spans files; export each "
                         "tube's own result (quantify_mfc of that file)")
    return g


def _plan(result) -> list:
    """FlowJo populations, parents first, for the result's gates table."""
    g = _check_result(result)
    rows = {r.gate: r for r in g.itertuples(index=False)}
    coords = {r.gate: json.loads(r.coordinates) for r in g.itertuples(index=False)}
    path_of: dict[str, tuple] = {}  # mrdquant gate -> FlowJo path of the population with its events
    conds_of: dict[str, list] = {}  # threshold gate -> its own condition
    nodes: list[_Node] = []

    def parent_path(gid) -> tuple:
        return () if gid in (None, "root", "") else path_of[gid]

    for r in g.itertuples(index=False):
        c = coords[r.gate]
        par = parent_path(r.parent)
        name = flowjo_name(r.gate)
        if "skipped" in c or (r.kind == "time" and c.get("intervals") == [[None, None]]):
            path_of[r.gate] = par  # a skipped step passes its parent's events
            continue
        if r.kind in ("threshold", "scatter"):
            v = float(c["threshold"])
            cond = _Cond(r.gate, r.x, r.kind == "threshold", v if c["side"] == "above" else None,
                         v if c["side"] != "above" else None)
            conds_of[r.gate] = [cond]
            nodes.append(_Node(name, par, "rectangle", conds=[cond], gate=r.gate))
        elif r.kind == "time":
            iv = [(lo, hi) for lo, hi in c["intervals"]]
            if len(iv) == 1:
                nodes.append(_Node(name, par, "rectangle", conds=[_Cond(r.gate, "Time", False, *iv[0])], gate=r.gate))
            else:
                parts = [_Node(f"{name} interval {k + 1}", par, "rectangle",
                               conds=[_Cond(r.gate, "Time", False, lo, hi)]) for k, (lo, hi) in enumerate(iv)]
                nodes.extend(parts)
                nodes.append(_Node(name, par, "or", refs=[p.path for p in parts], gate=r.gate))
        elif r.kind == "singlets":
            if "vertices" in c:
                nodes.append(_Node(name, par, "polygon", axes=(("FSC-A", False), ("FSC-H", False)),
                                   vertices=[tuple(map(float, v)) for v in c["vertices"]], gate=r.gate, clip=True))
            else:
                nodes.append(_Node(name, par, "rectangle",
                                   conds=[_Cond(r.gate, "FSC-W", False, None, float(c["width_max"]))], gate=r.gate))
        elif r.kind == "laip":
            try:
                nodes.extend(_laip_nodes(r.gate, name, r.parent, par, c, rows, conds_of, coords))
            except InputError as exc:
                raise InputError(f"{_where(result)}: {exc}") from None
        else:
            raise InputError(f"{_where(result)}: gate {r.gate!r} is of kind {r.kind!r}, which the FlowJo export "
                             "does not know")
        path_of[r.gate] = nodes[-1].path
    return nodes


def _conds_to(gid: str, stop, rows, conds_of, coords, laip: str) -> list:
    """The conditions of ``gid`` and of its ancestors below ``stop`` (the LAIP's parent)."""
    out = []
    while gid not in (stop, None, "root"):
        if gid not in rows:
            raise InputError(f"LAIP {laip!r} refers to gate {gid!r}, which the result does not have")
        if gid in conds_of:
            out = conds_of[gid] + out
        elif "skipped" not in coords[gid]:
            raise InputError(f"LAIP {laip!r}: gate {gid!r} ({rows[gid].kind}) is not a threshold; the FlowJo "
                             "export draws a LAIP as thresholds only")
        gid = rows[gid].parent
    if gid != stop:
        raise InputError(f"LAIP {laip!r}: gate is not below the LAIP's parent {stop!r}")
    return out


def _chain(name, label: str, par: tuple, conds: list) -> list:
    """Nested rectangles of at most two distinct channels each.

    Each step is named ``"<label> (<gates so far>)"``; the last one ``name`` unless None.
    """
    steps, cur = [], []
    for c in conds:
        same = next((x for x in cur if x.axis == c.axis), None)
        if same is not None:  # two conditions on one channel: their intersection
            same.lo = c.lo if same.lo is None else (same.lo if c.lo is None else max(same.lo, c.lo))
            same.hi = c.hi if same.hi is None else (same.hi if c.hi is None else min(same.hi, c.hi))
            same.gate = f"{same.gate} & {c.gate}"
            continue
        if len(cur) == 2:
            steps.append(cur)
            cur = []
        cur.append(_Cond(c.gate, c.axis, c.marker, c.lo, c.hi))
    if cur:
        steps.append(cur)
    out, so_far = [], []
    for i, st in enumerate(steps):
        so_far += [flowjo_name(x.gate) for x in st]
        nm = name if (name is not None and i == len(steps) - 1) else f"{label} ({' & '.join(so_far)})"
        out.append(_Node(nm, out[-1].path if out else par, "rectangle", conds=st))
    return out


def _laip_nodes(gid, name, parent_gid, par, c, rows, conds_of, coords) -> list:
    stop = parent_gid if parent_gid not in ("root", "") else None
    base = [x for ref in c.get("all", []) for x in _conds_to(ref, stop, rows, conds_of, coords, gid)]
    opt = [_conds_to(ref, stop, rows, conds_of, coords, gid) for ref in c.get("min_of", [])]
    k = int(c.get("k", 0) or 0)
    if k == 0 or not opt:
        nodes = _chain(name, name, par, base)
    elif k >= len(opt):
        nodes = _chain(name, name, par, base + [x for o in opt for x in o])
    elif k == 1 and len(opt) == 2 and all(len(o) == 1 for o in opt) and opt[0][0].axis != opt[1][0].axis:
        nodes = _chain(None, name, par, base) if base else []
        a, b = opt[0][0], opt[1][0]
        nodes.append(_Node(name, nodes[-1].path if nodes else par, "polygon", axes=((a.axis, a.marker),
                                                                                    (b.axis, b.marker)),
                           l_shape=(a, b)))
    else:
        nodes, ends = [], []
        for combo in itertools.combinations(range(len(opt)), k):
            label = f"{name} [{' & '.join(flowjo_name(c['min_of'][i]) for i in combo)}]"
            ch = _chain(label, name, par, base + [x for i in combo for x in opt[i]])
            have = {n.path for n in nodes}  # steps are named by what they hold: shared ones are one node
            nodes.extend(n for n in ch if n.path not in have)
            ends.append(ch[-1].path)
        nodes.append(_Node(name, par, "or", refs=ends))
    nodes[-1].gate = gid
    if not nodes[-1].conds and nodes[-1].kind == "rectangle":  # pragma: no cover - a LAIP always has gates
        raise InputError(f"LAIP {gid!r} has no gates")
    return nodes


def flowjo_gate_table(result) -> pd.DataFrame:
    """Which FlowJo population of :func:`export_flowjo` holds each gate's events.

    Parameters
    ----------
    result : MfcResult
        From :func:`mrdquant.quantify_mfc` (one file).

    Returns
    -------
    DataFrame
        One row per gate of ``result.gates``: ``gate`` (mrdquant id), ``flowjo_path``
        (population path, ``/``-separated as FlowJo writes it; a skipped step names its
        parent's population, ``""`` the whole file), ``flowjo_gate`` (``rectangle``,
        ``polygon``, ``or``, or ``skipped``), ``events`` (the result's count, which the
        workspace reproduces).

    Raises
    ------
    InputError
        A result without gates (not evaluable before gating), one combined from several
        tubes, or a LAIP the export cannot draw.
    """
    g = _check_result(result)
    nodes = _plan(result)
    by_gate = {n.gate: n for n in nodes if n.gate}
    path_of: dict[str, str] = {}
    rows = []
    for r in g.itertuples(index=False):
        n = by_gate.get(r.gate)
        if n is None:
            p = "" if r.parent in ("root", "", None) else path_of[r.parent]
            kind = "skipped"
        else:
            p, kind = "/".join(n.path), n.kind
        path_of[r.gate] = p
        rows.append({"gate": r.gate, "flowjo_path": p, "flowjo_gate": kind, "events": int(r.events)})
    return pd.DataFrame(rows, columns=["gate", "flowjo_path", "flowjo_gate", "events"])


# --------------------------------------------------------------------------- writing


def _panel_transform(result, panel):
    from .panels import load_panel

    pv = result.provenance or {}
    if panel is None:
        src = pv.get("panel_path") or pv.get("panel_id")
        if not src:
            raise InputError(f"{_where(result)}: the result does not name its panel; pass panel=")
        try:
            p = load_panel(src)
        except ConfigError as exc:
            raise InputError(f"{_where(result)}: its panel {src!r} does not load ({exc}); pass panel=") from None
        if pv.get("panel_hash") and p.hash != pv["panel_hash"]:
            raise InputError(f"{_where(result)}: panel {src!r} changed since the result was made (hash "
                             f"{p.hash[:12]}, the result's {pv['panel_hash'][:12]}); pass the panel it was made with")
    else:
        p = load_panel(panel)
        if pv.get("panel_hash") and p.hash != pv["panel_hash"]:
            raise InputError(f"{_where(result)}: panel {p.panel_id!r} ({p.hash[:12]}) is not the one the result was "
                             f"made with ({pv.get('panel_id')!r}, {pv['panel_hash'][:12]})")
    return p.transform_object()


def _as_file_sample(result, sample) -> FlowSample:
    pv = result.provenance or {}
    if sample is None:
        sample = pv.get("input_path") or None
        if sample is None:
            raise InputError(f"{_where(result)}: the result has no input file; pass sample=")
    s = sample if isinstance(sample, FlowSample) else read_fcs(sample) if isinstance(sample, (str, os.PathLike)) \
        else None
    if s is None:
        raise InputError(f"sample: expected a FlowSample or an FCS path, got {type(sample).__name__}")
    if s.path is None:
        raise InputError(f"{_where(result)}: the sample has no file; a FlowJo workspace refers to an FCS file")
    if pv.get("input_sha256") and s.sha256 != pv["input_sha256"]:
        raise InputError(f"{s.path}: not the file {_where(result)} was computed from (SHA-256 differs)")
    return s


def _matrix(s: FlowSample):
    """(detector ``$PnN`` list, spillover array, detector column indices) of the file's own matrix, or None."""
    if s.spillover is None:
        return None
    from ..cytometry.compensation import Compensation

    comp = Compensation.from_dataframe(s.spillover, source=f"{s.path} $SPILLOVER")
    det = [int(i) for i in comp.match(s.channels, unmatched="keep", sample=str(s.path))]
    return [s.channels[i] for i in det], np.asarray(comp.spillover, dtype=np.float64), det


class _Extents:
    """(min, max) of channels over all events: markers compensated and transformed, others raw.

    A marker's values come from the ``prepared`` sample when there is one (compensated with
    the file's matrix and transformed with the same transform already); otherwise the
    channel is compensated (only that output) and transformed here.
    """

    def __init__(self, s: FlowSample, matrix, transform, prepared=None):
        self.s, self.matrix, self.transform = s, matrix, transform
        self.prepared = None
        if prepared is not None and prepared.panel.transform_object().to_dict() == transform.to_dict():
            self.prepared = prepared
            self._marker_of = {ch: m for m, ch in prepared.channels.items()}

    def __call__(self, channel: str, marker: bool) -> tuple[float, float]:
        s = self.s
        if marker and self.prepared is not None and channel in self._marker_of:
            v = self.prepared.marker_values(self._marker_of[channel])
        elif marker and self.matrix is not None and channel in self.matrix[0]:
            from ..cytometry.compensation import Compensation

            names, spill, det = self.matrix
            comp = Compensation(names, spill, source=f"{s.path} $SPILLOVER")
            v = self.transform.apply(comp.apply_channels(s.events, det, [s.channel_index(channel)])[0])
        else:
            col = s.events[:, s.channel_index(channel)].astype(np.float64)
            v = self.transform.apply(np.ascontiguousarray(col)) if marker else col
        v = v[np.isfinite(v)]
        return (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)


def _l_vertices(a: _Cond, b: _Cond, ext_a, ext_b) -> list:
    """Polygon of ``{a} | {b}`` (two half-lines on two axes) within the data's extent plus a margin."""
    xa = a.lo if a.lo is not None else a.hi
    yb = b.lo if b.lo is not None else b.hi
    x0, x1 = min(ext_a[0], xa) - _MARGIN, max(ext_a[1], xa) + _MARGIN
    y0, y1 = min(ext_b[0], yb) - _MARGIN, max(ext_b[1], yb) + _MARGIN
    # the complement is the corner where both are false; walk the box leaving that corner out
    cx, fx = (x0, x1) if a.lo is not None else (x1, x0)
    cy, fy = (y0, y1) if b.lo is not None else (y1, y0)
    return [(xa, cy), (fx, cy), (fx, fy), (cx, fy), (cx, yb), (xa, yb)]


def _clip_above(vertices: list, x_max: float, y_max: float) -> list:
    """The polygon cut to ``x <= x_max`` and ``y <= y_max`` (Sutherland-Hodgman).

    Events below both limits are inside the result exactly when inside the polygon; the
    singlet polygon (edges out to 10^7 FSC units) then stays near the plot in FlowJo.
    """
    def cut(poly, inside, cross):
        out = []
        for k, cur in enumerate(poly):
            prev = poly[k - 1]
            if inside(cur):
                if not inside(prev):
                    out.append(cross(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross(prev, cur))
        return out

    def at_x(p, q):
        f = (x_max - p[0]) / (q[0] - p[0])
        return (x_max, p[1] + f * (q[1] - p[1]))

    def at_y(p, q):
        f = (y_max - p[1]) / (q[1] - p[1])
        return (p[0] + f * (q[0] - p[0]), y_max)

    poly = cut([tuple(v) for v in vertices], lambda v: v[0] <= x_max, at_x)
    return cut(poly, lambda v: v[1] <= y_max, at_y)


def export_flowjo(result, sample=None, path=None, *, panel=None, group: str = "All Samples") -> Path:
    """Write the gates placed in one file as a FlowJo 10 workspace (``.wsp``), atomically.

    Parameters
    ----------
    result : MfcResult
        From :func:`mrdquant.quantify_mfc` of ``sample``.
    sample : FlowSample, PreparedSample or path, optional
        The FCS file the result was computed from (default: ``result.provenance
        ["input_path"]``); checked by SHA-256. The workspace refers to it by its absolute
        path; FlowJo asks for the file if it has moved. A PreparedSample (from
        :func:`mrdquant.mfc.quantify.prepare_tube`) also lends its marker values for the
        axis ranges, so nothing is compensated again.
    path : path
        The ``.wsp`` to write (parent folders are created).
    panel : str, path or Panel, optional
        The panel the result was made with (default: the one its provenance names, whose
        hash must match); only its transform is used, for the axes.
    group : str, default "All Samples"
        FlowJo sample group holding the file.

    Returns
    -------
    pathlib.Path
        The workspace written. The FlowJo sample is named by the file name; the
        population of each gate is listed by :func:`flowjo_gate_table`.

    Raises
    ------
    InputError
        No gates to export (a "not evaluable" result that was never gated), a result of
        several tubes, a file other than the result's, a panel that does not match, or
        no ``path``.
    """
    if path is None:
        raise InputError("path: the .wsp file to write is required")
    nodes = _plan(result)
    from .preparation import PreparedSample

    prepared = sample if isinstance(sample, PreparedSample) else None
    s = _as_file_sample(result, prepared.sample if prepared is not None else sample)
    transform = _panel_transform(result, panel)
    chmap = dict((result.provenance or {}).get("channels") or {})
    from .markers import resolve_scatter

    scat = resolve_scatter(s)
    matrix = _matrix(s)

    from .panels import normalize_marker

    by_key = {normalize_marker(m): ch for m, ch in chmap.items()}  # a gate may spell its marker differently

    def channel(axis: str, marker: bool) -> str:
        ch = (chmap.get(axis) or by_key.get(normalize_marker(axis))) if marker else scat.get(axis)
        if not ch and marker:
            raise InputError(f"{s.path}: no channel for marker {axis!r}; {_where(result)} maps markers to {chmap}")
        if not ch:
            raise InputError(f"{s.path}: the file has no {axis} channel, which a gate of {_where(result)} uses")
        return ch

    extent = _Extents(s, matrix, transform, prepared)
    for n in nodes:
        if n.l_shape:
            a, b = n.l_shape
            n.vertices = _l_vertices(a, b, *(extent(channel(x.axis, x.marker), x.marker) for x in (a, b)))
        elif n.clip:
            (xa, xm), (ya, ym) = n.axes
            x_hi, y_hi = extent(channel(xa, xm), xm)[1], extent(channel(ya, ym), ym)[1]
            n.vertices = _clip_above(n.vertices, x_hi + 0.05 * abs(x_hi) + 1.0, y_hi + 0.05 * abs(y_hi) + 1.0)
    data = _build_wsp(nodes, s, channel, matrix, transform, group)
    from ..io.store import atomic_path

    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target


def _build_wsp(nodes, s: FlowSample, channel, matrix, transform, group: str) -> bytes:
    import warnings

    import flowkit as fk

    from ..cytometry.transforms import LinearTransform, LogicleTransform

    if isinstance(transform, LogicleTransform):
        fk_xform = fk.transforms.LogicleTransform(param_t=transform.T, param_w=transform.W, param_m=transform.M,
                                                  param_a=transform.A)
    elif isinstance(transform, LinearTransform):
        fk_xform = fk.transforms.LinearTransform(param_t=transform.T, param_a=transform.A)
    else:  # FlowJo has no exact equivalent: gates go in raw units, FlowJo shows its default axis
        fk_xform = None
    gs = fk.GatingStrategy()
    det_names = matrix[0] if matrix is not None else []
    if matrix is not None:
        gs.add_comp_matrix(MATRIX_NAME, fk.Matrix(matrix[1], det_names))
    if fk_xform is not None:
        gs.add_transform("panel_transform", fk_xform)

    def dim(axis: str, marker: bool, lo=None, hi=None):
        ch = channel(axis, marker)
        comp = MATRIX_NAME if marker and ch in det_names else "uncompensated"
        if marker and fk_xform is None:  # raw units
            lo = None if lo is None else float(transform.inverse(np.array([lo]))[0])
            hi = None if hi is None else float(transform.inverse(np.array([hi]))[0])
        return fk.Dimension(ch, compensation_ref=comp, transformation_ref="panel_transform" if marker and fk_xform
                            is not None else None, range_min=lo, range_max=hi)

    or_nodes = {}
    for n in nodes:
        gpath = ("root", *n.parent)
        if n.kind == "rectangle":
            gate = fk.gates.RectangleGate(n.name, [dim(c.axis, c.marker, c.lo, c.hi) for c in n.conds])
        elif n.kind == "polygon":
            verts = [list(v) for v in n.vertices]
            if fk_xform is None:
                for k, (ax, mk) in enumerate(n.axes):
                    if mk:
                        for v in verts:
                            v[k] = float(transform.inverse(np.array([v[k]]))[0])
            gate = fk.gates.PolygonGate(n.name, [dim(ax, mk) for ax, mk in n.axes], verts)
        else:  # an OR: a placeholder population, replaced by FlowJo's OrNode below
            first = next(m for m in nodes if m.path == n.refs[0])
            gate = fk.gates.RectangleGate(n.name, [dim(c.axis, c.marker, c.lo, c.hi) for c in first.conds])
            or_nodes[n.path] = n
        gs.add_gate(gate, gpath)
    fks = fk.Sample(str(s.path), sample_id=s.path.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        session = fk.Session(gating_strategy=gs, fcs_samples=[fks])
        buf = io.BytesIO()
        session.export_wsp(buf, group)
    return _finish(buf.getvalue(), s, or_nodes, det_names)


def _finish(data: bytes, s: FlowSample, or_nodes: dict, det_names: list) -> bytes:
    """What flowkit's exporter leaves out: the sample's matrix, OR gates, uncompensated prefixes, the file URI."""
    from lxml import etree

    root = etree.fromstring(data)
    ns = root.nsmap
    tns, dns = ns["transforms"], ns["data-type"]
    sample_el = root.find("SampleList/Sample")
    ds = sample_el.find("DataSet")
    ds.set("uri", Path(s.path).resolve().as_uri())
    matrix_el = root.find(f"Matrices/{{{tns}}}spilloverMatrix")
    if matrix_el is not None:  # FlowJo (and flowkit's reader) take the sample's own matrix
        import copy

        ds.addnext(copy.deepcopy(matrix_el))
    # flowkit prefixes every non-FSC/SSC/Time channel; only the matrix's detectors are compensated
    for el in root.iter(f"{{{dns}}}fcs-dimension"):
        nm = el.get(f"{{{dns}}}name")
        if nm.startswith(COMP_PREFIX) and nm[len(COMP_PREFIX):] not in det_names:
            el.set(f"{{{dns}}}name", nm[len(COMP_PREFIX):])

    def find_pop(path: tuple):
        el = sample_el.find("SampleNode")
        for name in path:
            sub = el.find("Subpopulations")
            el = next(p for p in sub if p.tag in ("Population", "OrNode") and p.get("name") == name)
        return el

    for p in sorted(or_nodes, key=len):
        n = or_nodes[p]
        pop = find_pop(p)
        node = etree.Element("OrNode", name=n.name, annotation="", owningGroup="")
        deps = etree.SubElement(node, "Dependents")
        for ref in n.refs:
            etree.SubElement(deps, "Dependent", name="/".join(ref))
        sub = pop.find("Subpopulations")
        if sub is not None:
            node.append(sub)
        pop.getparent().replace(pop, node)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)

"""Gating-ML 2.0 documents: read to and write from plain gate specifications.

This module only translates XML. It produces a :class:`GatingMLDocument` made of plain
Python values (dicts, tuples, numpy arrays), which
:meth:`mrdquant.cytometry.gating.GatingStrategy.from_gatingml` compiles into gates and
transforms; :func:`write_gatingml` does the reverse.

The parser reads the XML directly with lxml (no flowkit import, which costs over a second)
and refuses anything it does not understand: an unknown element, gate type, transform or
attribute value raises :class:`~mrdquant.errors.GatingMLError` naming the file, the gate
and the construct; nothing is silently skipped.

Gate specifications (``GatingMLDocument.gates``, in document order) are dicts with keys

``id`` (str), ``parent`` (str or None), ``type`` (``"rectangle"``, ``"polygon"``,
``"ellipsoid"``, ``"quadrant"``, ``"boolean"``) and

- rectangle: ``dimensions`` (list of dimension dicts with ``min``/``max``, float or None);
- polygon: ``dimensions`` (2), ``vertices`` (ndarray (n, 2));
- ellipsoid: ``dimensions``, ``mean`` (ndarray (d,)), ``covariance`` (ndarray (d, d)),
  ``distance_square`` (float);
- quadrant: ``dividers`` (list of ``{"id", "dimension", "values"}``), ``quadrants``
  (list of ``{"id", "positions": [(divider_id, location), ...]}``);
- boolean: ``op`` (``"and"``, ``"or"``, ``"not"``), ``refs`` (list of ``(gate_id, complement)``).

A dimension dict has ``name`` (``$PnN``/fluorochrome, or a ratio transform id when
``ratio`` is True), ``compensation`` (``"uncompensated"``, ``"FCS"`` or a matrix id) and
``transform`` (transform id or None).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import GatingMLError
from .store import atomic_path

__all__ = ["GatingMLDocument", "read_gatingml", "write_gatingml", "NS", "MARKERS_NS"]

#: namespace of the channel -> marker list mrdquant keeps in a top-level custom_info
MARKERS_NS = "urn:mrdquant:gating-ml:markers"

NS = {
    "gating": "http://www.isac-net.org/std/Gating-ML/v2.0/gating",
    "transforms": "http://www.isac-net.org/std/Gating-ML/v2.0/transformations",
    "data-type": "http://www.isac-net.org/std/Gating-ML/v2.0/datatypes",
}
_G = "{%s}" % NS["gating"]
_T = "{%s}" % NS["transforms"]
_D = "{%s}" % NS["data-type"]

#: transform element -> parameter names
_TRANSFORM_PARAMS = {
    "flin": ("T", "A"),
    "flog": ("T", "M"),
    "fasinh": ("T", "M", "A"),
    "logicle": ("T", "W", "M", "A"),
    "hyperlog": ("T", "W", "M", "A"),
    "fratio": ("A", "B", "C"),
}
_GATE_TAGS = {
    "RectangleGate": "rectangle",
    "PolygonGate": "polygon",
    "EllipsoidGate": "ellipsoid",
    "QuadrantGate": "quadrant",
    "BooleanGate": "boolean",
}


@dataclass
class GatingMLDocument:
    """The content of a Gating-ML 2.0 file as plain values.

    Attributes
    ----------
    transforms : dict
        id -> ``{"type": "flin"|"flog"|"fasinh"|"logicle"|"hyperlog"|"fratio",
        "T": ..., ...}`` (the Gating-ML function name and its parameters), plus
        ``"dimensions": (numerator, denominator)`` for ``fratio``.
    matrices : dict
        id -> ``{"fluorochromes": tuple, "detectors": tuple, "values": ndarray}``
        (spectrum rows = fluorochromes, columns = detectors).
    gates : list of dict
        See the module docstring.
    source : str
        Path the document was read from ("" when built in memory).
    markers : dict
        ``$PnN`` -> marker (``$PnS``) each channel is expected to carry, from the file's
        top-level ``custom_info`` (``<mrdquant:channel name=".." marker=".."/>``,
        namespace :data:`MARKERS_NS`); empty when the file names no markers.
    """

    transforms: dict = field(default_factory=dict)
    matrices: dict = field(default_factory=dict)
    gates: list = field(default_factory=list)
    source: str = ""
    markers: dict = field(default_factory=dict)


def _local(tag) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _ns(tag) -> str:
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return ""


def _float(value, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise GatingMLError(f"{where}: expected a number, got {value!r}") from None


def _elements(node):
    """Child elements, ignoring comments, processing instructions and custom_info."""
    for child in node:
        if not isinstance(child.tag, str):
            continue
        if child.tag == _D + "custom_info":
            continue
        yield child


def _parse_fcs_dimension(node, where: str) -> dict:
    kids = list(_elements(node))
    dims = [k for k in kids if k.tag in (_D + "fcs-dimension", _D + "new-dimension")]
    if len(dims) != 1:
        raise GatingMLError(f"{where}: expected one fcs-dimension or new-dimension, found {len(dims)}")
    d = dims[0]
    if d.tag == _D + "fcs-dimension":
        name = d.get(_D + "name")
        if not name:
            raise GatingMLError(f"{where}: fcs-dimension without data-type:name")
        return {"name": name, "ratio": False}
    ref = d.get(_D + "transformation-ref")
    if not ref:
        raise GatingMLError(f"{where}: new-dimension without data-type:transformation-ref")
    return {"name": ref, "ratio": True}


def _parse_dimension(node, where: str, *, bounds: bool) -> dict:
    dim = _parse_fcs_dimension(node, where)
    comp = node.get(_G + "compensation-ref")
    if comp is None:
        raise GatingMLError(f"{where}: dimension {dim['name']!r} has no gating:compensation-ref")
    dim["compensation"] = comp
    dim["transform"] = node.get(_G + "transformation-ref")
    if bounds:
        lo = node.get(_G + "min")
        hi = node.get(_G + "max")
        dim["min"] = None if lo is None else _float(lo, f"{where}: gating:min")
        dim["max"] = None if hi is None else _float(hi, f"{where}: gating:max")
    for child in _elements(node):
        if child.tag not in (_D + "fcs-dimension", _D + "new-dimension"):
            raise GatingMLError(f"{where}: unsupported element {_local(child.tag)!r} in a dimension")
    return dim


def _coords(node, where: str) -> list:
    out = []
    for c in _elements(node):
        if c.tag != _G + "coordinate":
            raise GatingMLError(f"{where}: unsupported element {_local(c.tag)!r}; expected gating:coordinate")
        out.append(_float(c.get(_D + "value"), f"{where}: coordinate"))
    return out


def _parse_gate(node, path: str) -> dict:
    kind = _GATE_TAGS[_local(node.tag)]
    gid = node.get(_G + "id")
    if not gid:
        raise GatingMLError(f"{path}: a {_local(node.tag)} has no gating:id")
    where = f"{path}: gate {gid!r}"
    spec = {"id": gid, "parent": node.get(_G + "parent_id"), "type": kind}
    if kind in ("rectangle", "polygon", "ellipsoid"):
        dims, vertices, mean, cov, dist = [], [], None, None, None
        for child in _elements(node):
            tag = _local(child.tag) if _ns(child.tag) == NS["gating"] else None
            if tag == "dimension":
                dims.append(_parse_dimension(child, where, bounds=(kind == "rectangle")))
            elif kind == "polygon" and tag == "vertex":
                vertices.append(_coords(child, where + " vertex"))
            elif kind == "ellipsoid" and tag == "mean":
                mean = _coords(child, where + " mean")
            elif kind == "ellipsoid" and tag == "covarianceMatrix":
                rows = []
                for row in _elements(child):
                    if row.tag != _G + "row":
                        raise GatingMLError(f"{where}: unsupported element {_local(row.tag)!r} in covarianceMatrix")
                    entries = []
                    for e in _elements(row):
                        if e.tag != _G + "entry":
                            raise GatingMLError(f"{where}: unsupported element {_local(e.tag)!r} in a covariance row")
                        entries.append(_float(e.get(_D + "value"), f"{where}: covariance entry"))
                    rows.append(entries)
                cov = rows
            elif kind == "ellipsoid" and tag == "distanceSquare":
                dist = _float(child.get(_D + "value"), f"{where}: distanceSquare")
            else:
                raise GatingMLError(f"{where}: unsupported element {_local(child.tag)!r} in a {_local(node.tag)}")
        if not dims:
            raise GatingMLError(f"{where}: no gating:dimension")
        spec["dimensions"] = dims
        if kind == "polygon":
            if any(len(v) != 2 for v in vertices) or len(vertices) < 3:
                raise GatingMLError(f"{where}: a polygon needs >= 3 vertices of 2 coordinates each")
            spec["vertices"] = np.asarray(vertices, dtype=np.float64)
        elif kind == "ellipsoid":
            if mean is None or cov is None or dist is None:
                raise GatingMLError(f"{where}: an ellipsoid needs mean, covarianceMatrix and distanceSquare")
            d = len(dims)
            if len(mean) != d or len(cov) != d or any(len(r) != d for r in cov):
                raise GatingMLError(f"{where}: mean/covariance sizes do not match {d} dimensions")
            spec["mean"] = np.asarray(mean, dtype=np.float64)
            spec["covariance"] = np.asarray(cov, dtype=np.float64)
            spec["distance_square"] = dist
    elif kind == "quadrant":
        dividers, quadrants = [], []
        for child in _elements(node):
            tag = _local(child.tag) if _ns(child.tag) == NS["gating"] else None
            if tag == "divider":
                did = child.get(_G + "id")
                if not did:
                    raise GatingMLError(f"{where}: a divider has no gating:id")
                dim = _parse_fcs_dimension(child, f"{where} divider {did!r}")
                comp = child.get(_G + "compensation-ref")
                if comp is None:
                    raise GatingMLError(f"{where}: divider {did!r} has no gating:compensation-ref")
                dim["compensation"] = comp
                dim["transform"] = child.get(_G + "transformation-ref")
                values = []
                for v in _elements(child):
                    if v.tag == _G + "value":
                        values.append(_float((v.text or "").strip(), f"{where}: divider {did!r} value"))
                    elif v.tag not in (_D + "fcs-dimension", _D + "new-dimension"):
                        raise GatingMLError(f"{where}: unsupported element {_local(v.tag)!r} in divider {did!r}")
                if not values:
                    raise GatingMLError(f"{where}: divider {did!r} has no gating:value")
                dividers.append({"id": did, "dimension": dim, "values": values})
            elif tag == "Quadrant":
                qid = child.get(_G + "id")
                if not qid:
                    raise GatingMLError(f"{where}: a Quadrant has no gating:id")
                positions = []
                for p in _elements(child):
                    if p.tag != _G + "position":
                        raise GatingMLError(f"{where}: unsupported element {_local(p.tag)!r} in quadrant {qid!r}")
                    ref = p.get(_G + "divider_ref")
                    loc = _float(p.get(_G + "location"), f"{where}: quadrant {qid!r} location")
                    positions.append((ref, loc))
                quadrants.append({"id": qid, "positions": positions})
            else:
                raise GatingMLError(f"{where}: unsupported element {_local(child.tag)!r} in a QuadrantGate")
        if not dividers or not quadrants:
            raise GatingMLError(f"{where}: a QuadrantGate needs dividers and quadrants")
        spec["dividers"] = dividers
        spec["quadrants"] = quadrants
    else:  # boolean
        ops = list(_elements(node))
        if len(ops) != 1 or _local(ops[0].tag) not in ("and", "or", "not") or _ns(ops[0].tag) != NS["gating"]:
            found = [_local(o.tag) for o in ops]
            raise GatingMLError(f"{where}: a BooleanGate needs exactly one of and/or/not, found {found}")
        op = _local(ops[0].tag)
        refs = []
        for r in _elements(ops[0]):
            if r.tag != _G + "gateReference":
                raise GatingMLError(f"{where}: unsupported element {_local(r.tag)!r} in boolean '{op}'")
            ref = r.get(_G + "ref")
            if not ref:
                raise GatingMLError(f"{where}: gateReference without gating:ref")
            comp = (r.get(_G + "use-as-complement") or "false").strip().lower()
            if comp not in ("true", "false", "1", "0"):
                raise GatingMLError(f"{where}: use-as-complement={comp!r}; expected true or false")
            refs.append((ref, comp in ("true", "1")))
        spec["op"] = op
        spec["refs"] = refs
    return spec


def _parse_transform(node, path: str) -> tuple:
    tid = node.get(_T + "id")
    if not tid:
        raise GatingMLError(f"{path}: a transforms:transformation has no transforms:id")
    kids = list(_elements(node))
    if len(kids) != 1:
        raise GatingMLError(f"{path}: transformation {tid!r} must hold exactly one function, found {len(kids)}")
    fn = kids[0]
    name = _local(fn.tag)
    if _ns(fn.tag) != NS["transforms"] or name not in _TRANSFORM_PARAMS:
        raise GatingMLError(
            f"{path}: transformation {tid!r}: unsupported function {name!r}; "
            f"supported: {', '.join(_TRANSFORM_PARAMS)}"
        )
    names = _TRANSFORM_PARAMS[name]
    params = {}
    for p in names:
        raw = fn.get(_T + p)
        if raw is None:
            raise GatingMLError(f"{path}: transformation {tid!r} ({name}) lacks parameter {p}")
        params[p] = _float(raw, f"{path}: transformation {tid!r} parameter {p}")
    spec = {"type": name, **params}
    if name == "fratio":
        dims = []
        for d in _elements(fn):
            if d.tag != _D + "fcs-dimension":
                raise GatingMLError(f"{path}: transformation {tid!r}: unsupported element {_local(d.tag)!r}")
            dims.append(d.get(_D + "name"))
        if len(dims) != 2 or not all(dims):
            raise GatingMLError(f"{path}: ratio transformation {tid!r} needs two named fcs-dimensions")
        spec["dimensions"] = tuple(dims)
    else:
        extra = [_local(d.tag) for d in _elements(fn)]
        if extra:
            raise GatingMLError(f"{path}: transformation {tid!r}: unsupported element(s) {extra}")
    return tid, spec


def _dim_names(node, where: str) -> tuple:
    names = []
    for d in _elements(node):
        if d.tag != _D + "fcs-dimension" or not d.get(_D + "name"):
            raise GatingMLError(f"{where}: expected named data-type:fcs-dimension, found {_local(d.tag)!r}")
        names.append(d.get(_D + "name"))
    return tuple(names)


def _parse_matrix(node, path: str) -> tuple:
    mid = node.get(_T + "id")
    if not mid:
        raise GatingMLError(f"{path}: a spectrumMatrix has no transforms:id")
    where = f"{path}: spectrumMatrix {mid!r}"
    inverted = (node.get(_T + "matrix-inverted-already") or "false").strip().lower()
    if inverted in ("true", "1"):
        raise GatingMLError(f"{where}: matrix-inverted-already='true' is not supported")
    fluoro, detectors, rows = None, None, []
    for child in _elements(node):
        tag = _local(child.tag)
        if tag == "fluorochromes":
            fluoro = _dim_names(child, where)
        elif tag == "detectors":
            detectors = _dim_names(child, where)
        elif tag == "spectrum":
            row = []
            for c in _elements(child):
                if c.tag != _T + "coefficient":
                    raise GatingMLError(f"{where}: unsupported element {_local(c.tag)!r} in spectrum")
                row.append(_float(c.get(_T + "value"), f"{where}: coefficient"))
            rows.append(row)
        else:
            raise GatingMLError(f"{where}: unsupported element {tag!r}")
    if not fluoro or not detectors:
        raise GatingMLError(f"{where}: needs fluorochromes and detectors")
    if len(fluoro) != len(detectors):
        raise GatingMLError(
            f"{where}: {len(fluoro)} fluorochromes for {len(detectors)} detectors; only square "
            "(invertible) spectrum matrices are supported"
        )
    if len(rows) != len(fluoro) or any(len(r) != len(detectors) for r in rows):
        raise GatingMLError(f"{where}: expected {len(fluoro)} spectrum rows of {len(detectors)} coefficients")
    return mid, {"fluorochromes": fluoro, "detectors": detectors, "values": np.asarray(rows, dtype=np.float64)}


def read_gatingml(path: str | os.PathLike) -> GatingMLDocument:
    """Read a Gating-ML 2.0 file into a :class:`GatingMLDocument`.

    Raises
    ------
    GatingMLError
        File missing, not XML, not Gating-ML 2.0, or holding a construct this reader does
        not support (the message names gate and construct).
    """
    from lxml import etree

    p = Path(path)
    try:
        tree = etree.parse(str(p), parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except OSError as exc:
        raise GatingMLError(f"{p}: cannot be read ({exc})") from exc
    except etree.XMLSyntaxError as exc:
        raise GatingMLError(f"{p}: not well-formed XML ({exc})") from exc
    root = tree.getroot()
    if root.tag != _G + "Gating-ML":
        raise GatingMLError(f"{p}: root element is {root.tag!r}; expected gating:Gating-ML (Gating-ML 2.0)")
    doc = GatingMLDocument(source=str(p))
    for info in root.findall(_D + "custom_info"):
        for ch in info.iter("{%s}channel" % MARKERS_NS):
            name, marker = ch.get("name"), ch.get("marker")
            if name and marker:
                doc.markers[name] = marker
    seen = set()
    for node in _elements(root):
        tag, ns = _local(node.tag), _ns(node.tag)
        if ns == NS["transforms"] and tag == "transformation":
            tid, spec = _parse_transform(node, str(p))
            if tid in doc.transforms or tid in doc.matrices:
                raise GatingMLError(f"{p}: duplicate transform id {tid!r}")
            doc.transforms[tid] = spec
        elif ns == NS["transforms"] and tag == "spectrumMatrix":
            mid, spec = _parse_matrix(node, str(p))
            if mid in doc.matrices or mid in doc.transforms:
                raise GatingMLError(f"{p}: duplicate matrix id {mid!r}")
            doc.matrices[mid] = spec
        elif ns == NS["gating"] and tag in _GATE_TAGS:
            spec = _parse_gate(node, str(p))
            ids = [spec["id"]] + [q["id"] for q in spec.get("quadrants", [])]
            for i in ids:
                if i in seen:
                    raise GatingMLError(f"{p}: duplicate gate id {i!r}")
                seen.add(i)
            doc.gates.append(spec)
        else:
            raise GatingMLError(f"{p}: unsupported Gating-ML construct {tag!r} (namespace {ns or 'none'})")
    if not doc.gates:
        raise GatingMLError(f"{p}: no gates found")
    return doc


# ----------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------


def _num(v: float) -> str:
    return repr(float(v))


def _write_dimension(etree, parent, dim: dict, *, bounds: bool, tag: str = "dimension"):
    el = etree.SubElement(parent, _G + tag)
    el.set(_G + "compensation-ref", dim["compensation"])
    if dim.get("transform"):
        el.set(_G + "transformation-ref", dim["transform"])
    if bounds:
        if dim.get("min") is not None:
            el.set(_G + "min", _num(dim["min"]))
        if dim.get("max") is not None:
            el.set(_G + "max", _num(dim["max"]))
    if dim.get("ratio"):
        etree.SubElement(el, _D + "new-dimension").set(_D + "transformation-ref", dim["name"])
    else:
        etree.SubElement(el, _D + "fcs-dimension").set(_D + "name", dim["name"])
    return el


def write_gatingml(doc: GatingMLDocument, path: str | os.PathLike) -> Path:
    """Write a :class:`GatingMLDocument` as Gating-ML 2.0 XML (atomically).

    Numbers are written with ``repr`` so they read back bit-identical.
    """
    from lxml import etree

    root = etree.Element(_G + "Gating-ML", nsmap={"gating": NS["gating"], "transforms": NS["transforms"],
                                                  "data-type": NS["data-type"]})
    if doc.markers:
        info = etree.SubElement(root, _D + "custom_info")
        for name, marker in doc.markers.items():
            ch = etree.SubElement(info, "{%s}channel" % MARKERS_NS, nsmap={"mrdquant": MARKERS_NS})
            ch.set("name", str(name))
            ch.set("marker", str(marker))
    for mid, m in doc.matrices.items():
        el = etree.SubElement(root, _T + "spectrumMatrix")
        el.set(_T + "id", mid)
        for tag, names in (("fluorochromes", m["fluorochromes"]), ("detectors", m["detectors"])):
            sub = etree.SubElement(el, _T + tag)
            for n in names:
                etree.SubElement(sub, _D + "fcs-dimension").set(_D + "name", n)
        for row in np.asarray(m["values"], dtype=np.float64):
            sp = etree.SubElement(el, _T + "spectrum")
            for v in row:
                etree.SubElement(sp, _T + "coefficient").set(_T + "value", _num(v))
    for tid, t in doc.transforms.items():
        el = etree.SubElement(root, _T + "transformation")
        el.set(_T + "id", tid)
        kind = t.get("type")
        if kind not in _TRANSFORM_PARAMS:
            raise GatingMLError(f"transform {tid!r}: type {kind!r} has no Gating-ML 2.0 equivalent")
        fn = etree.SubElement(el, _T + kind)
        for k in _TRANSFORM_PARAMS[kind]:
            fn.set(_T + k, _num(t[k]))
        for d in t.get("dimensions", ()) or ():
            etree.SubElement(fn, _D + "fcs-dimension").set(_D + "name", d)
    inv_tags = {v: k for k, v in _GATE_TAGS.items()}
    for g in doc.gates:
        el = etree.SubElement(root, _G + inv_tags[g["type"]])
        el.set(_G + "id", g["id"])
        if g.get("parent"):
            el.set(_G + "parent_id", g["parent"])
        if g["type"] in ("rectangle", "polygon", "ellipsoid"):
            for d in g["dimensions"]:
                _write_dimension(etree, el, d, bounds=(g["type"] == "rectangle"))
        if g["type"] == "polygon":
            for vx, vy in np.asarray(g["vertices"], dtype=np.float64):
                v = etree.SubElement(el, _G + "vertex")
                etree.SubElement(v, _G + "coordinate").set(_D + "value", _num(vx))
                etree.SubElement(v, _G + "coordinate").set(_D + "value", _num(vy))
        elif g["type"] == "ellipsoid":
            mean = etree.SubElement(el, _G + "mean")
            for v in g["mean"]:
                etree.SubElement(mean, _G + "coordinate").set(_D + "value", _num(v))
            cov = etree.SubElement(el, _G + "covarianceMatrix")
            for row in np.asarray(g["covariance"], dtype=np.float64):
                r = etree.SubElement(cov, _G + "row")
                for v in row:
                    etree.SubElement(r, _G + "entry").set(_D + "value", _num(v))
            etree.SubElement(el, _G + "distanceSquare").set(_D + "value", _num(g["distance_square"]))
        elif g["type"] == "quadrant":
            for div in g["dividers"]:
                d = _write_dimension(etree, el, div["dimension"], bounds=False, tag="divider")
                d.set(_G + "id", div["id"])
                for v in div["values"]:
                    etree.SubElement(d, _G + "value").text = _num(v)
            for q in g["quadrants"]:
                qe = etree.SubElement(el, _G + "Quadrant")
                qe.set(_G + "id", q["id"])
                for ref, loc in q["positions"]:
                    pe = etree.SubElement(qe, _G + "position")
                    pe.set(_G + "divider_ref", ref)
                    pe.set(_G + "location", _num(loc))
        elif g["type"] == "boolean":
            op = etree.SubElement(el, _G + g["op"])
            for ref, comp in g["refs"]:
                r = etree.SubElement(op, _G + "gateReference")
                r.set(_G + "ref", ref)
                if comp:
                    r.set(_G + "use-as-complement", "true")
    target = Path(path)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target

"""Compiling a gate hierarchy: evaluation order, column slots, column domains, checks.

:func:`compile_hierarchy` turns the gates of a :class:`~mrdquant.cytometry.gating.GatingStrategy`
into a :class:`Hierarchy`: gates in topological order (parents and boolean references
first, quadrant gates replaced by their quadrants), one *slot* per distinct processed
column ``(channel, compensation, transform, ratio)``, and for each column its *domain*:
the deepest population holding every event a gate reading it can need. Every reference
(parent, boolean reference, transform, compensation matrix) is checked here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..errors import GatingMLError
from .gates import (
    FCS_SPILLOVER,
    UNCOMPENSATED,
    BooleanGate,
    Dimension,
    EllipsoidGate,
    PolygonGate,
    QuadrantGate,
    RectangleGate,
)

__all__ = ["Hierarchy", "compile_hierarchy"]


@dataclass(frozen=True)
class _Node:
    """One population of the compiled hierarchy."""

    index: int
    id: str
    path: str
    parent: int  # -1 = root
    kind: str  # rectangle, polygon, ellipsoid, quadrant (one quadrant), boolean
    gate: object
    columns: tuple  # column slots read, in dimension order
    bounds: tuple = ()  # quadrant cells: ((lo, hi), ...) per column
    refs: tuple = ()  # boolean: ((node index, complement), ...)


@dataclass(frozen=True)
class Hierarchy:
    """A compiled gate hierarchy (what the per-sample engine needs).

    Attributes
    ----------
    nodes : tuple of _Node
        Populations in evaluation order.
    raw_boxes : frozenset of int
        Nodes that are rectangles on raw values (uncompensated, untransformed, no ratio):
        tested directly on the event matrix, they read no processed column.
    domains : tuple of int
        Per column slot, the node whose events the column is computed for (-1 = all).
    consumed : frozenset of int
        Column slots some gate reads as a processed column.
    index : dict
        Population id -> node index.
    by_path : dict
        Population path -> node index.
    by_name : dict
        Display name (``names``, else the id) -> node indices carrying it (several when
        the name repeats in different branches).
    slots : tuple
        Per slot, the dimension key ``(channel, compensation, transform, ratio)``.
    dims : tuple of Dimension
        Per slot, the dimension.
    """

    nodes: tuple
    raw_boxes: frozenset
    domains: tuple
    consumed: frozenset
    index: dict
    by_path: dict
    by_name: dict
    slots: tuple
    dims: tuple


def _topological(gates: list, owner: dict) -> list:
    """Gates ordered so parents and boolean references come first."""
    by_id = {g.id: g for g in gates}
    state: dict = {}
    order: list = []

    def deps(g) -> list:
        out = []
        if g.parent is not None:
            out.append(owner.get(g.parent, g.parent))
        if isinstance(g, BooleanGate):
            out.extend(owner.get(r.ref, r.ref) for r in g.refs)
        return out

    for g in gates:
        stack = [(g, iter(deps(g)))]
        if state.get(g.id) == 2:
            continue
        state[g.id] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node.id] = 2
                order.append(node)
                stack.pop()
                continue
            if nxt not in by_id:
                continue  # reported by the caller
            st = state.get(nxt)
            if st == 1:
                raise GatingMLError(f"gate {node.id!r}: cycle through gate {nxt!r} (parent or boolean reference)")
            if st is None:
                state[nxt] = 1
                stack.append((by_id[nxt], iter(deps(by_id[nxt]))))
    return order


def _common_ancestor(parents: list, nodes: list) -> int:
    """Deepest node that is an ancestor-or-self of every given node (-1 = root)."""
    def chain(i: int) -> list:
        out = []
        while i >= 0:
            out.append(i)
            i = nodes[i].parent
        return out[::-1]

    chains = [chain(p) for p in parents]
    common = -1
    for level in zip(*chains):
        if all(x == level[0] for x in level):
            common = level[0]
        else:
            break
    return common


def _check_dimension(gid: str, d: Dimension, transforms: Mapping, matrices: Mapping, ratio_cls) -> None:
    if d.compensation not in (UNCOMPENSATED, FCS_SPILLOVER) and d.compensation not in matrices:
        raise GatingMLError(
            f"gate {gid!r}: dimension {d.channel!r} refers to compensation {d.compensation!r}, which is "
            f"neither 'uncompensated', 'FCS' nor a matrix of this strategy ({sorted(matrices)})"
        )
    if d.transform is not None:
        t = transforms.get(d.transform)
        if t is None:
            raise GatingMLError(
                f"gate {gid!r}: dimension {d.channel!r} refers to unknown transform {d.transform!r}"
            )
        if isinstance(t, ratio_cls):
            raise GatingMLError(
                f"gate {gid!r}: ratio transform {d.transform!r} used as a scale transform; a ratio is a dimension"
            )
    if d.ratio:
        t = transforms.get(d.channel)
        if not isinstance(t, ratio_cls):
            raise GatingMLError(f"gate {gid!r}: dimension refers to {d.channel!r}, which is not a ratio transform")


def compile_hierarchy(gates: tuple, *, transforms: Mapping, matrices: Mapping, names: Mapping) -> Hierarchy:
    """Check and compile gates (see the module docstring).

    Parameters
    ----------
    gates : tuple of gate objects
    transforms : mapping of str to Transform
    matrices : mapping of str to pandas.DataFrame
    names : mapping of str to str
        Display names by gate id; a path is made of display names.

    Raises
    ------
    GatingMLError
        Unsupported gate object, duplicate id, unknown parent/reference/transform/matrix,
        a cycle, or two populations with the same path.
    """
    from .transforms import RatioTransform

    ids: dict = {}
    owner: dict = {}  # quadrant id -> quadrant gate id
    for g in gates:
        if not isinstance(g, (RectangleGate, PolygonGate, EllipsoidGate, QuadrantGate, BooleanGate)):
            raise GatingMLError(f"unsupported gate object {type(g).__name__}")
        gnames = [g.id] + ([q.id for q in g.quadrants] if isinstance(g, QuadrantGate) else [])
        for i in gnames:
            if i in ids or i in owner:
                raise GatingMLError(f"duplicate gate id {i!r}")
        ids[g.id] = g
        if isinstance(g, QuadrantGate):
            for q in g.quadrants:
                owner[q.id] = g.id
    for g in gates:
        if g.parent is not None and g.parent not in ids and g.parent not in owner:
            raise GatingMLError(f"gate {g.id!r}: parent {g.parent!r} is not a gate of this strategy")
        if isinstance(g, QuadrantGate) and g.parent in owner and owner[g.parent] == g.id:
            raise GatingMLError(f"gate {g.id!r}: parent is one of its own quadrants")
        if isinstance(g, BooleanGate):
            for r in g.refs:
                if r.ref not in ids and r.ref not in owner:
                    raise GatingMLError(
                        f"gate {g.id!r}: boolean reference {r.ref!r} is not a gate of this strategy"
                    )
                if isinstance(ids.get(r.ref), QuadrantGate):
                    raise GatingMLError(
                        f"gate {g.id!r}: boolean reference {r.ref!r} is a QuadrantGate; "
                        "refer to one of its quadrants"
                    )
        for d in g.dimensions:
            _check_dimension(g.id, d, transforms, matrices, RatioTransform)

    order = _topological(list(gates), owner)
    slots: dict = {}
    nodes: list = []
    index: dict = {}  # population id -> node index

    def seg(gate_id: str) -> str:
        return str(names.get(gate_id, gate_id))

    def slot(d: Dimension) -> int:
        if d.key not in slots:
            slots[d.key] = len(slots)
        return slots[d.key]

    for g in order:
        parent = -1 if g.parent is None else index[g.parent]
        ppath = "" if parent < 0 else nodes[parent].path
        if isinstance(g, QuadrantGate):
            for q in g.quadrants:
                b = g.quadrant_bounds(q)
                node = _Node(len(nodes), q.id, f"{ppath}/{seg(g.id)}/{seg(q.id)}", parent, "quadrant", g,
                             tuple(slot(d) for d, _, _ in b), tuple((lo, hi) for _, lo, hi in b))
                index[q.id] = node.index
                nodes.append(node)
            continue
        refs = ()
        if isinstance(g, BooleanGate):
            refs = tuple((index[r.ref], r.complement) for r in g.refs)
        node = _Node(len(nodes), g.id, f"{ppath}/{seg(g.id)}", parent, g.kind, g,
                     tuple(slot(d) for d in g.dimensions), (), refs)
        index[g.id] = node.index
        nodes.append(node)
    # rectangles on raw values (uncompensated, untransformed, no ratio) are evaluated
    # directly on the event matrix: they read no processed column
    raw_boxes = frozenset(
        nd.index for nd in nodes
        if nd.kind == "rectangle" and all(d.compensation == UNCOMPENSATED and d.transform is None
                                          and not d.ratio for d in nd.gate.dimensions))
    # domain of each column: the deepest common ancestor of the parents of the gates
    # reading it; the column is computed only for that population's events
    consumers: dict = {}
    for nd in nodes:
        if nd.index in raw_boxes:
            continue
        for c in nd.columns:
            consumers.setdefault(c, []).append(nd.parent)
    domains = tuple(_common_ancestor(consumers.get(i, [-1]), nodes) for i in range(len(slots)))
    by_path = {n.path: n.index for n in nodes}
    if len(by_path) != len(nodes):
        seen: set = set()
        dup = next(n.path for n in nodes if n.path in seen or seen.add(n.path))
        raise GatingMLError(f"two gates have the same path {dup!r}; give sibling gates distinct names")
    by_name: dict = {}
    for n in nodes:
        by_name.setdefault(seg(n.id), []).append(n.index)
    slot_keys = tuple(k for k, _ in sorted(slots.items(), key=lambda kv: kv[1]))
    return Hierarchy(
        nodes=tuple(nodes),
        raw_boxes=raw_boxes,
        domains=domains,
        consumed=frozenset(consumers),  # slots some gate reads as a column
        index=index,
        by_path=by_path,
        by_name={k: tuple(v) for k, v in by_name.items()},
        slots=slot_keys,
        dims=tuple(Dimension(*k) for k in slot_keys),
    )

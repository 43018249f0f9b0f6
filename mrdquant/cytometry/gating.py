"""Gating strategies: a gate hierarchy compiled once and applied to many samples.

:class:`GatingStrategy` holds gates (:mod:`.gates`), the transforms they refer to
(:mod:`.transforms`) and any spectrum matrices. Construction compiles the hierarchy:
gates are put in topological order (parents and boolean references first), each distinct
processed column ``(channel, compensation, transform)`` gets one slot, and every
reference is checked; each column also gets a *domain*, the deepest population that holds
every event a gate reading it can need. :meth:`GatingStrategy.gate` then streams the
sample's events in a few large chunks: per chunk, each compensation is applied once (only
to the detectors read, with the domain's raw channels taken in the same pass), each
processed column is computed once and only for its domain's events (however many gates
use it), and each gate's kernel only looks at the events its parent kept. A rectangle on
raw values only (uncompensated, untransformed: a typical scatter gate) is tested directly
on the event matrix, in one pass that also lists its member rows. Memory stays at the
event matrix plus one byte per event and gate (the memberships) plus one chunk of working
columns.

:meth:`GatingStrategy.gate` returns a :class:`GatingResult`: ``membership(gate)``,
``counts()`` (a tidy table) and ``events(gate)`` (processed values of member events).
:meth:`GatingStrategy.gate_many` applies the compiled strategy to many samples or files;
a file that fails becomes an error record and the others finish.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ..errors import GatingError, GatingMLError, MrdquantError
from .gates import (
    FCS_SPILLOVER,
    UNCOMPENSATED,
    BooleanGate,
    Dimension,
    EllipsoidGate,
    GateReference,
    PolygonGate,
    Quadrant,
    QuadrantDivider,
    QuadrantGate,
    RectangleGate,
    _range_and,
)

__all__ = ["GatingStrategy", "GatingResult", "GatingFailure", "GatingBatch", "COUNTS_COLUMNS"]

#: column order of :meth:`GatingResult.counts`
COUNTS_COLUMNS = ["sample_id", "gate_path", "gate", "parent", "count", "percent_parent", "percent_root"]
#: column order of :attr:`GatingBatch.errors`
ERRORS_COLUMNS = ["sample_id", "path", "error_type", "error"]

#: events per chunk of the streaming evaluation (at least; see _MAX_CHUNKS)
_CHUNK = 1 << 20
#: big samples use larger chunks so that one sample needs at most this many: every
#: parallel kernel call synchronises its threads, which is costly on a busy machine
_MAX_CHUNKS = 8
_NO_ROWS = np.empty(0, dtype=np.intp)

_Gate = Union[RectangleGate, PolygonGate, EllipsoidGate, QuadrantGate, BooleanGate]


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


class GatingStrategy:
    """A compiled gate hierarchy.

    Parameters
    ----------
    gates : sequence of gate objects
        :class:`~mrdquant.cytometry.gates.RectangleGate`, ``PolygonGate``,
        ``EllipsoidGate``, ``QuadrantGate`` or ``BooleanGate``. Ids must be unique
        (quadrant ids included); ``parent`` names another gate's id or a quadrant id.
    transforms : mapping of str to Transform, optional
        Transforms referred to by dimensions (:mod:`mrdquant.cytometry.transforms`).
        A :class:`~mrdquant.cytometry.transforms.RatioTransform` defines a derived
        dimension; its two channels are given in ``ratio_channels``.
    ratio_channels : mapping of str to (str, str), optional
        Ratio transform id -> (numerator ``$PnN``, denominator ``$PnN``).
    matrices : mapping of str to pandas.DataFrame, optional
        Spectrum (spillover) matrices by id: rows = fluorochromes, columns = detectors
        (``$PnN``), square; dimensions name a fluorochrome or a detector.
    names : mapping of str to str, optional
        Display names by gate id (default: the id).

    Raises
    ------
    GatingMLError
        Unknown parent, reference, transform or matrix; duplicate ids; cycles.

    Examples
    --------
    >>> from mrdquant.cytometry.gates import Dimension, RectangleGate
    >>> s = GatingStrategy([RectangleGate("big", [Dimension("FSC-A")], [100.0], [None])])
    >>> s.gate_ids
    ['big']
    """

    def __init__(
        self,
        gates: Sequence[_Gate],
        *,
        transforms: Optional[Mapping[str, object]] = None,
        ratio_channels: Optional[Mapping[str, tuple]] = None,
        matrices: Optional[Mapping[str, pd.DataFrame]] = None,
        names: Optional[Mapping[str, str]] = None,
    ):
        from .transforms import RatioTransform, Transform

        self.gates: tuple = tuple(gates)
        self.transforms: dict = dict(transforms or {})
        self.ratio_channels: dict = {k: tuple(v) for k, v in (ratio_channels or {}).items()}
        self.matrices: dict = {}
        self.names: dict = dict(names or {})
        if not self.gates:
            raise GatingMLError("a gating strategy needs at least one gate")
        for tid, t in self.transforms.items():
            if not isinstance(t, Transform):
                raise GatingMLError(f"transform {tid!r}: expected a mrdquant Transform, got {type(t).__name__}")
            if isinstance(t, RatioTransform):
                rc = self.ratio_channels.get(tid)
                if rc is None or len(rc) != 2:
                    raise GatingMLError(f"ratio transform {tid!r}: ratio_channels must name (numerator, denominator)")
        for mid, m in (matrices or {}).items():
            df = m if isinstance(m, pd.DataFrame) else None
            if df is None or df.shape[0] != df.shape[1] or df.shape[0] == 0:
                raise GatingMLError(
                    f"matrix {mid!r}: expected a square, non-empty DataFrame (fluorochromes x detectors)"
                )
            if mid in (UNCOMPENSATED, FCS_SPILLOVER):
                raise GatingMLError(f"matrix id {mid!r} is reserved")
            vals = df.to_numpy(dtype=np.float64)
            if not np.isfinite(vals).all():
                raise GatingMLError(f"matrix {mid!r}: coefficients must be finite")
            if abs(np.linalg.det(vals)) < 1e-300:
                raise GatingMLError(f"matrix {mid!r}: spectrum matrix is singular")
            self.matrices[mid] = df.astype(np.float64)
        self._compile()

    # ------------------------------------------------------------------------------------
    # compilation
    # ------------------------------------------------------------------------------------
    def _compile(self) -> None:
        from .transforms import RatioTransform

        ids: dict = {}
        owner: dict = {}  # quadrant id -> quadrant gate id
        for g in self.gates:
            if not isinstance(g, (RectangleGate, PolygonGate, EllipsoidGate, QuadrantGate, BooleanGate)):
                raise GatingMLError(f"unsupported gate object {type(g).__name__}")
            names = [g.id] + ([q.id for q in g.quadrants] if isinstance(g, QuadrantGate) else [])
            for i in names:
                if i in ids or i in owner:
                    raise GatingMLError(f"duplicate gate id {i!r}")
            ids[g.id] = g
            if isinstance(g, QuadrantGate):
                for q in g.quadrants:
                    owner[q.id] = g.id
        for g in self.gates:
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
                self._check_dimension(g.id, d, RatioTransform)

        order = _topological(list(self.gates), owner)
        slots: dict = {}
        nodes: list = []
        index: dict = {}  # population id -> node index

        def seg(gate_id: str) -> str:
            return str(self.names.get(gate_id, gate_id))

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
        self._nodes: tuple = tuple(nodes)
        # rectangles on raw values (uncompensated, untransformed, no ratio) are evaluated
        # directly on the event matrix: they read no processed column
        self._raw_boxes: frozenset = frozenset(
            nd.index for nd in nodes
            if nd.kind == "rectangle" and all(d.compensation == UNCOMPENSATED and d.transform is None
                                              and not d.ratio for d in nd.gate.dimensions))
        # domain of each column: the deepest common ancestor of the parents of the gates
        # reading it; the column is computed only for that population's events
        consumers: dict = {}
        for nd in nodes:
            if nd.index in self._raw_boxes:
                continue
            for c in nd.columns:
                consumers.setdefault(c, []).append(nd.parent)
        self._domains: tuple = tuple(self._common_ancestor(consumers.get(i, [-1]), nodes)
                                     for i in range(len(slots)))
        self._consumed: frozenset = frozenset(consumers)  # slots some gate reads as a column
        self._index: dict = index
        self._by_path: dict = {n.path: n.index for n in nodes}
        if len(self._by_path) != len(nodes):
            seen: set = set()
            dup = next(n.path for n in nodes if n.path in seen or seen.add(n.path))
            raise GatingMLError(f"two gates have the same path {dup!r}; give sibling gates distinct names")
        self._slots: tuple = tuple(k for k, _ in sorted(slots.items(), key=lambda kv: kv[1]))
        self._dims: tuple = tuple(Dimension(*k) for k in self._slots)

    @staticmethod
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

    def _check_dimension(self, gid: str, d: Dimension, ratio_cls) -> None:
        if d.compensation not in (UNCOMPENSATED, FCS_SPILLOVER) and d.compensation not in self.matrices:
            raise GatingMLError(
                f"gate {gid!r}: dimension {d.channel!r} refers to compensation {d.compensation!r}, which is "
                f"neither 'uncompensated', 'FCS' nor a matrix of this strategy ({sorted(self.matrices)})"
            )
        if d.transform is not None:
            t = self.transforms.get(d.transform)
            if t is None:
                raise GatingMLError(
                    f"gate {gid!r}: dimension {d.channel!r} refers to unknown transform {d.transform!r}"
                )
            if isinstance(t, ratio_cls):
                raise GatingMLError(
                    f"gate {gid!r}: ratio transform {d.transform!r} used as a scale transform; a ratio is a dimension"
                )
        if d.ratio:
            t = self.transforms.get(d.channel)
            if not isinstance(t, ratio_cls):
                raise GatingMLError(f"gate {gid!r}: dimension refers to {d.channel!r}, which is not a ratio transform")

    # ------------------------------------------------------------------------------------
    # introspection
    # ------------------------------------------------------------------------------------
    @property
    def gate_ids(self) -> list:
        """Population ids in evaluation order (quadrants replace their quadrant gate)."""
        return [n.id for n in self._nodes]

    @property
    def gate_paths(self) -> list:
        """Population paths (``"/parent/child"``) in evaluation order."""
        return [n.path for n in self._nodes]

    @property
    def dimensions(self) -> tuple:
        """Every distinct processed column the strategy reads (one compute each per sample)."""
        return self._dims

    def _node(self, gate: str) -> _Node:
        if isinstance(gate, tuple):
            gate = "/" + "/".join(p for p in gate if p != "root")
        if isinstance(gate, str):
            if gate.startswith("/") and gate in self._by_path:
                return self._nodes[self._by_path[gate]]
            if gate in self._index:
                return self._nodes[self._index[gate]]
        raise GatingError(
            f"no gate {gate!r} in this strategy; expected an id ({', '.join(map(repr, self.gate_ids))}) or a path"
        )

    def __repr__(self) -> str:
        return f"GatingStrategy({len(self._nodes)} populations, {len(self._dims)} processed columns)"

    # ------------------------------------------------------------------------------------
    # per-sample preparation
    # ------------------------------------------------------------------------------------
    def _prepare(self, sample) -> "_SamplePlan":
        return _SamplePlan(self, sample)

    # ------------------------------------------------------------------------------------
    # evaluation
    # ------------------------------------------------------------------------------------
    def gate(self, sample, *, sample_id: Optional[str] = None) -> "GatingResult":
        """Apply the strategy to one sample.

        Parameters
        ----------
        sample : FlowSample or path
            A :class:`~mrdquant.io.fcs.FlowSample` (events as read: preprocessed,
            uncompensated) or the path of an FCS file.
        sample_id : str, optional
            Id used in the counts table (default: the file name, or ``"sample"``).

        Returns
        -------
        GatingResult

        Raises
        ------
        GatingError
            A channel the strategy needs is missing (the message names sample and channel),
            or a spillover does not fit the sample.
        """
        sample, sid = _as_sample(sample, sample_id)
        plan = self._prepare(sample)
        n = int(sample.events.shape[0])
        masks = np.empty((len(self._nodes), n), dtype=np.bool_)
        chunk = max(_CHUNK, -(-n // _MAX_CHUNKS))
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            self._evaluate(_Chunk(plan, sample.events[s:e], masks[:, s:e]))
        return GatingResult(sample_id=sid, strategy=self, n_events=n, masks=masks, sample=sample)

    def _evaluate(self, ck: "_Chunk") -> None:
        from ._gates_kernels import _commit_members, kernel

        masks = ck.masks
        for node in self._nodes:
            out = masks[node.index]
            if node.kind == "boolean":
                parts = []
                for ref, comp in node.refs:
                    m = masks[ref]
                    parts.append(~m if comp else m)
                res = node.gate.combine(parts)
                if node.parent >= 0:
                    res &= masks[node.parent]
                out[:] = res
                continue
            idx = ck.members(node.parent)
            box = ck.plan.boxes.get(node.index)
            if box is not None:  # raw rectangle: tested on the event matrix, committed at once
                n_in = ck.n if idx is None else idx.shape[0]
                members = np.empty(n_in, dtype=np.intp)
                count = kernel("raw_box_commit", n_in)(ck.events, _NO_ROWS if idx is None else idx, idx is None,
                                                       *box, out, members)
                ck._members[node.index] = members[:count]
                continue
            vals = [ck.values(c, node.parent) for c in node.columns]
            m = np.ones(ck.n if idx is None else idx.shape[0], dtype=np.bool_)
            if node.kind == "quadrant":
                for v, (lo, hi) in zip(vals, node.bounds):
                    _range_and(v, lo, hi, m)
            else:
                node.gate.evaluate(vals, m)
            # membership row and member rows (for the children) in one pass
            members = np.empty(m.shape[0], dtype=np.intp)
            count = _commit_members(m, _NO_ROWS if idx is None else idx, idx is None, out, members)
            ck._members[node.index] = members[:count]

    def iter_gate(self, samples: Iterable, *, sample_ids: Optional[Sequence[str]] = None) -> Iterator:
        """Gate samples one by one, yielding a :class:`GatingResult` or :class:`GatingFailure` each.

        Reading and gating errors of one sample (any :class:`~mrdquant.errors.MrdquantError`
        or ``OSError``) become a :class:`GatingFailure`; the others are still gated.
        """
        ids = list(sample_ids) if sample_ids is not None else None
        for i, s in enumerate(samples):
            yield self._gate_one(s, None if ids is None else ids[i])

    def _gate_one(self, s, sid):
        try:
            return self.gate(s, sample_id=sid)
        except (MrdquantError, OSError) as exc:
            path = str(s) if isinstance(s, (str, os.PathLike)) else str(getattr(s, "path", "") or "")
            return GatingFailure(sample_id=sid or _default_id(s), path=path, error=exc)

    def gate_many(self, samples: Iterable, *, n_jobs: int = 1,
                  sample_ids: Optional[Sequence[str]] = None, executor=None) -> "GatingBatch":
        """Gate many samples (FlowSample objects or FCS paths) with the compiled strategy.

        Parameters
        ----------
        samples : iterable of FlowSample or path
        n_jobs : int, default 1
            Samples processed concurrently (threads; each kernel is itself parallel, so
            values above 1 mainly overlap file reading with gating).
        sample_ids : sequence of str, optional
        executor : concurrent.futures.Executor, optional
            Runs the samples on this executor instead (``n_jobs`` is then ignored): e.g.
            a ``ProcessPoolExecutor``, or ``dask.distributed.Client(address).get_executor()``
            to gate past one machine. The strategy and each sample are pickled to the
            workers, so pass FCS paths the workers can read rather than loaded samples. A
            process pool must use the "spawn" or "forkserver" start method: numba's
            OpenMP threading layer is not fork-safe once a parallel kernel has run.

        Returns
        -------
        GatingBatch
            ``results`` (successful samples, input order), ``failures`` and the combined
            ``counts()`` / ``errors`` tables.
        """
        items = list(samples)
        ids = list(sample_ids) if sample_ids is not None else [None] * len(items)
        if len(ids) != len(items):
            raise GatingError(f"sample_ids: {len(ids)} ids for {len(items)} samples")
        if executor is not None:
            out = list(executor.map(self._gate_one, items, ids))
        elif n_jobs is None or n_jobs <= 1:
            out = [self._gate_one(s, i) for s, i in zip(items, ids)]
        else:
            with ThreadPoolExecutor(max_workers=int(n_jobs)) as ex:
                out = list(ex.map(self._gate_one, items, ids))
        return GatingBatch(
            results=[r for r in out if isinstance(r, GatingResult)],
            failures=[r for r in out if isinstance(r, GatingFailure)],
        )

    # ------------------------------------------------------------------------------------
    # import / export
    # ------------------------------------------------------------------------------------
    @classmethod
    def from_document(cls, doc) -> "GatingStrategy":
        """Compile a :class:`~mrdquant.io.gatingml.GatingMLDocument`."""
        from ..io.gatingml import GatingMLDocument  # noqa: F401  (type only)
        from .transforms import transform_from_dict

        src = doc.source or "Gating-ML document"
        transforms, ratio_channels = {}, {}
        for tid, spec in doc.transforms.items():
            params = {k: v for k, v in spec.items() if k != "dimensions"}
            try:
                transforms[tid] = transform_from_dict(params)
            except MrdquantError as exc:
                raise GatingMLError(f"{src}: transformation {tid!r}: {exc}") from exc
            if spec.get("dimensions"):
                ratio_channels[tid] = tuple(spec["dimensions"])
        matrices = {}
        for mid, m in doc.matrices.items():
            matrices[mid] = pd.DataFrame(np.asarray(m["values"], dtype=np.float64),
                                         index=list(m["fluorochromes"]), columns=list(m["detectors"]))

        def dim(d: dict) -> Dimension:
            return Dimension(d["name"], d["compensation"], d.get("transform"), bool(d.get("ratio", False)))

        gates = []
        names = {}
        for g in doc.gates:
            gid, parent, kind = g["id"], g.get("parent"), g["type"]
            try:
                if kind == "rectangle":
                    gates.append(RectangleGate(gid, [dim(d) for d in g["dimensions"]],
                                               [d.get("min") for d in g["dimensions"]],
                                               [d.get("max") for d in g["dimensions"]], parent))
                elif kind == "polygon":
                    gates.append(PolygonGate(gid, [dim(d) for d in g["dimensions"]], g["vertices"], parent))
                elif kind == "ellipsoid":
                    gates.append(EllipsoidGate(gid, [dim(d) for d in g["dimensions"]], g["mean"],
                                               g["covariance"], g["distance_square"], parent))
                elif kind == "quadrant":
                    divs = [QuadrantDivider(v["id"], dim(v["dimension"]), v["values"]) for v in g["dividers"]]
                    quads = [Quadrant(q["id"], q["positions"]) for q in g["quadrants"]]
                    gates.append(QuadrantGate(gid, divs, quads, parent))
                elif kind == "boolean":
                    gates.append(BooleanGate(gid, g["op"], [GateReference(r, bool(c)) for r, c in g["refs"]], parent))
                else:
                    raise GatingMLError(f"gate {gid!r}: unsupported gate type {kind!r}")
            except GatingMLError as exc:
                raise GatingMLError(f"{src}: {exc}") from None
            if g.get("name"):
                names[gid] = g["name"]
        try:
            return cls(gates, transforms=transforms, ratio_channels=ratio_channels, matrices=matrices, names=names)
        except GatingMLError as exc:
            raise GatingMLError(f"{src}: {exc}") from None

    @classmethod
    def from_gatingml(cls, path: Union[str, os.PathLike]) -> "GatingStrategy":
        """Read and compile a Gating-ML 2.0 file.

        Raises
        ------
        GatingMLError
            Unreadable file or unsupported construct (the message names gate and construct).
        """
        from ..io.gatingml import read_gatingml

        return cls.from_document(read_gatingml(path))

    @classmethod
    def from_flowjo(cls, path: Union[str, os.PathLike], *, sample_id: str,
                    group: str = "All Samples") -> "GatingStrategy":
        """Compile the gates a FlowJo 10 workspace applies to one sample.

        Parameters
        ----------
        path : path of a ``.wsp`` file
        sample_id : str
            The sample's id in the workspace (its FCS file name as FlowJo lists it).
        group : str, default "All Samples"
            Sample group that must contain the sample.

        Gates are addressed by path (FlowJo allows the same name in different branches);
        ``names`` keeps FlowJo's gate names for the counts table.
        """
        from ..io.flowjo import read_flowjo

        return cls.from_document(read_flowjo(path, sample_id=sample_id, group=group))

    def to_document(self):
        """This strategy as a :class:`~mrdquant.io.gatingml.GatingMLDocument`."""
        from ..io.gatingml import GatingMLDocument
        from .transforms import RatioTransform

        doc = GatingMLDocument()
        for tid, t in self.transforms.items():
            spec = dict(t.to_dict())
            if isinstance(t, RatioTransform):
                spec["dimensions"] = tuple(self.ratio_channels[tid])
            doc.transforms[tid] = spec
        for mid, m in self.matrices.items():
            doc.matrices[mid] = {"fluorochromes": tuple(map(str, m.index)), "detectors": tuple(map(str, m.columns)),
                                 "values": m.to_numpy(dtype=np.float64)}

        def ddict(d: Dimension, **extra) -> dict:
            return {"name": d.channel, "compensation": d.compensation, "transform": d.transform,
                    "ratio": d.ratio, **extra}

        for g in self.gates:
            spec = {"id": g.id, "parent": g.parent, "type": g.kind}
            if isinstance(g, RectangleGate):
                spec["dimensions"] = [ddict(d, min=lo, max=hi) for d, lo, hi in zip(g.dimensions, g.mins, g.maxs)]
            elif isinstance(g, PolygonGate):
                spec["dimensions"] = [ddict(d) for d in g.dimensions]
                spec["vertices"] = g.vertices
            elif isinstance(g, EllipsoidGate):
                spec.update(dimensions=[ddict(d) for d in g.dimensions], mean=g.mean, covariance=g.covariance,
                            distance_square=g.distance_square)
            elif isinstance(g, QuadrantGate):
                spec["dividers"] = [{"id": v.id, "dimension": ddict(v.dimension), "values": list(v.values)}
                                    for v in g.dividers]
                spec["quadrants"] = [{"id": q.id, "positions": list(q.positions)} for q in g.quadrants]
            else:
                spec["op"] = g.op
                spec["refs"] = [(r.ref, r.complement) for r in g.refs]
            doc.gates.append(spec)
        return doc

    def to_gatingml(self, path: Union[str, os.PathLike]) -> Path:
        """Write the strategy as a Gating-ML 2.0 file (atomically); returns the path.

        Raises
        ------
        GatingMLError
            A transform has no Gating-ML 2.0 equivalent (e.g. the FlowJo biex).
        """
        from ..io.gatingml import write_gatingml

        return write_gatingml(self.to_document(), path)


# ----------------------------------------------------------------------------------------
# per-sample plan: channel indices, compensation, column recipes
# ----------------------------------------------------------------------------------------


class _Chunk:
    """Working state of one chunk: member rows, row blocks, compensated and processed columns.

    A processed column is computed once, for the events of its domain population only
    (``strategy._domains``); gates read it compacted to their parent's events.
    """

    def __init__(self, plan: "_SamplePlan", events: np.ndarray, masks: np.ndarray):
        self.plan = plan
        self.events = events
        self.masks = masks
        self.n = int(events.shape[0])
        self._members: dict = {}
        self._ranks: dict = {}
        self._comp: dict = {}
        self._cols: dict = {}

    def members(self, node: int):
        """Row numbers (within the chunk) of a population's events; None = all rows."""
        if node < 0:
            return None
        idx = self._members.get(node)
        if idx is None:
            idx = np.flatnonzero(self.masks[node])
            self._members[node] = idx
        return idx

    def source(self, channel: int, comp: Optional[str], domain: int) -> np.ndarray:
        """One channel over the domain's events, compensated by ``comp`` (None = raw); float64."""
        idx = self.members(domain)
        rows = _NO_ROWS if idx is None else idx
        key = (comp, domain)
        hit = self._comp.get(key)
        if hit is None:
            # every channel the domain needs from one compensation, in one pass; the raw
            # channels of the domain are taken in the pass of its first compensation
            raw_key = (None, domain)
            fuse = raw_key in self.plan._need and raw_key not in self._comp
            cid = comp
            if cid is None:
                cid = next((c for c, d in self.plan._need
                            if d == domain and c is not None and (c, d) not in self._comp), None)
            if cid is None:
                self._comp[raw_key] = self.plan.take_raw(domain, self.events, rows, idx is None)
            else:
                got, raw = self.plan.compensate(cid, domain, self.events, rows, idx is None, fuse)
                self._comp[(cid, domain)] = got
                if fuse:
                    self._comp[raw_key] = raw
            hit = self._comp[key]
        pos, mat = hit
        row = mat[pos[channel]]
        # callers transform in place: hand out the row itself only to its single user
        return row.copy() if self.plan.uses[(comp, domain, channel)] > 1 else row

    def column(self, slot: int) -> np.ndarray:
        col = self._cols.get(slot)
        if col is None:
            col = self.plan.compute(slot, self)
            self._cols[slot] = col
        return col

    def values(self, slot: int, parent: int) -> np.ndarray:
        """Column ``slot`` restricted (in row order) to the events of ``parent``."""
        domain = self.plan.strategy._domains[slot]
        col = self.column(slot)
        if domain == parent:
            return col
        idx = self.members(parent)
        if domain < 0:
            return col if idx is None else col[idx]
        rank = self._ranks.get(domain)
        if rank is None:
            rank = np.empty(self.n, dtype=np.intp)
            didx = self.members(domain)
            rank[didx] = np.arange(didx.shape[0])
            self._ranks[domain] = rank
        return col[rank[idx]]


class _SamplePlan:
    """How to compute every processed column of one sample."""

    def __init__(self, strategy: GatingStrategy, sample):
        self.strategy = strategy
        self.sample = sample
        self.where = str(getattr(sample, "path", None) or "in-memory sample")
        self._compensators: dict = {}
        self._recipes = [self._recipe(k) for k in strategy._slots]
        # raw rectangles: (channels, lo, hi, has_lo, has_hi) for the fused kernel
        self.boxes: dict = {}
        for i in sorted(strategy._raw_boxes):
            g = strategy._nodes[i].gate
            self.boxes[i] = (
                np.array([self._channel(d.channel, UNCOMPENSATED) for d in g.dimensions], dtype=np.intp),
                np.array([np.nan if v is None else v for v in g.mins], dtype=np.float64),
                np.array([np.nan if v is None else v for v in g.maxs], dtype=np.float64),
                np.array([v is not None for v in g.mins], dtype=np.bool_),
                np.array([v is not None for v in g.maxs], dtype=np.bool_),
            )
        # compensated channels needed per (compensation, domain)
        need: dict = {}
        self.uses: dict = {}
        for slot, r in enumerate(self._recipes):
            if slot not in strategy._consumed:  # read only by raw rectangles
                continue
            dom = strategy._domains[slot]
            for src in (r[1], r[2]):
                if src is not None:  # raw channels (compensation None) are batched the same way
                    key = (src[1], dom, src[0])
                    self.uses[key] = self.uses.get(key, 0) + 1
                    need.setdefault((src[1], dom), [])
                    if src[0] not in need[(src[1], dom)]:
                        need[(src[1], dom)].append(src[0])
        self._need = need

    def _channel(self, name: str, comp: str) -> int:
        m = self.strategy.matrices.get(comp)
        if m is not None:
            fl = [str(x) for x in m.index]
            if name in fl and name not in [str(c) for c in m.columns]:
                name = str(m.columns[fl.index(name)])
        try:
            return self.sample.channel_index(name)
        except MrdquantError as exc:
            raise GatingError(f"{self.where}: the gating strategy needs channel {name!r}: {exc}") from None

    def _comp_id(self, comp: str, idx: int) -> Optional[str]:
        """Effective compensation of channel ``idx``: None when it stays uncompensated."""
        if comp == UNCOMPENSATED:
            return None
        hit = self._compensator(comp)
        if hit is None:
            return None
        det_idx, _ = hit
        return comp if idx in det_idx else None

    def _compensator(self, comp: str):
        if comp in self._compensators:
            return self._compensators[comp]
        from .compensation import Compensation

        if comp == FCS_SPILLOVER:
            spill = self.sample.spillover
            if spill is None:  # Gating-ML 2.0: 'FCS' without a spillover keyword = uncompensated
                self._compensators[comp] = None
                return None
            try:
                obj = Compensation.from_dataframe(spill, source=f"{self.where} $SPILLOVER")
            except MrdquantError as exc:
                raise GatingError(f"{self.where}: compensation 'FCS': {exc}") from None
        else:
            m = self.strategy.matrices[comp]
            # rows are fluorochromes; fluorochrome i is measured mainly by detector i
            try:
                obj = Compensation(tuple(map(str, m.columns)), m.to_numpy(dtype=np.float64),
                                   fluorochromes=tuple(map(str, m.index)), source=f"spectrum matrix {comp!r}")
            except MrdquantError as exc:
                raise GatingError(f"{self.where}: compensation {comp!r}: {exc}") from None
        try:
            det = obj.match(self.sample.channels, unmatched="keep", sample=self.where)
        except MrdquantError as exc:
            raise GatingError(f"{self.where}: compensation {comp!r}: {exc}") from None
        self._compensators[comp] = ([int(i) for i in det], obj)
        return self._compensators[comp]

    def take_raw(self, domain: int, events: np.ndarray, rows: np.ndarray, all_rows: bool) -> tuple:
        """Raw (uncompensated) values of every channel the domain needs: ``(position, matrix)``."""
        from . import _gates_kernels as _k

        wanted = self._need.get((None, domain)) or []
        n = events.shape[0] if all_rows else rows.shape[0]
        mat = np.empty((len(wanted), n), dtype=np.float64)
        _k.kernel("take_columns", n)(events, rows, all_rows, np.asarray(wanted, dtype=np.intp), mat)
        return {ch: i for i, ch in enumerate(wanted)}, mat

    def compensate(self, comp: str, domain: int, events: np.ndarray, rows: np.ndarray, all_rows: bool,
                   with_raw: bool = False) -> tuple:
        """Compensated values of the needed detectors on some rows: ``(position, matrix)``.

        Column ``position[channel]`` of ``matrix`` is ``events[rows][:, detectors] @
        inverse[:, j]`` for the matrix's detector j read in that channel (the
        ``Compensation`` inverse, computed once per matrix); only the detectors some gate
        reads are computed. Returns ``(compensated, raw)``: with ``with_raw``, ``raw`` is
        :meth:`take_raw` of the same rows, taken in the same pass (else None).
        """
        det_idx, obj = self._compensators[comp]
        wanted = self._need.get((comp, domain)) or []
        raw_wanted = (self._need.get((None, domain)) or []) if with_raw else []
        got, raw = self._compensate_channels(det_idx, obj.inverse, wanted, events, rows, all_rows, raw_wanted)
        return got, (raw if with_raw else None)

    @staticmethod
    def _compensate_channels(det_idx: list, inverse: np.ndarray, wanted: list, events: np.ndarray,
                             rows: np.ndarray, all_rows: bool, raw_wanted: Sequence = ()) -> tuple:
        from . import _gates_kernels as _k

        cols = [det_idx.index(ch) for ch in wanted]
        n = events.shape[0] if all_rows else rows.shape[0]
        mat = np.empty((len(cols), n), dtype=np.float64)
        raw = np.empty((len(raw_wanted), n), dtype=np.float64)
        _k.kernel("take_compensated", n)(events, rows, all_rows, np.asarray(det_idx, dtype=np.intp),
                                         np.ascontiguousarray(inverse[:, cols], dtype=np.float64), mat,
                                         np.asarray(raw_wanted, dtype=np.intp), raw)
        return ({ch: i for i, ch in enumerate(wanted)}, mat), ({ch: i for i, ch in enumerate(raw_wanted)}, raw)

    def _recipe(self, key: tuple):
        channel, comp, transform, ratio = key
        strat = self.strategy
        if ratio:
            num, den = strat.ratio_channels[channel]
            i1, i2 = self._channel(num, comp), self._channel(den, comp)
            return ("ratio", (i1, self._comp_id(comp, i1)), (i2, self._comp_id(comp, i2)),
                    strat.transforms[channel], strat.transforms.get(transform) if transform else None)
        idx = self._channel(channel, comp)
        return ("plain", (idx, self._comp_id(comp, idx)), None, None,
                strat.transforms.get(transform) if transform else None)

    def compute(self, slot: int, ck: _Chunk) -> np.ndarray:
        kind, a, b, ratio_t, t = self._recipes[slot]
        dom = self.strategy._domains[slot]
        if kind == "ratio":
            x1 = ck.source(a[0], a[1], dom)
            x2 = ck.source(b[0], b[1], dom)
            col = ratio_t.apply2(x1, x2, out=x1)
        else:
            col = ck.source(a[0], a[1], dom)
        if t is not None:
            col = t.apply(col, out=col)
        return col

    def values(self, rows: np.ndarray) -> pd.DataFrame:
        """All processed columns for the given event rows (a DataFrame, labels as columns)."""
        block = self.sample.events[rows]
        out = {}
        for slot, d in enumerate(self.strategy._dims):
            kind, a, b, ratio_t, t = self._recipes[slot]

            def src(ch, comp):
                if comp is None:
                    return np.array(block[:, ch], dtype=np.float64)
                det_idx, obj = self._compensators[comp]
                (pos, mat), _ = self._compensate_channels(det_idx, obj.inverse, [ch], block, _NO_ROWS, True)
                return mat[0]

            col = src(*a)
            if kind == "ratio":
                col = ratio_t.apply2(col, src(*b), out=col)
            if t is not None:
                col = t.apply(col, out=col)
            out[d.label] = col
        return pd.DataFrame(out, columns=[d.label for d in self.strategy._dims])


# ----------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------


def _default_id(sample) -> str:
    if isinstance(sample, (str, os.PathLike)):
        return Path(sample).name
    p = getattr(sample, "path", None)
    return Path(p).name if p else "sample"


def _as_sample(sample, sample_id):
    if isinstance(sample, (str, os.PathLike)):
        from ..io.fcs import read_fcs

        s = read_fcs(sample)
    else:
        s = sample
        if not hasattr(s, "events") or not hasattr(s, "channels"):
            raise GatingError(f"expected a FlowSample or an FCS path, got {type(sample).__name__}")
    return s, (sample_id or _default_id(sample))


@dataclass(frozen=True, eq=False)
class GatingResult:
    """Memberships of every population of a strategy in one sample.

    Attributes
    ----------
    sample_id : str
    strategy : GatingStrategy
    n_events : int
    masks : ndarray of shape (n_populations, n_events), bool
        Row i is the membership (parent applied) of ``strategy.gate_paths[i]``.
    sample : FlowSample
        The gated sample (used by :meth:`events`).
    """

    sample_id: str
    strategy: GatingStrategy
    n_events: int
    masks: np.ndarray = field(repr=False)
    sample: object = field(repr=False)

    def membership(self, gate) -> np.ndarray:
        """Boolean membership (parent applied) of a gate, by id or path (``"/A/B"``).

        Returns
        -------
        ndarray of shape (n_events,), bool (read-only view)
        """
        node = self.strategy._node(gate)
        m = self.masks[node.index]
        m.flags.writeable = False
        return m

    def count(self, gate) -> int:
        """Number of events in a gate (parent applied)."""
        return int(np.count_nonzero(self.masks[self.strategy._node(gate).index]))

    def counts(self) -> pd.DataFrame:
        """One row per population.

        Returns
        -------
        pandas.DataFrame
            Columns ``sample_id`` (str), ``gate_path`` (str, ``"/parent/gate"``), ``gate``
            (str, display name), ``parent`` (str, parent's display name or ``"root"``),
            ``count`` (int64, events), ``percent_parent`` (float64, % of the parent's
            events; NaN when the parent is empty), ``percent_root`` (float64, % of all
            events; NaN for an empty sample).
        """
        nodes = self.strategy._nodes
        counts = np.array([int(np.count_nonzero(self.masks[n.index])) for n in nodes], dtype=np.int64)
        names = self.strategy.names
        parent_counts = np.array([self.n_events if n.parent < 0 else counts[n.parent] for n in nodes],
                                 dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            pp = np.where(parent_counts > 0, 100.0 * counts / np.where(parent_counts > 0, parent_counts, 1), np.nan)
            pr = (100.0 * counts / self.n_events) if self.n_events else np.full(len(nodes), np.nan)
        return pd.DataFrame({
            "sample_id": [self.sample_id] * len(nodes),
            "gate_path": [n.path for n in nodes],
            "gate": [names.get(n.id, n.id) for n in nodes],
            "parent": ["root" if n.parent < 0 else names.get(nodes[n.parent].id, nodes[n.parent].id) for n in nodes],
            "count": counts,
            "percent_parent": pp.astype(np.float64),
            "percent_root": np.asarray(pr, dtype=np.float64),
        }, columns=COUNTS_COLUMNS)

    def events(self, gate) -> pd.DataFrame:
        """Processed (compensated, transformed) values of the gate's member events.

        Returns
        -------
        pandas.DataFrame
            One row per member event (index = event number in the file), one column per
            processed dimension of the strategy, named like ``"FL1-H[MySpill|Logicle]"``
            (channel, then compensation and transform when used).
        """
        rows = np.flatnonzero(self.membership(gate))
        plan = self.strategy._prepare(self.sample)
        df = plan.values(rows)
        df.index = pd.Index(rows, name="event")
        return df


@dataclass(frozen=True)
class GatingFailure:
    """A sample that could not be read or gated."""

    sample_id: str
    path: str
    error: BaseException

    def record(self) -> dict:
        return {"sample_id": self.sample_id, "path": self.path, "error_type": type(self.error).__name__,
                "error": str(self.error)}


@dataclass(frozen=True)
class GatingBatch:
    """Results of :meth:`GatingStrategy.gate_many`."""

    results: list
    failures: list

    def counts(self) -> pd.DataFrame:
        """Counts of every successful sample, concatenated (see :meth:`GatingResult.counts`)."""
        if not self.results:
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
                COUNTS_COLUMNS, ["object", "object", "object", "object", "int64", "float64", "float64"])})
        return pd.concat([r.counts() for r in self.results], ignore_index=True)

    @property
    def errors(self) -> pd.DataFrame:
        """One row per failed sample: ``sample_id``, ``path``, ``error_type``, ``error``."""
        return pd.DataFrame([f.record() for f in self.failures], columns=ERRORS_COLUMNS)

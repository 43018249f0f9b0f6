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

One idea per module: this module is the public strategy object; compiling the hierarchy
lives in :mod:`._gating_compile`, the per-sample engine in :mod:`._gating_engine`,
results in :mod:`.gating_result`, batch runs in :mod:`.gating_batch`, and the conversion
to and from Gating-ML documents (:mod:`mrdquant.io.gatingml`) in
:mod:`._gatingml_convert`. Every public name stays importable from here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ..errors import GatingError, GatingMLError
from ._gating_compile import Hierarchy, _Node, compile_hierarchy
from ._gating_engine import _Chunk, _SamplePlan, _as_sample, evaluate
from .gates import (
    FCS_SPILLOVER,
    UNCOMPENSATED,
    BooleanGate,
    EllipsoidGate,
    PolygonGate,
    QuadrantGate,
    RectangleGate,
)
from .gating_batch import ERRORS_COLUMNS, GatingBatch, GatingFailure, gate_many, gate_one  # noqa: F401  (re-exported)
from .gating_result import COUNTS_COLUMNS, GatingResult  # noqa: F401  (re-exported)

__all__ = ["GatingStrategy", "GatingResult", "GatingFailure", "GatingBatch", "COUNTS_COLUMNS"]

#: events per chunk of the streaming evaluation (at least; see _MAX_CHUNKS)
_CHUNK = 1 << 20
#: big samples use larger chunks so that one sample needs at most this many: every
#: parallel kernel call synchronises its threads, which is costly on a busy machine
_MAX_CHUNKS = 8

_Gate = Union[RectangleGate, PolygonGate, EllipsoidGate, QuadrantGate, BooleanGate]


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
        self._hierarchy: Hierarchy = compile_hierarchy(self.gates, transforms=self.transforms,
                                                       matrices=self.matrices, names=self.names)

    # ------------------------------------------------------------------------------------
    # compiled hierarchy (see _gating_compile.Hierarchy), read by the engine and results
    # ------------------------------------------------------------------------------------
    @property
    def _nodes(self) -> tuple:
        return self._hierarchy.nodes

    @property
    def _raw_boxes(self) -> frozenset:
        return self._hierarchy.raw_boxes

    @property
    def _domains(self) -> tuple:
        return self._hierarchy.domains

    @property
    def _consumed(self) -> frozenset:
        return self._hierarchy.consumed

    @property
    def _slots(self) -> tuple:
        return self._hierarchy.slots

    @property
    def _dims(self) -> tuple:
        return self._hierarchy.dims

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

    def _node(self, gate) -> _Node:
        """The population a user names: a full path, a gate id, or a gate name unique in the strategy.

        ``gate`` is a path (``"/A/B"``, or a tuple of names, a leading ``"root"`` ignored),
        which always works; or a gate's id or its name as :meth:`GatingResult.counts`
        lists it, accepted when it picks out one population. A name (or id) that more
        than one population carries raises :class:`GatingError` listing their paths.
        """
        if isinstance(gate, tuple):
            gate = "/" + "/".join(p for p in gate if p != "root")
        if isinstance(gate, str):
            h = self._hierarchy
            if gate.startswith("/") and gate in h.by_path:
                return self._nodes[h.by_path[gate]]
            hits = sorted(set(h.by_name.get(gate, ())) | ({h.index[gate]} if gate in h.index else set()))
            if len(hits) == 1:
                return self._nodes[hits[0]]
            if hits:
                paths = ", ".join(repr(self._nodes[i].path) for i in hits)
                raise GatingError(
                    f"gate {gate!r} is ambiguous: {len(hits)} populations of this strategy are named so "
                    f"({paths}); give the full path"
                )
        names = list(dict.fromkeys(str(self.names.get(n.id, n.id)) for n in self._nodes))
        raise GatingError(
            f"no gate {gate!r} in this strategy; expected a gate name ({', '.join(map(repr, names))}), "
            f"an id or a full path such as {self._nodes[-1].path!r}"
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
        return self._gate(sample, sample_id)

    def _gate(self, sample, sample_id: Optional[str] = None, memberships: Optional[dict] = None) -> "GatingResult":
        """:meth:`gate`, taking the memberships of some gates from the caller.

        ``memberships`` maps gate ids to boolean arrays over all events of the file (the
        parent applied) that the caller computed with the gate's own rule on the same
        values, e.g. while placing it; those gates are not evaluated again, the others
        (booleans, gates not given) are evaluated from them.
        """
        sample, sid = _as_sample(sample, sample_id)
        plan = self._prepare(sample)
        plan.memberships = memberships or {}
        n = int(sample.events.shape[0])
        masks = np.empty((len(self._nodes), n), dtype=np.bool_)
        chunk = max(_CHUNK, -(-n // _MAX_CHUNKS))
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            evaluate(self, _Chunk(plan, sample.events[s:e], masks[:, s:e], start=s))
        return GatingResult(sample_id=sid, strategy=self, n_events=n, masks=masks, sample=sample)

    def iter_gate(self, samples: Iterable, *, sample_ids: Optional[Sequence[str]] = None) -> Iterator:
        """Gate samples one by one, yielding a :class:`GatingResult` or :class:`GatingFailure` each.

        Reading and gating errors of one sample (any :class:`~mrdquant.errors.MrdquantError`
        or ``OSError``) become a :class:`GatingFailure`; the others are still gated.
        """
        ids = list(sample_ids) if sample_ids is not None else None
        for i, s in enumerate(samples):
            yield self._gate_one(s, None if ids is None else ids[i])

    def _gate_one(self, s, sid):
        return gate_one(self, s, sid)

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
        return gate_many(self, samples, n_jobs=n_jobs, sample_ids=sample_ids, executor=executor)

    # ------------------------------------------------------------------------------------
    # import / export
    # ------------------------------------------------------------------------------------
    @classmethod
    def from_document(cls, doc) -> "GatingStrategy":
        """Compile a :class:`~mrdquant.io.gatingml.GatingMLDocument`.

        Raises
        ------
        GatingMLError
            A transform, gate or reference the strategy cannot take (the message starts
            with the document's source).
        """
        from ._gatingml_convert import strategy_from_document

        return strategy_from_document(doc, cls)

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
        from ._gatingml_convert import strategy_to_document

        return strategy_to_document(self)

    def to_gatingml(self, path: Union[str, os.PathLike]) -> Path:
        """Write the strategy as a Gating-ML 2.0 file (atomically); returns the path.

        Raises
        ------
        GatingMLError
            A transform has no Gating-ML 2.0 equivalent (e.g. the FlowJo biex).
        """
        from ..io.gatingml import write_gatingml

        return write_gatingml(self.to_document(), path)


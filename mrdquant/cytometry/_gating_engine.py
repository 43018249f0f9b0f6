"""The per-sample gating engine: one chunk of events through a compiled hierarchy.

:class:`_SamplePlan` resolves, once per sample, how each processed column of the
strategy is made from the file (channel indices, compensation, transform) and which raw
rectangles are tested straight on the event matrix. :class:`_Chunk` holds the working
state of one chunk of events (member rows of each population, compensated and processed
columns, each computed once and only for its domain's events), and :func:`evaluate` runs
every population of the strategy over the chunk, writing the membership rows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from ..errors import GatingError, MrdquantError, located
from .gates import FCS_SPILLOVER, UNCOMPENSATED, _range_and

__all__ = ["evaluate"]

_NO_ROWS = np.empty(0, dtype=np.intp)


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


def evaluate(strategy, ck: "_Chunk") -> None:
    """Every population of the strategy on one chunk: fills ``ck.masks`` row by row."""
    from ._gates_kernels import _commit_members, kernel

    masks = ck.masks
    given = ck.plan.memberships
    for node in strategy._nodes:
        out = masks[node.index]
        if given and node.id in given:  # computed by the caller: its member rows are found when needed
            out[:] = given[node.id][ck.start:ck.start + ck.n]
            continue
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


class _Chunk:
    """Working state of one chunk: member rows, row blocks, compensated and processed columns.

    A processed column is computed once, for the events of its domain population only
    (``strategy._domains``); gates read it compacted to their parent's events.
    """

    def __init__(self, plan: "_SamplePlan", events: np.ndarray, masks: np.ndarray, start: int = 0):
        self.plan = plan
        self.events = events
        self.masks = masks
        self.start = int(start)  # row of the sample at the chunk's first row
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

    def __init__(self, strategy, sample):
        self.strategy = strategy
        self.sample = sample
        self.where = str(getattr(sample, "path", None) or "in-memory sample")
        #: gate id -> membership over the sample's events, given by the caller
        self.memberships: dict = {}
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
            raise GatingError(located(self.where, f"the gating strategy needs channel {name!r}: {exc}")) from None

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


"""One FCS file through a panel: channels, compensated/transformed values, QC and placed gates.

:func:`prepare` resolves the panel's markers in the file (:mod:`mrdquant.mfc.markers`),
compensates with the file's own spillover and applies the panel's transform, then walks
the panel's gates in order -- denominator chain (time QC, singlets, nucleated/viable,
CD45+), lineage gates, LAIP marker gates -- placing each from this sample's events
(:mod:`mrdquant.mfc.qc`, :mod:`mrdquant.mfc.placement`). The placed gates are compiled
into a :class:`~mrdquant.cytometry.gating.GatingStrategy`. Each placed gate's membership
is computed while placing it, with the gate's own rule on the values the strategy reads
(the strategy's compensation kernel and transform, raw scatter), and the strategy takes
these memberships and evaluates the LAIP booleans from them; so exporting it to
Gating-ML and gating the file again (here or in another tool) gives the same events.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..cytometry.gates import BooleanGate, Dimension, PolygonGate, RectangleGate, polygon_mask
from ..errors import ConfigError, MrdquantError
from ..io.fcs import FlowSample, read_fcs
from .markers import resolve_channels, resolve_scatter
from .panels import GateSpec, Panel, load_panel
from .placement import place_threshold
from .qc import place_singlets, time_qc

__all__ = ["prepare", "PreparedSample", "QC_COLUMNS", "GATE_COLUMNS", "TRANSFORM_ID"]

#: columns of ``PreparedSample.qc``
QC_COLUMNS = ["step", "events_in", "events_out", "removed", "detail"]
#: columns of ``PreparedSample.gates``
GATE_COLUMNS = ["gate", "parent", "kind", "x", "y", "coordinates", "placed", "events", "percent_parent"]
#: id of the panel's marker transform in the exported strategy
TRANSFORM_ID = "panel_transform"


@dataclass
class PreparedSample:
    """A file resolved against a panel, with QC and placed gates.

    Attributes
    ----------
    sample : FlowSample
    panel : Panel
    sample_id : str
    markers : list of str
        The panel's markers, in panel order.
    channels : dict of str to str
        Marker -> ``$PnN`` in this file.
    values : ndarray (n_events, n_markers), float64
        Compensated (file's ``$SPILLOVER``) and panel-transformed values of every event,
        columns in ``markers`` order.
    scatter : dict of str to ndarray
        Raw ``FSC-A``, ``FSC-H`` / ``FSC-W``, ``SSC-A`` and ``Time`` (s) where present.
    denominator_mask : ndarray (n_events,), bool
        Events of the panel's last denominator step.
    qc : DataFrame
        One row per denominator step: ``step, events_in, events_out, removed, detail``.
    gates : DataFrame
        One row per gate (denominator steps, marker gates, LAIPs): ``gate, parent, kind, x,
        y, coordinates`` (JSON), ``placed`` (bool: set from this sample's data),
        ``events``, ``percent_parent`` (%).
    gate_masks : dict of str to ndarray (n_events,), bool
        Membership of every gate (parent applied), QC steps included: read-only views of
        the placed strategy's membership matrix (copy one to modify it).
    strategy : GatingStrategy
        The placed gates as a strategy; :meth:`to_gatingml` writes it.
    placements : dict of str to dict
        What each placement found (method, fallback, peak, reason, ...).
    explicit_channels : dict of str to str
        The explicit marker -> channel mapping the call gave (``channels=``): these
        markers were not resolved from ``$PnS``.
    """

    sample: FlowSample
    panel: Panel
    sample_id: str
    markers: list
    channels: dict
    _values: object = field(repr=False)
    scatter: dict = field(repr=False)
    denominator_mask: np.ndarray = field(repr=False)
    qc: pd.DataFrame = field(repr=False)
    gates: pd.DataFrame = field(repr=False)
    gate_masks: dict = field(repr=False)
    strategy: object = field(repr=False)
    placements: dict = field(repr=False)
    explicit_channels: dict = field(default_factory=dict)

    @property
    def values(self) -> np.ndarray:
        """Compensated, panel-transformed values ``(n_events, n_markers)``, float64.

        Placement transforms only the events each gate looks at; the remaining events are
        transformed on first access of this attribute.
        """
        return self._values.full()

    @property
    def n_events(self) -> int:
        """Events in the file."""
        return self.sample.n_events

    def marker_values(self, marker: str) -> np.ndarray:
        """Transformed values of one marker (all events)."""
        return self._values.column(self.markers.index(marker))

    def to_gatingml(self, path: "str | os.PathLike") -> Path:
        """Write the placed gates as Gating-ML 2.0.

        Dimensions name this file's ``$PnN``; the marker each channel carries is kept in
        the file's top-level ``custom_info`` so ``mrdquant gate`` can refuse a file whose
        ``$PnS`` disagree. Reading it back and gating this file gives the same counts.
        """
        from ..io.gatingml import write_gatingml

        doc = self.strategy.to_document()
        doc.markers = {ch: m for m, ch in self.channels.items()}
        return write_gatingml(doc, path)


def _as_sample(sample) -> FlowSample:
    if isinstance(sample, FlowSample):
        return sample
    if isinstance(sample, (str, os.PathLike)):
        return read_fcs(sample)
    raise ConfigError(f"sample: expected a FlowSample or an FCS path, got {type(sample).__name__}")


class _MarkerValues:
    """Compensated marker columns, transformed lazily, in place, as gates need them.

    All markers live in one ``(n_markers, n_events)`` float64 block, one contiguous row
    per marker in panel order (so :attr:`PreparedSample.values` is a view of it). The
    marker channels the file's spillover compensates are compensated once, for all
    events, in one pass (:meth:`Compensation.apply_channels_with_raw`: the same bits as the gating
    engine computes); the others are copied to float64 on first use. Each row holds
    transformed values where ``done`` and compensated values elsewhere: transforming in
    place needs no second array of a million values per marker. ``partial[j]``: some
    (not all) events of row ``j`` are transformed; ``complete[j]``: all are (``done`` is
    only kept up to date while a row is partial).
    """

    def __init__(self, sample: FlowSample, cols: list[int], transform, raw: dict | None = None):
        n = sample.n_events
        raw = dict(raw or {})
        #: ``name -> events[:, column]`` as float64 rows for the ``raw`` columns (scatter,
        #: time): read in the compensation's pass over the events when there is one
        self.raw: dict[str, np.ndarray] = {}
        self.transform = transform
        self.sample = sample
        self.cols = list(cols)
        det: list[int] = []
        comp = None
        if sample.spillover is not None:
            from ..cytometry.compensation import Compensation

            try:
                comp = Compensation.from_dataframe(sample.spillover, source=f"{_where(sample)} $SPILLOVER")
                det = [int(i) for i in comp.match(sample.channels, unmatched="keep", sample=_where(sample))]
            except MrdquantError as exc:
                raise ConfigError(f"{_where(sample)}: cannot compensate with the file's spillover: {exc}") from None
        self.ready = [c in det for c in cols]  # row holds compensated (or transformed) values
        if cols and all(self.ready):
            # the usual case: every marker compensated, straight into the block, and the
            # scatter and time columns taken in the same pass
            self.block, rows = comp.apply_channels_with_raw(sample.events, det, cols, list(raw.values()))
            self.raw = dict(zip(raw, rows))
        else:
            self.block = np.empty((len(cols), n))
            wanted = [j for j, c in enumerate(cols) if c in det]
            if wanted:
                self.block[wanted] = comp.apply_channels(sample.events, det, [cols[j] for j in wanted])
            if raw:
                self.raw = _float64_columns(sample.events, raw)
        self.done = np.zeros((len(cols), n), dtype=bool)
        self.complete = [False] * len(cols)
        self.partial = [False] * len(cols)  # some events (not all) of the row transformed
        self.n = n

    def _row(self, j: int) -> np.ndarray:
        row = self.block[j]
        if not self.ready[j]:
            row[:] = self.sample.events[:, self.cols[j]]
            self.ready[j] = True
        return row

    def column(self, j: int, rows: np.ndarray | None = None) -> np.ndarray:
        """Transformed values of marker ``j``, valid where ``rows`` (all events when None);
        other entries are not transformed until asked for."""
        row = self._row(j)
        if self.complete[j]:
            return row
        if rows is None or np.count_nonzero(rows) > self.n // 4:
            # most events: transform the whole column, contiguously
            if self.partial[j]:
                idx = np.flatnonzero(~self.done[j])
                row[idx] = self.transform.apply(row[idx])
            else:
                self.transform.apply(row, out=row)
            self.complete[j] = True  # ``done`` is not read again for this row
            return row
        idx = np.flatnonzero(rows & ~self.done[j]) if self.partial[j] else np.flatnonzero(rows)
        if idx.size:
            row[idx] = self.transform.apply(row[idx])
            self.done[j, idx] = True
            self.partial[j] = True
        return row

    def at(self, j: int, idx: np.ndarray) -> np.ndarray:
        """Transformed values of marker ``j`` at event indices ``idx`` (not cached)."""
        v = self._row(j)[idx]
        if self.complete[j]:
            return v
        if not self.partial[j]:
            return self.transform.apply(v, out=v)
        done = self.done[j][idx]
        out = self.transform.apply(v)
        out[done] = v[done]
        return out

    def full(self) -> np.ndarray:
        for j in range(len(self.cols)):
            self.column(j)
        return self.block.T


def _float64_columns(events: np.ndarray, columns: dict) -> dict:
    """``name -> events[:, column]`` as contiguous float64 rows, all taken in one pass over the events."""
    from ..cytometry._gates_kernels import kernel

    n = events.shape[0]
    out = np.empty((len(columns), n))
    kernel("take_columns", n)(events, np.empty(0, dtype=np.intp), True,
                              np.array(list(columns.values()), dtype=np.intp), out)
    return dict(zip(columns, out))


def _where(sample) -> str:
    return str(sample.path) if sample.path is not None else "in-memory sample"


def prepare(
    sample,
    panel,
    *,
    channels: dict | None = None,
    qc: bool = True,
    sample_id: str | None = None,
    seed: int = 0,
) -> PreparedSample:
    """Resolve a file against a panel, run acquisition QC and place the panel's gates.

    Parameters
    ----------
    sample : FlowSample or path
    panel : str, path or Panel
        Bundled panel id/alias, a panel ``.toml`` file or a :class:`Panel`.
    channels : dict of str to str, optional
        Explicit marker -> channel mapping (``{"CD58": "APC-Cy7-A"}``).
    qc : bool, default True
        Run the time-QC and singlet steps; with False they pass every event (reported
        as skipped).
    sample_id : str, optional
        Default: the file name (``"in-memory"`` for in-memory samples).
    seed : int, default 0
        Seed of the subsamples used to fit mixture models and monitor signals.

    Returns
    -------
    PreparedSample

    Raises
    ------
    ConfigError
        A panel marker the file lacks (the message lists the file's markers), or a panel
        that does not load.
    FCSError
        The file cannot be read.
    """
    s = _as_sample(sample)
    p = load_panel(panel)
    sid = sample_id or (s.path.name if s.path is not None else "in-memory")
    chmap = resolve_channels(p, s, channels)
    scat_names = resolve_scatter(s)
    markers = p.markers
    cols = [s.channel_index(chmap[m]) for m in markers]
    transform = p.transform_object()
    mv = _MarkerValues(s, cols, transform,
                       raw={k: s.channel_index(v) for k, v in scat_names.items() if v is not None})
    scatter = mv.raw

    comp_id = "FCS" if s.spillover is not None else "uncompensated"

    def mdim(marker: str) -> Dimension:
        return Dimension(chmap[marker], comp_id, TRANSFORM_ID)

    n = s.n_events
    masks: dict[str, np.ndarray] = {}
    alias: dict[str, str | None] = {}  # skipped step -> engine gate standing for it (None = root)
    engine: list = []
    records: dict[str, dict] = {}
    placements: dict[str, dict] = {}
    root = np.ones(n, dtype=bool)
    root.flags.writeable = False  # also the membership of steps that stand for the root

    def parent_mask(pid):
        return root if pid is None else masks[pid]

    def engine_parent(pid):
        while pid is not None and pid in alias:
            pid = alias[pid]
        return pid

    def record(spec_id, parent, kind, x, y, coords, placed):
        records[spec_id] = {"gate": spec_id, "parent": parent or "root", "kind": kind, "x": x, "y": y,
                            "coordinates": json.dumps(coords, sort_keys=True), "placed": bool(placed)}

    def threshold_gate(g: GateSpec, x, dim, scatter_axis: bool):
        par = parent_mask(g.parent)
        ref = masks[g.reference] if g.reference else None
        pl = place_threshold(g, x, par, reference=ref, scatter=scatter_axis, seed=seed)
        v = pl["value"]
        placements[g.id] = pl
        with np.errstate(invalid="ignore"):
            m = par & ((x >= v) if g.side == "above" else (x < v))
        masks[g.id] = m
        mins, maxs = ([v], [None]) if g.side == "above" else ([None], [v])
        engine.append(RectangleGate(g.id, [dim], mins, maxs, parent=engine_parent(g.parent)))
        coords = {"threshold": v, "side": g.side, "method": pl["method"], "fallback": pl["fallback"],
                  "bounds": list(g.bounds) if g.bounds else None}
        for k in ("peak", "means", "reason"):
            if pl.get(k):
                coords[k] = pl[k]
        record(g.id, g.parent, "threshold" if not scatter_axis else "scatter", g.marker or g.channel, "", coords,
               g.place != "fixed" and not pl["fallback"])

    def skip(g: GateSpec, kind: str, why: str):
        masks[g.id] = parent_mask(g.parent)
        alias[g.id] = g.parent
        placements[g.id] = {"method": "skipped", "reason": why}
        record(g.id, g.parent, kind, "", "", {"skipped": why}, False)

    signals = {"FSC-A": (lambda idx, a=scatter["FSC-A"]: a[idx])} if "FSC-A" in scatter else {}
    for j, m in enumerate(markers):
        signals[m] = (lambda idx, j=j: mv.at(j, idx))

    for g in p.denominator_chain + p.gates:
        if g.kind == "threshold":
            m = _canon(p, g.marker)
            need = parent_mask(g.parent)
            if g.reference:
                need = need | masks[g.reference]
            threshold_gate(g, mv.column(markers.index(m), need), mdim(m), False)
        elif g.kind == "scatter":
            if g.channel not in scatter:
                skip(g, "scatter", f"the file has no {g.channel} channel")
                continue
            threshold_gate(g, scatter[g.channel], Dimension(scat_names[g.channel]), True)
        elif g.kind == "time":
            if not qc:
                skip(g, "time", "QC switched off (qc=False)")
                continue
            if "Time" not in scatter:
                skip(g, "time", "the file has no Time channel")
                continue
            par = parent_mask(g.parent)
            res = time_qc(scatter["Time"], par, signals, g.params, seed=seed)
            placements[g.id] = res
            if res["intervals"] == [[None, None]]:
                skip(g, "time", res["reason"] or "no unstable interval")
                records[g.id]["coordinates"] = json.dumps({"intervals": [[None, None]], "bins": res["bins"],
                                                           "dropped_bins": [], "reason": res["reason"]})
                records[g.id]["placed"] = True
                continue
            t = scatter["Time"]
            inside = np.zeros(n, dtype=bool)
            tdim = Dimension(scat_names["Time"])
            parts = []
            for k, (lo, hi) in enumerate(res["intervals"]):
                with np.errstate(invalid="ignore"):
                    inside |= (t >= (lo if lo is not None else -np.inf)) & (t < (hi if hi is not None else np.inf))
                gid = g.id if len(res["intervals"]) == 1 else f"{g.id}_interval{k + 1}"
                parts.append(gid)
                engine.append(RectangleGate(gid, [tdim], [lo], [hi], parent=engine_parent(g.parent)))
            if len(parts) > 1:
                engine.append(BooleanGate(g.id, "or", parts, parent=engine_parent(g.parent)))
            masks[g.id] = par & inside
            record(g.id, g.parent, "time", "Time", "", {"intervals": res["intervals"], "bins": res["bins"],
                                                        "dropped_bins": res["dropped_bins"]}, True)
        elif g.kind == "singlets":
            if not qc:
                skip(g, "singlets", "QC switched off (qc=False)")
                continue
            width = "FSC-H" not in scatter and "FSC-W" in scatter
            if "FSC-A" not in scatter or ("FSC-H" not in scatter and not width):
                skip(g, "singlets", "the file has no FSC-A with FSC-H or FSC-W")
                continue
            par = parent_mask(g.parent)
            second = scatter["FSC-W" if width else "FSC-H"]
            res = place_singlets(scatter["FSC-A"], second, par, width=width, params=g.params)
            placements[g.id] = res
            if res.get("skip"):
                skip(g, "singlets", res["reason"])
                continue
            if width:
                wmax = res["width_max"]
                masks[g.id] = par & (second < wmax)
                engine.append(RectangleGate(g.id, [Dimension(scat_names["FSC-W"])], [None], [wmax],
                                            parent=engine_parent(g.parent)))
                record(g.id, g.parent, "singlets", "FSC-A", "FSC-W",
                       {"width_max": wmax, "median": res["width_median"], "sd": res["width_sd"], "k": res["k"]}, True)
            else:
                verts = np.asarray(res["vertices"])
                masks[g.id] = polygon_mask(scatter["FSC-A"], second, verts, parent=par)
                engine.append(PolygonGate(g.id, [Dimension(scat_names["FSC-A"]), Dimension(scat_names["FSC-H"])],
                                          verts, parent=engine_parent(g.parent)))
                record(g.id, g.parent, "singlets", "FSC-A", "FSC-H",
                       {"vertices": res["vertices"], "ratio_min": res["ratio_min"],
                        "ratio_median": res["ratio_median"], "sd": res["ratio_sd"], "k": res["k"]}, True)

    for lp in p.laips:
        par = engine_parent(lp.parent)
        refs = [engine_parent(x) or x for x in lp.all]
        helpers = []
        if lp.min_k > 0:
            mo = [engine_parent(x) or x for x in lp.min_of]
            if lp.min_k == 1:
                groups = [mo]
            else:
                groups = [list(c) for c in itertools.combinations(mo, lp.min_k)]
            ors = []
            for i, grp in enumerate(groups):
                if len(grp) == 1:
                    ors.append(grp[0])
                else:
                    gid = f"{lp.id}__and{i + 1}" if lp.min_k > 1 else f"{lp.id}__any"
                    engine.append(BooleanGate(gid, "and" if lp.min_k > 1 else "or", grp, parent=par))
                    helpers.append(gid)
                    ors.append(gid)
            if len(ors) == 1:
                refs.append(ors[0])
            else:
                engine.append(BooleanGate(f"{lp.id}__any", "or", ors, parent=par))
                helpers.append(f"{lp.id}__any")
                refs.append(f"{lp.id}__any")
        if len(refs) == 1:
            refs.append(par)
        engine.append(BooleanGate(lp.id, "and", refs, parent=par))
        record(lp.id, lp.parent, "laip", "", "", {"all": list(lp.all), "min_of": list(lp.min_of), "k": lp.min_k,
                                                 "description": lp.description}, False)

    from ..cytometry.gating import GatingStrategy

    strategy = GatingStrategy(engine, transforms={TRANSFORM_ID: transform})
    # The strategy takes the memberships placement computed for its gates: each is the
    # gate's own rule (Gating-ML rectangle: min inclusive, max exclusive, NaN outside;
    # the polygon kernel) on the values the strategy reads (same compensation kernel,
    # transform and raw scatter), so gating the file with the strategy, here or after a
    # Gating-ML export, finds the same events. Only the LAIP booleans are evaluated here.
    given = {gid: m for gid, m in masks.items() if gid not in alias}
    result = strategy._gate(s, sid, memberships=given)
    gate_masks: dict[str, np.ndarray] = {}
    order = [g.id for g in p.denominator_chain + p.gates] + [lp.id for lp in p.laips]
    for gid in order:
        target = engine_parent(gid) if gid in alias else gid
        gate_masks[gid] = root if target is None else result.membership(target)
    counts = {gid: int(np.count_nonzero(m)) for gid, m in gate_masks.items()}

    rows = []
    for gid in order:
        r = dict(records[gid])
        par = r["parent"]
        pc = n if par == "root" else counts[par]
        r["events"] = counts[gid]
        r["percent_parent"] = 100.0 * counts[gid] / pc if pc else float("nan")
        rows.append(r)
    gates = pd.DataFrame(rows, columns=GATE_COLUMNS)
    gates["events"] = gates["events"].astype(np.int64)
    gates["placed"] = gates["placed"].astype(bool)

    qrows = []
    for g in p.denominator_chain:
        par = g.parent
        ein = n if par is None else counts[par]
        eout = counts[g.id]
        pl = placements.get(g.id, {})
        qrows.append({"step": g.id, "events_in": ein, "events_out": eout, "removed": ein - eout,
                      "detail": _detail(g, pl)})
    qc_table = pd.DataFrame(qrows, columns=QC_COLUMNS).astype({"events_in": np.int64, "events_out": np.int64,
                                                               "removed": np.int64})
    return PreparedSample(
        sample=s,
        panel=p,
        sample_id=sid,
        markers=list(markers),
        channels=dict(chmap),
        _values=mv,
        scatter=scatter,
        denominator_mask=gate_masks[p.denominator_gate],
        qc=qc_table,
        gates=gates,
        gate_masks=gate_masks,
        strategy=strategy,
        placements=placements,
        explicit_channels=dict(channels or {}),
    )


def _canon(panel: Panel, marker: str) -> str:
    from .panels import normalize_marker

    key = normalize_marker(marker)
    for m in panel.markers:
        if normalize_marker(m) == key:
            return m
    raise ConfigError(f"panel {panel.panel_id!r}: gate marker {marker!r} is not a panel marker")  # pragma: no cover


def _detail(g: GateSpec, pl: dict) -> str:
    if pl.get("method") == "skipped":
        return f"skipped: {pl.get('reason', '')}"
    if g.kind == "time":
        dropped = pl.get("dropped_bins", [])
        txt = f"{len(dropped)} of {pl.get('bins', 1)} time bins dropped"
        if dropped:
            txt += " (" + "; ".join(f"{a:.1f}-{b:.1f} s: {w}" for a, b, w in dropped[:5]) + ")"
        return txt
    if g.kind == "singlets":
        if "ratio_min" in pl:
            return f"FSC-H/FSC-A >= {pl['ratio_min']:.4f} (median {pl['ratio_median']:.4f} - {pl['k']:g} SD)"
        return f"FSC-W < {pl['width_max']:.6g} (median {pl['width_median']:.6g} + {pl['k']:g} SD)"
    what = g.marker or g.channel
    op = ">=" if g.side == "above" else "<"
    txt = f"{what} {op} {pl.get('value', float('nan')):.4g} ({pl.get('method', '')}"
    if pl.get("fallback"):
        txt += ", panel default: " + pl.get("reason", "")
    return txt + ")"

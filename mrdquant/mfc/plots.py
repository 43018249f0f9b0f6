"""The gating page of one sample: every gate on a density plot, with counts and LAIP events.

:func:`plot_gating` draws, for one file, a grid of density plots in gate order -- time QC,
singlets, nucleated/viable, lineage gate, each LAIP marker gate and the LAIP itself --
each showing the events of the gate's parent, the gate drawn where it was placed for this
sample, its event count and percentages, and the LAIP events in a distinct colour. It is
the page a hematologist checks before signing an automated MRD result.

Which axes each plot uses
-------------------------
- ``time``: Time (s) against FSC-A; removed time intervals shaded.
- ``singlets``: FSC-A against FSC-H (or FSC-W) with the placed polygon (or width limit).
- ``scatter``: the gated scatter channel against SSC-A (FSC-A) with the threshold.
- ``threshold`` on a denominator step or a lineage gate: the marker against SSC-A.
- ``threshold`` on a LAIP marker gate (a gate whose parent is not a denominator step):
  the marker against the next sibling gate's marker (CD34 vs CD10, CD10 vs CD38, ...),
  the sibling's threshold dashed for orientation.
- ``laip``: its last ``all`` marker against its first ``min_of`` marker (e.g. CD38 vs
  CD58), both thresholds drawn.

Fluorescence axes are the panel-transformed (e.g. logicle) compensated values; scatter
axes are linear detector units.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["plot_gating", "LAIP_COLOR"]

#: colour of LAIP events on every plot (densities are drawn in greys)
LAIP_COLOR = "#d62728"
_GATE_COLOR = "#1f5fbf"
_FORMATS = ("png", "svg", "pdf")
_BINS = 160
_MAX_LAIP_POINTS = 4000

_SCATTER_LABELS = {
    "FSC-A": "Forward scatter area (FSC-A)",
    "FSC-H": "Forward scatter height (FSC-H)",
    "FSC-W": "Forward scatter width (FSC-W)",
    "SSC-A": "Side scatter area (SSC-A)",
    "Time": "Time (s)",
}


@dataclass
class _Source:
    """What a plot needs, gathered from a PreparedSample or an MfcResult (+ its sample)."""

    gates: pd.DataFrame
    masks: dict
    laip: np.ndarray
    markers: list
    values: np.ndarray
    channels: dict
    scatter: dict
    transform: str
    sample_id: str
    panel_id: str
    denominator: str | None
    header: str


def _get(obj, name, default=None):
    return getattr(obj, name, default) if obj is not None else default


def _prepared_like(obj) -> bool:
    return all(hasattr(obj, a) for a in ("values", "markers", "scatter"))


def _gather(result, sample) -> _Source:
    gates = _get(result, "gates")
    masks = _get(result, "gate_masks")
    if not isinstance(gates, pd.DataFrame) or not isinstance(masks, dict):
        raise InputError(
            f"plot_gating: expected a PreparedSample or MfcResult with `gates` and `gate_masks`, "
            f"got {type(result).__name__}"
        )
    prepared = None
    for cand in (result, _get(result, "prepared"), sample):
        if cand is not None and _prepared_like(cand):
            prepared = cand
            break
    if prepared is None and sample is not None:
        from .preparation import prepare  # only an MfcResult without values gets here

        prov = _get(result, "provenance") or {}
        panel = _get(result, "panel") or prov.get("panel_path") or prov.get("panel_id")
        if not panel:
            raise InputError("plot_gating: the result names no panel; pass sample=<PreparedSample>")
        params = prov.get("parameters") or {}
        prepared = prepare(
            sample,
            panel,
            channels=prov.get("channels") or None,
            qc=bool(params.get("qc", True)),
            seed=int(params.get("seed", 0)),
        )
    if prepared is None:
        raise InputError(
            "plot_gating: the result carries no event values; pass sample= (the PreparedSample, "
            "FlowSample or FCS path it was computed from)"
        )
    n = prepared.values.shape[0]
    laip = _get(result, "laip_mask")
    if laip is None:  # a PreparedSample: the union of its LAIP gates
        laip = np.zeros(n, dtype=bool)
        for gid in gates.loc[gates["kind"] == "laip", "gate"]:
            laip |= np.asarray(masks[gid], dtype=bool)
    laip = np.asarray(laip, dtype=bool)
    bad = [g for g, m in masks.items() if np.shape(m) != (n,)]
    if laip.shape != (n,) or bad:
        raise InputError(
            f"plot_gating: masks do not match the sample's {n:,} events "
            f"({'laip_mask' if laip.shape != (n,) else bad[0]})"
        )
    panel = _get(prepared, "panel") or _get(result, "panel")
    panel_id = _get(panel, "panel_id") or _get(result, "panel_id") or (_get(result, "provenance") or {}).get("panel_id", "")
    denominator = (_get(result, "provenance") or {}).get("denominator_gate") or _get(panel, "denominator_gate")
    if denominator is None:
        den_mask = _get(prepared, "denominator_mask")
        if den_mask is not None:
            for gid, m in masks.items():
                if np.array_equal(np.asarray(m), np.asarray(den_mask)):
                    denominator = gid
    transform = ""
    if panel is not None and isinstance(_get(panel, "transform"), dict):
        transform = str(panel.transform.get("kind", ""))
    sid = _get(result, "sample_id") or _get(prepared, "sample_id") or "sample"
    return _Source(
        gates=gates.reset_index(drop=True),
        masks={k: np.asarray(v, dtype=bool) for k, v in masks.items()},
        laip=laip,
        markers=list(prepared.markers),
        values=prepared.values,
        channels=dict(_get(prepared, "channels") or {}),
        scatter=dict(prepared.scatter),
        transform=transform,
        sample_id=str(sid),
        panel_id=str(panel_id or ""),
        denominator=denominator,
        header=_header(result, str(sid), str(panel_id or ""), laip, masks, denominator),
    )


def _header(result, sid: str, panel_id: str, laip, masks, denominator) -> str:
    parts = [f"Sample {sid}"]
    if panel_id:
        parts.append(f"panel {panel_id}")
    mrd = _get(result, "mrd_pct")
    den_events = _get(result, "denominator_events")
    laip_events = _get(result, "laip_events")
    if den_events is None and denominator is not None:
        den_events = int(np.count_nonzero(masks[denominator]))
    if laip_events is None:
        laip_events = int(np.count_nonzero(laip))
    status = _get(result, "status")
    if mrd is not None and np.isfinite(mrd):
        parts.append(f"MRD {_fmt_pct(mrd)} %" + (f" ({status})" if status else ""))
    elif status:  # no level (not evaluable): the call alone
        parts.append(f"MRD {status}")
    if den_events is not None:
        parts.append(f"LAIP {int(laip_events):,} of {int(den_events):,} denominator events")
    return " · ".join(parts)


def _fmt_pct(p: float) -> str:
    """A percentage with enough digits to read small MRD values (0.0123, 12.3)."""
    if not np.isfinite(p):
        return "n/a"
    if p == 0:
        return "0"
    if p >= 10:
        return f"{p:.1f}"
    if p >= 1:
        return f"{p:.2f}"
    digits = min(6, 2 - int(math.floor(math.log10(p))))
    return f"{p:.{digits}f}"


# --------------------------------------------------------------------------- one plot


@dataclass
class _Axis:
    values: np.ndarray
    label: str
    fluorescence: bool
    threshold: float | None = None


def _marker_axis(src: _Source, marker: str) -> _Axis:
    if marker not in src.markers:
        raise InputError(f"plot_gating: marker {marker!r} is not among the sample's markers {src.markers}")
    ch = src.channels.get(marker)
    tr = f", {src.transform}" if src.transform else ""
    label = f"{marker} ({ch}{tr})" if ch else f"{marker}{tr}"
    return _Axis(src.values[:, src.markers.index(marker)], label, True)


def _scatter_axis(src: _Source, name: str) -> _Axis | None:
    if name not in src.scatter:
        return None
    return _Axis(np.asarray(src.scatter[name], dtype=np.float64), _SCATTER_LABELS.get(name, name), False)


def _coords(row) -> dict:
    try:
        c = json.loads(row["coordinates"]) if isinstance(row["coordinates"], str) else dict(row["coordinates"] or {})
    except (TypeError, ValueError):
        c = {}
    return c if isinstance(c, dict) else {}


def _threshold_of(src: _Source, gate_id: str) -> tuple[str, float | None, str]:
    """(x marker or channel, threshold, side) of a threshold gate."""
    rows = src.gates[src.gates["gate"] == gate_id]
    if rows.empty:
        return "", None, "above"
    row = rows.iloc[0]
    c = _coords(row)
    thr = c.get("threshold")
    return str(row["x"] or ""), (float(thr) if thr is not None else None), str(c.get("side", "above"))


def _range(v: np.ndarray, fluorescence: bool) -> tuple[float, float]:
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (0.0, 1.0)
    lo, hi = np.quantile(v, [0.001, 0.999]) if v.size > 50 else (v.min(), v.max())
    if fluorescence:
        lo, hi = min(lo, 0.0), max(hi, 0.9)
        pad = 0.05 * (hi - lo)
        return (max(lo - pad, -0.3), min(hi + pad, 1.15))
    return (0.0, max(float(hi) * 1.08, 1.0))


def _density(ax, x, y, xr, yr):
    from matplotlib.colors import LogNorm

    h, xe, ye = np.histogram2d(x, y, bins=_BINS, range=[xr, yr])
    h = np.where(h > 0, h, np.nan)
    if np.all(np.isnan(h)):
        return None
    return ax.imshow(
        h.T, origin="lower", extent=(xe[0], xe[-1], ye[0], ye[-1]), aspect="auto", interpolation="nearest",
        cmap="Greys", norm=LogNorm(vmin=1, vmax=max(np.nanmax(h), 2)), zorder=2,
    )


def _draw_one(ax, src: _Source, row, idx: int) -> None:
    gid = str(row["gate"])
    kind = str(row["kind"])
    parent = str(row["parent"])
    parent_mask = np.ones(src.values.shape[0], dtype=bool) if parent in ("root", "", "None") else src.masks.get(parent)
    if parent_mask is None:
        parent_mask = np.ones(src.values.shape[0], dtype=bool)
    c = _coords(row)
    extra: list = []  # gate artists drawn after the density
    xa = ya = None
    if kind == "time":
        xa, ya = _scatter_axis(src, "Time"), _scatter_axis(src, "FSC-A")
        for lo, hi in c.get("intervals", []) or []:
            extra.append(("kept", lo, hi))
    elif kind == "singlets":
        second = "FSC-W" if "width_max" in c else "FSC-H"
        xa, ya = _scatter_axis(src, "FSC-A"), _scatter_axis(src, second)
        if "vertices" in c:
            extra.append(("polygon", c["vertices"]))
        elif "width_max" in c:
            extra.append(("hline", float(c["width_max"]), "below"))
    elif kind == "scatter":
        ch = str(row["x"])
        xa = _scatter_axis(src, ch)
        ya = _scatter_axis(src, "SSC-A" if ch != "SSC-A" else "FSC-A")
        if c.get("threshold") is not None:
            extra.append(("vline", float(c["threshold"]), str(c.get("side", "above"))))
    elif kind == "threshold":
        marker = str(row["x"])
        xa = _marker_axis(src, marker)
        partner = _partner(src, row)
        if partner is None:
            ya = _scatter_axis(src, "SSC-A")
        else:
            pm, pthr, pside = partner
            ya = _marker_axis(src, pm)
            if pthr is not None:
                extra.append(("hline_ref", pthr, pside))
        if c.get("threshold") is not None:
            extra.append(("vline", float(c["threshold"]), str(c.get("side", "above"))))
    elif kind == "laip":
        xm, ym = _laip_axes(src, c)
        if xm is not None:
            xa = _marker_axis(src, xm[0])
            if xm[1] is not None:
                extra.append(("vline", xm[1], xm[2]))
        if ym is not None:
            ya = _marker_axis(src, ym[0])
            if ym[1] is not None:
                extra.append(("hline", ym[1], ym[2]))
    if xa is None or ya is None:
        ax.text(0.5, 0.5, f"{gid}: nothing to draw", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        _label(ax, src, row)
        return

    x, y = xa.values[parent_mask], ya.values[parent_mask]
    xr, yr = _range(x, xa.fluorescence), _range(y, ya.fluorescence)
    _density(ax, x, y, xr, yr)
    for item in extra:
        _draw_gate(ax, item, xr, yr, gid)
    lp = src.laip & parent_mask
    if lp.any():
        idx_l = np.flatnonzero(lp)
        if idx_l.size > _MAX_LAIP_POINTS:
            idx_l = np.random.default_rng(0).choice(idx_l, _MAX_LAIP_POINTS, replace=False)
            idx_l.sort()
        size = 14.0 if idx_l.size <= 50 else 6.0 if idx_l.size <= 500 else 3.0  # rare events stay visible
        ax.scatter(
            xa.values[idx_l], ya.values[idx_l], s=size, c=LAIP_COLOR, linewidths=0, alpha=0.85,
            label="LAIP events", gid=f"laip-events-{gid}", rasterized=True, zorder=4,
        )
    ax.set_xlim(*xr)
    ax.set_ylim(*yr)
    ax.set_xlabel(xa.label, fontsize=8)
    ax.set_ylabel(ya.label, fontsize=8)
    ax.tick_params(labelsize=7)
    from matplotlib.ticker import FuncFormatter

    for axis, a in ((ax.xaxis, xa), (ax.yaxis, ya)):
        if not a.fluorescence and a.label != _SCATTER_LABELS["Time"]:
            axis.set_major_formatter(FuncFormatter(_thousands))
    _label(ax, src, row)


def _thousands(v: float, _pos) -> str:
    """Scatter tick labels in thousands of detector units (``50k``), no offset text."""
    return "0" if v == 0 else f"{v / 1000:g}k"


def _partner(src: _Source, row):
    """(marker, threshold, side) of the sibling threshold gate plotted on y, or None for SSC."""
    parent = str(row["parent"])
    if parent == src.denominator or parent in ("root", "") or src.denominator is None:
        return None
    g = src.gates
    den_chain = set()
    if src.denominator is not None:  # the denominator and its ancestors
        cur = src.denominator
        while cur and cur != "root":
            den_chain.add(cur)
            r = g[g["gate"] == cur]
            cur = str(r.iloc[0]["parent"]) if not r.empty else ""
    if parent in den_chain:
        return None
    sib = g[(g["parent"] == parent) & (g["kind"] == "threshold")].reset_index(drop=True)
    if len(sib) < 2:
        return None
    i = int(np.flatnonzero(sib["gate"].to_numpy() == row["gate"])[0])
    other = sib.iloc[(i + 1) % len(sib)]
    return _threshold_of(src, str(other["gate"]))


def _laip_axes(src: _Source, c: dict):
    all_ids = [str(x) for x in c.get("all", [])]
    min_of = [str(x) for x in c.get("min_of", [])]
    cands = []
    for gid in all_ids[::-1][:1] + min_of + all_ids[::-1][1:]:
        m, thr, side = _threshold_of(src, gid)
        if m and m in src.markers and m not in [x[0] for x in cands]:
            cands.append((m, thr, side))
    xm = cands[0] if cands else None
    ym = cands[1] if len(cands) > 1 else None
    return xm, ym


def _draw_gate(ax, item, xr, yr, gid):
    kind = item[0]
    style = dict(color=_GATE_COLOR, linewidth=1.4, zorder=3)
    if kind == "vline":
        v, side = item[1], item[2]
        ax.axvline(v, gid=f"gate-{gid}", **style)
        lo, hi = (v, xr[1]) if side == "above" else (xr[0], v)
        ax.axvspan(lo, hi, color=_GATE_COLOR, alpha=0.07, linewidth=0, zorder=1)
    elif kind in ("hline", "hline_ref"):
        v, side = item[1], item[2]
        if kind == "hline_ref":
            ax.axhline(v, color=_GATE_COLOR, linewidth=0.9, linestyle="--", alpha=0.7, zorder=3, gid=f"ref-{gid}")
        else:
            ax.axhline(v, gid=f"gate-{gid}-y", **style)
            lo, hi = (v, yr[1]) if side == "above" else (yr[0], v)
            ax.axhspan(lo, hi, color=_GATE_COLOR, alpha=0.07, linewidth=0, zorder=1)
    elif kind == "polygon":
        from matplotlib.patches import Polygon

        verts = np.asarray(item[1], dtype=float)
        ax.add_patch(Polygon(verts, closed=True, fill=False, edgecolor=_GATE_COLOR, linewidth=1.4, zorder=3, gid=f"gate-{gid}"))
    elif kind == "kept":
        lo, hi = item[1], item[2]
        lo = xr[0] if lo is None else lo
        hi = xr[1] if hi is None else hi
        ax.axvspan(lo, hi, color=_GATE_COLOR, alpha=0.07, linewidth=0, zorder=1, gid=f"gate-{gid}")
        for v in (item[1], item[2]):
            if v is not None:
                ax.axvline(v, **style)


def _label(ax, src: _Source, row) -> None:
    """Gate name as the title; count and percentages in a line above the plot (never over data)."""
    gid = str(row["gate"])
    parent = str(row["parent"])
    events = int(row["events"])
    pct = float(row["percent_parent"])
    parent_name = "all events" if parent in ("root", "", "None") else parent
    stats = [f"{events:,} event" + ("" if events == 1 else "s"), f"{_fmt_pct(pct)} % of {parent_name}"]
    if src.denominator is not None and gid != src.denominator and src.denominator in src.masks:
        den_mask = src.masks[src.denominator]
        inside = src.masks.get(gid)
        if inside is not None and not np.any(inside & ~den_mask) and parent != src.denominator:
            d = int(np.count_nonzero(den_mask))
            if d:
                stats.append(f"{_fmt_pct(100.0 * events / d)} % of {src.denominator}")
    kind = str(row["kind"])
    note = ""
    if kind in ("threshold", "scatter"):
        note = "placed on this sample" if bool(row.get("placed", False)) else "panel default (not placed)"
    elif kind == "laip":
        c = _coords(row)
        parts = [str(g) for g in c.get("all", [])]
        if c.get("min_of") and int(c.get("k", 0) or 0) > 0:
            parts.append(f"≥{int(c['k'])} of ({', '.join(str(g) for g in c['min_of'])})")
        note = " ∧ ".join(parts)
    ax.set_title(gid, fontsize=10, fontweight="bold", loc="left", pad=24 if note else 14, gid=f"title-{gid}")
    text = " · ".join(stats) + (f"\n{note}" if note else "")
    ax.text(0.0, 1.015, text, transform=ax.transAxes, ha="left", va="bottom", fontsize=7.5, gid=f"count-{gid}")


# --------------------------------------------------------------------------- public


def plot_gating(result_or_prepared, path: "str | os.PathLike", *, sample=None, ncols: int = 4) -> Path:
    """Write the gating page of one sample: each gate on its parent's events.

    Parameters
    ----------
    result_or_prepared : PreparedSample or MfcResult
        Anything with ``gates`` (DataFrame, columns as ``PreparedSample.gates``) and
        ``gate_masks`` (gate -> bool per event); an ``MfcResult`` also gives
        ``laip_mask``, ``mrd_pct``, ``status`` and the denominator for the header.
    path : str or os.PathLike
        Output file; the format follows the suffix: ``.png`` (150 dpi), ``.svg`` or ``.pdf``.
        Written atomically; parent folders are created.
    sample : PreparedSample, FlowSample or path, optional
        Where the event values come from when ``result_or_prepared`` carries none (an
        ``MfcResult``): a ``PreparedSample`` is used as is, a file or FlowSample is
        prepared again with the result's panel.
    ncols : int, default 4
        Plots per row.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputError
        An unsupported suffix, a result without gates, no event values, or masks whose
        length differs from the sample's events.

    Notes
    -----
    Densities are log-scaled greys on ``160 x 160`` bins of the parent's events; gates are
    drawn in blue (the kept side lightly shaded), LAIP events in red (:data:`LAIP_COLOR`;
    at most 4,000 drawn per plot, larger points when there are few). Above each plot: the
    gate's events, % of its parent and, under the denominator, % of the denominator;
    threshold gates say whether they were placed on this sample or fell back to the panel
    default.
    """
    out = Path(path)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in _FORMATS:
        raise InputError(f"{out}: cannot write a gating plot as {fmt or 'no suffix'!r}; expected .png, .svg or .pdf")
    src = _gather(result_or_prepared, sample)
    fig = gating_figure(src, ncols=ncols)
    from ..io.store import atomic_path

    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=fmt, dpi=150)
    return out


def gating_figure(src_or_result, *, sample=None, ncols: int = 4):
    """The gating page as a matplotlib ``Figure`` (what :func:`plot_gating` saves)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    src = src_or_result if isinstance(src_or_result, _Source) else _gather(src_or_result, sample)
    rows = [r for _, r in src.gates.iterrows() if str(r["gate"]) in src.masks or str(r["kind"]) == "laip"]
    n = max(len(rows), 1)
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    # fixed margins in inches (a constrained layout doubles the drawing time)
    width, height = 3.8 * ncols, 3.5 * nrows + 1.1
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    fig.subplots_adjust(
        left=0.75 / width, right=1 - 0.15 / width, top=1 - 0.75 / height, bottom=0.85 / height,
        wspace=0.38, hspace=0.55,
    )
    fig.suptitle(src.header, fontsize=11, x=0.01, y=1 - 0.12 / height, ha="left", va="top")
    for i, row in enumerate(rows):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        _draw_one(ax, src, row, i)
    handles = [
        Line2D([], [], color=_GATE_COLOR, linewidth=1.4, label="gate (placed limit)"),
        Line2D([], [], color=_GATE_COLOR, linewidth=0.9, linestyle="--", label="sibling gate limit (orientation)"),
        Line2D([], [], marker="o", linestyle="none", color=LAIP_COLOR, markersize=4, label="LAIP events"),
    ]
    fig.legend(handles=handles, loc="lower center", ncols=3, fontsize=8, frameon=False)
    return fig

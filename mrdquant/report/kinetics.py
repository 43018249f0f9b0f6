"""MRD kinetics plot: MFC and WT1 of one patient over days after HSCT.

Each method has its own logarithmic axis: MFC MRD (% of nucleated cells) on the left,
WT1 on the right in the unit its assay reports (% of ABL1, or copies per 10^4 ABL1 for
an ELN assay). A measured value is a filled marker when the sample is positive by that
method and a hollow one when it is not (e.g. WT1 below the threshold). Results without a
value sit in a strip under the axes: negative (hollow), not evaluable (cross), positive
without a value (triangle). PB samples use square markers (labelled "not counted" when
the profile counts BM only). Each positivity threshold is a dashed line labelled with its
value and source. Vertical lines mark the intervention (IFN-α, DLI, chemotherapy) and
clinical events (relapse, death, GVHD, any row of an events table); with a timeline the
MRDsin+/MRDco+ period is shaded.

matplotlib is imported inside the functions; figures are drawn on an Agg canvas without
pyplot, so no global backend is changed. Files are written atomically.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ..calls.rules import TimelineRules, timeline_rules
from ..calls.sample import _call
from ..errors import InputError, MrdquantError
from ..io.clinical import read_events, read_patients, read_samples
from ..io.store import atomic_path
from ..profiles import Profile, load_profile

__all__ = ["plot_kinetics", "write_kinetics_plots", "positivity_thresholds", "short_source"]

_COLORS = {"wt1": "#1f77b4", "mfc": "#d62728"}
_LABELS = {"wt1": "WT1 (% of ABL1)", "mfc": "MFC (% of nucleated cells)"}
_EVENT_COLUMNS = {
    "relapse_date": "relapse",
    "death_date": "death",
    "agvhd_date": "aGVHD",
    "cgvhd_date": "cGVHD",
}


def positivity_thresholds(profile: "str | Profile", diagnosis: str = "") -> dict[str, tuple[float, str]]:
    """Positivity thresholds (%) the profile sets for WT1 (BM) and MFC (by disease group).

    Returns
    -------
    dict of method -> (value %, source); a method without a threshold is absent.
    """
    prof = load_profile(profile)
    out: dict[str, tuple[float, str]] = {}
    try:
        t = prof.threshold("wt1.positive_above.BM")
        if t.is_set:
            value = float(t.value)
            # the plot's WT1 axis is % of ABL1; 1 % = 100 WT1 copies per 10^4 ABL1 copies
            if prof.value("wt1.metric", "wt1_pct_abl1") == "wt1_per_1e4_abl1":
                value /= 100.0
            out["wt1"] = (value, t.source)
    except MrdquantError:
        pass
    group = "AML" if "AML" in str(diagnosis).upper() else "ALL"
    try:
        t = prof.threshold(f"mfc.positivity_pct.{group}")
        if t.is_set:
            out["mfc"] = (float(t.value), t.source)
    except MrdquantError:
        pass
    return out


def plot_kinetics(
    patient_id: str,
    patients,
    samples,
    *,
    profile: "str | Profile" = "puih_2020",
    events=None,
    status: str | None = None,
    path: "str | os.PathLike | None" = None,
    timeline=None,
):
    """Draw the MRD kinetics of one patient; optionally save it (PNG, SVG or PDF).

    Parameters
    ----------
    patient_id : str
    patients, samples : DataFrame or path
        As for :func:`mrdquant.classify_timeline`; ``mfc_pct`` (%) and ``wt1_pct`` (%)
        give the plotted levels. Patient columns ``relapse_date``, ``death_date``,
        ``agvhd_date``, ``cgvhd_date`` are drawn as events when present.
    profile : str, path or Profile, default "puih_2020"
        Thresholds drawn (positivity, and level thresholds when set).
    events : DataFrame or path, optional
        Extra events (``patient_id, event, date``), see
        :func:`mrdquant.io.clinical.read_events`.
    status : str, optional
        Timeline status shown in the title (e.g. ``"MRDco+"``); default the timeline's.
    path : path, optional
        Where to save; the format follows the suffix (``.png`` at 300 dpi, ``.svg``,
        ``.pdf``).
    timeline : DataFrame, optional
        Patient timelines (:func:`mrdquant.classify_timeline`); the patient's MRD-positive
        period (``first_positive_date`` to ``negativity_date``, again from
        ``reemergence_date``) is shaded in the colour of its status.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        Unknown patient id, or an unsupported file suffix.
    ClinicalDataError
        Invalid patients/samples/events table.
    """
    prof = load_profile(profile)
    rules = timeline_rules(prof)
    pts = read_patients(patients)
    called = _call(read_samples(samples, pts), rules)
    ev = read_events(events, pts) if events is not None else None
    return _plot(patient_id, pts, called, rules, prof, ev, status, path, _timeline_row(timeline, patient_id))


def _timeline_row(timeline, patient_id) -> dict | None:
    if timeline is None:
        return None
    rows = timeline[timeline["patient_id"].astype(str) == str(patient_id)]
    return rows.iloc[0].to_dict() if len(rows) else None


_WT1_UNIT = {
    "wt1_pct_abl1": ("WT1 (% of ABL1)", 1.0, "%"),
    "wt1_per_1e4_abl1": ("WT1 (copies per 10^4 ABL1)", 100.0, "copies/10^4 ABL1"),
}
_LABEL_BOX = {"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 1.0}
#: how intervention codes of the clinical tables read on a chart
_INTERVENTION_NAMES = {"IFN-a": "IFN-\u03b1", "IFN": "IFN-\u03b1", "Chemo-DLI": "chemotherapy + DLI"}
_SHADE = {"MRDsin+": "#0072B2", "MRDco+": "#D55E00"}
_CITATION = re.compile(r"([A-Z][A-Za-z'\-]+ et al\.?,?[^;:()]*?(?:19|20)\d\d)")


def short_source(source: str, fallback: str = "") -> str:
    """The citation of a threshold's source, e.g. ``"Qin et al., J Mol Diagn 2020"``.

    Examples
    --------
    >>> short_source("Qin et al., J Mol Diagn 2020: 0.6 % is the upper limit")
    'Qin et al., J Mol Diagn 2020'
    >>> short_source("assumption: common lab practice", "puih_2020")
    'assumption (puih_2020)'
    """
    m = _CITATION.search(str(source))
    if m:
        return m.group(1).strip()
    if str(source).lower().startswith("assumption"):
        return f"assumption ({fallback})" if fallback else "assumption"
    return fallback or str(source)[:40]


def _fmt_value(v: float) -> str:
    return f"{v:g}"


def _periods(tl_row, end_day: float, hsct) -> list[tuple[float, float, str]]:
    """MRD-positive periods (days after HSCT) of a timeline row, with their status."""
    if tl_row is None:
        return []
    status = str(tl_row.get("status", ""))
    if status not in _SHADE:
        return []

    def day(col):
        v = tl_row.get(col)
        if v is None or pd.isna(v) or v == "":
            return None
        return float((pd.Timestamp(v) - hsct).days)

    start = day("first_positive_date")
    if start is None:
        return []
    stop = day("negativity_date")
    out = [(start, stop if stop is not None else end_day, status)]
    again = day("reemergence_date")
    if again is not None:
        out.append((again, end_day, status))
    return out


def _plot(patient_id, pts, called, rules: TimelineRules, prof: Profile, ev, status, path, tl_row=None):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    match = pts[pts["patient_id"] == str(patient_id)]
    if match.empty:
        raise InputError(f"patient {patient_id!r} is not in the patients table")
    pt = match.iloc[0]
    if path is not None:
        fmt = Path(path).suffix.lower().lstrip(".")
        if fmt not in ("png", "pdf", "svg"):
            raise InputError(f"{path}: cannot save a plot as {fmt!r}; expected .png, .svg or .pdf")
    s = called[called["patient_id"] == str(patient_id)].sort_values(["date", "sample_id"])
    diagnosis = pt.get("diagnosis", "")
    known_disease = isinstance(diagnosis, str) and diagnosis.strip() != ""
    thresholds = positivity_thresholds(prof, diagnosis if known_disease else "")
    if not known_disease:
        # the MFC threshold depends on the disease (ALL vs AML): never guess it
        thresholds.pop("mfc", None)
    metric = prof.value("wt1.metric", "wt1_pct_abl1")
    wt1_label, wt1_scale, wt1_unit = _WT1_UNIT.get(metric, _WT1_UNIT["wt1_pct_abl1"])
    scale = {"mfc": 1.0, "wt1": wt1_scale}
    units = {"mfc": "%", "wt1": wt1_unit}
    axis_label = {"mfc": "MFC MRD (% of nucleated cells)", "wt1": wt1_label}
    if status is None and tl_row is not None:
        status = tl_row.get("status")

    # fixed margins (no layout engine: it costs more than drawing); legend right of the axes
    fig = Figure(figsize=(10, 5.6))
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 1, height_ratios=[4.2, 0.8], left=0.075, right=0.62, top=0.88, bottom=0.1,
                            hspace=0.28)
    ax = fig.add_subplot(grid[0])
    strip = fig.add_subplot(grid[1], sharex=ax)
    axes = {"mfc": ax, "wt1": ax.twinx()}
    # MFC (left axis) drawn over WT1 so its markers and labels are not hidden
    ax.set_zorder(axes["wt1"].get_zorder() + 1)
    ax.patch.set_visible(False)
    counted_pb = "PB" in rules.specimens
    legend: list[tuple[object, str]] = []

    # y range per method: measured values and its thresholds, at least two decades
    for m, a in axes.items():
        a.set_yscale("log")
        vals = [v for v in s[f"{m}_pct"].to_numpy(float) if np.isfinite(v) and v > 0]
        vals += [thresholds[m][0]] if m in thresholds else []
        vals += [rules.level_high[m].value] if rules.level_high[m].is_set else []
        vals = [v * scale[m] for v in vals] or [scale[m] * 0.1]
        lo = 10 ** math.floor(math.log10(min(vals)) - 0.3)
        hi = 10 ** math.ceil(math.log10(max(vals)) + 0.3)
        if hi / lo < 100:
            lo, hi = lo / 10, hi * 10 if hi / lo < 10 else hi
        a.set_ylim(lo, hi)
        a.set_ylabel(axis_label[m], color=_COLORS[m])
        a.tick_params(axis="y", colors=_COLORS[m])

    strip_rows = {"mfc": 1, "wt1": 0}
    for m in ("mfc", "wt1"):
        a = axes[m]
        color = _COLORS[m]
        name = "MFC" if m == "mfc" else "WT1"
        for specimen in ("BM", "PB"):
            g = s[s["specimen"] == specimen]
            if g.empty:
                continue
            x = g["days_from_hsct"].to_numpy(float)
            res = g[m].to_numpy(object)
            val = g[f"{m}_pct"].to_numpy(float) * scale[m]
            measured = np.isfinite(val) & (val > 0)
            big = specimen == "BM"
            marker = ("D" if m == "mfc" else "o") if big else "s"
            suffix = "" if big else (" PB" if counted_pb else " PB (not counted)")
            size = (6.5 if m == "mfc" else 7) if big else 5
            if measured.any():
                a.plot(x[measured], val[measured], linestyle="-" if big else "none", color=color,
                       linewidth=1.2, alpha=0.8, gid=f"{m}-{specimen}-measured")
                pos = measured & (res == "positive")
                below = measured & ~pos
                if pos.any():
                    h = a.plot(x[pos], val[pos], marker=marker, linestyle="none", color=color, markersize=size,
                               gid=f"{m}-{specimen}-positive", zorder=4)[0]
                    legend.append((h, f"{name}{suffix} positive"))
                if below.any():
                    h = a.plot(x[below], val[below], marker=marker, linestyle="none", color=color,
                               markerfacecolor="white", markersize=size, gid=f"{m}-{specimen}-below", zorder=4)[0]
                    legend.append((h, f"{name}{suffix} measured, not positive"))
            row = strip_rows[m]
            neg = (res == "negative") & ~measured
            if neg.any():
                h = strip.plot(x[neg], np.full(neg.sum(), row), marker=marker, linestyle="none", markersize=size,
                               markerfacecolor="white", color=color, gid=f"{m}-{specimen}-negative")[0]
                legend.append((h, f"{name}{suffix} negative, no value"))
            ne = res == "not evaluable"
            if ne.any():
                h = strip.plot(x[ne], np.full(ne.sum(), row), marker="x", linestyle="none", markersize=size,
                               color=color, gid=f"{m}-{specimen}-not-evaluable")[0]
                legend.append((h, f"{name}{suffix} not evaluable"))
            pos_nv = (res == "positive") & ~measured
            if pos_nv.any():
                h = strip.plot(x[pos_nv], np.full(pos_nv.sum(), row), marker="^", linestyle="none",
                               markersize=size, color=color, gid=f"{m}-{specimen}-positive-no-value")[0]
                legend.append((h, f"{name}{suffix} positive, no value"))
    for m, (v, src) in thresholds.items():
        a = axes[m]
        y = v * scale[m]
        name = "MFC" if m == "mfc" else "WT1"
        a.axhline(y, color=_COLORS[m], linestyle="--", linewidth=1, gid=f"threshold-{m}")
        text = f"{name} positive > {_fmt_value(y)} {units[m]} ({short_source(src, rules.profile_id)})"
        a.annotate(text, xy=(0.0 if m == "mfc" else 1.0, y), xycoords=("axes fraction", "data"),
                   xytext=(4 if m == "mfc" else -4, 3), textcoords="offset points",
                   ha="left" if m == "mfc" else "right", va="bottom", fontsize=7.5, color=_COLORS[m],
                   gid=f"threshold-label-{m}", zorder=6, bbox=_LABEL_BOX)
    for m, t in rules.level_high.items():
        if t.is_set:
            y = t.value * scale[m]
            axes[m].axhline(y, color=_COLORS[m], linestyle=":", linewidth=1, gid=f"level-{m}")
            axes[m].annotate(f"high level \u2265 {_fmt_value(y)} {units[m]} ({short_source(t.source, rules.profile_id)})",
                             xy=(0.5, y), xycoords=("axes fraction", "data"), xytext=(0, 3),
                             textcoords="offset points", ha="center", va="bottom", fontsize=7.5,
                             color=_COLORS[m], gid=f"level-label-{m}", zorder=6, bbox=_LABEL_BOX)

    # time axis: the samples, the events and one month past the last of them
    days = [d for d in s["days_from_hsct"].to_numpy(float) if np.isfinite(d)]
    vlines: list[tuple[float, str, str]] = []
    hsct = pt["hsct_date"]
    if not pd.isna(pt["intervention_date"]):
        name = str(pt["intervention"] or "intervention")
        vlines.append((float((pt["intervention_date"] - hsct).days), _INTERVENTION_NAMES.get(name, name),
                       "intervention"))
    for col, label in _EVENT_COLUMNS.items():
        if col in pts.columns and not pd.isna(pt[col]):
            vlines.append((float((pt[col] - hsct).days), label, "event"))
    if ev is not None:
        for r in ev[ev["patient_id"] == str(patient_id)].itertuples(index=False):
            vlines.append((float((r.date - hsct).days), str(r.event), "event"))
    x_max = max(days + [d for d, _, _ in vlines] + [30.0]) + 30
    ax.set_xlim(min(days + [0.0]) - 10, x_max)
    for start, stop, st in _periods(tl_row, x_max, hsct):
        ax.axvspan(start, stop, color=_SHADE[st], alpha=0.08, linewidth=0, gid=f"period-{st}")
    for st in dict.fromkeys(p[2] for p in _periods(tl_row, x_max, hsct)):
        legend.append((Patch(color=_SHADE[st], alpha=0.2), f"{st} period (first positive to negativity)"))
    last_x, level = -math.inf, 0
    for day, label, kind in sorted(vlines):
        # labels of nearby events are staggered so they do not overlap
        level = level + 1 if day - last_x < 0.08 * (x_max - ax.get_xlim()[0]) else 0
        last_x = day
        color = "#2ca02c" if kind == "intervention" else ("#b2182b" if label == "relapse" else "#555555")
        style = "-" if kind == "intervention" else ("-" if label == "relapse" else ":")
        for a in (ax, strip):
            a.axvline(day, color=color, linestyle=style, linewidth=1.4, gid=f"{kind}-{label}" if a is ax else None)
        ax.annotate(label, xy=(day, 1.0), xycoords=("data", "axes fraction"), xytext=(0, 2 + 10 * (level % 2)),
                    textcoords="offset points", rotation=0, ha="center", va="bottom", fontsize=8,
                    color=color, fontweight="bold", gid=f"{kind}-label-{label}")

    strip.set_ylim(-0.6, 1.6)
    strip.set_yticks([0, 1])
    strip.set_yticklabels(["WT1", "MFC"], fontsize=8)
    strip.set_title("No value: negative (hollow), not evaluable (\u00d7), positive (\u25b2)",
                    fontsize=7.5, loc="left", color="#444444")
    for side in ("top", "right"):
        strip.spines[side].set_visible(False)
    strip.set_xlabel("Days after HSCT")
    ax.tick_params(axis="x", labelbottom=False)
    title = f"{patient_id}"
    if status:
        title += f": {status}"
    diagnosis = pt.get("diagnosis", "")
    if isinstance(diagnosis, str) and diagnosis:
        title += f" ({diagnosis})"
    ax.set_title(f"{title}. Profile {rules.profile_id}", fontsize=10, loc="left", pad=24)
    for m in thresholds:
        name = "MFC" if m == "mfc" else "WT1"
        legend.append((Line2D([], [], color=_COLORS[m], linestyle="--"), f"{name} positivity threshold"))
    if not known_disease:
        legend.append((Line2D([], [], linestyle="none"), "MFC threshold not drawn: diagnosis unknown"))
    fig.legend([h for h, _ in legend], [t for _, t in legend], loc="upper left", bbox_to_anchor=(0.69, 0.9),
               fontsize=7.5, frameon=False)
    if path is not None:
        from .figures import save_figure

        save_figure(fig, path)
    return fig


def write_kinetics_plots(
    patients,
    samples,
    outdir: "str | os.PathLike",
    *,
    profile: "str | Profile" = "puih_2020",
    events=None,
    timeline: pd.DataFrame | None = None,
    fmt: Literal["png", "pdf", "svg"] = "png",
    rules: TimelineRules | None = None,
) -> pd.DataFrame:
    """One kinetics plot per patient, written as ``<outdir>/<patient_id>.<fmt>``.

    A patient whose plot fails is reported in the ``error`` column; the others are still
    written. ``rules`` (from :func:`mrdquant.calls.rules.timeline_rules`) carries timeline
    overrides such as counted specimens or level thresholds; by default the profile's own.

    Returns
    -------
    DataFrame
        ``patient_id, path, error`` (``path`` empty on error).
    """
    if fmt not in ("png", "pdf", "svg"):
        raise InputError(f"fmt={fmt!r}; expected 'png', 'svg' or 'pdf'")
    prof = load_profile(profile)
    rules = rules if rules is not None else timeline_rules(prof)
    pts = read_patients(patients)
    called = _call(read_samples(samples, pts), rules)
    ev = read_events(events, pts) if events is not None else None
    status = {} if timeline is None else dict(zip(timeline["patient_id"], timeline["status"]))
    rows = []
    for pid in pts["patient_id"]:
        target = Path(outdir) / f"{_safe(pid)}.{fmt}"
        try:
            fig = _plot(pid, pts, called, rules, prof, ev, status.get(pid), target, _timeline_row(timeline, pid))
            fig.clf()
            rows.append({"patient_id": pid, "path": str(target), "error": ""})
        except (MrdquantError, ValueError, OSError) as exc:
            rows.append({"patient_id": pid, "path": "", "error": f"{type(exc).__name__}: {exc}"})
    return pd.DataFrame(rows, columns=["patient_id", "path", "error"])


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))

"""MRD kinetics plot: WT1 % and MFC % of one patient over days after HSCT.

The y axis is logarithmic. Measured values are drawn as filled markers joined by a line
per method; a negative result without a value is drawn as a hollow marker on the floor
of the axis, a not-evaluable result as a cross on the floor, a positive result without a
value as a triangle at the method's threshold. PB samples use square markers (and are
labelled "not counted" when the profile counts BM only). Horizontal lines mark the
positivity thresholds (and level thresholds, when the profile sets them); vertical lines
mark the intervention and clinical events (relapse, death, GVHD, and any row of an events
table).

matplotlib is imported inside the functions; figures are drawn on an Agg canvas without
pyplot, so no global backend is changed. Files are written atomically.
"""

from __future__ import annotations

import math
import os
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

__all__ = ["plot_kinetics", "write_kinetics_plots", "positivity_thresholds"]

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
):
    """Draw the MRD kinetics of one patient; optionally save it (PNG or PDF).

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
        Timeline status shown in the title (e.g. ``"MRDco+"``).
    path : path, optional
        Where to save; the format follows the suffix (``.png`` or ``.pdf``).

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
    return _plot(patient_id, pts, called, rules, prof, ev, status, path)


def _plot(patient_id, pts, called, rules: TimelineRules, prof: Profile, ev, status, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    match = pts[pts["patient_id"] == str(patient_id)]
    if match.empty:
        raise InputError(f"patient {patient_id!r} is not in the patients table")
    pt = match.iloc[0]
    if path is not None:
        fmt = Path(path).suffix.lower().lstrip(".")
        if fmt not in ("png", "pdf"):
            raise InputError(f"{path}: cannot save a plot as {fmt!r}; expected .png or .pdf")
    s = called[called["patient_id"] == str(patient_id)].sort_values(["date", "sample_id"])
    thresholds = positivity_thresholds(prof, pt.get("diagnosis", ""))

    values = [v for m in ("mfc", "wt1") for v in s[f"{m}_pct"].to_numpy(float) if np.isfinite(v) and v > 0]
    values += [v for v, _ in thresholds.values()]
    values += [t.value for t in rules.level_high.values() if t.is_set]
    low = min(values) if values else 1e-2
    high = max(values) if values else 10.0
    floor = 10 ** (math.floor(math.log10(low)) - 1)
    top = 10 ** (math.ceil(math.log10(high)) + 0.5)

    fig = Figure(figsize=(8, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_yscale("log")
    ax.set_ylim(floor / 2, top)
    counted_pb = "PB" in rules.specimens
    for m in ("mfc", "wt1"):
        color = _COLORS[m]
        for specimen in ("BM", "PB"):
            g = s[s["specimen"] == specimen]
            if g.empty:
                continue
            x = g["days_from_hsct"].to_numpy(float)
            res = g[m].to_numpy(object)
            val = g[f"{m}_pct"].to_numpy(float)
            measured = np.isfinite(val) & (val > 0)
            big = specimen == "BM"
            marker = "o" if big else "s"
            suffix = "" if big else (" PB" if counted_pb else " PB (not counted)")
            if measured.any():
                ax.plot(
                    x[measured], val[measured], marker=marker, linestyle="-" if big else "none",
                    color=color, markersize=6 if big else 4, label=f"{_LABELS[m]}{suffix}",
                    gid=f"{m}-{specimen}-measured",
                )
            neg = (res == "negative") & ~measured
            if neg.any():
                ax.plot(x[neg], np.full(neg.sum(), floor), marker=marker, linestyle="none",
                        markerfacecolor="none", color=color, gid=f"{m}-{specimen}-negative")
            ne = res == "not evaluable"
            if ne.any():
                ax.plot(x[ne], np.full(ne.sum(), floor), marker="x", linestyle="none",
                        color=color, gid=f"{m}-{specimen}-not-evaluable")
            pos_nv = (res == "positive") & ~measured
            if pos_nv.any():
                y = thresholds.get(m, (floor * 10, ""))[0]
                ax.plot(x[pos_nv], np.full(pos_nv.sum(), y), marker="^", linestyle="none",
                        color=color, gid=f"{m}-{specimen}-positive-no-value")
    for m, (v, _src) in thresholds.items():
        ax.axhline(v, color=_COLORS[m], linestyle="--", linewidth=1, gid=f"threshold-{m}")
    for m, t in rules.level_high.items():
        if t.is_set:
            ax.axhline(t.value, color=_COLORS[m], linestyle=":", linewidth=1, gid=f"level-{m}")

    vlines: list[tuple[int, str, str]] = []
    if not pd.isna(pt["intervention_date"]):
        vlines.append(((pt["intervention_date"] - pt["hsct_date"]).days, pt["intervention"] or "intervention", "intervention"))
    for col, label in _EVENT_COLUMNS.items():
        if col in pts.columns and not pd.isna(pt[col]):
            vlines.append(((pt[col] - pt["hsct_date"]).days, label, "event"))
    if ev is not None:
        for r in ev[ev["patient_id"] == str(patient_id)].itertuples(index=False):
            vlines.append(((r.date - pt["hsct_date"]).days, r.event, "event"))
    for day, label, kind in vlines:
        color = "#2ca02c" if kind == "intervention" else "#555555"
        ax.axvline(day, color=color, linestyle="-" if kind == "intervention" else ":", linewidth=1.2,
                   gid=f"{kind}-{label}")
        ax.text(day, top, f" {label}", rotation=90, va="top", ha="right", fontsize=8, color=color)

    ax.set_xlabel("days after HSCT")
    ax.set_ylabel("MRD level (%)")
    title = f"{patient_id}"
    if status:
        title += f": {status}"
    ax.set_title(f"{title}  (profile {rules.profile_id})", fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    handles += [
        Line2D([], [], marker="o", linestyle="none", markerfacecolor="none", color="black", label="negative"),
        Line2D([], [], marker="x", linestyle="none", color="black", label="not evaluable"),
    ]
    labels += ["negative", "not evaluable"]
    ax.legend(handles, labels, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    if path is not None:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix.lower().lstrip("."))
    return fig


def write_kinetics_plots(
    patients,
    samples,
    outdir: "str | os.PathLike",
    *,
    profile: "str | Profile" = "puih_2020",
    events=None,
    timeline: pd.DataFrame | None = None,
    fmt: Literal["png", "pdf"] = "png",
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
    if fmt not in ("png", "pdf"):
        raise InputError(f"fmt={fmt!r}; expected 'png' or 'pdf'")
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
            fig = _plot(pid, pts, called, rules, prof, ev, status.get(pid), target)
            fig.clf()
            rows.append({"patient_id": pid, "path": str(target), "error": ""})
        except (MrdquantError, ValueError, OSError) as exc:
            rows.append({"patient_id": pid, "path": "", "error": f"{type(exc).__name__}: {exc}"})
    return pd.DataFrame(rows, columns=["patient_id", "path", "error"])


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))

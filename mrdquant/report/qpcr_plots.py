"""qPCR figures a molecular lab signs a run from.

Public functions
----------------
plot_standard_curve(wells, target, *, plate=None, curve=None, path=None)
    Standards of one target on one plate: every well (used, or excluded as an outlier),
    the fitted line, slope, efficiency and R², and the acceptance band (the lines of the
    steepest and flattest accepted slope through the standards' centroid).
plot_plate_ct(wells, *, plate=None, path=None, ntc_max_ct=None)
    Ct of every well of a plate by target and role; wells without amplification on a
    "no Ct" row; amplified NTCs and excluded or flagged replicates marked and named.
plot_amplification(curves, *, plate=None, target=None, path=None)
    Amplification traces (fluorescence per cycle) where the export carries them
    (:func:`mrdquant.io.qpcr_curves.read_amplification`).

Every function returns the matplotlib ``Figure`` (Agg canvas, no pyplot state); with
``path`` the figure is also written atomically (.png at 300 dpi, .svg, .pdf).
"""

from __future__ import annotations

import math
import os
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import QPCRError
from ..pcr.calibration import DEFAULT_MIN_R2, DEFAULT_SLOPE_RANGE, StandardCurve, standard_curve
from ..pcr.qc import ntc_check, replicate_summary
from .figures import save_figure

__all__ = ["plot_standard_curve", "plot_plate_ct", "plot_amplification", "ROLE_ORDER"]

#: roles in the order they are drawn
ROLE_ORDER = ("standard", "unknown", "control", "ntc")
_ROLE_COLORS = {"standard": "#0072B2", "unknown": "#333333", "control": "#009E73", "ntc": "#CC79A7"}
_FLAG_COLOR = "#D55E00"


def _figure(figsize):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _one_plate(wells: pd.DataFrame, plate: str | None) -> tuple[pd.DataFrame, str]:
    plates = list(dict.fromkeys(wells["plate"].astype(str)))
    if plate is None:
        if len(plates) != 1:
            raise QPCRError(f"the well table holds {len(plates)} plates {plates}; pass plate=")
        plate = plates[0]
    part = wells[wells["plate"].astype(str) == str(plate)]
    if part.empty:
        raise QPCRError(f"plate {plate!r} is not in the well table; plates: {plates}")
    return part, str(plate)


def plot_standard_curve(
    wells: pd.DataFrame,
    target: str,
    *,
    plate: str | None = None,
    curve: StandardCurve | None = None,
    slope_range=DEFAULT_SLOPE_RANGE,
    min_r2: float = DEFAULT_MIN_R2,
    path: "str | os.PathLike | None" = None,
    ax=None,
):
    """Standard curve of one target on one plate.

    Parameters
    ----------
    wells : DataFrame
        Well table (:func:`mrdquant.read_qpcr`).
    target : str
    plate : str, optional
        Needed when the table holds several plates.
    curve : StandardCurve, optional
        The fitted curve; default fitted here with ``slope_range`` and ``min_r2``.
    slope_range : (float, float), cycles per log10 copies
    min_r2 : float
    path : path, optional
        Write the figure (.png, .svg, .pdf).
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    QPCRError
        No standards of the target on the plate, or an unknown plate.
    """
    part, plate = _one_plate(wells, plate)
    std = part[(part["role"] == "standard") & (part["target"] == target)]
    if std.empty:
        raise QPCRError(f"plate {plate!r} has no standard wells of target {target!r}")
    if curve is None:
        curve = standard_curve(part, target, plate=plate, slope_range=slope_range, min_r2=min_r2)
    fig = ax.figure if ax is not None else _figure((5.2, 4.2))
    ax = ax if ax is not None else fig.add_subplot(1, 1, 1)
    q = std["quantity"].to_numpy(float)
    ct = std["ct"].to_numpy(float)
    x = np.log10(np.where(q > 0, q, np.nan))
    outlier = std["well"].isin(curve.outliers).to_numpy()
    amp = np.isfinite(ct) & np.isfinite(x)
    used = amp & ~outlier
    ax.plot(x[used], ct[used], "o", color=_ROLE_COLORS["standard"], ms=5, label="standard well", gid="standards")
    if (amp & outlier).any():
        ax.plot(x[amp & outlier], ct[amp & outlier], "X", color=_FLAG_COLOR, ms=7,
                label="excluded (outlier)", gid="outliers")
    xs = np.array([np.nanmin(x), np.nanmax(x)])
    xs = xs + np.array([-0.3, 0.3])
    cx, cy = float(np.mean(x[used])), float(np.mean(ct[used]))
    lo, hi = curve.slope_range
    band_a = cy + lo * (xs - cx)
    band_b = cy + hi * (xs - cx)
    ax.fill_between(xs, band_a, band_b, color="#999999", alpha=0.18, linewidth=0,
                    label=f"accepted slopes {lo:g} to {hi:g}", gid="acceptance-band")
    ax.plot(xs, curve.slope * xs + curve.intercept, "-", color="#000000", linewidth=1.2, label="fit", gid="fit")
    verdict = "passed" if curve.passed else "FAILED: " + "; ".join(curve.reasons)
    text = (f"slope {curve.slope:.3f}\nefficiency {curve.efficiency_pct:.1f} %\n"
            f"R² {curve.r2:.4f} (≥ {curve.min_r2:g})\n{verdict}")
    ax.text(0.97, 0.97, text, transform=ax.transAxes, ha="right", va="top", fontsize=8,
            color="#000000" if curve.passed else _FLAG_COLOR, gid="curve-stats",
            bbox={"facecolor": "white", "edgecolor": "#cccccc", "pad": 3})
    ax.set_xlabel("Standard quantity (log10 copies per reaction)")
    ax.set_ylabel("Ct (cycles)")
    ax.set_title(f"{target} standard curve, plate {plate}", fontsize=9, loc="left")
    ax.legend(loc="lower left", fontsize=7, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if path is not None:
        save_figure(fig, path)
    return fig


def _flagged_wells(part: pd.DataFrame, ntc_max_ct: float | None) -> dict[str, str]:
    """well -> why it is flagged (amplified NTC, excluded or flagged replicate)."""
    out: dict[str, str] = {}
    ntc = part[part["role"] == "ntc"]
    for r in ntc.itertuples(index=False):
        if np.isfinite(r.ct) and (ntc_max_ct is None or r.ct < ntc_max_ct):
            out[r.well] = f"NTC amplified (Ct {r.ct:.1f})"
    try:
        reps = replicate_summary(part, {})
    except QPCRError:
        return out
    for r in reps.itertuples(index=False):
        for w in [w for w in str(r.excluded).split(";") if w.strip()]:
            out.setdefault(w.strip(), f"{r.sample} {r.target}: excluded replicate")
        if "high replicate SD" in str(r.flags):
            g = part[(part["sample"] == r.sample) & (part["target"] == r.target)]
            for w in g["well"]:
                out.setdefault(w, f"{r.sample} {r.target}: replicate SD {r.ct_sd:.2f}")
    return out


def plot_plate_ct(
    wells: pd.DataFrame,
    *,
    plate: str | None = None,
    ntc_max_ct: float | None = None,
    path: "str | os.PathLike | None" = None,
):
    """Ct of every well of one plate, by target (panels) and role (columns).

    Wells without amplification are drawn on a "no Ct" row above the axis. Amplified NTC
    wells and replicates the QC excluded (or flagged for a high SD) are drawn in orange
    and named in a list beside the panels.

    Parameters
    ----------
    wells : DataFrame
        Well table (:func:`mrdquant.read_qpcr`).
    plate : str, optional
        Needed when the table holds several plates.
    ntc_max_ct : float, optional, cycles
        An NTC Ct at or above this is not an amplification (as :func:`mrdquant.pcr.qc.ntc_check`).
    path : path, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    part, plate = _one_plate(wells, plate)
    targets = list(dict.fromkeys(part["target"].astype(str)))
    flagged = _flagged_wells(part, ntc_max_ct)
    fig = _figure((3.0 * len(targets) + 2.4, 4.2))
    grid = fig.add_gridspec(1, len(targets) + 1, width_ratios=[3.0] * len(targets) + [2.2])
    finite = part["ct"].to_numpy(float)
    finite = finite[np.isfinite(finite)]
    top = (math.ceil(finite.max()) + 2) if finite.size else 40.0
    bottom = (math.floor(finite.min()) - 1) if finite.size else 10.0
    rng = np.random.default_rng(0)  # fixed horizontal jitter: the same figure every run
    first = None
    for k, target in enumerate(targets):
        ax = fig.add_subplot(grid[k], sharey=first)
        first = first or ax
        g = part[part["target"] == target]
        roles = [r for r in ROLE_ORDER if (g["role"] == r).any()] + sorted(
            set(g["role"]) - set(ROLE_ORDER))
        for i, role in enumerate(roles):
            rows = g[g["role"] == role]
            ct = rows["ct"].to_numpy(float)
            y = np.where(np.isfinite(ct), ct, top + 1.0)
            x = i + rng.uniform(-0.18, 0.18, size=len(rows))
            bad = rows["well"].map(lambda w: w in flagged).to_numpy(bool)
            ax.plot(x[~bad], y[~bad], "o", ms=4, color=_ROLE_COLORS.get(role, "#333333"), alpha=0.85,
                    linestyle="none", gid=f"ct-{target}-{role}")
            if bad.any():
                ax.plot(x[bad], y[bad], "X", ms=7, color=_FLAG_COLOR, linestyle="none",
                        gid=f"flagged-{target}-{role}")
                for xi, yi, w in zip(x[bad], y[bad], rows["well"].to_numpy(object)[bad]):
                    ax.annotate(str(w), (xi, yi), xytext=(5, 0), textcoords="offset points", fontsize=7,
                                color=_FLAG_COLOR, va="center")
        ax.axhline(top + 0.5, color="#bbbbbb", linewidth=0.8)
        ax.set_xticks(range(len(roles)))
        ax.set_xticklabels([r.upper() if r == "ntc" else r for r in roles], fontsize=8)
        ax.set_xlim(-0.6, len(roles) - 0.4)
        ax.set_ylim(bottom, top + 1.8)
        ax.set_title(target, fontsize=9, loc="left")
        ax.invert_yaxis()
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if k == 0:
            ax.set_ylabel("Ct (cycles; earlier amplification higher)")
            ticks = [t for t in ax.get_yticks() if bottom <= t <= top]
            ax.set_yticks(ticks + [top + 1.0])
            ax.set_yticklabels([f"{t:g}" for t in ticks] + ["no Ct"])
        else:
            ax.tick_params(axis="y", labelleft=False)
    notes = fig.add_subplot(grid[-1])
    notes.axis("off")
    lines = [f"Plate {plate}", ""]
    ntc = ntc_check(part, ntc_max_ct=ntc_max_ct)
    for r in ntc.itertuples(index=False):
        lines.append(f"NTC {r.target}: {'passed' if r.passed else 'FAILED'}")
    lines.append("")
    if flagged:
        lines.append("Flagged wells (✕):")
        lines += [f"{w}: {why}" for w, why in sorted(flagged.items(), key=lambda kv: (kv[0][0], int(kv[0][1:]) if kv[0][1:].isdigit() else 0))]
    else:
        lines.append("No flagged well.")
    notes.text(0.0, 1.0, "\n".join(lines[:30]), va="top", ha="left", fontsize=7.5, transform=notes.transAxes,
               gid="plate-notes")
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_amplification(
    curves: pd.DataFrame,
    *,
    plate: str | None = None,
    target: str | None = None,
    threshold: float | None = None,
    path: "str | os.PathLike | None" = None,
):
    """Amplification traces of one plate (and target), coloured by role.

    Parameters
    ----------
    curves : DataFrame
        ``plate, well, sample, target, role, cycle, fluorescence`` (one row per well and
        cycle), e.g. :func:`mrdquant.io.qpcr_curves.read_amplification`.
    plate, target : str, optional
        Select one plate / target (needed when there are several plates).
    threshold : float, optional
        Fluorescence threshold drawn as a dashed line.
    path : path, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    part, plate = _one_plate(curves, plate)
    if target is not None:
        part = part[part["target"] == target]
        if part.empty:
            raise QPCRError(f"plate {plate!r} has no amplification data of target {target!r}")
    fig = _figure((5.6, 4.0))
    ax = fig.add_subplot(1, 1, 1)
    seen = set()
    order = {r: i for i, r in enumerate(ROLE_ORDER)}
    groups = sorted(part.groupby(["well", "role"], sort=False), key=lambda kv: order.get(kv[0][1], 99))
    for (well, role), g in groups:
        g = g.sort_values("cycle")
        label = (role.upper() if role == "ntc" else role) if role not in seen else None
        seen.add(role)
        ax.plot(g["cycle"], g["fluorescence"], color=_ROLE_COLORS.get(role, "#333333"), linewidth=0.8,
                alpha=0.8, label=label, gid=f"trace-{well}")
    if threshold is not None:
        ax.axhline(threshold, color="#555555", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
    ax.set_xlabel("Cycle")
    ax.set_ylabel("Fluorescence (instrument units)")
    name = f"{target}: a" if target else "A"
    ax.set_title(f"{name}mplification curves, plate {plate}", fontsize=9, loc="left")
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if path is not None:
        save_figure(fig, path)
    return fig

"""Kaplan–Meier and cumulative-incidence curves by group, with numbers at risk below.

Public functions
----------------
plot_km(time, status, group=None, *, path=None, ...)
    Survival curves (step functions) with pointwise CI bands.
plot_cif(time, event, group=None, *, cause=1, path=None, ...)
    Cumulative incidence curves of one cause (competing events accounted for).

Both return the matplotlib ``Figure``; with ``path`` the figure is also written atomically
(format from the suffix: .png, .pdf, .svg). matplotlib is imported inside the functions
with the non-interactive Agg backend, so importing this module is cheap and works without
a display.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.store import atomic_path
from ..outcomes._validate import ALL_GROUP, as_time_event, check_group
from ..outcomes.cif import cumulative_incidence
from ..outcomes.km import kaplan_meier

__all__ = ["plot_km", "plot_cif", "numbers_at_risk"]

_FORMATS = {".png", ".pdf", ".svg"}


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() != "agg":
        try:
            matplotlib.use("Agg", force=True)
        except Exception:  # pragma: no cover - backend already fixed by the host
            pass
    import matplotlib.pyplot as plt

    return plt


def numbers_at_risk(time: Any, group: Any = None, *, times: Sequence[float]) -> pd.DataFrame:
    """Patients still at risk (follow-up >= t) per group at each time.

    Parameters
    ----------
    time : array-like of shape (n,), float
    group : array-like of shape (n,), optional
    times : sequence of float, same unit as ``time``

    Returns
    -------
    DataFrame
        ``group``, ``time``, ``n_risk`` (patients).
    """
    t = np.asarray(time, dtype=float)
    codes, levels = check_group(group, t.size)
    req = np.asarray(times, dtype=float)
    rows = []
    for k, label in enumerate(levels):
        tg = t[codes == k]
        for u in req:
            rows.append((label, float(u), int((tg >= u).sum())))
    return pd.DataFrame(rows, columns=["group", "time", "n_risk"])


def _ticks(t_max: float, risk_times: Sequence[float] | None) -> np.ndarray:
    if risk_times is not None:
        arr = np.asarray(risk_times, dtype=float)
        if arr.ndim != 1 or arr.size == 0 or np.any(~np.isfinite(arr)) or np.any(np.diff(arr) <= 0):
            raise InputError(f"risk_times: {list(np.ravel(arr))}; expected increasing finite times")
        return arr
    step = _nice_step(t_max / 5.0 if t_max > 0 else 1.0)
    return np.arange(0.0, t_max + 1e-9, step)


def _nice_step(raw: float) -> float:
    mag = 10 ** np.floor(np.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return float(m * mag)
    return float(10 * mag)


def _finish(fig, ax, table_ax, curves, ticks, xlabel, ylabel, title, path):
    ax.set_xlim(ticks[0], ticks[-1] if ticks[-1] > ticks[0] else ticks[0] + 1)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", frameon=False)
    ax.set_xticks(ticks)
    # numbers at risk below the axis, one line per group, aligned with the ticks
    table_ax.set_xlim(ax.get_xlim())
    table_ax.set_ylim(-0.5, len(curves) - 0.5)
    table_ax.set_xticks(ticks)
    table_ax.set_xlabel(xlabel)
    table_ax.set_yticks(range(len(curves)))
    table_ax.set_yticklabels([str(c[0]) for c in curves][::-1])
    table_ax.tick_params(axis="y", length=0, pad=14)
    for side in ("top", "right", "left"):
        table_ax.spines[side].set_visible(False)
    for row, (_, color, n_at) in enumerate(curves[::-1]):
        for x, n in zip(ticks, n_at):
            table_ax.text(x, row, str(n), ha="center", va="center", color=color, fontsize=8)
    table_ax.set_title("Number at risk", fontsize=8, loc="left")
    fig.subplots_adjust(left=0.16, right=0.97, top=0.93, bottom=0.09)
    if path is not None:
        target = os.fspath(path)
        suffix = os.path.splitext(target)[1].lower()
        if suffix not in _FORMATS:
            raise InputError(f"{target}: cannot write a figure with suffix {suffix!r}; expected {sorted(_FORMATS)}")
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=suffix[1:], dpi=150)
    return fig


def _figure(plt, figsize):
    fig = plt.figure(figsize=figsize)
    grid = fig.add_gridspec(2, 1, height_ratios=[4, 1], hspace=0.35)
    ax = fig.add_subplot(grid[0])
    table_ax = fig.add_subplot(grid[1], sharex=None)
    return fig, ax, table_ax


def plot_km(
    time: Any,
    status: Any,
    group: Any = None,
    *,
    path: str | os.PathLike | None = None,
    conf_type: str = "log",
    ci: bool = True,
    risk_times: Sequence[float] | None = None,
    xlabel: str = "Time",
    ylabel: str = "Survival probability",
    title: str | None = None,
    figsize: tuple[float, float] = (6.4, 5.2),
):
    """Kaplan–Meier curves by group with CI bands and numbers at risk.

    Parameters
    ----------
    time, status, group, conf_type
        As :func:`mrdquant.outcomes.kaplan_meier`.
    path : path, optional
        Write the figure there (``.png``, ``.pdf`` or ``.svg``), atomically.
    ci : bool, default True
        Shade the pointwise confidence band.
    risk_times : sequence of float, optional, unit of ``time``
        Times of the numbers-at-risk table (and x ticks); default about 5 round steps.
    xlabel, ylabel, title : str
    figsize : (float, float), inches

    Returns
    -------
    matplotlib.figure.Figure
        The caller owns it (close it with ``matplotlib.pyplot.close(fig)``).
    """
    table = kaplan_meier(time, status, group, conf_type=conf_type)
    t = np.asarray(time, dtype=float)
    ticks = _ticks(float(t.max()) if t.size else 1.0, risk_times)
    risk = numbers_at_risk(t, group, times=ticks)
    plt = _pyplot()
    fig, ax, table_ax = _figure(plt, figsize)
    curves = []
    for k, (label, part) in enumerate(table.groupby("group", sort=False)):
        color = f"C{k}"
        x = np.concatenate([[0.0], part["time"].to_numpy()])
        y = np.concatenate([[1.0], part["survival"].to_numpy()])
        ax.step(x, y, where="post", color=color, label=str(label) if label != ALL_GROUP else "All")
        cens = part["n_censor"].to_numpy() > 0
        ax.plot(part["time"].to_numpy()[cens], part["survival"].to_numpy()[cens], "|", color=color, ms=6)
        if ci:
            lo = np.concatenate([[1.0], part["lower"].to_numpy()])
            hi = np.concatenate([[1.0], part["upper"].to_numpy()])
            ax.fill_between(x, np.nan_to_num(lo, nan=0.0), np.nan_to_num(hi, nan=1.0), step="post",
                            color=color, alpha=0.15, linewidth=0)
        n_at = risk.loc[risk["group"] == label, "n_risk"].tolist()
        curves.append((label if label != ALL_GROUP else "All", color, n_at))
    return _finish(fig, ax, table_ax, curves, ticks, xlabel, ylabel, title, path)


def plot_cif(
    time: Any,
    event: Any,
    group: Any = None,
    *,
    cause: int = 1,
    path: str | os.PathLike | None = None,
    conf_type: str = "log-log",
    ci: bool = True,
    risk_times: Sequence[float] | None = None,
    xlabel: str = "Time",
    ylabel: str = "Cumulative incidence",
    title: str | None = None,
    figsize: tuple[float, float] = (6.4, 5.2),
):
    """Cumulative incidence curves of one cause by group, with CI bands and numbers at risk.

    Parameters
    ----------
    time, event, group, conf_type
        As :func:`mrdquant.outcomes.cumulative_incidence` (event 0 censored, 1..k causes).
    cause : int, default 1
        The cause plotted; the others compete.
    path, ci, risk_times, xlabel, ylabel, title, figsize
        As :func:`plot_km`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    t, e = as_time_event(time, event)
    table = cumulative_incidence(t, e, group, conf_type=conf_type)
    codes, levels = check_group(group, t.size)
    ticks = _ticks(float(t.max()) if t.size else 1.0, risk_times)
    risk = numbers_at_risk(t, group, times=ticks)
    plt = _pyplot()
    fig, ax, table_ax = _figure(plt, figsize)
    curves = []
    for k, label in enumerate(levels):
        color = f"C{k}"
        part = table[(table["group"] == label) & (table["cause"] == cause)]
        t_end = float(t[codes == k].max())
        x = np.concatenate([[0.0], part["time"].to_numpy(), [t_end]])
        est = part["estimate"].to_numpy()
        last = est[-1] if est.size else 0.0
        y = np.concatenate([[0.0], est, [last]])
        ax.step(x, y, where="post", color=color, label=str(label) if label != ALL_GROUP else "All")
        if ci and est.size:
            lo = np.concatenate([[0.0], part["lower"].to_numpy(), [part["lower"].to_numpy()[-1]]])
            hi = np.concatenate([[0.0], part["upper"].to_numpy(), [part["upper"].to_numpy()[-1]]])
            ax.fill_between(x, np.nan_to_num(lo, nan=0.0), np.nan_to_num(hi, nan=1.0), step="post",
                            color=color, alpha=0.15, linewidth=0)
        n_at = risk.loc[risk["group"] == label, "n_risk"].tolist()
        curves.append((label if label != ALL_GROUP else "All", color, n_at))
    return _finish(fig, ax, table_ax, curves, ticks, xlabel, ylabel, title, path)

"""Kaplan–Meier and cumulative-incidence figures by group, fit for a paper.

Public functions
----------------
plot_km(time, status, group=None, *, path=None, ...)
    Survival curves (step functions) with pointwise CI bands and censoring marks.
plot_cif(time, event, group=None, *, cause=1, path=None, ...)
    Cumulative incidence curves of one cause (competing events accounted for), with
    censoring marks as on a Kaplan–Meier plot.
numbers_at_risk(time, group=None, *, times)
    The table printed under both.

Each figure carries, besides the curves: the group test (log-rank for survival, Gray's
test for incidence) and its P value, the estimate with its confidence interval at a
horizon (``horizon=``) for every group, the number of patients per group, and a
numbers-at-risk table with the full group names. Each group keeps one colour across all
figures of a study (``colors=``, see :func:`mrdquant.report.figures.group_colors`); a
group without events is drawn along zero above an offset axis, so it stays visible.
The y axis is in percent.

Both return the matplotlib ``Figure``; with ``path`` the figure is also written atomically
(format from the suffix: .png at 300 dpi, .pdf, .svg). matplotlib is imported inside the
functions with the non-interactive Agg backend, so importing this module is cheap and
works without a display.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError, StatisticalWarning
from ..outcomes._validate import ALL_GROUP, as_time_event, check_group, check_status, check_time
from ..outcomes.cif import cumulative_incidence
from ..outcomes.gray import gray_test
from ..outcomes.km import kaplan_meier
from ..outcomes.logrank import logrank_test
from .figures import FIGURE_FORMATS, group_colors, save_figure

__all__ = ["plot_km", "plot_cif", "numbers_at_risk", "format_p", "index_label"]

_LINESTYLES = ("-", (0, (5, 2.5)), (0, (1.5, 1.5)), (0, (6, 2, 1.5, 2)))

#: how a time origin of :func:`mrdquant.outcomes.build_endpoints` reads on an axis
_INDEX_LABELS = {
    "hsct": "HSCT",
    "first_mrd_positive": "first MRD positivity",
    "intervention": "intervention",
    "randomization": "randomization",
}


def index_label(index: str) -> str:
    """The time origin as it reads in an axis label (``"Months from " + ...``).

    Examples
    --------
    >>> index_label("hsct"), index_label("first_mrd_positive"), index_label("dli_date")
    ('HSCT', 'first MRD positivity', 'dli date')
    """
    return _INDEX_LABELS.get(str(index), str(index).replace("_", " "))


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() != "agg":
        try:
            matplotlib.use("Agg", force=True)
        except Exception:  # pragma: no cover - backend already fixed by the host
            pass
    import matplotlib.pyplot as plt

    return plt


def format_p(p: float) -> str:
    """A P value as printed in a paper and in the results text: ``P = 0.021``, ``P < 0.001``.

    Three decimals, as :meth:`mrdquant.outcomes.summary.OutcomeSummary.text`, so a figure
    and its results sentence show the same number.

    Examples
    --------
    >>> format_p(0.0213), format_p(0.00004), format_p(0.3045), format_p(float("nan"))
    ('P = 0.021', 'P < 0.001', 'P = 0.304', 'P not computable')
    """
    if p is None or not np.isfinite(p):
        return "P not computable"
    if p < 0.001:
        return "P < 0.001"
    return f"P = {p:.3f}"


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
    # the last tick covers the longest follow-up, so no curve runs past the axis
    return np.arange(0.0, math.ceil(t_max / step - 1e-9) * step + step / 2, step)


def _nice_step(raw: float) -> float:
    mag = 10 ** np.floor(np.log10(raw))
    for m in (1, 2, 2.5, 3, 5, 6, 10):
        if raw <= m * mag:
            return float(m * mag)
    return float(10 * mag)


def _check_path(path) -> None:
    if path is not None:
        suffix = os.path.splitext(os.fspath(path))[1].lower()
        if suffix not in FIGURE_FORMATS:
            raise InputError(
                f"{os.fspath(path)}: cannot write a figure with suffix {suffix!r}; expected {list(FIGURE_FORMATS)}"
            )


def _display(label) -> str:
    return "All" if str(label) == ALL_GROUP else str(label)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _estimate_text(row, column: str = "estimate") -> str:
    if row is None or not np.isfinite(row[column]):
        return "not estimable"
    lo, hi = row["lower"], row["upper"]
    if np.isfinite(lo) and np.isfinite(hi) and lo == hi == row[column]:
        return f"{_pct(row[column])}% (no events)" if row[column] in (0.0, 1.0) else f"{_pct(row[column])}%"
    ci = f" (95% CI {_pct(lo)}–{_pct(hi)})" if np.isfinite(lo) and np.isfinite(hi) else ""
    return f"{_pct(row[column])}%{ci}"


class _Curves:
    """What both plots share: the figure, the risk table, the legend and the file."""

    def __init__(self, plt, levels, colors, figsize):
        from matplotlib.ticker import PercentFormatter

        self.levels = [str(v) for v in levels]
        palette = group_colors(self.levels)
        if colors:
            palette.update({str(k): v for k, v in colors.items()})
        self.colors = palette
        n_rows = max(1, len(self.levels))
        self.fig = plt.figure(figsize=figsize, layout="constrained")
        grid = self.fig.add_gridspec(2, 1, height_ratios=[5.5, 0.75 + 0.35 * n_rows])
        self.ax = self.fig.add_subplot(grid[0])
        self.table_ax = self.fig.add_subplot(grid[1])
        ax = self.ax
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        # offset axes: a curve along 0 (no events) lies above the x axis, not hidden in it
        ax.spines["bottom"].set_position(("outward", 6))
        ax.spines["left"].set_position(("outward", 6))
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0, symbol=""))
        ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        self.handles: list = []
        self.labels: list[str] = []

    def color(self, label) -> str:
        return self.colors.get(str(label), "#000000")

    def linestyle(self, label) -> str:
        # one dash pattern per group: curves that coincide (e.g. two groups without events,
        # both along 0) stay visible, and the figure reads in black and white
        return _LINESTYLES[self.levels.index(str(label)) % len(_LINESTYLES)]

    def add_legend(self, handle, label: str) -> None:
        self.handles.append(handle)
        self.labels.append(label)

    def finish(self, ticks, risk, xlabel, ylabel, title, test_text, horizon, horizon_label, legend_loc, path):
        from matplotlib.lines import Line2D

        ax, table_ax = self.ax, self.table_ax
        ax.set_xlim(ticks[0], ticks[-1] if ticks[-1] > ticks[0] else ticks[0] + 1)
        ax.set_ylim(0, 1.0)
        ax.set_ylabel(ylabel)
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks])
        ax.set_xlabel(xlabel)
        if title:
            ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
        if horizon is not None:
            ax.axvline(horizon, color="#777777", linestyle=":", linewidth=1, gid="horizon", zorder=1)
        if test_text:
            self.add_legend(Line2D([], [], linestyle="none", marker="none"), test_text)
        legend_title = f"{horizon_label}, % (95% CI)" if horizon is not None else None
        leg = ax.legend(self.handles, self.labels, loc=legend_loc, frameon=True, framealpha=1.0,
                        edgecolor="none", fontsize=8, title=legend_title, title_fontsize=8)
        leg.set_zorder(5)
        leg._legend_box.align = "left"
        # numbers at risk below the axis, one line per group, aligned with the ticks
        table_ax.set_xlim(ax.get_xlim())
        table_ax.set_ylim(-0.5, len(self.levels) - 0.5)
        table_ax.set_xticks([])
        table_ax.set_yticks(range(len(self.levels)))
        table_ax.set_yticklabels([_display(v) for v in self.levels][::-1], fontsize=8)
        for tick, label in zip(table_ax.get_yticklabels(), self.levels[::-1]):
            tick.set_color(self.color(label))
        table_ax.tick_params(axis="y", length=0, pad=14)
        for side in ("top", "right", "left", "bottom"):
            table_ax.spines[side].set_visible(False)
        for row, label in enumerate(self.levels[::-1]):
            n_at = risk.loc[risk["group"].astype(str) == label, "n_risk"].tolist()
            for x, n in zip(ticks, n_at):
                table_ax.text(x, row, str(n), ha="center", va="center", color=self.color(label), fontsize=8)
        table_ax.set_title("Number at risk", fontsize=8, loc="left")
        if path is not None:
            save_figure(self.fig, path)
        return self.fig


def _group_test(kind: str, t, e, codes, levels, cause: int) -> tuple[str, float]:
    present = [k for k in range(len(levels)) if (codes == k).any()]
    if len(present) < 2:
        return "", math.nan
    g = np.asarray(levels, dtype=object)[codes]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        try:
            if kind == "km":
                res = logrank_test(t, e, g)
                return "Log-rank", float(res["p_value"].iloc[0])
            if not (e == cause).any():
                return "Gray's test", math.nan
            res = gray_test(t, e, g, causes=[cause])
            return "Gray's test", float(res["p_value"].iloc[0])
        except InputError:
            return ("Log-rank" if kind == "km" else "Gray's test"), math.nan


def _test_text(name: str, p: float) -> str:
    if not name:
        return ""
    if not np.isfinite(p):
        return f"{name}: P not computable (no events)"
    return f"{name} {format_p(p)}"


def _horizon_label(horizon, horizon_label, xlabel) -> str:
    if horizon_label or horizon is None:
        return horizon_label or ""
    unit = str(xlabel).split(" ")[0].lower() if xlabel else ""
    return f"At {horizon:g} {unit}".rstrip()


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
    ylabel: str = "Survival (%)",
    title: str | None = None,
    figsize: tuple[float, float] = (6.4, 5.6),
    test: bool = True,
    horizon: float | None = None,
    horizon_label: str | None = None,
    colors: Mapping[str, str] | None = None,
    legend_loc: str = "lower left",
):
    """Kaplan–Meier curves by group with CI bands, censoring marks and numbers at risk.

    Parameters
    ----------
    time, status, group, conf_type
        As :func:`mrdquant.outcomes.kaplan_meier`.
    path : path, optional
        Write the figure there (``.png`` at 300 dpi, ``.pdf`` or ``.svg``), atomically.
    ci : bool, default True
        Shade the pointwise 95 % confidence band.
    risk_times : sequence of float, optional, unit of ``time``
        Times of the numbers-at-risk table (and x ticks); default about 5 round steps.
    xlabel, ylabel, title : str
        Sentence case with units, e.g. ``"Months from HSCT"``.
    figsize : (float, float), inches
    test : bool, default True
        With two or more groups, print the log-rank P value in the legend.
    horizon : float, optional, unit of ``time``
        Print each group's survival at this time with its 95 % CI in the legend, and
        mark the time with a dotted line.
    horizon_label : str, optional
        Legend title of the estimates (default ``"At <horizon> <unit of xlabel>"``).
    colors : mapping, optional
        Colour per group label (default :func:`mrdquant.report.figures.group_colors`
        of the groups present); pass the study's mapping to keep colours fixed.
    legend_loc : str, default "lower left"
        matplotlib legend location.

    Returns
    -------
    matplotlib.figure.Figure
        The caller owns it (close it with ``matplotlib.pyplot.close(fig)``).
    """
    _check_path(path)
    t = check_time(time)
    s = check_status(status)
    codes, levels = check_group(group, t.size)
    table = kaplan_meier(t, s, group, conf_type=conf_type)
    ticks = _ticks(float(t.max()) if t.size else 1.0, risk_times)
    risk = numbers_at_risk(t, group, times=ticks)
    at = None
    if horizon is not None:
        at = kaplan_meier(t, s, group, times=[float(horizon)], conf_type=conf_type)
    plt = _pyplot()
    cv = _Curves(plt, levels, colors, figsize)
    ax = cv.ax
    for k, label in enumerate(levels):
        part = table[table["group"] == label]
        color = cv.color(label)
        x = np.concatenate([[0.0], part["time"].to_numpy()])
        y = np.concatenate([[1.0], part["survival"].to_numpy()])
        (line,) = ax.step(x, y, where="post", color=color, label=_display(label), linewidth=1.6,
                          linestyle=cv.linestyle(label), zorder=3, clip_on=False, gid=f"curve-{label}")
        cens = part["n_censor"].to_numpy() > 0
        ax.plot(part["time"].to_numpy()[cens], part["survival"].to_numpy()[cens], linestyle="none",
                marker="|", color=color, ms=7, mew=1.2, zorder=4, clip_on=False, gid=f"censor-{label}")
        if ci:
            lo = np.concatenate([[1.0], part["lower"].to_numpy()])
            hi = np.concatenate([[1.0], part["upper"].to_numpy()])
            ax.fill_between(x, np.nan_to_num(lo, nan=0.0), np.nan_to_num(hi, nan=1.0), step="post",
                            color=color, alpha=0.12, linewidth=0)
        text = f"{_display(label)} (n = {int((codes == k).sum())})"
        if at is not None:
            row = at[at["group"] == label]
            text += f": {_estimate_text(row.iloc[0] if len(row) else None, 'survival')}"
        cv.add_legend(line, text)
    name, p = _group_test("km", t, s, codes, levels, 1) if test else ("", math.nan)
    return cv.finish(ticks, risk, xlabel, ylabel, title, _test_text(name, p), horizon,
                     _horizon_label(horizon, horizon_label, xlabel), legend_loc, path)


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
    ylabel: str = "Cumulative incidence (%)",
    title: str | None = None,
    figsize: tuple[float, float] = (6.4, 5.6),
    test: bool = True,
    horizon: float | None = None,
    horizon_label: str | None = None,
    colors: Mapping[str, str] | None = None,
    legend_loc: str = "upper left",
    ymax: float | None = None,
):
    """Cumulative incidence of one cause by group: CI bands, censoring marks, numbers at risk.

    Parameters
    ----------
    time, event, group, conf_type
        As :func:`mrdquant.outcomes.cumulative_incidence` (event 0 censored, 1..k causes).
    cause : int, default 1
        The cause plotted; the others compete.
    path, ci, risk_times, xlabel, ylabel, title, figsize, horizon, horizon_label, colors, legend_loc
        As :func:`plot_km`.
    test : bool, default True
        With two or more groups, print Gray's test P value for ``cause`` in the legend.
    ymax : float, optional
        Upper limit of the y axis as a fraction (default 1).

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    A censored patient is marked ``|`` on its group's curve at the time of censoring
    (the curve's value then), as on a Kaplan–Meier plot; patients failing from a
    competing cause are not marked.
    """
    _check_path(path)
    t, e = as_time_event(time, event)
    codes, levels = check_group(group, t.size)
    table = cumulative_incidence(t, e, group, conf_type=conf_type)
    ticks = _ticks(float(t.max()) if t.size else 1.0, risk_times)
    risk = numbers_at_risk(t, group, times=ticks)
    at = None
    if horizon is not None:
        at = cumulative_incidence(t, e, group, times=[float(horizon)], conf_type=conf_type, causes=[cause])
    plt = _pyplot()
    cv = _Curves(plt, levels, colors, figsize)
    ax = cv.ax
    for k, label in enumerate(levels):
        color = cv.color(label)
        part = table[(table["group"] == label) & (table["cause"] == cause)]
        mine = codes == k
        t_end = float(t[mine].max()) if mine.any() else 0.0
        jt = part["time"].to_numpy(float)
        est = part["estimate"].to_numpy(float)
        x = np.concatenate([[0.0], jt, [t_end]])
        last = est[-1] if est.size else 0.0
        y = np.concatenate([[0.0], est, [last]])
        (line,) = ax.step(x, y, where="post", color=color, label=_display(label), linewidth=1.6,
                          linestyle=cv.linestyle(label), zorder=3, clip_on=False, gid=f"curve-{label}")
        tc = np.sort(t[mine & (e == 0)])
        idx = np.searchsorted(jt, tc, side="right") - 1
        yc = np.where(idx >= 0, est[np.clip(idx, 0, None)] if est.size else 0.0, 0.0)
        ax.plot(tc, yc, linestyle="none", marker="|", color=color, ms=7, mew=1.2, zorder=4,
                clip_on=False, gid=f"censor-{label}")
        if ci and est.size:
            lo = np.concatenate([[0.0], part["lower"].to_numpy(), [part["lower"].to_numpy()[-1]]])
            hi = np.concatenate([[0.0], part["upper"].to_numpy(), [part["upper"].to_numpy()[-1]]])
            ax.fill_between(x, np.nan_to_num(lo, nan=0.0), np.nan_to_num(hi, nan=1.0), step="post",
                            color=color, alpha=0.12, linewidth=0)
        text = f"{_display(label)} (n = {int(mine.sum())})"
        if at is not None:
            row = at[(at["group"] == label) & (at["cause"] == cause)]
            text += f": {_estimate_text(row.iloc[0] if len(row) else None)}"
        cv.add_legend(line, text)
    name, p = _group_test("cif", t, e, codes, levels, cause) if test else ("", math.nan)
    fig = cv.finish(ticks, risk, xlabel, ylabel, title, _test_text(name, p), horizon,
                    _horizon_label(horizon, horizon_label, xlabel), legend_loc, None)
    if ymax is not None:
        ax.set_ylim(0, float(ymax))
    if path is not None:
        save_figure(fig, path)
    return fig

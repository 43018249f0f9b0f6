"""Kaplan–Meier survival curves with Greenwood standard errors, as R's ``survfit``.

Public functions
----------------
kaplan_meier(time, status, group=None, times=None, conf_type="log", *, conf_level=0.95)
    One row per group and time: the curve at every distinct observed time, or its value
    (and the number at risk) at requested times.
km_median(time, status, group=None, *, conf_type="log", conf_level=0.95)
    Median survival with its confidence interval, as R's ``print(survfit(...))``.

Both agree with R ``survival`` 3.x to 1e-6 (tests compare them with stored R output).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import norm

from .._version import __version__
from ..errors import InputError
from ._validate import as_time_status, check_conf_level, check_group

__all__ = ["kaplan_meier", "km_median", "KM_COLUMNS", "MEDIAN_COLUMNS"]

#: Columns of :func:`kaplan_meier`, in order.
KM_COLUMNS = ["group", "time", "n_risk", "n_event", "survival", "std_err", "lower", "upper", "n_censor"]
#: Columns of :func:`km_median`, in order.
MEDIAN_COLUMNS = ["group", "n", "events", "median", "lower", "upper"]

ConfType = Literal["log", "log-log", "plain"]
_CONF_TYPES = ("log", "log-log", "plain")
# R's quantile.survfit tolerance: sqrt(.Machine$double.eps)
_TOL = float(np.sqrt(np.finfo(float).eps))


def _check_conf_type(conf_type: Any) -> str:
    if conf_type not in _CONF_TYPES:
        raise InputError(f"conf_type: {conf_type!r} is not supported; expected one of {list(_CONF_TYPES)}")
    return conf_type


def _curve(t: np.ndarray, s: np.ndarray) -> dict[str, np.ndarray]:
    """Kaplan–Meier estimate at every distinct time of one group (times need not be sorted)."""
    order = np.argsort(t, kind="stable")
    ts = t[order]
    ss = s[order]
    u, first, counts = np.unique(ts, return_index=True, return_counts=True)
    d = np.add.reduceat(ss, first).astype(np.float64) if ts.size else np.zeros(0)
    n_risk = (ts.size - first).astype(np.float64)
    n_censor = counts - d
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / n_risk)
        # Greenwood on the log scale: sum d / (n (n - d)); infinite once everyone has failed
        term = np.where(d > 0, d / (n_risk * (n_risk - d)), 0.0)
        term = np.where((d > 0) & (n_risk == d), np.inf, term)
        se_log = np.sqrt(np.cumsum(term))
    return {"time": u, "n_risk": n_risk, "n_event": d, "n_censor": n_censor, "surv": surv, "se_log": se_log}


def _confint(surv: np.ndarray, se_log: np.ndarray, conf_type: str, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise confidence limits of S exactly as R's ``survfit_confint`` (``logse=TRUE``)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            half = se_log * surv * z
            return np.maximum(surv - half, 0.0), np.minimum(surv + half, 1.0)
        if conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            lower = np.exp(np.log(xx) - z * se_log)
            upper = np.minimum(np.exp(np.log(xx) + z * se_log), 1.0)
            return lower, upper
        xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
        se2 = z * se_log / np.log(xx)
        lower = np.exp(-np.exp(np.log(-np.log(xx)) - se2))
        upper = np.exp(-np.exp(np.log(-np.log(xx)) + se2))
        return lower, upper


def _prepare(time, status, group, conf_type, conf_level):
    t, s = as_time_status(time, status)
    codes, levels = check_group(group, t.size)
    conf_type = _check_conf_type(conf_type)
    level = check_conf_level(conf_level)
    z = float(norm.ppf(1.0 - (1.0 - level) / 2.0))
    return t, s, codes, levels, conf_type, z


def _check_times(times: Any) -> np.ndarray:
    try:
        arr = np.asarray(times, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InputError(f"times: cannot be read as numbers ({exc}); expected e.g. [365, 730]") from exc
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InputError(f"times: {arr.tolist()} must be finite, non-negative and not empty")
    if np.any(np.diff(arr) < 0):
        raise InputError(f"times: {arr.tolist()} must be in increasing order")
    return arr


def kaplan_meier(
    time: Any,
    status: Any,
    group: Any = None,
    times: Any = None,
    conf_type: ConfType = "log",
    *,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Kaplan–Meier survival estimates with Greenwood standard errors.

    Parameters
    ----------
    time : array-like of shape (n,), float, any time unit (days, months)
        Follow-up time, non-negative.
    status : array-like of shape (n,), int
        1 event, 0 censored.
    group : array-like of shape (n,), optional
        Group labels; ``None`` gives one curve labelled ``"all"``.
    times : array-like of float, optional, same unit as ``time``
        Increasing time points. When given, the table has one row per group and requested
        time, as R's ``summary(fit, times=..., extend=TRUE)``: ``survival`` is S(t) (the
        value at the last event time <= t), ``n_risk`` is the number still at risk at t
        (time >= t), ``n_event`` / ``n_censor`` count what happened in
        (previous requested time, t] (the first interval starts at 0, inclusive). Past the
        last follow-up ``n_risk`` is 0 and the curve keeps its last value; before the
        first observed time S = 1 with limits 1.
        When None, one row per distinct observed time (event or censoring), as R's
        ``summary(fit, censored=TRUE)``.
    conf_type : {"log", "log-log", "plain"}, default "log"
        Pointwise confidence interval: ``"log"`` (R's default) exp(log S ± z·SE(log S)),
        capped at 1; ``"log-log"`` exp(−exp(log(−log S) ∓ z·SE(log S)/log S)), undefined
        (NaN) where S is 0 or 1; ``"plain"`` S ± z·SE(S), clipped to [0, 1].
    conf_level : float, default 0.95

    Returns
    -------
    DataFrame
        Columns ``group`` (label), ``time`` (unit of ``time``), ``n_risk`` (patients),
        ``n_event`` (events), ``survival`` (probability, 0–1), ``std_err`` (Greenwood
        standard error of S, as R's ``summary(fit)$std.err``), ``lower``, ``upper``
        (probability, 0–1), ``n_censor`` (patients). ``.attrs`` holds ``conf_type``,
        ``conf_level`` and ``mrdquant_version``. Groups appear in sorted order (a
        pandas Categorical keeps its order). ``std_err``, ``lower`` and ``upper`` are NaN
        where S reaches 0 (R gives NA there).

    Raises
    ------
    InputError
        Negative or missing times, status codes other than 0/1, lengths that differ, an
        unknown ``conf_type``, or unsorted ``times``.

    Examples
    --------
    >>> kaplan_meier([1, 2, 2, 3], [1, 1, 0, 1])[["time", "n_risk", "survival"]]
       time  n_risk  survival
    0   1.0     4.0      0.75
    1   2.0     3.0      0.50
    2   3.0     1.0      0.00
    """
    t, s, codes, levels, conf_type, z = _prepare(time, status, group, conf_type, conf_level)
    req = None if times is None else _check_times(times)
    frames = []
    for k, label in enumerate(levels):
        sel = codes == k
        c = _curve(t[sel], s[sel])
        if req is None:
            surv, se_log = c["surv"], c["se_log"]
            out = {
                "time": c["time"],
                "n_risk": c["n_risk"],
                "n_event": c["n_event"],
                "n_censor": c["n_censor"],
            }
        else:
            # index of the last observed time <= requested time (-1: before the first)
            pos = np.searchsorted(c["time"], req, side="right") - 1
            surv = np.where(pos >= 0, c["surv"][np.maximum(pos, 0)], 1.0)
            se_log = np.where(pos >= 0, c["se_log"][np.maximum(pos, 0)], 0.0)
            tg = t[sel]
            n_risk = (tg[None, :] >= req[:, None]).sum(axis=1).astype(np.float64)
            cum_ev = np.concatenate([[0.0], np.cumsum(c["n_event"])])
            cum_ce = np.concatenate([[0.0], np.cumsum(c["n_censor"])])
            ev_upto = cum_ev[pos + 1]
            ce_upto = cum_ce[pos + 1]
            out = {
                "time": req.copy(),
                "n_risk": n_risk,
                "n_event": np.diff(np.concatenate([[0.0], ev_upto])),
                "n_censor": np.diff(np.concatenate([[0.0], ce_upto])),
            }
        lower, upper = _confint(surv, se_log, conf_type, z)
        if req is not None:
            # before the first observed time R reports the start of the curve: limits 1
            lower = np.where(pos < 0, 1.0, lower)
            upper = np.where(pos < 0, 1.0, upper)
        with np.errstate(invalid="ignore"):
            std_err = surv * se_log
        out.update({"survival": surv, "std_err": std_err, "lower": lower, "upper": upper})
        frame = pd.DataFrame(out)
        frame.insert(0, "group", label)
        frames.append(frame)
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=KM_COLUMNS)
    df = df.loc[:, KM_COLUMNS]
    df.attrs = {"conf_type": conf_type, "conf_level": float(conf_level), "mrdquant_version": __version__}
    return df


def _findq(x: np.ndarray, y: np.ndarray, p: float) -> float:
    """R ``survival:::findq`` for one probability: x times (with the start), y = 1 - curve."""
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return np.nan
    xmax = x[-1]
    # drop duplicated y values (first occurrence kept; NaN equals NaN as in R's duplicated)
    keep = np.ones(y.size, dtype=bool)
    seen_nan = False
    seen: set[float] = set()
    for i, v in enumerate(y):
        if np.isnan(v):
            keep[i] = not seen_nan
            seen_nan = True
        elif v in seen:
            keep[i] = False
        else:
            seen.add(float(v))
    x = x[keep]
    y = y[keep]
    valid = np.flatnonzero(~np.isnan(y))

    def first_at_least(shift: float) -> int:
        # approx(y + shift, 1:n, p, method="constant", f=1) with rule=1
        vals = y[valid] + shift
        if p < vals[0] or p > vals[-1]:
            return -1
        return int(valid[np.searchsorted(vals, p, side="left")])

    i1 = first_at_least(_TOL)
    i2 = first_at_least(-_TOL)
    quant = (x[i1] + x[i2]) / 2.0 if (i1 >= 0 and i2 >= 0) else np.nan
    if not np.isnan(y[-1]) and abs(p - y[-1]) < _TOL and i1 >= 0:
        quant = (x[i1] + xmax) / 2.0
    return float(quant)


def km_median(
    time: Any,
    status: Any,
    group: Any = None,
    *,
    conf_type: ConfType = "log",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Median survival time with its confidence interval, as R's ``print(survfit(...))``.

    The median is the first time the curve reaches 0.5; where the curve sits exactly at 0.5
    (within sqrt(machine epsilon)) it is the midpoint between that time and the next
    observed time, as in R. The interval is read the same way off the lower and upper
    pointwise limits of ``conf_type`` (Brookmeyer–Crowley type interval).

    Parameters
    ----------
    time, status, group, conf_type, conf_level
        As :func:`kaplan_meier`.

    Returns
    -------
    DataFrame
        Columns ``group``, ``n`` (patients), ``events``, ``median`` (unit of ``time``),
        ``lower``, ``upper`` (unit of ``time``; NaN where the curve or limit never reaches
        0.5, R's NA).

    Examples
    --------
    >>> km_median([1, 2, 3, 4], [1, 1, 1, 1])[["median"]]
       median
    0     2.5
    """
    t, s, codes, levels, conf_type, z = _prepare(time, status, group, conf_type, conf_level)
    rows = []
    for k, label in enumerate(levels):
        sel = codes == k
        c = _curve(t[sel], s[sel])
        lower, upper = _confint(c["surv"], c["se_log"], conf_type, z)
        x = np.concatenate([[0.0], c["time"]])
        rows.append(
            {
                "group": label,
                "n": int(sel.sum()),
                "events": int(s[sel].sum()),
                "median": _findq(x, np.concatenate([[0.0], 1.0 - c["surv"]]), 0.5),
                "lower": _findq(x, np.concatenate([[0.0], 1.0 - lower]), 0.5),
                "upper": _findq(x, np.concatenate([[0.0], 1.0 - upper]), 0.5),
            }
        )
    out = pd.DataFrame(rows, columns=MEDIAN_COLUMNS)
    out.attrs = {"conf_type": conf_type, "conf_level": float(conf_level), "mrdquant_version": __version__}
    return out

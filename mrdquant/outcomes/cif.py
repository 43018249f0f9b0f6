"""Cumulative incidence of competing events (Aalen-Johansen) with cmprsk's variance.

:func:`cumulative_incidence` sorts and ties the data once in numpy, then one numba kernel
(:func:`._cif_kernels.aalen_johansen`) runs the recursion over distinct times. All failures
at one time enter together and censorings at a failure time stay in that time's risk set
(failures precede censorings), so the estimate is exact under ties and never jittered.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._version import __version__
from ..errors import InputError
from . import _cif_kernels
from ._validate import as_groups, as_time_event, check_conf_level, columns_or_arrays

__all__ = ["cumulative_incidence"]

COLUMNS = ["group", "cause", "time", "estimate", "variance", "lower", "upper", "n_risk", "strata"]

ConfType = Literal["log-log", "plain"]

METHOD = (
    "Aalen-Johansen cumulative incidence; variance as cmprsk::cuminc (Gray's delta-method "
    "estimator); ties exact, failures before censorings"
)


def _tie_blocks(time: np.ndarray, segment: np.ndarray, code: np.ndarray, n_segments: int, n_codes: int):
    """Sort by (segment, time) and count codes at each distinct time of each segment.

    Returns
    -------
    block_time : float64 (m,)
    block_segment : int64 (m,)
    starts : int64 (n_segments + 1,), block offsets of each segment
    counts : int64 (m, n_codes)
    n_risk : int64 (m,), number with follow-up >= block time within its segment
    """
    order = np.lexsort((time, segment))
    t = time[order]
    sg = segment[order]
    cd = code[order]
    n = t.size
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(t[1:], t[:-1], out=new[1:])
    new[1:] |= sg[1:] != sg[:-1]
    block_id = np.cumsum(new) - 1
    m = int(block_id[-1]) + 1
    counts = np.bincount(block_id * n_codes + cd, minlength=m * n_codes).reshape(m, n_codes).astype(np.int64)
    block_time = t[new]
    block_segment = sg[new]
    starts = np.searchsorted(block_segment, np.arange(n_segments + 1)).astype(np.int64)
    total = counts.sum(axis=1)
    rc = np.concatenate([np.cumsum(total[::-1])[::-1], [0]])
    n_risk = (rc[:-1] - rc[starts[block_segment + 1]]).astype(np.int64)
    return block_time, block_segment, starts, counts, n_risk


def _confidence_band(est: np.ndarray, var: np.ndarray, conf_level: float, conf_type: str):
    """Pointwise confidence limits for a cumulative incidence."""
    z = stats.norm.ppf(0.5 + conf_level / 2.0)
    se = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "log-log":
            inner = (est > 0) & (est < 1)
            a = np.where(inner, z * se / (est * np.log(np.where(inner, est, 0.5))), np.nan)
            lower = np.where(inner, est ** np.exp(-a), np.nan)
            upper = np.where(inner, est ** np.exp(a), np.nan)
        else:
            lower = np.clip(est - z * se, 0.0, 1.0)
            upper = np.clip(est + z * se, 0.0, 1.0)
    degenerate = (var == 0) & np.isfinite(est)
    lower = np.where(degenerate, est, lower)
    upper = np.where(degenerate, est, upper)
    return lower, upper


def _cause_sets(event: np.ndarray, causes: Iterable[int] | None) -> tuple[list[int], list[int]]:
    """(causes to report, all failure codes): every positive code is a failure."""
    observed = {int(c) for c in np.unique(event[event > 0])}
    if causes is None:
        report = sorted(observed)
    else:
        try:
            report = sorted({int(c) for c in causes})
        except (TypeError, ValueError) as exc:
            raise InputError(f"causes: {causes!r} must be integer cause codes") from exc
        if any(c <= 0 for c in report):
            raise InputError(f"causes: {report} must be positive cause codes (0 means censored)")
    return report, sorted(observed | set(report))


def _requested_times(times: Any) -> np.ndarray:
    """Sorted distinct requested times (finite, >= 0)."""
    try:
        req = np.unique(np.atleast_1d(np.asarray(times, dtype=np.float64)))
    except (TypeError, ValueError) as exc:
        raise InputError(f"times: {times!r} cannot be read as numbers ({exc})") from exc
    if req.ndim != 1:
        raise InputError(f"times: expected a 1-D list of times, got shape {req.shape}")
    if req.size and (not np.all(np.isfinite(req)) or req[0] < 0):
        raise InputError(f"times: requested times must be finite and >= 0, got {req.tolist()}")
    return req


def _rows_at_jumps(block_time, block_seg, n_risk, d, f, v, causes, columns):
    """One row per (segment, cause, block with failures of that cause), sorted."""
    parts = []
    for j, cause in zip(columns, causes):
        jump = d[:, j] > 0
        m = int(jump.sum())
        parts.append((block_seg[jump], np.full(m, cause, dtype=np.int64), block_time[jump],
                      f[jump, j], v[jump, j], n_risk[jump]))
    if not parts:
        return (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0),
                np.empty(0, np.int64))
    cols = [np.concatenate(c) for c in zip(*parts)]
    order = np.lexsort((cols[2], cols[1], cols[0]))
    return tuple(c[order] for c in cols)


def _rows_at_times(req, block_time, starts, n_risk, f, v, causes, columns):
    """The step functions of every non-empty segment and cause at the requested times."""
    present = np.flatnonzero(starts[1:] > starts[:-1])
    k = len(causes)
    nt = req.size
    rows = present.size * k * nt
    seg_a = np.repeat(present, k * nt).astype(np.int64)
    cause_a = np.tile(np.repeat(np.asarray(causes, dtype=np.int64), nt), present.size)
    time_a = np.tile(req, present.size * k)
    est_a = np.empty(rows)
    var_a = np.empty(rows)
    risk_a = np.empty(rows, dtype=np.int64)
    pos = 0
    for sidx in present:
        lo, hi = starts[sidx], starts[sidx + 1]
        bt = block_time[lo:hi]
        last = np.searchsorted(bt, req, side="right") - 1  # last block <= t
        first = np.searchsorted(bt, req, side="left")  # first block >= t
        nr = np.where(first < bt.size, n_risk[lo + np.minimum(first, bt.size - 1)], 0)
        beyond = req > bt[-1]  # after the segment's last follow-up time
        for j in columns:
            fe = np.where(last >= 0, f[lo + np.maximum(last, 0), j], 0.0)
            ve = np.where(last >= 0, v[lo + np.maximum(last, 0), j], 0.0)
            est_a[pos:pos + nt] = np.where(beyond, np.nan, fe)
            var_a[pos:pos + nt] = np.where(beyond, np.nan, ve)
            risk_a[pos:pos + nt] = nr
            pos += nt
    return seg_a, cause_a, time_a, est_a, var_a, risk_a


def cumulative_incidence(
    time: Any,
    event: Any,
    group: Any = None,
    strata: Any = None,
    times: Any = None,
    *,
    data: pd.DataFrame | None = None,
    causes: Iterable[int] | None = None,
    conf_level: float = 0.95,
    conf_type: ConfType = "log-log",
) -> pd.DataFrame:
    """Cumulative incidence functions of competing events (Aalen-Johansen).

    Estimates and variances equal ``cmprsk::cuminc`` (and ``cmprsk::timepoints`` at
    requested times) to rounding.

    Parameters
    ----------
    time : array-like of shape (n,), float, any unit (days, months)
        Follow-up time; >= 0.
    event : array-like of shape (n,), int
        0 censored, 1..k cause of failure.
    group : array-like of shape (n,), optional
        Curves are estimated separately per group (labels sorted; a pandas Categorical keeps
        its order). None: one curve per cause, group ``"all"``.
    strata : array-like of shape (n,), optional
        Curves are estimated separately within each stratum x group; the label goes to the
        ``strata`` column (``"all"`` when None).
    times : array-like of float, optional, same unit as ``time``
        Report the step function at these times (sorted, duplicates dropped). None: one row
        per time at which the cause has failures in the group.
    data : DataFrame, optional
        When given, ``time``, ``event``, ``group`` and ``strata`` may be column names.
    causes : iterable of int, optional
        Causes to report. None: every cause observed in ``event``. Every positive code in
        ``event`` is a failure whether reported or not (it competes with the others); a
        requested cause without failures has estimate 0.
    conf_level : float, default 0.95
    conf_type : {"log-log", "plain"}, default "log-log"
        ``"log-log"``: ``F ** exp(±z·se / (F·log F))`` (Choudhury 2002; Pintilie 2006; the
        interval of ``tidycmprsk::cuminc``), NaN where F is 0 or 1 with positive variance.
        ``"plain"``: ``F ± z·se`` clipped to [0, 1]. Where the variance is 0 both limits
        equal the estimate.

    Returns
    -------
    DataFrame
        One row per (strata, group, cause, time), sorted in that order, columns:

        ========== ======= ====================================================
        group      object  group label
        cause      int64   cause code
        time       float64 time (jump time, or requested time)
        estimate   float64 cumulative incidence, 0-1
        variance   float64 variance of the estimate (cmprsk's estimator)
        lower      float64 lower confidence limit, 0-1
        upper      float64 upper confidence limit, 0-1
        n_risk     int64   patients of the group with follow-up >= time
        strata     object  stratum label (``"all"`` without strata)
        ========== ======= ====================================================

        At a requested time before the first failure the estimate and variance are 0;
        after the group's last follow-up time they are NaN (as ``cmprsk::timepoints``).
        Between failures the variance is the one at the last failure of that cause (as
        cmprsk reports it). ``attrs`` holds ``conf_level``, ``conf_type``, ``method`` and
        ``mrdquant_version``.

    Raises
    ------
    InputError
        Negative, missing or non-numeric times; unknown event codes; inputs of different
        lengths; a negative or non-finite requested time; a bad ``conf_type``.

    References
    ----------
    Gray RJ (1988) Ann Stat 16:1141-1154; Kalbfleisch & Prentice (1980), sec. 7.2;
    cmprsk 2.2 ``cuminc``/``timepoints``.

    Examples
    --------
    >>> cumulative_incidence([1, 2, 2, 3, 4], [1, 2, 1, 0, 1])[["cause", "time", "estimate"]]
       cause  time  estimate
    0      1   1.0       0.2
    1      1   2.0       0.4
    2      1   4.0       0.8
    3      2   2.0       0.2
    """
    cols = columns_or_arrays(data, time=time, event=event, group=group, strata=strata)
    time, event, group, strata = cols["time"], cols["event"], cols["group"], cols["strata"]
    t, e = as_time_event(time, event)
    n = t.size
    g, g_levels, s, s_levels = as_groups(group, strata, n)
    level = check_conf_level(conf_level)
    if conf_type not in ("log-log", "plain"):
        raise InputError(f"conf_type: {conf_type!r} is not one of 'log-log', 'plain'")
    report, codes = _cause_sets(e, causes)
    k = len(codes)
    # column of each event code: failure codes 0..k-1, censored k
    column = np.where(e == 0, k, np.searchsorted(np.asarray(codes, dtype=np.int64), e)).astype(np.int64)
    report_columns = [codes.index(c) for c in report]

    ng = g_levels.size
    segment = s * ng + g
    n_seg = s_levels.size * ng
    block_time, block_seg, starts, counts, n_risk = _tie_blocks(t, segment, column, n_seg, k + 1)
    d = np.ascontiguousarray(counts[:, :k])
    f = np.zeros((block_time.size, k))
    v = np.zeros((block_time.size, k))
    if k:
        _cif_kernels.aalen_johansen(starts, n_risk, d, f, v)

    if times is None:
        seg_a, cause_a, time_a, est_a, var_a, risk_a = _rows_at_jumps(
            block_time, block_seg, n_risk, d, f, v, report, report_columns
        )
    else:
        req = _requested_times(times)
        seg_a, cause_a, time_a, est_a, var_a, risk_a = _rows_at_times(
            req, block_time, starts, n_risk, f, v, report, report_columns
        )

    lower, upper = _confidence_band(est_a, var_a, level, conf_type)
    out = pd.DataFrame(
        {
            "group": pd.Series(g_levels[seg_a % ng] if seg_a.size else np.empty(0, dtype=object), dtype=object),
            "cause": cause_a,
            "time": time_a,
            "estimate": est_a,
            "variance": var_a,
            "lower": lower,
            "upper": upper,
            "n_risk": risk_a,
            "strata": pd.Series(s_levels[seg_a // ng] if seg_a.size else np.empty(0, dtype=object), dtype=object),
        },
        columns=COLUMNS,
    )
    out.attrs.update(
        {"conf_level": level, "conf_type": conf_type, "method": METHOD, "mrdquant_version": __version__}
    )
    return out

"""Log-rank and Fleming–Harrington G^rho tests, as R's ``survival::survdiff``.

Public functions
----------------
logrank_test(time, status, group, rho=0.0, strata=None)
    K-sample test of equal survival: ``rho=0`` log-rank (Mantel–Haenszel), ``rho=1``
    Peto & Peto's modification of the Gehan–Wilcoxon test, other ``rho`` the
    Fleming–Harrington family with weights S(t-)^rho.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2

from .._version import __version__
from ..errors import InputError, StatisticalWarning
from ._validate import as_groups, as_time_status

__all__ = ["logrank_test", "LOGRANK_COLUMNS"]

#: Columns of :func:`logrank_test`, in order.
LOGRANK_COLUMNS = ["statistic", "df", "p_value", "rho", "n_groups"]


def _stratum_sums(t, s, g, k, rho):
    """Weighted observed-minus-expected and variance of one stratum (R survdiff2.c)."""
    obs = np.zeros(k)
    exp = np.zeros(k)
    var = np.zeros((k, k))
    if t.size == 0:
        return obs, exp, var
    u = np.unique(t)
    n_at = np.empty((k, u.size))
    d_at = np.empty((k, u.size))
    for a in range(k):
        ta = np.sort(t[g == a])
        n_at[a] = ta.size - np.searchsorted(ta, u, side="left")
        ev = np.sort(t[(g == a) & (s == 1)])
        d_at[a] = np.searchsorted(ev, u, side="right") - np.searchsorted(ev, u, side="left")
    n = n_at.sum(axis=0)
    d = d_at.sum(axis=0)
    # pooled Kaplan–Meier just before each time (left-continuous) for the G^rho weights
    km_after = np.cumprod(1.0 - d / n)
    km_before = np.concatenate([[1.0], km_after[:-1]])
    w = km_before**rho if rho != 0 else np.ones_like(km_before)
    obs = (w * d_at).sum(axis=1)
    exp = (w * d * n_at / n).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tmp = np.where((n > 1) & (d > 0), w * w * d * (n - d) / (n * (n - 1)), 0.0)
    var = np.diag((tmp * n_at).sum(axis=1)) - (n_at * (tmp / n)) @ n_at.T
    return obs, exp, var


def logrank_test(
    time: Any,
    status: Any,
    group: Any,
    rho: float = 0.0,
    strata: Any = None,
) -> pd.DataFrame:
    """Test equality of K survival curves (log-rank, Peto–Peto, Fleming–Harrington).

    Parameters
    ----------
    time : array-like of shape (n,), float, any time unit
    status : array-like of shape (n,), int
        1 event, 0 censored.
    group : array-like of shape (n,)
        Group labels (K >= 2 distinct).
    rho : float, default 0
        Weight exponent: each event time is weighted by S(t-)^rho, S the pooled
        Kaplan–Meier estimate (within stratum) just before t. 0 gives the log-rank test,
        1 the Peto & Peto modification of the Gehan–Wilcoxon test (R ``survdiff(rho=1)``).
    strata : array-like of shape (n,), optional
        Stratification variable: observed and expected counts and variances are computed
        within strata and summed.

    Returns
    -------
    DataFrame, one row
        ``statistic`` (chi-square), ``df`` (number of groups with a positive expected count
        minus 1), ``p_value`` (upper chi-square tail), ``rho``, ``n_groups``.
        ``df.attrs`` holds ``groups``, ``observed`` and ``expected`` (weighted counts per
        group, as R's ``survdiff`` ``obs`` and ``exp``, summed over strata).
        When fewer than two groups have a positive expected count the test is undefined:
        ``statistic`` 0, ``df`` 0 and ``p_value`` NaN, with a :class:`StatisticalWarning`.

    Raises
    ------
    InputError
        Bad times or status codes, missing group labels, fewer than two groups, lengths
        that differ, or a non-finite ``rho``.

    Examples
    --------
    >>> res = logrank_test([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 0], ["a", "b", "a", "b", "a", "b"])
    >>> int(res.loc[0, "df"])
    1
    """
    t, s = as_time_status(time, status)
    g, levels, st, _ = as_groups(group, strata, t.size)
    try:
        rho = float(rho)
    except (TypeError, ValueError) as exc:
        raise InputError(f"rho: {rho!r} is not a number; expected e.g. 0 or 1") from exc
    if not np.isfinite(rho):
        raise InputError(f"rho: {rho!r} must be finite; expected e.g. 0 (log-rank) or 1 (Peto-Peto)")
    k = levels.size
    if k < 2:
        raise InputError(f"group: only one group ({levels[0]!r}); expected at least two to compare")
    obs = np.zeros(k)
    exp = np.zeros(k)
    var = np.zeros((k, k))
    for h in np.unique(st):
        sel = st == h
        o, e, v = _stratum_sums(t[sel], s[sel], g[sel], k, rho)
        obs += o
        exp += e
        var += v
    keep = exp > 0
    df = int(keep.sum()) - 1
    if df < 1:
        warnings.warn(
            "logrank_test: fewer than two groups have events expected; the test is undefined (p_value NaN)",
            StatisticalWarning,
            stacklevel=2,
        )
        stat, df, p = 0.0, 0, np.nan
    else:
        diff = (obs - exp)[keep][1:]
        vv = var[np.ix_(keep, keep)][1:, 1:]
        try:
            stat = float(diff @ np.linalg.solve(vv, diff))
        except np.linalg.LinAlgError:
            stat = float(diff @ np.linalg.pinv(vv) @ diff)
        p = float(chi2.sf(stat, df))
    out = pd.DataFrame(
        [{"statistic": stat, "df": df, "p_value": p, "rho": rho, "n_groups": k}], columns=LOGRANK_COLUMNS
    )
    out.attrs = {
        "groups": list(levels),
        "observed": obs.tolist(),
        "expected": exp.tolist(),
        "mrdquant_version": __version__,
    }
    return out

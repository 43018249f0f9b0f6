"""Gray's K-sample test for cumulative incidence functions (as ``cmprsk::cuminc``)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._version import __version__
from ..errors import InputError, StatisticalWarning
from . import _cif_kernels
from .cif import _cause_sets, _tie_blocks
from ._validate import as_groups, as_time_event, columns_or_arrays

__all__ = ["gray_test"]

COLUMNS = ["cause", "statistic", "df", "p_value"]

#: Relative tolerance below which the score variance is treated as singular.
SINGULAR_TOL = 1e-7


def _quadratic_form(score: np.ndarray, var: np.ndarray) -> float:
    """``s' V^-1 s``; NaN when ``V`` is singular (cmprsk reports -1 there)."""
    scale = np.sqrt(np.abs(np.diag(var)))
    if var.size == 0 or not np.all(np.isfinite(var)) or np.any(scale == 0):
        return float("nan")
    corr = var / np.outer(scale, scale)
    if np.linalg.matrix_rank(corr, tol=SINGULAR_TOL) < var.shape[0]:
        return float("nan")
    return float(score @ np.linalg.solve(var, score))


def gray_test(
    time: Any,
    event: Any,
    group: Any,
    strata: Any = None,
    *,
    rho: float = 0.0,
    causes: Iterable[int] | None = None,
    data: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Gray's test that the cumulative incidence of each cause is equal across groups.

    Statistics and P values equal the ``Tests`` of ``cmprsk::cuminc`` (to rounding).

    Parameters
    ----------
    time : array-like of shape (n,), float, any unit
        Follow-up time; >= 0.
    event : array-like of shape (n,), int
        0 censored, 1..k cause of failure.
    group : array-like of shape (n,)
        Groups to compare (at least two with patients).
    strata : array-like of shape (n,), optional
        Stratified test: scores and variances are computed within strata and summed.
    rho : float, default 0
        Power of the weight ``(1 - F(t-))**rho``.
    causes : iterable of int, optional
        Causes to test. None: every cause observed in ``event``. Every positive code in
        ``event`` is a failure (competing with the tested cause) whether tested or not.
    data : DataFrame, optional
        When given, ``time``, ``event``, ``group`` and ``strata`` may be column names.

    Returns
    -------
    DataFrame
        One row per cause:

        ========= ======= ======================================================
        cause     int64   cause code
        statistic float64 Gray's chi-square statistic
        df        int64   number of groups - 1
        p_value   float64 upper tail of chi-square(df)
        ========= ======= ======================================================

        A group without failures of the tested cause still enters the test through its
        risk set (as in cmprsk). When the score variance is singular (for example a cause
        with no failures at all, or groups that never share a risk set), ``statistic`` and
        ``p_value`` are NaN and a :class:`~mrdquant.errors.StatisticalWarning` is issued
        (cmprsk prints -1 and P = 1 there). ``attrs`` holds ``rho``, ``n_groups``,
        ``n_strata``, ``groups`` and ``mrdquant_version``.

    Raises
    ------
    InputError
        Bad times or event codes, lengths that differ, or fewer than two groups.

    References
    ----------
    Gray RJ (1988) A class of K-sample tests for comparing the cumulative incidence of a
    competing risk. Ann Stat 16:1141-1154.

    Examples
    --------
    Group a fails at day 1, group b at day 2 (score 0.5, variance 0.25):

    >>> gray_test([1, 2], [1, 1], ["a", "b"]).round(4)
       cause  statistic  df  p_value
    0      1        1.0   1   0.3173
    """
    cols = columns_or_arrays(data, time=time, event=event, group=group, strata=strata)
    time, event, group, strata = cols["time"], cols["event"], cols["group"], cols["strata"]
    t, e = as_time_event(time, event)
    n = t.size
    if group is None:
        raise InputError("group: required for Gray's test (the groups to compare)")
    g, g_levels, s, s_levels = as_groups(group, strata, n)
    ng = g_levels.size
    if ng < 2:
        raise InputError(f"group: Gray's test needs at least two groups, got {list(g_levels)}")
    try:
        rho = float(rho)
    except (TypeError, ValueError) as exc:
        raise InputError(f"rho: {rho!r} is not a number") from exc
    if not np.isfinite(rho):
        raise InputError(f"rho: {rho!r} must be finite")
    report, codes = _cause_sets(e, causes)

    # code = group * (k + 1) + column; column 0..k-1 = failure codes, k = censored
    k = len(codes)
    column = np.where(e == 0, k, np.searchsorted(np.asarray(codes, dtype=np.int64), e)).astype(np.int64)
    code = g * (k + 1) + column
    n_str = s_levels.size
    _, _, starts, counts, _ = _tie_blocks(t, s, code, n_str, ng * (k + 1))
    counts = counts.reshape(-1, ng, k + 1)
    total = counts.sum(axis=2)  # (m, ng)
    n_risk = np.empty_like(total)
    for st in range(n_str):
        lo, hi = starts[st], starts[st + 1]
        n_risk[lo:hi] = np.cumsum(total[lo:hi][::-1], axis=0)[::-1]
    failures = counts[:, :, :k].sum(axis=2)

    stat = np.full(len(report), np.nan)
    wk_a = np.zeros((ng, ng))
    wk_c = np.zeros((ng, ng))
    wk_v2 = np.zeros((ng - 1, ng))
    for r, cause in enumerate(report):
        j = codes.index(cause)
        d1 = np.ascontiguousarray(counts[:, :, j])
        d2 = np.ascontiguousarray(failures - d1)
        score = np.zeros(ng - 1)
        var = np.zeros((ng - 1, ng - 1))
        for st in range(n_str):
            lo, hi = starts[st], starts[st + 1]
            if hi > lo:
                _cif_kernels.gray_score(
                    np.ascontiguousarray(n_risk[lo:hi]), d1[lo:hi], d2[lo:hi], rho, score, var, wk_a, wk_c, wk_v2
                )
        stat[r] = _quadratic_form(score, var)
    bad = [c for c, x in zip(report, stat) if not np.isfinite(x)]
    if bad:
        warnings.warn(
            f"gray_test: the score variance is singular for cause(s) {bad} (no failures, or groups "
            "without shared risk sets); statistic and p_value are NaN",
            StatisticalWarning,
            stacklevel=2,
        )
    df = ng - 1
    out = pd.DataFrame(
        {
            "cause": np.asarray(report, dtype=np.int64),
            "statistic": stat,
            "df": np.full(len(report), df, dtype=np.int64),
            "p_value": stats.chi2.sf(stat, df),
        },
        columns=COLUMNS,
    )
    out.attrs.update(
        {
            "rho": rho,
            "n_groups": ng,
            "n_strata": n_str,
            "groups": list(g_levels),
            "method": "Gray (1988) K-sample test, as cmprsk::cuminc",
            "mrdquant_version": __version__,
        }
    )
    return out

"""Patient characteristics by group ("Table 1") with the usual two-sided tests.

Public functions
----------------
cohort_table(data, group, variables=None, *, ...)
    Tidy table: one row per variable × level × group with counts/percent or
    median (range), and the test comparing groups.
wide_cohort_table(table)
    The same as a printable wide table (one column per group).
fisher_exact(table)
    Fisher's exact test for any R×C table (exact enumeration), as R's ``fisher.test``.
chi2_test(table, *, correct=True)
    Pearson's χ² test, with Yates' continuity correction on 2×2 tables when ``correct``.
mann_whitney(x, y, *, correct=True)
    Wilcoxon–Mann–Whitney U test, normal approximation with tie correction.
kruskal_wallis(*samples)
    Kruskal–Wallis rank-sum test (K >= 2 groups).

Each test returns a :class:`TestResult` (``test``, ``statistic``, ``df``, ``p_value``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import gammaln

from .._numba import njit
from ..errors import InputError
from ._validate import ALL_GROUP

__all__ = [
    "cohort_table",
    "wide_cohort_table",
    "fisher_exact",
    "chi2_test",
    "mann_whitney",
    "kruskal_wallis",
    "TestResult",
    "COHORT_COLUMNS",
]

#: Columns of :func:`cohort_table`, in order.
COHORT_COLUMNS = [
    "variable",
    "level",
    "group",
    "n",
    "total",
    "percent",
    "median",
    "min",
    "max",
    "summary",
    "test",
    "statistic",
    "p_value",
]

# R fisher.test: tables with probability <= (1 + 1e-7) * P(observed) count as extreme
_REL_ERR = 1.0 + 1e-7


@dataclass(frozen=True)
class TestResult:
    """Result of a two-sided test.

    Attributes
    ----------
    test : str
        ``"fisher"``, ``"chi2"``, ``"chi2_yates"``, ``"mann_whitney"`` or
        ``"kruskal_wallis"``.
    statistic : float
        χ², W (Mann–Whitney: sum of ranks of ``x`` minus n_x(n_x+1)/2, R's ``W``), H
        (Kruskal–Wallis); NaN for Fisher's test.
    df : float
        Degrees of freedom (NaN where not applicable).
    p_value : float
    """

    __test__ = False  # not a pytest class

    test: str
    statistic: float
    df: float
    p_value: float


# ----------------------------------------------------------------------------- Fisher
@njit
def _fill_bounds(total, caps, logfact):
    """Smallest and largest sum of log(x!) over integer x with sum(x) = total, 0 <= x <= caps.

    The even fill (water-filling) is majorized by every feasible vector and the greedy fill
    of the largest caps majorizes them all, so for the convex log(x!) they give the minimum
    and the maximum.
    """
    k = caps.size
    srt = np.sort(caps)
    lo = 0.0
    left = total
    for i in range(k):
        share = left // (k - i)
        if srt[i] <= share:
            lo += logfact[srt[i]]
            left -= srt[i]
        else:
            q = left // (k - i)
            extra = left - q * (k - i)
            lo += extra * logfact[q + 1] + (k - i - extra) * logfact[q]
            left = 0
            break
    hi = 0.0
    left = total
    for i in range(k - 1, -1, -1):
        v = min(srt[i], left)
        hi += logfact[v]
        left -= v
    return lo, hi


@njit
def _completion_bounds(rem, cols, j0, logfact):
    """Bounds on sum log(x!) over tables with row sums ``rem`` and column sums ``cols[j0:]``."""
    return _margin_bounds(rem, cols[j0:], logfact)


@njit
def _margin_bounds(rem, sub, logfact):
    """Bounds on sum log(x!) over tables with row sums ``rem`` and column sums ``sub``
    (each row filled alone, then each column alone: two relaxations, the tighter wins)."""
    lo_r = 0.0
    hi_r = 0.0
    for i in range(rem.size):
        a, b = _fill_bounds(rem[i], sub, logfact)
        lo_r += a
        hi_r += b
    lo_c = 0.0
    hi_c = 0.0
    for j in range(sub.size):
        a, b = _fill_bounds(sub[j], rem, logfact)
        lo_c += a
        hi_c += b
    # log(x!) >= x log x - x for integers x >= 0, and sum(x log x - x) over tables with
    # these margins is smallest at the independence table x = r c / N (continuous relaxation)
    n = 0
    for i in range(rem.size):
        n += rem[i]
    lo_e = -float(n)
    if n > 0:
        for i in range(rem.size):
            for j in range(sub.size):
                e = rem[i] * sub[j] / n
                if e > 0:
                    lo_e += e * np.log(e)
    return max(max(lo_r, lo_c), lo_e), min(hi_r, hi_c)


@njit
def _log_mass(rem, cols, j0, logfact):
    """log of the sum of 1 / prod(x!) over all tables with these margins: N! / (prod r! prod c!)."""
    n = 0
    out = 0.0
    for i in range(rem.size):
        out -= logfact[rem[i]]
        n += rem[i]
    for j in range(j0, cols.size):
        out -= logfact[cols[j]]
    return out + logfact[n]


@njit
def _fisher_sum(rows, cols, logfact, log_threshold):
    """Sum of exp(-sum log(cell!)) over all tables with the given margins whose
    sum log(cell!) >= log_threshold (i.e. probability <= the threshold probability).

    Cells of the first r-1 rows and c-1 columns are enumerated depth-first, column by
    column; the last row and column follow from the margins. At each column boundary the
    remaining sub-table is bounded (:func:`_completion_bounds`): when every completion
    counts its total mass is added in closed form, when none can count it is skipped
    (the idea of Mehta & Patel's network algorithm, with simpler bounds).
    """
    r = rows.size
    c = cols.size
    k = (r - 1) * (c - 1)
    rem = rows.copy()
    lo = np.zeros(k, dtype=np.int64)
    hi = np.zeros(k, dtype=np.int64)
    val = np.zeros(k, dtype=np.int64)
    cr = np.zeros(k, dtype=np.int64)
    acc = np.zeros(k)
    total = 0.0
    slack = 1e-9 * (1.0 + abs(log_threshold))
    # the whole table first
    bmin, bmax = _completion_bounds(rem, cols, 0, logfact)
    if bmin >= log_threshold + slack:
        return np.exp(_log_mass(rem, cols, 0, logfact))
    if bmax < log_threshold - slack:
        return 0.0
    d = 0
    cr[0] = cols[0]
    below = 0
    for q in range(1, r):
        below += rem[q]
    lo[0] = max(0, cr[0] - below)
    hi[0] = min(rem[0], cr[0])
    val[0] = lo[0] - 1
    acc[0] = 0.0
    while d >= 0:
        i = d % (r - 1)
        if val[d] >= lo[d]:
            rem[i] += val[d]
            if i == r - 2:
                rem[r - 1] += cr[d] - val[d]
        val[d] += 1
        if val[d] > hi[d]:
            d -= 1
            continue
        v = val[d]
        rem[i] -= v
        a = acc[d] + logfact[v]
        if i == r - 2:
            last = cr[d] - v
            rem[r - 1] -= last
            a += logfact[last]
        if d == k - 1:
            for q in range(r):
                a += logfact[rem[q]]
            if a >= log_threshold:
                total += np.exp(-a)
            continue
        nd = d + 1
        ni = nd % (r - 1)
        nj = nd // (r - 1)
        if ni == 0:
            # a column is complete: bound the remaining sub-table
            bmin, bmax = _completion_bounds(rem, cols, nj, logfact)
            if a + bmin >= log_threshold + slack:
                total += np.exp(-a + _log_mass(rem, cols, nj, logfact))
                continue
            if a + bmax < log_threshold - slack:
                continue
            cr[nd] = cols[nj]
        else:
            cr[nd] = cr[d] - v
        below = 0
        for q in range(ni + 1, r):
            below += rem[q]
        lo[nd] = max(0, cr[nd] - below)
        hi[nd] = min(rem[ni], cr[nd])
        val[nd] = lo[nd] - 1
        acc[nd] = a
        d = nd
    return total


def _as_table(table: Any, name: str = "table") -> np.ndarray:
    try:
        arr = np.asarray(table, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: cannot be read as a table of counts ({exc})") from exc
    if arr.ndim != 2:
        raise InputError(f"{name}: expected a 2-D table of counts, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise InputError(f"{name}: counts must be non-negative whole numbers, got {arr.tolist()}")
    return arr.astype(np.int64)


def fisher_exact(table: Any) -> TestResult:
    """Fisher's exact test of independence for an R×C table of counts.

    The two-sided P is the total probability (hypergeometric, margins fixed) of every
    table no more likely than the observed one, with R's relative tolerance 1e-7, as
    ``fisher.test``. Tables are enumerated depth-first (compiled) with bounds that add
    or skip whole sub-trees at column boundaries. 2×C and R×2 tables take milliseconds
    at any cohort size and 3×3 / 3×4 tables of a few hundred patients seconds, but 4×4 or
    larger tables with more than about 100 patients can take minutes: use
    :func:`chi2_test` there (``cohort_table(..., categorical_test="chi2")``).

    Parameters
    ----------
    table : array-like of shape (r, c), int, patients

    Returns
    -------
    TestResult
        ``test="fisher"``, ``statistic`` NaN, ``df`` NaN, ``p_value``.

    Raises
    ------
    InputError
        Not a 2-D table of non-negative whole numbers.

    Examples
    --------
    >>> round(fisher_exact([[3, 1], [1, 3]]).p_value, 6)
    0.485714
    """
    arr = _as_table(table)
    arr = arr[arr.sum(axis=1) > 0][:, arr.sum(axis=0) > 0]
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        return TestResult("fisher", math.nan, math.nan, 1.0)
    if arr.shape[0] > arr.shape[1]:
        arr = arr.T
    # the largest column last: it is filled from the margins, never enumerated
    arr = arr[:, np.argsort(arr.sum(axis=0), kind="stable")]
    rows = np.ascontiguousarray(arr.sum(axis=1), dtype=np.int64)
    cols = np.ascontiguousarray(arr.sum(axis=0), dtype=np.int64)
    n = int(arr.sum())
    logfact = gammaln(np.arange(n + 1, dtype=np.float64) + 1.0)
    const = logfact[rows].sum() + logfact[cols].sum() - logfact[n]
    obs = logfact[arr.ravel()].sum()
    # P(table) <= P(obs) * relErr  <=>  sum log(cell!) >= obs - log(relErr)
    total = _fisher_sum(rows, cols, logfact, obs - math.log(_REL_ERR))
    p = min(1.0, total * math.exp(const))
    return TestResult("fisher", math.nan, math.nan, p)


def chi2_test(table: Any, *, correct: bool = True) -> TestResult:
    """Pearson's χ² test of independence, as R's ``chisq.test``.

    Parameters
    ----------
    table : array-like of shape (r, c), int, patients
    correct : bool, default True
        Yates' continuity correction, applied (as in R) only to 2×2 tables.

    Returns
    -------
    TestResult
        ``test`` ``"chi2_yates"`` (2×2 with correction) or ``"chi2"``; ``statistic``,
        ``df`` ((r-1)(c-1)), ``p_value``. NaN when a row or column total is 0.
    """
    arr = _as_table(table)
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise InputError(f"table: shape {arr.shape}; a χ² test needs at least 2 rows and 2 columns")
    if np.any(arr.sum(axis=0) == 0) or np.any(arr.sum(axis=1) == 0):
        return TestResult("chi2", math.nan, float((arr.shape[0] - 1) * (arr.shape[1] - 1)), math.nan)
    yates = bool(correct) and arr.shape == (2, 2)
    stat, p, dof, _ = stats.chi2_contingency(arr, correction=yates)
    return TestResult("chi2_yates" if yates else "chi2", float(stat), float(dof), float(p))


def _sample(values: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: cannot be read as numbers ({exc})") from exc
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        raise InputError(f"{name}: no non-missing values; expected at least one")
    return arr


def mann_whitney(x: Any, y: Any, *, correct: bool = True) -> TestResult:
    """Two-sided Wilcoxon–Mann–Whitney test (normal approximation, tie-corrected).

    Matches R's ``wilcox.test(x, y, exact=FALSE, correct=correct)``; with
    ``correct=False`` it is the asymptotic P that SPSS reports ("Asymp. Sig.").
    Missing values are dropped.

    Parameters
    ----------
    x, y : array-like of float
    correct : bool, default True
        Continuity correction (R's default).

    Returns
    -------
    TestResult
        ``statistic`` W (R's statistic: U of ``x``), ``df`` NaN, ``p_value``.
    """
    a = _sample(x, "x")
    b = _sample(y, "y")
    res = stats.mannwhitneyu(a, b, use_continuity=bool(correct), alternative="two-sided", method="asymptotic")
    return TestResult("mann_whitney", float(res.statistic), math.nan, float(res.pvalue))


def kruskal_wallis(*samples: Any) -> TestResult:
    """Kruskal–Wallis rank-sum test (tie-corrected), as R's ``kruskal.test``.

    Returns
    -------
    TestResult
        ``statistic`` H, ``df`` (K - 1), ``p_value``.
    """
    arrs = [_sample(s, f"sample {i}") for i, s in enumerate(samples)]
    if len(arrs) < 2:
        raise InputError(f"samples: got {len(arrs)}; expected at least two groups")
    allv = np.concatenate(arrs)
    if np.all(allv == allv[0]):
        return TestResult("kruskal_wallis", math.nan, float(len(arrs) - 1), math.nan)
    res = stats.kruskal(*arrs)
    return TestResult("kruskal_wallis", float(res.statistic), float(len(arrs) - 1), float(res.pvalue))


# ----------------------------------------------------------------------------- Table 1
def _fmt(value: float, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    return f"{value:.{digits}f}"


def _is_continuous(ser: pd.Series, max_levels: int) -> bool:
    if isinstance(ser.dtype, pd.CategoricalDtype) or ser.dtype.kind in "OSUb":
        return False
    return ser.dropna().nunique() > max_levels


def cohort_table(
    data: pd.DataFrame,
    group: str,
    variables: Sequence[str] | None = None,
    *,
    continuous: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    categorical_test: Literal["auto", "fisher", "chi2"] = "auto",
    correct: bool = True,
    overall: bool = True,
    max_levels: int = 5,
    digits: int = 1,
) -> pd.DataFrame:
    """Describe patients by group and test for differences (Table 1).

    Continuous variables: median (range); two groups are compared with the
    Mann–Whitney U test (:func:`mann_whitney`, continuity-corrected normal
    approximation), more with Kruskal–Wallis. Categorical variables: n (%) of each
    level; compared with Fisher's exact test (R×C exact, :func:`fisher_exact`) or
    Pearson's χ² (:func:`chi2_test`). All P values are two-sided. Missing values are left
    out per variable (``total`` shows how many patients had a value).

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    group : str
        Column with the groups compared (e.g. MRD status or trial arm).
    variables : list of str, optional
        Variables to describe, in order; default every column except ``group``.
    continuous, categorical : list of str, optional
        Force the type of these variables. Otherwise numeric columns with more than
        ``max_levels`` distinct values are continuous and the rest categorical.
    categorical_test : {"auto", "fisher", "chi2"}, default "auto"
        ``"auto"``: Fisher's exact test when any expected count is below 5, else χ².
    correct : bool, default True
        Yates' correction for 2×2 χ² tests (R's default).
    overall : bool, default True
        Add rows for all patients together (``group`` = ``"all"``).
    max_levels : int, default 5
    digits : int, default 1
        Decimals in ``summary`` (percentages and medians).

    Returns
    -------
    DataFrame
        ``variable``; ``level`` (category; empty for continuous); ``group``; ``n``
        (patients in the level, or with a value); ``total`` (patients with a value in the
        group); ``percent`` (n/total × 100, categorical); ``median``, ``min``, ``max``
        (continuous, unit of the variable); ``summary`` ("n (x.x%)" or "median
        (min–max)"); ``test`` (``fisher``, ``chi2``, ``chi2_yates``, ``mann_whitney``,
        ``kruskal_wallis``), ``statistic`` and ``p_value``, repeated on every row of the
        variable (NaN when the test is undefined, e.g. a single group with values).

    Raises
    ------
    InputError
        Missing columns, or fewer than two groups.
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"data: got {type(data).__name__}; expected a pandas DataFrame")
    if group not in data.columns:
        raise InputError(f"group: column {group!r} not in data; available columns: {list(map(str, data.columns))}")
    if categorical_test not in ("auto", "fisher", "chi2"):
        raise InputError(f"categorical_test: {categorical_test!r}; expected 'auto', 'fisher' or 'chi2'")
    if variables is None:
        variables = [c for c in data.columns if c != group]
    variables = list(variables)
    forced_cont = set(continuous or [])
    forced_cat = set(categorical or [])
    absent = [v for v in [*variables, *forced_cont, *forced_cat] if v not in data.columns]
    if absent:
        raise InputError(f"variables: columns {absent} not in data; available columns: {list(map(str, data.columns))}")
    both = forced_cont & forced_cat
    if both:
        raise InputError(f"variables {sorted(both)} are listed as both continuous and categorical")
    grp = data[group]
    if grp.isna().any():
        raise InputError(f"{group}: missing group labels at index {list(data.index[grp.isna()][:3])}")
    if isinstance(grp.dtype, pd.CategoricalDtype):
        levels = [lv for lv in grp.cat.categories if (grp == lv).any()]
    else:
        levels = sorted(grp.unique(), key=lambda v: (str(type(v)), v))
    if len(levels) < 2:
        raise InputError(f"{group}: only one group ({levels[0]!r}); expected at least two to compare")
    shown = ([ALL_GROUP] if overall else []) + list(levels)
    rows: list[dict] = []
    for var in variables:
        ser = data[var]
        cont = var in forced_cont or (var not in forced_cat and _is_continuous(ser, max_levels))
        if cont:
            values = pd.to_numeric(ser, errors="coerce")
            bad = values.isna() & ser.notna()
            if bad.any():
                raise InputError(f"{var}: non-numeric values at index {list(data.index[bad][:3])}; expected numbers")
            samples = [values[grp == lv].dropna().to_numpy(float) for lv in levels]
            nonempty = [s for s in samples if s.size]
            if len(nonempty) < 2:
                res = TestResult("mann_whitney" if len(levels) == 2 else "kruskal_wallis", math.nan, math.nan, math.nan)
            elif len(levels) == 2:
                res = mann_whitney(samples[0], samples[1], correct=True)
            else:
                res = kruskal_wallis(*nonempty)
            for lv in shown:
                v = values.dropna().to_numpy(float) if lv == ALL_GROUP else samples[levels.index(lv)]
                med = float(np.median(v)) if v.size else math.nan
                lo = float(v.min()) if v.size else math.nan
                hi = float(v.max()) if v.size else math.nan
                rows.append(
                    {
                        "variable": var, "level": "", "group": lv, "n": int(v.size), "total": int(v.size),
                        "percent": math.nan, "median": med, "min": lo, "max": hi,
                        "summary": f"{_fmt(med, digits)} ({_fmt(lo, digits)}–{_fmt(hi, digits)})",
                        "test": res.test, "statistic": res.statistic, "p_value": res.p_value,
                    }
                )
        else:
            ok = ser.notna()
            cats = ser[ok]
            if isinstance(ser.dtype, pd.CategoricalDtype):
                var_levels = [lv for lv in ser.cat.categories if (cats == lv).any()]
            else:
                var_levels = sorted(cats.unique(), key=lambda v: (str(type(v)), v))
            counts = np.array([[int(((cats == a) & (grp[ok] == g)).sum()) for g in levels] for a in var_levels])
            res = _categorical_test(counts, categorical_test, correct)
            for a_i, a in enumerate(var_levels):
                for lv in shown:
                    if lv == ALL_GROUP:
                        n_lv, tot = int(counts[a_i].sum()), int(counts.sum())
                    else:
                        g_i = levels.index(lv)
                        n_lv, tot = int(counts[a_i, g_i]), int(counts[:, g_i].sum())
                    pct = 100.0 * n_lv / tot if tot else math.nan
                    rows.append(
                        {
                            "variable": var, "level": str(a), "group": lv, "n": n_lv, "total": tot,
                            "percent": pct, "median": math.nan, "min": math.nan, "max": math.nan,
                            "summary": f"{n_lv} ({_fmt(pct, digits)}%)",
                            "test": res.test, "statistic": res.statistic, "p_value": res.p_value,
                        }
                    )
    return pd.DataFrame(rows, columns=COHORT_COLUMNS)


def _categorical_test(counts: np.ndarray, choice: str, correct: bool) -> TestResult:
    table = counts[:, counts.sum(axis=0) > 0] if counts.size else counts
    if table.ndim != 2 or table.shape[0] < 2 or table.shape[1] < 2:
        return TestResult(choice if choice != "auto" else "fisher", math.nan, math.nan, math.nan)
    if choice == "fisher":
        return fisher_exact(table)
    if choice == "chi2":
        return chi2_test(table, correct=correct)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    if np.any(expected < 5):
        return fisher_exact(table)
    return chi2_test(table, correct=correct)


def wide_cohort_table(table: pd.DataFrame) -> pd.DataFrame:
    """Printable Table 1: one row per variable (and level), one ``summary`` column per group.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`cohort_table`.

    Returns
    -------
    DataFrame
        ``variable``, ``level``, one column per group (the ``summary`` text, groups in
        the order of ``table``), ``test``, ``p_value``.
    """
    missing = [c for c in ("variable", "level", "group", "summary", "test", "p_value") if c not in table.columns]
    if missing:
        raise InputError(f"table: columns {missing} missing; expected the output of cohort_table()")
    groups = list(dict.fromkeys(table["group"]))
    keys = list(dict.fromkeys(zip(table["variable"], table["level"])))
    out = []
    for var, lvl in keys:
        part = table[(table["variable"] == var) & (table["level"] == lvl)]
        row = {"variable": var, "level": lvl}
        for g in groups:
            hit = part.loc[part["group"] == g, "summary"]
            row[str(g)] = hit.iloc[0] if len(hit) else ""
        row["test"] = part["test"].iloc[0]
        row["p_value"] = part["p_value"].iloc[0]
        out.append(row)
    return pd.DataFrame(out, columns=["variable", "level", *map(str, groups), "test", "p_value"])

"""Patient characteristics by group ("Table 1") with the usual two-sided tests.

Public functions
----------------
cohort_table(data, group, variables=None, *, ...)
    Tidy table: one row per variable × level × group with counts/percent or
    median (range), and the test comparing groups.
wide_cohort_table(table)
    The same as a printable wide table (one column per group).
fisher_exact(table)
    Fisher's exact test for any R×C table (exact network algorithm), as R's ``fisher.test``.
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
import warnings
from dataclasses import dataclass
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import gammaln

from ..errors import InputError, StatisticalWarning
from ._fisher_kernels import network_sum
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
# pasts of a network node whose log-probabilities agree to this are merged (weights add
# exactly; far below the 1e-7 tie tolerance)
_PAST_QUANTUM = 1e-9
#: Default bounds of :func:`fisher_exact` (partial tables held; work).
FISHER_WORKSPACE = 20_000_000
FISHER_MAX_STEPS = 100_000_000


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


def fisher_exact(
    table: Any,
    *,
    workspace: int = FISHER_WORKSPACE,
    max_steps: int = FISHER_MAX_STEPS,
) -> TestResult:
    """Fisher's exact test of independence for an R×C table of counts.

    The two-sided P is the total probability (hypergeometric, margins fixed) of every
    table no more likely than the observed one, counting ties with R's relative tolerance
    (probability <= P(observed) × (1 + 1e-7)), as R's ``fisher.test``.

    The sum is computed exactly by a network algorithm (Mehta & Patel 1983, 1986): the
    table is filled column by column, partial tables that leave the same multiset of row
    totals are merged into one node carrying its distinct past probabilities, and a node
    whose every completion is (or none is) at least as extreme as the observed table is
    added in closed form (or dropped) using bounds on the completions; the last two
    columns of a node are enumerated once and bucketed by probability. Rows and columns
    are exchanged so that the table has no more rows than columns.

    Run time grows quickly with the smaller dimension and the sample size. Measured on
    one core (``benchmarks/bench_fisher.py``, uniform tables, the hardest case): 2×C and
    R×2 tables take milliseconds at any cohort size, 3×4 tables of 250–300 patients
    0.04–0.07 s, 4×4 tables of 100 patients 0.05–0.2 s and of 200 patients 1.5–4 s, 5×5
    tables of 60 patients 0.3 s and of 100 patients 1–5 s; 4×4 tables of 300 patients or
    5×5 tables of 150 and more exceed the default bounds below.

    Parameters
    ----------
    table : array-like of shape (r, c), int, patients
    workspace : int, default 20,000,000
        Most partial tables (node and past probability pairs, and stored two-column
        completions) held at once; about 40 bytes each.
    max_steps : int, default 100,000,000
        Most work (node transitions and partial tables carried, roughly 10⁷ per second).

    Returns
    -------
    TestResult
        ``test="fisher"``, ``statistic`` NaN, ``df`` NaN, ``p_value``. ``p_value`` is NaN,
        with a :class:`~mrdquant.errors.StatisticalWarning` naming the table size, when the
        table needs more than ``workspace`` or ``max_steps``: use :func:`chi2_test`
        (``cohort_table(..., categorical_test="chi2")``), merge sparse levels, or raise the
        bounds.

    Raises
    ------
    InputError
        Not a 2-D table of non-negative whole numbers, or a bound below 1.

    Examples
    --------
    >>> round(fisher_exact([[3, 1], [1, 3]]).p_value, 6)
    0.485714
    """
    arr = _as_table(table)
    for name, value in (("workspace", workspace), ("max_steps", max_steps)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InputError(f"{name}: {value!r}; expected a positive whole number")
    arr = arr[arr.sum(axis=1) > 0][:, arr.sum(axis=0) > 0]
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        return TestResult("fisher", math.nan, math.nan, 1.0)
    shape = f"{arr.shape[0]}×{arr.shape[1]}"
    if arr.shape[0] > arr.shape[1]:
        arr = arr.T
    # columns by increasing total: the largest is filled from the margins, never enumerated
    arr = arr[:, np.argsort(arr.sum(axis=0), kind="stable")]
    rows = np.ascontiguousarray(np.sort(arr.sum(axis=1)), dtype=np.int64)
    cols = np.ascontiguousarray(arr.sum(axis=0), dtype=np.int64)
    n = int(arr.sum())
    logfact = gammaln(np.arange(n + 1, dtype=np.float64) + 1.0)
    const = float(logfact[rows].sum() + logfact[cols].sum() - logfact[n])
    obs = float(logfact[arr.ravel()].sum())
    # P(table) <= P(obs) * relErr  <=>  sum log(cell!) >= obs - log(relErr)
    total, status, _, _ = network_sum(
        rows, cols, logfact, obs - math.log(_REL_ERR), const, _PAST_QUANTUM, int(workspace), int(max_steps)
    )
    if status != 0:
        bound = "workspace" if status == 1 else "max_steps"
        warnings.warn(
            f"table: Fisher's exact test on a {shape} table of {n} patients exceeds "
            f"{bound}={workspace if status == 1 else max_steps:,}; p_value is NaN. Use chi2_test "
            "(cohort_table(..., categorical_test='chi2')), merge sparse levels, or raise "
            f"fisher_exact(..., {bound}=...)",
            StatisticalWarning,
            stacklevel=2,
        )
        return TestResult("fisher", math.nan, math.nan, math.nan)
    return TestResult("fisher", math.nan, math.nan, min(1.0, total))


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

"""Results sections of an MRD study and of a two-arm trial, from an endpoints table.

Public functions
----------------
study_summary(endpoints, group_col, *, at_years=4, ...)
    Cumulative incidence of relapse (CIR) and NRM, DFS and OS at a landmark time with 95%
    CIs, overall and by MRD group, Gray's and log-rank P, univariate Cox models (Liu et al.,
    Sci Rep 2020 results layout).
trial_summary(endpoints, arm_col, *, at_years=1, ...)
    Relapse incidence, LFS and OS by arm after randomization, and the incidence of marrow
    suppression, GVHD and infection by arm.

Both return an :class:`OutcomeSummary` (frozen): ``estimates``, ``tests``, ``cox`` tables
and ``text()``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .._version import __version__
from ..errors import InputError, StatisticalWarning
from ._validate import ALL_GROUP
from .cif import cumulative_incidence
from .proportional_hazards import UNIVARIATE_COLUMNS, cox_univariate
from .gray import gray_test
from .km import kaplan_meier
from .logrank import logrank_test

__all__ = ["study_summary", "trial_summary", "OutcomeSummary", "ESTIMATE_COLUMNS", "TEST_COLUMNS"]

#: Columns of :attr:`OutcomeSummary.estimates`, in order.
ESTIMATE_COLUMNS = [
    "endpoint",
    "label",
    "measure",
    "group",
    "time_days",
    "estimate",
    "lower",
    "upper",
    "n",
    "n_events",
    "note",
]
#: Columns of :attr:`OutcomeSummary.tests`, in order.
TEST_COLUMNS = ["endpoint", "label", "test", "statistic", "df", "p_value"]

_DAYS_PER_YEAR = 365.25

#: endpoint -> (label, measure); "cif" endpoints use event code 1 with code 2 competing
_STUDY_ENDPOINTS = {
    "relapse": ("CIR", "cif"),
    "nrm": ("NRM", "cif"),
    "dfs": ("DFS", "km"),
    "os": ("OS", "km"),
}
_TRIAL_ENDPOINTS = {
    "relapse": ("Relapse incidence", "cif"),
    "dfs": ("LFS", "km"),
    "os": ("OS", "km"),
}
_TRIAL_INCIDENCES = {
    "marrow_suppression": "Marrow suppression",
    "neutropenia": "Neutropenia",
    "anemia": "Anemia",
    "thrombocytopenia": "Thrombocytopenia",
    "pancytopenia": "Pancytopenia",
    "agvhd": "Acute GVHD",
    "cgvhd": "Chronic GVHD",
    "infection": "Infection",
    "bacterial_infection": "Bacterial infection",
    "viral_infection": "Viral infection",
    "fungal_infection": "Fungal infection",
}


@dataclass(frozen=True)
class OutcomeSummary:
    """Outcome estimates and tests of a cohort or trial.

    Attributes
    ----------
    estimates : DataFrame
        :data:`ESTIMATE_COLUMNS`: ``endpoint`` (column prefix), ``label`` (CIR, NRM,
        DFS, ...), ``measure`` (``"cumulative_incidence"`` or ``"survival"``), ``group``
        (``"all"`` for everyone), ``time_days`` (days from the index date), ``estimate``,
        ``lower``, ``upper`` (probability 0–1), ``n`` (patients), ``n_events`` (events of
        interest up to ``time_days``), ``note`` (why an estimate or its interval is NaN:
        no events by the time point, every patient had the event, or follow-up ending
        before it; ``""`` otherwise). A group without events has estimate 0 (incidence)
        or 1 (survival) with NaN limits, never a "0.0–0.0" interval.
    tests : DataFrame
        :data:`TEST_COLUMNS`: Gray's test for incidences, log-rank for survival.
    cox : DataFrame
        Univariate Cox models (cause-specific for incidences): ``endpoint`` then
        :data:`mrdquant.outcomes.proportional_hazards.UNIVARIATE_COLUMNS`; a model that
        did not converge or a term that cannot be estimated has NaN estimates,
        ``converged`` False and a ``note``.
    group_col : str
    at_days : float
    conf_level : float
    mrdquant_version : str
    """

    estimates: pd.DataFrame
    tests: pd.DataFrame
    cox: pd.DataFrame
    group_col: str
    at_days: float
    conf_level: float = 0.95
    mrdquant_version: str = field(default=__version__)

    def text(self) -> str:
        """The results as sentences: estimate (95% CI) overall and by group, with P."""
        lines = []
        years = self.at_days / _DAYS_PER_YEAR
        level = int(round(self.conf_level * 100))
        for ep, part in self.estimates.groupby("endpoint", sort=False):
            label = part["label"].iloc[0]

            def fmt(r):
                if not np.isfinite(r.estimate):
                    return f"not estimable ({r.note})" if r.note else "not estimable"
                if not (np.isfinite(r.lower) and np.isfinite(r.upper)):
                    return f"{100 * r.estimate:.1f}% ({r.note or 'CI not estimable'})"
                return f"{100 * r.estimate:.1f}% ({level}% CI {100 * r.lower:.1f}–{100 * r.upper:.1f})"

            overall = part[part["group"] == ALL_GROUP]
            head = f"{years:g}-year {label}"
            if len(overall):
                head += f": {fmt(overall.iloc[0])}"
            groups = part[part["group"] != ALL_GROUP]
            if len(groups):
                head += "; " + " vs ".join(f"{r.group} {fmt(r)}" for r in groups.itertuples())
            test = self.tests[self.tests["endpoint"] == ep]
            if len(test) and np.isfinite(test["p_value"].iloc[0]):
                p = test["p_value"].iloc[0]
                head += f" (P {'< 0.001' if p < 0.001 else f'= {p:.3f}'}, {test['test'].iloc[0]})"
            lines.append(head + ".")
        return "\n".join(lines)


def _check(endpoints: pd.DataFrame, group_col: str, names: list[str]) -> None:
    if not isinstance(endpoints, pd.DataFrame):
        raise InputError(f"endpoints: got {type(endpoints).__name__}; expected the output of build_endpoints")
    if group_col not in endpoints.columns:
        raise InputError(
            f"group column {group_col!r} not in endpoints; available columns: {list(map(str, endpoints.columns))}"
        )
    for ep in names:
        for suffix in ("_days", "_event"):
            if f"{ep}{suffix}" not in endpoints.columns:
                raise InputError(f"endpoints: column {ep + suffix!r} missing; expected the output of build_endpoints")


def _rows(endpoints: pd.DataFrame, ep: str, group_col: str) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    ok = endpoints[f"{ep}_event"].notna() & endpoints[f"{ep}_days"].notna()
    sub = endpoints.loc[ok]
    return (
        sub[f"{ep}_days"].to_numpy(dtype=float),
        sub[f"{ep}_event"].astype(int).to_numpy(),
        sub[group_col],
    )


def _cif_estimates(ep, label, t, e, g, at, conf_level, conf_type):
    rows = []
    for grp_label, sel in [(ALL_GROUP, np.ones(t.size, bool))] + [
        (lv, (g == lv).to_numpy()) for lv in _levels(g)
    ]:
        n = int(sel.sum())
        n_ev = int(((e[sel] == 1) & (t[sel] <= at)).sum())
        est = lo = hi = math.nan
        if n:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", StatisticalWarning)
                tab = cumulative_incidence(t[sel], e[sel], times=[at], conf_level=conf_level, conf_type=conf_type)
            hit = tab[tab["cause"] == 1]
            if len(hit):
                est, lo, hi = (float(hit[c].iloc[0]) for c in ("estimate", "lower", "upper"))
            elif n_ev == 0 and t[sel].max() >= at:
                est = lo = hi = 0.0
        rows.append([ep, label, "cumulative_incidence", grp_label, at, *_honest(est, lo, hi, n_ev), n, n_ev])
    return _moved_notes(rows)


def _km_estimates(ep, label, t, e, g, at, conf_level, conf_type):
    rows = []
    for grp_label, sel in [(ALL_GROUP, np.ones(t.size, bool))] + [
        (lv, (g == lv).to_numpy()) for lv in _levels(g)
    ]:
        n = int(sel.sum())
        n_ev = int(((e[sel] == 1) & (t[sel] <= at)).sum())
        est = lo = hi = math.nan
        if n:
            tab = kaplan_meier(t[sel], e[sel], times=[at], conf_type=conf_type, conf_level=conf_level)
            if t[sel].max() >= at or tab["survival"].iloc[0] == 0:
                est, lo, hi = (float(tab[c].iloc[0]) for c in ("survival", "lower", "upper"))
        rows.append([ep, label, "survival", grp_label, at, *_honest(est, lo, hi, n_ev), n, n_ev])
    return _moved_notes(rows)


def _honest(est: float, lo: float, hi: float, n_events: int) -> tuple[float, float, float, str]:
    """(estimate, lower, upper, note): a zero-width interval is not an interval.

    Without events by the time point (or when every patient had one) the variance
    estimate is 0 and the limits would equal the estimate ("0.0–0.0"); they are NaN
    with a note instead.
    """
    if not np.isfinite(est):
        return est, lo, hi, "follow-up ends before the time point"
    if lo == hi == est or not (np.isfinite(lo) and np.isfinite(hi)):
        why = "no events by the time point" if n_events == 0 else "variance 0"
        return est, math.nan, math.nan, f"{why}; CI not estimable"
    return est, lo, hi, ""


def _moved_notes(rows: list[list]) -> list[list]:
    """Put the note (5th value from :func:`_honest`) last, after ``n`` and ``n_events``."""
    return [[*r[:8], r[9], r[10], r[8]] for r in rows]


def _levels(g: pd.Series) -> list:
    if isinstance(g.dtype, pd.CategoricalDtype):
        return [lv for lv in g.cat.categories if (g == lv).any()]
    return sorted(g.dropna().unique(), key=lambda v: (str(type(v)), v))


def _test(ep, label, measure, t, e, g):
    nan_row = [ep, label, "gray" if measure == "cif" else "logrank", math.nan, math.nan, math.nan]
    if g.nunique() < 2:
        return nan_row
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        if measure == "cif":
            if not (e == 1).any():
                return nan_row
            res = gray_test(t, e, g.to_numpy())
            res = res[res["cause"] == 1]
            if res.empty:
                return nan_row
            return [ep, label, "gray", float(res["statistic"].iloc[0]), float(res["df"].iloc[0]),
                    float(res["p_value"].iloc[0])]
        res = logrank_test(t, e, g.to_numpy())
        return [ep, label, "logrank", float(res["statistic"].iloc[0]), float(res["df"].iloc[0]),
                float(res["p_value"].iloc[0])]


def _cox_rows(endpoints, ep, covariates):
    ok = endpoints[f"{ep}_event"].notna() & endpoints[f"{ep}_days"].notna()
    sub = endpoints.loc[ok, [f"{ep}_days", f"{ep}_event", *covariates]].copy()
    sub["_event"] = (sub[f"{ep}_event"].astype(int) == 1).astype(int)
    if sub["_event"].sum() == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        try:
            res = cox_univariate(sub, f"{ep}_days", "_event", covariates)
        except InputError:
            return None
    res.insert(0, "endpoint", ep)
    return res


def _summarise(endpoints, group_col, at_days, plan, covariates, conf_level, cif_conf_type, km_conf_type):
    est_rows, test_rows, cox_frames = [], [], []
    for ep, (label, measure) in plan.items():
        t, e, g = _rows(endpoints, ep, group_col)
        if t.size == 0:
            continue
        if measure == "cif":
            est_rows += _cif_estimates(ep, label, t, e, g, at_days, conf_level, cif_conf_type)
        else:
            est_rows += _km_estimates(ep, label, t, e, g, at_days, conf_level, km_conf_type)
        test_rows.append(_test(ep, label, measure, t, e, g))
        if covariates:
            frame = _cox_rows(endpoints, ep, covariates)
            if frame is not None:
                cox_frames.append(frame)
    estimates = pd.DataFrame(est_rows, columns=ESTIMATE_COLUMNS)
    tests = pd.DataFrame(test_rows, columns=TEST_COLUMNS)
    cox_cols = ["endpoint", *UNIVARIATE_COLUMNS]
    cox = pd.concat(cox_frames, ignore_index=True) if cox_frames else pd.DataFrame(columns=cox_cols)
    return OutcomeSummary(estimates, tests, cox.loc[:, cox_cols], group_col, float(at_days), conf_level)


def study_summary(
    endpoints: pd.DataFrame,
    group_col: str,
    *,
    at_years: float = 4,
    covariates: list[str] | None = None,
    conf_level: float = 0.95,
    cif_conf_type: Literal["log-log", "plain"] = "log-log",
    km_conf_type: Literal["log", "log-log", "plain"] = "log",
) -> OutcomeSummary:
    """Results section of an MRD cohort: CIR, NRM, DFS and OS by MRD group.

    Parameters
    ----------
    endpoints : DataFrame
        Output of :func:`mrdquant.outcomes.build_endpoints` (``relapse``, ``nrm``,
        ``dfs``, ``os`` endpoints).
    group_col : str
        Column with the groups compared (e.g. ``mrd_status``: MRDco+ vs MRDsin+).
    at_years : float, default 4, years (365.25 days)
        Time point of the estimates.
    covariates : list of str, optional
        Covariates of the univariate Cox models, fitted for each endpoint
        (cause-specific hazards for relapse and NRM); default ``[group_col]``. An empty
        list skips them.
    conf_level : float, default 0.95
    cif_conf_type : {"log-log", "plain"}, default "log-log"
        Intervals of the cumulative incidences (see
        :func:`mrdquant.outcomes.cumulative_incidence`). Publications that report
        symmetric intervals (estimate ± 1.96 SE, e.g. Liu et al. 2020) used ``"plain"``.
    km_conf_type : {"log", "log-log", "plain"}, default "log"
        Intervals of DFS and OS (see :func:`mrdquant.outcomes.kaplan_meier`).

    Returns
    -------
    OutcomeSummary
        Estimates at ``at_years`` overall and per group: CIR (relapse, NRM competing) and
        NRM (relapse competing) as Aalen–Johansen cumulative incidences, DFS and OS as
        Kaplan–Meier survival; Gray's test (CIR, NRM) and the log-rank test (DFS, OS);
        univariate Cox models. An estimate is NaN when follow-up of the group ends
        before the time point.

    Raises
    ------
    InputError
        Missing columns.
    """
    at_days = float(at_years) * _DAYS_PER_YEAR
    _check(endpoints, group_col, list(_STUDY_ENDPOINTS))
    covs = [group_col] if covariates is None else list(covariates)
    return _summarise(endpoints, group_col, at_days, _STUDY_ENDPOINTS, covs, conf_level, cif_conf_type, km_conf_type)


def trial_summary(
    endpoints: pd.DataFrame,
    arm_col: str,
    *,
    at_years: float = 1,
    covariates: list[str] | None = None,
    conf_level: float = 0.95,
    cif_conf_type: Literal["log-log", "plain"] = "log-log",
    km_conf_type: Literal["log", "log-log", "plain"] = "log",
) -> OutcomeSummary:
    """Results of a two-arm trial: relapse, LFS, OS and toxicities by arm.

    Parameters
    ----------
    endpoints : DataFrame
        Output of :func:`mrdquant.outcomes.build_endpoints` with ``index="randomization"``.
        Toxicity endpoints (``agvhd``, ``cgvhd``, and those built from
        :data:`mrdquant.outcomes.endpoints.TOXICITY_DATES`, including the composites
        ``marrow_suppression`` and ``infection``) are summarised when present.
    arm_col : str
        Column with the randomized arm.
    at_years : float, default 1, years (365.25 days)
    covariates, conf_level, cif_conf_type, km_conf_type
        As :func:`study_summary` (Cox models default to ``[arm_col]``).

    Returns
    -------
    OutcomeSummary
        Relapse incidence (cumulative incidence, NRM competing), LFS and OS
        (Kaplan–Meier), and each toxicity's cumulative incidence (relapse and death
        competing), overall and per arm, with Gray's / log-rank P.

    Raises
    ------
    InputError
        Missing columns.
    """
    at_days = float(at_years) * _DAYS_PER_YEAR
    _check(endpoints, arm_col, list(_TRIAL_ENDPOINTS))
    plan = dict(_TRIAL_ENDPOINTS)
    for ep, label in _TRIAL_INCIDENCES.items():
        if f"{ep}_days" in endpoints.columns and f"{ep}_event" in endpoints.columns:
            plan[ep] = (label, "cif")
    covs = [arm_col] if covariates is None else list(covariates)
    return _summarise(endpoints, arm_col, at_days, plan, covs, conf_level, cif_conf_type, km_conf_type)


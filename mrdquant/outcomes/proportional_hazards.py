"""Cox proportional-hazards regression, as R's ``survival::coxph``.

Public functions
----------------
cox(data, duration, event, covariates, ties="efron", *, start=None, strata=None, ...)
    Multivariable model: one row per term with HR and CI; the model-level Wald,
    likelihood-ratio and score tests in ``.attrs["tests"]`` (see :func:`cox_tests`).
cox_univariate(data, duration, event, covariates, ties="efron", ...)
    One model per covariate (the univariate screen of a results section).
cox_tests(result)
    The model-level tests of a :func:`cox` result as a tidy table.
counting_process(endpoints, changes, *, ...)
    (start, stop] rows for a covariate that changes over follow-up (MRD status).
landmark(data, at_days, *, ...)
    Landmark data set: patients event-free at the landmark, times reset to it.

The partial likelihood (Efron or Breslow ties, strata, counting-process risk sets) is
computed by a numba kernel and maximised by Newton–Raphson with step halving, to a much
tighter tolerance than R's default, so coefficients, standard errors and the three tests
agree with ``coxph`` to 1e-6 (tests compare them with stored R output).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

from .._numba import njit
from .._version import __version__
from ..errors import ClinicalDataError, InputError, StatisticalWarning
from ._validate import check_conf_level, check_group, check_status, check_time

__all__ = [
    "cox",
    "cox_univariate",
    "cox_tests",
    "counting_process",
    "landmark",
    "COX_COLUMNS",
    "TEST_COLUMNS",
]

#: Columns of :func:`cox`, in order.
COX_COLUMNS = ["term", "coef", "hr", "se", "z", "p_value", "hr_lower", "hr_upper", "converged", "note"]
#: Columns of :func:`cox_tests`, in order.
TEST_COLUMNS = ["test", "statistic", "df", "p_value"]
#: Extra leading columns of :func:`cox_univariate`.
UNIVARIATE_COLUMNS = ["covariate", *COX_COLUMNS, "n", "n_events"]

#: Days per month used for every ``*_months`` column (365.25 / 12).
DAYS_PER_MONTH = 30.4375

Ties = Literal["efron", "breslow"]


# ----------------------------------------------------------------------------- kernel
@njit(error_model="numpy")
def _cox_stats(beta, x, start, stop, event, bounds, ord_stop, ord_start, efron, counting, grad, info):
    """Log partial likelihood, score vector and information matrix.

    Rows of one stratum are ``bounds[h] .. bounds[h+1]`` in the original arrays;
    ``ord_stop`` / ``ord_start`` list each stratum's rows by decreasing stop / start time.
    ``grad`` (p,) and ``info`` (p, p) are overwritten. Returns the log partial likelihood,
    or -inf when a risk-set sum underflows (a wild Newton step; the caller halves it).
    """
    n, p = x.shape
    eta = x @ beta
    if n > 0:
        # the likelihood is unchanged by a common shift of eta; this one prevents overflow
        eta = eta - eta.max()
    risk = np.exp(eta)
    grad[:] = 0.0
    info[:, :] = 0.0
    loglik = 0.0
    s1 = np.zeros(p)
    s2 = np.zeros((p, p))
    d1 = np.zeros(p)
    d2 = np.zeros((p, p))
    xsum = np.zeros(p)
    mean = np.zeros(p)
    for h in range(bounds.size - 1):
        lo = bounds[h]
        hi = bounds[h + 1]
        s0 = 0.0
        s1[:] = 0.0
        s2[:, :] = 0.0
        i = lo
        j = lo
        while i < hi:
            t = stop[ord_stop[i]]
            d0 = 0.0
            d1[:] = 0.0
            d2[:, :] = 0.0
            xsum[:] = 0.0
            etasum = 0.0
            ndead = 0
            while i < hi and stop[ord_stop[i]] == t:
                k = ord_stop[i]
                r = risk[k]
                s0 += r
                for a in range(p):
                    s1[a] += r * x[k, a]
                    for b in range(p):
                        s2[a, b] += r * x[k, a] * x[k, b]
                if event[k] == 1:
                    ndead += 1
                    d0 += r
                    etasum += eta[k]
                    for a in range(p):
                        xsum[a] += x[k, a]
                        d1[a] += r * x[k, a]
                        for b in range(p):
                            d2[a, b] += r * x[k, a] * x[k, b]
                i += 1
            if counting:
                # leave the risk set: rows whose interval starts at or after t
                while j < hi and start[ord_start[j]] >= t:
                    k = ord_start[j]
                    r = risk[k]
                    s0 -= r
                    for a in range(p):
                        s1[a] -= r * x[k, a]
                        for b in range(p):
                            s2[a, b] -= r * x[k, a] * x[k, b]
                    j += 1
            if ndead > 0:
                loglik += etasum
                for a in range(p):
                    grad[a] += xsum[a]
                for q in range(ndead):
                    frac = q / ndead if efron else 0.0
                    den = s0 - frac * d0
                    if not den > 0.0:
                        return -np.inf
                    loglik -= np.log(den)
                    for a in range(p):
                        mean[a] = (s1[a] - frac * d1[a]) / den
                    for a in range(p):
                        grad[a] -= mean[a]
                        for b in range(p):
                            info[a, b] += (s2[a, b] - frac * d2[a, b]) / den - mean[a] * mean[b]
    return loglik


# ----------------------------------------------------------------------------- inputs
def _design(data: pd.DataFrame, covariates: Sequence[str]) -> tuple[np.ndarray, list[str], list[str]]:
    """Numeric design matrix; categorical columns become indicators against the first level."""
    blocks = []
    terms: list[str] = []
    owners: list[str] = []
    for col in covariates:
        ser = data[col]
        if isinstance(ser.dtype, pd.CategoricalDtype) or ser.dtype.kind in "OSU":
            codes, levels = check_group(ser, len(ser), name=col)
            if levels.size < 2:
                raise InputError(f"{col}: only one level ({levels[0]!r}); a covariate needs at least two")
            for k in range(1, levels.size):
                blocks.append((codes == k).astype(np.float64))
                terms.append(f"{col}[{levels[k]}]")
                owners.append(col)
        else:
            try:
                values = pd.to_numeric(ser, errors="raise").to_numpy(dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InputError(f"{col}: cannot be read as numbers ({exc}); expected a numeric covariate") from exc
            bad = ~np.isfinite(values)
            if bad.any():
                where = list(ser.index[bad][:3])
                raise InputError(f"{col}: missing or infinite values at index {where}; expected finite numbers")
            blocks.append(values)
            terms.append(col)
            owners.append(col)
    x = np.column_stack(blocks) if blocks else np.zeros((len(data), 0))
    return np.ascontiguousarray(x), terms, owners


def _prepare(data, duration, event, covariates, start, strata, missing):
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"data: got {type(data).__name__}; expected a pandas DataFrame")
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    if not covariates:
        raise InputError("covariates: empty; expected at least one column name")
    needed = [duration, event, *covariates] + [c for c in (start, strata) if c is not None]
    absent = [c for c in needed if c not in data.columns]
    if absent:
        raise InputError(f"columns {absent} not in data; available columns: {list(map(str, data.columns))}")
    if missing not in ("raise", "drop"):
        raise InputError(f"missing: {missing!r}; expected 'raise' or 'drop'")
    frame = data.loc[:, list(dict.fromkeys(needed))]
    if missing == "drop":
        frame = frame.dropna()
        if frame.empty:
            raise InputError(f"no complete rows in columns {list(dict.fromkeys(needed))}")
    t = check_time(frame[duration], duration)
    e = check_status(frame[event], event)
    x, terms, owners = _design(frame, covariates)
    if start is not None:
        t0 = check_time(frame[start], start)
        bad = t0 >= t
        if bad.any():
            where = list(frame.index[bad][:3])
            raise InputError(
                f"{start}/{duration}: interval start not before its stop at index {where}; "
                "expected (start, stop] with start < stop"
            )
    else:
        t0 = np.full(t.size, -np.inf)
    if strata is not None:
        sc, _ = check_group(frame[strata], t.size, name=strata)
    else:
        sc = np.zeros(t.size, dtype=np.int64)
    return frame, t0, t, e, x, terms, owners, sc


class _Model:
    """Arrays grouped by stratum, ready for the kernel."""

    def __init__(self, t0, t, e, x, sc, ties, counting):
        order = np.argsort(sc, kind="stable")
        self.x = np.ascontiguousarray(x[order] - x.mean(axis=0))
        self.start = np.ascontiguousarray(t0[order])
        self.stop = np.ascontiguousarray(t[order])
        self.event = np.ascontiguousarray(e[order])
        s = sc[order]
        self.bounds = np.concatenate([[0], np.flatnonzero(np.diff(s)) + 1, [s.size]]).astype(np.int64)
        ord_stop = np.empty(s.size, dtype=np.int64)
        ord_start = np.empty(s.size, dtype=np.int64)
        for lo, hi in zip(self.bounds[:-1], self.bounds[1:]):
            idx = np.arange(lo, hi)
            ord_stop[lo:hi] = idx[np.argsort(-self.stop[lo:hi], kind="stable")]
            ord_start[lo:hi] = idx[np.argsort(-self.start[lo:hi], kind="stable")]
        self.ord_stop = ord_stop
        self.ord_start = ord_start
        self.efron = ties == "efron"
        self.counting = counting
        p = x.shape[1]
        self.grad = np.zeros(p)
        self.info = np.zeros((p, p))

    def stats(self, beta):
        ll = _cox_stats(
            beta, self.x, self.start, self.stop, self.event, self.bounds, self.ord_stop,
            self.ord_start, self.efron, self.counting, self.grad, self.info,
        )
        return ll, self.grad.copy(), self.info.copy()


def _aliased(x: np.ndarray, sc: np.ndarray, terms: list[str]) -> dict[int, str]:
    """Terms that cannot be estimated from the design: ``{column: reason}``.

    A column is constant when it does not vary within any stratum (the baseline hazard
    of each stratum absorbs it), and collinear when it is a linear combination of the
    columns before it (as R's ``coxph``, which reports such terms as NA).
    """
    n, p = x.shape
    xc = x.astype(np.float64).copy()
    for h in np.unique(sc):
        rows = sc == h
        xc[rows] -= xc[rows].mean(axis=0)
    basis: list[np.ndarray] = []
    kept: list[int] = []
    out: dict[int, str] = {}
    for j in range(p):
        col = xc[:, j]
        scale = max(1.0, float(np.max(np.abs(x[:, j])))) if n else 1.0
        norm_j = float(np.linalg.norm(col))
        if norm_j <= 1e-10 * scale * max(1.0, np.sqrt(n)):
            out[j] = "not identifiable: constant" + (" within every stratum" if np.unique(sc).size > 1 else "")
            continue
        resid = col.copy()
        for q in basis:
            resid -= (q @ resid) * q
        if float(np.linalg.norm(resid)) <= 1e-8 * norm_j:
            coef = np.linalg.lstsq(xc[:, kept], col, rcond=None)[0]
            with_ = [terms[k] for k, c in zip(kept, coef) if abs(c) > 1e-8]
            out[j] = f"not identifiable: collinear with {', '.join(with_)}"
            continue
        basis.append(resid / np.linalg.norm(resid))
        kept.append(j)
    return out


def _solve(info, vec):
    try:
        return np.linalg.solve(info, vec)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(info) @ vec


def _newton(model: _Model, p: int, max_iter: int, tol: float):
    beta = np.zeros(p)
    ll0, g0, i0 = model.stats(beta)
    ll, g, info = ll0, g0, i0
    converged = False
    it = 0
    step = np.zeros(p)
    for it in range(1, max_iter + 1):
        step = _solve(info, g)
        new = beta + step
        ll_new, g_new, info_new = model.stats(new)
        halvings = 0
        while not (ll_new >= ll - 1e-12 * abs(ll)) and halvings < 30:
            step = step / 2.0
            new = beta + step
            ll_new, g_new, info_new = model.stats(new)
            halvings += 1
        done = abs(ll_new - ll) <= tol * max(1.0, abs(ll)) and np.max(np.abs(step), initial=0.0) < 1e-8
        beta, ll, g, info = new, ll_new, g_new, info_new
        if done:
            converged = True
            break
    return beta, ll0, g0, i0, ll, info, converged, it, step


# ----------------------------------------------------------------------------- public
def cox(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str] | str,
    ties: Ties = "efron",
    *,
    start: str | None = None,
    strata: str | None = None,
    conf_level: float = 0.95,
    missing: Literal["raise", "drop"] = "raise",
    max_iter: int = 50,
) -> pd.DataFrame:
    """Fit a Cox proportional-hazards model.

    Parameters
    ----------
    data : DataFrame
        One row per patient, or per (start, stop] interval in counting-process form.
    duration : str
        Column of follow-up times (the interval stop with ``start``), any time unit.
    event : str
        Column of 0/1 event indicators (1 event at ``duration``).
    covariates : list of str
        Covariate columns. Numeric and boolean columns enter as they are; text and
        categorical columns are expanded into 0/1 indicators against their first level
        (sorted, or the category order), with terms named ``column[level]``.
    ties : {"efron", "breslow"}, default "efron"
        Handling of tied event times (R's default is Efron).
    start : str, optional
        Column of interval starts: counting-process form, a row is at risk on
        (start, duration] (R ``Surv(start, stop, event)``). Needed for time-dependent
        covariates such as MRD status; see :func:`counting_process`.
    strata : str, optional
        Column defining strata with separate baseline hazards (R ``strata()``).
    conf_level : float, default 0.95
        Level of the hazard-ratio intervals.
    missing : {"raise", "drop"}, default "raise"
        Rows with a missing value in a used column: raise, or drop them (R's
        ``na.omit``).
    max_iter : int, default 50
        Newton–Raphson iterations. A fit that does not converge (monotone likelihood:
        a coefficient running to infinity) gives NaN estimates for every term, with
        ``converged`` False, a ``note`` and a :class:`StatisticalWarning`.

    Returns
    -------
    DataFrame
        One row per term: ``term``, ``coef`` (log hazard ratio), ``hr`` (exp(coef)),
        ``se`` (from the inverse information), ``z`` (coef/se), ``p_value`` (two-sided
        Wald), ``hr_lower``, ``hr_upper`` (exp(coef ∓ z·se)), ``converged`` (bool: the
        term was estimated by a converged fit) and ``note`` (why not: ``"not
        identifiable: constant"``, ``"not identifiable: collinear with x"``, ``"not
        converged: monotone likelihood, ..."``; ``""`` otherwise). Terms that are not
        estimable have NaN estimates; constant or collinear terms are left out of the fit
        of the others (as R's ``coxph``) and of the tests' ``df``.
        ``.attrs`` holds ``tests`` (``{"wald"|"likelihood_ratio"|"score": {"statistic",
        "df", "p_value"}}``, the score test at beta = 0 as R reports it), ``loglik``
        ([at beta = 0, at the estimate]), ``n`` (rows), ``n_events``, ``ties``,
        ``converged``, ``iterations``, ``covariance`` (p × p list of lists) and
        ``mrdquant_version``.
        Read the tests as a table with :func:`cox_tests`.

    Raises
    ------
    InputError
        Missing columns, non-numeric covariates, missing values (``missing="raise"``),
        bad times or event codes, start not before stop.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 0, 1, 1, 0],
    ...                    "x": [1, 0, 1, 0, 1, 0]})
    >>> list(cox(df, "t", "e", ["x"]).columns)
    ['term', 'coef', 'hr', 'se', 'z', 'p_value', 'hr_lower', 'hr_upper', 'converged', 'note']
    """
    if ties not in ("efron", "breslow"):
        raise InputError(f"ties: {ties!r} is not supported; expected 'efron' or 'breslow'")
    level = check_conf_level(conf_level)
    frame, t0, t, e, x, terms, _, sc = _prepare(data, duration, event, covariates, start, strata, missing)
    p = x.shape[1]
    n_events = int(e.sum())
    if n_events == 0:
        raise InputError(f"{event}: no events; a Cox model needs at least one")
    notes = _aliased(x, sc, terms)
    fit_cols = [j for j in range(p) if j not in notes]
    q = len(fit_cols)
    xf = np.ascontiguousarray(x[:, fit_cols])
    model = _Model(t0, t, e, xf, sc, ties, start is not None)
    beta_f, ll0, g0, i0, ll, info, converged, iters, last_step = _newton(model, q, max_iter, 1e-13)
    infinite = _diverging(xf, beta_f, i0, info, last_step, converged)
    cov_f = None
    if q and not infinite:
        cov_f = _inverse(info)
        if cov_f is None:
            infinite = list(range(q))
    fit_terms = [terms[j] for j in fit_cols]
    if infinite:
        converged = False
        names = [fit_terms[k] for k in infinite]
        for k in range(q):
            if k in infinite:
                notes[fit_cols[k]] = (
                    "not converged: monotone likelihood, the coefficient tends to infinity "
                    "(e.g. no events in one group); not estimable"
                )
            else:
                notes[fit_cols[k]] = f"not estimable: the model did not converge ({', '.join(names)} diverges)"
        warnings.warn(
            f"cox: the fit did not converge, coefficient(s) of {names} tend to infinity "
            "(monotone likelihood); estimates are reported as NaN",
            StatisticalWarning,
            stacklevel=2,
        )
    aliased = [terms[j] for j in range(p) if j not in fit_cols]
    if aliased:
        warnings.warn(
            f"cox: term(s) {aliased} cannot be estimated (constant or collinear); reported as NaN",
            StatisticalWarning,
            stacklevel=2,
        )
    beta = np.full(p, np.nan)
    se = np.full(p, np.nan)
    cov = np.full((p, p), np.nan)
    if cov_f is not None:
        beta[fit_cols] = beta_f
        se[fit_cols] = np.sqrt(np.diag(cov_f))
        cov[np.ix_(fit_cols, fit_cols)] = cov_f
    zq = float(norm.ppf(1.0 - (1.0 - level) / 2.0))
    z = beta / se
    table = pd.DataFrame(
        {
            "term": terms,
            "coef": beta,
            "hr": np.exp(beta),
            "se": se,
            "z": z,
            "p_value": 2.0 * norm.sf(np.abs(z)),
            "hr_lower": np.exp(beta - zq * se),
            "hr_upper": np.exp(beta + zq * se),
            "converged": [bool(converged) and j not in notes for j in range(p)],
            "note": [notes.get(j, "") for j in range(p)],
        },
        columns=COX_COLUMNS,
    )
    nan = float("nan")
    wald = float(beta_f @ info @ beta_f) if cov_f is not None else nan
    lr = float(2.0 * (ll - ll0)) if q else nan
    score = float(g0 @ _solve(i0, g0)) if q else nan
    table.attrs = {
        "tests": {
            "wald": {"statistic": wald, "df": q, "p_value": float(chi2.sf(wald, q)) if q else nan},
            "likelihood_ratio": {"statistic": lr, "df": q, "p_value": float(chi2.sf(lr, q)) if q else nan},
            "score": {"statistic": score, "df": q, "p_value": float(chi2.sf(score, q)) if q else nan},
        },
        "loglik": [float(ll0), float(ll)],
        "n": int(t.size),
        "n_events": n_events,
        "ties": ties,
        "converged": bool(converged),
        "iterations": int(iters),
        "covariance": cov.tolist(),
        "mrdquant_version": __version__,
    }
    return table


def _diverging(x, beta, info0, info, last_step, converged) -> list[int]:
    """Columns whose coefficient runs off to infinity (monotone likelihood).

    Newton-Raphson on a concave log partial likelihood with a finite maximum converges
    quadratically; a coefficient that still moves at the end, that exceeds 15 per
    standard deviation of its covariate, or whose information has collapsed to a
    1e-10 fraction of its value at zero, belongs to a likelihood that keeps rising as the
    coefficient grows without bound.
    """
    q = beta.size
    if q == 0:
        return []
    sd = x.std(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        huge = np.abs(beta) * sd > 15.0
        flat = np.diag(info) <= 1e-10 * np.diag(info0)
        moving = np.abs(last_step) > 1e-6 * np.maximum(1.0, np.abs(beta))
    bad = huge | flat | ~np.isfinite(beta)
    if not converged:
        bad |= moving
        if not bad.any():
            bad[:] = True
    return [int(k) for k in np.flatnonzero(bad)]


def _inverse(info: np.ndarray) -> np.ndarray | None:
    """Inverse of a positive definite information matrix, None when it is singular."""
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return None
    d = np.diag(cov)
    if not np.all(np.isfinite(cov)) or np.any(d <= 0) or np.linalg.cond(info) > 1e14:
        return None
    return cov


def cox_tests(result: pd.DataFrame) -> pd.DataFrame:
    """The model-level tests of a :func:`cox` result.

    Returns
    -------
    DataFrame
        Rows ``wald``, ``likelihood_ratio``, ``score``; columns ``test``, ``statistic``
        (chi-square), ``df``, ``p_value``.

    Raises
    ------
    InputError
        ``result`` does not come from :func:`cox`.
    """
    tests = getattr(result, "attrs", {}).get("tests")
    if not tests:
        raise InputError("result: has no model tests in .attrs; expected the output of cox()")
    return pd.DataFrame([{"test": k, **v} for k, v in tests.items()], columns=TEST_COLUMNS)


def cox_univariate(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str] | str,
    ties: Ties = "efron",
    *,
    start: str | None = None,
    strata: str | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Univariate screen: one Cox model per covariate.

    Each model uses the rows complete for its covariate (R's ``na.omit`` per model).

    Parameters
    ----------
    data, duration, event, ties, start, strata, conf_level
        As :func:`cox`.
    covariates : list of str
        Each is fitted alone.

    Returns
    -------
    DataFrame
        ``covariate``, then the :func:`cox` columns (``term`` … ``hr_upper``; a categorical
        covariate gives one row per non-reference level), then ``n`` (rows used) and
        ``n_events``.
    """
    if isinstance(covariates, str):
        covariates = [covariates]
    frames = []
    for col in covariates:
        res = cox(data, duration, event, [col], ties, start=start, strata=strata,
                  conf_level=conf_level, missing="drop")
        res = res.copy()
        res.insert(0, "covariate", col)
        res["n"] = res.attrs["n"]
        res["n_events"] = res.attrs["n_events"]
        frames.append(res)
    if not frames:
        raise InputError("covariates: empty; expected at least one column name")
    out = pd.concat(frames, ignore_index=True)
    out.attrs = {}
    return out.loc[:, UNIVARIATE_COLUMNS]


def counting_process(
    endpoints: pd.DataFrame,
    changes: pd.DataFrame,
    *,
    duration: str = "relapse_days",
    event: str = "relapse_event",
    event_code: int = 1,
    id_col: str = "patient_id",
    change_time: str = "days",
    value: str = "mrd_positive",
) -> pd.DataFrame:
    """Split each patient's follow-up at the times a binary covariate changes.

    Turns, e.g., a patient's MRD results over follow-up into (start, stop] rows for a
    time-dependent Cox model (``cox(rows, "stop", "event", ["mrd_positive"],
    start="start")``).

    Parameters
    ----------
    endpoints : DataFrame
        One row per patient: ``id_col``, ``duration`` (time from the index date) and
        ``event`` (code; ``event_code`` counts as the event, anything else as censored, so
        competing events are censored: a cause-specific hazard).
    changes : DataFrame
        One row per assessment or status change: ``id_col``, ``change_time`` (same unit
        and index as ``duration``) and ``value`` (0/1, the covariate from that time on).
        The covariate is 0 before a patient's first row; rows at or after the end of
        follow-up are ignored; repeated values do not split the follow-up.
    duration, event, event_code, id_col, change_time, value
        Column names and the event code.

    Returns
    -------
    DataFrame
        ``patient_id`` (named ``id_col``), ``start``, ``stop`` (unit of ``duration``),
        ``event`` (0/1, only on a patient's last row), ``mrd_positive`` (named
        ``value``; 0/1 on (start, stop]). Patients with zero follow-up cannot be at risk
        on any interval and are left out (with a :class:`StatisticalWarning`).

    Raises
    ------
    ClinicalDataError
        Missing columns, changes for unknown patients, duplicated patients, values other
        than 0/1, negative or missing times.
    """
    for name, frame, cols in (
        ("endpoints", endpoints, [id_col, duration, event]),
        ("changes", changes, [id_col, change_time, value]),
    ):
        if not isinstance(frame, pd.DataFrame):
            raise ClinicalDataError(f"{name}: got {type(frame).__name__}; expected a DataFrame")
        absent = [c for c in cols if c not in frame.columns]
        if absent:
            raise ClinicalDataError(
                f"{name}: columns {absent} missing; available columns: {list(map(str, frame.columns))}"
            )
    dup = endpoints[id_col].duplicated()
    if dup.any():
        raise ClinicalDataError(f"endpoints: {id_col} {list(endpoints.loc[dup, id_col][:3])} appear more than once")
    known = set(endpoints[id_col])
    unknown = sorted(set(changes[id_col]) - known, key=str)
    if unknown:
        raise ClinicalDataError(f"changes: {id_col} {unknown[:3]} not in endpoints")
    try:
        t_end = check_time(endpoints[duration], duration)
        ct = check_time(changes[change_time], change_time, allow_empty=True)
        vals = check_status(changes[value], value, allow_empty=True)
    except InputError as exc:
        raise ClinicalDataError(str(exc)) from exc
    ev = pd.to_numeric(endpoints[event], errors="coerce").to_numpy()
    if np.isnan(ev.astype(float)).any():
        raise ClinicalDataError(f"endpoints: {event} has missing or non-numeric codes")
    by_patient: dict[Any, list[tuple[float, int]]] = {}
    for pid, tt, vv in zip(changes[id_col], ct, vals):
        by_patient.setdefault(pid, []).append((float(tt), int(vv)))
    rows = []
    dropped = 0
    for pid, te, code in zip(endpoints[id_col], t_end, ev):
        if te <= 0:
            dropped += 1
            continue
        seq = sorted(by_patient.get(pid, []))
        current = 0
        for tt, vv in seq:
            if tt <= 0:
                current = vv
        cut_start = 0.0
        for tt, vv in seq:
            if tt <= 0 or tt >= te or vv == current:
                continue
            rows.append((pid, cut_start, tt, 0, current))
            cut_start, current = tt, vv
        rows.append((pid, cut_start, float(te), int(code == event_code), current))
    if dropped:
        warnings.warn(
            f"counting_process: {dropped} patient(s) with zero follow-up left out", StatisticalWarning, stacklevel=2
        )
    return pd.DataFrame(rows, columns=[id_col, "start", "stop", "event", value])


def landmark(
    data: pd.DataFrame,
    at_days: float,
    *,
    require: str = "dfs",
    covariate_times: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Landmark data set: patients still at risk at ``at_days``, clocks reset to it.

    Parameters
    ----------
    data : DataFrame
        Output of :func:`mrdquant.outcomes.build_endpoints` (``<ep>_days``,
        ``<ep>_months``, ``<ep>_event`` per endpoint).
    at_days : float, days from the index date
        The landmark.
    require : str, default "dfs"
        Endpoint that must still be event-free and under follow-up after the landmark
        (``<require>_days > at_days``); ``"dfs"`` keeps patients alive and relapse-free.
    covariate_times : dict, optional
        ``{new_column: time_column}``: ``new_column`` is True when ``time_column`` (days
        from the index date, NaN = never) is <= ``at_days``, e.g.
        ``{"mrd_by_landmark": "first_mrd_positive_days"}``. Status is fixed at the
        landmark, so later changes cannot bias the comparison (no guarantee-time bias).

    Returns
    -------
    DataFrame
        The kept rows, with every ``<ep>_days`` reduced by ``at_days`` and ``<ep>_months``
        recomputed (days / 30.4375); an endpoint whose event or censoring already happened
        by the landmark (e.g. aGVHD before it) is NaN for that patient. Adds
        ``landmark_days``.

    Raises
    ------
    InputError
        ``at_days`` negative, or missing columns.
    """
    try:
        at = float(at_days)
    except (TypeError, ValueError) as exc:
        raise InputError(f"at_days: {at_days!r} is not a number") from exc
    if not np.isfinite(at) or at < 0:
        raise InputError(f"at_days: {at_days!r}; expected a finite number of days >= 0")
    need = f"{require}_days"
    if need not in data.columns:
        raise InputError(f"require: column {need!r} not in data; available columns: {list(map(str, data.columns))}")
    keep = pd.to_numeric(data[need], errors="coerce") > at
    out = data.loc[keep].copy()
    prefixes = [c[: -len("_days")] for c in out.columns if c.endswith("_days") and f"{c[:-5]}_event" in out.columns]
    for ep in prefixes:
        days = pd.to_numeric(out[f"{ep}_days"], errors="coerce") - at
        gone = days <= 0
        days = days.where(~gone)
        out[f"{ep}_days"] = days
        if f"{ep}_months" in out.columns:
            out[f"{ep}_months"] = days / DAYS_PER_MONTH
        out[f"{ep}_event"] = out[f"{ep}_event"].astype("Int64").where(~gone)
    for new, col in (covariate_times or {}).items():
        if col not in data.columns:
            raise InputError(f"covariate_times: column {col!r} not in data")
        out[new] = pd.to_numeric(out[col], errors="coerce") <= at
    out["landmark_days"] = at
    return out.reset_index(drop=True)

"""Fine-Gray subdistribution hazard regression (as ``cmprsk::crr``).

The model is fitted by Newton-Raphson with step halving on the weighted partial likelihood
of Fine & Gray (1999): patients who failed from a competing cause stay in the risk set with
inverse-probability-of-censoring weights ``G(t-)/G(t_i-)`` from the Kaplan-Meier estimate of
the censoring distribution; tied failures are handled Breslow-style. Standard errors are
the robust sandwich ``I^-1 (sum_i (eta_i + psi_i)(eta_i + psi_i)') I^-1`` of Fine & Gray,
which accounts for the estimated censoring weights. Starting values, step rule and
stopping rule are those of ``crr`` so the reported estimates coincide with it.

Every risk-set sum is a cumulative sum over time-sorted patients, so one likelihood
evaluation is O(n p^2).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._version import __version__
from ..errors import InputError, StatisticalWarning
from ._validate import check_conf_level, check_time, resolve_columns
from .proportional_hazards import _aliased, _diverging, _inverse

__all__ = ["fine_gray"]

COLUMNS = ["term", "coef", "shr", "se", "z", "p_value", "shr_lower", "shr_upper", "converged", "note"]

#: Stopping rules of :func:`fine_gray`: ``convergence -> (gtol, maxiter)``. "crr" are the
#: defaults of ``cmprsk::crr``, which can stop ~1e-5 short of the maximum.
CONVERGENCE = {"maximum": (1e-12, 50), "crr": (1e-6, 10)}


# ----------------------------------------------------------------------------- design
def _design(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Numeric model matrix from covariate columns (treatment coding for categoricals)."""
    blocks: list[np.ndarray] = []
    names: list[str] = []
    for col in frame.columns:
        ser = frame[col]
        missing = ser.isna().to_numpy()
        if missing.any():
            where = ", ".join(repr(x) for x in ser.index[missing][:3])
            raise InputError(f"covariates: column {col!r} has missing values at index {where}; remove or impute them")
        if isinstance(ser.dtype, pd.CategoricalDtype) or ser.dtype == object or pd.api.types.is_string_dtype(ser):
            if isinstance(ser.dtype, pd.CategoricalDtype):
                cat = ser.cat.remove_unused_categories()
            else:
                try:
                    cat = ser.astype(pd.CategoricalDtype(sorted(ser.unique())))
                except TypeError as exc:
                    raise InputError(f"covariates: column {col!r} mixes label types ({exc})") from exc
            levels = list(cat.cat.categories)
            if len(levels) < 2:
                raise InputError(f"covariates: column {col!r} has a single level {levels}; it cannot be estimated")
            codes = cat.cat.codes.to_numpy()
            for j, lev in enumerate(levels[1:], start=1):
                blocks.append((codes == j).astype(np.float64))
                names.append(f"{col}[{lev}]")
        elif pd.api.types.is_bool_dtype(ser) or pd.api.types.is_numeric_dtype(ser):
            arr = ser.to_numpy(dtype=np.float64)
            if not np.all(np.isfinite(arr)):
                raise InputError(f"covariates: column {col!r} has infinite values")
            blocks.append(arr)
            names.append(str(col))
        else:
            raise InputError(f"covariates: column {col!r} has dtype {ser.dtype}; expected numbers, booleans or labels")
    return np.column_stack(blocks) if blocks else np.empty((len(frame), 0)), names


# ----------------------------------------------------------------------------- model pieces
class _Problem:
    """Time-sorted data and everything that does not depend on the coefficients."""

    def __init__(self, t: np.ndarray, ici: np.ndarray, x: np.ndarray):
        order = np.argsort(t, kind="stable")
        self.t = t[order]
        self.ici = ici[order]
        self.x = np.ascontiguousarray(x[order])
        n = self.t.size
        t = self.t
        # Kaplan-Meier of the censoring distribution, evaluated just before each time
        # (at t = 0 the value at 0, as crr's interpolation does).
        first = np.searchsorted(t, t, side="left")  # first index of each patient's time
        is_first = first == np.arange(n)
        block_times = t[is_first]
        cens = np.bincount(np.cumsum(is_first) - 1, weights=(self.ici == 0).astype(float), minlength=block_times.size)
        at_risk = n - np.flatnonzero(is_first)
        factor = 1.0 - cens / at_risk
        g_after = np.cumprod(factor)
        g_before = np.concatenate([[1.0], g_after[:-1]])
        blk = np.cumsum(is_first) - 1
        self.g = np.where(t == 0, g_after[blk], g_before[blk])
        # distinct failure times of the cause of interest
        fail = self.ici == 1
        self.tau, self.d = np.unique(t[fail], return_counts=True)
        self.d = self.d.astype(np.float64)
        self.idx = np.searchsorted(t, self.tau, side="left")
        self.g_tau = self.g[self.idx]
        self.other = (self.ici == 2).astype(np.float64)
        self.fail = fail
        # censoring times and risk sets for the censoring martingale
        cmask = self.ici == 0
        self.u, self.c = np.unique(t[cmask], return_counts=True)
        self.u_first = np.searchsorted(t, self.u, side="left")
        self.y_u = (n - self.u_first).astype(np.float64)
        self.k_of_fail = np.searchsorted(self.tau, t)  # valid where fail

    def sums(self, b: np.ndarray, second: bool = True):
        """Risk-set sums S0, S1 (and S2) at each distinct failure time."""
        x = self.x
        e = np.exp(x @ b)
        w_other = e * self.other / self.g
        suf0 = np.concatenate([np.cumsum(e[::-1])[::-1], [0.0]])
        suf1 = np.concatenate([np.cumsum((e[:, None] * x)[::-1], axis=0)[::-1], np.zeros((1, x.shape[1]))])
        pre0 = np.concatenate([[0.0], np.cumsum(w_other)])
        pre1 = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(w_other[:, None] * x, axis=0)])
        i = self.idx
        gk = self.g_tau
        s0 = suf0[i] + gk * pre0[i]
        s1 = suf1[i] + gk[:, None] * pre1[i]
        s2 = None
        if second:
            xx = x[:, :, None] * x[:, None, :]
            suf2 = np.concatenate([np.cumsum((e[:, None, None] * xx)[::-1], axis=0)[::-1], np.zeros((1,) + xx.shape[1:])])
            pre2 = np.concatenate([np.zeros((1,) + xx.shape[1:]), np.cumsum(w_other[:, None, None] * xx, axis=0)])
            s2 = suf2[i] + gk[:, None, None] * pre2[i]
        return e, s0, s1, s2, pre0, pre1

    def objective(self, b: np.ndarray):
        """crr's minimised function (minus the log pseudo-likelihood), score and Hessian."""
        e, s0, s1, s2, _, _ = self.sums(b)
        lik = -float(np.sum((self.x @ b)[self.fail])) + float(np.sum(self.d * np.log(s0)))
        score = -self.x[self.fail].sum(axis=0) + (self.d / s0) @ s1
        xbar = s1 / s0[:, None]
        hess = np.einsum("k,kij->ij", self.d / s0, s2) - np.einsum("k,ki,kj->ij", self.d, xbar, xbar)
        return lik, score, hess

    def lik(self, b: np.ndarray) -> float:
        _, s0, _, _, _, _ = self.sums(b, second=False)
        value = -float(np.sum((self.x @ b)[self.fail])) + float(np.sum(self.d * np.log(s0)))
        return value

    def robust_meat(self, b: np.ndarray) -> np.ndarray:
        """sum_i (eta_i + psi_i)(eta_i + psi_i)' of Fine & Gray (1999)."""
        x = self.x
        t = self.t
        e, s0, s1, _, pre0, pre1 = self.sums(b, second=False)
        xbar = s1 / s0[:, None]
        dk = self.d / s0
        # sums over failure times up to t_i, and after t_i (Gm-weighted)
        c0 = np.concatenate([[0.0], np.cumsum(dk)])
        c1 = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(dk[:, None] * xbar, axis=0)])
        gd = dk * self.g_tau
        gdx = gd[:, None] * xbar
        tot0 = gd.sum()
        tot1 = gdx.sum(axis=0)
        cg0 = np.concatenate([[0.0], np.cumsum(gd)])
        cg1 = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(gdx, axis=0)])
        upto = np.searchsorted(self.tau, t, side="right")  # failure times <= t_i
        eta = -e[:, None] * (x * c0[upto][:, None] - c1[upto])
        d0 = tot0 - cg0[upto]
        d1 = tot1 - cg1[upto]
        oth = self.ici == 2
        eta[oth] -= (e[oth] / self.g[oth])[:, None] * (x[oth] * d0[oth][:, None] - d1[oth])
        fl = self.fail
        eta[fl] += x[fl] - xbar[self.k_of_fail[fl]]
        # censoring martingale part
        psi = np.zeros_like(eta)
        if self.u.size:
            a0 = pre0[self.u_first]
            a1 = pre1[self.u_first]
            from_k = np.searchsorted(self.tau, self.u, side="left")  # failure times >= u
            e0 = tot0 - cg0[from_k]
            e1 = tot1 - cg1[from_k]
            qu = a1 * e0[:, None] - a0[:, None] * e1
            inc = np.cumsum(self.c[:, None] * qu / (self.y_u ** 2)[:, None], axis=0)
            upto_u = np.searchsorted(self.u, t, side="right")
            has = upto_u > 0
            psi[has] = -inc[upto_u[has] - 1]
            cm = self.ici == 0
            ju = np.searchsorted(self.u, t[cm])
            psi[cm] += qu[ju] / self.y_u[ju][:, None]
        r = eta + psi
        return r.T @ r


def _newton(problem: _Problem, b0: np.ndarray, gtol: float, maxiter: int, exact_stop: bool):
    """crr's Newton-Raphson with step halving.

    Returns ``(b, converged, iterations, last_step)``. With ``exact_stop`` a Newton step
    below 1e-10 (relative) also counts as converged: the score cannot be made smaller
    than its rounding error.
    """
    b = b0.copy()
    converged = False
    it = 0
    last = np.zeros_like(b)
    for it in range(maxiter + 1):
        lik, score, hess = problem.objective(b)
        if np.max(np.abs(score) * np.maximum(np.abs(b), 1.0), initial=0.0) < max(abs(lik), 1.0) * gtol:
            converged = True
            break
        try:
            step = -np.linalg.solve(hess, score)
        except np.linalg.LinAlgError:
            break
        if exact_stop and np.all(np.abs(step) <= 1e-10 * np.maximum(np.abs(b), 1.0)):
            converged = True
            break
        if it == maxiter:
            break
        bn = b + step
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            fbn = problem.lik(bn)
        halvings = 0
        while not np.isfinite(fbn) or fbn > lik + 1e-4 * float(step @ score):
            halvings += 1
            step = step * 0.5
            bn = b + step
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                fbn = problem.lik(bn)
            if halvings > 20:
                break
        if halvings > 20:
            break
        last = bn - b
        b = bn
    return b, converged, it, last


def fine_gray(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: str | Sequence[str],
    cause: int = 1,
    *,
    cencode: int = 0,
    conf_level: float = 0.95,
    convergence: Literal["maximum", "crr"] = "maximum",
    gtol: float | None = None,
    maxiter: int | None = None,
    init: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Fine-Gray proportional subdistribution hazards regression.

    The estimate is the maximum of the pseudo-likelihood (to rounding); with
    ``convergence="crr"`` coefficients, robust standard errors and log
    pseudo-likelihoods equal ``cmprsk::crr`` at its defaults (one censoring group, fixed
    covariates ``cov1``), which may stop ~1e-5 short of the maximum.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    duration : str
        Column of follow-up times (>= 0, any unit).
    event : str
        Column of integer event codes: ``cencode`` censored, ``cause`` the failure of
        interest, any other code a competing failure.
    covariates : str or list of str
        Covariate columns. Numeric and boolean columns enter as they are. Label columns
        (object, string or Categorical) are dummy (treatment) coded with the first level as
        reference: the Categorical's first category, otherwise the smallest label in sort
        order; the term of level ``L`` of column ``c`` is named ``"c[L]"``.
    cause : int, default 1
        Code of the failure of interest (crr's ``failcode``).
    cencode : int, default 0
        Code of censored patients.
    conf_level : float, default 0.95
        Level of the subdistribution hazard ratio interval (Wald, on the log scale).
    convergence : {"maximum", "crr"}, default "maximum"
        ``"maximum"``: Newton-Raphson to the maximum (crr's rule with ``gtol=1e-12``, or a
        Newton step below 1e-10; at most 50 steps). ``"crr"``: ``cmprsk::crr``'s defaults
        (``gtol=1e-6``, ``maxiter=10``) and nothing else, to reproduce its numbers.
    gtol, maxiter : float, int, optional
        Override the stopping rule of ``convergence``: stop when
        ``max|score_j|·max(|b_j|, 1) < max(|loglik|, 1)·gtol``; at most ``maxiter``
        Newton steps (each halved up to 20 times if it does not decrease the objective
        enough).
    init : sequence of float, optional
        Starting coefficients (default zeros).

    Returns
    -------
    DataFrame
        One row per model term:

        ========= ======= =====================================================
        term      object  covariate name (``"col[level]"`` for dummies)
        coef      float64 log subdistribution hazard ratio
        shr       float64 subdistribution hazard ratio, exp(coef)
        se        float64 robust standard error of coef
        z         float64 coef / se
        p_value   float64 two-sided Wald P
        shr_lower float64 lower confidence limit of shr
        shr_upper float64 upper confidence limit of shr
        converged bool    the term was estimated by a converged fit
        note      object  why not ("" when converged)
        ========= ======= =====================================================

        A constant or collinear term, and every term of a fit that did not converge
        (e.g. a coefficient running to infinity), has NaN estimates and a ``note``; a
        :class:`~mrdquant.errors.StatisticalWarning` says so too.
        ``attrs``: ``loglik`` and ``loglik_null`` (log pseudo-likelihood at the estimate
        and at zero), ``converged``, ``iterations`` (Newton steps), ``gradient_norm``
        (Euclidean norm of the score at the estimate), ``convergence``, ``gtol``,
        ``maxiter``, ``n``, ``n_events``, ``cause``, ``vcov`` (robust covariance, list of
        lists), ``conf_level``, ``mrdquant_version``.

    Raises
    ------
    InputError
        Missing columns, missing values, negative times, non-integer event codes, no
        failures of ``cause``, a label column with a single level, a bad
        ``convergence``.

    References
    ----------
    Fine JP, Gray RJ (1999) A proportional hazards model for the subdistribution of a
    competing risk. JASA 94:496-509. cmprsk 2.2 ``crr``.
    """
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    if not covariates:
        raise InputError("covariates: at least one covariate column is needed")
    cols = resolve_columns(data, duration=duration, event=event, covariates=covariates)
    t = check_time(cols["duration"], name=f"duration column {duration!r}")
    ev_raw = cols["event"]
    if not isinstance(ev_raw, pd.Series):
        ev_raw = pd.Series(np.asarray(ev_raw), index=data.index)
    ev = pd.to_numeric(ev_raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(ev) | (ev != np.round(ev))
    if bad.any():
        where = ", ".join(repr(x) for x in ev_raw.index[bad][:3])
        raise InputError(f"event column {event!r}: missing or non-integer codes at index {where}; expected integers")
    ev = ev.astype(np.int64)
    cause = int(cause)
    cencode = int(cencode)
    if cause == cencode:
        raise InputError(f"cause: {cause} equals cencode; the failure of interest must differ from the censoring code")
    ici = np.where(ev == cencode, 0, np.where(ev == cause, 1, 2)).astype(np.int64)
    if not np.any(ici == 1):
        raise InputError(f"event column {event!r}: no patient has cause {cause}; codes present: {sorted(set(ev.tolist()))}")
    x, terms = _design(cols["covariates"])
    level = check_conf_level(conf_level)
    if convergence not in CONVERGENCE:
        raise InputError(f"convergence: {convergence!r}; expected one of {sorted(CONVERGENCE)}")
    gtol = float(CONVERGENCE[convergence][0] if gtol is None else gtol)
    maxiter = int(CONVERGENCE[convergence][1] if maxiter is None else maxiter)
    p = x.shape[1]
    notes = _aliased(x, np.zeros(x.shape[0], dtype=np.int64), terms)
    keep = [j for j in range(p) if j not in notes]
    q = len(keep)
    if init is None:
        b0 = np.zeros(q)
    else:
        b_init = np.asarray(init, dtype=np.float64)
        if b_init.shape != (p,):
            raise InputError(f"init: has {b_init.size} values; the model has {p} terms {terms}")
        b0 = b_init[keep]

    problem = _Problem(t, ici, x[:, keep])
    b, converged, iterations, last_step = _newton(problem, b0, gtol, maxiter, convergence == "maximum")
    lik, score, hess = problem.objective(b)
    _, _, hess0 = problem.objective(np.zeros(q))
    infinite = _diverging(problem.x, b, hess0, hess, last_step, converged) if q else []
    inv = _inverse(hess) if q and not infinite else None
    if q and inv is None and not infinite:
        infinite = list(range(q))
    fit_terms = [terms[j] for j in keep]
    if infinite:
        converged = False
        names = [fit_terms[k] for k in infinite]
        for k in range(q):
            notes[keep[k]] = (
                f"not converged in {iterations} Newton steps: the coefficient tends to infinity or the "
                "information is singular; not estimable"
                if k in infinite
                else f"not estimable: the model did not converge ({', '.join(names)})"
            )
        warnings.warn(
            f"fine_gray: the fit did not converge ({names}); estimates are reported as NaN",
            StatisticalWarning,
            stacklevel=2,
        )
    aliased = [terms[j] for j in range(p) if j not in keep]
    if aliased:
        warnings.warn(
            f"fine_gray: term(s) {aliased} cannot be estimated (constant or collinear); reported as NaN",
            StatisticalWarning,
            stacklevel=2,
        )
    coef = np.full(p, np.nan)
    vcov = np.full((p, p), np.nan)
    if inv is not None:
        coef[keep] = b
        vcov[np.ix_(keep, keep)] = inv @ problem.robust_meat(b) @ inv.T
    se = np.sqrt(np.diag(vcov))
    z = coef / se
    zq = stats.norm.ppf(0.5 + level / 2.0)
    out = pd.DataFrame(
        {
            "term": pd.Series(terms, dtype=object),
            "coef": coef,
            "shr": np.exp(coef),
            "se": se,
            "z": z,
            "p_value": 2.0 * stats.norm.sf(np.abs(z)),
            "shr_lower": np.exp(coef - zq * se),
            "shr_upper": np.exp(coef + zq * se),
            "converged": [bool(converged) and j not in notes for j in range(p)],
            "note": pd.Series([notes.get(j, "") for j in range(p)], dtype=object),
        },
        columns=COLUMNS,
    )
    out.attrs.update(
        {
            "loglik": -lik,
            "loglik_null": -problem.lik(np.zeros(q)),
            "converged": bool(converged),
            "iterations": int(iterations),
            "gradient_norm": float(np.linalg.norm(score)),
            "convergence": convergence,
            "gtol": gtol,
            "maxiter": maxiter,
            "n": int(t.size),
            "n_events": int(np.sum(ici == 1)),
            "cause": cause,
            "vcov": vcov.tolist(),
            "conf_level": level,
            "method": "Fine-Gray (1999) subdistribution hazards, as cmprsk::crr (robust variance)",
            "mrdquant_version": __version__,
        }
    )
    return out

"""Slow, obvious references for the true probabilities of the simulated DLI trial.

Written from the definitions of the competing-risks model, by numerical integration
(scipy.integrate.quad), not from the closed form:

* overall survival from both causes S(t) = exp(-H_R(t) - H_N(t)), H the integrated
  hazards (rate per year in the first 365.25 days, another rate after);
* CIF_c(t) = ∫_0^t h_c(s) S(s) ds;
* P(dead by t) = CIF_N(t) + ∫_0^t h_R(s) S(s) (1 - exp(-mu (t - s))) ds, mu the hazard of
  death after relapse.
"""

from __future__ import annotations

import math

from scipy.integrate import quad

YEAR = 365.25


def _hazard(rate1: float, rate2: float):
    return lambda s: (rate1 if s < YEAR else rate2) / YEAR


def _cumhaz(rate1: float, rate2: float):
    return lambda s: (rate1 * min(s, YEAR) + rate2 * max(s - YEAR, 0.0)) / YEAR


def probabilities_by_quadrature(params, t: float) -> dict[str, float]:
    """``relapse``, ``nrm``, ``lfs``, ``os`` at ``t`` days, by numerical integration."""
    h_r = _hazard(params.relapse_rate_year1, params.relapse_rate_later)
    h_n = _hazard(params.nrm_rate_year1, params.nrm_rate_later)
    big_r = _cumhaz(params.relapse_rate_year1, params.relapse_rate_later)
    big_n = _cumhaz(params.nrm_rate_year1, params.nrm_rate_later)
    mu = params.death_after_relapse_rate / YEAR

    def surv(s):
        return math.exp(-big_r(s) - big_n(s))

    pts = [YEAR] if t > YEAR else None
    opts = {"epsabs": 1e-13, "epsrel": 1e-12, "limit": 200, "points": pts}
    relapse = quad(lambda s: h_r(s) * surv(s), 0, t, **opts)[0]
    nrm = quad(lambda s: h_n(s) * surv(s), 0, t, **opts)[0]
    dead_after = quad(lambda s: h_r(s) * surv(s) * (1 - math.exp(-mu * (t - s))), 0, t, **opts)[0]
    return {"relapse": relapse, "nrm": nrm, "lfs": surv(t), "os": 1 - nrm - dead_after}

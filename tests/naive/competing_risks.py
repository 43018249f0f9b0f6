"""Slow, obvious references for the competing-risk code (pure Python loops, no numba).

Written from the textbook formulas, not from the fast implementation:

* :func:`aalen_johansen` — F_c(t) = sum_{s <= t} S(s-) d_c(s) / n(s), with S the overall
  Kaplan-Meier survival, evaluated time by time.
* :func:`cuminc_variance` — Gray's delta-method variance in its closed double-sum form
  v(t) = sum_{s <= t} S(s-)^2 / n(s)^2 * [ d_c(s) k_c(s) (1 + (F(s) - F(t)) / S(s))^2
                                          + d_o(s) k_o(s) ((F(s) - F(t)) / S(s))^2 ],
  k(s) = 1 - (d(s) - 1) / (n(s) - 1) the tie correction (cmprsk's convention; where
  S(s) = 0 the cause term is d_c k_c and the other-cause term is dropped).
* :func:`fine_gray_pieces` — the Fine-Gray weighted likelihood, score, information and
  robust "meat" built from explicit per-patient weights w_j(t) and explicit sums.
"""

from __future__ import annotations

import numpy as np


def _distinct(time):
    return sorted(set(float(x) for x in time))


def aalen_johansen(time, event, cause):
    """Jump times of ``cause`` and the CIF right after each, by direct loops."""
    times = _distinct(time)
    surv = 1.0
    f = 0.0
    out_t, out_f = [], []
    for s in times:
        n = sum(1 for x in time if x >= s)
        dc = sum(1 for x, e in zip(time, event) if x == s and e == cause)
        d = sum(1 for x, e in zip(time, event) if x == s and e > 0)
        if dc:
            f += surv * dc / n
            out_t.append(s)
            out_f.append(f)
        if d:
            surv *= (n - d) / n
    return np.array(out_t), np.array(out_f)


def cuminc_variance(time, event, cause):
    """cmprsk's variance at each jump time of ``cause`` (closed double-sum form)."""
    times = _distinct(time)
    rows = []  # (s, n, d_c, d_o, S(s-), S(s), F(s))
    surv = 1.0
    f = 0.0
    for s in times:
        n = sum(1 for x in time if x >= s)
        dc = sum(1 for x, e in zip(time, event) if x == s and e == cause)
        do = sum(1 for x, e in zip(time, event) if x == s and e > 0 and e != cause)
        if dc + do == 0:
            continue
        s_before = surv
        f += s_before * dc / n
        surv = s_before * (n - dc - do) / n
        rows.append((s, n, dc, do, s_before, surv, f))
    out = []
    for j, (tj, _, dcj, _, _, _, fj) in enumerate(rows):
        if dcj == 0:
            continue
        v = 0.0
        for s, n, dc, do, sb, sa, fs in rows[: j + 1]:
            if dc:
                k = 1.0 if dc == 1 else 1.0 - (dc - 1.0) / (n - 1.0)
                factor = 1.0 + (fs - fj) / sa if sa > 0 else 1.0
                v += sb * sb * dc * k / (n * n) * factor * factor
            if do and sa > 0:
                k = 1.0 if do == 1 else 1.0 - (do - 1.0) / (n - 1.0)
                factor = (fs - fj) / sa
                v += sb * sb * do * k / (n * n) * factor * factor
        out.append(v)
    return np.array(out)


def censoring_km_before(time, ici):
    """G(t_i-) for every patient: KM of censoring (ici == 0) just before t_i."""
    times = _distinct(time)
    g = {}
    value = 1.0
    for s in times:
        g[s] = value
        n = sum(1 for x in time if x >= s)
        c = sum(1 for x, e in zip(time, ici) if x == s and e == 0)
        value *= 1.0 - c / n
    return np.array([g[float(x)] for x in time])


def fine_gray_pieces(time, ici, x, b):
    """(minus log pseudo-likelihood, score, information, robust meat) by explicit sums.

    ``ici``: 1 failure of interest, 2 competing failure, 0 censored. Times must be > 0
    where censoring happens at 0 is excluded (the weight convention at t = 0 differs).
    """
    time = np.asarray(time, float)
    ici = np.asarray(ici)
    x = np.asarray(x, float)
    n, p = x.shape
    g = censoring_km_before(time, ici)
    e = np.exp(x @ b)
    taus = sorted(set(float(t) for t, c in zip(time, ici) if c == 1))

    def weights(tau):
        w = np.zeros(n)
        gt = g[np.flatnonzero(time == tau)[0]]
        for j in range(n):
            if time[j] >= tau:
                w[j] = e[j]
            elif ici[j] == 2:
                w[j] = e[j] * gt / g[j]
        return w

    lik = 0.0
    score = np.zeros(p)
    info = np.zeros((p, p))
    s0s, xbars, ws = {}, {}, {}
    for tau in taus:
        w = weights(tau)
        s0 = w.sum()
        xbar = (w[:, None] * x).sum(axis=0) / s0
        failing = np.flatnonzero((time == tau) & (ici == 1))
        d = failing.size
        lik += -float(sum(x[i] @ b for i in failing)) + d * np.log(s0)
        score += -x[failing].sum(axis=0) + d * xbar
        centred = x - xbar
        info += d * (w[:, None, None] * centred[:, :, None] * centred[:, None, :]).sum(axis=0) / s0
        s0s[tau], xbars[tau], ws[tau] = s0, xbar, w
    # eta_i: dN_i part minus the compensator sum over failures
    eta = np.zeros((n, p))
    for i in range(n):
        if ici[i] == 1:
            eta[i] += x[i] - xbars[float(time[i])]
        for tau in taus:
            d = int(np.sum((time == tau) & (ici == 1)))
            wi = ws[tau][i]
            if wi:
                eta[i] -= d * wi * (x[i] - xbars[tau]) / s0s[tau]
    # psi_i: censoring martingale integral of q(u) / Y(u)
    psi = np.zeros((n, p))
    cens_times = sorted(set(float(t) for t, c in zip(time, ici) if c == 0))
    q = {}
    for u in cens_times:
        qu = np.zeros(p)
        for tau in taus:
            if tau < u:
                continue
            d = int(np.sum((time == tau) & (ici == 1)))
            gt = g[np.flatnonzero(time == tau)[0]]
            for j in range(n):
                if ici[j] == 2 and time[j] < u:
                    wj = e[j] * gt / g[j]
                    qu += d * wj * (x[j] - xbars[tau]) / s0s[tau]
        q[u] = qu
    for i in range(n):
        for u in cens_times:
            if u > time[i]:
                break
            y = np.sum(time >= u)
            c = np.sum((time == u) & (ici == 0))
            psi[i] -= c * q[u] / y**2
            if ici[i] == 0 and time[i] == u:
                psi[i] += q[u] / y
    r = eta + psi
    return lik, score, info, r.T @ r

"""Slow, obvious references for the survival statistics, and the stored R output.

``load_r_survival()`` reads ``tests/outcomes/reference/survival.json`` (written by
``survival.R``); JSON ``null`` becomes NaN and ``"Infinity"`` becomes inf.
"""

from __future__ import annotations

import itertools
import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

REFERENCE = Path(__file__).resolve().parent.parent / "outcomes" / "reference"


def _fix(value):
    if isinstance(value, dict):
        return {k: _fix(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(v, (int, float, type(None), str)) for v in value) and any(
            isinstance(v, (int, float)) for v in value
        ):
            return np.array([_num(v) for v in value], dtype=float)
        if value and all(v is None for v in value):
            return np.full(len(value), np.nan)
        return [_fix(v) for v in value]
    return value


def _num(v):
    if v is None:
        return np.nan
    if v == "Infinity":
        return np.inf
    if v == "-Infinity":
        return -np.inf
    return float(v)


@lru_cache(maxsize=None)
def load_r_survival() -> dict:
    """The R reference (inputs and results), with numeric lists as float arrays."""
    with open(REFERENCE / "survival.json", encoding="utf-8") as fh:
        return _fix(json.load(fh))


def naive_km(time, status):
    """Product-limit estimate by definition, one distinct time at a time."""
    time = list(map(float, time))
    status = list(map(int, status))
    out = []
    s = 1.0
    g = 0.0
    for u in sorted(set(time)):
        n = sum(1 for t in time if t >= u)
        d = sum(1 for t, e in zip(time, status) if t == u and e == 1)
        if d:
            s *= 1 - d / n
            g = g + d / (n * (n - d)) if n > d else math.inf
        out.append((u, n, d, s, s * math.sqrt(g) if math.isfinite(g) else math.nan))
    return out


def naive_logrank(time, status, group, rho=0.0):
    """(O - E)' V^- (O - E) over the distinct event times, Fleming–Harrington S(t-)^rho weights."""
    time = np.asarray(time, float)
    status = np.asarray(status, int)
    labels = sorted(set(group))
    g = np.array([labels.index(x) for x in group])
    k = len(labels)
    o_e = np.zeros(k)
    v = np.zeros((k, k))
    s_left = 1.0
    for u in np.unique(time[status == 1]):
        at = time >= u
        n = at.sum()
        d = ((time == u) & (status == 1)).sum()
        w = s_left**rho
        for a in range(k):
            na = (at & (g == a)).sum()
            da = ((time == u) & (status == 1) & (g == a)).sum()
            o_e[a] += w * (da - d * na / n)
            for b in range(k):
                nb = (at & (g == b)).sum()
                cov = (na * (a == b) / n - na * nb / n**2) * d * (n - d) / (n - 1) if n > 1 else 0.0
                v[a, b] += w * w * cov
        s_left *= 1 - d / n
    stat = o_e[:-1] @ np.linalg.solve(v[:-1, :-1], o_e[:-1])
    return float(stat)


def naive_cox_loglik(beta, start, stop, event, x, ties="efron"):
    """Partial log-likelihood by definition: loop over event times, sum over the risk set."""
    beta = np.asarray(beta, float)
    x = np.asarray(x, float).reshape(len(stop), -1)
    eta = x @ beta
    ll = 0.0
    for u in np.unique(stop[event == 1]):
        risk = (start < u) & (stop >= u)
        dead = (stop == u) & (event == 1)
        d = int(dead.sum())
        r = np.exp(eta[risk]).sum()
        dsum = np.exp(eta[dead]).sum()
        ll += eta[dead].sum()
        for j in range(d):
            frac = j / d if ties == "efron" else 0.0
            ll -= math.log(r - frac * dsum)
    return ll


def naive_fisher_p(table) -> float:
    """Fisher's exact P for an R×C table by enumerating every table with the same margins."""
    table = np.asarray(table, dtype=int)
    rows = table.sum(axis=1)
    cols = table.sum(axis=0)
    n = int(table.sum())

    def logp(t):
        return (
            sum(math.lgamma(r + 1) for r in rows)
            + sum(math.lgamma(c + 1) for c in cols)
            - math.lgamma(n + 1)
            - sum(math.lgamma(v + 1) for v in np.ravel(t))
        )

    p_obs = logp(table)
    total = 0.0
    nr, nc = table.shape

    def fill(i, remaining_cols, acc):
        nonlocal total
        if i == nr - 1:
            t = np.array(acc + [list(remaining_cols)])
            lp = logp(t)
            if lp <= p_obs + 1e-7 * abs(p_obs) + 1e-12:
                total += math.exp(lp)
            return
        r = rows[i]
        for combo in itertools.product(*[range(min(c, r) + 1) for c in remaining_cols[:-1]]):
            last = r - sum(combo)
            if 0 <= last <= remaining_cols[-1]:
                row = list(combo) + [last]
                fill(i + 1, [c - v for c, v in zip(remaining_cols, row)], acc + [row])

    fill(0, list(cols), [])
    return total

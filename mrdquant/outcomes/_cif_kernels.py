"""numba kernels for competing-risk estimates and Gray's test.

The kernels run over *blocks*: the distinct follow-up times of one group (or one stratum),
in increasing order, each with its counts of censorings and of failures by cause. The
numpy wrappers in :mod:`.cif` and :mod:`.gray` sort, tie and count; the kernels only do the
recursions, so ties are handled exactly (all failures at a time enter together, censorings
at a failure time stay in that risk set) and nothing is jittered.

Recursions follow Gray's published algorithms (Gray 1988, Ann Stat 16:1141; the
``cuminc`` variance of cmprsk).
"""

from __future__ import annotations

import numpy as np

from .._numba import njit as _njit

__all__ = ["aalen_johansen", "gray_score"]


@_njit
def aalen_johansen(starts, n_risk, d, f, v):  # pragma: no cover - compiled
    """Aalen-Johansen CIF and its variance for every (segment, cause).

    Parameters
    ----------
    starts : int64 (n_seg + 1,)
        Block offsets of each segment (group); segment s owns blocks
        ``starts[s]:starts[s+1]``.
    n_risk : int64 (m,)
        Number at risk at each block time (follow-up >= that time, within its segment).
    d : int64 (m, k)
        Failures from cause ``c`` (column ``c``) at each block time.
    f, v : float64 (m, k), output
        CIF right after each block time and its variance. The variance changes only at
        times where the cause has failures (as ``cmprsk::cuminc`` reports it).
    """
    n_seg = starts.shape[0] - 1
    k = d.shape[1]
    for s in range(n_seg):
        for c in range(k):
            fk = 1.0
            v1 = 0.0
            v2 = 0.0
            v3 = 0.0
            fcur = 0.0
            vcur = 0.0
            for b in range(starts[s], starts[s + 1]):
                nd1 = d[b, c]
                nd = 0
                for cc in range(k):
                    nd += d[b, cc]
                nd2 = nd - nd1
                if nd > 0:
                    rs = float(n_risk[b])
                    fkn = fk * (rs - nd) / rs
                    if nd1 > 0:
                        fcur = fcur + fk * nd1 / rs
                    if nd2 > 0 and fkn > 0:
                        t5 = 1.0
                        if nd2 > 1:
                            t5 = 1.0 - (nd2 - 1.0) / (rs - 1.0)
                        t6 = fk * fk * t5 * nd2 / (rs * rs)
                        t3 = 1.0 / fkn
                        t4 = fcur / fkn
                        v1 += t4 * t4 * t6
                        v2 += t3 * t4 * t6
                        v3 += t3 * t3 * t6
                    if nd1 > 0:
                        t5 = 1.0
                        if nd1 > 1:
                            t5 = 1.0 - (nd1 - 1.0) / (rs - 1.0)
                        t6 = fk * fk * t5 * nd1 / (rs * rs)
                        t3 = 0.0
                        if fkn > 0:
                            t3 = 1.0 / fkn
                        t4 = 1.0 + t3 * fcur
                        v1 += t4 * t4 * t6
                        v2 += t3 * t4 * t6
                        v3 += t3 * t3 * t6
                        vcur = v1 + fcur * fcur * v3 - 2.0 * fcur * v2
                    fk = fkn
                f[b, c] = fcur
                v[b, c] = vcur


@_njit
def gray_score(n_risk, d1, d2, rho, s_out, v_out, wk_a, wk_c, wk_v2):  # pragma: no cover
    """Add one stratum's score and variance of Gray's test to ``s_out``/``v_out``.

    Parameters
    ----------
    n_risk : int64 (m, g)
        Number at risk per group at each distinct time of the stratum.
    d1, d2 : int64 (m, g)
        Failures from the cause of interest / from any other cause.
    rho : float
        Power of the weight ``(1 - F(t-))**rho``.
    s_out : float64 (g - 1,), in/out
    v_out : float64 (g - 1, g - 1), in/out (lower triangle used, then symmetrised)
    wk_a, wk_c : float64 (g, g) work arrays; wk_v2 : float64 (g - 1, g) work array
    """
    m = n_risk.shape[0]
    ng = n_risk.shape[1]
    ng1 = ng - 1
    f1m = np.zeros(ng)
    f1 = np.zeros(ng)
    skmm = np.ones(ng)
    skm = np.ones(ng)
    v3 = np.zeros(ng)
    a = wk_a
    c = wk_c
    v2 = wk_v2
    s = np.zeros(ng1)
    v = np.zeros((ng1, ng1))
    for i in range(ng):
        for j in range(ng):
            c[i, j] = 0.0
            a[i, j] = 0.0
    for i in range(ng1):
        for j in range(ng):
            v2[i, j] = 0.0
    fm = 0.0
    f = 0.0
    for b in range(m):
        nd1 = 0
        nd2 = 0
        for i in range(ng):
            nd1 += d1[b, i]
            nd2 += d2[b, i]
        if nd1 == 0 and nd2 == 0:
            continue
        tr = 0.0
        tq = 0.0
        for i in range(ng):
            rs = n_risk[b, i]
            if rs <= 0:
                continue
            td = d1[b, i] + d2[b, i]
            skm[i] = skmm[i] * (rs - td) / rs
            f1[i] = f1m[i] + (skmm[i] * d1[b, i]) / rs
            tr += rs / skmm[i]
            tq += rs * (1.0 - f1m[i]) / skmm[i]
        f = fm + nd1 / tr
        fb = (1.0 - fm) ** rho
        for i in range(ng):
            for j in range(i, ng):
                a[i, j] = 0.0
            if n_risk[b, i] <= 0:
                continue
            t1 = n_risk[b, i] / skmm[i]
            a[i, i] = fb * t1 * (1.0 - t1 / tr)
            if a[i, i] != 0.0:
                c[i, i] += a[i, i] * nd1 / (tr * (1.0 - fm))
            for j in range(i + 1, ng):
                if n_risk[b, j] <= 0:
                    continue
                a[i, j] = -fb * t1 * n_risk[b, j] / (skmm[j] * tr)
                if a[i, j] != 0.0:
                    c[i, j] += a[i, j] * nd1 / (tr * (1.0 - fm))
        for i in range(1, ng):
            for j in range(i):
                a[i, j] = a[j, i]
                c[i, j] = c[j, i]
        for i in range(ng1):
            if n_risk[b, i] <= 0:
                continue
            s[i] += fb * (d1[b, i] - nd1 * n_risk[b, i] * (1.0 - f1m[i]) / (skmm[i] * tq))
        if nd1 > 0:
            for k in range(ng):
                if n_risk[b, k] <= 0:
                    continue
                t4 = 1.0
                if skm[k] > 0:
                    t4 = 1.0 - (1.0 - f) / skm[k]
                t5 = 1.0
                if nd1 > 1:
                    t5 = 1.0 - (nd1 - 1) / (tr * skmm[k] - 1.0)
                t3 = t5 * skmm[k] * nd1 / (tr * n_risk[b, k])
                v3[k] += t4 * t4 * t3
                for i in range(ng1):
                    t1 = a[i, k] - t4 * c[i, k]
                    v2[i, k] += t1 * t4 * t3
                    for j in range(i + 1):
                        t2 = a[j, k] - t4 * c[j, k]
                        v[i, j] += t1 * t2 * t3
        if nd2 > 0:
            for k in range(ng):
                if skm[k] <= 0 or d2[b, k] <= 0:
                    continue
                t4 = (1.0 - f) / skm[k]
                t5 = 1.0
                if d2[b, k] > 1:
                    t5 = 1.0 - (d2[b, k] - 1.0) / (n_risk[b, k] - 1.0)
                t6 = float(n_risk[b, k])
                t3 = t5 * ((skmm[k] ** 2) * d2[b, k]) / (t6 ** 2)
                v3[k] += t4 * t4 * t3
                for i in range(ng1):
                    t1 = t4 * c[i, k]
                    v2[i, k] -= t1 * t4 * t3
                    for j in range(i + 1):
                        t2 = t4 * c[j, k]
                        v[i, j] += t1 * t2 * t3
        fm = f
        for i in range(ng):
            f1m[i] = f1[i]
            skmm[i] = skm[i]
    for i in range(ng1):
        for j in range(i + 1):
            acc = v[i, j]
            for k in range(ng):
                acc += c[i, k] * c[j, k] * v3[k]
                acc += c[i, k] * v2[j, k]
                acc += c[j, k] * v2[i, k]
            v[i, j] = acc
    for i in range(ng1):
        s_out[i] += s[i]
        for j in range(i + 1):
            v_out[i, j] += v[i, j]
            if j != i:
                v_out[j, i] += v[i, j]

"""Compiled network algorithm for Fisher's exact test on R×C tables.

The probability of a table with fixed margins is ``exp(const - cost)`` with
``cost = sum log(x_ij!)``; a table counts towards the two-sided P when its cost is at least
the threshold ``T`` (probability no larger than the observed one, with a relative tolerance).

The table is built column by column (Mehta & Patel's network). A node of stage ``k`` is the
multiset of row totals still to fill once columns ``0..k-1`` are placed (rows are
exchangeable, so the totals are kept sorted and equal multisets are one node). Each node
carries its distinct *past* costs (the cost of the columns already placed), each with a
weight: the number of partial tables reaching the node with that past (up to the rounding
of equal costs). For every (node, past) pair:

* if ``past + min completion cost >= T`` every completion counts: the node's whole mass,
  ``n! / (prod rem! prod remaining cols!)``, is added in closed form;
* if ``past + max completion cost < T`` no completion counts and the pair is dropped;
* otherwise the next column is enumerated into the nodes of the next stage.

Completion bounds come from relaxations (each row alone, each column alone, and the
continuous independence table) and are exact for the last two columns (a separable convex
cost: greedy minimum, vertex maximum). A node's pasts are sorted, so for each child the pasts
that count entirely, and those that cannot count, are two ranges found by binary search and
the first is added through suffix sums; only the pasts in between are carried. At the last
two columns the completions of a node are enumerated once and bucketed by cost, so each past
reaching the node is settled with one bucket lookup.

Kernels return a status besides the sum: 0 done, 1 the partial tables of a stage exceeded
``max_entries``, 2 the work exceeded ``max_steps``.
"""

from __future__ import annotations

import numpy as np

from .._numba import njit

_EMPTY = -1


@njit
def fill_bounds(total, caps, logfact):
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
def margin_bounds(rem, sub, logfact):
    """Lower and upper bound of sum log(x!) over tables with row sums ``rem`` and column
    sums ``sub`` (each row alone, each column alone, and the continuous relaxation)."""
    lo_r = 0.0
    hi_r = 0.0
    for i in range(rem.size):
        a, b = fill_bounds(rem[i], sub, logfact)
        lo_r += a
        hi_r += b
    lo_c = 0.0
    hi_c = 0.0
    for j in range(sub.size):
        a, b = fill_bounds(sub[j], rem, logfact)
        lo_c += a
        hi_c += b
    # log(x!) >= x log x - x for integers x >= 0, and sum(x log x - x) over tables with
    # these margins is smallest at the independence table x = r c / n
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
    """log of the sum of exp(-cost) over all completions: n! / (prod rem! prod cols[j0:]!)."""
    n = 0
    out = 0.0
    for i in range(rem.size):
        out -= logfact[rem[i]]
        n += rem[i]
    for j in range(j0, cols.size):
        out -= logfact[cols[j]]
    return out + logfact[n]


@njit
def _first_alloc(rem, suf, t, x):
    """First allocation (lexicographic) of ``t`` into ``x`` with 0 <= x <= rem."""
    r = rem.size
    left = t
    for i in range(r - 1):
        v = left - suf[i]
        if v < 0:
            v = 0
        x[i] = v
        left -= v
    x[r - 1] = left


@njit
def _next_alloc(rem, suf, t, x):
    """Advance ``x`` to the next allocation of ``t`` (0 <= x <= rem); False when done."""
    r = rem.size
    tail = x[r - 1]
    i = r - 2
    while i >= 0:
        if x[i] < rem[i] and tail >= 1:
            x[i] += 1
            left = tail - 1
            for j in range(i + 1, r - 1):
                v = left - suf[j]
                if v < 0:
                    v = 0
                x[j] = v
                left -= v
            x[r - 1] = left
            return True
        tail += x[i]
        i -= 1
    return False


@njit
def _suffix(rem, suf):
    r = rem.size
    s = 0
    for i in range(r - 1, -1, -1):
        suf[i] = s
        s += rem[i]


_M40 = (1 << 40) - 1  # hashes stay below 2**60 before masking: no integer overflow


@njit
def _mix(h):
    h ^= h >> 21
    h = (h * 40503) & _M40
    h ^= h >> 17
    return h


@njit
def _hash_vec(v):
    h = 0
    for i in range(v.size):
        h = ((h * 1000003) ^ v[i]) & _M40
    return _mix(h)


@njit
def _hash_pair(a, b):
    return _mix(((a * 1000003) ^ (b & _M40)) & _M40)


@njit
def _find_node(slots, mask, nrem, nn, y):
    """Index of node ``y`` in the table, or -(slot + 1) for a free slot."""
    r = y.size
    s = _hash_vec(y) & mask
    while True:
        idx = slots[s]
        if idx == _EMPTY:
            return -(s + 1)
        same = True
        for i in range(r):
            if nrem[idx, i] != y[i]:
                same = False
                break
        if same:
            return idx
        s = (s + 1) & mask


@njit
def _rehash_nodes(nrem, nn, cap_slots):
    slots = np.full(cap_slots, _EMPTY, dtype=np.int64)
    mask = cap_slots - 1
    for idx in range(nn):
        s = _hash_vec(nrem[idx]) & mask
        while slots[s] != _EMPTY:
            s = (s + 1) & mask
        slots[s] = idx
    return slots


@njit
def _rehash_entries(e_node, e_q, ne, cap_slots):
    slots = np.full(cap_slots, _EMPTY, dtype=np.int64)
    mask = cap_slots - 1
    for idx in range(ne):
        s = _hash_pair(e_node[idx], e_q[idx]) & mask
        while slots[s] != _EMPTY:
            s = (s + 1) & mask
        slots[s] = idx
    return slots


@njit
def _grow_int(a, n):
    b = np.empty(n, dtype=a.dtype)
    b[: a.size] = a
    return b


@njit
def _grow_f(a, n):
    b = np.empty(n, dtype=np.float64)
    b[: a.size] = a
    return b


@njit
def _grow_rows(a, n):
    b = np.empty((n, a.shape[1]), dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


@njit
def _sort_small(y):
    for i in range(1, y.size):
        v = y[i]
        j = i - 1
        while j >= 0 and y[j] > v:
            y[j + 1] = y[j]
            j -= 1
        y[j + 1] = v


@njit
def _bisect(a, lo, hi, v):
    """First index i in [lo, hi) with a[i] >= v (hi when none); a[lo:hi] sorted."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def two_column_bounds(rem, t, logfact):
    """Exact smallest and largest cost sum_i log(x_i!) + log((rem_i - x_i)!) over integer
    0 <= x <= rem with sum(x) = t (completions by two columns).

    The cost is separable and convex in x: the minimum is reached by adding units one by one
    where the increment log((x+1) / (rem - x)) is smallest; the maximum lies at a vertex of
    the feasible polytope (every x_i at 0 or rem_i except at most one), all of which are
    tried for up to 10 rows (otherwise ``inf`` is returned for it).
    """
    r = rem.size
    x = np.zeros(r, dtype=np.int64)
    for _ in range(t):
        best = -1
        bd = np.inf
        for i in range(r):
            if x[i] < rem[i]:
                d = logfact[x[i] + 1] - logfact[x[i]] + logfact[rem[i] - x[i] - 1] - logfact[rem[i] - x[i]]
                if d < bd:
                    bd = d
                    best = i
        x[best] += 1
    lo = 0.0
    for i in range(r):
        lo += logfact[x[i]] + logfact[rem[i] - x[i]]
    if r > 10:
        return lo, np.inf
    hi = -np.inf
    for part in range(r):
        for mask in range(1 << r):
            if mask & (1 << part):
                continue
            full = 0
            f = 0.0
            for i in range(r):
                if i != part:
                    if mask & (1 << i):
                        full += rem[i]
                        f += logfact[rem[i]]
                    else:
                        f += logfact[rem[i]]
            v = t - full
            if v < 0 or v > rem[part]:
                continue
            f += logfact[v] + logfact[rem[part] - v]
            if f > hi:
                hi = f
    return lo, hi


@njit
def _completions(rem, t, logfact, x, suf, fbuf):
    """Costs of every completion by two columns (the first with total ``t``, the second
    taking the rest of ``rem``); returns (count, buffer holding them first)."""
    r = rem.size
    _suffix(rem, suf)
    _first_alloc(rem, suf, t, x)
    m = 0
    while True:
        f = 0.0
        for i in range(r):
            f += logfact[x[i]] + logfact[rem[i] - x[i]]
        if m == fbuf.size:
            fbuf = _grow_f(fbuf, 2 * m)
        fbuf[m] = f
        m += 1
        if not _next_alloc(rem, suf, t, x):
            break
    return m, fbuf


@njit
def network_sum(rows, cols, logfact, threshold, const, quantum, max_entries, max_steps):
    """Total probability of the tables with cost >= ``threshold``.

    Parameters
    ----------
    rows : int64 array (r,), sorted row totals
    cols : int64 array (c,), column totals in processing order (c >= 2)
    logfact : float64 array, log(k!) for k = 0..n
    threshold : float, cost threshold T
    const : float, log(prod rows! prod cols! / n!)
    quantum : float, pasts of a node whose costs round to the same multiple of ``quantum``
        are merged (their weights add exactly; only the past used for decisions is shared)
    max_entries : int, largest number of (node, past) pairs of a stage, and of stored
        last-two-column costs
    max_steps : int, largest amount of work (node-to-node transitions and pasts carried,
        a carried past counting 4)

    Returns
    -------
    (float, int, int, int)
        P (before clipping at 1), status (0 done, 1 max_entries, 2 max_steps), the largest
        number of stored pairs or costs, and the work done.
    """
    r = rows.size
    c = cols.size
    slack = 1e-9 * (1.0 + abs(threshold))
    t_all = threshold + slack  # every completion counts when past + lower bound >= t_all
    t_none = threshold - slack  # none counts when past + upper bound < t_none
    total = 0.0
    steps = 0
    peak = 1
    x = np.empty(r, dtype=np.int64)
    y = np.empty(r, dtype=np.int64)
    suf = np.empty(r, dtype=np.int64)
    x2 = np.empty(r, dtype=np.int64)
    suf2 = np.empty(r, dtype=np.int64)
    fbuf = np.empty(1024)
    t2 = cols[c - 2]

    if c == 2:
        m, fbuf = _completions(rows, t2, logfact, x2, suf2, fbuf)
        for j in range(m):
            if fbuf[j] >= threshold:
                total += np.exp(const - fbuf[j])
        return total, 0, m, m

    # stage c-2 nodes: exact smallest / largest completion cost and log mass; built when
    # needed, the completion costs bucketed by value (f_nb[i] equal-width buckets from the
    # smallest cost f_f0[i], width f_wd[i]): bucket b holds pf[pbo[f_bo[i] + b] ..
    # pbo[f_bo[i] + b + 1]] with pe = exp(f0 - cost), and pbt[f_bo[i] + b] is the sum of pe
    # over buckets b and above
    f_cap = 256
    frem = np.empty((f_cap, r), dtype=np.int64)
    fn = 0
    fslots = np.full(2 * f_cap, _EMPTY, dtype=np.int64)
    f_lo = np.empty(f_cap)
    f_hi = np.empty(f_cap)
    f_lm = np.empty(f_cap)
    f_bo = np.empty(f_cap, dtype=np.int64)
    f_nb = np.empty(f_cap, dtype=np.int64)
    f_f0 = np.empty(f_cap)
    f_wd = np.empty(f_cap)
    pool_n = 0
    pool_cap = 4096
    pf = np.empty(pool_cap)
    pe = np.empty(pool_cap)
    bpool_n = 0
    bpool_cap = 4096
    pbo = np.empty(bpool_cap, dtype=np.int64)
    pbt = np.empty(bpool_cap)
    bkt = np.empty(1024, dtype=np.int64)

    # current stage: node margins and bounds; entries grouped by node,
    # cur_start[node] .. cur_start[node + 1]
    cur_rem = np.empty((1, r), dtype=np.int64)
    cur_rem[0, :] = rows
    cur_lo = np.empty(1)
    cur_hi = np.empty(1)
    cur_lm = np.empty(1)
    lo0, hi0 = margin_bounds(rows, cols, logfact)
    cur_lo[0] = lo0
    cur_hi[0] = hi0
    cur_lm[0] = _log_mass(rows, cols, 0, logfact)
    cur_nn = 1
    cur_start = np.zeros(2, dtype=np.int64)
    cur_start[1] = 1
    cur_val = np.zeros(1)
    cur_w = np.ones(1)
    sv = np.empty(16)
    sw = np.empty(16)
    ss = np.empty(17)

    for k in range(c - 2):
        last = k == c - 3
        n_cap = 1024
        nrem = np.empty((n_cap, r), dtype=np.int64)
        n_lo = np.empty(n_cap)
        n_hi = np.empty(n_cap)
        n_lm = np.empty(n_cap)
        nn = 0
        nslots = np.full(2 * n_cap, _EMPTY, dtype=np.int64)
        e_cap = 4096
        e_node = np.empty(e_cap, dtype=np.int64)
        e_q = np.empty(e_cap, dtype=np.int64)
        e_val = np.empty(e_cap)
        e_w = np.empty(e_cap)
        ne = 0
        eslots = np.full(2 * e_cap, _EMPTY, dtype=np.int64)
        t = cols[k]
        sub_next = cols[k + 1:]
        for node in range(cur_nn):
            a0 = cur_start[node]
            na = cur_start[node + 1] - a0
            if na == 0:
                continue
            rem = cur_rem[node]
            # the node's pasts in increasing order
            if na + 1 > ss.size:
                sv = np.empty(2 * na + 1)
                sw = np.empty(2 * na + 1)
                ss = np.empty(2 * na + 2)
            order = np.argsort(cur_val[a0:a0 + na])
            for i in range(na):
                sv[i] = cur_val[a0 + order[i]]
                sw[i] = cur_w[a0 + order[i]]
            u1 = np.searchsorted(sv[:na], t_all - cur_lo[node])
            u0 = np.searchsorted(sv[:na], t_none - cur_hi[node])
            for i in range(u1, na):
                total += sw[i] * np.exp(const - sv[i] + cur_lm[node])
            if u0 >= u1:
                continue
            # suffix sums of the undecided pasts [u0, u1), relative to the smallest one
            pm = sv[u0]
            ss[u1] = 0.0
            for i in range(u1 - 1, u0 - 1, -1):
                ss[i] = ss[i + 1] + sw[i] * np.exp(pm - sv[i])
            _suffix(rem, suf)
            _first_alloc(rem, suf, t, x)
            while True:
                g = 0.0
                for i in range(r):
                    g += logfact[x[i]]
                    y[i] = rem[i] - x[i]
                _sort_small(y)
                if last:
                    fmask = fslots.size - 1
                    cid = _find_node(fslots, fmask, frem, fn, y)
                    if cid < 0:
                        if fn == f_cap:
                            f_cap *= 2
                            frem = _grow_rows(frem, f_cap)
                            f_lo = _grow_f(f_lo, f_cap)
                            f_hi = _grow_f(f_hi, f_cap)
                            f_lm = _grow_f(f_lm, f_cap)
                            f_bo = _grow_int(f_bo, f_cap)
                            f_nb = _grow_int(f_nb, f_cap)
                            f_f0 = _grow_f(f_f0, f_cap)
                            f_wd = _grow_f(f_wd, f_cap)
                        if 2 * (fn + 1) > fslots.size:
                            fslots = _rehash_nodes(frem, fn, 2 * fslots.size)
                            fmask = fslots.size - 1
                            cid = _find_node(fslots, fmask, frem, fn, y)
                        fslots[-cid - 1] = fn
                        frem[fn, :] = y
                        lo2, hi2 = two_column_bounds(y, t2, logfact)
                        f_lo[fn] = lo2
                        f_hi[fn] = hi2
                        f_lm[fn] = _log_mass(y, cols, c - 2, logfact)
                        f_bo[fn] = -1
                        cid = fn
                        fn += 1
                        steps += r
                    clo = f_lo[cid]
                    chi = f_hi[cid]
                    clm = f_lm[cid]
                else:
                    mask = nslots.size - 1
                    cid = _find_node(nslots, mask, nrem, nn, y)
                    if cid < 0:
                        if nn == n_cap:
                            n_cap *= 2
                            nrem = _grow_rows(nrem, n_cap)
                            n_lo = _grow_f(n_lo, n_cap)
                            n_hi = _grow_f(n_hi, n_cap)
                            n_lm = _grow_f(n_lm, n_cap)
                        if 2 * (nn + 1) > nslots.size:
                            nslots = _rehash_nodes(nrem, nn, 2 * nslots.size)
                            mask = nslots.size - 1
                            cid = _find_node(nslots, mask, nrem, nn, y)
                        nslots[-cid - 1] = nn
                        nrem[nn, :] = y
                        lo2, hi2 = margin_bounds(y, sub_next, logfact)
                        n_lo[nn] = lo2
                        n_hi[nn] = hi2
                        n_lm[nn] = _log_mass(y, cols, k + 1, logfact)
                        cid = nn
                        nn += 1
                        steps += r
                    clo = n_lo[cid]
                    chi = n_hi[cid]
                    clm = n_lm[cid]
                # pasts that make every completion count, and those that make none count
                j_all = _bisect(sv, u0, u1, t_all - clo - g)
                j_none = _bisect(sv, u0, j_all, t_none - chi - g)
                if j_all < u1:
                    total += np.exp(const - g + clm - pm) * ss[j_all]
                steps += 1 + j_all - j_none
                if steps > max_steps:
                    return total, 2, peak, steps
                if last:
                    for i in range(j_none, j_all):
                        p = sv[i] + g
                        if f_bo[cid] < 0:
                            m, fbuf = _completions(y, t2, logfact, x2, suf2, fbuf)
                            f0 = fbuf[0]
                            f1 = fbuf[0]
                            for j in range(1, m):
                                if fbuf[j] < f0:
                                    f0 = fbuf[j]
                                if fbuf[j] > f1:
                                    f1 = fbuf[j]
                            nb = m
                            wd = (f1 - f0) / nb
                            if not wd > 0.0:
                                wd = 1.0
                            if pool_n + m > pool_cap or bpool_n + nb + 1 > bpool_cap:
                                if pool_n + m > max_entries:
                                    return total, 1, pool_n + m, steps
                                while pool_n + m > pool_cap:
                                    pool_cap *= 2
                                pf = _grow_f(pf, pool_cap)
                                pe = _grow_f(pe, pool_cap)
                                while bpool_n + nb + 1 > bpool_cap:
                                    bpool_cap *= 2
                                pbo = _grow_int(pbo, bpool_cap)
                                pbt = _grow_f(pbt, bpool_cap)
                            if m > bkt.size:
                                bkt = np.empty(2 * m, dtype=np.int64)
                            bo = bpool_n
                            for b2 in range(nb + 1):
                                pbo[bo + b2] = 0
                                pbt[bo + b2] = 0.0
                            for j in range(m):
                                bb = min(nb - 1, np.int64((fbuf[j] - f0) / wd))
                                bkt[j] = bb
                                pbo[bo + bb + 1] += 1
                            pbo[bo] = pool_n
                            for b2 in range(nb):
                                pbo[bo + b2 + 1] += pbo[bo + b2]
                            for j in range(m):
                                d = pbo[bo + bkt[j]]
                                pf[d] = fbuf[j]
                                ev = np.exp(f0 - fbuf[j])
                                pe[d] = ev
                                pbt[bo + bkt[j]] += ev
                                pbo[bo + bkt[j]] += 1
                            # pbo[bo + b] now ends bucket b: shift to starts
                            for b2 in range(nb, 0, -1):
                                pbo[bo + b2] = pbo[bo + b2 - 1]
                            pbo[bo] = pool_n
                            for b2 in range(nb - 1, -1, -1):
                                pbt[bo + b2] += pbt[bo + b2 + 1]
                            f_bo[cid] = bo
                            f_nb[cid] = nb
                            f_f0[cid] = f0
                            f_wd[cid] = wd
                            pool_n += m
                            bpool_n += nb + 1
                            steps += m
                            if pool_n > peak:
                                peak = pool_n
                        bo = f_bo[cid]
                        nb = f_nb[cid]
                        f0 = f_f0[cid]
                        tau = threshold - p
                        if tau <= f0:
                            acc = pbt[bo]
                        else:
                            z = (tau - f0) / f_wd[cid]
                            bb = nb - 1 if z >= nb - 1 else np.int64(z)
                            acc = pbt[bo + bb + 1]
                            for j in range(pbo[bo + bb], pbo[bo + bb + 1]):
                                if pf[j] >= tau:
                                    acc += pe[j]
                        total += sw[i] * np.exp(const - p - f0) * acc
                else:
                    # a carried past costs a hash insertion, several lookups' worth of work
                    steps += 3 * (j_all - j_none)
                    for i in range(j_none, j_all):
                        v = sv[i] + g
                        q = np.int64(np.floor(v / quantum + 0.5))
                        emask = eslots.size - 1
                        s = _hash_pair(cid, q) & emask
                        while True:
                            ei = eslots[s]
                            if ei == _EMPTY:
                                break
                            if e_node[ei] == cid and e_q[ei] == q:
                                break
                            s = (s + 1) & emask
                        if ei != _EMPTY:
                            e_w[ei] += sw[i] * np.exp(e_val[ei] - v)
                            continue
                        if ne == e_cap:
                            if ne >= max_entries:
                                return total, 1, ne, steps
                            e_cap *= 2
                            e_node = _grow_int(e_node, e_cap)
                            e_q = _grow_int(e_q, e_cap)
                            e_val = _grow_f(e_val, e_cap)
                            e_w = _grow_f(e_w, e_cap)
                        if 2 * (ne + 1) > eslots.size:
                            eslots = _rehash_entries(e_node, e_q, ne, 2 * eslots.size)
                            emask = eslots.size - 1
                            s = _hash_pair(cid, q) & emask
                            while eslots[s] != _EMPTY:
                                s = (s + 1) & emask
                        eslots[s] = ne
                        e_node[ne] = cid
                        e_q[ne] = q
                        e_val[ne] = v
                        e_w[ne] = sw[i]
                        ne += 1
                if not _next_alloc(rem, suf, t, x):
                    break
            if steps > max_steps:
                return total, 2, peak, steps
        if last:
            break
        if ne > peak:
            peak = ne
        # group the next stage's entries by node (counting sort)
        start = np.zeros(nn + 1, dtype=np.int64)
        for e in range(ne):
            start[e_node[e] + 1] += 1
        for i in range(nn):
            start[i + 1] += start[i]
        pos = start[:nn].copy()
        val = np.empty(ne)
        w = np.empty(ne)
        for e in range(ne):
            d = pos[e_node[e]]
            val[d] = e_val[e]
            w[d] = e_w[e]
            pos[e_node[e]] += 1
        cur_rem = nrem[:nn].copy()
        cur_lo = n_lo[:nn].copy()
        cur_hi = n_hi[:nn].copy()
        cur_lm = n_lm[:nn].copy()
        cur_nn = nn
        cur_start = start
        cur_val = val
        cur_w = w
    return total, 0, peak, steps

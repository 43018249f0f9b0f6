"""Slow, literal reference for the MRD timeline status (puih-style rules).

Works on a plain list of BM samples ``(day, mfc, wt1)`` already restricted to what counts,
with results ``"positive"``, ``"negative"``, ``"not evaluable"``/``""``. Written from the
definitions, by brute force over all pairs of samples, independently of
``mrdquant.calls.timeline``.
"""

from __future__ import annotations


def _informative(result: str) -> bool:
    return result in ("positive", "negative")


def naive_status(samples, *, window=14, consecutive="across"):
    """Return ``(status, first_positive_day, confirmed_day)``.

    samples : list of (day, mfc, wt1), sorted by day (ties keep their order)
    """
    n = len(samples)
    evaluable = [i for i in range(n) if _informative(samples[i][1]) or _informative(samples[i][2])]
    if not evaluable:
        return "not evaluable", None, None
    pos = [i for i in evaluable if "positive" in (samples[i][1], samples[i][2])]
    if not pos:
        return "negative", None, None
    first_day = samples[pos[0]][0]
    confirm_days = []
    for i in range(n):
        if samples[i][1] == "positive" and samples[i][2] == "positive":
            confirm_days.append(samples[i][0])
    if consecutive == "across":
        method_sets = [(1, 2)]
    else:
        method_sets = [(1,), (2,)]
    for cols in method_sets:
        for i in range(n):
            for j in range(i + 1, n):
                # i and j both informative for these columns, nothing informative between
                def info(k):
                    return any(_informative(samples[k][c]) for c in cols)

                def positive(k):
                    return any(samples[k][c] == "positive" for c in cols)

                if not (info(i) and info(j)):
                    continue
                if any(info(k) for k in range(i + 1, j)):
                    continue
                if positive(i) and positive(j):
                    gap = samples[j][0] - samples[i][0]
                    if window is None or gap <= window:
                        confirm_days.append(samples[j][0])
    if confirm_days:
        return "MRDco+", first_day, min(confirm_days)
    return "MRDsin+", first_day, None

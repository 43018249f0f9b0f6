"""Slow, obvious references for the qPCR code."""

from __future__ import annotations

import math


def ols_curve(log10_copies, ct):
    """Least-squares line Ct = slope*x + intercept by the textbook sums; returns slope, intercept, R²."""
    n = len(ct)
    sx = sum(log10_copies)
    sy = sum(ct)
    sxx = sum(x * x for x in log10_copies)
    sxy = sum(x * y for x, y in zip(log10_copies, ct))
    slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    intercept = (sy - slope * sx) / n
    mean_y = sy / n
    ss_tot = sum((y - mean_y) ** 2 for y in ct)
    ss_res = sum((y - (slope * x + intercept)) ** 2 for x, y in zip(log10_copies, ct))
    return slope, intercept, 1 - ss_res / ss_tot


def efficiency(slope):
    """E = 10^(-1/slope) - 1."""
    return 10 ** (-1 / slope) - 1


def results_section_cts(path):
    """(well position, target) -> Ct text, from a QuantStudio [Results] section, by plain splitting."""
    out = {}
    header = None
    in_results = False
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.rstrip("\r\n")
            if line.startswith("["):
                in_results = line.strip() == "[Results]"
                header = None
                continue
            if not in_results or not line.strip():
                continue
            cells = line.split("\t")
            if header is None:
                header = cells
                continue
            row = dict(zip(header, cells))
            if not row.get("Target Name") and not row.get("Sample Name"):
                continue
            out[(row["Well Position"], row["Target Name"])] = row.get("CT", "")
    return out


def ct_or_nan(text):
    try:
        return float(text)
    except ValueError:
        return math.nan

"""Slow, obvious references for the gate kernels (exact rational arithmetic).

Polygon membership is computed by the crossing rule in exact arithmetic
(:class:`fractions.Fraction`): an edge counts when it spans the point's y half-open
(``min(ya, yb) <= y < max(ya, yb)``) and its x at that height lies strictly right of the
point; the point is inside when the count is odd. This is the parity of the winding
number as the Gating-ML reference implementation computes it, derived independently.
"""

from __future__ import annotations

from fractions import Fraction
import math


def polygon_contains(px: float, py: float, vertices) -> bool:
    """Odd number of half-open edge crossings strictly right of (px, py), exactly."""
    if math.isnan(px) or math.isnan(py):
        return False
    x, y = Fraction(px), Fraction(py)
    pts = [(Fraction(a), Fraction(b)) for a, b in vertices]
    crossings = 0
    for i in range(len(pts)):
        ax, ay = pts[i]
        bx, by = pts[(i + 1) % len(pts)]
        if ay == by:
            continue  # horizontal edges are never crossed by a horizontal ray
        lo, hi = (ay, by) if ay < by else (by, ay)
        if not (lo <= y < hi):
            continue
        x_cross = ax + (y - ay) * (bx - ax) / (by - ay)
        if x < x_cross:
            crossings += 1
    return crossings % 2 == 1


def polygon_members(xs, ys, vertices) -> list:
    return [polygon_contains(float(a), float(b), vertices) for a, b in zip(xs, ys)]


def _solve(matrix, vector):
    """Solve ``matrix @ z = vector`` exactly (Gauss-Jordan on Fractions)."""
    n = len(vector)
    a = [[Fraction(matrix[i][j]) for j in range(n)] + [Fraction(vector[i])] for i in range(n)]
    for c in range(n):
        p = next(r for r in range(c, n) if a[r][c] != 0)
        a[c], a[p] = a[p], a[c]
        for r in range(n):
            if r != c and a[r][c] != 0:
                f = a[r][c] / a[c][c]
                a[r] = [u - f * v for u, v in zip(a[r], a[c])]
    return [a[i][n] / a[i][i] for i in range(n)]


def mahalanobis_sq(point, mean, covariance) -> Fraction:
    """Exact ``(x - mean)ᵀ covariance⁻¹ (x - mean)``."""
    t = [Fraction(float(p)) - Fraction(float(m)) for p, m in zip(point, mean)]
    z = _solve([[float(v) for v in row] for row in covariance], t)
    return sum(ti * zi for ti, zi in zip(t, z))


def ellipsoid_contains(point, mean, covariance, distance_square) -> bool:
    if any(math.isnan(float(p)) for p in point):
        return False
    return mahalanobis_sq(point, mean, covariance) <= Fraction(float(distance_square))


def rectangle_contains(point, mins, maxs) -> bool:
    for v, lo, hi in zip(point, mins, maxs):
        v = float(v)
        if math.isnan(v):
            return False
        if lo is not None and not v >= lo:
            return False
        if hi is not None and not v < hi:
            return False
    return True

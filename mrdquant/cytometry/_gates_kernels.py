"""numba kernels behind :mod:`mrdquant.cytometry.gates` and the gating engine.

Every kernel takes only arrays and scalars, never raises and never allocates its output:
``out`` arrives holding the parent membership (``True`` = event kept by the parent gate)
and the kernel clears the events that fall outside the gate. Events the parent already
excluded are skipped, so children only do work on their parent's events.

Each kernel exists twice, compiled once each: a parallel loop (``prange`` over events) and
a serial one, sharing the same per-event function. :func:`kernel` picks the serial one for
small inputs, where starting the worker threads costs more than the work.

Arithmetic is written in the same order as the Gating-ML 2.0 reference implementation
(FlowUtils) so boundary events agree bit for bit; fastmath stays off.
"""

from __future__ import annotations

import numpy as np

from .._numba import njit, pnjit, prange

__all__ = ["kernel", "PARALLEL_MIN_EVENTS"]

#: inputs shorter than this run the serial variant of a kernel
PARALLEL_MIN_EVENTS = 1 << 17


# ----------------------------------------------------------------------------------------
# per-event functions
# ----------------------------------------------------------------------------------------


@njit
def _in_range(v, lo, hi, has_lo, has_hi):
    """``lo <= v < hi`` with open ends; NaN is outside."""
    if has_lo and not (v >= lo):
        return False
    if has_hi and not (v < hi):
        return False
    return True


@njit
def _winding_count(px, py, vx, vy):
    """Winding number of the closed polygon (vx, vy) about (px, py).

    Upward edges count +1 when the point is strictly left of them, downward edges -1
    when strictly right; an edge is crossed when ``y_a <= py < y_b`` (upward) or
    ``y_b <= py < y_a`` (downward): the half-open rule of the reference implementation.
    """
    k = vx.shape[0]
    wind = 0
    for j in range(k):
        ax = vx[j]
        ay = vy[j]
        if j == k - 1:
            bx = vx[0]
            by = vy[0]
        else:
            bx = vx[j + 1]
            by = vy[j + 1]
        if ay <= py:
            if py < by:
                is_left = (bx - ax) * (py - ay) - (px - ax) * (by - ay)
                if is_left > 0:
                    wind += 1
        else:
            if by <= py:
                is_left = (bx - ax) * (py - ay) - (px - ax) * (by - ay)
                if is_left < 0:
                    wind -= 1
    return wind


@njit
def _in_polygon(px, py, vx, vy, ymin, ymax):
    """Odd winding number. No edge spans a y outside [ymin, ymax): winding number 0 there."""
    if py < ymin or py >= ymax:
        return False
    return _winding_count(px, py, vx, vy) % 2 != 0


@njit
def _y_range(vy):
    ymin = vy[0]
    ymax = vy[0]
    for j in range(vy.shape[0]):
        ymin = min(ymin, vy[j])
        ymax = max(ymax, vy[j])
    return ymin, ymax


@njit
def _mahalanobis_sq(cols, i, mean, inv_cov):
    """``(x-μ) Σ⁻¹ (x-μ)ᵀ`` of event i: row vector times matrix, then dot with (x-μ)."""
    d = cols.shape[0]
    total = 0.0
    for j in range(d):
        s = 0.0
        for k in range(d):
            s += (cols[k, i] - mean[k]) * inv_cov[k, j]
        total += s * (cols[j, i] - mean[j])
    return total


@njit
def _compensate_row(events, r, detectors, inv_cols, out, i):
    """``out[j, i] = sum_k events[r, detectors[k]] * inv_cols[k, j]`` (k in matrix order)."""
    for j in range(out.shape[0]):
        acc = 0.0
        for k in range(detectors.shape[0]):
            acc += np.float64(events[r, detectors[k]]) * inv_cols[k, j]
        out[j, i] = acc


# ----------------------------------------------------------------------------------------
# parallel loops
# ----------------------------------------------------------------------------------------


@pnjit
def _take_column_par(events, rows, all_rows, channel, out):
    """``out[i] = events[rows[i], channel]`` (``events[i, channel]`` when ``all_rows``), as float64."""
    if all_rows:
        for i in prange(out.shape[0]):
            out[i] = events[i, channel]
    else:
        for i in prange(out.shape[0]):
            out[i] = events[rows[i], channel]


@pnjit
def _take_compensated_par(events, rows, all_rows, detectors, inv_cols, out):
    """Compensated values of some detectors on some rows (one output row per detector)."""
    if all_rows:
        for i in prange(out.shape[1]):
            _compensate_row(events, i, detectors, inv_cols, out, i)
    else:
        for i in prange(out.shape[1]):
            _compensate_row(events, rows[i], detectors, inv_cols, out, i)


@pnjit
def _range_and_par(x, lo, hi, has_lo, has_hi, out):
    """Clear ``out[i]`` unless ``lo <= x[i] < hi`` (a missing bound is open)."""
    for i in prange(x.shape[0]):
        if out[i] and not _in_range(x[i], lo, hi, has_lo, has_hi):
            out[i] = False


@pnjit
def _polygon_and_par(x, y, vx, vy, out):
    """Clear ``out[i]`` unless the winding number about (x[i], y[i]) is odd."""
    ymin, ymax = _y_range(vy)
    for i in prange(x.shape[0]):
        if out[i] and not _in_polygon(x[i], y[i], vx, vy, ymin, ymax):
            out[i] = False


@pnjit
def _ellipsoid_and_par(cols, mean, inv_cov, distance_square, out):
    """Clear ``out[i]`` unless the Mahalanobis distance² of event i is ``<= distance_square``."""
    for i in prange(cols.shape[1]):
        if out[i] and not (_mahalanobis_sq(cols, i, mean, inv_cov) <= distance_square):
            out[i] = False


# ----------------------------------------------------------------------------------------
# serial loops (same per-event functions)
# ----------------------------------------------------------------------------------------


@njit
def _take_column_ser(events, rows, all_rows, channel, out):
    if all_rows:
        for i in range(out.shape[0]):
            out[i] = events[i, channel]
    else:
        for i in range(out.shape[0]):
            out[i] = events[rows[i], channel]


@njit
def _take_compensated_ser(events, rows, all_rows, detectors, inv_cols, out):
    if all_rows:
        for i in range(out.shape[1]):
            _compensate_row(events, i, detectors, inv_cols, out, i)
    else:
        for i in range(out.shape[1]):
            _compensate_row(events, rows[i], detectors, inv_cols, out, i)


@njit
def _range_and_ser(x, lo, hi, has_lo, has_hi, out):
    for i in range(x.shape[0]):
        if out[i] and not _in_range(x[i], lo, hi, has_lo, has_hi):
            out[i] = False


@njit
def _polygon_and_ser(x, y, vx, vy, out):
    ymin, ymax = _y_range(vy)
    for i in range(x.shape[0]):
        if out[i] and not _in_polygon(x[i], y[i], vx, vy, ymin, ymax):
            out[i] = False


@njit
def _ellipsoid_and_ser(cols, mean, inv_cov, distance_square, out):
    for i in range(cols.shape[1]):
        if out[i] and not (_mahalanobis_sq(cols, i, mean, inv_cov) <= distance_square):
            out[i] = False


_KERNELS = {
    "take_column": (_take_column_ser, _take_column_par),
    "take_compensated": (_take_compensated_ser, _take_compensated_par),
    "range_and": (_range_and_ser, _range_and_par),
    "polygon_and": (_polygon_and_ser, _polygon_and_par),
    "ellipsoid_and": (_ellipsoid_and_ser, _ellipsoid_and_par),
}


def kernel(name: str, n_events: int):
    """The serial or parallel variant of kernel ``name`` for an input of ``n_events``.

    Names: ``take_column``, ``take_compensated``, ``range_and``, ``polygon_and``,
    ``ellipsoid_and``.
    """
    ser, par = _KERNELS[name]
    return par if n_events >= PARALLEL_MIN_EVENTS else ser

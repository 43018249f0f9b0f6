"""numba kernels of the scale transforms (see :mod:`mrdquant.cytometry.transforms`).

Every kernel takes 1-D float64 arrays (any stride) and scalars, writes into a
preallocated ``out`` of the same length, loops with ``prange`` over events and never
raises. ``out`` may be the input array itself (in-place). Division by zero follows IEEE
(``error_model="numpy"``): it gives ``inf``/``nan`` instead of raising.

Logicle and hyperlog have no closed form: the scale value ``y`` is the root of
``B(y) = x`` where ``B`` is a cheap (bi)exponential. Both locate ``|x|`` in a precomputed
table of bins that are uniform within each binary octave (the bin index is read from the
exponent and top mantissa bits of the float64, so no logarithm is needed), then:

- **logicle**: a quintic Hermite polynomial of the bin (matching ``y``, ``dy/dx`` and
  ``d2y/dx2`` of the exact root at both bin edges) *is* the result. Its error is
  ``y^(6)(xi) h^6 t^3 (1-t)^3 / 720``, largest in mid-bin; with 64 bins per octave it is
  about 5e-15 on the [0, 1] scale, and the table is rejected (and rebuilt finer) unless the
  error measured at the middle and quarter points of every bin, and at random points, is
  below 1e-13. No exponential, division or iteration per event, except in the bin
  (flagged in the table) holding ``B(x1 + w/4)``: there the reference ``B`` switches from its
  Taylor series to the exponentials, which leaves a tiny step (up to ~1e-13 on the scale
  for ``W = M/2``) that no smooth polynomial follows, so those events get one Halley step
  on the same piecewise ``B`` as FlowUtils.
- **hyperlog**: a cubic Hermite polynomial gives an initial ``y0`` (error ~1e-9), then ONE
  Halley step on the exact ``B``. ``e^(b y0)`` is the value stored at the nearer bin edge
  times ``e^(b dy)`` for the small offset ``dy = y0 - y_node`` (|b dy| <= 0.02, checked
  when the table is built), by a degree-7 Taylor polynomial (relative error < 1e-18).
  Near data zero (``y < x1 + w/4``) the residual uses the Taylor series of ``B`` around
  ``x1``, as in Moore & Parks' reference code, to avoid cancellation.

Below the table (|x| so small that ``y - x1 = x / B'(x1)`` is exact in float64) and above
it (where ``log((|x| + f) / a) / b`` is already within 1e-9 of the root, then one Halley
step with ``exp``) simple formulas are used. Negative data are reflected about ``x1``
(``y(-x) = 2 x1 - y(x)``), exactly zero maps to ``x1``.

Table rows (``tab[k]``, one per bin plus a last row for the top edge). Logicle: ``c0..c5``
(quintic coefficients in ``t`` = position in the bin, 0..1; ``c0`` is ``y`` at the left
edge), the left edge, ``1 / bin width``, and 1.0 for the series/exponential switch bin
(else 0). Hyperlog: ``c0..c3`` (cubic), the left edge,
``1 / bin width``, ``a e^(b c0)``, 0.
"""

from __future__ import annotations

import contextlib
import math
from typing import Iterator

import numba
import numpy as np

from .._numba import njit, pnjit, prange


#: below this many events a parallel kernel runs on the calling thread only: waking the
#: worker threads costs more than the work (tens of microseconds on a busy machine)
SERIAL_BELOW = 8192


@contextlib.contextmanager
def threads_for(n_events: int) -> Iterator[None]:
    """Run the enclosed kernel call single-threaded when ``n_events < SERIAL_BELOW``.

    ``numba.set_num_threads`` is thread-local, so other threads are not affected.
    """
    if n_events >= SERIAL_BELOW:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


_NAN = np.nan
_INF = np.inf
_TAYLOR_LENGTH = 16
_ABS_MASK = 0x7FFFFFFFFFFFFFFF


# ----------------------------------------------------------------------------- simple
@pnjit(error_model="numpy")
def _linear(x, t, a, out):
    den = t + a
    for i in prange(x.shape[0]):
        out[i] = (x[i] + a) / den


@pnjit(error_model="numpy")
def _linear_inverse(y, t, a, out):
    den = t + a
    for i in prange(y.shape[0]):
        out[i] = y[i] * den - a


@pnjit(error_model="numpy")
def _log(x, t, m, out):
    inv_m = 1.0 / m
    for i in prange(x.shape[0]):
        v = x[i] / t
        if v > 0.0:
            out[i] = inv_m * math.log10(v) + 1.0
        elif v == 0.0:
            out[i] = -_INF
        else:  # negative or NaN: log undefined
            out[i] = _NAN


@pnjit(error_model="numpy")
def _log_inverse(y, t, m, out):
    for i in prange(y.shape[0]):
        out[i] = t * 10.0 ** ((y[i] - 1.0) * m)


@pnjit(error_model="numpy")
def _asinh(x, pre_scale, transpose, divisor, out):
    for i in prange(x.shape[0]):
        out[i] = (math.asinh(x[i] * pre_scale) + transpose) / divisor


@pnjit(error_model="numpy")
def _asinh_inverse(y, pre_scale, transpose, divisor, out):
    for i in prange(y.shape[0]):
        out[i] = math.sinh(y[i] * divisor - transpose) / pre_scale


@pnjit(error_model="numpy")
def _ratio(x1, x2, a, b, c, out):
    for i in prange(x1.shape[0]):
        out[i] = a * ((x1[i] - b) / (x2[i] - c))


# ----------------------------------------------------------------------------- logicle
@njit(error_model="numpy")
def _logicle_series(y, x1, taylor):
    """Taylor series of the biexponential around ``x1`` (``taylor[1]`` is 0 by construction)."""
    z = y - x1
    s = taylor[_TAYLOR_LENGTH - 1] * z
    for k in range(_TAYLOR_LENGTH - 2, 1, -1):
        s = (s + taylor[k]) * z
    return (s * z + taylor[0]) * z


@njit(error_model="numpy")
def _logicle_b(y, a, b, c, d, f, x1, x_taylor, taylor):
    """B(y) for y >= x1 (the biexponential; series near x1)."""
    if y < x_taylor:
        return _logicle_series(y, x1, taylor)
    return (a * math.exp(b * y) + f) - c / math.exp(d * y)


@njit(error_model="numpy")
def _logicle_halley(y, v, a, b, c, d, f, x1, x_taylor, taylor):
    """One Halley step towards B(y) = v, for v > 0."""
    ae2bx = a * math.exp(b * y)
    ce2mdx = c / math.exp(d * y)
    if y < x_taylor:
        r = _logicle_series(y, x1, taylor) - v
    else:
        r = (ae2bx + f) - (ce2mdx + v)
    abe2bx = b * ae2bx
    cde2mdx = d * ce2mdx
    dy = abe2bx + cde2mdx
    ddy = b * abe2bx - d * cde2mdx
    return y - r / (dy * (1.0 - r * ddy / (2.0 * dy * dy)))


@njit(error_model="numpy")
def _exp_small(z):
    """e^z for |z| <= 0.02: degree-7 Taylor polynomial in Estrin form (relative error < 1e-18)."""
    z2 = z * z
    z4 = z2 * z2
    p01 = 1.0 + z
    p23 = 0.5 + z * 0.16666666666666666
    p45 = 0.041666666666666664 + z * 0.008333333333333333
    p67 = 0.001388888888888889 + z * 0.0001984126984126984
    return (p01 + z2 * p23) + z4 * (p45 + z2 * p67)


@njit(error_model="numpy")
def _bin_guess(v, bits, key_lo, shift, tab):
    """Nearest table node and cubic Hermite initial guess for |x| = v inside the table."""
    k = ((bits & _ABS_MASK) >> shift) - key_lo
    t = (v - tab[k, 4]) * tab[k, 5]
    y = tab[k, 0] + t * (tab[k, 1] + t * (tab[k, 2] + t * tab[k, 3]))
    # the nearer bin edge (row k + 1 holds the right edge of bin k)
    return k + np.int64(t >= 0.5), y


@pnjit(error_model="numpy")
def _logicle(x, xbits, a, b, c, d, f, x1, x_taylor, taylor, key_lo, shift, tab, x_lo, x_hi, out):
    for i in prange(x.shape[0]):
        v = x[i]
        if v != v:
            out[i] = _NAN
            continue
        if v == 0.0:
            out[i] = x1
            continue
        negative = v < 0.0
        if negative:
            v = -v
        if v == _INF:
            out[i] = -_INF if negative else _INF
            continue
        if v < x_lo:
            y = x1 + v / taylor[0]
        elif v < x_hi:
            k = ((xbits[i] & _ABS_MASK) >> shift) - key_lo
            t = (v - tab[k, 6]) * tab[k, 7]
            y = tab[k, 0] + t * (tab[k, 1] + t * (tab[k, 2] + t * (tab[k, 3] + t * (tab[k, 4] + t * tab[k, 5]))))
            if tab[k, 8] != 0.0:  # the bin where B switches from its Taylor series to exponentials
                y = _logicle_halley(y, v, a, b, c, d, f, x1, x_taylor, taylor)
        else:
            y = _logicle_halley(math.log((v + f) / a) / b, v, a, b, c, d, f, x1, x_taylor, taylor)
        out[i] = 2.0 * x1 - y if negative else y


@pnjit(error_model="numpy")
def _logicle_inverse(y, a, b, c, d, f, x1, x_taylor, taylor, out):
    for i in prange(y.shape[0]):
        v = y[i]
        if v != v:
            out[i] = _NAN
            continue
        negative = v < x1
        if negative:
            v = 2.0 * x1 - v
        r = _logicle_b(v, a, b, c, d, f, x1, x_taylor, taylor)
        out[i] = -r if negative else r


@njit(error_model="numpy")
def _logicle_exact(x, a, b, c, d, f, x1, x_taylor, taylor, out):
    """Per-event Halley iteration to convergence (table nodes; speed baseline)."""
    eps = 2.220446049250313e-16
    for i in range(x.shape[0]):
        v = x[i]
        if v != v:
            out[i] = _NAN
            continue
        if v == 0.0:
            out[i] = x1
            continue
        negative = v < 0.0
        if negative:
            v = -v
        if v == _INF:
            out[i] = -_INF if negative else _INF
            continue
        if v < f:
            y = x1 + v / taylor[0]
        else:
            y = math.log(v / a) / b
        tol = 3.0 * eps
        if y > 1.0:
            tol = 3.0 * y * eps
        for _ in range(100):
            y_new = _logicle_halley(y, v, a, b, c, d, f, x1, x_taylor, taylor)
            delta = y - y_new
            y = y_new
            if abs(delta) < tol:
                break
        out[i] = 2.0 * x1 - y if negative else y


# ----------------------------------------------------------------------------- hyperlog
@njit(error_model="numpy")
def _hyperlog_series(y, x1, taylor):
    z = y - x1
    s = taylor[_TAYLOR_LENGTH - 1] * z
    for k in range(_TAYLOR_LENGTH - 2, -1, -1):
        s = (s + taylor[k]) * z
    return s


@njit(error_model="numpy")
def _hyperlog_eh(y, a, b, c, f, x1, x_taylor, taylor):
    """EH(y) for y >= x1 (series near x1)."""
    if y < x_taylor:
        return _hyperlog_series(y, x1, taylor)
    return (a * math.exp(b * y) + c * y) - f


@njit(error_model="numpy")
def _hyperlog_halley(y, v, a, b, c, f, x1, x_taylor, taylor):
    ae2bx = a * math.exp(b * y)
    if y < x_taylor:
        r = _hyperlog_series(y, x1, taylor) - v
    else:
        r = (ae2bx + c * y) - (f + v)
    abe2bx = b * ae2bx
    dy = abe2bx + c
    ddy = b * abe2bx
    return y - r / (dy * (1.0 - r * ddy / (2.0 * dy * dy)))


@pnjit(error_model="numpy")
def _hyperlog(x, xbits, a, b, c, f, x1, x_taylor, taylor, key_lo, shift, tab, x_lo, x_hi, out):
    for i in prange(x.shape[0]):
        v = x[i]
        if v != v:
            out[i] = _NAN
            continue
        if v == 0.0:
            out[i] = x1
            continue
        negative = v < 0.0
        if negative:
            v = -v
        if v == _INF:
            out[i] = -_INF if negative else _INF
            continue
        if v < x_lo:
            y = x1 + v / taylor[0]
        elif v >= x_hi:
            y = _hyperlog_halley(math.log((v + f) / a) / b, v, a, b, c, f, x1, x_taylor, taylor)
        else:
            k, y = _bin_guess(v, xbits[i], key_lo, shift, tab)
            ae2bx = tab[k, 6] * _exp_small(b * (y - tab[k, 0]))
            if y < x_taylor:
                r = _hyperlog_series(y, x1, taylor) - v
            else:
                r = (ae2bx + c * y) - (f + v)
            abe2bx = b * ae2bx
            dy = abe2bx + c
            ddy = b * abe2bx
            y = y - 2.0 * r * dy / (2.0 * dy * dy - r * ddy)
        out[i] = 2.0 * x1 - y if negative else y


@pnjit(error_model="numpy")
def _hyperlog_inverse(y, a, b, c, f, x1, x_taylor, taylor, out):
    for i in prange(y.shape[0]):
        v = y[i]
        if v != v:
            out[i] = _NAN
            continue
        negative = v < x1
        if negative:
            v = 2.0 * x1 - v
        r = _hyperlog_eh(v, a, b, c, f, x1, x_taylor, taylor)
        out[i] = -r if negative else r


@njit(error_model="numpy")
def _hyperlog_exact(x, a, b, c, f, x1, x_taylor, taylor, lin_limit, w, out):
    """Per-event Halley iteration to convergence (table nodes; speed baseline)."""
    eps = 2.220446049250313e-16
    for i in range(x.shape[0]):
        v = x[i]
        if v != v:
            out[i] = _NAN
            continue
        if v == 0.0:
            out[i] = x1
            continue
        negative = v < 0.0
        if negative:
            v = -v
        if v == _INF:
            out[i] = -_INF if negative else _INF
            continue
        if v < lin_limit:
            y = x1 + v * w / lin_limit
        else:
            y = math.log(v / a) / b
        tol = 3.0 * eps
        if y > 1.0:
            tol = 3.0 * y * eps
        for _ in range(100):
            y_new = _hyperlog_halley(y, v, a, b, c, f, x1, x_taylor, taylor)
            delta = y - y_new
            y = y_new
            if abs(delta) < tol:
                break
        out[i] = 2.0 * x1 - y if negative else y


# ----------------------------------------------------------------------------- FlowJo biex
@pnjit(error_model="numpy")
def _interp_clamped(x, xp, fp, out):
    """Piecewise-linear interpolation on sorted ``xp``; outside, the end values of ``fp``.

    Same arithmetic as ``scipy.interpolate.interp1d(kind="linear")``: slope of the
    bracketing segment times the offset from its left node.
    """
    n = xp.shape[0]
    lo_val = fp[0]
    hi_val = fp[n - 1]
    x_first = xp[0]
    x_last = xp[n - 1]
    for i in prange(x.shape[0]):
        v = x[i]
        if v != v:
            out[i] = _NAN
            continue
        if v < x_first:
            out[i] = lo_val
            continue
        if v > x_last:
            out[i] = hi_val
            continue
        # first index with xp[j] >= v (searchsorted side="left"), clipped to [1, n-1]
        lo = 0
        hi = n
        while lo < hi:
            mid = (lo + hi) >> 1
            if xp[mid] < v:
                lo = mid + 1
            else:
                hi = mid
        j = lo
        if j < 1:
            j = 1
        elif j > n - 1:
            j = n - 1
        x_lo = xp[j - 1]
        y_lo = fp[j - 1]
        slope = (fp[j] - y_lo) / (xp[j] - x_lo)
        out[i] = slope * (v - x_lo) + y_lo

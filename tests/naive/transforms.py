"""Slow references of the scale transforms: the Gating-ML 2.0 formulas, one value at a time.

Logicle and hyperlog are solved by plain bisection on the defining (bi)exponential, with
``d`` found by ``scipy.optimize.brentq``: no tables, no Halley steps, no Taylor series.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

LN10 = math.log(10.0)


def flin(x: float, T: float, A: float) -> float:
    return (x + A) / (T + A)


def flog(x: float, T: float, M: float) -> float:
    q = x / T
    if q <= 0:
        return -math.inf if q == 0 else math.nan
    return (1.0 / M) * math.log10(q) + 1.0


def fasinh(x: float, T: float, M: float, A: float) -> float:
    return (math.asinh(x * math.sinh(M * LN10) / T) + A * LN10) / ((M + A) * LN10)


def fratio(x1: float, x2: float, A: float, B: float, C: float) -> float:
    return A * (x1 - B) / (x2 - C)


def _bisect(g, lo: float, hi: float) -> float:
    """Root of increasing ``g`` on [lo, hi] to the last representable bit."""
    while g(hi) < 0:
        hi = lo + 2 * (hi - lo)
    for _ in range(400):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if g(mid) < 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def logicle_params(T, W, M, A):
    w = W / (M + A)
    x2 = A / (M + A)
    x1 = x2 + w
    x0 = x2 + 2 * w
    b = (M + A) * LN10
    if w == 0:
        d = b
    else:
        d = brentq(lambda d: 2 * (math.log(d) - math.log(b)) + w * (b + d), 1e-300, b, xtol=1e-300, rtol=1e-15)
    c_a = math.exp(x0 * (b + d))
    mf_a = math.exp(b * x1) - c_a / math.exp(d * x1)
    a = T / ((math.exp(b) - mf_a) - c_a / math.exp(d))
    return dict(a=a, b=b, c=c_a * a, d=d, f=mf_a * a, x1=x1)  # B(y) = a e^(by) - c e^(-dy) - f


def logicle_inverse(y: float, T, W, M, A) -> float:
    p = logicle_params(T, W, M, A)
    x1 = p["x1"]
    sign = 1.0
    if y < x1:
        y, sign = 2 * x1 - y, -1.0
    return sign * (p["a"] * math.exp(p["b"] * y) - p["c"] * math.exp(-p["d"] * y) - p["f"])


def logicle(x: float, T, W, M, A) -> float:
    p = logicle_params(T, W, M, A)
    x1 = p["x1"]
    if x == 0:
        return x1
    v = abs(x)
    g = lambda y: p["a"] * math.exp(p["b"] * y) - p["c"] * math.exp(-p["d"] * y) - p["f"] - v  # noqa: E731
    y = _bisect(g, x1, 2.0)
    return y if x > 0 else 2 * x1 - y


def hyperlog_params(T, W, M, A):
    w = W / (M + A)
    x2 = A / (M + A)
    x1 = x2 + w
    x0 = x2 + 2 * w
    b = (M + A) * LN10
    c_a = math.exp(b * x0) / w
    f_a = math.exp(b * x1) + c_a * x1
    a = T / (math.exp(b) + c_a - f_a)
    return dict(a=a, b=b, c=c_a * a, f=f_a * a, x1=x1)


def hyperlog_inverse(y: float, T, W, M, A) -> float:
    p = hyperlog_params(T, W, M, A)
    x1 = p["x1"]
    sign = 1.0
    if y < x1:
        y, sign = 2 * x1 - y, -1.0
    return sign * (p["a"] * math.exp(p["b"] * y) + p["c"] * y - p["f"])


def hyperlog(x: float, T, W, M, A) -> float:
    p = hyperlog_params(T, W, M, A)
    x1 = p["x1"]
    if x == 0:
        return x1
    v = abs(x)
    g = lambda y: p["a"] * math.exp(p["b"] * y) + p["c"] * y - p["f"] - v  # noqa: E731
    y = _bisect(g, x1, 2.0)
    return y if x > 0 else 2 * x1 - y


def vectorize(fn, values, *params) -> np.ndarray:
    return np.array([fn(float(v), *params) for v in np.ravel(values)]).reshape(np.shape(values))

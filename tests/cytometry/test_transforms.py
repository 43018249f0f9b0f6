"""Scale transforms: against FlowUtils/FlowKit, against naive Gating-ML formulas, and edge cases."""

from __future__ import annotations

import math

import flowutils
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mrdquant.cytometry.transforms import (
    AsinhTransform,
    FlowJoBiexTransform,
    HyperlogTransform,
    LinearTransform,
    LogicleTransform,
    LogTransform,
    RatioTransform,
    Transform,
    transform_from_dict,
)
from mrdquant.errors import ConfigError, InputError
from naive import transforms as nv

HYP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# the whole data range of a 18-bit instrument, negatives included, and beyond
DATA = np.concatenate([
    np.linspace(-1e4, 262143, 20001),
    -np.logspace(-6, 6, 300),
    np.logspace(-6, 9, 300),
    [0.0, 262144.0, 1e7, -1e5],
])


@st.composite
def biex_params(draw, w_min=0.0):
    T = draw(st.floats(100.0, 1e6))
    M = draw(st.floats(2.0, 7.0))
    W = draw(st.floats(w_min, M / 2))
    A = draw(st.floats(-W, M - 2 * W))
    return T, W, M, A


def _values(draw_list, T):
    return np.asarray(draw_list, dtype=np.float64) * (T / 262144.0)


# ----------------------------------------------------------------------------- logicle
@pytest.mark.parametrize("params", [(262144, 0.5, 4.5, 0), (10000, 0.5, 4.5, 0), (10000, 1, 4, 0.5),
                                    (262144, 0, 4.5, 0), (262144, 2.25, 4.5, 0), (1000, 1, 5, -1)])
def test_logicle_matches_flowutils_whole_range(params):
    T, W, M, A = params
    x = DATA * (T / 262144.0)
    ours = LogicleTransform(T, W, M, A).apply(x)
    ref = flowutils.transforms.logicle(x, None, t=T, m=M, w=W, a=A)
    assert np.max(np.abs(ours - ref), initial=0.0) < 1e-9


@HYP
@given(biex_params(), st.lists(st.floats(-2e5, 3e6, allow_nan=False), min_size=1, max_size=50))
def test_logicle_matches_flowutils_random(params, values):
    T, W, M, A = params
    x = _values(values, T)
    # FlowUtils' own initial guess fails for W == 0 and |x| < ~1e-9 (see the test below)
    x = x[(np.abs(x) >= 1e-6) | (x == 0)]
    ours = LogicleTransform(T, W, M, A).apply(x)
    ref = flowutils.transforms.logicle(x, None, t=T, m=M, w=W, a=A)
    assert np.max(np.abs(ours - ref), initial=0.0) < 1e-9


@HYP
@given(biex_params(), st.lists(st.floats(-1e6, 1e8, allow_nan=False), min_size=1, max_size=30))
def test_logicle_round_trip(params, values):
    lg = LogicleTransform(*params)
    x = np.asarray(values)
    back = lg.inverse(lg.apply(x))
    np.testing.assert_allclose(back, x, rtol=1e-9, atol=1e-9 * params[0])


def test_logicle_matches_naive_bisection():
    params = (262144, 0.5, 4.5, 0)
    x = np.array([-5e4, -1000.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 17.0, 500.0, 5e4, 262143.0, 1e6])
    ref = nv.vectorize(nv.logicle, x, *params)
    assert np.max(np.abs(LogicleTransform(*params).apply(x) - ref)) < 1e-12


def test_logicle_inverse_matches_naive_and_flowutils():
    params = (10000, 1, 4, 0.5)
    y = np.linspace(-0.2, 1.2, 141)
    ours = LogicleTransform(*params).inverse(y)
    ref = nv.vectorize(nv.logicle_inverse, y, *params)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-9)
    fu = flowutils.transforms.logicle_inverse(y, None, t=10000, m=4, w=1, a=0.5)
    np.testing.assert_allclose(ours, fu, rtol=1e-14, atol=1e-12)


def test_logicle_w0_tiny_values_match_naive_where_flowutils_fails():
    # W = 0 (pure arcsinh shape): FlowUtils starts Halley from log(x / a) / b, far below
    # the root for |x| << a, and returns values near -60; the bisection reference agrees with us.
    params = (262144, 0, 4.5, 0)
    x = np.array([1e-300, 1e-100, 1e-12, -1e-12, 1e-3])
    ref = nv.vectorize(nv.logicle, x, *params)
    assert np.max(np.abs(LogicleTransform(*params).apply(x) - ref)) < 1e-15
    assert np.abs(flowutils.transforms.logicle(x[:1], None, t=262144, m=4.5, w=0, a=0)[0] - ref[0]) >= 0.5


def test_logicle_landmarks():
    # data 0 -> x1 = (W + A) / (M + A); T -> 1; the scale is antisymmetric about x1
    lg = LogicleTransform(10000, 1, 4, 0.5)
    y = lg.apply(np.array([0.0, 10000.0, 123.0, -123.0]))
    assert y[0] == pytest.approx(1.5 / 4.5, abs=1e-15)
    assert y[1] == pytest.approx(1.0, abs=1e-12)
    assert y[2] + y[3] == pytest.approx(2 * lg.x1, abs=1e-14)


def test_logicle_table_equals_full_halley_solve():
    lg = LogicleTransform(262144, 1.5, 4.5, 1.5)
    x = np.concatenate([-np.logspace(-3, 7, 2000), np.logspace(-3, 7, 2000)])
    assert np.max(np.abs(lg.apply(x) - lg.solve_exact(x))) < 1e-13


def test_logicle_w_half_m_near_series_switch():
    # W = M/2: B switches from its Taylor series to the exponentials at y = x1 + w/4,
    # inside the table bin [3.46875, 3.5); there the kernel takes a Halley step
    params = (100.0, 3.5, 7.0, 0.0)
    lg = LogicleTransform(*params)
    assert lg._switch == (3.46875, 3.5)
    x = np.linspace(3.40, 3.56, 161)
    x = np.concatenate([x, -x])
    np.testing.assert_allclose(lg.apply(x), lg.solve_exact(x), rtol=0, atol=1e-13)
    np.testing.assert_allclose(lg.apply(x), nv.vectorize(nv.logicle, x, *params), rtol=0, atol=1e-12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(biex_params())
def test_logicle_quintic_table_error_in_mid_bin(params):
    # the interpolation error y^(6) h^6 t^3 (1-t)^3 / 720 peaks at t = 1/2: check every bin there
    lg = LogicleTransform(*params)
    tab = lg._table[2]
    edges = tab[:, 6]
    mid = edges[:-1] + 0.5 * np.diff(edges)
    x = np.concatenate([mid, -mid, edges])
    err = np.abs(lg.apply(x) - lg.solve_exact(x))
    assert np.max(err) <= 1e-13


# ----------------------------------------------------------------------------- hyperlog
@pytest.mark.parametrize("params", [(10000, 1, 4.5, 0), (262144, 0.5, 4.5, 0), (10000, 1, 4, 0.5), (1000, 2, 5, -1)])
def test_hyperlog_matches_flowutils_whole_range(params):
    T, W, M, A = params
    x = DATA * (T / 262144.0)
    ours = HyperlogTransform(T, W, M, A).apply(x)
    ref = flowutils.transforms.hyperlog(x, None, t=T, m=M, w=W, a=A)
    assert np.max(np.abs(ours - ref), initial=0.0) < 1e-9
    y = np.linspace(-0.3, 1.1, 57)
    np.testing.assert_allclose(
        HyperlogTransform(T, W, M, A).inverse(y),
        flowutils.transforms.hyperlog_inverse(y, None, t=T, m=M, w=W, a=A), rtol=1e-13, atol=1e-12,
    )


@HYP
@given(biex_params(w_min=0.05), st.lists(st.floats(-2e5, 3e6, allow_nan=False), min_size=1, max_size=30))
def test_hyperlog_matches_naive_and_round_trips(params, values):
    hl = HyperlogTransform(*params)
    x = _values(values, params[0])
    y = hl.apply(x)
    ref = nv.vectorize(nv.hyperlog, x, *params)
    assert np.max(np.abs(y - ref)) < 1e-9
    np.testing.assert_allclose(hl.inverse(y), x, rtol=1e-9, atol=1e-9 * params[0])


# ----------------------------------------------------------------------------- closed forms
@HYP
@given(st.floats(1.0, 1e6), st.floats(0.0, 1e3), st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=20))
def test_linear_matches_formula(T, A, values):
    x = np.asarray(values)
    tr = LinearTransform(T, A)
    np.testing.assert_allclose(tr.apply(x), nv.vectorize(nv.flin, x, T, A), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(tr.inverse(tr.apply(x)), x, rtol=1e-12, atol=1e-9 * (T + A))


@HYP
@given(st.floats(1.0, 1e6), st.floats(0.5, 8.0), st.lists(st.floats(-1e6, 1e7), min_size=1, max_size=20))
def test_log_matches_formula(T, M, values):
    x = np.asarray(values)
    ours = LogTransform(T, M).apply(x)
    ref = nv.vectorize(nv.flog, x, T, M)
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    assert np.array_equal(np.isneginf(ours), np.isneginf(ref))
    ok = np.isfinite(ref)
    np.testing.assert_allclose(ours[ok], ref[ok], rtol=1e-13, atol=1e-14)
    pos = x > 1e-300
    np.testing.assert_allclose(LogTransform(T, M).inverse(ours[pos]), x[pos], rtol=1e-12)


@HYP
@given(st.floats(1.0, 1e6), st.floats(0.5, 7.0), st.floats(0.0, 2.0),
       st.lists(st.floats(-1e6, 1e7), min_size=1, max_size=20))
def test_asinh_matches_formula_and_flowutils(T, M, A, values):
    x = np.asarray(values)
    tr = AsinhTransform(T, M, A)
    y = tr.apply(x)
    np.testing.assert_allclose(y, nv.vectorize(nv.fasinh, x, T, M, A), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(y, flowutils.transforms.asinh(x, None, T, M, A), rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(tr.inverse(y), x, rtol=1e-9, atol=1e-9 * T)


def test_ratio_matches_formula_and_zero_denominator():
    x1 = np.array([10.0, 5.0, -3.0, 7.0])
    x2 = np.array([2.0, -1.0, 4.0, -1.0])
    tr = RatioTransform(A=2.7, B=-100, C=-1)
    expected = [nv.fratio(a, b, 2.7, -100, -1) for a, b in zip(x1[:3], x2[:3])]
    got = tr.apply2(x1, x2)
    np.testing.assert_allclose(got[:3], expected, rtol=1e-15)
    assert np.isinf(got[3])  # x2 - C == 0
    np.testing.assert_array_equal(tr.apply(np.column_stack([x1, x2])), got)
    assert tr.n_inputs == 2
    with pytest.raises(InputError, match=r"shape \(n, 2\)"):
        tr.apply(x1)
    with pytest.raises(InputError, match="no inverse"):
        tr.inverse(x1)


# ----------------------------------------------------------------------------- FlowJo biex
@pytest.mark.parametrize("params", [(0.0, -10.0, 4.418540, 262144.000029), (1.0, -100.0, 4.5, 262144.0),
                                    (0.5, -1000.0, 4.4, 262144.0), (2.0, -30.0, 4.0, 10000.0)])
def test_flowjo_biex_matches_flowkit(params):
    from flowkit._models.transforms._wsp_transforms import WSPBiexTransform

    neg, width, pos, top = params
    ref = WSPBiexTransform(negative=neg, width=width, positive=pos, max_value=top)
    ours = FlowJoBiexTransform(negative=neg, width=width, positive=pos, max_value=top)
    x = DATA * (top / 262144.0)
    np.testing.assert_allclose(ours.apply(x), ref.apply(x), rtol=0, atol=1e-9)
    y = np.linspace(-10, 4200, 2001)
    np.testing.assert_allclose(ours.inverse(y), ref.inverse(y), rtol=1e-12, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.floats(0.0, 3.0), st.floats(0.0, 4.0), st.floats(2.0, 7.0), st.floats(3.0, 6.0))
def test_flowjo_biex_matches_flowkit_random(neg, width_log10, pos, top_log10):
    from flowkit._models.transforms._wsp_transforms import WSPBiexTransform

    width, top = -(10.0 ** width_log10), 10.0 ** top_log10
    ref = WSPBiexTransform(negative=neg, width=width, positive=pos, max_value=top)
    ours = FlowJoBiexTransform(negative=neg, width=width, positive=pos, max_value=top)
    x = np.concatenate([np.linspace(-0.1, 1.2, 2001) * top, -np.logspace(-3, 6, 50), np.logspace(-3, 7, 50)])
    np.testing.assert_allclose(ours.apply(x), ref.apply(x), rtol=0, atol=1e-9)


# ----------------------------------------------------------------------------- shapes, buffers, edge cases
@pytest.mark.parametrize("tr", [LogicleTransform(262144, 0.5, 4.5, 0), HyperlogTransform(262144, 1, 4.5, 0)],
                         ids=["logicle", "hyperlog"])
def test_parallel_and_single_thread_paths_agree(tr):
    from mrdquant.cytometry._transforms_kernels import SERIAL_BELOW

    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(0, 500, 3 * SERIAL_BELOW), rng.lognormal(7, 2, 3 * SERIAL_BELOW)])
    whole = tr.apply(x)  # parallel kernel
    pieces = np.concatenate([tr.apply(p) for p in np.array_split(x, 64)])  # each below SERIAL_BELOW
    np.testing.assert_array_equal(whole, pieces)
    np.testing.assert_array_equal(tr.inverse(whole), np.concatenate([tr.inverse(p) for p in np.array_split(whole, 64)]))


ALL = [
    LinearTransform(1000, 10), LogTransform(1e4, 5), AsinhTransform(1e4, 4, 1),
    LogicleTransform(1e4, 0.5, 4.5, 0), HyperlogTransform(1e4, 1, 4.5, 0), FlowJoBiexTransform(),
]


@pytest.mark.parametrize("tr", ALL, ids=lambda t: type(t).__name__)
def test_shapes_out_and_strides(tr):
    rng = np.random.default_rng(3)
    ev = rng.uniform(1.0, 5e3, (257, 3))
    flat = tr.apply(ev.ravel())
    two_d = tr.apply(ev)
    assert two_d.shape == ev.shape and two_d.dtype == np.float64
    np.testing.assert_array_equal(two_d.ravel(), flat)
    # a strided column, float32 input, an out buffer and in-place
    col = tr.apply(ev[:, 1])
    np.testing.assert_array_equal(col, two_d[:, 1])
    buf = np.empty(257)
    assert tr.apply(ev[:, 1], out=buf) is buf
    np.testing.assert_array_equal(buf, col)
    inplace = ev[:, 2].copy()
    tr.apply(inplace, out=inplace)
    np.testing.assert_array_equal(inplace, two_d[:, 2])
    np.testing.assert_allclose(tr.apply(ev.astype(np.float32)), tr.apply(ev.astype(np.float32).astype(np.float64)))
    assert tr.apply(np.empty(0)).shape == (0,)
    assert np.isnan(tr.apply(np.array([np.nan]))[0])
    with pytest.raises(InputError, match="out has shape"):
        tr.apply(ev[:, 0], out=np.empty(3))
    with pytest.raises(InputError, match="float64"):
        tr.apply(ev[:, 0], out=np.empty(257, dtype=np.float32))
    with pytest.raises(InputError, match="1-D or 2-D"):
        tr.apply(np.zeros((2, 2, 2)))


@pytest.mark.parametrize("cls", [LogicleTransform, HyperlogTransform])
def test_infinities_and_zero(cls):
    tr = cls(262144, 0.5, 4.5, 0)
    y = tr.apply(np.array([np.inf, -np.inf, 0.0, -0.0]))
    assert y[0] == np.inf and y[1] == -np.inf
    assert y[2] == y[3] == tr.x1


@pytest.mark.parametrize("tr", ALL, ids=lambda t: type(t).__name__)
def test_to_dict_round_trip(tr):
    d = tr.to_dict()
    assert d["type"] == tr.kind
    again = transform_from_dict(d)
    assert again == tr
    x = np.linspace(1, 1e4, 11)
    np.testing.assert_array_equal(again.apply(x), tr.apply(x))


def test_to_dict_uses_gatingml_names():
    assert LogicleTransform(262144, 0.5, 4.5, 0).to_dict() == {"type": "logicle", "T": 262144, "W": 0.5, "M": 4.5, "A": 0}
    assert RatioTransform(1, 0, -1).to_dict() == {"type": "fratio", "A": 1, "B": 0, "C": -1}
    assert isinstance(LinearTransform(10), Transform)


@pytest.mark.parametrize("make, message", [
    (lambda: LogicleTransform(262144, 3, 4.5, 0), "W must be <= M/2"),
    (lambda: LogicleTransform(-1, 0.5, 4.5, 0), "T must be > 0"),
    (lambda: LogicleTransform(262144, 0.5, 4.5, -1), "A must lie in"),
    (lambda: HyperlogTransform(262144, 0, 4.5, 0), "W must be > 0"),
    (lambda: LogTransform(1e4, 0), "M must be > 0"),
    (lambda: AsinhTransform(1e4, math.nan, 0), "must be finite"),
    (lambda: LinearTransform("x"), "must be a number"),
    (lambda: FlowJoBiexTransform(width=10), "width"),
    (lambda: transform_from_dict({"type": "spline"}), "unknown transform type"),
    (lambda: transform_from_dict({"type": "flin", "Q": 1}), "bad parameters"),
])
def test_bad_parameters_raise_config_error(make, message):
    with pytest.raises(ConfigError, match=message):
        make()

"""Gate kernels against exact naive references (tests/naive/gates.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdquant.cytometry import _gates_kernels
from mrdquant.cytometry.gates import ellipsoid_mask, polygon_mask, range_mask, rectangle_mask
from mrdquant.errors import GatingError
from naive.gates import (
    ellipsoid_contains,
    mahalanobis_sq,
    polygon_members,
    rectangle_contains,
)

@pytest.fixture(params=["serial", "parallel"], autouse=True)
def variant(request, monkeypatch):
    """Run every test against both compiled variants of each kernel."""
    monkeypatch.setattr(_gates_kernels, "PARALLEL_MIN_EVENTS", 0 if request.param == "parallel" else 1 << 62)
    return request.param


# Dyadic coordinates (multiples of 1/4 in [-16, 16]) keep every float product exact, so
# the kernel's arithmetic and the exact reference must agree even on edges and vertices.
coord = st.integers(-64, 64).map(lambda k: k / 4.0)
vertex = st.tuples(coord, coord)
polygons = st.lists(vertex, min_size=3, max_size=9)


@settings(max_examples=150, deadline=None)
@given(poly=polygons, pts=st.lists(vertex, min_size=1, max_size=40), data=st.data())
def test_polygon_matches_naive_random_polygons(poly, pts, data):
    # add points exactly on vertices and on edge midpoints (dyadic, so exactly on the edge)
    extra = []
    for i in range(len(poly)):
        a, b = poly[i], poly[(i + 1) % len(poly)]
        extra.append(a)
        extra.append(((a[0] + b[0]) / 2, (a[1] + b[1]) / 2))
    pts = pts + extra
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    got = polygon_mask(x, y, poly)
    want = polygon_members(x, y, poly)
    assert got.tolist() == want


def test_polygon_concave_square_with_notch():
    # a U shape: the notch (1.5, 2) is outside, both arms are inside
    u = [(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)]
    x = np.array([0.5, 1.5, 2.5, 1.5, 4.0])
    y = np.array([2.0, 2.0, 2.0, 0.5, 0.5])
    assert polygon_mask(x, y, u).tolist() == [True, False, True, True, False]


def test_polygon_self_intersecting_bowtie_and_pentagram():
    bowtie = [(0, 0), (2, 2), (2, 0), (0, 2)]  # two triangles meeting at (1, 1)
    x = np.array([0.2, 1.8, 1.0, 1.0])
    y = np.array([1.0, 1.0, 0.2, 1.8])
    assert polygon_mask(x, y, bowtie).tolist() == [True, True, False, False]
    # pentagram drawn in one stroke: the centre has winding number 2 -> even -> outside,
    # the points of the star have winding number 1 -> inside
    ang = np.pi / 2 + np.arange(5) * 4 * np.pi / 5
    star = np.c_[np.cos(ang), np.sin(ang)] * 10
    tip = 0.8 * star[0]
    got = polygon_mask(np.array([0.0, tip[0]]), np.array([0.0, tip[1]]), star)
    assert got.tolist() == [False, True]


def test_polygon_edges_and_vertices_half_open():
    sq = [(0, 0), (1, 0), (1, 1), (0, 1)]
    # left and bottom edges are in, right and top edges are out (half-open crossing rule)
    x = np.array([0.0, 0.5, 1.0, 0.5, 0.0, 1.0, 1.0, 0.0])
    y = np.array([0.5, 0.0, 0.5, 1.0, 0.0, 0.0, 1.0, 1.0])
    assert polygon_mask(x, y, sq).tolist() == [True, True, False, False, True, False, False, False]
    assert polygon_mask(x, y, sq).tolist() == polygon_members(x, y, sq)


def test_polygon_nan_empty_parent_and_bad_vertices():
    sq = [(0, 0), (1, 0), (1, 1), (0, 1)]
    assert polygon_mask(np.array([np.nan]), np.array([0.5]), sq).tolist() == [False]
    assert polygon_mask(np.array([]), np.array([]), sq).shape == (0,)
    parent = np.array([True, False])
    assert polygon_mask(np.array([0.5, 0.5]), np.array([0.5, 0.5]), sq, parent=parent).tolist() == [True, False]
    with pytest.raises(GatingError, match="vertices"):
        polygon_mask(np.array([0.5]), np.array([0.5]), [(0, 0), (1, 1)])
    with pytest.raises(GatingError, match="lengths differ"):
        polygon_mask(np.array([0.5]), np.array([0.5, 1.0]), sq)


def test_polygon_float_events_match_naive(seed):
    rng = np.random.default_rng(seed)
    poly = rng.uniform(-5, 5, size=(7, 2))
    x = rng.uniform(-6, 6, 3000)
    y = rng.uniform(-6, 6, 3000)
    assert polygon_mask(x, y, poly).tolist() == polygon_members(x, y, poly)


spd = st.tuples(st.floats(0.5, 4.0), st.floats(0.5, 4.0), st.floats(-0.9, 0.9))


@settings(max_examples=60, deadline=None)
@given(p=spd, d2=st.floats(0.2, 9.0), mean=st.tuples(coord, coord),
       pts=st.lists(st.tuples(st.floats(-20, 20), st.floats(-20, 20)), min_size=1, max_size=30))
def test_ellipse_matches_naive(p, d2, mean, pts):
    sx, sy, rho = p
    cov = np.array([[sx * sx, rho * sx * sy], [rho * sx * sy, sy * sy]])
    vals = np.array(pts, dtype=float)
    got = ellipsoid_mask(vals, mean, cov, d2)
    for g, pt in zip(got, pts):
        exact = mahalanobis_sq(pt, mean, cov)
        if abs(float(exact) - d2) < 1e-9 * max(1.0, d2):
            continue  # within float rounding of the boundary
        assert g == ellipsoid_contains(pt, mean, cov, d2)


def test_ellipsoid_3d_matches_naive(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(3, 3))
    cov = a @ a.T + np.eye(3)
    mean = rng.normal(size=3)
    vals = rng.normal(size=(500, 3)) * 2
    got = ellipsoid_mask(vals, mean, cov, 3.0)
    want = [ellipsoid_contains(v, mean, cov, 3.0) for v in vals]
    assert got.tolist() == want
    assert 0 < got.sum() < 500


def test_ellipse_boundary_is_inclusive_and_errors():
    vals = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 2.0000001], [np.nan, 0.0]])
    cov = np.diag([1.0, 4.0])
    assert ellipsoid_mask(vals, [0, 0], cov, 1.0).tolist() == [True, True, False, False]
    with pytest.raises(GatingError, match="singular"):
        ellipsoid_mask(vals, [0, 0], np.zeros((2, 2)), 1.0)
    with pytest.raises(GatingError, match="distance_square"):
        ellipsoid_mask(vals, [0, 0], cov, 0.0)


@settings(max_examples=80, deadline=None)
@given(pts=st.lists(st.tuples(coord, coord), min_size=1, max_size=30),
       lo=st.tuples(st.none() | coord, st.none() | coord), hi=st.tuples(st.none() | coord, st.none() | coord))
def test_rectangle_matches_naive(pts, lo, hi):
    vals = np.array(pts, dtype=float)
    got = rectangle_mask(vals, lo, hi)
    assert got.tolist() == [rectangle_contains(p, lo, hi) for p in pts]


def test_range_min_inclusive_max_exclusive_open_ends():
    x = np.array([-np.inf, 1.0, 1.5, 2.0, np.inf, np.nan])
    assert range_mask(x, 1.0, 2.0).tolist() == [False, True, True, False, False, False]
    assert range_mask(x, None, 2.0).tolist() == [True, True, True, False, False, False]
    assert range_mask(x, 1.0, None).tolist() == [False, True, True, True, True, False]
    with pytest.raises(GatingError, match="boolean mask"):
        range_mask(x, 1.0, 2.0, parent=np.ones(2, dtype=bool))


def test_take_kernels_match_numpy(seed):
    rng = np.random.default_rng(seed)
    events = rng.normal(500, 300, size=(2000, 6)).astype(np.float32)
    rows = np.flatnonzero(rng.random(2000) < 0.3).astype(np.intp)
    det = np.array([1, 2, 4], dtype=np.intp)
    spill = np.eye(3) + rng.uniform(0, 0.2, (3, 3)) * (1 - np.eye(3))
    inv = np.linalg.inv(spill)
    out = np.empty((2, rows.size))
    inv_cols = np.ascontiguousarray(inv[:, [0, 2]])
    no_raw = np.empty(0, dtype=np.intp)
    _gates_kernels.kernel("take_compensated", rows.size)(events, rows, False, det, inv_cols, out, no_raw,
                                                         np.empty((0, rows.size)))
    want = np.linalg.solve(spill.T, events[rows][:, det].astype(np.float64).T)  # rows = detectors
    np.testing.assert_allclose(out, want[[0, 2]], rtol=1e-12, atol=1e-9)
    # the parallel variant (with its row prefetching) gives the same bits, and the raw
    # channels taken in the same pass are the events' own values
    out_par = np.empty_like(out)
    raw = np.empty((2, rows.size))
    _gates_kernels._take_compensated_par(events, rows, False, det, inv_cols, out_par, np.array([5, 0], dtype=np.intp),
                                         raw)
    np.testing.assert_array_equal(out_par, out)
    np.testing.assert_array_equal(raw, events[rows][:, [5, 0]].astype(np.float64).T)
    want_all = np.linalg.solve(spill.T, events[:, det].astype(np.float64).T)[1]
    for variant in (_gates_kernels._take_compensated_ser, _gates_kernels._take_compensated_par):
        full, full_raw = np.empty((1, 2000)), np.empty((1, 2000))
        variant(events, rows[:0], True, det, np.ascontiguousarray(inv[:, 1:2]), full, np.array([3], dtype=np.intp),
                full_raw)
        np.testing.assert_allclose(full[0], want_all, rtol=1e-12, atol=1e-9)
        np.testing.assert_array_equal(full_raw[0], events[:, 3].astype(np.float64))
    chans = np.array([3, 0], dtype=np.intp)
    for take in (_gates_kernels.kernel("take_columns", rows.size), _gates_kernels._take_columns_par):
        cols = np.empty((2, rows.size))
        take(events, rows, False, chans, cols)
        np.testing.assert_array_equal(cols, events[rows][:, [3, 0]].astype(np.float64).T)
        full = np.empty((1, 2000))
        take(events, rows, True, np.array([5], dtype=np.intp), full)
        np.testing.assert_array_equal(full[0], events[:, 5].astype(np.float64))
    empty = np.empty((1, 0))
    _gates_kernels.kernel("take_compensated", 0)(events, rows[:0], False, det, np.ascontiguousarray(inv[:, :1]), empty,
                                                 no_raw, np.empty((0, 0)))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 300), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.integers(0, 2**31))
def test_commit_members_matches_numpy(n, p_parent, p_gate, rng_seed):
    rng = np.random.default_rng(rng_seed)
    parent = rng.random(n) < p_parent
    rows = np.flatnonzero(parent).astype(np.intp)
    m = rng.random(rows.size) < p_gate
    out = np.ones(n, dtype=np.bool_)  # stale values must be overwritten
    members = np.empty(rows.size, dtype=np.intp)
    count = _gates_kernels._commit_members(m, rows, False, out, members)
    want = np.zeros(n, dtype=np.bool_)
    want[rows[m]] = True
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(members[:count], np.flatnonzero(want))
    # all rows: the result is the membership itself
    full = rng.random(n) < p_gate
    out2 = np.zeros(n, dtype=np.bool_)
    members2 = np.empty(n, dtype=np.intp)
    count2 = _gates_kernels._commit_members(full, rows[:0], True, out2, members2)
    np.testing.assert_array_equal(out2, full)
    np.testing.assert_array_equal(members2[:count2], np.flatnonzero(full))


# raw rectangles: values on a grid of quarters with NaN and infinities, bounds on the grid
raw_value = st.one_of(coord, st.sampled_from([np.nan, np.inf, -np.inf]))


@settings(max_examples=80, deadline=None)
@given(data=st.data(), n=st.integers(0, 120), n_dims=st.integers(1, 3), p_parent=st.floats(0.0, 1.0),
       all_rows=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]))
def test_raw_box_commit_matches_naive(data, n, n_dims, p_parent, all_rows, dtype):
    events = np.array(data.draw(st.lists(st.lists(raw_value, min_size=4, max_size=4), min_size=n, max_size=n)),
                      dtype=dtype).reshape(n, 4)
    channels = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n_dims, max_size=n_dims)), dtype=np.intp)
    mins, maxs = [], []
    for _ in range(n_dims):
        lo, hi = data.draw(st.tuples(st.none() | coord, st.none() | coord).filter(lambda b: b != (None, None)))
        mins.append(lo)
        maxs.append(hi)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    rows = np.arange(n, dtype=np.intp) if all_rows else np.flatnonzero(rng.random(n) < p_parent).astype(np.intp)
    lo = np.array([np.nan if v is None else v for v in mins])
    hi = np.array([np.nan if v is None else v for v in maxs])
    has_lo = np.array([v is not None for v in mins])
    has_hi = np.array([v is not None for v in maxs])
    want = np.zeros(n, dtype=np.bool_)
    for r in rows:
        want[r] = rectangle_contains(events[r, channels], mins, maxs)
    out = np.ones(n, dtype=np.bool_)  # stale values must be overwritten
    members = np.empty(rows.size, dtype=np.intp)
    count = _gates_kernels.kernel("raw_box_commit", rows.size)(
        events, np.empty(0, dtype=np.intp) if all_rows else rows, all_rows, channels, lo, hi, has_lo, has_hi, out,
        members)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(members[:count], np.flatnonzero(want))


@pytest.mark.parametrize("all_rows", [True, False])
def test_raw_box_commit_parallel_blocks(all_rows):
    # several blocks of the parallel variant, with members listed at each block's offset
    rng = np.random.default_rng(7)
    n = 3 * _gates_kernels._BOX_BLOCK + 123
    events = rng.uniform(0, 100, size=(n, 3)).astype(np.float32)
    events[rng.random(n) < 0.01, 2] = np.nan
    rows = np.arange(n, dtype=np.intp) if all_rows else np.flatnonzero(rng.random(n) < 0.6).astype(np.intp)
    channels = np.array([2, 0], dtype=np.intp)
    lo, hi = np.array([20.0, np.nan]), np.array([80.0, 50.0])
    has_lo, has_hi = np.array([True, False]), np.array([True, True])
    out = np.ones(n, dtype=np.bool_)
    members = np.empty(rows.size, dtype=np.intp)
    count = _gates_kernels._raw_box_commit_par(events, rows[:0] if all_rows else rows, all_rows, channels, lo, hi,
                                               has_lo, has_hi, out, members)
    x, y = events[:, 2].astype(np.float64), events[:, 0].astype(np.float64)
    want = np.zeros(n, dtype=np.bool_)
    want[rows] = ((x >= 20.0) & (x < 80.0) & (y < 50.0))[rows]
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(members[:count], np.flatnonzero(want))


# ----------------------------------------------------------------------------------------
# the serial and parallel variants: one source, compiled twice, same results
# ----------------------------------------------------------------------------------------

KERNEL_NAMES = ["take_columns", "take_compensated", "range_and", "polygon_and", "ellipsoid_and", "raw_box_commit"]


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_serial_and_parallel_variants_share_one_source(name):
    ser, par = _gates_kernels._KERNELS[name]
    assert ser is not par
    assert ser.py_func.__code__ is par.py_func.__code__  # one Python source
    assert not ser.targetoptions.get("parallel") and par.targetoptions.get("parallel") is True
    assert ser.py_func.__qualname__ != par.py_func.__qualname__  # own cache entries


def _run_both(name, make_args, out_index):
    """Call both variants on fresh copies of the arguments; return their outputs and returns."""
    got = []
    for fn in _gates_kernels._KERNELS[name]:
        args = make_args()
        ret = fn(*args)
        got.append((ret, [np.array(args[i]) for i in out_index]))
    return got


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 3000), seed=st.integers(0, 2**31), p=st.floats(0.0, 1.0), all_rows=st.booleans())
def test_serial_and_parallel_variants_agree(n, seed, p, all_rows):
    rng = np.random.default_rng(seed)
    events = rng.normal(0, 2, size=(n, 4)).astype(np.float32)
    events[rng.random((n, 4)) < 0.02] = np.nan
    rows = np.arange(n, dtype=np.intp) if all_rows else np.flatnonzero(rng.random(n) < p).astype(np.intp)
    m = n if all_rows else rows.size
    given_rows = rows[:0] if all_rows else rows
    det = np.array([0, 2, 3], dtype=np.intp)
    inv = np.ascontiguousarray(np.linalg.inv(np.eye(3) + 0.1 * rng.random((3, 3)))[:, [0, 2]])
    chans = np.array([1, 3], dtype=np.intp)
    parent = rng.random(m) < 0.7
    x, y = rng.normal(0, 2, m), rng.normal(0, 2, m)
    cols = rng.normal(0, 2, (2, m))
    cases = {
        "take_columns": (lambda: (events, given_rows, all_rows, chans, np.full((2, m), -1.0)), [4]),
        "take_compensated": (lambda: (events, given_rows, all_rows, det, inv, np.full((2, m), -1.0), chans,
                                      np.full((2, m), -1.0)), [5, 7]),
        "range_and": (lambda: (x, -1.0, 1.5, True, bool(seed % 2), parent.copy()), [5]),
        "polygon_and": (lambda: (x, y, np.array([-2.0, 2.0, 0.5, -1.0]), np.array([-2.0, -1.5, 2.0, 1.0]),
                                 parent.copy()), [4]),
        "ellipsoid_and": (lambda: (cols, np.array([0.5, -0.5]), np.array([[0.5, 0.1], [0.1, 0.8]]), 1.7,
                                   parent.copy()), [4]),
        "raw_box_commit": (lambda: (events, given_rows, all_rows, chans, np.array([-1.0, np.nan]),
                                    np.array([2.0, 1.0]), np.array([True, False]), np.array([True, True]),
                                    np.ones(n, dtype=np.bool_), np.full(m, -1, dtype=np.intp)), [8, 9]),
    }
    for name, (make, outs) in cases.items():
        (r_ser, o_ser), (r_par, o_par) = _run_both(name, make, outs)
        assert r_ser == r_par, name
        if name == "raw_box_commit":  # members beyond the count are scratch
            np.testing.assert_array_equal(o_ser[0], o_par[0])
            np.testing.assert_array_equal(o_ser[1][:r_ser], o_par[1][:r_par])
            continue
        for a, b in zip(o_ser, o_par):
            np.testing.assert_array_equal(a, b, err_msg=name)

"""numba kernels behind :mod:`mrdquant.cytometry.gates` and the gating engine.

Every kernel takes only arrays and scalars, never raises and never allocates its output:
``out`` arrives holding the parent membership (``True`` = event kept by the parent gate)
and the kernel clears the events that fall outside the gate. Events the parent already
excluded are skipped, so children only do work on their parent's events. The raw
rectangle kernel (``raw_box_commit``) instead writes the gate's membership row and lists
its member rows itself, testing the parent's events straight on the event matrix.

Each event loop is one Python function written with ``prange``, compiled twice by
:func:`mrdquant._numba.serial_and_parallel`: a parallel variant (``prange`` splits the
events over threads) and a serial one (``prange`` runs as ``range``). :func:`kernel` picks
the serial one for small inputs, where starting the worker threads costs more than the work.

Arithmetic is written in the same order as the Gating-ML 2.0 reference implementation
(FlowUtils) so boundary events agree bit for bit; fastmath stays off.
"""

from __future__ import annotations


import llvmlite.ir as llvm_ir
import numpy as np
from numba.core import cgutils, types
from numba.extending import intrinsic

from .._numba import njit, prange, serial_and_parallel


__all__ = ["kernel", "PARALLEL_MIN_EVENTS"]

#: inputs shorter than this run the serial variant of a kernel
PARALLEL_MIN_EVENTS = 1 << 17
#: events per block of the polygon kernel (its scratch and inputs stay in L1 cache)
_POLY_BLOCK = 1024
#: gathers of scattered event rows ask the CPU for the row this many events ahead
_PREFETCH_AHEAD = 24
#: events per block of the compensation kernel (its scratch stays in L1 cache)
_COMP_BLOCK = 256
#: events per block of the parallel raw-rectangle kernel
_BOX_BLOCK = 1 << 15


@intrinsic
def _prefetch(typingctx, arr, i, j):
    """Hint the CPU to load ``arr[i, j]`` into cache (``llvm.prefetch``; no effect on results).

    Gathering a parent's events from the event matrix touches rows far apart; without the
    hint each row is a cache miss waited for in turn (measured: 2-6x slower gathers).
    """
    sig = types.void(arr, i, j)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1], args[2]], wraparound=False)
        i8p = llvm_ir.IntType(8).as_pointer()
        i32 = llvm_ir.IntType(32)
        fnty = llvm_ir.FunctionType(llvm_ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        # read access, high temporal locality, data cache
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


# ----------------------------------------------------------------------------------------
# per-event functions
# ----------------------------------------------------------------------------------------


@njit(inline="always")
def _in_range(v, lo, hi, has_lo, has_hi):
    """``lo <= v < hi`` with open ends; NaN is outside."""
    if has_lo and not (v >= lo):
        return False
    if has_hi and not (v < hi):
        return False
    return True


@njit(inline="always")
def _polygon_block(x, y, vx, vy, out, start, stop, wind):
    """``out[i] &= odd winding number`` for events ``start <= i < stop`` (``wind``: int32 scratch).

    Upward edges count +1 when the point is strictly left of them, downward edges -1
    when strictly right; an edge is crossed when ``y_a <= py < y_b`` (upward) or
    ``y_b <= py < y_a`` (downward): the half-open rule of the reference implementation,
    with its ``is_left`` arithmetic. Edge by edge over a block of events, without
    branches, so that the compiler vectorises the inner loop. NaN is outside.
    """
    xs = x[start:stop]
    ys = y[start:stop]
    nb = stop - start
    k = vx.shape[0]
    for t in range(nb):
        wind[t] = 0
    for j in range(k):
        ax = vx[j]
        ay = vy[j]
        jj = j + 1 if j + 1 < k else 0
        bx = vx[jj]
        by = vy[jj]
        ex = bx - ax
        ey = by - ay
        for t in range(nb):
            px = xs[t]
            py = ys[t]
            is_left = ex * (py - ay) - (px - ax) * ey
            up = np.int32((ay <= py) and (py < by) and (is_left > 0))
            down = np.int32((by <= py) and (py < ay) and (is_left < 0))
            wind[t] += up - down
    for t in range(nb):
        if wind[t] & 1 == 0:
            out[start + t] = False


@njit(inline="always")
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


@njit(inline="always")
def _compensate_block(x, inv_cols, out, start, stop):
    """``out[j, start + t] = sum_k x[k, t] * inv_cols[k, j]``, summed from 0.0 over k in order."""
    nb = stop - start
    for j in range(out.shape[0]):
        o = out[j, start:stop]
        for t in range(nb):
            o[t] = 0.0
        for k in range(x.shape[0]):
            c = inv_cols[k, j]
            xk = x[k]
            for t in range(nb):
                o[t] += xk[t] * c


@njit(inline="always")
def _raw_row(events, r, channels, raw, i):
    """``raw[j, i] = events[r, channels[j]]`` as float64."""
    for j in range(channels.shape[0]):
        raw[j, i] = events[r, channels[j]]


@njit(inline="always")
def _in_raw_box(events, r, channels, lo, hi, has_lo, has_hi):
    """Whether row r of the event matrix lies in the rectangle (raw values as float64).

    Dimension j reads ``events[r, channels[j]]`` and is inside when ``lo[j] <= v < hi[j]``;
    a bound with ``has_* = False`` is open. NaN is outside a closed bound. Branch-free.
    """
    v = True
    for j in range(channels.shape[0]):
        x = np.float64(events[r, channels[j]])
        v = v & ((x >= lo[j]) | (not has_lo[j])) & ((x < hi[j]) | (not has_hi[j]))
    return v


# ----------------------------------------------------------------------------------------
# event loops: one source each, compiled serial and parallel (serial_and_parallel)
# ----------------------------------------------------------------------------------------


def _take_columns(events, rows, all_rows, channels, out):
    """``out[j, i] = events[rows[i], channels[j]]`` (``events[i, ...]`` when ``all_rows``), as float64.

    All channels of a row in one pass over the event matrix.
    """
    n = out.shape[1]
    nc = channels.shape[0]
    if all_rows:
        for i in prange(n):
            for j in range(nc):
                out[j, i] = events[i, channels[j]]
    else:
        for i in prange(n):
            if i + _PREFETCH_AHEAD < n:
                _prefetch(events, rows[i + _PREFETCH_AHEAD], channels[0])
            r = rows[i]
            for j in range(nc):
                out[j, i] = events[r, channels[j]]


def _take_compensated(events, rows, all_rows, detectors, inv_cols, out, channels, raw):
    """Compensated values of some detectors on some rows (one output row per detector).

    In the same pass, ``raw[j, i]`` receives the raw value of channel ``channels[j]`` (as
    float64) for the same rows (``channels`` may be empty).

    Blocks of :data:`_COMP_BLOCK` events: the block's detector values are gathered into a
    scratch matrix (one row per detector), then each output row is accumulated detector
    by detector over the whole block, ``acc = 0; acc += x_k * inv_cols[k, j]`` for k in
    matrix order -- the same operations in the same order as a per-event dot product, so
    the same bits, but independent events side by side, which the compiler vectorises.
    """
    n = out.shape[1]
    nd = detectors.shape[0]
    first = detectors[0] if nd else 0
    last = detectors[nd - 1] if nd else 0
    one = out.shape[0] == 1  # one output: each event's dot product straight from the events
    for b in prange((n + _COMP_BLOCK - 1) // _COMP_BLOCK):
        start = b * _COMP_BLOCK
        stop = min(n, start + _COMP_BLOCK)
        x = np.empty((0 if one else nd, stop - start))
        for i in range(start, stop):
            if all_rows:
                r = i
            else:
                if i + _PREFETCH_AHEAD < n:
                    # a row's detectors can straddle two cache lines
                    _prefetch(events, rows[i + _PREFETCH_AHEAD], first)
                    _prefetch(events, rows[i + _PREFETCH_AHEAD], last)
                r = rows[i]
            if one:
                acc = 0.0
                for k in range(nd):
                    acc += np.float64(events[r, detectors[k]]) * inv_cols[k, 0]
                out[0, i] = acc
            else:
                for k in range(nd):
                    x[k, i - start] = np.float64(events[r, detectors[k]])
            _raw_row(events, r, channels, raw, i)
        if not one:
            _compensate_block(x, inv_cols, out, start, stop)


def _raw_box_commit(events, rows, all_rows, channels, lo, hi, has_lo, has_hi, out, members):
    """Rectangle gate evaluated on the raw event matrix, membership row and member rows at once.

    For a gate whose dimensions are all uncompensated and untransformed, so no float64
    column of the parent's events is copied. Parent event i is row ``rows[i]`` of the chunk
    (row ``i`` when ``all_rows``). ``out`` (the gate's membership row of the chunk) receives
    the result at the parent's rows and False elsewhere; ``members[:count]`` receives the
    member rows in increasing order (``members`` holds at least one entry per parent
    event). Returns ``count``. Blocks are tested (in parallel), each listing its members
    from its own first slot; the lists are then moved down to their offsets, in order
    (serially: a block's destination can overlap an earlier block's list).
    """
    n = out.shape[0] if all_rows else rows.shape[0]
    if not all_rows:
        for i in prange(out.shape[0]):
            out[i] = False
    nb = (n + _BOX_BLOCK - 1) // _BOX_BLOCK
    counts = np.empty(nb, dtype=np.intp)
    for b in prange(nb):
        start = b * _BOX_BLOCK
        c = 0
        for i in range(start, min(n, start + _BOX_BLOCK)):
            r = i if all_rows else rows[i]
            v = _in_raw_box(events, r, channels, lo, hi, has_lo, has_hi)
            out[r] = v
            members[start + c] = r
            c += np.intp(v)
        counts[b] = c
    total = 0
    for b in range(nb):
        start = b * _BOX_BLOCK
        if total != start:
            for j in range(counts[b]):
                members[total + j] = members[start + j]
        total += counts[b]
    return total


def _range_and(x, lo, hi, has_lo, has_hi, out):
    """Clear ``out[i]`` unless ``lo <= x[i] < hi`` (a missing bound is open)."""
    for i in prange(x.shape[0]):
        out[i] = out[i] and _in_range(x[i], lo, hi, has_lo, has_hi)


def _polygon_and(x, y, vx, vy, out):
    """Clear ``out[i]`` unless the winding number about (x[i], y[i]) is odd."""
    n = x.shape[0]
    for b in prange((n + _POLY_BLOCK - 1) // _POLY_BLOCK):
        start = b * _POLY_BLOCK
        stop = min(n, start + _POLY_BLOCK)
        wind = np.empty(stop - start, dtype=np.int32)
        _polygon_block(x, y, vx, vy, out, start, stop, wind)


def _ellipsoid_and(cols, mean, inv_cov, distance_square, out):
    """Clear ``out[i]`` unless the Mahalanobis distance² of event i is ``<= distance_square``."""
    for i in prange(cols.shape[1]):
        if out[i] and not (_mahalanobis_sq(cols, i, mean, inv_cov) <= distance_square):
            out[i] = False


_take_columns_ser, _take_columns_par = serial_and_parallel(_take_columns)
_take_compensated_ser, _take_compensated_par = serial_and_parallel(_take_compensated)
_raw_box_commit_ser, _raw_box_commit_par = serial_and_parallel(_raw_box_commit)
_range_and_ser, _range_and_par = serial_and_parallel(_range_and)
_polygon_and_ser, _polygon_and_par = serial_and_parallel(_polygon_and)
_ellipsoid_and_ser, _ellipsoid_and_par = serial_and_parallel(_ellipsoid_and)


@njit
def _commit_members(m, rows, all_rows, out, members):
    """Write one gate's result into its membership row and list its member rows.

    ``m[i]`` is the result for the parent's i-th event, which is row ``rows[i]`` of the
    chunk (row ``i`` when ``all_rows``). ``out`` (the gate's row of the chunk's membership
    matrix) receives ``m`` at those rows and False elsewhere; ``members[:count]`` receives
    the member rows in increasing order (``members`` holds at least ``len(m)``). Returns
    ``count``. Branch-free: every row is written and ``count`` grows by the membership.
    """
    count = 0
    if all_rows:
        for i in range(m.shape[0]):
            v = m[i]
            out[i] = v
            members[count] = i
            count += np.intp(v)
    else:
        for i in range(out.shape[0]):
            out[i] = False
        for i in range(m.shape[0]):
            v = m[i]
            r = rows[i]
            out[r] = v
            members[count] = r
            count += np.intp(v)
    return count


_KERNELS = {
    "take_columns": (_take_columns_ser, _take_columns_par),
    "take_compensated": (_take_compensated_ser, _take_compensated_par),
    "range_and": (_range_and_ser, _range_and_par),
    "polygon_and": (_polygon_and_ser, _polygon_and_par),
    "ellipsoid_and": (_ellipsoid_and_ser, _ellipsoid_and_par),
    "raw_box_commit": (_raw_box_commit_ser, _raw_box_commit_par),
}


def kernel(name: str, n_events: int):
    """The serial or parallel variant of kernel ``name`` for an input of ``n_events``.

    Names: ``take_columns``, ``take_compensated``, ``range_and``, ``polygon_and``,
    ``ellipsoid_and``, ``raw_box_commit``.
    """
    ser, par = _KERNELS[name]
    return par if n_events >= PARALLEL_MIN_EVENTS else ser

"""numba kernel of compensation (see :mod:`mrdquant.cytometry.compensation`).

``out[i, det[j]] = sum_k events[i, det[k]] * inverse_t[j, k]`` for every event ``i``; the
other columns are copied when ``copy_rest`` is true. Events may be float32 or float64
(accumulation is float64); ``out`` is float64 and may be ``events`` itself (each row is
read into a per-chunk scratch row before it is written). ``prange`` runs over fixed chunks
of events; chunk ``c`` uses only ``scratch[c]``. ``inverse_t`` is the transposed inverse
(C-contiguous), so each dot product reads a contiguous row; sums run over k ascending. NaN in a detector column propagates to
every detector column of that event (it enters each sum).
"""

from __future__ import annotations

from .._numba import pnjit, prange


@pnjit(error_model="numpy")
def _compensate(events, det, inverse_t, is_det, copy_rest, chunk, scratch, out):
    n = events.shape[0]
    n_cols = events.shape[1]
    m = det.shape[0]
    n_chunks = scratch.shape[0]
    for c in prange(n_chunks):
        start = c * chunk
        stop = min(n, start + chunk)
        buf = scratch[c]
        for i in range(start, stop):
            for k in range(m):
                buf[k] = events[i, det[k]]
            if copy_rest:
                for j in range(n_cols):
                    if not is_det[j]:
                        out[i, j] = events[i, j]
            for j in range(m):
                s = 0.0
                for k in range(m):
                    s += buf[k] * inverse_t[j, k]
                out[i, det[j]] = s


@pnjit(error_model="numpy")
def _compensate_block(x, inverse_t, chunk, scratch, out):
    """``out = x @ inverse_t.T`` for a (n, m) block already in detector order."""
    n = x.shape[0]
    m = x.shape[1]
    n_chunks = scratch.shape[0]
    for c in prange(n_chunks):
        start = c * chunk
        stop = min(n, start + chunk)
        buf = scratch[c]
        for i in range(start, stop):
            for k in range(m):
                buf[k] = x[i, k]
            for j in range(m):
                s = 0.0
                for k in range(m):
                    s += buf[k] * inverse_t[j, k]
                out[i, j] = s

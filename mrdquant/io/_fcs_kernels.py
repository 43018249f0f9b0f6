"""Compiled kernel behind :mod:`mrdquant.io.fcs`: linearising log-amplified channels.

The kernel uses the C library ``pow`` (as Python's ``**`` on floats does), not numpy's
vectorised power, whose last bit can differ between CPUs; this is what makes the
preprocessed matrices identical to flowio's reference arrays. Only integer data with
``$PnE`` log amplification needs it, so numba is imported only for such files.
"""

from __future__ import annotations

import numpy as np

from .._numba import njit


@njit
def _log_linearise(events, j, decades, pnr, log0):
    """In place on column ``j``: ``x -> 10 ** (decades * x / pnr) * log0`` (float64 arithmetic)."""
    for i in range(events.shape[0]):
        v = np.float64(events[i, j])
        events[i, j] = (10.0 ** (decades * v / pnr)) * log0

"""A partial clog for acquisition-QC tests: every fluorescence detector's signal drops for a
stretch of the run."""

from __future__ import annotations

import numpy as np


def clogged_events(sample, start: float = 0.40, stop: float = 0.45, factor: float = 0.4) -> tuple:
    """``(events, burst)``: a copy of ``sample.events`` whose fluorescence channels (those of
    its spillover matrix) are scaled by ``factor`` for the events acquired between the
    ``start`` and ``stop`` quantiles of time, and the boolean mask of those events."""
    ev = sample.events.copy()
    t = ev[:, sample.channels.index("Time")].astype(np.float64)
    lo, hi = np.quantile(t, [start, stop])
    burst = (t >= lo) & (t < hi)
    for c in sample.spillover.columns:
        ev[burst, sample.channels.index(c)] *= factor
    return ev, burst

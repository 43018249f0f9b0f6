"""Slow reference of compensation: solve ``S^T x_true^T = x_obs^T`` per event column set."""

from __future__ import annotations

import numpy as np


def compensate(events: np.ndarray, channels: list[str], detectors: list[str], spillover: np.ndarray) -> np.ndarray:
    """Return a float64 copy of ``events`` whose detector columns are solved through ``spillover``."""
    out = np.array(events, dtype=np.float64, copy=True)
    idx = [channels.index(d) for d in detectors]
    out[:, idx] = np.linalg.solve(np.asarray(spillover, dtype=np.float64).T, out[:, idx].T).T
    return out


def compensate_loop(events: np.ndarray, channels: list[str], detectors: list[str], spillover: np.ndarray) -> np.ndarray:
    """Event by event, with ``numpy.linalg.solve`` on each row (tiny inputs only)."""
    out = np.array(events, dtype=np.float64, copy=True)
    idx = [channels.index(d) for d in detectors]
    st = np.asarray(spillover, dtype=np.float64).T
    for i in range(out.shape[0]):
        out[i, idx] = np.linalg.solve(st, out[i, idx])
    return out

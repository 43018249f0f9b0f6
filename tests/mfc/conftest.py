"""Simulated tubes shared by the mfc tests (generated in memory, never committed)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from mrdquant.io.fcs import FlowSample
from mrdquant.mfc.panels import load_panel
from mrdquant.simulate.flow import simulate_bone_marrow


@functools.lru_cache(maxsize=None)
def simulated(panel: str, n: int, mrd: float, seed: int):
    """(sample, truth) of a simulated tube; cached per test session."""
    return simulate_bone_marrow(panel, n_events=n, mrd_fraction=mrd, seed=seed)


def drifted(sample: FlowSample, panel: str, factors: dict) -> FlowSample:
    """The same events with some markers' detectors scaled (day-to-day instrument drift)."""
    ev = sample.events.copy()
    default = load_panel(panel).default_channels
    for marker, f in factors.items():
        ev[:, sample.channels.index(default[marker])] *= f
    return FlowSample.from_array(ev, sample.channels, markers=sample.markers, metadata=sample.metadata,
                                 spillover=sample.spillover)


def f1(mask: np.ndarray, truth) -> float:
    tl = truth["is_leukemic"].to_numpy()
    tp = int((mask & tl).sum())
    fp = int((mask & ~tl).sum())
    fn = int((~mask & tl).sum())
    return 2 * tp / (2 * tp + fp + fn)


@pytest.fixture(scope="session")
def sim():
    return simulated

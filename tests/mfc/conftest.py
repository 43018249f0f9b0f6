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


@pytest.fixture(scope="session")
def dfn_files(tmp_path_factory):
    """B-ALL tubes for the LAIP + DfN tests: a saved normal reference (3 normals of 20,000
    events), a follow-up (30,000 events, MRD 1e-2), a tube too small to gate (300 events)
    and an AML tube; written once per session."""
    from mrdquant.mfc.reference import NormalReference
    from mrdquant.simulate.flow import write_bone_marrow_fcs

    d = tmp_path_factory.mktemp("laip_dfn")
    normals = [write_bone_marrow_fcs(d / f"n{i}.fcs", "B-ALL", 20_000, mrd_fraction=0.0, seed=70 + i)[0]
               for i in range(3)]
    return {
        "ref": NormalReference.fit(normals, "B-ALL").save(d / "ref.npz"),
        "follow": write_bone_marrow_fcs(d / "p3_d60.fcs", "B-ALL", 30_000, mrd_fraction=1e-2, seed=80)[0],
        "small": write_bone_marrow_fcs(d / "tiny.fcs", "B-ALL", 300, mrd_fraction=0.0, seed=81)[0],
        "aml": write_bone_marrow_fcs(d / "aml.fcs", "AML", 5_000, mrd_fraction=0.0, seed=82)[0],
    }

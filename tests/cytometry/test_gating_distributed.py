"""Gating many samples on an executor: a process pool and a dask.distributed cluster."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

from mrdquant.cytometry.gating import GatingStrategy


@pytest.fixture(scope="module")
def strategy(data_samples):
    return GatingStrategy.from_gatingml(data_samples / "flow" / "b_all_laip.xml")


@pytest.fixture(scope="module")
def files(data_samples):
    paths = sorted(str(p) for p in (data_samples / "flow").glob("b_all_*.fcs"))
    return paths + ["/no/such/file.fcs"]


def test_strategy_survives_pickling(strategy, files):
    clone = pickle.loads(pickle.dumps(strategy))
    a, b = strategy.gate(files[0]), clone.gate(files[0])
    for gate_id in strategy.gate_ids:
        np.testing.assert_array_equal(a.membership(gate_id), b.membership(gate_id))


def test_process_pool_matches_serial(strategy, files):
    serial = strategy.gate_many(files)
    # "spawn": numba's OpenMP layer is not fork-safe once a parallel kernel has run
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        pooled = strategy.gate_many(files, executor=pool)
    pd.testing.assert_frame_equal(serial.counts(), pooled.counts())
    assert len(pooled.failures) == 1 and "no/such/file.fcs" in pooled.errors["path"].iloc[0]


def test_dask_distributed_matches_serial(strategy, files):
    distributed = pytest.importorskip("dask.distributed")
    serial = strategy.gate_many(files)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        remote = strategy.gate_many(files, executor=client.get_executor())
    pd.testing.assert_frame_equal(serial.counts(), remote.counts())
    assert len(remote.failures) == 1

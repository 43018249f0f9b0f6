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


def test_gate_command_on_a_dask_scheduler(strategy, files, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    from mrdquant.cli.main import main

    xml = str(tmp_path / "s.xml")
    strategy.to_gatingml(xml)
    with distributed.LocalCluster(processes=False, n_workers=1, dashboard_address=None) as cluster:
        rc = main(["gate", xml, *files, "--out", str(tmp_path / "o"), "--no-progress",
                   "--scheduler", cluster.scheduler_address])
    assert rc == 1  # the missing file is reported, the others are gated (contract F)
    counts = pd.read_csv(tmp_path / "o" / "counts.csv")
    serial = strategy.gate_many(files[:-1], sample_ids=[p.rsplit("/", 1)[-1] for p in files[:-1]]).counts()
    assert counts["count"].tolist() == serial["count"].tolist()
    assert (tmp_path / "o" / "errors.csv").exists()


def test_unreachable_scheduler_is_a_clear_error(strategy, files):
    pytest.importorskip("dask.distributed")
    from mrdquant.cli._gate import _gate_on_cluster
    from mrdquant.errors import ConfigError

    with pytest.raises(ConfigError, match="tcp://127.0.0.1:9"):
        _gate_on_cluster(strategy, files[:1], ["a"], "tcp://127.0.0.1:9", timeout=1)

"""Reading a large FCS file needs little memory beyond the event matrix itself."""

from __future__ import annotations

import tracemalloc

import numpy as np

from mrdquant.io.fcs import read_fcs, write_fcs


def test_read_1e6_by_12_float32_peak_memory(tmp_path):
    n, p = 1_000_000, 12
    rng = np.random.default_rng(0)
    events = rng.standard_normal((n, p), dtype=np.float32)
    channels = ["FSC-A", "FSC-H", "SSC-A"] + [f"FL{i}-A" for i in range(1, p - 3)] + ["Time"]
    path = write_fcs(tmp_path / "big.fcs", events, channels, metadata={"timestep": "0.01"})
    matrix_bytes = n * p * 4
    head = events[:100].copy()
    del events
    read_fcs(path)  # warm: imports and compiled kernels are not what we measure
    tracemalloc.start()
    try:
        sample = read_fcs(path)
        _, peak = tracemalloc.get_traced_memory()
        print(f"peak {peak / 2**20:.1f} MiB")
    finally:
        tracemalloc.stop()
    assert sample.events.shape == (n, p) and sample.events.dtype == np.float32
    assert sample.events.nbytes == matrix_bytes
    # the result itself plus at most one more matrix-sized buffer
    assert peak <= 2 * matrix_bytes, f"peak {peak / 2**20:.1f} MiB for a {matrix_bytes / 2**20:.1f} MiB matrix"
    np.testing.assert_array_equal(sample.events[:100, :-1], head[:, :-1])
    np.testing.assert_array_equal(sample.channel("Time")[:100], (head[:, -1].astype(np.float64) * 0.01).astype(np.float32))

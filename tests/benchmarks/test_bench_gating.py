"""The gating benchmark's memory figure is the worker's own peak, not its parent's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_worker_peak_rss_does_not_include_the_parents_high_water_mark():
    # the parent touches 256 MiB (as the benchmark does when it writes its 10M-event file)
    big = np.ones(256 * 2**20 // 8)
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import bench_gating; "
            "print(json.dumps(bench_gating._peak_rss_mb()))")
    out = subprocess.run([sys.executable, "-c", code, str(BENCH)], capture_output=True, text=True, check=True)
    peak = json.loads(out.stdout.strip().splitlines()[-1])
    del big
    # the worker itself (an interpreter with numpy imported) peaks far below 256 MiB
    assert 5 < peak < 150, peak

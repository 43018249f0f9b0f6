"""Micro-benchmark: mrdquant transforms and compensation against FlowUtils and numpy.

Run ``python benchmarks/bench_transforms.py [--events 1000000]``. Prints the median of 5
timed runs after a warm-up (numba compilation excluded), and checks the results agree.
Set ``NUMBA_NUM_THREADS`` to compare thread counts.
"""

from __future__ import annotations

import argparse
import statistics
import time

import flowutils
import numba
import numpy as np

from mrdquant.cytometry.compensation import Compensation
from mrdquant.cytometry.transforms import AsinhTransform, HyperlogTransform, LogicleTransform


def _median_time(fn, repeats: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.events
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 300, n // 2), rng.lognormal(7, 2, n - n // 2)])
    out = np.empty_like(x)
    print(f"{n:,} events, numba threads: {numba.get_num_threads()}")
    print(f"{'task':<28}{'mrdquant ms':>12}{'reference ms':>14}{'ratio':>8}  max |diff|")

    def row(name, ours, ref, diff):
        t_ours, t_ref = _median_time(ours), _median_time(ref)
        print(f"{name:<28}{t_ours * 1e3:>12.1f}{t_ref * 1e3:>14.1f}{t_ref / t_ours:>8.1f}  {diff:.1e}")

    t0 = time.perf_counter()
    lg = LogicleTransform(262144, 0.5, 4.5, 0)
    print(f"LogicleTransform construction: {(time.perf_counter() - t0) * 1e3:.1f} ms "
          f"({lg._table[2].shape[0]} table rows)")
    ref = flowutils.transforms.logicle(x, None, t=262144, m=4.5, w=0.5, a=0)
    row("logicle vs flowutils", lambda: lg.apply(x, out=out),
        lambda: flowutils.transforms.logicle(x, None, t=262144, m=4.5, w=0.5, a=0),
        float(np.max(np.abs(lg.apply(x) - ref))))
    row("logicle vs full Halley", lambda: lg.apply(x, out=out), lambda: lg.solve_exact(x),
        float(np.max(np.abs(lg.apply(x) - lg.solve_exact(x)))))
    hl = HyperlogTransform(262144, 0.5, 4.5, 0)
    ref = flowutils.transforms.hyperlog(x, None, t=262144, m=4.5, w=0.5, a=0)
    row("hyperlog vs flowutils", lambda: hl.apply(x, out=out),
        lambda: flowutils.transforms.hyperlog(x, None, t=262144, m=4.5, w=0.5, a=0),
        float(np.max(np.abs(hl.apply(x) - ref))))
    asi = AsinhTransform(262144, 4.5, 0)
    ref = flowutils.transforms.asinh(x, None, 262144, 4.5, 0)
    row("asinh vs flowutils", lambda: asi.apply(x, out=out),
        lambda: flowutils.transforms.asinh(x, None, 262144, 4.5, 0), float(np.max(np.abs(asi.apply(x) - ref))))

    spill = np.eye(12) + rng.uniform(0, 0.1, (12, 12)) * (1 - np.eye(12))
    dets = [f"FL{i}-A" for i in range(12)]
    comp = Compensation(dets, spill)
    events = rng.normal(1000, 500, (n, 14)).astype(np.float32)
    chans = ["FSC-A", "SSC-A", *dets]
    buf = np.empty(events.shape)

    def numpy_solve():
        res = events.astype(np.float64)
        res[:, 2:] = np.linalg.solve(spill.T, res[:, 2:].T).T
        return res

    diff = float(np.max(np.abs(comp.apply(events, chans) - numpy_solve())))
    row("compensation vs solve", lambda: comp.apply(events, chans, out=buf), numpy_solve, diff)

    def numpy_matmul():
        res = events.astype(np.float64)
        res[:, 2:] = res[:, 2:] @ comp.inverse
        return res

    row("compensation vs numpy @", lambda: comp.apply(events, chans, out=buf), numpy_matmul, diff)


if __name__ == "__main__":
    main()

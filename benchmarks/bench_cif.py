"""Competing-risk benchmark: cumulative incidence + Gray's test on 100,000 patients.

Run from the repository root::

    python benchmarks/bench_cif.py                 # 100,000 patients, 5 repeats
    python benchmarks/bench_cif.py --n 1000000     # a larger cohort

The simulated cohort has three MRD groups, two strata, relapse (1) and non-relapse
mortality (2) as competing causes, follow-up in whole days (heavy ties) and administrative
censoring at 4 years. Times reported: the first call (includes loading or compiling the
numba kernels), then the median of ``--repeats`` calls of

* ``cumulative_incidence`` at every jump, by group,
* ``cumulative_incidence`` at 1, 2, 3, 4 years, by group,
* ``gray_test`` by group, unstratified and stratified,

and their sum (the target is < 2 s for 100,000 patients).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mrdquant.outcomes.cif import cumulative_incidence  # noqa: E402
from mrdquant.outcomes.gray import gray_test  # noqa: E402


def cohort(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    group = rng.choice(np.array(["negative", "single", "combined"], dtype=object), n, p=[0.5, 0.3, 0.2])
    rate = np.select([group == "negative", group == "single"], [1 / 3000, 1 / 1500], 1 / 700)
    t_rel = rng.exponential(1 / rate)
    t_nrm = rng.weibull(0.8, n) * 8000
    t_cen = rng.uniform(180, 3000, n)
    t = np.ceil(np.minimum.reduce([t_rel, t_nrm, t_cen]))
    event = np.where(t_rel <= np.minimum(t_nrm, t_cen), 1, np.where(t_nrm <= t_cen, 2, 0))
    horizon = 4 * 365.25
    event = np.where(t > horizon, 0, event)
    t = np.minimum(t, np.floor(horizon))
    strata = rng.choice(np.array(["center A", "center B"], dtype=object), n)
    return t, event, group, strata


def run_once(t, e, g, s):
    timings = {}
    t0 = time.perf_counter()
    cumulative_incidence(t, e, g)
    t1 = time.perf_counter()
    cumulative_incidence(t, e, g, times=[365.25, 730.5, 1095.75, 1461.0])
    t2 = time.perf_counter()
    gray_test(t, e, g)
    t3 = time.perf_counter()
    gray_test(t, e, g, s)
    t4 = time.perf_counter()
    timings["cif, every jump"] = t1 - t0
    timings["cif, 4 time points"] = t2 - t1
    timings["gray"] = t3 - t2
    timings["gray, stratified"] = t4 - t3
    timings["total"] = t4 - t0
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    t, e, g, s = cohort(args.n)
    print(f"{args.n} patients, {np.unique(t).size} distinct days, events {np.bincount(e).tolist()}")
    first = run_once(t, e, g, s)
    runs = [run_once(t, e, g, s) for _ in range(args.repeats)]
    print(f"{'step':<22}{'first call (s)':>16}{'median (s)':>12}")
    for key in first:
        med = statistics.median(r[key] for r in runs)
        print(f"{key:<22}{first[key]:>16.4f}{med:>12.4f}")
    total = statistics.median(r["total"] for r in runs)
    print(f"target < 2 s: {'met' if total < 2 else 'NOT met'} ({total:.3f} s)")


if __name__ == "__main__":
    main()

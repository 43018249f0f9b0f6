"""Fisher's exact test on R×C tables: run time of ``fisher_exact`` by table size.

Run from the repository root::

    python benchmarks/bench_fisher.py               # every size, 3 repeats
    python benchmarks/bench_fisher.py --repeats 5 --max-steps 200000000

Tables are drawn from a multinomial with equal cell probabilities (seed 0 per size), the
hardest case for the network algorithm (no strong association to prune on). Printed per
table: shape, patients, P, the median time of ``--repeats`` calls (the kernels are
compiled, or loaded from numba's cache, by a warm-up call first), or the bound it exceeded.
The fixed 3×4 table of 245 patients is the one of the R reference tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mrdquant.errors import StatisticalWarning  # noqa: E402
from mrdquant.outcomes.characteristics import FISHER_MAX_STEPS, FISHER_WORKSPACE, fisher_exact  # noqa: E402

SIZES = [
    ((2, 2), 1000),
    ((2, 6), 500),
    ((3, 3), 600),
    ((3, 4), 300),
    ((4, 4), 100),
    ((4, 4), 200),
    ((4, 4), 300),
    ((4, 5), 100),
    ((5, 5), 60),
    ((5, 5), 100),
    ((5, 5), 150),
    ((5, 5), 300),
]


def tables():
    yield "3×4 reference", np.array([[20, 25, 30, 10], [15, 20, 25, 30], [10, 15, 20, 25]])
    for (r, c), n in SIZES:
        rng = np.random.default_rng(0)
        yield f"{r}×{c} uniform", rng.multinomial(n, np.full(r * c, 1.0 / (r * c))).reshape(r, c)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workspace", type=int, default=FISHER_WORKSPACE)
    ap.add_argument("--max-steps", type=int, default=FISHER_MAX_STEPS)
    args = ap.parse_args(argv)
    fisher_exact([[3, 1, 2], [1, 3, 0], [2, 2, 5]])  # compile or load the kernels
    print(f"{'table':<16}{'n':>6}{'P':>14}{'seconds':>10}")
    for name, m in tables():
        times = []
        p = float("nan")
        note = ""
        for _ in range(args.repeats):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", StatisticalWarning)
                t0 = time.perf_counter()
                p = fisher_exact(m, workspace=args.workspace, max_steps=args.max_steps).p_value
                times.append(time.perf_counter() - t0)
            if caught:
                note = "  exceeds " + ("workspace" if "workspace=" in str(caught[0].message) else "max_steps")
                break
        print(f"{name:<16}{int(m.sum()):>6}{p:>14.6g}{statistics.median(times):>10.3f}{note}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

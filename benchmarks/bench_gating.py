"""Gating benchmark: mrdquant against flowkit on the same FCS file and Gating-ML strategy.

Run from the repository root::

    python benchmarks/bench_gating.py            # 1M events, both engines, then 10M mrdquant
    python benchmarks/bench_gating.py --quick    # 200k events, 3 repeats (a smoke run)

What it does

1. Writes a 1,000,000 x 12 float32 FCS file with a $SPILLOVER matrix (8 fluorescence
   detectors) into ``benchmarks/_data/`` (git-ignored), and a 10,000,000-event one.
2. Builds one LAIP strategy (scatter rectangle, CD45/SSC polygon, CD34/CD117 lineage
   polygon, CD13 and CD56 marker ranges, boolean AND, all fluorescence compensated with
   the file's spillover and logicle-transformed) and writes it once as Gating-ML 2.0.
3. Times each engine in its own subprocess (peak RSS is the worker's own ``VmHWM``, the
   same whether or not this script has just written the input files), end to end: read the
   file -> compensate -> transform -> all gates -> counts. One warm-up call (its extra
   time over the median is reported as JIT/first-call overhead), then the median of
   ``--repeats`` timed calls.
4. Checks that every gate's membership is identical between the engines.
5. Times a cold start: a fresh ``python`` process (numba cache warm) that imports
   mrdquant, compiles the strategy, reads, gates and builds the counts table once; the
   figure is the time from spawning the process to the counts table (the process's
   own shut-down, ~0.1-0.3 s of module and thread teardown, is reported separately).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "_data"

CHANNELS = ["FSC-A", "FSC-H", "SSC-A", "CD45", "CD34", "CD117", "CD13", "CD33", "HLA-DR", "CD7", "CD56", "Time"]
DETECTORS = CHANNELS[3:11]
GATES = ["scatter", "cd45_ssc", "lineage", "cd13", "cd56", "laip"]


def make_events(n: int, seed: int = 20240101) -> tuple:
    """Synthetic bone marrow: 5% debris, 70% myeloid, 20% lymphoid, 5% blasts."""
    rng = np.random.default_rng(seed)
    n_blast = n // 20
    n_debris = n // 20
    n_lymph = n // 5
    n_myelo = n - n_blast - n_debris - n_lymph
    true = np.zeros((n, 8))
    kinds = np.repeat(np.arange(4), [n_debris, n_myelo, n_lymph, n_blast])
    means = {  # CD45, CD34, CD117, CD13, CD33, HLA-DR, CD7, CD56 (true fluorescence)
        0: [50, 10, 10, 10, 10, 10, 10, 10],
        1: [3000, 30, 80, 8000, 6000, 300, 40, 60],
        2: [12000, 20, 20, 40, 40, 2000, 3000, 800],
        3: [1200, 9000, 4000, 5000, 3000, 6000, 1500, 2500],
    }
    for k, m in means.items():
        sel = kinds == k
        true[sel] = rng.lognormal(np.log(m), 0.6, size=(sel.sum(), 8))
    true += rng.normal(0, 40, size=true.shape)  # electronic noise -> negatives
    spill = np.eye(8)
    for i in range(7):
        spill[i, i + 1] = 0.12
        spill[i + 1, i] = 0.03
    spill[0, 3] = 0.05
    obs = true @ spill
    fsc = np.where(kinds == 0, rng.uniform(0, 15000, n), rng.normal(90000, 20000, n))
    ssc = np.where(kinds == 1, rng.normal(110000, 25000, n), rng.normal(25000, 8000, n))
    ev = np.empty((n, 12), dtype=np.float32)
    ev[:, 0] = fsc
    ev[:, 1] = fsc * 0.8 + rng.normal(0, 2000, n)
    ev[:, 2] = ssc
    ev[:, 3:11] = obs
    ev[:, 11] = np.linspace(0, 600, n)
    perm = rng.permutation(n)
    return ev[perm], spill


def write_inputs(n: int, name: str) -> Path:
    from pandas import DataFrame

    from mrdquant.io.fcs import write_fcs

    path = DATA / name
    if path.exists():
        return path
    ev, spill = make_events(n)
    sp = DataFrame(spill, index=DETECTORS, columns=DETECTORS)
    write_fcs(path, ev, CHANNELS, spillover=sp)
    return path


def write_strategy(path: Path) -> Path:
    from mrdquant.cytometry.gates import BooleanGate, Dimension, PolygonGate, RectangleGate
    from mrdquant.cytometry.gating import GatingStrategy
    from mrdquant.cytometry.transforms import LogicleTransform

    def fl(ch):
        return Dimension(ch, "FCS", "logicle")

    gates = [
        RectangleGate("scatter", [Dimension("FSC-A"), Dimension("SSC-A")], [30000, 2000], [200000, 250000]),
        PolygonGate("cd45_ssc", [fl("CD45"), Dimension("SSC-A")],
                    [(0.35, 3000), (0.72, 3000), (0.72, 60000), (0.55, 90000), (0.35, 60000)], parent="scatter"),
        PolygonGate("lineage", [fl("CD34"), fl("CD117")],
                    [(0.5, 0.45), (1.0, 0.45), (1.0, 1.0), (0.6, 1.0), (0.5, 0.7)], parent="cd45_ssc"),
        RectangleGate("cd13", [fl("CD13")], [0.55], [None], parent="lineage"),
        RectangleGate("cd56", [fl("CD56")], [0.5], [None], parent="lineage"),
        BooleanGate("laip", "and", ["cd13", "cd56"], parent="lineage"),
    ]
    strat = GatingStrategy(gates, transforms={"logicle": LogicleTransform(T=262144, W=0.5, M=4.5, A=0)})
    return strat.to_gatingml(path)


# ---------------------------------------------------------------------------------------
# workers (run in their own subprocess)
# ---------------------------------------------------------------------------------------

def _peak_rss_mb() -> float:
    """This process's own peak resident set size (MiB): ``VmHWM`` of ``/proc/self/status``.

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux keeps that figure across ``execve``,
    so a worker started by ``subprocess`` reports at least its parent's high-water mark
    (on a first run the parent has just built the 10M-event file in memory: 2.7 GB
    instead of ~0.8 GB). ``VmHWM`` belongs to the memory map, which ``execve`` replaces,
    so it counts only what the worker itself touched. Elsewhere (no ``/proc``) the
    ``ru_maxrss`` figure is returned, which is then an upper bound.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    scale = 1024.0 if sys.platform != "darwin" else 1024.0 * 1024.0  # KiB on Linux, bytes on macOS
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def worker_mrdquant(fcs: str, xml: str, repeats: int, out: str) -> dict:
    t0 = time.perf_counter()
    from mrdquant.cytometry.gating import GatingStrategy
    from mrdquant.io.fcs import read_fcs

    t_import = time.perf_counter() - t0
    strategy = GatingStrategy.from_gatingml(xml)

    def once():
        sample = read_fcs(fcs)
        result = strategy.gate(sample)
        result.counts()
        return result

    times = []
    t = time.perf_counter()
    res = once()
    first = time.perf_counter() - t
    for _ in range(repeats):
        del res
        t = time.perf_counter()
        res = once()
        times.append(time.perf_counter() - t)
    if out:
        np.save(out, np.packbits(np.stack([res.membership(g) for g in GATES]), axis=1))
    counts = {g: res.count(g) for g in GATES}
    return {"first_s": first, "times_s": times, "median_s": float(np.median(times)), "import_s": t_import,
            "peak_rss_mb": _peak_rss_mb(), "n_events": res.n_events, "counts": counts,
            "threads": int(os.environ.get("NUMBA_NUM_THREADS", "0") or 0)}


def worker_flowkit(fcs: str, xml: str, repeats: int, out: str) -> dict:
    t0 = time.perf_counter()
    import flowkit as fk

    t_import = time.perf_counter() - t0
    strategy = fk.parse_gating_xml(xml)
    ids = {gid: path for gid, path in strategy.get_gate_ids()}

    def once():
        sample = fk.Sample(fcs, sample_id="s")
        res = strategy.gate_sample(sample)
        res.report  # counts table
        return res

    times = []
    t = time.perf_counter()
    res = once()
    first = time.perf_counter() - t
    for _ in range(repeats):
        del res
        t = time.perf_counter()
        res = once()
        times.append(time.perf_counter() - t)
    masks = np.stack([res.get_gate_membership(g, gate_path=ids[g]) for g in GATES])
    if out:
        np.save(out, np.packbits(masks, axis=1))
    return {"first_s": first, "times_s": times, "median_s": float(np.median(times)), "import_s": t_import,
            "peak_rss_mb": _peak_rss_mb(), "n_events": int(masks.shape[1]),
            "counts": {g: int(m.sum()) for g, m in zip(GATES, masks)}}


def worker_cold(fcs: str, xml: str) -> dict:
    t0 = time.perf_counter()
    from mrdquant.cytometry.gating import GatingStrategy
    from mrdquant.io.fcs import read_fcs

    t1 = time.perf_counter()
    strategy = GatingStrategy.from_gatingml(xml)  # first numba use: loads the kernel cache
    t2 = time.perf_counter()
    r = strategy.gate(read_fcs(fcs))
    r.counts()
    t3 = time.perf_counter()
    # wall-clock time of the result, for the parent's "spawn -> counts table" figure
    return {"peak_rss_mb": _peak_rss_mb(), "import_s": t1 - t0, "strategy_s": t2 - t1, "gate_s": t3 - t2,
            "result_at": time.time()}


def _run_worker(kind: str, fcs: Path, xml: Path, repeats: int, out: str, threads: int,
                extra_env: dict | None = None) -> dict:
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), **(extra_env or {}))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--fcs", str(fcs), "--xml", str(xml),
           "--repeats", str(repeats), "--mask-out", out]
    started = time.time()
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{proc.stderr}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["process_wall_s"] = wall
    if "result_at" in res:  # spawn -> result (interpreter start-up included, its shut-down not)
        res["to_result_s"] = res["result_at"] - started
    return res


def machine() -> str:
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")), "")
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    return f"nproc={os.cpu_count()}, CPU {model or platform.processor()}, {mem}, Python {platform.python_version()}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", choices=["mrdquant", "flowkit", "cold"])
    ap.add_argument("--fcs")
    ap.add_argument("--xml")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--mask-out", default="")
    ap.add_argument("--threads", type=int, default=2, help="numba threads (default 2)")
    ap.add_argument("--quick", action="store_true", help="200k events, 3 repeats, no 10M run")
    ap.add_argument("--skip-10m", action="store_true")
    args = ap.parse_args(argv)

    if args.worker:
        if args.worker == "mrdquant":
            res = worker_mrdquant(args.fcs, args.xml, args.repeats, args.mask_out)
        elif args.worker == "flowkit":
            res = worker_flowkit(args.fcs, args.xml, args.repeats, args.mask_out)
        else:
            res = worker_cold(args.fcs, args.xml)
        print(json.dumps(res))
        return

    sys.path.insert(0, str(ROOT))
    DATA.mkdir(parents=True, exist_ok=True)
    n = 200_000 if args.quick else 1_000_000
    repeats = 3 if args.quick else max(5, args.repeats)
    print(f"machine: {machine()}; numba threads: {args.threads}; load average at start: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    t = time.perf_counter()
    fcs = write_inputs(n, f"laip_{n}.fcs")
    xml = write_strategy(DATA / "laip_strategy.xml")
    print(f"inputs: {fcs.name} ({fcs.stat().st_size / 1e6:.0f} MB), {xml.name} ({time.perf_counter() - t:.1f} s)")

    with tempfile.TemporaryDirectory() as tmp:
        mq = _run_worker("mrdquant", fcs, xml, repeats, os.path.join(tmp, "mq.npy"), args.threads)
        fk = _run_worker("flowkit", fcs, xml, repeats, os.path.join(tmp, "fk.npy"), args.threads)
        same = np.array_equal(np.load(os.path.join(tmp, "mq.npy")), np.load(os.path.join(tmp, "fk.npy")))
    print(f"counts mrdquant: {mq['counts']}")
    print(f"counts flowkit : {fk['counts']}")
    if not same:
        raise SystemExit("MEMBERSHIPS DIFFER between mrdquant and flowkit")
    print("memberships identical for all gates: yes")
    for name, r in (("mrdquant", mq), ("flowkit", fk)):
        print(f"{name:9s} end-to-end median {r['median_s'] * 1e3:8.1f} ms (min {min(r['times_s']) * 1e3:.1f})  "
              f"({r['n_events'] / r['median_s'] / 1e6:6.2f} M events/s)  first call {r['first_s'] * 1e3:8.1f} ms "
              f"(first-call overhead, numba cache warm: {max(0.0, r['first_s'] - r['median_s']) * 1e3:.1f} ms)  "
              f"import {r['import_s']:.2f} s  peak RSS {r['peak_rss_mb']:.0f} MB")
    print(f"speed-up (flowkit / mrdquant): {fk['median_s'] / mq['median_s']:.1f}x")

    with tempfile.TemporaryDirectory() as cache:
        # an empty numba cache: the first call compiles every kernel it uses
        jit = _run_worker("mrdquant", fcs, xml, 1, "", args.threads, {"NUMBA_CACHE_DIR": cache})
    print(f"JIT compilation (empty numba cache, first call minus a warm call): "
          f"{jit['first_s'] - jit['median_s']:.2f} s")
    colds = [_run_worker("cold", fcs, xml, 0, "", args.threads) for _ in range(5)]
    mid = sorted(colds, key=lambda c: c["to_result_s"])[2]
    walls = sorted(c["process_wall_s"] for c in colds)
    print(f"cold start (new process, numba cache warm: interpreter start + import + strategy + read + gate + "
          f"counts table), median of 5: {mid['to_result_s']:.2f} s (import mrdquant {mid['import_s']:.2f} s, "
          f"strategy + numba cache load {mid['strategy_s']:.2f} s, read + gate + counts {mid['gate_s']:.2f} s); "
          f"whole process including interpreter shut-down: median {walls[2]:.2f} s")

    if not (args.quick or args.skip_10m):
        big = write_inputs(10_000_000, "laip_10000000.fcs")
        r = _run_worker("mrdquant", big, xml, 3, "", args.threads)
        matrix_mb = 10_000_000 * 12 * 4 / 2**20
        print(f"mrdquant 10M x 12: median {r['median_s']:.2f} s ({10 / r['median_s']:.1f} M events/s), "
              f"peak RSS {r['peak_rss_mb']:.0f} MB = {r['peak_rss_mb'] / matrix_mb:.2f} x the float32 "
              f"event matrix ({matrix_mb:.0f} MB)")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

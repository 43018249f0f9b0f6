"""Throughput and memory of ``mrdquant run`` over many 1,000,000-event FCS files.

A script, not a test. It writes a study folder of N simulated B-ALL tubes into /tmp (K
distinct simulated tubes, copied to N files with their own names: every file is a separate
input and is read, hashed, gated and committed on its own), then runs the study:

- ``local``: the per-file work in the coordinating process;
- ``workers=2``: a local dask.distributed cluster of 2 worker processes.

Each mode starts from an empty store. After every committed FCS file the script records the
resident set size (RSS) of the coordinating process and of all its child processes
(the dask workers and nanny processes), so "memory flat" can be checked file by file: the
slope of RSS against the file index over the second half of the run (MB per file) and the
RSS at 10 %, 50 % and 100 % of the files.

Usage::

    python benchmarks/bench_run.py --files 200                  # the issue's figure
    python benchmarks/bench_run.py --files 20 --distinct 4      # quicker
    python benchmarks/bench_run.py --modes local                # one mode
    python benchmarks/bench_run.py --method panel               # panel gating (quantify_mfc)

Run it from the repository root (``python benchmarks/bench_run.py``) so the checkout's
mrdquant is imported. Results go to stdout (a Markdown table) and ``<out>/bench_run.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

STUDY_TOML = """\
[study]
name = "bench"
profile = "puih_2020"
results = "results"
store = "mrdquant.sqlite"

[flow]
files = ["flow/*.fcs"]
panel = "B-ALL"
{method}
"""

#: the ``[flow]`` lines of each --method: the fixed Gating-ML strategy, or panel gating
#: (mrdquant.quantify_mfc: QC and gates placed per file) with or without gating pages
METHODS = {
    "strategy": 'strategy = "b_all_laip.xml"',
    "panel": "plots = false",
    "panel-plots": "plots = true",
}


def make_study(root: Path, n_files: int, n_events: int, distinct: int, method: str = "strategy") -> Path:
    """Write (or reuse) the study folder: ``distinct`` simulated tubes copied to ``n_files``."""
    from mrdquant.simulate._flow_gatingml import write_b_all_laip_gatingml
    from mrdquant.simulate.flow import write_bone_marrow_fcs

    pool = root / "pool"
    pool.mkdir(parents=True, exist_ok=True)
    sources = []
    for k in range(distinct):
        path = pool / f"tube_{n_events}_{k}.fcs"
        if not path.exists():
            t0 = time.perf_counter()
            write_bone_marrow_fcs(path, "B-ALL", n_events, mrd_fraction=10 ** -(2 + k % 3), seed=1000 + k)
            print(f"simulated {path.name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        sources.append(path)
    study = root / f"study_{n_files}x{n_events}"
    flow = study / "flow"
    flow.mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        dest = flow / f"file_{i:04d}.fcs"
        if not dest.exists():
            shutil.copyfile(sources[i % distinct], dest)
    for extra in sorted(flow.glob("file_*.fcs"))[n_files:]:
        extra.unlink()
    write_b_all_laip_gatingml(study / "b_all_laip.xml")
    (study / "study.toml").write_text(STUDY_TOML.format(method=METHODS[method]), encoding="utf-8")
    return study


def rss_mb(proc) -> tuple[float, float]:
    """(coordinator RSS, coordinator + all children RSS) in MB."""
    own = proc.memory_info().rss
    total = own
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except Exception:  # a child that just exited
            pass
    return own / 2**20, total / 2**20


def run_mode(study_dir: Path, workers: int | None) -> dict:
    import psutil

    from mrdquant.study import load_study, run_study
    from mrdquant.study.progress import Progress

    for name in ("mrdquant.sqlite", "mrdquant.sqlite-journal"):
        (study_dir / name).unlink(missing_ok=True)
    shutil.rmtree(study_dir / "results", ignore_errors=True)
    proc = psutil.Process()
    samples: list[tuple[float, float, float]] = []

    stage_start: dict[str, float] = {}

    class Recording(Progress):
        """Records (time, RSS) after every committed FCS file (the "flow" step only)."""

        def start(self, stage: str, total: int, *, every: int = 1) -> None:
            stage_start[stage] = time.perf_counter()
            super().start(stage, total, every=every)

        def advance(self, label: str, status: str = "ok") -> None:
            super().advance(label, status)
            if self._stage == "flow":
                own, total = rss_mb(proc)
                samples.append((time.perf_counter(), own, total))

    study = load_study(study_dir)
    t0 = time.perf_counter()
    summary = run_study(study, workers=workers, progress=Recording(enabled=True))
    elapsed = time.perf_counter() - t0
    assert summary.n_failed == 0, summary.failures
    n = len(samples)
    idx = np.arange(1, n + 1)
    own = np.array([s[1] for s in samples])
    total = np.array([s[2] for s in samples])
    half = slice(n // 2, n)
    slope_own = float(np.polyfit(idx[half], own[half], 1)[0]) if n >= 4 else float("nan")
    slope_total = float(np.polyfit(idx[half], total[half], 1)[0]) if n >= 4 else float("nan")
    flow_start = stage_start["flow"]
    first_done = samples[0][0] - flow_start
    steady = (n - 1) / (samples[-1][0] - samples[0][0]) * 60 if n > 1 else float("nan")
    return {
        "mode": "local" if not workers else f"workers={workers}",
        "files": n,
        "elapsed_s": elapsed,
        "hash_s": flow_start - stage_start.get("hash", flow_start),
        "flow_s": samples[-1][0] - flow_start,
        "files_per_min": n / elapsed * 60,
        "flow_files_per_min": n / (samples[-1][0] - flow_start) * 60,
        "files_per_min_after_first": steady,
        "first_file_s": first_done,
        "rss_own_mb": {"10%": float(own[max(0, n // 10 - 1)]), "50%": float(own[n // 2 - 1]), "100%": float(own[-1])},
        "rss_total_mb": {"10%": float(total[max(0, n // 10 - 1)]), "50%": float(total[n // 2 - 1]),
                         "100%": float(total[-1])},
        "rss_slope_own_mb_per_file": slope_own,
        "rss_slope_total_mb_per_file": slope_total,
        "load_average": os.getloadavg(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--distinct", type=int, default=8, help="distinct simulated tubes (copied to --files files)")
    ap.add_argument("--modes", nargs="+", default=["local", "workers2"], choices=["local", "workers2"])
    ap.add_argument("--out", type=Path, default=Path("/tmp/mrdquant_bench_run"))
    ap.add_argument("--method", default="strategy", choices=sorted(METHODS),
                    help="strategy: the bundled Gating-ML strategy; panel: quantify_mfc (placement per file); "
                         "panel-plots: quantify_mfc and a gating page per file")
    args = ap.parse_args()

    study = make_study(args.out, args.files, args.events, args.distinct, args.method)
    results = []
    for mode in args.modes:
        print(f"--- {mode}: {args.files} files x {args.events:,} events", file=sys.stderr)
        results.append(run_mode(study, None if mode == "local" else 2))
    record = {"files": args.files, "events": args.events, "distinct": args.distinct, "method": args.method,
              "nproc": os.cpu_count(),
              "results": results}
    (args.out / "bench_run.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    print(f"\n{args.files} files x {args.events:,} events, --method {args.method}, {os.cpu_count()} cores\n")
    print("| mode | files/min (whole run) | files/min (flow step) | after 1st file | wall s | hashing s | "
          "coordinator RSS MB 10%/50%/100% | slope MB/file | coordinator+workers RSS MB 10%/50%/100% | "
          "slope MB/file | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        o, t = r["rss_own_mb"], r["rss_total_mb"]
        print(f"| {r['mode']} | {r['files_per_min']:.1f} | {r['flow_files_per_min']:.1f} | "
              f"{r['files_per_min_after_first']:.1f} | {r['elapsed_s']:.0f} | {r['hash_s']:.0f} | "
              f"{o['10%']:.0f}/{o['50%']:.0f}/{o['100%']:.0f} | "
              f"{r['rss_slope_own_mb_per_file']:+.2f} | {t['10%']:.0f}/{t['50%']:.0f}/{t['100%']:.0f} | "
              f"{r['rss_slope_total_mb_per_file']:+.2f} | {r['load_average'][0]:.1f} |")


if __name__ == "__main__":
    main()

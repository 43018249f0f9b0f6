"""Flow MRD benchmark: ``quantify_mfc`` (QC + per-sample placement + LAIP) against fixed gating.

Run from the repository root::

    python benchmarks/bench_mfc.py              # 1,000,000 events, 5 repeats
    python benchmarks/bench_mfc.py --quick      # 200,000 events, 3 repeats (a smoke run)
    python benchmarks/bench_mfc.py --no-flowkit # skip the flowkit reference

What it does

1. Writes a simulated B-ALL follow-up tube (``write_bone_marrow_fcs``, MRD 1e-3, seed 0)
   into ``benchmarks/_data/`` (git-ignored) and the bundled B-ALL LAIP strategy beside it
   as Gating-ML 2.0.
2. Times, end to end from the FCS path (read -> compensate -> transform -> gates -> counts):

   * ``quantify_mfc(path, "B-ALL")``: time QC, singlets, every gate placed from this
     file's densities, LAIP, MRD call;
   * ``GatingStrategy.from_gatingml(xml).gate(path).counts()``: the same tube gated with a
     fixed strategy (gates compiled once, outside the timing);
   * flowkit (reference): ``fk.Sample(path)`` + ``gate_sample`` + ``report``.

   Each: one warm-up call (numba caches, file cache), then the median of ``--repeats``.
3. Prints the times, events/s and the ratio quantify_mfc / fixed gating (goal <= 3x):
   the ratio of the two medians, and the median ratio of ``--repeats`` interleaved pairs
   (one call of each, back to back: both under the same load on a shared machine).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from mrdquant.cytometry.gating import GatingStrategy  # noqa: E402
from mrdquant.mfc import quantify_mfc  # noqa: E402
from mrdquant.simulate._flow_gatingml import LAIP_GATE, write_b_all_laip_gatingml  # noqa: E402
from mrdquant.simulate.flow import write_bone_marrow_fcs  # noqa: E402

DATA = HERE / "_data"


def _timed(fn, repeats: int) -> tuple[float, float, object]:
    """(first call s, median of ``repeats`` calls s, last result)."""
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="200,000 events, 3 repeats")
    ap.add_argument("--no-flowkit", action="store_true")
    args = ap.parse_args(argv)
    n, repeats = (200_000, 3) if args.quick else (args.events, args.repeats)

    DATA.mkdir(exist_ok=True)
    fcs = DATA / f"mfc_b_all_{n}.fcs"
    xml = DATA / "b_all_laip.xml"
    if not fcs.exists():
        write_bone_marrow_fcs(fcs, "B-ALL", n, mrd_fraction=1e-3, seed=0)
    write_b_all_laip_gatingml(xml)
    print(f"file: {fcs.name}, {n:,} events; python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")

    strategy = GatingStrategy.from_gatingml(xml)

    def fixed():
        res = strategy.gate(fcs)
        return res.counts()

    def adaptive():
        return quantify_mfc(fcs, "B-ALL")

    rows = []
    first, med, res = _timed(adaptive, repeats)
    rows.append(("quantify_mfc (QC + placement + LAIP)", first, med))
    print(f"  quantify_mfc: LAIP {res.laip_events:,} / denominator {res.denominator_events:,} = {res.mrd_pct:.4f} %")
    first, med, counts = _timed(fixed, repeats)
    rows.append(("fixed strategy (GatingStrategy.gate)", first, med))
    laip_row = counts[counts["gate"] == LAIP_GATE] if "gate" in counts.columns else None
    if laip_row is not None and len(laip_row):
        print(f"  fixed strategy: LAIP {int(laip_row.iloc[0]['count']):,} events")
    if not args.no_flowkit:
        try:
            import flowkit as fk
        except ImportError:
            print("  flowkit not installed: reference skipped")
        else:
            fk_strategy = fk.parse_gating_xml(str(xml))

            def flowkit_run():
                r = fk_strategy.gate_sample(fk.Sample(str(fcs)))
                return r.report

            first, med, _ = _timed(flowkit_run, max(1, min(repeats, 3)))
            rows.append((f"flowkit {fk.__version__} (same fixed strategy)", first, med))

    print(f"\n{'':42s} {'first call':>11s} {'median':>10s} {'events/s':>10s}")
    for name, first, med in rows:
        print(f"{name:42s} {first * 1e3:9.1f} ms {med * 1e3:8.1f} ms {n / med / 1e6:8.2f} M")
    ratio = rows[0][2] / rows[1][2]
    print(f"\nquantify_mfc / fixed gating: {ratio:.2f}x (goal <= 3x; medians of the two series above)")
    # the same comparison with the calls interleaved, so that both see the same moments
    # of a shared machine's load: the median of the per-pair ratios
    pairs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        adaptive()
        t1 = time.perf_counter()
        fixed()
        pairs.append((t1 - t0) / (time.perf_counter() - t1))
    print(f"quantify_mfc / fixed gating, interleaved pairs: median {statistics.median(pairs):.2f}x "
          f"(range {min(pairs):.2f}-{max(pairs):.2f}x over {repeats} pairs)")
    if len(rows) > 2:
        print(f"flowkit / quantify_mfc: {rows[2][2] / rows[0][2]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

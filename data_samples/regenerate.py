"""Regenerate the bundled example inputs in this folder from the simulators.

Usage (from the repository root)::

    python data_samples/regenerate.py

or, equivalently, ``mrdquant simulate data-samples --out data_samples``. The output is
deterministic (fixed seeds), so a regeneration reproduces the committed files.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(outdir: Path) -> list[Path]:
    from mrdquant.simulate import cohort, flow, qpcr

    written: list[Path] = []
    written += flow.write_data_samples(outdir / "flow")
    written += qpcr.write_data_samples(outdir / "qpcr")
    written += cohort.write_data_samples(outdir / "cohort")
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    for path in main(target):
        print(path)

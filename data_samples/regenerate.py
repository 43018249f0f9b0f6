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
    try:
        from mrdquant.simulate.bundle import write_all_data_samples
    except ModuleNotFoundError:  # a source checkout without an install: use the tree beside us
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from mrdquant.simulate.bundle import write_all_data_samples

    return write_all_data_samples(outdir)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    for path in main(target):
        print(path)

"""Install size and ``import mrdquant`` time of a fresh ``pip install`` (issue 13, item 15).

Usage::

    python benchmarks/bench_install.py SOURCE VENV [--repeat 7]

SOURCE is a checkout (or an exported tree) of the project, VENV a new folder. The script
creates the virtual environment, runs ``VENV/bin/pip install SOURCE``, then prints the
size of ``site-packages`` (``du -sk``), the number of installed distributions, and the
median wall time of ``python -c "import mrdquant"`` and of ``mrdquant --version`` over
``--repeat`` fresh interpreters (after one warm-up run, so bytecode is compiled).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _run(cmd: list[str]) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def _median_seconds(cmd: list[str], repeat: int) -> float:
    _run(cmd)  # warm-up: compiles bytecode
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        _run(cmd)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("venv", type=Path)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    py = args.venv / "bin" / "python"
    if not py.exists():
        _run([sys.executable, "-m", "venv", str(args.venv)])
        _run([str(py), "-m", "pip", "install", "--quiet", str(args.source)])
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    size_kb = int(_run(["du", "-sk", str(site)]).split()[0])
    dists = json.loads(_run([str(py), "-m", "pip", "list", "--format", "json"]))
    result = {
        "site_packages_mb": round(size_kb / 1024, 1),
        "distributions": len(dists),
        "import_mrdquant_s": round(_median_seconds([str(py), "-c", "import mrdquant"], args.repeat), 3),
        "mrdquant_version_s": round(_median_seconds([str(args.venv / "bin" / "mrdquant"), "--version"], args.repeat), 3),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

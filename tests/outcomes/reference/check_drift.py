"""Regenerate the R reference files of this folder and fail if they drifted.

Convention for every reference script in this folder
----------------------------------------------------
* ``<name>.R`` is run as ``Rscript <name>.R <output.json>``: the output path is its only
  argument, and it writes one JSON document there.
* The JSON holds both the inputs (data sets) and R's results, so the Python tests read it
  where R is absent. It is committed next to the script as ``<name>.json``.
* Numbers are written with ``sprintf("%.17g")`` so they round-trip exactly; NA is ``null``.
* Provenance that may change without the numbers changing (R and package versions) lives
  in a top-level ``"meta"`` object or in top-level keys ending in ``"_version"``; those are
  not compared.

Comparison: same keys, same list lengths, equal strings/booleans/nulls, and numbers equal
within a relative tolerance of 1e-9 (absolute 1e-12 near zero).

Usage::

    python tests/outcomes/reference/check_drift.py [--rel-tol 1e-9] [--abs-tol 1e-12]

Exit status 0 when every script reproduces its JSON, or when ``Rscript`` is not installed
(prints ``skipped: Rscript not found``); 1 with a readable list of differences otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAX_REPORTED = 20


def _ignored(key: str) -> bool:
    return key == "meta" or key.endswith("_version")


def compare(old, new, path: str, rel_tol: float, abs_tol: float, out: list[str]) -> None:
    """Append a line to ``out`` for every difference between two JSON values."""
    if isinstance(old, bool) or isinstance(new, bool) or old is None or new is None or isinstance(old, str):
        if old != new or type(old) is not type(new):
            out.append(f"{path}: {old!r} -> {new!r}")
        return
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        a, b = float(old), float(new)
        if math.isnan(a) and math.isnan(b):
            return
        if a == b or math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol):
            return
        out.append(f"{path}: {a!r} -> {b!r} (difference {b - a:.3g})")
        return
    if isinstance(old, dict) and isinstance(new, dict):
        keys_old = {k for k in old if not (path == "" and _ignored(k))}
        keys_new = {k for k in new if not (path == "" and _ignored(k))}
        for k in sorted(keys_old - keys_new):
            out.append(f"{path}/{k}: removed")
        for k in sorted(keys_new - keys_old):
            out.append(f"{path}/{k}: added")
        for k in sorted(keys_old & keys_new):
            compare(old[k], new[k], f"{path}/{k}", rel_tol, abs_tol, out)
        return
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            out.append(f"{path}: length {len(old)} -> {len(new)}")
            return
        for i, (a, b) in enumerate(zip(old, new)):
            compare(a, b, f"{path}[{i}]", rel_tol, abs_tol, out)
        return
    out.append(f"{path}: {type(old).__name__} -> {type(new).__name__}")


def check_script(script: Path, rscript: str, rel_tol: float, abs_tol: float) -> list[str]:
    """Run one script into a temporary file and compare it with its committed JSON."""
    committed = script.with_suffix(".json")
    if not committed.is_file():
        return [f"{committed.name}: missing (run: Rscript {script.name} {committed.name})"]
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / committed.name
        proc = subprocess.run(
            [rscript, str(script), str(fresh)], cwd=script.parent, capture_output=True, text=True
        )
        if proc.returncode != 0 or not fresh.is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
            return [f"{script.name}: Rscript failed (exit {proc.returncode}): " + " | ".join(tail)]
        new = json.loads(fresh.read_text())
    old = json.loads(committed.read_text())
    diffs: list[str] = []
    compare(old, new, "", rel_tol, abs_tol, diffs)
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rel-tol", type=float, default=1e-9)
    parser.add_argument("--abs-tol", type=float, default=1e-12)
    args = parser.parse_args(argv)
    rscript = shutil.which("Rscript")
    if rscript is None:
        print("skipped: Rscript not found")
        return 0
    failed = False
    for script in sorted(HERE.glob("*.R")):
        diffs = check_script(script, rscript, args.rel_tol, args.abs_tol)
        if diffs:
            failed = True
            print(f"DRIFT {script.name} vs {script.with_suffix('.json').name}: {len(diffs)} difference(s)")
            for line in diffs[:MAX_REPORTED]:
                print(f"  {line}")
            if len(diffs) > MAX_REPORTED:
                print(f"  ... and {len(diffs) - MAX_REPORTED} more")
        else:
            print(f"ok {script.name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

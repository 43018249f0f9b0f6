"""Comma/semicolon-separated exports: Bio-Rad CFX (Maestro / Manager) and the generic CSV.

**CFX**: the ``Quantification Cq Results`` CSV (columns ``Well, Fluor, Target, Content,
Sample, Cq, ..., Starting Quantity (SQ)``); ``Content`` holds ``Unkn``/``Std``/``NTC``
with optional replicate suffixes (``Std-01``), no amplification is ``NaN``, and an empty
``Target`` falls back to ``Fluor``.

**Generic CSV** (documented in ``docs/qpcr.md``): one header row then one row per well,
comma, semicolon or tab separated. Required columns: ``sample``, ``target``, ``ct``;
optional: ``well``, ``role`` (default ``unknown``), ``quantity``, ``plate``. Any header
variant known to :mod:`mrdquant.io._qpcr_headers` is accepted.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from ..errors import QPCRError
from ._qpcr_headers import canonical_header
from ._qpcr_quantstudio import read_text_lines
from ._qpcr_table import wells_from_rows

__all__ = ["read_delimited"]


def _sniff(lines: list[str]) -> str:
    head = "\n".join(lines[:20])
    counts = {d: head.count(d) for d in (",", ";", "\t")}
    return max(counts, key=counts.get)


def read_delimited(
    path: Path, *, plate: str, last_cycle: float | None = None, cycles: float | None = None
) -> pd.DataFrame:
    """Read a CFX results CSV or a generic well CSV."""
    source = path.name
    lines, encoding = read_text_lines(path)
    delimiter = _sniff(lines)
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    for i, row in enumerate(rows[:50]):
        fields = {canonical_header(c) for c in row}
        if "ct" in fields and ({"well", "well_position"} & fields):
            return wells_from_rows(rows, source=source, plate=plate, what="the CSV table", header_row=i,
                                   last_cycle=last_cycle, encoding=encoding, cycles=cycles,
                                   cycles_basis=None if cycles is None else f"cycles={cycles:g} given")
    header = rows[0] if rows else []
    fields = {canonical_header(c) for c in header}
    missing = [f for f in ("sample", "target", "ct") if f not in fields]
    if missing:
        raise QPCRError(
            f"{source}: generic qPCR CSV needs columns sample, target and ct in its first row; "
            f"missing {missing} (header: {header}; text decoded as {encoding})"
        )
    df = wells_from_rows(rows, source=source, plate=plate, what="the CSV table", header_row=0,
                         last_cycle=last_cycle, require_well=False, encoding=encoding, cycles=cycles,
                         cycles_basis=None if cycles is None else f"cycles={cycles:g} given")
    return df

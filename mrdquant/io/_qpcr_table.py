"""Turn a results table of strings (any instrument, any header dialect) into tidy wells.

The per-format readers locate the results table in their file (a ``[Results]`` section,
a ``Results`` sheet, a CSV) and hand its rows here as lists of cells; this module finds
the header row, maps its cells to canonical fields and builds the well table.
"""

from __future__ import annotations

import math
import re
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import QPCRError
from ._qpcr_headers import canonical_header, header_key, normalize_role, parse_ct, parse_number

__all__ = [
    "WELL_COLUMNS", "DEFAULT_MAX_CYCLES", "find_header_row", "wells_from_rows", "empty_wells",
    "normalize_well", "check_ct_range",
]

#: column order of the tidy well table
WELL_COLUMNS = ["plate", "well", "sample", "target", "role", "ct", "quantity", "flags", "source_file", "task"]

#: cycles of a run whose export does not say (usual protocols run 40-50 cycles): a Ct above
#: this is impossible
DEFAULT_MAX_CYCLES = 50

_GENOTYPING_MARKERS = ("snp assay name", "allele1 ct", "allele2 ct", "allele1 name")
_WELL_LABEL = re.compile(r"^([A-Pa-p])0*(\d{1,2})$")


def empty_wells() -> pd.DataFrame:
    """A well table with no rows and the fixed columns and dtypes."""
    return _typed(pd.DataFrame({c: [] for c in WELL_COLUMNS}))


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    df = df[WELL_COLUMNS].copy()
    for col in ("plate", "well", "sample", "target", "role", "flags", "source_file", "task"):
        df[col] = df[col].astype(object).where(df[col].notna(), "").astype(str)
    df["ct"] = df["ct"].astype(float)
    df["quantity"] = df["quantity"].astype(float)
    return df.reset_index(drop=True)


def normalize_well(text: object) -> str:
    """``A01`` -> ``A1``; anything else is returned stripped."""
    s = "" if text is None else str(text).strip()
    m = _WELL_LABEL.match(s)
    return f"{m.group(1).upper()}{int(m.group(2))}" if m else s


def _cell(row: Sequence[object], i: int) -> str:
    if i >= len(row):
        return ""
    value = row[i]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _cycle_limit(cycles: float | None, basis: str | None) -> tuple[float, str]:
    if cycles is None:
        return float(DEFAULT_MAX_CYCLES), (
            f"{DEFAULT_MAX_CYCLES} assumed, the longest usual protocol: the export does not state its "
            "cycles; pass cycles= for a longer run"
        )
    return float(cycles), basis or f"{cycles:g} cycles"


def check_ct_range(wells: pd.DataFrame, *, cycles: float | None = None) -> None:
    """Refuse a well table holding an impossible Ct.

    Every Ct of a well that is not ``omitted`` must lie in ``0 < Ct <= cycles``: a Ct is the
    cycle at which a reaction crossed the threshold, so a Ct of 0, a negative Ct or one
    beyond the last cycle is a transcription or export error, and would turn into an
    absurd copy number (a Ct of -5 gives ~10^13 copies on a usual curve).

    Parameters
    ----------
    wells : pandas.DataFrame
        A well table (:func:`mrdquant.read_qpcr` columns ``ct``, ``flags``, ``well``).
    cycles : float, optional, cycles
        Cycles of the run(s); default :data:`DEFAULT_MAX_CYCLES`.

    Raises
    ------
    QPCRError
        Naming the file (``source_file``), well, target, sample and value of the first
        such well and how many there are.
    """
    limit, basis = _cycle_limit(cycles, None if cycles is None else "cycles given")
    try:
        ct = pd.to_numeric(wells["ct"], errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise QPCRError(f"wells table: column 'ct' is not numeric ({exc}); expected cycles or NaN") from exc
    flags = wells["flags"].astype(str) if "flags" in wells else pd.Series("", index=wells.index)
    usable = ~flags.str.contains("omitted", regex=False).to_numpy(dtype=bool)
    bad = np.flatnonzero(usable & np.isfinite(ct) & ~((ct > 0) & (ct <= limit)))
    if bad.size:
        row = wells.iloc[int(bad[0])]
        where = str(row.get("source_file", "") or "wells table")
        raise QPCRError(
            f"{where}: well {row.get('well', '?')} (target {row.get('target', '?')!r}, sample "
            f"{row.get('sample', '?')!r}): Ct {ct[bad[0]]:g} is outside the run's cycle range "
            f"0 < Ct <= {limit:g} ({basis}); {bad.size} well(s) with an impossible Ct"
        )


def find_header_row(
    rows: Sequence[Sequence[object]], *, source: str, what: str, encoding: str | None = None
) -> int:
    """Index of the first row naming a well column and a Ct/Cq column.

    Raises
    ------
    QPCRError
        No such row (the message says which table was searched and what was seen).
    """
    for i, row in enumerate(rows):
        fields = {canonical_header(c) for c in row}
        if "ct" in fields and ({"well", "well_position"} & fields):
            return i
    keys = [header_key(c) for row in rows[:50] for c in row]
    if any(k in _GENOTYPING_MARKERS for k in keys):
        raise QPCRError(
            f"{source}: {what} holds a genotyping (SNP allele call) run, not a quantification "
            "run: there is no per-target Ct/Cq results table"
        )
    decoded = f" (text decoded as {encoding})" if encoding else ""
    raise QPCRError(
        f"{source}: {what} has no results header row naming a well column ('Well'/'Well Position') "
        f"and a Ct column ('CT', 'Ct', 'Cq', 'Cт'){decoded}"
    )


def wells_from_rows(
    rows: Sequence[Sequence[object]],
    *,
    source: str,
    plate: str,
    what: str = "the results table",
    header_row: int | None = None,
    last_cycle: float | None = None,
    require_well: bool = True,
    encoding: str | None = None,
    cycles: float | None = None,
    cycles_basis: str | None = None,
) -> pd.DataFrame:
    """Build the tidy well table from a table of cells whose header row is ``header_row``.

    Parameters
    ----------
    rows : sequence of sequences of cells (str, float or None)
    source : str
        File name for messages and the ``source_file`` column.
    plate : str
        Plate id used when the table has no ``Plate`` column.
    header_row : int, optional
        Found with :func:`find_header_row` when omitted.
    last_cycle : float, optional, cycles
        A Ct at or beyond this cycle is read as no amplification (flag ``cq_at_last_cycle``).
    encoding : str, optional
        The text encoding the rows were decoded with (named in header errors).
    cycles : float, optional, cycles
        Cycles of the run; a Ct outside ``0 < Ct <= cycles`` is an error (a flagged
        ``ct_out_of_range`` well without Ct when the export omits the well). Default
        :data:`DEFAULT_MAX_CYCLES`.
    cycles_basis : str, optional
        Where ``cycles`` came from, for the message.
    """
    limit, basis = _cycle_limit(cycles, cycles_basis)
    if header_row is None:
        header_row = find_header_row(rows, source=source, what=what, encoding=encoding)
    header = list(rows[header_row])
    index: dict[str, int] = {}
    for j, cell in enumerate(header):
        field = canonical_header(cell)
        if field is not None and field not in index:  # duplicated columns: first one wins
            index[field] = j
    if "ct" not in index:
        raise QPCRError(f"{source}: {what} has no Ct column ('CT', 'Ct', 'Cq', 'Cт'); header: {header}")
    if require_well and not ({"well", "well_position"} & index.keys()):
        raise QPCRError(f"{source}: {what} has no well column ('Well' or 'Well Position')")

    out: dict[str, list] = {c: [] for c in WELL_COLUMNS}
    for r, row in enumerate(rows[header_row + 1 :], start=header_row + 2):
        if not any(_cell(row, j) for j in range(len(row))):
            continue
        get = lambda f: _cell(row, index[f]) if f in index else ""  # noqa: E731
        well = normalize_well(get("well_position") or get("well"))
        sample = get("sample")
        target = get("target") or get("fluor")
        ct_text = get("ct")
        if not sample and not target and not ct_text:
            continue  # an empty well
        flags: list[str] = []
        ct, ct_flag = parse_ct(ct_text)
        if ct_flag == "unparseable":
            raise QPCRError(
                f"{source}: {what} row {r} well {well or '?'}: Ct value {ct_text!r} is neither a number "
                "nor a no-amplification mark (Undetermined, NaN, N/A)"
            )
        if ct_flag:
            flags.append(ct_flag)
        omitted = get("omit").casefold() in ("true", "yes", "1", "y", "x")
        if np.isfinite(ct) and not 0 < ct <= limit:
            if not omitted:
                raise QPCRError(
                    f"{source}: {what} row {r} well {well or '?'}: Ct {ct_text!r} is outside the run's "
                    f"cycle range 0 < Ct <= {limit:g} ({basis}); a Ct is a cycle number of the run"
                )
            ct = math.nan  # the export itself excludes the well: keep it, flagged, without Ct
            flags.append("ct_out_of_range")
        if last_cycle is not None and np.isfinite(ct) and ct >= last_cycle:
            ct = math.nan
            flags.append("cq_at_last_cycle")
        role_text = get("role")
        role = normalize_role(role_text)
        if role is None:
            raise QPCRError(
                f"{source}: {what} row {r} well {well or '?'}: unknown task/content code {role_text!r}; "
                "expected UNKNOWN/Unkn, STANDARD/Std, NTC, or a control code"
            )
        # instruments also print back-calculated quantities for unknowns: keep only the
        # quantities that are given (standards)
        quantity = parse_number(get("quantity")) if role == "standard" else math.nan
        if omitted:
            flags.append("omitted")
        out["plate"].append(get("plate") or plate)
        out["well"].append(well)
        out["sample"].append(sample)
        out["target"].append(target)
        out["role"].append(role)
        out["ct"].append(ct)
        out["quantity"].append(quantity)
        out["flags"].append(";".join(flags))
        out["source_file"].append(source)
        out["task"].append(role_text)
    df = _typed(pd.DataFrame(out))
    if df.empty:
        raise QPCRError(f"{source}: {what} has a header but no well rows")
    return df

"""Read qPCR instrument exports into one tidy well table.

:func:`read_qpcr` recognizes the format from the file's suffix and content:

==========================  =============================================================
format                      files
==========================  =============================================================
``quantstudio_text``        QuantStudio / 7500 / StepOne ``.txt`` exports, SDS v1 and v2
                            headers (``[Results]`` section or a bare table)
``excel``                   QuantStudio and Design & Analysis ``.xlsx``, 7500 ``.xls``
                            (``Results`` sheet)
``csv``                     Bio-Rad CFX results ``.csv``; the generic well CSV
``rdml``                    RDML ``.rdml`` (through rdmlpython)
==========================  =============================================================

ABI ``.eds`` project files are refused with a message asking for a results export.
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path
from typing import Literal

import pandas as pd

from ..errors import QPCRError
from ._qpcr_csv import read_delimited
from ._qpcr_quantstudio import read_quantstudio_excel, read_quantstudio_text
from ._qpcr_rdml import read_rdml
from ._qpcr_table import DEFAULT_MAX_CYCLES, WELL_COLUMNS, check_ct_range, empty_wells

__all__ = ["read_qpcr", "WELL_COLUMNS", "DEFAULT_MAX_CYCLES", "check_ct_range", "empty_wells"]

QpcrFormat = Literal["auto", "quantstudio_text", "excel", "csv", "rdml"]

_READERS = {
    "quantstudio_text": read_quantstudio_text,
    "excel": read_quantstudio_excel,
    "csv": read_delimited,
    "rdml": read_rdml,
}


def _detect(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".txt", ".tsv", ".text"):
        return "quantstudio_text"
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return "excel"
    if suffix == ".csv":
        return "csv"
    if suffix == ".rdml":
        return "rdml"
    if suffix in (".eds", ".sds", ".pcrd", ".zpcr"):
        raise QPCRError(
            f"{path.name}: {suffix} is an instrument project file, not a results export; "
            "export the run's results as text, .xlsx, .csv or RDML"
        )
    head = path.read_bytes()[:4096]
    if head.startswith(b"PK") and zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise QPCRError(f"{path.name}: damaged zip archive ({exc})") from exc
        if any(n.endswith("rdml_data.xml") for n in names) or not any(n.startswith("xl/") for n in names):
            return "rdml"
        return "excel"
    if b"[Results]" in head or b"\t" in head:
        return "quantstudio_text"
    return "csv"


def read_qpcr(
    path: str | os.PathLike,
    *,
    format: QpcrFormat = "auto",
    plate: str | None = None,
    last_cycle: float | None = None,
    cycles: float | None = None,
) -> pd.DataFrame:
    """Read one qPCR export into the tidy well table.

    Parameters
    ----------
    path : path-like
        The export file.
    format : {"auto", "quantstudio_text", "excel", "csv", "rdml"}, default "auto"
        ``"auto"`` decides from the suffix (and content for unknown suffixes).
    plate : str, optional
        Plate id; default the file's stem (RDML files with several runs use
        ``experiment/run``).
    last_cycle : float, optional, cycles
        A Ct at or beyond this cycle means no amplification (some instruments write the
        last cycle instead of "Undetermined"). RDML files use their last recorded cycle
        when this is not given.
    cycles : float, optional, cycles
        Number of cycles the run had. A Ct/Cq must lie in ``0 < Ct <= cycles``; any other
        value is an error naming the file, row/well and value (a Ct of -5 or 0 would
        otherwise become an absurd copy number). A well the export omits (``Omit`` true)
        is kept without Ct and flagged ``ct_out_of_range`` instead. Default: the export's
        own count where it states one (an RDML run's last cycle), else
        :data:`DEFAULT_MAX_CYCLES` (50, the longest usual protocol).

    Returns
    -------
    pandas.DataFrame
        One row per well and target, columns in this order:

        ============  ========  ===================================================
        plate         str       plate id
        well          str       well position (``A1``; leading zeros removed)
        sample        str       sample name as exported (may be empty for NTCs)
        target        str       target / detector (CFX: the fluor when no target)
        role          str       ``unknown``, ``standard``, ``ntc`` or ``control``
        ct            float     Ct/Cq in cycles; NaN when not amplified
        quantity      float     given quantity of standards (copies); NaN otherwise
        flags         str       ``;``-joined: ``undetermined``, ``cq_at_last_cycle``,
                                ``omitted``, ``ct_out_of_range``
        source_file   str       the file's name
        task          str       the export's own task / content / RDML sample-type
                                code, as written (``STANDARD``, ``Std-01``, ``nac``)
        ============  ========  ===================================================

    Raises
    ------
    QPCRError
        The file is missing, unreadable, has no results table (e.g. a genotyping run or
        a project file), or holds a Ct or task code that cannot be read or a Ct outside
        the run's cycle range; the message names the file and the problem.

    Examples
    --------
    >>> wells = read_qpcr("plate_wt1.txt")                      # doctest: +SKIP
    >>> wells.groupby(["target", "role"]).size()                 # doctest: +SKIP
    """
    p = Path(path)
    if not p.exists():
        raise QPCRError(f"{p}: file not found")
    if p.is_dir():
        raise QPCRError(f"{p}: is a folder, expected a qPCR export file")
    kind = _detect(p) if format == "auto" else format
    if kind not in _READERS:
        raise QPCRError(f"{p.name}: unknown format {format!r}; expected one of {sorted(_READERS)} or 'auto'")
    if cycles is not None:
        try:
            cycles = float(cycles)
        except (TypeError, ValueError):
            cycles = math.nan
        if not (math.isfinite(cycles) and cycles > 0):
            raise QPCRError(f"{p.name}: cycles={cycles!r}; expected the positive number of cycles of the run")
    return _READERS[kind](p, plate=plate or p.stem, last_cycle=last_cycle, cycles=cycles)

"""Applied Biosystems exports: QuantStudio / 7500 / StepOne text, ``.xlsx`` and ``.xls``.

Text exports come in two header dialects:

- SDS v2 / QuantStudio: ``* Key = value`` header lines, then bracketed sections
  (``[Sample Setup]``, ``[Amplification Data]``, ``[Results]`` ...); the Ct table is the
  ``[Results]`` section.
- SDS v1 (7500 / 7900 SDS 1.x-2.x): a few free-text header lines (``SDS 2.3``,
  ``Filename``, ``Run DateTime`` ...) followed directly by a tab-separated table whose
  header names ``Well`` and ``Ct`` (with ``Detector`` for the target).

The table itself is read by :mod:`mrdquant.io._qpcr_table`. We read these tab-separated
text tables directly rather than through allotropy: allotropy 0.1.150 converts the
QuantStudio text files of our test set (0.01-0.4 s each) but its ASM output carries
neither the standards' given quantities for every export (it stores back-calculated
quantities, or none) nor the SDS v1 dialect or header variants (``Cq``, ``Cт``,
``Detector``), and it converts a genotyping run without complaint. The test suite
checks this reader against allotropy's well-by-well Ct values on every file both read.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pandas as pd

from ..errors import QPCRError
from ._qpcr_headers import canonical_header, parse_number
from ._qpcr_table import find_header_row, wells_from_rows

__all__ = ["read_quantstudio_text", "read_quantstudio_excel", "read_text_lines", "decode_text", "LEGACY_ENCODINGS"]

#: tried in this order for text without a byte-order mark or a UTF-16 NUL pattern
LEGACY_ENCODINGS = ("cp1252", "latin-1")


def _utf16_from_nuls(head: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when every other byte of ``head`` is NUL (UTF-16 text without BOM)."""
    even, odd = head[0::2], head[1::2]
    if not odd:
        return None
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.5 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.5 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def decode_text(raw: bytes, *, source: str) -> tuple[str, str]:
    """Decode an instrument text export: ``(text, encoding)``.

    UTF-16 is recognized by its byte-order mark or, without one, by NUL bytes in every
    other position; UTF-8 (with or without BOM) is tried next, then the Windows/legacy
    code pages :data:`LEGACY_ENCODINGS` (QuantStudio software on Windows writes cp1252).
    A file's length says nothing about its encoding: a cp1252 file of even length is not
    UTF-16.

    Raises
    ------
    QPCRError
        NUL bytes that are not UTF-16 (a binary file), or bytes invalid in the encoding the
        byte-order mark declares; the message names the encoding tried.
    """
    boms = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    declared = next((enc for bom, enc in boms if raw.startswith(bom)), None)
    how = "its byte-order mark"
    if declared is None and b"\x00" in raw[:4096]:
        declared, how = _utf16_from_nuls(raw[:4096]), "its NUL-byte pattern"
        if declared is None:
            raise QPCRError(f"{source}: binary file (NUL bytes, not UTF-16 text), not a text export")
    if declared is not None:
        try:
            return raw.decode(declared), declared
        except UnicodeDecodeError as exc:
            raise QPCRError(
                f"{source}: not valid {declared} text, the encoding {how} declares "
                f"(byte {exc.start}: {exc.reason})"
            ) from exc
    for enc in ("utf-8", *LEGACY_ENCODINGS):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise QPCRError(  # pragma: no cover - latin-1 decodes every byte
        f"{source}: not text in any of utf-8, {', '.join(LEGACY_ENCODINGS)}"
    )


def read_text_lines(path: Path) -> tuple[list[str], str]:
    """The file's lines and the encoding they were decoded with (see :func:`decode_text`)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise QPCRError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not raw.strip():
        raise QPCRError(f"{path}: file is empty")
    text, encoding = decode_text(raw, source=path.name)
    if not text.strip("\x00\ufeff \t\r\n"):
        raise QPCRError(f"{path}: file is empty")
    return text.splitlines(), encoding


def _split(lines: list[str], delimiter: str = "\t") -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)]


def read_quantstudio_text(
    path: Path, *, plate: str, last_cycle: float | None = None, cycles: float | None = None
) -> pd.DataFrame:
    """Read a QuantStudio / 7500 / StepOne tab-separated text export (SDS v1 or v2)."""
    lines, encoding = read_text_lines(path)
    sections = [i for i, line in enumerate(lines) if line.strip().startswith("[") and line.strip().endswith("]")]
    names = [lines[i].strip()[1:-1].strip().casefold() for i in sections]
    source = path.name
    # the header does not state the number of cycles, and per-cycle sections are often
    # exported truncated: the run's length is only known when the caller gives it
    basis = f"cycles={cycles:g} given" if cycles is not None else None
    if sections:
        if "results" not in names:
            present = ", ".join(f"[{lines[i].strip()[1:-1]}]" for i in sections)
            raise QPCRError(
                f"{source}: no [Results] section (sections present: {present}; text decoded as "
                f"{encoding}); export the run with its results"
            )
        k = names.index("results")
        start = sections[k] + 1
        stop = sections[k + 1] if k + 1 < len(sections) else len(lines)
        rows = _split(lines[start:stop])
        return wells_from_rows(rows, source=source, plate=plate, what="[Results] section", last_cycle=last_cycle,
                               encoding=encoding, cycles=cycles, cycles_basis=basis)
    rows = _split(lines)
    header_row = find_header_row(rows, source=source, what="the text export", encoding=encoding)
    return wells_from_rows(
        rows, source=source, plate=plate, what="the text export", header_row=header_row, last_cycle=last_cycle,
        encoding=encoding, cycles=cycles, cycles_basis=basis,
    )


def read_quantstudio_excel(
    path: Path, *, plate: str, last_cycle: float | None = None, cycles: float | None = None
) -> pd.DataFrame:
    """Read the ``Results`` sheet of a QuantStudio / Design & Analysis / 7500 Excel export."""
    source = path.name
    engine = "xlrd" if path.suffix.lower() == ".xls" else "openpyxl"
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl: "Workbook contains no default style"
            # xlrd prints damaged-file warnings to stdout; our error message says what matters
            kwargs = {"logfile": io.StringIO()} if engine == "xlrd" else None
            book = pd.ExcelFile(path, engine=engine, engine_kwargs=kwargs)
            sheets = book.sheet_names
            name = next((s for s in sheets if s.strip().casefold() == "results"), None)
            if name is None:
                raise QPCRError(
                    f"{source}: workbook has no 'Results' sheet (sheets: {', '.join(sheets)}); "
                    "it holds no Ct values: export the run with its results"
                )
            table = book.parse(name, header=None, dtype=object)
            groups_name = next((s for s in sheets if s.strip().casefold() == "replicate group result"), None)
            groups = book.parse(groups_name, header=None, dtype=object) if groups_name else None
    except QPCRError:
        raise
    except ImportError as exc:
        raise QPCRError(f"{source}: reading {path.suffix} workbooks needs the '{engine}' package") from exc
    except Exception as exc:  # zipfile.BadZipFile, xlrd.XLRDError, ...
        raise QPCRError(f"{source}: not a readable Excel workbook ({exc})") from exc
    rows = table.where(table.notna(), None).values.tolist()
    wells = wells_from_rows(rows, source=source, plate=plate, what="'Results' sheet", last_cycle=last_cycle,
                            cycles=cycles, cycles_basis=None if cycles is None else f"cycles={cycles:g} given")
    if groups is not None:
        wells = _fill_standard_quantities(wells, groups, source=source)
    return wells


def _fill_standard_quantities(wells: pd.DataFrame, groups: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Design & Analysis exports list standards' quantities only in 'Replicate Group Result'."""
    missing = (wells["role"] == "standard") & wells["quantity"].isna()
    if not missing.any():
        return wells
    rows = groups.where(groups.notna(), None).values.tolist()
    header_row = next(
        (i for i, r in enumerate(rows)
         if {canonical_header(c) for c in r} >= {"sample", "target", "quantity"}),
        None,
    )
    if header_row is None:
        return wells
    header = [canonical_header(c) for c in rows[header_row]]
    col = {f: header.index(f) for f in ("sample", "target", "quantity")}
    lookup = {}
    for r in rows[header_row + 1:]:
        if r[col["sample"]] is None:
            continue
        q = parse_number(r[col["quantity"]])
        if q == q:  # not NaN
            lookup[(str(r[col["sample"]]).strip(), str(r[col["target"]]).strip())] = q
    keys = list(zip(wells["sample"], wells["target"]))
    filled = [lookup.get(k, float("nan")) for k in keys]
    wells = wells.copy()
    wells.loc[missing, "quantity"] = [q for q, m in zip(filled, missing) if m]
    return wells

"""Header, number and task-code normalization shared by the qPCR readers.

Every instrument names the same fields differently (``CT``/``Ct``/``Cq``, even ``Cт``
with a Cyrillic ``т``; ``Sample Name``/``Sample``; ``Target Name``/``Target``/
``Detector``), writes task codes in two dialects (``UNKNOWN``/``STANDARD``/``NTC`` vs
``Unkn``/``Std``/``NTC``) and groups thousands with commas (``1,250.000``). This module
turns all of those into one vocabulary; the per-format readers only find the table.
"""

from __future__ import annotations

import math
import re
import unicodedata

__all__ = [
    "canonical_header",
    "header_key",
    "parse_number",
    "parse_ct",
    "normalize_role",
    "ROLES",
    "NO_AMPLIFICATION_TOKENS",
]

#: the four well roles of the tidy well table
ROLES = ("unknown", "standard", "ntc", "control")

# Cyrillic and Greek letters that look like Latin ones in exported headers.
_LOOKALIKES = str.maketrans(
    {
        "С": "C", "с": "c", "Т": "T", "т": "t", "Q": "Q", "Е": "E", "е": "e", "А": "A",
        "а": "a", "О": "O", "о": "o", "Р": "P", "р": "p", "К": "K", "к": "k", "М": "M",
        "Н": "H", "х": "x", "Х": "X", "у": "y", "В": "B", "Τ": "T", "Ο": "O",
    }
)

# normalized header text -> canonical field
_ALIASES: dict[str, tuple[str, ...]] = {
    "well_position": ("well position", "position", "pos", "well pos"),
    "well": ("well", "well id", "well name", "wellid"),
    "sample": ("sample name", "sample", "sample id", "samplename", "name", "sample_name"),
    "target": (
        "target name", "target", "detector", "detector name", "gene", "gene name", "assay",
        "target_name", "primer/probe",
    ),
    "role": ("task", "content", "role", "sample type", "type", "well type"),
    "ct": (
        "ct", "cq", "crt", "c t", "c q", "cycle threshold", "ct value", "cq value",
        "quantification cycle", "cq (mean)",
    ),
    "quantity": (
        "quantity", "qty", "starting quantity (sq)", "starting quantity", "sq",
        "copies", "copy number", "quantity (copies)",
    ),
    "omit": ("omit", "omitted", "excluded", "exclude"),
    "plate": ("plate", "plate id", "plate name", "run"),
    "fluor": ("fluor", "reporter", "dye", "channel"),
}
_LOOKUP = {alias: field for field, aliases in _ALIASES.items() for alias in aliases}

NO_AMPLIFICATION_TOKENS = frozenset(
    {"undetermined", "nan", "n/a", "na", "no ct", "no cq", "-", "none", "no amp", "noamp", "", "neg"}
)

_ROLE_CODES = {
    "unknown": ("unknown", "unkn", "unk", "u", "sample", "test", "unknown sample"),
    "standard": ("standard", "std", "std.", "s", "standard sample", "calibrator standard"),
    # no-template, no-amplification and no-RT controls must not amplify: NTC checks apply
    "ntc": (
        "ntc", "no template control", "ntc (no template control)", "negative control ntc", "blank",
        "ntp", "nac", "no amplification control", "nrt", "no rt", "no rt control", "-rt",
    ),
    "control": (
        "control", "pos ctrl", "positive control", "neg ctrl", "negative control",
        "ipc", "blockedipc", "blocked ipc", "nc", "pc", "reference",
    ),
}
_ROLE_LOOKUP = {code: role for role, codes in _ROLE_CODES.items() for code in codes}


def header_key(text: object) -> str:
    """Lower-case, lookalike-folded, whitespace-collapsed form of a header cell."""
    s = unicodedata.normalize("NFKC", str(text)).translate(_LOOKALIKES)
    s = s.replace("\u00a0", " ").replace("_", " ").strip().strip('"').strip()
    s = re.sub(r"\s+", " ", s)
    return s.casefold()


def canonical_header(text: object) -> str | None:
    """The canonical field a header cell names, or ``None`` for columns we do not use.

    Examples
    --------
    >>> canonical_header("Cт"), canonical_header("Target Name"), canonical_header("Ct Mean")
    ('ct', 'target', None)
    """
    return _LOOKUP.get(header_key(text))


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_THOUSANDS_SPACE = re.compile(r"^[+-]?\d{1,3}([ \u00a0\u202f']\d{3})+([.,]\d*)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def parse_number(text: object) -> float:
    """Parse a number as instruments print it; ``nan`` when the cell is empty or not a number.

    ``1,250.000`` and ``1 250`` are thousands-grouped; a single comma followed by other than
    exactly three digits (``30,155`` is read as thirty thousand, ``30,15`` as 30.15) is a
    decimal comma.
    """
    if text is None:
        return math.nan
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    s = str(text).strip().strip('"').strip()
    if not s:
        return math.nan
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    elif _THOUSANDS_SPACE.match(s):
        s = re.sub(r"[ \u00a0\u202f']", "", s).replace(",", ".")
    elif _DECIMAL_COMMA.match(s):
        s = s.replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return math.nan


def parse_ct(text: object) -> tuple[float, str]:
    """Parse a Ct/Cq cell: ``(value, flag)``.

    ``flag`` is ``""`` for a number, ``"undetermined"`` for the no-amplification tokens
    (``Undetermined``, ``NaN``, ``N/A``, empty ...) and ``"unparseable"`` otherwise; the
    value is ``nan`` unless a number was read. Ct is never thousands-grouped, so a
    comma is a decimal comma here (``30,155`` is 30.155).
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
        return (value, "") if math.isfinite(value) else (math.nan, "undetermined")
    s = "" if text is None else str(text).strip().strip('"').strip()
    if s.casefold() in NO_AMPLIFICATION_TOKENS:
        return math.nan, "undetermined"
    try:
        value = float(s.replace(",", "."))
    except ValueError:
        return math.nan, "unparseable"
    return (value, "") if math.isfinite(value) else (math.nan, "undetermined")


def normalize_role(text: object, *, default: str = "unknown") -> str | None:
    """Map a task/content code to one of :data:`ROLES`; ``None`` when unrecognized.

    An empty cell gives ``default``. CFX codes with replicate suffixes (``Std-01``,
    ``Unkn-3``) are recognized.
    """
    s = "" if text is None else header_key(text)
    if s in ("", "nan"):
        return default
    if s in _ROLE_LOOKUP:
        return _ROLE_LOOKUP[s]
    stem = re.sub(r"[-_ ]*\d+$", "", s)
    return _ROLE_LOOKUP.get(stem)

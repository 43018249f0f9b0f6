"""Clinical tables: patients, MRD samples and clinical events.

Each reader takes a :class:`pandas.DataFrame` or the path of a CSV/TSV/Parquet file,
checks it once and returns a clean table with fixed column names and dtypes. Every
problem raises :class:`~mrdquant.errors.ClinicalDataError` naming the table (or file),
the row and the column, and saying what was expected.

Row numbers in messages are 1-based data rows; for a CSV file the line number (header on
line 1) is given as well.

Tables
------
patients
    ``patient_id`` (str), ``hsct_date`` (datetime64[ns]); optional ``diagnosis``,
    ``intervention`` (str, ``""`` when none), ``intervention_date`` (NaT when none).
    Any other column (outcome dates, arm, ...) is kept; columns ending in ``_date`` are
    parsed as dates.
samples
    ``patient_id``, ``sample_id`` (str), ``date`` (datetime64[ns]), ``specimen``
    (``"BM"`` / ``"PB"``), ``mfc``, ``wt1`` (``"positive"``, ``"negative"``,
    ``"not evaluable"`` or ``""`` = not done); optional ``mfc_pct`` (% of nucleated
    cells), ``wt1_pct`` (WT1/ABL1 copies x 100, %), ``mfc_reason``, ``wt1_reason`` (why a
    result is not evaluable).
events
    ``patient_id``, ``event`` (str, e.g. ``relapse``, ``death``, ``agvhd``), ``date``;
    optional ``detail``.
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import ClinicalDataError, InputError
from .store import read_table

__all__ = [
    "RESULT_VALUES",
    "SPECIMENS",
    "TOXICITY_DATES",
    "read_patients",
    "read_samples",
    "read_events",
]

#: canonical result codes of one method in one sample ("" = not done / missing)
RESULT_VALUES = ("positive", "negative", "not evaluable", "")
#: specimen codes
SPECIMENS = ("BM", "PB")
#: methods with a categorical result column and an optional ``<method>_pct`` level
METHODS = ("mfc", "wt1")
#: optional toxicity columns of a trial's patients table: date of first occurrence,
#: NaT/empty when none (read by :func:`mrdquant.outcomes.build_endpoints`, written by
#: :func:`mrdquant.simulate.simulate_trial`)
TOXICITY_DATES = (
    "neutropenia_date",
    "anemia_date",
    "thrombocytopenia_date",
    "pancytopenia_date",
    "bacterial_infection_date",
    "viral_infection_date",
    "fungal_infection_date",
)

#: an MFC negative with LAIP events at or above the LOD (``MfcResult.status_detail``)
_DETECTED_BELOW_THRESHOLD = "negative (detected below threshold)"

_RESULT_ALIASES = {
    "positive": "positive",
    "pos": "positive",
    "+": "positive",
    "detected": "positive",
    "negative": "negative",
    "neg": "negative",
    "-": "negative",
    "not detected": "negative",
    _DETECTED_BELOW_THRESHOLD: "negative",  # status_detail of mrdquant's MFC tables
    "positive, not quantifiable": "positive",
    "not evaluable": "not evaluable",
    "not_evaluable": "not evaluable",
    "not-evaluable": "not evaluable",
    "ne": "not evaluable",
    "inevaluable": "not evaluable",
    "": "",
    "nan": "",
    "na": "",
    "not done": "",
}
_SPECIMEN_ALIASES = {
    "bm": "BM",
    "bone marrow": "BM",
    "marrow": "BM",
    "pb": "PB",
    "peripheral blood": "PB",
    "blood": "PB",
}

#: ISO 8601 calendar date, optionally with a time of day (the time is dropped)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


#: the dates a table may hold (datetime64[ns] range, whole days)
_MIN_DATE = pd.Timestamp("1678-01-01")
_MAX_DATE = pd.Timestamp("2261-12-31")


class _Table:
    """A table being validated: its data, a display name and how to name a row."""

    def __init__(self, source, kind: str, date_format: str | None = None):
        if date_format is not None and (not isinstance(date_format, str) or "%" not in date_format):
            raise ClinicalDataError(
                f"date_format={date_format!r}: expected a strptime format such as '%d/%m/%Y'"
            )
        self.date_format = date_format
        if isinstance(source, pd.DataFrame):
            self.df = source.copy()
            self.name = f"{kind} table"
            self.from_file = False
        elif isinstance(source, (str, os.PathLike)):
            path = Path(source)
            try:
                self.df = read_table(path)
            except InputError as exc:  # read_table's message starts with the path
                raise ClinicalDataError(f"{kind} file {exc}") from exc
            self.name = f"{kind} file {path}"
            self.from_file = True
        else:
            raise ClinicalDataError(
                f"{kind}: expected a DataFrame or the path of a CSV/Parquet file, "
                f"got {type(source).__name__}"
            )
        self.df.columns = [str(c).strip() for c in self.df.columns]
        seen = pd.Index(self.df.columns)
        if seen.has_duplicates:
            twice = sorted(set(seen[seen.duplicated()]))
            raise ClinicalDataError(
                f"{self.name}: column(s) {twice} appear more than once (after trimming spaces); "
                "expected each column once"
            )
        self.df = self.df.reset_index(drop=True)

    def where(self, pos: int, column: str | None = None) -> str:
        row = f"row {pos + 1}" + (f" (line {pos + 2})" if self.from_file else "")
        col = f", column {column!r}" if column else ""
        return f"{self.name}, {row}{col}"

    def require(self, *columns: str) -> None:
        missing = [c for c in columns if c not in self.df.columns]
        if missing:
            raise ClinicalDataError(
                f"{self.name}: missing required column(s) {missing}; "
                f"columns present: {list(self.df.columns)}"
            )

    def ids(self, column: str) -> pd.Series:
        """Identifier column as stripped strings; an empty id is an error."""
        raw = self.df[column]
        out = raw.map(_id_text)
        bad = np.flatnonzero((out == "").to_numpy(dtype=bool))
        if bad.size:
            raise ClinicalDataError(f"{self.where(int(bad[0]), column)}: empty identifier")
        return out

    def dates(self, column: str, *, required: bool) -> pd.Series:
        """Parse a date column: ISO 8601 ``YYYY-MM-DD`` text, or ``self.date_format`` when given.

        Date/datetime values (Parquet, an already validated table) are taken as they are;
        text in any other layout is an error naming the row and column, never a guess
        (``03/05/2014`` is 3 May in some labs and 5 March in others).
        """
        raw = self.df[column]
        fmt = self.date_format
        expected = f"expected a date as {fmt!r}" if fmt else (
            "expected an ISO 8601 date YYYY-MM-DD (name another layout with date_format=, "
            "e.g. '%d/%m/%Y'; CLI --date-format)"
        )
        out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
        for pos, value in enumerate(raw.tolist()):
            if _is_missing(value):
                if required:
                    raise ClinicalDataError(f"{self.where(pos, column)}: missing date")
                continue
            if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                raise ClinicalDataError(
                    f"{self.where(pos, column)}: cannot parse the number {value!r} as a date; {expected}"
                )
            try:
                if isinstance(value, (datetime.date, np.datetime64)):
                    stamp = pd.Timestamp(value)
                elif not isinstance(value, str):
                    raise ValueError(f"a {type(value).__name__}, not a date or text")
                elif fmt:
                    stamp = pd.Timestamp(datetime.datetime.strptime(value.strip(), fmt))
                elif _ISO_DATE.match(value.strip()):
                    stamp = pd.Timestamp(value.strip())
                else:
                    raise ClinicalDataError(
                        f"{self.where(pos, column)}: cannot parse {value!r} as a date: not ISO 8601 "
                        "(YYYY-MM-DD), and dates are never guessed; name the table's layout with "
                        "date_format= (CLI --date-format), e.g. '%d/%m/%Y'"
                    )
                if stamp is not pd.NaT and not _MIN_DATE <= stamp.tz_localize(None) <= _MAX_DATE:
                    raise ValueError(f"year {stamp.year} is outside {_MIN_DATE.year}-{_MAX_DATE.year}")
            except ClinicalDataError:
                raise
            except (ValueError, TypeError, OverflowError) as exc:
                raise ClinicalDataError(
                    f"{self.where(pos, column)}: cannot parse {value!r} as a date ({exc}); {expected}"
                ) from exc
            if stamp is pd.NaT:
                if required:
                    raise ClinicalDataError(f"{self.where(pos, column)}: missing date")
                continue
            if stamp.tzinfo is not None:
                stamp = stamp.tz_convert(None)
            out.iloc[pos] = stamp.normalize()
        return out

    def numbers(self, column: str) -> pd.Series:
        raw = self.df[column]
        out = pd.to_numeric(raw, errors="coerce").astype("float64")
        bad = out.isna().to_numpy(dtype=bool) & ~raw.map(_is_missing).to_numpy(dtype=bool)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ClinicalDataError(
                f"{self.where(pos, column)}: {raw.iloc[pos]!r} is not a number; "
                "expected a percentage or empty"
            )
        neg = (out < 0).to_numpy()
        if neg.any():
            pos = int(np.flatnonzero(neg)[0])
            raise ClinicalDataError(
                f"{self.where(pos, column)}: {out.iloc[pos]} is negative; expected a percentage >= 0"
            )
        return out


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _id_text(value) -> str:
    if _is_missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _text(value) -> str:
    return "" if _is_missing(value) else str(value).strip()


def read_patients(source, *, date_format: str | None = None) -> pd.DataFrame:
    """Read and validate a patients table.

    Parameters
    ----------
    source : DataFrame or path (CSV, TSV, Parquet)
        Required columns ``patient_id``, ``hsct_date``; optional ``diagnosis``,
        ``intervention``, ``intervention_date`` and any other column (kept; columns whose
        name ends in ``_date`` are parsed as dates).
    date_format : str, optional
        ``strptime`` layout of the date columns written as text (e.g. ``"%d/%m/%Y"``);
        default ISO 8601 ``YYYY-MM-DD``. Text in any other layout is an error naming the
        row and column. Date values (Parquet, DataFrames of datetimes) are used as they are.

    Returns
    -------
    DataFrame
        Columns ``patient_id, hsct_date, diagnosis, intervention, intervention_date``
        first, then the remaining input columns in their order. Dates are
        ``datetime64[ns]`` at midnight; ``intervention`` is ``""`` when absent.

    Raises
    ------
    ClinicalDataError
        Missing column, empty or duplicate ``patient_id``, missing or unparseable
        ``hsct_date``, a date that is not ISO 8601 (or not in ``date_format``), an
        intervention dated before HSCT.

    Examples
    --------
    >>> read_patients(pd.DataFrame({"patient_id": ["P1"], "hsct_date": ["2020-01-10"]}))
      patient_id  hsct_date diagnosis intervention intervention_date
    0         P1 2020-01-10                                     NaT
    """
    table = _Table(source, "patients", date_format)
    table.require("patient_id", "hsct_date")
    df = table.df
    out = pd.DataFrame(index=df.index)
    out["patient_id"] = table.ids("patient_id")
    dup = out["patient_id"].duplicated()
    if dup.any():
        pos = int(np.flatnonzero(dup.to_numpy())[0])
        raise ClinicalDataError(
            f"{table.where(pos, 'patient_id')}: duplicate patient id {out['patient_id'].iloc[pos]!r}"
        )
    out["hsct_date"] = table.dates("hsct_date", required=True)
    out["diagnosis"] = df["diagnosis"].map(_text) if "diagnosis" in df else ""
    out["intervention"] = df["intervention"].map(_text) if "intervention" in df else ""
    if "intervention_date" in df:
        out["intervention_date"] = table.dates("intervention_date", required=False)
    else:
        out["intervention_date"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    early = (out["intervention_date"] < out["hsct_date"]).to_numpy()
    if early.any():
        pos = int(np.flatnonzero(early)[0])
        raise ClinicalDataError(
            f"{table.where(pos, 'intervention_date')}: intervention on "
            f"{out['intervention_date'].iloc[pos].date()} precedes HSCT on "
            f"{out['hsct_date'].iloc[pos].date()}; expected a post-transplant date"
        )
    for column in df.columns:
        if column in out.columns:
            continue
        if column.endswith("_date"):
            out[column] = table.dates(column, required=False)
        else:
            out[column] = df[column]
    return out


def read_samples(
    source,
    patients=None,
    *,
    pre_hsct: Literal["raise", "drop"] = "raise",
    date_format: str | None = None,
) -> pd.DataFrame:
    """Read and validate an MRD samples table.

    Parameters
    ----------
    source : DataFrame or path (CSV, TSV, Parquet)
        Columns ``patient_id``, ``sample_id``, ``date``, ``specimen``, and at least one of
        ``mfc``, ``wt1``; optional ``mfc_pct``, ``wt1_pct`` (%), ``mfc_reason``,
        ``wt1_reason``. Result codes are case-insensitive; accepted spellings are
        ``positive``/``pos``/``+``, ``negative``/``neg``/``-``,
        ``not evaluable``/``NE``, and empty/``not done`` for a method not performed.
    patients : DataFrame or path, optional
        The patients table (validated with :func:`read_patients`). When given, every
        sample must belong to a known patient and be dated on or after that patient's
        HSCT date, and the column ``days_from_hsct`` is added.
    pre_hsct : {"raise", "drop"}, default "raise"
        What to do with samples dated before the HSCT (pre-transplant samples are not
        part of post-transplant monitoring): raise, or drop them; the number dropped is
        in ``.attrs["pre_hsct_dropped"]``.
    date_format : str, optional
        ``strptime`` layout of the date columns written as text (e.g. ``"%d/%m/%Y"``);
        default ISO 8601 ``YYYY-MM-DD``. Text in any other layout is an error naming the
        row and column. Date values (Parquet, DataFrames of datetimes) are used as they are.

    Returns
    -------
    DataFrame
        Columns ``patient_id, sample_id, date, specimen, mfc, wt1, mfc_pct, wt1_pct,
        mfc_reason, wt1_reason`` (+ ``days_from_hsct`` (int, days; HSCT = day 0) when
        ``patients`` is given), sorted by patient, date and sample id.

    Raises
    ------
    ClinicalDataError
        Missing column; empty or duplicate ``sample_id``; missing/unparseable ``date``; a
        result without a specimen type or an unknown specimen; an unknown result code; a
        negative or non-numeric percentage; (with ``patients``) an unknown patient or a
        sample before HSCT.
    """
    if pre_hsct not in ("raise", "drop"):
        raise ClinicalDataError(f"pre_hsct={pre_hsct!r}; expected 'raise' or 'drop'")
    table = _Table(source, "samples", date_format)
    table.require("patient_id", "sample_id", "date", "specimen")
    df = table.df
    if not any(m in df.columns for m in METHODS):
        raise ClinicalDataError(
            f"{table.name}: no result column; expected at least one of {list(METHODS)}"
        )
    out = pd.DataFrame(index=df.index)
    out["patient_id"] = table.ids("patient_id")
    out["sample_id"] = table.ids("sample_id")
    dup = out["sample_id"].duplicated(keep="first")
    if dup.any():
        pos = int(np.flatnonzero(dup.to_numpy())[0])
        first = int(np.flatnonzero((out["sample_id"] == out["sample_id"].iloc[pos]).to_numpy())[0])
        raise ClinicalDataError(
            f"{table.where(pos, 'sample_id')}: duplicate sample id {out['sample_id'].iloc[pos]!r} "
            f"(first seen in row {first + 1}); sample ids must be unique"
        )
    out["date"] = table.dates("date", required=True)

    for method in METHODS:
        if method in df.columns:
            codes = []
            for pos, value in enumerate(df[method].tolist()):
                key = _text(value).lower()
                if key not in _RESULT_ALIASES:
                    raise ClinicalDataError(
                        f"{table.where(pos, method)}: unknown result {value!r}; expected "
                        "'positive', 'negative', 'not evaluable' or empty (not done)"
                    )
                codes.append(_RESULT_ALIASES[key])
            out[method] = pd.Series(codes, index=df.index, dtype=object)
        else:
            out[method] = ""
    # MFC negatives whose LAIP events reached the LOD stay negative, but remain visible:
    # written as "negative (detected below threshold)" or flagged in an mfc_detected column
    detected = pd.Series(False, index=df.index, dtype=bool)
    if "mfc" in df.columns:
        detected |= df["mfc"].map(lambda v: _text(v).lower() == _DETECTED_BELOW_THRESHOLD).astype(bool)
    if "mfc_detected" in df.columns:
        flag = df["mfc_detected"].map(lambda v: _text(v).lower() in ("true", "1", "yes"))
        detected |= flag.astype(bool) & (out["mfc"] == "negative")
    out["mfc_detected"] = detected

    specimens = []
    for pos, value in enumerate(df["specimen"].tolist()):
        key = _text(value)
        if key == "":
            has_result = any(out[m].iloc[pos] != "" for m in METHODS)
            what = "a result" if has_result else "a sample"
            raise ClinicalDataError(
                f"{table.where(pos, 'specimen')}: {what} without a specimen type; "
                f"expected one of {list(SPECIMENS)}"
            )
        canon = key.upper() if key.upper() in SPECIMENS else _SPECIMEN_ALIASES.get(key.lower())
        if canon is None:
            raise ClinicalDataError(
                f"{table.where(pos, 'specimen')}: unknown specimen {value!r}; "
                f"expected one of {list(SPECIMENS)}"
            )
        specimens.append(canon)
    out["specimen"] = pd.Series(specimens, index=df.index, dtype=object)

    for method in METHODS:
        pct = f"{method}_pct"
        out[pct] = table.numbers(pct) if pct in df.columns else np.nan
        reason = f"{method}_reason"
        out[reason] = df[reason].map(_text) if reason in df.columns else ""

    columns = [
        "patient_id", "sample_id", "date", "specimen", *METHODS,
        *(f"{m}_pct" for m in METHODS), *(f"{m}_reason" for m in METHODS), "mfc_detected",
    ]
    out = out[columns]

    if patients is not None:
        pts = patients if _is_validated_patients(patients) else read_patients(patients, date_format=date_format)
        hsct = dict(zip(pts["patient_id"], pts["hsct_date"]))
        known = out["patient_id"].isin(hsct.keys()).to_numpy()
        if not known.all():
            pos = int(np.flatnonzero(~known)[0])
            raise ClinicalDataError(
                f"{table.where(pos, 'patient_id')}: unknown patient {out['patient_id'].iloc[pos]!r} "
                "(not in the patients table)"
            )
        hsct_dates = out["patient_id"].map(hsct).astype("datetime64[ns]")
        before = (out["date"] < hsct_dates).to_numpy()
        if before.any() and pre_hsct == "raise":
            pos = int(np.flatnonzero(before)[0])
            raise ClinicalDataError(
                f"{table.where(pos, 'date')}: sample {out['sample_id'].iloc[pos]!r} dated "
                f"{out['date'].iloc[pos].date()} is before the HSCT of patient "
                f"{out['patient_id'].iloc[pos]!r} ({hsct_dates.iloc[pos].date()}); post-transplant "
                "monitoring starts at HSCT (to leave such samples out: --pre-hsct drop on the command "
                "line, pre_hsct='drop' in Python)"
            )
        keep = ~before
        out = out[keep].copy()
        out["days_from_hsct"] = (out["date"] - hsct_dates[keep]).dt.days.astype("int64")
        dropped = int(before.sum())
    else:
        dropped = 0

    result = out.sort_values(["patient_id", "date", "sample_id"], kind="stable").reset_index(drop=True)
    result.attrs["pre_hsct_dropped"] = dropped
    return result


def _is_validated_patients(df) -> bool:
    return (
        isinstance(df, pd.DataFrame)
        and {"patient_id", "hsct_date", "intervention", "intervention_date"} <= set(df.columns)
        and pd.api.types.is_datetime64_any_dtype(df["hsct_date"])
        and not df["patient_id"].duplicated().any()
    )


def read_events(source, patients=None, *, date_format: str | None = None) -> pd.DataFrame:
    """Read and validate a clinical events table (relapse, death, GVHD, interventions...).

    Parameters
    ----------
    source : DataFrame or path
        Columns ``patient_id``, ``event``, ``date``; optional ``detail``.
    patients : DataFrame or path, optional
        When given, every event must belong to a known patient; ``days_from_hsct`` (int,
        days) is added.
    date_format : str, optional
        ``strptime`` layout of the date columns written as text (e.g. ``"%d/%m/%Y"``);
        default ISO 8601 ``YYYY-MM-DD``. Text in any other layout is an error naming the
        row and column. Date values (Parquet, DataFrames of datetimes) are used as they are.

    Returns
    -------
    DataFrame
        ``patient_id, event, date, detail`` (+ ``days_from_hsct``), sorted by patient and
        date.

    Raises
    ------
    ClinicalDataError
        Missing column, empty event name, missing/unparseable date, unknown patient.
    """
    table = _Table(source, "events", date_format)
    table.require("patient_id", "event", "date")
    df = table.df
    out = pd.DataFrame(index=df.index)
    out["patient_id"] = table.ids("patient_id")
    out["event"] = table.ids("event")
    out["date"] = table.dates("date", required=True)
    out["detail"] = df["detail"].map(_text) if "detail" in df.columns else ""
    if patients is not None:
        pts = patients if _is_validated_patients(patients) else read_patients(patients, date_format=date_format)
        hsct = dict(zip(pts["patient_id"], pts["hsct_date"]))
        known = out["patient_id"].isin(hsct.keys()).to_numpy()
        if not known.all():
            pos = int(np.flatnonzero(~known)[0])
            raise ClinicalDataError(
                f"{table.where(pos, 'patient_id')}: unknown patient {out['patient_id'].iloc[pos]!r} "
                "(not in the patients table)"
            )
        out["days_from_hsct"] = (
            out["date"] - out["patient_id"].map(hsct).astype("datetime64[ns]")
        ).dt.days.astype("int64")
    return out.sort_values(["patient_id", "date"], kind="stable").reset_index(drop=True)

"""Tables for people: the result tables as a clinician or reviewer reads them.

The Parquet/CSV tables of a run keep full precision and machine column names. For the
HTML reports and the Excel workbook each table is turned into a :class:`HumanTable`:

- fractions become percent, with rounding that suits the value (MRD % to 3 significant
  digits, incidences to 0.1 %, gate percentages to 0.01 %), Ct to 0.01 cycle, P values
  as in a paper;
- columns get sentence-case headers with units;
- codes are explained in a legend (event 0/1/2, call words, test names);
- columns whose value is the same on every row (profile, threshold source, version)
  are lifted out as the table's provenance, shown once instead of once per row.

Unknown extra columns (a newer table) are kept at the end, unformatted.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from ..io.store import atomic_path

__all__ = ["HumanTable", "human_table", "TABLE_KINDS", "write_workbook", "fmt_pct", "fmt_sig", "fmt_p",
           "EVENT_CODES"]

#: meaning of the event codes of an endpoints table
EVENT_CODES = {
    "relapse": {0: "censored", 1: "relapse", 2: "death without relapse (competing)"},
    "nrm": {0: "censored", 1: "death without relapse", 2: "relapse (competing)"},
    "dfs": {0: "censored", 1: "relapse or death"},
    "os": {0: "censored", 1: "death"},
    "agvhd": {0: "censored", 1: "acute GVHD", 2: "relapse or death first (competing)"},
    "cgvhd": {0: "censored", 1: "chronic GVHD", 2: "relapse or death first (competing)"},
    "mrd_clearance": {0: "censored", 1: "MRD negativity", 2: "relapse or death first (competing)"},
}


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and v == "") or pd.isna(v)


def fmt_sig(v, digits: int = 3) -> str:
    """A number to ``digits`` significant digits, no exponent for ordinary sizes.

    Examples
    --------
    >>> fmt_sig(0.9019214849026186), fmt_sig(0.010847), fmt_sig(16.791234), fmt_sig(float("nan"))
    ('0.902', '0.0108', '16.8', '')
    """
    if _missing(v):
        return ""
    x = float(v)
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))
    return f"{x:.{decimals}f}"


def fmt_pct(v, decimals: int = 1, *, fraction: bool = True) -> str:
    """A fraction (or a percent, ``fraction=False``) as a percent string without the sign.

    Examples
    --------
    >>> fmt_pct(0.29411764705882354), fmt_pct(96.54229588188281, 2, fraction=False)
    ('29.4', '96.54')
    """
    if _missing(v):
        return ""
    x = float(v) * (100.0 if fraction else 1.0)
    return f"{x:.{decimals}f}"


def fmt_p(v) -> str:
    """A P value: 3 decimals, ``< 0.001`` below.

    Examples
    --------
    >>> fmt_p(0.30451212), fmt_p(0.0000123), fmt_p(float("nan"))
    ('0.305', '< 0.001', '')
    """
    if _missing(v):
        return ""
    x = float(v)
    return "< 0.001" if x < 0.001 else f"{x:.3f}"


def _fixed(decimals: int) -> Callable:
    return lambda v: "" if _missing(v) else f"{float(v):.{decimals}f}"


def _int(v) -> str:
    if _missing(v):
        return ""
    try:
        return f"{int(round(float(v))):d}"
    except (TypeError, ValueError):
        return str(v)


def _sensitivity(v) -> str:
    # a fraction (e.g. 0.000871 = one LAIP event in 1148 cells) shown as percent
    return "" if _missing(v) else fmt_sig(100.0 * float(v), 2)


def _g(v) -> str:
    return "" if _missing(v) else f"{float(v):g}"


def _ratio(v) -> str:
    # a hazard ratio outside 1e-6..1e6 is a fit that ran off to infinity, not an estimate
    if _missing(v):
        return ""
    x = float(v)
    return fmt_sig(x) if math.isfinite(x) and 1e-6 < x < 1e6 else "not estimable"


_WORDS = {"mrd": "MRD", "nrm": "NRM", "dfs": "DFS", "os": "OS", "agvhd": "aGVHD", "cgvhd": "cGVHD",
          "hsct": "HSCT", "id": "ID", "wt1": "WT1", "mfc": "MFC", "abl1": "ABL1", "dli": "DLI", "lfs": "LFS"}


def _header(col: str) -> str:
    words = [_WORDS.get(w.lower(), w) for w in str(col).split("_") if w]
    if words and words[0] == words[0].lower():
        words[0] = words[0].capitalize()
    return " ".join(words)


def _bool(v) -> str:
    if _missing(v):
        return ""
    return "yes" if str(v).lower() in ("true", "1", "yes") else "no"


@dataclass(frozen=True)
class _Spec:
    title: str
    columns: tuple  # (source column, header, formatter or None)
    legend: Mapping[str, str] = field(default_factory=dict)
    provenance: tuple = ()  # columns shown once (their unique values)
    drop: tuple = ()  # machine columns left out of the human table


_PROVENANCE = ("profile", "profile_id", "assay", "metric", "threshold_unit", "threshold_source", "min_abl1",
               "mrdquant_version", "lod_events", "lloq_events", "min_denominator", "laip_gate",
               "denominator_gate", "specimens", "methods", "consecutive", "confirmation_window_days",
               "window_after_hsct_days", "assess_until", "onset_boundary_days", "level_high_mfc_pct",
               "level_high_wt1_pct", "clearance_rule", "panel_id", "panel_hash", "params_hash")

#: machine columns no reader needs in a table (kept in the CSV/Parquet and the store)
_ALWAYS_DROPPED = ("input_sha256", "created_at", "mrdquant_version.1", "run_id", "input_id")

_CALL_LEGEND = {
    "positive": "MRD detected at or above the profile's threshold",
    "negative": "MRD below the threshold with enough cells/copies to say so",
    "not evaluable": "too few cells or copies, or a failed control: no call",
}

TABLE_KINDS: dict[str, _Spec] = {
    "mfc": _Spec(
        "Flow cytometry (MFC) MRD per tube",
        (("sample_id", "Sample", None), ("disease", "Disease", None), ("laip_events", "LAIP events", _int),
         ("denominator_events", "Denominator events", _int), ("mrd_pct", "MRD (%)", fmt_sig),
         ("threshold_pct", "Threshold (%)", _g), ("sensitivity", "Sensitivity (%)", _sensitivity),
         # status_detail (when the table has it) replaces status: a negative with LAIP
         # events at or above the LOD reads "negative (detected below threshold)"
         ("status", "Call", None), ("status_detail", "Call", None), ("reason", "Reason", None),
         ("n_events", "Events in file", _int), ("qc_events_out", "Events after QC", _int),
         ("laip", "LAIP", None), ("true_leukemic_events", "Simulated leukemic events", _int)),
        {"Sensitivity (%)": "the MRD % one LOD-sized cluster would be in this tube (LOD events / denominator)",
         **{f"Call: {k}": v for k, v in _CALL_LEGEND.items()},
         "Call: negative (detected below threshold)": "LAIP events at or above the LOD, but MRD below the "
                                                       "positivity threshold"},
        _PROVENANCE + ("laip_source",),
        # the QC steps and placed gates (JSON) are on the gating page; kept in the CSV/store
        ("mrd_fraction", "detected", "qc", "gates", "input_path"),
    ),
    "gate_counts": _Spec(
        "Gate event counts",
        (("sample_id", "Sample", None), ("gate", "Gate", None), ("parent", "Parent", None),
         ("count", "Events", _int), ("percent_parent", "% of parent", _fixed(2)),
         ("percent_root", "% of all events", _fixed(2))),
        {}, (), ("gate_path",),
    ),
    "wt1": _Spec(
        "WT1 qPCR results per sample",
        (("plate", "Plate", None), ("sample", "Sample", None), ("specimen", "Specimen", None),
         ("wt1_copies", "WT1 copies", _int), ("abl1_copies", "ABL1 copies", _int),
         ("wt1_ct_mean", "WT1 Ct", _fixed(2)), ("wt1_ct_sd", "WT1 Ct SD", _fixed(2)),
         ("abl1_ct_mean", "ABL1 Ct", _fixed(2)), ("abl1_ct_sd", "ABL1 Ct SD", _fixed(2)),
         ("wt1_pct_abl1", "WT1 (% of ABL1)", fmt_sig), ("wt1_per_1e4_abl1", "WT1 per 10^4 ABL1", fmt_sig),
         ("sensitivity", "Sensitivity (%)", _sensitivity), ("threshold", "Threshold", _g),
         ("call", "Call", None), ("reason", "Reason", None), ("flags", "QC flags", None),
         ("expected_call", "Simulated truth", None)),
        {"Sensitivity (%)": "one WT1 copy relative to the ABL1 copies, in % (the smallest level this sample can show)",
         **{f"Call: {k}": v for k, v in _CALL_LEGEND.items()}},
        _PROVENANCE + ("wt1_curve", "abl1_curve"),
        ("wt1_replicates", "abl1_replicates"),
    ),
    "samples": _Spec(
        "MRD call per sample",
        (("patient_id", "Patient", None), ("sample_id", "Sample", None), ("date", "Date", None),
         ("days_from_hsct", "Day after HSCT", _int), ("specimen", "Specimen", None), ("mfc", "MFC", None),
         # mfc_detail (when the table has it) replaces mfc, as status_detail does above
         ("mfc_detail", "MFC", None), ("mfc_pct", "MFC (%)", fmt_sig), ("wt1", "WT1", None), ("wt1_pct", "WT1 (% of ABL1)", fmt_sig),
         ("mrd", "MRD call", None), ("counts", "Counts for the timeline", _bool), ("reason", "Reason", None),
         ("level", "Level", None)),
        {"Counts for the timeline": "no: a specimen type the profile does not count (e.g. PB when only BM counts)",
         "MFC: negative (detected below threshold)": "LAIP events at or above the LOD, but MFC MRD below the "
                                                     "positivity threshold: a negative for every rule",
         **{f"MRD call: {k}": v for k, v in _CALL_LEGEND.items()}},
        _PROVENANCE,
        ("positive_methods", "negative_methods", "not_evaluable_methods", "complete", "mfc_level", "wt1_level",
         "level_reason"),
    ),
    "patients": _Spec(
        "MRD timeline per patient",
        (("patient_id", "Patient", None), ("status", "Status", None), ("rule", "Rule", None),
         ("rule_detail", "Why", None), ("first_positive_date", "First positive", None),
         ("days_to_first_positive", "Day after HSCT", _int), ("n_positive_samples", "Positive samples", _int),
         ("n_evaluable_samples", "Evaluable samples", _int), ("intervention", "Intervention", None),
         ("intervention_date", "Intervention date", None), ("clearance", "Clearance", None),
         ("negativity_date", "Negative again", None)),
        {"Status: MRDco+": "consecutive positive samples (confirmed within the window)",
         "Status: MRDsin+": "a single positive sample, not confirmed",
         "Status: negative": "no positive sample"},
        _PROVENANCE,
        ("first_positive_sample_id", "confirmed_date", "days_to_confirmed", "evidence", "positive_samples",
         "onset", "onset_reason", "level", "level_reason", "days_to_negativity", "negativity_evidence",
         "reemergence_date", "days_to_reemergence", "reemergence_evidence", "hsct_date"),
    ),
    "estimates": _Spec(
        "Outcome estimates",
        (("label", "Endpoint", None), ("group", "Group", None), ("time_days", "At (days)", _fixed(0)),
         ("n", "Patients", _int), ("n_events", "Events", _int), ("estimate", "Estimate (%)", fmt_pct),
         ("lower", "95% CI lower (%)", fmt_pct), ("upper", "95% CI upper (%)", fmt_pct),
         ("converged", "Converged", _bool), ("note", "Note", None)),
        {"Estimate (%)": "cumulative incidence (Aalen–Johansen, competing risks) or Kaplan–Meier survival",
         "CIR": "cumulative incidence of relapse", "NRM": "non-relapse mortality",
         "DFS / LFS": "disease-/leukemia-free survival", "OS": "overall survival"},
        (), ("endpoint", "measure"),
    ),
    "tests": _Spec(
        "Group comparisons",
        (("label", "Endpoint", None), ("test", "Test", None), ("statistic", "Chi-square", _fixed(2)),
         ("df", "df", _int), ("p_value", "P", fmt_p), ("converged", "Converged", _bool), ("note", "Note", None)),
        {"gray": "Gray's test of cumulative incidence", "logrank": "log-rank test of survival"},
        (), ("endpoint",),
    ),
    "cox": _Spec(
        "Univariate Cox models",
        (("endpoint", "Endpoint", None), ("term", "Term", None), ("hr", "Hazard ratio", _ratio),
         ("hr_lower", "95% CI lower", _ratio), ("hr_upper", "95% CI upper", _ratio),
         ("p_value", "P", fmt_p), ("n", "Patients", _int), ("n_events", "Events", _int),
         ("converged", "Converged", _bool), ("note", "Note", None)),
        {"Hazard ratio": "cause-specific for relapse and NRM; relative to the first group"},
        (), ("covariate", "coef", "se", "z"),
    ),
    "endpoints": _Spec(
        "Endpoints per patient",
        (),
        {},
        (), (),
    ),
}


@dataclass(frozen=True)
class HumanTable:
    """A table formatted for people, with its legend and provenance.

    Attributes
    ----------
    kind : str
        Key of :data:`TABLE_KINDS`.
    title : str
    frame : DataFrame
        Formatted cells (strings), human headers.
    legend : dict
        Term or code -> meaning.
    provenance : dict
        Column -> the single value it had on every row (or ``"; "``-joined values).
    """

    kind: str
    title: str
    frame: pd.DataFrame
    legend: dict
    provenance: dict


def _endpoints_table(df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    out = pd.DataFrame(index=df.index)
    legend: dict[str, str] = {}
    for col in df.columns:
        if col.endswith("_days") and col[:-5] + "_event" in df.columns:
            continue
        if col.endswith("_months"):
            out[_header(col[:-7]) + " (months)"] = df[col].map(_fixed(1))
        elif col.endswith("_event"):
            name = col[:-6]
            header = _header(f"{name}_event")
            codes = EVENT_CODES.get(name)
            out[header] = df[col].map(_int)
            if codes:
                legend[header] = ", ".join(f"{k} = {v}" for k, v in codes.items())
            else:
                legend[header] = "0 = censored, 1 = event, 2 = competing event"
        elif col.endswith("_days"):
            out[_header(col[:-5]) + " (days)"] = df[col].map(_int)
        else:
            out[_header(col)] = df[col].map(lambda v: "" if _missing(v) else str(v))
    return out, legend


def human_table(df: pd.DataFrame, kind: str) -> HumanTable:
    """Format a result table for people.

    Parameters
    ----------
    df : DataFrame
        A table of a results folder (full precision).
    kind : str
        One of :data:`TABLE_KINDS` (``mfc``, ``gate_counts``, ``wt1``, ``samples``,
        ``patients``, ``estimates``, ``tests``, ``cox``, ``endpoints``).

    Returns
    -------
    HumanTable

    Examples
    --------
    >>> t = human_table(pd.DataFrame({"label": ["CIR"], "group": ["all"], "estimate": [0.2941],
    ...                               "lower": [0.102], "upper": [0.519]}), "estimates")
    >>> t.frame.iloc[0].tolist()
    ['CIR', 'all', '29.4', '10.2', '51.9']
    """
    if kind not in TABLE_KINDS:
        raise KeyError(f"unknown table kind {kind!r}; expected one of {sorted(TABLE_KINDS)}")
    spec = TABLE_KINDS[kind]
    if kind == "endpoints":
        frame, legend = _endpoints_table(df)
        return HumanTable(kind, spec.title, frame.reset_index(drop=True), legend, {})
    provenance: dict[str, str] = {}
    for col in spec.provenance:
        if col in df.columns:
            values = [str(v) for v in dict.fromkeys(df[col].tolist()) if not _missing(v)]
            if values:
                provenance[col] = "; ".join(values)
    known = {c for c, _, _ in spec.columns} | set(spec.provenance) | set(spec.drop) | set(_ALWAYS_DROPPED)
    out = pd.DataFrame(index=df.index)
    for col, header, fmt in spec.columns:
        if col in df.columns:
            out[header] = df[col].map(fmt if fmt is not None else (lambda v: "" if _missing(v) else str(v)))
    for col in df.columns:
        if col not in known:
            out[col] = df[col].map(lambda v: "" if _missing(v) else str(v))
    # a column that is empty on every row says nothing to a reader
    out = out.loc[:, [c for c in out.columns if (out[c] != "").any()]]
    legend = {k: v for k, v in spec.legend.items()}
    return HumanTable(kind, spec.title, out.reset_index(drop=True), legend, provenance)


def write_workbook(tables: Mapping[str, HumanTable], path: "str | os.PathLike", *,
                   run_provenance: Mapping[str, str] | None = None) -> Path:
    """Write human tables into one Excel workbook (openpyxl), atomically.

    One sheet per table (bold, frozen header row, widths fitted), a ``Legend`` sheet with
    every table's codes and terms, and a ``Provenance`` sheet: the run's provenance
    (``run_provenance``) and each table's constant columns, once.

    Parameters
    ----------
    tables : mapping of sheet name -> HumanTable
    path : path (``.xlsx``)
    run_provenance : mapping, optional

    Returns
    -------
    Path
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    for name, table in tables.items():
        ws = wb.create_sheet(_sheet_name(name))
        ws.append([table.title])
        ws["A1"].font = Font(bold=True, size=12)
        ws.append(list(table.frame.columns))
        for cell in ws[2]:
            cell.font = bold
        for row in table.frame.itertuples(index=False):
            ws.append([_cell(v) for v in row])
        ws.freeze_panes = "A3"
        for k, col in enumerate(table.frame.columns, start=1):
            width = max([len(str(col))] + [len(str(v)) for v in table.frame.iloc[:, k - 1].tolist()[:200]])
            ws.column_dimensions[ws.cell(row=2, column=k).column_letter].width = min(60, max(8, width + 2))
    legend = wb.create_sheet("Legend")
    legend.append(["Table", "Term or code", "Meaning"])
    for cell in legend[1]:
        cell.font = bold
    for name, table in tables.items():
        for term, meaning in table.legend.items():
            legend.append([table.title, term, meaning])
    prov = wb.create_sheet("Provenance")
    prov.append(["Scope", "Item", "Value"])
    for cell in prov[1]:
        cell.font = bold
    for key, value in (run_provenance or {}).items():
        prov.append(["run", key, _cell(value)])
    for name, table in tables.items():
        for key, value in table.provenance.items():
            prov.append([table.title, key, value])
    for ws in (legend, prov):
        ws.column_dimensions["A"].width = 34
        ws.column_dimensions["B"].width = 30
        ws.column_dimensions["C"].width = 100
        for row in ws.iter_rows(min_row=2):
            row[2].alignment = Alignment(wrap_text=True, vertical="top")
    target = Path(path)
    with atomic_path(target) as tmp:
        wb.save(tmp)
    return target


def _sheet_name(name: str) -> str:
    bad = set("[]:*?/\\")
    return "".join("_" if c in bad else c for c in str(name))[:31]


_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?$")


def _cell(v):
    # a formatted plain number is written as a number, so Excel can sort and sum it
    if isinstance(v, str):
        if _NUMBER.match(v):
            return int(v) if "." not in v else float(v)
        return v
    if isinstance(v, (dict, list, tuple)):
        return str(v)
    return v

"""Analysis-ready endpoints (time and status columns) from a patients table.

Public functions
----------------
build_endpoints(patients, *, index="hsct", timelines=None, horizon_days=None, ...)
    One row per patient: for each endpoint ``<ep>_days``, ``<ep>_months`` and
    ``<ep>_event``, measured from an index date (HSCT, first MRD positivity,
    intervention, randomization or any date column).

Endpoint definitions (DOMAIN.md §1, §5): relapse is hematologic relapse; NRM is death
without (before) relapse; DFS/LFS ends at relapse or death; OS at death. GVHD, MRD
clearance and toxicity incidences have relapse and death as competing events.
"""

from __future__ import annotations

import os
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._version import __version__
from ..errors import ClinicalDataError
# TOXICITY_DATES (re-exported): each present column gives an endpoint named without ``_date``
from ..io.clinical import TOXICITY_DATES, read_patients

__all__ = [
    "build_endpoints",
    "ENDPOINTS",
    "EVENT_CODES",
    "TOXICITY_DATES",
    "COMPOSITE_TOXICITIES",
    "CGVHD_SEVERITIES",
    "DAYS_PER_MONTH",
]

#: Days per month for every ``*_months`` column (365.25 / 12).
DAYS_PER_MONTH = 30.4375

#: Endpoints always built, in column order.
ENDPOINTS = ("relapse", "nrm", "dfs", "os", "agvhd", "cgvhd")

#: Meaning of the ``<ep>_event`` codes of each endpoint (0 is always censored).
EVENT_CODES = {
    "relapse": {1: "relapse", 2: "non-relapse mortality (competing)"},
    "nrm": {1: "non-relapse mortality", 2: "relapse (competing)"},
    "dfs": {1: "relapse or death"},
    "os": {1: "death"},
    "agvhd": {1: "acute GVHD at or above the grade threshold", 2: "relapse or death first (competing)"},
    "cgvhd": {1: "chronic GVHD at or above the severity threshold", 2: "relapse or death first (competing)"},
    "mrd_clearance": {1: "MRD negativity", 2: "relapse or death first (competing)"},
    "<toxicity>": {1: "toxicity", 2: "relapse or death first (competing)"},
}

#: Composite toxicity endpoints: the earliest of their present components.
COMPOSITE_TOXICITIES = {
    "marrow_suppression": ("neutropenia", "anemia", "thrombocytopenia", "pancytopenia"),
    "infection": ("bacterial_infection", "viral_infection", "fungal_infection"),
}

#: Ordered chronic GVHD severities (NIH global severity).
CGVHD_SEVERITIES = ("none", "mild", "moderate", "severe")

#: Index names and the date column each uses.
_INDEX_COLUMNS = {
    "hsct": "hsct_date",
    "intervention": "intervention_date",
    "randomization": "randomization_date",
}
_KEEP = ("diagnosis", "arm", "intervention")


def _fail(pid: Any, message: str) -> ClinicalDataError:
    return ClinicalDataError(f"patients: patient {pid!r}: {message}")


def _day(value: pd.Timestamp) -> str:
    return str(value.date()) if pd.notna(value) else "NaT"


def _check_before(df: pd.DataFrame, early: str, late: str, why: str) -> None:
    """Raise naming the first patient whose ``late`` date precedes its ``early`` date."""
    bad = (df[late] < df[early]).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = df.iloc[i]
        raise _fail(row["patient_id"], f"{late} {_day(row[late])} is before {early} {_day(row[early])}; {why}")


def _validate(p: pd.DataFrame) -> pd.DataFrame:
    """Check codes and date order; return a copy with normalised codes."""
    p = p.copy()
    for col in ("relapse_date", "death_date", "last_followup_date", "agvhd_date", "cgvhd_date"):
        if col not in p.columns:
            p[col] = pd.Series(pd.NaT, index=p.index, dtype="datetime64[ns]")
    for col in ("death_cause", "cgvhd_severity"):
        if col not in p.columns:
            p[col] = ""
    if "agvhd_grade" not in p.columns:
        p["agvhd_grade"] = 0
    # codes
    cause = p["death_cause"].fillna("").astype(str).str.strip()
    norm = cause.str.lower().map({"": "", "relapse": "relapse", "nrm": "NRM"})
    bad = norm.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise _fail(p["patient_id"].iloc[i], f"death_cause {cause.iloc[i]!r} unknown; expected 'relapse', 'NRM' or empty")
    p["death_cause"] = norm
    grade = pd.to_numeric(p["agvhd_grade"].replace("", np.nan), errors="coerce").fillna(0)
    bad = ~grade.isin([0, 1, 2, 3, 4])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise _fail(p["patient_id"].iloc[i], f"agvhd_grade {str(p['agvhd_grade'].iloc[i])!r} unknown; expected 0-4")
    p["agvhd_grade"] = grade.astype(int)
    sev = p["cgvhd_severity"].fillna("").astype(str).str.strip().str.lower().replace("", "none")
    bad = ~sev.isin(CGVHD_SEVERITIES)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise _fail(
            p["patient_id"].iloc[i],
            f"cgvhd_severity {p['cgvhd_severity'].iloc[i]!r} unknown; expected one of {list(CGVHD_SEVERITIES)}",
        )
    p["cgvhd_severity"] = sev
    # record consistency
    for i, row in enumerate(p.itertuples(index=False)):
        pid = row.patient_id
        if row.death_cause and pd.isna(row.death_date):
            raise _fail(pid, f"death_cause {row.death_cause!r} given but death_date is empty")
        if row.death_cause == "relapse" and pd.isna(row.relapse_date):
            raise _fail(pid, "death_cause 'relapse' but relapse_date is empty")
        if row.death_cause == "NRM" and pd.notna(row.relapse_date) and row.relapse_date <= row.death_date:
            raise _fail(
                pid,
                f"death_cause 'NRM' but relapse_date {_day(row.relapse_date)} precedes death_date "
                f"{_day(row.death_date)}; a death after relapse is not non-relapse mortality",
            )
        if row.agvhd_grade > 0 and pd.isna(row.agvhd_date):
            raise _fail(pid, f"agvhd_grade {row.agvhd_grade} but agvhd_date is empty")
        if row.agvhd_grade == 0 and pd.notna(row.agvhd_date):
            raise _fail(pid, f"agvhd_date {_day(row.agvhd_date)} given but agvhd_grade is 0")
        if row.cgvhd_severity != "none" and pd.isna(row.cgvhd_date):
            raise _fail(pid, f"cgvhd_severity {row.cgvhd_severity!r} but cgvhd_date is empty")
        if row.cgvhd_severity == "none" and pd.notna(row.cgvhd_date):
            raise _fail(pid, f"cgvhd_date {_day(row.cgvhd_date)} given but cgvhd_severity is 'none'")
        if pd.isna(row.last_followup_date) and pd.isna(row.death_date):
            raise _fail(pid, "last_followup_date and death_date are both empty; expected the end of follow-up")
    end = p["last_followup_date"].fillna(p["death_date"])
    p["_end"] = end
    for col in ("relapse_date", "death_date", "agvhd_date", "cgvhd_date", "last_followup_date",
                *[c for c in TOXICITY_DATES if c in p.columns]):
        _check_before(p, "hsct_date", col, "events must follow the transplant")
    _check_before(p, "relapse_date", "death_date", "death before relapse")
    has_death = p["death_date"].notna() & p["last_followup_date"].notna()
    late = has_death & (p["last_followup_date"] > p["death_date"])
    if late.any():
        i = int(np.flatnonzero(late.to_numpy())[0])
        row = p.iloc[i]
        raise _fail(
            row["patient_id"],
            f"last_followup_date {_day(row['last_followup_date'])} is after death_date {_day(row['death_date'])}",
        )
    for col in ("relapse_date", "agvhd_date", "cgvhd_date", *[c for c in TOXICITY_DATES if c in p.columns]):
        bad = (p[col] > p["_end"]).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            row = p.iloc[i]
            raise _fail(
                row["patient_id"],
                f"{col} {_day(row[col])} is after the end of follow-up {_day(row['_end'])} "
                "(last_followup_date, or death_date); follow-up must cover every event",
            )
    return p


def _competing(t_event, has_event, t_first_other, has_other, t_end):
    """(days, code): 1 event, 2 competing event first, 0 censored at the end."""
    days = np.where(has_event, t_event, np.where(has_other, t_first_other, t_end))
    code = np.where(has_event, 1, np.where(has_other, 2, 0))
    # a competing event strictly before the event of interest wins
    first_other = has_event & has_other & (t_first_other < t_event)
    days = np.where(first_other, t_first_other, days)
    code = np.where(first_other, 2, code)
    return days.astype(float), code.astype(np.int64)


def _read_timelines(timelines: Any, pids: pd.Series) -> pd.DataFrame:
    if isinstance(timelines, (str, os.PathLike)):
        from ..io.store import read_table

        timelines = read_table(timelines)
    if not isinstance(timelines, pd.DataFrame):
        raise ClinicalDataError(f"timelines: got {type(timelines).__name__}; expected a DataFrame or a path")
    need = ["patient_id", "status", "first_positive_date"]
    absent = [c for c in need if c not in timelines.columns]
    if absent:
        raise ClinicalDataError(
            f"timelines: columns {absent} missing; expected the output of classify_timeline "
            f"(available: {list(map(str, timelines.columns))})"
        )
    tl = timelines.copy()
    tl["patient_id"] = tl["patient_id"].astype(str)
    dup = tl["patient_id"].duplicated()
    if dup.any():
        raise ClinicalDataError(f"timelines: patient {tl['patient_id'][dup].iloc[0]!r} appears more than once")
    unknown = sorted(set(tl["patient_id"]) - set(pids.astype(str)))
    if unknown:
        raise ClinicalDataError(f"timelines: patients {unknown[:3]} are not in the patients table")
    for col in ("first_positive_date", "negativity_date"):
        if col in tl.columns:
            try:
                tl[col] = pd.to_datetime(tl[col], format="ISO8601")  # never a day/month guess
            except (ValueError, TypeError) as exc:
                raise ClinicalDataError(f"timelines: column {col} has unparseable dates ({exc})") from exc
    return tl.set_index("patient_id")


def build_endpoints(
    patients: Any,
    *,
    index: str = "hsct",
    timelines: Any = None,
    horizon_days: float | None = None,
    agvhd_min_grade: int = 2,
    cgvhd_min_severity: Literal["mild", "moderate", "severe"] = "moderate",
    keep: tuple[str, ...] = _KEEP,
) -> pd.DataFrame:
    """Time-to-event endpoints for every patient, from an index date.

    Parameters
    ----------
    patients : DataFrame or path (CSV, TSV, Parquet)
        One row per patient (read with :func:`mrdquant.io.clinical.read_patients`).
        Columns: ``patient_id``, ``hsct_date`` (required); ``relapse_date``,
        ``death_date``, ``death_cause`` (``"relapse"``, ``"NRM"`` or empty),
        ``agvhd_grade`` (0–4), ``agvhd_date``, ``cgvhd_severity`` (none / mild /
        moderate / severe), ``cgvhd_date``, ``last_followup_date`` (end of follow-up; the
        death date when empty); for trials ``randomization_date`` and the toxicity dates
        of :data:`TOXICITY_DATES` (first occurrence; empty when none). Other columns listed
        in ``keep`` are copied.
    index : str, default "hsct"
        Time origin: ``"hsct"`` (``hsct_date``), ``"intervention"``
        (``intervention_date``), ``"randomization"`` (``randomization_date``),
        ``"first_mrd_positive"`` (``first_positive_date`` of ``timelines``) or the name of
        any date column. Patients without an index date (e.g. never MRD positive, never
        treated) are left out; their ids are listed in ``.attrs["excluded"]``.
    timelines : DataFrame or path, optional
        Output of :func:`mrdquant.classify_timeline` (``patient_id``, ``status``,
        ``first_positive_date``; ``negativity_date`` for clearance). Adds ``mrd_status``,
        ``first_mrd_positive_days`` and, with ``negativity_date``, the ``mrd_clearance``
        endpoint.
    horizon_days : float, optional, days from the index date
        Administrative censoring: a time beyond the horizon becomes the horizon with code
        0.
    agvhd_min_grade : int, default 2
        Acute GVHD counts from this grade (II–IV by default).
    cgvhd_min_severity : {"mild", "moderate", "severe"}, default "moderate"
        Chronic GVHD counts from this severity.
    keep : tuple of str
        Patient columns copied to the output when present.

    Returns
    -------
    DataFrame
        One row per patient with an index date: ``patient_id``, ``index_date``, the
        ``keep`` columns present, ``mrd_status`` and ``first_mrd_positive_days`` (with
        ``timelines``), then for each endpoint ``<ep>_days`` (float, days from the index
        date), ``<ep>_months`` (days / 30.4375) and ``<ep>_event`` (Int64 codes):

        - ``relapse``: 1 relapse, 2 NRM (competing), 0 censored;
        - ``nrm``: 1 NRM, 2 relapse (competing), 0 censored;
        - ``dfs`` (= LFS): 1 relapse or death, 0 censored;
        - ``os``: 1 death, 0 censored;
        - ``agvhd``, ``cgvhd``: 1 GVHD at or above the threshold, 2 relapse or death first
          (competing), 0 censored;
        - ``mrd_clearance`` (with ``timelines``): 1 MRD negativity, 2 relapse or death
          first, 0 censored; only for patients who were MRD positive;
        - each toxicity of :data:`TOXICITY_DATES` present, and the composites
          ``marrow_suppression`` and ``infection`` (:data:`COMPOSITE_TOXICITIES`): 1
          toxicity, 2 relapse or death first, 0 censored.

        An incidence endpoint whose event happened before the index date (e.g. aGVHD
        before a pre-emptive intervention), or that does not apply, is missing (NaN days,
        ``<NA>`` code) for that patient. Same-day ties: relapse counts before death for
        DFS/NRM coding, the event of interest before its competitors for incidences.
        ``.attrs`` holds ``index``, ``horizon_days``, ``agvhd_min_grade``,
        ``cgvhd_min_severity``, ``excluded``, ``event_codes`` and ``mrdquant_version``.

    Raises
    ------
    ClinicalDataError
        Inconsistent records, naming the patient and columns: death before relapse, an
        event before the HSCT or the index date, follow-up ending before an event or
        after death, a death cause that contradicts the relapse date, GVHD grade without
        date (or the reverse), unknown codes, an unknown index.

    Examples
    --------
    >>> pts = pd.DataFrame({"patient_id": ["P1", "P2"], "hsct_date": ["2020-01-01"] * 2,
    ...                     "relapse_date": ["2020-07-01", None], "death_date": [None, None],
    ...                     "last_followup_date": ["2021-01-01", "2020-12-01"]})
    >>> build_endpoints(pts)[["patient_id", "relapse_days", "relapse_event"]]
      patient_id  relapse_days  relapse_event
    0         P1         182.0              1
    1         P2         335.0              0
    """
    p = read_patients(patients)
    if agvhd_min_grade not in (1, 2, 3, 4):
        raise ClinicalDataError(f"agvhd_min_grade: {agvhd_min_grade!r}; expected 1-4")
    if cgvhd_min_severity not in CGVHD_SEVERITIES[1:]:
        raise ClinicalDataError(f"cgvhd_min_severity: {cgvhd_min_severity!r}; expected one of {list(CGVHD_SEVERITIES[1:])}")
    if horizon_days is not None and not (np.isfinite(float(horizon_days)) and float(horizon_days) > 0):
        raise ClinicalDataError(f"horizon_days: {horizon_days!r}; expected a positive number of days")
    p = _validate(p)
    pid = p["patient_id"].astype(str)

    tl = _read_timelines(timelines, pid) if timelines is not None else None
    if tl is not None:
        p["first_positive_date"] = pid.map(tl["first_positive_date"]).astype("datetime64[ns]").to_numpy()
        p["mrd_status"] = pid.map(tl["status"]).to_numpy()
        if "negativity_date" in tl.columns:
            p["negativity_date"] = pid.map(tl["negativity_date"]).astype("datetime64[ns]").to_numpy()

    if index == "first_mrd_positive":
        if tl is None:
            raise ClinicalDataError("index 'first_mrd_positive' needs timelines (first_positive_date)")
        index_col = "first_positive_date"
    else:
        index_col = _INDEX_COLUMNS.get(index, index)
    if index_col not in p.columns:
        raise ClinicalDataError(
            f"index {index!r}: column {index_col!r} not in the patients table; expected 'hsct', "
            "'intervention', 'randomization', 'first_mrd_positive' or a date column"
        )
    idx = p[index_col]
    if not pd.api.types.is_datetime64_any_dtype(idx):
        try:
            idx = pd.to_datetime(idx, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise ClinicalDataError(f"index column {index_col!r} has unparseable dates ({exc})") from exc
    has_index = idx.notna().to_numpy()
    excluded = pid[~has_index].tolist()
    p = p.loc[has_index].reset_index(drop=True)
    idx = idx[has_index].reset_index(drop=True)
    p["index_date"] = idx
    if index_col != "hsct_date":
        _check_before(p, "hsct_date", "index_date", f"the index date ({index_col}) must not precede the transplant")
    for col in ("relapse_date", "death_date", "last_followup_date"):
        _check_before(p, "index_date", col, f"events and follow-up must not precede the index date ({index_col})")

    def days(col):
        return ((p[col] - p["index_date"]).dt.total_seconds() / 86400.0).to_numpy(dtype=float)

    t_rel, t_death, t_end = days("relapse_date"), days("death_date"), days("_end")
    has_rel = ~np.isnan(t_rel)
    has_death = ~np.isnan(t_death)
    # relapse / NRM / DFS share one clock: the first of relapse and death
    t_first = np.where(has_rel, t_rel, np.where(has_death, t_death, t_end))
    code_rel = np.where(has_rel, 1, np.where(has_death, 2, 0))
    code_nrm = np.where(has_rel, 2, np.where(has_death, 1, 0))
    code_dfs = np.where(has_rel | has_death, 1, 0)
    t_os = np.where(has_death, t_death, t_end)
    t_rd = np.where(has_rel, t_rel, np.where(has_death, t_death, np.nan))
    has_rd = has_rel | has_death

    ep: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    allrows = np.ones(len(p), dtype=bool)
    ep["relapse"] = (t_first, code_rel, allrows)
    ep["nrm"] = (t_first, code_nrm, allrows)
    ep["dfs"] = (t_first, code_dfs, allrows)
    ep["os"] = (t_os, np.where(has_death, 1, 0), allrows)

    def incidence(t_ev, has_ev):
        d, c = _competing(t_ev, has_ev, t_rd, has_rd, t_end)
        at_risk = ~(has_ev & (t_ev < 0))
        return d, c, at_risk

    t_ag = days("agvhd_date")
    ep["agvhd"] = incidence(t_ag, (p["agvhd_grade"].to_numpy() >= agvhd_min_grade) & ~np.isnan(t_ag))
    rank = p["cgvhd_severity"].map({s: i for i, s in enumerate(CGVHD_SEVERITIES)}).to_numpy()
    t_cg = days("cgvhd_date")
    ep["cgvhd"] = incidence(t_cg, (rank >= CGVHD_SEVERITIES.index(cgvhd_min_severity)) & ~np.isnan(t_cg))

    if tl is not None and "negativity_date" in p.columns:
        t_neg = days("negativity_date")
        t_pos = days("first_positive_date")
        ever_pos = ~np.isnan(t_pos)
        d, c, ok = incidence(t_neg, ~np.isnan(t_neg))
        ep["mrd_clearance"] = (d, c, ok & ever_pos)

    tox_present = []
    for col in TOXICITY_DATES:
        if col in p.columns:
            name = col[: -len("_date")]
            t_tox = days(col)
            ep[name] = incidence(t_tox, ~np.isnan(t_tox))
            tox_present.append(name)
    for comp, parts in COMPOSITE_TOXICITIES.items():
        present = [c for c in parts if c in tox_present]
        if present:
            stack = np.vstack([days(f"{c}_date") for c in present])
            t_min = np.fmin.reduce(stack, axis=0)  # earliest component, NaN when none
            ep[comp] = incidence(t_min, ~np.isnan(t_min))

    out = pd.DataFrame({"patient_id": p["patient_id"].to_numpy(), "index_date": p["index_date"].to_numpy()})
    for col in keep:
        if col in p.columns:
            out[col] = p[col].to_numpy()
    if tl is not None:
        out["mrd_status"] = p["mrd_status"].to_numpy()
        out["first_mrd_positive_days"] = days("first_positive_date")
    horizon = None if horizon_days is None else float(horizon_days)
    for name, (d, c, ok) in ep.items():
        d = d.astype(float).copy()
        c = c.astype(np.int64).copy()
        if horizon is not None:
            beyond = d > horizon
            d[beyond] = horizon
            c[beyond] = 0
        d[~ok] = np.nan
        out[f"{name}_days"] = d
        out[f"{name}_months"] = d / DAYS_PER_MONTH
        out[f"{name}_event"] = pd.array(np.where(ok, c, 0), dtype="Int64")
        out.loc[~ok, f"{name}_event"] = pd.NA
    out.attrs = {
        "index": index,
        "index_column": index_col,
        "horizon_days": horizon,
        "agvhd_min_grade": int(agvhd_min_grade),
        "cgvhd_min_severity": cgvhd_min_severity,
        "excluded": excluded,
        "event_codes": {k: {str(kk): vv for kk, vv in v.items()} for k, v in EVENT_CODES.items()},
        "mrdquant_version": __version__,
    }
    return out

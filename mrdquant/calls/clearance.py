"""MRD clearance after an intervention: time to MRD negativity and re-emergence.

For a patient with an ``intervention_date``, the samples that count (specimen type of the
profile) dated **after** the intervention day are read in date order. A sample taken on
the intervention day is the pre-treatment baseline and belongs to the status assessment.

- ``one_negative``: MRD negativity is reached at the first sample negative by every
  method of the profile (a *complete* negative).
- ``two_consecutive_negative``: at the first of two consecutive complete negatives.

Samples that are neither positive nor complete negatives (not evaluable, or negative by
one method with the other not evaluable) carry no information about clearance: they are
skipped and do not break a run of negatives. Re-emergence is the first positive sample
after the sample(s) that established negativity.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..io.clinical import read_patients, read_samples
from ..profiles import Profile
from .rules import TimelineRules, timeline_rules
from .sample import _call

__all__ = ["assess_clearance", "CLEARANCE_COLUMNS"]

#: columns of :func:`assess_clearance`, in order
CLEARANCE_COLUMNS = [
    "patient_id",
    "intervention",
    "intervention_date",
    "clearance",
    "negativity_date",
    "days_to_negativity",
    "negativity_evidence",
    "reemergence_date",
    "days_to_reemergence",
    "reemergence_evidence",
]


def assess_clearance(
    patients,
    samples,
    profile: "str | Profile | TimelineRules" = "puih_2020",
    **params: Any,
) -> pd.DataFrame:
    """Time to MRD negativity after an intervention and re-emergence of positivity.

    Parameters
    ----------
    patients, samples : DataFrame or path
        As for :func:`mrdquant.classify_timeline`.
    profile : str, path, Profile or TimelineRules, default "puih_2020"
    **params
        Timeline parameter overrides, e.g. ``clearance_rule="two_consecutive_negative"``.

    Returns
    -------
    DataFrame
        One row per patient, columns :data:`CLEARANCE_COLUMNS`: ``clearance`` is ``""``
        (no intervention), ``"not cleared"``, ``"cleared"`` or ``"re-emerged"``;
        ``days_to_negativity`` and ``days_to_reemergence`` (Int64, days) count from the
        intervention date; evidence columns list sample ids joined by ``";"``.
    """
    rules = profile if isinstance(profile, TimelineRules) else timeline_rules(profile, **params)
    pts = read_patients(patients)
    called = _call(read_samples(samples, pts), rules)
    return _clearance_table(pts, called, rules)


def _clearance_table(pts: pd.DataFrame, called: pd.DataFrame, rules: TimelineRules) -> pd.DataFrame:
    by_patient = {pid: grp for pid, grp in called[called["counts"]].groupby("patient_id", sort=False)}
    rows = []
    for pt in pts.itertuples(index=False):
        rows.append(_one(pt, by_patient.get(pt.patient_id), rules))
    out = pd.DataFrame(rows, columns=CLEARANCE_COLUMNS)
    for col in ("intervention_date", "negativity_date", "reemergence_date"):
        out[col] = pd.to_datetime(out[col])
    for col in ("days_to_negativity", "days_to_reemergence"):
        out[col] = out[col].astype("Int64")
    return out


def _one(pt, grp: pd.DataFrame | None, rules: TimelineRules) -> dict:
    row = {c: pd.NA for c in CLEARANCE_COLUMNS}
    row.update(
        patient_id=pt.patient_id,
        intervention=pt.intervention,
        intervention_date=pt.intervention_date,
        clearance="",
        negativity_date=pd.NaT,
        reemergence_date=pd.NaT,
        negativity_evidence="",
        reemergence_evidence="",
    )
    if pd.isna(pt.intervention_date):
        return row
    row["clearance"] = "not cleared"
    if grp is None:
        return row
    post = grp[grp["date"] > pt.intervention_date].sort_values(["date", "sample_id"], kind="stable")
    informative = [
        (r.sample_id, r.date, "positive" if r.mrd == "positive" else "negative")
        for r in post.itertuples(index=False)
        if r.mrd == "positive" or (r.mrd == "negative" and r.complete)
    ]
    need = 1 if rules.clearance_rule == "one_negative" else 2
    cleared_at = None
    for k in range(len(informative) - need + 1):
        if all(informative[k + j][2] == "negative" for j in range(need)):
            cleared_at = k
            break
    if cleared_at is None:
        return row
    first = informative[cleared_at]
    evidence = informative[cleared_at : cleared_at + need]
    row.update(
        clearance="cleared",
        negativity_date=first[1],
        days_to_negativity=(first[1] - pt.intervention_date).days,
        negativity_evidence=";".join(e[0] for e in evidence),
    )
    for sid, date, call in informative[cleared_at + need :]:
        if call == "positive":
            row.update(
                clearance="re-emerged",
                reemergence_date=date,
                days_to_reemergence=(date - pt.intervention_date).days,
                reemergence_evidence=sid,
            )
            break
    return row

"""Per-sample MRD call: MFC and WT1 results of one sample merged into one call.

A sample is MRD **positive** when it is positive by any method of the profile (the PUIH
rule: "a single BM sample ... positive by PCR or MFC"), **negative** when no method is
positive and at least one is negative, and **not evaluable** when no method gave a
positive or negative result. ``complete`` says whether every method of the profile gave a
result; clearance ("negative by all methods") needs a complete negative.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..io.clinical import METHODS, read_patients, read_samples
from ..cytometry.laip import DETECTED_BELOW_THRESHOLD
from ..profiles import Profile
from .rules import TimelineRules, timeline_rules

__all__ = ["call_samples", "SAMPLE_COLUMNS"]

#: columns of :func:`call_samples`, in order
SAMPLE_COLUMNS = [
    "patient_id",
    "sample_id",
    "date",
    "days_from_hsct",
    "specimen",
    "mfc",
    "mfc_detail",
    "wt1",
    "mfc_pct",
    "wt1_pct",
    "mrd",
    "positive_methods",
    "negative_methods",
    "not_evaluable_methods",
    "complete",
    "counts",
    "reason",
    "mfc_level",
    "wt1_level",
    "level",
    "level_reason",
    "profile",
]


def call_samples(
    samples,
    *,
    patients=None,
    profile: "str | Profile | TimelineRules" = "puih_2020",
    **params: Any,
) -> pd.DataFrame:
    """Call each sample MRD positive, negative or not evaluable.

    Parameters
    ----------
    samples : DataFrame or path
        Samples table (see :func:`mrdquant.io.clinical.read_samples`).
    patients : DataFrame or path, optional
        Patients table; when given, samples are checked against it (unknown patient,
        sample before HSCT) and ``days_from_hsct`` is filled.
    profile : str, path, Profile or TimelineRules, default "puih_2020"
        Supplies the methods, the specimen types that count and the level thresholds.
    **params
        Overrides of timeline parameters (see :data:`mrdquant.calls.rules.PARAMETERS`).

    Returns
    -------
    DataFrame
        One row per sample, columns :data:`SAMPLE_COLUMNS`:

        - ``mfc_detail``: ``mfc``, except ``"negative (detected below threshold)"`` for an
          MFC negative whose LAIP events reached the LOD (input ``mfc`` written that way,
          or an ``mfc_detected`` column); still a negative for every rule;
        - ``mrd``: ``"positive"``, ``"negative"`` or ``"not evaluable"``;
        - ``positive_methods``, ``negative_methods``, ``not_evaluable_methods``: method
          codes joined by ``","`` (``""`` when none); a method not done counts as not
          evaluable with reason "not done";
        - ``complete`` (bool): every method of the profile gave positive or negative;
        - ``counts`` (bool): the specimen type counts for the timeline (BM in
          ``puih_2020``);
        - ``reason``: why methods were not evaluable (``"wt1: ABL1 too low; mfc: not done"``);
        - ``mfc_level``, ``wt1_level``, ``level``: ``"low"``/``"high"`` for positive
          methods when the profile sets level thresholds and the ``*_pct`` value is given,
          else ``""`` with ``level_reason``;
        - ``days_from_hsct`` (Int64, days; <NA> without ``patients``).

    Raises
    ------
    ClinicalDataError
        Invalid samples or patients table (file, row and column named).
    ConfigError
        Invalid profile or parameter.
    """
    rules = profile if isinstance(profile, TimelineRules) else timeline_rules(profile, **params)
    if patients is not None:
        patients = read_patients(patients)
    table = read_samples(samples, patients)
    out = _call(table, rules)
    out.attrs["thresholds"] = rules.table.to_dict("records")
    return out


def _call(table: pd.DataFrame, rules: TimelineRules) -> pd.DataFrame:
    """Sample calls from an already validated samples table."""
    n = len(table)
    mrd = np.empty(n, dtype=object)
    pos_m = np.empty(n, dtype=object)
    neg_m = np.empty(n, dtype=object)
    ne_m = np.empty(n, dtype=object)
    complete = np.zeros(n, dtype=bool)
    reason = np.empty(n, dtype=object)
    levels = {m: np.full(n, "", dtype=object) for m in METHODS}
    level = np.full(n, "", dtype=object)
    level_reason = np.full(n, "", dtype=object)

    results = {m: table[m].to_numpy() for m in METHODS}
    pcts = {m: table[f"{m}_pct"].to_numpy(dtype=float) for m in METHODS}
    why = {m: table[f"{m}_reason"].to_numpy() for m in METHODS}
    for i in range(n):
        pos, neg, ne, notes = [], [], [], []
        for m in rules.methods:
            r = results[m][i]
            if r == "positive":
                pos.append(m)
            elif r == "negative":
                neg.append(m)
            else:
                ne.append(m)
                note = why[m][i] or ("not done" if r == "" else "not evaluable")
                notes.append(f"{m}: {note}")
        mrd[i] = "positive" if pos else ("negative" if neg else "not evaluable")
        pos_m[i], neg_m[i], ne_m[i] = ",".join(pos), ",".join(neg), ",".join(ne)
        complete[i] = not ne
        reason[i] = "; ".join(notes)
        if pos:
            lv, lr = _level(pos, {m: pcts[m][i] for m in pos}, rules)
            for m in pos:
                levels[m][i] = lv[m]
            level[i], level_reason[i] = _combine_levels(pos, lv, lr)

    out = pd.DataFrame(
        {
            "patient_id": table["patient_id"].to_numpy(),
            "sample_id": table["sample_id"].to_numpy(),
            "date": table["date"].to_numpy(),
            "days_from_hsct": (
                table["days_from_hsct"].astype("Int64")
                if "days_from_hsct" in table
                else pd.array([pd.NA] * n, dtype="Int64")
            ),
            "specimen": table["specimen"].to_numpy(),
            "mfc": table["mfc"].to_numpy(),
            "mfc_detail": _mfc_detail(table),
            "wt1": table["wt1"].to_numpy(),
            "mfc_pct": pcts["mfc"],
            "wt1_pct": pcts["wt1"],
            "mrd": mrd,
            "positive_methods": pos_m,
            "negative_methods": neg_m,
            "not_evaluable_methods": ne_m,
            "complete": complete,
            "counts": table["specimen"].isin(rules.specimens).to_numpy(),
            "reason": reason,
            "mfc_level": levels["mfc"],
            "wt1_level": levels["wt1"],
            "level": level,
            "level_reason": level_reason,
            "profile": rules.profile_id,
        }
    )
    return out[SAMPLE_COLUMNS]


def _mfc_detail(table: pd.DataFrame) -> np.ndarray:
    """``mfc`` with a negative whose LAIP events reached the LOD spelled out."""
    detail = table["mfc"].to_numpy(dtype=object).copy()
    if "mfc_detected" in table:
        below = (table["mfc"] == "negative").to_numpy() & table["mfc_detected"].to_numpy(dtype=bool)
        detail[below] = DETECTED_BELOW_THRESHOLD
    return detail


def _level(pos: list[str], values: dict[str, float], rules: TimelineRules):
    """Per positive method: ``"low"``/``"high"``/``""`` and the reason when empty."""
    lv: dict[str, str] = {}
    lr: dict[str, str] = {}
    for m in pos:
        t = rules.level_high[m]
        if not t.is_set:
            lv[m], lr[m] = "", f"{m} level threshold unset: {t.reason or 'not given'}"
        elif np.isnan(values[m]):
            lv[m], lr[m] = "", f"{m}_pct missing"
        else:
            lv[m] = "high" if values[m] >= t.value else "low"
            lr[m] = ""
    return lv, lr


def _combine_levels(pos: list[str], lv: dict[str, str], lr: dict[str, str]) -> tuple[str, str]:
    """Sample level: high if any positive method is high; low only if all are low."""
    if any(lv[m] == "high" for m in pos):
        return "high", ""
    if all(lv[m] == "low" for m in pos):
        return "low", ""
    return "", "; ".join(lr[m] for m in pos if lr[m])

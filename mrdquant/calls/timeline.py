"""Patient MRD timelines: negative, MRDsin+ or MRDco+ (Liu et al., Sci Rep 2020).

Rules (all parameters come from the profile's ``timeline`` section, see ``docs/calls.md``):

- Only samples of the profile's specimen types count (BM in ``puih_2020``); PB samples are
  reported per sample but neither confirm nor interrupt a BM sequence.
- A counted sample is MRD positive when any method is positive
  (:func:`mrdquant.calls.sample.call_samples`).
- Not-evaluable samples (no method gave a result) carry no information: they are skipped,
  so a not-evaluable sample between two positives does not break their consecutiveness;
  the confirmation window is still measured between the two positive dates.
- **MRDco+** fires at the first of
  (a) one sample positive by both methods, or
  (b) two consecutive evaluable samples both positive, at most
  ``confirmation_window_days`` apart (14 in ``puih_2020``; ``none`` = no limit). With
  ``consecutive="across"`` either method counts in each sample; with ``"within"`` the
  same method must be positive in both, and consecutiveness is judged on that method's
  own evaluable results.
- **MRDsin+**: at least one positive counted sample, not confirmed.
- **negative**: evaluable counted samples, none positive. ``not evaluable``: no evaluable
  counted sample at all.
- ``window_after_hsct_days`` restricts the assessment to samples up to that day after
  HSCT (Zhao 2013: one year); ``assess_until="intervention"`` restricts it to samples up
  to and including the intervention day (status *before* pre-emptive treatment).
- Onset: ``early`` when the first positivity is on or before ``onset_boundary_days`` after
  HSCT, else ``late``. Level: from the first positive sample; ``high`` when any positive
  method is at or above its ``level_high_<method>_pct``, ``low`` when all are below. When
  the profile leaves a boundary unset, the class is ``""`` and ``*_reason`` says why.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..io.clinical import read_patients, read_samples
from ..profiles import Profile
from .clearance import CLEARANCE_COLUMNS, _clearance_table
from .rules import TimelineRules, timeline_rules
from .sample import _call

__all__ = ["classify_timeline", "classify_timeline_with_samples", "TIMELINE_COLUMNS", "STATUSES"]

STATUSES = ("negative", "MRDsin+", "MRDco+", "not evaluable")

RULE_SINGLE = "single_positive"
RULE_CONSECUTIVE = "consecutive_positive"
RULE_BOTH = "both_methods"

_CORE_COLUMNS = [
    "patient_id",
    "hsct_date",
    "status",
    "rule",
    "rule_detail",
    "first_positive_date",
    "first_positive_sample_id",
    "days_to_first_positive",
    "confirmed_date",
    "days_to_confirmed",
    "evidence",
    "positive_samples",
    "n_positive_samples",
    "n_evaluable_samples",
    "onset",
    "onset_reason",
    "level",
    "level_reason",
]
_PARAM_COLUMNS = [
    "profile",
    "specimens",
    "methods",
    "consecutive",
    "confirmation_window_days",
    "window_after_hsct_days",
    "assess_until",
    "onset_boundary_days",
    "level_high_mfc_pct",
    "level_high_wt1_pct",
    "clearance_rule",
]
#: columns of :func:`classify_timeline`, in order
TIMELINE_COLUMNS = _CORE_COLUMNS + CLEARANCE_COLUMNS[1:] + _PARAM_COLUMNS


def classify_timeline(
    patients,
    samples,
    profile: "str | Profile" = "puih_2020",
    *,
    pre_hsct: str = "raise",
    **params: Any,
) -> pd.DataFrame:
    """Classify each patient's post-HSCT MRD course as negative, MRDsin+ or MRDco+.

    Parameters
    ----------
    patients : DataFrame or path (CSV, TSV, Parquet)
        ``patient_id``, ``hsct_date``; optional ``diagnosis``, ``intervention``,
        ``intervention_date`` (see :func:`mrdquant.io.clinical.read_patients`).
    samples : DataFrame or path
        ``patient_id``, ``sample_id``, ``date``, ``specimen`` (BM/PB), ``mfc``, ``wt1``
        (``positive``/``negative``/``not evaluable``/empty); optional ``mfc_pct`` (% of
        nucleated cells), ``wt1_pct`` (% WT1/ABL1).
    profile : str, path or Profile, default "puih_2020"
        Source of the rule parameters (``timeline`` section).
    pre_hsct : {"raise", "drop"}, default "raise"
        Samples dated before HSCT are rejected (or dropped).
    **params
        Overrides of timeline parameters (recorded as "user override"):
        ``confirmation_window_days`` (int days or None), ``consecutive``
        (``"across"``/``"within"``), ``window_after_hsct_days`` (int days or None),
        ``specimens``, ``methods``, ``assess_until``, ``onset_boundary_days`` (days),
        ``level_high_mfc_pct``, ``level_high_wt1_pct`` (%), ``clearance_rule``.

    Returns
    -------
    DataFrame
        One row per patient (order of the patients table), columns
        :data:`TIMELINE_COLUMNS`:

        - ``status``: ``negative``, ``MRDsin+``, ``MRDco+`` or ``not evaluable`` (no
          evaluable counted sample);
        - ``rule``: ``single_positive`` (MRDsin+), ``consecutive_positive`` and/or
          ``both_methods`` (MRDco+, joined by ``+`` when both fire on the same sample),
          ``""`` otherwise; ``rule_detail`` spells it out with dates and parameters;
        - ``first_positive_date`` / ``first_positive_sample_id`` /
          ``days_to_first_positive`` (Int64, days after HSCT);
        - ``confirmed_date`` / ``days_to_confirmed`` (MRDco+ only);
        - ``evidence``: sample ids that fired the rule, joined by ``";"``;
          ``positive_samples``: every positive counted sample;
        - ``onset`` (``early``/``late``/``""``), ``level`` (``low``/``high``/``""``) with
          ``onset_reason``/``level_reason`` when empty;
        - clearance columns (see :func:`mrdquant.calls.clearance.assess_clearance`);
        - the parameter values used (``profile``, ``confirmation_window_days``, ...).

        ``DataFrame.attrs["thresholds"]`` holds the profile's timeline parameters with
        units and sources.

    Raises
    ------
    ClinicalDataError
        Invalid tables: unknown patient, sample before HSCT, duplicate sample id,
        unparseable date, result without specimen type (file, row, column named).
    ConfigError
        Unknown parameter or invalid profile value.

    Examples
    --------
    >>> pts = pd.DataFrame({"patient_id": ["P1"], "hsct_date": ["2020-01-01"]})
    >>> smp = pd.DataFrame({
    ...     "patient_id": ["P1", "P1"], "sample_id": ["S1", "S2"],
    ...     "date": ["2020-03-01", "2020-03-15"], "specimen": ["BM", "BM"],
    ...     "mfc": ["negative", "negative"], "wt1": ["positive", "positive"]})
    >>> classify_timeline(pts, smp)[["patient_id", "status", "rule", "evidence"]]
      patient_id  status                  rule  evidence
    0         P1  MRDco+  consecutive_positive     S1;S2
    """
    table, _ = classify_timeline_with_samples(
        patients, samples, profile, pre_hsct=pre_hsct, **params
    )
    return table


def classify_timeline_with_samples(
    patients,
    samples,
    profile: "str | Profile" = "puih_2020",
    *,
    pre_hsct: str = "raise",
    **params: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`classify_timeline` plus the per-sample calls it used.

    Returns
    -------
    (patients_table, samples_table)
        The patient table of :func:`classify_timeline` and the sample table of
        :func:`mrdquant.calls.sample.call_samples` (with ``days_from_hsct``).
    """
    rules = profile if isinstance(profile, TimelineRules) else timeline_rules(profile, **params)
    pts = read_patients(patients)
    called = _call(read_samples(samples, pts, pre_hsct=pre_hsct), rules)
    counted = called[called["counts"]]
    groups = {pid: grp for pid, grp in counted.groupby("patient_id", sort=False)}
    rows = [_classify_one(pt, groups.get(pt.patient_id), rules) for pt in pts.itertuples(index=False)]
    core = pd.DataFrame(rows, columns=_CORE_COLUMNS)
    for col in ("first_positive_date", "confirmed_date"):
        core[col] = pd.to_datetime(core[col])
    for col in ("days_to_first_positive", "days_to_confirmed", "n_positive_samples", "n_evaluable_samples"):
        core[col] = core[col].astype("Int64")
    clearance = _clearance_table(pts, called, rules).drop(columns="patient_id")
    params_df = pd.DataFrame([rules.columns()] * len(core), columns=_PARAM_COLUMNS)
    for col in ("confirmation_window_days", "window_after_hsct_days"):
        params_df[col] = params_df[col].astype("Int64")
    for col in ("onset_boundary_days", "level_high_mfc_pct", "level_high_wt1_pct"):
        params_df[col] = params_df[col].astype("Float64")
    out = pd.concat([core, clearance, params_df], axis=1)[TIMELINE_COLUMNS]
    out.attrs["thresholds"] = rules.table.to_dict("records")
    called.attrs["thresholds"] = rules.table.to_dict("records")
    return out, called


def _assessed(pt, grp: pd.DataFrame | None, rules: TimelineRules) -> pd.DataFrame | None:
    if grp is None:
        return None
    keep = pd.Series(True, index=grp.index)
    if rules.window_after_hsct_days is not None:
        keep &= grp["days_from_hsct"] <= rules.window_after_hsct_days
    if rules.assess_until == "intervention" and not pd.isna(pt.intervention_date):
        keep &= grp["date"] <= pt.intervention_date
    return grp[keep.to_numpy()].sort_values(["date", "sample_id"], kind="stable")


def _classify_one(pt, grp: pd.DataFrame | None, rules: TimelineRules) -> dict:
    row: dict[str, Any] = {c: pd.NA for c in _CORE_COLUMNS}
    row.update(
        patient_id=pt.patient_id,
        hsct_date=pt.hsct_date,
        rule="",
        rule_detail="",
        first_positive_date=pd.NaT,
        first_positive_sample_id="",
        confirmed_date=pd.NaT,
        evidence="",
        positive_samples="",
        onset="",
        level="",
    )
    s = _assessed(pt, grp, rules)
    evaluable = s[s["mrd"] != "not evaluable"] if s is not None else None
    n_eval = 0 if evaluable is None else len(evaluable)
    row["n_evaluable_samples"] = n_eval
    if n_eval == 0:
        row.update(
            status="not evaluable",
            n_positive_samples=0,
            onset_reason="no evaluable sample",
            level_reason="no evaluable sample",
        )
        return row
    positives = evaluable[evaluable["mrd"] == "positive"]
    row["n_positive_samples"] = len(positives)
    row["positive_samples"] = ";".join(positives["sample_id"])
    if positives.empty:
        row.update(status="negative", onset_reason="no MRD positivity", level_reason="no MRD positivity")
        return row

    first = positives.iloc[0]
    row.update(
        first_positive_date=first["date"],
        first_positive_sample_id=first["sample_id"],
        days_to_first_positive=int(first["days_from_hsct"]),
    )
    row["onset"], row["onset_reason"] = _onset(int(first["days_from_hsct"]), rules)
    row["level"], row["level_reason"] = first["level"], first["level_reason"]

    candidates = _confirmations(evaluable, rules)
    if candidates:
        date = min(c[0] for c in candidates)
        order = [RULE_CONSECUTIVE, RULE_BOTH]
        fired = sorted((c for c in candidates if c[0] == date), key=lambda c: order.index(c[1]))
        rules_fired = list(dict.fromkeys(c[1] for c in fired))
        ids = list(dict.fromkeys(sid for c in fired for sid in c[2]))
        row.update(
            status="MRDco+",
            rule="+".join(rules_fired),
            rule_detail="; ".join(c[3] for c in fired),
            confirmed_date=date,
            days_to_confirmed=(date - pt.hsct_date).days,
            evidence=";".join(ids),
        )
    else:
        row.update(
            status="MRDsin+",
            rule=RULE_SINGLE,
            rule_detail=(
                f"{first['sample_id']} ({first['date'].date()}) positive by {first['positive_methods']}; "
                f"not confirmed ({_window_text(rules)}, {rules.consecutive} methods)"
            ),
            evidence=first["sample_id"],
        )
    return row


def _window_text(rules: TimelineRules) -> str:
    w = rules.confirmation_window_days
    return "no confirmation window" if w is None else f"window {w} days"


def _confirmations(evaluable: pd.DataFrame, rules: TimelineRules) -> list[tuple]:
    """Every event that would make the patient MRDco+: (date, rule, sample ids, detail)."""
    out: list[tuple] = []
    n_methods = len(rules.methods)
    recs = list(evaluable.itertuples(index=False))
    if n_methods >= 2:
        for r in recs:
            pos = [m for m in r.positive_methods.split(",") if m]
            if len(pos) >= n_methods:
                out.append(
                    (r.date, RULE_BOTH, [r.sample_id], f"{r.sample_id} ({r.date.date()}) positive by {' and '.join(pos)}")
                )
    if rules.consecutive == "across":
        series = [("any method", [(r, r.mrd == "positive") for r in recs])]
    else:
        series = []
        for m in rules.methods:
            seq = [(r, getattr(r, m) == "positive") for r in recs if getattr(r, m) in ("positive", "negative")]
            series.append((m, seq))
    w = rules.confirmation_window_days
    for label, seq in series:
        for (a, a_pos), (b, b_pos) in zip(seq, seq[1:]):
            if not (a_pos and b_pos):
                continue
            gap = (b.date - a.date).days
            if w is not None and gap > w:
                continue
            out.append(
                (
                    b.date,
                    RULE_CONSECUTIVE,
                    [a.sample_id, b.sample_id],
                    f"{a.sample_id} ({a.date.date()}) and {b.sample_id} ({b.date.date()}) consecutive "
                    f"positive by {label}, {gap} days apart ({_window_text(rules)})",
                )
            )
    return out


def _onset(days: int, rules: TimelineRules) -> tuple[str, str]:
    t = rules.onset_boundary
    if not t.is_set:
        return "", f"onset boundary unset: {t.reason or 'not given'}"
    return ("early" if days <= t.value else "late"), ""

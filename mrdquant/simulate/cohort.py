"""Simulated transplant cohort with MRD monitoring and outcomes, with known truth.

Each patient follows a latent MRD course on the PUIH monitoring schedule (bone marrow at
1, 2, 3, 4.5, 6, 9 and 12 months after HSCT, then every 6 months; after a pre-emptive
intervention the same schedule restarts from the intervention date). The course is one of

- ``none``: every BM sample negative (some methods not evaluable or not done);
- ``sin``: one BM sample positive by one method, a confirmation BM sample about two weeks
  later negative by both (MRDsin+);
- ``co-pair``: a BM sample positive by one method confirmed by the next BM sample positive
  7-14 days later, sometimes with a not-evaluable BM sample in between (MRDco+);
- ``co-both``: one BM sample positive by MFC and WT1 (MRDco+).

MRD-positive patients mostly receive an intervention (``IFN-a`` after MRDsin+,
``Chemo-DLI`` or ``IFN-a`` after MRDco+); afterwards MRD clears at the k-th sample or
persists, and may re-emerge. Peripheral blood (PB) samples with WT1 results are added at
random visits, including WT1-positive PB samples between a positive BM sample and its
negative confirmation, which must not count. Relapse is more likely after MRDco+ than
MRDsin+, more likely without clearance, and follow-up is censored administratively or
by loss to follow-up; samples stop at relapse, death or last follow-up.

The ``truth`` table is bookkeeping of how the samples were generated, written without the
classifier: status, rule, first positive date and sample, confirmation date, evidence,
and (for the ``one_negative`` clearance rule) negativity and re-emergence dates.

Everything is drawn from one ``numpy.random.Generator`` seeded with ``seed``: the same
arguments give the same tables.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..io.store import write_table

__all__ = [
    "simulate_cohort",
    "write_data_samples",
    "PATIENT_COLUMNS",
    "SAMPLE_COLUMNS",
    "TRUTH_COLUMNS",
    "SCHEDULE_MONTHS",
]

#: monitoring schedule, months after HSCT (or after an intervention); then every 6 months
SCHEDULE_MONTHS = (1, 2, 3, 4.5, 6, 9, 12)
_DAYS_PER_MONTH = 30.4375

PATIENT_COLUMNS = [
    "patient_id",
    "hsct_date",
    "diagnosis",
    "arm",
    "intervention",
    "intervention_date",
    "relapse_date",
    "death_date",
    "death_cause",
    "agvhd_grade",
    "agvhd_date",
    "cgvhd_severity",
    "cgvhd_date",
    "last_followup_date",
]
SAMPLE_COLUMNS = [
    "patient_id",
    "sample_id",
    "date",
    "specimen",
    "mfc",
    "wt1",
    "mfc_pct",
    "wt1_pct",
    "mfc_reason",
    "wt1_reason",
]
TRUTH_COLUMNS = [
    "patient_id",
    "mrd_course",
    "status",
    "rule",
    "first_positive_date",
    "first_positive_sample_id",
    "confirmed_date",
    "evidence",
    "negativity_date",
    "negativity_sample_id",
    "reemergence_date",
    "reemergence_sample_id",
    "relapse",
]

_NE_REASON = {"mfc": "too few CD45+ events", "wt1": "ABL1 copies below minimum"}


def _schedule(n_max_days: int) -> list[float]:
    days = [m * _DAYS_PER_MONTH for m in SCHEDULE_MONTHS]
    while days[-1] + 6 * _DAYS_PER_MONTH <= n_max_days:
        days.append(days[-1] + 6 * _DAYS_PER_MONTH)
    return days


def _number_samples(drawn: list[dict], pid: str, hsct: pd.Timestamp, last_day: int) -> list[dict]:
    """Keep the samples drawn up to ``last_day`` (days after HSCT), in date order (BM before
    PB on the same day), with ``sample_id`` ``<pid>-01``, ``<pid>-02``, ... and ``date``."""
    kept = sorted(
        (s for s in drawn if s["day"] <= last_day),
        key=lambda s: (s["day"], 0 if s["specimen"] == "BM" else 1),
    )
    for k, s in enumerate(kept, start=1):
        s["sample_id"] = f"{pid}-{k:02d}"
        s["date"] = hsct + pd.Timedelta(days=s["day"])
    return kept


def _write_csv_tables(tables: dict[str, pd.DataFrame], outdir: Path) -> list[Path]:
    """Write each table as ``outdir/<name>.csv`` (atomically), dates as ``YYYY-MM-DD``."""
    written = []
    for name, table in tables.items():
        df = table.copy()
        for c in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[c]):
                df[c] = df[c].dt.strftime("%Y-%m-%d")
        written.append(write_table(df, Path(outdir) / f"{name}.csv"))
    return written


class _Patient:
    """Accumulates the samples of one patient as (day, specimen, mfc, wt1, ..., tag)."""

    def __init__(self, rng: np.random.Generator, diagnosis: str):
        self.rng = rng
        self.samples: list[dict] = []
        # positive MFC levels lie above the disease's MFC threshold (ALL 0.01 %, AML 0.1 %)
        self.mfc_log10 = (-0.95, 1.0) if diagnosis == "AML" else (-1.95, 0.5)

    def bm(self, day: int, mfc: str, wt1: str, tag: str = "", *, ne_ok: bool = False, p_ne: float = 0.0):
        rng = self.rng
        res = {"mfc": mfc, "wt1": wt1}
        reasons = {"mfc": "", "wt1": ""}
        if ne_ok:
            for m in ("mfc", "wt1"):
                u = rng.random()
                if u < p_ne:
                    res[m], reasons[m] = "not evaluable", _NE_REASON[m]
                elif u < p_ne * 1.3:
                    res[m] = ""  # not done
        self.samples.append(
            {
                "day": int(day),
                "specimen": "BM",
                "mfc": res["mfc"],
                "wt1": res["wt1"],
                "mfc_pct": self._mfc_pct(res["mfc"]),
                "wt1_pct": self._wt1_pct(res["wt1"]),
                "mfc_reason": reasons["mfc"],
                "wt1_reason": reasons["wt1"],
                "tag": tag,
            }
        )

    def bm_not_evaluable(self, day: int, tag: str = ""):
        self.samples.append(
            {
                "day": int(day),
                "specimen": "BM",
                "mfc": "not evaluable",
                "wt1": "not evaluable",
                "mfc_pct": np.nan,
                "wt1_pct": np.nan,
                "mfc_reason": "hemodilute aspirate, too few events",
                "wt1_reason": _NE_REASON["wt1"],
                "tag": tag,
            }
        )

    def pb(self, day: int, wt1: str):
        self.samples.append(
            {
                "day": int(day),
                "specimen": "PB",
                "mfc": "",
                "wt1": wt1,
                "mfc_pct": np.nan,
                "wt1_pct": self._wt1_pct(wt1),
                "mfc_reason": "",
                "wt1_reason": "",
                "tag": "pb",
            }
        )

    def _mfc_pct(self, result: str) -> float:
        if result == "positive":
            return float(np.round(10 ** self.rng.uniform(*self.mfc_log10), 4))
        return np.nan

    def _wt1_pct(self, result: str) -> float:
        if result == "positive":
            return float(np.round(10 ** self.rng.uniform(np.log10(0.7), 1.5), 3))
        if result == "negative":
            return float(np.round(self.rng.uniform(0.02, 0.55), 3))
        return np.nan


def simulate_cohort(
    n_patients: int = 100,
    *,
    seed: int = 0,
    start_date: str = "2014-01-01",
    accrual_days: int = 4 * 365,
    followup_days: int = 3 * 365,
    p_mrd: float = 0.5,
    p_co: float = 0.45,
    p_intervention: float = 0.85,
    p_clear_sin: float = 0.82,
    p_clear_co: float = 0.59,
    p_reemerge: float = 0.3,
    p_pb: float = 0.15,
    p_not_evaluable: float = 0.05,
    p_lost: float = 0.1,
) -> dict[str, pd.DataFrame]:
    """Simulate a transplanted cohort with MRD samples, outcomes and the true MRD calls.

    Parameters
    ----------
    n_patients : int, default 100
    seed : int, default 0
        Seed of the random generator; the output is a function of the arguments only.
    start_date : str, default "2014-01-01"
        First possible HSCT date.
    accrual_days : int, default 1460, days
        HSCT dates are uniform over ``[start_date, start_date + accrual_days)``.
    followup_days : int, default 1095, days
        Administrative end of follow-up is ``accrual_days + followup_days`` after
        ``start_date``.
    p_mrd : float, default 0.5
        Probability that a patient develops MRD (if observed before death/loss).
    p_co : float, default 0.45
        Probability that MRD is confirmed (MRDco+) rather than single (MRDsin+).
    p_intervention : float, default 0.85
        Probability that an MRD-positive patient receives a pre-emptive intervention.
    p_clear_sin, p_clear_co : float, default 0.82, 0.59
        Probability of clearing MRD after the intervention (defaults: the proportions
        reported for MRDsin+ / MRDco+ by Liu et al., Sci Rep 2020).
    p_reemerge : float, default 0.3
        Probability of re-emergence after clearance.
    p_pb : float, default 0.15
        Probability of an additional PB sample at a visit.
    p_not_evaluable : float, default 0.05
        Per method and negative BM sample: probability of a not-evaluable result.
    p_lost : float, default 0.1
        Probability of loss to follow-up before the administrative end.

    Returns
    -------
    dict of str -> DataFrame
        ``patients`` (:data:`PATIENT_COLUMNS`), ``samples`` (:data:`SAMPLE_COLUMNS`, the
        input of :func:`mrdquant.classify_timeline`) and ``truth``
        (:data:`TRUTH_COLUMNS`: the calls the ``puih_2020`` rules must give).

    Examples
    --------
    >>> cohort = simulate_cohort(20, seed=1)
    >>> sorted(cohort)
    ['patients', 'samples', 'truth']
    """
    if int(n_patients) < 1:
        raise ValueError(f"n_patients={n_patients!r}; expected a positive integer")
    for name, p in {
        "p_mrd": p_mrd, "p_co": p_co, "p_intervention": p_intervention, "p_clear_sin": p_clear_sin,
        "p_clear_co": p_clear_co, "p_reemerge": p_reemerge, "p_pb": p_pb,
        "p_not_evaluable": p_not_evaluable, "p_lost": p_lost,
    }.items():
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{name}={p!r}; expected a probability in [0, 1]")
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(start_date)
    admin_end_day = accrual_days + followup_days  # from start_date
    nrm_rate = -np.log(1 - 0.08) / (4 * 365)  # ~8% NRM at 4 years
    patients, samples, truth = [], [], []
    for i in range(int(n_patients)):
        pid = f"P{i + 1:04d}"
        hsct_offset = int(rng.integers(0, accrual_days))
        hsct = start + pd.Timedelta(days=hsct_offset)
        admin_end = admin_end_day - hsct_offset  # days after HSCT
        diagnosis = str(rng.choice(["B-ALL", "T-ALL", "AML"], p=[0.55, 0.2, 0.25]))
        lost = int(rng.integers(180, admin_end)) if rng.random() < p_lost else admin_end
        nrm_day = int(np.ceil(rng.exponential(1 / nrm_rate)))
        open_end = min(lost, admin_end, nrm_day)  # last day MRD samples could be taken without relapse

        pat = _Patient(rng, diagnosis)
        course = "none"
        if rng.random() < p_mrd:
            course = "co" if rng.random() < p_co else "sin"
            if course == "co":
                course = "co-both" if rng.random() < 0.4 else "co-pair"
        onset = int(rng.integers(25, 700))
        visits = [int(round(d)) + int(rng.integers(-3, 4)) for d in _schedule(admin_end)]

        # --- the defining block (first positive, confirmation) -------------------------
        t = dict.fromkeys(TRUTH_COLUMNS, "")
        t.update(patient_id=pid, first_positive_date=pd.NaT, confirmed_date=pd.NaT,
                 negativity_date=pd.NaT, reemergence_date=pd.NaT)
        intervention, iv_day = "", None
        block: list[tuple] = []
        if course != "none":
            later = [v for v in visits if v >= onset]
            first_day = later[0] if later else None
            if first_day is None:
                course = "none"
            else:
                single = str(rng.choice(["mfc", "wt1"], p=[0.4, 0.6]))
                if course == "sin":
                    conf_day = first_day + int(rng.integers(7, 22))
                    block_end = conf_day
                elif course == "co-pair":
                    conf_day = first_day + int(rng.integers(7, 15))
                    block_end = conf_day
                else:
                    conf_day = None
                    block_end = first_day
                if course == "sin":
                    p_iv, iv_choice = p_intervention, ["IFN-a"]
                else:
                    p_iv, iv_choice = p_intervention, ["Chemo-DLI", "IFN-a"]
                if rng.random() < p_iv:
                    intervention = str(rng.choice(iv_choice))
                    iv_day = block_end + int(rng.integers(3, 11))
                # the block and the first post-intervention visit must fit before NRM / loss
                needed = (iv_day + 40) if iv_day is not None else block_end + 40
                if needed >= open_end:
                    course, intervention, iv_day = "none", "", None
                else:
                    block = [(first_day, single, conf_day)]
        t["mrd_course"] = course

        # --- pre-onset negative visits ---------------------------------------------------
        block_start = block[0][0] if block else None
        for v in visits:
            if block_start is not None and v >= block_start:
                break
            pat.bm(v, "negative", "negative", "pre", ne_ok=True, p_ne=p_not_evaluable)
            if rng.random() < p_pb:
                pat.pb(v + int(rng.integers(0, 4)), "positive" if rng.random() < 0.1 else "negative")

        relapse_p = 0.08
        post_tags: list[str] = []
        if block:
            first_day, single, conf_day = block[0]
            other = "wt1" if single == "mfc" else "mfc"
            if course == "co-both":
                pat.bm(first_day, "positive", "positive", "first")
            else:
                res = {single: "positive", other: "negative"}
                pat.bm(first_day, res["mfc"], res["wt1"], "first")
            if course == "sin":
                if rng.random() < 0.5:  # a WT1+ PB sample between: must not confirm
                    pat.pb(first_day + int(rng.integers(1, 6)), "positive")
                pat.bm(conf_day, "negative", "negative", "confirm-neg")
            elif course == "co-pair":
                if conf_day - first_day >= 9 and rng.random() < 0.3:
                    pat.bm_not_evaluable(first_day + int(rng.integers(3, conf_day - first_day - 2)), "ne-between")
                second = str(rng.choice(["mfc", "wt1"]))
                res = {second: "positive", ("wt1" if second == "mfc" else "mfc"): "negative"}
                pat.bm(conf_day, res["mfc"], res["wt1"], "confirm")
            block_end = conf_day if conf_day is not None else first_day

            if iv_day is not None:
                clears = rng.random() < (p_clear_sin if course == "sin" else p_clear_co)
                k_clear = int(rng.choice([1, 2, 3, 4], p=[0.45, 0.25, 0.15, 0.15])) if clears else None
                reemerges = clears and rng.random() < p_reemerge
                r_re = int(rng.integers(1, 4)) if reemerges else None
                post_visits = [iv_day + int(round(d)) + int(rng.integers(-3, 4)) for d in _schedule(admin_end)]
                for k, v in enumerate(post_visits, start=1):
                    if k_clear is None or k < k_clear:
                        tag = "post-pos"
                    elif r_re is not None and k >= k_clear + r_re:
                        tag = "post-reemerged"
                    else:
                        tag = "post-neg"
                    post_tags.append(tag)
                    if tag == "post-neg":
                        pat.bm(v, "negative", "negative", "clear" if k == k_clear else tag)
                    else:
                        m = str(rng.choice(["mfc", "wt1"]))
                        res = {m: "positive", ("wt1" if m == "mfc" else "mfc"): "negative"}
                        pat.bm(v, res["mfc"], res["wt1"], "reemerge" if (r_re and k == k_clear + r_re) else tag)
                    if rng.random() < p_pb:
                        pat.pb(v + int(rng.integers(0, 4)), "positive" if tag != "post-neg" else "negative")
                if course == "sin":
                    relapse_p = 0.55 if k_clear is None else (0.55 if reemerges else 0.08)
                else:
                    relapse_p = 0.8 if k_clear is None else (0.6 if reemerges else 0.25)
                anchor = iv_day
            else:
                for v in visits:
                    if v <= block_end + 5:
                        continue
                    if course == "sin":
                        pat.bm(v, "negative", "negative", "after-neg", ne_ok=True, p_ne=p_not_evaluable)
                    else:
                        m = str(rng.choice(["mfc", "wt1"]))
                        res = {m: "positive", ("wt1" if m == "mfc" else "mfc"): "negative"}
                        pat.bm(v, res["mfc"], res["wt1"], "after-pos")
                relapse_p = 0.25 if course == "sin" else 0.85
                anchor = block_end
        else:
            anchor = 0

        # --- outcomes ------------------------------------------------------------------
        relapse_day = None
        if rng.random() < relapse_p:
            if course == "none":
                relapse_day = int(rng.integers(90, 1500))
            elif iv_day is not None and post_tags and "post-pos" in post_tags[:1]:
                relapse_day = anchor + int(rng.integers(45, 500))
            else:
                relapse_day = anchor + int(rng.integers(60, 1200))
        death_day, cause = None, ""
        if relapse_day is not None and relapse_day <= min(lost, admin_end, nrm_day):
            if rng.random() < 0.55:
                death_day, cause = relapse_day + int(rng.integers(20, 400)), "relapse"
        else:
            relapse_day = None
            if nrm_day <= min(lost, admin_end):
                death_day, cause = nrm_day, "NRM"
        last_fu = min(lost, admin_end)
        if death_day is not None:
            if death_day > last_fu:
                death_day, cause = None, ""
            else:
                last_fu = death_day
        sample_end = last_fu if relapse_day is None else min(last_fu, relapse_day - 1)

        kept = _number_samples(pat.samples, pid, hsct, sample_end)
        by_tag: dict[str, list[dict]] = {}
        for s in kept:
            by_tag.setdefault(s["tag"], []).append(s)

        # --- truth (bookkeeping of the generation) --------------------------------------
        first = by_tag.get("first", [None])[0]
        if first is None:
            informative = any(
                s["specimen"] == "BM" and (s["mfc"] in ("positive", "negative") or s["wt1"] in ("positive", "negative"))
                for s in kept
            )
            t.update(status="negative" if informative else "not evaluable")
        elif course == "sin":
            t.update(status="MRDsin+", rule="single_positive", evidence=first["sample_id"])
        elif course == "co-both":
            t.update(status="MRDco+", rule="both_methods", evidence=first["sample_id"],
                     confirmed_date=first["date"])
        else:
            conf = by_tag["confirm"][0]
            t.update(status="MRDco+", rule="consecutive_positive",
                     evidence=f"{first['sample_id']};{conf['sample_id']}", confirmed_date=conf["date"])
        if first is not None:
            t.update(first_positive_date=first["date"], first_positive_sample_id=first["sample_id"])
        if "clear" in by_tag:
            c = by_tag["clear"][0]
            t.update(negativity_date=c["date"], negativity_sample_id=c["sample_id"])
            if "reemerge" in by_tag:
                r = by_tag["reemerge"][0]
                t.update(reemergence_date=r["date"], reemergence_sample_id=r["sample_id"])
        t["relapse"] = relapse_day is not None
        truth.append(t)

        for s in kept:
            samples.append({c: s[c] if c != "patient_id" else pid for c in SAMPLE_COLUMNS})

        # GVHD
        grade = int(rng.choice([0, 1, 2, 3, 4], p=[0.55, 0.2, 0.13, 0.08, 0.04]))
        agvhd_day = int(rng.integers(10, 100))
        if grade == 0 or agvhd_day > last_fu:
            grade, agvhd_day = 0, None
        severity = str(rng.choice(["none", "mild", "moderate", "severe"], p=[0.55, 0.2, 0.17, 0.08]))
        cgvhd_day = int(rng.integers(100, 600))
        if severity == "none" or cgvhd_day > last_fu:
            severity, cgvhd_day = "none", None

        def date(day):
            return pd.NaT if day is None else hsct + pd.Timedelta(days=int(day))

        patients.append(
            {
                "patient_id": pid,
                "hsct_date": hsct,
                "diagnosis": diagnosis,
                "arm": intervention or "none",
                "intervention": intervention,
                "intervention_date": date(iv_day),
                "relapse_date": date(relapse_day),
                "death_date": date(death_day),
                "death_cause": cause,
                "agvhd_grade": grade,
                "agvhd_date": date(agvhd_day),
                "cgvhd_severity": severity,
                "cgvhd_date": date(cgvhd_day),
                "last_followup_date": date(last_fu),
            }
        )

    pts = pd.DataFrame(patients, columns=PATIENT_COLUMNS)
    for c in PATIENT_COLUMNS:
        if c.endswith("_date"):
            pts[c] = pd.to_datetime(pts[c])
    smp = pd.DataFrame(samples, columns=SAMPLE_COLUMNS)
    smp["date"] = pd.to_datetime(smp["date"])
    tru = pd.DataFrame(truth, columns=TRUTH_COLUMNS)
    for c in ("first_positive_date", "confirmed_date", "negativity_date", "reemergence_date"):
        tru[c] = pd.to_datetime(tru[c])
    tru["relapse"] = tru["relapse"].astype(bool)
    return {"patients": pts, "samples": smp, "truth": tru}


def write_data_samples(outdir: Path) -> list[Path]:
    """Write the bundled example cohort (24 patients, seed 2020) as CSV files.

    Writes ``patients.csv``, ``samples.csv`` and ``truth.csv`` into ``outdir``
    (atomically) and returns their paths.
    """
    outdir = Path(outdir)
    cohort = simulate_cohort(24, seed=2020)
    return _write_csv_tables({name: cohort[name] for name in ("patients", "samples", "truth")}, outdir)

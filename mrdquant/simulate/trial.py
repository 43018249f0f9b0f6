"""Simulated two-arm DLI trial (prophylactic vs pre-emptive DLI), with known truth.

The design follows the randomized trial of DOMAIN.md §2: patients with relapsed/refractory
myeloid neoplasms (AML or MDS with increased blasts, MDS-IB) who are MRD negative at one
month after allo-HSCT are randomized 1:1 (permuted blocks of 4) between day +30 and day
+45 to

- ``prophylactic``: a donor lymphocyte infusion (``DLI``) between day +45 and day +60,
  whatever the MRD, for patients alive and in remission then;
- ``preemptive``: chemotherapy followed by DLI (``Chemo-DLI``), 3-10 days after MRD
  positivity is established (one bone-marrow (BM) sample positive by MFC and WT1, or two
  consecutive BM samples 7-14 days apart, each positive by either method: PUIH MRDco+).

Generation, per patient (days after randomization unless said otherwise):

1. **Outcomes from arm-level hazards.** Latent times to relapse and to non-relapse
   mortality (NRM) are independent piecewise-exponential draws, one rate in the first
   year (365.25 days) and one after (:class:`ArmParameters`); the earlier one happens.
   Death after relapse follows an exponential time with rate
   ``death_after_relapse_rate``. Event days are the continuous times rounded up (a death
   after relapse may fall on the relapse day), so "event on or before day d" has exactly
   the continuous model's probability at d. Follow-up ends at the administrative cut-off
   or at loss to follow-up (both independent of outcomes), or at death.
2. **MRD course consistent with the outcomes.** In a patient who relapses, MRD becomes
   detectable a lead time (uniform in ``mrd_lead_days``) before hematologic relapse;
   a non-relapsing patient has a transient MRD episode with probability
   ``p_transient_mrd`` (confirmed with probability ``p_transient_confirmed``, else a
   single positive BM sample followed by a negative one). BM samples follow the PUIH
   schedule (1, 2, 3, 4.5, 6, 9, 12 months after HSCT, then every 6 months; restarted
   from the DLI date after a pre-emptive DLI), with peripheral-blood (PB) WT1 samples at
   random visits; samples stop the day before relapse and at the end of follow-up. The
   one-month BM sample is negative by both methods and precedes randomization.
   Transient MRD clears after a pre-emptive DLI at the 1st-3rd BM sample; relapse-bound
   MRD persists until relapse.
3. **DLI-related toxicities.** After a DLI: a marrow-suppression episode with probability
   ``p_marrow_suppression_after_dli`` (onset 7-35 days after the DLI; neutropenia,
   thrombocytopenia and anemia with probabilities 0.9, 0.85 and 0.6 within 0-7 days of
   the onset; pancytopenia when all three occur, dated at the last of them), acute GVHD
   (onset 7-60 days after) and chronic GVHD (at least 30 days after the DLI and 100 days
   after HSCT) and bacterial, viral and fungal infections (7-90 days after) with the
   arm's probabilities; on top, every patient has background hazards of cytopenias and
   infections from randomization, a late acute GVHD flare (within 90 days) and chronic
   GVHD (day +100 to +730 after HSCT). Each date is the first occurrence; an event after
   the end of follow-up is not recorded. The acute GVHD kept is the highest grade (its
   date), the chronic GVHD the most severe.

Because relapse and NRM come from the arm-level hazards alone (step 1), the true
cumulative incidences and survival probabilities are known in closed form
(:func:`true_probabilities`); the ``truth`` table lists them with every parameter.
The default parameters are illustrative, chosen to be plausible for R/R myeloid
neoplasms; they are not results of the trial.

Everything is drawn from one ``numpy.random.Generator`` seeded with ``seed``: the same
arguments give the same tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.clinical import TOXICITY_DATES
from .cohort import PATIENT_COLUMNS, SAMPLE_COLUMNS, _number_samples, _Patient, _schedule, _write_csv_tables

__all__ = [
    "simulate_trial",
    "write_trial",
    "write_data_samples",
    "true_probabilities",
    "ArmParameters",
    "DEFAULT_ARMS",
    "ARMS",
    "INTERVENTIONS",
    "TRIAL_PATIENT_COLUMNS",
    "TOXICITY_DATE_COLUMNS",
    "TRIAL_TRUTH_COLUMNS",
]

#: Arm labels, in randomization-list order.
ARMS = ("prophylactic", "preemptive")
#: ``intervention`` label of the DLI given in each arm.
INTERVENTIONS = {"prophylactic": "DLI", "preemptive": "Chemo-DLI"}

#: Toxicity date columns (first occurrence, NaT when none), as read by
#: :func:`mrdquant.outcomes.build_endpoints` (the schema lives in :mod:`mrdquant.io.clinical`).
TOXICITY_DATE_COLUMNS = list(TOXICITY_DATES)

#: the cohort's patient columns plus ``randomization_date`` (after ``arm``) and the
#: toxicity dates (before ``last_followup_date``)
_COHORT_NO_FOLLOWUP = [c for c in PATIENT_COLUMNS if c != "last_followup_date"]
_AFTER_ARM = _COHORT_NO_FOLLOWUP.index("arm") + 1
TRIAL_PATIENT_COLUMNS = [
    *_COHORT_NO_FOLLOWUP[:_AFTER_ARM],
    "randomization_date",
    *_COHORT_NO_FOLLOWUP[_AFTER_ARM:],
    *TOXICITY_DATE_COLUMNS,
    "last_followup_date",
]

TRIAL_TRUTH_COLUMNS = ["arm", "quantity", "value", "unit", "definition"]

_YEAR_DAYS = 365.25
#: days after randomization of the 1-year quantities of the truth table (whole days: the
#: simulated times are whole days, so an estimate at 365 or 365.25 days estimates these)
_ONE_YEAR = 365
_LINEAGES = ("neutropenia", "thrombocytopenia", "anemia")
_LINEAGE_P = (0.9, 0.85, 0.6)
_MARROW_ONSET_DAYS = (7, 35)
_INFECTIONS = ("bacterial", "viral", "fungal")
_AGVHD_GRADES, _AGVHD_GRADE_P = (1, 2, 3, 4), (0.4, 0.35, 0.17, 0.08)
_CGVHD_SEVERITIES, _CGVHD_SEVERITY_P = ("mild", "moderate", "severe"), (0.45, 0.38, 0.17)
_CGVHD_RANK = {"none": 0, "mild": 1, "moderate": 2, "severe": 3}


def _p(unit: str, definition: str):
    return field(metadata={"unit": unit, "definition": definition})


@dataclass(frozen=True)
class ArmParameters:
    """True parameters of one arm (rates per year of 365.25 days; probabilities 0-1)."""

    relapse_rate_year1: float = _p("per year", "hazard of hematologic relapse, first year after randomization")
    relapse_rate_later: float = _p("per year", "hazard of hematologic relapse after the first year")
    nrm_rate_year1: float = _p("per year", "hazard of non-relapse mortality, first year after randomization")
    nrm_rate_later: float = _p("per year", "hazard of non-relapse mortality after the first year")
    death_after_relapse_rate: float = _p("per year", "hazard of death after relapse")
    p_marrow_suppression_after_dli: float = _p("probability", "marrow-suppression episode after a DLI")
    p_agvhd_after_dli: float = _p("probability", "acute GVHD (grade I-IV) after a DLI")
    p_cgvhd_after_dli: float = _p("probability", "chronic GVHD after a DLI")
    p_bacterial_after_dli: float = _p("probability", "bacterial infection after a DLI")
    p_viral_after_dli: float = _p("probability", "viral infection after a DLI")
    p_fungal_after_dli: float = _p("probability", "fungal infection after a DLI")
    cytopenia_rate: float = _p(
        "per year", "background hazard of each cytopenia (neutropenia, anemia, thrombocytopenia)"
    )
    bacterial_rate: float = _p("per year", "background hazard of bacterial infection")
    viral_rate: float = _p("per year", "background hazard of viral infection")
    fungal_rate: float = _p("per year", "background hazard of fungal infection")
    p_agvhd_background: float = _p("probability", "acute GVHD flare within 90 days of randomization, without DLI")
    p_cgvhd_background: float = _p("probability", "chronic GVHD between day +100 and +730 after HSCT, without DLI")

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            ok = isinstance(v, (int, float)) and math.isfinite(v) and v >= 0
            if ok and f.metadata["unit"] == "probability":
                ok = v <= 1
            if not ok:
                kind = "a probability in [0, 1]" if f.metadata["unit"] == "probability" else "a rate >= 0 per year"
                raise InputError(f"ArmParameters.{f.name}={v!r}; expected {kind}")


_PROPHYLACTIC = ArmParameters(
    relapse_rate_year1=0.25,
    relapse_rate_later=0.08,
    nrm_rate_year1=0.13,
    nrm_rate_later=0.04,
    death_after_relapse_rate=1.2,
    p_marrow_suppression_after_dli=0.35,
    p_agvhd_after_dli=0.35,
    p_cgvhd_after_dli=0.30,
    p_bacterial_after_dli=0.15,
    p_viral_after_dli=0.20,
    p_fungal_after_dli=0.05,
    cytopenia_rate=0.05,
    bacterial_rate=0.20,
    viral_rate=0.35,
    fungal_rate=0.06,
    p_agvhd_background=0.05,
    p_cgvhd_background=0.15,
)
#: Default parameters of each arm (illustrative, not trial results).
DEFAULT_ARMS: dict[str, ArmParameters] = {
    "prophylactic": _PROPHYLACTIC,
    "preemptive": replace(
        _PROPHYLACTIC,
        relapse_rate_year1=0.42,
        nrm_rate_year1=0.08,
        p_marrow_suppression_after_dli=0.75,
        p_agvhd_after_dli=0.30,
        p_cgvhd_after_dli=0.25,
        p_bacterial_after_dli=0.25,
        p_viral_after_dli=0.22,
        p_fungal_after_dli=0.08,
    ),
}


def _growth(c: float, length: float) -> float:
    """∫_0^length exp(-c u) du."""
    if length == 0:
        return 0.0
    if abs(c * length) < 1e-12:
        return length
    return -math.expm1(-c * length) / c


def true_probabilities(params: ArmParameters, t_days: float) -> dict[str, float]:
    """True cumulative incidences and survival probabilities of one arm.

    Closed form of the piecewise-exponential competing-risks model of
    :func:`simulate_trial` (continuous time; the simulated whole-day times are these
    times rounded up, so an estimate at ``t_days`` from whole-day data estimates these
    values at ``floor(t_days)``).

    Parameters
    ----------
    params : ArmParameters
    t_days : float, days after randomization

    Returns
    -------
    dict
        ``relapse`` (cumulative incidence of relapse, NRM competing), ``nrm`` (NRM,
        relapse competing), ``lfs`` (leukemia-free survival, = 1 - relapse - nrm) and
        ``os`` (overall survival: no NRM and no death after relapse), probabilities 0-1.

    Examples
    --------
    >>> r = true_probabilities(DEFAULT_ARMS["prophylactic"], 365)
    >>> round(r["relapse"] + r["nrm"] + r["lfs"], 12)
    1.0
    """
    t = float(t_days)
    if not (math.isfinite(t) and t >= 0):
        raise InputError(f"t_days={t_days!r}; expected a time >= 0 in days")
    mu = params.death_after_relapse_rate / _YEAR_DAYS
    pieces = [
        (0.0, _YEAR_DAYS, params.relapse_rate_year1 / _YEAR_DAYS, params.nrm_rate_year1 / _YEAR_DAYS),
        (_YEAR_DAYS, math.inf, params.relapse_rate_later / _YEAR_DAYS, params.nrm_rate_later / _YEAR_DAYS),
    ]
    surv, relapse, nrm, relapse_dead = 1.0, 0.0, 0.0, 0.0
    for a, b, lr, ln in pieces:
        if t <= a:
            break
        length = min(b, t) - a
        lam = lr + ln
        relapse += surv * lr * _growth(lam, length)
        nrm += surv * ln * _growth(lam, length)
        # relapsed in [a, a + length) and dead by t: ∫ S(a) lr e^{-lam u} (1 - e^{-mu (t - a - u)}) du
        relapse_dead += surv * lr * (_growth(lam, length) - math.exp(-mu * (t - a)) * _growth(lam - mu, length))
        surv *= math.exp(-lam * length)
    return {"relapse": relapse, "nrm": nrm, "lfs": surv, "os": 1.0 - nrm - relapse_dead}


def _truth_table(arms: Mapping[str, ArmParameters], n: Mapping[str, int]) -> pd.DataFrame:
    rows = []
    for arm in ARMS:
        params = arms[arm]
        rows.append([arm, "n_patients", float(n[arm]), "patients", "patients randomized to the arm"])
        for f in fields(ArmParameters):
            rows.append([arm, f.name, float(getattr(params, f.name)), f.metadata["unit"], f.metadata["definition"]])
        probs = true_probabilities(params, _ONE_YEAR)
        for key, what in (
            ("relapse", "cumulative incidence of relapse (NRM competing)"),
            ("nrm", "cumulative incidence of non-relapse mortality (relapse competing)"),
            ("lfs", "leukemia-free survival"),
            ("os", "overall survival"),
        ):
            rows.append([arm, f"{key}_1y", probs[key], "probability",
                         f"{what} at {_ONE_YEAR} days after randomization (closed form)"])
    return pd.DataFrame(rows, columns=TRIAL_TRUTH_COLUMNS)


def _piecewise_exp(rng: np.random.Generator, rate1: float, rate2: float) -> float:
    """Time (days) with hazard rate1 per year in the first year, rate2 after."""
    e = rng.standard_exponential()
    if e < rate1:  # cumulative hazard of the first year is rate1
        return e / rate1 * _YEAR_DAYS
    if rate2 == 0:
        return math.inf
    return _YEAR_DAYS + (e - rate1) / rate2 * _YEAR_DAYS


def _exp_day(rng: np.random.Generator, rate: float) -> float:
    """Whole days (>= 1) to an event with constant hazard ``rate`` per year; inf if 0."""
    e = rng.standard_exponential()
    return math.inf if rate == 0 else float(math.ceil(e / rate * _YEAR_DAYS))


def _block_randomization(rng: np.random.Generator, n_per_arm: int) -> list[str]:
    """1:1 allocation list in permuted blocks of 4 (a last block of 2 when n is odd)."""
    out: list[str] = []
    left = 2 * n_per_arm
    while left:
        size = 4 if left >= 4 else 2
        block = [ARMS[0]] * (size // 2) + [ARMS[1]] * (size // 2)
        out += [block[k] for k in rng.permutation(size)]
        left -= size
    return out


def _positive_bm(pat: _Patient, rng: np.random.Generator, day: int, p_both: float, tag: str) -> None:
    if rng.random() < p_both:
        pat.bm(day, "positive", "positive", tag)
    else:
        m = str(rng.choice(["mfc", "wt1"], p=[0.4, 0.6]))
        res = {m: "positive", ("wt1" if m == "mfc" else "mfc"): "negative"}
        pat.bm(day, res["mfc"], res["wt1"], tag)


def simulate_trial(
    n_per_arm: int = 100,
    *,
    seed: int = 0,
    arms: Mapping[str, ArmParameters] | None = None,
    start_date: str = "2024-01-01",
    accrual_days: int = 730,
    followup_days: int = 365,
    p_mds: float = 0.2,
    p_lost: float = 0.05,
    p_transient_mrd: float = 0.12,
    p_transient_confirmed: float = 0.5,
    mrd_lead_days: tuple[int, int] = (14, 150),
    p_both_methods: float = 0.35,
    p_pb: float = 0.15,
    p_not_evaluable: float = 0.05,
) -> dict[str, pd.DataFrame]:
    """Simulate the randomized prophylactic vs pre-emptive DLI trial, with the true values.

    Parameters
    ----------
    n_per_arm : int, default 100
        Patients randomized to each arm (the trial plans 100 + 100).
    seed : int, default 0
        Seed of the random generator; the output is a function of the arguments only.
    arms : mapping of str to ArmParameters, optional
        Parameters of ``"prophylactic"`` and/or ``"preemptive"`` (default
        :data:`DEFAULT_ARMS`; an arm not given keeps its default).
    start_date : str, default "2024-01-01"
        First possible HSCT date.
    accrual_days : int, default 730, days
        HSCT dates are uniform over ``[start_date, start_date + accrual_days)``
        (patients are numbered in HSCT order).
    followup_days : int, default 365, days
        Administrative end of follow-up: ``accrual_days + 45 + followup_days`` days after
        ``start_date``, so every patient has at least ``followup_days`` of potential
        follow-up after randomization.
    p_mds : float, default 0.2
        Probability that the diagnosis is ``"MDS-IB"`` rather than ``"AML"``.
    p_lost : float, default 0.05
        Probability of loss to follow-up (uniform from 30 days after randomization to the
        administrative end).
    p_transient_mrd : float, default 0.12
        Probability of a transient MRD episode in a patient who does not relapse.
    p_transient_confirmed : float, default 0.5
        Probability that a transient episode is confirmed (MRDco+; it triggers a
        pre-emptive DLI) rather than single (MRDsin+).
    mrd_lead_days : (int, int), default (14, 150), days
        MRD becomes detectable this long (uniform, inclusive) before relapse.
    p_both_methods : float, default 0.35
        Probability that a positive BM sample is positive by MFC and WT1 (else by one).
    p_pb : float, default 0.15
        Probability of a PB WT1 sample at a BM visit.
    p_not_evaluable : float, default 0.05
        Per method and negative BM sample (after the one-month sample): probability of a
        not-evaluable result.

    Returns
    -------
    dict of str -> DataFrame
        - ``patients`` (:data:`TRIAL_PATIENT_COLUMNS`): one row per patient; ``arm``
          (``prophylactic`` / ``preemptive``), ``randomization_date``, ``intervention``
          (``DLI`` / ``Chemo-DLI`` / ``""``) and ``intervention_date`` (the DLI),
          outcome and toxicity dates (datetime64[ns], NaT when none; first occurrence),
          ``death_cause`` (``relapse`` / ``NRM`` / ``""``), ``agvhd_grade`` (int 0-4),
          ``cgvhd_severity`` (none / mild / moderate / severe). Input of
          ``mrdquant.outcomes.build_endpoints(patients, index="randomization")``.
        - ``samples``: the MRD monitoring samples, the schema of
          :data:`mrdquant.simulate.cohort.SAMPLE_COLUMNS` (input of
          :func:`mrdquant.classify_timeline`).
        - ``truth`` (:data:`TRIAL_TRUTH_COLUMNS`: ``arm``, ``quantity``, ``value``,
          ``unit``, ``definition``): every :class:`ArmParameters` field, the number of
          patients, and the closed-form 1-year (365 days after randomization)
          ``relapse_1y``, ``nrm_1y``, ``lfs_1y``, ``os_1y``.

    Raises
    ------
    InputError
        A count, probability or range out of bounds, or an unknown arm.

    Examples
    --------
    >>> trial = simulate_trial(20, seed=1)
    >>> sorted(trial), len(trial["patients"])
    (['patients', 'samples', 'truth'], 40)
    """
    if isinstance(n_per_arm, bool) or not isinstance(n_per_arm, (int, np.integer)) or n_per_arm < 1:
        raise InputError(f"n_per_arm={n_per_arm!r}; expected a positive integer")
    for name, p in {
        "p_mds": p_mds, "p_lost": p_lost, "p_transient_mrd": p_transient_mrd,
        "p_transient_confirmed": p_transient_confirmed, "p_both_methods": p_both_methods,
        "p_pb": p_pb, "p_not_evaluable": p_not_evaluable,
    }.items():
        if not 0.0 <= p <= 1.0:
            raise InputError(f"{name}={p!r}; expected a probability in [0, 1]")
    for name, v in {"accrual_days": accrual_days, "followup_days": followup_days}.items():
        if int(v) < 1:
            raise InputError(f"{name}={v!r}; expected a positive number of days")
    lead_lo, lead_hi = (int(x) for x in mrd_lead_days)
    if not 0 <= lead_lo <= lead_hi:
        raise InputError(f"mrd_lead_days={mrd_lead_days!r}; expected (min, max) days with 0 <= min <= max")
    params = dict(DEFAULT_ARMS)
    for arm, value in (arms or {}).items():
        if arm not in ARMS:
            raise InputError(f"arms: unknown arm {arm!r}; expected one of {list(ARMS)}")
        if not isinstance(value, ArmParameters):
            raise InputError(f"arms[{arm!r}]: got {type(value).__name__}; expected ArmParameters")
        params[arm] = value

    rng = np.random.default_rng(seed)
    start = pd.Timestamp(start_date)
    n_total = 2 * int(n_per_arm)
    allocation = _block_randomization(rng, int(n_per_arm))
    offsets = np.sort(rng.integers(0, int(accrual_days), size=n_total))
    admin_end_day = int(accrual_days) + 45 + int(followup_days)  # from start_date
    patients, samples = [], []
    for i in range(n_total):
        arm, par = allocation[i], params[allocation[i]]
        pid = f"T{i + 1:04d}"
        hsct_offset = int(offsets[i])
        hsct = start + pd.Timedelta(days=hsct_offset)
        admin_end = admin_end_day - hsct_offset  # days after HSCT
        diagnosis = "MDS-IB" if rng.random() < p_mds else "AML"
        month1 = 30 + int(rng.integers(-3, 1))  # MRD-negative BM sample, before randomization
        rand = int(rng.integers(30, 46))
        lost = admin_end
        if rng.random() < p_lost and rand + 30 < admin_end:
            lost = int(rng.integers(rand + 30, admin_end))

        # --- 1. outcomes from the arm's hazards (days after HSCT) ------------------------
        t_rel = _piecewise_exp(rng, par.relapse_rate_year1, par.relapse_rate_later)
        t_nrm = _piecewise_exp(rng, par.nrm_rate_year1, par.nrm_rate_later)
        t_rd = _piecewise_exp(rng, par.death_after_relapse_rate, par.death_after_relapse_rate)
        latent_relapse = rand + math.ceil(t_rel) if t_rel < t_nrm else None
        last_fu = min(lost, admin_end)
        relapse_day = death_day = None
        cause = ""
        if latent_relapse is not None:
            if latent_relapse <= last_fu:
                relapse_day = latent_relapse
                if math.isfinite(t_rd) and rand + math.ceil(t_rel + t_rd) <= last_fu:
                    death_day, cause = rand + math.ceil(t_rel + t_rd), "relapse"
        elif math.isfinite(t_nrm) and rand + math.ceil(t_nrm) <= last_fu:
            death_day, cause = rand + math.ceil(t_nrm), "NRM"
        if death_day is not None:
            last_fu = death_day
        sample_end = last_fu if relapse_day is None else min(last_fu, relapse_day - 1)

        def in_remission(day: int) -> bool:
            return day <= last_fu and (relapse_day is None or day < relapse_day) and (
                death_day is None or day < death_day
            )

        # --- 2. MRD course ----------------------------------------------------------------
        pat = _Patient(rng, "AML")  # myeloid MFC levels (AML and MDS-IB)
        visits = [month1] + [int(round(d)) + int(rng.integers(-3, 4)) for d in _schedule(admin_end)[1:]]
        kind = None
        onset = None
        if latent_relapse is not None:
            kind, onset = "relapse", max(latent_relapse - int(rng.integers(lead_lo, lead_hi + 1)), rand + 1)
        elif rng.random() < p_transient_mrd:
            kind, onset = "transient", rand + int(rng.integers(20, 700))
        first = next((v for v in visits if onset is not None and v >= onset), None)
        if first is not None and first > sample_end:
            first = None
        for k, v in enumerate(visits):
            if first is not None and v >= first:
                break
            pat.bm(v, "negative", "negative", "pre", ne_ok=k > 0, p_ne=p_not_evaluable)
            if rng.random() < p_pb:
                pat.pb(v + int(rng.integers(0, 4)), "positive" if rng.random() < 0.1 else "negative")

        trigger = None
        block_end = None
        confirmed = False
        if first is not None:
            if rng.random() < p_both_methods:
                pat.bm(first, "positive", "positive", "first")
                trigger, block_end, confirmed = first, first, True
            else:
                single = str(rng.choice(["mfc", "wt1"], p=[0.4, 0.6]))
                res = {single: "positive", ("wt1" if single == "mfc" else "mfc"): "negative"}
                pat.bm(first, res["mfc"], res["wt1"], "first")
                confirmed = kind == "relapse" or rng.random() < p_transient_confirmed
                if confirmed:
                    block_end = first + int(rng.integers(7, 15))
                    _positive_bm(pat, rng, block_end, 0.0, "confirm")
                    trigger = block_end if block_end <= sample_end else None
                else:
                    block_end = first + int(rng.integers(7, 22))
                    pat.bm(block_end, "negative", "negative", "confirm-neg")

        dli_day = None
        if arm == "prophylactic":
            day = int(rng.integers(max(45, rand), 61))
            if in_remission(day):
                dli_day = day
        elif trigger is not None:
            day = trigger + int(rng.integers(3, 11))
            if in_remission(day):
                dli_day = day

        if first is not None:
            preemptive_dli = arm == "preemptive" and dli_day is not None
            if preemptive_dli:  # the schedule restarts from the DLI
                post = [dli_day + int(round(d)) + int(rng.integers(-3, 4)) for d in _schedule(admin_end)]
            else:
                post = [v for v in visits if v > block_end + 5]
            if kind == "relapse":
                n_pos = len(post)
            elif confirmed:
                n_pos = int(rng.choice([0, 1, 2], p=[0.6, 0.25, 0.15])) if preemptive_dli else int(rng.integers(0, 2))
            else:
                n_pos = 0
            for k, v in enumerate(post):
                if k < n_pos:
                    _positive_bm(pat, rng, v, p_both_methods, "post-pos")
                else:
                    pat.bm(v, "negative", "negative", "post-neg", ne_ok=True, p_ne=p_not_evaluable)
                if rng.random() < p_pb:
                    pat.pb(v + int(rng.integers(0, 4)), "positive" if k < n_pos else "negative")
        for s in _number_samples(pat.samples, pid, hsct, sample_end):
            samples.append({c: s[c] if c != "patient_id" else pid for c in SAMPLE_COLUMNS})

        # --- 3. toxicities and GVHD (days after HSCT; inf = none) ------------------------
        tox: dict[str, float] = {}
        for lineage in _LINEAGES:
            tox[lineage] = rand + _exp_day(rng, par.cytopenia_rate)
        tox["pancytopenia"] = math.inf
        if dli_day is not None and rng.random() < par.p_marrow_suppression_after_dli:
            onset_ms = dli_day + int(rng.integers(_MARROW_ONSET_DAYS[0], _MARROW_ONSET_DAYS[1] + 1))
            episode = {}
            for lineage, p in zip(_LINEAGES, _LINEAGE_P):
                if rng.random() < p:
                    episode[lineage] = onset_ms + int(rng.integers(0, 8))
                    tox[lineage] = min(tox[lineage], episode[lineage])
            if len(episode) == len(_LINEAGES):
                tox["pancytopenia"] = max(episode.values())
        for kind_inf in _INFECTIONS:
            day = rand + _exp_day(rng, getattr(par, f"{kind_inf}_rate"))
            if dli_day is not None and rng.random() < getattr(par, f"p_{kind_inf}_after_dli"):
                day = min(day, dli_day + int(rng.integers(7, 91)))
            tox[f"{kind_inf}_infection"] = day

        agvhd = []  # (day, grade)
        if rng.random() < par.p_agvhd_background:
            agvhd.append((rand + int(rng.integers(1, 91)), int(rng.choice(_AGVHD_GRADES, p=_AGVHD_GRADE_P))))
        if dli_day is not None and rng.random() < par.p_agvhd_after_dli:
            agvhd.append((dli_day + int(rng.integers(7, 61)), int(rng.choice(_AGVHD_GRADES, p=_AGVHD_GRADE_P))))
        cgvhd = []  # (day, severity)
        if rng.random() < par.p_cgvhd_background:
            cgvhd.append((int(rng.integers(100, 731)), str(rng.choice(_CGVHD_SEVERITIES, p=_CGVHD_SEVERITY_P))))
        if dli_day is not None and rng.random() < par.p_cgvhd_after_dli:
            day = max(dli_day + 30, 100) + int(rng.integers(0, 241))
            cgvhd.append((day, str(rng.choice(_CGVHD_SEVERITIES, p=_CGVHD_SEVERITY_P))))
        agvhd = [e for e in agvhd if e[0] <= last_fu]
        cgvhd = [e for e in cgvhd if e[0] <= last_fu]
        agvhd_day, grade = max(agvhd, key=lambda e: (e[1], -e[0])) if agvhd else (None, 0)
        cgvhd_day, severity = max(cgvhd, key=lambda e: (_CGVHD_RANK[e[1]], -e[0])) if cgvhd else (None, "none")

        def date(day):
            if day is None or not math.isfinite(day) or day > last_fu:
                return pd.NaT
            return hsct + pd.Timedelta(days=int(day))

        row = {
            "patient_id": pid,
            "hsct_date": hsct,
            "diagnosis": diagnosis,
            "arm": arm,
            "randomization_date": date(rand),
            "intervention": INTERVENTIONS[arm] if dli_day is not None else "",
            "intervention_date": date(dli_day),
            "relapse_date": date(relapse_day),
            "death_date": date(death_day),
            "death_cause": cause,
            "agvhd_grade": grade,
            "agvhd_date": date(agvhd_day),
            "cgvhd_severity": severity,
            "cgvhd_date": date(cgvhd_day),
            "last_followup_date": date(last_fu),
        }
        for col in TOXICITY_DATE_COLUMNS:
            row[col] = date(tox[col[: -len("_date")]])
        patients.append(row)

    pts = pd.DataFrame(patients, columns=TRIAL_PATIENT_COLUMNS)
    for c in TRIAL_PATIENT_COLUMNS:
        if c.endswith("_date"):
            pts[c] = pd.to_datetime(pts[c]).astype("datetime64[ns]")
    pts["agvhd_grade"] = pts["agvhd_grade"].astype(np.int64)
    smp = pd.DataFrame(samples, columns=SAMPLE_COLUMNS)
    smp["date"] = pd.to_datetime(smp["date"]).astype("datetime64[ns]")
    truth = _truth_table(params, {arm: int(n_per_arm) for arm in ARMS})
    return {"patients": pts, "samples": smp, "truth": truth}


def write_trial(outdir: Path, n_per_arm: int = 100, *, seed: int = 0) -> list[Path]:
    """Simulate a trial (:func:`simulate_trial`) and write it as CSV files.

    Writes ``patients.csv``, ``samples.csv`` and ``truth.csv`` into ``outdir``
    (atomically; dates as ``YYYY-MM-DD``, empty when none) and returns their paths.
    """
    trial = simulate_trial(n_per_arm, seed=seed)
    return _write_csv_tables({name: trial[name] for name in ("patients", "samples", "truth")}, Path(outdir))


def write_data_samples(outdir: Path) -> list[Path]:
    """Write the bundled example trial (2 x 40 patients, seed 2024) as CSV files."""
    return write_trial(Path(outdir), 40, seed=2024)

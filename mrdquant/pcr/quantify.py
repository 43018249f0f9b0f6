"""WT1 quantification: copies from standard curves, ABL1 normalization, QC and calls.

``quantify_wt1`` goes from a well table to one row per sample:

1. a standard curve per plate and target (from the plate's standards, else a stored
   curve), checked against the profile's slope and R² limits;
2. NTC check per plate and target; replicate mean/SD with the failed-replicate and
   outlier rules (:mod:`mrdquant.pcr.qc`);
3. WT1 as % of ABL1 (``100 * WT1/ABL1``) and per 10^4 ABL1 (``10^4 * WT1/ABL1``), and the
   achievable sensitivity ``1/ABL1 copies``;
4. the call against the profile's assay-bound threshold, with its reason.

A result whose curve failed, whose NTC amplified, whose ABL1 is below the minimum, or
whose replicates failed keeps its numbers but is ``not evaluable`` with that reason.
"""

from __future__ import annotations

import math
from typing import Literal, Mapping

import pandas as pd

from .._version import __version__
from ..errors import QPCRError
from ..io.qpcr import check_ct_range
from ..profiles import Profile, load_profile
from .call import NOT_EVALUABLE, classify_wt1, wt1_rule
from .qc import ntc_check, replicate_summary
from .calibration import DEFAULT_MIN_R2, DEFAULT_SLOPE_RANGE, StandardCurve, standard_curve

__all__ = ["quantify_wt1", "fit_curves", "curve_limits", "RESULT_COLUMNS"]

RESULT_COLUMNS = [
    "sample", "specimen", "plate", "wt1_copies", "abl1_copies", "wt1_ct_mean", "abl1_ct_mean",
    "wt1_ct_sd", "abl1_ct_sd", "wt1_replicates", "abl1_replicates", "wt1_pct_abl1", "wt1_per_1e4_abl1",
    "sensitivity", "call", "reason", "profile", "assay", "metric", "threshold", "threshold_unit",
    "threshold_source", "min_abl1", "wt1_curve", "abl1_curve", "flags", "mrdquant_version",
]


def _profile_value(prof: Profile, dotted: str, fallback):
    try:
        value = prof.value(dotted)
    except Exception:
        return fallback
    return fallback if value is None else value


def curve_limits(profile: "str | Profile") -> tuple[tuple[float, float], float]:
    """``(slope_range, min_r2)`` of a profile's ``wt1.standard_curve`` section (defaults if absent)."""
    prof = load_profile(profile)
    slope_range = (
        float(_profile_value(prof, "wt1.standard_curve.slope_min", DEFAULT_SLOPE_RANGE[0])),
        float(_profile_value(prof, "wt1.standard_curve.slope_max", DEFAULT_SLOPE_RANGE[1])),
    )
    return slope_range, float(_profile_value(prof, "wt1.standard_curve.min_r2", DEFAULT_MIN_R2))


def fit_curves(
    wells: pd.DataFrame,
    targets: tuple[str, ...],
    *,
    curves: Mapping[str, StandardCurve] | None = None,
    slope_range=DEFAULT_SLOPE_RANGE,
    min_r2: float = DEFAULT_MIN_R2,
    max_standard_deviation: float | None = None,
    cycles: float | None = None,
) -> dict[tuple[str, str], StandardCurve | None]:
    """Curve per (plate, target): fitted on the plate's standards, else ``curves[target]``."""
    out: dict[tuple[str, str], StandardCurve | None] = {}
    for plate in sorted(wells["plate"].unique()):
        on_plate = wells[wells["plate"] == plate]
        for target in targets:
            if not (on_plate["target"] == target).any():
                continue
            has_std = ((on_plate["role"] == "standard") & (on_plate["target"] == target)).any()
            if has_std:
                out[(plate, target)] = standard_curve(
                    on_plate, target, slope_range=slope_range, min_r2=min_r2,
                    max_standard_deviation=max_standard_deviation, cycles=cycles,
                )
            else:
                out[(plate, target)] = (curves or {}).get(target)
    return out


def _curve_label(curve: StandardCurve | None) -> str:
    if curve is None:
        return "none"
    state = "passed" if curve.passed else "failed"
    where = curve.plate if curve.source == "plate" else "stored"
    return f"{where}: slope {curve.slope:.3f}, R² {curve.r2:.4f}, {state}"


def quantify_wt1(
    wells: pd.DataFrame,
    *,
    min_abl1: float,
    profile: "str | Profile" = "puih_2020",
    wt1_target: str = "WT1",
    abl1_target: str = "ABL1",
    specimen: "str | Mapping[str, str] | None" = None,
    curves: Mapping[str, StandardCurve] | None = None,
    slope_range: tuple[float, float] | None = None,
    min_r2: float | None = None,
    max_sd: float | None = None,
    min_replicates: int = 2,
    outlier_rule: Literal["median", "none"] = "median",
    ntc_max_ct: float | None = None,
    max_standard_deviation: float | None = None,
    cycles: float | None = None,
) -> pd.DataFrame:
    """Quantify WT1 normalized to ABL1 and call each sample against a profile.

    Parameters
    ----------
    wells : pandas.DataFrame
        Well table(s) from :func:`mrdquant.read_qpcr` (several plates may be
        concatenated; WT1 and ABL1 of a sample may be on different plates).
    min_abl1 : float, copies/reaction, required
        Minimum mean ABL1 copies for an evaluable sample (sample quality). No default:
        it is a laboratory decision (CML practice: > 10,000 for MR4.0).
    profile : str or Profile, default "puih_2020"
        Supplies the assay, metric, thresholds by specimen and default QC limits.
    wt1_target, abl1_target : str
        Target names as exported.
    specimen : str or mapping sample -> str, optional
        ``"BM"``/``"PB"`` (or "bone marrow"/"peripheral blood"); default: the profile's
        default specimen.
    curves : mapping target -> StandardCurve, optional
        Stored (e.g. :func:`~mrdquant.pcr.calibration.mean_curve`) curves for plates
        without standards for a target.
    slope_range : (float, float), optional, cycles per log10 copies
        Curve acceptance; default from the profile (-3.6, -3.1).
    min_r2 : float, optional
        Curve acceptance; default from the profile (0.98).
    max_sd : float, optional, cycles
        Replicate Ct SD limit; default from the profile (0.5).
    min_replicates : int, default 2
        Usable amplified replicates needed (k of n).
    outlier_rule : {"median", "none"}, default "median"
        See :mod:`mrdquant.pcr.qc`.
    ntc_max_ct : float, optional, cycles
        NTC amplification at or after this Ct is tolerated; default: none tolerated.
    max_standard_deviation : float, optional, cycles
        Outlier rule for standard replicates (see :func:`standard_curve`).
    cycles : float, optional, cycles
        Cycles of the run(s). Every Ct of a well that is not omitted must lie in
        ``0 < Ct <= cycles`` (default 50, the longest usual protocol): a Ct of 0 or -5
        would otherwise be read as an enormous WT1 level and called positive.

    Returns
    -------
    pandas.DataFrame
        One row per sample, columns :data:`RESULT_COLUMNS`: copies per reaction,
        ``wt1_pct_abl1`` (%), ``wt1_per_1e4_abl1`` (copies per 10^4 ABL1),
        ``sensitivity`` (1/ABL1 copies, the lowest WT1/ABL1 ratio one copy would give),
        ``call`` (``positive``/``negative``/``not evaluable``), ``reason``, and the
        profile, assay, threshold, unit and source that produced the call.

    Raises
    ------
    QPCRError
        ``min_abl1`` missing or not positive, the well table lacks columns, a target
        is absent, or a Ct is outside ``0 < Ct <= cycles`` (the message names the file,
        well and value).

    Examples
    --------
    >>> res = quantify_wt1(wells, min_abl1=10_000, profile="puih_2020")   # doctest: +SKIP
    >>> res[["sample", "wt1_pct_abl1", "call", "reason"]]                   # doctest: +SKIP
    """
    try:
        min_abl1 = float(min_abl1)
    except (TypeError, ValueError) as exc:
        raise QPCRError(f"min_abl1 must be a number of ABL1 copies, got {min_abl1!r}") from exc
    if not (min_abl1 > 0 and math.isfinite(min_abl1)):
        raise QPCRError(f"min_abl1 must be a positive number of ABL1 copies, got {min_abl1!r}")
    if not isinstance(wells, pd.DataFrame):
        raise QPCRError(f"wells must be a DataFrame from read_qpcr, got {type(wells).__name__}")
    missing = [c for c in ("plate", "well", "sample", "target", "role", "ct", "quantity", "flags") if c not in wells]
    if missing:
        raise QPCRError(f"wells table lacks columns {missing}; expected the read_qpcr columns")
    for target in (wt1_target, abl1_target):
        if not (wells["target"] == target).any():
            raise QPCRError(
                f"no wells for target {target!r}; targets present: {sorted(wells['target'].unique())} "
                "(name the targets with --wt1-target / --abl1-target on the command line, "
                "wt1_target= / abl1_target= in Python)"
            )
    check_ct_range(wells, cycles=cycles)
    prof = load_profile(profile)
    profile_slopes, profile_r2 = curve_limits(prof)
    slope_range = profile_slopes if slope_range is None else slope_range
    min_r2 = profile_r2 if min_r2 is None else min_r2
    if max_sd is None:
        max_sd = float(_profile_value(prof, "wt1.replicates.max_sd", 0.5))

    plate_curves = fit_curves(
        wells, (wt1_target, abl1_target), curves=curves, slope_range=slope_range, min_r2=min_r2,
        max_standard_deviation=max_standard_deviation, cycles=cycles,
    )
    ntc = ntc_check(wells, ntc_max_ct=ntc_max_ct)
    ntc_failed = {(r.plate, r.target): r.reason for r in ntc.itertuples() if not r.passed}
    reps = replicate_summary(wells, plate_curves, max_sd=max_sd, min_replicates=min_replicates,
                             outlier_rule=outlier_rule)
    reps = reps[reps["target"].isin([wt1_target, abl1_target])]
    samples = [s for s in pd.unique(reps["sample"])]
    rows = []
    for sample in samples:
        g = reps[reps["sample"] == sample]
        by_target = {}
        for target in (wt1_target, abl1_target):
            gt = g[g["target"] == target]
            if len(gt) > 1:
                raise QPCRError(
                    f"sample {sample!r} has {target} wells on several plates {sorted(gt['plate'])}; "
                    "quantify each run separately"
                )
            by_target[target] = gt.iloc[0] if len(gt) else None
        w, a = by_target[wt1_target], by_target[abl1_target]
        spec = specimen.get(sample) if isinstance(specimen, Mapping) else specimen
        rule = wt1_rule(prof, spec)
        flags: list[str] = []
        not_evaluable: list[str] = []

        def curve_of(rep):
            return plate_curves.get((rep["plate"], rep["target"])) if rep is not None else None

        wc, ac = curve_of(w), curve_of(a)
        for rep, curve, name in ((w, wc, "WT1"), (a, ac, "ABL1")):
            if rep is None:
                not_evaluable.append(f"{NOT_EVALUABLE}: no {name} wells")
                continue
            if curve is None:
                not_evaluable.append(f"{NOT_EVALUABLE}: no {name} standard curve (no standards, no stored curve)")
            elif not curve.passed:
                not_evaluable.append(f"{NOT_EVALUABLE}: standard curve failed ({name}: {'; '.join(curve.reasons)})")
        for rep, name in ((w, "WT1"), (a, "ABL1")):
            if rep is not None and (rep["plate"], rep["target"]) in ntc_failed:
                not_evaluable.append(f"{NOT_EVALUABLE}: NTC amplified ({name}: {ntc_failed[(rep['plate'], rep['target'])]})")
        for rep, name in ((w, "WT1"), (a, "ABL1")):
            if rep is not None and rep["flags"]:
                flags.append(f"{name}: {rep['flags']}")
        wt1_copies = float(w["copies_mean"]) if w is not None else math.nan
        abl1_copies = float(a["copies_mean"]) if a is not None else math.nan
        if a is not None:
            if not a["detected"]:
                not_evaluable.append(f"{NOT_EVALUABLE}: ABL1 not amplified")
            elif not a["evaluable"]:
                not_evaluable.append(f"{NOT_EVALUABLE}: too few valid ABL1 replicates")
            elif math.isfinite(abl1_copies) and abl1_copies < min_abl1:
                not_evaluable.append(
                    f"{NOT_EVALUABLE}: ABL1 below minimum ({abl1_copies:,.0f} < {min_abl1:,.0f} copies)"
                )
        if w is not None and w["detected"] and not w["evaluable"]:
            not_evaluable.append(f"{NOT_EVALUABLE}: too few valid WT1 replicates")
        ok_abl1 = math.isfinite(abl1_copies) and abl1_copies > 0
        ratio = wt1_copies / abl1_copies if ok_abl1 else math.nan
        pct, ncn = 100.0 * ratio, 1e4 * ratio
        sensitivity = 1.0 / abl1_copies if ok_abl1 else math.nan
        value = pct if rule.metric == "wt1_pct_abl1" else ncn
        if not_evaluable:
            call, reason = NOT_EVALUABLE, not_evaluable[0]
            flags += not_evaluable[1:]
        else:
            call, reason = classify_wt1(value, rule)
        if call == "negative" and w is not None and not w["detected"]:
            reason += f"; WT1 not detected, sensitivity {sensitivity:.2g}"
        plates = sorted({r["plate"] for r in (w, a) if r is not None})
        rows.append({
            "sample": sample,
            "specimen": rule.specimen,
            "plate": ";".join(plates),
            "wt1_copies": wt1_copies,
            "abl1_copies": abl1_copies,
            "wt1_ct_mean": float(w["ct_mean"]) if w is not None else math.nan,
            "abl1_ct_mean": float(a["ct_mean"]) if a is not None else math.nan,
            "wt1_ct_sd": float(w["ct_sd"]) if w is not None else math.nan,
            "abl1_ct_sd": float(a["ct_sd"]) if a is not None else math.nan,
            "wt1_replicates": int(w["n_used"]) if w is not None else 0,
            "abl1_replicates": int(a["n_used"]) if a is not None else 0,
            "wt1_pct_abl1": pct,
            "wt1_per_1e4_abl1": ncn,
            "sensitivity": sensitivity,
            "call": call,
            "reason": reason,
            "profile": rule.profile,
            "assay": rule.assay,
            "metric": rule.metric,
            "threshold": rule.threshold,
            "threshold_unit": rule.unit,
            "threshold_source": rule.source,
            "min_abl1": min_abl1,
            "wt1_curve": _curve_label(wc),
            "abl1_curve": _curve_label(ac),
            "flags": "; ".join(flags),
            "mrdquant_version": __version__,
        })
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    for col in ("wt1_copies", "abl1_copies", "wt1_pct_abl1", "wt1_per_1e4_abl1", "sensitivity", "threshold"):
        out[col] = out[col].astype(float)
    return out

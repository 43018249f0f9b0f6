"""Flow-cytometric MRD quantification from LAIP and denominator event counts.

MRD % = LAIP events / denominator events x 100, where the denominator is the nucleated
(Syto41+ or CD45+), viable, singlet population after time and doublet QC. Each result is
put into one of four report categories:

``"negative"``
    Fewer LAIP events than the limit of detection (LOD) *and* enough denominator events
    to call a negative; or LAIP events detected at a level below the positivity threshold.
``"positive, not quantifiable"``
    LOD <= LAIP events < lower limit of quantification (LLOQ), at or above the threshold.
``"positive"``
    LAIP events >= LLOQ, at or above the threshold.
``"not evaluable"``
    No denominator events, or fewer LAIP events than the LOD while the denominator is
    too small to call the sample negative.

The rules in order, with ``L`` = LOD events, ``Q`` = LLOQ events, ``M`` = minimum
denominator for a negative call, ``T`` = positivity threshold (fraction):

1. denominator = 0 -> not evaluable;
2. LAIP < L: denominator >= M -> negative, else not evaluable;
3. LAIP / denominator < T -> negative (detected below threshold);
4. LAIP < Q -> positive, not quantifiable; else positive.

``M`` defaults to the profile's ``mfc.min_denominator_events.<disease>``; where the
profile leaves it unset it is derived as ``ceil(L / T)``, the fewest events with which the
sample's sensitivity ``L / denominator`` reaches the threshold (200,000 events for
L = 20 and T = 10^-4). The derivation is recorded in the result's ``thresholds``.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._version import __version__
from ..errors import ConfigError, InputError
from ..profiles import Profile, Threshold, load_profile, thresholds_table

__all__ = [
    "MfcResult",
    "quantify_mrd",
    "quantify_mrd_table",
    "status_detail",
    "MFC_STATUSES",
    "MRD_TABLE_COLUMNS",
    "DETECTED_BELOW_THRESHOLD",
]

#: the four report categories, in order of the status codes used internally
MFC_STATUSES = ("negative", "positive", "positive, not quantifiable", "not evaluable")

#: columns of :func:`quantify_mrd_table`, in order
MRD_TABLE_COLUMNS = [
    "sample_id",
    "laip_gate",
    "denominator_gate",
    "laip_events",
    "denominator_events",
    "mrd_fraction",
    "mrd_pct",
    "sensitivity",
    "status",
    "detected",
    "status_detail",
    "reason",
    "lod_events",
    "lloq_events",
    "min_denominator",
    "threshold_pct",
    "disease",
    "profile_id",
]

_NEG, _POS, _PNQ, _NE = 0, 1, 2, 3

#: ``status_detail`` of a negative sample with LAIP events at or above the LOD
DETECTED_BELOW_THRESHOLD = "negative (detected below threshold)"


def status_detail(status: str, detected: bool) -> str:
    """The status to show a reader: a negative with detected LAIP events says so.

    The status set (:data:`MFC_STATUSES`) is unchanged; this is the text for tables and
    summaries, e.g. ``status_detail("negative", True)`` is
    ``"negative (detected below threshold)"``.
    """
    return DETECTED_BELOW_THRESHOLD if status == "negative" and bool(detected) else status


@dataclass(frozen=True)
class MfcResult:
    """Flow-cytometric MRD of one sample.

    Attributes
    ----------
    laip_events : int, events
    denominator_events : int, events
    mrd_fraction : float, 0-1
        ``laip_events / denominator_events``; NaN when the sample is not evaluable (no
        denominator events, or too few to call it): a sample without a call has no level.
    mrd_pct : float, %
        ``100 * mrd_fraction``.
    sensitivity : float, 0-1
        Achievable sensitivity of the sample, ``lod_events / denominator_events``.
    status : {"negative", "positive", "positive, not quantifiable", "not evaluable"}
    reason : str
        Why the status was given, with the numbers compared.
    detected : bool
        ``laip_events >= lod_events``.
    disease : {"ALL", "AML"}
    profile_id : str
    thresholds : dict of str to Threshold
        ``lod_events``, ``lloq_events``, ``positivity_pct``, ``min_denominator_events``,
        each with value, unit and source.
    mrdquant_version : str
    sample_id : str
        File name (or the id given) for results from FCS files; ``""`` from counts.
    qc : DataFrame or None
        Acquisition QC, one row per denominator step: ``step, events_in, events_out,
        removed, detail`` (from :func:`mrdquant.quantify_mfc`).
    gates : DataFrame or None
        Every gate placed in the file: ``gate, parent, kind, x, y, coordinates`` (JSON),
        ``placed``, ``events``, ``percent_parent`` (%).
    gate_masks : dict of str to ndarray (n_events,) bool
        Membership of every gate, QC steps included (read-only arrays).
    laip_mask : ndarray (n_events,) bool or None
        LAIP membership of every event of the file (read-only).
    provenance : dict
        ``panel_id``, ``panel_hash``, ``laip`` (id), ``laip_source`` (panel or patient LAIP
        file and its hash), ``profile``, ``parameters``, ``input_path``, ``input_sha256``,
        ``mrdquant_version``.
    """

    laip_events: int
    denominator_events: int
    mrd_fraction: float
    mrd_pct: float
    sensitivity: float
    status: str
    reason: str
    detected: bool
    disease: str
    profile_id: str
    thresholds: dict[str, Threshold] = field(default_factory=dict)
    mrdquant_version: str = __version__
    sample_id: str = ""
    qc: Any = field(default=None, compare=False, repr=False)
    gates: Any = field(default=None, compare=False, repr=False)
    gate_masks: dict = field(default_factory=dict, compare=False, repr=False)
    laip_mask: Any = field(default=None, compare=False, repr=False)
    provenance: dict = field(default_factory=dict, compare=False, repr=False)

    def to_row(self) -> dict:
        """One flat row for result tables (see :data:`mrdquant.mfc.quantify.RESULT_COLUMNS`)."""
        import json

        thr = self.thresholds
        pv = self.provenance or {}

        def tv(key):
            t = thr.get(key)
            return float("nan") if t is None or t.value is None else float(t.value)

        qc = self.qc
        gates = self.gates
        return {
            "sample_id": self.sample_id,
            "status": self.status,
            "status_detail": self.status_detail,
            "mrd_pct": self.mrd_pct,
            "mrd_fraction": self.mrd_fraction,
            "laip_events": int(self.laip_events),
            "denominator_events": int(self.denominator_events),
            "sensitivity": self.sensitivity,
            "detected": bool(self.detected),
            "reason": self.reason,
            "disease": self.disease,
            "profile_id": self.profile_id,
            "lod_events": tv("lod_events"),
            "lloq_events": tv("lloq_events"),
            "threshold_pct": tv("positivity_pct"),
            "min_denominator": tv("min_denominator_events"),
            "panel_id": pv.get("panel_id", ""),
            "panel_hash": pv.get("panel_hash", ""),
            "laip": pv.get("laip", ""),
            "laip_source": pv.get("laip_source", ""),
            "n_events": int(pv.get("n_events", -1)),
            "qc_events_out": int(qc["events_out"].iloc[-1]) if qc is not None and len(qc) else -1,
            "qc": json.dumps(qc[["step", "events_in", "events_out"]].to_dict("records")) if qc is not None else "[]",
            "gates": json.dumps(
                [{"gate": r.gate, "events": int(r.events), "placed": bool(r.placed), **json.loads(r.coordinates)}
                 for r in gates.itertuples(index=False)]
            ) if gates is not None else "[]",
            "input_path": str(pv.get("input_path", "")),
            "input_sha256": pv.get("input_sha256", ""),
            "mrdquant_version": self.mrdquant_version,
        }

    @property
    def status_detail(self) -> str:
        """``status`` with LAIP events seen below the threshold made visible.

        ``"negative (detected below threshold)"`` for a negative sample whose LAIP events
        reached the LOD (``detected``) while its MRD stayed below the positivity
        threshold; otherwise ``status`` itself.
        """
        return status_detail(self.status, self.detected)

    def thresholds_table(self) -> pd.DataFrame:
        """The thresholds used, one row each: ``parameter, value, unit, source``."""
        return thresholds_table(self.thresholds)


# --------------------------------------------------------------------------- thresholds


def _resolve_thresholds(
    profile: "str | Profile",
    disease: str,
    lod_events: int | None,
    lloq_events: int | None,
    min_denominator: int | None,
    threshold_pct: float | None | Literal["profile"],
) -> tuple[Profile, dict[str, Threshold]]:
    if disease not in ("ALL", "AML"):
        raise ConfigError(f"disease={disease!r}: expected 'ALL' or 'AML'")
    prof = _load(profile)

    def from_profile(key: str, name: str) -> Threshold:
        try:
            t = prof.threshold(f"mfc.{key}")
        except ConfigError as exc:
            raise ConfigError(
                f"profile {prof.profile_id!r} has no mfc.{key}; pass {name}= explicitly "
                "or use a profile with an mfc.toml"
            ) from exc
        return t

    out: dict[str, Threshold] = {}
    if lod_events is None:
        t = from_profile("lod_events", "lod_events")
        out["lod_events"] = Threshold("lod_events", t.value, t.unit, t.source, t.reason)
    else:
        out["lod_events"] = Threshold("lod_events", lod_events, "events", "user argument")
    if lloq_events is None:
        t = from_profile("lloq_events", "lloq_events")
        out["lloq_events"] = Threshold("lloq_events", t.value, t.unit, t.source, t.reason)
    else:
        out["lloq_events"] = Threshold("lloq_events", lloq_events, "events", "user argument")
    if threshold_pct == "profile":
        t = from_profile(f"positivity_pct.{disease}", "threshold_pct")
        out["positivity_pct"] = Threshold("positivity_pct", t.value, t.unit, t.source, t.reason)
    elif threshold_pct is None:
        out["positivity_pct"] = Threshold("positivity_pct", None, "%", "user argument: no threshold", "")
    else:
        out["positivity_pct"] = Threshold("positivity_pct", threshold_pct, "%", "user argument")

    for key in ("lod_events", "lloq_events"):
        v = out[key].value
        if v is None or not _is_count(v):
            raise ConfigError(f"{key}={v!r} (source: {out[key].source}): expected a non-negative whole number of events")
    if out["lod_events"].value > out["lloq_events"].value:
        raise ConfigError(
            f"lod_events={out['lod_events'].value} is above lloq_events={out['lloq_events'].value}; "
            "the limit of detection cannot exceed the limit of quantification"
        )
    thr = out["positivity_pct"].value
    if thr is not None and (not isinstance(thr, (int, float)) or not 0 <= float(thr) <= 100):
        raise ConfigError(f"positivity threshold {thr!r} %: expected a number between 0 and 100")

    if min_denominator is not None:
        out["min_denominator_events"] = Threshold("min_denominator_events", min_denominator, "events", "user argument")
    else:
        t = prof.threshold(f"mfc.min_denominator_events.{disease}") if _has(prof, f"mfc.min_denominator_events.{disease}") else None
        if t is not None and t.is_set:
            out["min_denominator_events"] = Threshold("min_denominator_events", t.value, t.unit, t.source)
        else:
            lod = int(out["lod_events"].value)
            if thr is not None and float(thr) > 0:
                derived = math.ceil(lod / (float(thr) / 100.0) - 1e-9)
                src = f"derived: lod_events / positivity fraction = {lod} / {float(thr) / 100.0:g}"
            else:
                derived = 1
                src = "derived: no positivity threshold, any denominator allows a negative call"
            if t is not None and t.reason:
                src += f" (profile: {t.reason})"
            out["min_denominator_events"] = Threshold("min_denominator_events", derived, "events", src)
    mind = out["min_denominator_events"].value
    if mind is None or not _is_count(mind):
        raise ConfigError(f"min_denominator={mind!r}: expected a non-negative whole number of events")
    return prof, out


@functools.lru_cache(maxsize=16)
def _load_bundled(profile_id: str) -> Profile:
    return load_profile(profile_id)


def _load(profile: "str | os.PathLike | Profile") -> Profile:
    # bundled profiles are read once; folders given by path are re-read every call
    if isinstance(profile, str) and not os.path.isdir(profile):
        return _load_bundled(profile)
    return load_profile(profile)


def _has(prof: Profile, dotted: str) -> bool:
    try:
        prof.threshold(dotted)
    except ConfigError:
        return False
    return True


def _is_count(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, np.integer)):
        return v >= 0
    if isinstance(v, (float, np.floating)):
        return math.isfinite(v) and v >= 0 and float(v).is_integer()
    return False


# --------------------------------------------------------------------------- core


def _classify(
    laip: np.ndarray, denom: np.ndarray, lod: int, lloq: int, min_den: int, thr_fraction: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised status codes; returns ``(mrd_fraction, sensitivity, code)``."""
    laip = laip.astype(np.int64)
    denom = denom.astype(np.int64)
    has_den = denom > 0
    safe = np.where(has_den, denom, 1).astype(np.float64)
    frac = np.where(has_den, laip / safe, np.nan)
    sens = np.where(has_den, lod / safe, np.nan)
    code = np.full(laip.shape, _POS, dtype=np.int8)
    below_lod = laip < lod
    below_thr = ~below_lod & (frac < thr_fraction) if thr_fraction is not None else np.zeros(laip.shape, bool)
    pnq = ~below_lod & ~below_thr & (laip < lloq)
    code[pnq] = _PNQ
    code[below_thr] = _NEG
    code[below_lod & (denom >= min_den)] = _NEG
    code[below_lod & (denom < min_den)] = _NE
    code[~has_den] = _NE
    # a sample that cannot be called has no MRD level: not a 0 % a reader could act on
    frac[code == _NE] = np.nan
    return frac, sens, code


def _reason(code: int, laip: int, denom: int, lod: int, lloq: int, min_den: int, thr_pct: float | None, frac: float) -> str:
    pct = 100.0 * frac if denom > 0 else float("nan")
    sens_pct = 100.0 * lod / denom if denom > 0 else float("nan")
    thr_txt = "no threshold" if thr_pct is None else f"threshold {thr_pct:g}%"
    if denom <= 0:
        return "no denominator events"
    if code == _NE:
        return (
            f"{laip} LAIP events < LOD {lod} and only {denom} denominator events "
            f"(< {min_den} needed for a negative call; sensitivity {sens_pct:.3g}%, {thr_txt})"
        )
    if code == _NEG and laip < lod:
        text = f"{laip} LAIP events < LOD {lod}; sensitivity {sens_pct:.3g}% with {denom} denominator events"
        if thr_pct is not None and sens_pct > thr_pct:
            # only a lowered min_denominator_events lets such a sample be called negative
            text += (f"; this does not reach the positivity {thr_txt}: MRD below {sens_pct:.3g}% cannot be "
                     f"excluded (negative by min_denominator_events {min_den})")
        return text
    if code == _NEG:
        return f"{laip} LAIP events detected (>= LOD {lod}) but MRD {pct:.3g}% is below the positivity {thr_txt}"
    if code == _PNQ:
        return f"{laip} LAIP events: >= LOD {lod} but < LLOQ {lloq}; MRD {pct:.3g}% is an estimate ({thr_txt})"
    return f"{laip} LAIP events >= LLOQ {lloq}; MRD {pct:.3g}% ({thr_txt})"


def _check_counts(laip: np.ndarray, denom: np.ndarray, where: str) -> None:
    for name, arr in (("laip_events", laip), ("denominator_events", denom)):
        if arr.size and (not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.round(arr))):
            bad = arr[~(np.isfinite(arr) & (arr >= 0) & (arr == np.round(arr)))][:3]
            raise InputError(f"{where}{name}: expected non-negative whole event counts, found {bad.tolist()}")
    over = laip > denom
    if np.any(over):
        i = int(np.flatnonzero(over)[0])
        raise InputError(
            f"{where}laip_events ({laip[i]:g}) exceeds denominator_events ({denom[i]:g}); "
            "the LAIP gate must lie inside the denominator gate"
        )


# --------------------------------------------------------------------------- public


def quantify_mrd(
    laip_events: int,
    denominator_events: int,
    *,
    lod_events: int | None = None,
    lloq_events: int | None = None,
    min_denominator: int | None = None,
    threshold_pct: "float | None | Literal['profile']" = "profile",
    disease: Literal["ALL", "AML"] = "ALL",
    profile: "str | Profile" = "puih_2020",
) -> MfcResult:
    """MFC MRD of one sample from its LAIP and denominator event counts.

    Parameters
    ----------
    laip_events : int, events
        Events in the LAIP (leukemic) gate.
    denominator_events : int, events
        Events in the denominator gate (nucleated viable singlets).
    lod_events : int, optional, events
        Limit of detection; default the profile's ``mfc.lod_events`` (20, an assumption).
    lloq_events : int, optional, events
        Lower limit of quantification; default ``mfc.lloq_events`` (50, an assumption).
    min_denominator : int, optional, events
        Fewest denominator events for a negative call; default the profile's
        ``mfc.min_denominator_events.<disease>``, or ``ceil(lod / threshold)`` when unset.
    threshold_pct : float or None or "profile", default "profile", %
        Positivity threshold; ``"profile"`` reads ``mfc.positivity_pct.<disease>``
        (ALL 0.01%, AML 0.1%); ``None`` means any detected LAIP is positive.
    disease : {"ALL", "AML"}, default "ALL"
    profile : str or Profile, default "puih_2020"

    Returns
    -------
    MfcResult

    Raises
    ------
    InputError
        Negative or fractional counts, or LAIP events above the denominator.
    ConfigError
        Inconsistent limits (LOD above LLOQ) or a profile without ``mfc`` values.

    References
    ----------
    Heuser et al., Blood 2021;138:2753 (ELN 2021 MRD; AML threshold 0.1%,
    > 500,000 CD45+ cells for a negative call).

    Examples
    --------
    >>> r = quantify_mrd(120, 1_000_000)
    >>> r.status, r.mrd_pct, r.sensitivity
    ('positive', 0.012, 2e-05)
    >>> quantify_mrd(30, 100_000).status
    'positive, not quantifiable'
    >>> quantify_mrd(5, 500_000).status
    'negative'
    >>> quantify_mrd(5, 50_000).status
    'not evaluable'
    """
    laip = np.asarray([laip_events], dtype=np.float64)
    den = np.asarray([denominator_events], dtype=np.float64)
    _check_counts(laip, den, "")
    prof, thr = _resolve_thresholds(profile, disease, lod_events, lloq_events, min_denominator, threshold_pct)
    lod, lloq, mind = int(thr["lod_events"].value), int(thr["lloq_events"].value), int(thr["min_denominator_events"].value)
    tp = thr["positivity_pct"].value
    tf = None if tp is None else float(tp) / 100.0
    frac, sens, code = _classify(laip, den, lod, lloq, mind, tf)
    n, d, c = int(laip[0]), int(den[0]), int(code[0])
    return MfcResult(
        laip_events=n,
        denominator_events=d,
        mrd_fraction=float(frac[0]),
        mrd_pct=float(frac[0]) * 100.0,
        sensitivity=float(sens[0]),
        status=MFC_STATUSES[c],
        reason=_reason(c, n, d, lod, lloq, mind, tp, float(frac[0])),
        detected=bool(n >= lod),
        disease=disease,
        profile_id=prof.profile_id,
        thresholds=thr,
    )


def quantify_mrd_table(
    counts: pd.DataFrame,
    laip_gate: str,
    denominator_gate: str,
    *,
    sample_col: str = "sample_id",
    gate_col: str = "gate",
    count_col: str = "count",
    lod_events: int | None = None,
    lloq_events: int | None = None,
    min_denominator: int | None = None,
    threshold_pct: "float | None | Literal['profile']" = "profile",
    disease: Literal["ALL", "AML"] = "ALL",
    profile: "str | Profile" = "puih_2020",
) -> pd.DataFrame:
    """MFC MRD for every sample of a gate-count table (vectorised :func:`quantify_mrd`).

    Parameters
    ----------
    counts : DataFrame
        Long table like ``GatingResult.counts()``: one row per (sample, gate) with at least
        the columns ``gate_col`` and ``count_col``; ``sample_col`` when it holds several
        samples (without it the table is one sample, ``sample_id`` "").
    laip_gate, denominator_gate : str
        Values of ``gate_col`` naming the LAIP gate and the denominator gate.
    sample_col, gate_col, count_col : str
        Column names.
    lod_events, lloq_events, min_denominator, threshold_pct, disease, profile
        As in :func:`quantify_mrd`.

    Returns
    -------
    DataFrame
        One row per sample, columns :data:`MRD_TABLE_COLUMNS`: ``sample_id`` (str),
        ``laip_gate``, ``denominator_gate`` (str), ``laip_events``, ``denominator_events``
        (int64, events), ``mrd_fraction`` (float, 0-1), ``mrd_pct`` (float, %),
        ``sensitivity`` (float, 0-1), ``status`` (str, one of :data:`MFC_STATUSES`),
        ``detected`` (bool, LAIP events >= LOD), ``status_detail`` (str: ``status``, or
        ``"negative (detected below threshold)"`` for a negative with ``detected``),
        ``reason`` (str), ``lod_events``, ``lloq_events``,
        ``min_denominator`` (int64, events), ``threshold_pct`` (float, %, NaN for none),
        ``disease``, ``profile_id`` (str). Samples keep their first-seen order.

    Raises
    ------
    InputError
        A column is missing, a sample lacks one of the two gates or has it twice, or the
        counts are invalid (the message names the sample and gate).
    """
    if not isinstance(counts, pd.DataFrame):
        raise InputError(f"counts: expected a pandas DataFrame, got {type(counts).__name__}")
    for col in (gate_col, count_col):
        if col not in counts.columns:
            raise InputError(f"counts: missing column {col!r}; columns present: {list(counts.columns)}")
    prof, thr = _resolve_thresholds(profile, disease, lod_events, lloq_events, min_denominator, threshold_pct)
    lod, lloq, mind = int(thr["lod_events"].value), int(thr["lloq_events"].value), int(thr["min_denominator_events"].value)
    tp = thr["positivity_pct"].value
    tf = None if tp is None else float(tp) / 100.0

    df = counts[[gate_col, count_col]].copy()
    df["_sample"] = counts[sample_col].astype(str).to_numpy() if sample_col in counts.columns else ""
    samples = list(pd.unique(df["_sample"]))
    sub = df[df[gate_col].isin([laip_gate, denominator_gate])]
    dup = sub.duplicated(["_sample", gate_col], keep=False)
    if dup.any():
        row = sub[dup].iloc[0]
        raise InputError(f"counts: sample {row['_sample']!r} has gate {row[gate_col]!r} more than once")
    try:
        cnt = pd.to_numeric(sub[count_col], errors="raise").astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"counts: column {count_col!r} must hold event counts ({exc})") from exc
    wide = pd.Series(cnt.to_numpy(), index=pd.MultiIndex.from_arrays([sub["_sample"], sub[gate_col]])).unstack()
    for gate in (laip_gate, denominator_gate):
        if gate not in wide.columns:
            known = sorted(map(str, pd.unique(df[gate_col])))[:20]
            raise InputError(f"counts: no row for gate {gate!r} in column {gate_col!r}; gates present: {known}")
    wide = wide.reindex(samples)
    missing = wide[[laip_gate, denominator_gate]].isna().any(axis=1)
    if missing.any():
        s = wide.index[np.flatnonzero(missing.to_numpy())[0]]
        have = wide.loc[s]
        lacking = [g for g in (laip_gate, denominator_gate) if pd.isna(have[g])]
        raise InputError(f"counts: sample {s!r} has no count for gate(s) {lacking}")
    laip = wide[laip_gate].to_numpy(np.float64)
    den = wide[denominator_gate].to_numpy(np.float64)
    for i, s in enumerate(samples):
        _check_counts(laip[i : i + 1], den[i : i + 1], f"counts: sample {s!r}: ")
    frac, sens, code = _classify(laip, den, lod, lloq, mind, tf)
    li, di = laip.astype(np.int64), den.astype(np.int64)
    out = pd.DataFrame(
        {
            "sample_id": pd.Series(samples, dtype=object).astype(str),
            "laip_gate": str(laip_gate),
            "denominator_gate": str(denominator_gate),
            "laip_events": li,
            "denominator_events": di,
            "mrd_fraction": frac,
            "mrd_pct": frac * 100.0,
            "sensitivity": sens,
            "status": [MFC_STATUSES[c] for c in code],
            "detected": li >= lod,
            "status_detail": [status_detail(MFC_STATUSES[c], d) for c, d in zip(code, li >= lod)],
            "reason": [
                _reason(int(c), int(a), int(b), lod, lloq, mind, tp, float(f)) for c, a, b, f in zip(code, li, di, frac)
            ],
            "lod_events": np.int64(lod),
            "lloq_events": np.int64(lloq),
            "min_denominator": np.int64(mind),
            "threshold_pct": np.nan if tp is None else float(tp),
            "disease": disease,
            "profile_id": prof.profile_id,
        },
        columns=MRD_TABLE_COLUMNS,
    )
    out.attrs["thresholds"] = {k: (t.value, t.unit, t.source) for k, t in thr.items()}
    return out

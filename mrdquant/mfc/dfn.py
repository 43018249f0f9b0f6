"""Different-from-normal (DfN) MRD of one sample, and the integrated LAIP + DfN call.

:func:`quantify_dfn` scores every strict singlet among the denominator events of a sample
(:mod:`mrdquant.mfc.dfn_singlets`: doublets that pass the panel's singlet gate must not be
novel) against a :class:`~mrdquant.mfc.reference.NormalReference` (mixture log-density),
marks events below the reference's calibrated threshold as novel, groups them into
populations (DBSCAN; populations smaller than the LOD, and populations whose centre is a
normal-looking event, dissolved) and counts the grouped events as the DfN numerator over
the panel's denominator. The report categories and limits are those of LAIP MRD
(:mod:`mrdquant.cytometry.laip`). :func:`integrated_call` joins a LAIP result and a DfN
result of the same file as ELN 2021 recommends: MRD events = LAIP events OR DfN events,
with the agreement of the two approaches reported.

See ``docs/dfn.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._version import __version__
from ..cytometry.laip import MFC_STATUSES, _classify, _reason, _resolve_thresholds
from ..errors import InputError, ReferenceFileError
from ..profiles import Threshold, thresholds_table
from .dfn_singlets import STRICT_SINGLET_K, strict_singlet_mask
from .markers import marker_keys, stain_keys
from .novelty import dissolve_normal_centred, group_novel_events
from .panels import normalize_marker
from .reference import NormalReference, _is_prepared, _resolve_panel, _sample_label, features_of, prepare_sample

__all__ = ["DfnResult", "quantify_dfn", "IntegratedResult", "integrated_call", "POPULATION_COLUMNS", "AGREEMENTS"]

#: leading columns of :attr:`DfnResult.populations` (then ``median_<feature>`` and
#: ``shift_sd_<feature>`` for every reference feature)
POPULATION_COLUMNS = [
    "population",
    "events",
    "pct_of_denominator",
    "nearest_component",
    "nearest_component_weight",
    "distance",
    "distance_sd",
    "separating_markers",
]

#: values of :attr:`IntegratedResult.agreement`
AGREEMENTS = ("both positive", "both negative", "LAIP only", "DfN only", "not evaluable")

_POSITIVE = ("positive", "positive, not quantifiable")


@dataclass(frozen=True)
class DfnResult:
    """DfN MRD of one sample (shaped like :class:`~mrdquant.cytometry.laip.MfcResult`).

    Attributes
    ----------
    laip_events : int, events
        DfN events: novel strict-singlet denominator events that belong to a population of at least
        ``lod_events`` events (named as in ``MfcResult`` so both fit one table).
    denominator_events : int, events
    mrd_fraction : float, 0-1
    mrd_pct : float, %
    sensitivity : float, 0-1
        ``lod_events / denominator_events``.
    status : {"negative", "positive", "positive, not quantifiable", "not evaluable"}
    reason : str
    detected : bool
    disease : {"ALL", "AML"}
    profile_id : str
    thresholds : dict of str to Threshold
        The LAIP limits plus ``novelty_log_density`` (the reference threshold) and
        ``fp_event_rate`` (its calibration target).
    aberrant_mask : ndarray of bool (n_events_in_file,)
        DfN events, in file event order.
    novel_events : int, events
        Novel events before grouping (scattered ones included), among the denominator's
        strict singlets (:mod:`mrdquant.mfc.dfn_singlets`: only these may be novel).
    fringe_events : int, events
        Novel events grouped into populations whose centre is a normal-looking event
        (:func:`mrdquant.mfc.novelty.dissolve_normal_centred`); not counted.
    singlet_check : dict
        The strict-singlet cut (:func:`mrdquant.mfc.dfn_singlets.strict_singlet_mask`):
        ``measure``, ``median``, ``sd``, ``k``, ``limit`` and ``removed`` (denominator
        events not allowed to be novel because they may be doublets).
    populations : DataFrame
        One row per DfN population, columns :data:`POPULATION_COLUMNS` (``population`` id,
        ``events``, ``pct_of_denominator`` (%), ``nearest_component`` (the normal mixture
        component whose mean is nearest to the population's median, transformed units),
        its ``nearest_component_weight`` (share of normal events), ``distance``
        (transformed units) and ``distance_sd`` (Mahalanobis, that component's SDs),
        ``separating_markers`` (the three largest shifts, e.g. ``"CD38 -6.1 SD"``)) then
        ``median_<feature>`` (transformed units) and ``shift_sd_<feature>`` (signed
        distance of that median from the nearest normal mixture component, in that
        component's SDs) for every feature.
    features : tuple of str
        Reference features (markers then scatter).
    aberrant_features : ndarray (laip_events, n_features), float32
        Feature values of the DfN events (for plots).
    aberrant_labels : ndarray (laip_events,), int64
        Population of each DfN event.
    sample_id : str
    provenance : dict
        ``panel_id``, ``panel_hash``, ``reference_sha256``, ``reference_created``,
        ``profile``, ``input_sha256``, ``source``, ``parameters``, ``mrdquant_version``.
    mrdquant_version : str
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
    thresholds: dict
    aberrant_mask: np.ndarray
    novel_events: int
    populations: pd.DataFrame
    features: tuple
    aberrant_features: np.ndarray
    aberrant_labels: np.ndarray
    sample_id: str = ""
    provenance: dict = field(default_factory=dict)
    mrdquant_version: str = __version__
    singlet_check: dict = field(default_factory=dict)
    fringe_events: int = 0

    @property
    def dfn_events(self) -> int:
        """Same as ``laip_events``: the DfN numerator."""
        return self.laip_events

    def thresholds_table(self) -> pd.DataFrame:
        """The thresholds used, one row each: ``parameter, value, unit, source``."""
        return thresholds_table(self.thresholds)

    def to_row(self) -> dict:
        """One flat row (``dfn_`` prefixed counts, status and provenance)."""
        return {
            "sample_id": self.sample_id,
            "dfn_events": self.laip_events,
            "dfn_novel_events": self.novel_events,
            "dfn_populations": int(len(self.populations)),
            "dfn_not_strict_singlets": int(self.singlet_check.get("removed", 0)),
            "dfn_fringe_events": int(self.fringe_events),
            "denominator_events": self.denominator_events,
            "dfn_mrd_pct": self.mrd_pct,
            "dfn_sensitivity": self.sensitivity,
            "dfn_status": self.status,
            "dfn_reason": self.reason,
            "disease": self.disease,
            "profile_id": self.profile_id,
            "panel_id": self.provenance.get("panel_id", ""),
            "reference_sha256": self.provenance.get("reference_sha256", ""),
            "input_sha256": self.provenance.get("input_sha256", ""),
            "mrdquant_version": self.mrdquant_version,
        }


def _as_reference(reference) -> tuple[NormalReference, str]:
    if isinstance(reference, NormalReference):
        return reference, reference.file_sha256
    if isinstance(reference, (str, os.PathLike)):
        ref = NormalReference.load(reference)
        return ref, ref.file_sha256
    raise InputError(f"reference: expected a NormalReference or a path to one, got {type(reference).__name__}")


def _check_file_markers(prepared, reference: NormalReference, panel, where: str, explicit=None) -> None:
    """Refuse a file whose $PnS stains disagree with the reference's markers.

    A stain agrees when it names the marker or one of the panel's aliases for it (whole
    or as its first word, as channel resolution matches them). Markers mapped explicitly
    (``explicit``: the caller's ``channels``) are not checked: the mapping wins over $PnS.
    """
    markers = list(prepared.markers)
    if markers != list(reference.markers):
        raise ReferenceFileError(f"{where}: prepared markers {markers} differ from the reference's {list(reference.markers)}")
    sample = prepared.sample
    chans = getattr(prepared, "channels", {}) or {}
    stains = dict(zip(sample.channels, sample.markers))
    specs = {s.name: s for s in getattr(panel, "marker_specs", [])}
    skip = {normalize_marker(k) for k in (explicit or {})}
    wrong = []
    for m in markers:
        if normalize_marker(m) in skip:
            continue
        ch = chans.get(m)
        st = (stains.get(ch) or "").strip()
        if ch is None or not st:
            continue
        spec = specs.get(m)
        if not set(stain_keys(st)) & marker_keys(m, spec.aliases if spec is not None else ()):
            wrong.append(f"{ch} is {st!r}, reference expects {m!r}")
    if wrong:
        raise ReferenceFileError(
            f"{where}: file stains do not match the reference panel {reference.panel_id!r}: " + "; ".join(wrong)
        )


def _population_table(x: np.ndarray, labels: np.ndarray, reference: NormalReference, denominator: int) -> pd.DataFrame:
    feats = list(reference.features)
    mix = reference.mixture
    rows = []
    for lab in range(int(labels.max()) + 1 if labels.size else 0):
        sel = labels == lab
        med = np.median(x[sel], axis=0)
        # nearest normal population = nearest component mean in transformed units (the
        # units of the plots); a Mahalanobis choice would favour broad tail components
        diff = med[None, :] - mix.means
        k = int(np.argmin((diff * diff).sum(axis=1)))
        y = diff[k] @ mix.precisions_cholesky[k]
        sd = np.sqrt(np.diagonal(mix.covariances[k]))
        shift = (med - mix.means[k]) / sd
        order = np.argsort(-np.abs(shift))[:3]
        row = {
            "population": lab,
            "events": int(sel.sum()),
            "pct_of_denominator": 100.0 * sel.sum() / denominator if denominator else np.nan,
            "nearest_component": k,
            "nearest_component_weight": float(mix.weights[k]),
            "distance": float(np.sqrt((diff[k] ** 2).sum())),
            "distance_sd": float(np.sqrt(y @ y)),
            "separating_markers": ", ".join(f"{feats[j]} {shift[j]:+.1f} SD" for j in order),
        }
        row.update({f"median_{f}": float(med[j]) for j, f in enumerate(feats)})
        row.update({f"shift_sd_{f}": float(shift[j]) for j, f in enumerate(feats)})
        rows.append(row)
    cols = POPULATION_COLUMNS + [f"median_{f}" for f in feats] + [f"shift_sd_{f}" for f in feats]
    return pd.DataFrame(rows, columns=cols)


def quantify_dfn(
    sample: Any,
    reference: "NormalReference | str | os.PathLike",
    profile: str = "puih_2020",
    *,
    panel: Any = None,
    lod_events: int | None = None,
    lloq_events: int | None = None,
    min_denominator: int | None = None,
    threshold_pct: "float | None | Literal['profile']" = "profile",
    sample_id: str | None = None,
    channels: dict | None = None,
    singlet_k: float | None = None,
) -> DfnResult:
    """DfN MRD of one sample against a normal-marrow reference.

    Parameters
    ----------
    sample : FlowSample, path, or a prepared sample
        The FCS file (or its ``mrdquant.mfc.prepare`` output).
    reference : NormalReference or path
        Fitted for the sample's panel.
    profile : str, default "puih_2020"
        Threshold profile (LOD, LLOQ, positivity threshold, minimum denominator).
    panel : str or Panel, optional
        Default: the reference's panel. Another panel is refused.
    lod_events, lloq_events, min_denominator, threshold_pct
        As in :func:`mrdquant.quantify_mrd`. ``lod_events`` is also the minimum size of a
        DfN population.
    sample_id : str, optional
        Default: the file name stem.
    channels : dict of str to str, optional
        Explicit marker -> ``$PnN`` mapping, e.g. ``{"CD58": "APC-Cy7-A"}`` for a file
        whose ``$PnS`` leaves a marker unnamed (as in :func:`mrdquant.quantify_mfc`). It
        wins over ``$PnS``: explicitly mapped channels are not checked against the
        reference's markers. A prepared sample keeps the mapping it was prepared with
        (``PreparedSample.explicit_channels``), which is used when none is given here.
    singlet_k : float, optional, robust SDs
        Strict-singlet cut: only denominator events with ``FSC-H / FSC-A >= median -
        singlet_k x SD`` may be novel (:mod:`mrdquant.mfc.dfn_singlets`). Default: the
        reference's (``parameters["singlet_k"]``), else 2.5. ``inf`` switches it off.

    Returns
    -------
    DfnResult

    Raises
    ------
    ReferenceFileError
        The reference is unreadable or tampered with, or belongs to another panel, or the
        file's stains differ from the reference's markers.
    InputError
        The file cannot be read or lacks a panel channel.

    Notes
    -----
    Every denominator event is scored (no subsampling). A sample with too few
    denominator events for a negative call comes out ``"not evaluable"``.
    """
    ref, ref_sha = _as_reference(reference)
    p = _resolve_panel(panel if panel is not None else ref.panel_id)
    ref.check_panel(p, where=str(sample) if isinstance(sample, (str, os.PathLike)) else "")
    prepared = sample if _is_prepared(sample) else prepare_sample(sample, p, channels)
    channels = dict(channels or getattr(prepared, "explicit_channels", None) or {})
    src, sha = _sample_label(prepared.sample)
    _check_file_markers(prepared, ref, p, src, channels)
    disease = getattr(p, "disease", "ALL")
    prof, thr = _resolve_thresholds(profile, disease, lod_events, lloq_events, min_denominator, threshold_pct)
    lod, lloq, mind = int(thr["lod_events"].value), int(thr["lloq_events"].value), int(thr["min_denominator_events"].value)
    tp = thr["positivity_pct"].value
    tf = None if tp is None else float(tp) / 100.0

    den_mask = np.asarray(prepared.denominator_mask, dtype=bool)
    n_den = int(np.count_nonzero(den_mask))
    k = float(singlet_k if singlet_k is not None else ref.parameters.get("singlet_k", STRICT_SINGLET_K))
    strict, singlet_info = strict_singlet_mask(prepared.scatter, den_mask, k)
    den_idx = np.flatnonzero(strict)  # the events that may be novel
    x, _ = features_of(prepared, strict)
    score = ref.score(x)[0]
    novel = np.flatnonzero(score < ref.threshold)
    xn = x[novel]
    labels = group_novel_events(
        xn,
        eps=float(ref.grouping["eps"]),
        min_samples=int(ref.grouping["min_samples"]),
        min_cluster_size=max(1, lod),
        seed=int(ref.parameters.get("seed", 0)),
    )
    labels, fringe = dissolve_normal_centred(xn, labels, ref.mixture, ref.threshold)
    grouped = labels >= 0
    aberrant = np.zeros(den_mask.size, dtype=bool)
    aberrant[den_idx[novel[grouped]]] = True
    n_dfn = int(grouped.sum())

    frac, sens, code = _classify(np.array([n_dfn]), np.array([n_den]), lod, lloq, mind, tf)
    c = int(code[0])
    reason = _reason(c, n_dfn, n_den, lod, lloq, mind, tp, float(frac[0])).replace("LAIP events", "DfN events")
    thr = dict(thr)
    thr["novelty_log_density"] = Threshold(
        "novelty_log_density",
        ref.threshold,
        "log density",
        f"reference {ref.panel_id!r} ({ref.created}): calibrated on held-out normals",
    )
    thr["fp_event_rate"] = Threshold(
        "fp_event_rate",
        ref.calibration.get("fp_event_rate"),
        "fraction of normal events",
        f"reference calibration (achieved {ref.calibration.get('achieved_fp_event_rate', float('nan')):.3g} "
        f"on {ref.calibration.get('n_events')} held-out events)",
    )
    sid = sample_id if sample_id is not None else (os.path.splitext(os.path.basename(src))[0] if src and not src.startswith("<") else "")
    populations = _population_table(x[novel[grouped]], labels[grouped], ref, n_den)
    return DfnResult(
        laip_events=n_dfn,
        denominator_events=n_den,
        mrd_fraction=float(frac[0]),
        mrd_pct=float(frac[0]) * 100.0,
        sensitivity=float(sens[0]),
        status=MFC_STATUSES[c],
        reason=reason,
        detected=bool(n_dfn >= lod),
        disease=disease,
        profile_id=prof.profile_id,
        thresholds=thr,
        aberrant_mask=aberrant,
        novel_events=int(novel.size),
        populations=populations,
        features=tuple(ref.features),
        aberrant_features=x[novel[grouped]].astype(np.float32),
        aberrant_labels=labels[grouped],
        sample_id=sid,
        provenance={
            "panel_id": ref.panel_id,
            "panel_hash": ref.panel_hash,
            "reference_sha256": ref_sha,
            "reference_created": ref.created,
            "profile": prof.profile_id,
            "input_sha256": sha,
            "source": src,
            "parameters": {"lod_events": lod, **ref.grouping, "singlet_k": k, "channels": dict(channels or {})},
            "mrdquant_version": __version__,
        },
        singlet_check=singlet_info,
        fringe_events=fringe,
    )


# --------------------------------------------------------------------------- integrated call


@dataclass(frozen=True)
class IntegratedResult:
    """LAIP ∪ DfN MRD of one sample with the agreement of the two approaches.

    Attributes
    ----------
    sample_id : str
    laip_events, dfn_events : int, events
        Events of each approach.
    both_events, laip_only_events, dfn_only_events : int, events
        Event-level overlap.
    union_events : int, events
        MRD numerator: LAIP OR DfN.
    denominator_events : int, events
    mrd_fraction, mrd_pct, sensitivity : float
    status, reason : str
        Call on ``union_events`` with the DfN result's limits.
    laip_status, dfn_status : str
        The two calls on their own.
    agreement : str
        One of :data:`AGREEMENTS` ("both positive", "both negative", "LAIP only",
        "DfN only", "not evaluable"), comparing the two calls.
    union_mask : ndarray of bool (n_events_in_file,)
    thresholds : dict of str to Threshold
    """

    sample_id: str
    laip_events: int
    dfn_events: int
    both_events: int
    laip_only_events: int
    dfn_only_events: int
    union_events: int
    denominator_events: int
    mrd_fraction: float
    mrd_pct: float
    sensitivity: float
    status: str
    reason: str
    laip_status: str
    dfn_status: str
    agreement: str
    union_mask: np.ndarray
    thresholds: dict = field(default_factory=dict)

    def to_row(self) -> dict:
        """One flat row of the integrated call (no masks)."""
        return {
            "sample_id": self.sample_id,
            "laip_events": self.laip_events,
            "dfn_events": self.dfn_events,
            "both_events": self.both_events,
            "laip_only_events": self.laip_only_events,
            "dfn_only_events": self.dfn_only_events,
            "integrated_events": self.union_events,
            "denominator_events": self.denominator_events,
            "integrated_mrd_pct": self.mrd_pct,
            "integrated_sensitivity": self.sensitivity,
            "integrated_status": self.status,
            "integrated_reason": self.reason,
            "laip_status": self.laip_status,
            "dfn_status": self.dfn_status,
            "agreement": self.agreement,
        }


def integrated_call(mfc_result: Any, dfn_result: DfnResult, *, laip_status: str | None = None) -> IntegratedResult:
    """ELN 2021 integrated MRD: LAIP events ∪ DfN events of the same file.

    Parameters
    ----------
    mfc_result : MfcResult with ``laip_mask``, or ndarray of bool
        The LAIP result of the file (or its per-event LAIP mask, in file event order).
    dfn_result : DfnResult
        :func:`quantify_dfn` of the same file.
    laip_status : str, optional
        The LAIP call when ``mfc_result`` is a mask; default: the LAIP events classified
        with the DfN result's limits.

    Returns
    -------
    IntegratedResult

    Raises
    ------
    InputError
        The masks have different lengths (not the same file) or no LAIP mask is given.
    """
    if isinstance(mfc_result, np.ndarray):
        laip_mask = mfc_result
    else:
        laip_mask = getattr(mfc_result, "laip_mask", None)
        if laip_mask is None:
            raise InputError("integrated_call: the LAIP result has no per-event laip_mask; pass the mask itself")
        laip_status = laip_status or getattr(mfc_result, "status", None)
    laip_mask = np.asarray(laip_mask, dtype=bool)
    dm = dfn_result.aberrant_mask
    if laip_mask.shape != dm.shape:
        raise InputError(
            f"integrated_call: LAIP mask has {laip_mask.size} events, DfN mask {dm.size}: not the same file"
        )
    thr = dfn_result.thresholds
    lod, lloq, mind = int(thr["lod_events"].value), int(thr["lloq_events"].value), int(thr["min_denominator_events"].value)
    tp = thr["positivity_pct"].value
    tf = None if tp is None else float(tp) / 100.0
    n_den = dfn_result.denominator_events
    union = laip_mask | dm
    n_l, n_d, n_u = int(laip_mask.sum()), int(dm.sum()), int(union.sum())
    n_b = int((laip_mask & dm).sum())
    if n_u > n_den:
        raise InputError(f"integrated_call: {n_u} LAIP/DfN events exceed {n_den} denominator events")
    frac, sens, code = _classify(np.array([n_u, n_l]), np.array([n_den, n_den]), lod, lloq, mind, tf)
    status = MFC_STATUSES[int(code[0])]
    lstat = laip_status or MFC_STATUSES[int(code[1])]
    dstat = dfn_result.status
    if status == "not evaluable":
        agreement = "not evaluable"
    else:
        lp, dp = lstat in _POSITIVE, dstat in _POSITIVE
        agreement = {(True, True): "both positive", (False, False): "both negative", (True, False): "LAIP only", (False, True): "DfN only"}[(lp, dp)]
    reason = _reason(int(code[0]), n_u, n_den, lod, lloq, mind, tp, float(frac[0])).replace(
        "LAIP events", "LAIP or DfN events"
    ) + f" [LAIP {n_l}, DfN {n_d}, both {n_b}]"
    return IntegratedResult(
        sample_id=dfn_result.sample_id,
        laip_events=n_l,
        dfn_events=n_d,
        both_events=n_b,
        laip_only_events=n_l - n_b,
        dfn_only_events=n_d - n_b,
        union_events=n_u,
        denominator_events=n_den,
        mrd_fraction=float(frac[0]),
        mrd_pct=float(frac[0]) * 100.0,
        sensitivity=float(sens[0]),
        status=status,
        reason=reason,
        laip_status=lstat,
        dfn_status=dstat,
        agreement=agreement,
        union_mask=union,
        thresholds=dict(thr),
    )

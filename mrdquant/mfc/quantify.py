"""MFC MRD of FCS files: ``quantify_mfc``, several tubes of one sample, the results table.

:func:`quantify_mfc` prepares the file with the panel (:func:`mrdquant.mfc.prepare`:
channels, QC, placed gates), counts the LAIP and denominator events and classifies them
with :func:`mrdquant.cytometry.laip.quantify_mrd` (LOD/LLOQ/threshold from the profile).
A file with fewer than ``min_events`` events is a ``"not evaluable"`` result, not an
error.

Several tubes of one sample (:func:`combine_tubes`)
    1. Tubes measured with the same panel and LAIP are aliquots of one measurement: their
       LAIP events and denominator events are **summed**, and the sum is classified (more
       cells, better sensitivity).
    2. Across different panels / LAIPs the sample is **positive when any tube group is
       positive** (the group with the highest MRD is reported), **negative** when no
       group is positive and at least one is negative (the negative group with the best
       sensitivity is reported), and ``"not evaluable"`` otherwise.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._version import __version__
from ..cytometry.laip import MfcResult, quantify_mrd
from ..errors import ConfigError, InputError
from ..io.fcs import FlowSample, read_fcs
from .panels import Panel, load_panel

__all__ = ["quantify_mfc", "prepare_tube", "combine_tubes", "results_table", "RESULT_COLUMNS", "MIN_FILE_EVENTS"]

#: files with fewer events are "not evaluable" without gating
MIN_FILE_EVENTS = 1_000

#: columns of :func:`results_table` (``MfcResult.to_row()``), in order
RESULT_COLUMNS = [
    "sample_id", "status", "status_detail", "mrd_pct", "mrd_fraction", "laip_events", "denominator_events", "sensitivity",
    "detected", "reason", "disease", "profile_id", "lod_events", "lloq_events", "threshold_pct",
    "min_denominator", "panel_id", "panel_hash", "laip", "laip_source", "n_events", "qc_events_out", "qc",
    "gates", "input_path", "input_sha256", "mrdquant_version",
]


def _resolve_laip(panel: Panel, laip):
    """(panel to gate with, LAIP id, source text) for ``laip`` None / id / patient file."""
    if laip is None:
        return panel, panel.laips[0].id, f"panel {panel.panel_id} ({panel.hash[:12]})"
    if isinstance(laip, str) and any(lp.id == laip for lp in panel.laips):
        chosen = next(lp for lp in panel.laips if lp.id == laip)
        return dataclasses.replace(panel, laips=(chosen,)), laip, f"panel {panel.panel_id} ({panel.hash[:12]})"
    from .patient_laip import apply_laip

    merged, pl = apply_laip(panel, laip)
    src = f"patient LAIP {pl.path or pl.patient_id} ({pl.hash[:12]})"
    return merged, pl.laip.id, src


def prepare_tube(sample, panel, *, laip=None, channels: dict | None = None, sample_id: str | None = None,
                 seed: int = 0):
    """Read and prepare one tube as :func:`quantify_mfc` would, keeping the preparation.

    For callers that quantify a file and then draw or export it (gating page, DfN page,
    FlowJo workspace): ``quantify_mfc(prepare_tube(f, panel, laip=...), panel, laip=...)``
    gives the same result as ``quantify_mfc(f, panel, laip=...)``, and the preparation
    (event values, masks) is reused rather than computed again for the pictures. A path
    is read with its SHA-256 started on a thread (provenance).

    Parameters
    ----------
    sample : path or FlowSample
    panel : str, path or Panel
    laip : str or path, optional
        A LAIP id of the panel or a patient LAIP file, as in :func:`quantify_mfc`.
    channels : dict, optional
        Explicit marker -> channel mapping.
    sample_id : str, optional
        Default: the file name.
    seed : int, default 0

    Returns
    -------
    PreparedSample or FlowSample
        The prepared tube; the :class:`~mrdquant.io.FlowSample` itself when the file has
        fewer than :data:`MIN_FILE_EVENTS` events (``quantify_mfc`` makes it a "not
        evaluable" result without gating it).
    """
    from .preparation import prepare

    if isinstance(sample, (str, os.PathLike)):
        name = sample_id or Path(sample).name
        s = read_fcs(sample, hash_in_background=True)
    elif isinstance(sample, FlowSample):
        name, s = sample_id, sample.hash_in_background()
    else:
        raise ConfigError(f"sample: expected a FlowSample or an FCS path, got {type(sample).__name__}")
    if s.n_events < MIN_FILE_EVENTS:
        return s
    return prepare(s, _resolve_laip(load_panel(panel), laip)[0], channels=channels, sample_id=name, seed=seed)


def quantify_mfc(
    sample,
    panel,
    profile="puih_2020",
    laip=None,
    channels: dict | None = None,
    *,
    qc: bool = True,
    sample_id: str | None = None,
    min_events: int = MIN_FILE_EVENTS,
    lod_events: int | None = None,
    lloq_events: int | None = None,
    min_denominator: int | None = None,
    threshold_pct="profile",
    seed: int = 0,
) -> MfcResult:
    """MFC MRD of one FCS file with a panel.

    Parameters
    ----------
    sample : FlowSample, path or PreparedSample
        A :class:`~mrdquant.mfc.PreparedSample` (from :func:`mrdquant.mfc.prepare` with
        this panel and LAIP) is used as it is, so a caller that also needs the prepared
        events (e.g. for :func:`mrdquant.quantify_dfn`) prepares the file once.
    panel : str, path or Panel
        Bundled panel id/alias, a panel ``.toml`` or a :class:`~mrdquant.mfc.panels.Panel`.
    profile : str or Profile, default "puih_2020"
        Source of LOD, LLOQ, positivity threshold and minimum denominator.
    laip : None, str, path or PatientLaip
        None: the panel's first LAIP; a LAIP id of the panel; or a patient LAIP file
        (:func:`mrdquant.mfc.derive_laip`).
    channels : dict of str to str, optional
        Explicit marker -> channel mapping, e.g. ``{"CD58": "APC-Cy7-A"}``.
    qc : bool, default True
        Run time QC and singlets.
    sample_id : str, optional
        Default: the file name.
    min_events : int, default 1000, events
        Files with fewer events are ``"not evaluable"``.
    lod_events, lloq_events, min_denominator, threshold_pct
        Override the profile (see :func:`mrdquant.quantify_mrd`).
    seed : int
        Seed of the subsamples used by placement.

    Returns
    -------
    MfcResult
        With ``qc``, ``gates``, ``gate_masks``, ``laip_mask``, ``sample_id`` and
        ``provenance`` (panel id and hash, LAIP and its source, profile, parameters,
        input path and SHA-256, mrdquant version).

    Raises
    ------
    ConfigError
        Unknown panel, a marker the file lacks (the message lists the file's markers),
        an invalid LAIP file.
    FCSError
        The file cannot be read.
    """
    from .preparation import PreparedSample, prepare

    p = load_panel(panel)
    gp, laip_id, laip_src = _resolve_laip(p, laip)
    prepared = sample if isinstance(sample, PreparedSample) else None
    if prepared is not None:
        s = prepared.sample
    elif isinstance(sample, FlowSample):
        s = sample
    elif isinstance(sample, (str, os.PathLike)):
        # the file's SHA-256 (provenance) is computed on a thread while it is read and gated
        s = read_fcs(sample, hash_in_background=True)
    else:
        raise ConfigError(f"sample: expected a FlowSample, an FCS path or a PreparedSample, got {type(sample).__name__}")
    sid = sample_id or (prepared.sample_id if prepared is not None else None) or (
        s.path.name if s.path is not None else "in-memory")
    if prepared is not None and laip_id not in prepared.gate_masks:
        raise ConfigError(f"{sid}: the prepared sample has no gate {laip_id!r}: it was prepared with another "
                          "panel or LAIP than this call's")
    params = {"qc": qc, "min_events": int(min_events), "channels": dict(channels or {}), "seed": int(seed),
              "lod_events": lod_events, "lloq_events": lloq_events, "min_denominator": min_denominator,
              "threshold_pct": threshold_pct}
    prov = {
        "panel_id": p.panel_id,
        "panel_hash": p.hash,
        "panel_path": p.path,
        "laip": laip_id,
        "laip_source": laip_src,
        "profile": profile if isinstance(profile, str) else getattr(profile, "profile_id", str(profile)),
        "parameters": params,
        "input_path": str(s.path) if s.path is not None else "",
        "input_sha256": "",  # filled in below, once the background hash is done
        "n_events": s.n_events,
        "mrdquant_version": __version__,
    }
    # hashing releases the GIL, and most of the gating is serial
    s.hash_in_background()
    kw = dict(lod_events=lod_events, lloq_events=lloq_events, min_denominator=min_denominator,
              threshold_pct=threshold_pct, disease=p.disease, profile=profile)
    if s.n_events < min_events:
        prov["input_sha256"] = s.sha256
        base = quantify_mrd(0, 0, **kw)
        return dataclasses.replace(
            base,
            reason=f"the file has {s.n_events} events (< {min_events}): too few to gate",
            mrd_fraction=float("nan"),
            mrd_pct=float("nan"),
            sample_id=sid,
            laip_mask=np.zeros(s.n_events, dtype=bool),
            qc=pd.DataFrame(columns=["step", "events_in", "events_out", "removed", "detail"]),
            gates=pd.DataFrame(columns=["gate", "parent", "kind", "x", "y", "coordinates", "placed", "events",
                                        "percent_parent"]),
            provenance=prov,
        )
    ps = prepared if prepared is not None else prepare(s, gp, channels=channels, qc=qc, sample_id=sid, seed=seed)
    prov["input_sha256"] = s.sha256
    mask = ps.gate_masks[laip_id]
    n_laip = int(np.count_nonzero(mask))
    n_den = int(np.count_nonzero(ps.denominator_mask))
    base = quantify_mrd(n_laip, n_den, **kw)
    return dataclasses.replace(
        base,
        sample_id=sid,
        qc=ps.qc,
        gates=ps.gates,
        gate_masks=ps.gate_masks,
        laip_mask=mask,
        provenance={**prov, "denominator_gate": gp.denominator_gate, "channels": ps.channels},
    )


def combine_tubes(results, *, sample_id: str | None = None, profile=None) -> MfcResult:
    """One MFC call from several tubes of one sample (rule in the module docstring).

    Parameters
    ----------
    results : sequence of MfcResult
        From :func:`quantify_mfc`, one per tube.
    sample_id : str, optional
        Default: the tubes' sample ids joined with ``+``.
    profile : str or Profile, optional
        Default: the first tube's profile.

    Returns
    -------
    MfcResult
        ``laip_mask`` is None (the events span files); ``qc`` and ``gates`` stack the
        tubes' tables with a ``tube`` column; ``provenance["tubes"]`` lists each tube's
        sample id, panel, LAIP, counts and status, and ``provenance["rule"]`` says how
        the call was made.

    Raises
    ------
    InputError
        No results, or tubes of different diseases.
    """
    res = list(results)
    if not res:
        raise InputError("combine_tubes: no results given")
    diseases = {r.disease for r in res}
    if len(diseases) > 1:
        raise InputError(f"combine_tubes: tubes of different diseases {sorted(diseases)} cannot make one call")
    prof = profile or res[0].profile_id
    thr = res[0].thresholds

    def tv(key):
        t = thr.get(key)
        return None if t is None or t.value is None else t.value

    groups: dict[tuple, list] = {}
    for r in res:
        pv = r.provenance or {}
        groups.setdefault((pv.get("panel_hash", ""), pv.get("laip_source", ""), pv.get("laip", "")), []).append(r)
    calls = []
    for key, rs in groups.items():
        lp = sum(int(r.laip_events) for r in rs)
        dn = sum(int(r.denominator_events) for r in rs)
        c = quantify_mrd(lp, dn, lod_events=int(tv("lod_events")), lloq_events=int(tv("lloq_events")),
                         min_denominator=int(tv("min_denominator_events")), threshold_pct=tv("positivity_pct"),
                         disease=res[0].disease, profile=prof)
        calls.append((key, rs, c))
    pos = [x for x in calls if x[2].status in ("positive", "positive, not quantifiable")]
    neg = [x for x in calls if x[2].status == "negative"]
    if pos:
        key, rs, c = max(pos, key=lambda x: x[2].mrd_fraction)
        rule = "positive: highest MRD among positive tube groups"
    elif neg:
        key, rs, c = max(neg, key=lambda x: x[2].denominator_events)
        rule = "negative: no tube group positive; best-sensitivity negative group reported"
    else:
        key, rs, c = max(calls, key=lambda x: x[2].denominator_events)
        rule = "not evaluable: no tube group evaluable"
    tubes = [{"sample_id": r.sample_id, "panel_id": (r.provenance or {}).get("panel_id", ""),
              "laip": (r.provenance or {}).get("laip", ""), "laip_events": int(r.laip_events),
              "denominator_events": int(r.denominator_events), "status": r.status} for r in res]

    def stack(attr):
        parts = [getattr(r, attr).assign(tube=r.sample_id) for r in res if getattr(r, attr) is not None]
        return pd.concat(parts, ignore_index=True) if parts else None

    sid = sample_id or "+".join(r.sample_id for r in res)
    prov = dict(rs[0].provenance or {})
    prov.update({"tubes": tubes, "rule": rule, "pooled": [r.sample_id for r in rs], "input_path": "",
                 "input_sha256": ";".join((r.provenance or {}).get("input_sha256", "") for r in res),
                 "n_events": sum(int((r.provenance or {}).get("n_events", 0)) for r in res)})
    return dataclasses.replace(
        c,
        reason=f"{rule} ({len(rs)} tube(s) pooled: {', '.join(r.sample_id for r in rs)}); {c.reason}",
        sample_id=sid,
        qc=stack("qc"),
        gates=stack("gates"),
        laip_mask=None,
        provenance=prov,
    )


def results_table(results) -> pd.DataFrame:
    """One row per result (``MfcResult.to_row()``), columns :data:`RESULT_COLUMNS`.

    ``qc`` and ``gates`` are JSON text (each step's events in/out; each gate's events,
    placement and coordinates). The table is what :func:`mrdquant.merge_results` reads
    as its ``mfc`` argument.
    """
    rows = [r.to_row() for r in results]
    df = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    for c in ("laip_events", "denominator_events", "n_events", "qc_events_out"):
        df[c] = df[c].astype(np.int64)
    df["detected"] = df["detected"].astype(bool)
    return df

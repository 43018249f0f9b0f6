"""LAIP and different-from-normal MRD of one file, prepared once, and their integrated call.

What ``mrdquant flow --reference`` and a study ``[flow]`` with ``reference`` do per file:
the file is compensated, transformed and taken through acquisition QC once
(:func:`mrdquant.mfc.prepare`), then gated for the LAIP (:func:`mrdquant.quantify_mfc`),
scored against the normal-marrow reference (:func:`mrdquant.quantify_dfn`), and the two
are joined event by event (:func:`mrdquant.mfc.integrated_call`, ELN 2021: LAIP ∪ DfN).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["LaipDfnResult", "quantify_laip_dfn", "DFN_ROW_COLUMNS"]

#: columns of :meth:`LaipDfnResult.to_row`: ``DfnResult.to_row()`` then the integrated call's
#: own columns (``IntegratedResult.to_row()`` without the ones already there)
DFN_ROW_COLUMNS = [
    "sample_id", "dfn_events", "dfn_novel_events", "dfn_populations", "denominator_events", "dfn_mrd_pct",
    "dfn_sensitivity", "dfn_status", "dfn_reason", "disease", "profile_id", "panel_id", "reference_sha256",
    "input_sha256", "mrdquant_version", "laip_events", "both_events", "laip_only_events", "dfn_only_events",
    "integrated_events", "integrated_mrd_pct", "integrated_sensitivity", "integrated_status",
    "integrated_reason", "laip_status", "agreement",
]


@dataclass
class LaipDfnResult:
    """The three results of one file.

    Attributes
    ----------
    mfc : MfcResult
        The LAIP result (:func:`mrdquant.quantify_mfc`).
    dfn : DfnResult
        The DfN result (:func:`mrdquant.quantify_dfn`).
    integrated : IntegratedResult
        LAIP ∪ DfN with the agreement of the two calls.
    prepared : PreparedSample or None
        The file as prepared for both calls (event values, masks), for drawing it
        (:func:`mrdquant.mfc.review.write_review_files`); None for a file too small to gate.
    """

    mfc: Any
    dfn: Any
    integrated: Any
    prepared: Any = field(default=None, repr=False, compare=False)

    def to_row(self) -> dict:
        """One flat row: the DfN result's columns, then the integrated call's
        (:data:`DFN_ROW_COLUMNS`)."""
        row = self.dfn.to_row()
        row.update({k: v for k, v in self.integrated.to_row().items() if k not in row})
        return {c: row.get(c) for c in DFN_ROW_COLUMNS}

    def populations(self) -> pd.DataFrame:
        """The DfN populations of the file, with a ``sample_id`` column first."""
        pops = self.dfn.populations
        return pops.assign(sample_id=self.mfc.sample_id)[["sample_id"] + [c for c in pops.columns
                                                                           if c != "sample_id"]]


def quantify_laip_dfn(
    sample: "str | os.PathLike | Any",
    panel: Any,
    reference: Any,
    *,
    profile: Any = "puih_2020",
    laip: "str | os.PathLike | None" = None,
    channels: "dict | None" = None,
    sample_id: str | None = None,
) -> LaipDfnResult:
    """LAIP MRD, DfN MRD and the integrated call of one FCS file, preparing it once.

    Parameters
    ----------
    sample : path, FlowSample or PreparedSample
        The follow-up tube (a PreparedSample from :func:`mrdquant.mfc.quantify.prepare_tube`
        with this panel and LAIP is used as is).
    panel : str, path or Panel
        As in :func:`mrdquant.quantify_mfc`; the reference must have been fitted on it.
    reference : NormalReference or path
        The normal-marrow reference (:meth:`mrdquant.NormalReference.load`).
    profile : str or Profile, default "puih_2020"
        Threshold profile of both calls.
    laip : str or path, optional
        A LAIP id of the panel or a patient LAIP file (default: the panel's first LAIP).
    channels : dict, optional
        Explicit marker -> channel mapping for markers the file's ``$PnS`` does not name.
    sample_id : str, optional
        Default: the file name.

    Returns
    -------
    LaipDfnResult

    Raises
    ------
    ReferenceFileError
        The reference is unreadable, tampered with or of another panel.
    InputError, PanelError
        As :func:`mrdquant.quantify_mfc`.
    """
    from .dfn import integrated_call, quantify_dfn
    from .panels import load_panel
    from .preparation import PreparedSample
    from .quantify import prepare_tube, quantify_mfc

    p = load_panel(panel)
    if isinstance(reference, (str, os.PathLike)):  # refuse a reference of another panel before any work
        from .reference import NormalReference

        where = str(reference)
        reference = NormalReference.load(reference)
        reference.check_panel(p, where=where)
    name = sample_id or (Path(sample).name if isinstance(sample, (str, os.PathLike)) else None)
    # prepared once for both calls (too small a file stays a FlowSample: not evaluable)
    src = sample if isinstance(sample, PreparedSample) else prepare_tube(sample, p, laip=laip, channels=channels,
                                                                         sample_id=name)
    mfc = quantify_mfc(src, p, profile=profile, laip=laip, channels=channels, sample_id=name)
    dfn = quantify_dfn(src, reference, profile, panel=p, sample_id=mfc.sample_id, channels=channels)
    return LaipDfnResult(mfc=mfc, dfn=dfn, integrated=integrated_call(mfc, dfn),
                         prepared=src if isinstance(src, PreparedSample) else None)

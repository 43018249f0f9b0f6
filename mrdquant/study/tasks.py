"""The per-file work of a study run: one FCS file or one qPCR export in, result rows out.

These functions run in the coordinating process or on dask.distributed workers; they
never touch the store. Whatever goes wrong with one file comes back as a
:class:`TaskResult` with ``error`` set, so one bad file never stops a batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["FlowTask", "QpcrTask", "TaskResult", "run_task", "quantify_fcs_file", "quantify_qpcr_file"]


@dataclass(frozen=True)
class FlowTask:
    """Everything needed to quantify one FCS file (picklable)."""

    panel: str
    strategy: str | None
    laip_gate: str
    denominator_gate: str
    disease: str
    profile: Any
    laip: str | None = None
    plots_dir: str | None = None
    reference: str | None = None


@dataclass(frozen=True)
class QpcrTask:
    """Everything needed to quantify one qPCR export (picklable)."""

    min_abl1: float
    curves: dict | None
    wt1_target: str
    abl1_target: str
    profile: Any
    specimens: dict | None = None


@dataclass
class TaskResult:
    """The outcome of one input: result tables, or an error ``(stage, type, reason)``."""

    kind: str
    path: str
    tables: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    error: tuple | None = None


_LOADED: dict[str, tuple] = {}


def _load_once(kind: str, path: str, loader):
    """``loader(path)``, kept per process while the file is unchanged (one per ``kind``)."""
    key = (path, os.stat(path).st_mtime_ns)
    cached = _LOADED.get(kind)
    if cached is None or cached[0] != key:
        _LOADED[kind] = cached = (key, loader(path))
    return cached[1]


def _strategy(path: str):
    """The gating strategy of ``path``, parsed once per process."""
    from ..cytometry.gating import GatingStrategy

    return _load_once("strategy", path, GatingStrategy.from_gatingml)


def _reference(path: str):
    """The normal-marrow reference of ``path``, loaded (and verified) once per process."""
    from ..mfc.reference import NormalReference

    return _load_once("reference", path, NormalReference.load)


def quantify_fcs_file(path: "str | os.PathLike", task: FlowTask, *,
                      known_sha256: tuple | None = None) -> dict[str, pd.DataFrame]:
    """MFC MRD of one FCS file: result tables of one row each; ``sample_id`` is the file name.

    Without a strategy (the default), :func:`mrdquant.quantify_mfc` places the panel's gates
    on this file (acquisition QC, denominator chain, LAIP; ``task.laip`` a LAIP id or a
    patient LAIP file) and the ``mfc_results`` row is ``MfcResult.to_row()``; with
    ``task.reference`` the file is also scored against that normal-marrow reference
    (:func:`mrdquant.mfc.laip_dfn.quantify_laip_dfn`: prepared once) and a
    ``dfn_results`` row holds the DfN result and the integrated LAIP ∪ DfN call (its
    populations as JSON). With ``task.plots_dir`` the tube's review files are written there
    (:func:`mrdquant.mfc.review.write_review_files`: the gating page
    ``<file name without suffix>.png``, which the report shows on the patient page of the
    clinical sample of that name, the DfN page and the FlowJo workspace ``<stem>.wsp``); a
    file whose pages cannot be written fails. With a Gating-ML strategy the file is gated
    with it and the LAIP / denominator gate counts give the MRD
    (:func:`mrdquant.quantify_mrd_table` columns).

    ``known_sha256`` ``(sha256, size, mtime_ns)``: the digest the runner computed for its
    identity check; the result's provenance takes it when the file, as read, still has
    that size and modification time (:meth:`mrdquant.io.FlowSample.adopt_sha256`), else
    the file is hashed again.
    """
    name = Path(path).name
    if task.strategy:
        from ..cytometry.laip import quantify_mrd_table

        result = _strategy(task.strategy).gate(str(path), sample_id=name)
        return {"mfc_results": quantify_mrd_table(result.counts(), task.laip_gate, task.denominator_gate,
                                                  disease=task.disease, profile=task.profile)}
    from ..io.fcs import read_fcs
    from ..mfc.quantify import prepare_tube, quantify_mfc

    sample = read_fcs(path, hash_in_background=known_sha256 is None)
    if known_sha256 is not None and not sample.adopt_sha256(*known_sha256):
        sample.hash_in_background()  # changed since the runner hashed it: provenance hashes what was read
    dfn = reference = None
    if task.reference:
        from ..mfc.laip_dfn import quantify_laip_dfn

        reference = _reference(task.reference)
        both = quantify_laip_dfn(sample, task.panel, reference, profile=task.profile, laip=task.laip, sample_id=name)
        result, dfn, src = both.mfc, both.dfn, both.prepared or sample
    else:
        # prepared here when pictures are drawn, so they reuse the preparation
        src = prepare_tube(sample, task.panel, laip=task.laip, sample_id=name) if task.plots_dir else sample
        result = quantify_mfc(src, task.panel, profile=task.profile, laip=task.laip, sample_id=name)
    tables = {"mfc_results": pd.DataFrame([result.to_row()])}
    if dfn is not None:
        row = both.to_row()
        row["populations"] = dfn.populations.to_json(orient="records")
        tables["dfn_results"] = pd.DataFrame([row])
    if task.plots_dir:
        from ..errors import MrdquantError
        from ..mfc.review import write_review_files

        # the report shows these pages: a tube whose page is missing is reported as failed
        problems = write_review_files(task.plots_dir, result, src, panel=task.panel, dfn=dfn, reference=reference)
        if problems:
            raise MrdquantError(f"{path}: " + "; ".join(problems))
    return tables


def quantify_qpcr_file(path: "str | os.PathLike", task: QpcrTask) -> tuple[pd.DataFrame, pd.DataFrame]:
    """WT1 results (one row per sample, :data:`mrdquant.pcr.quantify.RESULT_COLUMNS`) and the
    well table of one qPCR export; plates without standards use the stored curves, and
    each sample is called against the threshold of its specimen (``task.specimens``,
    sample -> BM/PB, from the sample sheet; the profile's default specimen otherwise)."""
    from ..io.qpcr import read_qpcr
    from ..pcr.quantify import quantify_wt1

    wells = read_qpcr(path)
    results = quantify_wt1(wells, min_abl1=task.min_abl1, profile=task.profile, wt1_target=task.wt1_target,
                           abl1_target=task.abl1_target, curves=task.curves, specimen=task.specimens or None)
    return results, wells


def run_task(kind: str, path: str, task: "FlowTask | QpcrTask", known_sha256: tuple | None = None) -> TaskResult:
    """Process one input; any failure is returned as ``TaskResult.error``, never raised.

    ``known_sha256``: ``(sha256, size, mtime_ns)`` of an FCS file the runner already hashed
    (see :func:`quantify_fcs_file`).
    """
    out = TaskResult(kind=kind, path=path)
    stage = "flow" if kind == "fcs" else "qpcr"
    try:
        if kind == "fcs":
            out.tables.update(quantify_fcs_file(path, task, known_sha256=known_sha256))
            out.extra = {"panel_id": task.panel}
        else:
            results, wells = quantify_qpcr_file(path, task)
            out.tables["wt1_results"] = results
            out.extra = {"wells": wells}
    except Exception as exc:  # one bad file must not stop the batch: record it with its reason
        reason = str(exc) or type(exc).__name__
        if path not in reason:
            reason = f"{path}: {reason}"
        out.error = (stage, type(exc).__name__, reason)
        out.tables = {}
    return out

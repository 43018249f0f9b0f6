"""Merge mrdquant's MFC and WT1 results into the samples table of a patient timeline.

A lab's sample sheet says which bone-marrow or blood sample each FCS tube and each qPCR
sample belongs to; :func:`merge_results` joins the results of
:func:`mrdquant.quantify_mrd_table` (one row per tube) and :func:`mrdquant.quantify_wt1`
(one row per qPCR sample) onto it, producing the ``mfc``/``wt1`` columns that
:func:`mrdquant.classify_timeline` and :func:`mrdquant.call_samples` read.
"""

from __future__ import annotations

import pandas as pd

from ..cytometry.laip import DETECTED_BELOW_THRESHOLD
from ..errors import ClinicalDataError

__all__ = ["merge_results", "MFC_CALLS"]

#: how each MFC report category becomes a method result of the timeline
MFC_CALLS = {
    "positive": "positive",
    "positive, not quantifiable": "positive",
    "negative": "negative",
    "not evaluable": "not evaluable",
}

_SHEET_REQUIRED = ("patient_id", "sample_id", "date", "specimen")


def _index(results: pd.DataFrame, key: str, what: str) -> pd.DataFrame:
    if key not in results:
        raise ClinicalDataError(f"{what} results: column {key!r} is missing; columns present: {list(results)}")
    dup = results[key][results[key].duplicated()]
    if len(dup):
        raise ClinicalDataError(f"{what} results: {key} {dup.iloc[0]!r} appears more than once")
    return results.set_index(results[key].astype(str))


def _lookup(sheet: pd.DataFrame, link: str, table: pd.DataFrame, what: str) -> pd.DataFrame:
    """Rows of ``table`` aligned with ``sheet`` through ``sheet[link]`` (NaN rows where empty)."""
    keys = sheet[link].astype("string").str.strip()
    keys = keys.where(keys != "")
    unknown = keys.notna() & ~keys.isin(table.index)
    if unknown.any():
        first = unknown.idxmax()
        raise ClinicalDataError(
            f"sample sheet, sample {sheet.at[first, 'sample_id']!r}: {link} {keys[first]!r} is not in "
            f"the {what} results ({int(unknown.sum())} unknown id(s) in all)"
        )
    rows = table.reindex(keys.astype(object).where(keys.notna(), None))
    rows.index = sheet.index
    return rows


def _text(values: pd.Series) -> pd.Series:
    """Object column with ``None`` for missing values (what the clinical readers expect)."""
    values = values.astype(object)
    return values.where(values.notna(), None)


def merge_results(
    sheet: pd.DataFrame,
    *,
    mfc: pd.DataFrame | None = None,
    wt1: pd.DataFrame | None = None,
    mfc_link: str = "fcs_sample_id",
    wt1_link: str = "qpcr_sample",
) -> pd.DataFrame:
    """Samples table with ``mfc``/``wt1`` results taken from mrdquant's result tables.

    Parameters
    ----------
    sheet : DataFrame
        One row per clinical sample: ``patient_id``, ``sample_id``, ``date``,
        ``specimen`` (``BM``/``PB``) and the link columns below (empty where a method was
        not done).
    mfc : DataFrame, optional
        :func:`mrdquant.quantify_mrd_table` output (``sample_id``, ``status``,
        ``mrd_pct``, ``reason``).
    wt1 : DataFrame, optional
        :func:`mrdquant.quantify_wt1` output (``sample``, ``call``, ``wt1_pct_abl1``,
        ``reason``), one run: sample names must be unique.
    mfc_link, wt1_link : str
        Columns of ``sheet`` holding the MFC ``sample_id`` and the qPCR ``sample`` name.

    Returns
    -------
    DataFrame
        ``sheet``'s columns followed by ``mfc``, ``mfc_pct`` (%), ``mfc_reason``, ``wt1``,
        ``wt1_pct`` (% of ABL1), ``wt1_reason``; a "not evaluable" result has no level
        (``mfc_pct`` / ``wt1_pct`` NaN). MFC report categories map through
        :data:`MFC_CALLS` ("positive, not quantifiable" counts as positive); an MFC
        negative whose ``detected`` is true (LAIP events at or above the LOD) reads
        "negative (detected below threshold)", which the timeline counts as negative; a
        method without a link is missing (empty), not negative.

    Raises
    ------
    ClinicalDataError
        A required sheet column is missing, a link names no result, or a result id is
        duplicated.
    """
    missing = [c for c in _SHEET_REQUIRED if c not in sheet]
    if missing:
        raise ClinicalDataError(f"sample sheet: missing column(s) {missing}; required: {list(_SHEET_REQUIRED)}")
    out = sheet.copy()
    empty = pd.Series([None] * len(out), index=out.index, dtype=object)
    nan = pd.Series(float("nan"), index=out.index)
    out["mfc"], out["mfc_pct"], out["mfc_reason"] = empty, nan, empty
    out["wt1"], out["wt1_pct"], out["wt1_reason"] = empty.copy(), nan.copy(), empty.copy()
    if mfc is not None:
        if mfc_link not in sheet:
            raise ClinicalDataError(f"sample sheet: MFC results given but no {mfc_link!r} column links them")
        rows = _lookup(out, mfc_link, _index(mfc, "sample_id", "MFC"), "MFC")
        unknown_status = sorted(set(rows["status"].dropna()) - set(MFC_CALLS))
        if unknown_status:
            raise ClinicalDataError(f"MFC results: status {unknown_status[0]!r} is not one of {list(MFC_CALLS)}")
        calls = rows["status"].map(MFC_CALLS)
        if "detected" in rows:  # keep a negative with LAIP events at or above the LOD visible
            below = (calls == "negative") & rows["detected"].map(lambda v: v is True or str(v).lower() == "true")
            calls = calls.where(~below, DETECTED_BELOW_THRESHOLD)
        out["mfc"] = _text(calls)
        # a not-evaluable tube has no MRD level to carry (its 0 LAIP events in too few
        # cells are not a measured 0 %); the reason says why
        out["mfc_pct"] = rows["mrd_pct"].astype(float).where(calls != "not evaluable")
        out["mfc_reason"] = _text(rows["reason"])
    if wt1 is not None:
        if wt1_link not in sheet:
            raise ClinicalDataError(f"sample sheet: WT1 results given but no {wt1_link!r} column links them")
        rows = _lookup(out, wt1_link, _index(wt1, "sample", "WT1"), "WT1")
        out["wt1"] = _text(rows["call"])
        out["wt1_pct"] = rows["wt1_pct_abl1"].astype(float).where(out["wt1"] != "not evaluable")
        out["wt1_reason"] = _text(rows["reason"])
    return out

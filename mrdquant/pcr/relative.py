"""Relative quantification: 2^-ΔΔCt and the efficiency-corrected (Pfaffl) ratio.

- Livak & Schmittgen, Methods 2001;25:402: fold change = 2^-ΔΔCt with
  ΔCt = Ct(target) - Ct(reference) and ΔΔCt = ΔCt(sample) - ΔCt(calibrator); assumes
  both efficiencies are 100 %.
- Pfaffl, Nucleic Acids Res 2001;29:e45: ratio =
  E_target^(Ct_target(calibrator) - Ct_target(sample)) /
  E_reference^(Ct_reference(calibrator) - Ct_reference(sample)),
  with E the amplification factor per cycle (2.0 at 100 % efficiency).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import QPCRError
from ..io.qpcr import check_ct_range

__all__ = ["delta_delta_ct", "RELATIVE_COLUMNS"]

RELATIVE_COLUMNS = [
    "sample", "target_ct", "reference_ct", "delta_ct", "delta_delta_ct", "fold_change", "pfaffl_ratio",
]


def _mean_ct(wells: pd.DataFrame, target: str) -> pd.Series:
    sel = wells[(wells["target"] == target) & wells["role"].isin(["unknown", "control"])
                & ~wells["flags"].astype(str).str.contains("omitted", regex=False)]
    if sel.empty:
        raise QPCRError(f"no unknown wells for target {target!r}; targets present: {sorted(wells['target'].unique())}")
    return sel.groupby("sample")["ct"].mean()


def delta_delta_ct(
    wells: pd.DataFrame,
    *,
    target: str,
    reference: str,
    calibrator: str,
    efficiency_target: float = 1.0,
    efficiency_reference: float = 1.0,
    cycles: float | None = None,
) -> pd.DataFrame:
    """Relative expression of ``target`` against ``reference``, relative to ``calibrator``.

    Parameters
    ----------
    wells : pandas.DataFrame
        A well table; replicate Ct values are averaged per sample.
    target, reference : str
        Target and reference (control) gene names.
    calibrator : str
        Sample every other is compared with (its fold change is 1).
    efficiency_target, efficiency_reference : float, default 1.0 (fractions, 1.0 = 100 %)
        Efficiencies for the Pfaffl ratio (e.g. :attr:`StandardCurve.efficiency`).
    cycles : float, optional, cycles
        Cycles of the run: a Ct outside ``0 < Ct <= cycles`` (default 50) is refused.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RELATIVE_COLUMNS`; Ct in cycles, fold change and ratio unitless.
        Samples where either gene did not amplify get NaN.
    """
    for e, name in ((efficiency_target, "efficiency_target"), (efficiency_reference, "efficiency_reference")):
        if not (0 < e <= 2):
            raise QPCRError(f"{name} must be a fraction in (0, 2] (1.0 = 100 %), got {e!r}")
    for column in ("target", "role", "ct", "flags", "sample"):
        if column not in wells:
            raise QPCRError(f"wells table lacks column {column!r}; expected the read_qpcr columns")
    check_ct_range(wells, cycles=cycles)
    t = _mean_ct(wells, target)
    r = _mean_ct(wells, reference)
    if calibrator not in t.index or calibrator not in r.index:
        raise QPCRError(f"calibrator sample {calibrator!r} lacks {target} or {reference} wells")
    df = pd.DataFrame({"target_ct": t, "reference_ct": r}).dropna(how="all")
    df["delta_ct"] = df["target_ct"] - df["reference_ct"]
    cal = df.loc[calibrator]
    df["delta_delta_ct"] = df["delta_ct"] - cal["delta_ct"]
    df["fold_change"] = np.power(2.0, -df["delta_delta_ct"])
    et, er = 1.0 + efficiency_target, 1.0 + efficiency_reference
    df["pfaffl_ratio"] = np.power(et, cal["target_ct"] - df["target_ct"]) / np.power(
        er, cal["reference_ct"] - df["reference_ct"]
    )
    df = df.reset_index().rename(columns={"index": "sample"})
    return df[RELATIVE_COLUMNS]

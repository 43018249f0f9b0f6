"""Plate quality control: NTC check and technical-replicate summaries.

Rules (all parameters):

- **NTC**: a no-template control of a target that amplifies (a Ct, below ``ntc_max_ct``
  when that is given) fails that target on that plate.
- **Failed replicate**: in a replicate group where some wells amplified, a well without
  amplification is a failed reaction and is excluded (flag ``failed replicate``). When
  no well of the group amplified, the target is not detected (0 copies).
- **Outlier**: with ``outlier_rule="median"`` and at least 3 amplified replicates whose
  Ct SD exceeds ``max_sd``, the replicate farthest from the median is excluded (once).
  A group whose SD still exceeds ``max_sd`` is flagged ``high replicate SD``.
- **k of n**: fewer than ``min_replicates`` usable amplified wells leave the group
  without a quantitative result.
"""

from __future__ import annotations

import math
from typing import Literal, Mapping

import numpy as np
import pandas as pd

from ..errors import QPCRError
from .calibration import StandardCurve

__all__ = ["ntc_check", "replicate_summary", "NTC_COLUMNS", "REPLICATE_COLUMNS"]

NTC_COLUMNS = ["plate", "target", "n_ntc", "n_amplified", "min_ct", "passed", "reason"]
REPLICATE_COLUMNS = [
    "plate", "sample", "target", "n_wells", "n_used", "ct_mean", "ct_sd", "copies_mean", "copies_sd",
    "detected", "evaluable", "excluded", "flags",
]


def _not_omitted(wells: pd.DataFrame) -> pd.Series:
    return ~wells["flags"].astype(str).str.contains("omitted", regex=False)


def ntc_check(wells: pd.DataFrame, *, ntc_max_ct: float | None = None) -> pd.DataFrame:
    """One row per plate and target that has NTC wells.

    Parameters
    ----------
    wells : pandas.DataFrame
        A well table.
    ntc_max_ct : float, optional, cycles
        NTC amplification at or after this Ct is tolerated (late, non-specific signal).
        ``None`` (default): any NTC amplification fails.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`NTC_COLUMNS`; ``passed`` is False when an NTC amplified.
    """
    ntc = wells[(wells["role"] == "ntc") & _not_omitted(wells)]
    rows = []
    for (plate, target), g in ntc.groupby(["plate", "target"], sort=True):
        ct = g["ct"].to_numpy(dtype=float)
        amp = np.isfinite(ct)
        if ntc_max_ct is not None:
            amp &= ct < ntc_max_ct
        n_amp = int(amp.sum())
        min_ct = float(ct[amp].min()) if n_amp else math.nan
        reason = "" if n_amp == 0 else f"{n_amp} of {len(g)} NTC wells amplified (lowest Ct {min_ct:.2f})"
        rows.append([plate, target, len(g), n_amp, min_ct, n_amp == 0, reason])
    return pd.DataFrame(rows, columns=NTC_COLUMNS)


def replicate_summary(
    wells: pd.DataFrame,
    curves: Mapping[tuple[str, str], StandardCurve | None],
    *,
    max_sd: float = 0.5,
    min_replicates: int = 2,
    outlier_rule: Literal["median", "none"] = "median",
) -> pd.DataFrame:
    """Summarize the technical replicates of every unknown (and control) sample.

    Parameters
    ----------
    wells : pandas.DataFrame
        A well table.
    curves : mapping (plate, target) -> StandardCurve or None
        Curve used to turn Ct into copies; without one, copies are NaN.
    max_sd : float, default 0.5, cycles
        Replicate Ct SD limit.
    min_replicates : int, default 2
        Usable amplified wells needed for a quantitative result (k of n).
    outlier_rule : {"median", "none"}, default "median"

    Returns
    -------
    pandas.DataFrame
        Columns :data:`REPLICATE_COLUMNS`; copies in copies/reaction, Ct in cycles.
    """
    if outlier_rule not in ("median", "none"):
        raise QPCRError(f"outlier_rule must be 'median' or 'none', got {outlier_rule!r}")
    if min_replicates < 1:
        raise QPCRError(f"min_replicates must be >= 1, got {min_replicates!r}")
    sel = wells[wells["role"].isin(["unknown", "control"]) & _not_omitted(wells)]
    rows = []
    for (plate, sample, target), g in sel.groupby(["plate", "sample", "target"], sort=True):
        ct = g["ct"].to_numpy(dtype=float)
        well = g["well"].to_numpy(dtype=object)
        amp = np.isfinite(ct)
        flags: list[str] = []
        excluded: list[str] = []
        if not amp.any():
            rows.append([plate, sample, target, len(g), 0, math.nan, math.nan, 0.0, 0.0, False,
                         len(g) >= min_replicates, "", "not detected"])
            continue
        if (~amp).any():
            excluded += [str(w) for w in well[~amp]]
            flags.append(f"failed replicate excluded ({', '.join(map(str, well[~amp]))})")
        ct_ok, well_ok = ct[amp], well[amp]
        sd = float(np.std(ct_ok, ddof=1)) if len(ct_ok) > 1 else 0.0
        if outlier_rule == "median" and len(ct_ok) >= 3 and sd > max_sd:
            k = int(np.argmax(np.abs(ct_ok - np.median(ct_ok))))
            excluded.append(str(well_ok[k]))
            flags.append(f"outlier excluded ({well_ok[k]}, Ct {ct_ok[k]:.2f})")
            ct_ok, well_ok = np.delete(ct_ok, k), np.delete(well_ok, k)
            sd = float(np.std(ct_ok, ddof=1)) if len(ct_ok) > 1 else 0.0
        if sd > max_sd:
            flags.append(f"high replicate SD ({sd:.2f} > {max_sd} cycles)")
        curve = curves.get((plate, target))
        if curve is not None and math.isfinite(curve.slope):
            copies = np.asarray(curve.copies(ct_ok), dtype=float)
            copies_mean = float(copies.mean())
            copies_sd = float(np.std(copies, ddof=1)) if len(copies) > 1 else 0.0
        else:
            copies_mean = copies_sd = math.nan
        evaluable = len(ct_ok) >= min_replicates
        if not evaluable:
            flags.append(f"{len(ct_ok)} usable replicates, {min_replicates} needed")
        rows.append([plate, sample, target, len(g), len(ct_ok), float(ct_ok.mean()), sd, copies_mean,
                     copies_sd, True, evaluable, ";".join(excluded), "; ".join(flags)])
    return pd.DataFrame(rows, columns=REPLICATE_COLUMNS)

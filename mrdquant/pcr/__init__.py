"""WT1/ABL1 RT-qPCR: standard curves, quantification, QC and calls.

- :func:`standard_curve` -> :class:`StandardCurve` (per plate and target);
  :func:`stored_curve`, :func:`mean_curve`, :func:`read_stored_curves` for plates
  without standards.
- :func:`quantify_wt1`: one row per sample with WT1 % of ABL1, copies per 10^4 ABL1,
  sensitivity and the call against a profile.
- :func:`ntc_check`, :func:`replicate_summary`: plate QC.
- :func:`delta_delta_ct`: 2^-ΔΔCt and the Pfaffl ratio.
"""

from __future__ import annotations

from .._lazy import attach

_LAZY = {
    "StandardCurve": ".calibration",
    "standard_curve": ".calibration",
    "stored_curve": ".calibration",
    "mean_curve": ".calibration",
    "curves_table": ".calibration",
    "read_stored_curves": ".calibration",
    "quantify_wt1": ".quantify",
    "fit_curves": ".quantify",
    "ntc_check": ".qc",
    "replicate_summary": ".qc",
    "wt1_rule": ".call",
    "classify_wt1": ".call",
    "delta_delta_ct": ".relative",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

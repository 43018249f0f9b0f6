"""Figures and reports: MRD kinetics per patient, CIF and Kaplan-Meier curves.

matplotlib is imported inside the plotting functions (Agg backend), never at import time.
"""

from __future__ import annotations

from .._lazy import attach

_LAZY = {
    "plot_kinetics": ".kinetics",
    "write_kinetics_plots": ".kinetics",
    "plot_km": ".survival_plots",
    "plot_cif": ".survival_plots",
    "numbers_at_risk": ".survival_plots",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

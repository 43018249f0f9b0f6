"""Figures and reports: HTML study and patient reports, MRD kinetics per patient, CIF and
Kaplan–Meier curves, qPCR figures, tables for people.

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
    "write_reports": ".html",
    "load_results": ".html",
    "plot_standard_curve": ".qpcr_plots",
    "plot_plate_ct": ".qpcr_plots",
    "plot_amplification": ".qpcr_plots",
    "group_colors": ".figures",
    "save_figure": ".figures",
    "human_table": ".tables",
    "write_workbook": ".tables",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

"""Outcome linkage: endpoints and survival / competing-risk statistics.

Every function returns a tidy :class:`pandas.DataFrame` with fixed columns (documented in
``docs/outcomes.md``). Numbers agree with R's ``survival`` and ``cmprsk`` to 1e-6.
"""

from __future__ import annotations

from .._lazy import attach

_LAZY = {
    # endpoints
    "build_endpoints": ".endpoints",
    # competing risks
    "cumulative_incidence": ".cif",
    "gray_test": ".gray",
    "fine_gray": ".subdistribution",
    # survival
    "kaplan_meier": ".km",
    "km_median": ".km",
    "logrank_test": ".logrank",
    "cox": ".proportional_hazards",
    "cox_tests": ".proportional_hazards",
    "cox_univariate": ".proportional_hazards",
    "counting_process": ".proportional_hazards",
    "landmark": ".proportional_hazards",
    # cohort tables
    "cohort_table": ".characteristics",
    "fisher_exact": ".characteristics",
    "chi2_test": ".characteristics",
    "mann_whitney": ".characteristics",
    # summaries
    "study_summary": ".summary",
    "trial_summary": ".summary",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

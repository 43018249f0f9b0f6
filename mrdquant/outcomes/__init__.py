"""Outcome linkage: endpoints and survival / competing-risk statistics.

Every function returns a tidy :class:`pandas.DataFrame` with fixed columns (documented in
``docs/outcomes.md``). Numbers agree with R's ``survival`` and ``cmprsk`` to 1e-6.
"""

from __future__ import annotations

from .._lazy import attach

_LAZY = {
    "cumulative_incidence": ".cif",
    "gray_test": ".gray",
    "fine_gray": ".subdistribution",
    "kaplan_meier": ".km",
    "logrank_test": ".logrank",
    "cox": ".cox",
    "build_endpoints": ".endpoints",
    "cohort_table": ".cohort_table",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

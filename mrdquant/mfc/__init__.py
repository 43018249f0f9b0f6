"""Flow MRD: normal-marrow reference and different-from-normal (DfN) MRD.

See ``docs/dfn.md``.
"""

from __future__ import annotations

from .._lazy import attach

_LAZY = {
    "NormalReference": ".reference",
    "REFERENCE_FORMAT_VERSION": ".reference",
    "quantify_dfn": ".dfn",
    "DfnResult": ".dfn",
    "integrated_call": ".dfn",
    "IntegratedResult": ".dfn",
    "POPULATION_COLUMNS": ".dfn",
    "plot_dfn_populations": ".dfn_plots",
    "GaussianMixtureModel": ".novelty",
    "fit_mixture": ".novelty",
    "score_mixture": ".novelty",
    "group_novel_events": ".novelty",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

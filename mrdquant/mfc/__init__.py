"""Flow MRD from FCS files: panels as data, acquisition QC, per-sample gate placement, LAIPs.

``load_panel`` / ``list_panels`` read the marker-based panels (``docs/panels.md``);
``prepare`` resolves a file's channels, runs acquisition QC and places the panel's gates;
``quantify_mfc`` turns that into an :class:`~mrdquant.cytometry.laip.MfcResult`
(``docs/mfc-mrd.md``); ``export_flowjo`` writes its placed gates as a FlowJo workspace;
``prepare_tube`` keeps a tube's preparation so that ``write_review_files`` draws its
gating page, DfN page and workspace from it.
``NormalReference`` and ``quantify_dfn`` find different-from-normal
(DfN) events against a normal-marrow reference; ``integrated_call`` joins LAIP and DfN
(``docs/dfn.md``).
"""

from __future__ import annotations

from .._lazy import attach

_LAZY = {
    "Panel": ".panels",
    "load_panel": ".panels",
    "list_panels": ".panels",
    "normalize_marker": ".panels",
    "resolve_channels": ".markers",
    "prepare": ".preparation",
    "PreparedSample": ".preparation",
    "quantify_mfc": ".quantify",
    "prepare_tube": ".quantify",
    "write_review_files": ".review",
    "combine_tubes": ".quantify",
    "results_table": ".quantify",
    "RESULT_COLUMNS": ".quantify",
    "derive_laip": ".patient_laip",
    "read_laip": ".patient_laip",
    "write_laip": ".patient_laip",
    "apply_laip": ".patient_laip",
    "PatientLaip": ".patient_laip",
    "plot_gating": ".plots",
    "export_flowjo": ".flowjo",
    "flowjo_gate_table": ".flowjo",
    "NormalReference": ".reference",
    "REFERENCE_FORMAT_VERSION": ".reference",
    "quantify_dfn": ".dfn",
    "DfnResult": ".dfn",
    "integrated_call": ".dfn",
    "quantify_laip_dfn": ".laip_dfn",
    "LaipDfnResult": ".laip_dfn",
    "IntegratedResult": ".dfn",
    "POPULATION_COLUMNS": ".dfn",
    "plot_dfn_populations": ".dfn_plots",
    "GaussianMixtureModel": ".novelty",
    "fit_mixture": ".novelty",
    "score_mixture": ".novelty",
    "group_novel_events": ".novelty",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

"""mrdquant: minimal residual disease quantification after allogeneic HSCT.

The flat public API. Names are loaded lazily from their private modules, so
``import mrdquant`` is fast and does not import flowkit or matplotlib.

Data flows ``io -> cytometry | pcr -> calls -> outcomes -> report / cli``:

- :func:`read_fcs` -> :class:`FlowSample`; :class:`GatingStrategy` ``.gate(sample)`` ->
  :class:`GatingResult`; :func:`quantify_mrd` turns gate counts into an MFC MRD result.
- :func:`read_qpcr` -> well table; :func:`standard_curve`; :func:`quantify_wt1`.
- :func:`classify_timeline` -> one row per patient (negative / MRDsin+ / MRDco+).
- :mod:`mrdquant.outcomes`: cumulative incidence, Gray's test, Kaplan-Meier, log-rank,
  Cox, Fine-Gray, cohort tables.
"""

from __future__ import annotations

from ._lazy import attach
from ._version import __version__
from .errors import (
    AssayQcError,
    ClinicalDataError,
    CompensationError,
    ConfigError,
    FCSError,
    FCSWarning,
    GatingError,
    GatingMLError,
    InputError,
    MrdquantError,
    MrdquantWarning,
    QcWarning,
    QPCRError,
    ReferenceFileError,
    StatisticalWarning,
    ThresholdWarning,
)

_LAZY = {
    # io
    "read_fcs": ".io.fcs",
    "write_fcs": ".io.fcs",
    "FlowSample": ".io.fcs",
    "read_qpcr": ".io.qpcr",
    "read_patients": ".io.clinical",
    "read_samples": ".io.clinical",
    "write_table": ".io.store",
    # cytometry
    "Compensation": ".cytometry.compensation",
    "compensate": ".cytometry.compensation",
    "LogicleTransform": ".cytometry.transforms",
    "AsinhTransform": ".cytometry.transforms",
    "GatingStrategy": ".cytometry.gating",
    "GatingResult": ".cytometry.gating",
    "quantify_mrd": ".cytometry.laip",
    "quantify_mrd_table": ".cytometry.laip",
    "MfcResult": ".cytometry.laip",
    # flow MRD (mfc)
    "load_panel": ".mfc.panels",
    "list_panels": ".mfc.panels",
    "Panel": ".mfc.panels",
    "quantify_mfc": ".mfc.quantify",
    "export_flowjo": ".mfc.flowjo",
    # mfc: different-from-normal MRD
    "NormalReference": ".mfc.reference",
    "quantify_dfn": ".mfc.dfn",
    "DfnResult": ".mfc.dfn",
    # pcr
    "standard_curve": ".pcr.calibration",
    "StandardCurve": ".pcr.calibration",
    "stored_curve": ".pcr.calibration",
    "quantify_wt1": ".pcr.quantify",
    "read_stored_curves": ".pcr.calibration",
    # calls
    "call_samples": ".calls.sample",
    "classify_timeline": ".calls.timeline",
    "assess_clearance": ".calls.clearance",
    "merge_results": ".calls.merge",
    # profiles
    "load_profile": ".profiles",
    "Profile": ".profiles",
    # report
    "plot_kinetics": ".report.kinetics",
    "write_reports": ".report.html",
    # study runner and results store
    "load_study": ".study.config",
    "run_study": ".study.runner",
    "open_store": ".store.results",
    "ResultsStore": ".store.results",
    # subpackages
    "io": ".io",
    "cytometry": ".cytometry",
    "mfc": ".mfc",
    "pcr": ".pcr",
    "calls": ".calls",
    "outcomes": ".outcomes",
    "report": ".report",
    "simulate": ".simulate",
    "study": ".study",
    "store": ".store",
}

__getattr__, __dir__, _lazy_all = attach(__name__, _LAZY)

__all__ = [
    "__version__",
    *_lazy_all,
    "MrdquantError",
    "InputError",
    "FCSError",
    "QPCRError",
    "GatingMLError",
    "GatingError",
    "CompensationError",
    "ClinicalDataError",
    "ConfigError",
    "AssayQcError",
    "ReferenceFileError",
    "MrdquantWarning",
    "FCSWarning",
    "ThresholdWarning",
    "StatisticalWarning",
    "QcWarning",
]

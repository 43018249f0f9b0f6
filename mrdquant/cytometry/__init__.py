"""Flow cytometry: compensation, transforms, gates, gating strategies, LAIP MRD from gate counts.

Per-event work (compensation, transforms, gate membership) runs in cached numba kernels
behind numpy-in/numpy-out functions; see ``docs/compensation-transforms.md``,
``docs/gating.md`` and ``docs/mfc-mrd.md``.
"""

from __future__ import annotations

from .._lazy import attach

_LAZY = {
    # compensation
    "Compensation": ".compensation",
    "compensate": ".compensation",
    # transforms
    "Transform": ".transforms",
    "LinearTransform": ".transforms",
    "LogTransform": ".transforms",
    "AsinhTransform": ".transforms",
    "LogicleTransform": ".transforms",
    "HyperlogTransform": ".transforms",
    "RatioTransform": ".transforms",
    "FlowJoBiexTransform": ".transforms",
    "transform_from_dict": ".transforms",
    # gates
    "Dimension": ".gates",
    "RectangleGate": ".gates",
    "PolygonGate": ".gates",
    "EllipsoidGate": ".gates",
    "QuadrantGate": ".gates",
    "QuadrantDivider": ".gates",
    "Quadrant": ".gates",
    "BooleanGate": ".gates",
    "GateReference": ".gates",
    "range_mask": ".gates",
    "rectangle_mask": ".gates",
    "polygon_mask": ".gates",
    "ellipsoid_mask": ".gates",
    # strategies
    "GatingStrategy": ".gating",
    "GatingResult": ".gating",
    "GatingBatch": ".gating",
    "GatingFailure": ".gating",
    # MRD from gate counts (panels live in mrdquant.mfc)
    "quantify_mrd": ".laip",
    "quantify_mrd_table": ".laip",
    "MfcResult": ".laip",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

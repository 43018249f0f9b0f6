"""Readers and writers: FCS files, Gating-ML / FlowJo documents, qPCR exports, clinical tables.

Everything that touches a file lives here; errors name the file and the field.
"""

from __future__ import annotations

from .._lazy import attach

_LAZY = {
    "FlowSample": ".fcs",
    "read_fcs": ".fcs",
    "read_fcs_text": ".fcs",
    "write_fcs": ".fcs",
    "GatingMLDocument": ".gatingml",
    "read_gatingml": ".gatingml",
    "write_gatingml": ".gatingml",
    "read_flowjo": ".flowjo",
    "read_qpcr": ".qpcr",
    "read_patients": ".clinical",
    "read_samples": ".clinical",
    "read_events": ".clinical",
    "atomic_path": ".store",
    "read_table": ".store",
    "write_table": ".store",
    "write_text": ".store",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

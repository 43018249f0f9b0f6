"""MRD calls: per-sample calls, patient timelines (negative / MRDsin+ / MRDco+), clearance.

See ``docs/calls.md`` for the rules, the parameters and the output columns.
"""

from __future__ import annotations

from .._lazy import attach

_LAZY = {
    "call_samples": ".sample",
    "classify_timeline": ".timeline",
    "classify_timeline_with_samples": ".timeline",
    "assess_clearance": ".clearance",
    "merge_results": ".merge",
    "timeline_rules": ".rules",
    "TimelineRules": ".rules",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

"""Deterministic (seeded) simulators with known truth.

- flow: bone-marrow FCS files (B-ALL, T-ALL, AML tubes) with per-event population labels;
- qpcr: WT1/ABL1 plates written as real instrument exports, with true copy numbers;
- cohort: transplanted patients with monitoring schedules, MRD courses and outcomes;
- study: a complete study folder (tubes, plates, clinical tables, study.toml) for ``mrdquant run``;
- trial: a two-arm prophylactic vs pre-emptive DLI trial with arm-level true outcome probabilities.
"""

from __future__ import annotations

from .._lazy import attach

_LAZY = {
    "simulate_bone_marrow": ".flow",
    "write_bone_marrow_fcs": ".flow",
    "simulate_qpcr_plate": ".qpcr",
    "write_quantstudio_plate": ".qpcr",
    "simulate_cohort": ".cohort",
    "write_all_data_samples": ".bundle",
    "simulate_trial": ".trial",
    "write_study": ".study",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

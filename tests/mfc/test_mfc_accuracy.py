"""quantify_mfc against the simulator's per-event truth (B-ALL, T-ALL, AML follow-ups).

Bars (issue "flow MRD from FCS files"):
- measured MRD % inside the 95 % Clopper-Pearson interval of the true leukemic fraction
  (true leukemic events / true denominator events) for >= 95 % of files at MRD >= 1e-4;
- no negative file (no leukemic cell) called positive;
- per-event F1 of the LAIP mask >= 0.95 at 1e-3;
- the same under gain drift on two channels and with a second channel layout.

The 1,000,000-event versions are ``slow``; the 200,000-event ones run in CI. Files are
simulated on demand in memory (the same draws as ``write_bone_marrow_fcs`` would write).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy.stats import binomtest

from mrdquant.mfc import quantify_mfc
from mrdquant.simulate.flow import ALTERNATE_CHANNELS, simulate_bone_marrow

PANELS = ("B-ALL", "T-ALL", "AML")
#: two drifted channels per panel (factors inside the 0.75-1.35 day-to-day range)
DRIFT = {
    "B-ALL": {"CD10": 1.3, "CD45": 0.8},
    "T-ALL": {"CD7": 1.3, "CD45": 0.78},
    "AML": {"CD34": 0.8, "CD117": 1.3},
}


@functools.lru_cache(maxsize=None)
def _run(panel: str, n: int, mrd: float, seed: int, variant: str = "default") -> dict:
    kw = {}
    if variant == "drift":
        kw["drift"] = DRIFT[panel]
    elif variant == "layout":
        kw["channels"] = ALTERNATE_CHANNELS[panel]
    sample, truth = simulate_bone_marrow(panel, n, mrd, seed, **kw)
    res = quantify_mfc(sample, panel, sample_id=f"{panel}-{mrd:g}-{seed}-{variant}")
    y = truth.is_leukemic.to_numpy()
    m = np.asarray(res.laip_mask, dtype=bool)
    tp, fp, fn = int(np.sum(m & y)), int(np.sum(m & ~y)), int(np.sum(~m & y))
    k, d = int(y.sum()), int(truth.is_denominator.sum())
    ci = binomtest(k, d).proportion_ci(0.95, method="exact") if k else None  # Clopper-Pearson
    measured = res.laip_events / res.denominator_events if res.denominator_events else float("nan")
    return {
        "panel": panel, "mrd": mrd, "seed": seed, "variant": variant,
        "true": k, "den": d, "laip": res.laip_events, "measured_den": res.denominator_events,
        "in_ci": bool(ci is not None and ci.low <= measured <= ci.high),
        "f1": 2 * tp / (2 * tp + fp + fn) if k else float("nan"),
        "fp": fp, "fn": fn, "status": res.status,
    }


def _describe(rows) -> str:
    return "\n".join(
        f"{r['panel']} {r['variant']} mrd={r['mrd']:g} seed={r['seed']}: measured {r['laip']}/{r['measured_den']}"
        f" truth {r['true']}/{r['den']} in_CI={r['in_ci']} F1={r['f1']:.3f} fp={r['fp']} fn={r['fn']} {r['status']}"
        for r in rows
    )


def _check(rows, *, min_in_ci=0.95, f1_at=1e-3, min_f1=0.95):
    quant = [r for r in rows if r["mrd"] >= 1e-4]
    if quant:
        share = np.mean([r["in_ci"] for r in quant])
        assert share >= min_in_ci, f"only {share:.0%} of files inside the CI\n" + _describe([r for r in quant if not r["in_ci"]])
    negatives = [r for r in rows if r["mrd"] == 0]
    called = [r for r in negatives if r["status"].startswith("positive")]
    assert not called, "negative files called positive:\n" + _describe(called)
    low_f1 = [r for r in rows if r["mrd"] == f1_at and not r["f1"] >= min_f1]
    assert not low_f1, "LAIP F1 below the bar:\n" + _describe(low_f1)


# --------------------------------------------------------------------------- CI (200k events)


@pytest.mark.parametrize("panel", PANELS)
def test_accuracy_200k_events(panel):
    rows = [_run(panel, 200_000, mrd, 0) for mrd in (1e-2, 1e-3, 0.0)]
    _check(rows)


@pytest.mark.parametrize("variant", ["drift", "layout"])
@pytest.mark.parametrize("panel", PANELS)
def test_accuracy_200k_events_drift_and_layout(panel, variant):
    rows = [_run(panel, 200_000, mrd, 1, variant) for mrd in (1e-2, 1e-3)]
    _check(rows)


# --------------------------------------------------------------------------- 1M events


@pytest.mark.slow
@pytest.mark.parametrize("panel", PANELS)
def test_accuracy_1m_events(panel):
    rows = [_run(panel, 1_000_000, mrd, seed) for mrd in (1e-2, 1e-3, 1e-4, 1e-5, 0.0) for seed in (0, 1, 2)]
    _check(rows)


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["drift", "layout"])
@pytest.mark.parametrize("panel", PANELS)
def test_accuracy_1m_events_drift_and_layout(panel, variant):
    rows = [_run(panel, 1_000_000, mrd, seed, variant) for mrd in (1e-3, 1e-4, 0.0) for seed in (3, 4)]
    _check(rows)

"""Strict singlets of the DfN path: hand-computed limits and the doublets they keep out."""

from __future__ import annotations

import numpy as np
import pytest

from mrdquant.mfc.dfn_singlets import STRICT_SINGLET_K, strict_singlet_mask


def test_ratio_limit_is_median_minus_k_robust_sd():
    # ratios 0.80, 0.85, 0.90, 0.95, 1.00: median 0.90, MAD 0.05, robust SD 0.07413
    a = np.full(6, 1000.0)
    h = np.array([800.0, 850.0, 900.0, 950.0, 1000.0, 500.0])
    mask = np.array([True] * 5 + [False])
    strict, info = strict_singlet_mask({"FSC-A": a, "FSC-H": h}, mask, k=1.0)
    assert info["measure"] == "FSC-H/FSC-A"
    assert info["median"] == pytest.approx(0.90) and info["sd"] == pytest.approx(1.4826 * 0.05)
    assert info["limit"] == pytest.approx(0.90 - 1.4826 * 0.05)  # 0.8259
    assert strict.tolist() == [False, True, True, True, True, False]  # outside mask stays out
    assert info["removed"] == 1


def test_width_limit_is_median_plus_k_robust_sd():
    w = np.array([100.0, 110.0, 120.0, 130.0, 200.0])
    strict, info = strict_singlet_mask({"FSC-A": np.ones(5), "FSC-W": w}, np.ones(5, bool), k=2.0)
    # median 120, MAD 10, limit 120 + 2 x 14.826 = 149.65
    assert info["measure"] == "FSC-W" and info["limit"] == pytest.approx(149.652)
    assert strict.tolist() == [True, True, True, True, False]


def test_no_pulse_signal_or_infinite_k_keeps_every_event():
    mask = np.array([True, False, True])
    strict, info = strict_singlet_mask({"FSC-A": np.ones(3)}, mask)
    assert strict.tolist() == mask.tolist() and info["measure"] == "" and info["removed"] == 0
    a, h = np.full(3, 10.0), np.array([1.0, 9.0, 9.0])
    strict, info = strict_singlet_mask({"FSC-A": a, "FSC-H": h}, mask, k=np.inf)
    assert strict.tolist() == mask.tolist()
    with pytest.raises(ValueError, match="positive"):
        strict_singlet_mask({"FSC-A": a, "FSC-H": h}, mask, k=0)


def test_default_cut_loses_about_0_6_percent_of_gaussian_singlets():
    rng = np.random.default_rng(0)
    a = rng.uniform(3e4, 2e5, 200_000)
    h = a * rng.normal(0.9, 0.03, a.size)
    strict, info = strict_singlet_mask({"FSC-A": a, "FSC-H": h}, np.ones(a.size, bool))
    assert STRICT_SINGLET_K == 2.5
    assert info["removed"] / a.size == pytest.approx(0.0062, abs=0.001)  # Phi(-2.5)

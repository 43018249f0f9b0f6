"""Time QC on hand-made acquisitions: which bins the rate and signal rules drop."""

from __future__ import annotations

import numpy as np

from mrdquant.mfc.qc import time_qc


def test_signal_floor_keeps_small_shifts_and_drops_large_ones():
    # 40,000 events, 20 bins of ~2,000 (all monitored, no subsample). The signal is +-1 by
    # event parity, so every bin's mean is ~0 and the robust SD of the means is tiny;
    # its IQR (2) sets the floor 0.1 x 2 / 6 = 0.033. Bin 7 shifts by 0.05 (1.5 floors:
    # kept, though ~100 robust SDs), bin 12 by 0.5 (15 floors: dropped).
    n = 40_000
    t = np.arange(n) * 0.0025
    v = np.where(np.arange(n) % 2 == 0, -1.0, 1.0)
    b = np.minimum((t / t[-1] * 20).astype(int), 19)
    v = v + 0.05 * (b == 7) + 0.5 * (b == 12)
    res = time_qc(t, np.ones(n, dtype=bool), {"sig": lambda idx: v[idx]})
    assert res["bins"] == 20
    assert [round(lo / t[-1] * 20) for lo, hi, why in res["dropped_bins"]] == [12]
    assert "mean sig" in res["dropped_bins"][0][2]
    # without the large shift nothing is dropped
    v2 = v - 0.5 * (b == 12)
    assert time_qc(t, np.ones(n, dtype=bool), {"sig": lambda idx: v2[idx]})["dropped_bins"] == []


def test_signal_with_missing_values_is_judged_on_its_finite_events():
    # NaN values are left out of their bin's mean and count (the bins stay evaluable)
    n = 40_000
    t = np.arange(n) * 0.0025
    v = np.where(np.arange(n) % 2 == 0, -1.0, 1.0)
    b = np.minimum((t / t[-1] * 20).astype(int), 19)
    v = v + 0.5 * (b == 12)
    v[::97] = np.nan
    v[1::97] = np.nan  # one +1 and one -1 event: bin means stay ~0
    res = time_qc(t, np.ones(n, dtype=bool), {"sig": lambda idx: v[idx]})
    assert [round(lo / t[-1] * 20) for lo, hi, why in res["dropped_bins"]] == [12]

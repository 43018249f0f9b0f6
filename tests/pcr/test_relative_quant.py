"""2^-ΔΔCt (Livak & Schmittgen 2001) and the Pfaffl ratio, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mrdquant.errors import QPCRError
from mrdquant.pcr.relative import delta_delta_ct


def _wells():
    rows = []
    # calibrator: target 30, reference 20; treated: target 27, reference 20.5
    for sample, t, r in (("CAL", [30.0, 30.2], [20.0, 20.0]), ("TRT", [27.0, 27.0], [20.4, 20.6])):
        for i, ct in enumerate(t):
            rows.append(("P", f"T{sample}{i}", sample, "WT1", "unknown", ct))
        for i, ct in enumerate(r):
            rows.append(("P", f"R{sample}{i}", sample, "ABL1", "unknown", ct))
    df = pd.DataFrame(rows, columns=["plate", "well", "sample", "target", "role", "ct"])
    df["quantity"] = np.nan
    df["flags"] = ""
    df["source_file"] = "x"
    return df


def test_delta_delta_ct_by_hand():
    out = delta_delta_ct(_wells(), target="WT1", reference="ABL1", calibrator="CAL").set_index("sample")
    # CAL: dCt = 30.1 - 20 = 10.1; TRT: dCt = 27 - 20.5 = 6.5; ddCt = -3.6
    assert out.loc["TRT", "delta_ct"] == pytest.approx(6.5)
    assert out.loc["TRT", "delta_delta_ct"] == pytest.approx(-3.6)
    assert out.loc["TRT", "fold_change"] == pytest.approx(2 ** 3.6)
    assert out.loc["CAL", "fold_change"] == pytest.approx(1.0)
    # Pfaffl with 100 % efficiencies equals 2^-ddCt
    assert out.loc["TRT", "pfaffl_ratio"] == pytest.approx(2 ** 3.6)


def test_pfaffl_ratio_by_hand():
    out = delta_delta_ct(_wells(), target="WT1", reference="ABL1", calibrator="CAL",
                         efficiency_target=0.9, efficiency_reference=0.95).set_index("sample")
    expected = 1.9 ** (30.1 - 27.0) / 1.95 ** (20.0 - 20.5)
    assert out.loc["TRT", "pfaffl_ratio"] == pytest.approx(expected)


def test_relative_errors():
    with pytest.raises(QPCRError, match="calibrator"):
        delta_delta_ct(_wells(), target="WT1", reference="ABL1", calibrator="NOPE")
    with pytest.raises(QPCRError, match="efficiency_target"):
        delta_delta_ct(_wells(), target="WT1", reference="ABL1", calibrator="CAL", efficiency_target=95)
    with pytest.raises(QPCRError, match="GAPDH"):
        delta_delta_ct(_wells(), target="WT1", reference="GAPDH", calibrator="CAL")

"""The nine transforms of the Gating-ML 2.0 compliance set, on its data file, against FlowKit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mrdquant.cytometry import transforms as tr

# id -> (our transform, FlowKit class name); parameters as listed in the data README
EXPECTED = {
    "AsinH_10000_4_1": (tr.AsinhTransform(T=10000, M=4, A=1), "AsinhTransform"),
    "Hyperlog_10000_1_4.5_0": (tr.HyperlogTransform(T=10000, W=1, M=4.5, A=0), "HyperlogTransform"),
    "Linear_10000_500": (tr.LinearTransform(T=10000, A=500), "LinearTransform"),
    "Logicle_10000_0.5_4.5_0": (tr.LogicleTransform(T=10000, W=0.5, M=4.5, A=0), "LogicleTransform"),
    "Logicle_10000_1_4_0.5": (tr.LogicleTransform(T=10000, W=1, M=4, A=0.5), "LogicleTransform"),
    "Logarithmic_10000_5": (tr.LogTransform(T=10000, M=5), "LogTransform"),
    "FL2Rat1": (tr.RatioTransform(A=1, B=0, C=-1), "RatioTransform"),
    "FL2Rat2": (tr.RatioTransform(A=2.7, B=-100, C=-300), "RatioTransform"),
    "MyRatLog": (tr.LogTransform(T=100, M=2), "LogTransform"),
}


def test_gatingml_transforms_match_flowkit_on_data1(shared_data):
    fk = pytest.importorskip("flowkit")
    root = shared_data / "gatingml2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sample = fk.Sample(root / "data1.fcs")
        strategy = fk.parse_gating_xml(str(root / "gml" / "gml_all_gates.xml"))
    xforms = strategy.transformations
    assert set(xforms) == set(EXPECTED)
    events = sample.get_events(source="raw")
    assert events.shape == (13367, 8)
    for xid, (ours, fk_class) in EXPECTED.items():
        theirs = xforms[xid]
        assert type(theirs).__name__ == fk_class, xid
        with np.errstate(all="ignore"):
            if fk_class == "RatioTransform":
                i, j = (sample.pnn_labels.index(d) for d in theirs.dimensions)
                got, ref = ours.apply2(events[:, i], events[:, j]), theirs.apply(sample)
            else:
                got, ref = ours.apply(events), theirs.apply(events)
        assert got.shape == ref.shape
        assert np.array_equal(np.isnan(got), np.isnan(ref)), xid
        ok = ~np.isnan(ref)
        np.testing.assert_allclose(got[ok], ref[ok], rtol=0, atol=1e-12, err_msg=xid)

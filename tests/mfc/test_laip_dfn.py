"""quantify_laip_dfn: one file through the LAIP and the DfN call, prepared once."""

from __future__ import annotations

import pytest

from mrdquant.errors import ReferenceFileError
from mrdquant.mfc.laip_dfn import DFN_ROW_COLUMNS, quantify_laip_dfn
from mrdquant.mfc.reference import NormalReference
from mrdquant.simulate.flow import write_bone_marrow_fcs


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("laip_dfn")
    normals = [write_bone_marrow_fcs(d / f"n{i}.fcs", "B-ALL", 20_000, mrd_fraction=0.0, seed=70 + i)[0]
               for i in range(3)]
    return {
        "ref": NormalReference.fit(normals, "B-ALL").save(d / "ref.npz"),
        "follow": write_bone_marrow_fcs(d / "follow.fcs", "B-ALL", 30_000, mrd_fraction=1e-2, seed=80)[0],
        "small": write_bone_marrow_fcs(d / "small.fcs", "B-ALL", 300, mrd_fraction=0.0, seed=81)[0],
        "aml": write_bone_marrow_fcs(d / "aml.fcs", "AML", 5_000, mrd_fraction=0.0, seed=82)[0],
    }


def test_one_row_joins_the_laip_and_dfn_events(files):
    res = quantify_laip_dfn(files["follow"], "B-ALL", files["ref"])
    row = res.to_row()
    assert list(row) == DFN_ROW_COLUMNS
    laip, dfn = res.mfc.laip_mask, res.dfn.aberrant_mask
    assert row["laip_events"] == res.mfc.laip_events == int(laip.sum())
    assert row["dfn_events"] == res.dfn.laip_events == int(dfn.sum())
    assert row["both_events"] == int((laip & dfn).sum())
    assert row["dfn_only_events"] == int((dfn & ~laip).sum())
    assert row["integrated_events"] == int((laip | dfn).sum()) > 0
    assert row["integrated_mrd_pct"] == pytest.approx(100 * row["integrated_events"] / row["denominator_events"])
    assert row["denominator_events"] == res.mfc.denominator_events  # one denominator for both approaches
    assert row["agreement"] == "both positive"
    pops = res.populations()
    assert list(pops.columns[:1]) == ["sample_id"] and len(pops) == row["dfn_populations"]


def test_too_small_a_file_is_not_evaluable_by_both(files):
    res = quantify_laip_dfn(files["small"], "B-ALL", files["ref"])
    assert res.mfc.status == res.dfn.status == res.integrated.status == "not evaluable"
    assert res.to_row()["agreement"] == "not evaluable"


def test_a_reference_of_another_panel_is_refused_naming_it(files):
    with pytest.raises(ReferenceFileError, match=rf"{files['ref'].name}: reference was fitted for panel 'B-ALL'"):
        quantify_laip_dfn(files["aml"], "AML", files["ref"])

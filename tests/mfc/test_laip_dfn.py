"""quantify_laip_dfn: one file through the LAIP and the DfN call, prepared once."""

from __future__ import annotations

import pytest

from mrdquant.errors import ReferenceFileError
from mrdquant.mfc.laip_dfn import DFN_ROW_COLUMNS, quantify_laip_dfn


def test_one_row_joins_the_laip_and_dfn_events(dfn_files):
    res = quantify_laip_dfn(dfn_files["follow"], "B-ALL", dfn_files["ref"])
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


def test_too_small_a_file_is_not_evaluable_by_both(dfn_files):
    res = quantify_laip_dfn(dfn_files["small"], "B-ALL", dfn_files["ref"])
    assert res.mfc.status == res.dfn.status == res.integrated.status == "not evaluable"
    assert res.to_row()["agreement"] == "not evaluable"


def test_a_reference_of_another_panel_is_refused_naming_it(dfn_files):
    with pytest.raises(ReferenceFileError, match=rf"{dfn_files['ref'].name}: reference was fitted for panel 'B-ALL'"):
        quantify_laip_dfn(dfn_files["aml"], "AML", dfn_files["ref"])

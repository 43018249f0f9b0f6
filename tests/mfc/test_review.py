"""One tube's review files (gating page, DfN page, FlowJo workspace) from its preparation."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest

import mrdquant
from mrdquant.io.fcs import FlowSample
from mrdquant.mfc.laip_dfn import quantify_laip_dfn
from mrdquant.mfc.preparation import PreparedSample
from mrdquant.mfc.quantify import prepare_tube
from mrdquant.mfc.reference import NormalReference
from mrdquant.mfc.review import review_paths, write_review_files

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def tubes(dfn_files):
    return {**dfn_files, "ref": NormalReference.load(dfn_files["ref"])}


def test_prepare_tube_gives_quantify_mfc_its_own_result(tubes):
    f = tubes["follow"]
    direct = mrdquant.quantify_mfc(f, "B-ALL")
    ps = prepare_tube(f, "B-ALL")
    assert isinstance(ps, PreparedSample) and ps.sample_id == f.name
    via = mrdquant.quantify_mfc(ps, "B-ALL")
    assert (via.laip_events, via.denominator_events, via.mrd_pct) == (direct.laip_events, direct.denominator_events,
                                                                      direct.mrd_pct)
    assert via.gates.equals(direct.gates) and via.qc.equals(direct.qc)
    np.testing.assert_array_equal(via.laip_mask, direct.laip_mask)
    assert via.provenance["input_sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
    # a too-small file is not prepared: quantify_mfc makes it not evaluable
    small = prepare_tube(tubes["small"], "B-ALL")
    assert isinstance(small, FlowSample)
    assert mrdquant.quantify_mfc(small, "B-ALL").status == "not evaluable"


def test_review_files_are_written_from_the_preparation(tubes, tmp_path, monkeypatch):
    both = quantify_laip_dfn(tubes["follow"], "B-ALL", tubes["ref"])
    assert isinstance(both.prepared, PreparedSample) and len(both.dfn.populations) > 0

    def no_second_preparation(*a, **k):  # the pictures must not prepare the file again
        raise AssertionError("prepared again")

    monkeypatch.setattr("mrdquant.mfc.preparation.prepare", no_second_preparation)
    problems = write_review_files(tmp_path / "plots", both.mfc, both.prepared, panel="B-ALL", dfn=both.dfn,
                                  reference=tubes["ref"])
    assert problems == []
    paths = review_paths(tmp_path / "plots", both.mfc.sample_id)
    assert [p.name for p in paths.values()] == ["p3_d60.png", "p3_d60_dfn.png", "p3_d60.wsp"]
    for key in ("page", "dfn_page"):
        assert paths[key].read_bytes()[:8] == PNG
    wsp = paths["workspace"].read_text(encoding="utf-8")
    assert tubes["follow"].resolve().as_uri() in wsp and "LAIP" in wsp
    assert not list((tmp_path / "plots").glob(".*.part"))


def test_a_failing_file_is_reported_and_the_others_still_written(tubes, tmp_path):
    r = mrdquant.quantify_mfc(tubes["follow"], "B-ALL")
    ps = prepare_tube(tubes["follow"], "B-ALL")
    folder = tmp_path / "plots"
    folder.mkdir()
    (folder / "p3_d60.png").mkdir()  # the page's name is taken by a folder: it cannot be written
    problems = write_review_files(folder, r, ps, panel="B-ALL")
    assert len(problems) == 1 and problems[0].startswith("gating page not written:")
    assert (folder / "p3_d60.wsp").is_file()
    # a workspace for a panel the result was not made with is refused, the page is written
    other = dataclasses.replace(r, sample_id="p3_d61.fcs")
    problems = write_review_files(folder, other, ps, panel="PUIH B-ALL")
    assert len(problems) == 1 and "FlowJo workspace not written:" in problems[0] and "PUIH B-ALL" in problems[0]
    assert (folder / "p3_d61.png").read_bytes()[:8] == PNG and not (folder / "p3_d61.wsp").exists()


def test_a_not_evaluable_result_gets_no_files(tubes, tmp_path):
    r = mrdquant.quantify_mfc(tubes["small"], "B-ALL")
    assert write_review_files(tmp_path, r, tubes["small"], panel="B-ALL") == []
    assert list(tmp_path.iterdir()) == []

"""Gates are looked up by the name counts() shows (when unique), by id, or by full path."""

from __future__ import annotations

import numpy as np
import pytest

from mrdquant.cytometry.gates import BooleanGate, Dimension, RectangleGate
from mrdquant.cytometry.gating import GatingStrategy
from mrdquant.errors import GatingError
from mrdquant.io.fcs import FlowSample


def _strategy():
    # FlowJo-like: ids are paths, names repeat in two branches ("CD4 T cells")
    fsc, cd3, cd4 = Dimension("FSC-A"), Dimension("CD3"), Dimension("CD4")
    gates = [
        RectangleGate("Lymphocytes", [fsc], [100.0], [None]),
        RectangleGate("Lymphocytes/CD3+", [cd3], [50.0], [None], parent="Lymphocytes"),
        RectangleGate("Lymphocytes/CD3+/CD4", [cd4], [50.0], [None], parent="Lymphocytes/CD3+"),
        RectangleGate("Lymphocytes/CD3-", [cd3], [None], [50.0], parent="Lymphocytes"),
        RectangleGate("Lymphocytes/CD3-/CD4", [cd4], [50.0], [None], parent="Lymphocytes/CD3-"),
        BooleanGate("any CD4", "or", ["Lymphocytes/CD3+/CD4", "Lymphocytes/CD3-/CD4"]),
    ]
    names = {"Lymphocytes/CD3+": "CD3+", "Lymphocytes/CD3-": "CD3-",
             "Lymphocytes/CD3+/CD4": "CD4 T cells", "Lymphocytes/CD3-/CD4": "CD4 T cells"}
    return GatingStrategy(gates, names=names)


@pytest.fixture
def result():
    rng = np.random.default_rng(3)
    ev = rng.uniform(0, 200, size=(500, 3)).astype(np.float32)
    return _strategy().gate(FlowSample.from_array(ev, ["FSC-A", "CD3", "CD4"])), ev


def test_unique_names_from_counts_are_accepted(result):
    r, ev = result
    fsc, cd3, cd4 = ev[:, 0], ev[:, 1], ev[:, 2]
    lym = fsc >= 100
    np.testing.assert_array_equal(r.membership("CD3+"), lym & (cd3 >= 50))
    np.testing.assert_array_equal(r.membership("CD3-"), lym & (cd3 < 50))
    assert r.count("CD3+") == int(np.count_nonzero(lym & (cd3 >= 50)))
    assert list(r.events("CD3-").index) == list(np.flatnonzero(lym & (cd3 < 50)))
    # every name the counts table lists works where it is unique, and means that row's path
    table = r.counts()
    unique = table["gate"].value_counts()
    for row in table.itertuples():
        if unique[row.gate] == 1:
            np.testing.assert_array_equal(r.membership(row.gate), r.membership(row.gate_path))
            assert r.count(row.gate) == row.count


def test_full_path_and_id_always_work(result):
    r, ev = result
    lym, cd3, cd4 = ev[:, 0] >= 100, ev[:, 1], ev[:, 2]
    want = lym & (cd3 >= 50) & (cd4 >= 50)
    np.testing.assert_array_equal(r.membership("/Lymphocytes/CD3+/CD4 T cells"), want)
    np.testing.assert_array_equal(r.membership(("root", "Lymphocytes", "CD3+", "CD4 T cells")), want)
    np.testing.assert_array_equal(r.membership("Lymphocytes/CD3+/CD4"), want)  # the id


def test_ambiguous_name_lists_the_matching_paths(result):
    r, _ = result
    with pytest.raises(GatingError) as exc:
        r.membership("CD4 T cells")
    msg = str(exc.value)
    assert "ambiguous" in msg
    assert "'/Lymphocytes/CD3+/CD4 T cells'" in msg and "'/Lymphocytes/CD3-/CD4 T cells'" in msg
    with pytest.raises(GatingError, match="no gate 'CD8'.*'CD4 T cells'"):
        r.count("CD8")


def test_a_name_that_is_also_another_gates_id_is_ambiguous():
    a = RectangleGate("A", [Dimension("X")], [1.0], [None])
    b = RectangleGate("B", [Dimension("X")], [None], [1.0])
    s = GatingStrategy([a, b], names={"A": "B", "B": "other"})
    with pytest.raises(GatingError, match=r"ambiguous.*'/B'.*'/other'"):
        s._node("B")
    assert s._node("other").id == "B" and s._node("A").id == "A"

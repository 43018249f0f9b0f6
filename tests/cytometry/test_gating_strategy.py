"""GatingStrategy: hierarchy, counts table, processed columns, many samples, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdquant.cytometry import gating as gating_mod
from mrdquant.cytometry.gates import (
    BooleanGate,
    Dimension,
    EllipsoidGate,
    GateReference,
    PolygonGate,
    Quadrant,
    QuadrantDivider,
    QuadrantGate,
    RectangleGate,
)
from mrdquant.cytometry.gating import COUNTS_COLUMNS, GatingStrategy
from mrdquant.cytometry.transforms import AsinhTransform, LogicleTransform
from mrdquant.errors import GatingError, GatingMLError
from mrdquant.io.fcs import FlowSample, write_fcs
from naive.gates import polygon_members

CHANNELS = ["FSC-A", "SSC-A", "FL1-A", "FL2-A", "Time"]


def _sample(seed: int, n: int = 4000, spill: bool = True) -> FlowSample:
    rng = np.random.default_rng(seed)
    ev = np.c_[rng.uniform(0, 1000, n), rng.uniform(0, 1000, n), rng.normal(300, 400, n),
               rng.normal(200, 300, n), np.arange(n)].astype(np.float32)
    sp = pd.DataFrame([[1.0, 0.15], [0.05, 1.0]], index=["FL1-A", "FL2-A"], columns=["FL1-A", "FL2-A"])
    return FlowSample.from_array(ev, CHANNELS, spillover=sp if spill else None)


def _strategy() -> GatingStrategy:
    lg = LogicleTransform(T=262144, W=0.5, M=4.5, A=0)
    fl1 = Dimension("FL1-A", "FCS", "lg")
    fl2 = Dimension("FL2-A", "FCS", "lg")
    gates = [
        RectangleGate("cells", [Dimension("FSC-A"), Dimension("SSC-A")], [100, None], [900, 800]),
        PolygonGate("blasts", [Dimension("FSC-A"), Dimension("SSC-A")],
                    [(150, 100), (700, 150), (600, 700), (200, 600), (400, 350)], parent="cells"),
        RectangleGate("fl1pos", [fl1], [0.3], [None], parent="blasts"),
        RectangleGate("fl2pos", [fl2], [0.28], [None], parent="blasts"),
        BooleanGate("laip", "and", [GateReference("fl1pos"), GateReference("fl2pos", complement=True)],
                    parent="blasts"),
        EllipsoidGate("ell", [fl1, fl2], [0.35, 0.3], [[0.01, 0.0], [0.0, 0.02]], 4.0, parent="cells"),
    ]
    return GatingStrategy(gates, transforms={"lg": lg})


def test_hierarchy_matches_direct_computation(seed):
    s = _sample(seed)
    strat = _strategy()
    r = strat.gate(s, sample_id="S1")
    ev = s.events.astype(np.float64)
    comp = np.linalg.solve(np.array([[1.0, 0.15], [0.05, 1.0]]).T, ev[:, 2:4].T).T  # x_obs = x_true @ S
    lg = LogicleTransform(T=262144, W=0.5, M=4.5, A=0)
    f1, f2 = lg.apply(comp[:, 0]), lg.apply(comp[:, 1])
    cells = (ev[:, 0] >= 100) & (ev[:, 0] < 900) & (ev[:, 1] < 800)
    poly = [(150, 100), (700, 150), (600, 700), (200, 600), (400, 350)]
    blasts = cells & np.array(polygon_members(ev[:, 0], ev[:, 1], poly))
    fl1pos = blasts & (f1 >= 0.3)
    fl2pos = blasts & (f2 >= 0.28)
    laip = blasts & fl1pos & ~fl2pos
    np.testing.assert_array_equal(r.membership("cells"), cells)
    np.testing.assert_array_equal(r.membership("blasts"), blasts)
    np.testing.assert_array_equal(r.membership("/cells/blasts/fl1pos"), fl1pos)
    np.testing.assert_array_equal(r.membership("fl2pos"), fl2pos)
    np.testing.assert_array_equal(r.membership("laip"), laip)
    assert 0 < laip.sum() < blasts.sum() < cells.sum() < s.n_events

    c = r.counts()
    assert list(c.columns) == COUNTS_COLUMNS
    row = c.set_index("gate").loc["laip"]
    assert row["count"] == laip.sum()
    assert row["parent"] == "blasts"
    assert row["gate_path"] == "/cells/blasts/laip"
    assert row["percent_parent"] == pytest.approx(100 * laip.sum() / blasts.sum())
    assert row["percent_root"] == pytest.approx(100 * laip.sum() / s.n_events)
    assert (c["sample_id"] == "S1").all()


def test_each_processed_column_is_computed_once_per_chunk(monkeypatch):
    calls = []
    orig = gating_mod._SamplePlan.compute

    def counting(self, slot, cols):
        calls.append(slot)
        return orig(self, slot, cols)

    monkeypatch.setattr(gating_mod._SamplePlan, "compute", counting)
    strat = _strategy()
    strat.gate(_sample(0, n=1000))
    assert sorted(calls) == list(range(len(strat.dimensions)))
    assert len(strat.dimensions) == 4  # FSC, SSC, FL1 and FL2 (comp + logicle), shared by 6 gates


def test_chunked_evaluation_equals_single_chunk(monkeypatch):
    s = _sample(3, n=1001)
    whole = _strategy().gate(s).masks
    monkeypatch.setattr(gating_mod, "_CHUNK", 64)
    monkeypatch.setattr(gating_mod, "_MAX_CHUNKS", 10**9)
    chunked = _strategy().gate(s).masks
    np.testing.assert_array_equal(whole, chunked)


def test_events_gives_processed_values_of_members():
    s = _sample(1)
    r = _strategy().gate(s)
    ev = r.events("fl1pos")
    assert list(ev.index) == list(np.flatnonzero(r.membership("fl1pos")))
    assert (ev["FL1-A[FCS|lg]"] >= 0.3).all()
    np.testing.assert_array_equal(ev["FSC-A"].to_numpy(), s.events[ev.index, 0].astype(np.float64))


def test_quadrants_partition_parent_and_boolean_or_not():
    rng = np.random.default_rng(5)
    ev = rng.uniform(-1, 11, size=(500, 2))
    s = FlowSample.from_array(ev, ["A", "B"])
    dividers = [QuadrantDivider("da", Dimension("A"), [5.0]), QuadrantDivider("db", Dimension("B"), [2.0, 8.0])]
    q = QuadrantGate("Q", dividers,
                     [Quadrant("lo-lo", [("da", 1), ("db", 0)]), Quadrant("lo-mid", [("da", 1), ("db", 5)]),
                      Quadrant("lo-hi", [("da", 1), ("db", 9)]), Quadrant("hi", [("da", 7)])])
    strat = GatingStrategy([
        q,
        BooleanGate("either", "or", ["lo-lo", "hi"]),
        BooleanGate("neither", "not", ["either"]),
        RectangleGate("child", [Dimension("B")], [None], [1.0], parent="lo-lo"),
    ])
    r = strat.gate(s)
    a, b = ev[:, 0], ev[:, 1]
    np.testing.assert_array_equal(r.membership("lo-lo"), (a < 5) & (b < 2))
    np.testing.assert_array_equal(r.membership("lo-mid"), (a < 5) & (b >= 2) & (b < 8))
    np.testing.assert_array_equal(r.membership("hi"), a >= 5)
    total = sum(r.count(x) for x in ("lo-lo", "lo-mid", "lo-hi", "hi"))
    assert total == 500
    np.testing.assert_array_equal(r.membership("neither"), ~(((a < 5) & (b < 2)) | (a >= 5)))
    np.testing.assert_array_equal(r.membership("child"), (a < 5) & (b < 1))
    assert r.counts().set_index("gate").loc["child", "gate_path"] == "/Q/lo-lo/child"


def test_fcs_compensation_without_spillover_is_uncompensated():
    s = _sample(2, spill=False)
    r = GatingStrategy([RectangleGate("g", [Dimension("FL1-A", "FCS")], [300.0], [None])]).gate(s)
    np.testing.assert_array_equal(r.membership("g"), s.events[:, 2].astype(np.float64) >= 300)


def test_empty_sample_counts():
    s = FlowSample.from_array(np.empty((0, 5), dtype=np.float32), CHANNELS)
    c = _strategy().gate(s).counts()
    assert (c["count"] == 0).all()
    assert c["percent_root"].isna().all() and c["percent_parent"].isna().all()


def test_compile_errors_name_gate_and_reference():
    d = [Dimension("FSC-A")]
    with pytest.raises(GatingMLError, match="'b'.*parent 'nope'"):
        GatingStrategy([RectangleGate("a", d, [0], [1]), RectangleGate("b", d, [0], [1], parent="nope")])
    with pytest.raises(GatingMLError, match="duplicate gate id 'a'"):
        GatingStrategy([RectangleGate("a", d, [0], [1]), RectangleGate("a", d, [0], [1])])
    with pytest.raises(GatingMLError, match="cycle"):
        GatingStrategy([RectangleGate("a", d, [0], [1], parent="b"), RectangleGate("b", d, [0], [1], parent="a")])
    with pytest.raises(GatingMLError, match="unknown transform 'lg'"):
        GatingStrategy([RectangleGate("a", [Dimension("FSC-A", transform="lg")], [0], [1])])
    with pytest.raises(GatingMLError, match="compensation 'M1'"):
        GatingStrategy([RectangleGate("a", [Dimension("FSC-A", "M1")], [0], [1])])
    with pytest.raises(GatingMLError, match="neither min nor max"):
        RectangleGate("a", d, [None], [None])
    with pytest.raises(GatingMLError, match="exactly one reference"):
        BooleanGate("n", "not", ["a", "b"])


def test_missing_channel_and_unknown_gate_errors():
    strat = GatingStrategy([RectangleGate("a", [Dimension("CD34")], [0], [1])])
    with pytest.raises(GatingError, match="needs channel 'CD34'"):
        strat.gate(_sample(0))
    r = _strategy().gate(_sample(0))
    with pytest.raises(GatingError, match="no gate 'zzz'"):
        r.membership("zzz")


def test_gate_many_reports_bad_file_and_finishes_the_rest(tmp_path):
    paths = []
    for i in range(3):
        s = _sample(i, n=500)
        p = tmp_path / f"s{i}.fcs"
        write_fcs(p, s.events, CHANNELS, spillover=s.spillover)
        paths.append(p)
    bad = tmp_path / "broken.fcs"
    bad.write_bytes(b"FCS3.0  garbage")
    strat = _strategy()
    batch = strat.gate_many([paths[0], bad, paths[1], paths[2]], n_jobs=2)
    assert [r.sample_id for r in batch.results] == ["s0.fcs", "s1.fcs", "s2.fcs"]
    assert list(batch.errors["sample_id"]) == ["broken.fcs"]
    assert batch.errors["error_type"].iloc[0] == "FCSError"
    counts = batch.counts()
    assert len(counts) == 3 * len(strat.gate_ids)
    direct = strat.gate(_sample(1, n=500)).counts()["count"].to_numpy()
    np.testing.assert_array_equal(counts[counts.sample_id == "s1.fcs"]["count"].to_numpy(), direct)
    out = list(strat.iter_gate([bad, paths[0]]))
    assert type(out[0]).__name__ == "GatingFailure" and out[1].count("cells") > 0


def test_to_gatingml_round_trip_in_memory_strategy(tmp_path):
    strat = GatingStrategy(list(_strategy().gates) + [
        RectangleGate("asinh", [Dimension("FL2-A", "FCS", "as")], [0.1], [0.9])],
        transforms={"lg": LogicleTransform(T=262144, W=0.5, M=4.5, A=0), "as": AsinhTransform(T=262144, M=4.5, A=0)})
    path = strat.to_gatingml(tmp_path / "s.xml")
    back = GatingStrategy.from_gatingml(path)
    s = _sample(4)
    np.testing.assert_array_equal(strat.gate(s).masks, back.gate(s).masks)


def test_same_compensated_channel_with_and_without_transform():
    # two columns share one compensated channel; transforming one must not alter the other
    s = _sample(6)
    lg = LogicleTransform(T=262144, W=0.5, M=4.5, A=0)
    strat = GatingStrategy([
        RectangleGate("raw", [Dimension("FL1-A", "FCS")], [300.0], [None]),
        RectangleGate("scaled", [Dimension("FL1-A", "FCS", "lg")], [0.3], [None]),
    ], transforms={"lg": lg})
    r = strat.gate(s)
    comp = np.linalg.solve(np.array([[1.0, 0.15], [0.05, 1.0]]).T, s.events[:, 2:4].astype(np.float64).T).T
    np.testing.assert_array_equal(r.membership("raw"), comp[:, 0] >= 300.0)
    np.testing.assert_array_equal(r.membership("scaled"), lg.apply(comp[:, 0]) >= 0.3)
    ev = r.events("scaled")
    np.testing.assert_allclose(ev["FL1-A[FCS]"].to_numpy(), comp[ev.index, 0], rtol=1e-12)

_bound = st.none() | st.integers(-4, 4).map(float)


@settings(max_examples=60, deadline=None)
@given(bounds=st.lists(st.tuples(_bound, _bound).filter(lambda b: b != (None, None)), min_size=3, max_size=3),
       op=st.sampled_from(["and", "or"]), comps=st.lists(st.booleans(), min_size=3, max_size=3),
       values=st.lists(st.integers(-5, 5).map(float), min_size=1, max_size=40))
def test_boolean_gates_match_python_logic(bounds, op, comps, values):
    x = np.array(values)
    s = FlowSample.from_array(x[:, None], ["A"])
    gates = [RectangleGate(f"r{i}", [Dimension("A")], [lo], [hi]) for i, (lo, hi) in enumerate(bounds)]
    refs = [GateReference(f"r{i}", c) for i, c in enumerate(comps)]
    gates += [BooleanGate("b", op, refs), BooleanGate("nb", "not", ["b"]),
              BooleanGate("child", "and", ["r0", "r1"], parent="b")]
    r = GatingStrategy(gates).gate(s)

    def inside(v, lo, hi):
        return (lo is None or v >= lo) and (hi is None or v < hi)

    for k, v in enumerate(values):
        parts = [inside(v, *bounds[i]) != comps[i] for i in range(3)]
        b = all(parts) if op == "and" else any(parts)
        assert r.membership("b")[k] == b
        assert r.membership("nb")[k] == (not b)
        assert r.membership("child")[k] == (b and inside(v, *bounds[0]) and inside(v, *bounds[1]))


def test_spectrum_matrix_naming_absent_detector_and_biex_export(tmp_path):
    from mrdquant.cytometry.transforms import FlowJoBiexTransform

    m = pd.DataFrame([[1.0, 0.1], [0.0, 1.0]], index=["FITC", "PE"], columns=["FL1-A", "FL9-A"])
    strat = GatingStrategy([RectangleGate("g", [Dimension("FITC", "M")], [0.0], [None])], matrices={"M": m})
    with pytest.raises(GatingError, match="FL9-A"):
        strat.gate(_sample(0))
    biex = GatingStrategy([RectangleGate("g", [Dimension("FL1-A", transform="bx")], [100.0], [None])],
                          transforms={"bx": FlowJoBiexTransform()})
    assert biex.gate(_sample(0)).count("g") > 0
    with pytest.raises(GatingMLError, match="'bx'.*no Gating-ML 2.0 equivalent"):
        biex.to_gatingml(tmp_path / "b.xml")
    assert not (tmp_path / "b.xml").exists()


def test_spectrum_matrix_fluorochrome_names_compensate_like_numpy():
    m = pd.DataFrame([[1.0, 0.2], [0.1, 1.0]], index=["FITC", "PE"], columns=["FL1-A", "FL2-A"])
    s = _sample(8, spill=False)
    strat = GatingStrategy([RectangleGate("pe", [Dimension("PE", "M")], [150.0], [None]),
                            RectangleGate("fl2", [Dimension("FL2-A", "M")], [150.0], [None])], matrices={"M": m})
    r = strat.gate(s)
    comp = np.linalg.solve(m.to_numpy().T, s.events[:, 2:4].astype(np.float64).T).T
    np.testing.assert_array_equal(r.membership("pe"), comp[:, 1] >= 150.0)
    np.testing.assert_array_equal(r.membership("pe"), r.membership("fl2"))

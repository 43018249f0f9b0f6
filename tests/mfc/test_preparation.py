"""prepare(): channel resolution, values, acquisition QC, placed gates, Gating-ML round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mrdquant.cytometry.gating import GatingStrategy
from mrdquant.io.fcs import FlowSample
from mrdquant.io.gatingml import read_gatingml
from mrdquant.mfc import prepare
from mrdquant.mfc.preparation import GATE_COLUMNS, QC_COLUMNS
from tests.mfc._clog import clogged_events
from tests.mfc.conftest import drifted, f1, simulated
from tests.naive.transforms import logicle


@pytest.mark.parametrize("panel", ["B-ALL", "PUIH B-ALL", "T-ALL", "AML"])
def test_counts_are_internally_consistent(panel):
    s, _ = simulated(panel, 60_000, 1e-2, 3)
    ps = prepare(s, panel)
    assert list(ps.qc.columns) == QC_COLUMNS and list(ps.gates.columns) == GATE_COLUMNS
    q = ps.qc
    assert (q["removed"] == q["events_in"] - q["events_out"]).all()
    assert q["events_in"].iloc[0] == s.n_events
    assert (q["events_in"].iloc[1:].to_numpy() == q["events_out"].iloc[:-1].to_numpy()).all()
    assert q["events_out"].iloc[-1] == ps.denominator_mask.sum()
    for row in ps.gates.itertuples(index=False):
        m = ps.gate_masks[row.gate]
        assert m.sum() == row.events
        if row.parent != "root":
            parent = ps.gate_masks[row.parent]
            assert not (m & ~parent).any(), row.gate  # children inside their parent
            assert row.percent_parent == pytest.approx(100 * m.sum() / parent.sum())
        json.loads(row.coordinates)


def test_values_are_compensated_and_transformed_per_marker():
    s, _ = simulated("B-ALL", 20_000, 1e-2, 4)
    ps = prepare(s, "B-ALL")
    raw = s.events.astype(np.float64)
    spill = s.spillover
    det = list(spill.columns)
    cols = [s.channels.index(d) for d in det]
    comp = np.linalg.solve(spill.to_numpy().T, raw[:, cols].T).T  # independent: observed = true @ S
    rng = np.random.default_rng(0)
    # CD34 was transformed for the CD19+ events only and CD20 for none while gating: the
    # rest of their events are transformed on this first full access
    for marker in ("CD19", "CD45", "Syto41", "CD34", "CD20"):
        j = det.index(ps.channels[marker])
        for i in rng.choice(s.n_events, 25, replace=False):
            want = logicle(comp[i, j], 262144, 0.5, 4.5, 0)
            assert ps.marker_values(marker)[i] == pytest.approx(want, abs=1e-9)
            assert ps.values[i, ps.markers.index(marker)] == ps.marker_values(marker)[i]


def test_values_without_spillover_are_the_transformed_raw_channels():
    s, _ = simulated("B-ALL", 20_000, 1e-2, 4)
    raw = FlowSample.from_array(s.events, s.channels, markers=s.markers)
    ps = prepare(raw, "B-ALL")
    t = ps.panel.transform_object()
    for marker in ps.markers:
        want = t.apply(s.events[:, s.channels.index(ps.channels[marker])].astype(np.float64))
        np.testing.assert_array_equal(ps.marker_values(marker), want)


def test_singlets_drop_the_doublets_and_keep_the_cells():
    s, truth = simulated("B-ALL", 100_000, 1e-3, 5)
    ps = prepare(s, "B-ALL")
    single = ps.gate_masks["Singlets"]
    pop = truth["population"].to_numpy()
    doublets = pop == "doublets"
    cells = truth["is_denominator"].to_numpy()
    assert (single & doublets).sum() < 0.05 * doublets.sum()
    assert (single & cells).sum() > 0.99 * cells.sum()
    # the denominator agrees with the simulator's on >= 99.8 % of events
    assert (ps.denominator_mask != cells).mean() < 0.002


def test_singlets_from_fsc_width_when_there_is_no_height():
    s, truth = simulated("B-ALL", 60_000, 1e-3, 6)
    a = s.channel("FSC-A").astype(np.float64)
    h = s.channel("FSC-H").astype(np.float64)
    ev = s.events.copy()
    ev[:, s.channels.index("FSC-H")] = (a / np.maximum(h, 1.0) * 60_000.0).astype(np.float32)
    chans = ["FSC-W" if c == "FSC-H" else c for c in s.channels]
    sw = FlowSample.from_array(ev, chans, markers=s.markers, spillover=s.spillover)
    ps = prepare(sw, "B-ALL")
    row = ps.gates.set_index("gate").loc["Singlets"]
    assert row.y == "FSC-W" and "width_max" in json.loads(row.coordinates)
    doublets = truth["population"].to_numpy() == "doublets"
    assert (ps.gate_masks["Singlets"] & doublets).sum() < 0.05 * doublets.sum()


def test_time_qc_drops_an_unstable_interval():
    s, _ = simulated("B-ALL", 100_000, 1e-3, 7)
    # a partial clog: the signal of every fluorescence detector drops to 40 % for 5 % of the run
    ev, burst = clogged_events(s)
    bad = FlowSample.from_array(ev, s.channels, markers=s.markers, spillover=s.spillover)
    ps = prepare(bad, "B-ALL")
    q = ps.qc.set_index("step").loc["TimeQC"]
    kept = ps.gate_masks["TimeQC"]
    nucleated = ps.gate_masks["Nucleated"]
    assert (kept & burst).sum() < 0.2 * (nucleated & burst).sum()  # the interval is out
    assert (kept & ~burst & nucleated).sum() > 0.9 * (~burst & nucleated).sum()  # the rest stays
    assert q.removed > 0 and "time bins dropped" in q.detail
    # a stable file loses nothing to time QC
    ok = prepare(s, "B-ALL").qc.set_index("step").loc["TimeQC"]
    assert ok.removed == 0


def test_qc_off_skips_time_and_singlets():
    s, _ = simulated("B-ALL", 20_000, 1e-2, 8)
    ps = prepare(s, "B-ALL", qc=False)
    q = ps.qc.set_index("step")
    assert q.loc["TimeQC", "removed"] == 0 and q.loc["Singlets", "removed"] == 0
    assert q.loc["Singlets", "detail"].startswith("skipped")


def test_placed_strategy_exports_to_gatingml_and_regates_identically(tmp_path):
    s, _ = simulated("B-ALL", 60_000, 1e-2, 9)
    ps = prepare(s, "B-ALL")
    path = ps.to_gatingml(tmp_path / "placed.xml")
    doc = read_gatingml(path)
    assert doc.markers == {ch: m for m, ch in ps.channels.items()}
    again = GatingStrategy.from_document(doc).gate(s)
    for gid, mask in ps.gate_masks.items():
        if gid in again.strategy.gate_ids:
            np.testing.assert_array_equal(again.membership(gid), mask, err_msg=gid)
    assert again.count("LAIP") == ps.gate_masks["LAIP"].sum() > 0


@pytest.mark.parametrize(
    "panel, factors",
    [
        ("B-ALL", {"CD38": 1.35, "CD58": 0.75}),
        ("B-ALL", {"CD45": 1.35, "CD10": 0.75}),
        ("T-ALL", {"CD5": 1.35, "CD99": 0.75}),
        ("AML", {"CD7": 0.75, "CD117": 1.35}),
    ],
)
def test_placement_follows_drift(panel, factors):
    s, truth = simulated(panel, 200_000, 1e-3, 11)
    ps0 = prepare(s, panel)
    ps = prepare(drifted(s, panel, factors), panel)
    assert f1(ps.gate_masks["LAIP"], truth) >= 0.95
    # every drifted marker's placed thresholds moved the way the channel did
    g0, g = ps0.gates.set_index("gate"), ps.gates.set_index("gate")
    for gid in g.index[(g["kind"] == "threshold") & g["x"].isin(list(factors)) & g["placed"]]:
        t0 = json.loads(g0.loc[gid, "coordinates"])["threshold"]
        t1 = json.loads(g.loc[gid, "coordinates"])["threshold"]
        f = factors[g.loc[gid, "x"]]
        if json.loads(g.loc[gid, "coordinates"])["method"] == "landmark":
            assert np.sign(t1 - t0) == np.sign(f - 1.0), gid


@pytest.mark.parametrize("panel, seed", [("B-ALL", 12), ("PUIH B-ALL", 13), ("T-ALL", 14), ("AML", 15)])
def test_placement_memberships_are_what_the_strategy_finds(panel, seed):
    # prepare() hands the strategy the memberships placement computed and evaluates only
    # the LAIP booleans; gating the file with the strategy from scratch finds the same
    # events for every gate, interval and boolean helper included
    s, _ = simulated(panel, 60_000, 1e-2, seed)
    ev = s.events.copy()
    ev[::997, 3] = np.nan  # NaN is outside every gate, in both
    s = FlowSample.from_array(ev, s.channels, markers=s.markers, spillover=s.spillover)
    ps = prepare(s, panel)
    fresh = ps.strategy.gate(s)
    laip = ps.panel.laips[0].id
    assert fresh.count(laip) > 0
    for gid in ps.strategy.gate_ids:
        if gid in ps.gate_masks:
            np.testing.assert_array_equal(fresh.membership(gid), ps.gate_masks[gid], err_msg=gid)
    # the memberships given are the ones used
    given = {gid: np.zeros(s.n_events, dtype=bool) for gid in ps.gate_masks if gid != laip}
    assert ps.strategy._gate(s, memberships=given).count(laip) == 0


def test_time_qc_intervals_regate_identically():
    s, _ = simulated("B-ALL", 100_000, 1e-3, 7)
    ev = s.events.copy()
    t = ev[:, s.channels.index("Time")].astype(np.float64)
    lo, hi = np.quantile(t, [0.40, 0.45])
    burst = (t >= lo) & (t < hi)
    for c in s.spillover.columns:
        ev[burst, s.channels.index(c)] *= 0.4
    bad = FlowSample.from_array(ev, s.channels, markers=s.markers, spillover=s.spillover)
    ps = prepare(bad, "B-ALL")
    assert len(json.loads(ps.gates.set_index("gate").loc["TimeQC", "coordinates"])["intervals"]) == 2
    fresh = ps.strategy.gate(bad)
    for gid in ps.strategy.gate_ids:
        if gid in ps.gate_masks:
            np.testing.assert_array_equal(fresh.membership(gid), ps.gate_masks[gid], err_msg=gid)

"""Gating page: every gate drawn on its parent's events with its count, % and LAIP events.

Checked through matplotlib's artists (titles, texts, lines, collections), not pixels.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from mrdquant.errors import InputError
from mrdquant.mfc.plots import LAIP_COLOR, gating_figure, plot_gating

GATE_COLUMNS = ["gate", "parent", "kind", "x", "y", "coordinates", "placed", "events", "percent_parent"]


@dataclass
class FakeResult:
    """Exactly the contract fields a plot reads from an MfcResult."""

    gates: pd.DataFrame
    gate_masks: dict
    laip_mask: np.ndarray
    sample_id: str = "fake-01"
    mrd_pct: float = float("nan")
    status: str = ""
    provenance: dict = field(default_factory=dict)


@dataclass
class FakePrepared:
    """Event values as a PreparedSample carries them."""

    markers: list
    values: np.ndarray
    scatter: dict
    channels: dict


@pytest.fixture(scope="module")
def fake():
    rng = np.random.default_rng(3)
    n = 6000
    fsc = rng.normal(60_000, 8000, n)
    ratio = np.where(rng.uniform(size=n) < 0.05, 0.6, 0.9)
    fsch = fsc * ratio
    ssc = rng.normal(30_000, 8000, n)
    cd19 = np.where(rng.uniform(size=n) < 0.2, rng.normal(0.65, 0.04, n), rng.normal(0.15, 0.05, n))
    cd34 = rng.normal(0.3, 0.15, n)
    cd10 = rng.normal(0.45, 0.2, n)
    values = np.column_stack([cd19, cd34, cd10])
    singlets = fsch >= 0.75 * fsc
    cd19p = singlets & (cd19 >= 0.45)
    cd34p = cd19p & (cd34 >= 0.5)
    cd10p = cd19p & (cd10 >= 0.6)
    laip = cd34p & cd10p
    masks = {"Singlets": singlets, "CD19+": cd19p, "CD34+": cd34p, "CD10+": cd10p, "LAIP": laip}
    spec = [
        ("Singlets", "root", "singlets", "FSC-A", "FSC-H",
         {"vertices": [[0, 0], [300000, 225000], [300000, 300000], [0, 300000]]}),
        ("CD19+", "Singlets", "threshold", "CD19", "", {"threshold": 0.45, "side": "above"}),
        ("CD34+", "CD19+", "threshold", "CD34", "", {"threshold": 0.5, "side": "above"}),
        ("CD10+", "CD19+", "threshold", "CD10", "", {"threshold": 0.6, "side": "above"}),
        ("LAIP", "CD19+", "laip", "", "", {"all": ["CD34+", "CD10+"], "min_of": [], "k": 0}),
    ]
    rows = []
    for gid, parent, kind, x, y, coords in spec:
        pmask = np.ones(n, bool) if parent == "root" else masks[parent]
        ev = int(masks[gid].sum())
        rows.append([gid, parent, kind, x, y, json.dumps(coords), kind != "laip", ev, 100.0 * ev / pmask.sum()])
    gates = pd.DataFrame(rows, columns=GATE_COLUMNS)
    result = FakeResult(gates, masks, laip, provenance={"denominator_gate": "Singlets"})
    prepared = FakePrepared(["CD19", "CD34", "CD10"], values, {"FSC-A": fsc, "FSC-H": fsch, "SSC-A": ssc},
                            {"CD19": "PE-Cy7-A", "CD34": "PerCP-Cy5-5-A", "CD10": "PE-A"})
    return result, prepared


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_every_gate_has_a_plot_with_its_name_count_and_percentages(fake):
    result, prepared = fake
    fig = gating_figure(result, sample=prepared)
    axes = {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_title(loc="left")}
    assert list(axes) == list(result.gates.gate)
    den = int(result.gate_masks["Singlets"].sum())
    for row in result.gates.itertuples():
        box = "\n".join(_texts(axes[row.gate]))
        assert f"{row.events:,} events" in box, row.gate
        parent = "all events" if row.parent == "root" else row.parent
        # % of the parent, and of the denominator under it, to the digits shown
        shown = {m.group(2): float(m.group(1)) for m in re.finditer(r"([\d.]+) % of ([^·\n]+?)(?: ·|\n|$)", box)}
        assert shown[parent] == pytest.approx(row.percent_parent, rel=0.01), row.gate
        if row.gate not in ("Singlets", "CD19+"):
            assert shown["Singlets"] == pytest.approx(100 * row.events / den, rel=0.01), row.gate


def test_gates_are_drawn_where_they_were_placed(fake):
    result, prepared = fake
    fig = gating_figure(result, sample=prepared)
    axes = {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_title(loc="left")}
    for gid, thr in (("CD19+", 0.45), ("CD34+", 0.5), ("CD10+", 0.6)):
        lines = [ln for ln in axes[gid].lines if ln.get_gid() == f"gate-{gid}"]
        assert len(lines) == 1 and np.allclose(lines[0].get_xdata(), thr), gid
    # threshold gates on a lineage gate's children are paired with a sibling's marker
    assert axes["CD34+"].get_xlabel().startswith("CD34 (PerCP-Cy5-5-A")
    assert axes["CD34+"].get_ylabel().startswith("CD10 (PE-A")
    assert axes["CD19+"].get_ylabel() == "Side scatter area (SSC-A)"
    poly = [p for p in axes["Singlets"].patches if p.get_gid() == "gate-Singlets"]
    assert len(poly) == 1 and np.allclose(poly[0].get_xy()[1], [300000, 225000])
    # LAIP plot: both component thresholds
    laip_lines = {ln.get_gid() for ln in axes["LAIP"].lines}
    assert {"gate-LAIP", "gate-LAIP-y"} <= laip_lines


def test_laip_events_are_highlighted_in_their_own_colour(fake):
    result, prepared = fake
    fig = gating_figure(result, sample=prepared)
    n_laip = int(result.laip_mask.sum())
    assert n_laip > 20
    for ax in fig.axes:
        gid = ax.get_title(loc="left")
        if not gid:
            continue
        coll = [c for c in ax.collections if c.get_gid() == f"laip-events-{gid}"]
        assert len(coll) == 1, gid
        assert len(coll[0].get_offsets()) == n_laip  # every LAIP event lies inside every parent here
        assert to_hex(coll[0].get_facecolor()[0]) == to_hex(LAIP_COLOR)
    # and the LAIP points sit at the LAIP events' coordinates
    ax = [a for a in fig.axes if a.get_title(loc="left") == "CD34+"][0]
    pts = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(np.sort(pts[:, 0]), np.sort(prepared.values[result.laip_mask, 1]))


def test_header_names_the_sample_and_mrd(fake):
    result, prepared = fake
    r = FakeResult(result.gates, result.gate_masks, result.laip_mask, mrd_pct=0.0123, status="positive",
                   provenance={"denominator_gate": "Singlets", "panel_id": "B-ALL"})
    fig = gating_figure(r, sample=prepared)
    title = fig._suptitle.get_text()
    assert "fake-01" in title and "MRD 0.0123 % (positive)" in title and "B-ALL" in title
    assert f"LAIP {int(r.laip_mask.sum()):,} of {int(r.gate_masks['Singlets'].sum()):,}" in title
    # a not evaluable tube has no level: the header gives the call, not "MRD 0 %"
    ne = FakeResult(result.gates, result.gate_masks, result.laip_mask, mrd_pct=float("nan"), status="not evaluable",
                    provenance={"denominator_gate": "Singlets", "panel_id": "B-ALL"})
    title = gating_figure(ne, sample=prepared)._suptitle.get_text()
    assert "MRD not evaluable" in title and "%" not in title.split("LAIP")[0]


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_writes_by_suffix(fake, tmp_path, suffix, magic):
    result, prepared = fake
    out = plot_gating(result, tmp_path / "plots" / f"s{suffix}", sample=prepared)
    assert out.read_bytes()[:5].startswith(magic)
    if suffix == ".svg":
        assert "CD34+" in out.read_text(encoding="utf-8")


def test_bad_inputs(fake, tmp_path):
    result, prepared = fake
    with pytest.raises(InputError, match="expected .png, .svg or .pdf"):
        plot_gating(result, tmp_path / "x.jpg", sample=prepared)
    with pytest.raises(InputError, match="no event values"):
        plot_gating(result, tmp_path / "x.png")
    short = FakeResult(result.gates, result.gate_masks, result.laip_mask[:10])
    with pytest.raises(InputError, match="masks do not match"):
        plot_gating(short, tmp_path / "x.png", sample=prepared)
    with pytest.raises(InputError, match="gate_masks"):
        plot_gating(object(), tmp_path / "x.png", sample=prepared)
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_real_prepared_sample_and_mfc_result(tmp_path):
    """On a simulated tube: every gate of the prepared sample gets its plot and count;
    an MfcResult with the FCS path re-prepares the same events."""
    from mrdquant.mfc import prepare, quantify_mfc
    from mrdquant.simulate.flow import write_bone_marrow_fcs

    fcs, _ = write_bone_marrow_fcs(tmp_path / "b.fcs", "B-ALL", 30_000, mrd_fraction=1e-2, seed=2)
    ps = prepare(fcs, "B-ALL")
    fig = gating_figure(ps)
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert titles == list(ps.gates.gate)
    res = quantify_mfc(fcs, "B-ALL")
    out = plot_gating(res, tmp_path / "plots" / "b.png", sample=fcs)
    assert out.stat().st_size > 10_000
    fig2 = gating_figure(res, sample=fcs)
    for ax in fig2.axes:
        gid = ax.get_title(loc="left")
        if gid:
            row = res.gates.set_index("gate").loc[gid]
            assert f"{int(row.events):,} events" in "\n".join(_texts(ax))
    assert f"LAIP {res.laip_events:,} of {res.denominator_events:,}" in fig2._suptitle.get_text()


def test_laip_made_only_of_min_of_gates_is_drawn_on_two_of_them(fake):
    """An AML-style LAIP (no `all`, >=1 of CD7+/CD56+) still gets both axes and its rule."""
    result, prepared = fake
    gates = result.gates.copy()
    gates.loc[gates.gate == "LAIP", "coordinates"] = json.dumps({"all": [], "min_of": ["CD34+", "CD10+"], "k": 1})
    r = FakeResult(gates, result.gate_masks, result.laip_mask, provenance={"denominator_gate": "Singlets"})
    fig = gating_figure(r, sample=prepared)
    ax = [a for a in fig.axes if a.get_title(loc="left") == "LAIP"][0]
    assert ax.get_xlabel().startswith("CD34") and ax.get_ylabel().startswith("CD10")
    assert "≥1 of (CD34+, CD10+)" in "\n".join(_texts(ax))
    assert not any("nothing to draw" in t for t in _texts(ax))

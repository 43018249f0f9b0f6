"""A real FACSDiva B-ALL tube through the B-ALL panel (markers spelled differently, CD58 unnamed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mrdquant
from mrdquant.errors import ConfigError

FILE = "fcs_real/fcsparser__facs_diva_test.fcs"


@pytest.fixture(scope="module")
def result(shared_data):
    return mrdquant.quantify_mfc(shared_data / FILE, "B-ALL", channels={"CD58": "APC-Cy7-A"})


def test_markers_resolve_despite_spelling(result):
    ch = result.provenance["channels"]
    assert ch["Syto41"] == "PacificBlue-A"  # $PnS "Syto 41"
    assert ch["CD58"] == "APC-Cy7-A" and ch["CD19"] == "APC-A"


def test_without_the_mapping_the_error_lists_the_files_markers(shared_data):
    with pytest.raises(ConfigError, match=r"\['CD58'\].*'CD20', 'CD10', 'CD45', 'CD34', 'Syto 41', 'CD19', 'CD38'"):
        mrdquant.quantify_mfc(shared_data / FILE, "B-ALL")


def test_gate_counts_are_internally_consistent(result):
    n = result.provenance["n_events"]
    q = result.qc
    assert q["events_in"].iloc[0] == n == 83_411
    assert (q["removed"] == q["events_in"] - q["events_out"]).all()
    assert (q["events_in"].iloc[1:].to_numpy() == q["events_out"].iloc[:-1].to_numpy()).all()
    assert result.denominator_events == q["events_out"].iloc[-1]
    g = result.gates.set_index("gate")
    for gate, row in g.iterrows():
        assert result.gate_masks[gate].sum() == row.events
        if row.parent != "root":
            assert row.events <= g.loc[row.parent, "events"]
            assert not (result.gate_masks[gate] & ~result.gate_masks[row.parent]).any()
        c = json.loads(row.coordinates)
        if c.get("bounds") and "threshold" in c:
            assert c["bounds"][0] <= c["threshold"] <= c["bounds"][1]
    assert result.laip_events == g.loc["LAIP", "events"] == result.laip_mask.sum()
    # the file has FSC-W, not FSC-H: singlets are a width gate
    assert g.loc["Singlets", "y"] == "FSC-W"
    assert result.status in mrdquant.cytometry.laip.MFC_STATUSES


def test_gating_page_is_written(result, shared_data, tmp_path):
    from mrdquant.mfc.plots import gating_figure, plot_gating

    out = plot_gating(result, tmp_path / "diva.png", sample=shared_data / FILE)
    assert out.exists() and out.stat().st_size > 10_000
    # a real FACSDiva tube (FSC-W, no FSC-H): every gate has its plot with its count
    fig = gating_figure(result, sample=shared_data / FILE)
    titled = {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_title(loc="left")}
    assert list(titled) == list(result.gates.gate)
    for row in result.gates.itertuples():
        assert f"{int(row.events):,} events" in "\n".join(t.get_text() for t in titled[row.gate].texts), row.gate

"""The former panel names (get_panel, available_panels) still work."""

from __future__ import annotations

import pytest

from mrdquant.mfc.panels import Panel, available_panels, get_panel
from mrdquant.errors import ConfigError


def test_bundled_panels():
    assert available_panels() == ["B-ALL", "PUIH B-ALL", "T-ALL", "AML"]


def test_aieop_bfm_b_all_markers():
    p = get_panel("B-ALL")
    stains = {c.marker for c in p.fluorescence}
    assert stains == {"CD58", "CD10", "CD34", "CD19", "CD38", "CD20", "CD45", "Syto41"}
    assert [c.name for c in p.channels if c.kind != "fluorescence"] == ["FSC-A", "FSC-H", "SSC-A", "Time"]
    assert p.gate_order[0] == "Syto41+" and p.gate_order[-1] == "blasts (LAIP)"
    assert p.disease == "ALL" and p.lineage == "B"


def test_puih_b_all_markers():
    stains = {c.marker for c in get_panel("PUIH B-ALL").fluorescence}
    assert stains == {"CD58", "CD10", "CD19", "CD34", "CD45", "CD38"}


def test_t_all_and_aml_markers():
    assert {"cyCD3", "CD7", "sCD3", "CD5", "CD99", "CD45"} <= set(get_panel("T-ALL").markers)
    aml = {c.marker for c in get_panel("AML").fluorescence}
    assert aml == {"CD34", "CD117", "CD45", "CD33", "CD13", "CD56", "CD7", "HLA-DR"}
    assert get_panel("AML").disease == "AML"


@pytest.mark.parametrize("panel_id", ["B-ALL", "PUIH B-ALL", "T-ALL", "AML"])
def test_channel_names_unique_and_markers_aligned(panel_id):
    p = get_panel(panel_id)
    assert len(set(p.channel_names)) == len(p.channel_names)
    assert len(p.channel_markers) == len(p.channel_names)
    assert p.markers == [c.marker for c in p.fluorescence]
    assert all(c.fluorochrome and c.marker for c in p.fluorescence)
    assert all(n.endswith(("-A", "-H")) for n in p.channel_names if n != "Time")


def test_lookup_by_alias_marker_and_channel():
    p = get_panel("aieop-bfm b-all")
    assert p is get_panel("B-ALL") and get_panel(p) is p
    assert p.channel_for("cd19") == "PE-Cy7-A"
    assert p.channel_for("PE-Cy7-A") == "PE-Cy7-A"
    assert isinstance(p, Panel)


def test_unknown_panel_and_marker_are_config_errors():
    with pytest.raises(ConfigError, match="unknown panel 'CLL'"):
        get_panel("CLL")
    with pytest.raises(ConfigError, match="no channel for marker 'CD117'"):
        get_panel("B-ALL").channel_for("CD117")

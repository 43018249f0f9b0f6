"""Panels as TOML data: loading, aliases, validation errors, marker resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mrdquant
from mrdquant.errors import ConfigError
from mrdquant.io.fcs import FlowSample
from mrdquant.mfc.markers import resolve_channels, resolve_scatter
from mrdquant.mfc.panels import list_panels, load_panel, normalize_marker

PANEL_DIR = Path(mrdquant.__file__).parent / "mfc" / "panels"


def test_bundled_ids_aliases_and_public_names():
    assert mrdquant.list_panels() == list_panels() == ["B-ALL", "PUIH B-ALL", "T-ALL", "AML"]
    assert mrdquant.load_panel("aieop-bfm b-all") is load_panel("B-ALL")
    assert load_panel("puih").panel_id == "PUIH B-ALL"
    assert load_panel("AML ELN core").panel_id == "AML"
    assert load_panel(load_panel("T-ALL")).panel_id == "T-ALL"


def test_panel_contents_follow_domain_marker_sets():
    b = load_panel("B-ALL")
    assert set(b.markers) == {"CD58", "CD10", "CD34", "CD19", "CD38", "CD20", "CD45", "Syto41"}
    assert b.disease == "ALL" and b.denominator_gate == "Viable"
    assert [g.id for g in b.denominator_chain] == ["Nucleated", "TimeQC", "Singlets", "Viable"]
    assert b.default_channels["CD19"] == "PE-Cy7-A"
    aml = load_panel("AML")
    assert {"CD34", "CD117", "CD45", "CD33", "CD13", "CD56", "CD7", "HLA-DR"} == set(aml.markers)
    assert aml.denominator_gate == "CD45+" and aml.disease == "AML"
    t = load_panel("T-ALL")
    assert {"cyCD3", "CD7", "sCD3", "CD5", "CD99", "CD45"} <= set(t.markers)


def test_hash_is_sha256_of_content_not_of_path(tmp_path):
    src = PANEL_DIR / "b_all.toml"
    copy = tmp_path / "mine.toml"
    copy.write_text(src.read_text() + "\n# a comment does not change the content\n")
    a, b = load_panel("B-ALL"), load_panel(copy)
    assert len(a.hash) == 64 and a.hash == b.hash and b.path == str(copy)
    changed = tmp_path / "changed.toml"
    changed.write_text(src.read_text().replace("value = 0.47", "value = 0.48", 1))
    assert load_panel(changed).hash != a.hash


def test_normalize_marker():
    assert normalize_marker("Syto 41") == normalize_marker("syto-41") == "syto41"
    assert normalize_marker("HLA-DR") == normalize_marker("HLADR") == normalize_marker("hla dr")


def _broken(tmp_path, old, new, count=1):
    text = (PANEL_DIR / "b_all.toml").read_text()
    assert old in text
    p = tmp_path / "broken.toml"
    p.write_text(text.replace(old, new, count))
    return p


@pytest.mark.parametrize(
    "old, new, match",
    [
        ('disease = "ALL"', 'disease = "CLL"', r"key 'disease': expected 'ALL' or 'AML', got 'CLL'"),
        ('side = "above"', 'side = "up"', r"key 'denominator\[0\]\.side'"),
        ('place = "landmark"', 'place = "magic"', r"key 'gates\[3\]\.place'"),
        ('parent = "CD19+"', 'parent = "CD20+"', r"key 'gates\[1\]\.parent'"),
        ('marker = "CD34"', 'marker = "CD117"', r"key 'gates\[1\]\.marker'.*CD117"),
        ("bounds = [0.35, 0.6]", "bounds = [0.6, 0.35]", r"key 'gates\[0\]\.bounds'"),
        ("value = 0.47", "value = 0.9", r"key 'gates\[0\]\.value': expected a value inside bounds"),
        ("schema = 1", "schema = 1\ncolour = 3", r"unknown key 'colour'"),
        ('all = ["CD34+", "CD10+", "CD38dim"]', 'all = ["CD34+", "nope"]', r"laips\[0\]"),
    ],
)
def test_malformed_panel_names_file_and_key(tmp_path, old, new, match):
    p = _broken(tmp_path, old, new)
    with pytest.raises(ConfigError, match=match) as info:
        load_panel(p)
    assert str(p) in str(info.value)


def test_invalid_toml_and_missing_file(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("id = [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        load_panel(p)
    with pytest.raises(ConfigError, match="cannot read panel file"):
        load_panel(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="unknown panel 'CLL'.*B-ALL"):
        load_panel("CLL")


def _sample(channels, markers):
    return FlowSample.from_array(np.zeros((3, len(channels))), channels, markers=markers)


def test_markers_resolve_by_pns_tolerating_spelling():
    panel = load_panel("B-ALL")
    s = _sample(
        ["FSC-A", "FSC-W", "SSC-A", "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "Time"],
        ["", "", "", "cd58", "CD10 PE", "CD-34", "CD19", "CD38", "CD20", "Syto 41", "CD45", ""],
    )
    got = resolve_channels(panel, s)
    assert list(got) == panel.markers
    assert got == {"CD58": "B1", "CD10": "B2", "CD34": "B3", "CD19": "B4", "CD38": "B5", "CD20": "B6",
                   "Syto41": "B7", "CD45": "B8"}
    sc = resolve_scatter(s)
    assert sc["FSC-A"] == "FSC-A" and sc["FSC-H"] is None and sc["FSC-W"] == "FSC-W" and sc["Time"] == "Time"


def test_hladr_matches_without_hyphen_and_explicit_mapping_wins():
    panel = load_panel("AML")
    chans = ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "X"]
    marks = ["CD7", "CD56", "CD34", "CD117", "CD33", "HLADR", "CD13", "CD45", ""]
    s = _sample(chans, marks)
    assert resolve_channels(panel, s)["HLA-DR"] == "C6"
    s2 = _sample(chans, marks[:5] + ["", "CD13", "CD45", ""])
    assert resolve_channels(panel, s2, channels={"hla-dr": "C6"})["HLA-DR"] == "C6"


def test_missing_marker_lists_the_files_markers():
    panel = load_panel("B-ALL")
    s = _sample(["A", "B", "C"], ["CD19", "CD10", ""])
    with pytest.raises(ConfigError, match=r"needs marker\(s\) \['CD58', 'CD34'.*file's markers \(\$PnS\) are \['CD19', 'CD10'\]"):
        resolve_channels(panel, s)
    with pytest.raises(ConfigError, match="not a channel of the file"):
        resolve_channels(panel, s, channels={"CD58": "nope"})
    with pytest.raises(ConfigError, match="not a marker of panel"):
        resolve_channels(panel, s, channels={"CD117": "C"})


def test_simulator_reads_the_same_panel_files():
    from mrdquant.simulate.flow import simulate_bone_marrow

    panel = load_panel("T-ALL")
    s, _ = simulate_bone_marrow("T-ALL", n_events=200, seed=3)
    assert s.channels == panel.channel_names and s.markers == panel.channel_markers
    assert resolve_channels(panel, s) == panel.default_channels


def test_strategy_marker_check():
    from mrdquant.errors import GatingError
    from mrdquant.mfc.markers import check_strategy_markers

    expected = {"B2": "CD19", "B3": "HLA-DR"}
    check_strategy_markers(expected, _sample(["B1", "B2", "B3"], ["CD45", "cd 19", "HLADR"]))
    check_strategy_markers(expected, _sample(["B1", "B2", "B3"], ["CD45", "", ""]))  # unnamed: accepted
    with pytest.raises(GatingError, match=r"channel 'B2' carries 'CD117'.*expects 'CD19'; the file has 'CD19' on 'B1'"):
        check_strategy_markers(expected, _sample(["B1", "B2", "B3"], ["CD19", "CD117", "HLA-DR"]))
    with pytest.raises(GatingError, match="no channel 'B3'"):
        check_strategy_markers(expected, _sample(["B1", "B2"], ["CD45", "CD19"]))


def test_transform_object_is_built_once_per_parameter_set():
    from mrdquant.cytometry.transforms import LogicleTransform

    a = load_panel("B-ALL").transform_object()
    assert a == LogicleTransform(T=262144.0, W=0.5, M=4.5, A=0.0)
    assert load_panel("T-ALL").transform_object() is a  # same parameters: the same (immutable) object


def test_stain_and_marker_keys_match_as_channel_resolution_does():
    from mrdquant.mfc.markers import marker_keys, stain_keys

    assert stain_keys("CD19 PE-Cy7") == ("cd19pecy7", "cd19")
    assert stain_keys(" HLA-DR/V500 ") == ("hladrv500", "hladr")
    assert stain_keys("") == stain_keys("   ") == ("", "")
    assert marker_keys("Syto41", ["Syto 41", "SYTO-41"]) == {"syto41"}
    assert marker_keys("HLA-DR", ["DR"]) == {"hladr", "dr"}

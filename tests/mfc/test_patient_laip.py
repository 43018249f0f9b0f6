"""Patient LAIPs: derived at diagnosis, written as editable TOML, applied to follow-ups."""

from __future__ import annotations

import pytest

import mrdquant
from mrdquant.errors import ConfigError
from mrdquant.mfc import derive_laip, read_laip, write_laip
from tests.mfc.conftest import drifted, f1, simulated


@pytest.fixture(scope="module")
def laip_file(tmp_path_factory):
    dx, _ = simulated("B-ALL", 100_000, 0.2, 61)
    pl = derive_laip(dx, "B-ALL", patient_id="P7")
    path = write_laip(pl, tmp_path_factory.mktemp("laip") / "P7.toml")
    return pl, path


def test_written_file_reads_back_identically(laip_file):
    pl, path = laip_file
    back = read_laip(path)
    assert back.hash == pl.hash and back.patient_id == "P7" and back.panel_id == "B-ALL"
    assert [g.id for g in back.gates] == [g.id for g in pl.gates]
    assert back.laip.all == pl.laip.all
    text = path.read_text()
    assert "[[gates]]" in text and "[[diagnosis]]" in text  # readable, with what was measured


def test_derived_laip_describes_the_blasts(laip_file):
    pl, _ = laip_file
    sides = {g.marker: g.side for g in pl.gates}
    # simulated B-ALL blasts vs normal B precursors: CD34 on, CD38 dim
    assert sides.get("CD34") == "above" and sides.get("CD38") == "below"
    diag = {m["marker"]: m for m in pl.markers}
    assert diag["CD20"]["direction"] == "dim" and diag["CD58"]["direction"] == "bright"


@pytest.mark.parametrize("drift", [{}, {"CD38": 1.3, "CD34": 0.8}])
def test_patient_laip_finds_the_blasts_in_follow_ups(laip_file, drift):
    _, path = laip_file
    fu, truth = simulated("B-ALL", 200_000, 1e-3, 62)
    r = mrdquant.quantify_mfc(drifted(fu, "B-ALL", drift) if drift else fu, "B-ALL", laip=path)
    assert f1(r.laip_mask, truth) >= 0.95
    assert r.provenance["laip_source"].startswith("patient LAIP") and str(path) in r.provenance["laip_source"]


def test_an_edited_threshold_changes_the_result_and_the_hash(laip_file, tmp_path):
    pl, path = laip_file
    gate = pl.gates[0]
    text = path.read_text()
    edited = tmp_path / "edited.toml"
    old = f"id = \"{gate.id}\""
    assert old in text
    # make the first gate impossible to pass: its bounds pinned far outside the blasts
    block = text.split(old, 1)[1].split("[[", 1)[0]
    far, lo, hi = ("1.15", "1.1", "1.2") if gate.side == "above" else ("-0.15", "-0.2", "-0.1")
    new_block = block.replace(f"value = {gate.value!r}", f"value = {far}").replace(
        f"bounds = [{gate.bounds[0]!r}, {gate.bounds[1]!r}]", f"bounds = [{lo}, {hi}]").replace(
        'place = "landmark"', 'place = "fixed"')
    edited.write_text(text.replace(block, new_block, 1))
    fu, _ = simulated("B-ALL", 60_000, 1e-2, 63)
    r = mrdquant.quantify_mfc(fu, "B-ALL", laip=edited)
    assert read_laip(edited).hash != pl.hash
    assert r.laip_events == 0


def test_laip_of_another_panel_or_malformed_is_refused(laip_file, tmp_path):
    _, path = laip_file
    s, _ = simulated("PUIH B-ALL", 5_000, 1e-2, 64)
    with pytest.raises(ConfigError, match="derived with panel 'B-ALL'"):
        mrdquant.quantify_mfc(s, "PUIH B-ALL", laip=path)
    bad = tmp_path / "bad.toml"
    bad.write_text(path.read_text().replace('side = "above"', 'side = "sideways"', 1))
    with pytest.raises(ConfigError, match=r"bad\.toml: key 'gates\[\d\]\.side'"):
        read_laip(bad)
    with pytest.raises(ConfigError, match="cannot read LAIP file"):
        read_laip(tmp_path / "absent.toml")


def test_too_few_blasts_to_derive():
    s, _ = simulated("B-ALL", 20_000, 0.0, 65)
    with pytest.raises(ConfigError, match="at least 50 of each"):
        derive_laip(s, "B-ALL")

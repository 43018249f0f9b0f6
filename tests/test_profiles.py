"""Profiles: every threshold carries value, unit and source; unset values carry a reason."""

from __future__ import annotations

import pytest

from mrdquant.errors import ConfigError
from mrdquant.profiles import UNSET, available_profiles, load_profile


def test_bundled_profiles_listed():
    ids = available_profiles()
    assert "puih_2020" in ids and "eln_2009" in ids


def test_every_set_threshold_has_a_source():
    for pid in available_profiles():
        table = load_profile(pid).table()
        thresholds = table[table["unit"] != ""]
        no_source = thresholds[(thresholds["source"] == "") & (thresholds["value"] != UNSET)]
        assert no_source.empty, f"{pid}: thresholds without a source:\n{no_source}"
        unset = table[table["value"] == UNSET]
        assert (unset["reason"] != "").all(), f"{pid}: unset parameters must say why"


def test_profile_folder_from_path(tmp_path):
    (tmp_path / "profile.toml").write_text('[profile]\nid = "lab_x"\ntitle = "t"\nsource = "s"\n')
    (tmp_path / "wt1.toml").write_text(
        '[positive_above.BM]\nvalue = 1.5\nunit = "% of ABL1"\nsource = "local validation 2025"\n'
        '[onset]\nvalue = "unset"\nreason = "not defined"\n'
    )
    prof = load_profile(tmp_path)
    t = prof.threshold("wt1.positive_above.BM")
    assert (t.value, t.unit, t.source) == (1.5, "% of ABL1", "local validation 2025")
    assert prof.threshold("wt1.onset").value is None
    assert prof.threshold("wt1.onset").reason == "not defined"
    changed = prof.with_values(wt1__positive_above__BM=2.0)
    assert changed.value("wt1.positive_above.BM") == 2.0
    assert changed.threshold("wt1.positive_above.BM").source == "user override"
    assert prof.value("wt1.positive_above.BM") == 1.5  # original untouched
    with pytest.raises(ConfigError, match="wt1.missing"):
        prof.threshold("wt1.missing")


def test_unknown_profile_names_the_choices():
    with pytest.raises(ConfigError, match="puih_2020"):
        load_profile("no_such_profile")


def test_bad_toml_names_the_file(tmp_path):
    (tmp_path / "profile.toml").write_text("[profile\n")
    with pytest.raises(ConfigError, match="profile.toml"):
        load_profile(tmp_path)

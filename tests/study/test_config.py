"""``study.toml``: parsing, defaults, and errors that name the file and the key."""

from __future__ import annotations

import pytest

from mrdquant.errors import ConfigError
from mrdquant.study import load_study


def _write(root, text):
    root.mkdir(parents=True, exist_ok=True)
    (root / "study.toml").write_text(text, encoding="utf-8")
    return root


def test_simulated_study_file_parses(study_copy):
    study = load_study(study_copy / "study.toml")
    assert study.root == study_copy.resolve()
    assert study.store == str((study_copy / "mrdquant.sqlite").resolve())
    assert study.results == (study_copy / "results").resolve()
    assert len(study.flow) == 1 and study.flow[0].panel_id == "B-ALL" and study.flow[0].disease == "ALL"
    from mrdquant.mfc.panels import load_panel

    assert study.flow[0].panel_hash == load_panel("B-ALL").hash
    assert study.profile.value("mfc.min_denominator_events.ALL") == 4000
    assert study.profile.threshold("mfc.min_denominator_events.ALL").source == "user override"
    assert len(study.fcs_files()) == len(list((study_copy / "flow").glob("*.fcs")))
    assert study.qpcr.min_abl1 == 10_000 and study.qpcr.curves.name == "stored_curves.csv"
    assert study.index == "first_mrd_positive" and study.horizon_years == 2


def test_profile_override_changes_the_parameter_hash(study_copy):
    a = load_study(study_copy)
    text = (study_copy / "study.toml").read_text().replace("= 4000", "= 4500")
    (study_copy / "study.toml").write_text(text)
    b = load_study(study_copy)
    assert a.profile_hash != b.profile_hash
    assert a.params_hash(a.flow_parameters(a.flow[0])) != b.params_hash(b.flow_parameters(b.flow[0]))
    assert a.params_hash(a.study_parameters()) != b.params_hash(b.study_parameters())


def test_several_flow_tables_and_a_file_matched_twice(tmp_path):
    root = tmp_path / "s"
    (root / "a").mkdir(parents=True)
    (root / "a" / "x.fcs").write_bytes(b"")
    (root / "a" / "y.fcs").write_bytes(b"")
    (root / "strategy.xml").write_text("<x/>")
    _write(root, '[[flow]]\nfiles = "a/x.fcs"\npanel = "B-ALL"\nstrategy = "strategy.xml"\n'
                 '[[flow]]\nfiles = "a/y.fcs"\npanel = "T-ALL"\nstrategy = "strategy.xml"\n')
    study = load_study(root)
    assert [(s.panel, [p.name for p in f]) for s, f in study.fcs_groups()] == [("B-ALL", ["x.fcs"]), ("T-ALL", ["y.fcs"])]
    _write(root, '[[flow]]\nfiles = "a/*.fcs"\nstrategy = "strategy.xml"\n'
                 '[[flow]]\nfiles = "a/y.fcs"\npanel = "T-ALL"\nstrategy = "strategy.xml"\n')
    with pytest.raises(ConfigError, match=r"y\.fcs is matched by the files of two"):
        load_study(root).fcs_groups()


@pytest.mark.parametrize("text, message", [
    ("[study]\nprofil = 'x'\n", r"\[study\] unknown key\(s\) \['profil'\]"),
    ("[qpcr]\nfiles = 'q/*.txt'\n", r"\[qpcr\] needs min_abl1"),
    ("[flow]\nfiles = 'f/*.fcs'\n", r"\[flow\] needs strategy"),
    ("[flow]\nfiles = 'f/*.fcs'\nstrategy = 'missing.xml'\n", r"\[flow\] strategy = 'missing.xml'"),
    ("[profile.values]\n'mfc.no_such' = 1\n", r"\[profile.values\] 'mfc.no_such'"),
    ("[study\n", r"invalid TOML"),
    ("[flow]\nfiles = 'f/*.fcs'\npanel = 'CLL'\n", r"\[flow\] panel = 'CLL': unknown panel"),
    ("[clinical]\npatients = 'nope.csv'\n", r"\[clinical\] patients = 'nope.csv'"),
])
def test_errors_name_the_file_and_the_key(tmp_path, text, message):
    root = _write(tmp_path / "s", text)
    with pytest.raises(ConfigError, match=message) as info:
        load_study(root)
    assert "study.toml" in str(info.value)


def test_a_folder_without_study_toml(tmp_path):
    with pytest.raises(ConfigError, match="no study.toml found"):
        load_study(tmp_path)

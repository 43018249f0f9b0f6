"""The R-reference drift checker (tests/outcomes/reference/check_drift.py)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "reference" / "check_drift.py"


@pytest.fixture(scope="module")
def drift():
    spec = importlib.util.spec_from_file_location("check_drift", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _diffs(drift, old, new):
    out: list[str] = []
    drift.compare(old, new, "", 1e-9, 1e-12, out)
    return out


def test_equal_within_relative_tolerance(drift):
    old = {"a": [1.0, 2.0, None], "b": {"c": "x", "d": True}, "meta": {"r": "4.2"}, "r_version": "4.2"}
    new = {"a": [1.0 + 1e-12, 2.0, None], "b": {"c": "x", "d": True}, "meta": {"r": "4.5"}, "r_version": "4.5"}
    assert _diffs(drift, old, new) == []


def test_reports_each_difference_with_its_path(drift):
    old = {"a": [1.0, 2.0], "b": {"c": "x"}, "gone": 1, "n": [1, 2, 3]}
    new = {"a": [1.0, 2.0 * (1 + 1e-8)], "b": {"c": "y"}, "new": 1, "n": [1, 2]}
    diffs = _diffs(drift, old, new)
    assert any(d.startswith("/a[1]: 2.0 -> ") for d in diffs)
    assert "/b/c: 'x' -> 'y'" in diffs
    assert "/gone: removed" in diffs and "/new: added" in diffs
    assert "/n: length 3 -> 2" in diffs
    assert len(diffs) == 5


def test_skips_without_rscript(drift, monkeypatch, capsys):
    monkeypatch.setattr(drift.shutil, "which", lambda name: None)
    assert drift.main([]) == 0
    assert capsys.readouterr().out.strip() == "skipped: Rscript not found"


@pytest.mark.slow
@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
def test_committed_competing_risks_json_is_reproduced_by_r(drift):
    script = SCRIPT.parent / "competing_risks.R"
    assert drift.check_script(script, shutil.which("Rscript"), 1e-9, 1e-12) == []

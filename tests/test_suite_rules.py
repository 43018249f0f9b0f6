"""Rules of the test suite itself: no hidden skips of our own code, one test command."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def _test_files():
    return sorted((ROOT / "tests").rglob("test_*.py"))


def test_no_test_skips_when_mrdquant_itself_fails_to_import():
    """A broken mrdquant module must fail the suite, not skip its tests."""
    offenders = []
    skip_on_import = re.compile(
        r"except\s+\(?\s*(ImportError|ModuleNotFoundError)[^:]*:\s*(#[^\n]*)?\n\s*pytest\.skip", re.MULTILINE
    )
    for path in _test_files():
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        if re.search(r"importorskip\(\s*f?[\"']mrdquant", text):
            offenders.append(f"{rel}: importorskip of an mrdquant module")
        if re.search(r"find_spec\(\s*f?[\"']mrdquant", text):
            offenders.append(f"{rel}: skipif on an mrdquant module")
        if skip_on_import.search(text):
            offenders.append(f"{rel}: pytest.skip on ImportError")
    assert not offenders, "\n".join(offenders)


def test_slow_tests_are_excluded_by_default_and_ci_runs_the_readme_command():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert "-m 'not slow'" in config["addopts"]
    slow = [m for m in config["markers"] if m.startswith("slow:")][0]
    assert "excluded by default" in slow and "-m slow" in slow
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"python -m pip install \"\.\[test\]\" && (python -m pytest[^\n`]*)", readme).group(1)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    runs = [line.strip() for line in ci.splitlines() if line.strip().startswith("python -m pytest")]
    assert runs == [command.strip()]
    assert "python -m pytest -m slow" in readme

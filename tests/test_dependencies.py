"""Declared dependencies match what the package imports; optional extras say so when missing."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
#: import name -> distribution name, where they differ
DISTRIBUTION = {"sklearn": "scikit-learn", "tomli": "tomli", "llvmlite": "numba"}
#: runtime dependencies used without an import statement (pandas engines, Parquet) or
#: declared ahead of the modules that import them
USED_WITHOUT_IMPORT = {"openpyxl", "xlrd", "pyarrow", "scikit-learn", "jinja2", "sqlalchemy"}


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _imported() -> set[str]:
    found = set()
    for path in (ROOT / "mrdquant").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    stdlib = set(sys.stdlib_module_names) | {"__future__", "mrdquant", "tomllib"}
    return {DISTRIBUTION.get(n, n).lower() for n in found - stdlib}


def test_runtime_dependencies_are_what_the_package_imports():
    project = _project()
    runtime = _names(project["dependencies"])
    extras = {k: _names(v) for k, v in project["optional-dependencies"].items()}
    imported = _imported()
    optional = {"dask"}  # behind the "distributed" extra
    assert imported - optional <= runtime, f"imported but not declared: {sorted(imported - optional - runtime)}"
    assert runtime - imported <= USED_WITHOUT_IMPORT, f"declared but not imported: {sorted(runtime - imported)}"
    for name in ("lifelines", "statsmodels", "allotropy", "flowutils", "dask"):
        assert name not in runtime
    assert {"allotropy", "flowutils", "pytest", "hypothesis"} <= extras["test"]
    assert extras["distributed"] == {"dask"}


def test_scheduler_without_the_distributed_extra_says_what_to_install(monkeypatch, tmp_path, data_samples, capsys):
    from mrdquant.cli.main import main

    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if the extra were not installed
    rc = main(["gate", str(data_samples / "flow" / "b_all_laip.xml"), str(data_samples / "flow" / "b_all_mrd1e-2.fcs"),
               "--out", str(tmp_path / "o"), "--no-progress", "--scheduler", "tcp://127.0.0.1:8786"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert rc == 2 and len(err) == 1
    assert "--scheduler needs dask.distributed" in err[0] and "pip install 'mrdquant[distributed]'" in err[0]


def test_import_mrdquant_does_not_import_dask():
    import subprocess

    code = "import sys, mrdquant, mrdquant.cli.main; print(any(m.split('.')[0] == 'dask' for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("extra", ["distributed", "test"])
def test_extras_exist(extra):
    assert extra in _project()["optional-dependencies"]

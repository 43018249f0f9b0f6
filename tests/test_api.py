"""Shape of the public API and the direction of imports inside the package.

The package's folders follow the data flow ``io -> cytometry | pcr -> calls -> outcomes ->
report / cli``; a module may import only from its own folder and from folders to its left.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import mrdquant

PACKAGE = Path(mrdquant.__file__).resolve().parent
BASE = {"errors", "_numba", "_lazy", "_version", "_resources", "profiles", "__init__"}

# folder -> folders it may import from (besides BASE and itself)
ALLOWED = {
    "profiles": set(),
    "io": set(),
    "cytometry": {"io"},
    "mfc": {"io", "cytometry"},
    "pcr": {"io"},
    "calls": {"io", "cytometry", "mfc", "pcr"},
    "outcomes": {"io", "cytometry", "mfc", "pcr", "calls"},
    "report": {"io", "cytometry", "mfc", "pcr", "calls", "outcomes"},
    "simulate": {"io", "cytometry", "mfc", "pcr", "calls"},
    "store": {"io", "cytometry", "mfc", "pcr", "calls"},
    "study": {"io", "cytometry", "mfc", "pcr", "calls", "outcomes", "report", "store"},
    "cli": {"io", "cytometry", "mfc", "pcr", "calls", "outcomes", "report", "simulate", "store", "study"},
}


def _imported_top_folders(path: Path) -> set[str]:
    """First component under ``mrdquant`` of every module ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel_parts = path.relative_to(PACKAGE).with_suffix("").parts
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                # resolve a relative import against the module's package
                pkg = list(rel_parts[:-1])
                up = node.level - 1
                if up > len(pkg):
                    continue
                base = pkg[: len(pkg) - up] if up else pkg
                target = base + (node.module.split(".") if node.module else [])
                if target:
                    found.add(target[0])
                else:  # "from .. import x" at the top: x is the folder
                    found.update(alias.name for alias in node.names)
            elif node.module and node.module.split(".")[0] == "mrdquant":
                parts = node.module.split(".")
                if len(parts) > 1:
                    found.add(parts[1])
                else:
                    found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "mrdquant" and len(parts) > 1:
                    found.add(parts[1])
    return found


def _package_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0].startswith("_data_samples"):
            continue
        yield path, rel


def test_imports_point_left():
    violations = []
    for path, rel in _package_modules():
        if len(rel.parts) == 1:
            folder = rel.stem
            if folder == "__init__":
                continue  # the flat API may name everything (lazily)
        else:
            folder = rel.parts[0]
        allowed = ALLOWED.get(folder)
        if allowed is None:
            continue  # a base module
        for target in _imported_top_folders(path):
            name = target.removesuffix(".py")
            if name == folder or name in BASE or name in allowed:
                continue
            violations.append(f"{rel} imports mrdquant.{name}")
    assert not violations, "imports must follow the data flow:\n" + "\n".join(violations)


def test_import_direction_checker_sees_a_violation(tmp_path):
    # the checker itself must notice a right-to-left import
    fake = PACKAGE / "io" / "_probe_for_test.py"
    assert not fake.exists()
    tree_src = "from ..calls import timeline\n"
    fake.write_text(tree_src)
    try:
        assert "calls" in _imported_top_folders(fake)
    finally:
        fake.unlink()


@pytest.mark.parametrize("module", ["mrdquant", "mrdquant.io", "mrdquant.cytometry", "mrdquant.mfc", "mrdquant.pcr", "mrdquant.calls", "mrdquant.outcomes", "mrdquant.report", "mrdquant.simulate", "mrdquant.store", "mrdquant.study"])
def test_every_public_name_resolves(module):
    import importlib

    mod = importlib.import_module(module)
    missing = [name for name in mod.__all__ if getattr(mod, name, None) is None]
    assert not missing, f"{module}.__all__ names that do not resolve: {missing}"


def test_import_is_light():
    """``import mrdquant`` and reading an FCS file must not import flowkit or matplotlib."""
    code = (
        "import sys, mrdquant; mrdquant.read_fcs; mrdquant.FlowSample; "
        "print(','.join(m for m in ('flowkit', 'matplotlib', 'bokeh') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_error_hierarchy():
    assert issubclass(mrdquant.FCSError, mrdquant.InputError)
    assert issubclass(mrdquant.InputError, mrdquant.MrdquantError)
    assert issubclass(mrdquant.InputError, ValueError)
    assert issubclass(mrdquant.QPCRError, mrdquant.MrdquantError)
    err = mrdquant.AssayQcError("plate failed", reasons=["NTC amplified"])
    assert err.reasons == ["NTC amplified"]


@pytest.mark.parametrize(
    "package", ["mrdquant", "mrdquant.outcomes", "mrdquant.simulate", "mrdquant.pcr", "mrdquant.calls"]
)
def test_exported_functions_are_not_shadowed_by_modules(package):
    """A public function must not share its name with a submodule of the same package.

    Importing ``pkg.name`` as a module rebinds the package attribute ``name`` to that
    module, which would hide a lazily exported function of the same name.
    """
    import importlib
    import pkgutil

    pkg = importlib.import_module(package)
    submodules = {info.name for info in pkgutil.iter_modules(pkg.__path__)}
    subpackages = {info.name for info in pkgutil.iter_modules(pkg.__path__) if info.ispkg}
    clashes = sorted((set(pkg.__all__) & submodules) - subpackages)
    assert not clashes, f"{package}: public names that are also module names: {clashes}"


def test_atomic_outputs_have_ordinary_permissions(tmp_path):
    import os

    import pandas as pd

    from mrdquant.io.store import write_table

    path = write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert not list(tmp_path.glob(".t.csv.*"))  # no temporary left behind


def test_failed_write_leaves_nothing_behind(tmp_path):
    import pandas as pd

    from mrdquant.errors import InputError
    from mrdquant.io.store import atomic_path, write_table

    target = tmp_path / "keep.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old\n"  # the previous file survives
    with pytest.raises(InputError, match=r"t\.xlsx.*\.csv, \.tsv or \.parquet"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv"]

"""Shared fixtures. Nothing is loaded at import time; outputs go to ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import os

import pytest
from hypothesis import HealthCheck, settings

# Property tests: no per-example deadline (the first example of a kernel test may include
# numba compilation), and on CI a fixed example sequence so a run is reproducible.
settings.register_profile("mrdquant", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("mrdquant"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "mrdquant")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real public test files); skips when absent (a user's fresh clone)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: real-file tests need ../shared/data beside the project")
    return SHARED_DATA


@pytest.fixture(scope="session")
def data_samples() -> Path:
    """The repository's bundled ``data_samples/`` folder."""
    return REPO_ROOT / "data_samples"


@pytest.fixture(params=[0, 1, 7])
def seed(request) -> int:
    """Tests using this must pass for any seed."""
    return request.param


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """``mrdquant demo`` run once per session: ``(results folder, printed output)``."""
    from typer.testing import CliRunner

    from mrdquant.cli.main import app

    out = tmp_path_factory.mktemp("demo") / "results"
    res = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out, res.output

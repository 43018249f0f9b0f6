"""Shared fixtures. Nothing is loaded at import time; outputs go to ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import pytest

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

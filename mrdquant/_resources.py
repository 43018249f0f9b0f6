"""Locate the bundled example inputs (``data_samples/``).

After ``pip install .`` they are package data at ``mrdquant/_data_samples``; in a source
checkout (including editable installs) they are the repository's ``data_samples/``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import MrdquantError

__all__ = ["data_samples_dir"]


def data_samples_dir() -> Path:
    """The folder holding the bundled example inputs."""
    packaged = Path(str(resources.files("mrdquant"))) / "_data_samples"
    if packaged.is_dir():
        return packaged
    source_tree = Path(__file__).resolve().parent.parent / "data_samples"
    if source_tree.is_dir():
        return source_tree
    raise MrdquantError(
        "the bundled data_samples/ folder is missing from this installation; "
        "reinstall mrdquant with 'pip install .' from a complete source tree"
    )

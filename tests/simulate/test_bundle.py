"""The committed data_samples/ are exactly what the simulators regenerate."""

from __future__ import annotations

import importlib

import pytest

from mrdquant.simulate.bundle import DATA_SAMPLE_FOLDERS


@pytest.mark.parametrize("folder", ["qpcr", "cohort", "trial", "study"])
def test_committed_tables_are_reproduced_byte_for_byte(folder, data_samples, tmp_path):
    sim = importlib.import_module(f"mrdquant.simulate.{DATA_SAMPLE_FOLDERS[folder]}")
    written = sim.write_data_samples(tmp_path / folder)
    assert written, f"{folder}: nothing written"
    for path in written:
        committed = data_samples / folder / path.relative_to(tmp_path / folder)
        assert committed.exists(), f"{committed} is generated but not committed"
        assert path.read_bytes() == committed.read_bytes(), f"{committed} differs from its regeneration"

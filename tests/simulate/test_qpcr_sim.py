"""The qPCR simulator: deterministic, realistic exports, truth consistent with its model."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from mrdquant.io.qpcr import read_qpcr
from mrdquant.simulate.qpcr import TRUE_CURVES, simulate_qpcr_plate, write_data_samples, write_quantstudio_plate


def test_same_seed_same_plate():
    a, ta = simulate_qpcr_plate(seed=11)
    b, tb = simulate_qpcr_plate(seed=11)
    c, _ = simulate_qpcr_plate(seed=12)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(ta, tb)
    assert not np.allclose(a["ct"].fillna(0), c["ct"].fillna(0))


def test_layout_counts():
    wells, truth = simulate_qpcr_plate(seed=0, low_abl1=True)
    # per target: 6 levels x 3 standards + 2 NTC + 5 samples x 3 replicates
    assert wells.groupby("target").size().to_dict() == {"ABL1": 35, "WT1": 35}
    assert wells["role"].value_counts().to_dict() == {"standard": 36, "unknown": 30, "ntc": 4}
    assert wells["well"].is_unique and len(truth) == 5


def test_ct_noise_matches_model(seed):
    wells, _ = simulate_qpcr_plate(seed=seed, standard_replicates=40, standards=(1e3, 1e5), ct_sd=0.2)
    std = wells[wells["role"] == "standard"]
    for target, (slope, intercept) in TRUE_CURVES.items():
        s = std[std["target"] == target]
        resid = s["ct"] - (slope * np.log10(s["quantity"]) + intercept)
        assert abs(resid.mean()) < 4 * 0.2 / np.sqrt(len(s))
        assert 0.14 < resid.std() < 0.26


def test_written_plate_round_trips_through_reader(tmp_path):
    path, truth = write_quantstudio_plate(tmp_path / "p.txt", seed=3, failed_replicate="BM02", ntc_amplifies=True)
    wells, _ = simulate_qpcr_plate(seed=3, failed_replicate="BM02", ntc_amplifies=True, plate="p")
    read = read_qpcr(path)
    assert read[["plate", "well", "sample", "target", "role", "flags"]].equals(
        wells[["plate", "well", "sample", "target", "role", "flags"]])
    np.testing.assert_allclose(read["ct"], wells["ct"].round(3), equal_nan=True)
    np.testing.assert_allclose(read["quantity"], wells["quantity"], equal_nan=True)
    assert read.loc[(read["sample"] == "BM02") & (read["target"] == "WT1"), "ct"].isna().sum() == 1


def test_allotropy_reads_the_simulated_export(tmp_path):
    from allotropy.parser_factory import Vendor
    from allotropy.to_allotrope import allotrope_from_file

    path, _ = write_quantstudio_plate(tmp_path / "p.txt", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        asm = allotrope_from_file(str(path), Vendor.APPBIO_QUANTSTUDIO)
    n = sum(len(d["measurement aggregate document"]["measurement document"])
            for d in asm["qpcr aggregate document"]["qpcr document"])
    assert n == len(read_qpcr(path))


def test_data_samples_are_reproducible(tmp_path, data_samples):
    written = write_data_samples(tmp_path / "qpcr")
    assert len(written) == 6
    for p in written:
        bundled = data_samples / "qpcr" / p.name
        assert bundled.exists(), f"{bundled} missing: run python data_samples/regenerate.py"
        assert bundled.read_bytes() == p.read_bytes()


def test_unknown_failed_replicate_sample():
    with pytest.raises(ValueError, match="failed_replicate"):
        simulate_qpcr_plate(failed_replicate="NOPE")

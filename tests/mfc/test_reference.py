"""NormalReference on arrays: calibration, the file format, its version and tamper checks."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from mrdquant.errors import ConfigError, ReferenceFileError
from mrdquant.mfc.novelty import score_mixture
from mrdquant.mfc.reference import NormalReference

FEATURES = ["CD1", "CD2", "CD3"]


def _normals(n_samples=4, n=6000, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_samples):
        a = rng.normal([0.2, 0.2, 0.5], 0.03, (n // 2, 3))
        b = rng.normal([0.7, 0.4, 0.3], 0.05, (n - n // 2, 3))
        out.append(np.concatenate([a, b]))
    return out


@pytest.fixture(scope="module")
def ref():
    return NormalReference.fit_arrays(
        _normals(), FEATURES, panel_id="TEST", panel_hash="abc", n_components=4, fp_event_rate=1e-3, seed=1
    )


def test_threshold_is_the_calibrated_quantile_of_held_out_normals(ref):
    mats = _normals()
    cal = [i for i, t in enumerate(ref.training) if t["role"] == "calibration"]
    assert len(cal) == 1 and ref.calibration["held_out"] == "samples"
    scores = np.sort(score_mixture(mats[cal[0]], ref.mixture)[0])
    r = int(np.floor(1e-3 * scores.size))  # 6 of 6000
    assert ref.calibration["rank"] == r
    assert ref.threshold == scores[r - 1]
    assert ref.calibration["achieved_fp_event_rate"] == np.count_nonzero(scores < ref.threshold) / scores.size <= 1e-3


def test_far_events_are_novel_and_normal_ones_are_not(ref):
    x = np.array([[0.2, 0.2, 0.5], [0.7, 0.4, 0.3], [0.9, 0.9, 0.9], [0.45, 0.3, 0.4]])
    assert ref.is_novel(x).tolist() == [False, False, True, True]


def test_save_load_round_trip_gives_identical_scores(ref, tmp_path):
    path = ref.save(tmp_path / "ref.npz")
    back = NormalReference.load(path)
    x = np.random.default_rng(2).uniform(0, 1, (500, 3))
    np.testing.assert_array_equal(back.score(x)[0], ref.score(x)[0])
    assert back.threshold == ref.threshold and back.features == ref.features
    assert back.calibration == ref.calibration and back.training == ref.training
    with zipfile.ZipFile(path) as z:
        assert not any(n.endswith(".pkl") for n in z.namelist())
        header = json.loads(np.load(z.open("header.npy"), allow_pickle=False).tobytes())
    assert header["format"] == "mrdquant-normal-reference" and header["format_version"] == 1
    assert header["panel_hash"] == "abc" and len(header["content_sha256"]) == 64


def _rewrite(path, out, *, header_edit=None, array_edit=None):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(arrays["header"].tobytes())
    if header_edit:
        header_edit(header)
    if array_edit:
        array_edit(arrays)
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(out, "wb") as fh:
        np.savez(fh, **arrays)
    return out


def test_tampered_threshold_or_array_is_refused(ref, tmp_path):
    path = ref.save(tmp_path / "ref.npz")
    bad = _rewrite(path, tmp_path / "t1.npz", header_edit=lambda h: h.update(threshold="-1e9"))
    with pytest.raises(ReferenceFileError, match="t1.npz: content SHA-256 .* modified or corrupted"):
        NormalReference.load(bad)

    def shift(a):
        a["means"] = a["means"] + 1e-9

    bad = _rewrite(path, tmp_path / "t2.npz", array_edit=shift)
    with pytest.raises(ReferenceFileError, match="modified or corrupted"):
        NormalReference.load(bad)


def test_corrupt_foreign_and_newer_files_are_refused(ref, tmp_path):
    path = ref.save(tmp_path / "ref.npz")
    data = path.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ReferenceFileError, match="cut.npz: not a readable"):
        NormalReference.load(tmp_path / "cut.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ReferenceFileError, match="text.npz"):
        NormalReference.load(tmp_path / "text.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ReferenceFileError, match="no 'header'"):
        NormalReference.load(tmp_path / "other.npz")
    newer = _rewrite(path, tmp_path / "v2.npz", header_edit=lambda h: h.update(format_version=2))
    with pytest.raises(ReferenceFileError, match="format_version 2"):
        NormalReference.load(newer)
    with pytest.raises(ReferenceFileError, match="no such reference"):
        NormalReference.load(tmp_path / "missing.npz")


def test_one_sample_holds_out_events_and_bad_parameters_are_refused():
    one = NormalReference.fit_arrays(_normals(1, 8000), FEATURES, n_components=3, fp_event_rate=1e-3)
    assert one.calibration["held_out"] == "events" and one.calibration["n_events"] == 2400
    with pytest.raises(ConfigError, match="fp_event_rate"):
        NormalReference.fit_arrays(_normals(2), FEATURES, fp_event_rate=0.0)

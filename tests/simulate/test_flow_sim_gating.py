"""The bundled B-ALL LAIP strategy recovers the simulated leukemic events.

Documented misclassification of the strategy on simulated B-ALL tubes:
- the LAIP gate misses at most 5 % of the blasts (about 1 % expected: tails of CD10,
  CD38, CD45, CD58) and admits at most 0.02 % of the other denominator events as false
  positives (none seen in 10^6 events);
- the denominator gate (``Singlets``) disagrees with the true denominator on at most
  0.5 % of events (Syto41 tails of debris and cells, doublets near the diagonal).

Gated MRD must then match the nominal fraction within 4 binomial SD plus that loss.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from mrdquant.io.fcs import read_fcs
from mrdquant.simulate._flow_gatingml import DENOMINATOR_GATE, LAIP_GATE, b_all_laip_gatingml
from mrdquant.simulate.flow import DATA_SAMPLES, write_bone_marrow_fcs, write_data_samples

MAX_MISSED = 0.05
MAX_FALSE_POSITIVE = 2e-4
MAX_DENOMINATOR_DISAGREEMENT = 5e-3


def _f1(gated: np.ndarray, truth: np.ndarray) -> float:
    tp = np.count_nonzero(gated & truth)
    return 2 * tp / (2 * tp + np.count_nonzero(gated & ~truth) + np.count_nonzero(~gated & truth))


def _check_recovery(laip, den, truth: pd.DataFrame, mrd: float):
    y = truth.is_leukemic.to_numpy()
    d_true = truth.is_denominator.to_numpy()
    n_leuk = y.sum()
    assert np.count_nonzero(~laip & y) <= MAX_MISSED * n_leuk
    assert np.count_nonzero(laip & ~y) <= MAX_FALSE_POSITIVE * d_true.sum() + 1
    assert np.count_nonzero(den != d_true) <= MAX_DENOMINATOR_DISAGREEMENT * len(truth)
    assert not np.any(laip & ~den)  # the LAIP lies inside the denominator
    d = den.sum()
    est = laip.sum() / d
    tol = 4 * np.sqrt(mrd * (1 - mrd) / d) + MAX_MISSED * mrd + MAX_FALSE_POSITIVE
    assert abs(est - mrd) <= tol, (est, mrd, tol)
    return _f1(laip, y)


@pytest.fixture(scope="module")
def strategy_xml(tmp_path_factory):
    path = tmp_path_factory.mktemp("gml") / "b_all_laip.xml"
    path.write_text(b_all_laip_gatingml(), encoding="utf-8")
    return path


def test_flowkit_gating_recovers_leukemic_events_at_1e3(tmp_path, strategy_xml, seed):
    import flowkit as fk

    fcs, truth_path = write_bone_marrow_fcs(tmp_path / "b.fcs", "B-ALL", 200_000, mrd_fraction=1e-3, seed=seed)
    truth = pd.read_parquet(truth_path)
    res = fk.parse_gating_xml(str(strategy_xml)).gate_sample(fk.Sample(str(fcs)))
    laip = np.asarray(res.get_gate_membership(LAIP_GATE))
    den = np.asarray(res.get_gate_membership(DENOMINATOR_GATE))
    assert _check_recovery(laip, den, truth, 1e-3) >= 0.9


def test_mrdquant_gating_and_quantification_at_1e3(strategy_xml, seed):
    from mrdquant.cytometry.gating import GatingStrategy
    from mrdquant.cytometry.laip import quantify_mrd_table
    from mrdquant.simulate.flow import simulate_bone_marrow

    sample, truth = simulate_bone_marrow("B-ALL", 200_000, 1e-3, seed + 100)
    result = GatingStrategy.from_gatingml(strategy_xml).gate(sample, sample_id=f"sim{seed}")
    laip = np.asarray(result.membership(LAIP_GATE))
    den = np.asarray(result.membership(DENOMINATOR_GATE))
    assert _check_recovery(laip, den, truth, 1e-3) >= 0.9
    table = quantify_mrd_table(result.counts(), LAIP_GATE, DENOMINATOR_GATE)
    row = table.iloc[0]
    assert row.laip_events == laip.sum() and row.denominator_events == den.sum()
    # ~184 blasts in ~184,000 denominator events: >= LLOQ 50 and above 0.01 %
    assert row.status == "positive"


def test_flowkit_and_mrdquant_agree_event_by_event(tmp_path, strategy_xml):
    import flowkit as fk

    from mrdquant.cytometry.gating import GatingStrategy

    fcs, _ = write_bone_marrow_fcs(tmp_path / "b.fcs", "B-ALL", 50_000, mrd_fraction=1e-2, seed=3)
    fk_res = fk.parse_gating_xml(str(strategy_xml)).gate_sample(fk.Sample(str(fcs)))
    mq_res = GatingStrategy.from_gatingml(strategy_xml).gate(fcs)
    for gate in ("Nucleated", "Singlets", "CD19pos", "CD10hi_CD38lo", "CD58hi_CD45lo", "CD34pos", "LAIP"):
        a = np.asarray(fk_res.get_gate_membership(gate))
        b = np.asarray(mq_res.membership(gate))
        assert np.count_nonzero(a != b) <= 2, gate  # float rounding at a boundary at most


# --------------------------------------------------------------------------- data samples


def test_data_samples_manifest_matches_truth(data_samples):
    folder = data_samples / "flow"
    manifest = pd.read_csv(folder / "manifest.csv")
    assert list(manifest.file) == [f"{stem}.fcs" for stem, *_ in DATA_SAMPLES]
    for row in manifest.itertuples():
        truth = pd.read_parquet(folder / row.truth_file)
        assert len(truth) == row.n_events
        assert truth.is_leukemic.sum() == row.leukemic_events
        assert truth.is_denominator.sum() == row.denominator_events
    total = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    assert total <= 6.5e6


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_data_samples_regenerate_identically(tmp_path, data_samples):
    written = write_data_samples(tmp_path)
    committed = data_samples / "flow"
    assert sorted(p.name for p in written) == sorted(p.name for p in committed.iterdir() if p.is_file() and p.name != "README.md")
    for p in written:
        if p.suffix == ".parquet":  # Parquet bytes embed the writer's version: compare content
            pd.testing.assert_frame_equal(pd.read_parquet(p), pd.read_parquet(committed / p.name))
        elif p.suffix == ".fcs":
            # float64 math functions may differ in the last bit between CPUs (SIMD kernels):
            # compare values to float32 precision, keywords exactly
            new, old = read_fcs(p), read_fcs(committed / p.name)
            assert new.metadata == old.metadata
            np.testing.assert_allclose(new.events, old.events, rtol=1e-6, atol=1e-3)
        else:
            assert _sha(p) == _sha(committed / p.name), p.name


@pytest.mark.parametrize("stem, mrd", [("b_all_mrd1e-2", 1e-2), ("b_all_mrd1e-3", 1e-3)])
def test_bundled_strategy_on_bundled_files(data_samples, stem, mrd):
    from mrdquant.cytometry.gating import GatingStrategy

    folder = data_samples / "flow"
    result = GatingStrategy.from_gatingml(folder / "b_all_laip.xml").gate(folder / f"{stem}.fcs")
    truth = pd.read_parquet(folder / f"{stem}.truth.parquet")
    laip = np.asarray(result.membership(LAIP_GATE))
    den = np.asarray(result.membership(DENOMINATOR_GATE))
    assert _check_recovery(laip, den, truth, mrd) >= 0.9

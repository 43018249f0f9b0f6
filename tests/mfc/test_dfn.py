"""DfN MRD on simulated follow-ups against a reference fitted on separately simulated normals.

CI-sized: references from 6 normal marrows of 100,000 events (three regenerating, so the
fitted part always holds one), follow-ups of 150,000-200,000
events; the full-size multi-seed evaluation is in ``test_dfn_evaluation.py`` (slow).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.stats import spearmanr

from mrdquant.errors import ConfigError, ReferenceFileError
from mrdquant.mfc.dfn import POPULATION_COLUMNS, integrated_call, quantify_dfn
from mrdquant.mfc.reference import NormalReference

from mrdquant.simulate.flow import simulate_bone_marrow

from ._dfn_sim import simulate_followup, simulate_normals


def _f1(pred, truth):
    tp = np.count_nonzero(pred & truth)
    return 2 * tp / max(1, np.count_nonzero(pred) + np.count_nonzero(truth))


@pytest.fixture(scope="module")
def b_ref(tmp_path_factory):
    ref = NormalReference.fit(simulate_normals("B-ALL", 6, 100_000, 9000), "B-ALL", seed=0)
    return ref.save(tmp_path_factory.mktemp("ref") / "b_all.npz")


@pytest.fixture(scope="module")
def aml_ref():
    return NormalReference.fit(simulate_normals("AML", 6, 100_000, 9100), "AML", seed=0)


@pytest.fixture(scope="module")
def laip_strategy(tmp_path_factory):
    from mrdquant.cytometry.gating import GatingStrategy
    from mrdquant.simulate._flow_gatingml import b_all_laip_gatingml

    path = tmp_path_factory.mktemp("gml") / "b_all_laip.xml"
    path.write_text(b_all_laip_gatingml(), encoding="utf-8")
    return GatingStrategy.from_gatingml(path)


def test_reference_records_panel_training_and_calibration(b_ref):
    ref = NormalReference.load(b_ref)
    assert ref.panel_id == "B-ALL" and len(ref.panel_hash) == 64
    assert ref.features == ("CD58", "CD10", "CD34", "CD19", "CD38", "CD20", "Syto41", "CD45", "FSC-A", "SSC-A")
    assert [t["role"] for t in ref.training].count("calibration") == 2 and len(ref.training) == 6
    assert ref.calibration["achieved_fp_event_rate"] <= ref.calibration["fp_event_rate"]
    # the held-out normal marrow has no DfN population
    assert ref.calibration["dfn_events_per_sample"] == [0, 0]


@pytest.mark.parametrize("mrd,seed", [(1e-2, 1), (1e-3, 2), (1e-3, 3)])
def test_shifted_b_all_blasts_found_by_dfn_missed_by_laip(b_ref, laip_strategy, mrd, seed):
    sample, truth = simulate_followup("B-ALL", 200_000, mrd, seed, "shifted")
    y = truth.is_leukemic.to_numpy()
    res = quantify_dfn(sample, b_ref)
    laip = np.asarray(laip_strategy.gate(sample).membership("LAIP"))
    assert _f1(res.aberrant_mask, y) >= 0.92
    assert np.count_nonzero(laip & y) <= 0.05 * y.sum()  # the diagnostic gate needs CD34+
    assert res.status == "positive"
    call = integrated_call(laip, res)
    assert call.agreement == "DfN only" and call.dfn_only_events == res.laip_events - call.both_events
    assert call.union_events == np.count_nonzero(laip | res.aberrant_mask)
    assert _f1(call.union_mask, y) >= 0.92
    pop = res.populations.iloc[0]
    assert list(res.populations.columns[: len(POPULATION_COLUMNS)]) == POPULATION_COLUMNS
    assert pop.events == res.laip_events
    # separated from the nearest normal population by markers (CD58 bright, CD38 dim), not scatter
    assert pop.distance_sd > 5 and pop.shift_sd_CD38 < -2 and pop.shift_sd_CD58 > 2
    assert abs(pop["shift_sd_FSC-A"]) < 2 and abs(pop["shift_sd_SSC-A"]) < 2


def test_diagnostic_b_all_blasts_found_by_both(b_ref, laip_strategy):
    sample, truth = simulate_followup("B-ALL", 200_000, 2e-3, 4)
    y = truth.is_leukemic.to_numpy()
    res = quantify_dfn(sample, b_ref)
    laip = np.asarray(laip_strategy.gate(sample).membership("LAIP"))
    call = integrated_call(laip, res)
    assert call.agreement == "both positive"
    assert call.both_events >= 0.8 * y.sum()
    assert _f1(res.aberrant_mask, y) >= 0.92


@pytest.mark.parametrize("mrd,seed", [(1e-2, 5), (2e-3, 6)])
def test_asynchronous_only_aml_blasts_found(aml_ref, mrd, seed):
    sample, truth = simulate_followup("AML", 200_000, mrd, seed, "asynchronous")
    y = truth.is_leukemic.to_numpy()
    res = quantify_dfn(sample, aml_ref)
    assert _f1(res.aberrant_mask, y) >= 0.92
    assert res.status == "positive" and res.disease == "AML"


def test_normal_marrows_are_not_called_positive(b_ref, aml_ref):
    # odd i: regenerating (hematogone-rich) marrow
    for i, (panel, ref) in enumerate([("B-ALL", b_ref), ("B-ALL", b_ref), ("AML", aml_ref), ("AML", aml_ref)]):
        sample = simulate_normals(panel, 2, 150_000, 7000 + 10 * i)[i % 2]
        res = quantify_dfn(sample, ref)
        assert res.status in ("negative", "not evaluable"), res.reason
        if i % 2 == 0:
            assert res.laip_events == 0 and len(res.populations) == 0, res.reason


def test_measured_mrd_tracks_true_mrd(b_ref):
    true, measured = [], []
    for k, mrd in enumerate([1e-2, 5e-3, 2e-3, 1e-3, 5e-4]):
        sample, truth = simulate_followup("B-ALL", 150_000, mrd, 40 + k, "shifted" if k % 2 else "diagnostic")
        res = quantify_dfn(sample, b_ref)
        true.append(truth.is_leukemic.sum() / truth.is_denominator.sum())
        measured.append(res.mrd_fraction)
    assert spearmanr(true, measured)[0] >= 0.95
    np.testing.assert_allclose(measured, true, rtol=0.2)


def test_too_few_events_is_not_evaluable(b_ref):
    sample, _ = simulate_followup("B-ALL", 3_000, 0.0, 77)
    res = quantify_dfn(sample, b_ref)
    assert res.status == "not evaluable" and "denominator events" in res.reason


def test_reference_of_another_panel_is_refused(b_ref, aml_ref):
    aml_sample, _ = simulate_followup("AML", 5_000, 0.0, 78)
    # refused by the panel's channel resolution (prepare) or by the reference's stain check
    with pytest.raises((ReferenceFileError, ConfigError), match=r"CD58"):
        quantify_dfn(aml_sample, b_ref)
    b_sample, _ = simulate_followup("B-ALL", 5_000, 0.0, 79)
    with pytest.raises(ReferenceFileError, match="fitted for panel 'B-ALL'.*uses panel 'AML'"):
        quantify_dfn(b_sample, b_ref, panel="AML")
    with pytest.raises((ReferenceFileError, ConfigError), match="CD7"):
        quantify_dfn(b_sample, aml_ref)


def test_result_carries_thresholds_and_provenance(b_ref):
    sample, _ = simulate_followup("B-ALL", 50_000, 1e-2, 80)
    res = quantify_dfn(sample, b_ref, sample_id="S1")
    thr = res.thresholds_table().set_index("parameter")
    assert {"lod_events", "lloq_events", "positivity_pct", "novelty_log_density", "fp_event_rate"} <= set(thr.index)
    assert res.provenance["panel_id"] == "B-ALL" and len(res.provenance["reference_sha256"]) == 64
    row = res.to_row()
    assert row["sample_id"] == "S1" and row["dfn_events"] == res.laip_events == int(res.aberrant_mask.sum())
    assert res.aberrant_features.shape == (res.laip_events, 10)


def _with_stain(sample, marker, stain):
    """A copy of ``sample`` whose $PnS of ``marker``'s channel reads ``stain``."""
    from mrdquant.io.fcs import FlowSample

    i = sample.markers.index(marker)
    marks = list(sample.markers)
    marks[i] = stain
    copy = FlowSample.from_array(sample.events, sample.channels, markers=marks, metadata=sample.metadata,
                                 spillover=sample.spillover)
    return copy, sample.channels[i]


def test_explicit_channels_map_an_unnamed_marker(b_ref):
    sample, truth = simulate_followup("B-ALL", 60_000, 1e-2, 81, "shifted")
    plain = quantify_dfn(sample, b_ref)
    blank, ch = _with_stain(sample, "CD58", "")
    with pytest.raises(ConfigError, match="CD58"):
        quantify_dfn(blank, b_ref)
    mapped = quantify_dfn(blank, b_ref, channels={"CD58": ch})
    assert mapped.laip_events == plain.laip_events > 0
    np.testing.assert_array_equal(mapped.aberrant_mask, plain.aberrant_mask)
    assert mapped.provenance["parameters"]["channels"] == {"CD58": ch}
    # the explicit mapping wins over a $PnS that names something else ...
    other, _ = _with_stain(sample, "CD58", "CD99")
    assert quantify_dfn(other, b_ref, channels={"CD58": ch}).laip_events == plain.laip_events
    # a prepared sample keeps its explicit mapping, which exempts it from the stain check
    from mrdquant.mfc.preparation import prepare

    prep = prepare(other, "B-ALL", channels={"CD58": ch})
    assert prep.explicit_channels == {"CD58": ch}
    kept = quantify_dfn(prep, b_ref)
    assert kept.laip_events == plain.laip_events and kept.provenance["parameters"]["channels"] == {"CD58": ch}
    assert quantify_dfn(prep, b_ref, channels={"CD58": ch}).laip_events == plain.laip_events
    # without it, a prepared sample's stains are checked like a file's
    with pytest.raises(ReferenceFileError, match=f"{ch} is 'CD99', reference expects 'CD58'"):
        quantify_dfn(dataclasses.replace(prep, explicit_channels={}), b_ref)
    # ... a stain naming the marker with its fluorochrome is accepted without one
    assert quantify_dfn(_with_stain(sample, "CD58", "CD58 APC-H7")[0], b_ref).laip_events == plain.laip_events


def test_reference_fit_takes_explicit_channels():
    normals = simulate_normals("B-ALL", 3, 30_000, 9500)
    kw = dict(n_components=4, n_fit_events=20_000)
    plain = NormalReference.fit(normals, "B-ALL", **kw)
    blanks = [_with_stain(s, "CD58", "") for s in normals]
    with pytest.raises(ConfigError, match="CD58"):
        NormalReference.fit([b for b, _ in blanks], "B-ALL", **kw)
    mapped = NormalReference.fit([b for b, _ in blanks], "B-ALL", channels={"CD58": blanks[0][1]}, **kw)
    assert mapped.threshold == plain.threshold
    np.testing.assert_array_equal(mapped.mixture.means, plain.mixture.means)


def test_doublets_passing_the_singlet_gate_make_no_dfn_population(b_ref):
    # a normal marrow with many doublets: those of a large and a small cell pass the
    # panel's singlet gate and carry summed scatter and fluorescence
    sample, truth = simulate_bone_marrow("B-ALL", 400_000, 0.0, 82, doublet_fraction=0.12)
    doublet = (truth.population == "doublets").to_numpy()
    loose = quantify_dfn(sample, b_ref, singlet_k=np.inf)
    assert loose.laip_events >= 20 and doublet[loose.aberrant_mask].mean() > 0.9
    res = quantify_dfn(sample, b_ref)
    assert res.laip_events == 0 and res.status == "negative"
    assert res.singlet_check["measure"] == "FSC-H/FSC-A" and res.singlet_check["k"] == 2.5
    assert res.singlet_check["removed"] > np.count_nonzero(doublet & loose.aberrant_mask)
    assert res.to_row()["dfn_not_strict_singlets"] == res.singlet_check["removed"]

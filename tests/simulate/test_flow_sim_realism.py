"""Flow simulator realism: maturation continua, shared brightness, overlap on single markers,
channel layouts, gain drift, regenerating marrows and post-therapy / asynchronous phenotypes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mrdquant.errors import InputError
from mrdquant.simulate._flow_instrument import spillover_matrix
from mrdquant.simulate.flow import (
    ALTERNATE_CHANNELS,
    _simulate,
    leukemia_phenotypes,
    simulate_bone_marrow,
)


def _log_true(sim) -> pd.DataFrame:
    """log10 true intensities per marker (before spillover and noise) with the population."""
    markers = [m for m in sim.markers if m]
    df = pd.DataFrame(np.log10(np.maximum(sim.true_fluorescence, 1.0)), columns=markers)
    df["population"] = sim.truth.population.to_numpy()
    return df


def _compensated(sim) -> pd.DataFrame:
    fl = [i for i, m in enumerate(sim.markers) if m]
    comp = np.linalg.solve(sim.spillover.to_numpy().T, sim.events[:, fl].astype(np.float64).T).T
    return pd.DataFrame(comp, columns=[sim.markers[i] for i in fl])


@pytest.fixture(scope="module")
def b_all():
    return _log_true(_simulate("B-ALL", 200_000, 2e-2, 5))


def test_granulocytes_smear_continuously_on_cd10(b_all):
    cd10 = b_all.loc[b_all.population == "granulocytes", "CD10"].to_numpy()
    # documented: CD10- myelocytes for maturation t < 0.3 (of 0-1), rising to CD10+
    # neutrophils by t = 0.5: about 30-40 % below log10 3.0, most above 3.5
    dim = np.mean(cd10 < 3.0)
    assert 0.25 < dim < 0.45
    assert np.mean(cd10 > 3.5) > 0.45
    # a smear, not two peaks: every 0.1-decade bin between 2.3 and 3.7 is populated
    hist, _ = np.histogram(cd10, bins=np.arange(2.3, 3.71, 0.1))
    assert hist.min() > 0.005 * cd10.size


def test_hematogone_continuum_blends_stage_into_stage(b_all):
    h = b_all[b_all.population.astype(str).str.startswith("hematogones")]
    # along the continuum CD34 is lost while CD20 is gained: CD34+CD20+ transitional cells exist
    # and CD10 falls as CD20 rises (strong negative rank correlation)
    assert h.CD10.corr(h.CD20, method="spearman") < -0.7
    assert h.CD45.corr(h.CD20, method="spearman") > 0.7
    trans = (h.CD10 > 3.6) & (h.CD20 > 2.6)
    assert trans.sum() > 0.05 * len(h)


def test_brightness_factor_is_shared_across_channels():
    """Within a population, two independently drawn markers correlate through the shared
    factor: rho = s_b^2 / sqrt((s_b^2 + s_1^2)(s_b^2 + s_2^2)) with s_b = 0.07 (documented),
    T-cell CD5 SD 0.12 and cyCD3 SD 0.10: rho = 0.289."""
    t = _log_true(_simulate("T-ALL", 200_000, 1e-3, 2))
    cells = t[t.population == "T_cells"]
    sb, s1, s2 = 0.07, 0.12, 0.10
    rho = sb**2 / math.sqrt((sb**2 + s1**2) * (sb**2 + s2**2))
    assert cells.CD5.corr(cells.cyCD3) == pytest.approx(rho, abs=0.03)
    # brighter cells are bigger: log10 FSC-A = lognormal (CV 0.10, log10 SD 0.0432)
    # + 0.5 b (+ 2 % scatter noise, log10 SD 0.0087), so
    # rho(FSC, cyCD3) = 0.5 s_b^2 / sqrt((0.0432^2 + 0.0087^2 + 0.25 s_b^2)(s_b^2 + 0.10^2)) = 0.35
    sim = _simulate("T-ALL", 200_000, 1e-3, 2)
    pop = sim.truth.population.to_numpy() == "T_cells"
    fsc = np.log10(sim.events[pop, 0])
    cd3 = np.log10(sim.true_fluorescence[pop, [m for m in sim.markers if m].index("cyCD3")])
    s_fsc = math.sqrt(math.log1p(0.1**2)) / math.log(10)
    rho_fsc = 0.5 * sb**2 / math.sqrt((s_fsc**2 + 0.0087**2 + 0.25 * sb**2) * (sb**2 + s2**2))
    assert np.corrcoef(fsc, cd3)[0, 1] == pytest.approx(rho_fsc, abs=0.03)


def _best_overlap(df: pd.DataFrame, marker: str, exclude=("leukemic_blasts", "debris", "doublets")) -> float:
    """Largest share of blasts lying in a normal population's central 95 % range of ``marker``."""
    blasts = df.loc[df.population == "leukemic_blasts", marker].to_numpy()
    best = 0.0
    for name, grp in df.groupby("population", observed=True):
        if name in exclude:
            continue
        lo, hi = np.quantile(grp[marker], [0.025, 0.975])
        best = max(best, float(np.mean((blasts >= lo) & (blasts <= hi))))
    return best


@pytest.mark.parametrize(
    "panel, markers",
    [
        ("B-ALL", ["CD58", "CD10", "CD34", "CD19", "CD38", "CD20", "CD45"]),
        ("T-ALL", ["CD99", "CD5", "CD45", "CD7", "cyCD3", "sCD3"]),
        ("AML", ["CD7", "CD56", "CD34", "CD117", "CD33", "HLA-DR", "CD13", "CD45"]),
    ],
)
def test_blasts_overlap_normal_cells_on_every_single_marker_but_not_in_combination(panel, markers):
    df = _log_true(_simulate(panel, 200_000, 2e-2, 3))
    for m in markers:
        assert _best_overlap(df, m) > 0.15, m
    # a quadratic discriminant on all markers together separates them from the nearest
    # normal populations (the ones overlapping on single markers)
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis

    cells = df[~df.population.isin(["debris", "doublets"])]
    X = cells[markers].to_numpy()
    y = cells.population.astype(str).to_numpy()
    pred = QuadraticDiscriminantAnalysis(reg_param=1e-3).fit(X, y).predict(X)
    blasts = y == "leukemic_blasts"
    assert np.mean(pred[blasts] == "leukemic_blasts") > 0.99
    assert np.sum(pred[~blasts] == "leukemic_blasts") < 2e-4 * np.sum(~blasts)


def test_b_all_asynchronous_cd20_on_cd34_positive_blasts(b_all):
    blasts = b_all[b_all.population == "leukemic_blasts"]
    hg1 = b_all[b_all.population == "hematogones_I"]
    # CD34+ hematogones are CD20-; a part of the CD34+ blasts already expresses CD20
    assert np.mean(hg1.CD20 > 2.6) < 0.05
    assert 0.2 < np.mean(blasts.CD20 > 2.6) < 0.7


# --------------------------------------------------------------------------- layouts and drift


def test_alternate_layout_moves_markers_and_keeps_the_cells():
    a = _simulate("B-ALL", 20_000, 1e-2, 4)
    b = _simulate("B-ALL", 20_000, 1e-2, 4, channels=ALTERNATE_CHANNELS["B-ALL"])
    assert a.channels[a.markers.index("CD19")] == "PE-Cy7-A"
    assert b.channels[b.markers.index("CD19")] == "APC-A"
    assert b.channels[b.markers.index("CD38")] == "PE-Cy7-A"
    assert sorted(a.markers) == sorted(b.markers)
    assert list(b.spillover.index) == [c for c, m in zip(b.channels, b.markers) if m]
    # same seed, same cells: true intensities per marker are identical under both layouts
    fa, fb = [m for m in a.markers if m], [m for m in b.markers if m]
    for m in fa:
        np.testing.assert_array_equal(a.true_fluorescence[:, fa.index(m)], b.true_fluorescence[:, fb.index(m)])
    pd.testing.assert_frame_equal(a.truth, b.truth)
    # the stored spillover is the instrument's for the new detector order
    np.testing.assert_array_equal(b.spillover.to_numpy(), spillover_matrix(list(b.spillover.index)).to_numpy())


def test_alternate_layout_written_file_names_markers_in_pns(tmp_path):
    from mrdquant.io.fcs import read_fcs
    from mrdquant.simulate.flow import write_bone_marrow_fcs

    fcs, _ = write_bone_marrow_fcs(tmp_path / "alt.fcs", "AML", 5000, mrd_fraction=1e-2, seed=1, channels=ALTERNATE_CHANNELS["AML"])
    s = read_fcs(fcs)
    assert s.channels[s.markers.index("CD34")] == "APC-A"
    assert s.metadata["mrdquant_sim_channels"].split(";")[0] == "CD56=FITC-A"


def test_drift_scales_the_detector_and_keeps_compensation_exact():
    a = _simulate("B-ALL", 60_000, 1e-2, 8)
    b = _simulate("B-ALL", 60_000, 1e-2, 8, drift={"CD10": 1.3, "V500-A": 0.8})
    fl = [m for m in a.markers if m]
    j10, j45 = fl.index("CD10"), fl.index("CD45")
    np.testing.assert_allclose(b.true_fluorescence[:, j10], 1.3 * a.true_fluorescence[:, j10])
    np.testing.assert_allclose(b.true_fluorescence[:, j45], 0.8 * a.true_fluorescence[:, j45])
    # stored spillover S'[i, j] = S[i, j] g_j / g_i (measured at the drifted gains)
    S, S2 = a.spillover.to_numpy(), b.spillover.to_numpy()
    g = np.ones(len(fl))
    g[j10], g[j45] = 1.3, 0.8
    np.testing.assert_allclose(S2, S * g[None, :] / g[:, None])
    # compensating with it recovers the drifted intensities: bright-population medians
    ca, cb = _compensated(a), _compensated(b)
    pop = a.truth.population.to_numpy()
    for m, f, p in (("CD10", 1.3, "leukemic_blasts"), ("CD45", 0.8, "T_cells"), ("CD19", 1.0, "mature_B")):
        ratio = np.median(cb.loc[pop == p, m]) / np.median(ca.loc[pop == p, m])
        assert ratio == pytest.approx(f, rel=0.02), m
    assert b.metadata["MRDQUANT_SIM_DRIFT"] == "CD10=1.3;CD45=0.8"


# --------------------------------------------------------------------------- DfN scenarios


def test_regenerating_marrow_is_hematogone_rich():
    _, normal = simulate_bone_marrow("B-ALL", 100_000, 0.0, 2)
    s, regen = simulate_bone_marrow("B-ALL", 100_000, 0.0, 2, marrow="regenerating")
    assert regen.is_leukemic.sum() == 0 and s.metadata["mrdquant_sim_marrow"] == "regenerating"

    def hg_share(t):
        den = t.is_denominator.to_numpy()
        return t.population[den].astype(str).str.startswith("hematogones").mean()

    # documented shares 3.5 + 10 + 5 % of normal nucleated cells (others renormalised)
    assert 0.12 < hg_share(regen) < 0.20
    assert hg_share(normal) < 0.04


def test_shifted_b_all_escapes_the_diagnostic_laip_gate(tmp_path):
    from mrdquant.cytometry.gating import GatingStrategy
    from mrdquant.simulate._flow_gatingml import LAIP_GATE, b_all_laip_gatingml

    xml = tmp_path / "laip.xml"
    xml.write_text(b_all_laip_gatingml(), encoding="utf-8")
    strategy = GatingStrategy.from_gatingml(xml)
    sample, truth = simulate_bone_marrow("B-ALL", 100_000, 1e-2, 6, leukemia_phenotype="shifted")
    y = truth.is_leukemic.to_numpy()
    laip = np.asarray(strategy.gate(sample).membership(LAIP_GATE))
    assert y.sum() > 500 and np.count_nonzero(laip & y) <= 0.01 * y.sum()
    # still leukemic: CD58 bright, CD38 dim against stage II hematogones, CD34 lost
    df = _log_true(_simulate("B-ALL", 100_000, 1e-2, 6, leukemia_phenotype="shifted"))
    blasts, hg2 = df[df.population == "leukemic_blasts"], df[df.population == "hematogones_II"]
    assert blasts.CD34.median() < 2.2
    assert blasts.CD58.median() > hg2.CD58.median() + 0.5
    assert blasts.CD38.median() < hg2.CD38.median() - 0.7
    assert abs(blasts.CD10.median() - hg2.CD10.median()) < 0.3  # CD10 now in the hematogone range


def test_asynchronous_aml_has_no_cd7_cd56_but_an_asynchronous_pattern():
    df = _log_true(_simulate("AML", 100_000, 2e-2, 6, leukemia_phenotype="asynchronous"))
    blasts = df[df.population == "leukemic_blasts"]
    prog = df[df.population == "myeloid_progenitors"]
    assert blasts.CD7.quantile(0.99) < prog.CD7.quantile(0.95) + 0.3
    assert blasts.CD56.quantile(0.99) < 2.5
    assert blasts.CD34.median() > 3.7 and blasts.CD117.median() > 3.5  # in the blast gate
    assert blasts["HLA-DR"].median() < prog["HLA-DR"].median() - 1.5  # HLA-DR loss
    # CD13 brighter and CD33 dimmer than normal CD34+ progenitors (asynchronous)
    assert blasts.CD13.median() - blasts.CD33.median() > 1.2
    assert abs(prog.CD13.median() - prog.CD33.median()) < 0.3


def test_phenotype_names_per_panel():
    assert leukemia_phenotypes("B-ALL") == ["diagnosis", "shifted"]
    assert leukemia_phenotypes("T-ALL") == ["diagnosis", "shifted"]
    assert leukemia_phenotypes("AML") == ["diagnosis", "asynchronous"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(marrow="aplastic"), "marrow='aplastic'"),
        (dict(leukemia_phenotype="asynchronous"), "leukemia_phenotype='asynchronous'"),
        (dict(channels={"CD19": "FITC-A"}), "both be on detector 'FITC-A'"),
        (dict(channels={"CD19": "BV786-A"}), "not a detector"),
        (dict(channels={"CD3": "FITC-A"}), "no marker 'CD3'"),
        (dict(drift={"CD10": 3.0}), r"drift\['CD10'\]=3.0"),
        (dict(drift={"CD117": 1.1}), "no fluorescence channel 'CD117'"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(InputError, match=match):
        simulate_bone_marrow("B-ALL", 1000, 1e-3, 0, **kwargs)

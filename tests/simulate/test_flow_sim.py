"""Flow simulator: counts against their binomial model, determinism, spillover and scatter."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mrdquant.mfc.panels import get_panel
from mrdquant.errors import ConfigError, InputError
from mrdquant.io.fcs import read_fcs
from mrdquant.simulate.flow import (
    TRUTH_COLUMNS,
    population_names,
    simulate_bone_marrow,
    write_bone_marrow_fcs,
)

# population shares chosen here (not read from the simulator), in % of normal nucleated cells
B_WEIGHTS = {
    "granulocytes": 45.0,
    "promyelocytes": 3.0,
    "monocytes": 7.0,
    "T_cells": 12.0,
    "gd_T_cells": 0.6,
    "NK_cells": 3.0,
    "erythroid": 18.0,
    "myeloid_progenitors": 1.0,
    "mature_B": 4.0,
    "plasma_cells": 1.0,
    "hematogones_I": 2.0,
    "hematogones_II": 4.0,
    "hematogones_III": 3.0,
}
DEBRIS, DOUBLETS = 0.06, 0.04


def _expected_probabilities(mrd: float, cd45_denominator: bool) -> dict[str, float]:
    """Per-event probability of each label, worked out from the documented draws."""
    total = sum(B_WEIGHTS.values())
    cells = 1.0 - DEBRIS - DOUBLETS
    p = {"debris": DEBRIS, "doublets": DOUBLETS}
    if cd45_denominator:
        ery = B_WEIGHTS["erythroid"] / total
        den = cells * (1 - ery)
        p["erythroid"] = cells * ery
        for name, w in B_WEIGHTS.items():
            if name != "erythroid":
                p[name] = den * (1 - mrd) * w / (total - B_WEIGHTS["erythroid"])
    else:
        den = cells
        for name, w in B_WEIGHTS.items():
            p[name] = den * (1 - mrd) * w / total
    p["leukemic_blasts"] = den * mrd
    return p


@pytest.mark.parametrize("panel, cd45_den", [("B-ALL", False), ("AML", True)])
def test_population_fractions_within_binomial_error(seed, panel, cd45_den):
    n, mrd = 100_000, 5e-3
    _, truth = simulate_bone_marrow(
        panel,
        n,
        mrd,
        seed,
        debris_fraction=DEBRIS,
        doublet_fraction=DOUBLETS,
        population_fractions=B_WEIGHTS,
    )
    assert list(truth.columns) == TRUTH_COLUMNS
    assert len(truth) == n
    counts = truth.population.value_counts()
    p = _expected_probabilities(mrd, cd45_den)
    assert sum(p.values()) == pytest.approx(1.0)
    observed = np.array([counts[k] for k in p])
    expected = n * np.array(list(p.values()))
    # each label count is Binomial(n, p_k): within 4.5 SD
    z = (observed - expected) / np.sqrt(expected * (1 - expected / n))
    assert np.all(np.abs(z) < 4.5), dict(zip(p, z.round(2)))
    # and jointly multinomial: Pearson chi-square
    chi2 = ((observed - expected) ** 2 / expected).sum()
    assert stats.chi2.sf(chi2, len(p) - 1) > 1e-4
    # denominator flag: every nucleated singlet, minus CD45- red cells on CD45 panels
    den = truth.is_denominator.to_numpy()
    outside = {"debris", "doublets"} | ({"erythroid"} if cd45_den else set())
    assert np.array_equal(den, ~truth.population.isin(outside).to_numpy())
    assert np.array_equal(truth.is_leukemic.to_numpy(), (truth.population == "leukemic_blasts").to_numpy())


def test_leukemic_count_is_exactly_binomial_given_the_denominator():
    """Over 300 seeds the leukemic count given D denominator events follows Binomial(D, p)."""
    p = 0.02
    pit, z2 = [], []
    rng = np.random.default_rng(12345)
    for s in range(300):
        _, truth = simulate_bone_marrow("B-ALL", 3000, p, s)
        k = int(truth.is_leukemic.sum())
        d = int(truth.is_denominator.sum())
        lo, hi = stats.binom.cdf(k - 1, d, p), stats.binom.cdf(k, d, p)
        pit.append(lo + rng.uniform() * (hi - lo))  # randomised PIT: Uniform(0, 1) under the model
        z2.append((k - d * p) ** 2 / (d * p * (1 - p)))
    assert stats.kstest(pit, "uniform").pvalue > 1e-3
    assert stats.chi2.sf(sum(z2), len(z2)) > 1e-3
    assert stats.chi2.cdf(sum(z2), len(z2)) > 1e-3  # not suspiciously under-dispersed either


def test_mrd_zero_and_one():
    _, t0 = simulate_bone_marrow("B-ALL", 5000, 0.0, 3)
    assert t0.is_leukemic.sum() == 0
    _, t1 = simulate_bone_marrow("B-ALL", 5000, 1.0, 3)
    assert t1.is_leukemic.sum() == t1.is_denominator.sum() > 0


def test_same_seed_same_events_other_seed_differs():
    a, ta = simulate_bone_marrow("T-ALL", 4000, 1e-2, 5)
    b, tb = simulate_bone_marrow("T-ALL", 4000, 1e-2, 5)
    c, _ = simulate_bone_marrow("T-ALL", 4000, 1e-2, 6)
    assert np.array_equal(a.events, b.events)
    pd.testing.assert_frame_equal(ta, tb)
    assert not np.array_equal(a.events, c.events)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_written_files_are_byte_identical_per_seed(tmp_path):
    f1, t1 = write_bone_marrow_fcs(tmp_path / "a" / "x.fcs", "B-ALL", 5000, mrd_fraction=1e-2, seed=9)
    f2, t2 = write_bone_marrow_fcs(tmp_path / "b" / "x.fcs", "B-ALL", 5000, mrd_fraction=1e-2, seed=9)
    f3, _ = write_bone_marrow_fcs(tmp_path / "c" / "x.fcs", "B-ALL", 5000, mrd_fraction=1e-2, seed=10)
    assert _sha(f1) == _sha(f2) and _sha(t1) == _sha(t2)
    assert _sha(f1) != _sha(f3)
    assert t1.name == "x.truth.parquet"


def test_written_file_reads_back_with_panel_and_keywords(tmp_path):
    fcs, truth_path = write_bone_marrow_fcs(tmp_path / "b.fcs", "B-ALL", 8000, mrd_fraction=1e-2, seed=4)
    mem, truth_mem = simulate_bone_marrow("B-ALL", 8000, 1e-2, 4)
    s = read_fcs(fcs)
    panel = get_panel("B-ALL")
    assert s.n_events == 8000 and s.version == "3.1"
    assert s.channels == panel.channel_names
    assert s.markers == panel.channel_markers
    assert s.channel("CD19").shape == (8000,)
    np.testing.assert_array_equal(s.events, mem.events)
    truth = pd.read_parquet(truth_path)
    pd.testing.assert_frame_equal(truth, truth_mem)
    assert list(truth.population.cat.categories) == population_names("B-ALL")
    md = s.metadata
    assert md["mrdquant_sim_seed"] == "4"
    assert md["mrdquant_sim_panel"] == "B-ALL"
    assert float(md["mrdquant_sim_mrd_fraction"]) == 1e-2
    assert int(md["mrdquant_sim_leukemic_events"]) == int(truth.is_leukemic.sum())
    assert int(md["mrdquant_sim_denominator_events"]) == int(truth.is_denominator.sum())
    fractions = dict(kv.split("=") for kv in md["mrdquant_sim_population_fractions"].split(";"))
    assert float(fractions["hematogones_II"]) > 0
    pop_counts = {k: int(v) for k, v in (kv.split("=") for kv in md["mrdquant_sim_population_counts"].split(";"))}
    assert pop_counts == {k: int(v) for k, v in truth.population.value_counts().items()}
    assert md["timestep"] == "0.01"


def test_value_ranges_and_time(seed):
    s, _ = simulate_bone_marrow("B-ALL", 20_000, 1e-3, seed)
    ev = s.events
    assert ev.dtype == np.float32
    assert ev.max() <= 262143
    for name in ("FSC-A", "FSC-H", "SSC-A"):
        col = s.channel(name)
        assert col.min() >= 0 and np.median(col) > 10_000
    t = s.channel("Time")
    assert np.all(np.diff(t) >= 0)
    # Poisson acquisition at 3,000 events/s: ~6.7 s for 20,000 events
    assert t[-1] == pytest.approx(20_000 / 3000, rel=0.05)


def _simulation(panel="B-ALL", n=60_000, mrd=1e-2, seed=0):
    from mrdquant.simulate.flow import _simulate

    return _simulate(panel, n, mrd, seed)


def test_stored_spillover_is_the_one_applied(tmp_path):
    sim = _simulation()
    fl = [i for i, c in enumerate(sim.panel.channels) if c.kind == "fluorescence"]
    detectors = [sim.channels[i] for i in fl]
    # the FCS file stores exactly the matrix the simulator used
    fcs, _ = write_bone_marrow_fcs(tmp_path / "s.fcs", "B-ALL", 60_000, mrd_fraction=1e-2, seed=0)
    stored = read_fcs(fcs).spillover
    assert list(stored.index) == detectors and list(stored.columns) == detectors
    np.testing.assert_array_equal(stored.to_numpy(), sim.spillover.to_numpy())
    off = stored.to_numpy()[~np.eye(len(detectors), dtype=bool)]
    assert off.max() <= 0.30 and (off[off > 0]).min() >= 0.005
    # independent check: least squares of detector values on true intensities recovers S
    X = sim.true_fluorescence
    Y = sim.events[:, fl].astype(np.float64)
    unsat = np.all(Y < 262143, axis=1)
    S_fit, *_ = np.linalg.lstsq(X[unsat], Y[unsat], rcond=None)
    np.testing.assert_allclose(S_fit, stored.to_numpy(), atol=0.004)


def test_compensation_recovers_true_intensities_and_goes_negative():
    sim = _simulation()
    fl = [i for i, c in enumerate(sim.panel.channels) if c.kind == "fluorescence"]
    S = sim.spillover.to_numpy()
    Y = sim.events[:, fl].astype(np.float64)
    comp = np.linalg.solve(S.T, Y.T).T
    err = comp - sim.true_fluorescence
    # unbiased up to noise: median error within a few units, relative error small when bright
    assert np.all(np.abs(np.median(err, axis=0)) < 5.0)
    bright = sim.true_fluorescence > 5000
    rel = np.abs(err[bright]) / sim.true_fluorescence[bright]
    assert np.median(rel) < 0.03
    # unstained events scatter around zero: a good share of compensated values is negative
    neg_share = (comp < 0).mean(axis=0)
    assert neg_share.max() > 0.08 and (neg_share > 0.02).sum() >= 4
    # while the true intensities never are
    assert sim.true_fluorescence.min() > 0


def test_doublets_lie_off_the_fsc_diagonal(seed):
    s, truth = simulate_bone_marrow("B-ALL", 50_000, 1e-3, seed)
    ratio = s.channel("FSC-A") / s.channel("FSC-H")
    doublet = (truth.population == "doublets").to_numpy()
    singlet_hi = np.quantile(ratio[~doublet], 0.995)
    assert 1.0 < np.median(ratio[~doublet]) < 1.2
    assert np.median(ratio[doublet]) > 1.5
    assert (ratio[doublet] > singlet_hi).mean() > 0.95


def test_debris_lacks_the_nucleated_dye():
    sim = _simulation(n=30_000)
    dye = sim.channels.index(sim.panel.channel_for("Syto41"))
    pop = sim.truth.population.to_numpy()
    debris, cells = sim.true_fluorescence[pop == "debris"], sim.true_fluorescence[pop == "granulocytes"]
    j = [c.marker for c in sim.panel.fluorescence].index("Syto41")
    assert np.median(debris[:, j]) < 0.02 * np.median(cells[:, j])
    assert np.median(sim.events[pop == "debris", 0]) < 0.3 * np.median(sim.events[pop == "granulocytes", 0])
    assert dye > 0


def _comp_log_medians(sim):
    fl = [i for i, c in enumerate(sim.panel.channels) if c.kind == "fluorescence"]
    comp = np.linalg.solve(sim.spillover.to_numpy().T, sim.events[:, fl].astype(np.float64).T).T
    df = pd.DataFrame(comp, columns=[c.marker for c in sim.panel.fluorescence])
    df["population"] = sim.truth.population.to_numpy()
    return df.groupby("population", observed=True).median()


def test_b_all_blasts_are_aberrant_against_hematogones():
    med = _comp_log_medians(_simulation("B-ALL", 100_000, 1e-2, 1))
    blasts, hg1 = med.loc["leukemic_blasts"], med.loc["hematogones_I"]
    assert blasts.CD10 > 1.5 * hg1.CD10
    assert blasts.CD58 > 2 * hg1.CD58
    assert blasts.CD38 < 0.2 * hg1.CD38
    assert blasts.CD45 < 0.5 * hg1.CD45
    assert blasts.CD20 < 0.1 * med.loc["mature_B"].CD20
    # hematogone maturation: CD34 lost, CD20 gained, CD10 and CD38 fall, CD45 rises
    h = med.loc[["hematogones_I", "hematogones_II", "hematogones_III"]]
    assert h.CD34.iloc[0] > 5 * h.CD34.iloc[1]
    assert h.CD20.is_monotonic_increasing and h.CD45.is_monotonic_increasing
    assert h.CD10.is_monotonic_decreasing and h.CD38.is_monotonic_decreasing
    assert med.loc["erythroid"].CD45 < 0.02 * med.loc["T_cells"].CD45


def test_t_all_and_aml_variants():
    t = _comp_log_medians(_simulation("T-ALL", 60_000, 2e-2, 2))
    assert t.loc["leukemic_blasts"].cyCD3 > 5000
    assert t.loc["leukemic_blasts"].CD7 > 2 * t.loc["T_cells"].CD7
    assert t.loc["leukemic_blasts"].sCD3 < 0.05 * t.loc["T_cells"].sCD3
    assert t.loc["leukemic_blasts"].CD99 > 5 * t.loc["T_cells"].CD99
    a = _comp_log_medians(_simulation("AML", 60_000, 2e-2, 2))
    blasts, cd34 = a.loc["leukemic_blasts"], a.loc["myeloid_progenitors"]
    assert blasts.CD34 > 5000 and blasts.CD117 > 3000
    assert blasts.CD7 > 20 * cd34.CD7 and blasts.CD56 > 20 * cd34.CD56


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_events=0), InputError, "n_events=0"),
        (dict(n_events=1.5), InputError, "n_events=1.5"),
        (dict(mrd_fraction=1.5), InputError, "mrd_fraction=1.5"),
        (dict(seed=-1), InputError, "seed=-1"),
        (dict(debris_fraction=0.6, doublet_fraction=0.5), InputError, "must stay below 1"),
        (dict(population_fractions={"blasts": 0.1}), InputError, "unknown population"),
        (dict(panel="CLL"), ConfigError, "unknown panel"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    args = dict(panel="B-ALL", n_events=1000, mrd_fraction=1e-3, seed=0) | kwargs
    with pytest.raises(error, match=match):
        simulate_bone_marrow(**args)


@settings(max_examples=25, deadline=None)
@given(
    panel=st.sampled_from(["B-ALL", "PUIH B-ALL", "T-ALL", "AML"]),
    n=st.integers(1, 2000),
    mrd=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32),
    debris=st.floats(0.0, 0.4),
    doublets=st.floats(0.0, 0.4),
)
def test_invariants_for_any_arguments(panel, n, mrd, seed, debris, doublets):
    s, truth = simulate_bone_marrow(panel, n, mrd, seed, debris_fraction=debris, doublet_fraction=doublets)
    assert s.events.shape == (n, len(get_panel(panel).channels)) and len(truth) == n
    assert np.all(np.isfinite(s.events)) and s.events.max() <= 262143
    leuk, den = truth.is_leukemic.to_numpy(), truth.is_denominator.to_numpy()
    assert not np.any(leuk & ~den)
    assert not np.any(den & truth.population.isin(["debris", "doublets"]).to_numpy())
    counts = dict(kv.split("=") for kv in s.metadata["mrdquant_sim_population_counts"].split(";"))
    assert sum(int(v) for v in counts.values()) == n
    assert int(s.metadata["mrdquant_sim_leukemic_events"]) == leuk.sum()
    if mrd == 0.0:
        assert leuk.sum() == 0

"""Simulated bone-marrow MRD tubes with per-event ground truth.

:func:`simulate_bone_marrow` draws one tube of a named panel (:mod:`mrdquant.cytometry.panels`)
as an in-memory :class:`~mrdquant.io.fcs.FlowSample` plus a truth table;
:func:`write_bone_marrow_fcs` writes the same as an FCS 3.1 file and a Parquet sidecar;
:func:`write_data_samples` makes the small bundled set in ``data_samples/flow/``.

How an event is made
--------------------
1. **Counts.** ``(debris, doublets, nucleated) ~ Multinomial(n_events, (d, q, 1 - d - q))``.
   For panels with a CD45+ denominator the CD45-negative nucleated red cells are split off
   with ``Binomial(nucleated, share)``; the rest is the *denominator*. The leukemic count
   is an exact draw ``leukemic ~ Binomial(denominator, mrd_fraction)`` and the remaining
   denominator cells are shared among the normal populations by a multinomial draw.
   So ``truth.is_leukemic.sum() / truth.is_denominator.sum()`` is the realised MRD fraction
   and its expectation is ``mrd_fraction``.
2. **Biology.** Each cell gets log-normal FSC-A/SSC-A and a log-normal true intensity per
   marker (see ``_flow_populations``) times one brightness factor shared by all its
   channels (and its FSC-A); hematogones, granulocytes (CD10) and T cells (CD7) follow
   maturation continua.
   Singlet FSC-H = FSC-A x N(0.90, 0.03). A doublet is the sum of two normal cells
   (FSC-A, SSC-A and fluorescence add up), with FSC-H near the larger cell's height, so it
   lies off the FSC-A/FSC-H diagonal.
3. **Instrument.** Detector signal = true intensities @ S, where S is the ``$SPILLOVER``
   matrix stored in the file (with ``drift``, the detector gains scale the signal and
   the stored matrix is the one measured at those gains); then Poisson-like photon noise
   (SD = sqrt(3 units x signal)) and Gaussian electronic noise (SD 35 units) are added, and
   values are clipped at 262,143 (no lower clip, as on digital instruments). Compensated
   values of unstained populations therefore scatter around zero and go negative.
4. **Order and time.** Events are shuffled; ``Time`` is a Poisson process at 3,000 events/s
   in ``$TIMESTEP`` = 0.01 s units.

Everything is drawn from ``numpy.random.default_rng(seed)`` in a fixed order: the same
arguments give the same events and, when written, the same bytes.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from .._version import __version__
from ..mfc.panels import Panel
from ..mfc.panels import load_panel as get_panel
from ..errors import InputError
from ..io.fcs import FlowSample, write_fcs
from ..io.store import write_table
from . import _flow_instrument as inst
from ._flow_populations import (
    BRIGHTNESS_SD,
    DEBRIS,
    DEBRIS_SPEC,
    DOUBLETS,
    LEUKEMIC,
    LEUKEMIC_PHENOTYPES,
    LINEAGES,
    NUCLEATED_DYE,
    REGENERATING_FRACTIONS,
    SIZE_TO_FSC,
    PopulationSpec,
)

__all__ = [
    "simulate_bone_marrow",
    "write_bone_marrow_fcs",
    "write_data_samples",
    "population_names",
    "TRUTH_COLUMNS",
    "DATA_SAMPLES",
    "ALTERNATE_CHANNELS",
    "MARROWS",
    "DRIFT_RANGE",
    "leukemia_phenotypes",
]

#: columns of the truth table, in order
TRUTH_COLUMNS = ["population", "is_leukemic", "is_denominator"]

#: the bundled files: (file stem, panel, n_events, mrd_fraction, seed)
DATA_SAMPLES: tuple[tuple[str, str, int, float, int], ...] = (
    ("b_all_mrd1e-2", "B-ALL", 25_000, 1e-2, 11),
    ("b_all_mrd1e-3", "B-ALL", 60_000, 1e-3, 12),
    ("b_all_mrd1e-4", "B-ALL", 20_000, 1e-4, 13),
    ("t_all_mrd1e-2", "T-ALL", 10_000, 1e-2, 21),
    ("aml_mrd1e-2", "AML", 10_000, 1e-2, 31),
)

_MAX_EVENTS = 50_000_000

#: ``marrow`` values: a normal marrow, or a regenerating one (hematogone-rich, more CD34+
#: myeloid progenitors; :data:`~mrdquant.simulate._flow_populations.REGENERATING_FRACTIONS`)
MARROWS = ("normal", "regenerating")

#: accepted range of a ``drift`` factor (day-to-day gain drift seen in practice is 0.75-1.35)
DRIFT_RANGE = (0.5, 2.0)

#: a second channel layout per panel (marker -> ``$PnN``; markers not listed keep their
#: default detector): the same tube stained with another fluorochrome assignment
ALTERNATE_CHANNELS: dict[str, dict[str, str]] = {
    "B-ALL": {"CD19": "APC-A", "CD38": "PE-Cy7-A", "CD10": "FITC-A", "CD58": "PE-A"},
    "PUIH B-ALL": {"CD19": "Pacific Blue-A", "CD45": "V500-A"},
    "T-ALL": {"CD7": "APC-A", "cyCD3": "PE-Cy7-A", "CD45": "V500-A"},
    "AML": {"CD34": "APC-A", "CD33": "PerCP-Cy5-5-A", "CD7": "PE-A", "CD56": "FITC-A"},
}


@dataclass(frozen=True)
class _Simulation:
    """Everything one draw produces (the public functions pick from it)."""

    panel: Panel
    channels: list[str]  # $PnN in file order
    markers: list[str]  # $PnS in file order ("" for scatter and time)
    events: np.ndarray  # (n, n_channels) float32, detector values
    true_fluorescence: np.ndarray  # (n, n_fluor) float64, before spillover and noise
    spillover: pd.DataFrame  # detector-indexed
    truth: pd.DataFrame
    metadata: dict[str, str]


def population_names(panel: "str | Panel" = "B-ALL") -> list[str]:
    """Categories of ``truth.population`` for a panel, in order.

    Examples
    --------
    >>> population_names("B-ALL")[-3:]
    ['leukemic_blasts', 'debris', 'doublets']
    """
    p = get_panel(panel)
    normals, _ = LINEAGES[p.lineage]
    return [s.name for s in normals] + [LEUKEMIC, DEBRIS, DOUBLETS]


def leukemia_phenotypes(panel: "str | Panel" = "B-ALL") -> list[str]:
    """Names accepted by ``leukemia_phenotype`` for a panel (the first is the default).

    Examples
    --------
    >>> leukemia_phenotypes("B-ALL"), leukemia_phenotypes("AML")
    (['diagnosis', 'shifted'], ['diagnosis', 'asynchronous'])
    """
    return list(LEUKEMIC_PHENOTYPES[get_panel(panel).lineage])


# --------------------------------------------------------------------------- validation


def _check_args(n_events, mrd_fraction, seed, debris_fraction, doublet_fraction) -> tuple[int, float, int]:
    if isinstance(n_events, bool) or not isinstance(n_events, (int, np.integer)) or not 1 <= n_events <= _MAX_EVENTS:
        raise InputError(f"n_events={n_events!r}: expected a whole number of events between 1 and {_MAX_EVENTS:,}")
    try:
        mrd = float(mrd_fraction)
    except (TypeError, ValueError):
        raise InputError(f"mrd_fraction={mrd_fraction!r}: expected a number between 0 and 1") from None
    if not 0.0 <= mrd <= 1.0:
        raise InputError(f"mrd_fraction={mrd_fraction!r}: expected a fraction between 0 and 1 (1e-3 = 0.1%)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed={seed!r}: expected a non-negative integer")
    for name, v in (("debris_fraction", debris_fraction), ("doublet_fraction", doublet_fraction)):
        if not isinstance(v, (int, float)) or not 0.0 <= float(v) < 1.0:
            raise InputError(f"{name}={v!r}: expected a fraction in [0, 1)")
    if debris_fraction + doublet_fraction >= 1.0:
        raise InputError(
            f"debris_fraction + doublet_fraction = {debris_fraction + doublet_fraction:g}: must stay below 1"
        )
    return int(n_events), mrd, int(seed)


def _normal_specs(
    panel: Panel, population_fractions: Mapping[str, float] | None, marrow: str = "normal"
) -> list[PopulationSpec]:
    normals, _ = LINEAGES[panel.lineage]
    if marrow not in MARROWS:
        raise InputError(f"marrow={marrow!r}: expected one of {list(MARROWS)}")
    if marrow == "regenerating":
        population_fractions = {**REGENERATING_FRACTIONS, **(population_fractions or {})}
    if not population_fractions:
        return list(normals)
    known = {s.name for s in normals}
    unknown = sorted(set(population_fractions) - known)
    if unknown:
        raise InputError(f"population_fractions: unknown population(s) {unknown}; known: {sorted(known)}")
    out = []
    for s in normals:
        f = population_fractions.get(s.name, s.fraction)
        if not isinstance(f, (int, float)) or not math.isfinite(f) or f < 0:
            raise InputError(f"population_fractions[{s.name!r}]={f!r}: expected a non-negative number")
        out.append(PopulationSpec(**{**s.__dict__, "fraction": float(f)}))
    if sum(s.fraction for s in out) <= 0:
        raise InputError("population_fractions: at least one normal population needs a positive fraction")
    return out


def _leukemic_spec(panel: Panel, phenotype: str) -> PopulationSpec:
    known = LEUKEMIC_PHENOTYPES[panel.lineage]
    if phenotype not in known:
        raise InputError(
            f"leukemia_phenotype={phenotype!r}: panel {panel.panel_id!r} knows {list(known)}"
        )
    return known[phenotype]


def _layout(panel: Panel, channels: Mapping[str, str] | None) -> list[tuple[str, str, str]]:
    """``(kind, $PnN, $PnS)`` of every channel in file order under a channel layout.

    Without ``channels`` this is the panel's own order. With it, each listed marker moves
    to the given detector; fluorescence channels are then stored in the instrument's
    detector order, scatter first and ``Time`` last as in the panel.
    """
    default = [(c.kind, c.name, c.marker) for c in panel.channels]
    if not channels:
        return default
    if not isinstance(channels, Mapping):
        raise InputError(f"channels={channels!r}: expected a mapping of marker to detector ($PnN)")
    fluor = {m: d for k, d, m in default if k == "fluorescence"}
    by_lower = {m.lower(): m for m in fluor}
    moved = {}
    for marker, det in channels.items():
        m = by_lower.get(str(marker).lower())
        if m is None:
            raise InputError(f"channels: panel {panel.panel_id!r} has no marker {marker!r}; markers: {list(fluor)}")
        if det not in inst.DETECTORS:
            raise InputError(
                f"channels[{marker!r}]={det!r}: not a detector of the simulated instrument; "
                f"detectors: {list(inst.DETECTORS)}"
            )
        moved[m] = det
    fluor.update(moved)
    used: dict[str, str] = {}
    for m, d in fluor.items():
        if d in used:
            raise InputError(f"channels: markers {used[d]!r} and {m!r} would both be on detector {d!r}")
        used[d] = m
    order = list(inst.DETECTORS)
    fl = sorted(((d, m) for m, d in fluor.items()), key=lambda dm: order.index(dm[0]))
    return (
        [c for c in default if c[0] == "scatter"]
        + [("fluorescence", d, m) for d, m in fl]
        + [c for c in default if c[0] not in ("scatter", "fluorescence")]
    )


def _drift_factors(drift: Mapping[str, float] | None, detectors: list[str], markers: list[str]) -> np.ndarray:
    """Gain factor per fluorescence detector (1 where no drift is given)."""
    g = np.ones(len(detectors))
    if not drift:
        return g
    if not isinstance(drift, Mapping):
        raise InputError(f"drift={drift!r}: expected a mapping of marker (or $PnN) to a gain factor")
    lo, hi = DRIFT_RANGE
    for key, f in drift.items():
        names = [i for i, (d, m) in enumerate(zip(detectors, markers)) if str(key).lower() in (d.lower(), m.lower())]
        if not names:
            raise InputError(f"drift: no fluorescence channel {key!r}; markers: {markers}")
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not math.isfinite(f) or not lo <= f <= hi:
            raise InputError(f"drift[{key!r}]={f!r}: expected a gain factor between {lo} and {hi} (e.g. 0.8 or 1.3)")
        g[names[0]] = float(f)
    return g


# --------------------------------------------------------------------------- drawing


def _lognormal(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    sigma = math.sqrt(math.log1p(cv * cv))
    return mean * np.exp(rng.normal(-0.5 * sigma * sigma, sigma, n))


def _draw_cells(
    rng: np.random.Generator, spec: PopulationSpec, n: int, markers: list[str], nucleated: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FSC-A, SSC-A and true marker intensities (n, len(markers)) of ``n`` cells.

    Every cell has one log10 brightness offset ``b ~ N(0, BRIGHTNESS_SD)`` added to all of
    its marker (and autofluorescence) log-intensities; FSC-A scales by
    ``10 ** (SIZE_TO_FSC * b)``, so bigger cells are brighter in every channel.
    """
    fsc = _lognormal(rng, spec.fsc[0], spec.fsc[1], n)
    ssc = _lognormal(rng, spec.ssc[0], spec.ssc[1], n)
    bright = rng.normal(0.0, BRIGHTNESS_SD, n)
    fsc *= np.power(10.0, SIZE_TO_FSC * bright)
    t = rng.uniform(spec.t_range[0], spec.t_range[1], n) if spec.continuum else None
    fl = np.empty((n, len(markers)))
    for j, m in enumerate(markers):
        if spec.continuum and m in spec.continuum:
            anchors, values = spec.continuum[m]
            log_mean = np.interp(t, anchors, values)
            fl[:, j] = log_mean + rng.normal(0.0, spec.continuum_sd, n)
        else:
            if m in spec.markers:
                mu, sd = spec.markers[m]
            elif nucleated and m == NUCLEATED_DYE[0]:
                mu, sd = NUCLEATED_DYE[1]
            else:
                mu, sd = spec.autofluorescence
            fl[:, j] = rng.normal(mu, sd, n)
    fl += bright[:, None]
    return fsc, ssc, np.power(10.0, fl)


def _apply_spillover(true_fl: np.ndarray, spill: np.ndarray) -> np.ndarray:
    """``true_fl @ spill`` summed column by column in a fixed order (no BLAS, so the
    result does not depend on the machine's thread count or kernels)."""
    out = np.zeros_like(true_fl)
    for j in range(spill.shape[1]):
        col = out[:, j]
        for i in range(spill.shape[0]):
            if spill[i, j] != 0.0:
                col += true_fl[:, i] * spill[i, j]
    return out


def _simulate(
    panel: "str | Panel",
    n_events: int,
    mrd_fraction: float,
    seed: int,
    *,
    debris_fraction: float = 0.05,
    doublet_fraction: float = 0.03,
    population_fractions: Mapping[str, float] | None = None,
    marrow: str = "normal",
    leukemia_phenotype: str = "diagnosis",
    channels: Mapping[str, str] | None = None,
    drift: Mapping[str, float] | None = None,
) -> _Simulation:
    p = get_panel(panel)
    n_events, mrd_fraction, seed = _check_args(n_events, mrd_fraction, seed, debris_fraction, doublet_fraction)
    specs = _normal_specs(p, population_fractions, marrow)
    leukemic_spec = _leukemic_spec(p, leukemia_phenotype)
    layout = _layout(p, channels)
    markers = [m for k, _, m in layout if k == "fluorescence"]
    # cells are drawn in the panel's marker order whatever the layout, so one seed gives
    # the same cells under every layout (columns are permuted afterwards)
    drawn = [c.marker for c in p.channels if c.kind == "fluorescence"]
    to_layout = [drawn.index(m) for m in markers]
    detectors = [d for k, d, _ in layout if k == "fluorescence"]
    gain = _drift_factors(drift, detectors, markers)
    rng = np.random.default_rng(seed)
    cd45_denominator = p.denominator.startswith("CD45")

    # 1. counts
    n_debris, n_doublets, n_nucleated = (
        int(x) for x in rng.multinomial(n_events, [debris_fraction, doublet_fraction, 1.0 - debris_fraction - doublet_fraction])
    )
    weights = np.array([s.fraction for s in specs])
    excluded = np.array([cd45_denominator and s.cd45_negative for s in specs])
    share_excluded = weights[excluded].sum() / weights.sum()
    n_excluded = int(rng.binomial(n_nucleated, share_excluded)) if excluded.any() else 0
    n_denominator = n_nucleated - n_excluded
    n_leukemic = int(rng.binomial(n_denominator, mrd_fraction))
    counts = np.zeros(len(specs), dtype=np.int64)
    w_den = np.where(excluded, 0.0, weights)
    if w_den.sum() > 0:
        counts += rng.multinomial(n_denominator - n_leukemic, w_den / w_den.sum())
    elif n_denominator - n_leukemic > 0:
        raise InputError("population_fractions leave no normal population inside the denominator")
    if excluded.any():
        w_ex = np.where(excluded, weights, 0.0)
        counts += rng.multinomial(n_excluded, w_ex / w_ex.sum())

    # 2. biology
    names = [s.name for s in specs] + [LEUKEMIC, DEBRIS, DOUBLETS]
    fsc_parts, ssc_parts, fl_parts, code_parts = [], [], [], []
    for k, (spec, n) in enumerate(zip(specs, counts)):
        f, s, fl = _draw_cells(rng, spec, int(n), drawn, True)
        fsc_parts.append(f), ssc_parts.append(s), fl_parts.append(fl)
        code_parts.append(np.full(int(n), k, dtype=np.int16))
    f, s, fl = _draw_cells(rng, leukemic_spec, n_leukemic, drawn, True)
    fsc_parts.append(f), ssc_parts.append(s), fl_parts.append(fl)
    code_parts.append(np.full(n_leukemic, len(specs), dtype=np.int16))
    f, s, fl = _draw_cells(rng, DEBRIS_SPEC, n_debris, drawn, False)
    fsc_parts.append(f), ssc_parts.append(s), fl_parts.append(fl)
    code_parts.append(np.full(n_debris, len(specs) + 1, dtype=np.int16))

    fsc_a = np.concatenate(fsc_parts)
    fsc_h = fsc_a * rng.normal(*inst.SINGLET_HEIGHT_RATIO, fsc_a.size)

    # doublets: two normal cells stuck together
    partner_pop = rng.choice(len(specs), size=2 * n_doublets, p=weights / weights.sum())
    pf = np.empty(2 * n_doublets)
    ps = np.empty(2 * n_doublets)
    pfl = np.empty((2 * n_doublets, len(drawn)))
    for k, spec in enumerate(specs):
        idx = np.flatnonzero(partner_pop == k)
        f, s, fl = _draw_cells(rng, spec, idx.size, drawn, True)
        pf[idx], ps[idx], pfl[idx] = f, s, fl
    ph = pf * rng.normal(*inst.SINGLET_HEIGHT_RATIO, pf.size)
    d_fsc_a = pf[0::2] + pf[1::2]
    d_fsc_h = np.maximum(ph[0::2], ph[1::2]) * rng.uniform(1.0, 1.15, n_doublets)
    fsc_a = np.concatenate([fsc_a, d_fsc_a])
    fsc_h = np.concatenate([fsc_h, d_fsc_h])
    ssc_a = np.concatenate(ssc_parts + [ps[0::2] + ps[1::2]])
    true_fl = np.concatenate(fl_parts + [pfl[0::2] + pfl[1::2]])[:, to_layout]
    code = np.concatenate(code_parts + [np.full(n_doublets, len(specs) + 2, dtype=np.int16)])

    # 3. shuffle, instrument
    order = rng.permutation(n_events)
    fsc_a, fsc_h, ssc_a, true_fl, code = fsc_a[order], fsc_h[order], ssc_a[order], true_fl[order], code[order]
    # gain drift g_j of detector j: detector = (true @ S) * g = (true * g) @ S' with
    # S' = g^-1 S g the spillover measured at the drifted gains, which is what is stored
    spill = inst.spillover_matrix(detectors)
    if np.any(gain != 1.0):
        spill = spill * gain[None, :] / gain[:, None]
        true_fl = true_fl * gain
    signal = _apply_spillover(true_fl, spill.to_numpy())
    detector = signal + rng.normal(0.0, 1.0, signal.shape) * np.sqrt(inst.UNITS_PER_PHOTOELECTRON * np.maximum(signal, 0.0))
    detector += rng.normal(0.0, inst.ELECTRONIC_NOISE_SD, signal.shape)
    scatter = np.column_stack([fsc_a, fsc_h, ssc_a])
    scatter *= 1.0 + rng.normal(0.0, inst.SCATTER_NOISE_CV, scatter.shape)
    time = np.cumsum(rng.exponential(1.0 / inst.EVENT_RATE_PER_S, n_events)) / inst.TIMESTEP_S

    columns = {"FSC-A": scatter[:, 0], "FSC-H": scatter[:, 1], "SSC-A": scatter[:, 2], "Time": time}
    for j, d in enumerate(detectors):
        columns[d] = detector[:, j]
    events = np.empty((n_events, len(layout)), dtype=np.float32)
    for i, (kind, name, _) in enumerate(layout):
        col = columns[name]
        if kind != "time":
            col = np.minimum(col, inst.FULL_SCALE)
            if kind == "scatter":
                col = np.maximum(col, 0.0)
        events[:, i] = col

    population = pd.Categorical.from_codes(code, categories=names)
    is_leukemic = code == len(specs)
    is_denominator = (code <= len(specs)) & ~np.isin(code, np.flatnonzero(excluded))
    truth = pd.DataFrame({"population": population, "is_leukemic": is_leukemic, "is_denominator": is_denominator})

    pop_counts = np.bincount(code, minlength=len(names))
    metadata = {
        "$CYT": "mrdquant simulated cytometer",
        "$TIMESTEP": f"{inst.TIMESTEP_S:g}",
        "$SRC": "simulated bone marrow",
        "MRDQUANT_VERSION": __version__,
        "MRDQUANT_SIM_PANEL": p.panel_id,
        "MRDQUANT_SIM_SEED": str(seed),
        "MRDQUANT_SIM_MRD_FRACTION": repr(mrd_fraction),
        "MRDQUANT_SIM_DEBRIS_FRACTION": repr(float(debris_fraction)),
        "MRDQUANT_SIM_DOUBLET_FRACTION": repr(float(doublet_fraction)),
        "MRDQUANT_SIM_LEUKEMIC_EVENTS": str(n_leukemic),
        "MRDQUANT_SIM_DENOMINATOR_EVENTS": str(int(is_denominator.sum())),
        "MRDQUANT_SIM_DENOMINATOR": p.denominator,
        "MRDQUANT_SIM_POPULATION_FRACTIONS": ";".join(f"{s.name}={s.fraction:g}" for s in specs),
        "MRDQUANT_SIM_POPULATION_COUNTS": ";".join(f"{nm}={int(c)}" for nm, c in zip(names, pop_counts)),
        "MRDQUANT_SIM_MARROW": marrow,
        "MRDQUANT_SIM_LEUKEMIA_PHENOTYPE": leukemia_phenotype,
        "MRDQUANT_SIM_CHANNELS": ";".join(f"{m}={d}" for m, d in zip(markers, detectors)),
        "MRDQUANT_SIM_DRIFT": ";".join(f"{m}={g:g}" for m, g in zip(markers, gain) if g != 1.0) or "none",
    }
    for i, (kind, _, _) in enumerate(layout):
        if kind == "fluorescence":
            metadata[f"P{i + 1}DISPLAY"] = "LOG"
        elif kind == "scatter":
            metadata[f"P{i + 1}DISPLAY"] = "LIN"
    return _Simulation(
        p, [n for _, n, _ in layout], [m for _, _, m in layout], events, true_fl, spill, truth, metadata
    )


# --------------------------------------------------------------------------- public


def simulate_bone_marrow(
    panel: "str | Panel" = "B-ALL",
    n_events: int = 100_000,
    mrd_fraction: float = 1e-3,
    seed: int = 0,
    *,
    debris_fraction: float = 0.05,
    doublet_fraction: float = 0.03,
    population_fractions: Mapping[str, float] | None = None,
    marrow: str = "normal",
    leukemia_phenotype: str = "diagnosis",
    channels: Mapping[str, str] | None = None,
    drift: Mapping[str, float] | None = None,
) -> tuple[FlowSample, pd.DataFrame]:
    """Simulate one bone-marrow MRD tube with known per-event truth.

    Parameters
    ----------
    panel : {"B-ALL", "PUIH B-ALL", "T-ALL", "AML"} or Panel, default "B-ALL"
        Tube to simulate (:func:`mrdquant.cytometry.panels.get_panel`).
    n_events : int, default 100_000, events
        Total events acquired (cells, debris and doublets).
    mrd_fraction : float, default 1e-3, 0-1
        Expected leukemic fraction of the denominator (nucleated singlets, or CD45+
        nucleated singlets for CD45-denominator panels). The leukemic count is drawn as
        ``Binomial(denominator events, mrd_fraction)``.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; same arguments give identical events.
    debris_fraction : float, default 0.05, 0-1
        Expected share of debris among all events.
    doublet_fraction : float, default 0.03, 0-1
        Expected share of doublets among all events.
    population_fractions : dict of str to float, optional
        Override the share of named normal populations among normal nucleated cells
        (renormalised), e.g. ``{"hematogones_I": 0.02}``; names from
        :func:`population_names`.
    marrow : {"normal", "regenerating"}, default "normal"
        ``"regenerating"``: a hematogone-rich marrow as after chemotherapy or transplant
        (B-cell precursors about 16 % of normal nucleated cells, CD34+ myeloid progenitors
        2 %); ``population_fractions`` still override single shares. With
        ``mrd_fraction=0`` this is a normal (or regenerating) reference marrow.
    leukemia_phenotype : str, default "diagnosis"
        Phenotype of the leukemic blasts, one of :func:`leukemia_phenotypes`:
        ``"diagnosis"``; B-ALL and T-ALL ``"shifted"`` (after therapy: B-ALL CD34 lost,
        CD10 dimmer, CD45 brighter; T-ALL CD99 down, CD45 brighter); AML
        ``"asynchronous"`` (CD34+ CD117+ HLA-DR-, CD13 bright CD33 dim, no CD7/CD56).
    channels : dict of str to str, optional
        Channel layout: marker -> ``$PnN`` detector for markers that move off the panel's
        default detector (e.g. :data:`ALTERNATE_CHANNELS` ``["B-ALL"]`` puts CD19 on
        ``APC-A``). ``$PnS`` still names the marker; the fluorescence channels are stored
        in detector order and ``$SPILLOVER`` is that of the new detectors.
    drift : dict of str to float, optional
        Day-to-day gain drift: marker (or ``$PnN``) -> factor in :data:`DRIFT_RANGE`
        (typically 0.75-1.35) multiplying that detector's signal, e.g.
        ``{"CD10": 1.3, "CD45": 0.8}``. ``$SPILLOVER`` is the matrix measured at the
        drifted gains, so compensation stays exact and the populations move on the
        drifted channels.

    Returns
    -------
    sample : FlowSample
        In-memory sample, preprocessed as :func:`~mrdquant.io.fcs.read_fcs` returns the
        written file: ``events`` float32 (n_events, n_channels) in linear detector units
        (0-262,143; fluorescence uncompensated and possibly slightly negative; ``Time`` in
        seconds),
        ``channels`` ($PnN), ``markers`` ($PnS), ``spillover`` (detector-indexed), and
        ``metadata`` with the simulation keywords (lower-case, no ``$``:
        ``mrdquant_sim_seed``, ``mrdquant_sim_panel``, ``mrdquant_sim_mrd_fraction``,
        ``mrdquant_sim_population_fractions``, ``mrdquant_sim_population_counts``, ...).
    truth : DataFrame
        One row per event, in event order, columns :data:`TRUTH_COLUMNS`:
        ``population`` (categorical, categories :func:`population_names`),
        ``is_leukemic`` (bool), ``is_denominator`` (bool: nucleated singlet inside the
        MRD denominator; the leukemic blasts are inside it).

    Raises
    ------
    InputError
        Out-of-range counts or fractions, unknown population names, marrow or phenotype,
        a layout putting two markers on one detector or naming an unknown detector, a
        drift factor outside :data:`DRIFT_RANGE`.
    ConfigError
        Unknown panel.

    Examples
    --------
    >>> sample, truth = simulate_bone_marrow("B-ALL", n_events=20_000, mrd_fraction=1e-2, seed=1)
    >>> sample.events.shape
    (20000, 12)
    >>> int(truth.is_leukemic.sum()) == int(sample.metadata["mrdquant_sim_leukemic_events"])
    True
    """
    sim = _simulate(
        panel,
        n_events,
        mrd_fraction,
        seed,
        debris_fraction=debris_fraction,
        doublet_fraction=doublet_fraction,
        population_fractions=population_fractions,
        marrow=marrow,
        leukemia_phenotype=leukemia_phenotype,
        channels=channels,
        drift=drift,
    )
    meta = {k.lstrip("$").lower(): v for k, v in sim.metadata.items()}
    # preprocessed like read_fcs does: Time from $TIMESTEP ticks to seconds
    events = sim.events.copy()
    t = sim.channels.index("Time")
    events[:, t] = events[:, t].astype(np.float64) * inst.TIMESTEP_S
    sample = FlowSample.from_array(events, sim.channels, markers=sim.markers, metadata=meta, spillover=sim.spillover)
    return sample, sim.truth


def truth_path_for(fcs_path: "str | os.PathLike") -> Path:
    """The sidecar truth path of an FCS path: ``x.fcs`` -> ``x.truth.parquet``."""
    p = Path(fcs_path)
    return p.with_name(p.stem + ".truth.parquet")


def write_bone_marrow_fcs(
    path: "str | os.PathLike",
    panel: "str | Panel" = "B-ALL",
    n_events: int = 100_000,
    *,
    mrd_fraction: float = 1e-3,
    seed: int = 0,
    debris_fraction: float = 0.05,
    doublet_fraction: float = 0.03,
    population_fractions: Mapping[str, float] | None = None,
    marrow: str = "normal",
    leukemia_phenotype: str = "diagnosis",
    channels: Mapping[str, str] | None = None,
    drift: Mapping[str, float] | None = None,
) -> tuple[Path, Path]:
    """Simulate a tube (:func:`simulate_bone_marrow`) and write it with its truth.

    Parameters
    ----------
    path : str or os.PathLike
        FCS file to write (float32 FCS 3.1 with ``$SPILLOVER`` and the simulation keywords).
    panel, n_events, mrd_fraction, seed, debris_fraction, doublet_fraction, population_fractions, \
    marrow, leukemia_phenotype, channels, drift
        As in :func:`simulate_bone_marrow`.

    Returns
    -------
    fcs_path : pathlib.Path
    truth_path : pathlib.Path
        ``<stem>.truth.parquet`` beside the FCS file: the truth table (columns
        :data:`TRUTH_COLUMNS`, one row per event in file order). Both files are written
        atomically and are byte-identical for identical arguments.
    """
    sim = _simulate(
        panel,
        n_events,
        mrd_fraction,
        seed,
        debris_fraction=debris_fraction,
        doublet_fraction=doublet_fraction,
        population_fractions=population_fractions,
        marrow=marrow,
        leukemia_phenotype=leukemia_phenotype,
        channels=channels,
        drift=drift,
    )
    fcs_path = Path(path)
    meta = dict(sim.metadata)
    meta["$FIL"] = fcs_path.name
    write_fcs(fcs_path, sim.events, sim.channels, markers=sim.markers, metadata=meta, spillover=sim.spillover)
    truth_path = truth_path_for(fcs_path)
    write_table(sim.truth, truth_path)
    return fcs_path, truth_path


def write_data_samples(outdir: "str | os.PathLike") -> list[Path]:
    """Write the bundled flow examples into ``outdir`` (deterministic).

    Files: five simulated tubes (:data:`DATA_SAMPLES`: B-ALL at MRD 1e-2, 1e-3 and 1e-4,
    one T-ALL and one AML at 1e-2), each ``<stem>.fcs`` with ``<stem>.truth.parquet``;
    the B-ALL LAIP gating strategy ``b_all_laip.xml`` (Gating-ML 2.0); and
    ``manifest.csv`` with one row per tube: ``file, truth_file, panel, n_events,
    mrd_fraction, seed, leukemic_events, denominator_events``.

    Returns
    -------
    list of pathlib.Path
        Every file written.
    """
    from ._flow_gatingml import write_b_all_laip_gatingml

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    rows = []
    for stem, panel, n, mrd, seed in DATA_SAMPLES:
        fcs, truth_file = write_bone_marrow_fcs(out / f"{stem}.fcs", panel, n, mrd_fraction=mrd, seed=seed)
        truth = pd.read_parquet(truth_file)
        written += [fcs, truth_file]
        rows.append(
            {
                "file": fcs.name,
                "truth_file": truth_file.name,
                "panel": panel,
                "n_events": n,
                "mrd_fraction": mrd,
                "seed": seed,
                "leukemic_events": int(truth["is_leukemic"].sum()),
                "denominator_events": int(truth["is_denominator"].sum()),
            }
        )
    written.append(write_b_all_laip_gatingml(out / "b_all_laip.xml"))
    written.append(write_table(pd.DataFrame(rows), out / "manifest.csv"))
    return written

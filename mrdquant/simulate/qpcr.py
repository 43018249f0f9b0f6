"""Simulated WT1/ABL1 RT-qPCR plates with known copy numbers, written as QuantStudio text.

Each reaction's Ct is drawn from a true standard curve plus Gaussian noise::

    Ct = slope * log10(copies) + intercept + N(0, ct_sd)

Wells whose Ct would exceed ``max_cycle`` (or that hold 0 copies) are ``Undetermined``.
A plate carries a plasmid standard series for each target (10^1..10^6 copies in
triplicate by default), NTCs, and replicate unknowns.

**Stated error**: the mean of ``n`` replicate Cts has SD ``ct_sd / sqrt(n)``, and the
fitted curve adds a smaller error; the estimated copies of an unknown lie within a factor
``copies_fold_tolerance = 10 ** (5 * ct_sd / |slope|)`` of the truth (five noise SDs, a
deliberately wide bound that holds for every seed in the tests).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..io.store import atomic_path, write_table

__all__ = [
    "simulate_qpcr_plate",
    "write_quantstudio_plate",
    "write_data_samples",
    "default_samples",
    "TRUE_CURVES",
]

#: true (slope, intercept) per target used by the simulator
TRUE_CURVES = {"WT1": (-3.35, 39.6), "ABL1": (-3.32, 39.2)}

_REPORTERS = {"WT1": "FAM", "ABL1": "VIC"}
#: role -> the Task code written to (and read back from) the QuantStudio export
_TASK_CODES = {"unknown": "UNKNOWN", "standard": "STANDARD", "ntc": "NTC", "control": "UNKNOWN"}


def default_samples() -> list[dict]:
    """Four bone-marrow samples: two WT1-positive, two negative by the PUIH 0.6 % rule."""
    return [
        {"sample": "BM01", "specimen": "BM", "wt1_copies": 1500.0, "abl1_copies": 50_000.0},   # 3 %
        {"sample": "BM02", "specimen": "BM", "wt1_copies": 40.0, "abl1_copies": 40_000.0},     # 0.1 %
        {"sample": "BM03", "specimen": "BM", "wt1_copies": 6000.0, "abl1_copies": 30_000.0},   # 20 %
        {"sample": "BM04", "specimen": "BM", "wt1_copies": 120.0, "abl1_copies": 60_000.0},    # 0.2 %
    ]


def _well_names(n: int) -> list[str]:
    rows, cols = ("ABCDEFGH", 12) if n <= 96 else ("ABCDEFGHIJKLMNOP", 24)
    if n > len(rows) * cols:
        raise ValueError(f"{n} wells do not fit a 384-well plate")
    return [f"{r}{c}" for r in rows for c in range(1, cols + 1)][:n]


def simulate_qpcr_plate(
    *,
    seed: int = 0,
    samples: Sequence[dict] | None = None,
    standards: Sequence[float] = (1e1, 1e2, 1e3, 1e4, 1e5, 1e6),
    standard_replicates: int = 3,
    replicates: int = 3,
    n_ntc: int = 2,
    ct_sd: float = 0.15,
    curves: dict | None = None,
    max_cycle: float = 40.0,
    ntc_amplifies: bool = False,
    failed_replicate: str | None = None,
    low_abl1: bool = False,
    no_standards: bool = False,
    min_abl1: float = 10_000.0,
    threshold_pct: float = 0.6,
    plate: str = "SIM",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate one WT1 + ABL1 plate.

    Parameters
    ----------
    seed : int
        Seed of the noise generator (``numpy.random.default_rng``).
    samples : sequence of dict, optional
        Each with ``sample``, ``specimen``, ``wt1_copies``, ``abl1_copies`` (true copies
        per reaction). Default :func:`default_samples`.
    standards : sequence of float, copies/reaction
        Plasmid standard levels (both targets).
    standard_replicates, replicates : int
        Replicates per standard level and per unknown.
    n_ntc : int
        NTC wells per target.
    ct_sd : float, cycles
        SD of the Gaussian Ct noise.
    curves : dict target -> (slope, intercept), optional
        True curves; default :data:`TRUE_CURVES`.
    max_cycle : float, cycles
        Cts beyond this are ``Undetermined``.
    ntc_amplifies : bool
        One WT1 NTC amplifies (Ct 34.5): every result of the plate is not evaluable.
    failed_replicate : str, optional
        This sample's second WT1 replicate fails (``Undetermined``).
    low_abl1 : bool
        Add sample ``LOW_ABL1`` with 2,000 ABL1 copies (below ``min_abl1``) and 5 % WT1.
    no_standards : bool
        Leave out the standard series (quantify with a stored curve).
    min_abl1 : float, copies
        Used only for the ``expected_call`` column of the truth.
    threshold_pct : float, % of ABL1
        Used only for the ``expected_call`` column (PUIH 0.6 %).
    plate : str
        Plate id written in the wells table.

    Returns
    -------
    wells : pandas.DataFrame
        The tidy well table (as :func:`mrdquant.read_qpcr` returns it).
    truth : pandas.DataFrame
        One row per sample: ``sample, specimen, wt1_copies, abl1_copies, wt1_pct_abl1,
        wt1_per_1e4_abl1, expected_call, copies_fold_tolerance``.
    """
    rng = np.random.default_rng(seed)
    curves = dict(TRUE_CURVES if curves is None else curves)
    samples = [dict(s) for s in (default_samples() if samples is None else samples)]
    if low_abl1:
        samples.append({"sample": "LOW_ABL1", "specimen": "BM", "wt1_copies": 100.0, "abl1_copies": 2000.0})
    names = {s["sample"] for s in samples}
    if failed_replicate is not None and failed_replicate not in names:
        raise ValueError(f"failed_replicate {failed_replicate!r} is not one of the samples {sorted(names)}")

    def draw_ct(target: str, copies: float) -> float:
        if copies <= 0:
            return math.nan
        slope, intercept = curves[target]
        ct = slope * math.log10(copies) + intercept + rng.normal(0.0, ct_sd)
        return ct if ct <= max_cycle else math.nan

    recs: list[dict] = []
    for target in ("WT1", "ABL1"):
        if not no_standards:
            for q in standards:
                for _ in range(standard_replicates):
                    recs.append(dict(sample=f"STD_{target}_{q:.0f}", target=target, role="standard",
                                     ct=draw_ct(target, q), quantity=float(q)))
        for k in range(n_ntc):
            ct = 34.5 if (ntc_amplifies and target == "WT1" and k == 0) else math.nan
            recs.append(dict(sample="NTC", target=target, role="ntc", ct=ct, quantity=math.nan))
        for s in samples:
            key = "wt1_copies" if target == "WT1" else "abl1_copies"
            for r in range(replicates):
                ct = draw_ct(target, float(s[key]))
                if target == "WT1" and s["sample"] == failed_replicate and r == 1:
                    ct = math.nan
                recs.append(dict(sample=s["sample"], target=target, role="unknown", ct=ct, quantity=math.nan))
    wells = pd.DataFrame(recs)
    wells.insert(0, "well", _well_names(len(wells)))
    wells.insert(0, "plate", plate)
    wells["flags"] = np.where(np.isfinite(wells["ct"]), "", "undetermined")
    wells["source_file"] = ""
    wells["task"] = wells["role"].map(_TASK_CODES)  # the code written to the export's Task column
    wells = wells[["plate", "well", "sample", "target", "role", "ct", "quantity", "flags", "source_file", "task"]]

    slope_abs = min(abs(c[0]) for c in curves.values())
    tolerance = 10 ** (5 * ct_sd / slope_abs)
    truth_rows = []
    for s in samples:
        ratio = s["wt1_copies"] / s["abl1_copies"]
        if ntc_amplifies:
            expected = "not evaluable"
        elif no_standards:
            expected = "depends on stored curve"
        elif s["abl1_copies"] < min_abl1:
            expected = "not evaluable"
        else:
            expected = "positive" if 100 * ratio > threshold_pct else "negative"
        truth_rows.append({
            "sample": s["sample"], "specimen": s.get("specimen", "BM"),
            "wt1_copies": float(s["wt1_copies"]), "abl1_copies": float(s["abl1_copies"]),
            "wt1_pct_abl1": 100 * ratio, "wt1_per_1e4_abl1": 1e4 * ratio,
            "expected_call": expected, "copies_fold_tolerance": tolerance,
        })
    return wells, pd.DataFrame(truth_rows)


def _fmt_qty(q: float) -> str:
    return "" if not math.isfinite(q) else f"{q:,.3f}"


def _quantstudio_text(wells: pd.DataFrame, *, experiment: str) -> str:
    header = [
        "* Block Type = 96-Well Block (0.2mL)" if len(wells) <= 96 else "* Block Type = 384-Well Block",
        "* Chemistry = TAQMAN",
        f"* Experiment File Name = {experiment}.eds",
        f"* Experiment Name = {experiment}",
        "* Experiment Run End Time = 2024-01-15 10:00:00 AM UTC",
        "* Experiment Type = Standard Curve",
        "* Instrument Name = SIMULATED",
        "* Instrument Serial Number = 000000000",
        "* Instrument Type = QuantStudio(TM) 7 Flex System",
        "* Passive Reference = ROX",
        "* Quantification Cycle Method = Ct",
        "* Stage/ Cycle where Analysis is performed = Stage 2, Step 2",
        "",
    ]
    task = _TASK_CODES
    setup = ["[Sample Setup]", "\t".join(["Well", "Well Position", "Sample Name", "Sample Color", "Biogroup Name",
                                          "Biogroup Color", "Target Name", "Target Color", "Task", "Reporter",
                                          "Quencher", "Quantity", "Comments"])]
    results = ["[Results]", "\t".join(["Well", "Well Position", "Omit", "Sample Name", "Target Name", "Task",
                                       "Reporter", "Quencher", "CT", "Ct Mean", "Ct SD", "Quantity",
                                       "Automatic Ct Threshold", "Ct Threshold", "Automatic Baseline",
                                       "Baseline Start", "Baseline End", "Comments"])]
    grp = wells.groupby(["sample", "target"])["ct"]
    means, sds = grp.transform("mean"), grp.transform("std")
    for i, w in enumerate(wells.itertuples(index=False)):
        n = i + 1
        rep = _REPORTERS.get(w.target, "FAM")
        setup.append("\t".join([str(n), w.well, w.sample, '"RGB(176,23,31)"', "", "", w.target,
                                '"RGB(0,0,255)"', task[w.role], rep, "NFQ-MGB", _fmt_qty(w.quantity), ""]))
        ct = "Undetermined" if not math.isfinite(w.ct) else f"{w.ct:.3f}"
        m = means.iloc[i]
        sd = sds.iloc[i]
        results.append("\t".join([
            str(n), w.well, "false", w.sample, w.target, task[w.role], rep, "NFQ-MGB", ct,
            "" if not math.isfinite(m) else f"{m:.3f}", "" if not math.isfinite(sd) else f"{sd:.3f}",
            _fmt_qty(w.quantity), "true", "0.200", "true", "3", "15", "",
        ]))
    return "\n".join(header + setup + ["", ""] + results) + "\n"


def write_quantstudio_plate(path: "str | Path", *, seed: int = 0, **kw) -> tuple[Path, pd.DataFrame]:
    """Simulate a plate (:func:`simulate_qpcr_plate` keywords) and write it as QuantStudio text.

    Returns
    -------
    (pathlib.Path, pandas.DataFrame)
        The file written (atomically) and the per-sample truth.
    """
    target = Path(path)
    kw.setdefault("plate", target.stem)
    wells, truth = simulate_qpcr_plate(seed=seed, **kw)
    text = _quantstudio_text(wells, experiment=target.stem)
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target, truth


def write_data_samples(outdir: "str | Path") -> list[Path]:
    """Write the bundled sample plates into ``outdir`` (``data_samples/qpcr``): plates + truth.

    Plates: a clean run with a low-ABL1 sample and a failed replicate
    (``wt1_abl1_plate.txt``), a run whose WT1 NTC amplified
    (``wt1_abl1_ntc_amplified.txt``) and a run without standards
    (``wt1_abl1_no_standards.txt``); each with its ``*_truth.csv``.
    """
    folder = Path(outdir)
    written: list[Path] = []
    plates = {
        "wt1_abl1_plate": dict(seed=0, low_abl1=True, failed_replicate="BM03"),
        "wt1_abl1_ntc_amplified": dict(seed=1, ntc_amplifies=True),
        "wt1_abl1_no_standards": dict(seed=2, no_standards=True),
    }
    for name, kw in plates.items():
        path, truth = write_quantstudio_plate(folder / f"{name}.txt", **kw)
        written.append(path)
        written.append(write_table(truth, folder / f"{name}_truth.csv"))
    return written

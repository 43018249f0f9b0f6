"""The simulated cytometer: detectors, spillover and noise (a 3-laser, 8-colour analyser).

Spillover fractions are of the order seen on BD FACSCanto II-type instruments with the
fluorochromes of :mod:`mrdquant.cytometry.panels` (0.5 % to 30 % off the diagonal).
Rows are the emitting (primary) detector, columns the receiving detector, as in FCS
``$SPILLOVER``: ``observed = true @ S``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: (emitting detector, receiving detector) -> fraction of the primary signal
SPILLOVER_FRACTIONS: dict[tuple[str, str], float] = {
    ("FITC-A", "PE-A"): 0.22,
    ("FITC-A", "PerCP-Cy5-5-A"): 0.035,
    ("FITC-A", "PE-Cy7-A"): 0.006,
    ("FITC-A", "V500-A"): 0.012,
    ("PE-A", "FITC-A"): 0.012,
    ("PE-A", "PerCP-Cy5-5-A"): 0.16,
    ("PE-A", "PE-Cy7-A"): 0.025,
    ("PE-A", "APC-A"): 0.006,
    ("PerCP-Cy5-5-A", "PE-Cy7-A"): 0.30,
    ("PerCP-Cy5-5-A", "APC-A"): 0.05,
    ("PerCP-Cy5-5-A", "APC-H7-A"): 0.021,
    ("PE-Cy7-A", "PE-A"): 0.011,
    ("PE-Cy7-A", "PerCP-Cy5-5-A"): 0.022,
    ("PE-Cy7-A", "APC-H7-A"): 0.062,
    ("PE-Cy7-A", "APC-A"): 0.005,
    ("APC-A", "APC-H7-A"): 0.085,
    ("APC-A", "PerCP-Cy5-5-A"): 0.012,
    ("APC-A", "PE-Cy7-A"): 0.007,
    ("APC-H7-A", "PE-Cy7-A"): 0.032,
    ("APC-H7-A", "APC-A"): 0.021,
    ("Pacific Blue-A", "V500-A"): 0.125,
    ("Pacific Blue-A", "FITC-A"): 0.018,
    ("V500-A", "FITC-A"): 0.065,
    ("V500-A", "Pacific Blue-A"): 0.005,
    ("V500-A", "PE-A"): 0.011,
}

#: fluorescence detectors of the instrument in acquisition order, with the fluorochrome read
#: by each (``$PnN`` -> fluorochrome); a channel layout puts each marker on one of them
DETECTORS: dict[str, str] = {
    "FITC-A": "FITC",
    "PE-A": "PE",
    "PerCP-Cy5-5-A": "PerCP-Cy5.5",
    "PE-Cy7-A": "PE-Cy7",
    "APC-A": "APC",
    "APC-H7-A": "APC-H7",
    "Pacific Blue-A": "BV421",
    "V500-A": "V500",
}

#: detector full scale (``$PnR`` - 1), linear units
FULL_SCALE = 262143.0
#: detector units per photoelectron: Poisson-like noise SD is sqrt(units_per_pe * signal)
UNITS_PER_PHOTOELECTRON = 3.0
#: SD of the additive Gaussian electronic noise, detector units
ELECTRONIC_NOISE_SD = 35.0
#: relative (multiplicative) noise on scatter signals
SCATTER_NOISE_CV = 0.02
#: mean singlet FSC-H / FSC-A ratio and its SD
SINGLET_HEIGHT_RATIO = (0.90, 0.03)
#: ``$TIMESTEP`` in seconds and the mean acquisition rate in events per second
TIMESTEP_S = 0.01
EVENT_RATE_PER_S = 3000.0


def spillover_matrix(detectors: list[str]) -> pd.DataFrame:
    """The spillover matrix among ``detectors`` (1 on the diagonal), as an FCS-style DataFrame."""
    n = len(detectors)
    mat = np.eye(n)
    for i, src in enumerate(detectors):
        for j, dst in enumerate(detectors):
            if i != j:
                mat[i, j] = SPILLOVER_FRACTIONS.get((src, dst), 0.0)
    return pd.DataFrame(mat, index=list(detectors), columns=list(detectors))

"""Minimal compensated + transformed view of a sample, used until :func:`mrdquant.mfc.prepare`
(the panel/QC/denominator chain) is available in this tree.

It follows the conventions of the simulated tubes and the bundled B-ALL Gating-ML strategy:
fluorescence compensated with the file's ``$SPILLOVER`` and logicle-transformed
(T = 262144, W = 0.5, M = 4.5, A = 0); denominator = nucleated (FSC-A >= 35,000 and Syto41 >= 0.45 when the
panel has the dye, otherwise CD45 >= 0.35), singlets
(FSC-H >= 0.785 FSC-A). The fields used by DfN have the names and meaning of the
``PreparedSample`` contract.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError

LOGICLE = {"T": 262144.0, "W": 0.5, "M": 4.5, "A": 0.0}


@dataclass
class PreparedStandin:
    sample: Any
    panel: Any
    markers: list[str]
    channels: dict[str, str]
    values: np.ndarray
    scatter: dict[str, np.ndarray]
    denominator_mask: np.ndarray
    transforms: dict[str, dict] = field(default_factory=dict)


def prepare(sample, panel) -> PreparedStandin:
    from ..cytometry.compensation import Compensation
    from ..cytometry.panels import get_panel
    from ..cytometry.transforms import LogicleTransform
    from ..io.fcs import read_fcs

    p = get_panel(panel)
    if isinstance(sample, (str, os.PathLike)):
        sample = read_fcs(sample)
    where = str(sample.path) if sample.path is not None else "<in-memory sample>"
    channels = {}
    for c in p.fluorescence:
        if c.name not in sample.channels:
            raise InputError(f"{where}: panel {p.panel_id!r} needs channel {c.name!r} ({c.marker}); file has {sample.channels}")
        channels[c.marker] = c.name
    for s in ("FSC-A", "FSC-H", "SSC-A"):
        if s not in sample.channels:
            raise InputError(f"{where}: no {s!r} channel; file has {sample.channels}")
    if sample.spillover is None:
        raise InputError(f"{where}: no $SPILLOVER matrix to compensate with")
    comp = Compensation.from_dataframe(sample.spillover)
    ev = comp.apply(sample.events, sample.channels, unmatched="keep")
    lt = LogicleTransform(**LOGICLE)
    markers = [c.marker for c in p.fluorescence]
    idx = [sample.channels.index(channels[m]) for m in markers]
    values = np.ascontiguousarray(lt.apply(np.ascontiguousarray(ev[:, idx])))
    scatter = {s: np.asarray(sample.events[:, sample.channels.index(s)], dtype=np.float64) for s in ("FSC-A", "FSC-H", "SSC-A")}
    singlet = scatter["FSC-H"] >= 0.785 * scatter["FSC-A"]
    # above the debris in FSC (debris sits at ~12,000, nucleated cells at >= ~45,000)
    cells = scatter["FSC-A"] >= 35_000
    if "Syto41" in markers:
        nucleated = cells & (values[:, markers.index("Syto41")] >= 0.45)
    else:
        nucleated = cells & (values[:, markers.index("CD45")] >= 0.35)
    transforms = {m: {"kind": "logicle", **LOGICLE} for m in markers}
    return PreparedStandin(sample, p, markers, channels, values, scatter, nucleated & singlet, transforms)

"""Amplification curves (fluorescence per cycle) from qPCR exports that carry them.

RDML files store the amplification data points of every reaction (``<adp>``); they are
read through rdmlpython. Results-only exports (QuantStudio text/Excel, CFX results CSV)
carry no curves; :func:`read_amplification` says so with a clear error.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..errors import QPCRError
from ._qpcr_headers import parse_number
from ._qpcr_table import normalize_well
from .qpcr import read_qpcr

__all__ = ["read_amplification", "AMPLIFICATION_COLUMNS"]

#: columns of :func:`read_amplification`
AMPLIFICATION_COLUMNS = ["plate", "well", "sample", "target", "role", "cycle", "fluorescence"]


def read_amplification(path: "str | os.PathLike", *, plate: str | None = None) -> pd.DataFrame:
    """Amplification data points of every reaction of an RDML file.

    Parameters
    ----------
    path : path-like
        An ``.rdml`` file.
    plate : str, optional
        Plate id; default the file's stem (files with several runs use
        ``experiment/run``, as :func:`mrdquant.read_qpcr`).

    Returns
    -------
    DataFrame
        :data:`AMPLIFICATION_COLUMNS`, one row per reaction, target and cycle; ``role``
        as in :func:`mrdquant.read_qpcr`; ``fluorescence`` in the instrument's units.

    Raises
    ------
    QPCRError
        Not an RDML file, or no amplification data in it.
    """
    p = Path(path)
    if p.suffix.lower() != ".rdml":
        raise QPCRError(
            f"{p.name}: amplification curves are read from RDML files; this export carries results only "
            "(export the run as RDML to see its curves)"
        )
    wells = read_qpcr(p, plate=plate)
    import rdmlpython

    doc = rdmlpython.Rdml(str(p))
    runs = [(e, r) for e in doc.experiments() for r in e.runs()]
    name = plate or p.stem
    rows = []
    for experiment, run in runs:
        run_id = f"{experiment['id']}/{run['id']}" if len(runs) > 1 else name
        for react in run.getreactjson().get("reacts", []):
            well = normalize_well(react.get("id", ""))
            for d in react.get("datas", []):
                for adp in d.get("adps") or []:
                    rows.append((run_id, well, str(react.get("sample", "")), str(d.get("tar", "")),
                                 parse_number(adp[0]), parse_number(adp[1])))
    if not rows:
        raise QPCRError(f"{p.name}: the RDML file holds no amplification data points")
    df = pd.DataFrame(rows, columns=["plate", "well", "sample", "target", "cycle", "fluorescence"])
    roles = wells[["plate", "well", "target", "role"]].drop_duplicates(["plate", "well", "target"])
    df = df.merge(roles, on=["plate", "well", "target"], how="left")
    df["role"] = df["role"].fillna("unknown")
    return df[AMPLIFICATION_COLUMNS]

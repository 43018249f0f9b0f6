"""What every report figure shares: one colour per group for a whole study, and saving.

A group keeps its colour in every figure of a study (CIF, KM, kinetics, trial arms):
well-known clinical labels have a fixed colour, any other label takes the next colour of
a colour-blind-safe palette (Okabe & Ito 2008) in the order the study lists its groups, so
the mapping does not depend on which groups a single figure happens to contain.

Figures are written at 300 dpi (PNG) and as vector files (SVG, PDF) by suffix, atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import InputError
from ..io.store import atomic_path

__all__ = ["GROUP_COLORS", "PALETTE", "group_colors", "save_figure", "FIGURE_FORMATS", "PNG_DPI"]

#: Okabe–Ito colour-blind-safe palette (black left out; it is used for "all")
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")

#: fixed colours of labels that recur across studies
GROUP_COLORS = {
    "all": "#000000",
    "All": "#000000",
    "MRDco+": "#D55E00",
    "MRDsin+": "#0072B2",
    "negative": "#009E73",
    "preemptive": "#0072B2",
    "prophylactic": "#D55E00",
}

#: suffixes a figure can be written as
FIGURE_FORMATS = (".png", ".svg", ".pdf")
#: resolution of PNG figures, dots per inch
PNG_DPI = 300


def group_colors(groups: Iterable, fixed: Mapping[str, str] | None = None) -> dict[str, str]:
    """One colour per group label, stable across the figures of a study.

    Parameters
    ----------
    groups : iterable
        Every group label of the study, in the study's order (e.g. all MRD statuses,
        not only those a given figure shows).
    fixed : mapping, optional
        Colours that override :data:`GROUP_COLORS`.

    Returns
    -------
    dict
        ``str(label) -> colour`` (hex).

    Examples
    --------
    >>> group_colors(["MRDco+", "MRDsin+", "B"])["MRDco+"]
    '#D55E00'
    >>> group_colors(["x", "y", "z"]) == group_colors(["x", "y"]) | {"z": "#009E73"}
    True
    """
    known = dict(GROUP_COLORS)
    if fixed:
        known.update({str(k): v for k, v in fixed.items()})
    out: dict[str, str] = {}
    taken = set()
    labels = [str(g) for g in dict.fromkeys(groups)]
    for g in labels:
        if g in known:
            out[g] = known[g]
            taken.add(known[g])
    free = [c for c in PALETTE if c not in taken] or list(PALETTE)
    k = 0
    for g in labels:
        if g not in out:
            out[g] = free[k % len(free)]
            k += 1
    return out


def save_figure(fig, path: "str | os.PathLike", *, dpi: int = PNG_DPI) -> Path:
    """Write ``fig`` atomically; PNG at ``dpi`` (default :data:`PNG_DPI`), SVG and PDF as vectors.

    Raises
    ------
    InputError
        A suffix other than .png, .svg or .pdf.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FIGURE_FORMATS:
        raise InputError(f"{target}: cannot write a figure with suffix {suffix!r}; expected {list(FIGURE_FORMATS)}")
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=suffix[1:], dpi=dpi, metadata=_metadata(suffix))
    return target


def _metadata(suffix: str) -> dict:
    # reproducible vector files: no creation date inside SVG / PDF
    if suffix == ".svg":
        return {"Date": None}
    if suffix == ".pdf":
        return {"CreationDate": None}
    return {}

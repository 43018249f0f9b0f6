"""Simulated follow-up blasts for the DfN tests.

The simulator's leukemic populations are the diagnostic phenotypes. DfN must also find
blasts whose phenotype shifted under therapy (B-ALL: CD34 lost, CD10 dimmer, CD45 brighter;
the diagnostic LAIP gate requires CD34+) and AML blasts whose only aberrancy is an
asynchronous antigen pattern (CD34+ CD117+ with HLA-DR lost, CD13 bright / CD33 dim, no
CD7/CD56). :func:`simulate_followup` draws such tubes by swapping the lineage's leukemic
population for the duration of one call.
"""

from __future__ import annotations

import contextlib
import dataclasses

from mrdquant.simulate import _flow_populations as pops
from mrdquant.simulate.flow import simulate_bone_marrow

SHIFTED_B_ALL = dataclasses.replace(
    pops.LINEAGES["B"][1],
    markers={
        "CD19": (3.85, 0.15),
        "CD10": (3.75, 0.2),
        "CD38": (2.9, 0.3),
        "CD58": (4.15, 0.15),
        "CD45": (3.2, 0.2),
        "HLA-DR": (4.2, 0.15),
        "Syto41": (4.0, 0.12),
    },
)
ASYNC_AML = dataclasses.replace(
    pops.LINEAGES["myeloid"][1],
    markers={
        "CD34": (4.0, 0.15),
        "CD117": (3.6, 0.15),
        "CD33": (2.9, 0.15),
        "CD13": (4.4, 0.15),
        "CD45": (3.35, 0.1),
        "CD38": (3.8, 0.15),
        "CD58": (3.5, 0.15),
    },
)
PHENOTYPES = {"diagnostic": None, "shifted": ("B", SHIFTED_B_ALL), "asynchronous": ("myeloid", ASYNC_AML)}


@contextlib.contextmanager
def _leukemic(lineage, spec):
    old = pops.LINEAGES[lineage]
    pops.LINEAGES[lineage] = (old[0], spec)
    try:
        yield
    finally:
        pops.LINEAGES[lineage] = old


def simulate_followup(panel, n_events, mrd, seed, phenotype="diagnostic", **kw):
    """``simulate_bone_marrow`` with the leukemic phenotype of ``PHENOTYPES[phenotype]``."""
    swap = PHENOTYPES[phenotype]
    if swap is None:
        return simulate_bone_marrow(panel, n_events, mrd, seed, **kw)
    with _leukemic(*swap):
        return simulate_bone_marrow(panel, n_events, mrd, seed, **kw)


def simulate_normals(panel, n, n_events, seed0):
    """``n`` normal marrows, every second one regenerating (hematogone-rich)."""
    out = []
    for i in range(n):
        pf = {"hematogones_I": 0.02, "hematogones_II": 0.05, "hematogones_III": 0.03} if i % 2 else None
        out.append(simulate_bone_marrow(panel, n_events, 0.0, seed0 + i, population_fractions=pf)[0])
    return out

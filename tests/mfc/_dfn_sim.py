"""Simulated follow-ups and normal marrows for the DfN tests, through the simulator's options.

DfN must find blasts whose phenotype shifted under therapy (B-ALL ``"shifted"``: CD34
lost, CD10/CD45 moved; the diagnostic LAIP gate requires CD34+) and AML blasts whose only
aberrancy is an asynchronous antigen pattern (``"asynchronous"``). Normal marrows alternate
between ``marrow="normal"`` and ``marrow="regenerating"`` (hematogone-rich).
"""

from __future__ import annotations

from mrdquant.simulate.flow import simulate_bone_marrow

#: test name -> the simulator's ``leukemia_phenotype``
PHENOTYPES = {"diagnostic": "diagnosis", "shifted": "shifted", "asynchronous": "asynchronous"}


def simulate_followup(panel, n_events, mrd, seed, phenotype="diagnostic", **kw):
    """``simulate_bone_marrow`` with the leukemic phenotype ``PHENOTYPES[phenotype]``."""
    return simulate_bone_marrow(panel, n_events, mrd, seed, leukemia_phenotype=PHENOTYPES[phenotype], **kw)


def simulate_normals(panel, n, n_events, seed0):
    """``n`` normal marrows, every second one regenerating (hematogone-rich)."""
    return [
        simulate_bone_marrow(panel, n_events, 0.0, seed0 + i, marrow="regenerating" if i % 2 else "normal")[0]
        for i in range(n)
    ]

"""Bone-marrow populations of the flow simulator, as data.

Each population has a share of the normal nucleated cells, forward/side scatter (mean in
linear detector units and coefficient of variation) and, per marker, a log10 true
intensity (mean, SD). A marker a population does not express is drawn at that
population's autofluorescence level. Hematogones follow a maturation continuum: each event
gets a maturation time ``t`` (stage I: 0-1, II: 1-2, III: 2-3) and its marker means are
interpolated between anchor points, so stages blend into each other as in real marrow.

Values are chosen to resemble published patterns (hematogone stages after
McKenna et al., Blood 2001; B-ALL LAIPs CD10 bright / CD38 dim / CD58 bright / CD45 weak /
CD20 negative; T-ALL cyCD3+ CD7 bright sCD3 weak; AML CD34+ CD117+ with aberrant CD7/CD56)
and to make MRD hard in the same ways: hematogones beside B-ALL blasts, T/NK cells beside
T-ALL blasts, normal CD34+ myeloblasts beside AML blasts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "PopulationSpec",
    "LINEAGES",
    "LEUKEMIC_PHENOTYPES",
    "REGENERATING_FRACTIONS",
    "LEUKEMIC",
    "DEBRIS",
    "DOUBLETS",
    "NUCLEATED_DYE",
    "BRIGHTNESS_SD",
    "SIZE_TO_FSC",
]

LEUKEMIC = "leukemic_blasts"
DEBRIS = "debris"
DOUBLETS = "doublets"
#: log10 (mean, SD) of the nucleated-cell dye on every nucleated cell unless overridden
NUCLEATED_DYE = ("Syto41", (3.9, 0.12))


@dataclass(frozen=True)
class PopulationSpec:
    """One simulated population.

    Attributes
    ----------
    name : str
    fraction : float
        Share of the normal nucleated cells (renormalised over the populations present).
    fsc, ssc : (float, float)
        Mean (linear units) and coefficient of variation of FSC-A and SSC-A.
    markers : dict of str to (float, float)
        log10 mean and SD of the true intensity of each expressed marker.
    autofluorescence : (float, float)
        log10 mean and SD of unexpressed markers.
    cd45_negative : bool
        Outside a CD45+ denominator (nucleated red cells).
    continuum : dict of str to (tuple, tuple), optional
        Marker -> (anchor times, log10 means) for maturation continua.
    t_range : (float, float)
        Range of maturation time drawn uniformly for continuum populations.
    continuum_sd : float
        log10 SD around the continuum means.
    """

    name: str
    fraction: float
    fsc: tuple[float, float]
    ssc: tuple[float, float]
    markers: dict[str, tuple[float, float]] = field(default_factory=dict)
    autofluorescence: tuple[float, float] = (1.5, 0.25)
    cd45_negative: bool = False
    continuum: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = field(default_factory=dict)
    t_range: tuple[float, float] = (0.0, 0.0)
    continuum_sd: float = 0.12


#: log10 SD of the per-event brightness factor shared by all fluorescence channels of a cell
#: (cell size, antigen density and autofluorescence move together); it also scales FSC-A
#: (see :data:`SIZE_TO_FSC`)
BRIGHTNESS_SD = 0.07
#: log10 FSC-A change per log10 unit of the shared brightness factor
SIZE_TO_FSC = 0.5

_T = (0.0, 0.8, 1.0, 2.0, 3.0)
#: hematogone maturation (B-cell precursors) from stage I (CD34+ CD10 bright CD38 bright
#: CD45 weak) through stage II (CD34- CD10+ CD20 rising) to stage III (CD10- CD20 bright)
_HEMATOGONE_CONTINUUM = {
    "CD19": (_T, (3.85, 3.85, 3.85, 3.85, 3.85)),
    "CD34": (_T, (3.85, 3.75, 2.0, 1.8, 1.8)),
    "CD10": (_T, (4.25, 4.2, 4.05, 3.45, 2.2)),
    "CD38": (_T, (4.35, 4.32, 4.3, 4.0, 3.3)),
    "CD20": (_T, (1.8, 1.8, 2.0, 3.3, 4.2)),
    "CD45": (_T, (3.3, 3.4, 3.6, 3.9, 4.3)),
    "CD58": (_T, (3.6, 3.55, 3.5, 3.3, 3.2)),
    "HLA-DR": (_T, (4.2, 4.2, 4.2, 4.2, 4.2)),
    "CD99": (_T, (3.7, 3.7, 3.5, 3.2, 3.0)),
}


def _hematogones(stage: str, fraction: float, t_range: tuple[float, float]) -> PopulationSpec:
    return PopulationSpec(
        f"hematogones_{stage}",
        fraction,
        fsc=(52_000, 0.10),
        ssc=(14_000, 0.18),
        continuum=_HEMATOGONE_CONTINUUM,
        t_range=t_range,
    )


#: neutrophil maturation: CD10- myelocytes/metamyelocytes (t < 0.3) smear into CD10+
#: band and segmented neutrophils, CD45 and CD13 brighten
_G = (0.0, 0.3, 0.5, 1.0)
_GRANULOCYTES = PopulationSpec(
    "granulocytes",
    0.50,
    fsc=(95_000, 0.14),
    ssc=(115_000, 0.25),
    markers={"CD58": (3.3, 0.2), "CD38": (2.8, 0.25), "CD33": (3.3, 0.2), "CD99": (3.3, 0.2)},
    autofluorescence=(2.0, 0.2),
    continuum={
        "CD10": (_G, (1.9, 2.3, 3.6, 3.85)),
        "CD45": (_G, (3.3, 3.35, 3.5, 3.6)),
        "CD13": (_G, (3.6, 3.7, 4.0, 4.1)),
    },
    t_range=(0.0, 1.0),
    continuum_sd=0.15,
)
_PROMYELOCYTES = PopulationSpec(
    "promyelocytes",
    0.03,
    fsc=(90_000, 0.12),
    ssc=(95_000, 0.22),
    markers={
        "CD117": (3.2, 0.25),
        "CD13": (4.2, 0.15),
        "CD33": (3.9, 0.15),
        "CD45": (3.35, 0.1),
        "CD38": (3.5, 0.2),
        "CD58": (3.4, 0.2),
        "CD99": (3.3, 0.2),
    },
    autofluorescence=(1.9, 0.2),
)
_MONOCYTES = PopulationSpec(
    "monocytes",
    0.06,
    fsc=(100_000, 0.12),
    ssc=(55_000, 0.2),
    markers={
        "CD58": (3.8, 0.15),
        "CD38": (3.6, 0.2),
        "CD45": (4.2, 0.1),
        "CD33": (4.3, 0.15),
        "CD13": (3.9, 0.2),
        "HLA-DR": (3.9, 0.2),
        "CD99": (3.4, 0.2),
        "CD56": (2.2, 0.35),
    },
    autofluorescence=(1.8, 0.2),
)
_ERYTHROID = PopulationSpec(
    "erythroid",
    0.16,
    fsc=(45_000, 0.15),
    ssc=(12_000, 0.25),
    markers={"Syto41": (4.15, 0.12), "CD58": (2.7, 0.2), "CD38": (2.6, 0.25), "CD99": (2.8, 0.2)},
    cd45_negative=True,
)
_MATURE_B = PopulationSpec(
    "mature_B",
    0.03,
    fsc=(55_000, 0.10),
    ssc=(16_000, 0.18),
    markers={
        "CD19": (3.9, 0.12),
        "CD20": (4.3, 0.12),
        "CD45": (4.4, 0.08),
        "CD38": (3.1, 0.25),
        "CD58": (3.1, 0.2),
        "HLA-DR": (4.2, 0.12),
        "CD99": (3.0, 0.2),
    },
)
_PLASMA = PopulationSpec(
    "plasma_cells",
    0.004,
    fsc=(80_000, 0.12),
    ssc=(35_000, 0.2),
    markers={"CD38": (4.9, 0.1), "CD19": (3.2, 0.4), "CD45": (3.3, 0.25), "CD58": (3.8, 0.15), "CD56": (2.3, 0.5)},
)
_MYELOID_PROGENITORS = PopulationSpec(
    "myeloid_progenitors",
    0.008,
    fsc=(70_000, 0.1),
    ssc=(30_000, 0.2),
    markers={
        "CD34": (3.9, 0.18),
        "CD117": (3.5, 0.22),
        "CD33": (3.5, 0.2),
        "CD13": (3.6, 0.2),
        "HLA-DR": (4.0, 0.15),
        "CD45": (3.4, 0.1),
        "CD38": (3.8, 0.15),
        "CD58": (3.5, 0.15),
        "CD99": (3.6, 0.15),
        "CD7": (2.3, 0.35),
    },
)
#: T cells: a CD7-dim/negative subset (t < 0.12) smears into the CD7+ majority
_C = (0.0, 0.12, 0.2, 1.0)
_T_CELLS = PopulationSpec(
    "T_cells",
    0.12,
    fsc=(55_000, 0.10),
    ssc=(18_000, 0.2),
    markers={
        "CD58": (3.2, 0.3),
        "CD38": (2.9, 0.4),
        "CD45": (4.4, 0.08),
        "CD5": (4.0, 0.12),
        "cyCD3": (4.2, 0.1),
        "sCD3": (4.0, 0.1),
        "CD99": (3.2, 0.2),
    },
    continuum={"CD7": (_C, (2.4, 2.8, 3.85, 3.95))},
    t_range=(0.0, 1.0),
    continuum_sd=0.15,
)
_GD_T_CELLS = PopulationSpec(
    "gd_T_cells",
    0.006,
    fsc=(55_000, 0.10),
    ssc=(18_000, 0.2),
    markers={
        "CD58": (3.3, 0.3),
        "CD38": (3.3, 0.3),
        "CD45": (4.35, 0.08),
        "CD5": (3.3, 0.2),
        "CD7": (4.2, 0.15),
        "cyCD3": (4.4, 0.1),
        "sCD3": (4.35, 0.1),
        "CD99": (3.4, 0.2),
        "CD56": (2.8, 0.5),
    },
)
_NK_CELLS = PopulationSpec(
    "NK_cells",
    0.03,
    fsc=(57_000, 0.10),
    ssc=(22_000, 0.2),
    markers={
        "CD58": (3.4, 0.2),
        "CD38": (3.6, 0.2),
        "CD45": (4.3, 0.08),
        "CD7": (4.0, 0.15),
        "CD56": (3.9, 0.15),
        "cyCD3": (3.0, 0.2),
        "CD99": (3.2, 0.2),
    },
)

_NORMAL_COMMON = (
    _GRANULOCYTES,
    _PROMYELOCYTES,
    _MONOCYTES,
    _T_CELLS,
    _GD_T_CELLS,
    _NK_CELLS,
    _ERYTHROID,
    _MYELOID_PROGENITORS,
    _MATURE_B,
    _PLASMA,
)

# --------------------------------------------------------------------------- leukemic phenotypes

#: B-ALL at diagnosis: CD19+ CD34+ with CD10 brighter, CD38 dim, CD58 bright, CD45 dimmer
#: and CD20 asynchronous (partly expressed on CD34+ cells) against stage I hematogones
_B_ALL_BLASTS = PopulationSpec(
    LEUKEMIC,
    0.0,
    fsc=(62_000, 0.10),
    ssc=(19_000, 0.18),
    markers={
        "CD19": (3.8, 0.15),
        "CD34": (3.8, 0.2),
        "CD10": (4.5, 0.15),
        "CD38": (3.2, 0.22),
        "CD58": (4.2, 0.13),
        "CD45": (2.85, 0.2),
        "CD20": (2.4, 0.4),
        "HLA-DR": (4.2, 0.15),
        "CD99": (3.8, 0.2),
        "Syto41": (4.0, 0.12),
    },
)
#: B-ALL after induction: CD34 lost, CD10 dimmer, CD45 brighter (into the stage II
#: hematogone range); still CD58 bright, CD38 dim and CD20 asynchronous
_B_ALL_SHIFTED = PopulationSpec(
    LEUKEMIC,
    0.0,
    fsc=(60_000, 0.10),
    ssc=(18_000, 0.18),
    markers={
        **_B_ALL_BLASTS.markers,
        "CD34": (1.8, 0.25),
        "CD10": (3.75, 0.2),
        "CD45": (3.45, 0.15),
    },
)
_T_ALL_BLASTS = PopulationSpec(
    LEUKEMIC,
    0.0,
    fsc=(64_000, 0.10),
    ssc=(20_000, 0.18),
    markers={
        "cyCD3": (4.0, 0.13),
        "CD7": (4.4, 0.14),
        "sCD3": (2.4, 0.3),
        "CD5": (3.1, 0.2),
        "CD99": (4.1, 0.15),
        "CD45": (3.35, 0.13),
        "CD38": (3.6, 0.2),
        "Syto41": (4.0, 0.12),
    },
)
#: T-ALL after therapy: CD99 falls to the normal T-cell range, CD45 brightens; CD7, CD5,
#: cyCD3 and the sCD3 deficit stay
_T_ALL_SHIFTED = PopulationSpec(
    LEUKEMIC,
    0.0,
    fsc=(62_000, 0.10),
    ssc=(19_000, 0.18),
    markers={**_T_ALL_BLASTS.markers, "CD99": (3.35, 0.2), "CD45": (3.8, 0.12)},
)
_AML_BLASTS = PopulationSpec(
    LEUKEMIC,
    0.0,
    fsc=(72_000, 0.10),
    ssc=(28_000, 0.2),
    markers={
        "CD34": (4.05, 0.17),
        "CD117": (3.75, 0.18),
        "CD33": (3.75, 0.18),
        "CD13": (3.75, 0.18),
        "HLA-DR": (3.9, 0.18),
        "CD45": (3.3, 0.1),
        "CD7": (3.8, 0.17),
        "CD56": (3.7, 0.2),
        "CD38": (3.4, 0.2),
    },
)
#: AML whose only aberrancy is asynchronous: CD34+ CD117+ without HLA-DR, CD13 bright with
#: CD33 dim, and no CD7/CD56 (a LAIP gate on CD7/CD56 finds nothing)
_AML_ASYNCHRONOUS = PopulationSpec(
    LEUKEMIC,
    0.0,
    fsc=(72_000, 0.10),
    ssc=(28_000, 0.2),
    markers={
        "CD34": (4.0, 0.17),
        "CD117": (3.75, 0.18),
        "CD33": (2.6, 0.2),
        "CD13": (4.3, 0.15),
        "CD45": (3.3, 0.1),
        "CD38": (3.4, 0.2),
    },
)

_HEMATOGONES = (
    _hematogones("I", 0.004, (0.0, 1.0)),
    _hematogones("II", 0.014, (1.0, 2.0)),
    _hematogones("III", 0.007, (2.0, 3.0)),
)
_HEMATOGONES_FEW = (
    _hematogones("I", 0.002, (0.0, 1.0)),
    _hematogones("II", 0.007, (1.0, 2.0)),
    _hematogones("III", 0.004, (2.0, 3.0)),
)

#: lineage -> (normal populations, leukemic population at diagnosis)
LINEAGES: dict[str, tuple[tuple[PopulationSpec, ...], PopulationSpec]] = {
    "B": (_NORMAL_COMMON + _HEMATOGONES, _B_ALL_BLASTS),
    "T": (_NORMAL_COMMON + _HEMATOGONES_FEW, _T_ALL_BLASTS),
    "myeloid": (_NORMAL_COMMON + _HEMATOGONES_FEW, _AML_BLASTS),
}

#: lineage -> phenotype name -> leukemic population ("diagnosis" is the default)
LEUKEMIC_PHENOTYPES: dict[str, dict[str, PopulationSpec]] = {
    "B": {"diagnosis": _B_ALL_BLASTS, "shifted": _B_ALL_SHIFTED},
    "T": {"diagnosis": _T_ALL_BLASTS, "shifted": _T_ALL_SHIFTED},
    "myeloid": {"diagnosis": _AML_BLASTS, "asynchronous": _AML_ASYNCHRONOUS},
}

#: regenerating marrow (after chemotherapy or transplant): shares of normal nucleated cells
#: that replace the defaults - hematogone-rich (about 16 % B-cell precursors, stage I-III)
#: with more CD34+ myeloid progenitors
REGENERATING_FRACTIONS: dict[str, float] = {
    "hematogones_I": 0.035,
    "hematogones_II": 0.10,
    "hematogones_III": 0.05,
    "myeloid_progenitors": 0.02,
}

#: debris: low FSC, no nucleated-cell dye, dim nonspecific fluorescence
DEBRIS_SPEC = PopulationSpec(
    DEBRIS, 0.0, fsc=(12_000, 0.5), ssc=(9_000, 0.6), markers={"Syto41": (2.0, 0.3)}, autofluorescence=(1.9, 0.35)
)

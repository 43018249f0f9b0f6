"""Named MRD flow-cytometry panels, kept as data.

A :class:`Panel` lists the measured channels of one tube (scatter, time and one
fluorochrome-conjugated marker per fluorescence detector), the population that forms the
MRD denominator and the gate order a cytometrist follows. The simulator
(:mod:`mrdquant.simulate.flow`) builds its files from these definitions, and the bundled
Gating-ML strategies refer to the same detector names.

``$PnN`` channel names follow BD FACSDiva conventions (``"FITC-A"``, ``"PerCP-Cy5-5-A"``),
markers go into ``$PnS`` (``"CD19"``, ``"Syto41"``).

Bundled panels
--------------
``"B-ALL"`` (alias ``"AIEOP-BFM B-ALL"``)
    CD58, CD10, CD34, CD19, CD38, CD20, CD45 + Syto41 nucleated-cell dye.
``"PUIH B-ALL"``
    CD58, CD10, CD19, CD34, CD45, CD38 (CD45+ denominator, no DNA dye).
``"T-ALL"``
    CD99, CD5, CD45, CD7, cyCD3, sCD3 + Syto41.
``"AML"`` (alias ``"AML ELN core"``)
    CD7, CD56, CD34, CD117, CD33, HLA-DR, CD13, CD45 (ELN 2021 core markers).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["PanelChannel", "Panel", "get_panel", "available_panels"]


@dataclass(frozen=True)
class PanelChannel:
    """One acquired channel of a tube.

    Attributes
    ----------
    name : str
        The ``$PnN`` detector/parameter name, e.g. ``"PE-Cy7-A"``.
    marker : str
        The ``$PnS`` stain, e.g. ``"CD19"``; empty for scatter and time.
    fluorochrome : str
        Fluorochrome or dye conjugated to the marker (``"PE-Cy7"``); empty for scatter/time.
    kind : {"scatter", "time", "fluorescence"}
    """

    name: str
    marker: str = ""
    fluorochrome: str = ""
    kind: str = "fluorescence"


@dataclass(frozen=True)
class Panel:
    """A named MRD tube.

    Attributes
    ----------
    panel_id : str
        Canonical id (``"B-ALL"``, ``"PUIH B-ALL"``, ``"T-ALL"``, ``"AML"``).
    title : str
    disease : {"ALL", "AML"}
        Disease family; selects the MRD positivity threshold in a profile.
    lineage : {"B", "T", "myeloid"}
        Lineage of the leukemia tracked by the tube (selects the simulator's populations).
    channels : tuple of PanelChannel
        Acquisition order of all channels (scatter, time, fluorescence).
    denominator : str
        The MRD denominator in words (``"Syto41+ nucleated singlets"``).
    gate_order : tuple of str
        Gates from the root to the LAIP, as a cytometrist applies them.
    laip : str
        The aberrant phenotype looked for (leukemia-associated immunophenotype).
    source : str
        Where the marker set comes from.
    """

    panel_id: str
    title: str
    disease: str
    lineage: str
    channels: tuple[PanelChannel, ...]
    denominator: str
    gate_order: tuple[str, ...]
    laip: str
    source: str

    @property
    def channel_names(self) -> list[str]:
        """``$PnN`` of every channel, in acquisition order."""
        return [c.name for c in self.channels]

    @property
    def markers(self) -> list[str]:
        """``$PnS`` of every channel (empty string for scatter and time)."""
        return [c.marker for c in self.channels]

    @property
    def fluorescence(self) -> tuple[PanelChannel, ...]:
        """The fluorescence channels (markers and dyes), in acquisition order."""
        return tuple(c for c in self.channels if c.kind == "fluorescence")

    @property
    def fluorochromes(self) -> list[str]:
        """Fluorochromes of the fluorescence channels, in acquisition order."""
        return [c.fluorochrome for c in self.fluorescence]

    def channel_for(self, marker: str) -> str:
        """The ``$PnN`` name measuring ``marker`` (case-insensitive), e.g. ``"CD19"`` -> ``"PE-Cy7-A"``.

        Raises
        ------
        ConfigError
            The panel does not measure that marker.
        """
        for c in self.channels:
            if c.marker.lower() == marker.lower() or c.name.lower() == marker.lower():
                return c.name
        raise ConfigError(
            f"panel {self.panel_id!r} has no channel for marker {marker!r}; "
            f"markers: {[c.marker for c in self.fluorescence]}"
        )


_SCATTER = (
    PanelChannel("FSC-A", kind="scatter"),
    PanelChannel("FSC-H", kind="scatter"),
    PanelChannel("SSC-A", kind="scatter"),
)
_TIME = PanelChannel("Time", kind="time")


def _fl(name: str, marker: str, fluorochrome: str) -> PanelChannel:
    return PanelChannel(name, marker, fluorochrome, "fluorescence")


_PANELS: dict[str, Panel] = {
    "B-ALL": Panel(
        panel_id="B-ALL",
        title="AIEOP-BFM B-ALL MRD tube (8 colours)",
        disease="ALL",
        lineage="B",
        channels=(
            *_SCATTER,
            _fl("FITC-A", "CD58", "FITC"),
            _fl("PE-A", "CD10", "PE"),
            _fl("PerCP-Cy5-5-A", "CD34", "PerCP-Cy5.5"),
            _fl("PE-Cy7-A", "CD19", "PE-Cy7"),
            _fl("APC-A", "CD38", "APC"),
            _fl("APC-H7-A", "CD20", "APC-H7"),
            _fl("Pacific Blue-A", "Syto41", "Syto41"),
            _fl("V500-A", "CD45", "V500"),
            _TIME,
        ),
        denominator="Syto41+ nucleated singlets",
        gate_order=("Syto41+", "time", "singlets", "viable", "CD19+", "blasts (LAIP)"),
        laip="CD19+ CD10 bright CD34+ CD38 dim/neg CD58 bright CD45 neg/dim CD20 neg",
        source="AIEOP-BFM consensus B-ALL MRD tube (CD58, CD10, CD34, CD19, CD38, CD20, CD45, Syto41)",
    ),
    "PUIH B-ALL": Panel(
        panel_id="PUIH B-ALL",
        title="PUIH B-ALL MRD tube (6 colours)",
        disease="ALL",
        lineage="B",
        channels=(
            *_SCATTER,
            _fl("FITC-A", "CD58", "FITC"),
            _fl("PE-A", "CD10", "PE"),
            _fl("PerCP-Cy5-5-A", "CD34", "PerCP-Cy5.5"),
            _fl("PE-Cy7-A", "CD19", "PE-Cy7"),
            _fl("APC-A", "CD38", "APC"),
            _fl("APC-H7-A", "CD45", "APC-H7"),
            _TIME,
        ),
        denominator="CD45+ nucleated singlets",
        gate_order=("time", "singlets", "CD45+", "CD19+", "blasts (LAIP)"),
        laip="CD19+ CD10 bright CD34+ CD38 dim/neg CD58 bright CD45 neg/dim",
        source="PUIH B-ALL LAIP markers CD58/CD10/CD19/CD34/CD45/CD38",
    ),
    "T-ALL": Panel(
        panel_id="T-ALL",
        title="T-ALL MRD tube (7 colours)",
        disease="ALL",
        lineage="T",
        channels=(
            *_SCATTER,
            _fl("FITC-A", "CD99", "FITC"),
            _fl("PE-A", "CD5", "PE"),
            _fl("PerCP-Cy5-5-A", "CD45", "PerCP-Cy5.5"),
            _fl("PE-Cy7-A", "CD7", "PE-Cy7"),
            _fl("APC-A", "cyCD3", "APC"),
            _fl("APC-H7-A", "sCD3", "APC-H7"),
            _fl("Pacific Blue-A", "Syto41", "Syto41"),
            _TIME,
        ),
        denominator="Syto41+ nucleated singlets",
        gate_order=("Syto41+", "time", "singlets", "cyCD3+ CD7+", "blasts (LAIP)"),
        laip="cyCD3+ CD7 bright sCD3 neg/dim CD5 dim CD99 bright CD45 dim",
        source="T-ALL MRD markers cyCD3, CD7, sCD3, CD5, CD99, CD45 (DOMAIN.md section 4)",
    ),
    "AML": Panel(
        panel_id="AML",
        title="AML MRD tube, ELN 2021 core markers (8 colours)",
        disease="AML",
        lineage="myeloid",
        channels=(
            *_SCATTER,
            _fl("FITC-A", "CD7", "FITC"),
            _fl("PE-A", "CD56", "PE"),
            _fl("PerCP-Cy5-5-A", "CD34", "PerCP-Cy5.5"),
            _fl("PE-Cy7-A", "CD117", "PE-Cy7"),
            _fl("APC-A", "CD33", "APC"),
            _fl("APC-H7-A", "HLA-DR", "APC-H7"),
            _fl("Pacific Blue-A", "CD13", "BV421"),
            _fl("V500-A", "CD45", "V500"),
            _TIME,
        ),
        denominator="CD45+ nucleated singlets",
        gate_order=("time", "singlets", "CD45+", "CD34+ CD117+ blasts", "CD7+ or CD56+ (LAIP)"),
        laip="CD34+ CD117+ CD33+ HLA-DR+ CD13+ with aberrant CD7 and CD56, CD45 dim",
        source="Heuser et al., Blood 2021;138:2753 (ELN 2021 MRD core markers)",
    ),
}

_ALIASES = {
    "b-all": "B-ALL",
    "aieop-bfm b-all": "B-ALL",
    "aieop-bfm": "B-ALL",
    "puih b-all": "PUIH B-ALL",
    "puih": "PUIH B-ALL",
    "t-all": "T-ALL",
    "aml": "AML",
    "aml eln core": "AML",
    "eln aml": "AML",
}


def available_panels() -> list[str]:
    """Ids of the bundled panels."""
    return list(_PANELS)


def get_panel(panel: "str | Panel") -> Panel:
    """Look a panel up by id or alias (case-insensitive).

    Raises
    ------
    ConfigError
        Unknown panel name (the message lists the known ones).

    Examples
    --------
    >>> get_panel("b-all").channel_for("CD19")
    'PE-Cy7-A'
    """
    if isinstance(panel, Panel):
        return panel
    key = _ALIASES.get(str(panel).strip().lower())
    if key is None:
        raise ConfigError(f"unknown panel {panel!r}; expected one of {available_panels()}")
    return _PANELS[key]

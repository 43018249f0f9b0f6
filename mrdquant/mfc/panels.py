"""MRD flow panels as data: TOML files naming markers, transforms, the denominator chain and LAIPs.

A panel names **markers, not detectors** (``CD19``, ``Syto41``): each file's channels are
found by their ``$PnS`` (see :mod:`mrdquant.mfc.markers`), so one panel serves every
instrument and fluorochrome assignment. The bundled panels live in
``mrdquant/mfc/panels/*.toml``; :func:`load_panel` also reads a panel file of your own.
The format is described in ``docs/panels.md``.

Bundled panels
--------------
``"B-ALL"`` (aliases ``"AIEOP-BFM B-ALL"``, ``"AIEOP-BFM"``)
    CD58, CD10, CD34, CD19, CD38, CD20, CD45 + Syto41 nucleated-cell dye.
``"PUIH B-ALL"`` (alias ``"PUIH"``)
    CD58, CD10, CD19, CD34, CD45, CD38 (CD45+ denominator, no DNA dye).
``"T-ALL"``
    CD99, CD5, CD45, CD7, cyCD3, sCD3 + Syto41.
``"AML"`` (aliases ``"AML ELN core"``, ``"ELN AML"``)
    CD7, CD56, CD34, CD117, CD33, HLA-DR, CD13, CD45 (ELN 2021 core markers).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "PanelChannel",
    "MarkerSpec",
    "GateSpec",
    "LaipSpec",
    "Panel",
    "load_panel",
    "list_panels",
    "panel_from_dict",
    "normalize_marker",
    "get_panel",
    "available_panels",
]

#: bundled panel files, in the order list_panels() gives them
_BUNDLED = ("b_all.toml", "puih_b_all.toml", "t_all.toml", "aml.toml")

#: default (simulator) scatter and time channels every panel acquires
_SCATTER = ("FSC-A", "FSC-H", "SSC-A")
_TIME = "Time"

_GATE_KINDS = ("threshold", "scatter", "time", "singlets")
_PLACEMENTS = ("fixed", "valley", "landmark", "gmm")
_SIDES = ("above", "below")


def normalize_marker(name: str) -> str:
    """Marker name for matching: case-folded, without spaces, hyphens, underscores, dots or slashes.

    Examples
    --------
    >>> normalize_marker("Syto 41") == normalize_marker("SYTO41")
    True
    >>> normalize_marker("HLA-DR")
    'hladr'
    """
    return "".join(ch for ch in str(name).casefold() if ch not in " -_./\t")


@dataclass(frozen=True)
class PanelChannel:
    """One acquired channel of the panel's default (simulator) layout.

    Attributes
    ----------
    name : str
        ``$PnN`` detector name, e.g. ``"PE-Cy7-A"``.
    marker : str
        ``$PnS`` stain, e.g. ``"CD19"``; empty for scatter and time.
    fluorochrome : str
    kind : {"scatter", "time", "fluorescence"}
    """

    name: str
    marker: str = ""
    fluorochrome: str = ""
    kind: str = "fluorescence"


@dataclass(frozen=True)
class MarkerSpec:
    """One marker of a panel.

    Attributes
    ----------
    name : str
        Marker name as the panel spells it (``"CD19"``, ``"Syto41"``).
    fluorochrome : str
        Default fluorochrome (documentation and simulator).
    channel : str
        Default ``$PnN`` detector (simulator layout); not used to read real files.
    kind : {"antigen", "dye"}
    aliases : tuple of str
        Other spellings accepted in ``$PnS`` besides case/space/hyphen variants.
    """

    name: str
    fluorochrome: str = ""
    channel: str = ""
    kind: str = "antigen"
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class GateSpec:
    """A gate of the panel, placed per sample by :func:`mrdquant.mfc.prepare`.

    Attributes
    ----------
    id : str
    kind : {"threshold", "scatter", "time", "singlets"}
        ``threshold``: one marker above/below a value (transformed units);
        ``scatter``: a raw scatter channel above/below a value (linear units);
        ``time``: flow-rate / signal-stability QC; ``singlets``: FSC-H (or -W) vs FSC-A.
    parent : str or None
        Id of the parent gate (None = the previous denominator step, or all events).
    marker : str
        Marker (threshold gates).
    channel : str
        Scatter role (``"FSC-A"``, ``"SSC-A"``) for scatter gates.
    side : {"above", "below"}
        Events ``>= value`` (above) or ``< value`` (below).
    place : {"fixed", "valley", "landmark", "gmm"}
        How the value is placed per sample (see ``docs/panels.md``).
    value : float
        Default value (used as is for ``fixed`` and whenever placement finds nothing).
    bounds : (float, float) or None
        Placed values are kept inside these limits.
    reference : str or None
        Landmark placement: gate whose events give the peak.
    peak_range : (float, float) or None
        Landmark placement: the window the peak is looked for in.
    offset : float
        Landmark placement: threshold = peak + offset.
    params : dict
        Extra parameters of ``time`` and ``singlets`` steps.
    """

    id: str
    kind: str = "threshold"
    parent: str | None = None
    marker: str = ""
    channel: str = ""
    side: str = "above"
    place: str = "fixed"
    value: float = math.nan
    bounds: tuple[float, float] | None = None
    reference: str | None = None
    peak_range: tuple[float, float] | None = None
    offset: float = 0.0
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LaipSpec:
    """A LAIP: events of ``parent`` inside every gate of ``all`` and at least ``k`` of ``min_of``.

    Attributes
    ----------
    id : str
    parent : str
    all : tuple of str
        Gate ids every LAIP event must be inside.
    min_k : int
        How many of ``min_of`` must hold (0 = none needed).
    min_of : tuple of str
    description : str
    """

    id: str
    parent: str
    all: tuple[str, ...] = ()
    min_k: int = 0
    min_of: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Panel:
    """An MRD tube, read from a panel TOML file.

    Attributes
    ----------
    panel_id : str
    title : str
    disease : {"ALL", "AML"}
    lineage : {"B", "T", "myeloid"}
    source : str
    denominator : str
        The MRD denominator in words (``"Syto41+ nucleated singlets"``).
    laip : str
        The panel's LAIP in words.
    gate_order : tuple of str
        Gate order in words, as a cytometrist applies it.
    marker_specs : tuple of MarkerSpec
    transform : dict
        ``{"kind": "logicle", "T": ..., "W": ..., "M": ..., "A": ...}`` (or ``asinh``/``linear``).
    denominator_chain : tuple of GateSpec
        QC and denominator steps in order; the last one is the MRD denominator.
    gates : tuple of GateSpec
        Lineage and LAIP marker gates.
    laips : tuple of LaipSpec
    aliases : tuple of str
    path : str
        The file read (``""`` for panels built from a dict).
    hash : str
        SHA-256 of the panel's canonical content (sorted-key JSON of the parsed TOML).
    """

    panel_id: str
    title: str
    disease: str
    lineage: str
    source: str
    denominator: str
    laip: str
    gate_order: tuple[str, ...]
    marker_specs: tuple[MarkerSpec, ...]
    transform: dict
    denominator_chain: tuple[GateSpec, ...]
    gates: tuple[GateSpec, ...]
    laips: tuple[LaipSpec, ...]
    aliases: tuple[str, ...] = ()
    path: str = ""
    hash: str = ""

    # -- markers and the default layout ---------------------------------------------------
    @property
    def markers(self) -> list[str]:
        """Marker names in panel order (``["CD58", "CD10", ...]``)."""
        return [m.name for m in self.marker_specs]

    @property
    def default_channels(self) -> dict[str, str]:
        """Marker -> default ``$PnN`` detector (the simulator's layout)."""
        return {m.name: m.channel for m in self.marker_specs}

    @property
    def channels(self) -> tuple[PanelChannel, ...]:
        """Default acquisition layout: scatter, one channel per marker, time."""
        return (
            *(PanelChannel(n, kind="scatter") for n in _SCATTER),
            *(PanelChannel(m.channel, m.name, m.fluorochrome, "fluorescence") for m in self.marker_specs),
            PanelChannel(_TIME, kind="time"),
        )

    @property
    def channel_names(self) -> list[str]:
        """``$PnN`` of every channel of the default layout, in acquisition order."""
        return [c.name for c in self.channels]

    @property
    def channel_markers(self) -> list[str]:
        """``$PnS`` of every channel of the default layout (``""`` for scatter and time)."""
        return [c.marker for c in self.channels]

    @property
    def fluorescence(self) -> tuple[PanelChannel, ...]:
        """The fluorescence channels of the default layout, in acquisition order."""
        return tuple(c for c in self.channels if c.kind == "fluorescence")

    @property
    def fluorochromes(self) -> list[str]:
        """Default fluorochromes, in panel order."""
        return [m.fluorochrome for m in self.marker_specs]

    def channel_for(self, marker: str) -> str:
        """Default ``$PnN`` of ``marker`` (matched as in :func:`normalize_marker`).

        Raises
        ------
        ConfigError
            The panel has no such marker (the message lists its markers).

        Examples
        --------
        >>> load_panel("B-ALL").channel_for("cd19")
        'PE-Cy7-A'
        """
        key = normalize_marker(marker)
        for m in self.marker_specs:
            if key in (normalize_marker(m.name), normalize_marker(m.channel), *map(normalize_marker, m.aliases)):
                return m.channel
        raise ConfigError(f"panel {self.panel_id!r} has no channel for marker {marker!r}; markers: {self.markers}")

    # -- gates ------------------------------------------------------------------------------
    @property
    def denominator_gate(self) -> str:
        """Id of the last denominator step (the MRD denominator)."""
        return self.denominator_chain[-1].id

    def gate(self, gate_id: str) -> GateSpec:
        """The denominator step or gate with this id (ConfigError if none)."""
        for g in (*self.denominator_chain, *self.gates):
            if g.id == gate_id:
                return g
        raise ConfigError(f"panel {self.panel_id!r} has no gate {gate_id!r}")

    def transform_object(self):
        """The panel's marker transform as a :mod:`mrdquant.cytometry.transforms` object.

        Transforms are immutable; one object per parameter set is built (its lookup table
        takes milliseconds) and shared.
        """
        t = self.transform
        kind = t["kind"]
        if kind == "logicle":
            params = (float(t["T"]), float(t["W"]), float(t["M"]), float(t.get("A", 0.0)))
        elif kind == "asinh":
            params = (float(t["T"]), float(t["M"]), float(t.get("A", 0.0)))
        else:
            kind, params = "linear", (float(t.get("T", 262144.0)), float(t.get("A", 0.0)))
        return _transform(kind, params)


@functools.lru_cache(maxsize=32)
def _transform(kind: str, params: tuple):
    from ..cytometry.transforms import AsinhTransform, LinearTransform, LogicleTransform

    if kind == "logicle":
        T, W, M, A = params
        return LogicleTransform(T=T, W=W, M=M, A=A)
    if kind == "asinh":
        T, M, A = params
        return AsinhTransform(T=T, M=M, A=A)
    T, A = params
    return LinearTransform(T=T, A=A)


# --------------------------------------------------------------------------- parsing


class _Reader:
    """Typed access to a parsed TOML table with errors naming the file and key."""

    def __init__(self, where: str):
        self.where = where

    def fail(self, key: str, expected: str, got: Any = None, *, show: bool = True) -> ConfigError:
        tail = f", got {got!r}" if show else ""
        return ConfigError(f"{self.where}: key {key!r}: expected {expected}{tail}")

    def get(self, table: dict, key: str, prefix: str, kind, *, required=True, default=None):
        full = f"{prefix}{key}"
        if key not in table:
            if required:
                raise ConfigError(f"{self.where}: missing key {full!r}")
            return default
        v = table[key]
        if kind is float:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
                raise self.fail(full, "a finite number", v)
            return float(v)
        if kind is int:
            if isinstance(v, bool) or not isinstance(v, int):
                raise self.fail(full, "a whole number", v)
            return int(v)
        if kind is str:
            if not isinstance(v, str):
                raise self.fail(full, "a string", v)
            return v
        if kind == "str_list":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise self.fail(full, "a list of strings", v)
            return tuple(v)
        if kind == "pair":
            if (
                not isinstance(v, list)
                or len(v) != 2
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
                or not v[0] < v[1]
            ):
                raise self.fail(full, "[low, high] with low < high", v)
            return (float(v[0]), float(v[1]))
        if kind is dict:
            if not isinstance(v, dict):
                raise self.fail(full, "a table", v)
            return v
        if kind is list:
            if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
                raise self.fail(full, "an array of tables", v)
            return v
        raise AssertionError(kind)  # pragma: no cover

    def check_keys(self, table: dict, allowed: set, prefix: str) -> None:
        extra = sorted(set(table) - allowed)
        if extra:
            raise ConfigError(
                f"{self.where}: unknown key {prefix}{extra[0]!r}; allowed here: {sorted(allowed)}"
            )


_TOP_KEYS = {
    "schema", "id", "aliases", "title", "disease", "lineage", "source", "denominator_text", "laip_text",
    "gate_order", "markers", "transform", "denominator", "gates", "laips",
}
_MARKER_KEYS = {"name", "fluorochrome", "channel", "kind", "aliases"}
_GATE_KEYS = {
    "id", "kind", "parent", "marker", "channel", "side", "place", "value", "bounds", "reference", "peak_range",
    "offset", "params",
}
_LAIP_KEYS = {"id", "parent", "all", "min_of", "description"}


def _parse_gate(r: _Reader, t: dict, prefix: str, default_kind: str) -> GateSpec:
    r.check_keys(t, _GATE_KEYS, prefix)
    gid = r.get(t, "id", prefix, str)
    kind = r.get(t, "kind", prefix, str, required=False, default=default_kind)
    if kind not in _GATE_KINDS:
        raise r.fail(f"{prefix}kind", f"one of {list(_GATE_KINDS)}", kind)
    side = r.get(t, "side", prefix, str, required=False, default="above")
    if side not in _SIDES:
        raise r.fail(f"{prefix}side", "'above' or 'below'", side)
    place = r.get(t, "place", prefix, str, required=False, default="fixed")
    if place not in _PLACEMENTS:
        raise r.fail(f"{prefix}place", f"one of {list(_PLACEMENTS)}", place)
    marker = r.get(t, "marker", prefix, str, required=kind == "threshold", default="")
    channel = r.get(t, "channel", prefix, str, required=kind == "scatter", default="")
    if kind == "scatter" and channel not in ("FSC-A", "SSC-A"):
        raise r.fail(f"{prefix}channel", "'FSC-A' or 'SSC-A'", channel)
    needs_value = kind in ("threshold", "scatter")
    value = r.get(t, "value", prefix, float, required=needs_value, default=math.nan)
    bounds = r.get(t, "bounds", prefix, "pair", required=False)
    if bounds is not None and needs_value and not bounds[0] <= value <= bounds[1]:
        raise r.fail(f"{prefix}value", f"a value inside bounds {list(bounds)}", value)
    reference = r.get(t, "reference", prefix, str, required=False)
    peak_range = r.get(t, "peak_range", prefix, "pair", required=place == "landmark")
    offset = r.get(t, "offset", prefix, float, required=False, default=0.0)
    params = r.get(t, "params", prefix, dict, required=False, default={})
    return GateSpec(
        id=gid,
        kind=kind,
        parent=r.get(t, "parent", prefix, str, required=False),
        marker=marker,
        channel=channel,
        side=side,
        place=place,
        value=value,
        bounds=bounds,
        reference=reference,
        peak_range=peak_range,
        offset=offset,
        params=dict(params),
    )


def panel_from_dict(data: dict, *, where: str = "<panel>", path: str = "") -> Panel:
    """Build and validate a :class:`Panel` from a parsed panel TOML table.

    Raises
    ------
    ConfigError
        Naming ``where`` (the file) and the offending key.
    """
    r = _Reader(where)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a panel file must be a TOML table")
    r.check_keys(data, _TOP_KEYS, "")
    schema = r.get(data, "schema", "", int)
    if schema != 1:
        raise r.fail("schema", "1", schema)
    pid = r.get(data, "id", "", str).strip()
    if not pid:
        raise r.fail("id", "a non-empty panel id", pid)
    disease = r.get(data, "disease", "", str)
    if disease not in ("ALL", "AML"):
        raise r.fail("disease", "'ALL' or 'AML'", disease)
    lineage = r.get(data, "lineage", "", str)
    if lineage not in ("B", "T", "myeloid"):
        raise r.fail("lineage", "'B', 'T' or 'myeloid'", lineage)

    markers = []
    seen: dict[str, str] = {}
    for i, m in enumerate(r.get(data, "markers", "", list)):
        pre = f"markers[{i}]."
        r.check_keys(m, _MARKER_KEYS, pre)
        name = r.get(m, "name", pre, str).strip()
        if not name:
            raise r.fail(f"{pre}name", "a marker name", name)
        kind = r.get(m, "kind", pre, str, required=False, default="antigen")
        if kind not in ("antigen", "dye"):
            raise r.fail(f"{pre}kind", "'antigen' or 'dye'", kind)
        spec = MarkerSpec(
            name=name,
            fluorochrome=r.get(m, "fluorochrome", pre, str, required=False, default=""),
            channel=r.get(m, "channel", pre, str, required=False, default=""),
            kind=kind,
            aliases=r.get(m, "aliases", pre, "str_list", required=False, default=()),
        )
        key = normalize_marker(name)
        if key in seen:
            raise r.fail(f"{pre}name", f"a marker not already listed (same as {seen[key]!r})", name)
        seen[key] = name
        markers.append(spec)
    if not markers:
        raise r.fail("markers", "at least one marker", [], show=False)
    chans = [m.channel for m in markers if m.channel]
    if len(set(chans)) != len(chans):
        raise r.fail("markers", "distinct default channels", chans)

    tr = r.get(data, "transform", "", dict)
    tkind = r.get(tr, "kind", "transform.", str)
    if tkind not in ("logicle", "asinh", "linear"):
        raise r.fail("transform.kind", "'logicle', 'asinh' or 'linear'", tkind)
    transform = {"kind": tkind}
    need = {"logicle": ("T", "W", "M"), "asinh": ("T", "M"), "linear": ()}[tkind]
    for k in need:
        transform[k] = r.get(tr, k, "transform.", float)
    for k in ("A", "T"):
        if k in tr and k not in transform:
            transform[k] = r.get(tr, k, "transform.", float)
    r.check_keys(tr, {"kind", "T", "W", "M", "A"}, "transform.")

    chain = tuple(
        _parse_gate(r, t, f"denominator[{i}].", "threshold") for i, t in enumerate(r.get(data, "denominator", "", list))
    )
    if not chain:
        raise r.fail("denominator", "at least one step", [], show=False)
    gates = tuple(_parse_gate(r, t, f"gates[{i}].", "threshold") for i, t in enumerate(r.get(data, "gates", "", list, required=False, default=[])))
    ids: dict[str, str] = {}
    # a denominator step without a parent follows the previous step
    fixed_chain = []
    for i, g in enumerate(chain):
        if g.parent is None and i > 0:
            g = GateSpec(**{**g.__dict__, "parent": chain[i - 1].id})
        fixed_chain.append(g)
    chain = tuple(fixed_chain)
    for where_key, group in (("denominator", chain), ("gates", gates)):
        for i, g in enumerate(group):
            if g.id in ids:
                raise r.fail(f"{where_key}[{i}].id", f"a gate id not already used (by {ids[g.id]})", g.id)
            ids[g.id] = f"{where_key}[{i}]"
            if g.parent is not None and g.parent not in ids:
                raise r.fail(f"{where_key}[{i}].parent", f"the id of an earlier gate {sorted(ids)[:20]}", g.parent)
            if g.reference is not None and g.reference not in ids:
                raise r.fail(f"{where_key}[{i}].reference", "the id of an earlier gate", g.reference)
            if g.kind == "threshold" and normalize_marker(g.marker) not in seen:
                raise r.fail(f"{where_key}[{i}].marker", f"one of the panel's markers {[m.name for m in markers]}", g.marker)
        if where_key == "gates":
            for i, g in enumerate(group):
                if g.kind not in ("threshold", "scatter"):
                    raise r.fail(f"gates[{i}].kind", "'threshold' or 'scatter'", g.kind)
                if g.parent is None:
                    gates = tuple(
                        GateSpec(**{**x.__dict__, "parent": chain[-1].id}) if x is g else x for x in gates
                    )

    laips = []
    for i, t in enumerate(r.get(data, "laips", "", list)):
        pre = f"laips[{i}]."
        r.check_keys(t, _LAIP_KEYS, pre)
        lid = r.get(t, "id", pre, str)
        parent = r.get(t, "parent", pre, str)
        if parent not in ids:
            raise r.fail(f"{pre}parent", "the id of a gate", parent)
        need_all = r.get(t, "all", pre, "str_list", required=False, default=())
        mo = r.get(t, "min_of", pre, dict, required=False, default={})
        r.check_keys(mo, {"k", "gates"}, f"{pre}min_of.")
        mo_gates = r.get(mo, "gates", f"{pre}min_of.", "str_list", required=bool(mo), default=())
        k = r.get(mo, "k", f"{pre}min_of.", int, required=bool(mo), default=0)
        if not 0 <= k <= len(mo_gates):
            raise r.fail(f"{pre}min_of.k", f"a number from 0 to {len(mo_gates)}", k)
        for g in (*need_all, *mo_gates):
            if g not in ids:
                raise r.fail(pre + "all/min_of", f"gate ids of the panel {sorted(ids)[:20]}", g)
        if not need_all and k == 0:
            raise r.fail(pre + "all", "at least one gate in 'all' or min_of.k >= 1", [], show=False)
        if lid in ids or any(x.id == lid for x in laips):
            raise r.fail(f"{pre}id", "an id not used by a gate or another LAIP", lid)
        laips.append(
            LaipSpec(lid, parent, tuple(need_all), k, tuple(mo_gates), r.get(t, "description", pre, str, required=False, default=""))
        )
    if not laips:
        raise r.fail("laips", "at least one LAIP", [], show=False)

    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return Panel(
        panel_id=pid,
        title=r.get(data, "title", "", str, required=False, default=pid),
        disease=disease,
        lineage=lineage,
        source=r.get(data, "source", "", str, required=False, default=""),
        denominator=r.get(data, "denominator_text", "", str, required=False, default=chain[-1].id),
        laip=r.get(data, "laip_text", "", str, required=False, default=laips[0].description),
        gate_order=r.get(data, "gate_order", "", "str_list", required=False, default=()),
        marker_specs=tuple(markers),
        transform=transform,
        denominator_chain=chain,
        gates=gates,
        laips=tuple(laips),
        aliases=r.get(data, "aliases", "", "str_list", required=False, default=()),
        path=path,
        hash=hashlib.sha256(canonical.encode()).hexdigest(),
    )


def _read_file(path: Path) -> Panel:
    where = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read panel file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: panel file is not UTF-8 text ({exc})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc})") from exc
    return panel_from_dict(data, where=where, path=where)


@functools.lru_cache(maxsize=None)
def _bundled() -> dict[str, Panel]:
    folder = resources.files("mrdquant.mfc") / "panels"
    out = {}
    for name in _BUNDLED:
        p = _read_file(Path(str(folder / name)))
        out[p.panel_id] = p
    return out


def _alias_table() -> dict[str, str]:
    table = {}
    for pid, p in _bundled().items():
        for name in (pid, *p.aliases):
            table[normalize_marker(name)] = pid
    return table


def list_panels() -> list[str]:
    """Ids of the bundled panels.

    Examples
    --------
    >>> list_panels()
    ['B-ALL', 'PUIH B-ALL', 'T-ALL', 'AML']
    """
    return list(_bundled())


def load_panel(panel: "str | os.PathLike | Panel") -> Panel:
    """A bundled panel by id or alias (case, spaces and hyphens ignored), or a panel TOML file.

    Parameters
    ----------
    panel : str, path or Panel
        ``"B-ALL"``, ``"aieop-bfm b-all"``, ``"T-ALL"``, ``"AML"``, ... or the path of a
        ``.toml`` panel file; a :class:`Panel` is returned unchanged.

    Raises
    ------
    ConfigError
        Unknown name (the message lists the bundled ids), or a panel file that cannot be
        read or does not validate (the message names the file and key).

    Examples
    --------
    >>> p = load_panel("aieop-bfm b-all")
    >>> p.panel_id, p.markers[:3], p.denominator_gate
    ('B-ALL', ['CD58', 'CD10', 'CD34'], 'Viable')
    """
    if isinstance(panel, Panel):
        return panel
    if isinstance(panel, os.PathLike) or (isinstance(panel, str) and panel.lower().endswith(".toml")):
        return _read_file(Path(panel))
    if not isinstance(panel, str):
        raise ConfigError(f"panel: expected a panel name, a .toml path or a Panel, got {type(panel).__name__}")
    pid = _alias_table().get(normalize_marker(panel))
    if pid is None:
        if Path(panel).is_file():
            return _read_file(Path(panel))
        raise ConfigError(f"unknown panel {panel!r}; expected one of {list_panels()} or the path of a panel .toml file")
    return _bundled()[pid]


#: former names (``mrdquant.cytometry.panels``), kept working
get_panel = load_panel
available_panels = list_panels

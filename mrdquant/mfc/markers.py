"""Find a panel's markers, scatter and time channels in one FCS file.

A panel names markers; files name detectors (``$PnN``) and, usually, the stains on them
(``$PnS``). Each marker is looked up, in order:

1. an explicit mapping given by the call (``channels={"CD58": "APC-Cy7-A"}``; the value
   may be a ``$PnN``, a ``$PnS`` or ``"PnN [PnS]"``);
2. the file's ``$PnS``, compared with :func:`~mrdquant.mfc.panels.normalize_marker`
   (case, spaces, hyphens, underscores and dots ignored: ``Syto 41`` = ``Syto41``,
   ``HLA-DR`` = ``HLADR``), also against the marker's aliases and the first word of the
   ``$PnS`` (``"CD19 PE-Cy7"``);
3. the file's ``$PnN``, compared the same way (files whose detector names are markers).

A marker found nowhere is a :class:`~mrdquant.errors.ConfigError` listing the markers the
file has, so the user can map it.
"""

from __future__ import annotations

import re

from ..errors import ConfigError
from .panels import Panel, normalize_marker

__all__ = ["resolve_channels", "resolve_scatter", "check_strategy_markers"]

_FSC_A = ("FSC-A", "FSC", "FS", "FS-A", "FSC-Area", "FS INT", "FS Lin")
_FSC_H = ("FSC-H", "FS-H", "FSC-Height")
_FSC_W = ("FSC-W", "FS-W", "FSC-Width")
_SSC_A = ("SSC-A", "SSC", "SS", "SS-A", "SSC-Area", "SS INT", "SS Lin", "SSC-B-A", "Violet SSC-A")
_TIME = ("Time", "TIME", "HDR-T")


def _where(sample) -> str:
    return str(sample.path) if getattr(sample, "path", None) is not None else "in-memory sample"


def marker_keys(name: str, aliases=()) -> set[str]:
    """The normalized names a stain may carry for a marker: its own and its aliases'."""
    return {normalize_marker(name), *(normalize_marker(a) for a in aliases)}


def stain_keys(stain: str) -> tuple[str, str]:
    """A ``$PnS`` stain as matched against :func:`marker_keys`: whole and its first word.

    ``"CD19 PE-Cy7"`` -> ``("cd19pecy7", "cd19")``; an empty stain -> ``("", "")``.
    """
    st = (stain or "").strip()
    if not st:
        return "", ""
    return normalize_marker(st), normalize_marker(re.split(r"[\s/]+", st)[0])


def _file_markers(sample) -> list[str]:
    return [f"{n} [{s}]" if s else n for n, s in zip(sample.channels, sample.markers)]


def resolve_channels(panel: Panel, sample, channels: dict | None = None) -> dict[str, str]:
    """Marker -> ``$PnN`` of ``sample`` for every marker of ``panel``.

    Parameters
    ----------
    panel : Panel
    sample : FlowSample
    channels : dict of str to str, optional
        Explicit marker -> channel mapping (wins over ``$PnS``); markers are matched as in
        :func:`~mrdquant.mfc.panels.normalize_marker`.

    Returns
    -------
    dict of str to str
        In panel marker order.

    Raises
    ------
    ConfigError
        A marker the file lacks (the message names the file and lists its ``$PnN [$PnS]``),
        an explicit mapping naming an unknown marker or channel, or two markers resolved
        to one channel.
    """
    where = _where(sample)
    explicit: dict[str, str] = {}
    by_norm = {normalize_marker(m): m for m in panel.markers}
    for k, v in (channels or {}).items():
        m = by_norm.get(normalize_marker(k))
        if m is None:
            raise ConfigError(f"channels: {k!r} is not a marker of panel {panel.panel_id!r}; markers: {panel.markers}")
        try:
            idx = sample.channel_index(str(v))
        except Exception:
            raise ConfigError(
                f"{where}: channels[{k!r}] = {v!r} is not a channel of the file; channels: {_file_markers(sample)}"
            ) from None
        explicit[m] = sample.channels[idx]
    stains = [stain_keys(s) for s in sample.markers]
    pns, pns_first = [k[0] for k in stains], [k[1] for k in stains]
    pnn = [normalize_marker(c) for c in sample.channels]
    out: dict[str, str] = {}
    missing = []
    for spec in panel.marker_specs:
        if spec.name in explicit:
            out[spec.name] = explicit[spec.name]
            continue
        keys = marker_keys(spec.name, spec.aliases)
        hit = None
        for table in (pns, pns_first, pnn):
            idx = [i for i, v in enumerate(table) if v and v in keys]
            if len(idx) > 1:
                raise ConfigError(
                    f"{where}: marker {spec.name!r} matches several channels "
                    f"{[sample.channels[i] for i in idx]}; map it with channels={{{spec.name!r}: '<$PnN>'}}"
                )
            if idx:
                hit = sample.channels[idx[0]]
                break
        if hit is None:
            missing.append(spec.name)
        else:
            out[spec.name] = hit
    if missing:
        named = [s for s in sample.markers if s]
        raise ConfigError(
            f"{where}: panel {panel.panel_id!r} needs marker(s) {missing} that the file does not name; "
            f"the file's markers ($PnS) are {named}, its channels {_file_markers(sample)}; "
            f"map a marker explicitly, e.g. channels={{{missing[0]!r}: '<$PnN>'}}"
        )
    used: dict[str, str] = {}
    for m, c in out.items():
        if c in used:
            raise ConfigError(f"{where}: markers {used[c]!r} and {m!r} both resolve to channel {c!r}")
        used[c] = m
    return out


def _find(sample, names: tuple[str, ...]) -> str | None:
    norm = [normalize_marker(c) for c in sample.channels]
    for n in names:
        k = normalize_marker(n)
        if k in norm:
            return sample.channels[norm.index(k)]
    return None


def resolve_scatter(sample) -> dict[str, str | None]:
    """``$PnN`` of the scatter and time channels: keys ``FSC-A``, ``FSC-H``, ``FSC-W``, ``SSC-A``, ``Time``.

    Missing channels are ``None`` (QC steps needing them are then skipped and reported).
    """
    return {
        "FSC-A": _find(sample, _FSC_A),
        "FSC-H": _find(sample, _FSC_H),
        "FSC-W": _find(sample, _FSC_W),
        "SSC-A": _find(sample, _SSC_A),
        "Time": _find(sample, _TIME),
    }


def check_strategy_markers(markers: dict, sample) -> None:
    """Refuse a file whose ``$PnS`` disagree with the markers a strategy expects.

    Parameters
    ----------
    markers : dict of str to str
        ``$PnN`` -> expected marker (``GatingMLDocument.markers``).
    sample : FlowSample

    Raises
    ------
    GatingError
        A channel carries another marker than the strategy expects (the message names
        the file, the channel, both markers and where the expected marker is in the
        file, if anywhere), or a channel the strategy needs is missing. A channel whose
        ``$PnS`` is empty is accepted (the file does not say what it carries).
    """
    from ..errors import GatingError

    where = _where(sample)
    norm_pns = [normalize_marker(s) for s in sample.markers]
    problems = []
    for pnn, marker in markers.items():
        try:
            idx = sample.channels.index(pnn)
        except ValueError:
            problems.append(f"no channel {pnn!r} (expected to carry {marker!r})")
            continue
        have = sample.markers[idx]
        if have and normalize_marker(have) != normalize_marker(marker):
            elsewhere = [sample.channels[i] for i, v in enumerate(norm_pns) if v == normalize_marker(marker)]
            hint = f"; the file has {marker!r} on {elsewhere[0]!r}" if elsewhere else f"; the file has no {marker!r}"
            problems.append(f"channel {pnn!r} carries {have!r}, the strategy expects {marker!r}{hint}")
    if problems:
        raise GatingError(
            f"{where}: the gating strategy does not fit this file's markers ($PnS): " + "; ".join(problems)
            + ". Use a strategy made for this tube's panel"
        )

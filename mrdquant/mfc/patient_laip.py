"""Patient-specific LAIPs: derived from the diagnostic sample, kept as an editable TOML file.

At diagnosis the blasts are plentiful. :func:`derive_laip` prepares the diagnostic file
with the panel, takes the blasts (the panel's LAIP at diagnosis, or a mask you give) and
their normal counterpart (the other events of the LAIP's parent gate, e.g. the CD19+ B
cells, less those inside the blast cluster on every marker: robust squared distance
below the 99th percentile of chi-square), marker by marker. The separation of a marker is
``(m_b - m_n) / (s_b + s_n)`` (medians and robust SDs of blasts and normal events); a
marker separated by at least ``min_separation`` is *aberrant*, ``bright`` or ``dim``.
Gates are chosen greedily: the most separated marker first, then the most separated
marker among the normal events that still pass the gates chosen so far, until fewer
than 0.1 % of the normal counterpart (at least 5 events) remain or ``max_gates`` are
chosen. A threshold sits halfway between ``m_b -+ 2.5 s_b`` (keeps ~99.4 % of the
blasts) and ``m_n +- 3 s_n`` (excludes ~99.9 % of the normal events) when these do not
cross, else where both populations are equally many SDs away,
``t = (m_b s_n + m_n s_b) / (s_b + s_n)``. The LAIP is the AND of the chosen gates.

Each threshold is written as a **landmark** gate, ``peak + offset``, with ``peak`` the
main density peak of that marker among the normal cells of the denominator (at
diagnosis the blasts are left out; in a follow-up the denominator is found again in every
follow-up, so the threshold follows the instrument's drift) and ``bounds`` of +-0.1
around the diagnostic value. The file is plain TOML in the panel's gate format
(``docs/panels.md``); the analyst can edit thresholds, bounds and the rule.

:func:`read_laip` loads such a file, :func:`write_laip` writes one, and
:func:`mrdquant.quantify_mfc` applies it with ``laip=path``: the panel's denominator chain
and gates stay, the patient's gates and LAIP are added and the panel's LAIPs are replaced.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .panels import GateSpec, LaipSpec, Panel, _parse_gate, _Reader, load_panel
from .placement import smoothed_density

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["PatientLaip", "derive_laip", "read_laip", "write_laip", "apply_laip"]

_MIN_EVENTS = 50


@dataclass(frozen=True)
class PatientLaip:
    """A patient's LAIP: gates and a rule on one panel.

    Attributes
    ----------
    patient_id : str
    panel_id : str
        The panel it was derived with (follow-ups must use the same panel id).
    panel_hash : str
    gates : tuple of GateSpec
        Threshold gates on the patient's aberrant markers.
    laip : LaipSpec
    derived_from : dict
        ``path``, ``sha256``, ``blast_events``, ``normal_events`` of the diagnostic file.
    markers : tuple of dict
        Per marker: ``marker, direction, blast_median, blast_sd, normal_median, normal_sd,
        separation`` (transformed units) as measured at diagnosis.
    path : str
        File read (``""`` when derived in memory).
    hash : str
        SHA-256 of the canonical content.
    """

    patient_id: str
    panel_id: str
    panel_hash: str
    gates: tuple
    laip: LaipSpec
    derived_from: dict
    markers: tuple = ()
    path: str = ""
    hash: str = ""

    def to_dict(self) -> dict:
        """The TOML content as a dict."""
        out = {
            "schema": 1,
            "patient_id": self.patient_id,
            "panel": self.panel_id,
            "panel_hash": self.panel_hash,
            "derived_from": dict(self.derived_from),
            "gates": [_gate_dict(g) for g in self.gates],
            "laip": {
                "id": self.laip.id,
                "parent": self.laip.parent,
                "all": list(self.laip.all),
                "min_of": {"k": self.laip.min_k, "gates": list(self.laip.min_of)},
                "description": self.laip.description,
            },
        }
        if self.markers:
            out["diagnosis"] = [dict(m) for m in self.markers]
        return out


def _gate_dict(g: GateSpec) -> dict:
    d = {"id": g.id, "parent": g.parent, "marker": g.marker, "side": g.side, "place": g.place,
         "value": g.value}
    if g.bounds:
        d["bounds"] = list(g.bounds)
    if g.reference:
        d["reference"] = g.reference
    if g.peak_range:
        d["peak_range"] = list(g.peak_range)
    if g.place == "landmark":
        d["offset"] = g.offset
    return d


def _hash(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _robust(v: np.ndarray) -> tuple[float, float]:
    med = float(np.median(v))
    return med, float(1.4826 * np.median(np.abs(v - med)))


def derive_laip(
    sample,
    panel,
    *,
    patient_id: str = "",
    channels: dict | None = None,
    blasts: np.ndarray | None = None,
    min_separation: float = 1.0,
    max_gates: int = 5,
    seed: int = 0,
) -> PatientLaip:
    """Derive a patient LAIP from the diagnostic sample.

    Parameters
    ----------
    sample : FlowSample or path
        The diagnostic tube.
    panel : str, path or Panel
    patient_id : str
    channels : dict, optional
        Explicit marker -> channel mapping, as in :func:`mrdquant.mfc.prepare`.
    blasts : ndarray (n_events,) bool, optional
        The blast events (e.g. from the analyst's own gating); default: the panel's
        first LAIP in this sample.
    min_separation : float, default 1.0
        Minimum ``|m_b - m_n| / (s_b + s_n)`` for a marker to count as aberrant.
    max_gates : int, default 5
        Most marker gates in the LAIP.
    seed : int

    Returns
    -------
    PatientLaip

    Raises
    ------
    ConfigError
        Fewer than 50 blast or normal-counterpart events, or no aberrant marker.
    """
    from .preparation import prepare

    p = load_panel(panel)
    ps = prepare(sample, p, channels=channels, seed=seed)
    base = p.laips[0]
    parent = ps.gate_masks[base.parent]
    b = ps.gate_masks[base.id] if blasts is None else (np.asarray(blasts, dtype=bool) & parent)
    normal = parent & ~b
    nb, nn = int(b.sum()), int(normal.sum())
    where = ps.sample_id
    if nb < _MIN_EVENTS or nn < _MIN_EVENTS:
        raise ConfigError(
            f"{where}: {nb} blast and {nn} normal-counterpart events in gate {base.parent!r}; "
            f"at least {_MIN_EVENTS} of each are needed to derive a LAIP"
        )
    # markers gated above the LAIP's parent (lineage, dye) say nothing about the LAIP
    ancestors = set()
    gid = base.parent
    while gid is not None:
        g = p.gate(gid)
        if g.marker:
            ancestors.add(g.marker)
        gid = g.parent
    dyes = {m.name for m in p.marker_specs if m.kind == "dye"}
    den = ps.denominator_mask
    candidates = [j for j, m in enumerate(ps.markers) if m not in ancestors and m not in dyes]
    # events outside the blast gate that sit inside the blast cluster on every candidate
    # marker are blasts the gate missed, not normal counterpart: leave them out
    from scipy.stats import chi2

    centre = np.array([_robust(ps.values[b, j]) for j in candidates])
    z2 = np.zeros(int(normal.sum()))
    for k, j in enumerate(candidates):
        z2 += ((ps.values[normal, j] - centre[k, 0]) / max(centre[k, 1], 0.01)) ** 2
    like_blast = np.zeros_like(normal)
    like_blast[np.flatnonzero(normal)] = z2 < chi2.ppf(0.99, len(candidates))
    normal = normal & ~like_blast
    nn = int(normal.sum())
    rows = []
    for j in candidates:
        x = ps.values[:, j]
        mb, sb = _robust(x[b])
        mn, sn = _robust(x[normal])
        sb, sn = max(sb, 0.01), max(sn, 0.01)
        sep = (mb - mn) / (sb + sn)
        rows.append({"marker": ps.markers[j], "direction": ("bright" if sep > 0 else "dim") if abs(sep) >= min_separation
                     else "not aberrant", "blast_median": round(mb, 4), "blast_sd": round(sb, 4),
                     "normal_median": round(mn, 4), "normal_sd": round(sn, 4), "separation": round(sep, 3)})
    # greedy: each gate separates the blasts from the normal events the earlier gates let through
    remaining = normal.copy()
    stop = max(5, int(0.001 * nn))
    specs = []
    used = set()
    while int(remaining.sum()) > stop and len(specs) < max_gates:
        best = None
        for j in candidates:
            if j in used:
                continue
            x = ps.values[:, j]
            mb, sb = _robust(x[b])
            mn, sn = _robust(x[remaining])
            sb, sn = max(sb, 0.01), max(sn, 0.01)
            sep = (mb - mn) / (sb + sn)
            if abs(sep) >= min_separation and (best is None or abs(sep) > abs(best[1])):
                best = (j, sep, mb, sb, mn, sn)
        if best is None:
            break
        j, sep, mb, sb, mn, sn = best
        used.add(j)
        m = ps.markers[j]
        x = ps.values[:, j]
        bright = sep > 0
        sign = 1.0 if bright else -1.0
        t_blast = mb - sign * 2.5 * sb  # keeps ~99.4 % of the blasts
        t_normal = mn + sign * 3.0 * sn  # excludes ~99.9 % of the normal events
        if sign * (t_blast - t_normal) >= 0:
            t = 0.5 * (t_blast + t_normal)
        else:
            t = (mb * sn + mn * sb) / (sb + sn)
        centres, dens = smoothed_density(x, den & ~b)  # normal cells: what a follow-up's denominator holds
        peak = float(centres[int(np.argmax(dens))])
        direction = "bright" if bright else "dim"
        specs.append(GateSpec(
            id=f"{m}_{direction}",
            kind="threshold",
            parent=base.parent,
            marker=m,
            side="above" if bright else "below",
            place="landmark",
            value=round(t, 4),
            bounds=(round(t - 0.1, 4), round(t + 0.1, 4)),
            reference=p.denominator_gate,
            peak_range=(round(peak - 0.08, 4), round(peak + 0.08, 4)),
            offset=round(t - peak, 4),
        ))
        remaining &= (x >= t) if bright else (x < t)
    if not specs:
        raise ConfigError(
            f"{where}: no marker separates the blasts from their normal counterpart by >= {min_separation:g} SD; "
            "no patient LAIP derived (use the panel's LAIP)"
        )
    ids = tuple(g.id for g in specs)
    desc = " ".join(f"{g.marker} {g.id.rsplit('_', 1)[1]}" for g in specs)
    laip = LaipSpec(id="LAIP", parent=base.parent, all=ids, min_k=0, min_of=(),
                    description=f"patient LAIP in {base.parent}: {desc}")
    s = ps.sample
    derived = {"path": str(s.path) if s.path is not None else "", "sha256": s.sha256, "blast_events": nb,
               "normal_events": nn, "sample_id": ps.sample_id}
    out = PatientLaip(patient_id, p.panel_id, p.hash, tuple(specs), laip, derived, tuple(rows))
    return dataclasses.replace(out, hash=_hash(_content(out.to_dict())))


def _content(d: dict) -> dict:
    """The part of a LAIP file that defines the gating (hash input)."""
    return {k: d[k] for k in ("panel", "gates", "laip") if k in d}


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    return json.dumps(str(v))


def write_laip(laip: PatientLaip, path: "str | os.PathLike") -> Path:
    """Write a patient LAIP as TOML (atomically); returns the path."""
    from ..io.store import write_text

    d = laip.to_dict()
    lines = [
        "# Patient-specific LAIP (mrdquant). Edit thresholds, bounds or the rule as needed;",
        "# values are in the panel's transformed units. See docs/panels.md for the gate keys.",
        f"schema = 1",
        f"patient_id = {_toml_value(d['patient_id'])}",
        f"panel = {_toml_value(d['panel'])}",
        f"panel_hash = {_toml_value(d['panel_hash'])}",
        "",
        "[derived_from]",
        *(f"{k} = {_toml_value(v)}" for k, v in d["derived_from"].items()),
        "",
    ]
    for row in d.get("diagnosis", []):
        lines += ["[[diagnosis]]", *(f"{k} = {_toml_value(v)}" for k, v in row.items()), ""]
    for g in d["gates"]:
        lines += ["[[gates]]", *(f"{k} = {_toml_value(v)}" for k, v in g.items() if v is not None), ""]
    lines += ["[laip]", *(f"{k} = {_toml_value(v)}" for k, v in d["laip"].items()), ""]
    return write_text("\n".join(lines), Path(path))


def read_laip(path: "str | os.PathLike") -> PatientLaip:
    """Read a patient LAIP file.

    Raises
    ------
    ConfigError
        Unreadable or invalid file (the message names the file and key).
    """
    where = str(path)
    try:
        data = tomllib.loads(Path(path).read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read LAIP file ({exc.strerror or exc})") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{where}: not a valid TOML LAIP file ({exc})") from exc
    r = _Reader(where)
    r.check_keys(data, {"schema", "patient_id", "panel", "panel_hash", "derived_from", "diagnosis", "gates", "laip"}, "")
    if r.get(data, "schema", "", int) != 1:
        raise r.fail("schema", "1", data.get("schema"))
    gates = tuple(_parse_gate(r, t, f"gates[{i}].", "threshold") for i, t in enumerate(r.get(data, "gates", "", list)))
    lt = r.get(data, "laip", "", dict)
    r.check_keys(lt, {"id", "parent", "all", "min_of", "description"}, "laip.")
    mo = r.get(lt, "min_of", "laip.", dict, required=False, default={})
    mo_gates = r.get(mo, "gates", "laip.min_of.", "str_list", required=bool(mo), default=())
    k = r.get(mo, "k", "laip.min_of.", int, required=bool(mo), default=0)
    if not 0 <= k <= len(mo_gates):
        raise r.fail("laip.min_of.k", f"a number from 0 to {len(mo_gates)}", k)
    laip = LaipSpec(
        id=r.get(lt, "id", "laip.", str),
        parent=r.get(lt, "parent", "laip.", str),
        all=r.get(lt, "all", "laip.", "str_list", required=False, default=()),
        min_k=k,
        min_of=tuple(mo_gates),
        description=r.get(lt, "description", "laip.", str, required=False, default=""),
    )
    ids = {g.id for g in gates}
    for g in (*laip.all, *laip.min_of):
        if g not in ids:
            raise r.fail("laip.all/min_of", f"ids of the file's gates {sorted(ids)}", g)
    if not laip.all and k == 0:
        raise r.fail("laip.all", "at least one gate in 'all' or min_of.k >= 1", [], show=False)
    return PatientLaip(
        patient_id=r.get(data, "patient_id", "", str, required=False, default=""),
        panel_id=r.get(data, "panel", "", str),
        panel_hash=r.get(data, "panel_hash", "", str, required=False, default=""),
        gates=gates,
        laip=laip,
        derived_from=r.get(data, "derived_from", "", dict, required=False, default={}),
        markers=tuple(data.get("diagnosis", [])),
        path=where,
        hash=_hash(_content(data)),
    )


def apply_laip(panel: Panel, laip: "PatientLaip | str | os.PathLike") -> tuple[Panel, PatientLaip]:
    """The panel with the patient's gates added and its LAIPs replaced by the patient's.

    Raises
    ------
    ConfigError
        The LAIP was derived with another panel, names a gate or marker the panel lacks,
        or reuses a panel gate id.
    """
    pl = laip if isinstance(laip, PatientLaip) else read_laip(laip)
    where = pl.path or f"patient LAIP {pl.patient_id!r}"
    same = pl.panel_id == panel.panel_id or (_is_bundled(pl.panel_id) and load_panel(pl.panel_id).panel_id == panel.panel_id)
    if not same:
        raise ConfigError(f"{where}: derived with panel {pl.panel_id!r}, cannot be applied with panel {panel.panel_id!r}")
    known = {g.id for g in (*panel.denominator_chain, *panel.gates)}
    from .panels import normalize_marker

    markers = {normalize_marker(m) for m in panel.markers}
    for g in pl.gates:
        if g.id in known:
            raise ConfigError(f"{where}: gate id {g.id!r} is already a gate of panel {panel.panel_id!r}")
        for ref in (g.parent, g.reference):
            if ref is not None and ref not in known and ref not in {x.id for x in pl.gates}:
                raise ConfigError(f"{where}: gate {g.id!r} refers to {ref!r}, not a gate of panel {panel.panel_id!r}")
        if normalize_marker(g.marker) not in markers:
            raise ConfigError(f"{where}: gate {g.id!r}: marker {g.marker!r} is not in panel {panel.panel_id!r}")
    if pl.laip.parent not in known:
        raise ConfigError(f"{where}: laip.parent {pl.laip.parent!r} is not a gate of panel {panel.panel_id!r}")
    merged = dataclasses.replace(panel, gates=panel.gates + tuple(pl.gates), laips=(pl.laip,))
    return merged, pl


def _is_bundled(pid: str) -> bool:
    try:
        load_panel(pid)
        return True
    except ConfigError:
        return False

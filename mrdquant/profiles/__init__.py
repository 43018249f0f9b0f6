"""Assay- and study-bound MRD profiles.

A profile is a folder of TOML files (``wt1.toml``, ``mfc.toml``, ``timeline.toml``), one
per method, bundled under ``mrdquant/profiles/<profile_id>/``. Every threshold is a table
``{value, unit, source}``; a parameter whose value is not published (for example the
early/late onset boundary of the PUIH study, given only in its unavailable supplement) is
written with ``value = "unset"`` and a ``reason``, and code that needs it must report that
reason instead of guessing a number.

``load_profile("puih_2020")`` loads a bundled profile; ``load_profile(path)`` loads a
folder of your own with the same layout. ``profile.table()`` lists every value with its
unit and source, for printing next to results.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Threshold", "thresholds_table", "Profile", "load_profile", "available_profiles", "UNSET"]

UNSET = "unset"


@dataclass(frozen=True)
class Threshold:
    """One named parameter of a profile with its provenance.

    Attributes
    ----------
    name : str
        Dotted name, e.g. ``"wt1.positive_above.BM"``.
    value : Any
        The value, or ``None`` when the profile leaves it unset.
    unit : str
    source : str
        Citation (or ``"assumption: ..."`` for a labelled default).
    reason : str
        Why the value is unset (empty when set).
    """

    name: str
    value: Any
    unit: str = ""
    source: str = ""
    reason: str = ""

    @property
    def is_set(self) -> bool:
        return self.value is not None


def thresholds_table(thresholds: "dict[str, Threshold]") -> pd.DataFrame:
    """The thresholds a result used, one row each: ``parameter, value, unit, source``."""
    return pd.DataFrame(
        [{"parameter": k, "value": t.value, "unit": t.unit, "source": t.source} for k, t in thresholds.items()],
        columns=["parameter", "value", "unit", "source"],
    )


@dataclass(frozen=True)
class Profile:
    """A named set of thresholds, grouped by method (``wt1``, ``mfc``, ``timeline``)."""

    profile_id: str
    title: str
    source: str
    sections: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def threshold(self, dotted: str) -> Threshold:
        """Return the parameter ``section.key[.subkey]`` as a :class:`Threshold`.

        Raises
        ------
        ConfigError
            The profile has no such parameter.
        """
        parts = dotted.split(".")
        node: Any = self.sections
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                raise ConfigError(
                    f"profile {self.profile_id!r} has no parameter {dotted!r}; "
                    f"sections present: {sorted(self.sections)}"
                )
            node = node[part]
        if isinstance(node, dict) and "value" in node:
            value = node["value"]
            if value == UNSET:
                value = None
            return Threshold(
                dotted,
                value,
                str(node.get("unit", "")),
                str(node.get("source", "")),
                str(node.get("reason", "")),
            )
        return Threshold(dotted, node)

    def value(self, dotted: str, default: Any = ConfigError) -> Any:
        """Shortcut for ``threshold(dotted).value`` (``default`` if missing, when given)."""
        try:
            return self.threshold(dotted).value
        except ConfigError:
            if default is ConfigError:
                raise
            return default

    def section(self, name: str) -> dict[str, Any]:
        """The raw dict of one section (empty dict when absent)."""
        return dict(self.sections.get(name, {}))

    def with_values(self, **overrides: Any) -> "Profile":
        """A copy with parameters replaced, keyed by dotted name with ``__`` for ``.``.

        ``profile.with_values(timeline__confirmation_window_days=7)`` sets the window and
        records the source as ``"user override"``.
        """
        import copy

        sections = copy.deepcopy(self.sections)
        for key, value in overrides.items():
            parts = key.split("__")
            node = sections
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            leaf = node.get(parts[-1])
            if isinstance(leaf, dict) and "value" in leaf:
                leaf.update(value=value, source="user override", reason="")
            else:
                node[parts[-1]] = {"value": value, "source": "user override"}
        return Profile(self.profile_id, self.title, self.source, sections)

    def table(self) -> pd.DataFrame:
        """Every parameter as a row: ``profile_id, parameter, value, unit, source, reason``."""
        rows = []

        def walk(prefix: str, node: Any) -> None:
            if isinstance(node, dict) and "value" in node:
                t = self.threshold(prefix)
                rows.append(
                    {
                        "profile_id": self.profile_id,
                        "parameter": prefix,
                        "value": t.value if t.is_set else UNSET,
                        "unit": t.unit,
                        "source": t.source,
                        "reason": t.reason,
                    }
                )
            elif isinstance(node, dict):
                for k, v in node.items():
                    walk(f"{prefix}.{k}" if prefix else k, v)
            else:
                rows.append(
                    {
                        "profile_id": self.profile_id,
                        "parameter": prefix,
                        "value": node,
                        "unit": "",
                        "source": "",
                        "reason": "",
                    }
                )

        walk("", self.sections)
        return pd.DataFrame(rows, columns=["profile_id", "parameter", "value", "unit", "source", "reason"])


def _bundled_root() -> Path:
    return Path(str(resources.files(__name__)))


def available_profiles() -> list[str]:
    """Ids of the profiles bundled with mrdquant."""
    root = _bundled_root()
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "profile.toml").exists())


def load_profile(profile: "str | Path | Profile") -> Profile:
    """Load a bundled profile by id, or a profile folder by path.

    Raises
    ------
    ConfigError
        Unknown id, missing ``profile.toml``, or a TOML syntax error (file named).
    """
    if isinstance(profile, Profile):
        return profile
    path = Path(profile)
    if not path.is_dir():
        candidate = _bundled_root() / str(profile)
        if not candidate.is_dir():
            raise ConfigError(
                f"unknown profile {str(profile)!r}; bundled profiles: {available_profiles()} "
                "(or pass the path of a profile folder)"
            )
        path = candidate
    head_file = path / "profile.toml"
    if not head_file.exists():
        raise ConfigError(f"{path}: not a profile folder (no profile.toml)")
    head = _read_toml(head_file)
    sections: dict[str, Any] = {}
    for toml_file in sorted(path.glob("*.toml")):
        if toml_file.name == "profile.toml":
            continue
        sections[toml_file.stem] = _read_toml(toml_file)
    info = head.get("profile", {})
    return Profile(
        profile_id=str(info.get("id", path.name)),
        title=str(info.get("title", "")),
        source=str(info.get("source", "")),
        sections=sections,
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from exc

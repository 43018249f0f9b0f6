"""``study.toml``: the inputs of a study and the parameters they are processed with.

A study folder holds a ``study.toml``; relative paths in it are relative to that folder.
Sections (see ``docs/pipeline.md`` for the full reference)::

    [study]       name, profile (bundled id or profile folder), results (folder), store
    [profile.values]  optional overrides of profile parameters, by dotted name
    [flow]        files (globs), panel, laip (LAIP id or patient LAIP file), plots,
                  reference (normal-marrow reference: DfN and the integrated call); or
                  strategy (Gating-ML), laip_gate, denominator_gate, disease; several
                  [[flow]] tables (one per panel or patient) are allowed
    [qpcr]        files (globs), min_abl1, curves (stored standard curves), wt1_target,
                  abl1_target
    [clinical]    patients, samples (sample sheet linking results to samples), events
    [outcomes]    index, horizon_years, group
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, MrdquantError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Study", "FlowSpec", "QpcrSpec", "load_study", "sha256_file", "STUDY_FILE"]

#: the file name ``mrdquant run STUDY`` looks for in a study folder
STUDY_FILE = "study.toml"


def sha256_file(path: "str | os.PathLike", *, block: int = 1 << 20) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def _hash_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class FlowSpec:
    """The ``[flow]`` section: how each FCS file is quantified."""

    patterns: tuple[str, ...]
    panel: str
    strategy: Path | None
    laip_gate: str = "LAIP"
    denominator_gate: str = "Singlets"
    disease: str = "ALL"
    panel_id: str = ""
    panel_hash: str = ""
    laip: str | None = None
    plots: bool = True
    reference: Path | None = None


@dataclass(frozen=True)
class QpcrSpec:
    """The ``[qpcr]`` section: how each qPCR export is quantified."""

    patterns: tuple[str, ...]
    min_abl1: float
    curves: Path | None = None
    wt1_target: str = "WT1"
    abl1_target: str = "ABL1"


@dataclass(frozen=True)
class Study:
    """A parsed ``study.toml``.

    Attributes
    ----------
    root : pathlib.Path
        The study folder (relative paths of the file are resolved against it).
    name : str
    profile : mrdquant.profiles.Profile
        The profile with the ``[profile.values]`` overrides applied.
    profile_overrides : dict
        Those overrides, by dotted name.
    results : pathlib.Path
        Results folder (layout in ``docs/pipeline.md``).
    store : str
        Store path or URL (default ``<study>/mrdquant.sqlite``).
    flow : tuple of FlowSpec
        One per ``[flow]`` / ``[[flow]]`` table (empty without flow cytometry).
    qpcr : QpcrSpec or None
    patients, samples, events : pathlib.Path or None
        Clinical tables.
    index : str
        Outcome time origin (:func:`mrdquant.outcomes.build_endpoints` ``index``).
    horizon_years : float
        Time point of the outcome estimates, years from the index date.
    group : str
        Grouping column of the outcome summary.
    """

    root: Path
    name: str
    profile: Any
    profile_overrides: dict
    results: Path
    store: str
    flow: tuple
    qpcr: QpcrSpec | None
    patients: Path | None
    samples: Path | None
    events: Path | None
    index: str = "first_mrd_positive"
    horizon_years: float = 2.0
    group: str = "mrd_status"
    source: Path | None = field(default=None, compare=False)

    # -- inputs ---------------------------------------------------------------------------
    def fcs_files(self) -> list[Path]:
        """The FCS files named by every ``[flow] files`` (sorted, no duplicates)."""
        return [p for _, files in self.fcs_groups() for p in files]

    def fcs_groups(self) -> list[tuple[FlowSpec, list[Path]]]:
        """Each flow table with its FCS files.

        Raises
        ------
        ConfigError
            A file is matched by two flow tables (it would be quantified twice).
        """
        groups, owner = [], {}
        for k, spec in enumerate(self.flow):
            files = self._expand(spec.patterns)
            for f in files:
                if f in owner:
                    raise ConfigError(f"{self.source}: {f} is matched by the files of two [[flow]] tables "
                                      f"(panels {self.flow[owner[f]].panel!r} and {spec.panel!r})")
                owner[f] = k
            groups.append((spec, files))
        return groups

    def qpcr_files(self) -> list[Path]:
        """The qPCR exports named by ``[qpcr] files`` (sorted, no duplicates)."""
        return self._expand(self.qpcr.patterns) if self.qpcr else []

    def clinical_files(self) -> dict[str, Path]:
        """``patients``/``samples``/``events`` paths that are set."""
        return {k: p for k, p in (("patients", self.patients), ("samples", self.samples), ("events", self.events))
                if p is not None}

    def _expand(self, patterns) -> list[Path]:
        found: dict[str, Path] = {}
        for pattern in patterns:
            full = pattern if os.path.isabs(pattern) else str(self.root / pattern)
            for name in glob.glob(full, recursive=True):
                p = Path(name)
                if p.is_file():
                    found[str(p.resolve())] = p.resolve()
        return [found[k] for k in sorted(found)]

    def relative(self, path: Path) -> str:
        """``path`` relative to the study folder when inside it (POSIX separators)."""
        try:
            return Path(path).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return Path(path).resolve().as_posix()

    # -- parameters -----------------------------------------------------------------------
    @property
    def profile_hash(self) -> str:
        """SHA-256 of the profile's id and every parameter (overrides included)."""
        return _hash_json({"id": self.profile.profile_id, "sections": self.profile.sections})

    def flow_parameters(self, f: FlowSpec) -> dict:
        """What a flow result depends on besides the file (hashed into ``params_hash``)."""
        from .._version import __version__

        return {
            "stage": "flow",
            "panel": f.panel_id or f.panel,
            "panel_hash": f.panel_hash,
            "strategy": None if f.strategy is None else self.relative(f.strategy),
            "strategy_sha256": None if f.strategy is None else sha256_file(f.strategy),
            "method": "gating-ml strategy" if f.strategy is not None else "quantify_mfc",
            "laip": f.laip if f.laip is None or not Path(f.laip).is_file() else self.relative(Path(f.laip)),
            "laip_sha256": sha256_file(f.laip) if f.laip is not None and Path(f.laip).is_file() else None,
            "laip_gate": f.laip_gate,
            "denominator_gate": f.denominator_gate,
            "reference": None if f.reference is None else self.relative(f.reference),
            "reference_sha256": None if f.reference is None else sha256_file(f.reference),
            "disease": f.disease,
            "profile_id": self.profile.profile_id,
            "profile_hash": self.profile_hash,
            "mrdquant_version": __version__,
        }

    def qpcr_parameters(self) -> dict:
        """What a qPCR result depends on besides the file (hashed into ``params_hash``)."""
        from .._version import __version__

        q = self.qpcr
        return {
            "stage": "qpcr",
            "min_abl1": q.min_abl1,
            "curves_sha256": None if q.curves is None else sha256_file(q.curves),
            "wt1_target": q.wt1_target,
            "abl1_target": q.abl1_target,
            "profile_id": self.profile.profile_id,
            "profile_hash": self.profile_hash,
            "mrdquant_version": __version__,
        }

    def study_parameters(self) -> dict:
        """Every parameter of the run (flow, qPCR, outcomes), as recorded in ``runs``."""
        from .._version import __version__

        return {
            "flow": [self.flow_parameters(f) for f in self.flow],
            "qpcr": self.qpcr_parameters() if self.qpcr else None,
            "profile_id": self.profile.profile_id,
            "profile_hash": self.profile_hash,
            "profile_overrides": self.profile_overrides,
            "outcomes": {"index": self.index, "horizon_years": self.horizon_years, "group": self.group},
            "mrdquant_version": __version__,
        }

    @staticmethod
    def params_hash(parameters: dict) -> str:
        """SHA-256 of a parameter dict (canonical JSON)."""
        return _hash_json(parameters)


def _section(doc: dict, name: str, where: Path) -> dict:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [{name}] must be a table")
    return value


def _path(root: Path, value: Any, where: Path, key: str, *, must_exist: bool = True) -> Path | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a path string, got {value!r}")
    p = Path(value)
    p = (p if p.is_absolute() else root / p).resolve()
    if must_exist and not p.exists():
        raise ConfigError(f"{where}: {key} = {value!r}: {p} does not exist")
    return p


def _patterns(value: Any, where: Path, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value) and value:
        return tuple(value)
    raise ConfigError(f"{where}: {key} must be a glob string or a list of them, got {value!r}")


_KNOWN = {
    "study": {"name", "profile", "results", "store"},
    "profile": {"values"},
    "flow": {"files", "panel", "strategy", "laip_gate", "denominator_gate", "disease", "laip", "plots",
             "reference"},
    "qpcr": {"files", "min_abl1", "curves", "wt1_target", "abl1_target"},
    "clinical": {"patients", "samples", "events"},
    "outcomes": {"index", "horizon_years", "group"},
}


def load_study(path: "str | os.PathLike", *, store: str | None = None, results: "str | os.PathLike | None" = None,
               ) -> Study:
    """Read a study folder (or its ``study.toml``) into a :class:`Study`.

    Parameters
    ----------
    path : str or os.PathLike
        The study folder, or the path of its ``study.toml``.
    store : str, optional
        Overrides ``[study] store`` (a path or a ``postgresql://`` URL).
    results : path, optional
        Overrides ``[study] results``.

    Raises
    ------
    ConfigError
        Missing file, TOML syntax error, unknown section or key, a missing input path,
        a wrong type; the message names the file and the key.
    """
    from ..profiles import load_profile

    p = Path(path)
    toml_path = p / STUDY_FILE if p.is_dir() else p
    if not toml_path.is_file():
        raise ConfigError(f"{p}: no {STUDY_FILE} found (give a study folder or the path of its {STUDY_FILE})")
    try:
        with open(toml_path, "rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{toml_path}: invalid TOML ({exc})") from exc
    except OSError as exc:
        raise ConfigError(f"{toml_path}: cannot be read ({exc.strerror})") from exc
    root = toml_path.parent.resolve()
    for name, section in doc.items():
        if name not in _KNOWN:
            raise ConfigError(f"{toml_path}: unknown section [{name}]; sections: {sorted(_KNOWN)}")
        for table in section if isinstance(section, list) else [section]:
            unknown = set(table) - _KNOWN[name] if isinstance(table, dict) else set()
            if unknown:
                raise ConfigError(f"{toml_path}: [{name}] unknown key(s) {sorted(unknown)}; "
                                  f"known: {sorted(_KNOWN[name])}")

    s = _section(doc, "study", toml_path)
    prof_value = s.get("profile", "puih_2020")
    prof_dir = root / prof_value if isinstance(prof_value, str) else None
    profile = load_profile(prof_dir if prof_dir is not None and prof_dir.is_dir() else prof_value)
    overrides = _section(_section(doc, "profile", toml_path), "values", toml_path) if "profile" in doc else {}
    for key in overrides:
        try:
            profile.threshold(key)
        except ConfigError as exc:
            raise ConfigError(f"{toml_path}: [profile.values] {key!r}: {exc}") from exc
    if overrides:
        profile = profile.with_values(**{k.replace(".", "__"): v for k, v in overrides.items()})

    flow = []
    tables = doc.get("flow", [])
    for f in tables if isinstance(tables, list) else [tables]:
        if not isinstance(f, dict):
            raise ConfigError(f"{toml_path}: [flow] must be a table or an array of [[flow]] tables")
        if "files" not in f:
            raise ConfigError(f"{toml_path}: [flow] needs files = [\"flow/*.fcs\", ...]")
        from ..mfc.panels import load_panel

        panel_value = str(f.get("panel", "B-ALL"))
        panel_path = root / panel_value
        try:
            panel = load_panel(panel_path if panel_path.is_file() else panel_value)
        except ConfigError as exc:
            raise ConfigError(f"{toml_path}: [flow] panel = {panel_value!r}: {exc}") from exc
        disease = str(f.get("disease", panel.disease))
        if disease not in ("ALL", "AML"):
            raise ConfigError(f"{toml_path}: [flow] disease = {disease!r}; expected \"ALL\" or \"AML\"")
        spec = FlowSpec(
            patterns=_patterns(f["files"], toml_path, "[flow] files"),
            panel=str(panel_path) if panel_path.is_file() else panel_value,
            panel_id=panel.panel_id,
            panel_hash=panel.hash,
            strategy=_path(root, f.get("strategy"), toml_path, "[flow] strategy"),
            laip_gate=str(f.get("laip_gate", "LAIP")),
            denominator_gate=str(f.get("denominator_gate", "Singlets")),
            disease=disease,
        )
        laip = f.get("laip")
        if laip is not None:
            if not isinstance(laip, str) or not laip:
                raise ConfigError(f"{toml_path}: [flow] laip must be a LAIP id of the panel or a patient LAIP file")
            laip_path = root / laip
            if laip_path.is_file():
                laip = str(laip_path.resolve())
            elif not any(lp.id == laip for lp in panel.laips):
                raise ConfigError(f"{toml_path}: [flow] laip = {laip!r}: neither a file nor a LAIP of panel "
                                  f"{panel.panel_id!r} ({[lp.id for lp in panel.laips]})")
            if spec.strategy is not None:
                raise ConfigError(f"{toml_path}: [flow] laip applies to panel gating; with a Gating-ML strategy "
                                  "the LAIP is the strategy's laip_gate")
        plots = f.get("plots", True)
        if not isinstance(plots, bool):
            raise ConfigError(f"{toml_path}: [flow] plots must be true or false, got {plots!r}")
        reference = _path(root, f.get("reference"), toml_path, "[flow] reference")
        if reference is not None:
            if spec.strategy is not None:
                raise ConfigError(f"{toml_path}: [flow] reference applies to panel gating (the DfN call runs in "
                                  "the panel's space); remove strategy or reference")
            from ..mfc.reference import NormalReference

            try:
                NormalReference.load(reference).check_panel(panel, where=str(reference))
            except MrdquantError as exc:
                raise ConfigError(f"{toml_path}: [flow] reference = {f['reference']!r}: {exc}") from exc
        flow.append(dataclasses.replace(spec, laip=laip, plots=plots, reference=reference))

    qpcr = None
    if "qpcr" in doc:
        q = _section(doc, "qpcr", toml_path)
        if "files" not in q:
            raise ConfigError(f"{toml_path}: [qpcr] needs files = [\"qpcr/*.txt\", ...]")
        if "min_abl1" not in q:
            raise ConfigError(f"{toml_path}: [qpcr] needs min_abl1 (minimum mean ABL1 copies; a lab decision)")
        try:
            min_abl1 = float(q["min_abl1"])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{toml_path}: [qpcr] min_abl1 must be a number, got {q['min_abl1']!r}") from exc
        qpcr = QpcrSpec(
            patterns=_patterns(q["files"], toml_path, "[qpcr] files"),
            min_abl1=min_abl1,
            curves=_path(root, q.get("curves"), toml_path, "[qpcr] curves"),
            wt1_target=str(q.get("wt1_target", "WT1")),
            abl1_target=str(q.get("abl1_target", "ABL1")),
        )

    c = _section(doc, "clinical", toml_path)
    o = _section(doc, "outcomes", toml_path)
    try:
        horizon = float(o.get("horizon_years", 2.0))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{toml_path}: [outcomes] horizon_years must be a number") from exc
    store_value = store if store is not None else s.get("store", "mrdquant.sqlite")
    if "://" not in str(store_value):
        store_value = str(_path(root, str(store_value), toml_path, "[study] store", must_exist=False))
    results_path = Path(results) if results is not None else _path(
        root, s.get("results", "results"), toml_path, "[study] results", must_exist=False)
    return Study(
        root=root,
        name=str(s.get("name", root.name)),
        profile=profile,
        profile_overrides=dict(overrides),
        results=Path(results_path).resolve(),
        store=str(store_value),
        flow=tuple(flow),
        qpcr=qpcr,
        patients=_path(root, c.get("patients"), toml_path, "[clinical] patients"),
        samples=_path(root, c.get("samples"), toml_path, "[clinical] samples"),
        events=_path(root, c.get("events"), toml_path, "[clinical] events"),
        index=str(o.get("index", "first_mrd_positive")),
        horizon_years=horizon,
        group=str(o.get("group", "mrd_status")),
        source=toml_path,
    )

"""RDML (Real-time PCR Data Markup Language) files, read with rdmlpython.

Each reaction (well) of each run gives one row per target. Sample types come from the
RDML sample (``unkn``, ``std``, ``ntc``, ``nac``, ``ntp``, ``nrt``, ``pos``, ``opt``);
standards' quantities from the sample's ``quantity`` element. Instruments such as the
StepOne write the last cycle (e.g. ``40.0``) as the Cq of a well that did not amplify:
a Cq at or beyond the run's last recorded cycle is read as no amplification.
"""

from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path

import pandas as pd

from ..errors import QPCRError
from ._qpcr_headers import parse_ct, parse_number
from ._qpcr_table import WELL_COLUMNS, _typed, normalize_well

__all__ = ["read_rdml"]

_RDML_ROLES = {
    "unkn": "unknown",
    "std": "standard",
    "ntc": "ntc",
    "nac": "control",
    "ntp": "control",
    "nrt": "control",
    "pos": "control",
    "opt": "control",
}


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rdmlpython")
    except PackageNotFoundError:  # pragma: no cover
        return "(unknown version)"


_SUPPORTED = ("1.0", "1.1", "1.2", "1.3")


def _rdml_version(path: Path) -> str | None:
    """The ``version`` attribute of the file's ``<rdml>`` root element, if found."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                head = z.open("rdml_data.xml").read(2048)
        else:
            head = path.read_bytes()[:2048]
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    m = re.search(rb"<(?:rdml:)?rdml\b[^>]*\bversion=\"([^\"]+)\"", head)
    return m.group(1).decode("ascii", "replace") if m else None


def read_rdml(path: Path, *, plate: str, last_cycle: float | None = None) -> pd.DataFrame:
    """Read every run of an RDML file into the tidy well table."""
    source = path.name
    try:
        import rdmlpython
    except ImportError as exc:  # pragma: no cover
        raise QPCRError(f"{source}: reading RDML needs the 'rdmlpython' package") from exc
    version = _rdml_version(path)
    try:
        doc = rdmlpython.Rdml(str(path))
    except Exception as exc:
        hint = ""
        if version and version not in _SUPPORTED:
            hint = (
                f"; the file declares RDML version {version}, which rdmlpython "
                f"{_package_version()} does not read (it reads {', '.join(_SUPPORTED)})"
            )
        raise QPCRError(f"{source}: not a readable RDML file ({exc}){hint}") from exc
    samples: dict[str, tuple[str, float]] = {}
    for s in doc.samples():
        info = s.tojson()
        types = info.get("types") or [{}]
        code = str(types[0].get("type", "unkn")).casefold()
        role = _RDML_ROLES.get(code)
        if role is None:
            raise QPCRError(f"{source}: sample {info.get('id')!r} has unknown RDML type {code!r}")
        quantity = math.nan
        for q in info.get("quantitys") or []:
            quantity = parse_number(q.get("value"))
            break
        samples[str(info.get("id"))] = (role, quantity)
    out: dict[str, list] = {c: [] for c in WELL_COLUMNS}
    runs = [(e, r) for e in doc.experiments() for r in e.runs()]
    if not runs:
        raise QPCRError(f"{source}: RDML file holds no experiment run")
    for experiment, run in runs:
        run_id = f"{experiment['id']}/{run['id']}" if len(runs) > 1 else plate
        data = run.getreactjson()
        cycle_max = parse_number(data.get("adp_cyc_max"))
        limit = last_cycle if last_cycle is not None else (cycle_max if cycle_max > 0 else None)
        for react in data.get("reacts", []):
            sample = str(react.get("sample", ""))
            role, quantity = samples.get(sample, ("unknown", math.nan))
            for d in react.get("datas", []):
                ct, flag = parse_ct(d.get("cq", ""))
                flags = [flag] if flag else []
                if flag == "unparseable":
                    raise QPCRError(f"{source}: well {react.get('id')} has Cq {d.get('cq')!r}, not a number")
                if ct is not None and limit is not None and math.isfinite(ct) and ct >= limit:
                    ct, flags = math.nan, ["cq_at_last_cycle"]
                if ct == -1.0:  # rdmlpython writes -1 for "no Cq"
                    ct, flags = math.nan, ["undetermined"]
                out["plate"].append(run_id)
                out["well"].append(normalize_well(react.get("id", "")))
                out["sample"].append(sample)
                out["target"].append(str(d.get("tar", "")))
                out["role"].append(role)
                out["ct"].append(ct)
                out["quantity"].append(quantity if role == "standard" else math.nan)
                out["flags"].append(";".join(flags))
                out["source_file"].append(source)
    df = _typed(pd.DataFrame(out))
    if df.empty:
        raise QPCRError(f"{source}: RDML file holds no reactions with data")
    return df

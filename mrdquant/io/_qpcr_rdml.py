"""RDML (Real-time PCR Data Markup Language) files, read with rdmlpython.

Each reaction (well) of each run gives one row per target. Sample types come from the
RDML sample (``unkn``, ``std``, ``ntc``, ``nac``, ``ntp``, ``nrt``, ``pos``, ``opt``; the
code is kept in the ``task`` column, and the four negative-control types are role ``ntc``);
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
from ._qpcr_table import WELL_COLUMNS, _cycle_limit, _typed, normalize_well

__all__ = ["read_rdml"]

#: RDML sample type -> well role. ``ntp`` (no template), ``nac`` (no amplification) and
#: ``nrt`` (no reverse transcription) are negative controls that must not amplify: they go
#: through the same check as NTCs. The RDML code itself is kept in the ``task`` column.
_RDML_ROLES = {
    "unkn": "unknown",
    "std": "standard",
    "ntc": "ntc",
    "ntp": "ntc",
    "nac": "ntc",
    "nrt": "ntc",
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


def _rdml_xml(path: Path) -> tuple[bytes, str]:
    """The RDML XML of a file: ``(bytes, name)``; a zipped file may name its XML as it likes.

    RDML files are usually zip archives holding ``rdml_data.xml``, but instruments (Bio-Rad
    CFX) name that entry after the run; the single XML entry is read whatever its name.
    """
    source = path.name
    try:
        if not zipfile.is_zipfile(path):
            return path.read_bytes(), source
        with zipfile.ZipFile(path) as z:
            names = [i.filename for i in z.infolist() if not i.is_dir()]
            if "rdml_data.xml" in names:
                entry = "rdml_data.xml"
            else:
                xml = [n for n in names if n.casefold().endswith((".xml", ".rdml"))] or names
                if len(xml) != 1:
                    raise QPCRError(
                        f"{source}: zipped RDML file holds {len(xml)} candidate XML entries "
                        f"({', '.join(xml) or 'none'}); expected rdml_data.xml or a single XML file"
                    )
                entry = xml[0]
            return z.read(entry), f"{source}:{entry}"
    except QPCRError:
        raise
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, ValueError, EOFError,
            NotImplementedError) as exc:  # zlib.error is an Exception subclass: caught below
        raise QPCRError(f"{source}: cannot read the RDML archive ({exc})") from exc
    except Exception as exc:  # zlib.error, struct.error on a damaged archive
        raise QPCRError(f"{source}: cannot read the RDML archive ({type(exc).__name__}: {exc})") from exc


def _rdml_version(xml: bytes) -> str | None:
    """The ``version`` attribute of the file's ``<rdml>`` root element, if found."""
    m = re.search(rb"<(?:rdml:)?rdml\b[^>]*\bversion=[\"']([^\"']+)[\"']", xml[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


def _decode_xml(xml: bytes, *, source: str) -> str:
    m = re.match(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']", xml)
    encoding = m.group(1).decode("ascii") if m else "utf-8"
    try:
        return xml.decode("utf-8-sig" if encoding.casefold().replace("_", "-") in ("utf-8", "utf8") else encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise QPCRError(f"{source}: RDML XML is not valid {encoding} text ({exc})") from exc


def read_rdml(
    path: Path, *, plate: str, last_cycle: float | None = None, cycles: float | None = None
) -> pd.DataFrame:
    """Read every run of an RDML file into the tidy well table."""
    source = path.name
    try:
        import rdmlpython
    except ImportError as exc:  # pragma: no cover
        raise QPCRError(f"{source}: reading RDML needs the 'rdmlpython' package") from exc
    xml, entry = _rdml_xml(path)
    version = _rdml_version(xml)
    text = _decode_xml(xml, source=entry)
    try:
        doc = rdmlpython.Rdml()
        doc.loadXMLString(text)
    except Exception as exc:
        hint = ""
        if version and version not in _SUPPORTED:
            hint = (
                f"; the file declares RDML version {version}, which rdmlpython "
                f"{_package_version()} does not read (it reads {', '.join(_SUPPORTED)})"
            )
        raise QPCRError(f"{source}: not a readable RDML file ({exc}){hint}") from exc
    try:
        return _wells(doc, source=source, plate=plate, last_cycle=last_cycle, cycles=cycles)
    except QPCRError:
        raise
    except Exception as exc:  # rdmlpython on a document that is XML but not consistent RDML
        raise QPCRError(f"{source}: RDML content cannot be read ({type(exc).__name__}: {exc})") from exc


def _wells(doc, *, source: str, plate: str, last_cycle: float | None, cycles: float | None) -> pd.DataFrame:
    samples: dict[str, tuple[str, float, str]] = {}
    for s in doc.samples():
        info = s.tojson()
        types = info.get("types") or [{}]
        code = str(types[0].get("type", "unkn")).strip().casefold()
        role = _RDML_ROLES.get(code)
        if role is None:
            raise QPCRError(
                f"{source}: sample {info.get('id')!r} has unknown RDML type {code!r}; "
                f"expected one of {', '.join(_RDML_ROLES)}"
            )
        quantity = math.nan
        for q in info.get("quantitys") or []:
            quantity = parse_number(q.get("value"))
            break
        samples[str(info.get("id"))] = (role, quantity, code)
    out: dict[str, list] = {c: [] for c in WELL_COLUMNS}
    runs = [(e, r) for e in doc.experiments() for r in e.runs()]
    if not runs:
        raise QPCRError(f"{source}: RDML file holds no experiment run")
    for experiment, run in runs:
        run_id = f"{experiment['id']}/{run['id']}" if len(runs) > 1 else plate
        data = run.getreactjson()
        cycle_max = parse_number(data.get("adp_cyc_max"))
        run_cycles = cycles if cycles is not None else (cycle_max if cycle_max > 0 else None)
        limit, basis = _cycle_limit(
            run_cycles,
            f"cycles={cycles:g} given" if cycles is not None else f"run {run_id}'s amplification data end at cycle {run_cycles:g}"
            if run_cycles is not None else None,
        )
        stop = last_cycle if last_cycle is not None else (cycle_max if cycle_max > 0 else None)
        for react in data.get("reacts", []):
            sample = str(react.get("sample", ""))
            role, quantity, code = samples.get(sample, ("unknown", math.nan, ""))
            well = normalize_well(react.get("id", ""))
            for d in react.get("datas", []):
                ct, flag = parse_ct(d.get("cq", ""))
                flags = [flag] if flag else []
                if flag == "unparseable":
                    raise QPCRError(f"{source}: well {well} has Cq {d.get('cq')!r}, not a number")
                if ct == -1.0:  # rdmlpython writes -1 for "no Cq"
                    ct, flags = math.nan, ["undetermined"]
                if math.isfinite(ct) and not 0 < ct <= limit:
                    raise QPCRError(
                        f"{source}: well {well} (target {d.get('tar', '')!r}): Cq {d.get('cq')!r} is outside the "
                        f"run's cycle range 0 < Cq <= {limit:g} ({basis}); a Cq is a cycle number of the run"
                    )
                if stop is not None and math.isfinite(ct) and ct >= stop:
                    ct, flags = math.nan, ["cq_at_last_cycle"]
                out["plate"].append(run_id)
                out["well"].append(well)
                out["sample"].append(sample)
                out["target"].append(str(d.get("tar", "")))
                out["role"].append(role)
                out["ct"].append(ct)
                out["quantity"].append(quantity if role == "standard" else math.nan)
                out["flags"].append(";".join(flags))
                out["source_file"].append(source)
                out["task"].append(code)
    df = _typed(pd.DataFrame(out))
    if df.empty:
        raise QPCRError(f"{source}: RDML file holds no reactions with data")
    return df

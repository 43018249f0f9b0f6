"""Static HTML reports of a results folder: one study report, one report per patient.

:func:`write_reports` reads only the results-folder layout written by ``mrdquant run`` /
``mrdquant demo`` (every part optional)::

    <results>/flow/mfc_results.csv|parquet (or mfc_mrd.csv), gate_counts.csv, plots/<sample_id>.png
    <results>/qpcr/wells.csv, wt1_results.csv, amplification.csv (optional)
    <results>/calls/samples.csv, patients.csv, profile.csv
    <results>/outcomes/endpoints.csv, estimates.csv, tests.csv, cox_univariate.csv, results.txt
    <results>/trial/endpoints.csv, estimates.csv, tests.csv, results.txt
    <results>/run.json

and writes ``<out>/study.html``, ``<out>/patients/<patient_id>.html``, the figures as files
(``<out>/figures/``: PNG at 300 dpi; survival figures also SVG and PDF) and an Excel
workbook of the main tables (``<out>/tables.xlsx``). Each HTML file is self-contained: its
figures are embedded (base64), it loads nothing from a server or the network. The pages
are rendered from Jinja2 templates (``mrdquant/report/templates/``) with autoescaping on.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._version import __version__
from ..errors import InputError, MrdquantError
from ..io.store import atomic_path, read_table, write_text
from .figures import group_colors, save_figure
from .tables import HumanTable, human_table, write_workbook

__all__ = ["write_reports", "load_results", "Results"]

_DAYS_PER_MONTH = 365.25 / 12


@dataclass
class Results:
    """The tables of a results folder (each ``None`` when absent)."""

    root: Path
    tables: dict = field(default_factory=dict)
    texts: dict = field(default_factory=dict)
    run: dict = field(default_factory=dict)
    gating_pages: dict = field(default_factory=dict)
    #: DfN population figures (``flow/plots/<file stem>_dfn.png``) by file stem
    dfn_pages: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    def get(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)


_TABLE_FILES = {
    "mfc": ("flow/mfc_results", "flow/mfc_mrd"),
    "gate_counts": ("flow/gate_counts",),
    "wells": ("qpcr/wells",),
    "wt1": ("qpcr/wt1_results",),
    "amplification": ("qpcr/amplification",),
    "samples": ("calls/samples",),
    "events": ("calls/events",),
    "patients": ("calls/patients",),
    "profile": ("calls/profile",),
    "endpoints": ("outcomes/endpoints",),
    "estimates": ("outcomes/estimates",),
    "tests": ("outcomes/tests",),
    "cox": ("outcomes/cox_univariate",),
    "trial_endpoints": ("trial/endpoints",),
    "trial_estimates": ("trial/estimates",),
    "trial_tests": ("trial/tests",),
}


def load_results(results_dir: "str | os.PathLike") -> Results:
    """Read every table of a results folder that exists (Parquet preferred over CSV).

    A table that cannot be read is recorded in ``problems`` and left out; the rest load.

    Raises
    ------
    InputError
        ``results_dir`` is not a folder.
    """
    root = Path(results_dir)
    if not root.is_dir():
        raise InputError(f"{root}: not a results folder (expected a folder written by mrdquant run or demo)")
    res = Results(root)
    for name, stems in _TABLE_FILES.items():
        for stem in stems:
            found = [root / f"{stem}{suffix}" for suffix in (".parquet", ".csv") if (root / f"{stem}{suffix}").is_file()]
            if found:
                try:
                    res.tables[name] = read_table(found[0])
                except InputError as exc:
                    res.problems.append(str(exc))
                break
    for name in ("outcomes/results.txt", "trial/results.txt"):
        if (root / name).is_file():
            res.texts[name.split("/")[0]] = (root / name).read_text(encoding="utf-8").strip()
    run_json = root / "run.json"
    if run_json.is_file():
        try:
            res.run = json.loads(run_json.read_text(encoding="utf-8"))
        except ValueError as exc:
            res.problems.append(f"{run_json}: not valid JSON ({exc})")
    plots = root / "flow" / "plots"
    if plots.is_dir():
        from ..mfc.dfn_plots import DFN_PAGE_SUFFIX

        for p in sorted(plots.glob("*.png")):
            if p.stem.endswith(DFN_PAGE_SUFFIX):  # a DfN populations figure, not a gating page
                res.dfn_pages[p.stem[: -len(DFN_PAGE_SUFFIX)]] = p
                continue
            res.gating_pages[p.stem] = p
            # "<file>.fcs.png" also answers to the sample id without the suffix
            if Path(p.stem).suffix.lower() in (".fcs", ".lmd"):
                res.gating_pages.setdefault(Path(p.stem).stem, p)
    return res


# ----------------------------------------------------------------------------- figures


@dataclass
class _Figure:
    title: str
    caption: str
    png: Path
    alternates: list = field(default_factory=list)  # (label, relative path)
    data_uri: str = ""
    kind: str = ""


def _embed(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _close(fig) -> None:
    try:
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # pragma: no cover - figure without pyplot manager
        pass


class _FigureWriter:
    def __init__(self, out: Path):
        self.out = out
        self.dir = out / "figures"
        self.problems: list[str] = []

    def add(self, name: str, title: str, caption: str, draw, *, vector: bool = False, kind: str = "",
            dpi: int = 300) -> _Figure | None:
        """Draw a figure; a failure is recorded and the report goes on without it."""
        target = self.dir / f"{name}.png"
        try:
            fig = draw()
            save_figure(fig, target, dpi=dpi)
            alts = []
            if vector:
                for suffix in (".svg", ".pdf"):
                    save_figure(fig, target.with_suffix(suffix))
                    alts.append((suffix[1:].upper(), f"figures/{name}{suffix}"))
            _close(fig)
        except (MrdquantError, ValueError, KeyError, OSError) as exc:
            self.problems.append(f"figure {name}: {type(exc).__name__}: {exc}")
            return None
        return _Figure(title, caption, target, alts, _embed(target), kind)


def _levels(values: pd.Series) -> list[str]:
    return sorted(str(v) for v in values.dropna().unique())


def _index_of(endpoints: pd.DataFrame, run: dict, trial: bool) -> str:
    from .survival_plots import index_label

    if run.get("index"):
        return index_label(str(run["index"]))
    if trial:
        return index_label("randomization")
    col = "first_mrd_positive_days"
    if col in endpoints.columns and pd.to_numeric(endpoints[col], errors="coerce").fillna(0).eq(0).all():
        return index_label("first_mrd_positive")
    return index_label("hsct")


def _survival_figures(fw: _FigureWriter, endpoints, estimates, group_col, colors, prefix, index, plan):
    from .survival_plots import plot_cif, plot_km

    figs = []
    at_days = None
    if estimates is not None and len(estimates) and "time_days" in estimates.columns:
        at_days = float(estimates["time_days"].iloc[0])
    horizon = {}
    if at_days is not None and np.isfinite(at_days):
        years = at_days / 365.25
        horizon = {"horizon": at_days / _DAYS_PER_MONTH,
                   "horizon_label": f"At {years:g} year{'s' if abs(years - 1) > 1e-9 else ''}"}
    for kind, ep, title in plan:
        if f"{ep}_months" not in endpoints.columns or f"{ep}_event" not in endpoints.columns:
            continue
        sub = endpoints[endpoints[f"{ep}_event"].notna() & endpoints[f"{ep}_months"].notna()]
        if group_col is not None:
            sub = sub[sub[group_col].notna()]
        if sub.empty:
            continue
        groups = sub[group_col].astype(str) if group_col is not None else None
        plot = plot_cif if kind == "cif" else plot_km
        what = "Aalen–Johansen cumulative incidence; competing events accounted for" if kind == "cif" \
            else "Kaplan–Meier estimate"

        def draw(sub=sub, groups=groups, plot=plot, ep=ep, title=title):
            return plot(sub[f"{ep}_months"].to_numpy(float), sub[f"{ep}_event"].astype(int).to_numpy(), groups,
                        xlabel=f"Months from {index}", title=title, colors=colors, **horizon)

        f = fw.add(f"{prefix}{kind}_{ep}", title,
                   f"{what}, 95% pointwise CI shaded, | = censored; numbers at risk below.", draw, vector=True,
                   kind="survival")
        if f:
            figs.append(f)
    return figs


def _qpcr_figures(fw: _FigureWriter, wells: pd.DataFrame | None, amplification: pd.DataFrame | None):
    from .qpcr_plots import plot_amplification, plot_plate_ct, plot_standard_curve

    figs = []
    if wells is None or wells.empty:
        return figs
    wells = wells.copy()
    wells["flags"] = wells["flags"].fillna("").astype(str)
    for col in ("plate", "well", "sample", "target", "role"):
        wells[col] = wells[col].fillna("").astype(str)
    for plate in dict.fromkeys(wells["plate"]):
        part = wells[wells["plate"] == plate]
        safe = _safe(plate)
        for target in dict.fromkeys(part["target"]):
            if ((part["role"] == "standard") & (part["target"] == target)).any():
                f = fw.add(f"qpcr_{safe}_{_safe(target)}_standard_curve", f"{target} standard curve, plate {plate}",
                           "Standards (log10 copies per reaction vs Ct), least-squares fit; grey band: slopes "
                           "accepted (efficiency 90–110 %).",
                           lambda part=part, target=target, plate=plate: plot_standard_curve(part, target, plate=plate),
                           kind="qpcr")
                if f:
                    figs.append(f)
        f = fw.add(f"qpcr_{safe}_ct", f"Ct of every well, plate {plate}",
                   "Ct by target and role; wells without amplification on the 'no Ct' row; amplified NTCs and "
                   "excluded replicates marked ✕ and listed.",
                   lambda part=part, plate=plate: plot_plate_ct(part, plate=plate), kind="qpcr")
        if f:
            figs.append(f)
        if amplification is not None and (amplification["plate"].astype(str) == plate).any():
            f = fw.add(f"qpcr_{safe}_amplification", f"Amplification curves, plate {plate}",
                       "Fluorescence per cycle of every reaction, coloured by role.",
                       lambda plate=plate: plot_amplification(amplification, plate=plate), kind="qpcr")
            if f:
                figs.append(f)
    return figs


def _safe(name) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))


# ----------------------------------------------------------------------------- patients


def _clinical_dates(res: Results) -> pd.DataFrame | None:
    """Patients with HSCT, intervention and, from the endpoints, relapse and death dates."""
    pts = res.get("patients")
    if pts is None or "hsct_date" not in pts.columns:
        return None
    pts = pts.copy()
    ep = res.get("endpoints")
    if ep is not None and "diagnosis" in ep.columns and "diagnosis" not in pts.columns:
        pts["diagnosis"] = pts["patient_id"].astype(str).map(dict(zip(ep["patient_id"].astype(str), ep["diagnosis"])))
    if ep is not None and "index_date" in ep.columns:
        e = ep.set_index(ep["patient_id"].astype(str))
        index = pd.to_datetime(e["index_date"], errors="coerce")
        for name, event_col, days_col, code in (("relapse_date", "relapse_event", "relapse_days", 1),
                                                ("death_date", "os_event", "os_days", 1)):
            if name in pts.columns or event_col not in e.columns or days_col not in e.columns:
                continue
            events = res.get("events")
            if events is not None and "event" in events.columns and (events["event"] == name[:-5]).any():
                continue  # the events table has them
            when = index + pd.to_timedelta(pd.to_numeric(e[days_col], errors="coerce"), unit="D")
            when = when.where(pd.to_numeric(e[event_col], errors="coerce") == code)
            pts[name] = pts["patient_id"].astype(str).map(when)
    return pts


class _Kinetics:
    """Patients and called samples read once; one chart per patient."""

    def __init__(self, pts, samples, timelines, profile, events=None):
        from ..calls.rules import timeline_rules
        from ..calls.sample import _call
        from ..io.clinical import read_patients, read_samples
        from ..profiles import load_profile

        keep = [c for c in ("patient_id", "hsct_date", "diagnosis", "intervention", "intervention_date",
                            "relapse_date", "death_date", "agvhd_date", "cgvhd_date") if c in pts.columns]
        smp_cols = [c for c in ("patient_id", "sample_id", "date", "specimen", "mfc", "wt1", "mfc_pct", "wt1_pct")
                    if c in samples.columns]
        self.prof = load_profile(profile)
        self.rules = timeline_rules(self.prof)
        self.pts = read_patients(pts[keep])
        self.called = _call(read_samples(samples[smp_cols], self.pts), self.rules)
        self.timelines = timelines
        self.events = None
        if events is not None and {"patient_id", "event", "date"} <= set(events.columns):
            from ..io.clinical import read_events

            # interventions are drawn from the patients table already
            ev = events[events["event"].astype(str) != "intervention"][["patient_id", "event", "date"]]
            if len(ev):
                self.events = read_events(ev, self.pts)

    def figure(self, fw: _FigureWriter, pid: str):
        from .kinetics import _plot, _timeline_row

        return fw.add(
            f"kinetics_{_safe(pid)}", f"MRD kinetics of {pid}",
            "MFC (left axis) and WT1 (right axis) over days after HSCT; filled = positive, hollow = measured but "
            "not positive; strip below: results without a value. Dashed lines: positivity thresholds with source.",
            lambda: _plot(pid, self.pts, self.called, self.rules, self.prof, self.events, None, None,
                          _timeline_row(self.timelines, pid)),
            kind="kinetics", dpi=150,
        )


def _match_samples(sample_ids, table: pd.DataFrame | None, columns=("sample_id", "sample")) -> pd.DataFrame | None:
    if table is None:
        return None
    for col in columns:
        if col in table.columns:
            keys = table[col].astype(str)
            stems = keys.map(lambda s: Path(s).stem)
            ids = set(map(str, sample_ids))
            hit = table[keys.isin(ids) | stems.isin(ids)]
            return hit
    return None


# ----------------------------------------------------------------------------- rendering


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("mrdquant.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _table_view(t: HumanTable | None, *, max_rows: int | None = None):
    if t is None:
        return None
    frame = t.frame if max_rows is None else t.frame.head(max_rows)
    return {
        "title": t.title,
        "columns": list(frame.columns),
        "rows": [[{"v": v, "cls": _cell_class(v)} for v in row] for row in frame.values.tolist()],
        "n_rows": len(t.frame),
        "shown": len(frame),
        "legend": t.legend,
        "provenance": t.provenance,
    }


_NUMERIC = re.compile(r"^(< )?-?\d[\d.]*$")
_CALL_CLASSES = {"positive": "call-positive", "MRDco+": "call-positive", "MRDsin+": "call-positive",
                 "negative": "call-negative", "not evaluable": "call-not-evaluable"}


def _cell_class(v) -> str:
    text = str(v)
    if text in _CALL_CLASSES:
        return _CALL_CLASSES[text]
    if _NUMERIC.match(text):
        return "num"
    return "text" if len(text) > 28 else ""


def _safe_human(df, kind, problems):
    if df is None:
        return None
    try:
        return human_table(df, kind)
    except (KeyError, ValueError, TypeError) as exc:
        problems.append(f"table {kind}: {type(exc).__name__}: {exc}")
        return None


def _counts(df: pd.DataFrame | None, col: str) -> list[tuple[str, int]]:
    if df is None or col not in df.columns:
        return []
    vc = df[col].fillna("(none)").astype(str).value_counts()
    return [(str(k), int(v)) for k, v in vc.items()]


def _flat(value) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=1, ensure_ascii=False, default=str)
    return str(value)


def _run_provenance(res: Results) -> dict:
    """run.json once per run: study, run, version, store, profile (with overrides), parameters."""
    prov: dict[str, str] = {}
    for key in ("study", "study_path", "run_id", "mrdquant_version", "version", "store", "params_hash",
                "clinical_sha256", "command", "started", "finished", "index"):
        if key in res.run and res.run[key] not in (None, ""):
            prov[key.replace("_", " ")] = _flat(res.run[key])
    profile = res.run.get("profile")
    if isinstance(profile, dict):
        prov["profile"] = f"{profile.get('id', '')} (sha256 {str(profile.get('hash', ''))[:16]}…)"
        if profile.get("overrides"):
            prov["profile overrides"] = _flat(profile["overrides"])
    elif profile:
        prov["profile"] = str(profile)
    params = res.run.get("parameters")
    if isinstance(params, dict):
        for k, v in params.items():
            if k not in ("mrdquant_version", "profile_id", "profile_hash", "profile_overrides"):
                prov[f"parameters: {k}"] = _flat(v)
    if res.run.get("failures"):
        prov["failures"] = _flat(res.run["failures"])
    prov["report written by"] = f"mrdquant {__version__}"
    return prov


def _inputs(res: Results) -> list[dict]:
    items = res.run.get("inputs") or []
    out = []
    for it in items:
        if isinstance(it, dict):
            out.append({"path": str(it.get("path", it.get("file", ""))), "sha256": str(it.get("sha256", "")),
                        "kind": str(it.get("kind", "")), "status": str(it.get("status", ""))})
        else:
            out.append({"path": str(it), "sha256": "", "kind": "", "status": ""})
    return out


def write_reports(results_dir: "str | os.PathLike", out_dir: "str | os.PathLike | None" = None) -> list[Path]:
    """Write the study report and one report per patient from a results folder.

    Parameters
    ----------
    results_dir : path
        A folder written by ``mrdquant run`` / ``mrdquant demo`` (layout in the module
        docstring); missing parts are left out of the reports.
    out_dir : path, optional
        Default ``<results_dir>/report``.

    Returns
    -------
    list of Path
        ``study.html`` first, then the patient reports (``patients/<patient_id>.html``),
        then ``tables.xlsx`` and the figure files.

    Raises
    ------
    InputError
        ``results_dir`` is not a folder, or holds no results at all.

    Notes
    -----
    A figure or table that cannot be made is listed under "Problems" in the study report
    and the rest is still written. Files are written atomically.
    """
    res = load_results(results_dir)
    _check_writable(Path(out_dir) if out_dir is not None else res.root / "report")
    if not (res.tables or res.texts or res.run or res.gating_pages):
        raise InputError(
            f"{res.root}: no results found (expected flow/, qpcr/, calls/, outcomes/ or run.json "
            "as written by mrdquant run or demo)" + ("; " + "; ".join(res.problems) if res.problems else "")
        )
    out = Path(out_dir) if out_dir is not None else res.root / "report"
    fw = _FigureWriter(out)
    problems = list(res.problems)
    profile_id = _profile_id(res)

    # colours fixed per group for the whole study (MRD statuses and trial arms)
    groups: list[str] = []
    for name, col in (("patients", "status"), ("endpoints", "mrd_status"), ("trial_endpoints", "arm")):
        df = res.get(name)
        if df is not None and col in df.columns:
            groups += _levels(df[col])
    colors = group_colors(groups)

    ht = {kind: _safe_human(res.get(name), kind, problems) for name, kind in (
        ("mfc", "mfc"), ("gate_counts", "gate_counts"), ("wt1", "wt1"), ("samples", "samples"),
        ("patients", "patients"), ("estimates", "estimates"), ("tests", "tests"), ("cox", "cox"),
    )}
    trial_ht = {kind: _safe_human(res.get(f"trial_{kind}"), kind, problems) for kind in ("estimates", "tests")}

    qpcr_figs = _qpcr_figures(fw, res.get("wells"), res.get("amplification"))
    outcome_figs, trial_figs = [], []
    ep = res.get("endpoints")
    if ep is not None:
        group_col = next((c for c in ("mrd_status", "status", "group") if c in ep.columns), None)
        outcome_figs = _survival_figures(
            fw, ep, res.get("estimates"), group_col, colors, "", _index_of(ep, res.run, False),
            [("cif", "relapse", "Cumulative incidence of relapse"), ("cif", "nrm", "Non-relapse mortality"),
             ("km", "dfs", "Disease-free survival"), ("km", "os", "Overall survival")])
    tep = res.get("trial_endpoints")
    if tep is not None:
        trial_figs = _survival_figures(
            fw, tep, res.get("trial_estimates"), "arm" if "arm" in tep.columns else None, colors, "trial_",
            _index_of(tep, res.run, True),
            [("cif", "relapse", "Cumulative incidence of relapse"), ("km", "dfs", "Leukemia-free survival"),
             ("km", "os", "Overall survival")])

    # patient reports
    env = _environment()
    patient_links = []
    written: list[Path] = []
    pts = _clinical_dates(res)
    samples = res.get("samples")
    timelines = res.get("patients")
    patient_pages = []
    kinetics = None
    if pts is not None and samples is not None:
        try:
            kinetics = _Kinetics(pts, samples, timelines, _profile(res), res.get("events"))
        except MrdquantError as exc:
            problems.append(f"kinetics charts: {exc}")
    if timelines is not None and "patient_id" in timelines.columns:
        for row in timelines.to_dict("records"):
            pid = str(row["patient_id"])
            mine = samples[samples["patient_id"].astype(str) == pid] if samples is not None and "patient_id" in samples.columns else None
            kin = None
            if kinetics is not None and mine is not None and len(mine):
                kin = kinetics.figure(fw, pid)
            sample_ids = mine["sample_id"].astype(str).tolist() if mine is not None and "sample_id" in mine.columns else []
            gating = []
            for sid in sample_ids:
                page = res.gating_pages.get(sid) or res.gating_pages.get(Path(sid).stem)
                if page is not None:
                    wsp = page.with_suffix(".wsp")
                    dfn = res.dfn_pages.get(page.stem)
                    gating.append({"sample_id": sid, "data_uri": _embed(page), "file": str(page),
                                   "wsp": (Path(os.path.relpath(wsp, out / "patients")).as_posix() if wsp.is_file()
                                           else None),
                                   "dfn_uri": _embed(dfn) if dfn is not None else None})
            mfc_rows = _table_view(_safe_human(_match_samples(sample_ids, res.get("mfc")), "mfc", problems))
            wt1_rows = _table_view(_safe_human(_match_samples(sample_ids, res.get("wt1"), ("sample_id", "sample")),
                                               "wt1", problems))
            sample_view = _table_view(_safe_human(mine, "samples", problems)) if mine is not None else None
            patient_pages.append({
                "pid": pid, "row": {k: ("" if _is_missing(v) else v) for k, v in row.items()}, "kinetics": kin,
                "gating": gating, "samples": sample_view, "mfc": mfc_rows, "wt1": wt1_rows,
            })
            patient_links.append({"pid": pid, "status": str(row.get("status", "")),
                                  "href": f"patients/{_safe(pid)}.html"})
    problems += fw.problems

    generated = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    common = {"version": __version__, "generated": generated, "profile_id": profile_id,
              "results_dir": str(res.root)}
    for page in patient_pages:
        html = env.get_template("patient.html.j2").render(**common, p=page, colors=colors)
        target = out / "patients" / f"{_safe(page['pid'])}.html"
        write_text(html, target)
        written.append(target)

    shown_pages = {g["file"] for page in patient_pages for g in page["gating"]}

    # the Excel workbook of the main tables
    book_tables = {name: t for name, t in (
        ("MFC", ht["mfc"]), ("WT1", ht["wt1"]), ("Samples", ht["samples"]), ("Timelines", ht["patients"]),
        ("Estimates", ht["estimates"]), ("Tests", ht["tests"]), ("Cox", ht["cox"]),
        ("Trial estimates", trial_ht["estimates"]), ("Trial tests", trial_ht["tests"]),
    ) if t is not None}
    workbook = None
    if book_tables:
        workbook = write_workbook(book_tables, out / "tables.xlsx", run_provenance=_run_provenance(res))

    study = env.get_template("study.html.j2").render(
        **common,
        run=_run_provenance(res),
        inputs=_inputs(res),
        problems=problems,
        mfc=_table_view(ht["mfc"]),
        gate_counts=_table_view(ht["gate_counts"]),
        # a tube's gating page is shown in its patient's report; here only the pages no
        # patient report shows (files the sample sheet does not link), so the study report
        # stays small however many tubes a study has
        gating=[{"sample_id": v.stem, "data_uri": _embed(v)} for v in dict.fromkeys(res.gating_pages.values())
                if str(v) not in shown_pages],
        gating_in_patients=len(shown_pages),
        wt1=_table_view(ht["wt1"]),
        qpcr_figs=qpcr_figs,
        amplification_note=res.get("amplification") is None and res.get("wells") is not None,
        sample_counts=_counts(samples, "mrd"),
        status_counts=_counts(timelines, "status"),
        samples=_table_view(ht["samples"], max_rows=40),
        timelines=_table_view(ht["patients"]),
        patients=patient_links,
        outcomes_text=res.texts.get("outcomes", ""),
        estimates=_table_view(ht["estimates"]),
        tests=_table_view(ht["tests"]),
        cox=_table_view(ht["cox"]),
        outcome_figs=outcome_figs,
        trial_text=res.texts.get("trial", ""),
        trial_estimates=_table_view(trial_ht["estimates"]),
        trial_tests=_table_view(trial_ht["tests"]),
        trial_figs=trial_figs,
        profile=_profile_view(res.get("profile")),
        workbook="tables.xlsx" if workbook is not None else "",
        colors=colors,
    )
    study_path = write_text(study, out / "study.html")
    figures = sorted(fw.dir.glob("*")) if fw.dir.is_dir() else []
    return [study_path, *written, *([workbook] if workbook is not None else []), *figures]


def _check_writable(out: Path) -> None:
    """Refuse an output folder that cannot be made, before any work is done."""
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK):
        raise InputError(f"{out}: cannot write the report there ({probe} is not a writable folder)")


def _is_missing(v) -> bool:
    try:
        return v is None or (isinstance(v, float) and math.isnan(v)) or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _profile_id(res: Results) -> str:
    prof = res.run.get("profile")
    if isinstance(prof, dict) and prof.get("id"):
        return str(prof["id"])
    if isinstance(prof, str) and prof:
        return prof
    table = res.get("profile")
    if table is not None and "profile_id" in table.columns and len(table):
        return str(table["profile_id"].iloc[0])
    return "puih_2020"


def _profile(res: Results):
    """The run's profile with the run's overrides applied (run.json ``profile.overrides``)."""
    from ..profiles import load_profile

    prof = load_profile(_profile_id(res))
    overrides = res.run.get("profile", {}).get("overrides") if isinstance(res.run.get("profile"), dict) else None
    if overrides:
        prof = prof.with_values(**{str(k).replace(".", "__"): v for k, v in overrides.items()})
    return prof


def _profile_view(prof: pd.DataFrame | None):
    if prof is None or prof.empty:
        return None
    cols = [c for c in ("parameter", "value", "unit", "source", "reason") if c in prof.columns]
    rows = prof[cols].astype(object).where(prof[cols].notna(), "").values.tolist()
    return {"columns": [c.capitalize() for c in cols], "rows": rows,
            "profile_id": str(prof["profile_id"].iloc[0]) if "profile_id" in prof.columns else ""}

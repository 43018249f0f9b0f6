"""``run_study``: every input of a study through flow -> qPCR -> sample calls -> timelines
-> outcomes -> results folder, with a results store that remembers what was done.

- Each FCS file and qPCR export is one *input*, identified by its path in the study, its
  SHA-256 and the hash of the parameters it is processed with. An input already in the
  store with the same identity is skipped; anything else is processed and committed in
  one transaction (its ``inputs`` row with its result rows, or with its ``errors`` row).
- The per-file work runs in this process, or on dask.distributed workers
  (``workers=N`` starts a local cluster, ``scheduler=`` connects to one); only this
  process writes the store.
- Study-level tables (sample calls, timelines) are recomputed when any input changed and
  stored under the run; the results folder is rewritten file by file, atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from .._version import __version__
from ..errors import ConfigError, MrdquantError
from .config import Study, sha256_file
from .progress import Progress
from .tasks import FlowTask, QpcrTask, TaskResult, run_task

__all__ = ["run_study", "RunSummary", "sweep_partial_files"]

_CURVE_KEY_SEP = "|"


@dataclass
class RunSummary:
    """What one ``run`` did.

    Attributes
    ----------
    run_id : int
        The ``runs`` row of this run.
    params_hash : str
        Hash of every parameter of the run (a change makes a new set of results).
    n_inputs, n_processed, n_skipped, n_failed : int
        Inputs of the study; processed now; skipped (already in the store with the same
        content and parameters); failed (now or before, unchanged since).
    failures : list of dict
        ``kind, path, stage, error_type, reason`` per failure.
    headlines : dict of str -> str
        One line per stage.
    written : list of pathlib.Path
        Files written into the results folder (empty when nothing changed).
    """

    run_id: int
    study: str
    store: str
    results: Path
    params_hash: str
    n_inputs: int = 0
    n_processed: int = 0
    n_skipped: int = 0
    n_failed: int = 0
    failures: list = field(default_factory=list)
    headlines: dict = field(default_factory=dict)
    written: list = field(default_factory=list)
    reports: list = field(default_factory=list)
    up_to_date: bool = False

    @property
    def exit_code(self) -> int:
        """0 when every input succeeded, 1 when some failed (the rest finished)."""
        return 1 if self.n_failed else 0

    def to_dict(self) -> dict:
        """JSON-ready summary (what ``mrdquant run --json`` prints)."""
        return {
            "run_id": self.run_id,
            "study": self.study,
            "store": self.store,
            "results": str(self.results),
            "params_hash": self.params_hash,
            "mrdquant_version": __version__,
            "inputs": self.n_inputs,
            "processed": self.n_processed,
            "skipped": self.n_skipped,
            "failed": self.n_failed,
            "up_to_date": self.up_to_date,
            "failures": self.failures,
            "stages": self.headlines,
            "files_written": len(self.written),
            "report": str(self.reports[0]) if self.reports else None,
            "exit_code": self.exit_code,
        }

    def text(self) -> str:
        """The one-screen summary printed by ``mrdquant run``."""
        lines = [
            f"study {self.study}: {self.n_inputs} inputs, {self.n_processed} processed, "
            f"{self.n_skipped} already in the store, {self.n_failed} failed (run {self.run_id})",
        ]
        if self.up_to_date:
            lines.append("nothing changed since the last run: results are up to date")
        for stage, line in self.headlines.items():
            lines.append(f"  {stage}: {line}")
        for f in self.failures[:15]:
            lines.append(f"  FAILED {f['kind']} {f['path']}: {f['reason']}")
        if len(self.failures) > 15:
            lines.append(f"  ... and {len(self.failures) - 15} more failures (mrdquant export STUDY errors)")
        lines.append(f"store: {self.store}")
        lines.append(f"results: {self.results}")
        if self.reports:
            lines.append(f"report: {self.reports[0]}")
        return "\n".join(lines)


@dataclass
class _Input:
    kind: str
    path: Path
    rel: str
    sha256: str
    size: int
    params_hash: str
    parameters: dict
    task: object = None
    input_id: int | None = None
    status: str = "pending"
    #: (size, mtime_ns) of the file while it was hashed (None when it changed meanwhile)
    stat: tuple | None = None

    def known_sha256(self) -> tuple | None:
        """``(sha256, size, mtime_ns)`` for the task, so the file is not hashed twice."""
        return None if self.stat is None else (self.sha256, *self.stat)


def sweep_partial_files(folder: Path) -> list[Path]:
    """Remove temporary files (``.<name>.*.part``) an interrupted atomic write left in ``folder``."""
    removed = []
    if folder.is_dir():
        for p in folder.rglob(".*.part"):
            if p.is_file():
                p.unlink()
                removed.append(p)
    return removed


def _check_writable(folder: Path) -> None:
    """Refuse an unwritable results folder before any work is done (ConfigError naming it)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"results folder {folder}: cannot be created ({exc.strerror})") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"results folder {folder}: not writable")


def _inputs(study: Study, progress: Progress) -> list[_Input]:
    """Every input of the study with its content hash, parameters and task."""
    groups = []
    for spec, files in study.fcs_groups():
        task = FlowTask(panel=spec.panel, strategy=None if spec.strategy is None else str(spec.strategy),
                        laip_gate=spec.laip_gate, denominator_gate=spec.denominator_gate, disease=spec.disease,
                        profile=study.profile, laip=spec.laip,
                        reference=None if spec.reference is None else str(spec.reference),
                        plots_dir=str(study.results / "flow" / "plots") if spec.plots and spec.strategy is None
                        else None)
        groups.append(("fcs", files, study.flow_parameters(spec), task))
    if study.qpcr:
        import dataclasses

        base, params = _qpcr_task(study), study.qpcr_parameters()
        sheet = _sheet_specimens(study)
        for path in study.qpcr_files():
            # the specimen of each sample on this plate decides its threshold: part of the parameters
            specimens = sheet.get(path.stem, sheet.get(None, {}))
            groups.append(("qpcr", [path], dict(params, specimens=sorted(specimens.items())),
                           dataclasses.replace(base, specimens=specimens)))
    out: list[_Input] = []
    n_files = sum(len(files) for _, files, _, _ in groups)
    progress.start("hash", n_files, every=max(1, n_files // 10))
    for kind, files, params, task in groups:
        phash = Study.params_hash(params)
        for path in files:
            before = _stat(path)
            digest = sha256_file(path)
            after = _stat(path)
            out.append(_Input(kind, path, study.relative(path), digest, after[0], phash, params, task,
                              stat=after if after == before else None))
            progress.advance(path.name, "hashed")
    progress.finish()
    return out


def _stat(path: Path) -> tuple[int, int]:
    st = path.stat()
    return int(st.st_size), int(st.st_mtime_ns)


def _sheet_specimens(study: Study) -> dict:
    """Sample sheet specimens by qPCR plate: ``{plate: {sample: specimen}}`` (key ``None``
    for all plates when the sheet has no ``qpcr_plate`` column). Empty without a sheet; a
    sheet that cannot be read is reported by the calls stage."""
    from ..io.store import read_table

    if study.samples is None:
        return {}
    try:
        sheet = read_table(study.samples)
    except MrdquantError:
        return {}
    if not {"qpcr_sample", "specimen"} <= set(sheet.columns):
        return {}
    sheet = sheet[sheet["qpcr_sample"].notna() & (sheet["qpcr_sample"].astype(str).str.strip() != "")]
    out: dict = {}
    for row in sheet.itertuples(index=False):
        plate = str(row.qpcr_plate).strip() if "qpcr_plate" in sheet.columns and pd.notna(row.qpcr_plate) else None
        out.setdefault(plate, {})[str(row.qpcr_sample).strip()] = str(row.specimen).strip()
    return out


def _qpcr_task(study: Study) -> QpcrTask:
    """The qPCR task of the study: its thresholds and the stored curves, read once."""
    from ..pcr.calibration import read_stored_curves
    from ..pcr.quantify import curve_limits

    q = study.qpcr
    curves = None
    if q.curves is not None:
        slope_range, min_r2 = curve_limits(study.profile)
        curves = read_stored_curves(q.curves, slope_range=slope_range, min_r2=min_r2)
    return QpcrTask(min_abl1=q.min_abl1, curves=curves, wt1_target=q.wt1_target, abl1_target=q.abl1_target,
                    profile=study.profile)


@contextlib.contextmanager
def _cluster(workers: int | None, scheduler: str | None):
    """A dask.distributed client (a local cluster of ``workers`` processes, or the running
    ``scheduler``), or None for in-process work; closed on exit."""
    if not workers and not scheduler:
        yield None
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - dask is installed with mrdquant[distributed]
        raise ConfigError("--workers/--scheduler need dask.distributed: pip install 'mrdquant[distributed]'") from exc
    if scheduler:
        try:
            client = Client(scheduler, timeout=10)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"--scheduler {scheduler!r}: cannot connect to a dask scheduler ({exc})") from exc
        with client:
            yield client
        return
    import logging

    with LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def _execute(todo: list[_Input], client) -> Iterator[TaskResult]:
    """Yield one TaskResult per input as they finish, in this process (``client`` None) or
    on the cluster. A worker lost while on a file is that file's failure, not the batch's."""
    if client is None:
        for item in todo:
            yield run_task(item.kind, str(item.path), item.task, known_sha256=item.known_sha256())
        return
    from dask.distributed import as_completed

    futures = {client.submit(run_task, item.kind, str(item.path), item.task, known_sha256=item.known_sha256(),
                             pure=False): item for item in todo}
    for fut in as_completed(list(futures)):
        item = futures.pop(fut)
        try:
            result = fut.result()
        except Exception as exc:  # the worker died or the task was lost: record it, go on
            stage = "flow" if item.kind == "fcs" else "qpcr"
            result = TaskResult(kind=item.kind, path=str(item.path),
                                error=(stage, type(exc).__name__, f"{item.path}: worker failed ({exc})"))
        fut.release()
        yield result


def _record_results(store, run_id: int, todo: list[_Input], results: Iterator[TaskResult], progress: Progress,
                    summary: RunSummary, wells_by_path: dict) -> None:
    by_path = {str(i.path): i for i in todo}
    for res in results:
        item = by_path[res.path]
        extra = {"profile_hash": item.parameters.get("profile_hash")}
        if item.kind == "fcs":
            extra.update(panel_id=item.parameters.get("panel"), panel_hash=item.parameters.get("panel_hash"))
        for table in res.tables.values():  # the study-relative path: the store outlives the folder's location
            if "input_path" in table.columns:
                table["input_path"] = item.rel
        item.input_id = store.record_input(
            run_id, kind=item.kind, path=item.rel, sha256=item.sha256, size_bytes=item.size,
            params_hash=item.params_hash, parameters=item.parameters, results=res.tables, extra=extra,
            error=res.error,
        )
        if res.error:
            item.status = "failed"
            summary.failures.append({"kind": item.kind, "path": item.rel, "stage": res.error[0],
                                     "error_type": res.error[1], "reason": res.error[2]})
        else:
            item.status = "done"
            if "wells" in res.extra:
                wells_by_path[item.rel] = res.extra["wells"]
        summary.n_processed += 1
        progress.advance(item.path.name, item.status)


def run_study(
    study: Study,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """Run a study: process what is new, skip what the store already has, write the results.

    Parameters
    ----------
    study : Study
        From :func:`mrdquant.study.load_study`.
    workers : int, optional
        Start a local dask.distributed cluster with this many worker processes.
    scheduler : str, optional
        Address of a running dask.distributed scheduler (``tcp://host:8786``); its
        workers must read the input files at the same paths.
    progress : Progress, optional
        Progress reporter (default: plain lines or a bar on stderr).

    Returns
    -------
    RunSummary
        Counts, failures with reasons, a headline per stage; ``exit_code`` is 0 when every
        input succeeded and 1 when some failed.
    """
    from ..store import open_store

    progress = progress or Progress()
    _check_writable(study.results)
    sweep_partial_files(study.results)
    store = open_store(study.store)
    try:
        with store.exclusive(str(study.root)):
            return _run(study, store, workers=workers, scheduler=scheduler, progress=progress)
    finally:
        progress.finish()
        store.close()


def _run(study: Study, store, *, workers, scheduler, progress: Progress) -> RunSummary:
    parameters = study.study_parameters()
    run_hash = Study.params_hash(parameters)
    items = _inputs(study, progress)
    run_id = store.start_run(study=str(study.root), params_hash=run_hash, parameters=parameters,
                             profile_id=study.profile.profile_id, profile_hash=study.profile_hash)
    summary = RunSummary(run_id=run_id, study=study.name, store=store.display, results=study.results,
                         params_hash=run_hash, n_inputs=len(items))
    todo = []
    for item in items:
        known = store.find_input(item.kind, item.rel, item.sha256, item.params_hash)
        if known is None:
            todo.append(item)
            continue
        item.input_id, item.status = known["input_id"], known["status"]
        summary.n_skipped += 1
        if known["status"] == "failed":
            err = store.table("errors").query("input_id == @item.input_id")
            reason = err["reason"].iloc[-1] if len(err) else "failed in an earlier run"
            summary.failures.append({"kind": item.kind, "path": item.rel, "stage": item.kind,
                                     "error_type": err["error_type"].iloc[-1] if len(err) else "",
                                     "reason": f"{reason} (unchanged since run {known['run_id']})"})
    wells_by_path: dict[str, pd.DataFrame] = {}
    status = "failed"
    try:
        with _cluster(workers if todo else None, scheduler if todo else None) as client:
            for kind, stage in (("fcs", "flow"), ("qpcr", "qpcr")):
                part = [i for i in todo if i.kind == kind]
                progress.start(stage, len(part))
                _record_results(store, run_id, part, _execute(part, client), progress, summary, wells_by_path)
                progress.finish()
        summary.n_failed = len(summary.failures)
        run_json = study.results / "run.json"
        previous = _read_json(run_json)
        if (summary.n_processed == 0 and previous.get("params_hash") == run_hash
                and previous.get("clinical_sha256") == _clinical_hashes(study)
                and store.latest_study_rows("timelines", run_hash) is not None):
            summary.up_to_date = True
            summary.headlines = previous.get("headlines", {})
        else:
            _study_stages(study, store, run_id, run_hash, parameters, items, wells_by_path, summary, progress)
        summary.n_failed = len(summary.failures)
        status = "done" if not summary.n_failed else "partial"
        return summary
    finally:
        store.finish_run(run_id, status=status, n_inputs=summary.n_inputs, n_processed=summary.n_processed,
                         n_skipped=summary.n_skipped, n_failed=len(summary.failures))


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _clinical_hashes(study: Study) -> dict:
    return {k: sha256_file(p) for k, p in study.clinical_files().items()}


def _study_stages(study: Study, store, run_id: int, run_hash: str, parameters: dict, items: list[_Input],
                  wells_by_path: dict, summary: RunSummary, progress: Progress) -> None:
    from ..io.store import write_table, write_text

    out = study.results
    written: list[Path] = summary.written
    done = [i for i in items if i.status == "done"]
    prov_cols = ["input_sha256", "params_hash", "mrdquant_version", "created_at"]

    # -- per-file results, from the store (computed now or in an earlier run) -----------------
    mfc = wt1 = None
    if study.flow:
        ids = [i.input_id for i in done if i.kind == "fcs"]
        mfc = store.results_for("mfc_results", ids)
        from ..store.schema import MFC_COLUMNS

        # the columns this study's method(s) filled, then the provenance
        keep = [c for c in MFC_COLUMNS if c not in prov_cols and (c in ("sample_id", "status") or mfc[c].notna().any())]
        mfc_out = mfc[keep + prov_cols]
        written += [write_table(mfc_out, out / "flow" / "mfc_results.csv"),
                    write_table(mfc_out, out / "flow" / "mfc_results.parquet")]
        counts = mfc["status"].value_counts().to_dict()
        summary.headlines["flow"] = f"{len(mfc)} FCS files quantified: " + _counts_text(counts)
        if any(spec.reference is not None for spec in study.flow):
            mfc, dfn_written, headline = _dfn_outputs(store, ids, mfc, out, prov_cols)
            written += dfn_written
            if headline:
                summary.headlines["dfn"] = headline
    if study.qpcr:
        from ..pcr.quantify import RESULT_COLUMNS

        ids = [i.input_id for i in done if i.kind == "qpcr"]
        wt1 = store.results_for("wt1_results", ids)
        wt1_out = wt1[[c for c in RESULT_COLUMNS if c in wt1.columns] + prov_cols]
        wells = []
        for i in done:
            if i.kind != "qpcr":
                continue
            if i.rel not in wells_by_path:  # processed in an earlier run: re-read the (small) export
                from ..io.qpcr import read_qpcr

                wells_by_path[i.rel] = read_qpcr(i.path)
            wells.append(wells_by_path[i.rel])
        if wells:
            written.append(write_table(pd.concat(wells, ignore_index=True), out / "qpcr" / "wells.csv"))
        written.append(write_table(wt1_out, out / "qpcr" / "wt1_results.csv"))
        summary.headlines["qpcr"] = (f"{len(ids)} plates, {len(wt1)} samples: "
                                     + _counts_text(wt1["call"].value_counts().to_dict()))

    # -- sample calls and timelines -------------------------------------------------------
    if study.patients is not None and study.samples is not None:
        n_before = len(summary.failures)
        try:
            tables = _calls(study, mfc, wt1, summary)
        except MrdquantError as exc:
            _stage_failed(store, run_id, summary, "calls", study.relative(study.samples), exc)
            tables = None
        for f in summary.failures[n_before:]:  # sample-sheet links to results that do not exist
            if f["error_type"] == "MissingResult":
                store.record_error(run_id, kind=f["kind"], path=f["path"], stage=f["stage"],
                                   error_type=f["error_type"], reason=f["reason"])
        if tables is not None:
            pts, sample_calls, timelines, events = tables
            store.record_study_tables(run_id, params_hash=run_hash, parameters=parameters,
                                      tables={"sample_calls": sample_calls, "timelines": timelines})
            written += [
                write_table(sample_calls, out / "calls" / "samples.csv"),
                write_table(timelines, out / "calls" / "patients.csv"),
                write_table(study.profile.table(), out / "calls" / "profile.csv"),
            ]
            if events is not None:
                written.append(write_table(events, out / "calls" / "events.csv"))
            summary.headlines["calls"] = (f"{len(timelines)} patients, {len(sample_calls)} samples: "
                                          + _counts_text(timelines["status"].value_counts().to_dict()))
            try:
                written += _outcomes(study, pts, timelines, out, summary)
            except MrdquantError as exc:
                _stage_failed(store, run_id, summary, "outcomes", study.relative(study.patients), exc)

    run_record = {
        "run_id": run_id,
        "study": study.name,
        "study_path": str(study.root),
        "store": store.display,
        "mrdquant_version": __version__,
        "params_hash": run_hash,
        "parameters": parameters,
        "profile": {"id": study.profile.profile_id, "hash": study.profile_hash,
                    "overrides": study.profile_overrides},
        "clinical_sha256": _clinical_hashes(study),
        "inputs": [{"kind": i.kind, "path": i.rel, "sha256": i.sha256, "status": i.status,
                    "input_id": i.input_id} for i in items],
        "failures": summary.failures,
        "headlines": summary.headlines,
    }
    written.append(write_text(json.dumps(run_record, indent=2, default=str) + "\n", out / "run.json"))

    # -- the HTML reports (study + one per patient), from the results folder just written ------
    from ..report.html import write_reports

    progress.line("report: writing the study and patient reports")
    try:
        summary.reports = write_reports(out)
    except MrdquantError as exc:
        _stage_failed(store, run_id, summary, "report", str(out), exc)
    else:
        written += summary.reports
        pages = [p for p in summary.reports if p.suffix == ".html"]
        summary.headlines["report"] = f"{pages[0]} and {len(pages) - 1} patient report(s)"


def _counts_text(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


def _stage_failed(store, run_id: int, summary: RunSummary, stage: str, path: str, exc: Exception) -> None:
    store.record_error(run_id, kind=stage, path=path, stage=stage, error_type=type(exc).__name__, reason=str(exc))
    summary.failures.append({"kind": stage, "path": path, "stage": stage, "error_type": type(exc).__name__,
                             "reason": str(exc)})
    summary.headlines[stage] = f"not done: {exc}"


def _link(sheet: pd.DataFrame, column: str, known: set, what: str, summary: RunSummary, where: str) -> pd.Series:
    """The sheet's link column with links to results that do not exist blanked (and reported)."""
    keys = sheet[column].astype("string").str.strip()
    keys = keys.where(keys.notna() & (keys != ""))
    bad = keys.notna() & ~keys.isin(known)
    for k in sheet.index[bad.fillna(False).to_numpy()]:
        summary.failures.append({
            "kind": "samples", "path": where, "stage": "calls", "error_type": "MissingResult",
            "reason": f"{where}: sample {sheet.at[k, 'sample_id']!r}: {column} {keys[k]!r} has no {what} result "
                      "(file missing or failed); the method is left empty for this sample",
        })
    return keys.where(~bad.fillna(False))


def _dfn_outputs(store, ids: list, mfc: pd.DataFrame, out: Path, prov_cols: list) -> tuple:
    """DfN results of the files scored against a normal-marrow reference: written to
    ``flow/dfn_results.csv|parquet`` (populations to ``flow/dfn_populations.csv``), and
    the MFC result each of those samples contributes to the sample calls becomes the
    integrated LAIP ∪ DfN call (ELN 2021), its reason naming the agreement of the two.

    Returns ``(mfc table for the calls, files written, headline or "")``.
    """
    from ..io.store import write_table
    from ..store.schema import DFN_COLUMNS

    dfn = store.results_for("dfn_results", ids)
    if not len(dfn):
        return mfc, [], ""
    table = dfn[[c for c in DFN_COLUMNS if c != "populations" and c not in prov_cols] + prov_cols]
    written = [write_table(table, out / "flow" / "dfn_results.csv"),
               write_table(table, out / "flow" / "dfn_results.parquet")]
    pops = []
    for sid, text in zip(dfn["sample_id"], dfn["populations"]):
        records = json.loads(text) if isinstance(text, str) and text else []
        if records:
            pops.append(pd.DataFrame(records).assign(sample_id=sid))
    if pops:
        frame = pd.concat(pops, ignore_index=True)
        written.append(write_table(frame[["sample_id"] + [c for c in frame.columns if c != "sample_id"]],
                                   out / "flow" / "dfn_populations.csv"))
    by_id = dfn.drop_duplicates("sample_id", keep="last").set_index("sample_id")
    calls = mfc.copy()
    hit = calls["sample_id"].isin(by_id.index)
    sid = calls.loc[hit, "sample_id"]
    calls.loc[hit, "status"] = sid.map(by_id["integrated_status"]).to_numpy()
    calls.loc[hit, "mrd_pct"] = sid.map(by_id["integrated_mrd_pct"]).astype(float).to_numpy()
    calls.loc[hit, "reason"] = ("LAIP ∪ DfN (" + sid.map(by_id["agreement"]).astype(str) + "): "
                                + sid.map(by_id["integrated_reason"]).astype(str)).to_numpy()
    if "detected" in calls:  # the LAIP's "detected below threshold" does not describe the union
        calls.loc[hit, "detected"] = None
    headline = f"{len(by_id)} FCS files scored against the normal reference: " + _counts_text(
        by_id["agreement"].value_counts().to_dict())
    return calls, written, headline


def _calls(study: Study, mfc, wt1, summary: RunSummary):
    from ..calls.merge import merge_results
    from ..calls.sample import call_samples
    from ..calls.timeline import classify_timeline
    from ..io.clinical import read_events, read_patients
    from ..io.store import read_table
    from ..errors import ClinicalDataError

    where = study.relative(study.samples)
    pts = read_patients(study.patients)
    sheet = read_table(study.samples)
    sheet_cols = list(sheet.columns)
    kw: dict[str, Any] = {}
    if mfc is not None and "fcs_file" in sheet:
        sheet["fcs_file"] = _link(sheet, "fcs_file", set(mfc["sample_id"].astype(str)), "FCS", summary, where)
        kw.update(mfc=mfc, mfc_link="fcs_file")
    if wt1 is not None and "qpcr_sample" in sheet:
        w = wt1.copy()
        if "qpcr_plate" in sheet:
            w["sample"] = w["plate"].astype(str) + _CURVE_KEY_SEP + w["sample"].astype(str)
            plate = sheet["qpcr_plate"].astype("string").fillna("")
            sample = sheet["qpcr_sample"].astype("string").fillna("")
            sheet["_qpcr_key"] = (plate + _CURVE_KEY_SEP + sample).where(sample.str.strip() != "")
        else:
            sheet["_qpcr_key"] = sheet["qpcr_sample"]
        sheet["_qpcr_key"] = _link(sheet, "_qpcr_key", set(w["sample"].astype(str)), "qPCR", summary, where)
        kw.update(wt1=w, wt1_link="_qpcr_key")
    if not kw:
        raise ClinicalDataError(f"{where}: the sample sheet links no result: add a fcs_file and/or "
                                "qpcr_plate + qpcr_sample column")
    merged = merge_results(sheet, **kw)[sheet_cols + ["mfc", "mfc_pct", "mfc_reason", "wt1", "wt1_pct",
                                                       "wt1_reason"]]
    merged = merged.loc[:, ~merged.columns.duplicated(keep="last")]
    sample_calls = call_samples(merged, patients=pts, profile=study.profile)
    timelines = classify_timeline(pts, merged, study.profile)
    events = read_events(study.events, pts) if study.events is not None else None
    return pts, sample_calls, timelines, events


def _outcomes(study: Study, pts: pd.DataFrame, timelines: pd.DataFrame, out: Path, summary: RunSummary) -> list:
    from ..io.store import write_table, write_text
    from ..outcomes.endpoints import build_endpoints
    from ..outcomes.summary import study_summary

    endpoints = build_endpoints(pts, index=study.index, timelines=timelines)
    result = study_summary(endpoints, study.group, at_years=study.horizon_years)
    summary.headlines["outcomes"] = (f"{len(endpoints)} patients from {study.index}, "
                                     f"estimates at {study.horizon_years:g} years by {study.group}")
    return [
        write_table(endpoints, out / "outcomes" / "endpoints.csv"),
        write_table(result.estimates, out / "outcomes" / "estimates.csv"),
        write_table(result.tests, out / "outcomes" / "tests.csv"),
        write_table(result.cox, out / "outcomes" / "cox_univariate.csv"),
        write_text(result.text() + "\n", out / "outcomes" / "results.txt"),
    ]

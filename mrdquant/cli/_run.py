"""``mrdquant run STUDY`` and ``mrdquant export``: a study folder to results, and the store to files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

__all__ = ["register", "run_and_report"]


def run_and_report(study_path: Path, *, store: Optional[str] = None, results: Optional[Path] = None,
                   workers: Optional[int] = None, scheduler: Optional[str] = None, progress: bool = True,
                   as_json: bool = False, echo=typer.echo):
    """Run a study and print its summary (text, or JSON with ``as_json``); return the RunSummary."""
    from ..errors import ConfigError
    from ..study import load_study, run_study
    from ..study.progress import Progress

    if workers is not None and workers < 1:
        raise ConfigError(f"--workers {workers}: expected a positive number of worker processes")
    if workers and scheduler:
        raise ConfigError("give either --workers (a local cluster) or --scheduler (an existing one), not both")
    study = load_study(study_path, store=store, results=results)
    summary = run_study(study, workers=workers, scheduler=scheduler, progress=Progress(enabled=progress))
    if as_json:
        echo(json.dumps(summary.to_dict(), indent=2, default=str))
    else:
        echo(summary.text())
    return summary


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``export`` to the ``mrdquant`` command line."""

    @app.command("run")
    def run(
        study: Path = typer.Argument(..., help="Study folder with a study.toml (or the path of that file)."),
        store: Optional[str] = typer.Option(
            None, "--store", help="Results store: an SQLite file or postgresql://user@host/db (default: study.toml's)."
        ),
        results: Optional[Path] = typer.Option(None, "--results", help="Results folder (default: study.toml's)."),
        workers: Optional[int] = typer.Option(None, "--workers", help="Process files on a local dask cluster of N workers."),
        scheduler: Optional[str] = typer.Option(
            None, "--scheduler", help="Process files on a running dask.distributed scheduler (tcp://host:8786)."
        ),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress on stderr (bar or lines)."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
    ) -> None:
        """Take every input of a study through flow, qPCR, sample calls, timelines and outcomes.

        Inputs already in the store with the same content and parameters are skipped; a
        file that cannot be processed is recorded with its reason and the others finish.
        Exit code 0: every input succeeded; 1: some inputs failed; 2: usage error.
        """
        summary = run_and_report(study, store=store, results=results, workers=workers, scheduler=scheduler,
                                 progress=progress, as_json=as_json)
        if summary.exit_code:
            raise typer.Exit(code=summary.exit_code)

    @app.command("export")
    def export(
        source: str = typer.Argument(..., help="Study folder, SQLite store file, or postgresql:// URL."),
        table: str = typer.Argument(..., help="Table: runs, inputs, mfc_results, dfn_results, wt1_results, sample_calls, timelines, errors."),
        out: Path = typer.Option(..., "--out", help="Output file: .csv, .tsv or .parquet."),
        run_id: Optional[int] = typer.Option(None, "--run", help="Only this run's rows."),
    ) -> None:
        """Write one table of the results store to CSV or Parquet."""
        from ..errors import ConfigError
        from ..io.store import write_table
        from ..store import open_store
        from ..study import load_study
        from ..study.config import STUDY_FILE

        src = Path(source)
        if "://" in source:
            url = source
        elif src.is_dir() or src.name == STUDY_FILE:
            url = load_study(src).store
        elif src.is_file():
            url = str(src)
        else:
            raise ConfigError(f"{source}: no such study folder or store file")
        with open_store(url) as st:
            df = st.table(table, run_id=run_id)
        write_table(df, out)
        typer.echo(f"{len(df)} rows of {table} -> {out}", err=True)

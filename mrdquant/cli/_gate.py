"""``mrdquant gate``: apply a Gating-ML 2.0 strategy to FCS files, write one counts table."""

from __future__ import annotations

from pathlib import Path
from typing import List

import typer


def gate_files(strategy_path: Path, files: list, out_dir: Path, *, fmt: str = "csv", progress: bool = True,
               scheduler: str | None = None):
    """Gate ``files`` with the strategy and write ``counts.<fmt>`` (and ``errors.<fmt>``).

    Returns
    -------
    (counts, errors) : tuple of pandas.DataFrame
        ``counts`` has columns ``sample_id, gate_path, gate, parent, count,
        percent_parent, percent_root``; ``errors`` has ``sample_id, path, error_type,
        error`` (one row per file that could not be read or gated).

    With ``scheduler`` (a dask.distributed scheduler address), the files are gated by
    that cluster's workers, which must be able to read them at the same paths.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..cytometry.gating import GatingBatch, GatingFailure, GatingStrategy
    from ..errors import ConfigError

    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"--format {fmt!r}: expected 'csv' or 'parquet'")
    strategy = GatingStrategy.from_gatingml(strategy_path)
    ids = [Path(f).name for f in files]
    if scheduler:
        batch = _gate_on_cluster(strategy, files, ids, scheduler)
        return _write(batch, out_dir, fmt)
    results, failures = [], []
    with Progress(TextColumn("gating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=Console(stderr=True), disable=not progress,
                  transient=True) as bar:
        task = bar.add_task("", total=len(files))
        for item in strategy.iter_gate(files, sample_ids=ids):
            (failures if isinstance(item, GatingFailure) else results).append(item)
            bar.update(task, advance=1, description=item.sample_id)
    return _write(GatingBatch(results=results, failures=failures), out_dir, fmt)


def _write(batch, out_dir: Path, fmt: str):
    from ..io.store import write_table

    counts = batch.counts()
    errors = batch.errors
    write_table(counts, Path(out_dir) / f"counts.{fmt}")
    if len(errors):
        write_table(errors, Path(out_dir) / f"errors.{fmt}")
    return counts, errors


def _gate_on_cluster(strategy, files: list, ids: list, scheduler: str, *, timeout: float = 10.0):
    """Gate on a dask.distributed cluster; a scheduler that cannot be reached is a ConfigError."""
    from ..errors import ConfigError

    try:
        from dask.distributed import Client
    except ImportError as exc:  # pragma: no cover - dask is a declared dependency
        raise ConfigError("--scheduler needs dask.distributed (pip install 'dask[distributed]')") from exc
    try:
        client = Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"--scheduler {scheduler!r}: cannot connect to a dask scheduler ({exc})") from exc
    with client:
        return strategy.gate_many([str(f) for f in files], sample_ids=ids, executor=client.get_executor())


def register(app: typer.Typer) -> None:
    """Add ``gate`` to the ``mrdquant`` command line."""

    @app.command("gate")
    def gate(
        strategy: Path = typer.Argument(..., help="Gating-ML 2.0 file (gates, transforms, spectrum matrices)."),
        files: List[Path] = typer.Argument(..., help="FCS files to gate."),
        out: Path = typer.Option(..., "--out", help="Output folder (created if needed)."),
        fmt: str = typer.Option("csv", "--format", help="Table format: csv or parquet."),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar on stderr."),
        scheduler: str = typer.Option(
            None, "--scheduler", help="dask.distributed scheduler address (tcp://host:8786) to gate on a cluster."
        ),
    ) -> None:
        """Gate FCS files with a Gating-ML 2.0 strategy and write one tidy counts table.

        counts.csv (or .parquet) has the columns sample_id, gate_path, gate, parent,
        count, percent_parent, percent_root. Files that fail are reported on stderr and
        in errors.csv; the others finish, and the exit code is then 1.
        """
        counts, errors = gate_files(strategy, list(files), out, fmt=fmt, progress=progress, scheduler=scheduler)
        n_ok = counts["sample_id"].nunique() if len(counts) else 0
        typer.echo(f"gated {n_ok} file(s) -> {Path(out) / f'counts.{fmt}'}", err=True)
        for row in errors.itertuples(index=False):
            typer.echo(f"mrdquant: error: {row.path}: {row.error}", err=True)
        if len(errors):
            raise typer.Exit(code=1)

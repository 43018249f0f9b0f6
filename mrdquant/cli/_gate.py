"""``mrdquant gate``: apply a Gating-ML 2.0 strategy to FCS files, write one counts table."""

from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from .exit_codes import exit_if_failed


def gate_files(strategy_path: Path, files: list, out_dir: Path, *, fmt: str = "csv", progress: bool = True,
               scheduler: str | None = None, sample_id: str | None = None, group: str = "All Samples"):
    """Gate ``files`` with the strategy and write ``counts.<fmt>`` (and ``errors.<fmt>``).

    ``strategy_path`` is a Gating-ML 2.0 file or a FlowJo 10 workspace (``.wsp``; each
    file is gated with the gates the workspace applies to ``sample_id``, default the
    file's name, in ``group``). When the Gating-ML names the marker of each channel
    (``custom_info``, written by mrdquant), every file's ``$PnS`` is checked first and a
    file with other stains on those channels fails with a message naming them.

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

    from ..errors import MrdquantError
    from ..io.fcs import read_fcs
    from ..mfc.markers import check_strategy_markers

    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"--format {fmt!r}: expected 'csv' or 'parquet'")
    workspace = Path(strategy_path).suffix.lower() == ".wsp"
    markers: dict = {}
    strategy = None
    if workspace:
        cache: dict = {}

        def strategy_for(name: str):
            sid = sample_id or name
            if sid not in cache:
                cache[sid] = GatingStrategy.from_flowjo(strategy_path, sample_id=sid, group=group)
            return cache[sid]
    else:
        from ..io.gatingml import read_gatingml

        doc = read_gatingml(strategy_path)
        markers = doc.markers
        strategy = GatingStrategy.from_document(doc)

        def strategy_for(name: str):
            return strategy
    ids = [Path(f).name for f in files]
    if scheduler and not workspace:
        batch = _gate_on_cluster(strategy, files, ids, scheduler)
        return _write(batch, out_dir, fmt)
    results, failures = [], []
    with Progress(TextColumn("gating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=Console(stderr=True), disable=not progress,
                  transient=True) as bar:
        task = bar.add_task("", total=len(files))
        for f, sid in zip(files, ids):
            try:
                s = read_fcs(f)
                if markers:
                    check_strategy_markers(markers, s)
                results.append(strategy_for(sid).gate(s, sample_id=sid))
            except (MrdquantError, OSError) as exc:
                failures.append(GatingFailure(sid, str(f), exc))
            bar.update(task, advance=1, description=sid)
    return _write(GatingBatch(results=results, failures=failures), out_dir, fmt)


def _write(batch, out_dir: Path, fmt: str):
    from ..io.store import write_table

    counts = batch.counts()
    errors = batch.errors
    write_table(counts, Path(out_dir) / f"counts.{fmt}")
    if len(errors):
        write_table(errors, Path(out_dir) / f"errors.{fmt}")
    return counts, errors


def require_distributed(option: str):
    """The ``dask.distributed`` module, or a ConfigError saying which extra to install.

    Dask is an optional extra (``mrdquant[distributed]``): only ``--scheduler`` /
    ``--workers`` need it, so a plain install stays light.
    """
    from ..errors import ConfigError

    try:
        import dask.distributed as distributed
    except ImportError as exc:
        raise ConfigError(
            f"{option} needs dask.distributed, an optional extra: pip install 'mrdquant[distributed]' "
            f"({exc})"
        ) from exc
    return distributed


def _gate_on_cluster(strategy, files: list, ids: list, scheduler: str, *, timeout: float = 10.0):
    """Gate on a dask.distributed cluster; a scheduler that cannot be reached is a ConfigError."""
    from ..errors import ConfigError

    Client = require_distributed("--scheduler").Client
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
        strategy: Path = typer.Argument(..., help="Gating-ML 2.0 file, or a FlowJo 10 workspace (.wsp)."),
        files: List[Path] = typer.Argument(..., help="FCS files to gate."),
        out: Path = typer.Option(..., "--out", help="Output folder (created if needed)."),
        fmt: str = typer.Option("csv", "--format", help="Table format: csv or parquet."),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar on stderr."),
        scheduler: str = typer.Option(
            None, "--scheduler", help="dask.distributed scheduler address (tcp://host:8786) to gate on a cluster."
        ),
        sample_id: str = typer.Option(
            None, "--sample-id", help="FlowJo workspace: the sample whose gates to apply (default: each file's name)."
        ),
        group: str = typer.Option("All Samples", "--group", help="FlowJo workspace: sample group."),
    ) -> None:
        """Gate FCS files with a Gating-ML 2.0 strategy and write one tidy counts table.

        counts.csv (or .parquet) has the columns sample_id, gate_path, gate, parent,
        count, percent_parent, percent_root. Files that fail are reported on stderr and
        in errors.csv; the others finish, and the exit code is then 1.
        """
        from ..errors import located

        counts, errors = gate_files(strategy, list(files), out, fmt=fmt, progress=progress, scheduler=scheduler,
                                    sample_id=sample_id, group=group)
        n_ok = counts["sample_id"].nunique() if len(counts) else 0
        typer.echo(f"gated {n_ok} file(s) -> {Path(out) / f'counts.{fmt}'}", err=True)
        for row in errors.itertuples(index=False):
            typer.echo(f"mrdquant: error: {located(row.path, row.error)}", err=True)
        exit_if_failed(len(errors))

"""``mrdquant fcs-info``: one summary row per FCS file."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import List, Optional

import typer

from .exit_codes import exit_if_failed

#: columns of the ``fcs-info`` table, in order
FCS_INFO_COLUMNS = (
    "file",
    "version",
    "datasets",
    "events",
    "channels",
    "markers",
    "spillover",
    "sha256",
    "warnings",
    "error",
)


def fcs_info_table(paths: list[Path], dataset: int = 0):
    """Summarise FCS files as a DataFrame with :data:`FCS_INFO_COLUMNS`.

    A file that cannot be read gets a row whose ``error`` says why (other columns
    empty); it does not stop the others. ``markers`` lists the ``$PnS`` that name a
    stain (non-empty and different from ``$PnN``); ``sha256`` is the first 12 hex digits.
    """
    import pandas as pd

    from ..errors import MrdquantError
    from ..io.fcs import read_fcs

    rows = []
    for path in paths:
        row = dict.fromkeys(FCS_INFO_COLUMNS, "")
        row["file"] = str(path)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                sample = read_fcs(path, dataset)
            except MrdquantError as exc:
                row["error"] = str(exc)
                sample = None
        if row["error"]:
            row["error"] = _short(row["error"], path)
        row["warnings"] = " | ".join(_short(str(w.message), path) for w in caught)
        if sample is not None:
            row.update(
                version=sample.version,
                datasets=sample.n_datasets,
                events=sample.n_events,
                channels=len(sample.channels),
                markers=",".join(m for c, m in zip(sample.channels, sample.markers) if m and m != c),
                spillover="yes" if sample.spillover is not None else "no",
                sha256=sample.sha256[:12],
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=list(FCS_INFO_COLUMNS))


def _clip(text: str, width: int) -> str:
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _short(message: str, path: Path) -> str:
    prefix = f"{path}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def register(app: typer.Typer) -> None:
    """Add ``fcs-info`` to the ``mrdquant`` command line."""

    @app.command("fcs-info")
    def fcs_info(
        files: List[Path] = typer.Argument(..., help="FCS files to summarise."),
        out: Optional[Path] = typer.Option(
            None, "--out", help="Also write the table here (.csv, .tsv or .parquet), atomically."
        ),
        dataset: int = typer.Option(0, "--dataset", help="Data set index in multi-data-set files."),
    ) -> None:
        """Summarise FCS files: version, data sets, events, channels, markers, spillover.

        One row per file, with the SHA-256 prefix of its bytes. Unreadable files are
        listed with their error and the exit code is then 1.
        """
        from ..io.store import write_table

        table = fcs_info_table(list(files), dataset)
        shown = table.drop(columns=["warnings"]).copy()
        shown["markers"] = shown["markers"].map(lambda m: _clip(m, 40))
        shown["error"] = shown["error"].map(lambda m: _clip(m, 60))
        typer.echo(shown.to_string(index=False))
        for _, row in table.iterrows():
            if row["warnings"]:
                typer.echo(f"warning: {row['file']}: {row['warnings']}", err=True)
            if row["error"]:
                typer.echo(f"error: {row['file']}: {row['error']}", err=True)
        if out is not None:
            write_table(table, out)
            typer.echo(f"wrote {out}", err=True)
        failed = int((table["error"] != "").sum())
        if failed:
            typer.echo(f"mrdquant: error: {failed} of {len(table)} FCS file(s) could not be read", err=True)
        exit_if_failed(failed)

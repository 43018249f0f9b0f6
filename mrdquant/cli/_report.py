"""``mrdquant report``: HTML study and patient reports from a results folder."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""

    @app.command("report")
    def report(
        results_dir: Path = typer.Argument(..., help="Results folder written by `mrdquant run` or `mrdquant demo`."),
        out: Optional[Path] = typer.Option(None, "--out", help="Report folder (default RESULTS_DIR/report)."),
    ) -> None:
        """Write the study report, one report per patient, the figures and an Excel workbook.

        Reads the results folder (flow/, qpcr/, calls/, outcomes/, trial/, run.json; any part
        may be missing) and writes study.html, patients/<patient_id>.html, figures/ (PNG at
        300 dpi; survival figures also SVG and PDF) and tables.xlsx. Each HTML file is
        self-contained: open it in any browser, no server or network needed.
        """
        from ..report.html import write_reports

        written = write_reports(results_dir, out)
        pages = [p for p in written if p.suffix == ".html"]
        typer.echo(f"study report: {pages[0].resolve()}")
        if len(pages) > 1:
            typer.echo(f"patient reports: {len(pages) - 1} in {pages[1].parent.resolve()}")
            for p in pages[1:]:
                typer.echo(f"  {p.resolve()}")
        book = [p for p in written if p.suffix == ".xlsx"]
        if book:
            typer.echo(f"tables: {book[0].resolve()}")

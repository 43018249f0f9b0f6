"""``mrdquant flow``: MFC MRD of FCS files with a panel -> one results table (+ gating plots)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

__all__ = ["flow_files", "register"]


def _parse_channels(items: list) -> dict:
    from ..errors import ConfigError

    out = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--channel {item!r}: expected MARKER=CHANNEL, e.g. CD58=APC-Cy7-A")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def flow_files(
    files: list,
    panel: str,
    out_dir: Path,
    *,
    laip: Optional[str] = None,
    profile: str = "puih_2020",
    channels: Optional[dict] = None,
    plots: bool = True,
    progress: bool = True,
    reference: Optional[str] = None,
    flowjo: bool = False,
):
    """Quantify every file and write ``mfc_results.csv`` / ``.parquet`` (and ``errors.csv``).

    With ``flowjo``, each gated file's placed gates are also written as a FlowJo workspace
    ``plots/<file stem>.wsp`` (:func:`mrdquant.export_flowjo`), beside its gating page.

    With ``reference`` (a normal-marrow reference, ``mrdquant reference fit``), each file
    also gets DfN MRD and the integrated LAIP + DfN call, written one row per file to
    ``dfn_results.csv`` / ``.parquet`` (``DfnResult.to_row()`` plus
    ``IntegratedResult.to_row()``) and ``dfn_populations.csv``.

    Returns
    -------
    (results, errors) : tuple of pandas.DataFrame
        ``results``: one row per file that could be processed (columns
        :data:`mrdquant.mfc.quantify.RESULT_COLUMNS`); ``errors``: ``sample_id, path,
        error_type, error`` for each file that could not (the others finish).
    """
    import pandas as pd
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..errors import ConfigError, MrdquantError
    from ..io.store import write_table
    from ..mfc.panels import load_panel
    from ..mfc.quantify import RESULT_COLUMNS, quantify_mfc, results_table

    p = load_panel(panel)  # a bad panel is a usage error for the whole batch
    if laip is not None:
        from ..mfc.patient_laip import apply_laip

        apply_laip(p, laip)  # validate once, before any file
    ref = None
    if reference is not None:
        from ..mfc.laip_dfn import quantify_laip_dfn
        from ..mfc.reference import NormalReference

        ref = NormalReference.load(reference)  # a bad reference is a usage error for the batch
        ref.check_panel(p, where=str(reference))
    out = Path(out_dir)
    results, errors = [], []
    dfn_rows, dfn_pops = [], []
    review = plots or flowjo
    if review:
        from ..mfc.quantify import prepare_tube
        from ..mfc.review import write_review_files
    with Progress(TextColumn("flow"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=Console(stderr=True), disable=not progress,
                  transient=True) as bar:
        task = bar.add_task("", total=len(files))
        for f in files:
            f = Path(f)
            try:
                dfn = None
                if ref is None:
                    # prepared here when pictures are drawn, so they reuse the preparation
                    src = prepare_tube(f, p, laip=laip, channels=channels) if review else f
                    r = quantify_mfc(src, p, profile=profile, laip=laip, channels=channels)
                else:  # the file prepared once for the LAIP and the DfN call
                    both = quantify_laip_dfn(f, p, ref, profile=profile, laip=laip, channels=channels)
                    r, dfn, src = both.mfc, both.dfn, both.prepared or f
                    dfn_rows.append(both.to_row())
                    if len(both.dfn.populations):
                        dfn_pops.append(both.populations())
                results.append(r)
                if review:  # a picture or workspace that fails does not lose the result
                    for problem in write_review_files(out / "plots", r, src, panel=p, dfn=dfn, reference=ref,
                                                      page=plots, workspace=flowjo):
                        errors.append({"sample_id": f.name, "path": str(f), "error_type": "ReviewFileError",
                                       "error": problem})
            except (MrdquantError, OSError) as exc:
                errors.append({"sample_id": f.name, "path": str(f), "error_type": type(exc).__name__,
                               "error": str(exc)})
            bar.update(task, advance=1, description=f.name)
    table = results_table(results) if results else pd.DataFrame(columns=RESULT_COLUMNS)
    errs = pd.DataFrame(errors, columns=["sample_id", "path", "error_type", "error"])
    try:
        write_table(table, out / "mfc_results.csv")
        write_table(table, out / "mfc_results.parquet")
        if len(errs):
            write_table(errs, out / "errors.csv")
        if ref is not None:
            from ..mfc.laip_dfn import DFN_ROW_COLUMNS

            dfn_table = pd.DataFrame(dfn_rows, columns=DFN_ROW_COLUMNS)
            write_table(dfn_table, out / "dfn_results.csv")
            write_table(dfn_table, out / "dfn_results.parquet")
            if dfn_pops:
                write_table(pd.concat(dfn_pops, ignore_index=True), out / "dfn_populations.csv")
    except OSError as exc:
        raise ConfigError(f"{out}: cannot write the results ({exc.strerror or exc})") from None
    return table, errs


def register(app: typer.Typer) -> None:
    """Add ``flow`` to the ``mrdquant`` command line."""

    @app.command("flow")
    def flow(
        files: List[Path] = typer.Argument(..., help="FCS files (follow-up tubes)."),
        panel: str = typer.Option(..., "--panel", help="Panel id (B-ALL, PUIH B-ALL, T-ALL, AML) or a panel .toml file."),
        laip: Optional[Path] = typer.Option(None, "--laip", help="Patient LAIP file (from diagnosis) instead of the panel's LAIP."),
        out: Path = typer.Option(Path("mrdquant_flow"), "--out", help="Output folder (created if needed)."),
        profile: str = typer.Option("puih_2020", "--profile", help="Threshold profile (LOD, LLOQ, positivity)."),
        channel: List[str] = typer.Option([], "--channel", help="Map a marker to a channel: CD58=APC-Cy7-A (repeatable)."),
        plots: bool = typer.Option(True, "--plots/--no-plots", help="Write a gating page per file in OUT/plots/."),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar on stderr."),
        reference: Optional[Path] = typer.Option(
            None, "--reference", help="Normal-marrow reference (.npz): adds DfN and the integrated LAIP + DfN call."
        ),
        flowjo: bool = typer.Option(
            False, "--flowjo/--no-flowjo", help="Also write each file's placed gates as a FlowJo workspace in OUT/plots/."
        ),
    ) -> None:
        """MFC MRD of FCS files: QC, gates placed per file, LAIP, MRD % and report category.

        Writes OUT/mfc_results.csv and .parquet (one row per file: status, mrd_pct, LAIP and
        denominator events, sensitivity, QC counts, placed gates, provenance) -- the table
        `mrdquant calls` reads for the MFC side. Files that fail are reported on stderr and
        in OUT/errors.csv; the others finish (exit code 1). With --reference, also
        OUT/dfn_results.csv/.parquet (DfN events, integrated LAIP + DfN call, agreement:
        both / LAIP only / DfN only) and OUT/dfn_populations.csv. With --flowjo, also
        OUT/plots/<file>.wsp: the placed gates as a FlowJo 10 workspace for review.
        """
        table, errors = flow_files(list(files), panel, out, laip=str(laip) if laip else None, profile=profile,
                                   channels=_parse_channels(channel), plots=plots, progress=progress,
                                   reference=str(reference) if reference else None, flowjo=flowjo)
        typer.echo(f"{len(table)} file(s) -> {Path(out) / 'mfc_results.csv'}", err=True)
        for row in table.itertuples(index=False):
            pct = "" if row.mrd_pct != row.mrd_pct or row.status == "not evaluable" else f" {row.mrd_pct:.4g}%"
            typer.echo(f"{row.sample_id}: {row.status}{pct} ({row.laip_events} / {row.denominator_events} events)")
        for row in errors.itertuples(index=False):
            msg = row.error if str(row.error).startswith(str(row.path)) else f"{row.path}: {row.error}"
            typer.echo(f"mrdquant: error: {msg}", err=True)
        if len(errors):
            raise typer.Exit(code=1)

    @app.command("laip")
    def laip_cmd(
        diagnostic: Path = typer.Argument(..., help="The patient's diagnostic FCS file."),
        panel: str = typer.Option(..., "--panel", help="Panel id or panel .toml file (the follow-ups' panel)."),
        out: Path = typer.Option(..., "--out", help="LAIP file to write (.toml)."),
        patient: str = typer.Option("", "--patient", help="Patient id written into the file."),
        channel: List[str] = typer.Option([], "--channel", help="Map a marker to a channel: CD58=APC-Cy7-A (repeatable)."),
    ) -> None:
        """Derive a patient-specific LAIP from the diagnostic tube and write it as editable TOML.

        Apply it to follow-ups with `mrdquant flow FILES --panel P --laip OUT`.
        """
        from ..mfc.patient_laip import derive_laip, write_laip

        pl = derive_laip(diagnostic, panel, patient_id=patient, channels=_parse_channels(channel))
        path = write_laip(pl, out)
        typer.echo(f"{pl.laip.description} -> {path}", err=True)

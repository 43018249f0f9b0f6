"""``mrdquant qpcr``: instrument exports -> wells, curves and WT1 results with calls."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .exit_codes import exit_if_failed


def register(app: typer.Typer) -> None:
    """Add the ``qpcr`` command to ``app``."""

    @app.command("qpcr")
    def qpcr(
        exports: List[Path] = typer.Argument(..., help="qPCR export files (QuantStudio/7500 text, .xlsx, CFX .csv, RDML, generic CSV); several plates at once."),
        min_abl1: float = typer.Option(..., "--min-abl1", help="Minimum mean ABL1 copies for an evaluable sample (required)."),
        profile: str = typer.Option("puih_2020", "--profile", help="Profile id or folder with the WT1 thresholds."),
        out: Path = typer.Option(..., "--out", help="Output folder for wells.csv, curves.csv, results.csv, errors.csv."),
        wt1_target: str = typer.Option("WT1", "--wt1-target", help="WT1 target name as exported."),
        abl1_target: str = typer.Option("ABL1", "--abl1-target", help="ABL1 target name as exported."),
        specimen: Optional[str] = typer.Option(None, "--specimen", help="BM or PB for every sample (default: the profile's)."),
        curve: Optional[Path] = typer.Option(
            None, "--curve",
            help="Stored standard curves (CSV/Parquet with target, slope, intercept; e.g. an earlier curves.csv) "
                 "for plates without standards.",
        ),
    ) -> None:
        """Read qPCR exports, fit standard curves, quantify WT1/ABL1 and call each sample.

        Each export is one plate, quantified on its own: a sample name repeated on several
        plates gives one result per plate (the ``plate`` column keeps them apart). Plates
        without standards use the --curve curves. A file that cannot be read or
        quantified is reported (stderr and errors.csv) and the others are still
        processed; the exit code is then 1.
        """
        import pandas as pd

        from ..errors import MrdquantError, QPCRError
        from ..io.qpcr import read_qpcr
        from ..io.store import write_table
        from ..pcr.calibration import curves_table, read_stored_curves
        from ..pcr.quantify import curve_limits, fit_curves, quantify_wt1

        slope_range, min_r2 = curve_limits(profile)
        stored = read_stored_curves(curve, slope_range=slope_range, min_r2=min_r2) if curve is not None else None
        wells_all, curves_all, results_all, errors = [], [], [], []
        for path in exports:
            try:
                wells = read_qpcr(path)
                curves = fit_curves(wells, (wt1_target, abl1_target), curves=stored, slope_range=slope_range,
                                    min_r2=min_r2)
                results = quantify_wt1(
                    wells, min_abl1=min_abl1, profile=profile, wt1_target=wt1_target, abl1_target=abl1_target,
                    specimen=specimen, curves=stored,
                )
            except MrdquantError as exc:
                message = str(exc) if str(path) in str(exc) else f"{path}: {exc}"
                typer.echo(f"mrdquant: error: {message}", err=True)
                errors.append({"file": str(path), "error": str(exc)})
                continue
            wells_all.append(wells)
            curves_all += [c for c in curves.values() if c is not None]
            results_all.append(results)
        write_table(pd.DataFrame(errors, columns=["file", "error"]), out / "errors.csv")
        if not results_all:
            raise QPCRError(f"none of the {len(exports)} exports could be read and quantified")
        wells = pd.concat(wells_all, ignore_index=True)
        results = pd.concat(results_all, ignore_index=True)
        write_table(wells, out / "wells.csv")
        write_table(curves_table(curves_all), out / "curves.csv")
        write_table(results, out / "results.csv")
        counts = results["call"].value_counts().to_dict()
        typer.echo(
            f"{len(results_all)} of {len(exports)} exports read, {len(wells)} wells, {len(results)} samples: "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        )
        exit_if_failed(errors)

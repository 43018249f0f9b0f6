"""``mrdquant reference fit|info`` and ``mrdquant dfn``: normal-marrow references and DfN MRD."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

RESULT_TABLE = "dfn_results"
POPULATION_TABLE = "dfn_populations"


def fit_reference(files: list, panel: str, out: Path, **params):
    """Fit a :class:`~mrdquant.mfc.reference.NormalReference` on ``files`` and save it."""
    from ..errors import InputError
    from ..mfc.reference import NormalReference

    missing = [str(f) for f in files if not Path(f).is_file()]
    if missing:
        raise InputError(f"{missing[0]}: no such FCS file")
    ref = NormalReference.fit([str(f) for f in files], panel, **params)
    ref.save(out)
    return ref


def run_dfn(files: list, reference: Path, out_dir: Path, *, profile: str = "puih_2020",
            laip: Optional[Path] = None, laip_gate: str = "LAIP", plots: bool = True,
            channels: Optional[dict] = None):
    """DfN (and, with a LAIP strategy, the integrated call) for each file.

    ``channels`` is the explicit marker -> ``$PnN`` mapping passed to
    :func:`~mrdquant.mfc.dfn.quantify_dfn` for every file.

    Writes ``dfn_results.csv``/``.parquet`` (one row per file), ``dfn_populations.csv``
    (one row per population), ``plots/<sample_id>_dfn.png`` and, when files fail,
    ``dfn_errors.csv``. Returns ``(results, errors)`` DataFrames.
    """
    import pandas as pd

    from ..errors import MrdquantError
    from ..io.store import write_table
    from ..mfc.dfn import integrated_call, quantify_dfn
    from ..mfc.dfn_plots import plot_dfn_populations
    from ..mfc.reference import NormalReference

    ref = NormalReference.load(reference)
    strategy = None
    if laip is not None:
        from ..cytometry.gating import GatingStrategy

        strategy = GatingStrategy.from_gatingml(laip)
    rows, pops, errors = [], [], []
    out_dir = Path(out_dir)
    for f in files:
        sid = Path(f).stem
        try:
            res = quantify_dfn(str(f), ref, profile, sample_id=sid, channels=channels)
            row = res.to_row()
            row["reference"] = str(reference)
            if strategy is not None:
                from ..io.fcs import read_fcs

                gated = strategy.gate(read_fcs(f), sample_id=sid)
                call = integrated_call(__import__("numpy").asarray(gated.membership(laip_gate)), res)
                row.update({k: v for k, v in call.to_row().items() if k not in row})
            rows.append(row)
            if len(res.populations):
                p = res.populations.copy()
                p.insert(0, "sample_id", sid)
                pops.append(p)
            if plots:
                plot_dfn_populations(res, ref, out_dir / "plots" / f"{sid}_dfn.png")
        except (MrdquantError, OSError) as exc:
            errors.append({"sample_id": sid, "path": str(f), "error_type": type(exc).__name__, "error": str(exc)})
    results = pd.DataFrame(rows)
    errs = pd.DataFrame(errors, columns=["sample_id", "path", "error_type", "error"])
    if len(results):
        write_table(results, out_dir / f"{RESULT_TABLE}.csv")
        write_table(results, out_dir / f"{RESULT_TABLE}.parquet")
    if pops:
        write_table(pd.concat(pops, ignore_index=True), out_dir / f"{POPULATION_TABLE}.csv")
    if len(errs):
        write_table(errs, out_dir / "dfn_errors.csv")
    return results, errs


def register(app: typer.Typer) -> None:
    """Add ``reference`` (fit, info) and ``dfn`` to the ``mrdquant`` command line."""
    ref_app = typer.Typer(help="Normal-marrow references for different-from-normal (DfN) MRD.", no_args_is_help=True)
    app.add_typer(ref_app, name="reference")

    @ref_app.command("fit")
    def fit(
        files: List[Path] = typer.Argument(..., help="FCS files of normal / regenerating marrows."),
        panel: str = typer.Option(..., "--panel", help="Panel name or file the files were acquired with."),
        out: Path = typer.Option(..., "--out", help="Reference file to write (.npz)."),
        fp_rate: float = typer.Option(1e-4, "--fp-rate", help="Target novel-event rate on held-out normals."),
        components: int = typer.Option(16, "--components", help="Gaussian mixture components."),
        seed: int = typer.Option(0, "--seed", help="Random seed (subsampling, k-means initialisation)."),
        channel: List[str] = typer.Option([], "--channel", help="Map a marker to a channel: CD58=APC-Cy7-A (repeatable)."),
    ) -> None:
        """Fit a normal-marrow reference on normal FCS files and write it as one .npz file.

        The mixture is fitted on a subsample of the denominator events; the novelty
        threshold is calibrated on held-out files to --fp-rate. The file carries the
        panel, the transforms, the training files' SHA-256 and a content hash.
        """
        from ._flow import _parse_channels

        ref = fit_reference(list(files), panel, out, fp_event_rate=fp_rate, n_components=components, seed=seed,
                            channels=_parse_channels(channel) or None)
        cal = ref.calibration
        typer.echo(
            f"reference for panel {ref.panel_id!r}: {len(ref.training)} file(s), {ref.mixture.n_components} components, "
            f"novel-event rate {cal['achieved_fp_event_rate']:.3g} on {cal['n_events']} held-out events "
            f"(target {cal['fp_event_rate']:g}); DfN events on held-out normals {cal['dfn_events_per_sample']} -> {out}",
            err=True,
        )

    @ref_app.command("info")
    def info(reference: Path = typer.Argument(..., help="Reference file (.npz).")) -> None:
        """Verify a reference file and print its panel, training files and calibration as JSON."""
        from ..mfc.reference import NormalReference

        ref = NormalReference.load(reference)
        typer.echo(json.dumps({**ref.summary(), "training": ref.training, "created": ref.created}, indent=1, default=str))

    @app.command("dfn")
    def dfn(
        files: List[Path] = typer.Argument(..., help="FCS files to assess."),
        reference: Path = typer.Option(..., "--reference", help="Normal reference (.npz) of the files' panel."),
        out: Path = typer.Option(..., "--out", help="Output folder (created if needed)."),
        profile: str = typer.Option("puih_2020", "--profile", help="Threshold profile (LOD, LLOQ, positivity)."),
        laip: Optional[Path] = typer.Option(
            None, "--laip", help="Gating-ML LAIP strategy: adds the integrated LAIP + DfN call per file."
        ),
        laip_gate: str = typer.Option("LAIP", "--laip-gate", help="Gate id of the LAIP in --laip."),
        plots: bool = typer.Option(True, "--plots/--no-plots", help="Write a population plot per file."),
        channel: List[str] = typer.Option([], "--channel", help="Map a marker to a channel: CD58=APC-Cy7-A (repeatable)."),
    ) -> None:
        """Different-from-normal MRD of FCS files against a normal reference.

        Writes dfn_results.csv/.parquet (one row per file: DfN events, denominator, MRD %,
        status, reason; with --laip also LAIP, both, LAIP-only, DfN-only events, the
        integrated call and the agreement), dfn_populations.csv and plots/. Files that
        fail are reported and listed in dfn_errors.csv; the others finish (exit code 1).
        """
        from ..errors import ReferenceFileError
        from ._flow import _parse_channels

        if not Path(reference).is_file():
            raise ReferenceFileError(f"{reference}: no such reference file")
        results, errors = run_dfn(list(files), reference, out, profile=profile, laip=laip, laip_gate=laip_gate, plots=plots,
                                  channels=_parse_channels(channel) or None)
        for row in results.to_dict("records"):
            extra = f", integrated {row['integrated_status']} ({row['agreement']})" if "agreement" in row else ""
            pct = f", {row['dfn_mrd_pct']:.3g}%" if row["dfn_mrd_pct"] == row["dfn_mrd_pct"] else ""  # NaN: no level
            typer.echo(f"{row['sample_id']}: DfN {row['dfn_status']}, {row['dfn_events']} events{pct}{extra}")
        for row in errors.itertuples(index=False):
            msg = row.error if str(row.error).startswith(str(row.path)) else f"{row.path}: {row.error}"
            typer.echo(f"mrdquant: error: {msg}", err=True)
        typer.echo(f"{len(results)} file(s) -> {Path(out) / (RESULT_TABLE + '.csv')}", err=True)
        if len(errors):
            raise typer.Exit(code=1)

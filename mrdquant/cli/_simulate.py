"""``mrdquant simulate``: simulated inputs with known truth (flow, qPCR, cohorts, data samples)."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register", "default_flow_name"]


def default_flow_name(panel: str, mrd: float, seed: int) -> str:
    """File name of ``simulate flow`` without ``--name``: ``b_all_mrd0.001_seed0.fcs``."""
    slug = panel.strip().lower().replace(" ", "_").replace("-", "_")
    return f"{slug}_mrd{mrd:g}_seed{seed}.fcs"


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command group to the ``mrdquant`` command line."""
    sim = typer.Typer(
        name="simulate",
        help="Write simulated inputs with known truth: flow tubes, qPCR plates, cohorts, trials.",
        no_args_is_help=True,
    )

    @sim.command("flow")
    def flow(
        out: Path = typer.Option(..., "--out", help="Output folder."),
        panel: str = typer.Option("B-ALL", "--panel", help="Panel: B-ALL, PUIH B-ALL, T-ALL or AML."),
        mrd: float = typer.Option(1e-3, "--mrd", help="Expected leukemic fraction of the denominator (0-1)."),
        events: int = typer.Option(200_000, "--events", help="Total events in the tube."),
        seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same bytes)."),
        name: str = typer.Option("", "--name", help="FCS file name (default from panel, mrd and seed)."),
        marrow: str = typer.Option("normal", "--marrow", help="normal or regenerating (hematogone-rich)."),
        phenotype: str = typer.Option(
            "diagnosis", "--phenotype", help="Blast phenotype: diagnosis; shifted (B-ALL, T-ALL); asynchronous (AML)."
        ),
        layout: str = typer.Option("default", "--layout", help="Channel layout: default or alternate."),
        drift: str = typer.Option("", "--drift", help="Gain drift per marker, e.g. CD10=1.3,CD45=0.8."),
    ) -> None:
        """Simulate one bone-marrow MRD tube: writes the FCS file and its .truth.parquet sidecar.

        Options select a regenerating marrow, a post-therapy or asynchronous blast
        phenotype, the panel's alternate fluorochrome layout and day-to-day gain drift.
        """
        from ..errors import InputError
        from ..mfc.panels import load_panel
        from ..simulate.flow import ALTERNATE_CHANNELS, write_bone_marrow_fcs

        if layout not in ("default", "alternate"):
            raise InputError(f"--layout {layout!r}: expected default or alternate")
        channels = ALTERNATE_CHANNELS.get(load_panel(panel).panel_id) if layout == "alternate" else None
        gains = {}
        for item in filter(None, (x.strip() for x in drift.split(","))):
            marker, _, value = item.partition("=")
            try:
                gains[marker.strip()] = float(value)
            except ValueError:
                raise InputError(f"--drift {drift!r}: expected MARKER=FACTOR pairs, e.g. CD10=1.3,CD45=0.8") from None
        fname = name or default_flow_name(panel, mrd, seed)
        if not fname.lower().endswith(".fcs"):
            fname += ".fcs"
        fcs, truth = write_bone_marrow_fcs(
            Path(out) / fname, panel, events, mrd_fraction=mrd, seed=seed, marrow=marrow,
            leukemia_phenotype=phenotype, channels=channels, drift=gains or None,
        )
        typer.echo(str(fcs))
        typer.echo(str(truth))

    @sim.command("qpcr")
    def qpcr(
        out: Path = typer.Option(..., "--out", help="Output folder."),
        seed: int = typer.Option(0, "--seed", help="Random seed."),
        name: str = typer.Option("wt1_abl1_plate", "--name", help="Plate name (file stem)."),
    ) -> None:
        """Simulate a WT1/ABL1 plate as a QuantStudio results export plus a truth CSV."""
        from ..io.store import write_table
        from ..simulate.qpcr import write_quantstudio_plate

        path, truth = write_quantstudio_plate(Path(out) / f"{name}.txt", seed=seed)
        truth_path = write_table(truth, Path(out) / f"{name}_truth.csv")
        typer.echo(str(path))
        typer.echo(str(truth_path))

    @sim.command("cohort")
    def cohort(
        out: Path = typer.Option(..., "--out", help="Output folder."),
        patients: int = typer.Option(100, "--patients", help="Number of transplanted patients."),
        seed: int = typer.Option(0, "--seed", help="Random seed."),
    ) -> None:
        """Simulate a transplanted cohort: one CSV per table (patients, samples, truth)."""
        import pandas as pd

        from ..io.store import write_table
        from ..simulate.cohort import simulate_cohort

        tables = simulate_cohort(patients, seed=seed)
        for key, df in tables.items():
            df = df.copy()
            for col in df.columns:
                if pd.api.types.is_datetime64_any_dtype(df[col]):
                    df[col] = df[col].dt.strftime("%Y-%m-%d")
            typer.echo(str(write_table(df, Path(out) / f"{key}.csv")))

    @sim.command("trial")
    def trial(
        out: Path = typer.Option(..., "--out", help="Output folder."),
        per_arm: int = typer.Option(100, "--per-arm", min=1, help="Patients randomized to each arm."),
        seed: int = typer.Option(0, "--seed", help="Random seed."),
    ) -> None:
        """Simulate the prophylactic vs pre-emptive DLI trial: patients, samples, truth CSVs."""
        from ..simulate.trial import write_trial

        for path in write_trial(Path(out), per_arm, seed=seed):
            typer.echo(str(path))

    @sim.command("study")
    def study(
        out: Path = typer.Argument(..., help="Study folder to write (created)."),
        patients: int = typer.Option(8, "--patients", min=1, help="Patients in the simulated cohort."),
        events: int = typer.Option(250_000, "--events", min=2_000, help="Events per FCS tube."),
        seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same files)."),
    ) -> None:
        """Simulate a complete study folder (FCS tubes, qPCR plates, clinical tables, study.toml, truth/).

        Run it with: mrdquant run OUT
        """
        from ..simulate.study import write_study

        written = write_study(out, n_patients=patients, n_events=events, seed=seed)
        n_fcs = sum(1 for p in written if p.suffix == ".fcs")
        n_plates = sum(1 for p in written if p.suffix == ".txt")
        typer.echo(f"{Path(out) / 'study.toml'}: {patients} patients, {n_fcs} FCS tubes of {events} events, "
                   f"{n_plates} qPCR plates; truth in {Path(out) / 'truth'}")

    @sim.command("data-samples")
    def data_samples(
        out: Path = typer.Option(..., "--out", help="Folder to fill (flow/, qpcr/, cohort/, trial/ inside)."),
    ) -> None:
        """Regenerate the bundled example inputs (deterministic) into OUT/flow, qpcr, cohort, trial."""
        from ..simulate.bundle import write_all_data_samples

        for path in write_all_data_samples(out):
            typer.echo(str(path))

    app.add_typer(sim, name="simulate")

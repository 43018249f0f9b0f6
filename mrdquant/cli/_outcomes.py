"""``mrdquant outcomes``: endpoints, outcome estimates, tests, Cox models and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .exit_codes import exit_if_failed

#: tables written into ``--out`` (CSV)
OUTPUT_TABLES = ("endpoints", "estimates", "tests", "cox_univariate", "cohort_table", "cohort_table_wide")


def _levels(values) -> list[str]:
    import pandas as pd

    if isinstance(values.dtype, pd.CategoricalDtype):
        return [str(v) for v in values.cat.categories]
    return sorted(str(v) for v in values.dropna().unique())


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def run_outcomes(
    patients: Path,
    out: Path,
    *,
    timelines: Path | None = None,
    index: str = "hsct",
    group: str = "status",
    groups: list[str] | None = None,
    years: float | None = None,
    trial: bool = False,
    arm: str = "arm",
    horizon_days: float | None = None,
    agvhd_min_grade: int = 2,
    cgvhd_min_severity: str = "moderate",
    characteristics: list[str] | None = None,
    cif_conf_type: str = "log-log",
    plots: bool = True,
    date_format: str | None = None,
    echo=print,
    echo_err=print,
) -> dict:
    """Build endpoints, summarise and write the tables and plots.

    Returns
    -------
    dict
        ``{"written": [paths], "failed": [descriptions of outputs that could not be made]}``.
    """
    import pandas as pd

    from ..errors import InputError
    from ..io.clinical import read_patients
    from ..io.store import read_table, write_table, write_text
    from ..outcomes.characteristics import cohort_table, wide_cohort_table
    from ..outcomes.endpoints import build_endpoints
    from ..outcomes.summary import study_summary, trial_summary

    pts = read_patients(patients, date_format=date_format)
    tl = read_table(timelines) if timelines is not None else None
    group_col = arm if trial else group
    characteristics = list(characteristics if characteristics is not None else ["diagnosis"])
    keep = tuple(dict.fromkeys(["diagnosis", "arm", "intervention", group_col, *characteristics]))
    ep = build_endpoints(
        pts,
        index=index,
        timelines=tl,
        horizon_days=horizon_days,
        agvhd_min_grade=agvhd_min_grade,
        cgvhd_min_severity=cgvhd_min_severity,
        keep=keep,
    )
    if group_col not in ep.columns:
        if group_col in ("status", "mrd_status") and "mrd_status" in ep.columns:
            group_col = "mrd_status"
        elif tl is not None and group_col in tl.columns:
            ep[group_col] = ep["patient_id"].astype(str).map(tl.set_index(tl["patient_id"].astype(str))[group_col])
        else:
            hint = " (pass --timelines for the MRD status)" if group_col == "status" else ""
            raise InputError(f"--group {group_col!r}: no such column in the patients or timelines table{hint}")
    if groups:
        ep = ep[ep[group_col].astype(str).isin(groups)].copy()
        ep[group_col] = pd.Categorical(ep[group_col].astype(str), categories=groups)
        if ep.empty:
            raise InputError(f"--groups {groups}: no patient is in these {group_col} groups")
    if ep[group_col].isna().any():
        n_missing = int(ep[group_col].isna().sum())
        echo_err(f"mrdquant outcomes: {n_missing} patient(s) without {group_col} left out")
        ep = ep[ep[group_col].notna()].copy()
    at_years = years if years is not None else (1.0 if trial else 4.0)
    if trial:
        summary = trial_summary(ep, group_col, at_years=at_years, cif_conf_type=cif_conf_type)
    else:
        summary = study_summary(ep, group_col, at_years=at_years, cif_conf_type=cif_conf_type)

    for row in summary.cox.loc[~summary.cox["converged"].astype(bool)].itertuples(index=False):
        echo_err(f"mrdquant outcomes: Cox model of {row.endpoint} on {row.covariate}: {row.term} {row.note}")
    out = Path(out)
    written = [
        write_table(ep, out / "endpoints.csv"),
        write_table(summary.estimates, out / "estimates.csv"),
        write_table(summary.tests, out / "tests.csv"),
        write_table(summary.cox, out / "cox_univariate.csv"),
    ]
    failed: list[str] = []
    chars = [c for c in characteristics if c in ep.columns and c != group_col]
    if chars:
        try:
            table1 = cohort_table(ep, group_col, chars)
            written += [
                write_table(table1, out / "cohort_table.csv"),
                write_table(wide_cohort_table(table1), out / "cohort_table_wide.csv"),
            ]
        except InputError as exc:
            failed.append("cohort_table")
            echo_err(f"mrdquant outcomes: cohort table failed: {exc}")
    text = summary.text()
    written.append(write_text(text + "\n", out / "summary.txt"))

    if plots:
        from ..report.survival_plots import plot_cif, plot_km

        import matplotlib.pyplot as plt

        from ..report.figures import group_colors
        from ..report.survival_plots import index_label

        xlabel = f"Months from {index_label(index)}"
        colors = group_colors(_levels(ep[group_col]))
        horizon = dict(horizon=12.0 * at_years, horizon_label=f"At {at_years:g} year{'s' if at_years != 1 else ''}")
        todo = [("cif", "relapse", "Cumulative incidence of relapse"),
                ("km", "dfs", "Leukemia-free survival" if trial else "Disease-free survival"),
                ("km", "os", "Overall survival")]
        if not trial:
            todo.insert(1, ("cif", "nrm", "Non-relapse mortality"))
        for kind, name, title in todo:
            target = out / f"{kind}_{name}.png"
            sub = ep[ep[f"{name}_event"].notna()]
            try:
                plot = plot_cif if kind == "cif" else plot_km
                fig = plot(sub[f"{name}_months"], sub[f"{name}_event"].astype(int), sub[group_col],
                           path=target, xlabel=xlabel, title=title, colors=colors, **horizon)
                plt.close(fig)
                written.append(target)
            except Exception as exc:  # one failed plot must not stop the others
                failed.append(str(target))
                echo_err(f"mrdquant outcomes: plot {target.name} failed: {exc}")

    echo(text)
    for path in written:
        echo(f"wrote {path}")
    return {"written": written, "failed": failed}


def register(app: typer.Typer) -> None:
    """Add the ``outcomes`` command to ``app``."""

    @app.command("outcomes")
    def outcomes(
        patients: Path = typer.Option(..., "--patients", help="Patients table (CSV/TSV/Parquet)."),
        out: Path = typer.Option(..., "--out", help="Output folder."),
        timelines: Optional[Path] = typer.Option(
            None, "--timelines", help="Patient MRD timelines (output of `mrdquant calls`, patients.csv)."
        ),
        index: str = typer.Option(
            "hsct", "--index", help="Time origin: hsct, first_mrd_positive, intervention, randomization or a date column."
        ),
        group: str = typer.Option("status", "--group", help="Column with the groups compared (status = MRD status)."),
        groups: Optional[str] = typer.Option(None, "--groups", help="Keep only these groups, in this order, e.g. MRDsin+,MRDco+."),
        years: Optional[float] = typer.Option(None, "--years", help="Time point of the estimates, years (default 4; 1 with --trial)."),
        trial: bool = typer.Option(False, "--trial", help="Two-arm trial summary (relapse, LFS, OS, toxicities by arm)."),
        arm: str = typer.Option("arm", "--arm", help="Arm column (with --trial)."),
        horizon_days: Optional[float] = typer.Option(None, "--horizon-days", help="Administrative censoring, days from the index."),
        agvhd_min_grade: int = typer.Option(2, "--agvhd-min-grade", help="Acute GVHD counts from this grade."),
        cgvhd_min_severity: str = typer.Option("moderate", "--cgvhd-min-severity", help="Chronic GVHD counts from this severity."),
        characteristics: Optional[str] = typer.Option(
            None, "--characteristics", help="Comma-separated patient columns for the cohort table (default diagnosis)."
        ),
        cif_ci: str = typer.Option("log-log", "--cif-ci", help="Cumulative incidence CI: log-log or plain."),
        no_plots: bool = typer.Option(False, "--no-plots", help="Do not draw the KM / CIF plots."),
        date_format: Optional[str] = typer.Option(
            None, "--date-format", help="Layout of the patients table's dates, e.g. %d/%m/%Y (default ISO YYYY-MM-DD)."
        ),
    ) -> None:
        """Endpoints, outcome estimates with 95% CI, Gray / log-rank tests, Cox models and plots.

        Writes endpoints.csv, estimates.csv, tests.csv, cox_univariate.csv,
        cohort_table.csv (+ _wide), summary.txt and cif_relapse.png, cif_nrm.png, km_dfs.png,
        km_os.png into --out.
        """
        result = run_outcomes(
            patients,
            out,
            timelines=timelines,
            index=index,
            group=group,
            groups=_split(groups) or None,
            years=years,
            trial=trial,
            arm=arm,
            horizon_days=horizon_days,
            agvhd_min_grade=agvhd_min_grade,
            cgvhd_min_severity=cgvhd_min_severity,
            characteristics=_split(characteristics) if characteristics is not None else None,
            cif_conf_type=cif_ci,
            plots=not no_plots,
            date_format=date_format,
            echo=typer.echo,
            echo_err=lambda msg: typer.echo(msg, err=True),
        )
        exit_if_failed(result["failed"])

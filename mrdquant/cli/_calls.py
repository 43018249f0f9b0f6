"""``mrdquant calls``: patient MRD timelines (negative / MRDsin+ / MRDco+) from tables."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .exit_codes import exit_if_failed

#: file names written into ``--out`` (suffix from ``--format``)
OUTPUT_STEMS = ("patients", "samples", "profile")


def _parse_value(text: str):
    """``7`` -> 7, ``0.5`` -> 0.5, ``none`` -> None, ``BM,PB`` -> ['BM', 'PB'], else the text."""
    raw = text.strip()
    if raw.lower() == "none":
        return None
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    if "," in raw:
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def parse_overrides(items: list[str]) -> dict:
    """``["confirmation_window_days=7", "consecutive=within"]`` -> dict of overrides."""
    from ..errors import ConfigError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected PARAMETER=VALUE, e.g. confirmation_window_days=7")
        key = key.strip()
        parsed = _parse_value(value)
        if key == "specimens" and isinstance(parsed, str):
            parsed = [parsed]
        out[key] = parsed
    return out


def run_calls(
    patients: Path,
    samples: Path,
    out: Path,
    *,
    profile: str = "puih_2020",
    fmt: str = "csv",
    plots: bool = False,
    events: Path | None = None,
    overrides: dict | None = None,
    pre_hsct: str = "raise",
    date_format: str | None = None,
    mfc: Path | None = None,
    echo=print,
    echo_err=print,
) -> dict:
    """Classify, write the tables (and plots).

    The one code path from tables to calls: ``mrdquant calls`` and ``mrdquant demo`` both
    run it, so their ``samples`` tables are the same (e.g. ``days_from_hsct`` filled).

    Returns
    -------
    dict
        ``written`` (paths), ``failed`` (patients whose plot failed), ``timelines`` (one
        row per patient) and ``samples`` (one row per sample) as written.
    """
    import pandas as pd

    from ..calls.rules import timeline_rules
    from ..calls.timeline import classify_timeline_with_samples
    from ..errors import ConfigError
    from ..io.clinical import read_events, read_patients, read_samples
    from ..io.store import write_table
    from ..profiles import load_profile

    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"--format {fmt!r}: expected 'csv' or 'parquet'")
    prof = load_profile(profile)
    rules = timeline_rules(prof, **(overrides or {}))
    pts = read_patients(patients, date_format=date_format)
    if pre_hsct not in ("raise", "drop"):
        raise ConfigError(f"--pre-hsct {pre_hsct!r}: expected raise or drop")
    source = samples
    if mfc is not None:
        # MFC results of `mrdquant flow`, linked to the sheet through its fcs_sample_id column
        from ..calls.merge import merge_results
        from ..io.store import read_table

        sheet = read_table(samples)
        drop = [c for c in ("mfc", "mfc_pct", "mfc_reason", "wt1", "wt1_pct", "wt1_reason") if c in sheet]
        kept = sheet[[c for c in ("wt1", "wt1_pct", "wt1_reason") if c in sheet]]
        source = merge_results(sheet.drop(columns=drop), mfc=read_table(mfc))
        for c in kept:
            source[c] = kept[c]
    smp = read_samples(source, pts, pre_hsct=pre_hsct, date_format=date_format)
    if pre_hsct == "drop":
        echo(f"--pre-hsct drop: left out {smp.attrs.get('pre_hsct_dropped', 0)} sample(s) dated before the HSCT")
    ev = read_events(events, pts, date_format=date_format) if events is not None else None
    timeline, called = classify_timeline_with_samples(pts, smp, rules)

    others = prof.table()
    others = others[~others["parameter"].str.startswith("timeline.")]
    profile_table = pd.concat([others, rules.table], ignore_index=True)
    profile_table["value"] = profile_table["value"].map(_value_text)

    out = Path(out)
    written = [
        write_table(timeline, out / f"patients.{fmt}"),
        write_table(called, out / f"samples.{fmt}"),
        write_table(profile_table, out / f"profile.{fmt}"),
    ]
    failed: list[str] = []
    if plots:
        from ..report.kinetics import write_kinetics_plots

        res = write_kinetics_plots(
            pts, smp, out / "kinetics", profile=prof, events=ev, timeline=timeline, rules=rules
        )
        written += [Path(p) for p in res.loc[res["error"] == "", "path"]]
        for row in res[res["error"] != ""].itertuples(index=False):
            failed.append(row.patient_id)
            echo_err(f"mrdquant calls: plot of patient {row.patient_id} failed: {row.error}")

    echo(f"profile {rules.profile_id}: timeline parameters used")
    for row in rules.table.itertuples(index=False):
        value = _value_text(row.value)
        note = row.source if row.source else f"unset: {row.reason}"
        echo(f"  {row.parameter.removeprefix('timeline.')} = {value} [{row.unit}] ({note})")
    counts = timeline["status"].value_counts()
    echo("status: " + ", ".join(f"{k} {int(counts.get(k, 0))}" for k in ("negative", "MRDsin+", "MRDco+", "not evaluable")))
    for path in written:
        echo(f"wrote {path}")
    return {"written": written, "failed": failed, "timelines": timeline, "samples": called}


def _value_text(value) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def register(app: typer.Typer) -> None:
    """Add the ``calls`` command to ``app``."""

    @app.command("calls")
    def calls(
        patients: Path = typer.Option(..., "--patients", help="Patients table (CSV/TSV/Parquet)."),
        samples: Path = typer.Option(..., "--samples", help="Samples table (CSV/TSV/Parquet)."),
        out: Path = typer.Option(..., "--out", help="Output folder."),
        profile: str = typer.Option("puih_2020", "--profile", help="Profile id or folder."),
        fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
        plots: bool = typer.Option(False, "--plots", help="Also write one kinetics plot per patient (PNG)."),
        events: Optional[Path] = typer.Option(None, "--events", help="Optional events table."),
        set_: Optional[List[str]] = typer.Option(
            None, "--set", help="Override a timeline parameter, e.g. --set confirmation_window_days=7."
        ),
        pre_hsct: str = typer.Option("raise", "--pre-hsct", help="Samples before HSCT: raise or drop."),
        date_format: Optional[str] = typer.Option(
            None, "--date-format", help="Layout of the tables' dates, e.g. %d/%m/%Y (default ISO YYYY-MM-DD)."
        ),
        mfc: Optional[Path] = typer.Option(
            None, "--mfc", help="mfc_results.csv/.parquet of `mrdquant flow`; linked through the samples' fcs_sample_id column."
        ),
    ) -> None:
        """Call each sample and classify each patient's MRD timeline (negative / MRDsin+ / MRDco+).

        Writes patients.<fmt> (one row per patient), samples.<fmt> (one row per sample),
        profile.<fmt> (every parameter with value, unit and source) and, with --plots,
        kinetics/<patient_id>.png.
        """
        result = run_calls(
            patients,
            samples,
            out,
            profile=profile,
            fmt=fmt,
            plots=plots,
            events=events,
            overrides=parse_overrides(set_ or []),
            pre_hsct=pre_hsct,
            date_format=date_format,
            mfc=mfc,
            echo=typer.echo,
            echo_err=lambda msg: typer.echo(msg, err=True),
        )
        exit_if_failed(result["failed"])

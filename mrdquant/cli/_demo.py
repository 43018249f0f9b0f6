"""``mrdquant demo``: ``mrdquant run`` on the bundled example study, checked against its truth.

The bundled study (``data_samples/study``, written by ``mrdquant simulate study``) holds FCS
tubes and WT1/ABL1 plates whose MRD follows two simulated patients' courses, their
clinical tables and a sample sheet. The demo runs it like a lab would (results store and
results folder under ``--out``), compares each stage's headline with the simulator's truth,
adds the simulated two-arm DLI trial (1-year outcomes by arm, ``trial/``) and writes the
HTML study and patient reports (``report/``).
"""

from __future__ import annotations

from pathlib import Path

import typer


def run_demo(out: Path, *, echo=typer.echo, progress: bool = False):
    """Run the bundled study into ``out`` and the trial stage; return the run summary.

    The store is ``out/mrdquant.sqlite`` and the results folder ``out`` (layout in
    ``docs/pipeline.md``); run it twice and the second run has nothing to do.
    """
    import pandas as pd

    from .._resources import data_samples_dir
    from ..io.store import write_table, write_text
    from ..outcomes.endpoints import build_endpoints
    from ..outcomes.summary import trial_summary
    from ..study import load_study, run_study
    from ..study.progress import Progress

    data = data_samples_dir()
    out = Path(out).resolve()
    # the two-arm DLI trial first (demo only): 1-year outcomes by arm from randomization, so
    # that the report written at the end of the run includes it
    trial_patients = pd.read_csv(data / "trial" / "patients.csv")
    trial_endpoints = build_endpoints(trial_patients, index="randomization")
    trial = trial_summary(trial_endpoints, "arm", at_years=1)
    write_table(trial_endpoints, out / "trial" / "endpoints.csv")
    write_table(trial.estimates, out / "trial" / "estimates.csv")
    write_table(trial.tests, out / "trial" / "tests.csv")
    write_text(trial.text() + "\n", out / "trial" / "results.txt")

    study = load_study(data / "study", store=str(out / "mrdquant.sqlite"), results=out)
    summary = run_study(study, progress=Progress(enabled=progress))
    echo(summary.text())

    # compare with the simulator's truth
    truth = data / "study" / "truth"
    if (out / "flow" / "mfc_results.csv").exists():
        mfc = pd.read_csv(out / "flow" / "mfc_results.csv").merge(
            pd.read_csv(truth / "flow.csv"), left_on="sample_id", right_on="file")
        planted = mfc["status"].replace({"positive, not quantifiable": "positive"}) == mfc["planted_call"]
        pos = mfc[mfc["leukemic_events"] > 0]
        echo(f"truth: flow: {int(planted.sum())} of {len(mfc)} tube calls are the planted ones; "
             f"LAIP events found {int(pos['laip_events'].sum())} of {int(pos['leukemic_events'].sum())} "
             "simulated leukemic events")
    if (out / "qpcr" / "wt1_results.csv").exists():
        wt1 = pd.read_csv(out / "qpcr" / "wt1_results.csv").merge(
            pd.read_csv(truth / "qpcr.csv"), on=["plate", "sample"])
        echo(f"truth: qpcr: {int((wt1['call'] == wt1['expected_call']).sum())} of {len(wt1)} WT1 calls are the "
             "expected ones (PB samples: not evaluable, puih_2020 has no PB threshold)")
    if (out / "calls" / "patients.csv").exists():
        calls = pd.read_csv(out / "calls" / "patients.csv").merge(
            pd.read_csv(truth / "patients.csv"), on="patient_id", suffixes=("", "_truth"))
        echo(f"truth: calls: {int((calls['status'] == calls['status_truth']).sum())} of {len(calls)} patient "
             "statuses match the simulated truth")

    echo(f"trial: {len(trial_endpoints)} randomized patients, 1-year outcomes by arm")
    for line in trial.text().splitlines()[:3]:
        echo(f"  {line}")
    report = out / "report" / "study.html"
    if report.exists():
        pages = sorted((out / "report" / "patients").glob("*.html"))
        echo(f"report: study report {report}")
        echo(f"report: {len(pages)} patient reports in {report.parent / 'patients'}, "
             f"e.g. {pages[0] if pages else '(none)'}")
    return summary


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to ``app``."""

    @app.command("demo")
    def demo(
        out: Path = typer.Option(
            Path("mrdquant_demo"), "--out", help="Folder for the results and the store (created under the current directory)."
        ),
        progress: bool = typer.Option(False, "--progress/--no-progress", help="Progress on stderr."),
    ) -> None:
        """Run the bundled example study (mrdquant run) and compare it with the simulator's truth."""
        summary = run_demo(out, progress=progress)
        if summary.exit_code:
            raise typer.Exit(code=summary.exit_code)

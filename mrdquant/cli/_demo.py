"""``mrdquant demo``: the whole chain on the bundled ``data_samples/``.

FCS files -> LAIP gating -> MFC MRD %; WT1/ABL1 plates -> standard curves -> WT1 calls;
cohort samples -> patient MRD timelines; timelines + clinical events -> relapse, NRM,
DFS and OS by MRD group; a simulated two-arm DLI trial -> 1-year outcomes by arm; the HTML
study report and one report per patient. Results are written (atomically) into a folder
under the current directory, and each stage's headline is compared with the simulator's
truth.
"""

from __future__ import annotations

from pathlib import Path

import typer

#: Minimum mean ABL1 copies per reaction used by the demo (the bundled plates are
#: simulated with 10^4-10^5 ABL1 copies; a lab sets its own validated value).
DEMO_MIN_ABL1 = 10_000


def run_demo(out: Path, *, echo=typer.echo) -> dict[str, list[Path]]:
    """Run every stage on the bundled data; return the files written per stage."""
    import pandas as pd

    from .._resources import data_samples_dir
    from ..cytometry.gating import GatingStrategy
    from ..cytometry.laip import quantify_mrd_table
    from ..io.qpcr import read_qpcr
    from ..io.store import write_table, write_text
    from ..outcomes.endpoints import build_endpoints
    from ..outcomes.summary import study_summary, trial_summary
    from ..pcr.quantify import fit_curves, quantify_wt1
    from ..simulate._flow_gatingml import DENOMINATOR_GATE, LAIP_GATE
    from ._calls import run_calls

    data = data_samples_dir()
    out = Path(out)
    written: dict[str, list[Path]] = {}

    # 1. flow cytometry: B-ALL tubes gated with the bundled LAIP strategy
    manifest = pd.read_csv(data / "flow" / "manifest.csv")
    b_all = manifest[manifest["panel"] == "B-ALL"]
    strategy = GatingStrategy.from_gatingml(data / "flow" / "b_all_laip.xml")
    batch = strategy.gate_many([data / "flow" / f for f in b_all["file"]])
    counts = batch.counts()
    mrd = quantify_mrd_table(counts, LAIP_GATE, DENOMINATOR_GATE, profile="puih_2020")
    mrd = mrd.merge(
        b_all[["file", "leukemic_events"]].rename(
            columns={"file": "sample_id", "leukemic_events": "true_leukemic_events"}
        ),
        on="sample_id",
        how="left",
    )
    written["flow"] = [
        write_table(counts, out / "flow" / "gate_counts.csv"),
        write_table(mrd, out / "flow" / "mfc_mrd.csv"),
    ]
    echo(f"flow: {len(mrd)} B-ALL tubes gated")
    for row in mrd.itertuples():
        echo(
            f"  {row.sample_id}: {row.laip_events} LAIP / {row.denominator_events} nucleated singlets "
            f"= {row.mrd_pct:.4f} % ({row.status_detail}); simulated leukemic events {row.true_leukemic_events}"
        )

    # 2. WT1 qPCR: each run quantified on its own; the run without standards uses the
    #    curves of the first run as stored curves
    results, all_wells = [], []
    stored = None
    for plate in sorted((data / "qpcr").glob("*.txt"), key=lambda p: ("no_standards" in p.name, "ntc" in p.name, p.name)):
        wells = read_qpcr(plate)
        has_standards = (wells["role"] == "standard").any()
        if has_standards and stored is None:
            stored = {target: curve for (_, target), curve in fit_curves(wells, ("WT1", "ABL1")).items()}
        res = quantify_wt1(
            wells, min_abl1=DEMO_MIN_ABL1, profile="puih_2020", curves=None if has_standards else stored
        )
        truth_calls = pd.read_csv(plate.with_name(plate.stem + "_truth.csv"))[["sample", "expected_call"]]
        results.append(res.merge(truth_calls, on="sample", how="left").assign(plate=plate.stem))
        all_wells.append(wells)
    wt1 = pd.concat(results, ignore_index=True)
    written["qpcr"] = [
        write_table(pd.concat(all_wells, ignore_index=True), out / "qpcr" / "wells.csv"),
        write_table(wt1, out / "qpcr" / "wt1_results.csv"),
    ]
    for plate_id, part in wt1.groupby("plate", sort=False):
        calls = part["call"].value_counts().to_dict()
        known = part[part["expected_call"].isin(["positive", "negative", "not evaluable"])]
        match = int((known["call"] == known["expected_call"]).sum())
        truth_note = f"; {match} of {len(known)} calls match the simulated truth" if len(known) else ""
        echo(
            f"qpcr: {plate_id}: {len(part)} samples: "
            + ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
            + truth_note
        )

    # 3. MRD timelines
    #    through the same function as `mrdquant calls` (same tables, same columns)
    patients = pd.read_csv(data / "cohort" / "patients.csv")
    called = run_calls(data / "cohort" / "patients.csv", data / "cohort" / "samples.csv", out / "calls",
                       profile="puih_2020", echo=lambda *_: None, echo_err=echo)
    timelines = called["timelines"]
    expected = pd.read_csv(data / "cohort" / "truth.csv")
    agree = (
        timelines.set_index("patient_id")["status"]
        .eq(expected.set_index("patient_id")["status"])
        .sum()
    )
    written["calls"] = list(called["written"])
    status = timelines["status"].value_counts().to_dict()
    echo(
        f"calls: {len(timelines)} patients: "
        + ", ".join(f"{k} {v}" for k, v in sorted(status.items()))
        + f"; {agree} of {len(expected)} match the simulated truth"
    )

    # 4. outcomes from first MRD positivity, by MRD group
    endpoints = build_endpoints(patients, index="first_mrd_positive", timelines=timelines)
    summary = study_summary(endpoints, "mrd_status", at_years=2)
    written["outcomes"] = [
        write_table(endpoints, out / "outcomes" / "endpoints.csv"),
        write_table(summary.estimates, out / "outcomes" / "estimates.csv"),
        write_table(summary.tests, out / "outcomes" / "tests.csv"),
        write_table(summary.cox, out / "outcomes" / "cox_univariate.csv"),
        write_text(summary.text() + "\n", out / "outcomes" / "results.txt"),
    ]
    echo(f"outcomes: {len(endpoints)} MRD-positive patients followed from first positivity")
    for line in summary.text().splitlines():
        echo(f"  {line}")
    # 5. the two-arm DLI trial: 1-year outcomes by arm from randomization
    trial_patients = pd.read_csv(data / "trial" / "patients.csv")
    trial_endpoints = build_endpoints(trial_patients, index="randomization")
    trial = trial_summary(trial_endpoints, "arm", at_years=1)
    written["trial"] = [
        write_table(trial_endpoints, out / "trial" / "endpoints.csv"),
        write_table(trial.estimates, out / "trial" / "estimates.csv"),
        write_table(trial.tests, out / "trial" / "tests.csv"),
        write_text(trial.text() + "\n", out / "trial" / "results.txt"),
    ]
    echo(f"trial: {len(trial_endpoints)} randomized patients, 1-year outcomes by arm")
    for line in trial.text().splitlines()[:3]:
        echo(f"  {line}")
    # 6. the HTML reports (study + one per patient), figures and the Excel workbook
    from ..report.html import write_reports

    reports = write_reports(out)
    written["report"] = reports
    pages = [p for p in reports if p.suffix == ".html"]
    echo(f"report: study report {pages[0].resolve()}")
    echo(f"report: {len(pages) - 1} patient reports in {(pages[0].parent / 'patients').resolve()}, "
         f"e.g. {pages[1].resolve() if len(pages) > 1 else '(none)'}")
    return written


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to ``app``."""

    @app.command("demo")
    def demo(
        out: Path = typer.Option(
            Path("mrdquant_demo"), "--out", help="Folder for the results (created under the current directory)."
        ),
    ) -> None:
        """Run the whole chain on the bundled example data and write the results."""
        written = run_demo(out)
        n = sum(len(v) for v in written.values())
        typer.echo(f"wrote {n} files to {out.resolve()}")

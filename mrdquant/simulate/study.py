"""A complete simulated study folder: FCS tubes and qPCR plates whose MRD follows each
simulated patient's course, the clinical tables, a sample sheet, ``study.toml`` and the truth.

The cohort comes from :func:`mrdquant.simulate.simulate_cohort`. Every bone-marrow sample
with an MFC result becomes one B-ALL tube (:func:`mrdquant.simulate.flow.write_bone_marrow_fcs`):

- a positive sample is planted at its cohort level, raised where needed to at least
  100 expected leukemic events and 0.2 % (so the planted positive call is recoverable at
  the chosen event count: above the LLOQ and every positivity threshold);
- a negative sample has no leukemic cell;
- a not-evaluable sample is a hemodilute tube with 1/50 of the events.

Every sample with a WT1 result becomes a sample on a WT1/ABL1 plate (24 per plate,
:func:`mrdquant.simulate.qpcr.write_quantstudio_plate`): positive at least 1.5 % of ABL1,
negative at most 0.3 %, not evaluable with 2,000 ABL1 copies (below ``min_abl1``). With
several plates the last one carries no standards and is quantified with the stored curves
``qpcr/stored_curves.csv``.

Files written (``DIR`` the study folder)::

    study.toml                      the study file (docs/pipeline.md)
    flow/<sample_id>.fcs            one tube per BM sample with MFC (+ .truth.parquet per event)
    qpcr/plate_NN.txt               QuantStudio exports; qpcr/stored_curves.csv
    clinical/patients.csv           patients with outcome dates
    clinical/samples.csv            sample sheet: patient_id, sample_id, date, specimen,
                                    fcs_file, qpcr_plate, qpcr_sample
    clinical/events.csv             relapse, death and intervention events
    truth/patients.csv              the cohort truth (status per patient, ...)
    truth/flow.csv                  per tube: planted fraction, leukemic and denominator events
    truth/qpcr.csv                  per qPCR sample: planted copies, planted call and the call
                                    puih_2020 must give (PB: not evaluable, no PB threshold)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..io.store import write_table, write_text

__all__ = ["write_study", "write_data_samples", "STUDY_TOML_TEMPLATE", "DATA_SAMPLE_STUDY"]

#: the bundled example study (``data_samples/study``): small enough to ship, every stage exercised
DATA_SAMPLE_STUDY = dict(n_patients=2, n_events=2_000, seed=3, name="bundled example study", event_truth=False)

#: expected share of nucleated singlets (the B-ALL LAIP denominator) among all events
_DENOMINATOR_SHARE = 0.92
_PLATE_SIZE = 24
_MIN_ABL1 = 10_000

STUDY_TOML_TEMPLATE = """\
# mrdquant study file (see docs/pipeline.md for every key)
[study]
name = "{name}"
profile = "puih_2020"
results = "results"
store = "mrdquant.sqlite"
{profile_values}
[flow]
files = ["flow/*.fcs"]
panel = "B-ALL"      # gates placed on each file (mrdquant.quantify_mfc); a gating page per file

[qpcr]
files = ["qpcr/*.txt"]
min_abl1 = {min_abl1}
curves = "qpcr/stored_curves.csv"

[clinical]
patients = "clinical/patients.csv"
samples = "clinical/samples.csv"
events = "clinical/events.csv"

[outcomes]
index = "first_mrd_positive"
horizon_years = 2
group = "mrd_status"
"""


def _dates_as_text(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[c]):
            df[c] = df[c].dt.strftime("%Y-%m-%d")
    return df


def _events(patients: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for p in patients.itertuples():
        for event, when, detail in (("intervention", p.intervention_date, p.intervention),
                                    ("relapse", p.relapse_date, ""), ("death", p.death_date, p.death_cause)):
            if pd.notna(when):
                rows.append({"patient_id": p.patient_id, "event": event, "date": when, "detail": detail or ""})
    return pd.DataFrame(rows, columns=["patient_id", "event", "date", "detail"])


def _profile_values(n_events: int) -> str:
    """``[profile.values]`` block when the tubes are too small for 10^-4 negatives."""
    denominator = int(_DENOMINATOR_SHARE * n_events)
    if denominator >= 200_000:  # lod 20 / threshold 10^-4 under puih_2020: no override needed
        return ""
    minimum = max(1000, int(0.75 * denominator) // 1000 * 1000)
    return (
        "\n# The simulated tubes hold {n} events (about {d} nucleated singlets): too few to reach\n"
        "# the 10^-4 sensitivity puih_2020 asks of a negative call. This study accepts a negative\n"
        "# with at least {m} denominator events (a lab decision; recorded as a user override).\n"
        "[profile.values]\n\"mfc.min_denominator_events.ALL\" = {m}\n"
    ).format(n=n_events, d=denominator, m=minimum)


def write_study(
    out: "str | os.PathLike",
    *,
    n_patients: int = 8,
    n_events: int = 250_000,
    seed: int = 0,
    name: str | None = None,
    event_truth: bool = True,
) -> list[Path]:
    """Write a simulated study folder with its truth (layout in the module docstring).

    Parameters
    ----------
    out : path
        The study folder (created).
    n_patients : int, default 8
        Patients of the simulated cohort (:func:`~mrdquant.simulate.simulate_cohort`).
    n_events : int, default 250_000, events
        Events per FCS tube (not-evaluable tubes get 1/50). Below about 220,000 events
        the ``study.toml`` lowers the profile's minimum denominator for negative calls
        (an explicit, commented override), since no tube could otherwise be called
        negative at 10^-4.
    seed : int, default 0
        Seeds the cohort, every tube and every plate: same arguments, same files.
    name : str, optional
        Study name (default: the folder name).
    event_truth : bool, default True
        Keep each tube's per-event truth (``<stem>.truth.parquet``); ``truth/flow.csv``
        is written either way.

    Returns
    -------
    list of pathlib.Path
        Every file written.
    """
    from .cohort import simulate_cohort
    from .flow import write_bone_marrow_fcs
    from .qpcr import TRUE_CURVES, write_quantstudio_plate

    root = Path(out)
    n_events = int(n_events)
    if n_events < 2_000:
        raise ValueError(f"n_events={n_events}; expected at least 2000 events per tube")
    cohort = simulate_cohort(int(n_patients), seed=seed)
    samples = cohort["samples"]
    written: list[Path] = []
    rng = np.random.default_rng([seed, 7])

    # -- flow ------------------------------------------------------------------------------
    floor = max(100.0 / (_DENOMINATOR_SHARE * n_events), 0.002)
    flow_rows, fcs_link = [], {}
    for k, s in enumerate(samples.itertuples()):
        if s.specimen != "BM" or s.mfc not in ("positive", "negative", "not evaluable"):
            continue
        n = n_events if s.mfc != "not evaluable" else max(1000, n_events // 50)
        frac = 0.0
        if s.mfc == "positive":
            frac = max(float(s.mfc_pct) / 100.0, floor)
        fname = f"{s.sample_id}.fcs"
        fcs, truth_file = write_bone_marrow_fcs(root / "flow" / fname, "B-ALL", n, mrd_fraction=frac,
                                                seed=seed * 100_000 + k)
        truth = pd.read_parquet(truth_file)
        written.append(fcs)
        if event_truth:
            written.append(truth_file)
        else:
            truth_file.unlink()
        fcs_link[s.sample_id] = fname
        flow_rows.append({
            "file": fname, "sample_id": s.sample_id, "patient_id": s.patient_id, "planted_call": s.mfc,
            "n_events": n, "mrd_fraction": frac, "leukemic_events": int(truth["is_leukemic"].sum()),
            "denominator_events": int(truth["is_denominator"].sum()),
        })

    # -- qPCR ------------------------------------------------------------------------------
    wt1 = [s for s in samples.itertuples() if s.wt1 in ("positive", "negative", "not evaluable")]
    plates = [wt1[i:i + _PLATE_SIZE] for i in range(0, len(wt1), _PLATE_SIZE)]
    qpcr_rows, qpcr_link = [], {}
    for p, chunk in enumerate(plates, start=1):
        plate = f"plate_{p:02d}"
        specs = []
        for s in chunk:
            abl1 = float(rng.uniform(30_000, 80_000))
            if s.wt1 == "positive":
                pct = max(float(s.wt1_pct), 1.5)
            elif s.wt1 == "negative":
                pct = min(float(s.wt1_pct), 0.3)
            else:
                abl1, pct = 2_000.0, 0.1
            specs.append({"sample": s.sample_id, "specimen": s.specimen, "wt1_copies": pct / 100 * abl1,
                          "abl1_copies": abl1})
            qpcr_link[s.sample_id] = (plate, s.sample_id)
        no_standards = len(plates) > 1 and p == len(plates)
        path, truth = write_quantstudio_plate(root / "qpcr" / f"{plate}.txt", seed=seed * 1000 + p, samples=specs,
                                              no_standards=no_standards, min_abl1=_MIN_ABL1)
        written.append(path)
        planted = {s.sample_id: s.wt1 for s in chunk}
        # what puih_2020 must call: the planted call on BM; PB has no WT1 threshold in that
        # profile, so a PB sample is "not evaluable" whatever its level
        expected = {s.sample_id: s.wt1 if s.specimen == "BM" else "not evaluable" for s in chunk}
        qpcr_rows.append(truth.assign(plate=plate, standards=not no_standards,
                                      planted_call=truth["sample"].map(planted),
                                      expected_call=truth["sample"].map(expected)))
    curves = pd.DataFrame([{"target": t, "slope": s, "intercept": i, "source": "simulator's true curve"}
                           for t, (s, i) in TRUE_CURVES.items()])
    written.append(write_table(curves, root / "qpcr" / "stored_curves.csv"))

    # -- clinical tables, sample sheet, truth ---------------------------------------------------
    sheet = samples[["patient_id", "sample_id", "date", "specimen"]].copy()
    sheet["fcs_file"] = sheet["sample_id"].map(fcs_link).fillna("")
    sheet["qpcr_plate"] = sheet["sample_id"].map(lambda x: qpcr_link.get(x, ("", ""))[0])
    sheet["qpcr_sample"] = sheet["sample_id"].map(lambda x: qpcr_link.get(x, ("", ""))[1])
    patients = cohort["patients"]
    written += [
        write_table(_dates_as_text(patients), root / "clinical" / "patients.csv"),
        write_table(_dates_as_text(sheet), root / "clinical" / "samples.csv"),
        write_table(_dates_as_text(_events(patients)), root / "clinical" / "events.csv"),
        write_table(_dates_as_text(cohort["truth"]), root / "truth" / "patients.csv"),
        write_table(pd.DataFrame(flow_rows), root / "truth" / "flow.csv"),
        write_table(pd.concat(qpcr_rows, ignore_index=True) if qpcr_rows else pd.DataFrame(),
                    root / "truth" / "qpcr.csv"),
    ]
    toml = STUDY_TOML_TEMPLATE.format(name=name or root.resolve().name, profile_values=_profile_values(n_events),
                                      min_abl1=_MIN_ABL1)
    written.append(write_text(toml, root / "study.toml"))
    return written


def write_data_samples(outdir: "str | os.PathLike") -> list[Path]:
    """Write the bundled example study (:data:`DATA_SAMPLE_STUDY`) into ``outdir``."""
    return write_study(outdir, **DATA_SAMPLE_STUDY)

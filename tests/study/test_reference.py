"""A study ``[flow]`` with a normal-marrow ``reference``: DfN results and integrated calls."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mrdquant.cli.main import main
from mrdquant.errors import ConfigError
from mrdquant.store import open_store
from mrdquant.study import load_study


def _normals(folder, seed0: int) -> list:
    from mrdquant.simulate.flow import write_bone_marrow_fcs

    out = []
    for i in range(3):
        fcs, truth = write_bone_marrow_fcs(folder / f"normal{seed0 + i}.fcs", "B-ALL", 20_000, mrd_fraction=0.0,
                                           seed=seed0 + i)
        truth.unlink()
        out.append(fcs)
    return out


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """Two B-ALL references fitted on different simulated normal marrows."""
    from mrdquant.mfc.reference import NormalReference

    d = tmp_path_factory.mktemp("refs")
    return [NormalReference.fit(_normals(d, seed0), "B-ALL", seed=0).save(d / f"normal_{seed0}.npz")
            for seed0 in (900, 950)]


def _use_reference(study, ref, *, files='"flow/*.fcs"', plots=False) -> None:
    toml = (study / "study.toml").read_text(encoding="utf-8")
    (study / "refs").mkdir(exist_ok=True)
    (study / "refs" / "normal.npz").write_bytes(ref.read_bytes())
    flow = (f'[flow]\nfiles = [{files}]\npanel = "B-ALL"\nreference = "refs/normal.npz"\n'
            f'plots = {str(plots).lower()}\n')
    head, rest = toml.split("[flow]", 1)
    rest = rest[rest.index("\n[", 1):]  # drop the old [flow] table
    (study / "study.toml").write_text(head + flow + rest, encoding="utf-8")


def _run(capsys, study, *extra) -> tuple[int, dict]:
    capsys.readouterr()
    rc = main(["run", str(study), "--no-progress", "--json", *extra])
    return rc, json.loads(capsys.readouterr().out)


def test_reference_adds_dfn_results_and_integrated_calls(study_copy, references, capsys):
    _use_reference(study_copy, references[0])
    rc, summary = _run(capsys, study_copy)
    assert rc == 0, summary
    res = study_copy / "results"
    mfc = pd.read_csv(res / "flow" / "mfc_results.csv")
    dfn = pd.read_csv(res / "flow" / "dfn_results.csv")
    n_fcs = len(list((study_copy / "flow").glob("*.fcs")))
    assert len(mfc) == len(dfn) == n_fcs
    m = mfc.merge(dfn, on="sample_id", suffixes=("", "_dfn"), validate="one_to_one")
    # the integrated numerator is the LAIP events plus the DfN events outside the LAIP
    assert (m["laip_events_dfn"] == m["laip_events"]).all()
    assert (m["integrated_events"] == m["laip_events"] + m["dfn_only_events"]).all()
    assert (m["both_events"] + m["laip_only_events"] == m["laip_events"]).all()
    # a not evaluable call has no level; every other is its events over the denominator
    ne = (m["integrated_status"] == "not evaluable").to_numpy()
    want = (100 * m["integrated_events"] / m["denominator_events"]).to_numpy()
    want[ne] = float("nan")
    assert m["integrated_mrd_pct"].to_numpy() == pytest.approx(want, nan_ok=True)
    assert dfn["reference_sha256"].nunique() == 1 and dfn["reference_sha256"].str.len().eq(64).all()
    # planted positives are found by both approaches
    truth = pd.read_csv(study_copy / "truth" / "flow.csv").set_index("file")
    positive = m[m["sample_id"].map(truth["planted_call"]) == "positive"]
    assert len(positive) >= 2 and (positive["integrated_status"] == "positive").all()
    # the sample calls carry the integrated call
    samples = pd.read_csv(res / "calls" / "samples.csv")
    with_fcs = samples[samples["mfc"].notna()].merge(
        pd.read_csv(study_copy / "clinical" / "samples.csv")[["sample_id", "fcs_file"]], on="sample_id")
    joined = with_fcs.merge(dfn, left_on="fcs_file", right_on="sample_id", suffixes=("", "_dfn"))
    assert len(joined) == len(with_fcs) > 0
    evaluable = joined["integrated_status"] != "not evaluable"
    assert evaluable.sum() > 0 and joined.loc[~evaluable, "mfc_pct"].isna().all()
    assert (joined.loc[evaluable, "mfc_pct"].to_numpy()
            == pytest.approx(joined.loc[evaluable, "integrated_mrd_pct"].to_numpy()))
    assert "dfn" in summary["stages"]
    with open_store(study_copy / "mrdquant.sqlite") as st:
        stored = st.table("dfn_results")
    assert len(stored) == n_fcs and stored["input_sha256"].str.len().eq(64).all()
    populations = stored["populations"].map(json.loads)
    assert (populations.map(len) == stored["dfn_populations"]).all()


def test_rerun_skips_and_a_new_reference_makes_a_new_run(study_copy, references, capsys):
    _use_reference(study_copy, references[0])
    assert _run(capsys, study_copy)[0] == 0
    rc, summary = _run(capsys, study_copy)
    assert rc == 0 and summary["processed"] == 0
    (study_copy / "refs" / "normal.npz").write_bytes(references[1].read_bytes())
    rc, summary = _run(capsys, study_copy)
    n_fcs = len(list((study_copy / "flow").glob("*.fcs")))
    assert rc == 0 and summary["processed"] == n_fcs  # the FCS files, scored against the new reference
    with open_store(study_copy / "mrdquant.sqlite") as st:
        stored = st.table("dfn_results")
    assert stored.groupby("run_id").size().tolist() == [n_fcs, n_fcs]
    assert stored["reference_sha256"].nunique() == 2


def test_reference_is_checked_when_the_study_is_read(study_copy, references, tmp_path):
    _use_reference(study_copy, references[0])
    toml = study_copy / "study.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('reference = "refs/normal.npz"', 'reference = "refs/missing.npz"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[flow\] reference = 'refs/missing.npz'"):
        load_study(study_copy)
    (study_copy / "refs" / "normal.npz").write_bytes(b"PK\x03\x04 not a reference")
    toml.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[flow\] reference = 'refs/normal.npz'"):
        load_study(study_copy)
    (study_copy / "refs" / "normal.npz").write_bytes(references[0].read_bytes())
    toml.write_text(text.replace("[flow]\n", '[flow]\nstrategy = "refs/normal.npz"\n'), encoding="utf-8")
    with pytest.raises(ConfigError, match="reference applies to panel gating"):
        load_study(study_copy)


def test_dfn_figures_sit_beside_the_gating_pages_and_show_in_the_patient_report(study_copy, references, capsys):
    truth = pd.read_csv(study_copy / "truth" / "flow.csv")
    picked = truth[truth["planted_call"] == "positive"].head(2)
    _use_reference(study_copy, references[0], files=", ".join(f'"flow/{f}"' for f in picked["file"]), plots=True)
    rc, summary = _run(capsys, study_copy)
    # the sample sheet links the tubes left out of [flow] files: listed, the rest is done
    assert rc == 1 and {f["error_type"] for f in summary["failures"]} == {"MissingResult"}
    res = study_copy / "results"
    dfn = pd.read_csv(res / "flow" / "dfn_results.csv")
    with_pops = sorted(dfn.loc[dfn["dfn_populations"] > 0, "sample_id"].str.replace(".fcs", "", regex=False))
    assert with_pops  # planted blasts form a DfN population
    plots = res / "flow" / "plots"
    assert sorted(p.name[: -len("_dfn.png")] for p in plots.glob("*_dfn.png")) == with_pops
    patient = picked["patient_id"].iloc[0]
    page = (res / "report" / "patients" / f"{patient}.html").read_text(encoding="utf-8")
    mine = set(picked.loc[picked["patient_id"] == patient, "sample_id"]) & set(with_pops)
    assert mine and all(f'alt="DfN populations of {sid}"' in page for sid in mine)
    study = (res / "report" / "study.html").read_text(encoding="utf-8")
    assert "DfN populations of" not in study and "_dfn.png" not in study

"""``mrdquant run``: a study folder to results, with a store that remembers what was done."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from mrdquant.cli.main import main
from mrdquant.store import open_store


def _run(capsys, study, *extra) -> tuple[int, dict]:
    capsys.readouterr()
    rc = main(["run", str(study), "--no-progress", "--json", *extra])
    return rc, json.loads(capsys.readouterr().out)


def _add_corrupt_inputs(study):
    """A truncated FCS file, a tube of another panel and a qPCR export that is not one."""
    from mrdquant.simulate.flow import write_bone_marrow_fcs

    good = sorted((study / "flow").glob("*.fcs"))[0].read_bytes()
    (study / "flow" / "truncated.fcs").write_bytes(good[: len(good) // 3])
    fcs, truth = write_bone_marrow_fcs(study / "flow" / "t_all_tube.fcs", "T-ALL", 3000, mrd_fraction=0.01, seed=1)
    truth.unlink()
    (study / "qpcr" / "garbage.txt").write_text("this is not a qPCR export\n", encoding="utf-8")


@pytest.fixture(scope="module")
def processed(simulated_study, tmp_path_factory):
    """The study with two corrupt inputs mixed in, run once: (folder, exit code, summary)."""
    import io
    from contextlib import redirect_stdout

    study = tmp_path_factory.mktemp("processed") / "study"
    shutil.copytree(simulated_study, study)
    _add_corrupt_inputs(study)
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(["run", str(study), "--no-progress", "--json"])
    return study, rc, json.loads(buf.getvalue())


def test_bad_inputs_are_listed_with_reasons_and_the_good_ones_finish(processed):
    study, rc, summary = processed
    n_fcs = len(list((study / "flow").glob("*.fcs")))
    n_plates = len(list((study / "qpcr").glob("*.txt")))
    assert rc == 1 and summary["exit_code"] == 1
    assert summary["inputs"] == n_fcs + n_plates and summary["processed"] == n_fcs + n_plates
    assert summary["failed"] == 3
    failed = {f["path"]: f for f in summary["failures"]}
    assert set(failed) == {"flow/truncated.fcs", "flow/t_all_tube.fcs", "qpcr/garbage.txt"}
    assert "truncated.fcs" in failed["flow/truncated.fcs"]["reason"]
    assert "t_all_tube.fcs" in failed["flow/t_all_tube.fcs"]["reason"]
    assert "channel" in failed["flow/t_all_tube.fcs"]["reason"]  # the panel does not match the strategy
    assert "garbage.txt" in failed["qpcr/garbage.txt"]["reason"]
    with open_store(study / "mrdquant.sqlite") as st:
        errors = st.table("errors")
        inputs = st.table("inputs")
        mfc = st.table("mfc_results")
    assert sorted(errors["path"]) == ["flow/t_all_tube.fcs", "flow/truncated.fcs", "qpcr/garbage.txt"]
    assert errors["reason"].str.len().gt(10).all()
    assert (inputs["status"] == "done").sum() == n_fcs + n_plates - 3
    assert len(mfc) == n_fcs - 2  # one row per good tube, none for the bad ones
    from mrdquant.mfc.panels import load_panel

    assert (mfc["panel_id"] == "B-ALL").all() and (mfc["panel_hash"] == load_panel("B-ALL").hash).all()
    assert mfc["input_sha256"].str.len().eq(64).all() and mfc["profile_hash"].str.len().eq(64).all()
    # each tube's provenance carries the digest its input was identified by (hashed once)
    import hashlib

    ident = inputs.set_index("path")["sha256"]
    for row in mfc.itertuples(index=False):
        assert row.input_sha256 == ident[f"flow/{row.sample_id}"]
        assert row.input_sha256 == hashlib.sha256((study / "flow" / row.sample_id).read_bytes()).hexdigest()


def test_results_agree_with_the_simulated_truth(processed):
    study, _, _ = processed
    res = study / "results"
    # flow: the LAIP gate finds the planted leukemic events; the planted call comes back
    mfc = pd.read_csv(res / "flow" / "mfc_results.csv")
    flow_truth = pd.read_csv(study / "truth" / "flow.csv")
    m = mfc.merge(flow_truth, left_on="sample_id", right_on="file", validate="one_to_one")
    assert set(mfc["sample_id"]) == set(flow_truth["file"])
    assert len(m) == len(flow_truth)
    assert (m["laip_events"] <= m["leukemic_events"]).all()
    assert (m["laip_events"] >= 0.95 * m["leukemic_events"] - 1).all()
    called = m["status"].replace({"positive, not quantifiable": "positive"})
    assert (called == m["planted_call"]).all()
    # qPCR: BM samples get their planted call, PB samples "not evaluable" (puih_2020 has no PB
    # threshold): the sheet's specimen reaches the call; plates are kept apart by plate id
    wt1 = pd.read_csv(res / "qpcr" / "wt1_results.csv")
    q_truth = pd.read_csv(study / "truth" / "qpcr.csv")
    q = wt1.merge(q_truth, on=["plate", "sample"], validate="one_to_one")
    assert len(q) == len(q_truth) and (q["call"] == q["expected_call"]).all()
    # patients: the classifier recovers every simulated status
    calls = pd.read_csv(res / "calls" / "patients.csv")
    truth = pd.read_csv(study / "truth" / "patients.csv")
    t = calls.merge(truth, on="patient_id", suffixes=("", "_truth"), validate="one_to_one")
    assert len(t) == len(truth) and (t["status"] == t["status_truth"]).all()
    run = json.loads((res / "run.json").read_text())
    assert run["profile"]["overrides"] == {"mfc.min_denominator_events.ALL": 4000}
    assert {i["path"] for i in run["inputs"] if i["status"] == "failed"} == {
        "flow/truncated.fcs", "flow/t_all_tube.fcs", "qpcr/garbage.txt"}


def test_rerun_without_changes_processes_nothing(processed, tmp_path, capsys):
    src, _, _ = processed
    study = tmp_path / "again"
    shutil.copytree(src, study)
    with open_store(study / "mrdquant.sqlite") as st:
        before = {name: len(st.table(name)) for name in ("inputs", "mfc_results", "wt1_results", "timelines")}
    rc, summary = _run(capsys, study)
    assert summary["processed"] == 0 and summary["skipped"] == summary["inputs"]
    assert summary["up_to_date"] and summary["files_written"] == 0
    assert rc == 1 and summary["failed"] == 3  # the bad files are still there, still reported
    with open_store(study / "mrdquant.sqlite") as st:
        after = {name: len(st.table(name)) for name in before}
        assert len(st.table("runs")) == 2
    assert after == before


def test_changed_profile_parameter_makes_a_new_run_and_keeps_the_old(processed, tmp_path, capsys):
    src, _, first = processed
    study = tmp_path / "changed"
    shutil.copytree(src, study)
    toml = (study / "study.toml").read_text()
    (study / "study.toml").write_text(toml.replace('"mfc.min_denominator_events.ALL" = 4000',
                                                   '"mfc.min_denominator_events.ALL" = 4000\n"mfc.lloq_events" = 40'))
    rc, summary = _run(capsys, study)
    assert summary["params_hash"] != first["params_hash"]
    assert summary["processed"] == summary["inputs"] and summary["skipped"] == 0
    with open_store(study / "mrdquant.sqlite") as st:
        mfc = st.table("mfc_results")
        runs = st.table("runs")
    assert len(runs) == 2 and runs["params_hash"].nunique() == 2
    assert mfc.groupby("params_hash").size().tolist() == [len(mfc) // 2] * 2  # old rows kept, new rows added
    new = mfc[mfc["run_id"] == summary["run_id"]]
    assert (new["lloq_events"] == 40).all()
    assert (mfc[mfc["run_id"] != summary["run_id"]]["lloq_events"] == 50).all()


def test_unknown_study_key_is_a_usage_error(study_copy, capsys):
    (study_copy / "study.toml").write_text((study_copy / "study.toml").read_text() + "\n[flow2]\nx = 1\n")
    assert main(["run", str(study_copy), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "study.toml" in err and "[flow2]" in err


def test_export_writes_a_store_table(processed, tmp_path):
    study, _, _ = processed
    out = tmp_path / "mfc.parquet"
    assert main(["export", str(study), "mfc_results", "--out", str(out)]) == 0
    df = pd.read_parquet(out)
    assert len(df) == len(list((study / "flow").glob("*.fcs"))) - 2
    assert {"input_sha256", "params_hash", "mrdquant_version", "created_at", "mrd_pct"} <= set(df.columns)
    assert main(["export", str(study), "no_such_table", "--out", str(tmp_path / "x.csv")]) == 2


def test_progress_is_plain_lines_in_a_log(study_copy, capsys):
    assert main(["run", str(study_copy), "--json"]) == 0
    captured = capsys.readouterr()
    n_fcs = len(list((study_copy / "flow").glob("*.fcs")))
    lines = captured.err.splitlines()
    assert f"flow: {n_fcs} input(s) to process" in lines
    assert f"flow {n_fcs}/{n_fcs} " in [ln[: len(f"flow {n_fcs}/{n_fcs} ")] for ln in lines]
    assert any(ln.startswith("qpcr 1/") and ln.endswith(" done") for ln in lines)
    assert json.loads(captured.out)["processed"] == n_fcs + len(list((study_copy / "qpcr").glob("*.txt")))


def test_a_sheet_link_to_a_missing_file_leaves_that_method_empty_and_is_reported(study_copy, capsys):
    sheet_path = study_copy / "clinical" / "samples.csv"
    sheet = pd.read_csv(sheet_path, keep_default_na=False)
    k = sheet.index[sheet["fcs_file"] != ""][0]
    sheet.loc[k, "fcs_file"] = "no_such_tube.fcs"
    sheet.to_csv(sheet_path, index=False)
    rc, summary = _run(capsys, study_copy)
    assert rc == 1 and summary["failed"] == 1
    (failure,) = summary["failures"]
    assert failure["stage"] == "calls" and "no_such_tube.fcs" in failure["reason"]
    assert sheet.loc[k, "sample_id"] in failure["reason"]
    with open_store(study_copy / "mrdquant.sqlite") as st:
        errors = st.table("errors")
    assert errors["reason"].str.contains("no_such_tube.fcs").tolist() == [True]
    calls = pd.read_csv(study_copy / "results" / "calls" / "samples.csv", keep_default_na=False)
    row = calls.set_index("sample_id").loc[sheet.loc[k, "sample_id"]]
    assert row["mfc"] == ""  # not done, never guessed


def test_an_unwritable_results_folder_is_refused_before_any_work(study_copy, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert main(["run", str(study_copy), "--results", str(blocker / "results"), "--no-progress"]) == 2
    assert "results folder" in capsys.readouterr().err
    assert not (study_copy / "mrdquant.sqlite").exists()  # nothing was processed or stored


def test_panel_gating_with_quantify_mfc_and_gating_pages(study_copy, capsys):
    """Without a Gating-ML strategy the panel's gates are placed on each file
    (mrdquant.quantify_mfc); the planted calls come back and each file gets its gating page."""
    truth = pd.read_csv(study_copy / "truth" / "flow.csv")
    picked = pd.concat([truth[truth["planted_call"] == c].head(2) for c in ("positive", "negative", "not evaluable")])
    files = ", ".join(f'"flow/{f}"' for f in picked["file"])
    (study_copy / "study.toml").write_text(
        '[study]\nname = "panel gating"\n[profile.values]\n"mfc.min_denominator_events.ALL" = 4000\n'
        f'[flow]\nfiles = [{files}]\npanel = "B-ALL"\n', encoding="utf-8")
    rc, summary = _run(capsys, study_copy)
    assert rc == 0 and summary["processed"] == len(picked)
    mfc = pd.read_csv(study_copy / "results" / "flow" / "mfc_results.csv")
    m = mfc.merge(picked, left_on="sample_id", right_on="file", validate="one_to_one", suffixes=("", "_truth"))
    assert len(m) == len(picked)
    assert (m["status"].replace({"positive, not quantifiable": "positive"}) == m["planted_call"]).all()
    assert (m["laip_events"] <= m["leukemic_events"]).all() and (m["laip_events"] >= 0.9 * m["leukemic_events"]).all()
    assert (m["panel_id"] == "B-ALL").all() and m["gates"].str.startswith("[").all()
    pages = sorted(p.name for p in (study_copy / "results" / "flow" / "plots").glob("*.png"))
    assert pages == sorted(f.replace(".fcs", ".png") for f in picked["file"] if f in set(m["file"][m["n_events"] >= 1000]))
    # beside each page, its gates as a FlowJo workspace whose LAIP counts the result's LAIP events
    from mrdquant.cytometry.gating import GatingStrategy

    workspaces = sorted((study_copy / "results" / "flow" / "plots").glob("*.wsp"))
    assert [w.with_suffix(".png").name for w in workspaces] == pages
    positive = m[m["status"] == "positive"].iloc[0]
    wsp = study_copy / "results" / "flow" / "plots" / positive["file"].replace(".fcs", ".wsp")
    regated = GatingStrategy.from_flowjo(wsp, sample_id=positive["file"]).gate(str(study_copy / "flow" / positive["file"]))
    assert regated.count("LAIP") == positive["laip_events"] > 0


def test_a_tube_the_runner_hashed_is_not_hashed_again_unless_it_changed(simulated_study, tmp_path, monkeypatch):
    import hashlib
    import os

    from mrdquant.io import fcs as fcs_module
    from mrdquant.study.tasks import FlowTask, quantify_fcs_file

    f = tmp_path / "tube.fcs"
    shutil.copy(sorted((simulated_study / "flow").glob("*.fcs"))[0], f)
    real = hashlib.sha256(f.read_bytes()).hexdigest()
    st = f.stat()
    calls = []
    orig = fcs_module._sha256_of
    monkeypatch.setattr(fcs_module, "_sha256_of", lambda p: calls.append(p) or orig(p))
    task = FlowTask(panel="B-ALL", strategy=None, laip_gate="", denominator_gate="", disease="ALL",
                    profile="puih_2020")
    row = quantify_fcs_file(f, task, known_sha256=(real, st.st_size, st.st_mtime_ns))["mfc_results"].iloc[0]
    assert row["input_sha256"] == real and calls == []
    # a digest of another state of the file (other modification time) is not taken
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    row = quantify_fcs_file(f, task, known_sha256=("0" * 64, st.st_size, st.st_mtime_ns))["mfc_results"].iloc[0]
    assert row["input_sha256"] == real and calls == [f]

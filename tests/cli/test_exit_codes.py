"""Contract F: every command exits 2 with one line naming the path it cannot write or read.

The output folder is made unwritable by putting it under a regular file (chmod does not
stop root, which runs CI containers).
"""

from __future__ import annotations

import pytest

from mrdquant.cli.exit_codes import OK, SOME_INPUTS_FAILED, USAGE_OR_PATH_ERROR
from mrdquant.cli.main import main


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, data_samples):
    from mrdquant.calls.timeline import classify_timeline
    from mrdquant.simulate.cohort import simulate_cohort
    from mrdquant.simulate.qpcr import write_quantstudio_plate

    root = tmp_path_factory.mktemp("inputs")
    plate, _ = write_quantstudio_plate(root / "plate.txt", seed=0)
    cohort = simulate_cohort(40, seed=2)
    cohort["patients"].to_csv(root / "patients.csv", index=False)
    cohort["samples"].to_csv(root / "samples.csv", index=False)
    classify_timeline(cohort["patients"], cohort["samples"]).to_csv(root / "timelines.csv", index=False)
    blocker = root / "not_a_folder.txt"
    blocker.write_text("a file, not a folder\n")
    return {
        "plate": str(plate),
        "patients": str(root / "patients.csv"),
        "samples": str(root / "samples.csv"),
        "timelines": str(root / "timelines.csv"),
        "strategy": str(data_samples / "flow" / "b_all_laip.xml"),
        "fcs": str(data_samples / "flow" / "b_all_mrd1e-2.fcs"),
        "bad_out": str(blocker / "out"),
        "study_fcs": str(data_samples / "study" / "flow" / "P0001-01.fcs"),
        "empty_results": str(root),
    }


COMMANDS = {
    "gate": lambda i: ["gate", i["strategy"], i["fcs"], "--out", i["bad_out"], "--no-progress"],
    "qpcr": lambda i: ["qpcr", i["plate"], "--min-abl1", "10000", "--out", i["bad_out"]],
    "calls": lambda i: ["calls", "--patients", i["patients"], "--samples", i["samples"], "--out", i["bad_out"]],
    "outcomes": lambda i: ["outcomes", "--patients", i["patients"], "--timelines", i["timelines"],
                           "--out", i["bad_out"], "--no-plots"],
    "fcs-info": lambda i: ["fcs-info", i["fcs"], "--out", i["bad_out"] + "/info.csv"],
    "simulate-qpcr": lambda i: ["simulate", "qpcr", "--out", i["bad_out"]],
    "simulate-cohort": lambda i: ["simulate", "cohort", "--patients", "10", "--out", i["bad_out"]],
    "demo": lambda i: ["demo", "--out", i["bad_out"]],
    # commands added later inherit the mechanism of main()
    "flow": lambda i: ["flow", i["study_fcs"], "--panel", "B-ALL", "--out", i["bad_out"]],
    "report": lambda i: ["report", i["empty_results"], "--out", i["bad_out"]],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_unwritable_output_is_one_line_naming_the_path_and_exit_2(command, inputs, capsys):
    rc = main(COMMANDS[command](inputs))
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert rc == USAGE_OR_PATH_ERROR == 2
    errors = [line for line in err if "error" in line.lower()]
    assert errors == err[-1:], err  # one error line, the last one (notes on failed fits may precede it)
    assert err[-1].startswith("mrdquant: error: ") and "not_a_folder.txt/out" in err[-1]
    assert not any("Traceback" in line for line in err)


def test_unreadable_input_is_exit_2(inputs, tmp_path, capsys):
    rc = main(["calls", "--patients", str(tmp_path / "missing.csv"), "--samples", inputs["samples"],
               "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "missing.csv" in err[0]


def test_the_three_codes():
    assert (OK, SOME_INPUTS_FAILED, USAGE_OR_PATH_ERROR) == (0, 1, 2)
    assert main(["calls", "--no-such-option"]) == 2

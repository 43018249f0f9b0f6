"""Compensation: numpy.linalg.solve oracle, FlowKit on a real file, matrix files and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mrdquant.cytometry.compensation import DEFAULT_NON_FLUORESCENCE, Compensation, compensate
from mrdquant.errors import CompensationError, InputError
from naive import compensation as nv

HYP = settings(max_examples=40, deadline=None)


@st.composite
def problem(draw):
    m = draw(st.integers(1, 9))
    off = draw(arrays(np.float64, (m, m), elements=st.floats(0.0, 0.4 / max(m, 1))))
    spill = np.eye(m) + off - np.diag(np.diag(off))
    n = draw(st.integers(0, 60))
    events = draw(arrays(np.float64, (n, m + 2), elements=st.floats(-1e5, 3e5)))
    order = draw(st.permutations(range(m + 2)))
    names = [f"FL{i}-A" for i in range(m)] + ["FSC-A", "Time"]
    channels = [names[i] for i in order]
    return spill, events, channels, [f"FL{i}-A" for i in range(m)]


@HYP
@given(problem(), st.sampled_from([np.float64, np.float32]))
def test_compensation_equals_linalg_solve(prob, dtype):
    spill, events, channels, detectors = prob
    events = events.astype(dtype)
    comp = Compensation(detectors, spill)
    got = comp.apply(events, channels)
    assert got.dtype == np.float64 and got.shape == events.shape
    ref = nv.compensate(events, channels, detectors, spill)
    scale = max(1.0, float(np.max(np.abs(ref), initial=0.0)))
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9 * scale)
    # scatter and time columns are copied bit for bit
    for name in ("FSC-A", "Time"):
        j = channels.index(name)
        np.testing.assert_array_equal(got[:, j], events[:, j].astype(np.float64))


def test_compensation_event_loop_reference_and_inverse():
    rng = np.random.default_rng(11)
    spill = np.eye(4) + rng.uniform(0, 0.2, (4, 4)) * (1 - np.eye(4))
    true = rng.uniform(0, 1e4, (25, 4))
    observed = true @ spill
    chans = ["A", "B", "C", "D"]
    comp = Compensation(chans, spill)
    np.testing.assert_allclose(comp.apply(observed, chans), true, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(comp.apply(observed, chans), nv.compensate_loop(observed, chans, chans, spill),
                               rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(comp.inverse @ spill, np.eye(4), atol=1e-14)
    np.testing.assert_allclose(comp.apply_block(observed), true, rtol=1e-10, atol=1e-8)



@HYP
@given(problem(), st.sampled_from([np.float64, np.float32]), st.data())
def test_apply_channels_equals_linalg_solve_and_the_gating_engine(prob, dtype, data):
    spill, events, channels, detectors = prob
    events = events.astype(dtype)
    comp = Compensation(detectors, spill)
    det = comp.match(channels)
    wanted = data.draw(st.lists(st.sampled_from([int(c) for c in det]), unique=True))
    got = comp.apply_channels(events, det, wanted)
    assert got.shape == (len(wanted), events.shape[0]) and got.dtype == np.float64
    ref = nv.compensate(events, channels, detectors, spill)
    scale = max(1.0, float(np.max(np.abs(ref), initial=0.0)))
    for r, c in enumerate(wanted):
        assert got[r].flags.c_contiguous
        np.testing.assert_allclose(got[r], ref[:, c], rtol=1e-9, atol=1e-9 * scale)
    # the gating engine's compensated columns, bit for bit
    from mrdquant.cytometry._gating_engine import _NO_ROWS, _SamplePlan

    (pos, mat), _ = _SamplePlan._compensate_channels([int(c) for c in det], comp.inverse, wanted,
                                                     np.ascontiguousarray(events), _NO_ROWS, True)
    for r, c in enumerate(wanted):
        np.testing.assert_array_equal(got[r], mat[pos[c]])
    # with raw columns read in the same pass: the same compensated bits, raw values as float64
    raw_cols = data.draw(st.lists(st.integers(0, events.shape[1] - 1), max_size=3))
    comp2, raw = comp.apply_channels_with_raw(events, det, wanted, raw_cols)
    np.testing.assert_array_equal(comp2, got)
    assert raw.shape == (len(raw_cols), events.shape[0]) and raw.dtype == np.float64
    np.testing.assert_array_equal(raw, events[:, raw_cols].T.astype(np.float64))


def test_apply_channels_bad_input_says_what():
    comp = Compensation(["A", "B"], np.array([[1.0, 0.1], [0.2, 1.0]]))
    ev = np.ones((3, 3))
    with pytest.raises(InputError, match="not detector columns"):
        comp.apply_channels(ev, [0, 1], [2])
    with pytest.raises(InputError, match="1 detector columns for the 2 detectors"):
        comp.apply_channels(ev, [0], [0])
    with pytest.raises(InputError, match="2-D"):
        comp.apply_channels(np.ones(3), [0, 1], [0])
    with pytest.raises(InputError, match=r"raw column\(s\) \[3\] outside the 3 columns"):
        comp.apply_channels_with_raw(ev, [0, 1], [0], [3])
    np.testing.assert_allclose(comp.apply_channels(ev, [2, 0], [0]), [[comp.inverse[:, 1].sum()] * 3])

def test_real_file_matches_flowkit(shared_data):
    fk = pytest.importorskip("flowkit")
    fcs = shared_data / "fcs_real" / "FlowKit__test_comp_example.fcs"
    csv = shared_data / "fcs_real" / "FlowKit__comp_complete_example.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sample = fk.Sample(fcs, ignore_offset_error=True)  # the file's data offset is off by one
    raw = sample.get_events(source="raw")
    sample.apply_compensation(str(csv))
    ref = sample.get_events(source="comp")
    comp = Compensation.from_csv(csv)
    assert comp.detectors[:3] == ("Ax488-A", "PE-A", "PE-TR-A") and len(comp.detectors) == 14
    assert comp.spillover[0, 1] == 0.2986 and comp.spillover[1, 0] == 0.007
    got = comp.apply(raw, sample.pnn_labels, sample=fcs.name)
    assert raw.shape == (10703, 18)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(compensate(raw, sample.pnn_labels, csv), ref, rtol=1e-9, atol=1e-9)


# ----------------------------------------------------------------------------- matrix files
def test_csv_layouts_are_equivalent(tmp_path):
    spill = np.array([[1.0, 0.1, 0.0], [0.05, 1.0, 0.2], [0.0, 0.01, 1.0]])
    names = ["FITC-A", "PE-A", "APC-A"]
    plain = "FITC-A,PE-A,APC-A\n1,0.1,0\n0.05,1,0.2\n0,0.01,1\n"
    (tmp_path / "plain.csv").write_text(plain)
    (tmp_path / "tabs.tsv").write_text("# " + plain.replace(",", "\t"))
    # rows labelled and given in a different order; blank trailing lines
    (tmp_path / "labelled.csv").write_text(
        ",FITC-A,PE-A,APC-A\nAPC-A,0,0.01,1\nFITC-A,1,0.1,0\nPE-A,0.05,1,0.2\n\n\n"
    )
    for f in ("plain.csv", "tabs.tsv", "labelled.csv"):
        comp = Compensation.from_csv(tmp_path / f)
        assert comp.detectors == tuple(names), f
        np.testing.assert_array_equal(comp.spillover, spill)
        assert comp.source == str(tmp_path / f)
    df = Compensation.from_csv(tmp_path / "plain.csv").to_dataframe()
    back = Compensation.from_dataframe(df.iloc[[2, 0, 1]])  # rows shuffled
    np.testing.assert_array_equal(back.spillover, spill)
    kw = Compensation.from_spill_keyword("3,FITC-A,PE-A,APC-A,1,0.1,0,0.05,1,0.2,0,0.01,1")
    np.testing.assert_array_equal(kw.spillover, spill)
    assert kw.detectors == tuple(names)


@pytest.mark.parametrize("text, message", [
    ("", "file is empty"),
    ("A,B\n1,0\n", "only 1 matrix rows"),
    ("A,B\n1,0\n0,1\n0,0\n", "line 4: 3 rows after the header, expected 2"),
    ("A,B\n1,0,3\n0,1\n", "line 2: expected 2 values, got 3"),
    ("A,B\n1,x\n0,1\n", "line 2, column 'B': 'x' is not a number"),
    ("A,A\n1,0\n0,1\n", "named more than once: A"),
    ("A,B\n1,1\n1,1\n", "singular"),
    (",A,B\nA,1,0\nC,0,1\n", "row names"),
])
def test_bad_matrix_files_name_file_and_problem(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(CompensationError, match=message) as info:
        Compensation.from_csv(path)
    assert "bad.csv" in str(info.value)


def test_missing_file_raises_compensation_error(tmp_path):
    with pytest.raises(CompensationError, match="cannot read"):
        Compensation.from_csv(tmp_path / "nope.csv")


def test_bad_spill_keyword():
    with pytest.raises(CompensationError, match="expected 1 \\+ 2"):
        Compensation.from_spill_keyword("2,A,B,1,0,0", source="$SPILLOVER of x.fcs")
    with pytest.raises(CompensationError, match="first field"):
        Compensation.from_spill_keyword("A,B")


# ----------------------------------------------------------------------------- channel matching
def _comp(tmp_path):
    path = tmp_path / "panel.csv"
    path.write_text("FL1-H,FL2-H\n1,0.2\n0.1,1\n")
    return Compensation.from_csv(path)


def test_detector_missing_from_sample_names_detector_and_file(tmp_path):
    comp = _comp(tmp_path)
    ev = np.ones((3, 3))
    with pytest.raises(CompensationError, match=r"panel\.csv.*'FL2-H'.*sample 's1\.fcs'"):
        comp.apply(ev, ["FSC-H", "FL1-H", "FL3-H"], sample="s1.fcs")


def test_fluorescence_channel_missing_from_matrix(tmp_path):
    comp = _comp(tmp_path)
    ev = np.arange(12.0).reshape(3, 4)
    chans = ["FL1-H", "FL2-H", "FL3-H", "Time"]
    with pytest.raises(CompensationError, match=r"'FL3-H'.*not in the matrix"):
        comp.apply(ev, chans)
    # named as non-fluorescence, or kept uncompensated: FL3-H is copied
    for kwargs in ({"non_fluorescence": (*DEFAULT_NON_FLUORESCENCE, "FL3-H")}, {"unmatched": "keep"}):
        got = comp.apply(ev, chans, **kwargs)
        np.testing.assert_array_equal(got[:, 2:], ev[:, 2:])
        np.testing.assert_allclose(got[:, :2], np.linalg.solve(comp.spillover.T, ev[:, :2].T).T, rtol=1e-12)
    # Width, FSC/SSC variants and Time are non-fluorescence by default
    comp.apply(np.ones((2, 6)), ["FL1-H", "FL2-H", "FSC-A", "ssc-w", "Width", "Time"])


def test_matching_by_marker(tmp_path):
    comp = Compensation(("CD45 V500", "CD34 PE"), np.array([[1.0, 0.3], [0.0, 1.0]]))
    ev = np.array([[100.0, 40.0, 1.0]])
    chans = ["V500-A", "PE-A", "Time"]
    with pytest.raises(CompensationError, match="'CD45 V500' is not a channel"):
        comp.apply(ev, chans)
    got = comp.apply(ev, chans, markers=["CD45 V500", "CD34 PE", None])
    np.testing.assert_allclose(got[0], [100.0, 10.0, 1.0])
    np.testing.assert_array_equal(comp.match(chans, markers=["CD45 V500", "CD34 PE", ""]), [0, 1])


def test_out_buffer_and_in_place():
    comp = Compensation(("A", "B"), np.array([[1.0, 0.5], [0.25, 1.0]]))
    rng = np.random.default_rng(0)
    ev = rng.uniform(0, 100, (9000, 3))  # more than one chunk
    chans = ["A", "Time", "B"]
    ref = comp.apply(ev, chans)
    buf = np.empty_like(ev)
    assert comp.apply(ev, chans, out=buf) is buf
    np.testing.assert_array_equal(buf, ref)
    inplace = ev.copy()
    comp.apply(inplace, chans, out=inplace)
    np.testing.assert_array_equal(inplace, ref)
    with pytest.raises(InputError, match="shape"):
        comp.apply(ev, chans, out=np.empty((3, 3)))
    with pytest.raises(InputError, match="3 columns but 2 channel names"):
        comp.apply(ev, ["A", "B"])


def test_nan_propagates_within_the_event_only():
    comp = Compensation(("A", "B"), np.array([[1.0, 0.1], [0.2, 1.0]]))
    ev = np.array([[np.nan, 1.0, 5.0], [1.0, 2.0, 5.0]])
    got = comp.apply(ev, ["A", "B", "Time"])
    assert np.isnan(got[0, :2]).all() and got[0, 2] == 5.0
    assert np.isfinite(got[1]).all()


@pytest.mark.parametrize("spill, message", [
    (np.ones((2, 3)), "square"),
    (np.eye(3), "3x3 but 2 detectors"),
    (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN"),
    ([["a", "b"], ["c", "d"]], "not numeric"),
])
def test_bad_matrices(spill, message):
    with pytest.raises(CompensationError, match=message):
        Compensation(("A", "B"), spill, source="gml:MySpill")


def test_from_dataframe_label_mismatch():
    df = pd.DataFrame(np.eye(2), index=["A", "C"], columns=["A", "B"])
    with pytest.raises(CompensationError, match="name different detectors"):
        Compensation.from_dataframe(df, source="x.fcs $SPILLOVER")


@pytest.mark.parametrize("name", ["FlowIO__100715.fcs", "fcsparser__facs_diva_test.fcs", "FlowKit__test_comp_example.fcs"])
def test_file_spillover_keyword_matches_flowkit(shared_data, name):
    # the matrix from read_fcs's $SPILLOVER, applied to its float32 events, against FlowKit's
    # compensation with the same keyword
    fk = pytest.importorskip("flowkit")
    from mrdquant.io.fcs import read_fcs

    path = shared_data / "fcs_real" / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sample = read_fcs(path)
        ref_sample = fk.Sample(path, ignore_offset_error=True)
    ref_sample.apply_compensation(ref_sample.metadata["spill"])
    ref = ref_sample.get_events(source="comp")
    comp = Compensation.from_dataframe(sample.spillover, source=f"{name} $SPILLOVER")
    got = comp.apply(sample.events, sample.channels, sample=name)
    assert got.dtype == np.float64 and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9 * float(np.max(np.abs(ref))))


def test_reads_the_spillover_csv_that_flowsample_writes(tmp_path):
    """Round trip: FlowSample.spillover.to_csv() (index named 'detector') reads back exactly."""
    from pathlib import Path

    from mrdquant.io.fcs import read_fcs

    fcs = Path(__file__).resolve().parents[2] / "data_samples" / "flow" / "b_all_mrd1e-3.fcs"
    spill = read_fcs(fcs).spillover
    assert spill is not None and spill.index.name == "detector"
    spill.to_csv(tmp_path / "written.csv")
    spill.to_csv(tmp_path / "written.tsv", sep="\t")
    spill.iloc[::-1].to_csv(tmp_path / "reordered.csv")
    Compensation.from_dataframe(spill).to_dataframe().to_csv(tmp_path / "comp.csv")
    for name in ("written.csv", "written.tsv", "reordered.csv", "comp.csv"):
        comp = Compensation.from_csv(tmp_path / name)
        assert comp.detectors == tuple(spill.columns), name
        np.testing.assert_array_equal(comp.spillover, spill.to_numpy())


def test_named_row_label_column_with_wrong_row_names_says_so(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("detector,A,B\nA,1,0\nC,0,1\n")
    with pytest.raises(CompensationError, match=r"bad.csv: row names \['A', 'C'\] do not match .*'detector'"):
        Compensation.from_csv(path)

"""Real FCS files from ../shared/data: manifest counts, truth matrices, clear failures."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from naive.fcs import decode_ints

from mrdquant.errors import FCSError, FCSWarning, GatingError
from mrdquant.io.fcs import read_fcs

# (folder/file, events, channels) from the manifest in ../shared/data/README.md
READABLE = [
    ("fcs_edge/FlowCal__Data001.fcs", 20949, 6),
    ("fcs_edge/FlowCal__Data003.fcs", 25000, 8),
    ("fcs_edge/FlowIO__3FITC_4PE_004.fcs", 94569, 4),
    ("fcs_edge/FlowIO__G11.fcs", 5785, 12),
    ("fcs_edge/FlowIO__coulter.lmd", 18110, 8),
    ("fcs_edge/FlowIO__data_start_offset_discrepancy_example.fcs", 2, 26),
    ("fcs_edge/FlowIO__data_stop_offset_discrepancy_example.fcs", 2, 26),
    ("fcs_edge/FlowIO__variable_int_example.fcs", 2, 26),
    ("fcs_edge/FlowKit__data_set_simple_line_100.fcs", 100, 2),
    ("fcs_edge/FlowKit__index_sorted_example.fcs", 384, 13),
    ("fcs_edge/cytoflow__Accuri_-_C6.fcs", 60661, 14),
    ("fcs_edge/cytoflow__Applied_Biosystems_-_Attune.fcs", 22188, 26),
    ("fcs_edge/cytoflow__Beckman_Coulter_-_Cyan.fcs", 5789, 12),
    ("fcs_edge/cytoflow__Beckman_Coulter_-_Cytomics_FC500.LMD", 27072, 4),
    ("fcs_edge/cytoflow__Beckman_Coulter_-_MoFlo_XDP.fcs", 38830, 26),
    ("fcs_edge/cytoflow__Cytek_DxP10.fcs", 20177, 15),
    ("fcs_edge/cytoflow__Partec_-_PAS.FCS", 33649, 8),
    ("fcs_edge/cytoflow__iCyt_-_Eclipse.lmd", 19330, 18),
    ("fcs_edge/fcsparser__EY_2013-07-19_PBS_FCS_2.0_Custom_Without_Add_Well_A1.001.fcs", 10000, 16),
    ("fcs_edge/fcsparser__EY_2013-07-19_PBS_FCS_3.1_Custom_Add_Well_A1.001.fcs", 10000, 19),
    ("fcs_edge/fcsparser__EY_2013-07-19_PBS_FCS_3.1_Well_A1.001.fcs", 10000, 19),
    ("fcs_edge/fcsparser__FCS3.0_Custom_Compatible.fcs", 10000, 16),
    ("fcs_edge/fcsparser__FCS_3.0_Fortessa_PBS_Specimen_001_A1_A01.fcs", 11585, 11),
    ("fcs_edge/fcsparser__SG_2014-09-26_Duplicate_Names.fcs", 8129, 9),
    ("fcs_edge/fcsparser__Sample_Well_A02.fcs", 37395, 8),
    # HEADER DATA offsets blank, TEXT offsets valid: recoverable (Fortessa data, 11 par)
    ("fcs_edge/fcsparser__fake_large_fcs.fcs", 11585, 11),
    ("fcs_edge/flowCore__060909.001", 10000, 7),
    ("fcs_edge/flowCore__0877408774.B08", 10000, 8),
    ("fcs_real/FlowIO__100715.fcs", 65016, 16),
    ("fcs_real/FlowKit__test_comp_example.fcs", 10703, 18),
    ("fcs_real/cytoflow__Miltenyi_Biotec_-_MACSQuant_Analyzer.fcs", 66165, 10),
    ("fcs_real/cytoflow__itn_02.fcs", 10000, 8),
    ("fcs_real/fcsparser__facs_diva_test.fcs", 83411, 12),
    ("fcs_real/fcsparser__fcs1_cleaned.lmd", 50000, 7),
    ("fcs_real/ob-flow-datasets__Nilsson_rare.fcs", 44140, 20),
    ("fcs_truth/FlowIO__B01_KC-A-W---91-US.fcs", 1589, 14),
    ("fcs_truth/FlowIO__data1.fcs", 13367, 8),
]

UNREADABLE = [
    "fcs_edge/fcsparser__corrupted.fcs",  # 10 bytes
    "fcs_edge/fcsparser__sample_header.fcs",  # HEADER + TEXT only, DATA missing
]


def _read_quiet(path, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FCSWarning)
        return read_fcs(path, *args, **kwargs)


@pytest.mark.parametrize("name,n_events,n_channels", READABLE, ids=[r[0].split("/")[-1] for r in READABLE])
def test_manifest_files_read_with_counts(shared_data, name, n_events, n_channels):
    path = shared_data / name
    sample = _read_quiet(path)
    assert sample.n_events == n_events
    assert len(sample.channels) == n_channels == len(sample.markers)
    assert sample.events.shape == (n_events, n_channels)
    assert sample.events.flags.c_contiguous
    expected_dtype = np.float32 if sample.metadata["datatype"].upper() == "F" else np.float64
    assert sample.events.dtype == expected_dtype
    assert sample.channels == [sample.metadata[f"p{i}n"] for i in range(1, n_channels + 1)]
    assert sample.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sample.path == path


@pytest.mark.parametrize("name", UNREADABLE)
def test_broken_files_raise_fcs_error_naming_the_file(shared_data, name):
    path = shared_data / name
    with pytest.raises(FCSError) as info:
        read_fcs(path)
    assert path.name in str(info.value)


def test_every_shared_fcs_file_reads_or_raises_fcs_error(shared_data):
    known = {r[0] for r in READABLE} | set(UNREADABLE)
    seen = set()
    for folder in ("fcs_edge", "fcs_real", "fcs_truth"):
        for path in sorted((shared_data / folder).iterdir()):
            if path.suffix.lower() in {".txt", ".xml", ".npy", ".csv", ".md"}:
                continue
            seen.add(f"{folder}/{path.name}")
            try:
                _read_quiet(path)
            except FCSError as exc:
                assert path.name in str(exc)
    assert seen == known  # every FCS file in the folders is covered by a test above


def test_data1_truth_raw_and_preprocessed_exact(shared_data):
    truth = shared_data / "fcs_truth"
    raw = np.load(truth / "FlowIO__truth_data1_original_events.npy")
    pre = np.load(truth / "FlowIO__truth_data1_preprocessed.npy")
    sample = read_fcs(truth / "FlowIO__data1.fcs", keep_raw=True)
    assert np.array_equal(sample.raw_events, raw)
    assert np.array_equal(sample.events, pre)
    # raw_events decoded again on request when not kept
    again = read_fcs(truth / "FlowIO__data1.fcs")
    assert again._raw is None
    assert np.array_equal(again.raw_events, raw)
    assert np.array_equal(again.events, pre)


def test_accuri_truth_preprocessed_exact_with_timestep(shared_data):
    truth = shared_data / "fcs_truth"
    pre = np.load(truth / "FlowIO__truth_B01_KC-A-W---91-US_preprocessed_events.npy")
    sample = read_fcs(truth / "FlowIO__B01_KC-A-W---91-US.fcs", keep_raw=True)
    assert np.array_equal(sample.events, pre)
    t = sample.channel_index("Time")
    assert float(sample.metadata["timestep"]) == 0.1
    np.testing.assert_array_equal(sample.events[:, t], sample.raw_events[:, t] * 0.1)


def test_data1_channels_markers_and_marker_lookup(shared_data):
    sample = read_fcs(shared_data / "fcs_truth" / "FlowIO__data1.fcs")
    assert sample.channels == ["FSC-H", "SSC-H", "FL1-H", "FL2-H", "FL3-H", "FL2-A", "FL4-H", "Time"]
    assert sample.markers[2] == "CD4 FITC" and sample.markers[5] == ""
    idx = sample.channel_index("CD4 FITC")
    assert idx == sample.channel_index("FL1-H") == sample.channel_index("FL1-H [CD4 FITC]") == 2
    assert sample.channel_index("cd4 fitc") == 2
    assert np.shares_memory(sample.channel("CD4 FITC"), sample.events)
    with pytest.raises(GatingError, match="CD19"):
        sample.channel("CD19")


def test_bally_mrd_tube_markers_and_spillover(shared_data):
    path = shared_data / "fcs_real" / "fcsparser__facs_diva_test.fcs"
    sample = read_fcs(path)
    assert sample.n_events == 83411
    assert sample.labels[4:11] == [
        "FITC-A [CD20]", "PE-A [CD10]", "PerCP-A [CD45]", "PE-Cy7-A [CD34]",
        "PacificBlue-A [Syto 41]", "APC-A [CD19]", "Alexa700-A [CD38]",
    ]
    assert sample.channel_index("CD19") == sample.channel_index("APC-A") == 9
    assert sample.spillover is not None and sample.spillover.shape == (8, 8)
    assert list(sample.spillover.index) == list(sample.spillover.columns)
    assert set(sample.spillover.columns) <= set(sample.channels)
    np.testing.assert_array_equal(np.diag(sample.spillover.to_numpy()), np.ones(8))
    assert sample.fluorescence_channels() == [c for c in sample.channels if c in set(sample.spillover.columns)]
    col = sample.channel("CD19")
    assert col.shape == (83411,)


def test_bit_mask_above_pnr_matches_naive_decoder(shared_data):
    path = shared_data / "fcs_real" / "fcsparser__fcs1_cleaned.lmd"
    sample = read_fcs(path, keep_raw=True)
    meta = sample.metadata
    n, p = sample.n_events, len(sample.channels)
    start = int(meta.get("begindata", 0)) or None
    raw = path.read_bytes()
    header_start = int(raw[26:34])
    data = raw[header_start : header_start + n * p * 2]
    ranges = [int(meta[f"p{i}r"]) for i in range(1, p + 1)]
    ref = np.array(decode_ints(data, [16] * p, ranges, meta["byteord"] == "4,3,2,1"), dtype=np.float64)
    assert start is None or start == header_start
    unmasked = np.frombuffer(data, dtype="<u2" if meta["byteord"] == "1,2" else ">u2").reshape(n, p)
    assert (unmasked >= 1024).any()  # the file really has bits above $PnR
    np.testing.assert_array_equal(sample.raw_events, ref)
    assert sample.raw_events.max() < 1024


def test_24_bit_integers_match_naive_decoder(shared_data):
    path = shared_data / "fcs_edge" / "FlowCal__Data003.fcs"
    sample = _read_quiet(path, keep_raw=True)
    meta = sample.metadata
    n, p = sample.n_events, len(sample.channels)
    assert {meta[f"p{i}b"] for i in range(1, p + 1)} == {"24"}
    raw = path.read_bytes()
    begin = int(meta["begindata"])
    ranges = [int(meta[f"p{i}r"]) for i in range(1, p + 1)]
    ref = decode_ints(raw[begin : begin + n * p * 3], [24] * p, ranges, meta["byteord"] == "4,3,2,1")
    np.testing.assert_array_equal(sample.raw_events, np.array(ref, dtype=np.float64))


def test_10_bit_lmd_in_16_bit_words_and_second_data_set(shared_data):
    path = shared_data / "fcs_edge" / "cytoflow__Beckman_Coulter_-_Cytomics_FC500.LMD"
    first = _read_quiet(path, 0, keep_raw=True)
    assert first.n_datasets == 2 and first.metadata["p1b"] == "10"
    raw = path.read_bytes()
    start = int(raw[26:34])
    ref = decode_ints(raw[start : start + first.n_events * 4 * 2], [16] * 4, [1024] * 4, False)
    np.testing.assert_array_equal(first.raw_events, np.array(ref, dtype=np.float64))
    second = _read_quiet(path, 1)
    assert second.dataset == 1 and second.n_events == 27072 and len(second.channels) == 8
    assert second.channels[-1] == "TIME"


def test_multi_data_set_index_out_of_range(shared_data):
    path = shared_data / "fcs_edge" / "FlowIO__coulter.lmd"
    assert _read_quiet(path, 1).channels == ["FS", "SS", "FL1", "FL2", "FL3", "FL4", "FL5", "TIME"]
    with pytest.raises(FCSError, match=r"coulter\.lmd.*index 2.*2 data set"):
        read_fcs(path, 2)
    with pytest.raises(FCSError, match="out of range"):
        read_fcs(path, -1)


@pytest.mark.parametrize(
    "name,header,text",
    [
        ("FlowIO__data_start_offset_discrepancy_example.fcs", "5555-6188", "6081-6188"),
        ("FlowIO__data_stop_offset_discrepancy_example.fcs", "6081-6944", "6081-6188"),
    ],
)
def test_offset_discrepancy_warns_with_both_offsets(shared_data, name, header, text):
    path = shared_data / "fcs_edge" / name
    with pytest.warns(FCSWarning) as record:
        sample = read_fcs(path)
    messages = [str(w.message) for w in record if "HEADER" in str(w.message)]
    assert len(messages) == 1
    assert name in messages[0] and header in messages[0] and text in messages[0]
    reference = _read_quiet(shared_data / "fcs_edge" / "FlowIO__variable_int_example.fcs")
    np.testing.assert_array_equal(sample.events, reference.events)


def test_duplicate_keyword_file_and_escaped_delimiter(shared_data):
    # this file repeats the $VOL keyword; its $P8S holds an escaped delimiter ("GFP//FITC-A")
    sample = _read_quiet(shared_data / "fcs_edge" / "fcsparser__SG_2014-09-26_Duplicate_Names.fcs")
    assert sample.metadata["vol"] == "20083"
    assert sample.channels == ["HDR-CE", "HDR-SE", "HDR-V", "FSC-A", "FSC-H", "SSC-A", "SSC-H", "FL7-A", "FL7-H"]
    assert sample.markers[7:] == ["GFP/FITC-A", "GFP/FITC-H"]
    assert sample.channel_index("GFP/FITC-A") == 7


def test_empty_keyword_values_flowcore_file(shared_data):
    path = shared_data / "fcs_edge" / "flowCore__0877408774.B08"
    with pytest.warns(FCSWarning, match="empty keyword values"):
        sample = read_fcs(path)
    assert sample.channels == ["FSC-H", "SSC-H", "FL1-H", "FL2-H", "FL3-H", "FL1-A", "FL4-H", "Time"]
    assert sample.markers[2] == "" and sample.markers[3] == "" and sample.markers[7] == "Time (51.20 sec.)"


def test_float_data_with_log_pne_is_left_linear(shared_data):
    path = shared_data / "fcs_real" / "cytoflow__itn_02.fcs"
    with pytest.warns(FCSWarning, match=r"\$P3E=4,0"):
        sample = read_fcs(path, keep_raw=True)
    np.testing.assert_array_equal(sample.events, sample.raw_events)
    assert np.isfinite(sample.events).all()


def test_accuri_spillover_by_channel_numbers(shared_data):
    sample = _read_quiet(shared_data / "fcs_edge" / "cytoflow__Accuri_-_C6.fcs")
    # "$SPILLOVER 8,3,4,5,6,9,10,11,12,..." names channels by number
    assert list(sample.spillover.columns) == [sample.channels[i - 1] for i in (3, 4, 5, 6, 9, 10, 11, 12)]
    np.testing.assert_array_equal(sample.spillover.to_numpy(), np.eye(8))


def test_truncated_spillover_warns_and_is_none(shared_data):
    path = shared_data / "fcs_edge" / "fcsparser__EY_2013-07-19_PBS_FCS_3.1_Well_A1.001.fcs"
    with pytest.warns(FCSWarning, match=r"\$SPILLOVER ignored"):
        sample = read_fcs(path)
    assert sample.spillover is None


def test_fluorescence_channels_without_spillover(shared_data):
    nilsson = read_fcs(shared_data / "fcs_real" / "ob-flow-datasets__Nilsson_rare.fcs")
    assert nilsson.markers == [""] * 20  # $PnS is a single blank in this file
    assert nilsson.fluorescence_channels() == [
        "CD38", "CD34", "CD123", "PI", "CD19", "CD10", "CD110", "CD45", "CD3", "CD45RA", "CD11b", "CD4",
        "CD49fpur", "CD90bio",
    ]
    navios = read_fcs(shared_data / "fcs_real" / "fcsparser__fcs1_cleaned.lmd")
    assert navios.fluorescence_channels() == [f"FL{i} INT LOG" for i in range(1, 6)]
    assert navios.channel_index("CD19-ECD") == 4


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupted_real_header_and_text_reads_or_raises_fcs_error(shared_data, tmp_path_factory, data):
    name = data.draw(st.sampled_from(["fcs_edge/FlowIO__coulter.lmd", "fcs_truth/FlowIO__data1.fcs"]))
    content = bytearray((shared_data / name).read_bytes())
    text_end = int(content[18:26])
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, text_end))
        content[pos] = data.draw(st.sampled_from([0, 32, 47, 48, 49, 57, 92, 255, ord("$"), ord(",")]))
    path = tmp_path_factory.mktemp("real_corrupt") / "damaged.fcs"
    path.write_bytes(bytes(content))
    dataset = data.draw(st.integers(0, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            sample = read_fcs(path, dataset)
        except FCSError as exc:
            assert "damaged.fcs" in str(exc)
        else:
            assert sample.events.shape == (sample.n_events, len(sample.channels))

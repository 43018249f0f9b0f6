"""FCS reading on files built byte by byte: widths, byte order, masks, offsets, data sets."""

from __future__ import annotations

import hashlib
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from naive.fcs import build_fcs, decode_ints, int_text, pack_ints, preprocess_value

from mrdquant.errors import FCSError, FCSWarning, GatingError
from mrdquant.io._fcs_kernels import _log_linearise
from mrdquant.io.fcs import FlowSample, read_fcs, read_fcs_text, write_fcs


def _write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize(
    "widths",
    [[8, 8, 8], [16, 16, 16], [32, 32, 32], [24, 24, 24], [8, 16, 32], [16, 32, 8, 24]],
    ids=lambda w: "-".join(map(str, w)),
)
def test_integer_widths_and_byte_order_match_naive(tmp_path, widths, big_endian):
    rng = np.random.default_rng(sum(widths) + big_endian)
    n = 57
    ranges = [2 ** (w - 2) if w > 8 else 100 for w in widths]  # leave high bits for masking
    rows = [[int(rng.integers(0, 2**w)) for w in widths] for _ in range(n)]
    data = pack_ints(rows, widths, big_endian)
    names = [f"FL{i}-A" for i in range(len(widths))]
    path = _write(tmp_path, "ints.fcs", build_fcs(int_text(n, widths, ranges, names, big_endian=big_endian), data))
    sample = read_fcs(path, keep_raw=True)
    expected = np.array(decode_ints(data, widths, ranges, big_endian), dtype=np.float64)
    np.testing.assert_array_equal(sample.raw_events, expected)
    np.testing.assert_array_equal(sample.events, expected)  # linear, gain 1
    assert sample.events.dtype == np.float64
    for j, r in enumerate(ranges):
        top = 1 << (r - 1).bit_length()
        assert sample.events[:, j].max() < top


def test_fcs_2_0_header_offsets_and_pnr_not_power_of_two(tmp_path):
    widths, ranges = [16, 16], [1000, 65536]  # mask to next power of 2: 1023
    rows = [[0xFFFF, 0xFFFF], [1000, 5], [1024, 7]]
    data = pack_ints(rows, widths, False)
    path = _write(tmp_path, "v2.fcs", build_fcs(int_text(3, widths, ranges, ["A", "B"]), data, version="2.0"))
    sample = read_fcs(path)
    assert sample.version == "2.0"
    np.testing.assert_array_equal(sample.events, [[1023, 0xFFFF], [1000, 5], [0, 7]])


def test_preprocessing_log_gain_time(tmp_path):
    widths, ranges = [16, 16, 16, 16], [1024, 1024, 1024, 1024]
    rows = [[0, 0, 0, 0], [512, 100, 10, 10], [1023, 1000, 50, 1023]]
    text = int_text(3, widths, ranges, ["FL1-H", "FSC-H", "Time", "FL2-H"], extra={
        "$P1E": "4,0",  # f2 = 0 is read as 1
        "$P2G": "4",
        "$P3G": "7",  # never applied to time
        "$P4E": "2,0.5",
        "$P4G": "2",
        "$TIMESTEP": "0.25",
    })
    path = _write(tmp_path, "pre.fcs", build_fcs(text, pack_ints(rows, widths, False)))
    sample = read_fcs(path, keep_raw=True)
    expected = np.array([
        [preprocess_value(r[0], 4, 1024, 1, 1), r[1] / 4, r[2] * 0.25, preprocess_value(r[3], 2, 1024, 0.5, 2)]
        for r in rows
    ])
    np.testing.assert_array_equal(sample.events, expected)
    np.testing.assert_array_equal(sample.raw_events, np.array(rows, dtype=float))


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e7, allow_nan=False), min_size=1, max_size=50),
    decades=st.sampled_from([0.5, 1.0, 4.0, 4.5, 5.0]),
    pnr=st.sampled_from([1024.0, 262144.0, 1000.0, 65536.0]),
    log0=st.sampled_from([1.0, 0.1024, 0.5]),
    f32=st.booleans(),
)
def test_log_kernel_matches_naive(values, decades, pnr, log0, f32):
    events = np.array(values, dtype=np.float32 if f32 else np.float64)[:, None].repeat(2, axis=1)
    before = events.copy()
    _log_linearise(events, 1, decades, pnr, log0)
    expected = np.array([preprocess_value(float(v), decades, pnr, log0, 1.0) for v in before[:, 1]])
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(events[:, 1], expected.astype(events.dtype))
    np.testing.assert_array_equal(events[:, 0], before[:, 0])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(st.integers(0, 65535), min_size=3, max_size=3), min_size=1, max_size=20),
    decades=st.sampled_from([0.0, 1.0, 4.0]),
    log0=st.sampled_from(["0", "1", "0.1024"]),
    gain=st.sampled_from(["1", "0", "2", "3.67"]),
    timestep=st.sampled_from(["", "0.1", "1", "2.5e-3"]),
)
def test_preprocessing_property_matches_naive(tmp_path, rows, decades, log0, gain, timestep):
    widths, ranges = [16, 16, 16], [1024, 65536, 65536]
    extra = {"$P1E": f"{decades},{log0}", "$P1G": gain, "$P2G": gain, "$P3G": gain}
    if timestep:
        extra["$TIMESTEP"] = timestep
    text = int_text(len(rows), widths, ranges, ["FL1-H", "SSC-H", "Time"], extra=extra)
    path = _write(tmp_path, "prop_pre.fcs", build_fcs(text, pack_ints(rows, widths, False)))
    sample = read_fcs(path)
    l0 = float(log0) if float(log0) != 0 or decades == 0 else 1.0
    g = float(gain)
    step = float(timestep) if timestep else 1.0
    expected = np.array([[preprocess_value(r[0] % 1024, decades, 1024.0, l0, g),
                          preprocess_value(r[1], 0, 65536.0, 0, g),
                          r[2] * step] for r in rows])
    np.testing.assert_array_equal(sample.events, expected)


def test_multi_data_set_file(tmp_path):
    second_body = build_fcs(int_text(3, [8, 8], [256, 256], ["X", "Y"]), bytes([1, 2, 3, 4, 5, 6]))
    # $NEXTDATA (relative to the first data set) is zero-padded so its width is known in advance
    text = int_text(2, [16], [1024], ["A"])
    text["$NEXTDATA"] = "0" * 10
    first = build_fcs(text, pack_ints([[1], [2]], [16], False))
    text["$NEXTDATA"] = f"{len(first) + 10:010d}"
    first = build_fcs(text, pack_ints([[1], [2]], [16], False))
    path = _write(tmp_path, "multi.fcs", first + b"\0" * 10 + second_body)
    a = read_fcs(path)
    b = read_fcs(path, 1)
    assert a.n_datasets == b.n_datasets == 2
    assert a.channels == ["A"] and a.events[:, 0].tolist() == [1, 2]
    assert b.channels == ["X", "Y"] and b.events.tolist() == [[1, 2], [3, 4], [5, 6]]
    with pytest.raises(FCSError, match="multi.fcs.*index 5.*2 data set"):
        read_fcs(path, 5)
    # a damaged second data set does not hide the first one
    broken = first + b"\0" * 10 + b"FCS3.0    garbage!" + second_body[18:]
    path = _write(tmp_path, "multi_broken.fcs", broken)
    with pytest.warns(FCSWarning, match="data set 1 at byte .* cannot be parsed"):
        a = read_fcs(path)
    assert a.n_datasets == 1 and a.events[:, 0].tolist() == [1, 2]
    with pytest.raises(FCSError, match="multi_broken.fcs.*HEADER field text_start"):
        read_fcs(path, 1)


def _discrepant(tmp_path, header_data, text_data=None):
    rows = [[i, 2 * i] for i in range(10)]
    data = pack_ints(rows, [16, 16], False)
    content = build_fcs(int_text(10, [16, 16], [1024, 1024], ["A", "B"]), data, header_data=header_data,
                        text_data=text_data)
    return _write(tmp_path, "disc.fcs", content), rows


def test_header_wrong_text_right_reads_with_warning(tmp_path):
    probe, _ = _discrepant(tmp_path, None)
    raw = probe.read_bytes()
    start, end = int(raw[26:34]), int(raw[34:42])
    path, rows = _discrepant(tmp_path, (str(start - 7), str(end + 100)))
    with pytest.warns(FCSWarning) as rec:
        sample = read_fcs(path)
    msg = " ".join(str(w.message) for w in rec)
    assert "disc.fcs" in msg and f"{start - 7}-{end + 100}" in msg and f"{start}-{end}" in msg
    np.testing.assert_array_equal(sample.events, rows)


def test_text_wrong_header_right_reads_with_warning(tmp_path):
    probe, _ = _discrepant(tmp_path, None)
    raw = probe.read_bytes()
    start, end = int(raw[26:34]), int(raw[34:42])
    path, rows = _discrepant(tmp_path, None, text_data=(start + 3, end + 3000))
    with pytest.warns(FCSWarning, match="HEADER"):
        sample = read_fcs(path)
    np.testing.assert_array_equal(sample.events, rows)


def test_unrecoverable_discrepancy_raises(tmp_path):
    probe, _ = _discrepant(tmp_path, None)
    raw = probe.read_bytes()
    start = int(raw[26:34])
    path, _ = _discrepant(tmp_path, (str(start + 30), str(start + 40)), text_data=(start + 31, start + 41))
    with pytest.raises(FCSError, match=r"disc\.fcs.*HEADER.*TEXT"):
        read_fcs(path)


def test_truncated_data_and_bad_keywords_raise(tmp_path):
    data = pack_ints([[1, 2]] * 10, [16, 16], False)
    good = build_fcs(int_text(10, [16, 16], [1024, 1024], ["A", "B"]), data)
    with pytest.raises(FCSError, match="cut.fcs"):
        read_fcs(_write(tmp_path, "cut.fcs", good[:-5]))
    for key, value, pattern in [
        ("$DATATYPE", "A", r"\$DATATYPE"),
        ("$BYTEORD", "3,4,1,2", r"\$BYTEORD"),
        ("$P1B", "40", r"\$P1B"),
        ("$P2R", "x", r"\$P2R"),
        ("$MODE", "C", r"\$MODE"),
        ("$P1E", "4", r"\$P1E"),
    ]:
        text = int_text(10, [16, 16], [1024, 1024], ["A", "B"], extra={key: value})
        path = _write(tmp_path, "kw.fcs", build_fcs(text, data))
        with pytest.raises(FCSError, match="kw.fcs.*" + pattern):
            read_fcs(path)
    with pytest.raises(FCSError, match="not-there.fcs.*not found"):
        read_fcs(tmp_path / "not-there.fcs")
    with pytest.raises(FCSError, match="'FCS2.0'"):
        read_fcs(_write(tmp_path, "junk.fcs", b"NOTFCS" + b" " * 100))


def test_duplicate_pnn_kept_and_lookup_ambiguous(tmp_path):
    path = write_fcs(tmp_path / "dup.fcs", np.ones((3, 3)), ["FL1-A", "FL1-A", "SSC-A"], markers=["CD19", "CD10", ""])
    with pytest.warns(FCSWarning, match="duplicate"):
        sample = read_fcs(path)
    assert sample.channels == ["FL1-A", "FL1-A", "SSC-A"]
    with pytest.raises(GatingError, match="ambiguous.*0: 'FL1-A \\[CD19\\]'.*1: 'FL1-A \\[CD10\\]'"):
        sample.channel("FL1-A")
    assert sample.channel_index("CD10") == 1
    assert sample.channel_index("FL1-A [CD19]") == 0


def test_channel_lookup_exact_before_case_insensitive():
    s = FlowSample.from_array(np.zeros((2, 3)), ["cd3", "CD3-A", "X"], markers=["", "CD3", ""])
    assert s.channel_index("cd3") == 0  # exact PnN beats the case-insensitive PnS of column 1
    assert s.channel_index("CD3") == 1
    with pytest.raises(GatingError, match="ambiguous"):
        s.channel_index("Cd3")
    with pytest.raises(GatingError, match=r"no channel 'CD99'.*'cd3'.*'CD3-A \[CD3\]'"):
        s.channel_index("CD99")


def test_fluorescence_channels_heuristic():
    names = ["FSC-A", "FSC-H", "SSC-A", "SSC-W", "FS INT", "SS PEAK", "FS INT LIN", "Time", "TIME", "Event_length",
             "FITC-A", "PE-Cy7-A", "FL1-H", "APC-A", "BV421-A", "label", "Width", "HDR-T", "Comp-APC-A"]
    s = FlowSample.from_array(np.zeros((1, len(names))), names)
    assert s.fluorescence_channels() == ["FITC-A", "PE-Cy7-A", "FL1-H", "APC-A", "BV421-A", "Comp-APC-A"]
    spill = pd.DataFrame(np.eye(2), index=["APC-A", "FITC-A"], columns=["APC-A", "FITC-A"])
    s2 = FlowSample.from_array(np.zeros((1, len(names))), names, spillover=spill)
    assert s2.fluorescence_channels() == ["FITC-A", "APC-A"]


def test_from_array_validation_and_dtype():
    s = FlowSample.from_array(np.arange(6, dtype=np.float32).reshape(3, 2), ["A", "B"])
    assert s.events.dtype == np.float32 and s.n_events == 3 and s.markers == ["", ""]
    assert s.sha256 == "" and s.path is None
    np.testing.assert_array_equal(s.raw_events, s.events)
    assert FlowSample.from_array([[1, 2]], ["A", "B"]).events.dtype == np.float64
    with pytest.raises(FCSError, match="2 channel names given for 3"):
        FlowSample.from_array(np.zeros((2, 3)), ["A", "B"])
    with pytest.raises(FCSError, match="2-D"):
        FlowSample.from_array(np.zeros(3), ["A"])
    bad = pd.DataFrame(np.eye(2), index=["A", "Z"], columns=["A", "Z"])
    with pytest.raises(FCSError, match="'Z'"):
        FlowSample.from_array(np.zeros((1, 2)), ["A", "B"], spillover=bad)


def test_write_read_round_trip_with_spillover_and_metadata(tmp_path):
    rng = np.random.default_rng(3)
    ev = rng.normal(100, 500, size=(1000, 4)).astype(np.float32)
    spill = pd.DataFrame([[1.0, 0.125], [0.03, 1.0]], index=["PE-A", "APC-A"], columns=["PE-A", "APC-A"])
    path = write_fcs(tmp_path / "rt.fcs", ev, ["FSC-A", "PE-A", "APC-A", "Time"],
                     markers=["", "CD10", "CD19", ""], metadata={"$CYT": "TestCyt", "Tube": "MRD 1"}, spillover=spill)
    s = read_fcs(path)
    assert s.version == "3.1" and s.events.dtype == np.float32
    np.testing.assert_array_equal(s.events, ev)
    assert s.markers == ["", "CD10", "CD19", ""]
    assert s.metadata["cyt"] == "TestCyt" and s.metadata["tube"] == "MRD 1"
    pd.testing.assert_frame_equal(s.spillover, spill, check_names=False)
    assert s.spillover.index.name == "detector"
    assert list(tmp_path.iterdir()) == [path]  # nothing temporary left behind
    t = read_fcs_text(path)
    assert t.n_events == 0 and t.metadata["tot"] == "1000" and t.sha256 == s.sha256


def test_sha256_is_computed_on_first_access_and_cached(tmp_path, monkeypatch):
    from mrdquant.io import fcs as fcs_module

    path = write_fcs(tmp_path / "h.fcs", np.arange(20, dtype=np.float32).reshape(10, 2), ["FSC-A", "PE-A"])
    calls = []
    real = fcs_module._sha256_of
    monkeypatch.setattr(fcs_module, "_sha256_of", lambda p: calls.append(p) or real(p))
    s = read_fcs(path)
    t = read_fcs_text(path)
    assert calls == []  # reading does not hash the file
    assert s.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() == t.sha256
    assert s.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert calls == [path, path]  # once per sample, then cached


def test_sha256_refused_when_file_changed_after_reading(tmp_path):
    ev = np.arange(20, dtype=np.float32).reshape(10, 2)
    path = write_fcs(tmp_path / "c.fcs", ev, ["FSC-A", "PE-A"])
    s = read_fcs(path)
    st = path.stat()
    # same size, new content, new modification time
    write_fcs(path, ev[::-1].copy(), ["FSC-A", "PE-A"])
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert path.stat().st_size == st.st_size
    with pytest.raises(FCSError, match=r"c\.fcs: file changed since it was read"):
        s.sha256
    with pytest.raises(FCSError, match=r"c\.fcs: file changed since it was read"):
        s.raw_events
    # a hash computed before the change stays valid for the events in memory
    s2 = read_fcs(path)
    digest = s2.sha256
    path.write_bytes(path.read_bytes() + b"x")
    assert s2.sha256 == digest
    with pytest.raises(FCSError, match=r"c\.fcs: file changed since it was read"):
        s2.raw_events
    path.unlink()
    s3 = FlowSample.from_array(ev, ["FSC-A", "PE-A"])
    assert s3.sha256 == ""


def test_sha256_refused_when_file_removed(tmp_path):
    path = write_fcs(tmp_path / "gone.fcs", np.zeros((3, 2), dtype=np.float32), ["FSC-A", "PE-A"])
    s = read_fcs(path)
    path.unlink()
    with pytest.raises(FCSError, match=r"gone\.fcs: file is no longer readable"):
        s.sha256


def test_sha256_hashed_in_background_while_reading(tmp_path, monkeypatch):
    from mrdquant.io import fcs as fcs_module

    path = write_fcs(tmp_path / "b.fcs", np.arange(40, dtype=np.float32).reshape(20, 2), ["FSC-A", "PE-A"])
    want = hashlib.sha256(path.read_bytes()).hexdigest()
    calls = []
    real = fcs_module._sha256_of
    monkeypatch.setattr(fcs_module, "_sha256_of", lambda p: calls.append(p) or real(p))
    s = read_fcs(path, hash_in_background=True)
    assert s.sha256 == want and s.sha256 == want
    # a sample read plainly and hashed on a thread afterwards
    t = read_fcs(path).hash_in_background()
    assert t.hash_in_background() is t  # already under way: not started twice
    assert t.sha256 == want
    assert calls == [path, path]  # once per sample, then cached
    # in memory: nothing to hash
    assert FlowSample.from_array(np.zeros((2, 2)), ["A", "B"]).hash_in_background().sha256 == ""
    # a sample whose hash is under way still pickles (to a worker); the copy hashes on demand
    import pickle

    u = pickle.loads(pickle.dumps(read_fcs(path, hash_in_background=True)))
    np.testing.assert_array_equal(u.events, s.events)
    assert u.sha256 == want


def test_sha256_in_background_refused_when_file_changed_or_unreadable(tmp_path):
    ev = np.arange(20, dtype=np.float32).reshape(10, 2)
    path = write_fcs(tmp_path / "c.fcs", ev, ["FSC-A", "PE-A"])
    s = read_fcs(path, hash_in_background=True)
    st = path.stat()
    s._hashing.result()  # the hash of the old bytes is done ...
    write_fcs(path, ev[::-1].copy(), ["FSC-A", "PE-A"])  # ... then the file is rewritten
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    with pytest.raises(FCSError, match=r"c\.fcs: file changed since it was read"):
        s.sha256
    # the thread's own read error is the one reported
    u = read_fcs(path, hash_in_background=True)
    u._hashing.result()
    u._hashing = fcs_module_hashing(tmp_path / "missing.fcs")
    with pytest.raises(FCSError, match=r"missing\.fcs: cannot be read"):
        u.sha256
    # a missing file is reported by the reader, as without the hash
    with pytest.raises(FCSError, match=r"nope\.fcs: file not found"):
        read_fcs(tmp_path / "nope.fcs", hash_in_background=True)


def test_adopt_sha256_only_for_the_state_the_file_was_read_in(tmp_path, monkeypatch):
    from mrdquant.io import fcs as fcs_module

    path = write_fcs(tmp_path / "k.fcs", np.arange(20, dtype=np.float32).reshape(10, 2), ["FSC-A", "PE-A"])
    st = path.stat()
    calls = []
    monkeypatch.setattr(fcs_module, "_sha256_of", lambda p: calls.append(p) or "hashed")
    s = read_fcs(path)
    assert not s.adopt_sha256("a" * 64, st.st_size + 1, st.st_mtime_ns)  # another size
    assert not s.adopt_sha256("a" * 64, st.st_size, st.st_mtime_ns - 1)  # another time
    assert s.adopt_sha256("a" * 64, st.st_size, st.st_mtime_ns)
    assert s.sha256 == "a" * 64 and calls == []
    assert not s.adopt_sha256("b" * 64, st.st_size, st.st_mtime_ns)  # a digest is never replaced
    t = read_fcs(path, hash_in_background=True)  # a hash under way is not replaced either
    assert not t.adopt_sha256("a" * 64, st.st_size, st.st_mtime_ns) and t.sha256 == "hashed"
    assert not FlowSample.from_array(np.zeros((2, 2)), ["A", "B"]).adopt_sha256("a" * 64, 0, 0)


def fcs_module_hashing(path):
    from mrdquant.io.fcs import _Hashing

    return _Hashing(path)


def test_write_fcs_rejects_bad_input(tmp_path):
    with pytest.raises(FCSError, match="2 channel names given for 3"):
        write_fcs(tmp_path / "x.fcs", np.zeros((2, 3)), ["A", "B"])
    with pytest.raises(FCSError, match=r"\$P2N is empty"):
        write_fcs(tmp_path / "x.fcs", np.zeros((2, 2)), ["A", ""])
    with pytest.raises(FCSError, match="'Q'"):
        write_fcs(tmp_path / "x.fcs", np.zeros((2, 2)), ["A", "B"],
                  spillover=pd.DataFrame(np.eye(1), index=["Q"], columns=["Q"]))
    assert not list(tmp_path.iterdir())


_name_chars = st.characters(min_codepoint=32, max_codepoint=0x24F, blacklist_characters="$/")
_names = st.text(_name_chars, min_size=1, max_size=12).filter(lambda s: s.strip() != "")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    n_events=st.integers(0, 40),
    n_channels=st.integers(1, 6),
)
def test_round_trip_property(tmp_path, data, n_events, n_channels):
    channels = data.draw(st.lists(_names, min_size=n_channels, max_size=n_channels, unique=True))
    markers = data.draw(st.lists(st.one_of(st.just(""), _names), min_size=n_channels, max_size=n_channels))
    values = data.draw(st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False),
                                min_size=n_events * n_channels, max_size=n_events * n_channels))
    ev = np.array(values, dtype=np.float32).reshape(n_events, n_channels)
    candidates = [c for c in channels if "," not in c]
    detectors = data.draw(st.lists(st.sampled_from(candidates), unique=True)) if candidates else []
    spill = None
    if detectors:
        k = len(detectors)
        coef = data.draw(st.lists(st.floats(-2, 2, allow_nan=False), min_size=k * k, max_size=k * k))
        spill = pd.DataFrame(np.array(coef).reshape(k, k), index=detectors, columns=detectors)
    path = write_fcs(tmp_path / "prop.fcs", ev, channels, markers=markers, spillover=spill)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FCSWarning)
        s = read_fcs(path)
    assert s.channels == channels
    assert s.markers == markers
    assert s.events.shape == (n_events, n_channels)
    np.testing.assert_array_equal(s.events, ev)
    if spill is None:
        assert s.spillover is None
    else:
        pd.testing.assert_frame_equal(s.spillover, spill, check_names=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_corruption_reads_or_raises_fcs_error(tmp_path_factory, data):
    base = tmp_path_factory.mktemp("corrupt")
    ev = np.arange(40, dtype=np.float32).reshape(10, 4)
    spill = pd.DataFrame(np.eye(2), index=["PE-A", "APC-A"], columns=["PE-A", "APC-A"])
    if data.draw(st.booleans()):
        good = write_fcs(base / "good.fcs", ev, ["FSC-A", "PE-A", "APC-A", "Time"], markers=["", "CD10", "CD19", ""],
                         metadata={"timestep": "0.01"}, spillover=spill).read_bytes()
    else:  # integer, mixed widths, log amplification, FCS 2.0 or 3.0
        widths, ranges = [8, 16, 24, 32], [256, 1024, 2**20, 2**30]
        rows = [[i % 256, 70 * i, 3000 * i, 5 * i] for i in range(10)]
        text = int_text(10, widths, ranges, ["FSC-H", "FL1-H", "FL2-H", "Time"], big_endian=True,
                        extra={"$P2E": "4,1", "$P3G": "2", "$TIMESTEP": "0.1"})
        good = build_fcs(text, pack_ints(rows, widths, True), version=data.draw(st.sampled_from(["2.0", "3.0"])))
    content = bytearray(good)
    n_edits = data.draw(st.integers(1, 8))
    for _ in range(n_edits):
        pos = data.draw(st.integers(0, len(content) - 1))
        content[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        content = content[: data.draw(st.integers(0, len(content)))]
    path = base / "bad.fcs"
    path.write_bytes(bytes(content))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            s = read_fcs(path)
        except FCSError as exc:
            assert "bad.fcs" in str(exc)
        else:
            assert s.events.ndim == 2 and s.events.shape[1] == len(s.channels)


@pytest.mark.parametrize("kind,bits,fmt", [("D", 64, "f8"), ("F", 32, "f4")])
@pytest.mark.parametrize("big_endian", [False, True])
def test_float_and_double_data_both_byte_orders(tmp_path, kind, bits, fmt, big_endian):
    values = np.array([[1.5, -2.25e-3], [3.0e5, 0.1], [-7.0, 1e-30]])
    data = values.astype((">" if big_endian else "<") + fmt).tobytes()
    text = {
        "$BYTEORD": "4,3,2,1" if big_endian else "1,2,3,4", "$DATATYPE": kind, "$MODE": "L", "$PAR": "2",
        "$TOT": "3", "$P1N": "FL1-A", "$P1B": str(bits), "$P1R": "262144", "$P1E": "0,0",
        "$P2N": "FL2-A", "$P2B": str(bits), "$P2R": "262144", "$P2E": "0,0", "$P2G": "0.5",
    }
    sample = read_fcs(_write(tmp_path, "float.fcs", build_fcs(text, data)), keep_raw=True)
    expected_dtype = np.float64 if kind == "D" else np.float32
    assert sample.events.dtype == expected_dtype and sample.events.flags.c_contiguous
    raw = values.astype(expected_dtype)
    np.testing.assert_array_equal(sample.raw_events, raw)
    np.testing.assert_array_equal(sample.events[:, 0], raw[:, 0])
    np.testing.assert_array_equal(sample.events[:, 1], (raw[:, 1].astype(np.float64) / 0.5).astype(expected_dtype))

"""$PAR, $TOT, $PnB and the DATA segment length must agree: one fitting reading or FCSError.

Broken files are made by editing the TEXT of valid ones (same-length edits of a file
written by ``write_fcs``, or keyword dicts assembled by the independent ``naive.fcs``
builder), so the DATA bytes are the original events and every correct reading must give
them back.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from naive.fcs import build_fcs, decode_ints, int_text, pack_ints

from mrdquant.errors import FCSError, FCSWarning
from mrdquant.io.fcs import read_fcs, write_fcs

CHANNELS = ["FSC-A", "SSC-A", "CD45", "CD34", "CD117", "CD13", "CD33", "HLA-DR", "CD7", "CD56", "CD19", "Time"]


def _edit_text(raw: bytes, key: str, value: str) -> bytes:
    """Replace keyword ``key``'s value in TEXT by ``value`` (same length: offsets stay valid)."""
    text_start = int(raw[10:18])
    delim = raw[text_start:text_start + 1]
    m = re.search(re.escape(delim + key.encode() + delim) + rb"([^" + re.escape(delim) + rb"]*)" + re.escape(delim),
                  raw)
    assert m is not None, key
    old = m.group(1)
    new = value.encode().ljust(len(old))
    assert len(new) == len(old), (key, old, value)
    return raw[: m.start(1)] + new + raw[m.end(1):]


@pytest.fixture
def laip_file(tmp_path):
    rng = np.random.default_rng(5)
    ev = rng.normal(1000, 300, size=(1000, 12)).astype(np.float32)
    path = write_fcs(tmp_path / "laip.fcs", ev, CHANNELS)
    return path, ev


def _write(tmp_path, name, content: bytes):
    p = tmp_path / name
    p.write_bytes(content)
    return p


def test_par_one_too_small_reads_all_channels_with_a_warning(laip_file, tmp_path):
    path, ev = laip_file
    bad = _write(tmp_path, "par_small.fcs", _edit_text(path.read_bytes(), "$PAR", "11"))
    with pytest.warns(FCSWarning) as rec:
        s = read_fcs(bad)
    msg = " ".join(str(w.message) for w in rec)
    assert "par_small.fcs" in msg and "$PAR=12 instead of 11" in msg and "$TOT=1000" in msg
    assert s.channels == CHANNELS
    np.testing.assert_array_equal(s.events, ev)  # aligned: every value where it was written


def test_par_one_too_large_reads_the_described_channels_with_a_warning(laip_file, tmp_path):
    path, ev = laip_file
    raw = _edit_text(path.read_bytes(), "$PAR", "13")
    with pytest.warns(FCSWarning, match=r"par_large\.fcs.*\$P13N is missing.*\$PAR=12 instead of 13"):
        s = read_fcs(_write(tmp_path, "par_large.fcs", raw))
    np.testing.assert_array_equal(s.events, ev)


def test_tot_wrong_reads_the_events_the_data_holds(laip_file, tmp_path):
    path, ev = laip_file
    for value in ("999", "1001"):
        raw = _edit_text(path.read_bytes(), "$TOT", value)
        with pytest.warns(FCSWarning, match=rf"tot\.fcs.*\$TOT=1000 instead of {value}"):
            s = read_fcs(_write(tmp_path, "tot.fcs", raw))
        np.testing.assert_array_equal(s.events, ev)


def test_float_width_keyword_wrong_is_read_as_the_datatype_says(laip_file, tmp_path):
    path, ev = laip_file
    raw = _edit_text(path.read_bytes(), "$P3B", "16")
    with pytest.warns(FCSWarning, match=r"pnb\.fcs.*\$P3B=16 disagrees with \$DATATYPE=F"):
        s = read_fcs(_write(tmp_path, "pnb.fcs", raw))
    np.testing.assert_array_equal(s.events, ev)


def test_integer_width_keyword_wrong_is_read_with_the_one_width_that_fits(tmp_path):
    rows = [[70000 + i, 300 + i] for i in range(5)]
    data = pack_ints(rows, [32, 32], False)
    text = int_text(5, [32, 32], [2**32] * 2, ["A", "B"], extra={"$P2B": "16"})
    with pytest.warns(FCSWarning, match=r"width\.fcs.*32-bit values instead of the \$PnB widths"):
        s = read_fcs(_write(tmp_path, "width.fcs", build_fcs(text, data)))
    np.testing.assert_array_equal(s.events, rows)


def test_two_fitting_readings_are_refused_and_listed(tmp_path):
    # 2 x 16-bit channels x 10 events = 40 bytes; $TOT=5 fits both "$TOT=10" and "32-bit values"
    data = pack_ints([[i, 2 * i] for i in range(10)], [16, 16], False)
    text = int_text(10, [16, 16], [65536, 65536], ["A", "B"], extra={"$TOT": "5"})
    with pytest.raises(FCSError) as exc:
        read_fcs(_write(tmp_path, "ambiguous.fcs", build_fcs(text, data)))
    msg = str(exc.value)
    assert "ambiguous.fcs" in msg and "several readings fit" in msg
    assert "$TOT=10 instead of 5" in msg and "32-bit values" in msg and "$PAR=2" in msg


def test_data_length_that_no_reading_explains_is_refused(laip_file, tmp_path):
    # 5 bytes of padding after the events: DATA = 48,005 bytes, no keyword reading fits
    path, ev = laip_file
    raw = path.read_bytes()
    start, end = int(raw[26:34]), int(raw[34:42])
    raw = raw[:34] + f"{end + 5:>8}".encode() + raw[42:] + b"\0" * 5
    raw = _edit_text(raw, "$ENDDATA", str(end + 5))
    with pytest.raises(FCSError) as exc:
        read_fcs(_write(tmp_path, "padded.fcs", raw))
    msg = str(exc.value)
    assert "padded.fcs" in msg and "$PAR=12" in msg and "$TOT=1000" in msg and "48000 bytes" in msg
    assert "48005 bytes" in msg and "no other reading" in msg


def test_short_data_is_refused_naming_the_keywords(laip_file, tmp_path):
    path, ev = laip_file
    raw = path.read_bytes()
    end = int(raw[34:42])
    raw = raw[:34] + f"{end - 8:>8}".encode() + raw[42:]
    raw = _edit_text(raw, "$ENDDATA", str(end - 8))
    with pytest.raises(FCSError, match=r"short\.fcs.*\$PAR=12.*\$TOT=1000.*47992 bytes.*no other reading"):
        read_fcs(_write(tmp_path, "short.fcs", raw))


# ----------------------------------------------------------------------------------------
# the class: one wrong keyword never gives misaligned events
# ----------------------------------------------------------------------------------------


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_one_wrong_keyword_reads_the_original_events_or_refuses(tmp_path_factory, data):
    base = tmp_path_factory.mktemp("layout")
    n = data.draw(st.integers(1, 40))
    p = data.draw(st.integers(1, 5))
    floats = data.draw(st.booleans())
    names = [f"C{i}" for i in range(1, p + 1)]
    if floats:
        ev = np.arange(n * p, dtype=np.float32).reshape(n, p)
        good = write_fcs(base / "good.fcs", ev, names).read_bytes()
        text = None
    else:
        widths = data.draw(st.lists(st.sampled_from([8, 16, 24, 32]), min_size=p, max_size=p))
        rows = [[(i * 7 + j) % 256 for j in range(p)] for i in range(n)]
        ev = np.array(rows, dtype=np.float64)
        text = int_text(n, widths, [2**w for w in widths], names)
        datab = pack_ints(rows, widths, False)
    field = data.draw(st.sampled_from(["$PAR", "$TOT", "$PnB"]))
    if field == "$PAR":
        value = data.draw(st.integers(1, p + 2).filter(lambda v: v != p))
        key = "$PAR"
    elif field == "$TOT":
        value = data.draw(st.integers(0, 3 * n).filter(lambda v: v != n))
        key = "$TOT"
    else:
        ch = data.draw(st.integers(1, p))
        key = f"$P{ch}B"
        value = data.draw(st.sampled_from([8, 16, 24, 32, 64]))
    if floats:
        raw = good
        if len(str(value)) > len(re.search(re.escape(key).encode() + rb"/([^/]*)/", raw).group(1)):
            return  # same-length edits only
        raw = _edit_text(raw, key, str(value))
    else:
        text = dict(text, **{key: str(value)})
        raw = build_fcs(text, datab)
        if key.endswith("B") and str(value) == text.get(key) and value == widths[ch - 1]:
            return
    path = base / "one_wrong.fcs"
    path.write_bytes(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FCSWarning)
        try:
            s = read_fcs(path)
        except FCSError as exc:
            assert "one_wrong.fcs" in str(exc)
            return
    np.testing.assert_array_equal(s.events, ev)
    if not floats:  # the independent decoder agrees with what was written
        assert decode_ints(datab, widths, [2**w for w in widths], False) == rows

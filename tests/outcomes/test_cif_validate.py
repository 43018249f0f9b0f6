"""Shared validation of outcome inputs (mrdquant.outcomes._validate)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mrdquant.errors import InputError
from mrdquant.outcomes._validate import (
    as_groups,
    as_time_event,
    as_time_status,
    check_conf_level,
    check_event,
    check_group,
    check_same_length,
    check_status,
    check_time,
    resolve_columns,
)


def test_check_time_returns_contiguous_float64():
    out = check_time([0, 1, 2.5])
    assert out.dtype == np.float64 and out.flags["C_CONTIGUOUS"]
    assert out.tolist() == [0.0, 1.0, 2.5]
    assert check_time(pd.Series(["1", "2"])).tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1, -0.5], r"time: negative times -0.5 at position 1; expected times >= 0"),
        ([1, np.nan], r"time: missing or infinite values nan at position 1"),
        ([1, np.inf], r"time: missing or infinite values inf at position 1"),
        (["1", "x"], r"time: non-numeric values 'x' at position 1"),
        ([], r"time: empty"),
        ([[1, 2]], r"time: expected a 1-D array"),
        ([True, False], r"time: got booleans"),
        (None, r"time: no values given"),
    ],
)
def test_check_time_messages(values, message):
    with pytest.raises(InputError, match=message):
        check_time(values)


def test_messages_use_index_labels_and_cap_the_list():
    s = pd.Series([-1.0, -2, -3, -4, -5], index=list("abcde"), name="days")
    with pytest.raises(InputError, match=r"days: negative times -1.0 at index 'a', .* \(and 2 more\)"):
        check_time(s, name="days")


def test_check_status():
    assert check_status([0, 1, True, 1.0]).tolist() == [0, 1, 1, 1]
    with pytest.raises(InputError, match=r"status: unknown codes 2 at position 2; expected 0 \(censored\) or 1"):
        check_status([0, 1, 2])
    with pytest.raises(InputError, match="status: missing values"):
        check_status([0, None])


def test_check_event():
    assert check_event([0, 1, 2, 3]).dtype == np.int64
    with pytest.raises(InputError, match=r"event: unknown event codes 3 at position 1; expected 0 \(censored\) or a cause in \[1, 2\]"):
        check_event([0, 3], causes=[1, 2])
    with pytest.raises(InputError, match="non-integer codes 1.5"):
        check_event([0, 1.5])
    with pytest.raises(InputError, match="must be positive"):
        check_event([0, 1], causes=[0, 1])


def test_check_group():
    codes, levels = check_group(["b", "a", "b"], 3)
    assert codes.tolist() == [1, 0, 1] and levels.tolist() == ["a", "b"]
    codes, levels = check_group(pd.Categorical(["hi", "lo"], categories=["lo", "hi", "unused"]), 2)
    assert codes.tolist() == [1, 0] and levels.tolist() == ["lo", "hi"]
    codes, levels = check_group(None, 4)
    assert codes.tolist() == [0, 0, 0, 0] and levels.tolist() == ["all"]
    with pytest.raises(InputError, match="group: has 2 values; expected 3"):
        check_group(["a", "b"], 3)
    with pytest.raises(InputError, match="group: missing labels"):
        check_group(["a", None], 2)
    g, gl, s, sl = as_groups([1, 2], None, 2)
    assert gl.tolist() == [1, 2] and sl.tolist() == ["all"]


def test_pairs_and_lengths():
    t, e = as_time_event([1, 2], [0, 2])
    assert t.dtype == np.float64 and e.tolist() == [0, 2]
    t, s = as_time_status([1, 2], [0, 1])
    assert s.tolist() == [0, 1]
    with pytest.raises(InputError, match="time has 2, status has 3"):
        as_time_status([1, 2], [0, 1, 1])
    assert check_same_length(a=[1, 2], b=None, c=np.zeros(2)) == 2


def test_conf_level():
    assert check_conf_level("0.9") == 0.9
    for bad in (0, 1, 95, "x"):
        with pytest.raises(InputError, match="conf_level"):
            check_conf_level(bad)


def test_resolve_columns():
    df = pd.DataFrame({"t": [1.0, 2.0], "e": [0, 1], "a": [3, 4]})
    out = resolve_columns(df, time="t", event=np.array([1, 1]), group=None, covariates=["a", "t"])
    assert out["time"].tolist() == [1.0, 2.0]
    assert out["event"].tolist() == [1, 1]
    assert out["group"] is None
    assert list(out["covariates"].columns) == ["a", "t"]
    with pytest.raises(InputError, match=r"time: column 'x' not in data; available columns: \['t', 'e', 'a'\]"):
        resolve_columns(df, time="x")
    with pytest.raises(InputError, match="event: has 3 values; data has 2 rows"):
        resolve_columns(df, event=[1, 2, 3])
    with pytest.raises(InputError, match="no data frame"):
        resolve_columns(None, time="t")
    with pytest.raises(InputError, match="expected a pandas DataFrame"):
        resolve_columns({"t": [1]}, time="t")


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=30))
def test_check_time_accepts_exactly_finite_nonnegative(values):
    arr = np.asarray(values, dtype=float)
    ok = np.all(np.isfinite(arr)) and np.all(arr >= 0)
    if ok:
        np.testing.assert_array_equal(check_time(values), arr)
    else:
        with pytest.raises(InputError):
            check_time(values)


@given(st.lists(st.integers(-3, 5), min_size=1, max_size=30))
def test_check_event_accepts_exactly_allowed_codes(codes):
    allowed = {0, 1, 2}
    if set(codes) <= allowed:
        assert check_event(codes, causes=[1, 2]).tolist() == codes
    else:
        with pytest.raises(InputError, match="unknown event codes"):
            check_event(codes, causes=[1, 2])

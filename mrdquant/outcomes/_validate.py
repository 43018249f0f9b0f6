"""Input validation shared by every outcome statistic.

Each validator checks one kind of input once, at the boundary, and returns a clean numpy
array (C-contiguous, fixed dtype) that kernels can use without further checks. Every
message names the argument (or DataFrame column), the offending value and where it is
(the index label for pandas input, the position otherwise), and what was expected. All
failures raise :class:`mrdquant.errors.InputError`.

Validators
----------
check_time(time, name="time")
    float64 array of non-negative, finite times.
check_status(status, name="status")
    int64 array of 0 (censored) / 1 (event).
check_event(event, causes=None, name="event")
    int64 array of 0 (censored) / 1..k (cause of failure).
check_group(group, n, name="group")
    ``(codes, levels)``: int64 codes into the sorted distinct labels.
check_same_length(**arrays)
    all given arrays have one length.
resolve_columns(data, **cols)
    column names of a DataFrame (or arrays) → numpy arrays.
as_time_event(time, event, ...), as_time_status(time, status, ...), as_groups(...)
    the combinations every statistic starts with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = [
    "check_time",
    "check_status",
    "check_event",
    "check_group",
    "check_same_length",
    "check_conf_level",
    "resolve_columns",
    "columns_or_arrays",
    "as_time_event",
    "as_time_status",
    "as_groups",
]

#: Label used in result tables for the single group when ``group=None``.
ALL_GROUP = "all"

_MAX_SHOWN = 3


def _where(bad: np.ndarray, raw: np.ndarray, index: pd.Index | None) -> str:
    """Describe the first few offending entries: ``value at index label``."""
    pos = np.flatnonzero(bad)
    parts = []
    for p in pos[:_MAX_SHOWN]:
        loc = f"index {index[p]!r}" if index is not None else f"position {int(p)}"
        value = raw[p].item() if isinstance(raw[p], np.generic) else raw[p]
        parts.append(f"{value!r} at {loc}")
    more = f" (and {pos.size - _MAX_SHOWN} more)" if pos.size > _MAX_SHOWN else ""
    return ", ".join(parts) + more


def _one_dim(values: Any, name: str) -> tuple[np.ndarray, pd.Index | None]:
    if values is None:
        raise InputError(f"{name}: no values given (None); expected a 1-D array or column")
    index = values.index if isinstance(values, pd.Series) else None
    if isinstance(values, pd.DataFrame):
        raise InputError(
            f"{name}: got a DataFrame with columns {list(values.columns)}; expected one column"
        )
    try:
        arr = np.asarray(values)
    except Exception as exc:  # ragged lists and the like
        raise InputError(f"{name}: cannot be read as a 1-D array ({exc})") from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InputError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    return arr, index


def _as_float(arr: np.ndarray, name: str, index: pd.Index | None) -> np.ndarray:
    if arr.dtype.kind in "fiu":
        return np.ascontiguousarray(arr, dtype=np.float64)
    if arr.dtype.kind == "b":
        raise InputError(f"{name}: got booleans; expected numbers")
    out = np.empty(arr.size, dtype=np.float64)
    bad = np.zeros(arr.size, dtype=bool)
    for i, v in enumerate(arr):
        try:
            out[i] = float(v) if v is not None else np.nan
        except (TypeError, ValueError):
            bad[i] = True
    if bad.any():
        raise InputError(f"{name}: non-numeric values {_where(bad, arr, index)}; expected numbers")
    return out


def check_time(time: Any, name: str = "time", *, allow_empty: bool = False) -> np.ndarray:
    """Validate follow-up times.

    Parameters
    ----------
    time : array-like of shape (n,), float, any time unit (days, months)
    name : str
        Argument or column name used in error messages.
    allow_empty : bool, default False

    Returns
    -------
    ndarray of shape (n,), float64, C-contiguous

    Raises
    ------
    InputError
        Non-numeric, NaN, infinite or negative times, or no times at all.
    """
    raw, index = _one_dim(time, name)
    arr = _as_float(raw, name, index)
    if arr.size == 0 and not allow_empty:
        raise InputError(f"{name}: empty; expected at least one time")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InputError(f"{name}: missing or infinite values {_where(bad, raw, index)}; expected finite times")
    bad = arr < 0
    if bad.any():
        raise InputError(f"{name}: negative times {_where(bad, raw, index)}; expected times >= 0")
    return arr


def _as_int_codes(raw: np.ndarray, name: str, index: pd.Index | None, expected: str) -> np.ndarray:
    if raw.dtype.kind == "b":
        return raw.astype(np.int64)
    if raw.dtype.kind in "iu":
        return np.ascontiguousarray(raw, dtype=np.int64)
    arr = _as_float(raw, name, index)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InputError(f"{name}: missing values {_where(bad, raw, index)}; expected {expected}")
    bad = arr != np.round(arr)
    if bad.any():
        raise InputError(f"{name}: non-integer codes {_where(bad, raw, index)}; expected {expected}")
    return arr.astype(np.int64)


def check_status(status: Any, name: str = "status", *, allow_empty: bool = False) -> np.ndarray:
    """Validate an event indicator (0 censored, 1 event).

    Parameters
    ----------
    status : array-like of shape (n,), int or bool
    name : str
        Argument or column name used in error messages.

    Returns
    -------
    ndarray of shape (n,), int64 with values 0 and 1

    Raises
    ------
    InputError
        Missing values or codes other than 0/1.
    """
    expected = "0 (censored) or 1 (event)"
    raw, index = _one_dim(status, name)
    arr = _as_int_codes(raw, name, index, expected)
    if arr.size == 0 and not allow_empty:
        raise InputError(f"{name}: empty; expected at least one status")
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        raise InputError(f"{name}: unknown codes {_where(bad, raw, index)}; expected {expected}")
    return arr


def check_event(
    event: Any,
    causes: Iterable[int] | None = None,
    name: str = "event",
    *,
    allow_empty: bool = False,
) -> np.ndarray:
    """Validate competing-risk event codes (0 censored, 1..k cause of failure).

    Parameters
    ----------
    event : array-like of shape (n,), int
    causes : iterable of int, optional
        The allowed cause codes (all > 0). When None, any positive integer is a cause.
    name : str
        Argument or column name used in error messages.

    Returns
    -------
    ndarray of shape (n,), int64

    Raises
    ------
    InputError
        Missing values, non-integer or negative codes, or codes outside ``causes``.
    """
    if causes is not None:
        allowed = sorted({int(c) for c in causes})
        if any(c <= 0 for c in allowed):
            raise InputError(f"{name}: causes {allowed} must be positive integers (0 means censored)")
        expected = f"0 (censored) or a cause in {allowed}"
    else:
        allowed = None
        expected = "0 (censored) or a positive cause code 1..k"
    raw, index = _one_dim(event, name)
    arr = _as_int_codes(raw, name, index, expected)
    if arr.size == 0 and not allow_empty:
        raise InputError(f"{name}: empty; expected at least one event code")
    if allowed is None:
        bad = arr < 0
    else:
        bad = (arr != 0) & ~np.isin(arr, np.asarray(allowed, dtype=np.int64))
    if bad.any():
        raise InputError(f"{name}: unknown event codes {_where(bad, raw, index)}; expected {expected}")
    return arr


def check_same_length(**arrays: Any) -> int:
    """Check that every non-None array has the same length; return it.

    Raises
    ------
    InputError
        Lengths differ (the message lists each argument with its length).
    """
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise InputError(f"inputs differ in length: {desc}; expected one value per patient")
    return next(iter(lengths.values()), 0)


def check_group(group: Any, n: int, name: str = "group") -> tuple[np.ndarray, np.ndarray]:
    """Validate a grouping variable and encode it.

    Parameters
    ----------
    group : array-like of shape (n,) or None
        Labels of any hashable type. ``None`` puts everyone in one group labelled ``"all"``.
        A pandas Categorical keeps its category order (unused categories dropped);
        otherwise levels are sorted.
    n : int
        Expected length (number of patients).
    name : str
        Argument or column name used in error messages.

    Returns
    -------
    codes : ndarray of shape (n,), int64, index into ``levels``
    levels : ndarray of shape (k,), object, the distinct labels in order

    Raises
    ------
    InputError
        Wrong length or missing labels.
    """
    if group is None:
        return np.zeros(n, dtype=np.int64), np.array([ALL_GROUP], dtype=object)
    raw, index = _one_dim(group, name)
    if raw.size != n:
        raise InputError(f"{name}: has {raw.size} values; expected {n} (one per patient)")
    if isinstance(group, pd.Series):
        ser = group
    elif isinstance(group, pd.Categorical):
        ser = pd.Series(group)
    else:
        ser = pd.Series(raw)
    missing = ser.isna().to_numpy()
    if missing.any():
        raise InputError(f"{name}: missing labels {_where(missing, raw, index)}; expected a label for every patient")
    if isinstance(ser.dtype, pd.CategoricalDtype):
        cat = ser.cat.remove_unused_categories()
        codes = cat.cat.codes.to_numpy().astype(np.int64)
        levels = np.asarray(cat.cat.categories, dtype=object)
        return np.ascontiguousarray(codes), levels
    try:
        codes, levels = pd.factorize(ser, sort=True)
    except TypeError as exc:
        raise InputError(f"{name}: labels of mixed types cannot be ordered ({exc}); use one type") from exc
    return np.ascontiguousarray(codes, dtype=np.int64), np.asarray(levels, dtype=object)


def check_conf_level(conf_level: Any, name: str = "conf_level") -> float:
    """Validate a confidence level strictly between 0 and 1."""
    try:
        value = float(conf_level)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: {conf_level!r} is not a number; expected e.g. 0.95") from exc
    if not 0.0 < value < 1.0:
        raise InputError(f"{name}: {conf_level!r} is outside (0, 1); expected e.g. 0.95")
    return value


def resolve_columns(data: pd.DataFrame | None, **cols: Any) -> dict[str, Any]:
    """Turn column names into arrays.

    Parameters
    ----------
    data : DataFrame or None
        When given, every string value in ``cols`` names one of its columns and a list of
        strings names several (returned as a DataFrame). Arrays pass through unchanged
        (their length must match ``data``).
    **cols
        ``argument_name=column_name_or_array``; ``None`` stays ``None``.

    Returns
    -------
    dict
        Same keys: a 1-D numpy array (string), DataFrame (list of strings), the array as
        given, or None.

    Raises
    ------
    InputError
        ``data`` is not a DataFrame, a named column is missing (the message lists the
        available columns), or an array has the wrong length.
    """
    out: dict[str, Any] = {}
    if data is not None and not isinstance(data, pd.DataFrame):
        raise InputError(f"data: got {type(data).__name__}; expected a pandas DataFrame")
    for arg, spec in cols.items():
        if spec is None:
            out[arg] = None
        elif isinstance(spec, str):
            if data is None:
                raise InputError(f"{arg}: column name {spec!r} given but no data frame")
            if spec not in data.columns:
                raise InputError(
                    f"{arg}: column {spec!r} not in data; available columns: {list(map(str, data.columns))}"
                )
            out[arg] = data[spec]
        elif (
            isinstance(spec, Sequence)
            and not isinstance(spec, (str, bytes))
            and len(spec) > 0
            and all(isinstance(s, str) for s in spec)
            and data is not None
        ):
            missing = [s for s in spec if s not in data.columns]
            if missing:
                raise InputError(
                    f"{arg}: columns {missing} not in data; available columns: {list(map(str, data.columns))}"
                )
            out[arg] = data.loc[:, list(spec)]
        else:
            if data is not None and len(spec) != len(data):
                raise InputError(f"{arg}: has {len(spec)} values; data has {len(data)} rows")
            out[arg] = spec
    return out


def columns_or_arrays(data: pd.DataFrame | None, **cols: Any) -> dict[str, Any]:
    """Resolve only the string values of ``cols`` as columns of ``data``.

    The array-first signature of the statistics (``time, event, group, ...``) accepts
    column names when ``data`` is given; arrays and None pass through unchanged.

    Returns
    -------
    dict
        Same keys; strings replaced by the named column (a Series).

    Raises
    ------
    InputError
        A named column is missing (the message lists the available columns).
    """
    if data is None:
        return dict(cols)
    named = {k: v for k, v in cols.items() if isinstance(v, str)}
    out = dict(cols)
    out.update(resolve_columns(data, **named))
    return out


def as_time_event(
    time: Any,
    event: Any,
    *,
    causes: Iterable[int] | None = None,
    names: tuple[str, str] = ("time", "event"),
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (time, competing-risk event) pair of equal length.

    Returns
    -------
    time : ndarray (n,), float64
    event : ndarray (n,), int64 (0 censored, 1..k causes)
    """
    t = check_time(time, names[0])
    e = check_event(event, causes, names[1])
    check_same_length(**{names[0]: t, names[1]: e})
    return t, e


def as_time_status(
    time: Any, status: Any, *, names: tuple[str, str] = ("time", "status")
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (time, 0/1 status) pair of equal length.

    Returns
    -------
    time : ndarray (n,), float64
    status : ndarray (n,), int64 (0/1)
    """
    t = check_time(time, names[0])
    s = check_status(status, names[1])
    check_same_length(**{names[0]: t, names[1]: s})
    return t, s


def as_groups(
    group: Any, strata: Any, n: int, *, names: tuple[str, str] = ("group", "strata")
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate and encode a group and an optional stratification variable.

    Returns
    -------
    group_codes, group_levels, strata_codes, strata_levels
        As :func:`check_group`; with ``strata=None`` one stratum labelled ``"all"``.
    """
    g, gl = check_group(group, n, names[0])
    s, sl = check_group(strata, n, names[1])
    return g, gl, s, sl

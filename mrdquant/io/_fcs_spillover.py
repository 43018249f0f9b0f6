"""``$SPILLOVER`` / ``$SPILL`` keywords: parsing into, and checking, a spillover DataFrame."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import FCSError, FCSWarning

if TYPE_CHECKING:
    import pandas as pd


def _spillover(text: dict, channels: list, markers: list, path: Path) -> pd.DataFrame | None:
    """The spillover matrix, or None (with an :class:`FCSWarning`) when it is unusable."""
    key = next((k for k in ("spillover", "spill") if k in text and str(text[k]).strip()), None)
    if key is None:
        return None
    kw = "$SPILLOVER" if key == "spillover" else "$SPILL"
    try:
        return _parse_spillover(str(text[key]), channels, markers)
    except ValueError as exc:
        warnings.warn(
            f"{path}: TEXT keyword {kw} ignored ({exc}); spillover is None, compensate with an external matrix",
            FCSWarning,
            stacklevel=4,
        )
        return None


def _parse_spillover(value: str, channels: list, markers: list) -> pd.DataFrame:
    """Parse ``n,name_1..name_n,v_11,v_12..v_nn``; names are $PnN, a unique $PnS or a
    1-based channel number (Accuri C6). Raises ValueError with the reason."""
    import pandas as pd

    parts = value.split(",")
    try:
        n = int(float(parts[0]))
    except (ValueError, OverflowError):
        raise ValueError(f"it starts with {parts[0].strip()!r}, not the number of detectors") from None
    if n < 1 or len(parts) != 1 + n + n * n:
        raise ValueError(
            f"it declares {n} detectors, so it needs {1 + n + n * n} comma-separated fields, but has {len(parts)}"
        )
    names = parts[1 : 1 + n]
    try:
        values = np.array([float(x) for x in parts[1 + n :]], dtype=np.float64).reshape(n, n)
    except ValueError as exc:
        raise ValueError(f"a coefficient is not a number ({exc})") from None
    if not np.all(np.isfinite(values)):
        raise ValueError("a coefficient is not finite")
    detectors = []
    for name in names:
        found = _detector(name, channels, markers)
        if found is None:
            found = _detector(name.strip(), channels, markers)
        if found is None:
            raise ValueError(
                f"detector {name.strip()!r} is not a $PnN, a unique $PnS or a channel number of this file"
            )
        detectors.append(found)
    if len(set(detectors)) != n:
        raise ValueError(f"a detector is named twice: {names}")
    return pd.DataFrame(values, index=pd.Index(detectors, name="detector"), columns=pd.Index(detectors))


def _detector(name: str, channels: list, markers: list) -> str | None:
    """The $PnN a spillover name refers to: a $PnN, a unique $PnS, or a 1-based number."""
    if name in channels:
        return name
    idx = [i for i, m in enumerate(markers) if m and m == name]
    if len(idx) == 1:
        return channels[idx[0]]
    if name.isdigit() and 1 <= int(name) <= len(channels):
        return channels[int(name) - 1]
    return None


def _check_spillover_frame(spill, channels: list, where: str) -> pd.DataFrame:
    import pandas as pd

    if not isinstance(spill, pd.DataFrame):
        raise FCSError(f"{where}: spillover must be a pandas DataFrame, got {type(spill).__name__}")
    rows = [str(x) for x in spill.index]
    cols = [str(x) for x in spill.columns]
    if spill.shape[0] != spill.shape[1] or rows != cols:
        raise FCSError(
            f"{where}: spillover must be square with the same detector names as index and columns, "
            f"got index {rows} and columns {cols}"
        )
    missing = [c for c in cols if c not in channels]
    if missing:
        raise FCSError(f"{where}: spillover detectors {missing} are not among the channels {channels}")
    if len(set(cols)) != len(cols):
        raise FCSError(f"{where}: spillover names a detector twice: {cols}")
    try:
        values = spill.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise FCSError(f"{where}: spillover values must be numeric ({exc})") from exc
    if not np.all(np.isfinite(values)):
        raise FCSError(f"{where}: spillover values must be finite")
    return pd.DataFrame(values, index=pd.Index(cols, name="detector"), columns=pd.Index(cols))

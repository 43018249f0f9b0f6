"""Standard curves: Ct = slope * log10(copies) + intercept, fitted per plate and target.

Efficiency is ``E = 10**(-1/slope) - 1``; a slope of -3.32 is 100 %. Acceptance (both
bounds are parameters): slope in [-3.6, -3.1] (E 90-110 %) and R² >= 0.98.

References
----------
DOMAIN.md §3; Bustin et al., Clin Chem 2009;55:611 (MIQE).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..errors import QPCRError
from ..io.qpcr import check_ct_range

__all__ = [
    "StandardCurve",
    "standard_curve",
    "stored_curve",
    "mean_curve",
    "curves_table",
    "read_stored_curves",
    "DEFAULT_SLOPE_RANGE",
    "DEFAULT_MIN_R2",
    "CURVE_COLUMNS",
]

#: acceptable slope range, cycles per log10 copies (efficiency 90-110 %)
DEFAULT_SLOPE_RANGE = (-3.6, -3.1)
#: minimum coefficient of determination (assumption; sources give 0.98-0.99)
DEFAULT_MIN_R2 = 0.98

CURVE_COLUMNS = [
    "plate", "target", "source", "slope", "intercept", "r2", "efficiency_pct", "n_points",
    "n_levels", "outliers", "passed", "reasons", "slope_min", "slope_max", "min_r2",
]


@dataclass(frozen=True)
class StandardCurve:
    """A fitted (or stored) standard curve for one target.

    Attributes
    ----------
    target : str
    plate : str
        Plate the curve was fitted on (``""`` for a stored curve).
    slope : float, cycles per log10(copies)
    intercept : float, cycles (Ct of one copy)
    r2 : float
        Coefficient of determination of the fit (NaN for a stored curve without one).
    efficiency : float
        Amplification efficiency as a fraction, ``10**(-1/slope) - 1`` (0.975 = 97.5 %).
    n_points : int
        Standard wells used in the fit.
    n_levels : int
        Distinct standard quantities used.
    points_used : tuple of str
        Wells used.
    outliers : tuple of str
        Standard wells excluded by the outlier rule.
    passed : bool
        Slope and R² within the acceptance limits.
    reasons : tuple of str
        Why the curve failed (empty when it passed).
    slope_range : tuple of float
    min_r2 : float
    source : str
        ``"plate"`` (fitted on this plate's standards) or ``"stored"``.
    """

    target: str
    plate: str
    slope: float
    intercept: float
    r2: float
    efficiency: float
    n_points: int
    n_levels: int
    points_used: tuple[str, ...] = ()
    outliers: tuple[str, ...] = ()
    passed: bool = True
    reasons: tuple[str, ...] = ()
    slope_range: tuple[float, float] = DEFAULT_SLOPE_RANGE
    min_r2: float = DEFAULT_MIN_R2
    source: str = "plate"
    thresholds: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def efficiency_pct(self) -> float:
        """Efficiency in percent."""
        return 100.0 * self.efficiency

    def copies(self, ct: "float | np.ndarray") -> "float | np.ndarray":
        """Copies per reaction for Ct values (NaN Ct gives NaN).

        Parameters
        ----------
        ct : float or ndarray, cycles

        Returns
        -------
        float or ndarray, copies/reaction
        """
        ct_arr = np.asarray(ct, dtype=float)
        out = np.power(10.0, (ct_arr - self.intercept) / self.slope)
        return float(out) if out.ndim == 0 else out

    def ct(self, copies: "float | np.ndarray") -> "float | np.ndarray":
        """Expected Ct for a number of copies (the inverse of :meth:`copies`)."""
        q = np.asarray(copies, dtype=float)
        out = self.slope * np.log10(q) + self.intercept
        return float(out) if out.ndim == 0 else out

    def as_row(self) -> dict:
        """One row of :func:`curves_table`."""
        return {
            "plate": self.plate,
            "target": self.target,
            "source": self.source,
            "slope": self.slope,
            "intercept": self.intercept,
            "r2": self.r2,
            "efficiency_pct": self.efficiency_pct,
            "n_points": self.n_points,
            "n_levels": self.n_levels,
            "outliers": ";".join(self.outliers),
            "passed": self.passed,
            "reasons": "; ".join(self.reasons),
            "slope_min": self.slope_range[0],
            "slope_max": self.slope_range[1],
            "min_r2": self.min_r2,
        }


def _efficiency(slope: float) -> float:
    return 10.0 ** (-1.0 / slope) - 1.0 if slope != 0 else math.nan


def _check(slope: float, r2: float, slope_range: tuple[float, float], min_r2: float, n_levels: int,
           min_levels: int) -> tuple[str, ...]:
    reasons = []
    lo, hi = slope_range
    if n_levels < min_levels:
        reasons.append(f"{n_levels} standard levels, at least {min_levels} needed")
    if not (lo <= slope <= hi):
        reasons.append(f"slope {slope:.3f} outside [{lo}, {hi}] (efficiency {100 * _efficiency(slope):.1f} %)")
    if not math.isnan(r2) and r2 < min_r2:
        reasons.append(f"R² {r2:.4f} below {min_r2}")
    return tuple(reasons)


def _validate_limits(slope_range: Sequence[float], min_r2: float) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in slope_range)
    except (TypeError, ValueError) as exc:
        raise QPCRError(f"slope_range must be two numbers (min, max), got {slope_range!r}") from exc
    if not lo < hi < 0:
        raise QPCRError(f"slope_range must satisfy min < max < 0 (cycles per log10 copies), got {slope_range!r}")
    if not 0 <= float(min_r2) <= 1:
        raise QPCRError(f"min_r2 must be within [0, 1], got {min_r2!r}")
    return lo, hi


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Ordinary least squares of y on x: slope, intercept, R²."""
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    slope = float(((x - xm) * (y - ym)).sum() / sxx)
    intercept = float(ym - slope * xm)
    ss_res = float(((y - (intercept + slope * x)) ** 2).sum())
    ss_tot = float(((y - ym) ** 2).sum())
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else math.nan
    return slope, intercept, r2


def standard_curve(
    wells: pd.DataFrame,
    target: str,
    *,
    plate: str | None = None,
    slope_range: Sequence[float] = DEFAULT_SLOPE_RANGE,
    min_r2: float = DEFAULT_MIN_R2,
    max_standard_deviation: float | None = None,
    min_levels: int = 3,
    cycles: float | None = None,
) -> StandardCurve:
    """Fit the standard curve of one target on one plate.

    Standard wells (``role == "standard"``) with a Ct, a positive quantity and no
    ``omitted`` flag are fitted by least squares, one point per well.

    Parameters
    ----------
    wells : pandas.DataFrame
        A well table (:func:`mrdquant.read_qpcr`).
    target : str
        Target name as in the ``target`` column.
    plate : str, optional
        Plate to use; required when ``wells`` holds several plates with standards for
        ``target``.
    slope_range : (float, float), default (-3.6, -3.1), cycles per log10(copies)
        Acceptable slope (efficiency 90-110 %).
    min_r2 : float, default 0.98
        Minimum R² (an assumption; sources give 0.98-0.99).
    max_standard_deviation : float, optional, cycles
        Outlier rule: a standard replicate farther than this from the median Ct of its
        level (needs >= 3 replicates) is excluded and listed in ``outliers``. ``None``
        (default) keeps every well, as the instruments do.
    min_levels : int, default 3
        Fewer distinct standard quantities fail the curve.
    cycles : float, optional, cycles
        Cycles of the run: a Ct outside ``0 < Ct <= cycles`` (default 50) in a well that is
        not omitted is refused (:func:`mrdquant.io.qpcr.check_ct_range`).

    Returns
    -------
    StandardCurve

    Raises
    ------
    QPCRError
        No standard wells for ``target`` (on ``plate``), several plates and no ``plate``
        given, or an impossible Ct (naming file, well and value).

    Examples
    --------
    >>> curve = standard_curve(wells, "WT1")                     # doctest: +SKIP
    >>> curve.slope, curve.efficiency_pct, curve.passed          # doctest: +SKIP
    """
    lo, hi = _validate_limits(slope_range, min_r2)
    _require_columns(wells)
    check_ct_range(wells, cycles=cycles)
    sel = wells[(wells["role"] == "standard") & (wells["target"] == target)]
    plates = sorted(sel["plate"].unique())
    if plate is not None:
        sel = sel[sel["plate"] == plate]
    elif len(plates) > 1:
        raise QPCRError(f"standards for target {target!r} on several plates {plates}: pass plate=")
    if sel.empty:
        where = f" on plate {plate!r}" if plate is not None else ""
        raise QPCRError(f"no standard wells for target {target!r}{where}; targets with standards: "
                        f"{sorted(wells.loc[wells['role'] == 'standard', 'target'].unique())}")
    plate_id = str(sel["plate"].iloc[0])
    omitted = sel["flags"].str.contains("omitted", regex=False)
    usable = sel[~omitted & np.isfinite(sel["ct"]) & (sel["quantity"] > 0)]
    outliers: list[str] = []
    if max_standard_deviation is not None and not usable.empty:
        keep = np.ones(len(usable), dtype=bool)
        for _, idx in usable.groupby("quantity").indices.items():
            cts = usable["ct"].to_numpy()[idx]
            if len(cts) >= 3:
                dev = np.abs(cts - np.median(cts))
                bad = dev > max_standard_deviation
                keep[idx[bad]] = False
        outliers = usable.loc[~keep, "well"].tolist()
        usable = usable[keep]
    n_levels = int(usable["quantity"].nunique())
    thresholds = {"slope_min": lo, "slope_max": hi, "min_r2": float(min_r2)}
    if len(usable) < 2 or n_levels < 2:
        return StandardCurve(
            target, plate_id, math.nan, math.nan, math.nan, math.nan, len(usable), n_levels,
            tuple(usable["well"]), tuple(outliers), False,
            (f"only {len(usable)} usable standard wells at {n_levels} levels: no curve",),
            (lo, hi), float(min_r2), "plate", thresholds,
        )
    x = np.log10(usable["quantity"].to_numpy(dtype=float))
    y = usable["ct"].to_numpy(dtype=float)
    slope, intercept, r2 = _fit(x, y)
    reasons = _check(slope, r2, (lo, hi), float(min_r2), n_levels, min_levels)
    return StandardCurve(
        target, plate_id, slope, intercept, r2, _efficiency(slope), len(usable), n_levels,
        tuple(usable["well"]), tuple(outliers), not reasons, reasons, (lo, hi), float(min_r2), "plate",
        thresholds,
    )


def stored_curve(
    target: str,
    slope: float,
    intercept: float,
    *,
    r2: float = math.nan,
    slope_range: Sequence[float] = DEFAULT_SLOPE_RANGE,
    min_r2: float = DEFAULT_MIN_R2,
) -> StandardCurve:
    """A curve from stored values, for plates that carry no standards.

    The acceptance limits are checked on ``slope`` (and ``r2`` when given).
    """
    lo, hi = _validate_limits(slope_range, min_r2)
    if not (math.isfinite(slope) and math.isfinite(intercept)):
        raise QPCRError(f"stored curve for {target!r}: slope and intercept must be finite numbers")
    reasons = _check(float(slope), float(r2), (lo, hi), float(min_r2), 99, 0)
    return StandardCurve(
        target, "", float(slope), float(intercept), float(r2), _efficiency(float(slope)), 0, 0, (), (),
        not reasons, reasons, (lo, hi), float(min_r2), "stored",
        {"slope_min": lo, "slope_max": hi, "min_r2": float(min_r2)},
    )


def mean_curve(curves: Iterable[StandardCurve], *, only_passed: bool = True) -> StandardCurve:
    """The mean of several plates' curves (slope and intercept averaged), as a stored curve.

    Raises
    ------
    QPCRError
        No (passing) curve, or curves of different targets.
    """
    chosen = [c for c in curves if (c.passed or not only_passed) and math.isfinite(c.slope)]
    if not chosen:
        raise QPCRError("mean_curve: no passing standard curve to average")
    targets = {c.target for c in chosen}
    if len(targets) != 1:
        raise QPCRError(f"mean_curve: curves of different targets {sorted(targets)}")
    first = chosen[0]
    return stored_curve(
        first.target,
        float(np.mean([c.slope for c in chosen])),
        float(np.mean([c.intercept for c in chosen])),
        r2=float(np.mean([c.r2 for c in chosen])),
        slope_range=first.slope_range,
        min_r2=first.min_r2,
    )


def curves_table(curves: Iterable[StandardCurve]) -> pd.DataFrame:
    """Curves as a tidy table with columns :data:`CURVE_COLUMNS`."""
    return pd.DataFrame([c.as_row() for c in curves], columns=CURVE_COLUMNS)


def _require_columns(wells: pd.DataFrame) -> None:
    if not isinstance(wells, pd.DataFrame):
        raise QPCRError(f"wells must be a DataFrame from read_qpcr, got {type(wells).__name__}")
    missing = [c for c in ("plate", "well", "target", "role", "ct", "quantity", "flags") if c not in wells.columns]
    if missing:
        raise QPCRError(f"wells table lacks columns {missing}; expected the read_qpcr columns")


def read_stored_curves(
    path: "str | os.PathLike",
    *,
    slope_range: Sequence[float] = DEFAULT_SLOPE_RANGE,
    min_r2: float = DEFAULT_MIN_R2,
) -> dict[str, StandardCurve]:
    """Stored standard curves from a table, one per target.

    Parameters
    ----------
    path : str or os.PathLike
        CSV/TSV/Parquet with at least ``target``, ``slope`` (cycles per log10 copies) and
        ``intercept`` (cycles); optional ``r2`` and ``passed``. The ``curves.csv`` written
        by ``mrdquant qpcr`` is such a table. Several rows of a target (e.g. the curves
        of several validation plates) are averaged (:func:`mean_curve`; rows with
        ``passed`` false are left out).
    slope_range, min_r2
        Acceptance limits checked on the stored values.

    Returns
    -------
    dict of str -> StandardCurve
        Target -> curve with ``source="stored"``.

    Raises
    ------
    QPCRError
        The file cannot be read, a column is missing or a value is not a number (the
        message names the file, row and column).
    """
    from ..io.store import read_table
    from ..errors import InputError

    source = Path(path)
    try:
        table = read_table(source)
    except InputError as exc:
        raise QPCRError(str(exc)) from exc
    missing = [c for c in ("target", "slope", "intercept") if c not in table.columns]
    if missing:
        raise QPCRError(f"{source}: stored curves need columns target, slope, intercept; missing {missing}")
    by_target: dict[str, list[StandardCurve]] = {}
    for k, row in enumerate(table.to_dict(orient="records"), start=1):
        if "passed" in row and str(row["passed"]).strip().lower() in ("false", "0", "no"):
            continue
        values = {}
        for col in ("slope", "intercept", "r2"):
            raw = row.get(col, math.nan)
            try:
                values[col] = float(raw)
            except (TypeError, ValueError):
                raise QPCRError(f"{source}, row {k}: {col} {raw!r} is not a number") from None
        target = str(row["target"]).strip()
        try:
            curve = stored_curve(target, values["slope"], values["intercept"], r2=values["r2"],
                                 slope_range=slope_range, min_r2=min_r2)
        except QPCRError as exc:
            raise QPCRError(f"{source}, row {k}: {exc}") from None
        by_target.setdefault(target, []).append(curve)
    if not by_target:
        raise QPCRError(f"{source}: no (passing) stored curve in the table")
    return {t: (cs[0] if len(cs) == 1 else mean_curve(cs)) for t, cs in by_target.items()}

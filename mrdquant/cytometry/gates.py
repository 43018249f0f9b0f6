"""Gates: rectangle/range, polygon, ellipse/ellipsoid, quadrant and boolean.

Each gate is a small frozen dataclass naming its dimensions; the geometry is evaluated by
numba kernels (:mod:`._gates_kernels`) behind numpy-in/numpy-out wrappers
(:func:`range_mask`, :func:`rectangle_mask`, :func:`polygon_mask`, :func:`ellipsoid_mask`).
Semantics follow Gating-ML 2.0:

- rectangle/range: ``min <= x < max`` in every dimension; a missing bound is open;
- polygon: inside when the winding number of the closed vertex path about the event is
  odd (edges crossed with the half-open rule ``y_a <= y < y_b``), which handles concave
  and self-intersecting polygons;
- ellipsoid: Mahalanobis distance² ``(x-μ)ᵀ Σ⁻¹ (x-μ) <= distance_square``;
- quadrant: each divider splits one dimension at sorted values into half-open intervals;
  a quadrant is the intersection of the intervals named by its positions;
- boolean: ``and``/``or``/``not`` of other gates' memberships (each optionally
  complemented).

Events with NaN in a used dimension are outside every geometric gate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional, Sequence

import numpy as np

from ..errors import GatingError, GatingMLError
from . import _gates_kernels as _k

__all__ = [
    "Dimension",
    "RectangleGate",
    "PolygonGate",
    "EllipsoidGate",
    "QuadrantDivider",
    "Quadrant",
    "QuadrantGate",
    "GateReference",
    "BooleanGate",
    "range_mask",
    "rectangle_mask",
    "polygon_mask",
    "ellipsoid_mask",
    "UNCOMPENSATED",
    "FCS_SPILLOVER",
]

#: compensation reference meaning "use raw detector values"
UNCOMPENSATED = "uncompensated"
#: compensation reference meaning "use the file's own $SPILLOVER/$SPILL matrix"
FCS_SPILLOVER = "FCS"


# ----------------------------------------------------------------------------------------
# numpy-in / numpy-out wrappers
# ----------------------------------------------------------------------------------------


def _range_and(x: np.ndarray, lo: Optional[float], hi: Optional[float], out: np.ndarray) -> None:
    """Clear ``out`` where ``x`` is outside ``[lo, hi)`` (None = open end)."""
    _k.kernel("range_and", x.shape[0])(x, np.nan if lo is None else float(lo), np.nan if hi is None else float(hi),
                                       lo is not None, hi is not None, out)


def _as_values(x, name: str) -> np.ndarray:
    a = np.ascontiguousarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise GatingError(f"{name}: expected a 1-D array of event values, got shape {a.shape}")
    return a


def _start_mask(n: int, parent) -> np.ndarray:
    if parent is None:
        return np.ones(n, dtype=np.bool_)
    p = np.asarray(parent)
    if p.dtype != np.bool_ or p.shape != (n,):
        raise GatingError(f"parent: expected a boolean mask of shape ({n},), got {p.dtype} {p.shape}")
    return p.copy()


def range_mask(x, lo: Optional[float] = None, hi: Optional[float] = None, *, parent=None) -> np.ndarray:
    """Events with ``lo <= x < hi`` (a ``None`` bound is open).

    Parameters
    ----------
    x : ndarray of shape (n_events,), float, channel units (after compensation/transform)
    lo, hi : float or None
        Inclusive lower and exclusive upper bound.
    parent : ndarray of shape (n_events,), bool, optional
        Only events ``True`` here can be inside.

    Returns
    -------
    ndarray of shape (n_events,), bool

    Examples
    --------
    >>> range_mask(np.array([0.0, 1.0, 2.0]), 1.0, 2.0)
    array([False,  True, False])
    """
    v = _as_values(x, "x")
    out = _start_mask(v.shape[0], parent)
    _range_and(v, lo, hi, out)
    return out


def rectangle_mask(values, mins: Sequence[Optional[float]], maxs: Sequence[Optional[float]], *,
                   parent=None) -> np.ndarray:
    """Events inside an n-D rectangle (``min <= x < max`` in every dimension).

    Parameters
    ----------
    values : ndarray of shape (n_events, n_dims), float
    mins, maxs : sequence of float or None, length n_dims
    parent : ndarray of shape (n_events,), bool, optional

    Returns
    -------
    ndarray of shape (n_events,), bool
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != len(mins) or len(mins) != len(maxs):
        raise GatingError(
            f"values: expected shape (n_events, {len(mins)}) matching {len(mins)} mins and "
            f"{len(maxs)} maxs, got {v.shape}"
        )
    out = _start_mask(v.shape[0], parent)
    for j, (lo, hi) in enumerate(zip(mins, maxs)):
        col = np.ascontiguousarray(v[:, j])
        _range_and(col, lo, hi, out)
    return out


def _check_vertices(vertices) -> np.ndarray:
    vert = np.asarray(vertices, dtype=np.float64)
    if vert.ndim != 2 or vert.shape[1] != 2 or vert.shape[0] < 3:
        raise GatingError(f"vertices: expected shape (n_vertices >= 3, 2), got {vert.shape}")
    if not np.isfinite(vert).all():
        raise GatingError("vertices: every coordinate must be finite")
    return vert


def polygon_mask(x, y, vertices, *, parent=None) -> np.ndarray:
    """Events inside a polygon (odd winding number; concave and self-crossing allowed).

    Parameters
    ----------
    x, y : ndarray of shape (n_events,), float
    vertices : array-like of shape (n_vertices, 2), float, same units as x and y
        The path is closed automatically (last vertex joins the first).
    parent : ndarray of shape (n_events,), bool, optional

    Returns
    -------
    ndarray of shape (n_events,), bool

    Examples
    --------
    >>> polygon_mask(np.array([0.5, 2.0]), np.array([0.5, 0.5]), [(0, 0), (1, 0), (1, 1), (0, 1)])
    array([ True, False])
    """
    xv = _as_values(x, "x")
    yv = _as_values(y, "y")
    if xv.shape != yv.shape:
        raise GatingError(f"x and y: lengths differ ({xv.shape[0]} vs {yv.shape[0]})")
    vert = _check_vertices(vertices)
    out = _start_mask(xv.shape[0], parent)
    vx, vy = np.ascontiguousarray(vert[:, 0]), np.ascontiguousarray(vert[:, 1])
    _k.kernel("polygon_and", xv.shape[0])(xv, yv, vx, vy, out)
    return out


def _check_ellipsoid(mean, covariance, distance_square):
    mu = np.asarray(mean, dtype=np.float64).ravel()
    cov = np.asarray(covariance, dtype=np.float64)
    d = mu.shape[0]
    if d < 2 or cov.shape != (d, d):
        raise GatingError(
            f"ellipsoid: expected a mean of length n_dims >= 2 and covariance ({d}, {d}), "
            f"got mean {mu.shape} and covariance {cov.shape}"
        )
    try:
        inv = np.linalg.inv(cov)
    except np.linalg.LinAlgError as exc:
        raise GatingError("ellipsoid: covariance matrix is singular") from exc
    ds = float(distance_square)
    if not ds > 0:
        raise GatingError(f"ellipsoid: distance_square must be > 0, got {distance_square!r}")
    return mu, np.ascontiguousarray(inv), ds


def ellipsoid_mask(values, mean, covariance, distance_square: float, *, parent=None) -> np.ndarray:
    """Events within Mahalanobis distance² ``distance_square`` of ``mean``.

    Parameters
    ----------
    values : ndarray of shape (n_events, n_dims), float
    mean : array-like of shape (n_dims,), float
    covariance : array-like of shape (n_dims, n_dims), float
    distance_square : float, squared Mahalanobis units (boundary inclusive)
    parent : ndarray of shape (n_events,), bool, optional

    Returns
    -------
    ndarray of shape (n_events,), bool

    Examples
    --------
    >>> ellipsoid_mask(np.array([[0.0, 0.0], [2.0, 0.0]]), [0, 0], np.eye(2), 1.0)
    array([ True, False])
    """
    mu, inv, ds = _check_ellipsoid(mean, covariance, distance_square)
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != mu.shape[0]:
        raise GatingError(f"values: expected shape (n_events, {mu.shape[0]}), got {v.shape}")
    out = _start_mask(v.shape[0], parent)
    _k.kernel("ellipsoid_and", v.shape[0])(np.ascontiguousarray(v.T), mu, inv, ds, out)
    return out


# ----------------------------------------------------------------------------------------
# Gate definitions
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    """One gate axis: which values of which channel, after which processing.

    Parameters
    ----------
    channel : str
        ``$PnN`` of the channel, a fluorochrome name of a spectrum matrix (when
        ``compensation`` names that matrix), or the id of a ratio transform when
        ``ratio`` is True.
    compensation : str, default "uncompensated"
        ``"uncompensated"``, ``"FCS"`` (the file's own spillover; uncompensated when the
        file has none, as Gating-ML 2.0 specifies) or the id of a spectrum matrix.
    transform : str or None
        Id of a transform in the strategy, applied after compensation.
    ratio : bool, default False
        ``channel`` names a ratio transform (Gating-ML ``new-dimension``).
    """

    channel: str
    compensation: str = UNCOMPENSATED
    transform: Optional[str] = None
    ratio: bool = False

    @property
    def key(self) -> tuple:
        """Hashable identity of the processed column this dimension reads."""
        return (self.channel, self.compensation, self.transform, self.ratio)

    @property
    def label(self) -> str:
        """Readable column name, e.g. ``"FL1-H[MySpill|Logicle_1]"``."""
        extra = [] if self.compensation == UNCOMPENSATED else [self.compensation]
        if self.transform:
            extra.append(self.transform)
        return self.channel + (f"[{'|'.join(extra)}]" if extra else "")


def _opt_float(v) -> Optional[float]:
    return None if v is None else float(v)


@dataclass(frozen=True)
class RectangleGate:
    """Rectangle (n-D) or range (1-D) gate: ``min <= x < max`` in each dimension.

    Parameters
    ----------
    id : str
    dimensions : tuple of Dimension
    mins, maxs : tuple of float or None (open), channel units after processing
    parent : str or None
        Id of the parent gate (None = all events).
    """

    id: str
    dimensions: tuple
    mins: tuple
    maxs: tuple
    parent: Optional[str] = None
    kind: str = field(default="rectangle", init=False)

    def __post_init__(self):
        object.__setattr__(self, "dimensions", tuple(self.dimensions))
        object.__setattr__(self, "mins", tuple(_opt_float(v) for v in self.mins))
        object.__setattr__(self, "maxs", tuple(_opt_float(v) for v in self.maxs))
        n = len(self.dimensions)
        if n == 0 or len(self.mins) != n or len(self.maxs) != n:
            raise GatingMLError(f"gate {self.id!r}: rectangle needs one (min, max) per dimension")
        for d, lo, hi in zip(self.dimensions, self.mins, self.maxs):
            if lo is None and hi is None:
                raise GatingMLError(f"gate {self.id!r}: dimension {d.channel!r} has neither min nor max")

    def evaluate(self, columns: list, out: np.ndarray) -> None:
        """Clear events of ``out`` (parent membership) outside the gate."""
        for col, lo, hi in zip(columns, self.mins, self.maxs):
            _range_and(col, lo, hi, out)


@dataclass(frozen=True)
class PolygonGate:
    """2-D polygon gate (odd winding number = inside).

    Parameters
    ----------
    id : str
    dimensions : tuple of 2 Dimension
    vertices : ndarray of shape (n_vertices, 2), float
    parent : str or None
    """

    id: str
    dimensions: tuple
    vertices: np.ndarray
    parent: Optional[str] = None
    kind: str = field(default="polygon", init=False)

    def __post_init__(self):
        object.__setattr__(self, "dimensions", tuple(self.dimensions))
        if len(self.dimensions) != 2:
            raise GatingMLError(f"gate {self.id!r}: a polygon needs exactly 2 dimensions, got {len(self.dimensions)}")
        try:
            vert = _check_vertices(self.vertices)
        except GatingError as exc:
            raise GatingMLError(f"gate {self.id!r}: {exc}") from None
        object.__setattr__(self, "vertices", vert)
        object.__setattr__(self, "_vx", np.ascontiguousarray(vert[:, 0]))
        object.__setattr__(self, "_vy", np.ascontiguousarray(vert[:, 1]))

    def evaluate(self, columns: list, out: np.ndarray) -> None:
        _k.kernel("polygon_and", out.shape[0])(columns[0], columns[1], self._vx, self._vy, out)


@dataclass(frozen=True)
class EllipsoidGate:
    """Ellipse (2-D) or ellipsoid (n-D) gate.

    Parameters
    ----------
    id : str
    dimensions : tuple of Dimension (n >= 2)
    mean : ndarray of shape (n,)
    covariance : ndarray of shape (n, n)
    distance_square : float, squared Mahalanobis units (inclusive)
    parent : str or None
    """

    id: str
    dimensions: tuple
    mean: np.ndarray
    covariance: np.ndarray
    distance_square: float
    parent: Optional[str] = None
    kind: str = field(default="ellipsoid", init=False)

    def __post_init__(self):
        object.__setattr__(self, "dimensions", tuple(self.dimensions))
        try:
            mu, inv, ds = _check_ellipsoid(self.mean, self.covariance, self.distance_square)
        except GatingError as exc:
            raise GatingMLError(f"gate {self.id!r}: {exc}") from None
        if mu.shape[0] != len(self.dimensions):
            raise GatingMLError(
                f"gate {self.id!r}: mean has {mu.shape[0]} coordinates for {len(self.dimensions)} dimensions"
            )
        object.__setattr__(self, "mean", mu)
        object.__setattr__(self, "covariance", np.asarray(self.covariance, dtype=np.float64))
        object.__setattr__(self, "distance_square", ds)
        object.__setattr__(self, "_inv", inv)

    def evaluate(self, columns: list, out: np.ndarray) -> None:
        _k.kernel("ellipsoid_and", out.shape[0])(np.ascontiguousarray(np.vstack(columns)), self.mean, self._inv,
                          self.distance_square, out)


@dataclass(frozen=True)
class QuadrantDivider:
    """One divider of a quadrant gate: a dimension cut at sorted ``values``."""

    id: str
    dimension: Dimension
    values: tuple

    def __post_init__(self):
        vals = tuple(float(v) for v in self.values)
        if not vals:
            raise GatingMLError(f"divider {self.id!r}: needs at least one value")
        object.__setattr__(self, "values", tuple(sorted(vals)))

    def interval(self, location: float) -> tuple:
        """The half-open interval ``[lo, hi)`` (None = open end) that contains ``location``."""
        lo = None
        for v in self.values:
            if location < v:
                return (lo, v)
            lo = v
        return (lo, None)


@dataclass(frozen=True)
class Quadrant:
    """One quadrant: for each divider id, the location (a value inside the interval)."""

    id: str
    positions: tuple  # ((divider_id, location), ...)

    def __post_init__(self):
        object.__setattr__(self, "positions", tuple((str(d), float(loc)) for d, loc in self.positions))
        if not self.positions:
            raise GatingMLError(f"quadrant {self.id!r}: needs at least one position")


@dataclass(frozen=True)
class QuadrantGate:
    """Quadrant gate: dividers split dimensions; each :class:`Quadrant` is a population.

    The quadrants, not the quadrant gate, are the gates of the hierarchy: children name
    a quadrant id as their parent.
    """

    id: str
    dividers: tuple
    quadrants: tuple
    parent: Optional[str] = None
    kind: str = field(default="quadrant", init=False)

    def __post_init__(self):
        object.__setattr__(self, "dividers", tuple(self.dividers))
        object.__setattr__(self, "quadrants", tuple(self.quadrants))
        ids = {d.id for d in self.dividers}
        for q in self.quadrants:
            for div, _ in q.positions:
                if div not in ids:
                    raise GatingMLError(
                        f"gate {self.id!r}: quadrant {q.id!r} refers to unknown divider {div!r}"
                    )

    @property
    def dimensions(self) -> tuple:
        return tuple(d.dimension for d in self.dividers)

    def quadrant_bounds(self, quadrant: Quadrant) -> list:
        """``[(Dimension, lo, hi), ...]`` for one quadrant."""
        lut = {d.id: d for d in self.dividers}
        out = []
        for div_id, loc in quadrant.positions:
            div = lut[div_id]
            lo, hi = div.interval(loc)
            out.append((div.dimension, lo, hi))
        return out


@dataclass(frozen=True)
class GateReference:
    """A gate named by a boolean gate; ``complement`` = use its NOT."""

    ref: str
    complement: bool = False


@dataclass(frozen=True)
class BooleanGate:
    """``and``/``or``/``not`` of other gates' full memberships (their parents applied).

    Parameters
    ----------
    id : str
    op : {"and", "or", "not"}
    refs : tuple of GateReference (exactly one for "not", two or more otherwise)
    parent : str or None
    """

    id: str
    op: Literal["and", "or", "not"]
    refs: tuple
    parent: Optional[str] = None
    kind: str = field(default="boolean", init=False)

    def __post_init__(self):
        op = str(self.op).lower()
        refs = tuple(r if isinstance(r, GateReference) else GateReference(str(r)) for r in self.refs)
        if op not in ("and", "or", "not"):
            raise GatingMLError(f"gate {self.id!r}: boolean operator {self.op!r}; expected and, or, not")
        if op == "not" and len(refs) != 1:
            raise GatingMLError(f"gate {self.id!r}: a 'not' gate takes exactly one reference, got {len(refs)}")
        if op != "not" and len(refs) < 2:
            raise GatingMLError(f"gate {self.id!r}: an '{op}' gate needs at least two references")
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "refs", refs)

    @property
    def dimensions(self) -> tuple:
        return ()

    def combine(self, masks: list) -> np.ndarray:
        """Combine the referenced memberships (already complemented where asked)."""
        if self.op == "not":
            return ~masks[0]
        res = masks[0].copy()
        for m in masks[1:]:
            if self.op == "and":
                res &= m
            else:
                res |= m
        return res

"""Spillover compensation of flow cytometry events.

A spillover matrix ``S`` (square, rows and columns indexed by detector) says how much of
the light of the fluorochrome read in detector ``i`` lands in detector ``j``. Observed
events are ``x_obs = x_true @ S``, so compensated events are ``x_obs @ inv(S)``:
:class:`Compensation` inverts ``S`` once, at construction, and :meth:`Compensation.apply`
does one matrix product on the fluorescence columns of an event matrix (a parallel numba
kernel); scatter, time and other non-fluorescence columns are copied unchanged.

Channel matching
----------------
Each detector name of the matrix is looked up among the sample's ``$PnN`` names
(``channels``); when it is not there and ``markers`` (``$PnS``) are given, among the
markers. Every sample channel that no detector claims must be a non-fluorescence channel
(matched, case-insensitively, by the shell patterns in ``non_fluorescence``, e.g.
``FSC*``, ``Time``) -- otherwise :class:`~mrdquant.errors.CompensationError`, unless
``unmatched="keep"`` (leave such channels uncompensated).

Examples
--------
>>> import numpy as np
>>> comp = Compensation(("FL1-H", "FL2-H"), np.array([[1.0, 0.2], [0.1, 1.0]]))
>>> true = np.array([[100.0, 50.0, 7.0]])
>>> observed = true.copy(); observed[:, :2] = true[:, :2] @ comp.spillover
>>> np.round(comp.apply(observed, ["FL1-H", "FL2-H", "Time"]), 9)
array([[100.,  50.,   7.]])
"""

from __future__ import annotations

import csv
import fnmatch
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from ..errors import CompensationError, InputError
from . import _compensation_kernels as _k
from ._transforms_kernels import threads_for

__all__ = ["Compensation", "compensate", "DEFAULT_NON_FLUORESCENCE"]

#: Shell patterns (case-insensitive) of channels that are never compensated.
DEFAULT_NON_FLUORESCENCE: tuple[str, ...] = (
    "FSC*",
    "SSC*",
    "Time*",
    "Width*",
    "Event*",
)

_CHUNK = 4096
_MAX_CONDITION = 1e12


def _is_non_fluorescence(name: str, patterns: Sequence[str]) -> bool:
    low = name.strip().lower()
    return any(fnmatch.fnmatchcase(low, p.lower()) for p in patterns)


@dataclass(frozen=True, eq=False)
class Compensation:
    """A spillover matrix with its inverse, computed once.

    Parameters
    ----------
    detectors : sequence of str
        Detector names (``$PnN``) indexing rows and columns of ``spillover``.
    spillover : ndarray of shape (n_detectors, n_detectors), float, fraction
        Row ``i`` holds the spillover of the fluorochrome of detector ``i`` into every
        detector (diagonal usually 1).
    fluorochromes : sequence of str, optional
        Fluorochrome/marker names, one per detector (for Gating-ML export).
    source : str, default "<array>"
        Where the matrix came from (file path, ``$SPILLOVER`` of a file, Gating-ML id):
        named in every error message.

    Attributes
    ----------
    inverse : ndarray of shape (n_detectors, n_detectors), float64
        ``inv(spillover)`` (read-only).

    Raises
    ------
    CompensationError
        Not square, size differs from ``detectors``, duplicate or empty detector names,
        non-finite values, or a singular (condition number > 1e12) matrix.
    """

    detectors: tuple[str, ...]
    spillover: np.ndarray
    fluorochromes: tuple[str, ...] | None = None
    source: str = "<array>"
    inverse: np.ndarray = field(init=False, repr=False)
    _inverse_t: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        src = self.source
        dets = tuple(str(d).strip() for d in self.detectors)
        if any(not d for d in dets):
            raise CompensationError(f"{src}: empty detector name in {list(self.detectors)}")
        dup = sorted({d for d in dets if dets.count(d) > 1})
        if dup:
            raise CompensationError(f"{src}: detector(s) named more than once: {', '.join(dup)}")
        try:
            s = np.array(self.spillover, dtype=np.float64, copy=True)
        except (TypeError, ValueError) as exc:
            raise CompensationError(f"{src}: spillover matrix is not numeric ({exc})") from exc
        if s.ndim != 2 or s.shape[0] != s.shape[1]:
            raise CompensationError(f"{src}: spillover matrix must be square, got shape {s.shape}")
        if s.shape[0] != len(dets):
            raise CompensationError(
                f"{src}: spillover matrix is {s.shape[0]}x{s.shape[1]} but {len(dets)} detectors are named"
            )
        if s.shape[0] == 0:
            raise CompensationError(f"{src}: spillover matrix is empty")
        if not np.all(np.isfinite(s)):
            raise CompensationError(f"{src}: spillover matrix contains NaN or infinite values")
        cond = np.linalg.cond(s)
        if not np.isfinite(cond) or cond > _MAX_CONDITION:
            raise CompensationError(f"{src}: spillover matrix is singular (condition number {cond:.3g})")
        inv = np.ascontiguousarray(np.linalg.inv(s))
        s.setflags(write=False)
        inv.setflags(write=False)
        fl = None
        if self.fluorochromes is not None:
            fl = tuple(str(f) for f in self.fluorochromes)
            if len(fl) != len(dets):
                raise CompensationError(f"{src}: {len(fl)} fluorochromes for {len(dets)} detectors")
        object.__setattr__(self, "detectors", dets)
        object.__setattr__(self, "spillover", s)
        object.__setattr__(self, "fluorochromes", fl)
        object.__setattr__(self, "source", str(src))
        object.__setattr__(self, "inverse", inv)
        object.__setattr__(self, "_inverse_t", np.ascontiguousarray(inv.T))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_dataframe(cls, df: Any, *, source: str = "<DataFrame>") -> "Compensation":
        """From a detector-indexed square DataFrame (e.g. ``FlowSample.spillover``).

        Columns name the detectors; the index must hold the same names (any order: rows
        are reordered to the columns) or be a plain ``RangeIndex``.
        """
        import pandas as pd

        if not isinstance(df, pd.DataFrame):
            raise CompensationError(f"{source}: expected a pandas DataFrame, got {type(df).__name__}")
        cols = [str(c).strip() for c in df.columns]
        if isinstance(df.index, pd.RangeIndex):
            values = df.to_numpy()
        else:
            rows = [str(r).strip() for r in df.index]
            if sorted(rows) != sorted(cols):
                raise CompensationError(
                    f"{source}: row labels {rows} and column labels {cols} name different detectors"
                )
            values = df.to_numpy()[[rows.index(c) for c in cols]]
        return cls(tuple(cols), values, source=source)

    @classmethod
    def from_csv(cls, path: str | os.PathLike) -> "Compensation":
        """From a FlowJo-style CSV or TSV spillover matrix.

        The first non-empty line names the detectors (comma- or tab-separated, an optional
        leading ``#``); each of the next ``n`` lines holds ``n`` numbers, optionally preceded
        by the row's detector name (then the header starts with an empty cell, or with the
        name of the row-label column such as ``detector``, and row names must match the
        header). This reads what ``FlowSample.spillover.to_csv()`` and
        ``Compensation.to_dataframe().to_csv()`` write.

        Raises
        ------
        CompensationError
            Unreadable file, missing/extra rows, wrong number of values, a non-number, or
            row names that differ from the header; the message names the file and line.
        """
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CompensationError(f"{p}: cannot read compensation matrix ({exc})") from exc
        return cls._from_text(text, source=str(p))

    @classmethod
    def from_spill_keyword(cls, text: str, *, source: str = "$SPILLOVER") -> "Compensation":
        """From the FCS ``$SPILLOVER``/``$SPILL``/``SPILL`` keyword value ``n,d1..dn,v11..vnn``."""
        parts = [t.strip() for t in str(text).split(",")]
        try:
            n = int(parts[0])
        except (ValueError, IndexError):
            raise CompensationError(f"{source}: first field must be the number of detectors, got {parts[:1]}") from None
        if n <= 0 or len(parts) != 1 + n + n * n:
            raise CompensationError(
                f"{source}: expected 1 + {n} + {n}*{n} = {1 + n + n * n} comma-separated fields, got {len(parts)}"
            )
        names = parts[1 : n + 1]
        try:
            values = np.array([float(v) for v in parts[n + 1 :]]).reshape(n, n)
        except ValueError as exc:
            raise CompensationError(f"{source}: non-numeric spillover value ({exc})") from exc
        return cls(tuple(names), values, source=source)

    @classmethod
    def _from_text(cls, text: str, *, source: str) -> "Compensation":
        lines = [(i + 1, ln) for i, ln in enumerate(text.splitlines()) if ln.strip()]
        if not lines:
            raise CompensationError(f"{source}: file is empty")
        head_no, head = lines[0]
        head = head.strip()
        if head.startswith("#"):
            head = head[1:].strip()
        delim = "\t" if "\t" in head else ","

        def split(line: str) -> list[str]:
            return [c.strip() for c in next(csv.reader(io.StringIO(line), delimiter=delim))]

        header = split(head)
        body = lines[1:]
        firsts = [split(line.strip())[0] for _, line in body]
        labelled = header[0] == ""
        if not labelled and len(header) > 1 and len(body) == len(header) - 1 and firsts and all(
            not _is_number(c) for c in firsts
        ):
            # the corner cell names the row labels: pandas writes a named index this way
            # (``FlowSample.spillover.to_csv()`` -> ``detector,FL1-H,...``)
            if sorted(firsts) != sorted(header[1:]):
                raise CompensationError(
                    f"{source}: row names {firsts} do not match the detectors {header[1:]} of line "
                    f"{head_no} (its first cell {header[0]!r} labels the row names)"
                )
            labelled = True
        names = header[1:] if labelled else header
        n = len(names)
        if n == 0 or any(not nm for nm in names):
            raise CompensationError(f"{source}: line {head_no}: header must name every detector, got {header}")
        if len(body) < n:
            raise CompensationError(f"{source}: {n} detectors in the header but only {len(body)} matrix rows")
        if len(body) > n:
            raise CompensationError(
                f"{source}: line {body[n][0]}: {len(body)} rows after the header, expected {n} (one per detector)"
            )
        values = np.empty((n, n))
        row_names = []
        for r, (line_no, line) in enumerate(body):
            cells = split(line.strip())
            if labelled or (len(cells) == n + 1 and not _is_number(cells[0])):
                row_names.append(cells[0])
                cells = cells[1:]
            if len(cells) != n:
                raise CompensationError(f"{source}: line {line_no}: expected {n} values, got {len(cells)}")
            for c, cell in enumerate(cells):
                if not _is_number(cell):
                    raise CompensationError(
                        f"{source}: line {line_no}, column {names[c]!r}: {cell!r} is not a number"
                    )
                values[r, c] = float(cell)
        if row_names:
            if len(row_names) != n or sorted(row_names) != sorted(names):
                raise CompensationError(f"{source}: row names {row_names} do not match header {names}")
            values = values[[row_names.index(nm) for nm in names]]
        return cls(tuple(names), values, source=source)

    # ------------------------------------------------------------------ views
    def to_dataframe(self):
        """The spillover matrix as a DataFrame indexed by detector (rows and columns)."""
        import pandas as pd

        return pd.DataFrame(np.array(self.spillover), index=list(self.detectors), columns=list(self.detectors))

    # ------------------------------------------------------------------ matching
    def match(
        self,
        channels: Sequence[str],
        *,
        markers: Sequence[str | None] | None = None,
        non_fluorescence: Sequence[str] = DEFAULT_NON_FLUORESCENCE,
        unmatched: Literal["raise", "keep"] = "raise",
        sample: str | None = None,
    ) -> np.ndarray:
        """Column index of each detector among ``channels``.

        Parameters
        ----------
        channels : sequence of str
            The sample's ``$PnN`` names, in column order.
        markers : sequence of str or None, optional
            The sample's ``$PnS`` names; used for detectors not found among ``channels``.
        non_fluorescence : sequence of str
            Shell patterns (case-insensitive) of channels that are never compensated.
        unmatched : {"raise", "keep"}, default "raise"
            What to do with a fluorescence channel that no detector names.
        sample : str, optional
            Name of the sample (file) for error messages.

        Returns
        -------
        ndarray of shape (n_detectors,), int64

        Raises
        ------
        CompensationError
            A detector is not in the sample, or (``unmatched="raise"``) a fluorescence
            channel is not in the matrix.
        """
        if unmatched not in ("raise", "keep"):
            raise InputError(f"unmatched must be 'raise' or 'keep', got {unmatched!r}")
        where = f"sample {sample!r}" if sample else "the sample"
        chans = [str(c).strip() for c in channels]
        marks = None
        if markers is not None:
            marks = [None if m is None else str(m).strip() for m in markers]
            if len(marks) != len(chans):
                raise InputError(f"markers has {len(marks)} names for {len(chans)} channels")
        idx = np.empty(len(self.detectors), dtype=np.int64)
        for k, det in enumerate(self.detectors):
            hits = [j for j, c in enumerate(chans) if c == det]
            if not hits and marks is not None:
                hits = [j for j, m in enumerate(marks) if m and m == det]
            if not hits:
                raise CompensationError(
                    f"compensation matrix {self.source}: detector {det!r} is not a channel ($PnN) "
                    f"or marker ($PnS) of {where} (channels: {', '.join(chans)})"
                )
            if len(hits) > 1:
                raise CompensationError(
                    f"compensation matrix {self.source}: detector {det!r} matches several channels of "
                    f"{where}: {[chans[j] for j in hits]}"
                )
            idx[k] = hits[0]
        if len(set(idx.tolist())) != len(idx):
            raise CompensationError(
                f"compensation matrix {self.source}: two detectors map to the same channel of {where}"
            )
        if unmatched == "raise":
            claimed = set(idx.tolist())
            missing = [
                c for j, c in enumerate(chans)
                if j not in claimed and not _is_non_fluorescence(c, non_fluorescence)
            ]
            if missing:
                raise CompensationError(
                    f"compensation matrix {self.source}: fluorescence channel(s) {', '.join(map(repr, missing))} "
                    f"of {where} are not in the matrix; name them in non_fluorescence "
                    f"or pass unmatched='keep' to leave them uncompensated"
                )
        return idx

    # ------------------------------------------------------------------ apply
    def apply(
        self,
        events: np.ndarray,
        channels: Sequence[str],
        *,
        markers: Sequence[str | None] | None = None,
        non_fluorescence: Sequence[str] = DEFAULT_NON_FLUORESCENCE,
        unmatched: Literal["raise", "keep"] = "raise",
        sample: str | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Compensate the detector columns of an event matrix.

        Parameters
        ----------
        events : ndarray of shape (n_events, n_channels), float32 or float64, data units
            Raw events (other dtypes are converted to float64).
        channels : sequence of str
            ``$PnN`` of each column.
        markers, non_fluorescence, unmatched, sample
            See :meth:`match`.
        out : ndarray of shape (n_events, n_channels), float64, C-contiguous, optional
            Where to write; may be ``events`` itself when that is float64.

        Returns
        -------
        ndarray of shape (n_events, n_channels), float64
            A new array (or ``out``): detector columns replaced by
            ``events[:, det] @ inverse``, all others copied. Always float64, also for
            float32 input (accumulation is float64).

        Raises
        ------
        CompensationError
            Channels and matrix do not fit (see :meth:`match`).
        InputError
            ``events`` is not 2-D, its width differs from ``channels``, or ``out`` is unfit.
        """
        ev = _as_event_matrix(events)
        if ev.shape[1] != len(channels):
            raise InputError(f"events have {ev.shape[1]} columns but {len(channels)} channel names were given")
        det = self.match(channels, markers=markers, non_fluorescence=non_fluorescence,
                         unmatched=unmatched, sample=sample)
        result = _out_matrix(out, ev.shape)
        is_det = np.zeros(ev.shape[1], dtype=np.bool_)
        is_det[det] = True
        scratch = np.empty((_n_chunks(ev.shape[0]), len(det)))
        with threads_for(ev.shape[0]):
            _k._compensate(ev, det, self._inverse_t, is_det, result is not ev, _CHUNK, scratch, result)
        return result

    def apply_block(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Compensate a block whose columns are the detectors in matrix order: ``x @ inverse``.

        Parameters
        ----------
        x : ndarray of shape (n_events, n_detectors), float32 or float64
        out : ndarray of the same shape, float64, C-contiguous, optional (may be ``x``)

        Returns
        -------
        ndarray of shape (n_events, n_detectors), float64
        """
        xb = _as_event_matrix(x)
        if xb.shape[1] != len(self.detectors):
            raise InputError(f"block has {xb.shape[1]} columns, the matrix {len(self.detectors)} detectors")
        result = _out_matrix(out, xb.shape)
        scratch = np.empty((_n_chunks(xb.shape[0]), len(self.detectors)))
        with threads_for(xb.shape[0]):
            _k._compensate_block(xb, self._inverse_t, _CHUNK, scratch, result)
        return result


    def apply_channels(self, events: np.ndarray, detector_columns: Sequence[int],
                       columns: Sequence[int]) -> np.ndarray:
        """Compensated values of some channels only, one contiguous row per channel.

        Each output channel still reads every detector (compensation mixes them), but
        channels nobody asks for are not computed. The arithmetic (and so every bit) is
        that of the gating engine's compensated columns
        (:class:`~mrdquant.cytometry.gating.GatingStrategy`).

        Parameters
        ----------
        events : ndarray of shape (n_events, n_channels), float32 or float64, data units
        detector_columns : sequence of int
            Column of each detector of the matrix, in matrix order (:meth:`match`).
        columns : sequence of int
            Columns wanted; each must be one of ``detector_columns``.

        Returns
        -------
        ndarray of shape (len(columns), n_events), float64, data units
            Row ``r``: ``events[:, detector_columns] @ inverse[:, k]`` for the detector
            ``k`` read in column ``columns[r]``.

        Raises
        ------
        InputError
            ``events`` not 2-D, detector columns not one per detector, or a wanted column
            that is not a detector column.
        """
        return self.apply_channels_with_raw(events, detector_columns, columns, [])[0]

    def apply_channels_with_raw(self, events: np.ndarray, detector_columns: Sequence[int], columns: Sequence[int],
                                raw_columns: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`apply_channels`, and some columns as they are, in the same pass over the events.

        Parameters
        ----------
        events, detector_columns, columns
            As :meth:`apply_channels`.
        raw_columns : sequence of int
            Columns wanted uncompensated (e.g. scatter and time).

        Returns
        -------
        compensated : ndarray of shape (len(columns), n_events), float64, data units
            As :meth:`apply_channels`.
        raw : ndarray of shape (len(raw_columns), n_events), float64, data units
            Row ``r``: ``events[:, raw_columns[r]]``.

        Raises
        ------
        InputError
            As :meth:`apply_channels`, or a raw column outside the events.
        """
        from ._gates_kernels import kernel

        ev = np.asarray(events)
        if ev.dtype not in (np.float32, np.float64):
            ev = _as_event_matrix(ev)
        if ev.ndim != 2:
            raise InputError(f"events must be a 2-D (n_events, n_channels) array, got shape {ev.shape}")
        det = [int(c) for c in detector_columns]
        if len(det) != len(self.detectors):
            raise InputError(f"{len(det)} detector columns for the {len(self.detectors)} detectors of {self.source}")
        missing = [int(c) for c in columns if int(c) not in det]
        if missing:
            raise InputError(f"column(s) {missing} are not detector columns {det} of {self.source}")
        pos = [det.index(int(c)) for c in columns]
        n = ev.shape[0]
        out = np.empty((len(pos), n), dtype=np.float64)
        raw_cols = np.asarray([int(c) for c in raw_columns], dtype=np.intp)
        if raw_cols.size and (raw_cols.min() < 0 or raw_cols.max() >= ev.shape[1]):
            raise InputError(f"raw column(s) {raw_cols.tolist()} outside the {ev.shape[1]} columns of the events")
        raw = np.empty((raw_cols.size, n), dtype=np.float64)
        kernel("take_compensated", n)(ev, np.empty(0, dtype=np.intp), True, np.asarray(det, dtype=np.intp),
                                      np.ascontiguousarray(self.inverse[:, pos], dtype=np.float64), out,
                                      raw_cols, raw)
        return out, raw


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _n_chunks(n: int) -> int:
    return max(1, -(-n // _CHUNK))


def _as_event_matrix(events: Any) -> np.ndarray:
    arr = np.asarray(events)
    if arr.dtype not in (np.float32, np.float64):
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"events must be numeric, got dtype {arr.dtype}") from exc
    if arr.ndim != 2:
        raise InputError(f"events must be a 2-D (n_events, n_channels) array, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def _out_matrix(out: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    if out is None:
        return np.empty(shape, dtype=np.float64)
    if not isinstance(out, np.ndarray) or out.dtype != np.float64 or out.shape != shape:
        raise InputError(
            f"out must be a float64 array of shape {shape}, got {getattr(out, 'dtype', type(out))} "
            f"{getattr(out, 'shape', '')}"
        )
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise InputError("out must be C-contiguous and writeable")
    return out


def compensate(
    events: np.ndarray,
    channels: Sequence[str],
    spillover: "Compensation | Any",
    *,
    markers: Sequence[str | None] | None = None,
    non_fluorescence: Sequence[str] = DEFAULT_NON_FLUORESCENCE,
    unmatched: Literal["raise", "keep"] = "raise",
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Compensate ``events`` with a spillover matrix (convenience over :class:`Compensation`).

    Parameters
    ----------
    events : ndarray of shape (n_events, n_channels), float, data units
    channels : sequence of str
        ``$PnN`` of each column.
    spillover : Compensation, DataFrame (detector-indexed) or path to a CSV/TSV matrix
    markers, non_fluorescence, unmatched, out
        See :meth:`Compensation.apply`.

    Returns
    -------
    ndarray of shape (n_events, n_channels), float64
    """
    if isinstance(spillover, Compensation):
        comp = spillover
    elif isinstance(spillover, (str, os.PathLike)):
        comp = Compensation.from_csv(spillover)
    else:
        comp = Compensation.from_dataframe(spillover)
    return comp.apply(events, channels, markers=markers, non_fluorescence=non_fluorescence,
                      unmatched=unmatched, out=out)

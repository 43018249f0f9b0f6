"""Reading and writing FCS files: :class:`FlowSample`, :func:`read_fcs`, :func:`write_fcs`.

The HEADER and TEXT segments are parsed by :mod:`flowio` (the reader library behind
FlowKit). The DATA segment is decoded here with numpy, directly into the final event
matrix, because flowio's decoder builds Python lists for mixed integer widths, loops
byte by byte to mask bits and cannot read 24-bit words; the decoded values are exactly
flowio's (``FlowData.as_array``), only faster and without intermediate copies.

``events`` are *preprocessed* as in ``flowio.FlowData.as_array(preprocess=True)``:

1. the channel whose ``$PnN`` is ``Time`` (any case) is multiplied by ``$TIMESTEP``;
2. channels with ``$PnE = f1,f2`` and ``f1 > 0`` become ``10 ** (f1 * x / $PnR) * f2``
   (``f2 = 0`` is read as 1, as the standard says);
3. channels with a ``$PnG`` other than 0 and 1 are divided by it (never the time channel).

One deliberate difference from flowio: ``$PnE`` log amplification is applied to integer
data only; floating-point data are stored linear (FCS 3.1 requires ``$PnE=0,0`` there)
and a non-zero ``$PnE`` on them is ignored with an :class:`FCSWarning`.

See ``docs/fcs.md`` for the complete behaviour, warnings and errors.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from ..errors import FCSError, FCSWarning, GatingError
from ._fcs_data import _DataPlan, _decode, _preprocess_inplace
from ._fcs_layout import describe_channels, resolve_layout
from ._fcs_spillover import _check_spillover_frame, _spillover
from ._fcs_text import (
    _HEADER_SIZE,
    _byte_order,
    _dataset_offsets,
    _int_kw,
    _locate_data,
)

if TYPE_CHECKING:  # pandas is imported where a spillover matrix is built
    import pandas as pd

__all__ = ["FlowSample", "read_fcs", "read_fcs_text", "write_fcs"]


# Non-fluorescence channels, matched case-insensitively against $PnN.
_NON_FLUORESCENCE = re.compile(
    r"""^(
        (fsc\d*|ssc\d*|fs|ss|sc|bsc)([\s_\-.].*)?       # scatter: FSC-A, SSC-H, FS INT LIN, SS PEAK
      | (f|s)s(c)?[\s_\-]?(a|h|w|area|height|width|int|peak|log|lin|tof)$
      | time.* | .*\btime$ | hdr-.*
      | event.* | .*_length$ | .*\blength$ | width | height | area
      | label | index | cell.?id | sort.* | .*classifier.* | .*sampleid.* | tray.* | well.*
      | imaging.* | pulse.* | trigger.* | saturated.* | bead.* | gate.* | .*\bgate$
    )$""",
    re.IGNORECASE | re.VERBOSE,
)


# ----------------------------------------------------------------------------------------
# FlowSample
# ----------------------------------------------------------------------------------------


class FlowSample:
    """One FCS data set: events, channel names, markers, keywords and spillover.

    Attributes
    ----------
    path : pathlib.Path or None
        The file read, ``None`` for samples made with :meth:`from_array`.
    channels : list of str
        Detector names (``$PnN``), in file order. Duplicates are kept as in the file.
    markers : list of str
        Stain names (``$PnS``); ``""`` where the file has none.
    metadata : dict of str to str
        TEXT keywords as flowio returns them: keys lower-case and without the leading
        ``$`` (``"tot"``, ``"p1n"``, ``"spillover"``, ``"cyt"``); values are strings.
    spillover : pandas.DataFrame or None
        Square spillover matrix from ``$SPILLOVER``/``$SPILL``/``SPILL``; index and
        columns are detector names (``$PnN``), rows are the emitting detector.
    events : numpy.ndarray
        ``(n_events, n_channels)``, C-contiguous, preprocessed (see module docs):
        ``float32`` when ``$DATATYPE`` is ``F``, ``float64`` otherwise.
    n_events : int
        Number of events (rows).
    sha256 : str
        Hex SHA-256 digest of the whole file's bytes (``""`` for in-memory samples).
        Computed on first access and cached; :class:`FCSError` if the file's size or
        modification time changed since it was read (the digest would then not
        describe the events in memory).
    version : str
        FCS version from the HEADER (``"2.0"``, ``"3.0"``, ``"3.1"``; ``""`` in memory).
    dataset : int
        Index of this data set within its file (0 for the first).
    n_datasets : int
        Number of data sets in the file (1 for in-memory samples).
    """

    def __init__(
        self,
        events: np.ndarray,
        channels: Sequence[str],
        *,
        markers: Sequence[str] | None = None,
        metadata: Mapping[str, str] | None = None,
        spillover: pd.DataFrame | None = None,
        path: Path | None = None,
        sha256: str | None = "",
        version: str = "",
        dataset: int = 0,
        n_datasets: int = 1,
        raw_events: np.ndarray | None = None,
        _plan: _DataPlan | None = None,
        _stat: tuple[int, int] | None = None,
        _hashing: "_Hashing | None" = None,
    ):
        self.events = events
        self.channels = list(channels)
        self.markers = list(markers) if markers is not None else [""] * len(self.channels)
        self.metadata = dict(metadata or {})
        self.spillover = spillover
        self.path = path
        # None = not computed yet: hashed on first access of ``sha256``, provided the file
        # still has the size and modification time (``_stat``) it had when it was read
        self._sha256 = sha256
        self._stat = _stat
        self._hashing = _hashing  # a hash of the file under way (hash_in_background)
        self.version = version
        self.dataset = dataset
        self.n_datasets = n_datasets
        self._raw = raw_events
        self._plan = _plan

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_array(
        cls,
        events,
        channels: Sequence[str],
        *,
        markers: Sequence[str] | None = None,
        metadata: Mapping[str, str] | None = None,
        spillover: pd.DataFrame | None = None,
    ) -> "FlowSample":
        """Make an in-memory sample from an event matrix.

        Parameters
        ----------
        events : array_like, shape (n_events, n_channels)
            Event values; kept as ``float32`` when given as ``float32``, else converted
            to ``float64``. Not copied when already C-contiguous in that dtype. Taken as
            already preprocessed (``raw_events`` is the same).
        channels : sequence of str
            Detector names, one per column.
        markers : sequence of str, optional
            Stain names, one per column (``""`` where none).
        metadata : mapping, optional
            Keywords (lower-case keys without ``$`` by convention).
        spillover : pandas.DataFrame, optional
            Square matrix whose index and columns are names in ``channels``.

        Raises
        ------
        FCSError
            When shapes or names do not fit together.
        """
        where = "in-memory sample"
        arr = np.asarray(events)
        if arr.ndim != 2:
            raise FCSError(f"{where}: events must be a 2-D array (n_events, n_channels), got shape {arr.shape}")
        if arr.dtype != np.float32:
            try:
                arr = arr.astype(np.float64, copy=False)
            except (TypeError, ValueError) as exc:
                raise FCSError(f"{where}: events must be numeric, got dtype {arr.dtype}") from exc
        arr = np.ascontiguousarray(arr)
        chans = [str(c) for c in channels]
        if len(chans) != arr.shape[1]:
            raise FCSError(
                f"{where}: {len(chans)} channel names given for {arr.shape[1]} event columns"
            )
        marks = [("" if m is None else str(m)) for m in markers] if markers is not None else None
        if marks is not None and len(marks) != len(chans):
            raise FCSError(f"{where}: {len(marks)} markers given for {len(chans)} channels")
        spill = _check_spillover_frame(spillover, chans, where) if spillover is not None else None
        meta = {str(k): str(v) for k, v in (metadata or {}).items()}
        return cls(arr, chans, markers=marks, metadata=meta, spillover=spill)

    # -- basic properties -----------------------------------------------------------------
    @property
    def sha256(self) -> str:
        """Hex SHA-256 digest of the file's bytes (computed on first access, then cached).

        Waits for a hash started by :meth:`hash_in_background` (or ``read_fcs(...,
        hash_in_background=True)``). Raises :class:`~mrdquant.errors.FCSError` when the
        file has changed (size or modification time) since it was read.
        """
        if self._sha256 is None and self.path is None:
            self._sha256 = ""
        if self._sha256 is None:
            if self._hashing is not None:
                hashing, self._hashing = self._hashing, None
                digest = hashing.result()
            else:
                self._check_unchanged()
                digest = _sha256_of(self.path)
            # the file may have been rewritten while it was hashed
            self._check_unchanged()
            self._sha256 = digest
        return self._sha256

    def __getstate__(self) -> dict:
        # a hash under way (a thread) stays behind: the copy hashes the file when asked
        state = dict(self.__dict__)
        state["_hashing"] = None
        return state

    def adopt_sha256(self, digest: str, size: int, mtime_ns: int) -> bool:
        """Take a SHA-256 computed earlier from this file, instead of hashing it again.

        The digest is taken only when the file, as it was read, had exactly that size and
        modification time (ns) -- the state it was hashed in -- and no digest is known yet.

        Parameters
        ----------
        digest : str
            Hex SHA-256 of the file's bytes.
        size : int, bytes
        mtime_ns : int, ns
            ``os.stat`` of the file when it was hashed (taken before and after hashing, and
            equal).

        Returns
        -------
        bool
            Whether the digest was taken (otherwise ``sha256`` hashes the file as usual).
        """
        if self.path is None or self._sha256 is not None or self._hashing is not None:
            return False
        if self._stat != (int(size), int(mtime_ns)):
            return False
        self._sha256 = str(digest)
        return True

    def hash_in_background(self) -> "FlowSample":
        """Start computing :attr:`sha256` on a thread; reading ``sha256`` waits for it.

        Hashing releases the GIL, so the digest of a large file costs little wall time
        while the events are gated. Does nothing when the digest is known or under way,
        or for an in-memory sample. Returns the sample.
        """
        if self._sha256 is None and self.path is not None and self._hashing is None:
            self._check_unchanged()
            self._hashing = _Hashing(self.path)
        return self

    @sha256.setter
    def sha256(self, value: str) -> None:
        self._sha256 = str(value)

    def _check_unchanged(self) -> None:
        """FCSError unless the file has the size and mtime it had when it was read."""
        if self._stat is None or self.path is None:
            return
        now = _file_stat(self.path)
        if now is None:
            raise FCSError(f"{self.path}: file is no longer readable since it was read; its SHA-256 cannot be computed")
        if now != self._stat:
            raise FCSError(
                f"{self.path}: file changed since it was read (size, modification time in ns: "
                f"{self._stat} -> {now}); read it again"
            )

    @property
    def n_events(self) -> int:
        """Number of events."""
        return int(self.events.shape[0])

    @property
    def labels(self) -> list[str]:
        """``"PnN [PnS]"`` labels (just ``PnN`` where there is no marker)."""
        return [_label(c, m) for c, m in zip(self.channels, self.markers)]

    @property
    def raw_events(self) -> np.ndarray:
        """Decoded but not preprocessed events (float64; float32 for ``$DATATYPE=F``).

        Kept in memory only when read with ``keep_raw=True``; otherwise decoded again
        from the file on each access (:class:`FCSError` if the file's SHA-256 changed
        since it was read). For in-memory samples this is ``events``.
        """
        if self._raw is not None:
            return self._raw
        if self._plan is None or self.path is None:
            return self.events
        self._check_unchanged()
        if self._sha256 and _sha256_of(self.path) != self._sha256:
            raise FCSError(f"{self.path}: file changed since it was read (SHA-256 differs); read it again")
        return _decode(self.path, self._plan)

    def __repr__(self) -> str:
        name = self.path.name if self.path is not None else "in memory"
        return f"FlowSample({name!r}, {self.n_events} events x {len(self.channels)} channels)"

    # -- channel lookup -------------------------------------------------------------------
    def channel_index(self, name: str) -> int:
        """Column index of a channel given by ``$PnN``, ``$PnS`` or ``"PnN [PnS]"``.

        An exact (case-sensitive) match on any of the three names wins; only when there
        is none is the name compared case-insensitively.

        Raises
        ------
        GatingError
            When no channel matches (the message lists the available names) or when
            several different channels match (duplicate names: use ``"PnN [PnS]"`` or
            an index).
        """
        if not isinstance(name, str):
            raise GatingError(f"{self._where()}: channel name must be a string, got {type(name).__name__}")
        labels = self.labels
        for fold in (False, True):
            key = name.casefold() if fold else name
            hits = set()
            for i, (pnn, pns, lab) in enumerate(zip(self.channels, self.markers, labels)):
                cands = (pnn, pns, lab) if pns else (pnn, lab)
                if fold:
                    cands = tuple(c.casefold() for c in cands)
                if key in cands:
                    hits.add(i)
            if len(hits) == 1:
                return hits.pop()
            if len(hits) > 1:
                which = ", ".join(f"{i}: {labels[i]!r}" for i in sorted(hits))
                raise GatingError(
                    f"{self._where()}: channel name {name!r} is ambiguous, it matches columns "
                    f"{which}; use the 'PnN [PnS]' label or a column index"
                )
        raise GatingError(
            f"{self._where()}: no channel {name!r}; expected one of $PnN/$PnS/'PnN [PnS]': "
            + ", ".join(repr(lab) for lab in labels)
        )

    def channel(self, name: str) -> np.ndarray:
        """The events of one channel (a view of ``events[:, i]``); see :meth:`channel_index`."""
        return self.events[:, self.channel_index(name)]

    def fluorescence_channels(self) -> list[str]:
        """Detector names (``$PnN``) of the fluorescence channels.

        When the file has a spillover matrix, its detectors are the fluorescence
        channels (in sample order). Otherwise every channel is kept except those whose
        ``$PnN`` looks like scatter (``FSC*``, ``SSC*``, ``FS``/``SS`` ...), time,
        event counters/length, width/height/area without a detector, labels, indices,
        sort or well/tray positions (see ``docs/fcs.md`` for the exact rule).
        """
        if self.spillover is not None:
            detectors = set(str(c) for c in self.spillover.columns)
            return [c for c in self.channels if c in detectors]
        return [c for c in self.channels if not _NON_FLUORESCENCE.match(c.strip())]

    def _where(self) -> str:
        return str(self.path) if self.path is not None else "in-memory sample"


def _label(pnn: str, pns: str) -> str:
    return f"{pnn} [{pns}]" if pns and pns != pnn else pnn


# ----------------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------------


def read_fcs(path: str | os.PathLike, dataset: int = 0, *, keep_raw: bool = False,
             hash_in_background: bool = False) -> FlowSample:
    """Read one data set of an FCS 2.0, 3.0 or 3.1 file.

    Parameters
    ----------
    path : str or os.PathLike
        The FCS file.
    dataset : int, default 0
        Which data set of a multi-data-set file (``$NEXTDATA`` chain) to read.
    keep_raw : bool, default False
        Keep the decoded, not preprocessed, matrix in memory as ``raw_events``
        (otherwise it is decoded again from the file when asked for).
    hash_in_background : bool, default False
        Start the file's SHA-256 on a thread before parsing it, so that hashing overlaps
        reading and whatever follows; ``sample.sha256`` waits for it (otherwise the file
        is hashed on first access of ``sha256``).

    Returns
    -------
    FlowSample

    Raises
    ------
    FCSError
        When the file cannot be read; the message names the file, the segment or
        keyword and what was expected.

    Warns
    -----
    FCSWarning
        When the file is read although something is off: HEADER and TEXT disagree on
        the DATA offsets (both are named) or the HEADER ones are blank, the DATA end
        offset is off by one or the segment holds more than ``$TOT`` events, duplicate
        ``$PnN``, an unusable ``$SPILLOVER`` (then ``spillover`` is None), ``$PnE`` on
        floating-point data (ignored), a non-numeric ``$TIMESTEP``, empty TEXT values.
    """
    p = Path(path)
    stat = _file_stat(p)
    # hashed from the bytes on disk after ``stat``; ``sha256`` checks the stat again after
    hashing = _Hashing(p) if hash_in_background and stat is not None else None
    parsed = _parse(p, dataset)
    plan = parsed.plan
    raw = _decode(p, plan)
    events = raw.copy() if keep_raw else raw
    _preprocess_inplace(events, parsed.channels, parsed.text, parsed.pne, parsed.png, parsed.pnr, p)
    return _sample(parsed, events, p, dataset, stat, raw_events=raw if keep_raw else None, _plan=plan,
                   _hashing=hashing)


def read_fcs_text(path: str | os.PathLike, dataset: int = 0) -> FlowSample:
    """Read only HEADER and TEXT: a :class:`FlowSample` with an empty ``events`` matrix.

    ``n_events`` is 0; ``metadata["tot"]`` holds the file's event count. Useful to list
    many files quickly. Raises :class:`FCSError` like :func:`read_fcs`.
    """
    p = Path(path)
    stat = _file_stat(p)
    parsed = _parse(p, dataset)
    dtype = np.float32 if parsed.plan.kind == "F" else np.float64
    return _sample(parsed, np.empty((0, len(parsed.channels)), dtype=dtype), p, dataset, stat)


def _sample(parsed: "_Parsed", events: np.ndarray, path: Path, dataset: int, stat, **extra) -> FlowSample:
    """The :class:`FlowSample` of a parsed file (hashed lazily, on first ``sha256`` access)."""
    return FlowSample(
        events,
        parsed.channels,
        markers=parsed.markers,
        metadata=parsed.text,
        spillover=parsed.spillover,
        path=path,
        sha256=None,
        version=parsed.version,
        dataset=dataset,
        n_datasets=parsed.n_datasets,
        _stat=stat,
        **extra,
    )


@dataclass
class _Parsed:
    version: str
    text: dict
    channels: list
    markers: list
    spillover: pd.DataFrame | None
    plan: _DataPlan
    n_datasets: int
    pne: list  # (decades, log0) per channel
    png: list
    pnr: list


def _file_stat(path: Path) -> tuple[int, int] | None:
    """``(size, mtime_ns)`` of a file, or None when it cannot be stat'ed (reported by the reader)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (int(st.st_size), int(st.st_mtime_ns))


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise FCSError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    return h.hexdigest()


class _Hashing:
    """The SHA-256 of a file, computed on a thread (``hashlib`` releases the GIL)."""

    def __init__(self, path: Path):
        self._box: dict = {}
        self._thread = threading.Thread(target=self._run, args=(path,), name="mrdquant-sha256", daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        try:
            self._box["value"] = _sha256_of(path)
        except BaseException as exc:  # handed to whoever asks for the result
            self._box["error"] = exc

    def result(self) -> str:
        """The hex digest (waits for the thread); re-raises the thread's error."""
        self._thread.join()
        if "error" in self._box:
            raise self._box["error"]
        return self._box["value"]


def _parse(path: Path, dataset: int) -> _Parsed:
    try:
        file_size = path.stat().st_size
        fh = open(path, "rb")
    except FileNotFoundError as exc:
        raise FCSError(f"{path}: file not found") from exc
    except OSError as exc:
        raise FCSError(f"{path}: cannot be opened ({exc.strerror or exc})") from exc
    with fh:
        if file_size < _HEADER_SIZE:
            raise FCSError(
                f"{path}: file is {file_size} bytes long, shorter than the {_HEADER_SIZE}-byte FCS HEADER"
            )
        if not isinstance(dataset, (int, np.integer)) or isinstance(dataset, bool):
            raise FCSError(f"{path}: dataset must be an integer index, got {dataset!r}")
        offsets, header, text = _dataset_offsets(fh, path, file_size, dataset)
        if not 0 <= dataset < len(offsets):
            raise FCSError(
                f"{path}: data set index {dataset} is out of range; the file has {len(offsets)} data set(s) "
                f"(valid indices 0..{len(offsets) - 1})"
            )
        offset = offsets[dataset]
    version = header["version"]

    n_channels = _int_kw(text, "par", path)
    if n_channels is None or n_channels < 1:
        raise FCSError(f"{path}: TEXT keyword $PAR is {text.get('par')!r}; expected a positive integer")
    mode = str(text.get("mode", "L")).strip().upper()
    if mode != "L":
        raise FCSError(f"{path}: TEXT keyword $MODE is {mode!r}; only list mode ('L') data can be read")
    kind = str(text.get("datatype", "")).strip().upper()
    if kind not in ("I", "F", "D"):
        raise FCSError(
            f"{path}: TEXT keyword $DATATYPE is {text.get('datatype')!r}; expected 'I', 'F' or 'D' "
            f"(ASCII data is not supported)"
        )
    order = _byte_order(text, path)

    described = describe_channels(text, n_channels, kind, path)
    declared = described[:n_channels]
    widths = [c.storage for c in declared] if len(declared) == n_channels else [c.storage for c in described]
    bytes_per_event = sum(widths) // 8
    tot = _int_kw(text, "tot", path, required=False)
    start, end = _locate_data(path, version, header, text, offset, file_size, bytes_per_event, tot)
    layout = resolve_layout(path, text, kind, n_channels, tot, described, start, end,
                            file_size - (offset + start))
    chans = layout.channels
    channels = [c.name for c in chans]
    markers = [c.marker for c in chans]
    pne = [c.pne for c in chans]
    png = [c.png for c in chans]
    pnr = [c.pnr for c in chans]
    float_log = [c.float_log for c in chans if c.float_log]
    if float_log:
        warnings.warn(
            f"{path}: {', '.join(float_log)} ignored: $DATATYPE={kind} values are stored linear "
            f"(the FCS standard requires $PnE=0,0 for floating-point data)",
            FCSWarning,
            stacklevel=3,
        )
    dup = sorted({c for c in channels if channels.count(c) > 1})
    if dup:
        warnings.warn(
            f"{path}: duplicate $PnN channel name(s) {dup}; they are kept, and looking one up by that "
            f"name raises an ambiguity error (use the 'PnN [PnS]' label or the column index)",
            FCSWarning,
            stacklevel=3,
        )
    plan = _DataPlan(
        offset=offset + start,
        n_events=layout.n_events,
        n_channels=layout.n_channels,
        kind=kind,
        order=order,
        widths=layout.widths,
        masks=layout.masks,
    )
    spill = _spillover(text, channels, markers, path)
    return _Parsed(version, text, channels, markers, spill, plan, len(offsets), pne, png, pnr)


# ----------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------


def write_fcs(
    path: str | os.PathLike,
    events,
    channels: Sequence[str],
    *,
    markers: Sequence[str] | None = None,
    metadata: Mapping[str, object] | None = None,
    spillover: pd.DataFrame | None = None,
) -> Path:
    """Write events as a float32 FCS 3.1 file (atomically).

    Parameters
    ----------
    path : str or os.PathLike
        Output file; written to a temporary file beside it, then moved into place.
    events : array_like, shape (n_events, n_channels)
        Values, stored as little-endian float32 (``$DATATYPE=F``, ``$PnE=0,0``).
    channels : sequence of str
        ``$PnN`` names (non-empty, unique is recommended).
    markers : sequence of str, optional
        ``$PnS`` names; ``""`` or ``None`` leaves ``$PnS`` out for that channel.
    metadata : mapping, optional
        Extra keywords; keys are case-insensitive, a leading ``$`` is optional, values
        are converted with ``str``. Keywords describing the data layout (``$PAR``,
        ``$TOT``, ``$PnB``, ``$PnE``, ``$PnN``, ``$PnS``, ...) are set by the writer.
        ``pnr``-style keys (``"p3r"``) set the channel range (default 262144).
    spillover : pandas.DataFrame, optional
        Square matrix (index and columns = detector names in ``channels``), written as
        ``$SPILLOVER``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    FCSError
        For inconsistent shapes or names, or a value that cannot be stored.
    """
    target = Path(path)
    where = str(target)
    arr = np.asarray(events)
    if arr.ndim != 2:
        raise FCSError(f"{where}: events must be a 2-D array (n_events, n_channels), got shape {arr.shape}")
    try:
        arr = np.ascontiguousarray(arr, dtype="<f4")
    except (TypeError, ValueError) as exc:
        raise FCSError(f"{where}: events must be numeric, got dtype {np.asarray(events).dtype}") from exc
    chans = [str(c) for c in channels]
    if len(chans) != arr.shape[1] or not chans:
        raise FCSError(f"{where}: {len(chans)} channel names given for {arr.shape[1]} event columns")
    for i, c in enumerate(chans):
        _check_keyword_value(c, f"$P{i + 1}N", where)
    marks = None
    if markers is not None:
        marks = [("" if m is None else str(m)) for m in markers]
        if len(marks) != len(chans):
            raise FCSError(f"{where}: {len(marks)} markers given for {len(chans)} channels")
        for i, m in enumerate(marks):
            if m:
                _check_keyword_value(m, f"$P{i + 1}S", where)
    meta: dict[str, str] = {}
    for k, v in (metadata or {}).items():
        key = str(k).lstrip("$").lower()
        val = str(v)
        if not key:
            raise FCSError(f"{where}: metadata has an empty keyword")
        _check_keyword_value(key, "metadata keyword", where)
        _check_keyword_value(val, f"metadata keyword {k!r}", where)
        if re.fullmatch(r"p\d+[bens]", key) or key in _LAYOUT_KEYWORDS:
            continue  # set by the writer from the arguments
        meta[key] = val
    meta.pop("spill", None)
    if spillover is not None:
        spill = _check_spillover_frame(spillover, chans, where)
        names = list(spill.columns)
        bad = [c for c in names if "," in c]
        if bad:
            raise FCSError(f"{where}: spillover detector names {bad} contain ',', which $SPILLOVER uses as separator")
        vals = ",".join(repr(float(x)) for x in spill.to_numpy().ravel())
        meta["spillover"] = f"{len(names)}," + ",".join(names) + "," + vals
    else:
        meta.pop("spillover", None)

    from array import array

    import flowio

    from .store import atomic_path

    flat = array("f")
    flat.frombytes(arr.reshape(-1).view(np.uint8))  # one copy; flowio writes array("f") as is
    try:
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as fh:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    flowio.create_fcs(fh, flat, chans, opt_channel_names=marks, metadata_dict=meta)
    except FCSError:
        raise
    except OSError as exc:
        raise FCSError(f"{where}: cannot be written ({exc.strerror or exc})") from exc
    except Exception as exc:  # flowio raises ValueError/Exception on inconsistent input
        raise FCSError(f"{where}: FCS file cannot be created ({exc})") from exc
    return target


_LAYOUT_KEYWORDS = frozenset(
    {
        "beginanalysis", "endanalysis", "begindata", "enddata", "beginstext", "endstext",
        "byteord", "datatype", "mode", "nextdata", "par", "tot",
    }
)


def _check_keyword_value(value: str, field: str, where: str) -> None:
    """Reject values that cannot round-trip through an FCS TEXT segment."""
    if value == "" or value.strip() == "":
        raise FCSError(f"{where}: {field} is empty; FCS keyword values must not be empty")
    if "$" in value[1:] if field == "metadata keyword" else "$" in value:
        raise FCSError(f"{where}: {field} {value!r} contains '$', which FCS readers strip")
    if value[0] == "/" or value[-1] == "/":
        raise FCSError(f"{where}: {field} {value!r} starts or ends with the TEXT delimiter '/'")
    if any(ord(ch) < 32 for ch in value):
        raise FCSError(f"{where}: {field} {value!r} contains control characters")

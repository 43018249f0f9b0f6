"""HEADER and TEXT segments of FCS files: data set chain, keywords and DATA offsets.

TEXT keywords are parsed by flowio; this module adds what flowio does not do: it
checks the HEADER, follows ``$NEXTDATA``, reads TEXT segments with empty values, and
decides which DATA offsets (HEADER or TEXT) hold the events, warning or refusing with
the file name and both offsets.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path

import numpy as np

from ..errors import FCSError, FCSWarning

#: HEADER fields: (name, first byte, last byte), both inclusive, relative to a data set.
_HEADER_FIELDS = (
    ("text_start", 10, 17),
    ("text_stop", 18, 25),
    ("data_start", 26, 33),
    ("data_stop", 34, 41),
)
_HEADER_SIZE = 58
_BIG_FILE = 99_999_999
_MAX_DATASETS = 10_000


def _read_header(fh, path: Path, offset: int, file_size: int) -> dict:
    """Parse the fixed-width HEADER of the data set at ``offset`` (validation only)."""
    fh.seek(offset)
    head = fh.read(_HEADER_SIZE)
    if len(head) < 42:
        raise FCSError(
            f"{path}: HEADER at byte {offset} is {len(head)} bytes long; expected at least 42 "
            f"(an FCS file starts with 'FCSx.y' and the TEXT/DATA offsets)"
        )
    magic = head[:6]
    if not re.fullmatch(rb"FCS\d\.\d", magic):
        raise FCSError(
            f"{path}: HEADER at byte {offset} starts with {magic!r}; expected 'FCS2.0', 'FCS3.0' or 'FCS3.1'"
        )
    version = magic[3:].decode("ascii")
    if version not in ("2.0", "3.0", "3.1"):
        raise FCSError(f"{path}: HEADER version FCS{version} is not supported; expected FCS 2.0, 3.0 or 3.1")
    out = {"version": version}
    for name, a, b in _HEADER_FIELDS:
        raw = head[a : b + 1]
        txt = raw.decode("ascii", errors="replace").strip()
        if txt == "" and name.startswith("data"):
            out[name] = None  # blank: only acceptable when TEXT has the offsets
            continue
        if not txt.isdigit():
            raise FCSError(
                f"{path}: HEADER field {name} (bytes {a}-{b}) is {raw!r}; expected a right-aligned integer byte offset"
            )
        out[name] = int(txt)
    if out["text_start"] < _HEADER_SIZE or out["text_stop"] <= out["text_start"]:
        raise FCSError(
            f"{path}: HEADER TEXT offsets {out['text_start']}-{out['text_stop']} are invalid; "
            f"expected {_HEADER_SIZE} <= start < stop"
        )
    if offset + out["text_stop"] >= file_size:
        raise FCSError(
            f"{path}: TEXT segment ends at byte {offset + out['text_stop']} but the file has "
            f"{file_size} bytes (truncated?)"
        )
    return out


def _flowio_text(fh, path: Path, offset: int, header: dict) -> dict:
    """TEXT keywords of the data set at ``offset``, parsed by flowio.

    The DATA offsets are located and checked here (:func:`_locate_data`), so flowio is
    shown zeros in the HEADER DATA fields and told to use them: its own offset checks
    would refuse files whose offsets are recoverable from the other segment.
    """
    import flowio  # imported here: only the reader needs it

    overlay = {offset + 26: b"       0       0"}
    fh.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fd = flowio.FlowData(
                _FileView(fh, overlay),
                use_header_offsets=True,
                ignore_offset_discrepancy=True,
                ignore_offset_error=True,
                only_text=True,
                nextdata_offset=offset,
            )
    except Exception as exc:  # flowio raises ValueError/KeyError/IndexError/its own errors
        # flowio also converts $PnR/$PnE/$PnG while parsing; split the segment here so
        # that the checks in _parse can name the keyword that is wrong
        fh.seek(offset + header["text_start"])
        fallback = _split_text_empty_values(fh.read(header["text_stop"] - header["text_start"] + 1))
        if not fallback or "par" not in fallback:
            raise FCSError(
                f"{path}: TEXT segment of the data set at byte {offset} cannot be parsed ({exc}; the file has "
                f"{fh.seek(0, os.SEEK_END)} bytes)"
            ) from exc
        return fallback
    text = dict(fd.text)
    if not _has_all_pnn(text):
        # flowio splits on single delimiters, so an empty value written as a doubled
        # delimiter ("/$P3S//$P4S/...") shifts every later keyword/value pair.
        fh.seek(offset + header["text_start"])
        raw = fh.read(header["text_stop"] - header["text_start"] + 1)
        repaired = _split_text_empty_values(raw)
        if repaired is not None and _has_all_pnn(repaired):
            warnings.warn(
                f"{path}: TEXT segment has empty keyword values (doubled delimiters); read them as empty",
                FCSWarning,
                stacklevel=5,
            )
            text = repaired
    return text


def _has_all_pnn(text: dict) -> bool:
    try:
        n = int(str(text.get("par", "")).strip())
    except ValueError:
        return True  # reported later, with the keyword name
    return all(f"p{i}n" in text for i in range(1, n + 1))


def _split_text_empty_values(raw: bytes) -> dict | None:
    """Split a TEXT segment where a value that starts with the delimiter is empty.

    Used only when flowio's reading of the segment lacks required keywords. A doubled
    delimiter inside a value stands for one delimiter character, as usual.
    Keys are returned like flowio's: lower-case, without ``$``.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if len(text) < 2:
        return None
    d = text[0]
    tokens, cur, i, n = [], [], 1, len(text)
    expecting_value = False
    while i < n:
        ch = text[i]
        if ch == d:
            # keys never hold the delimiter; in a value, a doubled delimiter is an escaped
            # one unless the value would start with it (then the value is empty)
            if expecting_value and cur and i + 1 < n and text[i + 1] == d:
                cur.append(d)
                i += 2
                continue
            tokens.append("".join(cur))
            cur = []
            expecting_value = not expecting_value
            i += 1
            continue
        cur.append(ch)
        i += 1
    if cur:
        tokens.append("".join(cur))
    if len(tokens) % 2:
        tokens = tokens[:-1]
    # keys as flowio gives them: lower-case, every "$" removed ("BD$WORD0" -> "bdword0")
    return {k.replace("$", "").lower(): v for k, v in zip(tokens[::2], tokens[1::2])}


class _FileView(io.RawIOBase):
    """Read-only view of an open file for flowio: it cannot close it, and ``overlay``
    (absolute offset -> bytes) replaces a few bytes as they are read."""

    def __init__(self, fh, overlay: dict | None = None):
        self._fh = fh
        self._overlay = overlay or {}
        self.name = getattr(fh, "name", "InMemoryFile")

    def seek(self, pos, whence=0):
        return self._fh.seek(pos, whence)

    def tell(self):
        return self._fh.tell()

    def read(self, n=-1):
        start = self._fh.tell()
        data = self._fh.read(n)
        if self._overlay and data:
            buf = bytearray(data)
            for at, patch in self._overlay.items():
                lo, hi = max(at, start), min(at + len(patch), start + len(buf))
                if lo < hi:
                    buf[lo - start : hi - start] = patch[lo - at : hi - at]
            data = bytes(buf)
        return data

    def readinto(self, b):
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readable(self):
        return True

    def seekable(self):
        return True

    def close(self):
        pass


def _int_kw(text: dict, key: str, path: Path, *, required: bool = True, default=None) -> int | None:
    if key not in text:
        if required:
            raise FCSError(f"{path}: TEXT keyword ${key.upper()} is missing; it is required")
        return default
    val = str(text[key]).strip()
    try:
        return int(val)
    except ValueError:
        try:
            f = float(val)
        except ValueError:
            f = None
        if f is not None and f.is_integer():
            return int(f)
        raise FCSError(f"{path}: TEXT keyword ${key.upper()} is {text[key]!r}; expected an integer") from None


def _float_kw(text: dict, key: str, path: Path, default: float) -> float:
    if key not in text:
        return default
    try:
        return float(str(text[key]).strip())
    except ValueError:
        raise FCSError(f"{path}: TEXT keyword ${key.upper()} is {text[key]!r}; expected a number") from None


def _dataset_offsets(fh, path: Path, file_size: int, wanted: int) -> tuple[list[int], dict, dict]:
    """Byte offsets of all data sets, following ``$NEXTDATA``, with the HEADER and TEXT
    of data set ``wanted`` (``None`` when out of range).

    Data sets after ``wanted`` that cannot be parsed end the chain with an
    :class:`FCSWarning` instead of making the wanted one unreadable.
    """
    offsets = [0]
    seen = {0}
    found: tuple = (None, None)
    while True:
        index, off = len(offsets) - 1, offsets[-1]
        try:
            header = _read_header(fh, path, off, file_size)
            if index == wanted:
                text = _flowio_text(fh, path, off, header)
                found = (header, text)
            else:
                with warnings.catch_warnings():  # only the data set read reports its quirks
                    warnings.simplefilter("ignore", FCSWarning)
                    text = _flowio_text(fh, path, off, header)
            nxt = _int_kw(text, "nextdata", path, required=False, default=0)
        except FCSError as exc:
            if index <= wanted or index == 0:
                raise
            offsets.pop()
            warnings.warn(
                f"{path}: data set {index} at byte {off} cannot be parsed ({exc}); reading "
                f"{len(offsets)} data set(s)",
                FCSWarning,
                stacklevel=4,
            )
            return offsets, *found
        if nxt is None or nxt == 0:
            return offsets, *found
        new = off + nxt
        problem = None
        if nxt < 0 or new in seen or new + _HEADER_SIZE > file_size:
            problem = f"is {nxt} (-> byte {new}), which does not point to a further data set inside the file"
        else:
            fh.seek(new)
            if not re.fullmatch(rb"FCS\d\.\d", fh.read(6)):
                problem = f"points to byte {new}, where there is no FCS HEADER"
        if problem is not None:
            warnings.warn(
                f"{path}: $NEXTDATA of data set {index} {problem}; reading {len(offsets)} data set(s)",
                FCSWarning,
                stacklevel=4,
            )
            return offsets, *found
        if len(offsets) >= _MAX_DATASETS:
            raise FCSError(f"{path}: more than {_MAX_DATASETS} data sets in the $NEXTDATA chain")
        offsets.append(new)
        seen.add(new)


def _byte_order(text: dict, path: Path) -> str:
    raw = str(text.get("byteord", "")).replace(" ", "")
    if raw in ("1,2,3,4", "1,2", "1", "1,2,3,4,5,6,7,8"):
        return "<"
    if raw in ("4,3,2,1", "2,1", "8,7,6,5,4,3,2,1"):
        return ">"
    raise FCSError(
        f"{path}: TEXT keyword $BYTEORD is {text.get('byteord')!r}; expected '1,2,3,4' (little endian) "
        f"or '4,3,2,1' (big endian)"
    )


def _mask(bits: int, pnr: float, path: Path, n: int) -> int:
    """Bit mask for an integer channel: bits above the next power of 2 of $PnR are dropped."""
    if not np.isfinite(pnr) or pnr <= 0:
        raise FCSError(f"{path}: TEXT keyword $P{n}R is {pnr!r}; expected a positive range")
    rng = int(pnr)
    top = 1 if rng <= 1 else 1 << (rng - 1).bit_length()
    if top < (1 << bits):
        return top - 1
    return 0


def _pne(text: dict, n: int, path: Path) -> tuple[float, float]:
    key = f"p{n}e"
    if key not in text:
        return (0.0, 0.0)
    parts = str(text[key]).split(",")
    try:
        decades, log0 = (float(x) for x in parts)
    except ValueError:
        raise FCSError(
            f"{path}: TEXT keyword $P{n}E is {text[key]!r}; expected two numbers 'decades,offset' "
            f"such as '0,0' or '4,1'"
        ) from None
    if log0 == 0 and decades != 0:
        log0 = 1.0
    return (decades, log0)


def _locate_data(path, version, header, text, offset, file_size, bytes_per_event, tot):
    """Choose the DATA offsets ``(start, end)`` (HEADER or TEXT); warn or refuse on discrepancies.

    Whether ``$PAR``, ``$TOT`` and the widths fit the chosen segment is decided by
    :func:`mrdquant.io._fcs_layout.resolve_layout`.
    """
    h = (header["data_start"], header["data_stop"])
    t = None
    if "begindata" in text or "enddata" in text:
        t = (
            _int_kw(text, "begindata", path, required=False),
            _int_kw(text, "enddata", path, required=False),
        )
        if None in t:
            t = None
    if version != "2.0" and t is None:
        raise FCSError(f"{path}: TEXT keywords $BEGINDATA/$ENDDATA are missing; they are required in FCS {version}")

    def usable(c):
        if c is None or c[0] is None or c[1] is None:
            return False
        a, b = c
        return a >= _HEADER_SIZE and b >= a - 1 and offset + a <= file_size

    def fit(c) -> int:
        """2: the offsets hold exactly $TOT events (or one byte more), 1: at least $TOT
        events inside the file, 0: they do not fit."""
        if not usable(c):
            return 0
        a, b = c
        size = b - a + 1
        avail = file_size - (offset + a)
        if tot is None:
            return 2 if size <= avail and size % bytes_per_event == 0 else 0
        need = tot * bytes_per_event
        if need > avail:
            return 0
        if size in (need, need + 1):
            return 2
        return 1 if size > need else 0

    big = h[0] == 0 and h[1] == 0 and t is not None and t[1] > _BIG_FILE
    blank = h[0] is None or h[1] is None
    if version == "2.0" or t is None:
        primary, secondary = h, t
    else:
        primary, secondary = t, h
    if t is not None and not big and not blank and h != t:
        # HEADER and TEXT disagree: read with the one that fits, warn; refuse when neither fits.
        f_p, f_s = fit(primary), fit(secondary)
        if f_p == 0 and f_s == 0:
            raise FCSError(
                f"{path}: HEADER and TEXT disagree on the DATA segment (HEADER {h[0]}-{h[1]}, TEXT "
                f"$BEGINDATA/$ENDDATA {t[0]}-{t[1]}) and neither holds $TOT={tot} events of "
                f"{bytes_per_event} bytes in the {file_size}-byte file"
            )
        use = primary if f_p >= f_s else secondary
        which = "TEXT" if use is t else "HEADER"
        warnings.warn(
            f"{path}: DATA offsets differ between HEADER ({h[0]}-{h[1]}) and TEXT "
            f"($BEGINDATA/$ENDDATA {t[0]}-{t[1]}); read with the {which} offsets, which hold "
            f"$TOT={tot} events",
            FCSWarning,
            stacklevel=4,
        )
        chosen = use
    else:
        chosen = t if (big or blank or (version != "2.0" and t is not None)) else h
        if chosen is None or chosen[0] is None:
            raise FCSError(f"{path}: HEADER DATA offsets are blank and TEXT has no $BEGINDATA/$ENDDATA")
        if not usable(chosen):
            raise FCSError(
                f"{path}: DATA segment offsets {chosen[0]}-{chosen[1]} are invalid for a "
                f"{file_size}-byte file (expected {_HEADER_SIZE} <= start <= end < file size; truncated file?)"
            )
    if blank:
        warnings.warn(
            f"{path}: HEADER DATA offsets are blank; read with the TEXT offsets "
            f"($BEGINDATA/$ENDDATA {t[0]}-{t[1]})",
            FCSWarning,
            stacklevel=4,
        )
    return chosen

"""Layout of an FCS data set: which reading of ``$PAR``, ``$TOT`` and ``$PnB`` fits its DATA.

The TEXT keywords say how many channels an event has (``$PAR``), how wide each value is
(``$PnB``, or the ``$DATATYPE`` for floating point) and how many events there are
(``$TOT``); the DATA segment offsets say how many bytes hold them. These must agree:
``$TOT`` × bytes per event = DATA bytes (one byte more is a known benign writer quirk,
read with a warning). When they do not, decoding the segment with the keywords as written
shifts every value into the wrong channel or event, so :func:`resolve_layout` refuses
with :class:`~mrdquant.errors.FCSError` naming the file and the disagreeing keywords,
unless exactly one other reading makes every number agree, where one keyword alone is
wrong:

- ``$PAR`` wrong: another channel count whose channels the TEXT describes (``$PnN``,
  ``$PnB``, ``$PnR`` present and valid) fills the DATA with exactly ``$TOT`` events;
- ``$TOT`` wrong: the DATA holds a whole number of events of ``$PAR`` channels;
- ``$PnB`` wrong: for ``$DATATYPE`` F/D the width is fixed (32/64 bits) and a ``$PnB``
  that says otherwise is read as that width when the DATA length agrees; for integer data,
  one common width (8, 16 or 32 bits) for every channel, or another width (8, 16, 24 or
  32 bits) for one channel, that fills the DATA with exactly ``$TOT`` events.

Readings that keep ``$PAR`` are only tried when the TEXT describes no channel beyond it
(keywords of channel ``$PAR``\ +1 point at ``$PAR`` instead).

That reading is then used, with an :class:`~mrdquant.errors.FCSWarning` saying which
keyword was overridden and why. Two or more fitting readings are refused (listing them).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FCSError, FCSWarning
from ._fcs_text import _float_kw, _int_kw, _mask, _pne

__all__ = ["Channel", "Layout", "describe_channels", "resolve_layout"]

#: integer widths tried when the ``$PnB`` widths do not fit the DATA segment
_INT_WIDTHS = (8, 16, 32)


@dataclass(frozen=True)
class Channel:
    """Keywords of one channel as read from TEXT."""

    name: str
    marker: str
    bits: int | None  # $PnB as written
    storage: int  # bits each value takes in DATA
    mask: int  # bit mask (integer data), 0 for none
    pnr: float
    pne: tuple  # (decades, log0); (0, 0) for floating-point data
    png: float
    float_log: str = ""  # "$PnE=..." ignored on floating-point data


@dataclass(frozen=True)
class Layout:
    """The reading used: channel count, event count, storage widths and masks."""

    n_channels: int
    n_events: int
    widths: tuple
    masks: tuple
    channels: tuple = field(repr=False)


def _channel(text: dict, n: int, kind: str, path: Path) -> Channel:
    """Keywords of channel ``n``; FCSError names the keyword that is missing or wrong."""
    if f"p{n}n" not in text:
        raise FCSError(f"{path}: TEXT keyword $P{n}N is missing")
    marker = str(text.get(f"p{n}s", ""))
    bits = _int_kw(text, f"p{n}b", path)
    pnr = _float_kw(text, f"p{n}r", path, default=float("nan"))
    if f"p{n}r" not in text:
        raise FCSError(f"{path}: TEXT keyword $P{n}R is missing; it is required")
    if kind == "I":
        if bits is None or not 0 < bits <= 32:
            raise FCSError(
                f"{path}: TEXT keyword $P{n}B is {text.get(f'p{n}b')!r}; expected 1 to 32 bits for integer data"
            )
        # widths that are not whole bytes (10-bit Beckman Coulter LMD, ...) are stored in
        # the next 8/16/32-bit word; $PnR masks the unused bits
        storage = bits if bits % 8 == 0 else next(w for w in (8, 16, 32) if w >= bits)
        mask = _mask(storage, pnr, path, n)
    else:
        storage, mask = (32 if kind == "F" else 64), 0
    pne = _pne(text, n, path)
    float_log = ""
    if kind != "I" and pne[0] > 0:
        float_log = f"$P{n}E={text[f'p{n}e']}"
        pne = (0.0, 0.0)
    return Channel(str(text[f"p{n}n"]), marker if marker.strip() else "", bits, storage, mask, pnr, pne,
                   _float_kw(text, f"p{n}g", path, default=1.0), float_log)


def describe_channels(text: dict, n_par: int, kind: str, path: Path) -> list:
    """Channels 1..``$PAR`` as TEXT describes them, plus any further channels it describes.

    A missing or invalid keyword of a channel up to ``$PAR`` raises (as it always did),
    except a missing ``$PnN`` that only means ``$PAR`` is too large: the list then stops
    there and :func:`resolve_layout` decides. Further channels (``$PnN`` beyond ``$PAR``)
    are listed while their keywords are complete and valid.
    """
    out: list = []
    n = 1
    while True:
        if f"p{n}n" not in text:
            return out
        try:
            out.append(_channel(text, n, kind, path))
        except FCSError:
            if n <= n_par:
                raise
            return out
        n += 1


def _bpe(widths) -> float:
    return sum(widths) / 8


def _width_text(widths) -> str:
    ws = sorted(set(widths))
    return f"{ws[0]}-bit values" if len(ws) == 1 else "values of " + "/".join(map(str, ws)) + " bits"


def resolve_layout(path: Path, text: dict, kind: str, n_par: int, tot: int | None, channels: list,
                   start: int, end: int, avail: int) -> Layout:
    """Choose the reading of ``$PAR``/``$TOT``/``$PnB`` that fits DATA bytes ``start``..``end``.

    Parameters
    ----------
    path : Path
    text : dict
        TEXT keywords (flowio's lower-case keys).
    kind : str
        ``$DATATYPE`` (``"I"``, ``"F"`` or ``"D"``).
    n_par : int
        ``$PAR``.
    tot : int or None
        ``$TOT`` (None when absent, FCS 2.0).
    channels : list of Channel
        :func:`describe_channels`.
    start, end : int
        DATA segment offsets (inclusive), relative to the data set.
    avail : int
        Bytes in the file from ``start`` on.

    Raises
    ------
    FCSError
        The keywords and the DATA segment disagree and no single other reading fits.
    """
    size = end - start + 1

    def layout(p: int, n: int, widths=None, masks=None) -> Layout:
        chans = tuple(channels[:p])
        return Layout(p, n, tuple(widths or [c.storage for c in chans]),
                      tuple(masks or [c.mask for c in chans]), chans)

    described = len(channels)
    declared_ok = described >= n_par
    if declared_ok:
        widths = [c.storage for c in channels[:n_par]]
        bpe = sum(widths) // 8
    if tot is None:
        if not declared_ok:
            raise FCSError(f"{path}: TEXT keyword $P{described + 1}N is missing ($PAR is {n_par})")
        if size > avail:
            raise FCSError(
                f"{path}: DATA segment ends at byte {start + size - 1} beyond the file (truncated?)"
            )
        if bpe == 0 or size % bpe:
            raise FCSError(
                f"{path}: DATA segment of {size} bytes is not a whole number of {bpe}-byte events "
                f"and $TOT is missing"
            )
        _warn_float_widths(path, kind, channels[:n_par])
        return layout(n_par, size // bpe)
    if tot < 0:
        raise FCSError(f"{path}: TEXT keyword $TOT is {tot}; expected a non-negative event count")
    beyond = any(f"p{n_par + 1}{x}" in text for x in "nbrse")  # TEXT describes a channel past $PAR
    stray_byte = False  # the declared reading with one byte after the last event
    if declared_ok:
        need = tot * bpe
        if need <= avail and size == need:
            _warn_float_widths(path, kind, channels[:n_par])
            return layout(n_par, tot)
        stray_byte = need <= avail and size == need + 1

    # The keywords do not fit the DATA segment: look for the one reading that does. A
    # reading that keeps $PAR is only considered when the TEXT describes no channel beyond
    # it (keywords of channel $PAR+1 say that $PAR, not $TOT or a width, is what is wrong).
    fits = size <= avail
    keep_par = declared_ok and not beyond
    readings: dict = {}  # (channels, events, widths) -> (description, Layout)

    def add(desc: str, lay: Layout) -> None:
        readings.setdefault((lay.n_channels, lay.n_events, lay.widths), (desc, lay))

    if fits and tot > 0:
        for p in range(1, described + 1):
            if p != n_par and tot * sum(c.storage for c in channels[:p]) == 8 * size:
                add(f"$PAR={p} instead of {n_par}: the TEXT describes {described} channel(s) ($P1N..$P{described}N) "
                    f"and the DATA segment holds exactly $TOT={tot} events of {p} channels", layout(p, tot))
    if fits and keep_par and bpe and size % bpe == 0 and size // bpe != tot:
        add(f"$TOT={size // bpe} instead of {tot}: the DATA segment holds exactly {size // bpe} events of "
            f"$PAR={n_par} channels ({bpe} bytes each)", layout(n_par, size // bpe))
    if fits and keep_par and kind == "I" and tot > 0:
        # one common width for every channel, or one channel's width
        options = [([w] * n_par, f"{w}-bit values instead of the $PnB widths ({_width_text(widths)})")
                   for w in _INT_WIDTHS]
        for i in range(n_par):
            for w in _INT_WIDTHS + (24,):
                if w != widths[i]:
                    alt = widths[:i] + [w] + widths[i + 1:]
                    options.append((alt, f"$P{i + 1}B={w} instead of {channels[i].bits}"))
        for alt, what in options:
            if alt != widths and tot * sum(alt) == 8 * size:
                masks = [_mask(w, c.pnr, path, i + 1) for i, (w, c) in enumerate(zip(alt, channels))]
                add(f"{what}: the DATA segment holds exactly $TOT={tot} events of {sum(alt) // 8} bytes",
                    layout(n_par, tot, alt, masks))
    readings = list(readings.values())
    if stray_byte:
        # a known writer quirk ($ENDDATA one byte too far): read as declared, unless that
        # byte may be data, i.e. another reading fits the segment exactly
        if not readings:
            warnings.warn(
                f"{path}: DATA end offset {end} is one byte past the last event byte {start + need - 1}; "
                f"read anyway",
                FCSWarning,
                stacklevel=4,
            )
            _warn_float_widths(path, kind, channels[:n_par])
            return layout(n_par, tot)
        readings.append((f"the keywords as written, with one stray byte after the {tot} events",
                         layout(n_par, tot)))
    if len(readings) == 1:
        desc, chosen = readings[0]
        warnings.warn(
            f"{path}: {_disagreement(n_par, tot, described, channels, size, start, end, avail)}; the only "
            f"reading that fits is {desc}; read that way",
            FCSWarning,
            stacklevel=4,
        )
        _warn_float_widths(path, kind, chosen.channels)
        return chosen
    why = _disagreement(n_par, tot, described, channels, size, start, end, avail)
    if readings:
        raise FCSError(
            f"{path}: {why}; several readings fit ({'; '.join(d for d, _ in readings)}), so the events "
            f"cannot be decoded without guessing"
        )
    if not declared_ok:
        raise FCSError(f"{path}: TEXT keyword $P{described + 1}N is missing ($PAR is {n_par}); {why}, and no "
                       f"other reading of $PAR, $TOT and $PnB fits it")
    bad_bits = [f"$P{i}B={c.bits}" for i, c in enumerate(channels[:n_par], start=1)
                if kind != "I" and c.bits != c.storage]
    if bad_bits:
        raise FCSError(f"{path}: TEXT keyword {', '.join(bad_bits)}; expected {channels[0].storage} for "
                       f"$DATATYPE={kind} ({why})")
    raise FCSError(f"{path}: {why}; no other reading of $PAR, $TOT and $PnB fits it")


def _disagreement(n_par, tot, described, channels, size, start, end, avail) -> str:
    """The keywords and the DATA segment, said once for warnings and errors."""
    if described >= n_par:
        widths = [c.storage for c in channels[:n_par]]
        bpe = sum(widths) // 8
        need = tot * bpe
        head = (f"TEXT keywords $PAR={n_par} channels ({_width_text(widths)} by $PnB/$DATATYPE: {bpe} bytes per "
                f"event) x $TOT={tot} events need {need} bytes")
    else:
        head = (f"TEXT keyword $PAR={n_par}, but the TEXT describes only {described} channel(s) "
                f"($P{described + 1}N is missing), with $TOT={tot} events")
    tail = f", but the DATA segment ({start}-{end}) holds {size} bytes"
    if size > avail:
        tail += f" and the file has only {avail} bytes from the DATA start (truncated?)"
    elif described >= n_par and need > avail:
        tail += f" (the file has only {avail} bytes from the DATA start: truncated?)"
    return head + tail


def _warn_float_widths(path: Path, kind: str, chans) -> None:
    """A floating-point file whose $PnB disagrees with $DATATYPE but whose DATA length agrees."""
    bad = [f"$P{i}B={c.bits}" for i, c in enumerate(chans, start=1) if kind != "I" and c.bits != c.storage]
    if bad:
        warnings.warn(
            f"{path}: TEXT keyword {', '.join(bad)} disagrees with $DATATYPE={kind}, which stores "
            f"{chans[0].storage}-bit values; the DATA segment holds $TOT events of {chans[0].storage}-bit values, "
            f"so they are read that way",
            FCSWarning,
            stacklevel=5,
        )

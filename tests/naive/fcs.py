"""Slow references for the FCS reader: pure-Python preprocessing and integer decoding."""

from __future__ import annotations


def preprocess_value(x: float, decades: float, pnr: float, log0: float, gain: float) -> float:
    """One value through FCS preprocessing ($PnE log linearisation, then $PnG)."""
    v = float(x)
    if decades > 0:
        try:
            v = (10 ** (decades * v / pnr)) * log0
        except OverflowError:  # IEEE arithmetic gives +inf
            v = float("inf") * log0
    if gain != 1.0 and gain != 0:
        v = v / gain
    return v


def decode_ints(data: bytes, widths: list[int], ranges: list[int], big_endian: bool) -> list[list[int]]:
    """Decode list-mode integer DATA event by event; bits above next_pow2($PnR) dropped."""
    out = []
    pos = 0
    nbytes = [w // 8 for w in widths]
    per_event = sum(nbytes)
    while pos + per_event <= len(data):
        row = []
        for nb, rng in zip(nbytes, ranges):
            chunk = data[pos : pos + nb]
            pos += nb
            v = int.from_bytes(chunk, "big" if big_endian else "little")
            top = 1
            while top < rng:
                top *= 2
            if top < 2 ** (8 * nb):
                v %= top
            row.append(v)
        out.append(row)
    return out


def pack_ints(rows: list[list[int]], widths: list[int], big_endian: bool) -> bytes:
    """Inverse of :func:`decode_ints` without masking (for building test files)."""
    out = bytearray()
    for row in rows:
        for v, w in zip(row, widths):
            out += int(v).to_bytes(w // 8, "big" if big_endian else "little")
    return bytes(out)




def build_fcs(
    text: dict[str, str],
    data: bytes,
    *,
    version: str = "3.0",
    header_data: tuple[str, str] | None = None,
    text_data: tuple[int, int] | None = None,
    delimiter: str = "/",
) -> bytes:
    """Assemble an FCS file byte by byte, independently of any FCS library.

    ``text`` holds keywords without ``$BEGINDATA``/``$ENDDATA`` (added for 3.x) and
    without ``$NEXTDATA`` (added as 0 unless given). ``header_data`` overrides the
    HEADER DATA offset fields (8-character strings); ``text_data`` overrides the TEXT
    DATA offsets (begin, end).
    """
    text_start = 58
    kw = dict(text)
    kw.setdefault("$NEXTDATA", "0")

    def render(begin: int, end: int) -> bytes:
        items = dict(kw)
        if version != "2.0":
            items["$BEGINDATA"] = f"{begin:010d}"
            items["$ENDDATA"] = f"{end:010d}"
        body = delimiter
        for k, v in items.items():
            body += k.replace(delimiter, delimiter * 2) + delimiter + str(v).replace(delimiter, delimiter * 2) + delimiter
        return body.encode("latin-1")

    probe = render(0, 0)
    data_start = text_start + len(probe)
    data_end = data_start + len(data) - 1
    begin, end = text_data if text_data is not None else (data_start, data_end)
    body = render(begin, end)
    assert len(body) == len(probe)
    text_end = text_start + len(body) - 1
    hd = header_data if header_data is not None else (f"{data_start:>8}", f"{data_end:>8}")
    header = f"FCS{version}    {text_start:>8}{text_end:>8}{hd[0]:>8}{hd[1]:>8}{0:>8}{0:>8}".encode("ascii")
    assert len(header) == 58
    return header + body + data


def int_text(
    n_events: int,
    widths: list[int],
    ranges: list[int],
    names: list[str],
    *,
    big_endian: bool = False,
    extra: dict | None = None,
) -> dict[str, str]:
    """TEXT keywords for an integer list-mode data set."""
    text = {
        "$BYTEORD": "4,3,2,1" if big_endian else "1,2,3,4",
        "$DATATYPE": "I",
        "$MODE": "L",
        "$PAR": str(len(widths)),
        "$TOT": str(n_events),
    }
    for i, (w, r, name) in enumerate(zip(widths, ranges, names), start=1):
        text[f"$P{i}N"] = name
        text[f"$P{i}B"] = str(w)
        text[f"$P{i}R"] = str(r)
        text[f"$P{i}E"] = "0,0"
    text.update(extra or {})
    return text


__all__ = ["preprocess_value", "decode_ints", "pack_ints", "build_fcs", "int_text"]

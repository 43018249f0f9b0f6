"""DATA segment of FCS files: decoding into the event matrix, and preprocessing.

Decoding reads straight into the final matrix (float32 for ``$DATATYPE=F``, float64
otherwise) in blocks, so memory stays close to the size of the events themselves.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FCSError, FCSWarning


@dataclass(frozen=True)
class _DataPlan:
    """Everything needed to decode the DATA segment again (for ``raw_events``)."""

    offset: int  # absolute byte offset of the first event
    n_events: int
    n_channels: int
    kind: str  # "F", "D" or "I"
    order: str  # "<" or ">"
    widths: tuple[int, ...]  # bits per channel
    masks: tuple[int, ...]  # bit mask per channel, 0 for none


def _decode(path: Path, plan: _DataPlan) -> np.ndarray:
    """Decode the DATA segment into a new C-contiguous matrix (float32 for F, else float64)."""
    n, p = plan.n_events, plan.n_channels
    try:
        with open(path, "rb") as fh:
            fh.seek(plan.offset)
            if plan.kind in ("F", "D"):
                dtype = np.dtype(plan.order + ("f4" if plan.kind == "F" else "f8"))
                out = np.fromfile(fh, dtype=dtype, count=n * p)
                if out.size != n * p:
                    raise FCSError(f"{path}: DATA segment ended after {out.size} of {n * p} values (truncated?)")
                if dtype.byteorder not in ("=", "|") and dtype != dtype.newbyteorder("="):
                    out = out.byteswap(inplace=True).view(dtype.newbyteorder("="))
                return out.reshape(n, p)
            return _decode_int(fh, path, plan)
    except OSError as exc:
        raise FCSError(f"{path}: DATA segment cannot be read ({exc.strerror or exc})") from exc


def _decode_int(fh, path: Path, plan: _DataPlan) -> np.ndarray:
    n, p = plan.n_events, plan.n_channels
    widths = plan.widths
    out = np.empty((n, p), dtype=np.float64)
    if n == 0:
        return out
    if len(set(widths)) == 1 and widths[0] in (8, 16, 32):
        w = widths[0]
        dtype = np.dtype(plan.order + {8: "u1", 16: "u2", 32: "u4"}[w])
        # decode in blocks so the integer buffer stays small next to ``out``
        rows = max(1, (1 << 22) // max(1, p * (w // 8)))
        masks = np.array([m if m else (1 << w) - 1 for m in plan.masks], dtype=dtype.newbyteorder("="))
        need_mask = any(plan.masks)
        for r0 in range(0, n, rows):
            r1 = min(n, r0 + rows)
            block = np.fromfile(fh, dtype=dtype, count=(r1 - r0) * p)
            if block.size != (r1 - r0) * p:
                raise FCSError(f"{path}: DATA segment ended early at event {r0 + block.size // p} of {n} (truncated?)")
            block = block.reshape(r1 - r0, p).astype(dtype.newbyteorder("="), copy=False)
            if need_mask:
                block = block & masks
            out[r0:r1] = block
        return out
    # mixed or 24-bit widths: byte-level decode per channel
    bpe = sum(widths) // 8
    rows = max(1, (1 << 22) // bpe)
    for r0 in range(0, n, rows):
        r1 = min(n, r0 + rows)
        buf = np.fromfile(fh, dtype=np.uint8, count=(r1 - r0) * bpe)
        if buf.size != (r1 - r0) * bpe:
            raise FCSError(f"{path}: DATA segment ended early at event {r0 + buf.size // bpe} of {n} (truncated?)")
        buf = buf.reshape(r1 - r0, bpe)
        col = 0
        for j, w in enumerate(widths):
            nb = w // 8
            b = buf[:, col : col + nb].astype(np.uint64)
            if plan.order == ">":
                b = b[:, ::-1]
            val = np.zeros(r1 - r0, dtype=np.uint64)
            for k in range(nb):
                val |= b[:, k] << np.uint64(8 * k)
            if plan.masks[j]:
                val &= np.uint64(plan.masks[j])
            out[r0:r1, j] = val
            col += nb
    return out


def _time_index(channels: list) -> int | None:
    idx = None
    for i, c in enumerate(channels):
        if c.lower() == "time":
            idx = i
    return idx


def _preprocess_inplace(
    events: np.ndarray, channels: list, text: dict, pne: list, png: list, pnr: list, path: Path
) -> None:
    """flowio's ``as_array(preprocess=True)``, in place, in float64 arithmetic.

    ``events`` is float64 for integer data, so each step is exact IEEE arithmetic on the
    same values as flowio's; for float32 data the float64 result is rounded to float32.
    """
    t_idx = _time_index(channels)
    if "timestep" in text and t_idx is not None:
        raw = str(text["timestep"])
        step = 1.0
        if raw.strip():
            try:
                step = float(raw)
            except ValueError:
                warnings.warn(
                    f"{path}: TEXT keyword $TIMESTEP is {raw!r}, not a number (seconds); "
                    f"the time channel is left in ticks",
                    FCSWarning,
                    stacklevel=3,
                )
        if step != 1.0:
            events[:, t_idx] = events[:, t_idx].astype(np.float64) * step
    for i, ((decades, log0), gain, rng) in enumerate(zip(pne, png, pnr)):
        if i == t_idx:
            gain = 1.0
        if decades > 0 and events.shape[0]:
            from ._fcs_kernels import _log_linearise

            _log_linearise(events, i, float(decades), float(rng), float(log0))
        if gain != 1.0 and gain != 0:
            events[:, i] = events[:, i].astype(np.float64) / gain

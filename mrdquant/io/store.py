"""Atomic output: nothing half-written is ever left behind.

Every file mrdquant writes goes through :func:`atomic_path` (write to a temporary file in
the same folder, then ``os.replace``), so an interrupted run leaves either the previous
file or the complete new one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

import pandas as pd

from ..errors import InputError

__all__ = ["atomic_path", "write_table", "write_text", "read_table"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success.

    Examples
    --------
    >>> with atomic_path(out / "counts.csv") as tmp:      # doctest: +SKIP
    ...     df.to_csv(tmp)
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600 files; give the output the permissions a plain open() would
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_table(df: pd.DataFrame, path: str | os.PathLike, *, index: bool = False) -> Path:
    """Write a DataFrame atomically as CSV (``.csv``, ``.tsv``) or Parquet (``.parquet``).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    with atomic_path(target) as tmp:
        if suffix == ".parquet":
            df.to_parquet(tmp, index=index)
        elif suffix == ".tsv":
            df.to_csv(tmp, sep="\t", index=index)
        elif suffix == ".csv":
            df.to_csv(tmp, index=index)
        else:
            raise InputError(
                f"{target}: cannot write a table with suffix {suffix!r}; expected .csv, .tsv or .parquet"
            )
    return target


def write_text(text: str, path: str | os.PathLike) -> Path:
    """Write text atomically (UTF-8)."""
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV/TSV/Parquet table, raising :class:`InputError` naming the file on failure."""
    source = Path(path)
    suffix = source.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(source)
        if suffix == ".tsv":
            return pd.read_csv(source, sep="\t")
        return pd.read_csv(source)
    except FileNotFoundError as exc:
        raise InputError(f"{source}: file not found") from exc
    except Exception as exc:  # pandas/pyarrow raise many types
        raise InputError(f"{source}: cannot be read as a table ({exc})") from exc

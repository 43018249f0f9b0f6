"""Gating many samples: one bad file is reported, the others finish.

:func:`gate_many` runs a compiled strategy over many samples or FCS paths (serially, on
threads, or on any ``concurrent.futures`` executor); a sample whose reading or gating
raises a package error or ``OSError`` becomes a :class:`GatingFailure` and the others are
still gated. :class:`GatingBatch` gathers the results, the failures and both tables.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

import pandas as pd

from ..errors import GatingError, MrdquantError
from ._gating_engine import _default_id
from .gating_result import COUNTS_COLUMNS, GatingResult

__all__ = ["GatingBatch", "GatingFailure", "ERRORS_COLUMNS", "gate_one", "gate_many"]

#: column order of :attr:`GatingBatch.errors`
ERRORS_COLUMNS = ["sample_id", "path", "error_type", "error"]


@dataclass(frozen=True)
class GatingFailure:
    """A sample that could not be read or gated."""

    sample_id: str
    path: str
    error: BaseException

    def record(self) -> dict:
        return {"sample_id": self.sample_id, "path": self.path, "error_type": type(self.error).__name__,
                "error": str(self.error)}


@dataclass(frozen=True)
class GatingBatch:
    """Results of :meth:`GatingStrategy.gate_many`."""

    results: list
    failures: list

    def counts(self) -> pd.DataFrame:
        """Counts of every successful sample, concatenated (see :meth:`GatingResult.counts`)."""
        if not self.results:
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
                COUNTS_COLUMNS, ["object", "object", "object", "object", "int64", "float64", "float64"])})
        return pd.concat([r.counts() for r in self.results], ignore_index=True)

    @property
    def errors(self) -> pd.DataFrame:
        """One row per failed sample: ``sample_id``, ``path``, ``error_type``, ``error``."""
        return pd.DataFrame([f.record() for f in self.failures], columns=ERRORS_COLUMNS)


def gate_one(strategy, sample, sample_id: Optional[str]):
    """``strategy.gate(sample)``, or a :class:`GatingFailure` when reading or gating fails."""
    try:
        return strategy.gate(sample, sample_id=sample_id)
    except (MrdquantError, OSError) as exc:
        path = str(sample) if isinstance(sample, (str, os.PathLike)) else str(getattr(sample, "path", "") or "")
        return GatingFailure(sample_id=sample_id or _default_id(sample), path=path, error=exc)


def gate_many(strategy, samples: Iterable, *, n_jobs: int = 1,
              sample_ids: Optional[Sequence[str]] = None, executor=None) -> GatingBatch:
    """Gate many samples with a compiled strategy (see :meth:`GatingStrategy.gate_many`)."""
    items = list(samples)
    ids = list(sample_ids) if sample_ids is not None else [None] * len(items)
    if len(ids) != len(items):
        raise GatingError(f"sample_ids: {len(ids)} ids for {len(items)} samples")
    one = strategy._gate_one  # a bound method: pickled with the strategy for process/dask executors
    if executor is not None:
        out = list(executor.map(one, items, ids))
    elif n_jobs is None or n_jobs <= 1:
        out = [one(s, i) for s, i in zip(items, ids)]
    else:
        with ThreadPoolExecutor(max_workers=int(n_jobs)) as ex:
            out = list(ex.map(one, items, ids))
    return GatingBatch(
        results=[r for r in out if isinstance(r, GatingResult)],
        failures=[r for r in out if isinstance(r, GatingFailure)],
    )

"""Study folders: one ``study.toml`` naming a lab's inputs, and the runner that takes
every input through flow -> qPCR -> sample calls -> timelines -> outcomes -> report.

- :mod:`mrdquant.study.config`: read and check ``study.toml`` (:func:`load_study`);
- :mod:`mrdquant.study.tasks`: the per-file work (one FCS file, one qPCR plate), run
  locally or on dask.distributed workers;
- :mod:`mrdquant.study.progress`: progress display (rich bar on a terminal, plain lines
  in a log);
- :mod:`mrdquant.study.runner`: :func:`run_study`.
"""

from __future__ import annotations

from .config import Study, load_study
from .runner import RunSummary, run_study

__all__ = ["Study", "load_study", "run_study", "RunSummary"]

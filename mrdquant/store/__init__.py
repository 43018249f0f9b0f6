"""The results store: every result mrdquant computes for a study, with its provenance.

:class:`ResultsStore` (module :mod:`mrdquant.store.results`) keeps runs, inputs, per-file
MFC and WT1 results, sample calls, patient timelines and errors in an SQL database through
SQLAlchemy: an embedded SQLite file by default, PostgreSQL by URL for a shared lab server.
The table definitions are in :mod:`mrdquant.store.schema`.
"""

from __future__ import annotations

from .results import ResultsStore, open_store, store_url
from .schema import TABLES

__all__ = ["ResultsStore", "open_store", "store_url", "TABLES"]

"""Tables of the results store (SQLAlchemy Core).

Every result row carries its provenance: the run that computed it, the input file's
SHA-256, the parameter hash (panel/strategy, profile, thresholds), the mrdquant version
and a UTC timestamp. Rows are only ever added: a rerun with changed parameters writes new
rows under a new run and leaves the old ones as they were.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from ..calls.sample import SAMPLE_COLUMNS
from ..calls.timeline import TIMELINE_COLUMNS
from ..cytometry.laip import MRD_TABLE_COLUMNS
from ..mfc.laip_dfn import DFN_ROW_COLUMNS
from ..mfc.quantify import RESULT_COLUMNS as _MFC_ROW_COLUMNS
from ..pcr.quantify import RESULT_COLUMNS

__all__ = ["metadata", "TABLES", "PROVENANCE_COLUMNS", "MFC_COLUMNS", "DFN_COLUMNS", "result_columns"]

#: result columns of ``mfc_results``: ``MfcResult.to_row()`` (panel gating with
#: :func:`mrdquant.quantify_mfc`) followed by the gate names of a Gating-ML strategy run
#: (:func:`mrdquant.quantify_mrd_table`); a row fills the columns its method produces
MFC_COLUMNS = list(_MFC_ROW_COLUMNS) + [c for c in MRD_TABLE_COLUMNS if c not in _MFC_ROW_COLUMNS]

#: result columns of ``dfn_results`` (a ``[flow]`` with a normal-marrow ``reference``): the
#: DfN result and the integrated LAIP ∪ DfN call (``LaipDfnResult.to_row()``), then the
#: DfN populations of the file as JSON records
DFN_COLUMNS = list(DFN_ROW_COLUMNS) + ["populations"]

metadata = MetaData()

#: numeric result columns (stored as floating point; NaN/None is NULL)
_FLOAT = {
    "laip_events", "denominator_events", "mrd_fraction", "mrd_pct", "sensitivity", "lod_events", "lloq_events",
    "min_denominator", "threshold_pct", "wt1_copies", "abl1_copies", "wt1_ct_mean", "abl1_ct_mean", "wt1_ct_sd",
    "abl1_ct_sd", "wt1_replicates", "abl1_replicates", "wt1_pct_abl1", "wt1_per_1e4_abl1", "threshold",
    "min_abl1", "days_from_hsct", "mfc_pct", "wt1_pct", "days_to_first_positive", "days_to_confirmed",
    "n_positive_samples", "n_evaluable_samples", "days_to_negativity", "days_to_reemergence",
    "confirmation_window_days", "window_after_hsct_days", "onset_boundary_days", "level_high_mfc_pct",
    "level_high_wt1_pct", "positive_methods_n", "n_events", "qc_events_out",
    "dfn_events", "dfn_novel_events", "dfn_populations", "dfn_mrd_pct", "dfn_sensitivity", "both_events",
    "laip_only_events", "dfn_only_events", "integrated_events", "integrated_mrd_pct", "integrated_sensitivity",
}
_BOOL = {"detected", "complete"}


def _typed(name: str) -> Column:
    if name in _FLOAT:
        return Column(name, Float)
    if name in _BOOL:
        return Column(name, Boolean)
    return Column(name, Text)


#: provenance columns every result row carries
PROVENANCE_COLUMNS = ["run_id", "input_id", "input_sha256", "params_hash", "parameters", "mrdquant_version",
                      "created_at"]


def _provenance(with_input: bool) -> list[Column]:
    cols = [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("run_id", Integer, ForeignKey("runs.run_id"), nullable=False, index=True),
    ]
    if with_input:
        cols += [
            Column("input_id", Integer, ForeignKey("inputs.input_id"), nullable=False, index=True),
            Column("input_sha256", String(64), nullable=False),
        ]
    cols += [
        Column("params_hash", String(64), nullable=False),
        Column("parameters", Text, nullable=False),
        Column("mrdquant_version", String(40), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    ]
    return cols


runs = Table(
    "runs",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("study", Text, nullable=False),
    Column("params_hash", String(64), nullable=False, index=True),
    Column("parameters", Text, nullable=False),
    Column("profile_id", Text, nullable=False),
    Column("profile_hash", String(64), nullable=False),
    Column("mrdquant_version", String(40), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(20), nullable=False),
    Column("n_inputs", Integer),
    Column("n_processed", Integer),
    Column("n_skipped", Integer),
    Column("n_failed", Integer),
)

inputs = Table(
    "inputs",
    metadata,
    Column("input_id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.run_id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", Integer),
    Column("params_hash", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("mrdquant_version", String(40), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False),
    Index("ix_inputs_identity", "kind", "path", "sha256", "params_hash"),
)

mfc_results = Table(
    "mfc_results",
    metadata,
    *_provenance(True),
    Column("panel_id", Text),
    Column("panel_hash", String(64)),
    Column("profile_hash", String(64)),
    *[_typed(c) for c in MFC_COLUMNS if c not in PROVENANCE_COLUMNS + ["panel_id", "panel_hash"]],
)

dfn_results = Table(
    "dfn_results",
    metadata,
    *_provenance(True),
    Column("panel_hash", String(64)),
    Column("profile_hash", String(64)),
    *[_typed(c) for c in DFN_COLUMNS if c not in PROVENANCE_COLUMNS + ["panel_hash"]],
)

wt1_results = Table(
    "wt1_results",
    metadata,
    *_provenance(True),
    Column("profile_hash", String(64)),
    *[_typed(c) for c in RESULT_COLUMNS if c not in PROVENANCE_COLUMNS],
)

sample_calls = Table(
    "sample_calls",
    metadata,
    *_provenance(False),
    *[_typed(c) for c in SAMPLE_COLUMNS if c not in PROVENANCE_COLUMNS],
)

timelines = Table(
    "timelines",
    metadata,
    *_provenance(False),
    *[_typed(c) for c in TIMELINE_COLUMNS if c not in PROVENANCE_COLUMNS],
)

errors = Table(
    "errors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.run_id"), nullable=False, index=True),
    Column("input_id", Integer, ForeignKey("inputs.input_id")),
    Column("kind", String(20), nullable=False),
    Column("path", Text, nullable=False),
    Column("input_sha256", String(64)),
    Column("params_hash", String(64)),
    Column("stage", String(40), nullable=False),
    Column("error_type", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("mrdquant_version", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: table name -> Table, in creation order
TABLES = {t.name: t for t in (runs, inputs, mfc_results, dfn_results, wt1_results, sample_calls, timelines,
                               errors)}


def result_columns(table: str) -> list[str]:
    """The result (non-provenance) columns of a result table, in order."""
    return {
        "mfc_results": MFC_COLUMNS,
        "dfn_results": DFN_COLUMNS,
        "wt1_results": RESULT_COLUMNS,
        "sample_calls": SAMPLE_COLUMNS,
        "timelines": TIMELINE_COLUMNS,
    }[table]

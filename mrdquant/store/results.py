"""Open a results store and read and write it, one transaction per input.

The coordinating process is the only writer: workers compute, the coordinator commits.
Each input's rows (its ``inputs`` row, its result rows or its ``errors`` row) go in one
transaction, so a process killed at any moment leaves every input either fully recorded
or not at all.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from .._version import __version__
from ..errors import ConfigError
from . import schema

__all__ = ["ResultsStore", "open_store", "store_url", "utcnow"]


def utcnow() -> datetime:
    """The current time, UTC, timezone-aware."""
    return datetime.now(timezone.utc)


def store_url(store: "str | os.PathLike") -> str:
    """An SQLAlchemy URL for ``store``: a URL as given, a path as an SQLite file URL."""
    text = os.fspath(store)
    if "://" in text:
        if text.startswith("postgresql://"):  # the driver mrdquant[postgresql] installs
            text = "postgresql+psycopg://" + text[len("postgresql://"):]
        return text
    return f"sqlite:///{Path(text).resolve()}"


def _plain(value: Any) -> Any:
    """A value a database driver accepts: numpy scalars unboxed, NaN/NaT -> None, dates ISO."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _cell(column, value: Any) -> Any:
    value = _plain(value)
    if value is None:
        return None
    kind = type(column.type).__name__
    if kind == "Float":
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if kind == "Boolean":
        return bool(value)
    if kind in ("Text", "String"):
        return str(value)
    return value


def _hide_password(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages)."""
    import re

    return re.sub(r"(://[^:/@]+:)[^@/]*@", r"\1***@", url)


class ResultsStore:
    """A results store (SQLite file or server database) opened through SQLAlchemy.

    Parameters
    ----------
    url : str
        SQLAlchemy URL (``sqlite:////abs/path.sqlite``, ``postgresql+psycopg://...``); see
        :func:`store_url` to turn a path or ``postgresql://`` URL into one.

    The tables (:data:`mrdquant.store.schema.TABLES`) are created when missing.
    """

    def __init__(self, url: str):
        from sqlalchemy import create_engine, event
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

        self.url = url
        try:
            self.engine = create_engine(url, future=True)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise ConfigError(f"store {_hide_password(url)!r}: cannot open this database URL ({exc})") from exc
        if self.engine.dialect.name == "sqlite":
            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivially exercised
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA synchronous=FULL")
                cur.close()
        try:
            schema.metadata.create_all(self.engine)
        except OperationalError as exc:
            raise ConfigError(f"store {self.display}: cannot open or create the database ({exc.orig})") from exc

    @property
    def display(self) -> str:
        """The URL with any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def __enter__(self) -> "ResultsStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def exclusive(self, key: str):
        """Hold the store's run lock for ``key`` (e.g. the study path) while the block runs.

        One ``mrdquant run`` per study and store at a time: a second one would process the
        same inputs twice. SQLite: an ``flock`` on ``<database>.lock`` (POSIX); PostgreSQL:
        a session advisory lock. A held lock raises :class:`ConfigError` at once.
        """
        import hashlib

        if self.engine.dialect.name == "postgresql":
            from sqlalchemy import text

            lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
            with self.engine.connect() as conn:
                if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_id}).scalar():
                    raise ConfigError(f"store {self.display}: another mrdquant run is processing {key}")
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_id})
                    conn.commit()
            return
        database = self.engine.url.database
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            fcntl = None
        if fcntl is None or not database or database == ":memory:":
            yield
            return
        lock_path = Path(database + ".lock")
        with open(lock_path, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                raise ConfigError(f"store {database}: another mrdquant run is using it ({lock_path} is locked)") from exc
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- runs ------------------------------------------------------------------------------
    def start_run(self, *, study: str, params_hash: str, parameters: Mapping, profile_id: str,
                  profile_hash: str) -> int:
        """Record the start of a run; returns its ``run_id``."""
        with self.engine.begin() as conn:
            res = conn.execute(
                schema.runs.insert().values(
                    study=study, params_hash=params_hash, parameters=json.dumps(parameters, sort_keys=True),
                    profile_id=profile_id, profile_hash=profile_hash, mrdquant_version=__version__,
                    started_at=utcnow(), status="running",
                )
            )
            return int(res.inserted_primary_key[0])

    def finish_run(self, run_id: int, *, status: str, n_inputs: int, n_processed: int, n_skipped: int,
                   n_failed: int) -> None:
        """Record the end of a run with its counts."""
        with self.engine.begin() as conn:
            conn.execute(
                schema.runs.update().where(schema.runs.c.run_id == run_id).values(
                    finished_at=utcnow(), status=status, n_inputs=n_inputs, n_processed=n_processed,
                    n_skipped=n_skipped, n_failed=n_failed,
                )
            )

    # -- inputs ----------------------------------------------------------------------------
    def find_input(self, kind: str, path: str, sha256: str, params_hash: str) -> dict | None:
        """The latest ``inputs`` row of this file content with these parameters, or None."""
        from sqlalchemy import select

        t = schema.inputs
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t).where(t.c.kind == kind, t.c.path == path, t.c.sha256 == sha256,
                                t.c.params_hash == params_hash).order_by(t.c.input_id.desc()).limit(1)
            ).mappings().first()
        return dict(row) if row else None

    def record_input(self, run_id: int, *, kind: str, path: str, sha256: str, size_bytes: int, params_hash: str,
                     parameters: Mapping, results: Mapping[str, pd.DataFrame] | None = None,
                     extra: Mapping[str, Any] | None = None, error: tuple[str, str, str] | None = None) -> int:
        """Record one input and its results (or its error) in one transaction.

        Parameters
        ----------
        results : mapping table name -> DataFrame, optional
            Result rows for ``mfc_results`` / ``wt1_results`` (their result columns).
        extra : mapping, optional
            Values for provenance columns of the result tables (``panel_id``, ``panel_hash``,
            ``profile_hash``).
        error : (stage, error_type, reason), optional
            The input failed: an ``errors`` row is written instead of results.

        Returns
        -------
        int
            The new ``input_id``.
        """
        now = utcnow()
        params_json = json.dumps(parameters, sort_keys=True)
        with self.engine.begin() as conn:
            res = conn.execute(
                schema.inputs.insert().values(
                    run_id=run_id, kind=kind, path=path, sha256=sha256, size_bytes=int(size_bytes),
                    params_hash=params_hash, status="failed" if error else "done", mrdquant_version=__version__,
                    processed_at=now,
                )
            )
            input_id = int(res.inserted_primary_key[0])
            if error:
                stage, etype, reason = error
                conn.execute(
                    schema.errors.insert().values(
                        run_id=run_id, input_id=input_id, kind=kind, path=path, input_sha256=sha256,
                        params_hash=params_hash, stage=stage, error_type=etype, reason=reason,
                        mrdquant_version=__version__, created_at=now,
                    )
                )
                return input_id
            for name, frame in (results or {}).items():
                prov = dict(run_id=run_id, input_id=input_id, input_sha256=sha256, params_hash=params_hash,
                            parameters=params_json, mrdquant_version=__version__, created_at=now)
                self._insert_frame(conn, name, frame, prov, extra or {})
        return input_id

    def record_error(self, run_id: int, *, kind: str, path: str, stage: str, error_type: str, reason: str) -> None:
        """Record an error that belongs to no single input (e.g. a study-level stage)."""
        with self.engine.begin() as conn:
            conn.execute(
                schema.errors.insert().values(
                    run_id=run_id, kind=kind, path=path, stage=stage, error_type=error_type, reason=reason,
                    mrdquant_version=__version__, created_at=utcnow(),
                )
            )

    def record_study_tables(self, run_id: int, *, params_hash: str, parameters: Mapping,
                            tables: Mapping[str, pd.DataFrame]) -> None:
        """Write study-level tables (``sample_calls``, ``timelines``) of a run in one transaction."""
        prov = dict(run_id=run_id, params_hash=params_hash, parameters=json.dumps(parameters, sort_keys=True),
                    mrdquant_version=__version__, created_at=utcnow())
        with self.engine.begin() as conn:
            for name, frame in tables.items():
                self._insert_frame(conn, name, frame, prov, {})

    @staticmethod
    def _insert_frame(conn, name: str, frame: pd.DataFrame, prov: Mapping, extra: Mapping) -> None:
        table = schema.TABLES[name]
        wanted = [c for c in table.columns if c.name not in ("id",)]
        rows = []
        for rec in frame.to_dict(orient="records"):
            row = {}
            for col in wanted:
                if col.name in prov:
                    row[col.name] = prov[col.name]
                elif col.name in extra:
                    row[col.name] = extra[col.name]
                elif col.name in rec:
                    row[col.name] = _cell(col, rec[col.name])
            rows.append(row)
        if rows:
            conn.execute(table.insert(), rows)

    # -- reading ---------------------------------------------------------------------------
    def results_for(self, table: str, input_ids: Iterable[int]) -> pd.DataFrame:
        """Result rows of ``table`` for these input ids (in input order), result columns first."""
        from sqlalchemy import select

        ids = [int(i) for i in input_ids]
        t = schema.TABLES[table]
        frames = []
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                frames.append(pd.read_sql(select(t).where(t.c.input_id.in_(chunk)).order_by(t.c.id), conn))
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[c.name for c in t.columns])
        order = {i: k for k, i in enumerate(ids)}
        df = df.sort_values(["input_id", "id"], key=lambda s: s.map(order) if s.name == "input_id" else s,
                            kind="stable").reset_index(drop=True)
        cols = schema.result_columns(table)
        return df[cols + [c for c in df.columns if c not in cols]]

    def latest_study_rows(self, table: str, params_hash: str) -> pd.DataFrame | None:
        """The rows of ``table`` written by the latest run with ``params_hash`` (None if none)."""
        from sqlalchemy import func, select

        t = schema.TABLES[table]
        with self.engine.connect() as conn:
            run_id = conn.execute(select(func.max(t.c.run_id)).where(t.c.params_hash == params_hash)).scalar()
            if run_id is None:
                return None
            return pd.read_sql(select(t).where(t.c.run_id == run_id).order_by(t.c.id), conn)

    def table(self, name: str, *, run_id: int | None = None) -> pd.DataFrame:
        """A whole table as a DataFrame (optionally one run's rows)."""
        from sqlalchemy import select

        if name not in schema.TABLES:
            raise ConfigError(f"unknown store table {name!r}; tables: {list(schema.TABLES)}")
        t = schema.TABLES[name]
        query = select(t)
        if run_id is not None:
            query = query.where(t.c.run_id == int(run_id))
        with self.engine.connect() as conn:
            return pd.read_sql(query.order_by(*t.primary_key.columns), conn)


def open_store(store: "str | os.PathLike") -> ResultsStore:
    """Open (creating if needed) the store at a path (SQLite) or URL (e.g. PostgreSQL)."""
    text = os.fspath(store)
    if "://" not in text:
        folder = Path(text).resolve().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"store {text}: cannot create the folder {folder} ({exc.strerror})") from exc
    return ResultsStore(store_url(text))

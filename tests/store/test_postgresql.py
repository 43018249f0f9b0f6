"""The results store on a real PostgreSQL server.

Set ``MRDQUANT_TEST_POSTGRESQL_URL`` (``postgresql://user:password@host:port/database``) to
run these; ``.ci/run`` installs and starts Debian's ``postgresql`` and sets it where it
can. Each test session works in a schema of its own, dropped at the end.
"""

from __future__ import annotations

import json
import os
import uuid
from urllib.parse import quote

import pandas as pd
import pytest

URL_ENV = "MRDQUANT_TEST_POSTGRESQL_URL"


@pytest.fixture(scope="module")
def pg_url():
    url = os.environ.get(URL_ENV)
    if not url:
        pytest.skip(f"no PostgreSQL server: set {URL_ENV} (.ci/run starts Debian's postgresql and sets it)")
    pytest.importorskip("psycopg", reason="the PostgreSQL driver is in mrdquant[postgresql]")
    from sqlalchemy import create_engine, text

    from mrdquant.store import store_url

    schema = f"mrdquant_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(store_url(url))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    yield f"{url}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_study_runs_against_a_postgresql_store(pg_url, study_copy, capsys):
    from mrdquant.cli.main import main
    from mrdquant.store import open_store

    n_fcs = len(list((study_copy / "flow").glob("*.fcs")))
    capsys.readouterr()
    assert main(["run", str(study_copy), "--store", pg_url, "--no-progress", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["processed"] == first["inputs"] and first["store"].startswith("postgresql+psycopg://")
    assert "mrdquant:mrdquant@" not in first["store"]  # the password is not printed
    assert not (study_copy / "mrdquant.sqlite").exists()

    assert main(["run", str(study_copy), "--store", pg_url, "--no-progress", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["processed"] == 0 and again["up_to_date"]

    with open_store(pg_url) as st:
        assert st.engine.dialect.name == "postgresql"
        mfc = st.table("mfc_results")
        runs = st.table("runs")
        timelines = st.table("timelines")
    assert len(mfc) == n_fcs and len(runs) == 2
    assert mfc["created_at"].dt.tz is not None
    truth = pd.read_csv(study_copy / "truth" / "patients.csv")
    assert timelines.merge(truth, on="patient_id").pipe(lambda d: (d["status_x"] == d["status_y"]).all())

    out = study_copy / "export.csv"
    assert main(["export", pg_url, "wt1_results", "--out", str(out)]) == 0
    exported = pd.read_csv(out)
    q_truth = pd.read_csv(study_copy / "truth" / "qpcr.csv")
    merged = exported.merge(q_truth, on=["plate", "sample"], validate="one_to_one")
    assert len(merged) == len(q_truth) and (merged["call"] == merged["expected_call"]).all()


def test_one_run_at_a_time_on_a_shared_server(pg_url):
    from mrdquant.errors import ConfigError
    from mrdquant.store import open_store

    with open_store(pg_url) as a, open_store(pg_url) as b:
        with a.exclusive("/lab/study"):
            with pytest.raises(ConfigError, match="another mrdquant run"):
                with b.exclusive("/lab/study"):
                    pass
            with b.exclusive("/lab/other_study"):  # another study is not blocked
                pass
        with b.exclusive("/lab/study"):
            pass

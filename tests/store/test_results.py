"""The results store: one transaction per input, provenance on every row, append-only."""

from __future__ import annotations

import pandas as pd
import pytest

from mrdquant.errors import ConfigError
from mrdquant.store import open_store, store_url
from mrdquant.store.schema import TABLES


def _run(st, h="h1"):
    return st.start_run(study="s", params_hash=h, parameters={"a": 1}, profile_id="puih_2020", profile_hash="p")


def test_store_url_forms(tmp_path):
    assert store_url(tmp_path / "x.sqlite") == f"sqlite:///{(tmp_path / 'x.sqlite').resolve()}"
    assert store_url("postgresql://u:pw@host/db") == "postgresql+psycopg://u:pw@host/db"
    assert store_url("postgresql+psycopg://u@host/db") == "postgresql+psycopg://u@host/db"


def test_tables_exist_with_provenance_columns(tmp_path):
    with open_store(tmp_path / "s.sqlite") as st:
        from sqlalchemy import inspect

        names = set(inspect(st.engine).get_table_names())
    assert {"runs", "inputs", "mfc_results", "wt1_results", "sample_calls", "timelines", "errors"} <= names
    for name in ("mfc_results", "wt1_results"):
        cols = set(TABLES[name].columns.keys())
        assert {"run_id", "input_id", "input_sha256", "params_hash", "parameters", "mrdquant_version",
                "created_at", "profile_hash"} <= cols
    assert {"panel_id", "panel_hash"} <= set(TABLES["mfc_results"].columns.keys())


def test_an_input_and_its_results_are_one_transaction(tmp_path):
    with open_store(tmp_path / "s.sqlite") as st:
        run = _run(st)
        good = pd.DataFrame([{"sample_id": "a.fcs", "laip_events": 3, "denominator_events": 1000, "status": "positive",
                              "detected": True, "mrd_pct": 0.3}])
        # the inputs row is inserted, then the results insert fails: both must be rolled back
        with pytest.raises(KeyError):
            st.record_input(run, kind="fcs", path="b.fcs", sha256="b" * 64, size_bytes=10, params_hash="h1",
                            parameters={}, results={"mfc_results": good, "no_such_table": good})
        assert st.table("inputs").empty and st.table("mfc_results").empty  # nothing half-recorded
        iid = st.record_input(run, kind="fcs", path="a.fcs", sha256="a" * 64, size_bytes=10, params_hash="h1",
                              parameters={"x": 1}, results={"mfc_results": good}, extra={"panel_id": "B-ALL"})
        row = st.results_for("mfc_results", [iid]).iloc[0]
        assert row["laip_events"] == 3 and bool(row["detected"]) is True and row["mrd_pct"] == 0.3
        assert row["input_sha256"] == "a" * 64 and row["panel_id"] == "B-ALL" and row["run_id"] == run
        assert st.find_input("fcs", "a.fcs", "a" * 64, "h1")["input_id"] == iid
        assert st.find_input("fcs", "a.fcs", "a" * 64, "h2") is None  # other parameters: not processed yet
        assert st.find_input("fcs", "a.fcs", "c" * 64, "h1") is None  # other content: not processed yet


def test_a_failed_input_is_recorded_with_its_reason(tmp_path):
    with open_store(tmp_path / "s.sqlite") as st:
        run = _run(st)
        iid = st.record_input(run, kind="qpcr", path="p.txt", sha256="d" * 64, size_bytes=5, params_hash="h1",
                              parameters={}, error=("qpcr", "QPCRError", "p.txt: no [Results] section"))
        errors = st.table("errors")
        assert errors[["input_id", "stage", "error_type", "reason"]].values.tolist() == [
            [iid, "qpcr", "QPCRError", "p.txt: no [Results] section"]]
        assert st.table("inputs")["status"].tolist() == ["failed"]


def test_unknown_table_and_unopenable_store_are_config_errors(tmp_path):
    with open_store(tmp_path / "s.sqlite") as st:
        with pytest.raises(ConfigError, match="unknown store table"):
            st.table("nope")
    with pytest.raises(ConfigError):
        open_store("nosuchdialect://x/y")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="cannot create the folder"):
        open_store(blocker / "sub" / "s.sqlite")


def test_one_run_at_a_time_per_store(tmp_path):
    with open_store(tmp_path / "s.sqlite") as a, open_store(tmp_path / "s.sqlite") as b:
        with a.exclusive("/study"):
            with pytest.raises(ConfigError, match="another mrdquant run"):
                with b.exclusive("/study"):
                    pass
        with b.exclusive("/study"):  # released: the next run may start
            pass

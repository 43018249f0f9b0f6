"""Property tests: any byte-level mutation of a real export or clinical table gives the
package's own error (a :class:`~mrdquant.errors.MrdquantError`) or a correct read — never
another exception (a ``KeyError``, ``IndexError``, pandas' internal errors ...).

A read that succeeds must still be a well-formed table: the fixed columns and dtypes, known
roles, Ct values inside the run's cycle range, quantities only on standards; clinical
tables with their fixed columns, dtypes and codes.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mrdquant.errors import MrdquantError
from mrdquant.io._qpcr_headers import ROLES
from mrdquant.io.clinical import RESULT_VALUES, SPECIMENS, read_patients, read_samples
from mrdquant.io.qpcr import DEFAULT_MAX_CYCLES, WELL_COLUMNS, read_qpcr

ROOT = Path(__file__).resolve().parents[2]
BUNDLED_QPCR = sorted((ROOT / "data_samples" / "qpcr").glob("*.txt"))
SHARED_QPCR = ROOT.parent / "shared" / "data" / "qpcr"
# small text / CSV / workbook exports (reads of 0.01-0.5 s); the RDML file takes seconds
SHARED_FAST = [
    "allotropy__appbio_quantstudio_example04.txt",
    "allotropy__appbio_quantstudio_example05.txt",
    "allotropy__appbio_quantstudio_minimal_missing_results.txt",
    "allotropy__example_quantsudio_results_only.txt",
    "allotropy__cfxmaestro_example01.csv",
    "allotropy__appbio_quantstudio_example10.xlsx",
    "RDML__7500_std.xls",
]

# a mutation: (where, what, byte); where is a fraction of the file (or of its results part)
_OPS = st.lists(
    st.tuples(st.floats(0, 1), st.sampled_from(["set", "insert", "delete", "truncate"]), st.integers(0, 255)),
    min_size=1, max_size=6,
)
# bytes that matter to the parsers: NUL, tab, newlines, comma, quote, minus, digits, 0xff
_INTERESTING = [0, 9, 10, 13, 44, 34, 45, 46, 48, 53, 59, 255]

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def mutate(raw: bytes, ops, *, focus: bytes | None = None, interesting: bool = False) -> bytes:
    """Apply byte mutations; with ``focus`` the positions fall after the first ``focus``."""
    data = bytearray(raw)
    lo = max(raw.find(focus), 0) if focus else 0
    for frac, kind, byte in ops:
        if not data:
            break
        start = lo if lo < len(data) else 0
        pos = start + int(frac * (len(data) - 1 - start))
        value = _INTERESTING[byte % len(_INTERESTING)] if interesting else byte
        if kind == "set":
            data[pos] = value
        elif kind == "insert":
            data.insert(pos, value)
        elif kind == "delete":
            del data[pos]
        else:
            del data[pos:]
    return bytes(data)


def check_wells(wells: pd.DataFrame) -> None:
    assert list(wells.columns) == WELL_COLUMNS
    assert len(wells) > 0
    assert wells["ct"].dtype == float and wells["quantity"].dtype == float
    assert set(wells["role"]) <= set(ROLES)
    ct = wells["ct"].to_numpy()
    finite = np.isfinite(ct)
    assert ((ct[finite] > 0) & (ct[finite] <= DEFAULT_MAX_CYCLES)).all()
    assert wells.loc[wells["role"] != "standard", "quantity"].isna().all()
    for col in ("plate", "well", "sample", "target", "role", "flags", "source_file", "task"):
        assert wells[col].map(type).eq(str).all(), col


def read_mutated(path: Path, data: bytes):
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            wells = read_qpcr(path)
        except MrdquantError as exc:
            assert path.name in str(exc) or str(path) in str(exc)  # every error names the file
            return None
    check_wells(wells)
    return wells


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mutations")


@SETTINGS
@given(index=st.integers(0, len(BUNDLED_QPCR) - 1), ops=_OPS, results=st.booleans(), interesting=st.booleans())
def test_mutated_bundled_export_reads_or_fails_cleanly(workdir, index, ops, results, interesting):
    src = BUNDLED_QPCR[index]
    data = mutate(src.read_bytes(), ops, focus=b"[Results]" if results else None, interesting=interesting)
    read_mutated(workdir / src.name, data)


@SETTINGS
@given(index=st.integers(0, len(SHARED_FAST) - 1), ops=_OPS, results=st.booleans(), interesting=st.booleans())
def test_mutated_real_export_reads_or_fails_cleanly(shared_data, workdir, index, ops, results, interesting):
    src = shared_data / "qpcr" / SHARED_FAST[index]
    data = mutate(src.read_bytes(), ops, focus=b"[Results]" if results else None, interesting=interesting)
    read_mutated(workdir / src.name, data)


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS, interesting=st.booleans())
def test_mutated_rdml_reads_or_fails_cleanly(shared_data, workdir, ops, interesting):
    import zipfile

    src = shared_data / "qpcr" / "RDML__stepone_std.rdml"
    xml = zipfile.ZipFile(src).read("rdml_data.xml")
    path = workdir / "mutated.rdml"
    with zipfile.ZipFile(path, "w") as z:  # mutate the XML (a mutated archive fails its CRC)
        z.writestr("rdml_data.xml", mutate(xml, ops, focus=b"<run ", interesting=interesting))
    read_mutated(path, path.read_bytes())


def test_mutation_helper_reaches_the_results_table():
    raw = b"header\n[Results]\nWell\tCt\nA1\t30\n"
    assert mutate(raw, [(0.0, "set", 65)], focus=b"[Results]").startswith(b"header\nA")
    assert mutate(raw, [(1.0, "truncate", 0)]) == raw[:-1]


# --- clinical tables ------------------------------------------------------------------------

COHORT = ROOT / "data_samples" / "cohort"


@pytest.fixture(scope="module")
def cohort_patients() -> pd.DataFrame:
    return read_patients(COHORT / "patients.csv")


def _read_clinical(reader, path: Path, data: bytes):
    path.write_bytes(data)
    try:
        return reader(path)
    except MrdquantError as exc:
        assert str(path) in str(exc)
        return None


@SETTINGS
@given(ops=_OPS, interesting=st.booleans())
def test_mutated_samples_table_reads_or_fails_cleanly(workdir, cohort_patients, ops, interesting):
    data = mutate((COHORT / "samples.csv").read_bytes(), ops, interesting=interesting)
    out = _read_clinical(lambda p: read_samples(p, cohort_patients), workdir / "samples.csv", data)
    if out is None:
        return
    assert out.columns[:4].tolist() == ["patient_id", "sample_id", "date", "specimen"]
    assert out["date"].dtype == "datetime64[ns]" and out["date"].notna().all()
    assert set(out["specimen"]) <= set(SPECIMENS)
    assert set(out["mfc"]) | set(out["wt1"]) <= set(RESULT_VALUES)
    assert out["sample_id"].is_unique and (out["days_from_hsct"] >= 0).all()
    assert out["patient_id"].isin(cohort_patients["patient_id"]).all()


@SETTINGS
@given(ops=_OPS, interesting=st.booleans(), table=st.sampled_from(["cohort", "trial"]))
def test_mutated_patients_table_reads_or_fails_cleanly(workdir, ops, interesting, table):
    data = mutate((ROOT / "data_samples" / table / "patients.csv").read_bytes(), ops, interesting=interesting)
    out = _read_clinical(read_patients, workdir / "patients.csv", data)
    if out is None:
        return
    assert out["patient_id"].is_unique and (out["patient_id"] != "").all()
    assert out["hsct_date"].dtype == "datetime64[ns]" and out["hsct_date"].notna().all()
    for col in out.columns:
        if col.endswith("_date"):
            assert out[col].dtype == "datetime64[ns]", col
    late = out["intervention_date"].notna()
    assert (out.loc[late, "intervention_date"] >= out.loc[late, "hsct_date"]).all()
    assert not any(isinstance(v, float) and math.isnan(v) for v in out["intervention"])


# regressions found by the mutation tests above (each raised a bare pandas error before)

def test_date_outside_the_representable_range_is_a_clinical_error():
    frame = pd.DataFrame({"patient_id": ["P1"], "hsct_date": ["0014-07-14"]})
    with pytest.raises(MrdquantError, match=r"row 1, column 'hsct_date': .*year 14 is outside 1678-2261"):
        read_patients(frame)


def test_columns_equal_after_trimming_are_refused():
    frame = pd.DataFrame([["P1", "S1", "2020-01-01", "BM", "positive", "2020-01-02"]],
                         columns=["patient_id", "sample_id", "date", "specimen", "mfc", " date"])
    with pytest.raises(MrdquantError, match=r"samples table: column\(s\) \['date'\] appear more than once"):
        read_samples(frame)

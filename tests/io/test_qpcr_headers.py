"""Header normalization, number parsing and the generic CSV reader (property tests)."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mrdquant.errors import QPCRError
from mrdquant.io._qpcr_headers import canonical_header, normalize_role, parse_ct, parse_number
from mrdquant.io.qpcr import WELL_COLUMNS, read_qpcr

CT_HEADERS = ["CT", "Ct", "Cq", "cq", "C\u0442", "\u0421\u0442", " CT ", "Cт"]
SAMPLE_HEADERS = ["Sample Name", "Sample", "sample", "SAMPLE NAME", "sample_name"]
TARGET_HEADERS = ["Target Name", "Target", "Detector", "target", "Detector Name"]
ROLE_HEADERS = ["Task", "Content", "task"]
ROLE_CODES = {
    "unknown": ["UNKNOWN", "Unkn", "unknown", "Unkn-01"],
    "standard": ["STANDARD", "Std", "std", "Std-03"],
    "ntc": ["NTC", "ntc"],
}


@pytest.mark.parametrize("text", CT_HEADERS)
def test_ct_header_variants(text):
    assert canonical_header(text) == "ct"


@pytest.mark.parametrize("text", ["Ct Mean", "Ct SD", "Cq Mean", "Delta Ct", "Ct Threshold", "Allele1 Ct"])
def test_summary_columns_are_not_ct(text):
    assert canonical_header(text) is None


@pytest.mark.parametrize("role,codes", ROLE_CODES.items())
def test_task_codes(role, codes):
    assert {normalize_role(c) for c in codes} == {role}


def test_unknown_task_code_is_none():
    assert normalize_role("GENOTYPE") is None


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=999))
def test_thousands_grouping_round_trip(whole, frac):
    text = f"{whole:,}.{frac:03d}"
    assert parse_number(text) == pytest.approx(whole + frac / 1000, rel=1e-12)


@given(st.floats(min_value=5, max_value=45, allow_nan=False))
def test_ct_decimal_comma_and_point(value):
    text = f"{value:.3f}"
    assert parse_ct(text)[0] == pytest.approx(float(text))
    assert parse_ct(text.replace(".", ","))[0] == pytest.approx(float(text))


@pytest.mark.parametrize("text", ["Undetermined", "UNDETERMINED", "NaN", "N/A", "", "-"])
def test_no_amplification_tokens(text):
    value, flag = parse_ct(text)
    assert math.isnan(value) and flag == "undetermined"


def test_garbage_ct_is_unparseable():
    assert parse_ct("thirty")[1] == "unparseable"


well_rows = st.lists(
    st.tuples(
        st.sampled_from(["P1", "P2", "BM 17", "ÄÖ-1"]),
        st.sampled_from(["WT1", "ABL1"]),
        st.sampled_from(sorted(ROLE_CODES)),
        st.one_of(st.none(), st.floats(min_value=10, max_value=39.9, allow_nan=False)),
        st.floats(min_value=1, max_value=1e7, allow_nan=False),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=well_rows,
    ct_h=st.sampled_from(CT_HEADERS),
    sample_h=st.sampled_from(SAMPLE_HEADERS),
    target_h=st.sampled_from(TARGET_HEADERS),
    role_h=st.sampled_from(ROLE_HEADERS),
    sep=st.sampled_from([",", ";", "\t"]),
    data=st.data(),
)
def test_generic_csv_round_trip(tmp_path_factory, rows, ct_h, sample_h, target_h, role_h, sep, data):
    path = tmp_path_factory.mktemp("csv") / "plate.csv"
    lines = [sep.join([sample_h, target_h, role_h, ct_h, "Quantity", "Well"])]
    for i, (sample, target, role, ct, qty) in enumerate(rows):
        code = data.draw(st.sampled_from(ROLE_CODES[role]))
        ct_text = "Undetermined" if ct is None else f"{ct:.3f}"
        qty_text = f"{qty:.3f}" if role == "standard" else ""
        lines.append(sep.join([sample, target, code, ct_text, qty_text, f"A{i + 1}"]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    wells = read_qpcr(path, plate="P")
    assert list(wells.columns) == WELL_COLUMNS
    assert len(wells) == len(rows)
    for (sample, target, role, ct, qty), w in zip(rows, wells.itertuples()):
        assert (w.sample, w.target, w.role, w.plate) == (sample, target, role, "P")
        if ct is None:
            assert math.isnan(w.ct) and w.flags == "undetermined"
        else:
            assert w.ct == pytest.approx(round(ct, 3))
        if role == "standard":
            assert w.quantity == pytest.approx(round(qty, 3))
        else:
            assert math.isnan(w.quantity)


def test_generic_csv_without_well_column(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("sample,target,ct\nS1,WT1,30.5\nS1,ABL1,24.1\n", encoding="utf-8")
    wells = read_qpcr(p)
    assert wells["ct"].tolist() == [30.5, 24.1] and (wells["role"] == "unknown").all()


def test_generic_csv_missing_columns_names_them(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("sample,ct\nS1,30\n", encoding="utf-8")
    with pytest.raises(QPCRError, match=r"bad\.csv.*target"):
        read_qpcr(p)


def test_bad_ct_value_names_file_row_and_well(tmp_path):
    p = tmp_path / "bad_ct.csv"
    p.write_text("Well,Sample,Target,Cq\nA1,S1,WT1,31.2\nA2,S1,WT1,oops\n", encoding="utf-8")
    with pytest.raises(QPCRError, match=r"bad_ct\.csv.*row 3 well A2.*'oops'"):
        read_qpcr(p)


def test_bad_task_code(tmp_path):
    p = tmp_path / "bad_task.csv"
    p.write_text("Well,Sample,Target,Task,Ct\nA1,S1,WT1,GENOTYPE,31.2\n", encoding="utf-8")
    with pytest.raises(QPCRError, match=r"bad_task\.csv.*GENOTYPE"):
        read_qpcr(p)


def test_missing_empty_and_folder_inputs(tmp_path):
    with pytest.raises(QPCRError, match="not found"):
        read_qpcr(tmp_path / "nope.txt")
    with pytest.raises(QPCRError, match="folder"):
        read_qpcr(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(QPCRError, match=r"empty\.txt.*empty"):
        read_qpcr(empty)


def test_sds_v1_text_with_detector_header(tmp_path):
    # 7500 SDS 1.x style: free header lines, then a table with Detector / Ct / Qty columns
    text = (
        "SDS 2.3\tAQ Results\n"
        "Filename\trun.sds\n"
        "\n"
        "Well\tSample Name\tDetector\tTask\tCt\tStdDev Ct\tQty\n"
        "1\tS1\tWT1\tUnknown\t31.20\t0.1\t\n"
        "2\tSTD\tWT1\tStandard\t25.00\t0.1\t1,000\n"
        "3\tNTC\tWT1\tNTC\tUndetermined\t\t\n"
    )
    p = tmp_path / "sds_v1.txt"
    p.write_text(text, encoding="utf-8")
    wells = read_qpcr(p)
    assert wells["role"].tolist() == ["unknown", "standard", "ntc"]
    assert wells["quantity"].iloc[1] == 1000.0
    assert wells["target"].unique().tolist() == ["WT1"]
    assert math.isnan(wells["ct"].iloc[2])


def test_utf16_export_with_cyrillic_ct(tmp_path):
    text = "[Results]\nWell\tWell Position\tSample Name\tTarget Name\tTask\tCт\n1\tA1\tS1\tWT1\tUNKNOWN\t30,25\n"
    p = tmp_path / "ru.txt"
    p.write_bytes(text.encode("utf-16"))
    wells = read_qpcr(p)
    assert wells["ct"].tolist() == [30.25]


def test_last_cycle_parameter(tmp_path):
    p = tmp_path / "last.csv"
    p.write_text("Well,Sample,Target,Cq\nA1,S1,WT1,40.0\nA2,S1,WT1,39.0\n", encoding="utf-8")
    wells = read_qpcr(p, last_cycle=40)
    assert math.isnan(wells["ct"].iloc[0]) and wells["flags"].iloc[0] == "cq_at_last_cycle"
    assert wells["ct"].iloc[1] == 39.0

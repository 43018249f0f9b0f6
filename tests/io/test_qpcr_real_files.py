"""Every real export in ../shared/data/qpcr either reads to the right wells or fails clearly.

Truth: counts read off the files themselves (sample names and task columns), and
allotropy's ASM conversion of the same files (well-by-well Ct values) where it converts.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from mrdquant.errors import QPCRError
from mrdquant.io.qpcr import WELL_COLUMNS, read_qpcr
from naive.qpcr import ct_or_nan, results_section_cts

# file -> (wells, {target: wells}, {role: wells}, wells without amplification)
EXPECTED = {
    "allotropy__appbio_quantstudio_example02.txt": (96, {"IPC": 48, "TGFb": 48}, {"control": 48, "unknown": 44, "ntc": 4}, 28),
    "allotropy__appbio_quantstudio_example04.txt": (95, {"RNase P": 95}, {"unknown": 71, "standard": 20, "ntc": 4}, 4),
    "allotropy__appbio_quantstudio_example05.txt": (16, {"GAPDH": 3, "TGF-B": 13}, {"unknown": 10, "ntc": 6}, 6),
    "allotropy__appbio_quantstudio_example07.txt": (16, {"IPC": 6, "RNaseP": 10}, {"standard": 13, "ntc": 3}, 3),
    "allotropy__appbio_quantstudio_minimal_broken_path_calc_doc.txt": (1, {"RNaseP": 1}, {"unknown": 1}, 0),
    "allotropy__example_quantsudio_results_only.txt": (24, {"3'UTR": 24}, {"unknown": 18, "standard": 6}, 0),
    "allotropy__appbio_quantstudio_example10.xlsx": (8, {"GeneA": 4, "RefGene": 4}, {"unknown": 8}, 0),
    "allotropy__appbio_quantstudio_designandanalysis_QS1_Standard_Curve_example01.xlsx": (
        96, {"RNaseP": 96}, {"unknown": 72, "standard": 20, "ntc": 4}, 4),
    "allotropy__appbio_quantstudio_designandanalysis_QS7Pro_Relative_Standard_Curve_example13.xlsx": (
        288, {"RNase P": 192, "IPC": 96}, {"unknown": 192, "standard": 81, "ntc": 15}, 16),
    "allotropy__cfxmaestro_example01.csv": (48, {"FAM": 24, "VIC": 24}, {"unknown": 48}, 0),
    "RDML__stepone_std.rdml": (24, {"RNase P": 24}, {"standard": 15, "unknown": 6, "ntc": 3}, 3),
}

# file -> words the error message must contain (besides the file name)
FAILS = {
    "allotropy__appbio_quantstudio_minimal_missing_results.txt": ("genotyping", "Ct"),
    "RDML__sce.eds": ("project file", "export"),
    "RDML__7500_std.xls": ("Results", "no Ct"),
    "rdmlpython__data_vermeulen_std_150000_150000.rdml": ("RDML version 1.4",),
}


def test_every_shared_file_is_covered(shared_data):
    files = {p.name for p in (shared_data / "qpcr").iterdir()}
    assert files == set(EXPECTED) | set(FAILS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_export_reads_to_known_wells(shared_data, name):
    n, targets, roles, n_nan = EXPECTED[name]
    wells = read_qpcr(shared_data / "qpcr" / name)
    assert list(wells.columns) == WELL_COLUMNS
    assert len(wells) == n
    assert wells.groupby("target").size().to_dict() == targets
    assert wells["role"].value_counts().to_dict() == roles
    assert int(wells["ct"].isna().sum()) == n_nan
    assert (wells["source_file"] == name).all()
    assert wells["ct"].dtype == float and wells["quantity"].dtype == float
    # no amplification is always explained by a flag
    assert wells.loc[wells["ct"].isna(), "flags"].str.len().gt(0).all()


@pytest.mark.parametrize("name", sorted(FAILS))
def test_unreadable_export_fails_naming_file_and_problem(shared_data, name):
    with pytest.raises(QPCRError) as info:
        read_qpcr(shared_data / "qpcr" / name)
    msg = str(info.value)
    assert name in msg
    for word in FAILS[name]:
        assert word in msg


def test_missing_results_is_a_genotyping_run(shared_data):
    with pytest.raises(QPCRError, match="genotyping"):
        read_qpcr(shared_data / "qpcr" / "allotropy__appbio_quantstudio_minimal_missing_results.txt")


def test_broken_path_calc_doc_is_one_comparative_ct_well(shared_data):
    wells = read_qpcr(shared_data / "qpcr" / "allotropy__appbio_quantstudio_minimal_broken_path_calc_doc.txt")
    row = wells.iloc[0]
    assert (row["well"], row["sample"], row["target"], row["role"]) == ("D1", "800", "RNaseP", "unknown")
    assert row["ct"] == pytest.approx(30.155)


def test_thousands_separators_and_duplicated_columns(shared_data):
    # results_only repeats 'Target Name' and 'Task' and prints 100,000,000.000
    wells = read_qpcr(shared_data / "qpcr" / "allotropy__example_quantsudio_results_only.txt")
    std = wells[wells["role"] == "standard"]
    assert sorted(std["quantity"].unique()) == [1e7, 1e8]
    assert wells.groupby("target").size().to_dict() == {"3'UTR": 24}
    assert wells["quantity"][wells["role"] == "unknown"].isna().all()


def test_undetermined_ntcs(shared_data):
    wells = read_qpcr(shared_data / "qpcr" / "allotropy__appbio_quantstudio_example05.txt")
    ntc = wells[wells["role"] == "ntc"]
    assert len(ntc) == 6 and ntc["ct"].isna().all()
    assert (ntc["flags"] == "undetermined").all()


def test_rdml_last_cycle_means_no_amplification(shared_data):
    wells = read_qpcr(shared_data / "qpcr" / "RDML__stepone_std.rdml")
    ntc = wells[wells["role"] == "ntc"]
    assert ntc["ct"].isna().all() and (ntc["flags"] == "cq_at_last_cycle").all()
    assert sorted(wells.loc[wells["role"] == "standard", "quantity"].unique()) == [625, 1250, 2500, 5000, 10000]


@pytest.mark.parametrize(
    "name",
    [
        "allotropy__appbio_quantstudio_example02.txt",
        "allotropy__appbio_quantstudio_example04.txt",
        "allotropy__appbio_quantstudio_example05.txt",
        "allotropy__appbio_quantstudio_example07.txt",
        "allotropy__example_quantsudio_results_only.txt",
    ],
)
def test_text_reader_matches_plain_split_reference(shared_data, name):
    ref = results_section_cts(shared_data / "qpcr" / name)
    wells = read_qpcr(shared_data / "qpcr" / name)
    ours = {(w, t): c for w, t, c in zip(wells["well"], wells["target"], wells["ct"])}
    assert set(ours) == set(ref)
    for key, text in ref.items():
        expected = ct_or_nan(text)
        if math.isnan(expected):
            assert math.isnan(ours[key])
        else:
            assert ours[key] == pytest.approx(expected)


def _allotropy_cts(path, vendor_name):
    from allotropy.parser_factory import Vendor
    from allotropy.to_allotrope import allotrope_from_file

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        asm = allotrope_from_file(str(path), getattr(Vendor, vendor_name))
    out = {}
    for doc in asm["qpcr aggregate document"]["qpcr document"]:
        for m in doc["measurement aggregate document"]["measurement document"]:
            well = m["sample document"]["well location identifier"]
            well = well[0] + str(int(well[1:]))
            target = m.get("target DNA description")
            if target in (None, "N/A"):
                target = m["device control aggregate document"]["device control document"][0]["reporter dye setting"]
            ct = math.nan
            for p in m.get("processed data aggregate document", {}).get("processed data document", []):
                value = p.get("cycle threshold result (qPCR)", {}).get("value")
                if isinstance(value, (int, float)):
                    ct = float(value)
            out[(well, target)] = ct
    return out


@pytest.mark.parametrize(
    "name,vendor",
    [
        ("allotropy__appbio_quantstudio_example04.txt", "APPBIO_QUANTSTUDIO"),
        ("allotropy__appbio_quantstudio_example07.txt", "APPBIO_QUANTSTUDIO"),
        ("allotropy__appbio_quantstudio_example10.xlsx", "APPBIO_QUANTSTUDIO"),
        ("allotropy__appbio_quantstudio_designandanalysis_QS1_Standard_Curve_example01.xlsx",
         "APPBIO_QUANTSTUDIO_DESIGNANDANALYSIS"),
        ("allotropy__cfxmaestro_example01.csv", "CFXMAESTRO"),
    ],
)
def test_reader_matches_allotropy_ct_values(shared_data, name, vendor):
    ref = _allotropy_cts(shared_data / "qpcr" / name, vendor)
    wells = read_qpcr(shared_data / "qpcr" / name)
    ours = {(w, t): c for w, t, c in zip(wells["well"], wells["target"], wells["ct"])}
    assert set(ours) == set(ref)
    a = np.array([ours[k] for k in sorted(ref)])
    b = np.array([ref[k] for k in sorted(ref)])
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9, equal_nan=True)

"""RDML: zipped XML under any name; ntp/nac/nrt are negative controls with the NTC checks."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest

from mrdquant.errors import QPCRError
from mrdquant.io.qpcr import read_qpcr
from mrdquant.pcr.qc import ntc_check

NAME = "RDML__stepone_std.rdml"


@pytest.fixture()
def rdml_xml(shared_data) -> str:
    return zipfile.ZipFile(shared_data / "qpcr" / NAME).read("rdml_data.xml").decode()


def _zip(path, entries: dict[str, str]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in entries.items():
            z.writestr(name, text)
    return path


@pytest.mark.parametrize("entry", ["CFX_run_2024-03-01.xml", "data/run.xml", "rdml_data"])
def test_zipped_rdml_with_another_xml_name_reads_like_the_original(shared_data, rdml_xml, tmp_path, entry):
    ref = read_qpcr(shared_data / "qpcr" / NAME)
    path = _zip(tmp_path / NAME, {entry: rdml_xml})
    pd.testing.assert_frame_equal(read_qpcr(path), ref)
    # no .rdml suffix: recognized as RDML from the archive's content (not as a workbook)
    other = _zip(tmp_path / "run.zip", {entry: rdml_xml})
    assert len(read_qpcr(other)) == len(ref)


def test_plain_xml_rdml_reads(shared_data, rdml_xml, tmp_path):
    path = tmp_path / "plain.rdml"
    path.write_text(rdml_xml, encoding="utf-8")
    pd.testing.assert_frame_equal(read_qpcr(path, plate=NAME.removesuffix(".rdml")).drop(columns="source_file"),
                                  read_qpcr(shared_data / "qpcr" / NAME).drop(columns="source_file"))


def test_archive_with_several_xml_entries_is_refused_naming_them(rdml_xml, tmp_path):
    path = _zip(tmp_path / "two.rdml", {"a.xml": rdml_xml, "b.xml": rdml_xml})
    with pytest.raises(QPCRError, match=r"two.rdml: zipped RDML file holds 2 candidate XML entries \(a.xml, b.xml\)"):
        read_qpcr(path)


@pytest.mark.parametrize("code", ["ntp", "nac", "nrt", "ntc"])
def test_negative_control_types_go_through_the_ntc_check(rdml_xml, tmp_path, code):
    xml = rdml_xml.replace('<sample id="NTC_RNase P">\n        <type>ntc</type>',
                           f'<sample id="NTC_RNase P">\n        <type>{code}</type>')
    assert xml != rdml_xml or code == "ntc"
    wells = read_qpcr(_zip(tmp_path / "x.rdml", {"rdml_data.xml": xml}))
    ntc = wells[wells["sample"] == "NTC_RNase P"]
    assert len(ntc) == 3
    assert (ntc["role"] == "ntc").all() and (ntc["task"] == code).all()
    assert set(wells.loc[wells["sample"] != "NTC_RNase P", "task"]) == {"std", "unkn"}
    check = ntc_check(wells)
    assert check[["n_ntc", "passed"]].values.tolist() == [[3, True]]
    # the same control amplifying fails the target's NTC check
    first = xml.index("<cq>", xml.index('<react id="A1">'))
    amplified = xml[:first] + "<cq>33.1" + xml[xml.index("</cq>", first):]
    wells = read_qpcr(_zip(tmp_path / "y.rdml", {"rdml_data.xml": amplified}))
    check = ntc_check(wells)
    assert check[["n_ntc", "n_amplified", "passed"]].values.tolist() == [[3, 1, False]]


def test_text_export_nac_and_nrt_tasks_are_ntc(tmp_path):
    path = tmp_path / "wells.csv"
    path.write_text("well,sample,target,role,ct\nA1,S1,WT1,unknown,31.2\nA2,NAC,WT1,NAC,\n"
                    "A3,NRT,WT1,NRT,\nA4,IPC,WT1,IPC,28\n")
    wells = read_qpcr(path)
    assert wells["role"].tolist() == ["unknown", "ntc", "ntc", "control"]
    assert wells["task"].tolist() == ["unknown", "NAC", "NRT", "IPC"]

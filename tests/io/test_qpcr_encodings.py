"""Text encodings of instrument exports: UTF-16 by BOM or NUL pattern, then UTF-8, then cp1252.

The reference is the same export read from UTF-8: every encoding of the same text must give
the same wells (the sample names with non-ASCII letters included).
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pandas as pd
import pytest

from mrdquant.errors import QPCRError
from mrdquant.io.qpcr import read_qpcr

PLATE = Path(__file__).resolve().parents[2] / "data_samples" / "qpcr" / "wt1_abl1_plate.txt"
NAME = "Müller BM µ°"  # letters cp1252 has and UTF-8 writes as two bytes


def _text(parity: int) -> str:
    text = PLATE.read_text(encoding="utf-8").replace("BM01", NAME)
    if len(text.encode("cp1252")) % 2 != parity:
        text += "\n"
    return text


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "plate.txt"
    path.write_bytes(_text(0).encode("utf-8"))
    wells = read_qpcr(path)
    assert (wells["sample"] == NAME).sum() == 6  # 3 WT1 + 3 ABL1 replicates
    return wells


@pytest.mark.parametrize("parity", [0, 1])
@pytest.mark.parametrize("encoding, bom", [
    ("cp1252", b""), ("utf-8", b""), ("utf-8", codecs.BOM_UTF8),
    ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-16-le", b""), ("utf-16-be", b""),
])
def test_every_encoding_of_an_export_reads_to_the_same_wells(tmp_path, reference, encoding, bom, parity):
    raw = bom + _text(parity).encode(encoding)
    if encoding == "cp1252":
        assert len(raw) % 2 == parity  # an even-length cp1252 file is not UTF-16
    path = tmp_path / "plate.txt"
    path.write_bytes(raw)
    pd.testing.assert_frame_equal(read_qpcr(path), reference)


def test_cp1252_csv_reads(tmp_path):
    text = "well,sample,target,role,ct,quantity\nA1,Jürgen µ,WT1,unknown,31.5,\nA2,Ünal,WT1,unknown,30.25,\n"
    path = tmp_path / "wells.csv"
    path.write_bytes(text.encode("cp1252"))
    assert read_qpcr(path)["sample"].tolist() == ["Jürgen µ", "Ünal"]


def test_errors_name_the_encoding_tried(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes("Größe\tWert\nµl\t25\n".encode("cp1252"))
    with pytest.raises(QPCRError, match=r"notes.txt: .*no results header row.*decoded as cp1252"):
        read_qpcr(path)
    path.write_bytes(codecs.BOM_UTF16_LE + "Well\tCt\n".encode("utf-16-le") + b"\x00")
    with pytest.raises(QPCRError, match=r"notes.txt: not valid utf-16 text.*byte-order mark"):
        read_qpcr(path)
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(QPCRError, match=r"notes.txt: binary file"):
        read_qpcr(path)

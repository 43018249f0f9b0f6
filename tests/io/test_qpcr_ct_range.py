"""Impossible Ct values: outside 0 < Ct <= cycles is an error naming file, well and value.

Checked where Ct values enter (every reader) and where a well table is used (quantify_wt1,
standard_curve, delta_delta_ct), so a table built by hand cannot carry them through either.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from mrdquant.errors import QPCRError
from mrdquant.io.qpcr import read_qpcr
from mrdquant.pcr.calibration import standard_curve
from mrdquant.pcr.quantify import quantify_wt1
from mrdquant.pcr.relative import delta_delta_ct
from mrdquant.simulate.qpcr import simulate_qpcr_plate


def _plate_with_ct(data_samples, tmp_path, well: str, ct_text: str, omit: str = "false"):
    """The bundled plate with the [Results] Ct (and Omit) of one well replaced."""
    lines = (data_samples / "qpcr" / "wt1_abl1_plate.txt").read_text().splitlines()
    start = lines.index("[Results]")
    header = lines[start + 1].split("\t")
    i_pos, i_ct, i_omit = header.index("Well Position"), header.index("CT"), header.index("Omit")
    for k in range(start + 2, len(lines)):
        cells = lines[k].split("\t")
        if len(cells) > i_ct and cells[i_pos] == well:
            cells[i_ct], cells[i_omit] = ct_text, omit
            lines[k] = "\t".join(cells)
            break
    else:  # pragma: no cover
        raise AssertionError(well)
    path = tmp_path / "plate.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("ct_text", ["-5.000", "0", "0.000", "1000000", "50.5", "-0,5"])
def test_reader_refuses_impossible_ct(data_samples, tmp_path, ct_text):
    path = _plate_with_ct(data_samples, tmp_path, "D1", ct_text)
    with pytest.raises(QPCRError, match=rf"plate.txt: .* well D1: Ct '{ct_text}' is outside the run's "
                                        r"cycle range 0 < Ct <= 50 \(50 assumed, the longest usual protocol: the export does not state"):
        read_qpcr(path)


def test_cycles_given_bound_the_ct(data_samples, tmp_path):
    path = _plate_with_ct(data_samples, tmp_path, "D1", "45.000")
    wells = read_qpcr(path)
    assert wells.loc[wells["well"] == "D1", "ct"].tolist() == [45.0]  # <= 50 by default
    with pytest.raises(QPCRError, match=r"well D1: Ct '45.000' is outside .*0 < Ct <= 40 \(cycles=40 given\)"):
        read_qpcr(path, cycles=40)
    path = _plate_with_ct(data_samples, tmp_path, "D1", "55.000")
    assert 55.0 in read_qpcr(path, cycles=60)["ct"].tolist()
    with pytest.raises(QPCRError, match="cycles=0"):
        read_qpcr(path, cycles=0)


def test_omitted_well_with_impossible_ct_is_kept_flagged_without_ct(data_samples, tmp_path):
    path = _plate_with_ct(data_samples, tmp_path, "D1", "-5.000", omit="true")
    wells = read_qpcr(path)
    d1 = wells[wells["well"] == "D1"].iloc[0]
    assert math.isnan(d1["ct"])
    assert d1["flags"].split(";") == ["ct_out_of_range", "omitted"]


def test_csv_reader_refuses_impossible_ct(tmp_path):
    path = tmp_path / "wells.csv"
    path.write_text("well,sample,target,ct\nA1,S1,WT1,31.2\nA2,S1,WT1,-5\n")
    with pytest.raises(QPCRError, match=r"wells.csv: .* well A2: Ct '-5' is outside"):
        read_qpcr(path)


def _wells(ct_wt1: float):
    wells, _ = simulate_qpcr_plate(seed=0)
    wells["source_file"] = "run.txt"
    sample = wells.loc[wells["role"] == "unknown", "sample"].iloc[0]
    idx = wells.index[(wells["sample"] == sample) & (wells["target"] == "WT1")]
    wells.loc[idx, "ct"] = ct_wt1
    return wells, sample, wells.loc[idx[0], "well"]


@pytest.mark.parametrize("ct", [-5.0, 0.0, 1e6])
def test_quantify_refuses_impossible_ct_instead_of_calling(ct):
    wells, sample, well = _wells(ct)
    with pytest.raises(QPCRError, match=rf"run.txt: well {well} \(target 'WT1', sample '{sample}'\): "
                                        + re.escape(f"Ct {ct:g} is outside the run's cycle range 0 < Ct <= 50")):
        quantify_wt1(wells, min_abl1=1000)
    with pytest.raises(QPCRError, match="outside the run's cycle range"):
        delta_delta_ct(wells, target="WT1", reference="ABL1", calibrator=sample)


def test_standard_curve_refuses_impossible_ct_and_cycles_option():
    from mrdquant.io.qpcr import check_ct_range

    wells, _ = simulate_qpcr_plate(seed=0)
    std = wells.index[(wells["role"] == "standard") & (wells["target"] == "ABL1")][0]
    wells.loc[std, "ct"] = -1.0
    with pytest.raises(QPCRError, match=r"Ct -1 is outside"):
        standard_curve(wells, "ABL1")
    wells.loc[std, "flags"] = "omitted"  # an omitted well is not used, so not checked
    assert standard_curve(wells, "ABL1").n_points == int((wells["role"] == "standard").sum() / 2) - 1
    wells.loc[std, ["ct", "flags"]] = [55.0, ""]
    check_ct_range(wells, cycles=60)
    with pytest.raises(QPCRError, match=r"0 < Ct <= 50"):
        check_ct_range(wells)


def test_valid_plate_still_quantifies():
    wells, _ = simulate_qpcr_plate(seed=0)
    res = quantify_wt1(wells, min_abl1=1000)
    assert np.isfinite(res["wt1_pct_abl1"]).any()


def test_rdml_cq_outside_the_runs_cycles(shared_data, tmp_path):
    import zipfile

    src = shared_data / "qpcr" / "RDML__stepone_std.rdml"
    xml = zipfile.ZipFile(src).read("rdml_data.xml").decode()
    first = xml.index("<cq>", xml.index('<react id="A2">'))
    end = xml.index("</cq>", first)
    for value, message in (("-5.0", r"well A2 \(target 'RNase P'\): Cq '-5.0' is outside the run's cycle range "
                                    r"0 < Cq <= 40 \(run .* end at cycle 40\)"),
                           ("0.0", "well A2 .*Cq '0.0' is outside")):
        bad = xml[:first] + f"<cq>{value}" + xml[end:]
        path = tmp_path / "bad.rdml"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("rdml_data.xml", bad)
        with pytest.raises(QPCRError, match=rf"bad.rdml: {message}"):
            read_qpcr(path)

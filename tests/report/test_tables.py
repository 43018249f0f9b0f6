"""Tables for people: rounding, percent, legends, provenance once, the Excel workbook."""

from __future__ import annotations

import pandas as pd
import pytest

from mrdquant.report.tables import fmt_p, fmt_pct, fmt_sig, human_table, write_workbook


def test_number_formats_by_hand():
    assert fmt_sig(0.9019214849026186) == "0.902"
    assert fmt_sig(0.00010847) == "0.000108"
    assert fmt_sig(1679.1234) == "1679"
    assert fmt_pct(0.29411764705882354) == "29.4"
    assert fmt_pct(96.54229588188281, 2, fraction=False) == "96.54"
    assert fmt_p(0.0499) == "0.050" and fmt_p(0.0004) == "< 0.001"


def test_mfc_table_percent_legend_and_provenance_once():
    df = pd.DataFrame({
        "sample_id": ["a.fcs", "b.fcs"], "laip_events": [207, 2], "denominator_events": [22951, 18438],
        "mrd_fraction": [207 / 22951, 2 / 18438], "mrd_pct": [100 * 207 / 22951, 100 * 2 / 18438],
        "sensitivity": [20 / 22951, 20 / 18438], "status": ["positive", "not evaluable"],
        "threshold_pct": [0.01, 0.01], "profile_id": ["puih_2020"] * 2, "lod_events": [20, 20],
        "converged": [True, True],
    })
    t = human_table(df, "mfc")
    row = t.frame.iloc[0]
    assert row["MRD (%)"] == "0.902"                   # 207/22951 = 0.9019 %
    assert row["Sensitivity (%)"] == "0.087"           # 20/22951 = 0.000871 as a fraction
    assert t.frame.iloc[1]["MRD (%)"] == "0.0108"
    assert "mrd_fraction" not in t.frame.columns and "profile_id" not in t.frame.columns
    assert t.provenance == {"profile_id": "puih_2020", "lod_events": "20"}
    assert "Call: not evaluable" in t.legend
    assert t.frame.columns[-1] == "converged"          # unknown columns are kept at the end


def test_endpoint_codes_have_a_legend():
    df = pd.DataFrame({"patient_id": ["P1"], "relapse_days": [100.0], "relapse_months": [3.2854],
                       "relapse_event": [2], "os_days": [100.0], "os_months": [3.2854], "os_event": [1]})
    t = human_table(df, "endpoints")
    assert list(t.frame.columns) == ["Patient ID", "Relapse (months)", "Relapse event", "OS (months)", "OS event"]
    assert t.frame.iloc[0].tolist() == ["P1", "3.3", "2", "3.3", "1"]
    assert t.legend["Relapse event"] == "0 = censored, 1 = relapse, 2 = death without relapse (competing)"


def test_non_estimable_hazard_ratio_is_not_printed_as_a_number():
    df = pd.DataFrame({"endpoint": ["nrm"], "term": ["g[b]"], "hr": [7.0e-17], "hr_lower": [7.0e-17],
                       "hr_upper": [7.0e-17], "p_value": [0.0], "n": [17], "n_events": [1]})
    assert human_table(df, "cox").frame.iloc[0]["Hazard ratio"] == "not estimable"


def test_workbook_round_trip(tmp_path):
    from openpyxl import load_workbook

    est = pd.DataFrame({"label": ["CIR", "CIR"], "group": ["a", "b"], "time_days": [730.5, 730.5],
                        "estimate": [0.375, 0.2222], "lower": [0.0716, 0.028], "upper": [0.694, 0.531],
                        "n": [8, 9], "n_events": [3, 2]})
    tests = pd.DataFrame({"label": ["CIR"], "test": ["gray"], "statistic": [1.054], "df": [1.0], "p_value": [0.3046]})
    path = write_workbook({"Estimates": human_table(est, "estimates"), "Tests": human_table(tests, "tests")},
                          tmp_path / "t.xlsx", run_provenance={"profile": "puih_2020"})
    wb = load_workbook(path)
    assert wb.sheetnames == ["Estimates", "Tests", "Legend", "Provenance"]
    ws = wb["Estimates"]
    assert ws["A1"].value == "Outcome estimates"
    assert [c.value for c in ws[2]][:6] == ["Endpoint", "Group", "At (days)", "Patients", "Events", "Estimate (%)"]
    assert ws["F3"].value == pytest.approx(37.5) and ws["F4"].value == pytest.approx(22.2)
    assert wb["Tests"]["E3"].value == pytest.approx(0.305)
    assert ("run", "profile", "puih_2020") in [tuple(c.value for c in r) for r in wb["Provenance"].iter_rows()]
    legend_terms = [r[1].value for r in wb["Legend"].iter_rows(min_row=2)]
    assert "gray" in legend_terms
    assert [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]

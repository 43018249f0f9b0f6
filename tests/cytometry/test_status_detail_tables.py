"""'negative (detected below threshold)' reaches the MFC results table and the report."""

from __future__ import annotations

import pandas as pd

from mrdquant.cytometry.laip import quantify_mrd
from mrdquant.mfc.quantify import RESULT_COLUMNS
from mrdquant.report.tables import human_table


def test_results_table_and_report_call_show_detected_below_threshold():
    assert RESULT_COLUMNS[RESULT_COLUMNS.index("status") + 1] == "status_detail"
    below = quantify_mrd(30, 1_000_000, disease="ALL", profile="puih_2020")  # 0.003 % < 0.01 %, 30 >= LOD 20
    clean = quantify_mrd(0, 1_000_000, disease="ALL", profile="puih_2020")
    rows = pd.DataFrame([
        {"sample_id": "t1", "status": below.status, "status_detail": below.status_detail, "detected": below.detected},
        {"sample_id": "t2", "status": clean.status, "status_detail": clean.status_detail, "detected": clean.detected},
    ])
    table = human_table(rows, "mfc")
    assert table.frame["Call"].tolist() == ["negative (detected below threshold)", "negative"]
    assert "Call: negative (detected below threshold)" in table.legend
    # an older results folder without the column still shows the status
    old = human_table(rows.drop(columns="status_detail"), "mfc")
    assert old.frame["Call"].tolist() == ["negative", "negative"]

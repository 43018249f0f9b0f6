"""``mrdquant outcomes --date-format``: non-ISO patients tables are read only when named."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mrdquant.cli._outcomes import run_outcomes
from mrdquant.errors import ClinicalDataError

COHORT = Path(__file__).resolve().parents[2] / "data_samples" / "cohort" / "patients.csv"


def test_outcomes_reads_day_first_dates_only_with_date_format(tmp_path):
    iso = pd.read_csv(COHORT)
    dated = [c for c in iso.columns if c.endswith("_date")]
    day_first = iso.copy()
    for c in dated:
        day_first[c] = pd.to_datetime(iso[c]).dt.strftime("%d/%m/%Y")
    path = tmp_path / "patients.csv"
    day_first.to_csv(path, index=False)
    with pytest.raises(ClinicalDataError, match=r"row 1 \(line 2\), column 'hsct_date'.*ISO 8601"):
        run_outcomes(path, tmp_path / "o", group="diagnosis", plots=False, echo=lambda *_: None)
    run_outcomes(path, tmp_path / "o", group="diagnosis", plots=False, date_format="%d/%m/%Y",
                 echo=lambda *_: None)
    run_outcomes(COHORT, tmp_path / "ref", group="diagnosis", plots=False, echo=lambda *_: None)
    got = pd.read_csv(tmp_path / "o" / "endpoints.csv")
    ref = pd.read_csv(tmp_path / "ref" / "endpoints.csv")
    pd.testing.assert_frame_equal(got, ref)

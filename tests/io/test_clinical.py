"""Patients / samples / events tables: clean output and errors naming table, row, column."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdquant.errors import ClinicalDataError, InputError
from mrdquant.io.clinical import read_events, read_patients, read_samples

PTS = pd.DataFrame(
    {"patient_id": ["P1", "P2"], "hsct_date": ["2020-01-01", "2020-06-15"],
     "intervention": ["IFN-a", None], "intervention_date": ["2020-04-01", None],
     "relapse_date": [None, "2021-01-02"], "arm": ["IFN-a", "none"]}
)


def samples(**changes):
    df = pd.DataFrame(
        {"patient_id": ["P1", "P1", "P2"], "sample_id": ["S1", "S2", "S3"],
         "date": ["2020-02-01", "2020-03-01", "2020-07-15"], "specimen": ["BM", "PB", "BM"],
         "mfc": ["negative", "", "NE"], "wt1": ["Positive", "neg", None], "wt1_pct": [1.2, 0.3, None]}
    )
    for col, (row, value) in changes.items():
        df.loc[row, col] = value
    return df


def test_patients_clean_table():
    out = read_patients(PTS)
    assert out.columns[:5].tolist() == ["patient_id", "hsct_date", "diagnosis", "intervention", "intervention_date"]
    assert out["hsct_date"].tolist() == [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-06-15")]
    assert out["intervention"].tolist() == ["IFN-a", ""]
    assert pd.isna(out.loc[1, "intervention_date"])
    assert out.loc[1, "relapse_date"] == pd.Timestamp("2021-01-02")  # *_date columns parsed
    assert out["arm"].tolist() == ["IFN-a", "none"]


def test_samples_clean_table():
    out = read_samples(samples(), PTS)
    assert out["mfc"].tolist() == ["negative", "", "not evaluable"]
    assert out["wt1"].tolist() == ["positive", "negative", ""]
    assert out["days_from_hsct"].tolist() == [31, 60, 30]
    assert out["mfc_pct"].isna().all() and out["wt1_pct"].iloc[0] == 1.2


@pytest.mark.parametrize(
    "df,match",
    [
        (samples(sample_id=(2, "S1")), r"samples table, row 3, column 'sample_id': duplicate sample id 'S1' \(first seen in row 1\)"),
        (samples(patient_id=(1, "P9")), r"row 2, column 'patient_id': unknown patient 'P9'"),
        (samples(date=(0, "2019-12-31")), r"row 1, column 'date': sample 'S1' dated 2019-12-31 is before the HSCT"),
        (samples(date=(1, "31/31/2020")), r"row 2, column 'date': cannot parse '31/31/2020'"),
        (samples(date=(1, None)), r"row 2, column 'date': missing date"),
        (samples(specimen=(0, None)), r"row 1, column 'specimen': a result without a specimen type"),
        (samples(specimen=(0, "CSF")), r"row 1, column 'specimen': unknown specimen 'CSF'"),
        (samples(wt1=(2, "weak")), r"row 3, column 'wt1': unknown result 'weak'"),
        (samples(wt1_pct=(0, -1.0)), r"row 1, column 'wt1_pct': -1.0 is negative"),
        (samples(sample_id=(0, " ")), r"row 1, column 'sample_id': empty identifier"),
        (samples().drop(columns="specimen"), r"missing required column\(s\) \['specimen'\]"),
        (samples().drop(columns=["mfc", "wt1"]), r"no result column"),
    ],
)
def test_sample_errors_name_row_and_column(df, match):
    with pytest.raises(ClinicalDataError, match=match):
        read_samples(df, PTS)


def test_csv_errors_give_the_file_and_line(tmp_path):
    path = tmp_path / "lab_export.csv"
    samples(date=(2, "yesterday")).to_csv(path, index=False)
    with pytest.raises(ClinicalDataError, match=r"samples file .*lab_export.csv, row 3 \(line 4\), column 'date'"):
        read_samples(path)
    with pytest.raises(ClinicalDataError, match=r"patients file .*missing.csv.*not found"):
        read_patients(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    "change,match",
    [
        ({"patient_id": ["P1", "P1"]}, r"row 2, column 'patient_id': duplicate patient id 'P1'"),
        ({"hsct_date": ["2020-01-01", None]}, r"row 2, column 'hsct_date': missing date"),
        ({"hsct_date": ["2020-01-01", 20200615]}, r"cannot parse the number 20200615"),
        ({"intervention_date": ["2019-04-01", None]}, r"row 1, column 'intervention_date': intervention on 2019-04-01 precedes HSCT"),
        ({"relapse_date": ["soon", None]}, r"row 1, column 'relapse_date': cannot parse 'soon'"),
    ],
)
def test_patient_errors(change, match):
    df = PTS.copy()
    for col, values in change.items():
        df[col] = pd.Series(values, dtype=object)
    with pytest.raises(ClinicalDataError, match=match):
        read_patients(df)


def test_errors_are_input_and_value_errors():
    with pytest.raises(ValueError):
        read_patients(pd.DataFrame({"patient_id": ["P1"]}))
    assert issubclass(ClinicalDataError, InputError)
    with pytest.raises(ClinicalDataError, match="expected a DataFrame or the path"):
        read_samples(42)


def test_pre_hsct_drop():
    out = read_samples(samples(date=(0, "2019-12-31")), PTS, pre_hsct="drop")
    assert out["sample_id"].tolist() == ["S2", "S3"]


def test_events_table():
    ev = pd.DataFrame({"patient_id": ["P2", "P1"], "event": ["relapse", "aGVHD"],
                       "date": ["2021-01-02", "2020-02-20"], "detail": ["BM blasts 12%", "grade 2"]})
    out = read_events(ev, PTS)
    assert out["patient_id"].tolist() == ["P1", "P2"]
    assert out["days_from_hsct"].tolist() == [50, 201]
    with pytest.raises(ClinicalDataError, match=r"events table, row 1, column 'patient_id': unknown patient 'P7'"):
        read_events(ev.assign(patient_id=["P7", "P1"]), PTS)
    with pytest.raises(ClinicalDataError, match=r"column 'event': empty identifier"):
        read_events(ev.assign(event=["", "x"]))


def test_round_trip_through_csv_and_parquet(tmp_path):
    clean = read_samples(samples(), PTS)
    for suffix in ("csv", "parquet"):
        path = tmp_path / f"s.{suffix}"
        getattr(clean, "to_csv" if suffix == "csv" else "to_parquet")(path, index=False)
        again = read_samples(path, PTS)
        pd.testing.assert_frame_equal(again, clean)


@settings(max_examples=60, deadline=None)
@given(
    codes=st.lists(
        st.tuples(
            st.sampled_from(["positive", "POS", "+", "negative", "Neg", "-", "not evaluable", "NE", "", None]),
            st.sampled_from(["BM", "bm", "PB", "peripheral blood", "Bone marrow"]),
            st.integers(0, 2000),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_any_spelling_maps_to_the_canonical_codes(codes):
    df = pd.DataFrame(
        {"patient_id": "P1", "sample_id": [f"S{i}" for i in range(len(codes))],
         "date": [(pd.Timestamp("2020-01-01") + pd.Timedelta(days=c[2])).strftime("%Y-%m-%d") for c in codes],
         "specimen": [c[1] for c in codes], "mfc": [c[0] for c in codes], "wt1": "negative"}
    )
    out = read_samples(df, PTS)
    canon = {"positive": "positive", "pos": "positive", "+": "positive", "negative": "negative", "neg": "negative",
             "-": "negative", "not evaluable": "not evaluable", "ne": "not evaluable", "": ""}
    expected = {f"S{i}": canon[(c[0] or "").lower()] for i, c in enumerate(codes)}
    assert dict(zip(out["sample_id"], out["mfc"])) == expected
    assert set(out["specimen"]) <= {"BM", "PB"}
    assert out["days_from_hsct"].is_monotonic_increasing
    assert sorted(out["days_from_hsct"]) == sorted(c[2] for c in codes)


# --- dates: ISO 8601 unless the caller names the layout (no per-row guessing) ---------------

@pytest.mark.parametrize("text", ["03/05/2014", "13/05/2014", "05.03.2014", "2014/03/05", "5 March 2014",
                                  "20140305", "2014-3-5", "March 5, 2014"])
def test_non_iso_date_text_is_refused_naming_file_row_and_column(tmp_path, text):
    path = tmp_path / "lab.csv"
    frame = samples()
    frame.loc[1, "date"] = text
    frame.to_csv(path, index=False)
    with pytest.raises(ClinicalDataError, match=r"lab.csv, row 2 \(line 3\), column 'date'.*ISO 8601") as err:
        read_samples(path)
    assert "date_format" in str(err.value)


def test_day_first_and_month_first_tables_read_only_with_their_named_format():
    # the same table under both layouts: 03/05 and 13/05 must be the same month
    frame = samples()
    frame["date"] = ["03/05/2020", "13/05/2020", "20/07/2020"]
    out = read_samples(frame, date_format="%d/%m/%Y")
    assert out["date"].tolist() == [pd.Timestamp("2020-05-03"), pd.Timestamp("2020-05-13"),
                                    pd.Timestamp("2020-07-20")]
    # month-first layout: 13/05 does not exist -> error naming the row, not a silent swap
    with pytest.raises(ClinicalDataError, match=r"row 2, column 'date'.*'%m/%d/%Y'"):
        read_samples(frame, date_format="%m/%d/%Y")


def test_date_format_reaches_patients_given_as_a_path(tmp_path):
    pts = PTS.copy()
    pts["hsct_date"] = ["01.01.2020", "15.06.2020"]
    pts["intervention_date"] = ["01.04.2020", None]
    pts["relapse_date"] = [None, "02.01.2021"]
    pts.to_csv(tmp_path / "p.csv", index=False)
    frame = samples()
    frame["date"] = ["01.02.2020", "01.03.2020", "15.07.2020"]
    out = read_samples(frame, tmp_path / "p.csv", date_format="%d.%m.%Y")
    assert out["days_from_hsct"].tolist() == [31, 60, 30]
    p = read_patients(tmp_path / "p.csv", date_format="%d.%m.%Y")
    assert p.loc[1, "relapse_date"] == pd.Timestamp("2021-01-02")
    with pytest.raises(ClinicalDataError, match=r"row 1 \(line 2\), column 'hsct_date'"):
        read_patients(tmp_path / "p.csv")
    with pytest.raises(ClinicalDataError, match="strptime format"):
        read_patients(tmp_path / "p.csv", date_format="dd.mm.yyyy")


def test_iso_text_with_time_and_date_values_are_accepted():
    frame = samples()
    frame["date"] = ["2020-02-01T08:30", pd.Timestamp("2020-03-01 14:00"), "2020-07-15 00:00:00"]
    out = read_samples(frame)
    assert out["date"].tolist() == [pd.Timestamp("2020-02-01"), pd.Timestamp("2020-03-01"),
                                    pd.Timestamp("2020-07-15")]
    with pytest.raises(ClinicalDataError, match=r"row 1, column 'date'"):
        read_samples(samples(date=(0, "2020-02-30")))


def test_bundled_tables_are_iso():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "data_samples"
    for folder in ("cohort", "trial"):
        pts = read_patients(root / folder / "patients.csv")
        read_samples(root / folder / "samples.csv", pts)


# --- empty tables and idempotence ---------------------------------------------------------

def test_header_only_tables_give_empty_well_formed_tables(tmp_path):
    samples().iloc[:0].to_csv(tmp_path / "s.csv", index=False)
    for source in (samples().iloc[:0], tmp_path / "s.csv"):
        for pts in (None, PTS):
            out = read_samples(source, pts)
            assert out.empty
            assert out.columns.tolist()[:10] == ["patient_id", "sample_id", "date", "specimen", "mfc", "wt1",
                                                 "mfc_pct", "wt1_pct", "mfc_reason", "wt1_reason"]
            assert out["date"].dtype == "datetime64[ns]" and out["wt1_pct"].dtype == "float64"
            assert read_samples(out, pts).equals(out)  # an empty validated table reads again unchanged
    assert read_patients(PTS.iloc[:0])["hsct_date"].dtype == "datetime64[ns]"
    ev = read_events(pd.DataFrame(columns=["patient_id", "event", "date"]), PTS)
    assert ev.empty and ev["days_from_hsct"].dtype == "int64"


def test_reading_a_validated_table_again_changes_nothing():
    once = read_samples(samples(), PTS)
    assert read_samples(once, PTS).equals(once)
    assert read_samples(once).equals(once.drop(columns="days_from_hsct"))
    pts = read_patients(PTS)
    assert read_patients(pts).equals(pts)
    ev = read_events(pd.DataFrame({"patient_id": ["P1"], "event": ["relapse"], "date": ["2021-01-02"]}), PTS)
    assert read_events(ev, PTS).equals(ev)

"""Endpoint builder: hand-built patients with known times and codes, and inconsistent records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdquant.errors import ClinicalDataError
from mrdquant.outcomes.endpoints import DAYS_PER_MONTH, build_endpoints

H = "2020-01-01"


def _patients(**over):
    base = {
        "patient_id": ["R", "N", "C", "G", "D"],
        "hsct_date": [H] * 5,
        "arm": ["x", "y", "x", "y", "x"],
        "intervention_date": ["2020-03-01", None, "2020-02-01", None, None],
        "relapse_date": ["2020-07-19", None, None, None, "2020-04-10"],  # R: day 200; D: day 100
        "death_date": ["2020-11-26", "2020-04-10", None, None, "2020-05-20"],  # R: 330; N: 100; D: 140
        "death_cause": ["relapse", "NRM", "", "", "relapse"],
        "agvhd_grade": [1, 3, 0, 2, 2],
        "agvhd_date": ["2020-01-21", "2020-02-20", None, "2020-01-31", "2020-04-30"],  # 20, 50, -, 30, 120
        "cgvhd_severity": ["none", "none", "mild", "severe", "moderate"],
        "cgvhd_date": [None, None, "2020-07-19", "2020-07-19", "2020-05-01"],  # C mild 200; G 200; D 121
        "last_followup_date": ["2020-11-26", "2020-04-10", "2021-01-01", "2020-12-31", "2020-05-20"],
    }
    base.update(over)
    return pd.DataFrame(base)


def test_endpoints_from_hsct_by_hand():
    ep = build_endpoints(_patients()).set_index("patient_id")
    # relapse / NRM / DFS share the clock of the first of relapse and death
    assert ep["relapse_days"].tolist() == [200, 100, 366, 365, 100]
    assert ep["relapse_event"].tolist() == [1, 2, 0, 0, 1]
    assert ep["nrm_event"].tolist() == [2, 1, 0, 0, 2]
    assert ep["dfs_event"].tolist() == [1, 1, 0, 0, 1]
    assert ep["os_days"].tolist() == [330, 100, 366, 365, 140]
    assert ep["os_event"].tolist() == [1, 1, 0, 0, 1]
    # aGVHD II-IV: R has grade 1 only (competing relapse at 200), D's GVHD at 120 follows relapse
    assert ep["agvhd_event"].tolist() == [2, 1, 0, 1, 2]
    assert ep["agvhd_days"].tolist() == [200, 50, 366, 30, 100]
    # cGVHD moderate+: C is mild (censored), G severe at 200, D moderate at 121 but relapsed at 100
    assert ep["cgvhd_event"].tolist() == [2, 2, 0, 1, 2]
    assert ep["cgvhd_days"].tolist() == [200, 100, 366, 200, 100]
    np.testing.assert_allclose(ep["os_months"], ep["os_days"] / DAYS_PER_MONTH)
    assert ep["arm"].tolist() == ["x", "y", "x", "y", "x"]
    assert str(ep["relapse_event"].dtype) == "Int64"


def test_thresholds_are_parameters():
    ep = build_endpoints(_patients(), agvhd_min_grade=1, cgvhd_min_severity="mild").set_index("patient_id")
    assert ep.loc["R", "agvhd_event"] == 1 and ep.loc["R", "agvhd_days"] == 20
    assert ep.loc["C", "cgvhd_event"] == 1 and ep.loc["C", "cgvhd_days"] == 200


def test_horizon_censors_administratively():
    ep = build_endpoints(_patients(), horizon_days=150).set_index("patient_id")
    assert ep.loc["R", "relapse_days"] == 150 and ep.loc["R", "relapse_event"] == 0
    assert ep.loc["N", "os_days"] == 100 and ep.loc["N", "os_event"] == 1
    assert ep["os_days"].max() == 150
    assert ep.attrs["horizon_days"] == 150.0


def test_intervention_index_drops_untreated_and_voids_earlier_gvhd():
    ep = build_endpoints(_patients(), index="intervention").set_index("patient_id")
    assert sorted(ep.index) == ["C", "R"]
    assert sorted(ep.attrs["excluded"]) == ["D", "G", "N"]
    assert ep.loc["R", "relapse_days"] == 200 - 60  # intervention on day 60
    assert ep.loc["C", "os_days"] == 366 - 31
    # R's aGVHD (day 20) precedes the index but is grade 1: at risk, competing relapse
    assert ep.loc["R", "agvhd_event"] == 2
    pts = _patients(agvhd_grade=[2, 3, 0, 2, 2])
    ep = build_endpoints(pts, index="intervention").set_index("patient_id")
    assert pd.isna(ep.loc["R", "agvhd_event"]) and np.isnan(ep.loc["R", "agvhd_days"])


def test_timelines_give_mrd_index_status_and_clearance():
    tl = pd.DataFrame({
        "patient_id": ["R", "N", "C", "G", "D"],
        "status": ["MRDco+", "negative", "MRDsin+", "negative", "MRDco+"],
        "first_positive_date": ["2020-02-20", None, "2020-01-21", None, "2020-03-01"],  # 50, -, 20, -, 60
        "negativity_date": [None, None, "2020-03-01", None, None],  # C clears on day 60
    })
    ep = build_endpoints(_patients(), timelines=tl).set_index("patient_id")
    assert ep["mrd_status"].tolist() == ["MRDco+", "negative", "MRDsin+", "negative", "MRDco+"]
    assert ep.loc["C", "mrd_clearance_event"] == 1 and ep.loc["C", "mrd_clearance_days"] == 60
    assert ep.loc["R", "mrd_clearance_event"] == 2 and ep.loc["R", "mrd_clearance_days"] == 200
    assert pd.isna(ep.loc["N", "mrd_clearance_event"])
    assert ep.loc["R", "first_mrd_positive_days"] == 50
    fm = build_endpoints(_patients(), timelines=tl, index="first_mrd_positive").set_index("patient_id")
    assert sorted(fm.index) == ["C", "D", "R"]
    assert fm.loc["R", "relapse_days"] == 150 and fm.loc["D", "relapse_days"] == 40


def test_trial_toxicities_and_composites():
    pts = _patients(
        randomization_date=["2020-01-31"] * 5,  # day 30
        neutropenia_date=[None, "2020-03-01", "2020-06-01", None, None],  # N: 60, C: 152
        anemia_date=[None, None, "2020-04-10", None, None],  # C: 100
        viral_infection_date=["2020-03-01", None, None, None, None],  # R: 60
    )
    ep = build_endpoints(pts, index="randomization").set_index("patient_id")
    assert ep.loc["C", "marrow_suppression_event"] == 1 and ep.loc["C", "marrow_suppression_days"] == 100 - 30
    assert ep.loc["N", "neutropenia_event"] == 1 and ep.loc["N", "neutropenia_days"] == 30
    assert ep.loc["R", "infection_event"] == 1 and ep.loc["R", "infection_days"] == 30
    assert ep.loc["D", "infection_event"] == 2  # relapse first
    assert "bacterial_infection_days" not in ep.columns


@pytest.mark.parametrize(
    "over, match",
    [
        ({"death_date": ["2020-06-01", "2020-04-10", None, None, "2020-05-20"]}, "death_date 2020-06-01 is before relapse_date"),
        ({"relapse_date": ["2019-12-01", None, None, None, "2020-04-10"]}, "relapse_date 2019-12-01 is before hsct_date"),
        ({"last_followup_date": ["2020-11-26", "2020-04-10", "2020-05-01", "2020-12-31", "2020-05-20"]},
         "cgvhd_date 2020-07-19 is after the end of follow-up"),
        ({"last_followup_date": ["2020-12-26", "2020-04-10", "2021-01-01", "2020-12-31", "2020-05-20"]},
         "after death_date"),
        ({"death_cause": ["relapse", "relapse", "", "", "relapse"]}, "'relapse' but relapse_date is empty"),
        ({"death_cause": ["relapse", "NRM", "", "", "NRM"]}, "not non-relapse mortality"),
        ({"death_cause": ["relapse", "NRM", "old age", "", "relapse"]}, "death_cause 'old age' unknown"),
        ({"agvhd_grade": [1, 3, 0, 5, 2]}, "agvhd_grade '5' unknown"),
        ({"agvhd_grade": [1, 3, 2, 2, 2]}, "agvhd_grade 2 but agvhd_date is empty"),
        ({"cgvhd_severity": ["none", "none", "mild", "extreme", "moderate"]}, "cgvhd_severity 'extreme'"),
        ({"last_followup_date": ["2020-11-26", "2020-04-10", None, "2020-12-31", "2020-05-20"]},
         "last_followup_date and death_date are both empty"),
    ],
)
def test_inconsistent_records_name_patient_and_columns(over, match):
    with pytest.raises(ClinicalDataError, match=match) as info:
        build_endpoints(_patients(**over))
    assert "patient" in str(info.value)


def test_event_before_index_is_an_error():
    pts = _patients(intervention_date=["2020-09-01", None, "2020-02-01", None, None])  # after R's relapse
    with pytest.raises(ClinicalDataError, match="patient 'R'.*relapse_date 2020-07-19 is before index_date"):
        build_endpoints(pts, index="intervention")


def test_unknown_index_and_missing_timelines():
    with pytest.raises(ClinicalDataError, match="index 'nope'"):
        build_endpoints(_patients(), index="nope")
    with pytest.raises(ClinicalDataError, match="needs timelines"):
        build_endpoints(_patients(), index="first_mrd_positive")


def test_reads_a_csv_file(tmp_path):
    path = tmp_path / "patients.csv"
    _patients().to_csv(path, index=False)
    ep = build_endpoints(path)
    assert ep["os_days"].tolist() == [330, 100, 366, 365, 140]



@st.composite
def _patient(draw):
    end = draw(st.integers(1, 2000))
    relapse = draw(st.one_of(st.none(), st.integers(1, end)))
    death = draw(st.one_of(st.none(), st.integers(relapse or 1, end)))
    if death is not None:
        end = death
    cause = "" if death is None else ("relapse" if relapse is not None else "NRM")
    grade = draw(st.integers(0, 4))
    agvhd = None if grade == 0 else draw(st.integers(1, end))
    return end, relapse, death, cause, grade, agvhd


@settings(max_examples=40, deadline=None)
@given(st.lists(_patient(), min_size=1, max_size=15), st.one_of(st.none(), st.integers(1, 1500)))
def test_endpoint_invariants(rows, horizon):
    day0 = pd.Timestamp("2018-01-01")

    def date(d):
        return None if d is None else day0 + pd.Timedelta(days=d)

    pts = pd.DataFrame({
        "patient_id": [f"P{i}" for i in range(len(rows))],
        "hsct_date": [day0] * len(rows),
        "last_followup_date": [date(r[0]) for r in rows],
        "relapse_date": [date(r[1]) for r in rows],
        "death_date": [date(r[2]) for r in rows],
        "death_cause": [r[3] for r in rows],
        "agvhd_grade": [r[4] for r in rows],
        "agvhd_date": [date(r[5]) for r in rows],
    })
    ep = build_endpoints(pts, horizon_days=horizon)
    assert len(ep) == len(rows)
    assert (ep["relapse_days"] == ep["nrm_days"]).all() and (ep["dfs_days"] == ep["relapse_days"]).all()
    assert (ep["os_days"] >= ep["dfs_days"]).all()
    rel, nrm, dfs = (ep[f"{k}_event"].astype(int) for k in ("relapse", "nrm", "dfs"))
    assert ((rel == 1) == (nrm == 2)).all() and ((rel == 2) == (nrm == 1)).all()
    assert ((dfs == 1) == (rel > 0)).all()
    for name in ("relapse", "os", "agvhd", "cgvhd"):
        np.testing.assert_allclose(ep[f"{name}_months"], ep[f"{name}_days"] / DAYS_PER_MONTH)
        if horizon is not None:
            assert (ep[f"{name}_days"] <= horizon).all()
    for (end, relapse, death, _, grade, agvhd), days, code in zip(rows, ep["agvhd_days"], ep["agvhd_event"]):
        first_other = min(d for d in (relapse, death, end) if d is not None)
        if grade >= 2 and agvhd <= first_other and (horizon is None or agvhd <= horizon):
            assert code == 1 and days == agvhd
        elif horizon is not None and min(first_other, agvhd or first_other) > horizon:
            assert code == 0 and days == horizon

"""Cox regression against R coxph (Efron and Breslow, strata, counting process) and by definition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdquant.errors import ClinicalDataError, InputError, StatisticalWarning
from mrdquant.outcomes.proportional_hazards import (
    COX_COLUMNS,
    TEST_COLUMNS,
    counting_process,
    cox,
    cox_tests,
    cox_univariate,
    landmark,
)
from naive.survival import load_r_survival, naive_cox_loglik

R = load_r_survival()
CASES = R["cox"]
IDS = [f"{c['dataset']}-{c['ties']}-{'+'.join(c['covariates'])}-strata{c['strata']}-start{c['start']}" for c in CASES]


def _frame(name):
    return pd.DataFrame(dict(R["datasets"][name]))


@pytest.mark.r
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cox_matches_coxph(case):
    data = _frame(case["dataset"])
    res = cox(data, case["duration"], case["event"], list(case["covariates"]), case["ties"],
              start=case["start"], strata=case["strata"])
    assert list(res.columns) == COX_COLUMNS
    assert res["term"].tolist() == list(case["covariates"])
    np.testing.assert_allclose(res["coef"], case["coef"], atol=1e-6)
    np.testing.assert_allclose(res["se"], case["se"], atol=1e-6)
    np.testing.assert_allclose(res.attrs["loglik"], case["loglik"], atol=1e-6)
    tests = cox_tests(res).set_index("test")
    assert list(cox_tests(res).columns) == TEST_COLUMNS
    assert tests.loc["wald", "statistic"] == pytest.approx(case["wald"], abs=1e-6)
    assert tests.loc["likelihood_ratio", "statistic"] == pytest.approx(case["lr"], abs=1e-6)
    assert tests.loc["score", "statistic"] == pytest.approx(case["score"], abs=1e-6)
    assert (tests["df"] == case["df"]).all()
    np.testing.assert_allclose(res["hr"], np.exp(case["coef"]), rtol=1e-6)
    z = 1.959963984540054
    np.testing.assert_allclose(res["hr_lower"], np.exp(np.asarray(case["coef"]) - z * np.asarray(case["se"])), rtol=1e-6)


@pytest.mark.r
@pytest.mark.parametrize("case", [c for c in CASES if c["strata"] is None], ids=lambda c: f"{c['dataset']}-{c['ties']}")
def test_cox_loglik_equals_definition(case):
    data = _frame(case["dataset"])
    res = cox(data, case["duration"], case["event"], list(case["covariates"]), case["ties"], start=case["start"])
    start = data[case["start"]].to_numpy() if case["start"] else np.full(len(data), -np.inf)
    ll = naive_cox_loglik(res["coef"].to_numpy(), start, data[case["duration"]].to_numpy(),
                          data[case["event"]].to_numpy(), data[list(case["covariates"])].to_numpy(), case["ties"])
    assert res.attrs["loglik"][1] == pytest.approx(ll, abs=1e-8)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 8), st.booleans(), st.floats(-2, 2)), min_size=8, max_size=30),
    st.sampled_from(["efron", "breslow"]),
)
def test_cox_estimate_maximises_naive_loglik(rows, ties):
    df = pd.DataFrame(rows, columns=["t", "e", "x"])
    df["e"] = df["e"].astype(int)
    if df["e"].sum() < 2 or df["x"].std() < 1e-3:
        return
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StatisticalWarning)
        res = cox(df, "t", "e", ["x"], ties)
    if any(issubclass(w.category, StatisticalWarning) for w in caught):
        return  # monotone likelihood: no finite maximum to compare with
    b = res["coef"].iloc[0]
    start = np.full(len(df), -np.inf)
    f = lambda v: naive_cox_loglik([v], start, df["t"].to_numpy(float), df["e"].to_numpy(), df[["x"]].to_numpy(), ties)  # noqa: E731
    assert res.attrs["loglik"][1] == pytest.approx(f(b), abs=1e-8)
    h = 1e-4
    assert f(b) >= f(b + h) - 1e-9 and f(b) >= f(b - h) - 1e-9


def test_categorical_covariate_expands_against_first_level():
    d = _frame("bmt")
    d["disease"] = d["group"].map({1: "ALL", 2: "AML low", 3: "AML high"})
    d["disease"] = pd.Categorical(d["disease"], categories=["ALL", "AML low", "AML high"])
    res = cox(d, "t2", "d3", ["disease", "z1"])
    ref = cox(d, "t2", "d3", ["g2", "g3", "z1"])
    assert res["term"].tolist() == ["disease[AML low]", "disease[AML high]", "z1"]
    np.testing.assert_allclose(res["coef"], ref["coef"], atol=1e-10)


def test_univariate_screen_has_one_model_per_covariate():
    d = _frame("bmt")
    uni = cox_univariate(d, "t2", "d3", ["z1", "z3", "z10"])
    assert uni["covariate"].tolist() == ["z1", "z3", "z10"]
    for cov in ("z1", "z3", "z10"):
        alone = cox(d, "t2", "d3", [cov])
        assert uni.loc[uni["covariate"] == cov, "coef"].iloc[0] == pytest.approx(alone["coef"].iloc[0], abs=1e-12)
    assert (uni["n"] == 137).all() and (uni["n_events"] == int(d["d3"].sum())).all()
    # the bmt case of the R reference: univariate age (z1), Efron
    ref = next(c for c in CASES if c["dataset"] == "bmt" and list(c["covariates"]) == ["z1"] and c["ties"] == "efron")
    assert uni["coef"].iloc[0] == pytest.approx(ref["coef"][0], abs=1e-6)


def test_counting_process_rows_reproduce_r_counting_fit():
    # rebuild the R counting-process data from one row per patient plus MRD switch times
    cp = _frame("cp")
    per_patient = cp.groupby("id").agg(stop=("stop", "max"), event=("event", "max"), age=("age", "first")).reset_index()
    switches = cp.loc[cp["mrd"] == 1, ["id", "start"]].rename(columns={"start": "days"})
    switches["mrd_positive"] = 1
    rows = counting_process(per_patient.rename(columns={"id": "patient_id", "stop": "os_days", "event": "os_event"}),
                            switches.rename(columns={"id": "patient_id"}), duration="os_days", event="os_event")
    assert len(rows) == len(cp)
    rows = rows.merge(per_patient[["id", "age"]].rename(columns={"id": "patient_id"}), on="patient_id")
    res = cox(rows, "stop", "event", ["mrd_positive", "age"], start="start")
    ref = next(c for c in CASES if c["dataset"] == "cp" and c["ties"] == "efron")
    np.testing.assert_allclose(res["coef"], ref["coef"], atol=1e-6)


def test_counting_process_by_hand():
    ep = pd.DataFrame({"patient_id": ["A", "B", "C"], "relapse_days": [100.0, 50.0, 80.0], "relapse_event": [1, 2, 0]})
    ch = pd.DataFrame({"patient_id": ["A", "A", "A", "B", "C"], "days": [30, 60, 150, 10, 0],
                       "mrd_positive": [1, 1, 0, 0, 1]})
    rows = counting_process(ep, ch)
    assert rows.values.tolist() == [
        ["A", 0.0, 30.0, 0, 0],
        ["A", 30.0, 100.0, 1, 1],  # repeated positive at 60 does not split; 150 is after follow-up
        ["B", 0.0, 50.0, 0, 0],  # competing event (code 2) is censored
        ["C", 0.0, 80.0, 0, 1],  # positive from day 0
    ]


def test_counting_process_errors_name_the_problem():
    ep = pd.DataFrame({"patient_id": ["A"], "relapse_days": [10.0], "relapse_event": [1]})
    with pytest.raises(ClinicalDataError, match="not in endpoints"):
        counting_process(ep, pd.DataFrame({"patient_id": ["Z"], "days": [1], "mrd_positive": [1]}))
    with pytest.raises(ClinicalDataError, match="mrd_positive"):
        counting_process(ep, pd.DataFrame({"patient_id": ["A"], "days": [1], "mrd_positive": [3]}))


def test_landmark_keeps_event_free_patients_and_resets_clocks():
    data = pd.DataFrame({
        "patient_id": ["A", "B", "C", "D"],
        "dfs_days": [50.0, 200.0, 400.0, 90.0], "dfs_months": [0.0] * 4, "dfs_event": [1, 1, 0, 0],
        "agvhd_days": [20.0, 300.0, 150.0, 90.0], "agvhd_months": [0.0] * 4, "agvhd_event": [1, 2, 1, 0],
        "first_mrd_positive_days": [np.nan, 60.0, 120.0, np.nan],
    })
    out = landmark(data, 90, covariate_times={"mrd_by_landmark": "first_mrd_positive_days"})
    assert out["patient_id"].tolist() == ["B", "C"]  # A relapsed, D censored at the landmark
    assert out["dfs_days"].tolist() == [110.0, 310.0]
    assert out["dfs_months"].tolist() == pytest.approx([110 / 30.4375, 310 / 30.4375])
    assert out["agvhd_days"].tolist() == [210.0, 60.0]
    assert out["mrd_by_landmark"].tolist() == [True, False]
    assert (out["landmark_days"] == 90).all()


def test_cox_bad_input():
    d = pd.DataFrame({"t": [1.0, 2, 3, 4, 5], "e": [1, 0, 1, 1, 0], "x": [1.0, np.nan, 0, 1, 0]})
    with pytest.raises(InputError, match="x: missing"):
        cox(d, "t", "e", ["x"])
    assert cox(d, "t", "e", ["x"], missing="drop").attrs["n"] == 4
    with pytest.raises(InputError, match="not in data"):
        cox(d, "t", "e", ["nope"])
    with pytest.raises(InputError, match="ties"):
        cox(d.fillna(0), "t", "e", ["x"], "exact")
    with pytest.raises(InputError, match="no events"):
        cox(d.assign(e=0).fillna(0), "t", "e", ["x"])
    bad = pd.DataFrame({"a": [2.0, 0], "b": [1.0, 3], "e": [1, 1], "x": [0.0, 1]})
    with pytest.raises(InputError, match="start not before"):
        cox(bad, "b", "e", ["x"], start="a")


def test_monotone_likelihood_warns():
    # every event in the x = 1 group before any x = 0 failure: the MLE is infinite
    d = pd.DataFrame({"t": [1.0, 2, 3, 4, 5, 6], "e": [1, 1, 1, 0, 0, 0], "x": [1.0, 1, 1, 0, 0, 0]})
    with pytest.warns(StatisticalWarning, match="converge"):
        cox(d, "t", "e", ["x"], max_iter=15)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("counting", [False, True])
def test_kernel_score_and_information_equal_numerical_derivatives(ties, counting, seed):
    from mrdquant.outcomes.proportional_hazards import _Model

    rng = np.random.default_rng(seed)
    n = 40
    stop = rng.integers(2, 12, n).astype(float)
    start = np.floor(stop * rng.uniform(0, 0.9, n)) if counting else np.full(n, -np.inf)
    event = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 2))
    strata = rng.integers(0, 2, n)
    model = _Model(start, stop, event, x, strata, ties, counting)
    beta = rng.normal(scale=0.3, size=2)
    ll, grad, info = model.stats(beta)

    def naive(b):  # strata add up; the kernel centres x, which leaves the likelihood unchanged
        return sum(naive_cox_loglik(b, start[strata == h], stop[strata == h], event[strata == h],
                                    x[strata == h], ties) for h in (0, 1))

    assert ll == pytest.approx(naive(beta), abs=1e-10)
    h = 1e-5
    num_grad = np.array([(naive(beta + h * e) - naive(beta - h * e)) / (2 * h) for e in np.eye(2)])
    np.testing.assert_allclose(grad, num_grad, atol=1e-6)
    num_info = np.array([[-(naive(beta + h * a + h * b) - naive(beta + h * a - h * b) - naive(beta - h * a + h * b)
                            + naive(beta - h * a - h * b)) / (4 * h * h) for b in np.eye(2)] for a in np.eye(2)])
    np.testing.assert_allclose(info, num_info, atol=1e-4)


def test_monotone_likelihood_gives_nan_with_a_note():
    # the x = 1 patients fail first and the x = 0 patients are all censored: the partial
    # likelihood rises without bound in beta, whose "estimate" used to be printed as HR 7e-17
    d = pd.DataFrame({"t": [1.0, 2, 3, 4, 5, 6, 7, 8], "e": [1, 1, 1, 0, 0, 0, 0, 0],
                      "x": [1.0, 1, 1, 1, 0, 0, 0, 0], "z": [0.3, -1, 0.2, 1, 0, 0.5, -0.4, 2]})
    for covs in (["x"], ["z", "x"]):
        with pytest.warns(StatisticalWarning, match="monotone likelihood"):
            res = cox(d, "t", "e", covs)
        assert res[["coef", "hr", "se", "z", "p_value", "hr_lower", "hr_upper"]].isna().all().all()
        assert not res["converged"].any() and res.attrs["converged"] is False
        row = res.set_index("term").loc["x"]
        assert "monotone likelihood" in row["note"]
        assert np.isnan(cox_tests(res).set_index("test").loc["wald", "statistic"])
    uni = cox_univariate(d, "t", "e", ["x"])
    assert np.isnan(uni.loc[0, "hr"]) and "monotone" in uni.loc[0, "note"]


def test_constant_and_collinear_terms_are_nan_the_rest_is_fitted():
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"t": rng.integers(1, 30, 60).astype(float), "e": rng.integers(0, 2, 60),
                      "x": rng.normal(size=60), "c": 1.948})
    d["x2"] = 3 * d["x"] - 1
    d["s"] = np.repeat(["a", "b"], 30)
    d["k"] = np.repeat([0.0, 1.0], 30)  # constant within each stratum
    alone = cox(d, "t", "e", ["x"])
    with pytest.warns(StatisticalWarning, match="cannot be estimated"):
        res = cox(d, "t", "e", ["x", "c", "x2"])
    assert list(res.columns) == COX_COLUMNS
    assert res.loc[0, "coef"] == pytest.approx(alone.loc[0, "coef"], rel=1e-10)
    assert res.loc[0, "se"] == pytest.approx(alone.loc[0, "se"], rel=1e-10)
    assert res["converged"].tolist() == [True, False, False]
    assert res.loc[1, "note"] == "not identifiable: constant"
    assert res.loc[2, "note"] == "not identifiable: collinear with x"
    assert res.loc[1:, ["coef", "hr", "se", "hr_lower", "hr_upper"]].isna().all().all()
    assert (cox_tests(res)["df"] == 1).all()  # as coxph: aliased terms do not count
    with pytest.warns(StatisticalWarning):
        strat = cox(d, "t", "e", ["x", "k"], strata="s")
    assert strat.loc[1, "note"] == "not identifiable: constant within every stratum"
    assert np.isfinite(strat.loc[0, "hr"])

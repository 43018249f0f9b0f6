"""classify_timeline agrees with a brute-force reference on random BM courses."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdquant import classify_timeline
from naive.timeline import naive_status

HSCT = pd.Timestamp("2020-01-01")
RESULT = st.sampled_from(["positive", "negative", "not evaluable", ""])


@st.composite
def courses(draw):
    n = draw(st.integers(0, 8))
    gaps = draw(st.lists(st.integers(0, 25), min_size=n, max_size=n))
    days, d = [], draw(st.integers(0, 40))
    for g in gaps:
        d += g
        days.append(d)
    results = draw(st.lists(st.tuples(RESULT, RESULT), min_size=n, max_size=n))
    return [(days[i], results[i][0], results[i][1]) for i in range(n)]


@settings(max_examples=120, deadline=None)
@given(course=courses(), window=st.sampled_from([None, 0, 7, 14]), consecutive=st.sampled_from(["across", "within"]))
def test_matches_naive_reference(course, window, consecutive):
    pts = pd.DataFrame({"patient_id": ["P1"], "hsct_date": [HSCT]})
    smp = pd.DataFrame(
        {
            "patient_id": ["P1"] * len(course),
            "sample_id": [f"S{i:02d}" for i in range(len(course))],
            "date": [HSCT + pd.Timedelta(days=c[0]) for c in course],
            "specimen": ["BM"] * len(course),
            "mfc": [c[1] for c in course],
            "wt1": [c[2] for c in course],
        }
    )
    r = classify_timeline(pts, smp, confirmation_window_days=window, consecutive=consecutive).iloc[0]
    status, first, confirmed = naive_status(course, window=window, consecutive=consecutive)
    assert r["status"] == status
    got_first = None if pd.isna(r["days_to_first_positive"]) else int(r["days_to_first_positive"])
    got_conf = None if pd.isna(r["days_to_confirmed"]) else int(r["days_to_confirmed"])
    assert (got_first, got_conf) == (first, confirmed)

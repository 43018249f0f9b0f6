"""KM / CIF figures: files written atomically, numbers at risk counted by hand."""

from __future__ import annotations

import pytest

from mrdquant.errors import InputError
from mrdquant.report.survival_plots import numbers_at_risk, plot_cif, plot_km

TIME = [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10]
STATUS = [1, 0, 1, 1, 0, 1, 0, 1, 0, 0]
EVENT = [1, 0, 2, 1, 0, 1, 0, 2, 0, 0]
GROUP = ["a", "b"] * 5


def test_numbers_at_risk_by_hand():
    risk = numbers_at_risk(TIME, GROUP, times=[0, 5, 9.5])
    # a: 1,3,5,7,9 ; b: 2,4,6,8,10
    assert risk["n_risk"].tolist() == [5, 3, 0, 5, 3, 1]
    assert risk["group"].tolist() == ["a"] * 3 + ["b"] * 3


def test_plot_km_writes_png(tmp_path):
    import matplotlib.pyplot as plt

    target = tmp_path / "km.png"
    fig = plot_km(TIME, STATUS, GROUP, path=target, risk_times=[0, 5, 10], title="DFS")
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["km.png"]  # no temporary file left behind
    main_ax, table_ax = fig.axes
    assert [line.get_label() for line in main_ax.get_lines() if not line.get_label().startswith("_")] == ["a", "b"]
    shown = sorted(t.get_text() for t in table_ax.texts)
    assert shown == sorted(["5", "3", "0", "5", "3", "1"])
    plt.close(fig)


def test_plot_cif_writes_pdf(tmp_path):
    import matplotlib.pyplot as plt

    target = tmp_path / "cif.pdf"
    fig = plot_cif(TIME, EVENT, GROUP, path=target)
    assert target.read_bytes()[:4] == b"%PDF"
    main_ax = fig.axes[0]
    a = [ln for ln in main_ax.get_lines() if ln.get_label() == "a"][0]
    # group a: times 1, 3, 5, 7, 9 with events 1, 2, 0, 0, 0: cause 1 only at time 1 (1 of 5)
    assert max(a.get_ydata()) == pytest.approx(1 / 5)
    plt.close(fig)


def test_bad_suffix_is_an_error(tmp_path):
    with pytest.raises(InputError, match="suffix"):
        plot_km(TIME, STATUS, path=tmp_path / "km.bmp")
    assert list(tmp_path.iterdir()) == []

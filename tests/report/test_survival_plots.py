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


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_km_legend_carries_n_horizon_estimate_and_logrank_p():
    import matplotlib.pyplot as plt

    from mrdquant.outcomes import kaplan_meier, logrank_test
    from mrdquant.report.survival_plots import format_p

    fig = plot_km(TIME, STATUS, GROUP, horizon=5, horizon_label="At 5 months", xlabel="Months from HSCT")
    ax = fig.axes[0]
    texts = _legend(ax)
    # group a: events at 1 and 3 with 5 and 4 at risk -> S(5) = 4/5 * 3/4
    s5 = kaplan_meier(TIME, STATUS, GROUP, times=[5]).set_index("group")["survival"]
    assert s5["a"] == pytest.approx(4 / 5 * 3 / 4)
    assert texts[0].startswith("a (n = 5): 60.0% (95% CI ")
    assert texts[1].startswith(f"b (n = 5): {100 * s5['b']:.1f}%")
    p = float(logrank_test(TIME, STATUS, GROUP)["p_value"].iloc[0])
    assert texts[2] == f"Log-rank {format_p(p)}"
    assert ax.get_legend().get_title().get_text() == "At 5 months, % (95% CI)"
    assert ax.get_xlabel() == "Months from HSCT" and ax.get_ylabel() == "Survival (%)"
    assert [ln for ln in ax.get_lines() if ln.get_gid() == "horizon"][0].get_xdata()[0] == 5
    # censoring marks: a is censored at 5, 7, 9 (status 0); the mark sits on the curve
    cens = [ln for ln in ax.get_lines() if ln.get_gid() == "censor-a"][0]
    assert cens.get_xdata().tolist() == [5, 7, 9] and cens.get_marker() == "|"
    plt.close(fig)


def test_cif_has_censor_marks_gray_p_and_a_visible_zero_group():
    import matplotlib.pyplot as plt

    from mrdquant.outcomes import gray_test
    from mrdquant.report.survival_plots import format_p

    event = [1, 0, 1, 0, 0, 0, 1, 0, 0, 0]  # group b (even positions) has no event of cause 1
    fig = plot_cif(TIME, event, GROUP, horizon=8)
    ax = fig.axes[0]
    lines = {ln.get_gid(): ln for ln in ax.get_lines() if ln.get_gid()}
    # a: events at 1, 3, 7 (at risk 5, 4, 2); censored at 5 and 9: F(5) = 1/5 + 4/5 * 1/4,
    # F(9) = F(5) + 3/5 * 1/2
    assert lines["censor-a"].get_xdata().tolist() == [5, 9]
    assert lines["censor-a"].get_ydata().tolist() == pytest.approx([2 / 5, 2 / 5 + 3 / 10])
    # b never has the event: drawn along 0, not clipped, above the offset x axis
    zero = lines["curve-b"]
    assert max(zero.get_ydata()) == 0 and not zero.get_clip_on()
    assert ax.spines["bottom"].get_position() == ("outward", 6)
    assert lines["censor-b"].get_xdata().tolist() == [2, 4, 6, 8, 10]
    p = float(gray_test(TIME, event, GROUP, causes=[1])["p_value"].iloc[0])
    texts = _legend(ax)
    assert texts[-1] == f"Gray's test {format_p(p)}"
    assert texts[1] == "b (n = 5): 0.0% (no events)"
    plt.close(fig)


def test_colours_are_fixed_per_group_across_figures():
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    from mrdquant.report.figures import group_colors

    colors = group_colors(["MRDsin+", "MRDco+", "x"])
    both = plot_km(TIME, STATUS, ["MRDco+", "MRDsin+"] * 5, colors=colors)
    only = plot_km(TIME[:5], STATUS[:5], ["MRDsin+"] * 5, colors=colors)
    c_both = {ln.get_label(): to_hex(ln.get_color()) for ln in both.axes[0].get_lines() if ln.get_gid() and ln.get_gid().startswith("curve")}
    c_only = {ln.get_label(): to_hex(ln.get_color()) for ln in only.axes[0].get_lines() if ln.get_gid() and ln.get_gid().startswith("curve")}
    assert c_both["MRDsin+"] == c_only["MRDsin+"] == colors["MRDsin+"].lower()
    assert c_both["MRDco+"] != c_both["MRDsin+"]
    # a single group: no test is printed
    assert not any("P" in t for t in _legend(only.axes[0]))
    plt.close(both)
    plt.close(only)


def test_risk_table_shows_full_group_names_inside_the_figure(tmp_path):
    import matplotlib.pyplot as plt

    long = ["prophylactic DLI", "preemptive DLI"] * 5
    fig = plot_km(TIME, STATUS, long, path=tmp_path / "km.png")
    fig.canvas.draw()
    table_ax = fig.axes[1]
    names = [t.get_text() for t in table_ax.get_yticklabels()]
    assert sorted(names) == ["preemptive DLI", "prophylactic DLI"]
    renderer = fig.canvas.get_renderer()
    for t in table_ax.get_yticklabels():
        box = t.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width  # not clipped at the figure edge
    from PIL import Image

    assert Image.open(tmp_path / "km.png").info["dpi"][0] == pytest.approx(300, abs=1)
    plt.close(fig)


def test_svg_and_pdf_are_written(tmp_path):
    import matplotlib.pyplot as plt

    for suffix in (".svg", ".pdf"):
        fig = plot_cif(TIME, EVENT, GROUP, path=tmp_path / f"cif{suffix}")
        plt.close(fig)
    assert (tmp_path / "cif.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "cif.pdf").read_bytes()[:4] == b"%PDF"


def test_coinciding_curves_have_different_dash_patterns():
    import matplotlib.pyplot as plt

    # neither group has an event of cause 1: both curves lie along 0
    fig = plot_cif(TIME, [0, 0, 2, 0, 0, 0, 0, 2, 0, 0], GROUP)
    curves = [ln for ln in fig.axes[0].get_lines() if (ln.get_gid() or "").startswith("curve-")]
    assert [max(c.get_ydata()) for c in curves] == [0, 0]
    assert curves[0].get_linestyle() != curves[1].get_linestyle()
    plt.close(fig)

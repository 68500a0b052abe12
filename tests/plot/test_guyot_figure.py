"""The Kaplan-Meier figure of a reconstruction: scene structure, then one headless render."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import DATA
from guyot_simulate import publish, simulate
from trialmeta import fmt
from trialmeta.pipeline.km_outputs import write_km_figure
from trialmeta.plot.km import COLOURS, km_scene, time_ticks
from trialmeta.survival.reconstruct import reconstruct
from trialmeta.plot.scene import Line

KM = DATA / "km"


@pytest.fixture(scope="module")
def result():
    return reconstruct((KM / "curves.csv").read_text(), (KM / "at-risk.csv").read_text())


def test_curves_and_censoring_marks(result):
    scene = km_scene(result)
    curves = scene.items(Line, "km-curve")
    assert [c.color for c in curves] == [COLOURS["experimental"], COLOURS["control"]]
    for line, arm in zip(curves, (result.analysis.experimental, result.analysis.control)):
        assert line.steps and line.xs[0] == 0.0 and line.ys[0] == 1.0
        assert line.xs[:-1] == arm.km_time and line.ys[:-1] == arm.km_survival
    ticks = scene.items(Line, "censor")
    assert [t.color for t in ticks] == [COLOURS["experimental"], COLOURS["control"]]
    assert ticks[0].xs[::3] == result.analysis.experimental.censor_time
    assert all(math.isnan(x) for x in ticks[0].xs[2::3])
    horizon = scene.items(Line, "horizon")[0]
    assert horizon.xs == (result.analysis.horizon,) * 2


def test_numbers_at_risk_under_the_axis(result):
    scene = km_scene(result, labels={"experimental": "Drug X"})
    table = scene.panel("at-risk")
    assert table.x.lim == scene.panel("km").x.lim  # same time axis as the curves
    cells = scene.texts("at-risk")
    by_arm = {c: [(t.x, t.text) for t in cells if t.color == c] for c in COLOURS.values()}
    # tests/data/km/at-risk.csv, reproduced exactly by the reconstruction
    assert by_arm[COLOURS["experimental"]] == [(0, "60"), (6, "42"), (12, "30"), (18, "22"), (24, "8")]
    assert by_arm[COLOURS["control"]] == [(0, "60"), (6, "29"), (12, "22"), (18, "15"), (24, "7")]
    assert [t.text for t in scene.texts("at-risk-label")] == ["No. at risk", "Drug X", "Control"]
    assert scene.panel("km").x.ticks == (0, 6, 12, 18, 24)


def test_corner_texts(result):
    a = result.analysis
    scene = km_scene(result)
    assert scene.texts("hr")[0].text == f"HR {fmt.ratio_ci(a.hr, a.hr_ci_low, a.hr_ci_high)} (95% CI)"
    assert scene.texts("ph-test")[0].text == f"PH test (Schoenfeld): {fmt.p_value(a.ph_test_p)}"
    assert scene.texts("rmst-diff")[0].text.startswith(f"RMST difference to \u03c4 = {a.horizon:.1f} months: "
                                                       f"{a.rmst_diff:.2f} [")
    assert [t.text for t in scene.texts("legend")] == ["Experimental (n = 60, 38 events)",
                                                       "Control (n = 60, 49 events)"]


def _block(scene, roles):
    texts = [t for r in roles for t in scene.texts(r)]
    return min(t.y for t in texts), max(t.y for t in texts), texts[0].ha


@pytest.mark.parametrize("median, where", [(8.0, "top"), (80.0, "bottom")])
def test_texts_go_where_no_curve_passes(median, where):
    """Poor prognosis: the curves leave the upper right free; good prognosis (control median 80
    months, 3-year survival above 60%): they fill it, and the statistics move down."""
    trial = simulate(5, n_exp=300, n_ctrl=300, median_ctrl=median, hr=0.6)
    scene = km_scene(reconstruct(*publish(trial, step=1.0)[:2]))
    low, high, _ = _block(scene, ("hr", "ph-test", "rmst-diff", "provenance"))
    assert (low > 0.5) if where == "top" else (high < 0.5)
    legend_low, legend_high, _ = _block(scene, ("legend",))
    assert legend_high < low - 0.03 or legend_low > high + 0.03  # never on top of each other
    km = scene.panel("km")
    xmax = km.x.lim[1]
    for t in scene.texts("legend"):
        for curve in scene.items(Line, "km-curve"):  # no curve at the legend's height there
            at = np.searchsorted(curve.xs, t.x * xmax, side="right") - 1
            assert abs(curve.ys[at] - t.y * km.y.lim[1]) > 0.03


def test_time_ticks():
    assert time_ticks(40.0, (0, 3, 6, 9)) == (0, 3, 6, 9)
    assert time_ticks(40.0) == (0, 6, 12, 18, 24, 30, 36)
    assert time_ticks(9.5) == (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)


def test_render_headless(result, tmp_path, save_figures):
    """Drawn with matplotlib (Agg); SVG bytes identical across runs."""
    paths = write_km_figure(result, tmp_path / "km", formats=("png", "svg"), title="tests/data/km")
    assert [p.name for p in paths] == ["km.png", "km.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = write_km_figure(result, tmp_path / "again", formats=("svg",), title="tests/data/km")
    assert again[0].read_bytes() == paths[1].read_bytes()
    if save_figures:
        write_km_figure(result, save_figures / "km-reconstruction", formats=("png",), title="tests/data/km")


def test_cli_figure(run_cli, tmp_path):
    code, _, _ = run_cli("reconstruct", KM / "curves.csv", KM / "at-risk.csv", "--figure", tmp_path / "f.svg")
    assert code == 0 and (tmp_path / "f.svg").read_text().startswith("<?xml")
    code, _, err = run_cli("reconstruct", KM / "curves.csv", KM / "at-risk.csv", "--figure",
                           tmp_path / "f.gif")
    assert code == 2 and "the file must end in .png, .svg or .pdf" in err

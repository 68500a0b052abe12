"""Risk-of-bias columns on the registry forest (plot/rob_columns.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import TRIALS
from trialmeta.plot import rob_columns
from trialmeta.plot.forest import forest_scene
from trialmeta.plot.style import PRESETS
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.load import load_registry
from trialmeta.synthesis.run import run_analyses


@pytest.fixture(scope="module")
def results():
    registry = load_registry(TRIALS)
    return {r.name: r for r in run_analyses(registry, load_analyses(TRIALS / "analyses.yaml")[0])}


def _texts(scene, role):
    return [t for p in scene.panels for t in p.items if getattr(t, "role", "") == role and hasattr(t, "text")]


def test_assessed_results_get_a_symbol_per_domain_and_the_rest_say_not_assessed(results):
    """carfilzomib-os: ASPIRE and ENDEAVOR OS are assessed on D4 only (all-cause death: low); D1-D3, D5 and
    the overall are not assessed."""
    scene = forest_scene(results["carfilzomib-os"])
    symbols = [t.text for t in _texts(scene, "study-rob")]
    assert symbols == ["?", "?", "?", "+", "?", "?"] * 2
    headers = {t.text for t in _texts(scene, "column-header")}
    assert {"D1", "D2", "D3", "D4", "D5", "Overall", "Risk of bias"} <= headers
    discs = [m for p in scene.panels for m in p.items if getattr(m, "role", "").startswith("rob-disc-")]
    assert [d.role for d in discs] == ["rob-disc-not-assessed"] * 3 + ["rob-disc-low"] + ["rob-disc-not-assessed"] * 2 \
        + ["rob-disc-not-assessed"] * 3 + ["rob-disc-low"] + ["rob-disc-not-assessed"] * 2
    assert {d.color for d in discs} == {rob_columns.COLOURS["low"], rob_columns.COLOURS[None]}
    assert any(rob_columns.LEGEND in t.text or t.text.startswith("Risk of bias (RoB 2): D1")
               for t in _texts(scene, "note"))


def test_a_forest_without_any_assessment_says_so(results):
    scene = forest_scene(results["carfilzomib-pfs"])
    assert not _texts(scene, "study-rob")
    assert any(t.text == rob_columns.NONE_ASSESSED for t in _texts(scene, "note"))


def test_every_judgement_has_its_own_symbol_and_colour_so_greyscale_still_reads(results):
    assert len(set(rob_columns.SYMBOLS.values())) == 4 and len(set(rob_columns.COLOURS.values())) == 4
    r = results["carfilzomib-os"]
    judged = {k: ("low", "some concerns", "high", None, "low", "high") for k in r.risk_of_bias}
    scene = forest_scene(replace(r, risk_of_bias=judged))
    texts = _texts(scene, "study-rob")
    assert [t.text for t in texts[:6]] == ["+", "\u2212", "\u00d7", "?", "+", "\u00d7"]
    assert texts[2].color == "white" and texts[0].color != "white"  # the letter stays legible on red


def test_compact_styles_keep_only_the_estimate_columns(results):
    scene = forest_scene(results["carfilzomib-os"], PRESETS["journal"])
    assert not _texts(scene, "study-rob")


@pytest.mark.parametrize("preset", ["document", "journal-double"])
def test_width_limited_document_presets_keep_the_overall_judgement_in_one_column(results, preset):
    """document (17 cm) and journal-double (17.5 cm): D1-D5 + Overall took pi3k-akt-pfs to 21 cm, so these
    presets show one 'RoB' column with the overall judgement (its own legend, printed under the figure in a
    document since their notes are text outside the image); the box itself is checked on every analysis
    in test_figure_styles."""
    from trialmeta.plot.forest import figure_notes

    r = results["carfilzomib-os"]
    judged = {k: ("low", "some concerns", "high", None, "low", "high") for k in r.risk_of_bias}
    scene = forest_scene(replace(r, risk_of_bias=judged), PRESETS[preset])
    assert [t.text for t in _texts(scene, "study-rob")] == ["\u00d7"] * len(judged)  # the overall, last of the six
    headers = {t.text for t in _texts(scene, "column-header")}
    assert "RoB" in headers and not headers & {"D1", "D5", "Overall"}
    assert rob_columns.LEGEND_OVERALL in figure_notes(r, PRESETS[preset])
    assert rob_columns.LEGEND not in figure_notes(r, PRESETS[preset])
    assert rob_columns.LEGEND in figure_notes(r, PRESETS["revman"])  # the default keeps the six columns

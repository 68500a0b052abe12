"""Risk-of-bias traffic-light and weighted summary plots (plot/rob_plots.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import TRIALS
from trialmeta.plot import rob_plots
from trialmeta.plot.render import close, render
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.load import load_registry
from trialmeta.synthesis.run import run_analyses


@pytest.fixture(scope="module")
def results():
    registry = load_registry(TRIALS)
    return {r.name: r for r in run_analyses(registry, load_analyses(TRIALS / "analyses.yaml")[0])}


def _items(scene, role):
    return [i for p in scene.panels for i in p.items if getattr(i, "role", "") == role]


def test_traffic_light_has_a_disc_per_study_and_domain(results):
    r = results["pi3k-akt-os"]
    scene = rob_plots.traffic_light_scene(r)
    labels = [t.text for t in _items(scene, "study-label")]
    assert labels == [f"{s.row['acronym']} {s.row['population_label']}" for g in r.groups for s in g.studies]
    assert [t.text for t in _items(scene, "rob-symbol")] == ["?", "?", "?", "+", "?", "?"] * len(labels)
    close(render(scene))


def test_summary_shares_are_the_pooling_weights(results):
    """pi3k-akt-os: make SOLAR-1 high overall; its share is its weight in the altered subgroup averaged over
    the two pooled subgroups (altered, non-altered): w / 2 (FAKTION alone is the non-altered subgroup)."""
    r = results["pi3k-akt-os"]
    altered = r.groups[0]
    w_solar = next(w for s, w in zip(altered.usable, altered.pooled.weights) if s.trial == "solar-1")
    judged = dict(r.risk_of_bias)
    judged[("solar-1", "pik3ca-mutated")] = ("low",) * 5 + ("high",)
    shares, how = rob_plots.weighted_shares(replace(r, risk_of_bias=judged))
    assert shares[5]["high"] == pytest.approx(w_solar / 2)
    assert shares[5][None] == pytest.approx(100 - w_solar / 2)
    assert shares[3]["low"] == pytest.approx(100)  # D4 low everywhere (all-cause death)
    assert "pooling weight" in how
    scene = rob_plots.summary_scene(replace(r, risk_of_bias=judged))
    assert len(_items(scene, "bar-high")) == 1 and len(_items(scene, "bar-low")) == 5  # D1-D5; overall high
    close(render(scene))


def test_unpooled_analysis_weighs_studies_equally(results):
    r = results["pearl-pfs-ccne1"]
    shares, how = rob_plots.weighted_shares(r)
    assert shares[0][None] == pytest.approx(100) and "equally" in how

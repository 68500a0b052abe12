"""Forest layout under stress, on synthetic analyses pooled by the real engine.

k = 1, a single-trial subgroup beside a k = 3 one, 45 rows, a 120-character population
label, HRs of 0.05 and 20 with CIs running off the axis, a study without a CI and one
without any estimate: every row is placed, in order, and nothing overlaps when drawn.
"""

from __future__ import annotations

import math

import pytest

from trialmeta import fmt
from trialmeta.registry.analyses import Analysis, Settings
from trialmeta.plot.spec import MIN_PLOT, MIN_WRAP
from trialmeta.plot.forest import analysis_spec, forest_layout, forest_scene
from trialmeta.stats.pooling import PoolSettings, pool_many
from trialmeta.plot.scene import Arrow, Markers, Polygon, text_width
from trialmeta.synthesis.selection import Study
from trialmeta.stats.subgroups import subgroup_test
from trialmeta.synthesis.run import AnalysisResult, GroupOutcome

Z = 1.959963984540054


def _row(acronym: str, population: str, hr, lo, hi, **extra) -> dict:
    row = {"trial": acronym.lower(), "acronym": acronym, "population": population.lower()[:20].replace(" ", "-"),
           "population_label": population, "data_cut": "primary", "data_cutoff": "2020-01", "publication": "p",
           "publication_date": "2021", "source": "p", "hr": hr, "ci_low": lo, "ci_high": hi,
           "ci_level": 0.95 if lo else None, "derivation": "hr-ci" if lo else "none", "derivation_detail": None,
           "n_exp": 100, "n_ctrl": 100, "events_exp": 50, "events_ctrl": 60, "responders_exp": None,
           "responders_ctrl": None, "median_exp": None, "median_ctrl": None, "immature": False, "adjusted": None,
           "approximate": False, "assessment": "investigator"}
    row.update(extra)
    return row


def _study(i: int, hr, lo=None, hi=None, label=None) -> Study:
    row = _row(f"TRIAL-{i:02d}", label or f"Population {i}", hr, lo, hi)
    if lo and hi:
        return Study(row["trial"], row["population"], row, math.log(hr), (math.log(hi) - math.log(lo)) / (2 * Z), True)
    return Study(row["trial"], row["population"], row, None, None, False, "no CI, p-value, O-E/V or events reported")


def synthetic(groups: dict[str, list[Study]], pooled: bool = True, overall: bool = False) -> AnalysisResult:
    """An AnalysisResult built as synthesis builds one, from the given studies per subgroup."""
    settings = Settings()
    spec = Analysis(name="synthetic", title="Synthetic stress test", question="Does it hold?", endpoint="PFS",
                    experimental="drug X", control="placebo", pooled=pooled,
                    subgroups=[{"key": k, "label": f"Subgroup {k}", "studies": [{"trial": "t", "population": "p"}]}
                               for k in groups])
    ps = PoolSettings()
    outcomes = []
    for key, studies in groups.items():
        usable = [s for s in studies if s.usable]
        result = pool_many([([s.log_est for s in usable], [s.se for s in usable])], ps, [key])[0] \
            if pooled and usable else None
        outcomes.append(GroupOutcome(key, f"Subgroup {key}", tuple(studies), result))
    ready = [g.pooled for g in outcomes if g.pooled is not None]
    test = subgroup_test(ready) if len(ready) >= 2 else None
    total = None
    if overall:
        every = [s for g in outcomes for s in g.studies]
        usable = [s for s in every if s.usable]
        total = GroupOutcome("overall", "Total", tuple(every),
                             pool_many([([s.log_est for s in usable], [s.se for s in usable])], ps, ["overall"])[0])
    return AnalysisResult(spec, settings, tuple(outcomes), total, subgroup_test=test)


def study_keys(spec) -> list[str]:
    return [r.key for r in spec.rows if r.kind == "study"]


def test_k1_single_study():
    result = synthetic({"a": [_study(1, 0.65, 0.50, 0.85)]})
    spec = analysis_spec(result)
    kinds = [r.kind for r in spec.rows]
    assert kinds == ["study", "pooled", "stat", "stat"]
    stats = [r.text for r in spec.rows if r.kind == "stat"]
    assert stats[0] == "Heterogeneity: Not applicable"
    assert stats[1].startswith("Test for overall effect: Z = ")  # k = 1: Wald z, not t
    scene = forest_scene(result)
    (diamond,) = scene.items(Polygon, "diamond")
    pooled = result.groups[0].pooled
    assert diamond.xs == (pooled.ci_low, pooled.est, pooled.ci_high, pooled.est)


def test_single_trial_subgroup_beside_a_pooled_one():
    result = synthetic({"one": [_study(1, 0.5, 0.3, 0.8)],
                        "three": [_study(2, 0.7, 0.5, 1.0), _study(3, 0.9, 0.6, 1.3), _study(4, 0.6, 0.4, 0.9)]})
    spec = analysis_spec(result)
    assert study_keys(spec) == ["trial-01/population-1", "trial-02/population-2", "trial-03/population-3",
                                "trial-04/population-4"]
    assert [r.text for r in spec.rows if r.kind == "group"] == ["Subgroup one", "Subgroup three"]
    assert len([r for r in spec.rows if r.kind == "pooled"]) == 2
    assert any(r.role == "subgroup-differences" and r.text.startswith(fmt.subgroup_differences(result.subgroup_test))
               for r in spec.rows)
    assert [r for r in spec.rows if r.kind == "pi"]  # k = 3: prediction interval bar


def test_45_rows_grow_the_figure_in_order():
    studies = [_study(i, 0.5 + 0.02 * i, 0.3 + 0.01 * i, 0.9 + 0.03 * i) for i in range(45)]
    big = forest_layout(synthetic({"a": studies}))
    small = forest_layout(synthetic({"a": studies[:5]}))
    rows = [p for p in big.rows if p.row.kind == "study"]
    assert [p.row.key for p in rows] == [f"trial-{i:02d}/population-{i}" for i in range(45)]
    ys = [p.y for p in big.rows]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    assert all(b.y - a.y >= (a.height + b.height) / 2 - 1e-9 for a, b in zip(big.rows, big.rows[1:]))
    # 40 more rows of at least ~0.2 in (measured over the rows: footnotes differ, e.g. the 5 tight
    # studies get an HKSJ-narrower-than-Wald note the 45 do not)
    span = lambda placed: placed.rows[-1].y - placed.rows[0].y  # noqa: E731
    assert span(big) - span(small) > 40 * 0.19 and big.height > small.height
    assert big.width <= 17.5 / 2.54  # grows down, not across: a double journal column


def test_long_label_is_wrapped_and_the_row_grows():
    label = ("Patients with a PIK3CA, AKT1 or PTEN alteration detected in tumour tissue by next-generation "
             "sequencing at central review")
    assert len(label) >= 115
    placed = forest_layout(synthetic({"a": [_study(1, 0.6, 0.4, 0.9, label=label), _study(2, 0.8, 0.6, 1.1)]}))
    first = next(p for p in placed.rows if p.row.kind == "study")
    lines = first.lines["population"]
    assert len(lines) >= 3 and " ".join(lines) == label
    x0, x1 = placed.columns["population"]
    assert all(text_width(line, 7.0) <= x1 - x0 + 1e-9 for line in lines)
    assert first.height >= len(lines) * 0.125
    assert placed.width <= 17.5 / 2.54
    assert all(len(p.lines["study"]) == 1 for p in placed.rows if p.row.kind == "study")  # labels never wrap


def test_wide_columns_wrap_the_population_not_the_study_labels():
    """An estimate column made wide by a degenerate CI ('0.99 [2.9e-17, > 999999]') takes its
    room from the population column, never from 'TRIAL-03 2020ᵃ'."""
    label = "A population label long enough to need wrapping over several lines " * 2
    result = synthetic({"a": [_study(1, 0.05, 0.004, 0.6, label=label), _study(2, 20.0, 1.5, 260.0),
                              _study(3, 1.11), _study(4, None)], "b": [_study(5, 0.9, 0.7, 1.2)]})
    placed = forest_layout(result)
    x0, x1 = placed.columns["population"]
    assert x1 - x0 <= MIN_WRAP + 1e-9  # the population column gave all it could ...
    assert placed.plot[1] - placed.plot[0] == pytest.approx(MIN_PLOT)  # ... before the figure widened
    assert placed.width <= 7.25
    assert all(len(p.lines["study"]) == 1 for p in placed.rows if "study" in p.lines)


def test_extreme_hrs_end_in_arrows():
    result = synthetic({"a": [_study(1, 0.05, 0.004, 0.6), _study(2, 20.0, 1.5, 260.0), _study(3, 0.8, 0.6, 1.1)]})
    placed = forest_layout(result)
    assert placed.axis.lim == (0.01, 100.0)
    scene = forest_scene(result)
    arrows = scene.items(Arrow, "ci-arrow")
    assert sorted(a.x1 for a in arrows) == [0.01, 100.0]
    squares = scene.items(Markers, "study-square")
    assert sorted(m.xs[0] for m in squares) == [0.05, 0.8, 20.0]  # estimates stay on the axis
    assert 1.0 in placed.axis.ticks and placed.axis.ticks == tuple(sorted(placed.axis.ticks))
    texts = [t.text for t in scene.texts("study-estimate")]
    assert texts == ["0.05 [0.00, 0.60]" if fmt.ratio(0.004) == "0.00" else f"0.05 [{fmt.ratio(0.004)}, 0.60]",
                     "20.00 [1.50, 260.00]", "0.80 [0.60, 1.10]"]


def test_missing_ci_and_missing_estimate_are_shown_with_a_note():
    no_ci = _study(2, 1.11)
    no_hr = _study(3, None)
    result = synthetic({"a": [_study(1, 0.7, 0.5, 0.95), no_ci, no_hr, _study(4, 0.8, 0.6, 1.05)]})
    spec = analysis_spec(result)
    rows = [r for r in spec.rows if r.kind == "study"]
    assert [r.key for r in rows] == ["trial-01/population-1", "trial-02/population-2", "trial-03/population-3",
                                     "trial-04/population-4"]
    assert rows[1].cells["est"] == "1.11 [no CI]" and rows[1].cells["weight"] == "" and not rows[1].filled
    assert rows[2].cells["est"] == "Not estimable" and rows[2].side == 0
    notes = dict(spec.footnotes)
    assert any("Shown, not pooled: no CI" in t for r, t in spec.footnotes if r == "footnote"), notes
    assert any("Not estimable: no CI" in t for r, t in spec.footnotes if r == "footnote")
    assert rows[1].cells["study"] != "TRIAL-02 2020"  # carries a footnote letter
    pooled = next(r for r in spec.rows if r.kind == "pooled")
    assert pooled.est == pytest.approx(result.groups[0].pooled.est)


def test_group_with_no_usable_study_is_not_estimable():
    result = synthetic({"a": [_study(1, 0.7, 0.5, 0.95), _study(2, 0.8, 0.6, 1.05)], "b": [_study(3, 1.11)]})
    assert result.groups[1].pooled is None
    spec = analysis_spec(result)
    pooled = [r for r in spec.rows if r.kind == "pooled"]
    assert [r.cells["est"] for r in pooled][1] == "Not estimable" and pooled[1].est is None
    assert [r.key for r in spec.rows if r.kind == "study"][-1] == "trial-03/population-3"
    assert len(forest_scene(result).items(Polygon, "diamond")) == 1


def test_overall_total_after_the_subgroups():
    result = synthetic({"a": [_study(1, 0.6, 0.4, 0.9), _study(2, 0.7, 0.5, 1.0)],
                        "b": [_study(3, 0.9, 0.6, 1.3), _study(4, 1.1, 0.8, 1.5)]}, overall=True)
    spec = analysis_spec(result)
    pooled = [r for r in spec.rows if r.kind == "pooled"]
    assert [r.cells["study"].rstrip("ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏ") for r in pooled] == \
        ["Subtotal (95% CI)", "Subtotal (95% CI)", "Total (95% CI)"]
    assert pooled[-1].est == pytest.approx(result.overall.pooled.est)
    (line,) = spec.ref_lines  # one dashed line, at the overall estimate, down to the Total diamond
    assert line.x == pytest.approx(result.overall.pooled.est) and spec.rows[line.last] is pooled[-1]
    kinds = [r.role for r in spec.rows if r.kind == "stat"]
    assert kinds[-3:] == ["heterogeneity", "overall-effect", "subgroup-differences"]


@pytest.mark.parametrize("case", ["45-rows", "long-label-extremes"])
def test_stress_figures_render_without_overlap(case, save_figures):
    from test_forest_render import assert_no_overlap, draw

    if case == "45-rows":
        result = synthetic({"a": [_study(i, 0.5 + 0.02 * i, 0.3 + 0.01 * i, 0.9 + 0.03 * i) for i in range(30)],
                            "b": [_study(30 + i, 1.2, 0.9, 1.6) for i in range(15)]})
    else:
        label = "A population label long enough to need wrapping over several lines " * 2
        result = synthetic({"a": [_study(1, 0.05, 0.004, 0.6, label=label), _study(2, 20.0, 1.5, 260.0),
                                  _study(3, 1.11), _study(4, None)],
                            "b": [_study(5, 0.9, 0.7, 1.2)]})
    fig = draw(forest_scene(result), save_figures, f"stress-{case}")
    assert_no_overlap(fig)

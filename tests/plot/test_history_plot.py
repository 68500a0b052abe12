"""The cumulative-history figures, checked as layout data and drawn headless.

They are forest-grid figures: the same journal width, 7 pt text, log axis and tick chooser
(:mod:`trialmeta.plot.axis`) as the forest plots, a title, column headers, favours labels
and footnotes; the numbers are the pooled estimates of every step, as `history.csv` has them.
"""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

from conftest import TRIALS  # noqa: E402
from test_forest_render import DOUBLE_COLUMN, assert_no_overlap  # noqa: E402
from trialmeta import fmt  # noqa: E402
from trialmeta.plot import history as history_plot
from trialmeta.registry.analyses import load_analyses  # noqa: E402
from trialmeta.plot.axis import SCALES, log_axis  # noqa: E402
from trialmeta.plot.grid import place  # noqa: E402
from trialmeta.synthesis.history import evolution  # noqa: E402
from trialmeta.pipeline.outputs import write_history_plots  # noqa: E402
from trialmeta.plot.history import history_scene, history_spec  # noqa: E402
from trialmeta.plot.render import close, render, to_bytes  # noqa: E402
from trialmeta.plot.scene import Arrow, Line, Markers  # noqa: E402
from trialmeta.synthesis.run import run_analyses  # noqa: E402
from trialmeta.registry.load import load_registry  # noqa: E402


@pytest.fixture(scope="module")
def history():
    registry = load_registry(TRIALS)
    spec = load_analyses(TRIALS / "analyses.yaml")[0]
    return evolution(registry, spec, run_analyses(registry, spec))


def layout(history, name):
    steps = history[name]
    return place(history_spec(name, steps, steps[-1].result.spec.measure))


def test_ticks_come_from_the_forest_axis(history):
    assert not hasattr(history_plot, "log_ticks")  # no second tick chooser
    for name in history:
        placed = layout(history, name)
        rows = [r for r in placed.spec.rows if r.kind == "study"]
        hard = [v for r in rows for v in (r.est, *((r.lo, r.hi) if not r.soft else ())) if v]
        soft = [v for r in rows if r.soft for v in (r.lo, r.hi) if v]
        assert placed.axis == log_axis(hard, placed.plot[1] - placed.plot[0], soft=soft), name
        assert placed.axis.lim[0] < 1.0 < placed.axis.lim[1], name  # the null line is never the axis edge
        assert placed.axis.lim in [(1 / u, u) for u, _ in SCALES], name


def test_tick_labels_are_thinned_not_overlapping(history):
    """Before: 0.02 0.05 0.1 0.2 0.5 1 2 5 10 on 1.9 in, '0.050.1' run together."""
    placed = layout(history, "carfilzomib-pfs-cytogenetics")
    assert placed.axis.lim == (0.02, 50.0)  # the latest standard-risk estimate is 0.54 [0.04, 7.03]
    assert placed.axis.ticks == (0.02, 0.1, 1.0, 10.0, 50.0)


def test_an_earlier_wide_ci_runs_past_the_axis(history):
    """pi3k-akt-os as of 2022-06 (HKSJ, k = 2): 0.66 [0.01, 33.70] must not set the scale."""
    placed = layout(history, "pi3k-akt-os")
    assert placed.axis.lim == (0.1, 10.0)
    wide = next(r for r in placed.spec.rows if r.key == "altered/2022-06")
    assert wide.soft and wide.cells["est"] == "0.66 [0.01, 33.70]"
    arrows = history_scene("pi3k-akt-os", history["pi3k-akt-os"]).items(Arrow, "ci-arrow")
    assert sorted(a.x1 for a in arrows) == [0.1, 10.0]


def test_rows_are_the_pooled_estimates_of_every_step(history):
    for name, steps in history.items():
        spec = history_spec(name, steps, steps[-1].result.spec.measure)
        if not steps[-1].result.spec.pooled:
            continue
        printed = {r.key: r.cells["est"] for r in spec.rows if r.kind == "study"}
        seen: dict = {}
        for step in steps:
            for g in (*step.result.groups, *([step.result.overall] if step.result.overall else [])):
                used = tuple(f"{s.trial}/{s.population}/{s.row['data_cut']}" for s in g.usable)
                key = f"{g.key}/{step.as_of}"
                if not used or seen.get(g.key) == used:  # nothing new for this subgroup: no row
                    assert key not in printed or not used, (name, key)
                    continue
                seen[g.key] = used
                p = g.pooled
                expected = fmt.ratio_ci(p.est, p.ci_low, p.ci_high) if p else "Not estimable"
                assert printed[key] == expected, (name, g.key, step.as_of)
        rows = [r.key for r in spec.rows if r.kind == "study"]
        assert len(rows) == len(set(rows)) and len(rows) >= len(seen), name
        groups = [r.text for r in spec.rows if r.kind == "group"]
        assert groups == list(dict.fromkeys(g.label for s in steps for g in s.result.groups)), name


def test_a_subgroup_gets_a_row_only_when_its_evidence_changes(history):
    """PI3K/AKT PFS: FAKTION's 2022 update (published 2022-06) adds to the altered subgroup
    only, so the non-altered subgroup has rows for 2018 (SOLAR-1) and 2022 (+ CAPItello-291)
    but none repeating SOLAR-1 alone at 2022-06."""
    spec = history_spec("pi3k-akt-pfs", history["pi3k-akt-pfs"])
    keys = [r.key for r in spec.rows if r.kind == "study"]
    assert keys == ["altered/2018", "altered/2022-06", "altered/2022", "non-altered/2018", "non-altered/2022"]


def test_steps_with_an_hksj_ci_narrower_than_wald_are_marked(history):
    """Carfilzomib OS: ASPIRE (0.79) and ENDEAVOR (0.79) agree almost exactly in 2017-10 and 2018,
    so HKSJ gives 0.79 [0.78, 0.80], far narrower than Wald: those rows carry the footnote; the
    2019 row (0.78 [0.61, 0.99]) does not."""
    spec = history_spec("carfilzomib-os", history["carfilzomib-os"])
    dates = {r.key: r.cells["date"] for r in spec.rows if r.kind == "study"}
    a = "\u1d43"
    assert dates == {"all/2014-12-06": "2014-12-06", "all/2017-10": "2017-10" + a, "all/2018": "2018" + a,
                     "all/2019": "2019"}
    assert any(t.startswith(a + " HKSJ CI narrower than the Wald CI") for _, t in spec.footnotes)


def test_unpooled_analysis_shows_each_single_study(history):
    spec = history_spec("pearl-pfs-ccne1", history["pearl-pfs-ccne1"])
    rows = [r for r in spec.rows if r.kind == "study"]
    assert [r.cells["est"] for r in rows] == ["1.13 [0.85, 1.50]", "1.63 [1.02, 2.59]"]  # not 'not estimable'
    assert spec.plot_header == ("Hazard ratio", "95% CI (not pooled)")
    assert any(t.startswith("Not pooled") for _, t in spec.footnotes)


def test_title_headers_favours_and_null_line(history):
    scene = history_scene("carfilzomib-orr", history["carfilzomib-orr"])
    assert scene.texts("title") and "cumulative" in " ".join(t.text for t in scene.texts("title"))
    headers = [t.text for t in scene.texts("column-header")]
    assert {"Published", "by", "Studies (data cut)", "RR [95% CI]"} <= set(headers)
    # responses: RR > 1 favours the experimental arm, on the right
    assert " ".join(t.text for t in scene.texts("favours-right")) == "Favours carfilzomib-based regimen"
    placed = layout(history, "carfilzomib-orr")
    (null,) = scene.items(Line, "null-line")
    assert null.ys == (placed.plot[2], placed.plot[3])  # from the first row to the axis
    assert len(scene.items(Markers, "study-square")) == 2


def test_figures_render_at_journal_width_without_overlap(history):
    for name, steps in history.items():
        fig = render(history_scene(name, steps, steps[-1].result.spec.measure))
        try:
            assert fig.get_size_inches()[0] <= DOUBLE_COLUMN, name
            assert_no_overlap(fig)
        finally:
            close(fig)


def test_files_are_written_and_deterministic(history, tmp_path):
    paths = write_history_plots({"carfilzomib-pfs": history["carfilzomib-pfs"], "empty": []}, tmp_path, ("svg", "pdf"))
    assert [p.name for p in paths] == ["carfilzomib-pfs.svg", "carfilzomib-pfs.pdf"]
    scene = history_scene("carfilzomib-pfs", history["carfilzomib-pfs"])
    assert to_bytes(render(scene), "svg") == paths[0].read_bytes()


def test_history_steps_equal_the_full_run_at_each_date_without_the_bayesian_sensitivity(history):
    """Each step re-runs only the analyses that date concerns and skips the Bayesian sensitivity
    fit (the history shows the conventional estimate): every other number is what a full
    `run_analyses(as_of=date)` gives, bit for bit; under `method: bayes` the Bayesian fit is the
    estimate and stays."""
    from trialmeta.registry.types import date_bounds

    registry = load_registry(TRIALS)
    spec = load_analyses(TRIALS / "analyses.yaml")[0]
    name = "capivasertib-pfs"
    for step in history[name]:
        full = {r.name: r for r in run_analyses(registry, spec, as_of=date_bounds(step.as_of)[1].isoformat())}[name]
        for got, want in zip((*step.result.groups, step.result.overall), (*full.groups, full.overall)):
            if want is None or want.pooled is None:
                assert got is None or got.pooled is None
                continue
            assert got.pooled.bayes is None and (want.pooled.k > spec.defaults.bayes_max_k or want.pooled.bayes is not None)
            for field in ("est", "ci_low", "ci_high", "tau2", "p", "i2", "k"):
                assert getattr(got.pooled, field) == getattr(want.pooled, field), (step.as_of, field)
    bayes_spec = spec.model_copy(update={"defaults": spec.defaults.model_copy(update={"method": "bayes"})})
    steps = evolution(registry, bayes_spec, run_analyses(registry, bayes_spec, only=name))[name]
    assert steps and all(g.pooled.bayes is not None for s in steps for g in s.result.groups if g.pooled)

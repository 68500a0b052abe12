"""Forest layouts of the real analyses, checked as data before anything is drawn.

Every study of the analysis frame is a row, in frame order; the printed numbers are the
frame's numbers in RevMan format (the ones `trialmeta pool` and the evidence tables print);
diamonds sit on the pooled HRs; the axis is logarithmic; "Favours" labels sit on the side
they describe (PEARL: HR > 1 favours capecitabine; ORR risk ratios: RR > 1 favours the
experimental arm).
"""

from __future__ import annotations

import math

import pytest

from conftest import TRIALS
from trialmeta import fmt
from trialmeta.registry.analyses import load_analyses
from trialmeta.plot.columns import _tw
from trialmeta.plot.grid import place
from trialmeta.plot.spec import MAX_SIDE, MIN_SIDE
from trialmeta.plot.forest import analysis_spec, forest_layout, forest_scene
from trialmeta.plot.axis import log_axis
from trialmeta.plot.text import favours, study_flags
from trialmeta.plot.scene import Arrow, Markers, Polygon
from trialmeta.synthesis.data import CISource
from trialmeta.synthesis.run import ACROSS_TRIAL_CAVEAT, run_analyses
from trialmeta.plot.trial_forest import forest_endpoints, trial_spec
from trialmeta.registry.load import load_registry


@pytest.fixture(scope="module")
def registry():
    return load_registry(TRIALS)


@pytest.fixture(scope="module")
def results(registry):
    return {r.name: r for r in run_analyses(registry, load_analyses(TRIALS / "analyses.yaml")[0])}


def joined(scene, role) -> list[str]:
    return [t.text for t in scene.texts(role)]


def span_text(placed, role) -> list[str]:
    """Statistics lines as printed (wrapped lines joined again)."""
    return [" ".join(p.lines["_span"]) for p in placed.rows if p.row.role == role]


def test_no_study_is_dropped_or_reordered(results):
    for name, r in results.items():
        frame = r.frame()
        studies = frame[frame["row_type"] == "study"]
        expected = [f"{t}/{p}" for t, p in zip(studies["trial"], studies["population"])]
        rows = [row for row in analysis_spec(r).rows if row.kind == "study"]
        assert [row.key for row in rows] == expected, name
        for row, acronym in zip(rows, studies["acronym"]):
            assert row.cells["study"].startswith(acronym), name


def test_printed_numbers_are_the_frame_numbers(results):
    for name, r in results.items():
        frame = r.frame()
        scene = forest_scene(r)
        studies = frame[frame["row_type"] == "study"]
        expected = [fmt.ratio_ci(e, lo, hi) for e, lo, hi in zip(studies["est"], studies["ci_low"], studies["ci_high"])]
        assert joined(scene, "study-estimate") == expected, name
        pooled = frame[frame["row_type"].isin(["pooled", "overall"])]
        assert joined(scene, "pooled-estimate") == [fmt.ratio_ci(e, lo, hi) for e, lo, hi in
                                                     zip(pooled["est"], pooled["ci_low"], pooled["ci_high"])], name
        if r.spec.pooled:
            assert joined(scene, "study-weight") == [f"{w:.1f}%" for w in studies["weight"]], name


def test_revman_statistics_lines(results):
    r = results["pi3k-akt-pfs"]
    placed = forest_layout(r)
    assert span_text(placed, "heterogeneity") == [fmt.heterogeneity(g.pooled) for g in r.groups]
    assert span_text(placed, "overall-effect") == [fmt.overall_effect(g.pooled) for g in r.groups]
    # I² from tau² as RevMan 2025: metafor fit$I2 = 30.333 (analyses_reference.json); Q-based 27%
    assert span_text(placed, "heterogeneity")[0] == \
        "Heterogeneity: Tau\u00b2 = 0.01; Chi\u00b2 = 2.74, df = 2 (P = 0.25); I\u00b2 = 30%"
    assert span_text(placed, "overall-effect")[0] == "Test for overall effect: t = 5.55, df = 2 (P = 0.03)"
    (diff,) = span_text(placed, "subgroup-differences")
    assert diff.startswith("Test for subgroup differences: Chi\u00b2 = 3.87, df = 1 (P = 0.05)")
    (inter,) = span_text(placed, "interaction")
    assert inter == fmt.interaction_line(r.interaction, ("PI3K/AKT-pathway altered", "PI3K/AKT-pathway non-altered"))
    assert any(ACROSS_TRIAL_CAVEAT in text for _, text in placed.spec.footnotes)
    k1 = forest_layout(results["alpelisib-altered-pfs"])
    assert span_text(k1, "heterogeneity") == ["Heterogeneity: Not applicable"]
    assert span_text(k1, "overall-effect")[0].startswith("Test for overall effect: Z = 3.18")


def test_diamonds_sit_on_the_pooled_estimates(results):
    for name, r in results.items():
        frame = r.frame()
        pooled = frame[frame["row_type"].isin(["pooled", "overall"])]
        scene = forest_scene(r)
        lim = scene.panel("plot").x.lim
        diamonds = scene.items(Polygon, "diamond")
        assert len(diamonds) == len(pooled), name
        for d, (est, lo, hi) in zip(diamonds, zip(pooled["est"], pooled["ci_low"], pooled["ci_high"])):
            y = min(d.ys) / 2 + max(d.ys) / 2
            widest = [x for x, v in zip(d.xs, d.ys) if v in (min(d.ys), max(d.ys))]
            assert widest == [est, est], name  # widest at the pooled estimate
            if lim[0] <= lo and hi <= lim[1]:  # a whole diamond: tips at the CI limits
                assert (d.xs[0], d.xs[2]) == (lo, hi) and d.ys[0] == d.ys[2] == pytest.approx(y), name
            else:
                assert lim[0] <= min(d.xs) and max(d.xs) <= lim[1], name


def test_a_diamond_wider_than_the_axis_is_cut_with_an_arrow(results):
    """HKSJ with two studies: standard-risk 0.54 [0.04, 7.03] must not squeeze the studies
    (0.33-1.16) into a sliver; the axis stays one scale beyond the studies' and the diamond is cut."""
    r = results["carfilzomib-pfs-cytogenetics"]
    placed = forest_layout(r)
    assert placed.axis.lim == (0.1, 10.0)  # studies need 0.2-5; pooled CIs may add one scale
    scene = forest_scene(r)
    wide = scene.items(Polygon, "diamond")[1]
    hi = r.groups[1].pooled.ci_high
    assert len(wide.xs) == 5 and min(wide.xs) > 0.1 and max(wide.xs) == hi  # cut on the left only
    (arrow,) = scene.items(Arrow, "diamond-arrow")
    assert arrow.x1 == 0.1 and arrow.x0 == pytest.approx(min(wide.xs))  # the arrow carries the cut end on
    assert arrow.y == pytest.approx((min(wide.ys) + max(wide.ys)) / 2)


def test_axis_is_log_and_holds_every_estimate(results):
    for name, r in results.items():
        scene = forest_scene(r)
        axis = scene.panel("plot").x
        assert axis.scale == "log" and 1.0 in axis.ticks, name
        assert axis.lim[0] * axis.lim[1] == pytest.approx(1.0)  # symmetric around 1 (RevMan)
        for m in scene.items(Markers, "study-square"):
            assert axis.lim[0] <= m.xs[0] <= axis.lim[1]


def test_tick_sets_are_readable():
    assert log_axis([0.44, 0.85], 1.8).ticks == (0.2, 0.5, 1.0, 2.0, 5.0)
    assert log_axis([1.2, 1.4], 1.8).ticks == (0.5, 0.7, 1.0, 1.5, 2.0)
    assert log_axis([0.04, 7.0], 1.8).ticks == (0.02, 0.1, 1.0, 10.0, 50.0)
    assert log_axis([0.001, 500], 1.8).lim == (0.01, 100.0)


def test_pooled_cis_widen_the_axis_by_one_scale_at_most():
    studies = [0.33, 0.70, 1.16, 0.44, 0.66, 0.58]
    assert log_axis(studies, 1.8).lim == (0.2, 5.0)
    assert log_axis(studies, 1.8, soft=[0.04, 7.03]).lim == (0.1, 10.0)  # not 0.02-50
    assert log_axis(studies, 1.8, soft=[0.11, 3.24]).lim == (0.1, 10.0)  # a diamond that fits, fits
    assert log_axis(studies, 1.8, soft=[0.5, 1.5]).lim == (0.2, 5.0)  # never narrower than the studies
    assert log_axis([], 1.8, soft=[0.01, 90]).lim == (0.2, 5.0)


def test_every_figure_fits_a_double_journal_column(registry, results):
    """17.5 cm: a 7 in figure is shrunk to 98% and its 7 pt text to 6.9 pt. A forest with risk-of-bias
    columns (six more columns, as RevMan draws them) is a landscape figure: it fits A4 landscape's 25.7 cm
    text width, and without those columns the same forest fits the double column."""
    from trialmeta.plot.forest import analysis_spec
    from trialmeta.plot.grid import place

    limit = 17.5 / 2.54
    for name, r in results.items():
        assert place(analysis_spec(r)).width <= limit, name
        assert forest_layout(r).width <= (25.7 / 2.54 if r.risk_of_bias else limit), name
    for t, e in forest_endpoints(registry):
        assert place(trial_spec(registry, t, e, results=list(results.values()))).width <= limit, (t, e)


def test_subtotal_labels_run_into_the_empty_population_cell(results):
    """'Subtotal (95% CI)ᵃᵇ' (bold, with footnote marks) does not widen the study column: it
    runs on over the population cell, empty in pooled rows, unwrapped."""
    placed = forest_layout(results["carfilzomib-pfs-cytogenetics"])
    x0, x1 = placed.columns["study"]
    for pr in placed.rows:
        if pr.row.kind == "pooled":
            label = pr.row.cells["study"]
            assert pr.lines["study"] == [label]
            assert _tw(label, "bold") > x1 - x0  # wider than its own column ...
            assert x0 + _tw(label, "bold") <= placed.columns["population"][1]  # ... but not than the two
        elif pr.row.kind == "study":
            assert all(_tw(line) <= x1 - x0 + 1e-9 for line in pr.lines["study"])


def test_titles_wrap_into_even_lines(results):
    """No title ends in a lone word ('... by pathway / status')."""
    for name, r in results.items():
        title = forest_layout(r).title
        if len(title) > 1:
            assert _tw(title[-1], "bold", 8.5) > 0.5 * _tw(title[0], "bold", 8.5), (name, title)
    assert forest_layout(results["pi3k-akt-pfs"]).title[-1] != "status"


def test_squares_area_is_proportional_to_inverse_variance_weight_on_one_scale(results):
    """Square area = MAX_SIDE² x w / max w over the whole figure, w = 1/(SE² + τ²) with its
    subgroup's τ² (RevMan and R meta size every square of a figure on one scale); the Weight column
    keeps RevMan's within-subgroup percentages."""
    for name, result in results.items():
        if not result.spec.pooled:
            continue
        frame = result.frame()
        tau2 = dict(zip(frame.loc[frame["row_type"] == "pooled", "subgroup"],
                        frame.loc[frame["row_type"] == "pooled", "tau2"].fillna(0.0)))
        studies = frame[frame["row_type"] == "study"]
        w = {f"{r.trial}/{r.population}@{r.subgroup}": 1 / (r.se ** 2 + tau2.get(r.subgroup, 0.0))
             for r in studies.itertuples() if r.usable and r.se == r.se}
        rows = [r for r in analysis_spec(result).rows if r.kind == "study"]
        keyed = [(f"{r.key}@{s.subgroup}", r) for r, s in zip(rows, studies.itertuples())]
        top = max(w.values())
        for key, row in keyed:
            if key in w and row.side:
                expected = max(MIN_SIDE, MAX_SIDE * math.sqrt(w[key] / top))
                assert row.side == pytest.approx(expected), (name, key)
        assert max(r.side for _, r in keyed) == pytest.approx(MAX_SIDE), name
    # the case: FAKTION alone in the non-altered OS subgroup (100% of it, CI 0.49-1.52) is
    # drawn smaller than SOLAR-1's altered-subgroup square, as its variance says
    rows = {f"{r.key}": r for r in analysis_spec(results["pi3k-akt-os"]).rows if r.kind == "study"}
    faktion = [r for k, r in rows.items() if k.startswith("faktion") and "non" in k]
    solar = [r for k, r in rows.items() if k.startswith("solar")]
    assert faktion and solar and faktion[0].side < max(r.side for r in solar)


def test_favours_labels_for_hazard_ratios_and_pearl(results):
    scene = forest_scene(results["pearl-pfs-ccne1"])
    (left,) = joined(scene, "favours-left")
    right = " ".join(joined(scene, "favours-right"))
    assert left == "Favours palbociclib + fulvestrant" and right == "Favours capecitabine"
    placed = forest_layout(results["pearl-pfs-ccne1"])
    one = placed.x_of(1.0)
    assert scene.texts("favours-left")[0].x < one < scene.texts("favours-right")[0].x
    # PEARL HRs are above 1: their squares sit on the capecitabine side
    assert all(m.xs[0] > 1 for m in scene.items(Markers, "study-square"))
    for name in ("pi3k-akt-pfs", "carfilzomib-os"):
        r = results[name]
        assert joined(forest_scene(r), "favours-left")[0].startswith("Favours")
        assert favours(r.spec.experimental, r.spec.control, r.spec.endpoint, "HR")[0] == \
            f"Favours {r.spec.experimental}"


def test_favours_labels_for_response_risk_ratios(results):
    r = results["carfilzomib-orr"]
    scene = forest_scene(r)
    assert " ".join(joined(scene, "favours-left")) == "Favours non-carfilzomib comparator"
    assert " ".join(joined(scene, "favours-right")) == "Favours carfilzomib-based regimen"
    assert [c.header for c in analysis_spec(r).columns if c.key == "est"] == [("RR [95% CI]",)]
    assert analysis_spec(r).spans == (("Responders/N", ("exp", "ctrl")),)
    assert joined(scene, "study-counts")[:2] == ["345/396", "264/396"]


def test_unpooled_analysis_has_equal_squares_and_no_diamond(results):
    r = results["pearl-pfs-ccne1"]
    spec = analysis_spec(r)
    assert not [row for row in spec.rows if row.kind == "pooled"]
    assert "weight" not in {c.key for c in spec.columns}
    assert len({row.side for row in spec.rows if row.kind == "study"}) == 1
    assert any("Not pooled" in text for _, text in spec.footnotes)
    assert [row.text for row in spec.rows if row.kind == "group"] == ["Cohort 2 (all patients)", "CCNE1 mRNA high"]


def test_header_and_footnotes(results):
    r = results["capivasertib-pfs"]
    spec = analysis_spec(r)
    assert " ".join(spec.plot_header) == "Hazard ratio IV, random (REML, HKSJ), 95% CI"
    notes = [text for _, text in spec.footnotes]
    assert any("update-2022" in n and "primary-2020" in n for n in notes)  # the FAKTION cut used, and why
    assert any(n.startswith("Method: REML") for n in notes)
    faktion = next(row for row in spec.rows if row.key == "faktion/itt")
    assert faktion.cells["study"].startswith("FAKTION 2020") and faktion.cells["study"] != "FAKTION 2020"
    assert faktion.cells["exp"] == "49/69" and faktion.cells["ctrl"] == "63/71"
    capi = next(row for row in spec.rows if row.key == "capitello-291/itt")
    assert capi.cells["exp"] == "\u2014/355"  # events not reported: never invented
    os_notes = [t for _, t in analysis_spec(results["pi3k-akt-os"]).footnotes]
    assert any(t.startswith("\u1d43 Immature data") for t in os_notes)  # lettered: 'ᵃ Immature data ...'
    assert any(t.startswith("k = 1:") for t in [t.split(" ", 1)[1] for t in os_notes])
    assert not any("Covariate-adjusted HR" in t for _, t in spec.footnotes)


def test_tau2_never_prints_a_positive_value_as_zero(results, registry):
    assert [fmt.tau2(x) for x in (0.0, 7.8e-5, 0.004, 0.00605, 0.0456)] == ["0.00", "0.00008", "0.004", "0.01", "0.05"]
    spec = load_analyses(TRIALS / "analyses.yaml")[0]
    # (binary_pooling: mh is refused in a file's defaults; set here in code, as an analysis's override would)
    mh_spec = spec.model_copy(update={"defaults": spec.defaults.model_copy(update={"binary_pooling": "mh"})})
    (orr,) = run_analyses(registry, mh_spec, only="carfilzomib-orr")  # Mantel-Haenszel: Q-based, no tau²
    (het,) = span_text(forest_layout(results["carfilzomib-orr"]), "heterogeneity")  # REML (default): tau² 7.8e-5
    assert het.startswith("Heterogeneity: Tau\u00b2 = 0.00008; Chi\u00b2 = 1.04")
    (mh,) = span_text(forest_layout(orr), "heterogeneity")
    assert mh.startswith("Heterogeneity: Chi\u00b2 = 1.06, df = 1")


def test_study_flags():
    row = {"immature": True, "adjusted": True, "ci_source": CISource("computed", derivation="oe-v"), "usable": True,
           "skipped": ("update-2022 (irc) not used: no CI",), "data_cut": "primary"}
    notes = study_flags(row, "HR")
    assert notes[0].startswith("Immature") and notes[1].startswith("Covariate-adjusted HR")
    assert "CI computed from SE (oe-v), not published." in notes
    assert notes[-1] == "Data cut used: primary; newer: update-2022 (irc) not used: no CI."


def test_prediction_interval_bar_with_arrow(results):
    placed = forest_layout(results["pi3k-akt-pfs"])
    (pi,) = [p.row for p in placed.rows if p.row.kind == "pi"]
    assert (pi.lo, pi.hi) == (results["pi3k-akt-pfs"].groups[0].pooled.pi_low,
                              results["pi3k-akt-pfs"].groups[0].pooled.pi_high)
    scene = forest_scene(results["pi3k-akt-pfs"])
    assert scene.items(type(scene.panels[1].items[0]), "prediction-interval")
    from trialmeta.plot.scene import Arrow

    assert [a.x1 for a in scene.items(Arrow, "prediction-interval-arrow")] == [placed.axis.lim[0]]


# ----------------------------------------------------------------------------- single-trial forests

def test_every_multi_population_trial_gets_its_forests(registry):
    pairs = forest_endpoints(registry)
    assert {("aspire", "PFS"), ("aspire", "OS"), ("faktion", "PFS"), ("pearl", "PFS"), ("solar-1", "PFS"),
            ("capitello-291", "PFS"), ("endeavor", "PFS")} <= set(pairs)
    assert all(e not in ("ORR", "CR", "VGPR") for _, e in pairs)
    multi = {t.trial.id for t in registry.trials if len(t.trial.populations) > 1}
    assert {t for t, _ in pairs} == multi


def test_trial_forest_all_patients_first_and_events_sized(registry):
    spec = trial_spec(registry, "aspire", "PFS")
    rows = [r for r in spec.rows if r.kind == "study"]
    assert rows[0].key == "aspire/itt" and rows[0].cells["population"] == "All patients (ITT)"
    assert [r.key for r in rows[1:]] == ["aspire/prior-1", "aspire/prior-2plus", "aspire/cyto-high",
                                         "aspire/cyto-standard"]
    (itt,) = spec.ref_lines
    assert itt.x == 0.69 and itt.style == "--"
    events = {"aspire/itt": 207 + 224, "aspire/cyto-high": 31 + 32}
    side = {r.key: r.side for r in rows}
    assert side["aspire/itt"] ** 2 / side["aspire/cyto-high"] ** 2 == pytest.approx(events["aspire/itt"] /
                                                                                    events["aspire/cyto-high"])
    assert any("number of events" in t for _, t in spec.footnotes)


def test_trial_forest_keeps_rows_without_ci(registry):
    spec = trial_spec(registry, "pearl", "PFS")
    rows = {r.key: r for r in spec.rows if r.kind == "study"}
    assert list(rows)[0] == "pearl/cohort2"
    assert rows["pearl/esr1-wt"].cells["est"] == "1.11 [no CI]" and not rows["pearl/esr1-wt"].filled
    assert len({r.side for r in rows.values()}) == 1  # no events or n: equal markers, and said so
    assert any("equal size" in t for _, t in spec.footnotes)
    assert spec.favours == ("Favours palbociclib + endocrine therapy", "Favours capecitabine")  # as in the text
    assert spec.subtitle.startswith("Palbociclib + endocrine therapy (exemestane in cohort 1, fulvestrant in "
                                    "cohort 2) vs capecitabine.")
    (c2,) = [t for _, t in spec.footnotes if "<" in t]
    assert c2.endswith("No CI published (P < 0.0001 reported).")  # not 'P = <0.0001'
    assert trial_spec(registry, "aspire", "OS").favours == ("Favours KRd", "Favours Rd")
    with pytest.raises(ValueError, match="at least 2"):
        trial_spec(registry, "aspire", "ORR")


def test_trial_forest_prints_each_within_trial_interaction_once(registry, results):
    spec = trial_spec(registry, "solar-1", "PFS", results=list(results.values()))
    (line,) = [r.text for r in spec.rows if r.role == "interaction"]
    assert line.startswith("Within-trial interaction (ratio of HRs, PIK3CA-mutated cohort vs PIK3CA-non-mutated "
                           "cohort): 0.76 [0.48, 1.22]")
    assert line.rstrip("ᵃᵇᶜᵈᵉᶠ").endswith("0.76 [0.48, 1.22], P = 0.26")  # with its P
    assert "Within-trial interaction as computed in analyses pi3k-akt-pfs, pi3k-akt-pfs-confirmed-negative." in \
        [t for _, t in spec.footnotes]
    cdx = next(r for r in spec.rows if r.key == "solar-1/cdx-positive")
    assert cdx.cells["cut"].startswith("\u2014")  # neither cut-off nor publication date: no year invented


def test_footnote_marks_are_in_letter_order():
    """A subtotal with notes lettered a, c and d is marked 'ᵃᶜᵈ' whatever order its notes come in."""
    from trialmeta.plot.text import Footnotes

    notes = Footnotes()
    assert notes.marks(["first"]) == "\u1d43"
    notes.mark("second")
    assert notes.marks(["fourth", "second", "first", "third"]) == "\u1d43\u1d47\u1d9c\u1d48"


def test_few_studies_show_the_bayesian_row_with_its_prior(results, registry):
    """Issue 14: every random-effects group with 2 <= k <= 4 gets a labelled Bayesian row (prior on
    tau named) beside the HKSJ diamond. Issue 21: carfilzomib ORR is pooled by random effects like every
    measure (HKSJ [0.86, 1.87]) and so has its Bayesian row; an analysis that makes Mantel-Haenszel primary
    (binary_pooling: mh, a common-effect model: RR 1.27 [1.19, 1.34], rma.mh) has no tau and no Bayesian row."""
    spec_file = load_analyses(TRIALS / "analyses.yaml")[0]
    mh_spec = spec_file.model_copy(update={"defaults": spec_file.defaults.model_copy(update={"binary_pooling": "mh"})})
    orr_mh = next(r for r in run_analyses(registry, mh_spec) if r.name == "carfilzomib-orr")
    orr_iv = results["carfilzomib-orr"]
    mh = orr_mh.groups[0].pooled
    assert orr_mh.pooling == "mh" and mh.bayes is None and orr_iv.pooling == "iv"
    assert (fmt.ratio(mh.ci_low), fmt.ratio(mh.ci_high)) == ("1.19", "1.34")
    assert not [row for row in forest_layout(orr_mh).spec.rows if row.kind == "bayes"]
    for name, r in results.items():
        spec = forest_layout(r).spec
        for g in r.groups:
            p = g.pooled
            rows = [row for row in spec.rows if row.kind == "bayes" and row.key == g.key]
            if p is None or not 2 <= p.k <= 4:
                assert rows == [], (name, g.key)
                continue
            (row,) = rows
            assert row.cells["study"] == "Bayesian, \u03c4 ~ HN(0.5)"  # HN = half-normal, in the legend note
            assert (row.est, row.lo, row.hi) == (p.bayes.est, p.bayes.ci_low, p.bayes.ci_high)
    orr = orr_iv.groups[0].pooled
    assert fmt.ratio(orr.ci_low) == "0.86" and orr.k == 2
    (row,) = [row for row in forest_layout(orr_iv).spec.rows if row.kind == "bayes"]
    assert row.cells["est"].startswith(f"{fmt.ratio(orr.bayes.est)} [{fmt.ratio(orr.bayes.ci_low)}, ")
    assert any("half-normal(0.5) prior on the between-study SD" in text for _, text in
               forest_layout(orr_iv).spec.footnotes)
    assert any("which interval to read" in str(n) for n in orr.notes)


def test_a_forest_without_any_study_explains_only_what_it_shows(registry):
    """As of a date before every publication there is no study row: the figure says why each
    subgroup is empty and how it would have been pooled, but has no squares or counts to explain."""
    spec, _ = load_analyses(TRIALS / "analyses.yaml")
    (r,) = [x for x in run_analyses(registry, spec, as_of="1990") if x.name == "carfilzomib-os"]
    notes = " ".join(t for _, t in analysis_spec(r).footnotes)
    assert "no OS result" in notes and "Method:" in notes
    assert "Squares:" not in notes and "Per-arm events" not in notes
    (full,) = [x for x in run_analyses(registry, spec) if x.name == "carfilzomib-os"]
    assert "Squares:" in " ".join(t for _, t in analysis_spec(full).footnotes)


def test_notes_once_per_figure_and_no_mark_for_what_a_row_shows(results):
    """Notes are de-duplicated per figure: each text printed once; the Bayesian sensitivity result,
    drawn as its own row (and explained by the Bayesian legend note), gets no lettered note
    repeating its numbers; 'no prediction interval' is one plain note however many subgroups are
    small. A subtotal carries at most three marks (it had five: pi3k-akt-pfs non-altered)."""
    from trialmeta.plot.text import _SUPERSCRIPTS

    marks = set(_SUPERSCRIPTS.values())
    for name, result in results.items():
        spec = analysis_spec(result)
        texts = [t.split(" ", 1)[1] if role == "footnote" else t for role, t in spec.footnotes]
        assert len(texts) == len(set(texts)), name
        lettered = [t for role, t in spec.footnotes if role == "footnote"]
        bayes_rows = [r for r in spec.rows if r.kind == "bayes"]
        for row in bayes_rows:
            assert not [t for t in lettered if "sensitivity, Bayesian" in t and row.cells["est"] in t], name
        assert not [t for t in lettered if "No prediction interval" in t], name
        assert sum(t.startswith("No prediction interval") for t in texts) <= 1, name
        for row in spec.rows:
            for cell in row.cells.values():
                assert sum(c in marks for c in str(cell)) <= 3, (name, cell)

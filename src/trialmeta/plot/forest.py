"""The forest plot of one pooled analysis as plain data (RevMan 5 layout, no matplotlib).

Everything printed comes from :func:`trialmeta.synthesis.data.analysis_frame`, the frame the
evidence tables print, formatted by :mod:`trialmeta.fmt`: the figure and the tables cannot
disagree. Layout (Cochrane Handbook 5.1 §11.3.2.1; R meta ``forest(..., layout = "RevMan5")``):

* left: "Study or subgroup" (trial + data-cut year, footnote letters), population, events/N
  (responders/N for risk ratios) per arm where known; right: weight within the subgroup and
  "HR [95% CI]";
* per subgroup: its header, its studies in file order (never dropped, never re-sorted), the
  "Subtotal (95% CI)" diamond, the prediction-interval bar when defined, the heterogeneity and
  overall-effect lines; then the overall total if pooled, the test for subgroup differences
  and the within-trial interaction;
* squares with area proportional to weight; a fixed open square for a study that cannot be
  pooled; a fixed filled square when the analysis is not pooled (``pooled: false``).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

from trialmeta import fmt
from trialmeta.fmt import nan_to_none, positive
from trialmeta.plot.grid import Placed
from trialmeta.plot.style import styled_layout, styled_scene
from trialmeta.plot.spec import FIXED_SIDE, MAX_SIDE, MIN_SIDE, Column, ForestSpec, RefLine, Row
from trialmeta.plot.text import (Footnotes, estimate_text, events_n, favours, statistics_lines,
                                   study_flags, weight_text, year)
from trialmeta.stats.notes import NoteKind
from trialmeta.synthesis.data import describe_method
from trialmeta.plot.scene import Scene
from trialmeta.synthesis.run import ACROSS_TRIAL_CAVEAT
from trialmeta.registry.vocab import ENDPOINTS

MEASURE_NAMES = {"HR": "Hazard ratio", "RR": "Risk ratio"}


def _pooled_ns(rec: dict) -> SimpleNamespace:
    """A pooled frame row with the attributes :mod:`trialmeta.fmt` reads (integers as ints)."""
    ns = SimpleNamespace(**{k: nan_to_none(v) for k, v in rec.items()})
    for key in ("k", "df"):
        if getattr(ns, key, None) is not None:
            setattr(ns, key, int(getattr(ns, key)))
    return ns


def square_side(weight) -> float:
    """Side in points of a study square: area proportional to weight (100% = MAX_SIDE²)."""
    if not positive(weight):
        return MIN_SIDE
    return max(MIN_SIDE, MAX_SIDE * math.sqrt(weight / 100.0))


def _sum(values):
    values = [nan_to_none(v) for v in values]
    if not values or any(v is None for v in values):
        return None
    return sum(int(v) for v in values)


def _columns(measure: str, level: float, counts: bool, pooled: bool) -> tuple[Column, ...]:
    cols = [Column("study", ("Study or", "subgroup"), "left", wrap=1.3, role="label", overflow=True),
            Column("population", ("Population",), "left", wrap=1.3, role="population")]
    if counts:
        cols += [Column("exp", ("Exp.",), "left", "center", role="counts"),
                 Column("ctrl", ("Ctrl",), "left", "center", role="counts")]
    if pooled:
        cols.append(Column("weight", ("Weight",), "right", "right", role="weight"))
    cols.append(Column("est", (f"{measure} [{level:.0%} CI]",), "right", "right", role="estimate"))
    return tuple(cols)


def figure_weights(records: list[dict]) -> dict[tuple, float]:
    """(subgroup, trial, population) -> the study's inverse-variance weight 1/(SE² + τ²) (τ² of
    its subgroup's random-effects model, 0 for a common-effect one) as a percentage of the
    largest such weight in the figure: one scale for every square of the figure, as RevMan and
    R meta draw them, so a lone study in a small subgroup is not drawn as the largest square."""
    tau2 = {r["subgroup"]: r.get("tau2") for r in records if r["row_type"] == "pooled"}
    raw = {}
    for r in records:
        se = nan_to_none(r.get("se")) if r["row_type"] == "study" and r["usable"] else None
        if positive(se):
            t2 = nan_to_none(tau2.get(r["subgroup"])) or 0.0
            raw[(r["subgroup"], r["trial"], r["population"])] = 1.0 / (se * se + max(t2, 0.0))
    top = max(raw.values(), default=0.0)
    return {k: 100.0 * w / top for k, w in raw.items()} if top > 0 else {}


def _study_row(rec: dict, study, measure: str, pooled: bool, notes: Footnotes, scale: dict | None = None) -> Row:
    flags = study_flags({**rec, "responders_derived": study.row.get("responders_derived")}, measure)
    label = f"{rec['acronym']} {year(rec)}".strip() + notes.marks(flags)
    kind = "responders" if measure == "RR" else "events"
    usable = bool(rec["usable"])
    weighted = pooled and usable
    est, lo, hi = (nan_to_none(rec[k]) for k in ("est", "ci_low", "ci_high"))
    cells = {"study": label, "population": rec["population_label"],
             "exp": events_n(rec[f"{kind}_exp"], rec["n_exp"]), "ctrl": events_n(rec[f"{kind}_ctrl"], rec["n_ctrl"]),
             "weight": weight_text(rec["weight"]) if weighted else "", "est": estimate_text(est, lo, hi)}
    relative = (scale or {}).get((rec["subgroup"], rec["trial"], rec["population"]), rec["weight"])
    side = square_side(relative) if weighted else FIXED_SIDE
    return Row("study", cells, est=est, lo=lo, hi=hi, side=side if positive(est) else 0.0, filled=usable,
               key=f"{rec['trial']}/{rec['population']}")


def _bayes_row(ns, settings, measure: str, key: str) -> list[Row]:
    """The few-studies policy: for 2 <= k <= ``bayes_max_k`` (random effects, not already Bayesian)
    the Bayesian result, its prior on tau named, as a labelled sensitivity row."""
    if settings.method in ("bayes", "fe") or not 2 <= ns.k <= settings.bayes_max_k:
        return []
    if not (positive(getattr(ns, "bayes_est", None)) and positive(ns.bayes_ci_low) and positive(ns.bayes_ci_high)):
        return []
    # kept as narrow as the other rows (the prior in short form, spelled out in the legend note)
    label = f"Bayesian, \u03c4 ~ {settings.tau_prior.short()}"
    text = estimate_text(ns.bayes_est, ns.bayes_ci_low, ns.bayes_ci_high)
    return [Row("bayes", {"study": label, "est": text}, est=ns.bayes_est, lo=ns.bayes_ci_low,
                hi=ns.bayes_ci_high, soft=True, key=key)]


def _pooled_rows(rec: dict, label: str, studies: list[dict], measure: str, notes: Footnotes,
                 settings=None) -> list[Row]:
    ns = _pooled_ns(rec)
    kind = "responders" if measure == "RR" else "events"
    usable = [s for s in studies if s["usable"]]
    bayes = _bayes_row(ns, settings, measure, rec["subgroup"]) if settings is not None and ns.k else []
    group_notes = []
    for n in getattr(ns, "notes", None) or ():
        what = getattr(n, "kind", None)
        if what is NoteKind.BAYES_SENSITIVITY and bayes:
            continue  # its numbers are the Bayesian row's, its method the Bayesian legend note's
        if what is NoteKind.NO_PI_FEW_STUDIES:
            notes.note(str(n))  # the same for every small subgroup: one plain note, no mark
            continue
        group_notes.append(str(n))
    cells = {"study": label + notes.marks(group_notes),
             "exp": events_n(_sum(s[f"{kind}_exp"] for s in usable), _sum(s["n_exp"] for s in usable)),
             "ctrl": events_n(_sum(s[f"{kind}_ctrl"] for s in usable), _sum(s["n_ctrl"] for s in usable))}
    if not ns.k:
        cells["est"] = "Not estimable"
        return [Row("pooled", cells, bold=True, key=rec["subgroup"])]
    cells.update(weight="100.0%", est=estimate_text(ns.est, ns.ci_low, ns.ci_high))
    rows = [Row("pooled", cells, est=ns.est, lo=ns.ci_low, hi=ns.ci_high, bold=True, key=rec["subgroup"])]
    if positive(ns.pi_low) and positive(ns.pi_high):
        rows.append(Row("pi", {"study": "Prediction interval", "est": f"[{fmt.ratio(ns.pi_low)}, "
                                                                      f"{fmt.ratio(ns.pi_high)}]"},
                        lo=ns.pi_low, hi=ns.pi_high, key=rec["subgroup"]))
    rows += bayes
    rows += [Row("stat", text=text, role=role, key=rec["subgroup"]) for role, text in statistics_lines(ns)]
    return rows


def analysis_spec(result, *, pooled_line: bool = True, width: float | None = None) -> ForestSpec:
    """The forest plot of ``result`` (a :class:`~trialmeta.synthesis.run.AnalysisResult`) as data.

    Parameters
    ----------
    pooled_line : bool
        Draw a dashed line at each pooled estimate, spanning the rows it summarises.
    width : float, optional
        Figure width in inches (default 6.85, within a 17.5 cm double journal column; wider
        only if even the tightest wrapping leaves the plot column too narrow).
    """
    spec, frame = result.spec, result.frame()
    measure, level, pooled = spec.measure, result.settings.level, spec.pooled
    records = [{k: nan_to_none(v) for k, v in r.items()} for r in frame.to_dict(orient="records")]
    studies = [r for r in records if r["row_type"] == "study"]
    counts = any(events_n(r[f"{c}_{arm}"], r[f"n_{arm}"]) for r in studies for arm in ("exp", "ctrl")
                 for c in ("events", "responders"))
    notes = Footnotes()
    scale = figure_weights(records)
    rows: list[Row] = []
    refs: list[RefLine] = []
    several = len(result.groups) > 1 or not pooled
    it = iter(studies)
    for gi, group in enumerate(result.groups):
        first = len(rows)
        if gi:
            rows.append(Row("gap"))
            first += 1
        if several:
            rows.append(Row("group", text=group.label, role="group-label", bold=True, key=group.key))
        recs = [next(it) for _ in group.studies]
        for rec, study in zip(recs, group.studies):
            assert (rec["trial"], rec["population"]) == (study.trial, study.population), "frame out of order"
            rows.append(_study_row(rec, study, measure, pooled, notes, scale))
        if not group.studies:
            rows.append(Row("stat", text="No study reports this endpoint for this subgroup", role="empty-group"))
        prec = next((r for r in records if r["row_type"] == "pooled" and r["subgroup"] == group.key), None)
        if prec is not None:
            label = "Subtotal" if several else "Total"
            diamond = len(rows)
            rows += _pooled_rows(prec, f"{label} ({level:.0%} CI)", recs, measure, notes, result.settings)
            if pooled_line and positive(prec.get("est")):
                refs.append(RefLine(prec["est"], first + (1 if several else 0), diamond))
    over = next((r for r in records if r["row_type"] == "overall"), None)
    if over is not None:
        rows.append(Row("gap"))
        total = len(rows)
        rows += _pooled_rows(over, f"Total ({level:.0%} CI)", studies, measure, notes, result.settings)
        if pooled_line and positive(over.get("est")):
            refs = [RefLine(over["est"], 0, total)]
    caveat_shown = False
    if result.subgroup_test is not None:
        mark = notes.mark(f"Test for subgroup differences: {result.subgroup_test.method}. {ACROSS_TRIAL_CAVEAT}")
        caveat_shown = True
        rows.append(Row("stat", text=fmt.subgroup_differences(result.subgroup_test) + mark,
                        role="subgroup-differences"))
    if result.interaction is not None:
        labels = tuple(next(g.label for g in result.groups if g.key == k) for k in spec.interaction)
        rows.append(Row("stat", text=fmt.interaction_line(result.interaction, labels, measure), role="interaction"))
    _general_notes(result, notes, counts, len(refs), any(r.kind == "pi" for r in rows), caveat_shown)
    if any(r.kind == "bayes" for r in rows):
        prior = result.settings.tau_prior
        notes.note(f"Bayesian, \u03c4 ~ {prior.short()} (open diamond on a line): sensitivity analysis for groups of 2 "
                   f"to {result.settings.bayes_max_k} studies, where \u03c4 cannot be estimated from the data: "
                   f"posterior median and {level:.0%} equal-tailed credible interval of the Bayesian normal-normal "
                   f"random-effects model with a {prior.describe()} prior on the between-study SD \u03c4 (log "
                   f"scale) and a flat prior on the mean, computed by numerical integration.")
    left, right = favours(spec.experimental, spec.control, spec.endpoint, measure)
    method = describe_method(result).how if pooled else f"{level:.0%} CI (not pooled)"
    endpoint = ENDPOINTS.get(spec.endpoint, ("", spec.endpoint))[1]
    subtitle = (f"{endpoint} ({spec.endpoint}). Experimental: {spec.experimental}; control: {spec.control}."
                + (f" Data published up to {result.as_of}." if result.as_of else ""))
    spans = (("Responders/N" if measure == "RR" else "Events/N", ("exp", "ctrl")),) if counts else ()
    return ForestSpec(spec.title, subtitle, _columns(measure, level, counts, pooled), tuple(rows),
                      (MEASURE_NAMES[measure], method), (left, right), tuple(notes.lines()), tuple(refs),
                      spans, **({"width": width} if width else {}))


def _general_notes(result, notes: Footnotes, counts: bool, dashed: int, pi: bool, caveat_shown: bool) -> None:
    spec = result.spec
    notes.note("Study: trial and the year of the data cut-off used (of its first publication when the cut-off "
               "date is not reported); for each population the latest data cut with a usable estimate"
               + (f" published by {result.as_of}" if result.as_of else "") + ".")
    shown = any(g.studies for g in (*result.groups, *([result.overall] if result.overall else ())))
    if counts:
        what = "responders" if spec.measure == "RR" else "events"
        notes.note(f"{what.capitalize()}/N: {what} / patients analysed in the experimental (Exp.) and control "
                   f"(Ctrl) arms; {chr(0x2014)} not reported.")
    elif shown:  # (no study row at all, e.g. as of a date before every publication: nothing to explain)
        notes.note("Per-arm events and patient numbers are not reported for these studies.")
    if spec.pooled and shown:
        legend = ("Squares: area proportional to the study's inverse-variance weight 1/(SE\u00b2 + \u03c4\u00b2), "
                  "on one scale across the figure; Weight: percentage within its subgroup ("
                  + ("Mantel-Haenszel" if getattr(result, "pooling", "iv") == "mh" else "inverse variance") + "); "
                  "diamonds: pooled estimate and its CI")
        legend += "; bars: prediction interval" if pi else ""
        legend += {0: "", 1: "; dashed line: pooled estimate"}.get(dashed, "; dashed lines: pooled estimates")
        notes.note(legend + ".")
    if spec.pooled:
        notes.note(f"Method: {result.describe_pooling()}.")
    else:
        notes.note("Not pooled (pooled: false in analyses.yaml): studies are shown side by side with equal squares.")
    for line in [*spec.notes, *result.notes]:
        if not (caveat_shown and line == ACROSS_TRIAL_CAVEAT):
            notes.note(line)


def forest_layout(result, style=None, **options) -> Placed:
    """The placed layout (rows with y positions, column x ranges, axis) of ``result``, laid out
    at 7 pt for ``style`` (a :class:`~trialmeta.plot.style.FigureStyle`; default: RevMan)."""
    return styled_layout(_with_rob(analysis_spec(result, **options), result, style), style)


def figure_notes(result, style=None) -> tuple[str, ...]:
    """The notes of ``result``'s forest plot at the style's footnote level (full: every note; short:
    the lettered notes its marks point to; none: none), for a document to print as text under the
    figure's caption when the style leaves them out of the image."""
    from trialmeta.plot.rob_columns import LEGEND, LEGEND_OVERALL

    keep = {"full": ("footnote", "note"), "short": ("footnote",), "none": ()}[style.footnotes if style else "full"]
    # the risk-of-bias legend whenever the figure has RoB columns: their symbols need it at every level
    return tuple(text for role, text in _with_rob(analysis_spec(result), result, style).footnotes
                 if role in keep or text in (LEGEND, LEGEND_OVERALL))


def forest_scene(result, style=None, **options) -> Scene:
    """The forest plot of ``result`` as a :class:`~trialmeta.plot.scene.Scene`, in ``style``, with its
    risk-of-bias columns (:mod:`trialmeta.plot.rob_columns`)."""
    from trialmeta.plot.rob_columns import decorate

    return decorate(styled_scene(_with_rob(analysis_spec(result, **options), result, style), style))


def _with_rob(spec: ForestSpec, result, style) -> ForestSpec:
    """The RoB columns as the style asks (``FigureStyle.rob``): D1-D5 and Overall (revman, the default);
    the overall column only (document, journal-double: the figure fits the page's text width); none
    in the compact styles (a single journal column, a slide), which keep only the columns a reader
    needs to read the estimates."""
    from trialmeta.plot.rob_columns import with_rob

    rob = "domains" if style is None else style.rob
    if rob == "none" or (style is not None and style.compact):
        return spec
    return with_rob(spec, getattr(result, "risk_of_bias", {}), domains=rob == "domains")

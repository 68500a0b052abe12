"""The cumulative view as a figure: each pooled estimate and CI after every publication.

A cumulative forest plot on the forest grid (:mod:`trialmeta.plot.grid`), so it shares the
forest plots' journal width, 7 pt text, log axis and ticks (:mod:`trialmeta.plot.axis`),
favours labels and footnotes. Per subgroup (in the analysis's order, then the overall total
if pooled): a header, then one row per publication date with the data cuts the estimate
rested on by then and the pooled estimate, drawn as a square with its CI (arrows where the CI
runs past the axis). Numbers are printed by :mod:`trialmeta.fmt`, as in the
``<analysis>-history.csv`` tables (:func:`trialmeta.synthesis.history.evolution_frame`).
"""

from __future__ import annotations

from dataclasses import replace

from trialmeta.fmt import positive
from trialmeta.plot.grid import place
from trialmeta.plot.draw import to_scene
from trialmeta.plot.spec import FIXED_SIDE, Column, ForestSpec, Row
from trialmeta.plot.text import Footnotes, estimate_text, favours, measure_label
from trialmeta.stats.notes import NoteKind, has
from trialmeta.synthesis.data import describe_method, study_display
from trialmeta.plot.scene import Scene
from trialmeta.registry.vocab import ENDPOINTS

MEASURE_NAMES = {"HR": "Hazard ratio", "RR": "Risk ratio"}


def _used(g) -> tuple:
    return tuple((s.trial, s.population, s.row["data_cut"]) for s in g.usable)


def _groups(steps) -> dict:
    """Subgroup key -> (label, [(date, GroupOutcome, pooled?)]) in first-seen order.

    A subgroup gets a row only when what it pools changes: a date that brought nothing new
    to it (another subgroup's publication) would repeat the row above, and a date before its
    first usable study would show an empty one."""
    groups: dict = {}
    last: dict = {}
    for step in steps:
        r = step.result
        for g in (*r.groups, *([r.overall] if r.overall else [])):
            items = groups.setdefault(g.key, (g.label, []))[1]
            last[g.key] = (step.as_of, g, r.spec.pooled)
            if _used(g) and not (items and _used(items[-1][1]) == _used(g)):
                items.append(last[g.key])
    for key, (_, items) in groups.items():
        if not items:  # never a usable study: one row says so
            items.append(last[key])
    return groups


NARROW_NOTE = ("HKSJ CI narrower than the Wald CI: when few studies agree closely HKSJ can be implausibly narrow "
               "(Jackson et al. 2017); the ad hoc variant (ci: hksj-adhoc) never goes below Wald.")


def _step_row(key: str, date: str, g, pooled: bool, latest: bool, level: float, notes: Footnotes) -> Row:
    used = ", ".join(f"{s.row['acronym']} {s.row['data_cut']}" for s in g.usable) or "No usable study"
    narrow = g.pooled is not None and has(g.pooled.notes, NoteKind.HKSJ_NARROWER)
    mark = notes.mark(NARROW_NOTE) if narrow else ""
    p = g.pooled
    est, lo, hi = (p.est, p.ci_low, p.ci_high) if p is not None else (None, None, None)
    if not pooled and len(g.usable) == 1:  # not pooled: a lone study's own estimate
        est, lo, hi, _ = study_display(g.usable[0], level)
    text = estimate_text(est, lo, hi) if pooled or positive(est) else "Not pooled"
    return Row("study", {"date": date + mark, "studies": used, "est": text}, est=est, lo=lo, hi=hi,
               side=FIXED_SIDE if positive(est) else 0.0, key=f"{key}/{date}", soft=not latest)


def history_spec(name: str, steps, measure: str | None = None) -> ForestSpec:
    """The cumulative forest of one analysis (its :class:`~trialmeta.synthesis.history.Step` list) as
    data; ``measure`` defaults to the analysis's own (HR or RR)."""
    last = steps[-1].result
    spec, level = last.spec, last.settings.level
    measure = measure or spec.measure
    rows: list[Row] = []
    notes = Footnotes()
    for i, (key, (label, items)) in enumerate(_groups(steps).items()):
        if i:
            rows.append(Row("gap"))
        rows.append(Row("group", text=label, role="group-label", bold=True, key=key))
        rows += [_step_row(key, date, g, pooled, j == len(items) - 1, level, notes)
                 for j, (date, g, pooled) in enumerate(items)]
    notes.note("Cumulative meta-analysis by publication date: each row is the estimate as it stood once the data "
               "cuts published by that date were available; each trial population contributes its latest usable "
               "data cut published by then, so an updated cut replaces the earlier one (Cochrane Handbook ch. 22: "
               "no sequential test is applied).")
    notes.note("Published by: dates as precise as published; a year alone counts from its end, so it follows that "
               "year's dated publications. Studies: trial and data cut pooled at that date.")
    notes.note("Squares: the estimate; lines: its CI. The axis is set by the latest estimates: an earlier, wider CI "
               "may run past it (arrow).")
    if spec.pooled:
        notes.note(f"Method: {last.settings.describe()}.")
    else:
        notes.note("Not pooled (pooled: false in analyses.yaml): a subgroup of one study shows that study's "
                   "estimate; a subgroup of several shows none.")
    method = describe_method(last).how if spec.pooled else f"{level:.0%} CI (not pooled)"
    endpoint = ENDPOINTS.get(spec.endpoint, ("", spec.endpoint))[1]
    columns = (Column("date", ("Published", "by"), "left", role="date"),
               Column("studies", ("Studies (data cut)",), "left", wrap=2.4, role="studies"),
               Column("est", (measure_label(measure, level),), "right", "right", role="estimate"))
    return ForestSpec(f"{spec.title} (cumulative, by publication date)",
                      f"{endpoint} ({spec.endpoint}). Experimental: {spec.experimental}; control: {spec.control}.",
                      columns, tuple(rows), (MEASURE_NAMES.get(measure, measure), method),
                      favours(spec.experimental, spec.control, spec.endpoint, measure), tuple(notes.lines()))


def history_scene(name: str, steps, measure: str | None = None) -> Scene:
    """A scene of the evolution of every subgroup of one analysis."""
    scene = to_scene(place(history_spec(name, steps, measure)))
    return replace(scene, metadata={"kind": "history", "analysis": name})

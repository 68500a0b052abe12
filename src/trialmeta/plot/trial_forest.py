"""Single-trial subgroup forest (clinical-trial report style, chevron/tern FSTG02).

One trial, one time-to-event endpoint, every population with a hazard ratio as a row:
"All patients" populations first (outermost first), then the others in file order. For each
population the data cut is chosen as in the pooled analyses (latest usable cut,
:func:`trialmeta.synthesis.selection.choose`); a population whose HR has no CI is shown with a note.
Marker area is proportional to the events in the population (or to its patients when
events are not reported for every row; equal when neither is), with a solid line at 1 and a
dashed line at the all-patients HR. The registry holds no published interaction P values; the
within-trial interaction (ratio of HRs, its CI and P) an analysis computed for this trial is
printed when the figure shows both of its populations at the same data cut. Arms are named
in the favours labels by their short name (the acronym in brackets ending the label, if any).
"""

from __future__ import annotations

import math

from trialmeta import fmt
from trialmeta.registry.analyses import Settings
from trialmeta.fmt import missing, nan_to_none, positive
from trialmeta.plot.spec import FIXED_SIDE, MAX_SIDE, MIN_SIDE, Column, ForestSpec, RefLine, Row
from trialmeta.plot.text import (EM_DASH, Footnotes, estimate_text, events_n, favours, in_sentence, short_arm,
                                   study_flags, year)
from trialmeta.registry.frame import results_frame
from trialmeta.synthesis.data import study_display
from trialmeta.plot.scene import Scene
from trialmeta.plot.style import styled_scene
from trialmeta.synthesis.selection import Study, StudyRows, ancestors, choose, filter_as_of
from trialmeta.registry.vocab import ENDPOINTS, endpoint_kind


def _order(registry, trial_id: str) -> list:
    """Populations: all-patients ones first (outermost first), then the rest in file order."""
    pops = list(registry.by_id(trial_id).populations)
    allp = [p for p in pops if p.biomarker == "all-patients"]
    allp.sort(key=lambda p: len(ancestors(registry, trial_id, p.key)))
    return allp + [p for p in pops if p.biomarker != "all-patients"]


def trial_studies(registry, trial_id: str, endpoint: str, frame=None, rows: StudyRows | None = None) -> list[Study]:
    """The row of each population with an HR for ``endpoint``, in display order. ``rows``: the
    results table's records (``StudyRows(frame)``), when the caller has them (one conversion of
    the table for every forest, not a filter and a conversion per population)."""
    if rows is None:
        rows = StudyRows(results_frame(registry) if frame is None else frame)
    out = []
    for pop in _order(registry, trial_id):
        recs = [r for r in rows.of(endpoint, trial_id, pop.key) if not missing(r.get("hr"))]
        if recs:
            out.append(choose(recs, "HR", Settings(), None))
    return out


def _size_basis(studies: list[Study]) -> tuple[str, list]:
    """('events' | 'patients' | 'equal', values): what marker areas are proportional to."""
    def events(s):
        r = s.row
        e, c, t = nan_to_none(r.get("events_exp")), nan_to_none(r.get("events_ctrl")), nan_to_none(r.get("events_total"))
        return e + c if e is not None and c is not None else t

    def patients(s):
        e, c = nan_to_none(s.row.get("n_exp")), nan_to_none(s.row.get("n_ctrl"))
        return e + c if e is not None and c is not None else None

    for name, fn in (("events", events), ("patients", patients)):
        values = [fn(s) for s in studies]
        if all(positive(v) for v in values):
            return name, values
    return "equal", [None] * len(studies)


def _interactions(results, acronym: str, endpoint: str, studies: list[Study], notes: Footnotes) -> list[str]:
    """The within-trial interactions analyses computed for this trial from rows this figure
    shows: 'Within-trial interaction (ratio of HRs, a vs b): 0.53 [0.25, 1.17], P = 0.12ᵃ'; a
    note names the analyses."""
    shown = {(s.population, s.row["data_cut"]) for s in studies}
    found: dict[tuple, list[str]] = {}  # (label a, label b, ratio text, P text) -> analyses
    for r in results or ():
        if r.interaction is None or r.spec.endpoint != endpoint:
            continue
        for (a, b), t in zip(r.interaction_studies, r.interaction.per_trial):
            if t.trial == acronym and {(a.population, a.row["data_cut"]), (b.population, b.row["data_cut"])} <= shown:
                key = (a.row["population_label"], b.row["population_label"],
                       fmt.ratio_ci(t.ratio, t.ci_low, t.ci_high), fmt.p_value(getattr(t, "p", None)))
                found.setdefault(key, []).append(r.name)
    lines = []
    for (a, b, ratio, p), names in found.items():
        mark = notes.mark("Ratio of the two populations' HRs with its CI and P (z test on the log ratio), "
                          "computed from their published HRs and CIs; not a published interaction test")
        lines.append(f"Within-trial interaction (ratio of HRs, {a} vs {b}): {ratio}, {p}{mark}")
    names = list(dict.fromkeys(n for ns in found.values() for n in ns))
    if names:
        notes.note(f"Within-trial interaction{'s' if len(lines) > 1 else ''} as computed in "
                   f"analys{'is' if len(names) == 1 else 'es'} {', '.join(names)}.")
    return lines


def _p_reported(p) -> str:
    """'P = 0.03' or 'P < 0.0001' for a P value as the registry records it (a number or text)."""
    text = str(p).strip()
    return f"P {text[0]} {text[1:].strip()}" if text[:1] in "<>≤≥" else f"P = {text}"


def trial_spec(registry, trial_id: str, endpoint: str, *, results=None, width: float | None = None,
               frame=None, rows: StudyRows | None = None) -> ForestSpec:
    """The subgroup forest of one trial and endpoint as data.

    Raises
    ------
    ValueError
        Fewer than two populations have an HR for ``endpoint``.
    """
    trial = registry.by_id(trial_id)
    if frame is None:
        as_of = next((r.as_of for r in results or () if r.as_of), None)
        frame, _ = filter_as_of(results_frame(registry), as_of)
    studies = trial_studies(registry, trial_id, endpoint, frame, rows)
    if len(studies) < 2:
        raise ValueError(f"{trial.acronym} {endpoint}: {len(studies)} population(s) with a hazard ratio; "
                         "a subgroup forest needs at least 2")
    notes, rows = Footnotes(), []
    basis, values = _size_basis(studies)
    biggest = max((v for v in values if positive(v)), default=1.0)
    itt = None
    for s, v in zip(studies, values):
        est, lo, hi, source = study_display(s, 0.95)
        # nothing is pooled here: a row without a usable SE is simply shown without its CI
        rec = {**s.row, "ci_source": source, "usable": True, "skipped": s.skipped, "est": est,
               "approximate": bool(s.row.get("approximate")) and positive(lo)}
        flags = [f"Data cut: {s.row['data_cut_label']} ({s.row['data_cut']})."] + study_flags(rec, "HR")
        if not positive(lo):
            p = s.row.get("p")
            flags.append("No CI published" + (f" ({_p_reported(p)} reported)." if p else "."))
        side = max(MIN_SIDE, MAX_SIDE * math.sqrt(v / biggest)) if positive(v) else FIXED_SIDE
        cells = {"population": s.row["population_label"], "cut": (year(s.row) or EM_DASH) + notes.marks(flags),
                 "exp": events_n(s.row.get("events_exp"), s.row.get("n_exp")),
                 "ctrl": events_n(s.row.get("events_ctrl"), s.row.get("n_ctrl")),
                 "est": estimate_text(est, lo, hi)}
        rows.append(Row("study", cells, est=est, lo=lo, hi=hi, side=side if positive(est) else 0.0, filled=s.usable,
                        key=f"{s.trial}/{s.population}"))
        pop = next(p for p in trial.populations if p.key == s.population)
        if itt is None and pop.biomarker == "all-patients" and positive(est):
            itt = (est, s.row["population_label"])
    counts = any(r.cells["exp"] or r.cells["ctrl"] for r in rows if r.kind == "study")
    interactions = _interactions(results, trial.acronym, endpoint, studies, notes)
    for line in interactions:
        rows.append(Row("stat", text=line, role="interaction"))
    notes.note({"events": "Marker area proportional to the number of events in the population (both arms).",
                "patients": "Marker area proportional to the number of patients in the population (events are "
                            "not reported for every population).",
                "equal": "Markers of equal size: events and patient numbers are not reported for every "
                         "population."}[basis])
    notes.note(f"Events/N: events / patients analysed in the experimental (Exp.) and control (Ctrl) arms; "
               f"{EM_DASH} not reported." if counts else "Per-arm events and patient numbers are not reported "
               "for these populations.")
    notes.note("Solid line: HR = 1. " + (f"Dashed line: HR in {itt[1]}." if itt else
                                           "No all-patients HR for this endpoint in the registry, so no dashed line."))
    notes.note("Populations overlap or are nested: rows are not independent and are not pooled. "
               + ("No published interaction test is recorded in the registry for these populations."
                  if not interactions else "No published interaction test is recorded in the registry."))
    arms = trial.arms
    left, right = favours(short_arm(arms.experimental.label), short_arm(arms.control.label), endpoint, "HR")
    name = ENDPOINTS.get(endpoint, ("", endpoint))[1]
    columns = (Column("population", ("Population",), "left", wrap=2.3, role="population"),
               Column("cut", ("Data", "cut"), "left", "left", role="cut"),
               *((Column("exp", ("Exp.",), "left", "center", role="counts"),
                  Column("ctrl", ("Ctrl",), "left", "center", role="counts")) if counts else ()),
               Column("est", ("HR [95% CI]",), "right", "right", role="estimate"))
    refs = (RefLine(itt[0], 0, len(studies) - 1, role="itt-line"),) if itt else ()  # the study rows only
    return ForestSpec(f"{trial.acronym}: {name} ({endpoint}) by population",
                      f"{arms.experimental.label} vs {in_sentence(arms.control.label)}. {trial.nct_id}.",
                      columns, tuple(rows), ("Hazard ratio", "95% CI"), (left, right), tuple(notes.lines()),
                      refs, (("Events/N", ("exp", "ctrl")),) if counts else (), **({"width": width} if width else {}))


def trial_scene(registry, trial_id: str, endpoint: str, style=None, **options) -> Scene:
    """One trial's subgroup forest as a scene, in ``style`` (a :class:`~trialmeta.plot.style.FigureStyle`;
    None: the default layout); ``options`` go to :func:`trial_spec`."""
    return styled_scene(trial_spec(registry, trial_id, endpoint, **options), style)


def forest_endpoints(registry, frame=None, rows: StudyRows | None = None) -> list[tuple[str, str]]:
    """(trial, endpoint) pairs that get a subgroup forest: trials with more than one
    population, time-to-event endpoints with an HR in at least two populations."""
    if rows is None:
        rows = StudyRows(results_frame(registry) if frame is None else frame)
    pairs = []
    for t in registry.trials:
        tr = t.trial
        if len(tr.populations) < 2:
            continue
        endpoints = dict.fromkeys(r.endpoint for r in tr.results)
        for e in endpoints:
            if endpoint_kind(e) != "time-to-event":
                continue
            with_hr = [p for p in tr.populations if any(not missing(r.get("hr")) for r in rows.of(e, tr.id, p.key))]
            if len(with_hr) >= 2:
                pairs.append((tr.id, e))
    return pairs


def trial_forests(registry, results=None, style=None) -> list[tuple[str, str, Scene]]:
    """(trial, endpoint, scene) for every subgroup forest of the registry, in ``style`` (a
    :class:`~trialmeta.plot.style.FigureStyle`; None: the default layout)."""
    as_of = next((r.as_of for r in results or () if r.as_of), None)
    frame, _ = filter_as_of(results_frame(registry), as_of)
    rows = StudyRows(frame)
    return [(t, e, trial_scene(registry, t, e, style, results=results, frame=frame, rows=rows))
            for t, e in forest_endpoints(registry, frame, rows)]

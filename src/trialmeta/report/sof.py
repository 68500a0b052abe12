"""Summary-of-findings tables (GRADE style) per analysis, as data, Markdown and HTML.

One row per pooled estimate (each subgroup, and the overall pool when there is one): the
outcome, k and the participants, the relative effect with its CI, the anticipated absolute
effect per 1000 patients at a landmark, and the certainty of the evidence.

* **Absolute effects** (:mod:`trialmeta.report.absolute`; GRADE Handbook §14.1.5; Cochrane Handbook §14.1.5, §15.4.4): the
  assumed control risk is the median across the subgroup's studies of the control arm's risk.
  For a hazard ratio it is read from the landmark survival a trial reports for its control
  arm (``landmarks`` on a result: the data cut the analysis used, else an earlier cut of the
  same population and endpoint), at the landmark time most studies report; under
  proportional hazards S_e(t) = S_c(t)^HR, so the experimental risk of an event by t is
  1 - S_c(t)^HR, and the CI of the difference comes from the HR's CI (the risk is monotone in
  the HR). For a risk ratio the control risk is responders/N of the control arm, the
  experimental risk RR x that. Without such data the row says so; nothing is imputed.
* **Relative effect**: the one the pooling policy says to read: the primary estimate and CI,
  except for k = 2 under HKSJ, where the pooling note (and the forest) says to read the Bayesian
  one (:func:`trialmeta.synthesis.grade.reading`): the row shows it, labelled, and names the
  HKSJ interval it replaces. An analysis that is not pooled gets one row per trial, with the
  trial's own estimate as the forest shows it.
* **Certainty** comes from ``certainty:`` in ``analyses.yaml`` (a reviewer's GRADE rating
  with its reasons, footnoted per table); without one the cell says "not rated". trialmeta never
  rates certainty itself: its data-driven GRADE suggestions (:mod:`trialmeta.synthesis.grade`)
  are a separate table (:mod:`trialmeta.report.grade_table`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from trialmeta import fmt
from trialmeta.registry.vocab import ENDPOINTS
from trialmeta.report.absolute import Absolute, Baseline, _event, _finite, absolute_effect, baseline  # noqa: F401
from trialmeta.stats.notes import NoteKind, has
from trialmeta.synthesis.data import study_display
from trialmeta.synthesis.grade import reading

SYMBOLS = {"high": "\u2295\u2295\u2295\u2295", "moderate": "\u2295\u2295\u2295\u25ef",
           "low": "\u2295\u2295\u25ef\u25ef", "very-low": "\u2295\u25ef\u25ef\u25ef"}
K2_CAUTION = ("k = 2, HKSJ CI: t with 1 df, its width depends on how closely the two trials happen to agree; "
              "no Bayesian result was computed (bayes_max_k < 2) - read with care")
HEADER = ["Outcome", "Participants (studies)", "Relative effect [{l} CI]", "Risk with control",
          "Risk difference with experimental [{l} CI]", "Certainty (GRADE)", "Comments"]


@dataclass(frozen=True)
class SofRow:
    analysis: str
    subgroup: str
    outcome: str
    measure: str
    level: float
    k: int
    trials: tuple[str, ...]
    participants: int | None
    participants_missing: tuple[str, ...]  # studies without per-arm N
    est: float | None
    ci_low: float | None
    ci_high: float | None
    absolute: Absolute | None
    absolute_missing: str  # why there is no absolute effect ('' when there is one)
    certainty: str | None  # high / moderate / low / very-low, or None (not rated)
    reasons: tuple[str, ...]  # the rating's footnotes (per domain, then free text)
    event: str  # what is counted per 1000
    reading: str = ""  # '' for the primary estimate; else what was read instead (the Bayesian one for k = 2)
    replaced: tuple[float | None, float | None] | None = None  # the interval not to read (HKSJ for k = 2)
    single: str = ""  # 'single trial' / 'not pooled': the row is one trial's own estimate
    caution: str = ""  # what the reader must know about the interval shown (k = 2 HKSJ without a Bayesian result)


def _certainty(spec, key: str):
    exact = next((c for c in spec.certainty if c.subgroup == key), None)
    return exact or next((c for c in spec.certainty if c.subgroup is None), None)


def _participants(studies) -> tuple[int | None, tuple[str, ...]]:
    ns = [(s, s.row.get("n_exp"), s.row.get("n_ctrl")) for s in studies]
    missing = tuple(f"{s.row['acronym']} {s.population}" for s, a, b in ns if not (_finite(a) and _finite(b)))
    total = sum(int(a) + int(b) for _, a, b in ns if _finite(a) and _finite(b)) if studies else None
    return total, missing


def _row(result, registry, key, label, studies, est, lo, hi, why="", **extra) -> SofRow:
    spec = result.spec
    endpoint_name = ENDPOINTS.get(spec.endpoint, ("", spec.endpoint))[1]
    absolute = None
    if _finite(est):
        base, why = baseline(result, studies, registry)
        if base is not None:
            absolute = absolute_effect(spec.measure, base, est, lo, hi)
    total, missing = _participants(studies)
    rating = _certainty(spec, key)
    return SofRow(
        analysis=result.name, subgroup=key, outcome=f"{endpoint_name} ({spec.endpoint}): {label}",
        measure=spec.measure, level=result.settings.level, k=len(studies),
        trials=tuple(s.row["acronym"] for s in studies), participants=total, participants_missing=missing,
        est=est, ci_low=lo, ci_high=hi, absolute=absolute, absolute_missing=why,
        certainty=rating.rating if rating else None, reasons=rating.footnotes() if rating else (),
        event=_event(spec.endpoint), **extra)


def sof_rows(result, registry) -> list[SofRow]:
    """One :class:`SofRow` per pooled estimate of ``result``; per trial when the analysis is not pooled."""
    rows = []
    for g in (*result.groups, *([result.overall] if result.overall else [])):
        usable = g.usable
        if not result.spec.pooled:
            for s in usable:
                est, lo, hi, _ = study_display(s, result.settings.level)
                rows.append(_row(result, registry, g.key, f"{g.label}, {s.row['acronym']}", (s,), est, lo, hi,
                                 single="not pooled"))
            if not usable:
                rows.append(_row(result, registry, g.key, g.label, (), None, None, None, "no usable estimate"))
            continue
        read = reading(g.pooled, result.settings)
        if read is None:
            rows.append(_row(result, registry, g.key, g.label, usable, None, None, None, "no pooled estimate"))
            continue
        if len(usable) == 1:  # the trial's own estimate and CI, as its forest row shows them
            est, lo, hi, _ = study_display(usable[0], result.settings.level)
            rows.append(_row(result, registry, g.key, g.label, usable, est, lo, hi, single="single trial"))
            continue
        replaced = (g.pooled.ci_low, g.pooled.ci_high) if read.label else None
        caution = K2_CAUTION if not read.label and has(g.pooled.notes, NoteKind.K2_HKSJ) else ""
        rows.append(_row(result, registry, g.key, g.label, usable, read.est, read.ci_low, read.ci_high,
                         reading=read.label, replaced=replaced, caution=caution))
    return rows


# -- text cells (shared by Markdown, HTML, DOCX and XLSX) ---------------------------------------------------

def _per_1000(x: float) -> str:
    return f"{abs(round(x)):,}"


def _diff_text(x: float) -> str:
    r = round(x)
    return "0 fewer" if r == 0 else f"{_per_1000(r)} {'more' if r > 0 else 'fewer'}"


def _relative(row: SofRow) -> str:
    if not _finite(row.est):
        return f"not estimable: {row.absolute_missing}" if row.absolute_missing else "not estimable"
    text = f"{row.measure} {fmt.ratio_ci(row.est, row.ci_low, row.ci_high)}"
    if row.reading:
        text += f" ({row.reading}"
        if row.replaced is not None:
            text += (f"; read instead of the HKSJ CI [{fmt.ratio(row.replaced[0])}, {fmt.ratio(row.replaced[1])}], "
                     "which two trials cannot make reliable")
        text += ")"
    if row.single:
        text += f" ({row.single}: {row.trials[0]}'s own estimate)"
    if row.caution:
        text += f" ({row.caution})"
    return text


def cells(row: SofRow, marks: tuple[str, ...] | None = None) -> list[str]:
    """The printed cells of one row, in :data:`HEADER` order. ``marks``: the footnote letters of the
    rating's reasons (a table's :func:`table`); without them the reasons are printed in the cell."""
    studies = f"{row.k} {'RCT' if row.k == 1 else 'RCTs'}"
    if row.participants is None or row.k == 0:
        people = f"({studies})"
    elif len(row.participants_missing) == row.k:
        people = f"N not reported ({studies})"
    elif row.participants_missing:
        people = f"\u2265 {row.participants:,} ({studies}; N not reported for {', '.join(row.participants_missing)})"
    else:
        people = f"{row.participants:,} ({studies})"
    if row.trials:
        people += f": {', '.join(row.trials)}"
    relative = _relative(row)
    a = row.absolute
    when = f" by {a.baseline.time:g} months" if a and a.baseline.time is not None else ""
    if a is None:
        control = "control risk not available"
        diff = f"not available: {row.absolute_missing}" if row.absolute_missing else "not available"
    else:
        control = f"{_per_1000(a.per_1000_control)} per 1,000{when}"
        diff = f"{_diff_text(a.diff)} per 1,000{when}"
        if a.diff_low is not None:
            diff += f" [{_diff_text(a.diff_low)} to {_diff_text(a.diff_high)}]"
    if row.certainty:
        certainty = f"{SYMBOLS[row.certainty]} {row.certainty.replace('-', ' ').capitalize()}"
        if marks:
            certainty += f" ({', '.join(marks)})"
        elif row.reasons:
            certainty += " (" + "; ".join(row.reasons) + ")"
    else:
        certainty = "not rated"
    comment = f"Counted per 1,000: {row.event}."
    if a is not None:
        comment += " Control risk: " + "; ".join(a.baseline.sources) + "."
        if a.baseline.time is not None:
            comment += " Experimental risk 1 - S_c(t)^HR (proportional hazards)."
    return [row.outcome, people, relative, control, diff, certainty, comment]


def table(result, rows: list[SofRow]) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, cells and footnotes ('a. Imprecision (serious, -1): ...') of one analysis' table."""
    notes: list[str] = []
    body = []
    for r in rows:
        marks = []
        for reason in r.reasons:
            if reason not in notes:
                notes.append(reason)
            marks.append(_letter(notes.index(reason)))
        body.append(cells(r, tuple(marks)))
    return header(result.settings.level), body, [f"{_letter(i)}. {n}" for i, n in enumerate(notes)]


def _letter(i: int) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[i % 26] * (i // 26 + 1)


def header(level: float) -> list[str]:
    return [h.format(l=f"{level:.0%}") for h in HEADER]


FOOTNOTE = ("Certainty (GRADE) is the reviewers' rating from certainty: in analyses.yaml, with its reasons as "
            "lettered footnotes; 'not rated' where they have not rated it (trialmeta's data-driven suggestions "
            "are in the GRADE table, never in this column). For k = 2 the relative effect is the Bayesian one "
            "the pooling policy says to read, labelled. Absolute effects: the median control-arm risk of the studies (landmark survival for "
            "time-to-event outcomes, responders/N for response), with the experimental risk under the "
            "pooled relative effect; rows without such data say so.")


def to_markdown(result, rows: list[SofRow], registry=None) -> str:
    from trialmeta.report.evidence import _md_table, md_text
    from trialmeta.report.grade_table import grade_markdown

    head, body, notes = table(result, rows)
    parts = [f"## {md_text(result.spec.title)}", "", f"*{md_text(result.spec.question)}*", "", _md_table(head, body), "",
             *[f"- {md_text(n)}" for n in notes], f"- {FOOTNOTE}", ""]
    if registry is not None:
        parts += [grade_markdown(result, registry), ""]
    return "\n".join(parts)


def to_html(result, rows: list[SofRow], registry=None) -> str:
    from trialmeta.report.evidence import _html_table
    from trialmeta.report.grade_table import grade_html

    head, body, notes = table(result, rows)
    foot = "".join(f"<p class='sof-note'>{html.escape(n)}</p>" for n in notes)
    return (f"<h3>Summary of findings</h3>{_html_table(head, body, cls='sof')}{foot}"
            f"<p class='sof-note'>{html.escape(FOOTNOTE)}</p>"
            + (grade_html(result, registry) if registry is not None else ""))


def document(results, registry, section=None) -> str:
    """``outputs/sof.md``: the summary-of-findings table of every analysis, and its GRADE table.
    ``section(result, make)``: each analysis' section (default ``make(result)``; refresh keeps them
    per analysis)."""
    def make(r) -> str:
        return to_markdown(r, sof_rows(r, registry), registry)

    parts = ["# Summary of findings\n\nGenerated by `trialmeta refresh` from `trials/`; one table per analysis of "
             "`trials/analyses.yaml` (GRADE style).\n"]
    parts += [section(r, make) if section is not None else make(r) for r in results]
    return "\n".join(parts)

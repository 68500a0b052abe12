"""Summary-of-findings tables (GRADE style) per analysis, as data, Markdown and HTML.

One row per pooled estimate (each subgroup, and the overall pool when there is one): the
outcome, k and the participants, the relative effect with its CI, the anticipated absolute
effect per 1000 patients at a landmark, and the certainty of the evidence.

* **Absolute effects** (GRADE Handbook §14.1.5; Cochrane Handbook §14.1.5 and §15.4.4): the
  assumed control risk is the median across the subgroup's studies of the control arm's risk.
  For a hazard ratio it is read from the landmark survival a trial reports for its control
  arm (``landmarks`` on a result: the data cut the analysis used, else an earlier cut of the
  same population and endpoint), at the landmark time most studies report; under
  proportional hazards S_e(t) = S_c(t)^HR, so the experimental risk of an event by t is
  1 - S_c(t)^HR, and the CI of the difference comes from the HR's CI (the risk is monotone in
  the HR). For a risk ratio the control risk is responders/N of the control arm, the
  experimental risk RR x that. Without such data the row says so; nothing is imputed.
* **Certainty** comes from ``certainty:`` in ``analyses.yaml`` (a reviewer's GRADE rating
  with its reasons); without one the cell is left blank for the reviewer. trialmeta never
  rates certainty itself.
"""

from __future__ import annotations

import html
import math
import statistics
from dataclasses import dataclass

from trialmeta import fmt
from trialmeta.registry.vocab import ENDPOINTS

SYMBOLS = {"high": "\u2295\u2295\u2295\u2295", "moderate": "\u2295\u2295\u2295\u25ef",
           "low": "\u2295\u2295\u25ef\u25ef", "very-low": "\u2295\u25ef\u25ef\u25ef"}
HEADER = ["Outcome", "Participants (studies)", "Relative effect [{l} CI]", "Risk with control",
          "Risk difference with experimental [{l} CI]", "Certainty (GRADE)", "Comments"]


@dataclass(frozen=True)
class Baseline:
    """Assumed control-arm risk of an event by ``time`` (months), with where it comes from."""

    time: float | None  # None for a binary outcome (no landmark)
    control_risk: float  # proportion with the event (time-to-event) or responding (binary)
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Absolute:
    baseline: Baseline
    per_1000_control: float
    per_1000_exp: float
    diff: float  # experimental - control, per 1000
    diff_low: float | None
    diff_high: float | None


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
    reasons: tuple[str, ...]
    event: str  # what is counted per 1000


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _event(endpoint: str) -> str:
    kind, name = ENDPOINTS.get(endpoint, ("time-to-event", endpoint))
    if kind == "binary":
        return f"with {endpoint}"
    return {"OS": "deaths", "PFS": "progression or death"}.get(endpoint, f"events ({name.lower()})")


def _landmarks(registry, study, endpoint: str) -> list[tuple[float, float, str]]:
    """(time, control survival %, source) of the study's own data cut, else of an earlier cut."""
    trial = registry.by_id(study.trial)
    cutoff = {c.key: str(c.cutoff or "") for c in trial.data_cuts}
    used = study.row.get("data_cut")
    candidates = [r for r in trial.results if r.population == study.population and r.endpoint == endpoint
                  and r.landmarks and (r.data_cut == used or cutoff.get(r.data_cut, "") <= cutoff.get(used, ""))]
    candidates.sort(key=lambda r: cutoff.get(r.data_cut, ""), reverse=True)  # newest earlier cut first...
    candidates.sort(key=lambda r: r.data_cut != used)  # ...after the cut the analysis used (stable sort)
    if not candidates:
        return []
    r = candidates[0]
    where = f"{trial.acronym} {study.population}, {r.data_cut} ({', '.join(r.sources)})"
    return [(lm.time, lm.ctrl, where) for lm in r.landmarks]


def baseline(result, group, registry) -> tuple[Baseline | None, str]:
    """The assumed control risk of ``group``'s studies, or None and the reason."""
    endpoint = result.spec.endpoint
    usable = group.usable
    if result.spec.measure == "RR":
        risks, where = [], []
        for s in usable:
            n, events = s.row.get("n_ctrl"), s.row.get("responders_ctrl")
            if _finite(n) and n > 0 and _finite(events):
                risks.append(events / n)
                where.append(f"{s.row['acronym']} {s.population}: {int(events)}/{int(n)}")
        if not risks:
            return None, "control-arm responders/N not reported"
        return Baseline(None, statistics.median(risks), tuple(where)), ""
    by_time: dict[float, list[tuple[float, str]]] = {}
    for s in usable:
        for time, ctrl, where in _landmarks(registry, s, endpoint):
            by_time.setdefault(time, []).append((ctrl, where))
    if not by_time:
        return None, f"no control-arm landmark {endpoint} survival in the registry for these studies"
    time = min(by_time, key=lambda t: (-len(by_time[t]), t))  # the time most studies report, earliest first
    values = by_time[time]
    survival = statistics.median(v for v, _ in values) / 100.0
    return Baseline(time, 1.0 - survival, tuple(f"{w}: {v:g}% at {time:g} months" for v, w in values)), ""


def absolute_effect(measure: str, base: Baseline, est: float, lo, hi) -> Absolute:
    """Per-1000 risks and difference (see the module notes for the formulas)."""
    def risk(ratio: float) -> float:
        if measure == "RR":
            return min(1.0, base.control_risk * ratio)
        return 1.0 - (1.0 - base.control_risk) ** ratio

    ctrl = 1000 * base.control_risk
    diff = lambda r: 1000 * risk(r) - ctrl  # noqa: E731
    bounds = sorted(diff(x) for x in (lo, hi)) if _finite(lo) and _finite(hi) else (None, None)
    return Absolute(base, ctrl, 1000 * risk(est), diff(est), bounds[0], bounds[1])


def _certainty(spec, key: str):
    exact = next((c for c in spec.certainty if c.subgroup == key), None)
    return exact or next((c for c in spec.certainty if c.subgroup is None), None)


def sof_rows(result, registry) -> list[SofRow]:
    """One :class:`SofRow` per pooled estimate of ``result`` (per study when not pooled)."""
    spec = result.spec
    endpoint_name = ENDPOINTS.get(spec.endpoint, ("", spec.endpoint))[1]
    rows = []
    for g in (*result.groups, *([result.overall] if result.overall else [])):
        usable = g.usable
        ns = [(s, s.row.get("n_exp"), s.row.get("n_ctrl")) for s in usable]
        missing = tuple(f"{s.row['acronym']} {s.population}" for s, a, b in ns if not (_finite(a) and _finite(b)))
        total = sum(int(a) + int(b) for _, a, b in ns if _finite(a) and _finite(b)) if usable else None
        pooled = g.pooled
        est, lo, hi = (pooled.est, pooled.ci_low, pooled.ci_high) if pooled is not None else (None, None, None)
        absolute, why = None, ""
        if not _finite(est):
            why = "not pooled" if not spec.pooled else "no pooled estimate"
        else:
            base, why = baseline(result, g, registry)
            if base is not None:
                absolute = absolute_effect(spec.measure, base, est, lo, hi)
        rating = _certainty(spec, g.key)
        rows.append(SofRow(
            analysis=result.name, subgroup=g.key, outcome=f"{endpoint_name} ({spec.endpoint}): {g.label}",
            measure=spec.measure, level=result.settings.level, k=len(usable),
            trials=tuple(s.row["acronym"] for s in usable), participants=total, participants_missing=missing,
            est=est, ci_low=lo, ci_high=hi, absolute=absolute, absolute_missing=why,
            certainty=rating.rating if rating else None, reasons=tuple(rating.reasons) if rating else (),
            event=_event(spec.endpoint)))
    return rows


# -- text cells (shared by Markdown, HTML, DOCX and XLSX) ---------------------------------------------------

def _per_1000(x: float) -> str:
    return f"{abs(round(x)):,}"


def _diff_text(x: float) -> str:
    r = round(x)
    return "0 fewer" if r == 0 else f"{_per_1000(r)} {'more' if r > 0 else 'fewer'}"


def cells(row: SofRow) -> list[str]:
    """The printed cells of one row, in :data:`HEADER` order."""
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
    relative = (f"{row.measure} {fmt.ratio_ci(row.est, row.ci_low, row.ci_high)}" if _finite(row.est)
                else "not pooled" if row.absolute_missing == "not pooled" else "not estimable")
    a = row.absolute
    when = f" by {a.baseline.time:g} months" if a and a.baseline.time is not None else ""
    if a is None:
        control = ""
        diff = f"not available: {row.absolute_missing}"
    else:
        control = f"{_per_1000(a.per_1000_control)} per 1,000{when}"
        diff = f"{_diff_text(a.diff)} per 1,000{when}"
        if a.diff_low is not None:
            diff += f" [{_diff_text(a.diff_low)} to {_diff_text(a.diff_high)}]"
    certainty = f"{SYMBOLS[row.certainty]} {row.certainty.replace('-', ' ').capitalize()}" if row.certainty else ""
    if row.reasons:
        certainty += " (" + "; ".join(row.reasons) + ")"
    comment = f"Counted per 1,000: {row.event}."
    if a is not None:
        comment += " Control risk: " + "; ".join(a.baseline.sources) + "."
        if a.baseline.time is not None:
            comment += " Experimental risk 1 - S_c(t)^HR (proportional hazards)."
    return [row.outcome, people, relative, control, diff, certainty, comment]


def header(level: float) -> list[str]:
    return [h.format(l=f"{level:.0%}") for h in HEADER]


FOOTNOTE = ("Certainty (GRADE) is the reviewers' rating from certainty: in analyses.yaml; a blank cell has not "
            "been rated. Absolute effects: the median control-arm risk of the studies (landmark survival for "
            "time-to-event outcomes, responders/N for response), with the experimental risk under the "
            "pooled relative effect; rows without such data say so.")


def to_markdown(result, rows: list[SofRow]) -> str:
    from trialmeta.report.evidence import _md_table, md_text

    return "\n".join([f"## {md_text(result.spec.title)}", "", f"*{md_text(result.spec.question)}*", "",
                      _md_table(header(result.settings.level), [cells(r) for r in rows]), "",
                      f"- {FOOTNOTE}", ""])


def to_html(result, rows: list[SofRow]) -> str:
    from trialmeta.report.evidence import _html_table

    return (f"<h3>Summary of findings</h3>{_html_table(header(result.settings.level), [cells(r) for r in rows], cls='sof')}"
            f"<p class='sof-note'>{html.escape(FOOTNOTE)}</p>")


def document(results, registry) -> str:
    """``outputs/sof.md``: the summary-of-findings table of every analysis."""
    parts = ["# Summary of findings\n\nGenerated by `trialmeta refresh` from `trials/`; one table per analysis of "
             "`trials/analyses.yaml` (GRADE style).\n"]
    parts += [to_markdown(r, sof_rows(r, registry)) for r in results]
    return "\n".join(parts)

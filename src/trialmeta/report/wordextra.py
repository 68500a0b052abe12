"""Sections of ``report.docx`` beyond the per-analysis tables: the indirect comparisons (the same
content as report.html's "Indirect comparisons", from ``evidence.json``'s ``indirect``, as one
captioned table per comparison in reader's words, with its method and caveats as notes) and the
words of the history-of-the-evidence figures (their alt text); and the evidence status against
ClinicalTrials.gov."""

from __future__ import annotations

import re

from trialmeta import fmt
from trialmeta.report import wording, wordxml
from trialmeta.report.wordtable import add_table

#: The indirect comparison table's columns.
INDIRECT_HEADER = ("Comparison", "Evidence", "HR [95% CI]", "P value")


def _source(text: str, groups: dict) -> str:
    """``"alpelisib-altered-pfs/altered (SOLAR-1)"`` (evidence.json's side of a comparison) in
    words: the analysis' title, the subgroup's label and the trials."""
    m = re.fullmatch(r"(.+?)/(.+?) \((.*)\)", text)
    if m is None or (m.group(1), m.group(2)) not in groups:
        return wording.prose(text)
    title, label = groups[(m.group(1), m.group(2))]
    return f"{m.group(3)}: pooled in \u201c{title}\u201d, {label}"


def indirect_rows(d: dict, groups: dict) -> list[list[str]]:
    """The rows of one indirect comparison (``d``: :meth:`IndirectResult.to_dict`): the indirect
    estimate, then the two pooled estimates it comes from. ``groups``: (analysis name, subgroup
    key) -> (analysis title, subgroup label)."""
    a, c = d["a_vs_common"], d["c_vs_common"]
    label_a, label_c = (x.strip() for x in d["comparison"].split(" vs ", 1))
    return [[f"{d['comparison']} (adjusted indirect)", f"Through {d['common_comparator']}",
             fmt.ratio_ci(d["hr"], d["ci_low"], d["ci_high"]), fmt.p_value(d["p"])],
            [f"{label_a} vs {d['common_comparator']}", _source(a["source"], groups),
             fmt.ratio_ci(a["hr"], a["ci_low"], a["ci_high"]), ""],
            [f"{label_c} vs {d['common_comparator']}", _source(c["source"], groups),
             fmt.ratio_ci(c["hr"], c["ci_low"], c["ci_high"]), ""]]


def method_note(d: dict) -> str:
    """How the comparison was made, in words (the HTML report's sentence, with the formula)."""
    label_a, label_c = (x.strip() for x in d["comparison"].split(" vs ", 1))
    common = d["common_comparator"]
    return (f"Method: {d['method']} (Bucher 1997): ln HR({label_a} vs {label_c}) = ln HR({label_a} vs {common}) "
            f"\u2212 ln HR({label_c} vs {common}), its variance the sum of the two variances; {d['level']:.0%} CI. "
            "Valid only if effect modifiers are balanced across the trials (transitivity).")


def indirect_section(doc, outline, indirect: list[dict], results, width_cm: float, table_pt: float, note) -> None:
    """Append the indirect comparisons (``indirect``: ``evidence.json``'s ``indirect``) under a
    level-1 heading. ``note(doc, text, style)`` writes a small-print paragraph."""
    groups = {(r.name, g.key): (r.spec.title, g.label) for r in results for g in r.groups}
    outline.heading("Indirect comparisons", level=1)
    lead = doc.add_paragraph("Adjusted indirect comparisons of two treatments that were each compared with the "
                             "same comparator in different trials; hazard ratios are of the first treatment named "
                             "vs the second (HR < 1 favours the first).")
    wordxml.keep_with_next(lead)
    for d in indirect:
        outline.heading(re.sub(r"^Indirect:\s*", "", d["title"]), level=2)
        q = doc.add_paragraph(d["question"])
        q.runs[0].italic = True
        wordxml.keep_with_next(q)
        outline.caption("Table", f"Adjusted indirect comparison: {d['comparison']}, through {d['common_comparator']}")
        add_table(doc, list(INDIRECT_HEADER), [[wording.prose(c) for c in row] for row in indirect_rows(d, groups)],
                  width_cm, table_pt)
        note(doc, wording.prose(method_note(d)), None)
        for caveat in d["caveats"]:
            note(doc, wording.prose(caveat), "List Bullet")


def evidence_status_section(doc, outline, evidence_status: dict, width_cm: float, table_pt: float, note) -> None:
    """What ClinicalTrials.gov says changed since the registry was last checked (report.status)."""
    from trialmeta.report import status

    outline.heading("Evidence status", level=1)
    doc.add_paragraph(status.lead(evidence_status))
    outline.caption("Table", "Evidence status: registry entries against ClinicalTrials.gov")
    add_table(doc, ["Trial", "NCT", "Last update posted", "Posted, not in the registry"],
              status.status_rows(evidence_status), width_cm, table_pt)
    for line in status.disagreements(evidence_status):
        note(doc, "Crosscheck disagreement: " + line, "List Bullet")


def _estimate(g, level: float) -> str | None:
    """A group's estimate as the history figure shows it: pooled, or a lone study's own (not pooled)."""
    from trialmeta.synthesis.data import study_display

    if g.pooled is not None:
        return fmt.ratio_ci(g.pooled.est, g.pooled.ci_low, g.pooled.ci_high)
    if len(g.usable) == 1:
        est, lo, hi, _ = study_display(g.usable[0], level)
        if est is not None:
            return f"{fmt.ratio_ci(est, lo, hi)} ({g.usable[0].row['acronym']}, not pooled)"
    return None


def history_alt_text(title: str, steps) -> str:
    """What a history-of-the-evidence figure shows, in words (for screen readers): per subgroup
    the estimate after the latest publication date and after the first (pooled, or a lone study's)."""
    first, last = steps[0], steps[-1]
    level, parts = last.result.settings.level, []
    for g in last.result.groups:
        now = _estimate(g, level)
        text = f"{g.label}: {now or 'no estimate'} as of {last.as_of}"
        before = next((x for x in first.result.groups if x.key == g.key), None)
        then = _estimate(before, level) if before is not None and len(steps) > 1 else None
        parts.append(text + (f" (from {then} as of {first.as_of})" if then else ""))
    dates = f"each of {len(steps)} publication dates" if len(steps) > 1 else "its one publication date"
    return (f"Cumulative meta-analysis of {title}: the {last.result.spec.measure} with its confidence interval "
            f"after {dates}, from the trials' latest data cuts published by then. " + "; ".join(parts) + ".")

"""The GRADE table of an analysis: per outcome and subgroup, each domain's reviewers' judgement beside
trialmeta's data-driven suggestion (:mod:`trialmeta.synthesis.grade`), in Markdown, HTML and as rows
for Word and Excel. The suggestion is printed as such and never fills in the reviewers' rating.
"""

from __future__ import annotations

import html

from trialmeta.synthesis import grade

HEADER = ["Outcome", *grade.DOMAIN_TITLES.values(), "Certainty (reviewers')"]
NOTE = ("Each domain: the reviewers' judgement where they rated the outcome (certainty: in analyses.yaml) and, "
        "after 'suggested', what the data alone indicate (rules in the README, GRADE section). A suggestion is not a "
        "rating: indirectness and publication bias are always the reviewers' call.")


def _groups(result):
    return (*result.groups, *([result.overall] if result.overall else []))


def _reviewers(result, key: str, domain: str) -> tuple[str, str | None]:
    rating = next((c for c in result.spec.certainty if c.subgroup == key), None) or \
        next((c for c in result.spec.certainty if c.subgroup is None), None)
    if rating is None:
        return "not rated", None
    d = getattr(rating.domains, domain, None) if rating.domains else None
    return (f"{d.concern}" + (f" ({d.reason})" if d.reason else "") if d else "not stated"), rating.rating


def rows(result, registry) -> list[list[str]]:
    """One row per pooled group: outcome, the five domains, the reviewers' overall rating."""
    out = []
    for g in _groups(result):
        s = grade.suggest(result, g, registry)
        cells, overall = [f"{result.spec.endpoint}: {g.label}"], None
        for d in s.domains:
            mine, overall = _reviewers(result, g.key, d.domain)
            hint = f"suggested {d.concern}" if d.concern else "no suggestion"
            cells.append((f"Reviewers: {mine}. " if overall else "") + f"{hint.capitalize()}: {d.rationale}.")
        cells.append(overall.replace("-", " ") if overall else "not rated")
        out.append(cells)
    return out


def grade_markdown(result, registry) -> str:
    from trialmeta.report.evidence import _md_table, md_text

    return "\n".join([f"### GRADE: {md_text(result.spec.title)}", "", _md_table(HEADER, rows(result, registry)), "",
                      f"- {NOTE}"])


def grade_html(result, registry) -> str:
    from trialmeta.report.evidence import _html_table

    return (f"<h3>GRADE: reviewers' judgements and data-driven suggestions</h3>"
            f"{_html_table(HEADER, rows(result, registry), cls='grade')}<p class='sof-note'>{html.escape(NOTE)}</p>")

"""Risk of bias and GRADE of an analysis as data: the ``appraisal`` of ``evidence.json``.

Per analysis, two lists, built from the same definitions the figures and tables print:

* ``risk_of_bias``: one record per study result the analysis selected (in subgroup order, each
  trial population once): the five RoB 2 domains (:mod:`trialmeta.registry.rob`) with the
  judgement, its supporting quote or design fact and the publication key, and the overall
  judgement with who made it (the RoB 2 algorithm, or the reviewers with their reason). A result
  without an assessment is ``"not assessed"`` in every domain; nothing is filled in.
* ``grade``: one record per pooled group (each subgroup, then the overall pool): per GRADE domain
  trialmeta's data-driven *suggestion* (:func:`trialmeta.synthesis.grade.suggest`) beside the
  reviewers' judgement (``certainty:`` in ``analyses.yaml``; ``None`` where they did not state
  one), and the reviewers' rating with its footnoted reasons (``None``: not rated). The suggestion
  is never copied into the rating.

Everything is ordered as the inputs are (no sets, no timestamps), so the output is deterministic.
"""

from __future__ import annotations

from trialmeta.registry import rob as robmod
from trialmeta.synthesis import grade

#: Who made the overall RoB 2 judgement.
BY_ALGORITHM, BY_REVIEWERS = "RoB 2 algorithm", "reviewers"


def _domain_record(name: str, found) -> dict:
    d = getattr(found.domains, name) if found is not None else None
    return {"domain": name, "short": robmod.SHORT[name], "title": robmod.DOMAINS[name],
            "judgement": robmod.label(d.judgement if d else None),
            "support": d.support if d else None, "source": d.source if d else None}


def rob_record(study, group_key: str, found) -> dict:
    """The RoB 2 record of one selected study result (``found``: its assessment, or None)."""
    overall = robmod.overall(found)
    return {
        "subgroup": group_key, "trial": study.trial, "acronym": study.row["acronym"],
        "population": study.population, "assessment": study.row.get("assessment"),
        "data_cut": study.row.get("data_cut"), "assessed": found is not None,
        "effect": found.effect if found else None, "assessed_by": found.assessed_by if found else None,
        "domains": [_domain_record(d, found) for d in robmod.DOMAINS],
        "overall": {"judgement": robmod.label(overall),
                    "by": None if found is None else BY_REVIEWERS if found.overall else BY_ALGORITHM,
                    "algorithm": robmod.label(robmod.rob2_overall(robmod.domain_judgements(found)))
                    if found is not None else robmod.NOT_ASSESSED,
                    "reason": found.overall.reason if found is not None and found.overall else None},
    }


def rob_records(result, registry) -> list[dict]:
    """One :func:`rob_record` per trial population the analysis selected (first subgroup it is in)."""
    out, seen = [], set()
    for g in result.groups:
        for s in g.studies:
            if (s.trial, s.population) in seen:
                continue
            seen.add((s.trial, s.population))
            out.append(rob_record(s, g.key, grade.study_rob(registry, s, result.spec.endpoint)))
    return out


def _rating(spec, key: str):
    """The reviewers' rating of a group: the one for its subgroup, else the analysis-wide one (as the SoF)."""
    return (next((c for c in spec.certainty if c.subgroup == key), None)
            or next((c for c in spec.certainty if c.subgroup is None), None))


def grade_record(result, group, registry) -> dict:
    """Suggestion and reviewers' judgement per GRADE domain, and the reviewers' rating, of one group."""
    s = grade.suggest(result, group, registry)
    rating = _rating(result.spec, group.key)
    domains = []
    for d in s.domains:
        mine = getattr(rating.domains, d.domain, None) if rating is not None and rating.domains else None
        domains.append({"domain": d.domain, "title": grade.DOMAIN_TITLES[d.domain],
                        "suggestion": d.concern, "rationale": d.rationale, "values": dict(d.values),
                        "reviewers": None if mine is None else {"concern": mine.concern, "reason": mine.reason}})
    certainty = None if rating is None else {
        "rating": rating.rating, "reasons": list(rating.footnotes()), "assessed_by": rating.assessed_by,
        "rated_for": rating.subgroup or "every row of the analysis"}
    return {"subgroup": group.key, "label": group.label, "k": s.k, "domains": domains, "certainty": certainty}


def grade_records(result, registry) -> list[dict]:
    """One :func:`grade_record` per group, the overall pool last (the GRADE and SoF tables' order)."""
    return [grade_record(result, g, registry) for g in (*result.groups, *([result.overall] if result.overall else []))]


def appraisal(results, registry) -> list[dict]:
    """``evidence.json["appraisal"]``: per analysis, its RoB 2 records and its GRADE records."""
    return [{"analysis": r.name, "endpoint": r.spec.endpoint, "risk_of_bias": rob_records(r, registry),
             "grade": grade_records(r, registry)} for r in results]

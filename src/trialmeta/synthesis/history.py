"""The history of the evidence: every analysis re-run as it stood after each publication.

A cumulative meta-analysis ordered by publication date, built the living-review way: at each
date on which a relevant data cut was published, each trial population contributes its
latest usable data cut published by then (so an updated cut *replaces* the earlier one,
rather than being added to it). Cochrane Handbook ch. 22 advises presenting this history
instead of formal sequential tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from trialmeta.registry.analyses import AnalysesFile
from trialmeta.registry.frame import results_frame
from trialmeta.registry.types import date_bounds
from trialmeta.synthesis.run import AnalysisResult, run_analyses
from trialmeta.registry.load import Registry


@dataclass(frozen=True)
class Step:
    as_of: str
    result: AnalysisResult


def publication_dates(registry: Registry, analysis, frame: pd.DataFrame | None = None) -> list[str]:
    """Distinct publication dates of the data cuts this analysis could use, oldest first.
    ``frame``: the registry's :func:`results_frame`, if already built (it costs in proportion to
    the registry: built once per refresh, not once per analysis)."""
    frame = results_frame(registry) if frame is None else frame
    frame = frame[frame["endpoint"] == analysis.endpoint]
    pairs = set()
    for sub in analysis.subgroups:
        if sub.studies:
            pairs |= {(s.trial, s.population) for s in sub.studies}
        else:
            rows = frame[(frame["biomarker"] == sub.biomarker) & frame["trial"].isin(sub.trials)]
            pairs |= set(zip(rows["trial"], rows["population"]))
    mask = [(t, p) in pairs for t, p in zip(frame["trial"], frame["population"])]
    dates = {d for d in frame.loc[mask, "publication_date"] if isinstance(d, str) and d}
    return sorted(dates, key=lambda d: date_bounds(d)[1])


def evolution(registry: Registry, spec: AnalysesFile, results: list[AnalysisResult],
              as_of: str | None = None) -> dict[str, list[Step]]:
    """For every analysis, the results as of each relevant publication date.

    At each date, the analyses that date concerns are re-run together, without the Bayesian
    sensitivity fits the history does not show (under ``method: bayes`` the Bayesian result is
    the estimate, and is kept).
    """
    limit = date_bounds(as_of)[1] if as_of else None
    frame = results_frame(registry)
    wanted = {r.name: publication_dates(registry, r.spec, frame) for r in results}
    all_dates = sorted({d for ds in wanted.values() for d in ds if limit is None or date_bounds(d)[1] <= limit},
                       key=lambda d: date_bounds(d)[1])
    names = {r.name for r in results}
    out: dict[str, list[Step]] = {n: [] for n in names}
    for d in all_dates:
        stamp = date_bounds(d)[1].isoformat()
        for r in run_analyses(registry, spec, as_of=stamp, only={n for n in names if d in wanted[n]},
                              bayes_sensitivity=False):
            out[r.name].append(Step(d, r))
    return out


def evolution_frame(name: str, steps: list[Step]) -> pd.DataFrame:
    """One row per (date, subgroup): what the pooled estimate was after that publication."""
    rows = []
    for step in steps:
        r = step.result
        for g in (*r.groups, *([r.overall] if r.overall else [])):
            used = [f"{s.row['acronym']} {s.row['data_cut']}" for s in g.usable]
            p = g.pooled
            rows.append({
                "analysis": name, "as_of": step.as_of, "subgroup": g.key, "subgroup_label": g.label,
                "k": p.k if p else len(g.usable), "studies": "; ".join(used),
                "est": p.est if p else None, "ci_low": p.ci_low if p else None, "ci_high": p.ci_high if p else None,
                "p": p.p if p else None, "tau2": p.tau2 if p else None,
                "subgroup_p": getattr(r.subgroup_test, "p_between", None),
                "interaction": r.interaction.ratio if r.interaction else None,
                "interaction_ci_low": r.interaction.ci_low if r.interaction else None,
                "interaction_ci_high": r.interaction.ci_high if r.interaction else None,
            })
    return pd.DataFrame.from_records(rows)

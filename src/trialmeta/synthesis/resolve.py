"""Resolve the analyses of ``analyses.yaml`` against the registry, without pooling anything.

For each analysis: which study (trial, population, data cut) feeds each subgroup, the overall
pool and the within-trial interaction pairs, with the guards that keep a pooled estimate
honest (a trial at most once per pool, known trials and populations). Pooling happens in
:mod:`trialmeta.synthesis.run`; ``trialmeta validate`` stops here, so it needs neither SciPy
nor PyMARE.
"""

from __future__ import annotations

from typing import Collection


from dataclasses import dataclass

import pandas as pd

from trialmeta.errors import InputError, Problem
from trialmeta.fmt import missing
from trialmeta.registry.analyses import Analysis, AnalysesFile, Settings, settings_for
from trialmeta.registry.frame import results_frame
from trialmeta.registry.load import Registry
from trialmeta.synthesis.selection import GroupInput, Study, StudyRows, check_once, choose, cut_order, \
    filter_as_of, related, resolve_group


def resolve_analyses(registry: Registry, spec: AnalysesFile, *, as_of: str | None = None,
                     only: str | Collection[str] | None = None, spec_file: str = "trials/analyses.yaml",
                     lines: dict | None = None) -> tuple[list[Prepared], list]:
    """The studies of every analysis (or only the one named ``only``, or those in it), and the
    ``--as-of`` notes.

    Raises
    ------
    InputError
        When an analysis breaks a guard (a trial twice in one pool, unknown trial or
        population), located at the analysis in ``spec_file``.
    """
    frame, as_of_notes = filter_as_of(results_frame(registry), as_of)
    keep = None if only is None else {only} if isinstance(only, str) else set(only)
    analyses = [a for a in spec.analyses if keep is None or a.name in keep]
    problems, prepared = [], []
    records = StudyRows(frame)
    for a in analyses:
        i = spec.analyses.index(a)
        try:
            prepared.append(_prepare(a, settings_for(spec, a), frame, registry, records))
        except ValueError as exc:
            line = (lines or {}).get(("analyses", i, "name"))
            problems.append(Problem(spec_file, line, f"analyses[{i}] ({a.name})", str(exc)))
    if problems:
        raise InputError(problems)
    return prepared, as_of_notes


@dataclass
class Prepared:
    """One analysis resolved: its groups' studies, the overall pool and the interaction pairs."""

    spec: Analysis
    settings: Settings
    groups: list[GroupInput]
    overall: GroupInput | None
    pairs: list[tuple[Study, Study]]
    notes: list[str]
    pooling: str = "iv"  # "mh": risk ratios pooled by Mantel-Haenszel from the responder counts
    mh_sensitivity: bool = False  # risk ratios pooled by IV: the MH common effect beside them (a labelled line)


def _prepare(a: Analysis, s: Settings, frame: pd.DataFrame, registry: Registry, records: StudyRows) -> Prepared:
    groups = [resolve_group(sub, a, s, frame, registry, records) for sub in a.subgroups]
    notes = []
    overall = None
    if a.overall and a.pooled:
        studies = [st for g in groups for st in g.studies]
        check_once(studies, "overall pool", registry)
        overall = GroupInput("overall", "Total", tuple(studies))
    pairs = []
    if a.interaction:
        ga, gb = (next(g for g in groups if g.key == k) for k in a.interaction)
        pairs, pair_notes = _interaction_pairs(ga, gb, a, s, records, registry)
        notes += pair_notes
    pooling, mh_line = "iv", False
    if a.measure == "RR" and a.pooled:
        lacking = [st for g in groups for st in g.studies if st.usable and counts(st) is None]
        if lacking and s.binary_pooling == "mh":
            notes.append("Pooled by inverse variance, not Mantel-Haenszel: no responder counts for "
                         + ", ".join(sorted({st.label for st in lacking})) + ".")
        elif not lacking:
            pooling = s.binary_pooling
            mh_line = pooling == "iv"
    return Prepared(a, s, groups, overall, pairs, notes, pooling, mh_line)


def counts(study: Study) -> tuple[float, float, float, float] | None:
    """(responders_exp, n_exp, responders_ctrl, n_ctrl) of a study row, or None when one is missing."""
    values = [study.row.get(k) for k in ("responders_exp", "n_exp", "responders_ctrl", "n_ctrl")]
    if any(missing(v) for v in values):
        return None
    return tuple(float(v) for v in values)


def _interaction_pairs(ga: GroupInput, gb: GroupInput, a: Analysis, s: Settings, records: StudyRows, registry):
    """Per trial in both subgroups: the two populations at their latest common usable cut."""
    pairs, notes = [], []
    for sa in ga.studies:
        sb = next((x for x in gb.studies if x.trial == sa.trial), None)
        if sb is None:
            continue
        acr = registry.by_id(sa.trial).acronym
        why = related(registry, sa.trial, sa.population, sb.population)
        if why:
            notes.append(f"{acr}: no within-trial interaction: {sa.population} and {sb.population} share patients "
                         f"({why})")
            continue
        pick = lambda pop, cut: choose(records.of(a.endpoint, sa.trial, pop), a.measure, s, cut)  # noqa: E731
        cuts_a = {r["data_cut"]: cut_order(r) for r in records.of(a.endpoint, sa.trial, sa.population)}
        common = sorted((c for c in cuts_a if pick(sb.population, c).usable and pick(sa.population, c).usable),
                        key=lambda c: cuts_a[c], reverse=True)
        if not common:
            notes.append(f"{acr}: no within-trial interaction: no data cut reports both {sa.population} and "
                         f"{sb.population} with a usable estimate")
            continue
        pa, pb = pick(sa.population, common[0]), pick(sb.population, common[0])
        pairs.append((pa, pb))
    return pairs, notes



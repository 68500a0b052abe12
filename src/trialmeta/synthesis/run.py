"""Run the analyses of ``analyses.yaml`` on the registry: select studies, pool, compare.

All pooled groups of all analyses go to the engine together (one vectorised pass per
settings and group size), never one call per analysis. Results are frozen
:class:`AnalysisResult` objects whose :meth:`~AnalysisResult.frame` is the single tidy table
that evidence tables and forest plots both read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from trialmeta.registry.analyses import Analysis, AnalysesFile, Settings, settings_for
from trialmeta.registry.frame import results_frame
from trialmeta.stats.pooling import GroupResult, PoolSettings, pool_many
from trialmeta.errors import InputError, Problem
from trialmeta.synthesis.selection import GroupInput, Study, check_once, choose, cut_order, filter_as_of, related, \
    resolve_group
from trialmeta.registry.load import Registry

ACROSS_TRIAL_CAVEAT = ("Across-trial subgroup comparisons are observational (they compare different trials' "
                       "patients); the within-trial interaction (ratio of HRs, deft approach, Fisher et al. "
                       "BMJ 2017) is the comparison to trust.")


@dataclass(frozen=True)
class GroupOutcome:
    key: str
    label: str
    studies: tuple[Study, ...]
    pooled: GroupResult | None
    notes: tuple[str, ...] = ()

    @property
    def usable(self) -> tuple[Study, ...]:
        return tuple(s for s in self.studies if s.usable)


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one analysis produced. ``groups`` keep every study, usable or not."""

    spec: Analysis
    settings: Settings
    groups: tuple[GroupOutcome, ...]
    overall: GroupOutcome | None = None
    subgroup_test: object | None = None  # subgroups.SubgroupTest or ModeratorTest
    interaction: object | None = None  # sensitivity.Interaction
    interaction_studies: tuple[tuple[Study, Study], ...] = ()
    leave_one_out: dict = field(default_factory=dict)  # group key -> list[GroupResult]
    notes: tuple[str, ...] = ()
    as_of: str | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def frame(self) -> pd.DataFrame:
        """One row per study and per pooled estimate (``row_type`` = study / pooled / overall)."""
        from trialmeta.synthesis.data import analysis_frame

        return analysis_frame(self)

    def to_dict(self) -> dict:
        from trialmeta.synthesis.data import analysis_dict

        return analysis_dict(self)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per pooled group (log and ratio scales; the CI level in the column names)."""
        frames = [g.pooled.summary for g in (*self.groups, self.overall) if g is not None and g.pooled is not None]
        if not frames:
            return pd.DataFrame()
        # (records, not pd.concat: all-NA columns such as the PI for k = 2 keep their float dtype)
        return pd.DataFrame([rec for f in frames for rec in f.to_dict(orient="records")], columns=frames[0].columns)


def run_analyses(registry: Registry, spec: AnalysesFile, *, as_of: str | None = None,
                 only: str | None = None, spec_file: str = "trials/analyses.yaml",
                 lines: dict | None = None) -> list[AnalysisResult]:
    """Select, pool and compare every analysis (or only the one named ``only``).

    Raises
    ------
    InputError
        When an analysis breaks a guard (a trial twice in one pool, unknown trial or
        population), located at the analysis in ``spec_file``.
    """
    frame, as_of_notes = filter_as_of(results_frame(registry), as_of)
    analyses = [a for a in spec.analyses if only is None or a.name == only]
    problems, prepared = [], []
    for a in analyses:
        i = spec.analyses.index(a)
        try:
            prepared.append(_prepare(a, settings_for(spec, a), frame, registry))
        except ValueError as exc:
            line = (lines or {}).get(("analyses", i, "name"))
            problems.append(Problem(spec_file, line, f"analyses[{i}] ({a.name})", str(exc)))
    if problems:
        raise InputError(problems)
    pooled = _pool_all(prepared)
    return [_finish(p, pooled, registry, as_of, as_of_notes) for p in prepared]


@dataclass
class _Prepared:
    spec: Analysis
    settings: Settings
    groups: list[GroupInput]
    overall: GroupInput | None
    pairs: list[tuple[Study, Study]]
    notes: list[str]


def _prepare(a: Analysis, s: Settings, frame: pd.DataFrame, registry: Registry) -> _Prepared:
    groups = [resolve_group(sub, a, s, frame, registry) for sub in a.subgroups]
    notes = []
    overall = None
    if a.overall and a.pooled:
        studies = [st for g in groups for st in g.studies]
        check_once(studies, "overall pool", registry)
        overall = GroupInput("overall", "Total", tuple(studies))
    pairs = []
    if a.interaction:
        ga, gb = (next(g for g in groups if g.key == k) for k in a.interaction)
        pairs, pair_notes = _interaction_pairs(ga, gb, a, s, frame, registry)
        notes += pair_notes
    return _Prepared(a, s, groups, overall, pairs, notes)


def _interaction_pairs(ga: GroupInput, gb: GroupInput, a: Analysis, s: Settings, frame, registry):
    """Per trial in both subgroups: the two populations at their latest common usable cut."""
    pairs, notes = [], []
    rows = frame[frame["endpoint"] == a.endpoint]
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
        pick = lambda pop, cut: choose(  # noqa: E731
            rows[(rows.trial == sa.trial) & (rows.population == pop)].to_dict(orient="records"),
            a.measure, s, cut)
        cuts_a = {r["data_cut"]: cut_order(r) for r in rows[(rows.trial == sa.trial)
                                                            & (rows.population == sa.population)].to_dict("records")}
        common = sorted((c for c in cuts_a if pick(sb.population, c).usable and pick(sa.population, c).usable),
                        key=lambda c: cuts_a[c], reverse=True)
        if not common:
            notes.append(f"{acr}: no within-trial interaction: no data cut reports both {sa.population} and "
                         f"{sb.population} with a usable estimate")
            continue
        pa, pb = pick(sa.population, common[0]), pick(sb.population, common[0])
        pairs.append((pa, pb))
    return pairs, notes


def _pool_all(prepared: list[_Prepared]) -> dict:
    """Pool every group of every analysis: one engine call per distinct settings."""
    jobs: dict[PoolSettings, list[tuple]] = {}
    for p in prepared:
        if not p.spec.pooled:
            continue
        for g in [*p.groups, *([p.overall] if p.overall else [])]:
            usable = [st for st in g.studies if st.usable]
            if usable:
                jobs.setdefault(p.settings, []).append(
                    ((p.spec.name, g.key), [st.log_est for st in usable], [st.se for st in usable]))
    out = {}
    for settings, items in jobs.items():
        results = pool_many([(y, se) for _, y, se in items], settings, [key[1] for key, _, _ in items])
        out.update({key: r for (key, _, _), r in zip(items, results)})
    return out


def _finish(p: _Prepared, pooled: dict, registry, as_of, as_of_notes) -> AnalysisResult:
    from trialmeta.stats.sensitivity import interaction, leave_one_out
    from trialmeta.stats.subgroups import moderator_test, subgroup_test

    ps = p.settings
    groups = tuple(GroupOutcome(g.key, g.label, g.studies, pooled.get((p.spec.name, g.key)),
                                g.notes)
                   for g in p.groups)
    overall = None
    if p.overall is not None:
        overall = GroupOutcome("overall", "Total", p.overall.studies, pooled.get((p.spec.name, "overall")))
    notes = list(p.notes)
    test = None
    ready = [g for g in groups if g.pooled is not None]
    if p.spec.pooled and p.spec.compare_subgroups and len(ready) >= 2:
        shared = _shared_patients(ready, registry)
        if shared:
            notes.append(f"No test for subgroup differences: {shared}.")
        elif p.settings.subgroup_test == "moderator":
            studies = [(st, g.key) for g in ready for st in g.usable]
            test = moderator_test([s.log_est for s, _ in studies], [s.se for s, _ in studies],
                                  [k for _, k in studies], ps)
        else:
            test = subgroup_test([g.pooled for g in ready])
        if test is not None:
            notes.append(ACROSS_TRIAL_CAVEAT)
    inter = None
    if p.pairs:
        inter = interaction([(a.log_est, a.se, b.log_est, b.se, registry.by_id(a.trial).acronym)
                             for a, b in p.pairs], ps)
    loo = {g.key: leave_one_out([s.log_est for s in g.usable], [s.se for s in g.usable], ps,
                                [registry.by_id(s.trial).acronym for s in g.usable])
           for g in groups if len(g.usable) >= 3}
    for g in groups:
        notes += [f"{g.label}: {n}" for n in g.notes]
    trials = {t for sub in p.spec.subgroups for t in (*sub.trials, *(st.trial for st in sub.studies))}
    relevant = [note for trial, endpoint, note in as_of_notes if trial in trials and endpoint == p.spec.endpoint]
    return AnalysisResult(p.spec, p.settings, groups, overall, test, inter, tuple(p.pairs), loo,
                          tuple(notes + relevant), as_of)


def _shared_patients(groups, registry) -> str | None:
    """Subgroups are compared only if no trial's populations in different subgroups share patients."""
    for i, ga in enumerate(groups):
        for gb in groups[i + 1:]:
            for sa in ga.usable:
                for sb in gb.usable:
                    if sa.trial == sb.trial and (why := related(registry, sa.trial, sa.population, sb.population)):
                        return (f"{registry.by_id(sa.trial).acronym} {sa.population} and {sb.population} "
                                f"share patients ({why})")
    return None

"""Run the analyses of ``analyses.yaml`` on the registry: select studies, pool, compare.

All pooled groups of all analyses go to the engine together (one vectorised pass per
settings and group size), never one call per analysis. Results are frozen
:class:`AnalysisResult` objects whose :meth:`~AnalysisResult.frame` is the single tidy table
that evidence tables and forest plots both read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from typing import Callable, Collection

import pandas as pd

from trialmeta.registry.analyses import Analysis, AnalysesFile, Settings
from trialmeta.stats.notes import Note, NoteKind
from trialmeta.stats.pooling import GroupResult, PoolSettings, pool_many
from trialmeta.synthesis.resolve import Prepared, counts, resolve_analyses
from trialmeta.synthesis.selection import Study, related
from trialmeta.registry.load import Registry

ACROSS_TRIAL_CAVEAT = ("Across-trial subgroup comparisons are observational (they compare different trials' "
                       "patients); the within-trial interaction (ratio of HRs, deft approach, Fisher et al. "
                       "BMJ 2017) is the comparison to trust.")


MH_DESCRIPTION = ("Mantel-Haenszel risk ratio from the responder counts (common effect, Greenland-Robins variance; "
                  "as metafor rma.mh); Wald z CI; {level} level; Q and I² from the studies' log risk ratios around "
                  "the MH estimate")


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
    pooling: str = "iv"  # "mh": risk ratios pooled by Mantel-Haenszel from the responder counts
    #: (trial, population) -> RoB 2 judgements (D1..D5, overall; None = not assessed) of the result used,
    #: for the studies that have an assessment (:func:`trialmeta.synthesis.grade.rob_judgements`)
    risk_of_bias: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    def describe_pooling(self) -> str:
        """The pooling method in one line (the forest's and tables' "Method:" note)."""
        if self.pooling == "mh":
            return MH_DESCRIPTION.format(level=f"{self.settings.level:.0%}")
        return self.settings.describe()

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
                 only: str | Collection[str] | None = None, spec_file: str = "trials/analyses.yaml",
                 lines: dict | None = None, bayes_sensitivity: bool = True,
                 distribute: Callable | None = None) -> list[AnalysisResult]:
    """Select, pool and compare every analysis (or only the one named ``only``, or those in it).

    ``bayes_sensitivity=False`` skips the Bayesian sensitivity fit of few-studies groups
    (``bayes_max_k``) where the method is not ``bayes`` (the history, which does not show it).
    ``distribute(fn, items, *shared)``: computes ``fn(items, *shared)`` in chunks elsewhere (e.g. on
    a Dask cluster, :meth:`trialmeta.pipeline.cluster.Cluster.distribute`), the chunks' lists joined
    in order; the analyses are pooled in chunks (:func:`pool_chunk`), with the same results, in the
    same order, as in this process.

    Raises
    ------
    InputError
        When an analysis breaks a guard (a trial twice in one pool, unknown trial or
        population), located at the analysis in ``spec_file``.
    """
    prepared, as_of_notes = resolve_analyses(registry, spec, as_of=as_of, only=only, spec_file=spec_file,
                                             lines=lines)
    if not bayes_sensitivity:  # (its pools, leave-one-out and interaction fits alike)
        prepared = [replace(p, settings=p.settings.model_copy(update={"bayes_max_k": 0}))
                    if p.settings.method != "bayes" else p for p in prepared]
    if distribute is not None:
        return distribute(pool_chunk, prepared, registry, as_of, as_of_notes)
    return pool_chunk(prepared, registry, as_of, as_of_notes)


def pool_chunk(prepared: list[Prepared], registry: Registry, as_of, as_of_notes) -> list[AnalysisResult]:
    """Pool and finish the analyses ``prepared``, in order. Any split of them into chunks gives the
    same results: each analysis is pooled in its own engine call (:func:`_pool_all`)."""
    pooled = _pool_all(prepared)
    return [_finish(p, pooled, registry, as_of, as_of_notes) for p in prepared]


def _mh(key, studies, level: float) -> GroupResult:
    from trialmeta.stats.binary import mantel_haenszel
    from trialmeta.synthesis.own import _fixed_group

    cols = list(zip(*(counts(st) for st in studies)))
    return _fixed_group(mantel_haenszel("RR", *cols, level=level, where=str(key)), key, level)


def _pool_all(prepared: list[Prepared]) -> dict:
    """Pool every group of every analysis: one engine call per analysis (its groups together).

    Not one call for all analyses: the engine's iterative solvers and NumPy's reductions can
    move the last bit of a result with the other columns of a batch, and an analysis' numbers
    (hence its cached figures) must not change when an unrelated analysis does.
    """
    jobs: dict[tuple[PoolSettings, str], list[tuple]] = {}
    out = {}
    for p in prepared:
        if not p.spec.pooled:
            continue
        for g in [*p.groups, *([p.overall] if p.overall else [])]:
            usable = [st for st in g.studies if st.usable]
            if usable and p.pooling == "mh":
                out[(p.spec.name, g.key)] = _mh(g.key, usable, p.settings.level)
            elif usable:
                jobs.setdefault((p.settings, p.spec.name), []).append(
                    ((p.spec.name, g.key), [st.log_est for st in usable], [st.se for st in usable]))
    for (settings, _), items in jobs.items():
        results = pool_many([(y, se) for _, y, se in items], settings, [key[1] for key, _, _ in items])
        out.update({key: r for (key, _, _), r in zip(items, results)})
    for p in prepared:  # risk ratios by random effects: the Mantel-Haenszel common effect as a labelled line
        if not (p.mh_sensitivity and p.spec.pooled):
            continue
        for g in [*p.groups, *([p.overall] if p.overall else [])]:
            usable = [st for st in g.studies if st.usable]
            r = out.get((p.spec.name, g.key))
            if r is None or len(usable) < 2:
                continue
            mh = _mh(g.key, usable, p.settings.level)
            out[(p.spec.name, g.key)] = replace(r, notes=r.notes + (Note(NoteKind.MH_SENSITIVITY, (
                ("est", mh.est), ("low", mh.ci_low), ("high", mh.ci_high), ("level", mh.level))),))
    return out


def _finish(p: Prepared, pooled: dict, registry, as_of, as_of_notes) -> AnalysisResult:
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
    if p.pooling == "mh":
        loo = {g.key: [_mh(f"omitting {registry.by_id(s.trial).acronym}", [t for t in g.usable if t is not s],
                           p.settings.level) for s in g.usable]
               for g in groups if len(g.usable) >= 3}
    else:
        loo = {g.key: leave_one_out([s.log_est for s in g.usable], [s.se for s in g.usable], ps,
                                    [registry.by_id(s.trial).acronym for s in g.usable])
               for g in groups if len(g.usable) >= 3}
    for g in groups:
        notes += [f"{g.label}: {n}" for n in g.notes]
    trials = {t for sub in p.spec.subgroups for t in (*sub.trials, *(st.trial for st in sub.studies))}
    relevant = [note for trial, endpoint, note in as_of_notes if trial in trials and endpoint == p.spec.endpoint]
    from trialmeta.synthesis.grade import rob_judgements

    return AnalysisResult(p.spec, p.settings, groups, overall, test, inter, tuple(p.pairs), loo,
                          tuple(notes + relevant), as_of, p.pooling,
                          rob_judgements(groups, registry, p.spec.endpoint))


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

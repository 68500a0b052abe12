"""Adjusted indirect comparisons (Bucher et al., J Clin Epidemiol 1997;50:683-91).

A vs C through a common comparator B: ln HR_AC = ln HR_AB - ln HR_CB, with variance
Var_AB + Var_CB. Each side is a pooled group of a defined analysis, so the comparison
inherits that analysis' method. Valid only if effect modifiers are balanced (transitivity);
every comparison carries its caveats.
"""

from __future__ import annotations

from dataclasses import dataclass

from trialmeta.registry.analyses import AnalysesFile, Indirect
from trialmeta.errors import InputError, Problem
from trialmeta.stats.sensitivity import bucher
from trialmeta.synthesis.run import AnalysisResult


@dataclass(frozen=True)
class IndirectResult:
    spec: Indirect
    result: object  # sensitivity.Indirect
    side_a: tuple[str, float, float, float]  # (description, HR, lower, upper)
    side_c: tuple[str, float, float, float]

    def to_dict(self) -> dict:
        r = self.result
        return {"name": self.spec.name, "title": self.spec.title, "question": self.spec.question,
                "comparison": f"{self.spec.label_a} vs {self.spec.label_c}",
                "common_comparator": self.spec.common_comparator, "method": "Bucher adjusted indirect comparison",
                "hr": r.est, "ci_low": r.ci_low, "ci_high": r.ci_high, "log_hr": r.log_est, "se": r.se,
                "p": r.p, "level": r.level,
                "a_vs_common": dict(zip(("source", "hr", "ci_low", "ci_high"), self.side_a)),
                "c_vs_common": dict(zip(("source", "hr", "ci_low", "ci_high"), self.side_c)),
                "caveats": list(self.spec.caveats)}


def run_indirect(spec: AnalysesFile, results: list[AnalysisResult], spec_file: str = "trials/analyses.yaml",
                 lines: dict | None = None) -> list[IndirectResult]:
    """Every indirect comparison of the analyses file whose two sides were pooled."""
    by_name = {r.name: r for r in results}
    out, problems = [], []
    for i, ind in enumerate(spec.indirect):
        sides = []
        for arm_name in ("a_vs_common", "c_vs_common"):
            arm = getattr(ind, arm_name)
            r = by_name.get(arm.analysis)
            group = next((g for g in r.groups if g.key == arm.subgroup), None) if r else None
            if r is None or group is None:
                problems.append(Problem(spec_file, (lines or {}).get(("indirect", i, arm_name)),
                                        f"indirect[{i}].{arm_name}",
                                        f"no pooled subgroup {arm.subgroup!r} in analysis {arm.analysis!r}"))
                break
            sides.append((r, group))
        if len(sides) < 2:
            continue
        (ra, ga), (rc, gc) = sides
        if ga.pooled is None or gc.pooled is None:
            continue  # nothing usable on one side (e.g. under --as-of): reported as absent
        level = ra.settings.level
        res = bucher(ga.pooled.log_est, ga.pooled.se, gc.pooled.log_est, gc.pooled.se, level)
        describe = lambda r, g: (f"{r.name}/{g.key} ({', '.join(s.row['acronym'] for s in g.usable)})",  # noqa: E731
                                 g.pooled.est, g.pooled.ci_low, g.pooled.ci_high)
        out.append(IndirectResult(ind, res, describe(ra, ga), describe(rc, gc)))
    if problems:
        raise InputError(problems)
    return out

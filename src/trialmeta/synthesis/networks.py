"""The registry's network meta-analyses (``networks:`` in analyses.yaml), one network per biomarker subgroup.

Each subgroup's network is made of the usable studies of the pooled subgroups it names
(``studies_from``), so a study enters with the effect, SE and data cut the pairwise analyses use.
A study's two treatments are its trial's arms (their drugs joined by " + ", or renamed by the
network's ``treatments`` map); its contrast is the arm-level HR experimental vs control.

A disconnected network is refused (not fitted) with its components named; the refusal is
reported, not raised, so the rest of a refresh goes on.

Bucher vs NMA: with one study per comparison and the common-effect model, the NMA's A vs C is
exactly Bucher's adjusted indirect comparison (tests/stats/test_nma_consistency.py). They differ
when (i) under random effects the NMA shares one tau² across every comparison, while each Bucher
side has its own pooled tau² and CI method (e.g. HKSJ); (ii) a side pools several studies by REML
and HKSJ; (iii) loops add indirect evidence to direct comparisons. Both are reported side by side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from trialmeta import fmt
from trialmeta.errors import InputError, PoolingError, Problem
from trialmeta.registry.analyses import AnalysesFile, NetworkSpec
from trialmeta.stats.nma import DisconnectedNetwork
from trialmeta.stats.nma_data import network_from_pairs
from trialmeta.synthesis.network import NetworkAnalysis, analyse_network

BUCHER_VS_NMA = ("With one study per comparison and the common-effect model the network estimate equals Bucher's "
                 "adjusted indirect comparison; under random effects the network shares one tau² across all "
                 "comparisons (Bucher's sides each have their own, and their own CI method), and loops add "
                 "indirect evidence, so the two may differ.")


@dataclass(frozen=True)
class NetworkGroup:
    key: str
    label: str
    studies: tuple[dict, ...]  # trial, population, acronym, treat1, treat2, hr, se
    analysis: NetworkAnalysis | None
    status: str  # "fitted", "refused" (disconnected) or "not estimable"
    message: str = ""
    bucher: tuple[dict, ...] = ()

    def to_dict(self) -> dict:
        out = {"key": self.key, "label": self.label, "status": self.status, "message": self.message,
               "studies": list(self.studies), "bucher_vs_nma": list(self.bucher)}
        if self.analysis is not None:
            out["nma"] = self.analysis.to_dict()
        return out


@dataclass(frozen=True)
class NetworkResult:
    spec: NetworkSpec
    groups: tuple[NetworkGroup, ...]
    notes: tuple[str, ...] = field(default=(BUCHER_VS_NMA,))

    @property
    def name(self) -> str:
        return self.spec.name

    def to_dict(self) -> dict:
        s = self.spec
        return {"name": s.name, "title": s.title, "question": s.question, "endpoint": s.endpoint,
                "reference": s.reference, "method": s.method, "ci": s.ci, "caveats": list(s.caveats),
                "notes": list(self.notes), "groups": [g.to_dict() for g in self.groups]}


def _arm_name(trial, arm: str, spec: NetworkSpec) -> str:
    a = getattr(trial.arms, arm)
    drugs = " + ".join(a.drugs) if a.drugs else a.label
    return spec.treatments.get(drugs, spec.treatments.get(a.label, drugs))


def _bucher_rows(spec: AnalysesFile, indirect, group, analysis: NetworkAnalysis, net: NetworkSpec) -> list[dict]:
    """Every indirect comparison whose two sides feed this network subgroup, beside the NMA's estimate."""
    refs = {(r.analysis, r.subgroup) for r in group.studies_from}
    rows = []
    for ind in indirect:
        s = ind.spec
        if {(s.a_vs_common.analysis, s.a_vs_common.subgroup), (s.c_vs_common.analysis, s.c_vs_common.subgroup)} <= refs:
            t = analysis.network.treatments
            a = net.treatments.get(s.label_a, s.label_a)
            c = net.treatments.get(s.label_c, s.label_c)
            if a in t and c in t:
                lg = analysis.fit.league()
                i, j = t.index(a), t.index(c)
                rows.append({"indirect": s.name, "comparison": f"{a} vs {c}",
                             "bucher": fmt.ratio_ci(ind.result.est, ind.result.ci_low, ind.result.ci_high),
                             "nma": analysis.interval(lg["est"][i, j], lg["ci_low"][i, j], lg["ci_high"][i, j]),
                             "bucher_log_hr": ind.result.log_est, "nma_log_hr": float(lg["est"][i, j])})
    return rows


def run_networks(registry, spec: AnalysesFile, results, indirect=(), spec_file: str = "trials/analyses.yaml",
                 lines: dict | None = None) -> list[NetworkResult]:
    """Fit every network of the analyses file; problems in the file raise, a disconnected network is refused."""
    by_name = {r.name: r for r in results}
    trials = {t.trial.id: t.trial for t in registry.trials}
    level = spec.defaults.level
    out, problems = [], []
    for i, net in enumerate(spec.networks):
        groups = []
        for j, g in enumerate(net.subgroups):
            rows, seen = [], {}
            for m, ref in enumerate(g.studies_from):
                r = by_name[ref.analysis]
                if r.spec.endpoint != net.endpoint:
                    problems.append(Problem(spec_file, (lines or {}).get(("networks", i, "endpoint")),
                                            f"networks[{i}].subgroups[{j}].studies_from[{m}]",
                                            f"analysis {ref.analysis!r} is {r.spec.endpoint}, the network {net.endpoint}"))
                    continue
                grp = next(x for x in r.groups if x.key == ref.subgroup)
                for st in grp.usable:
                    if st.trial in seen and seen[st.trial] != st.population:
                        problems.append(Problem(spec_file, (lines or {}).get(("networks", i, "name")),
                                                f"networks[{i}].subgroups[{j}]",
                                                f"trial {st.trial} enters twice ({seen[st.trial]}, {st.population})"))
                    if st.trial in seen:
                        continue
                    seen[st.trial] = st.population
                    tr = trials[st.trial]
                    rows.append({"trial": st.trial, "population": st.population, "acronym": st.row["acronym"],
                                 "treat1": _arm_name(tr, "experimental", net), "treat2": _arm_name(tr, "control", net),
                                 "hr": math.exp(st.log_est), "log_hr": st.log_est, "se": st.se,
                                 "n_exp": fmt.finite_or_none(st.row.get("n_exp")),
                                 "n_ctrl": fmt.finite_or_none(st.row.get("n_ctrl"))})
            groups.append(_fit_group(net, g, rows, level, spec, indirect, i, spec_file, lines, problems))
        out.append(NetworkResult(net, tuple(groups)))
    if problems:
        raise InputError(problems)
    return out


def _fit_group(net, g, rows, level, spec, indirect, i, spec_file, lines, problems) -> NetworkGroup:
    if len(rows) < 1:
        return NetworkGroup(g.key, g.label, (), None, "not estimable", "no usable study")
    treatments = {r["treat1"] for r in rows} | {r["treat2"] for r in rows}
    where = f"networks[{i}].subgroups ({g.key})"
    try:
        pairs = network_from_pairs([r["acronym"] for r in rows], [r["treat1"] for r in rows],
                                   [r["treat2"] for r in rows], [r["log_hr"] for r in rows], [r["se"] for r in rows],
                                   source=spec_file)
        patients = {}
        for r in rows:
            for t, n in ((r["treat1"], r["n_exp"]), (r["treat2"], r["n_ctrl"])):
                patients[t] = None if n is None or patients.get(t, 0) is None else patients.get(t, 0) + int(n)
        if net.reference not in treatments:
            problems.append(Problem(spec_file, (lines or {}).get(("networks", i, "reference")), f"networks[{i}].reference",
                                    f"{net.reference!r} is not a treatment of subgroup {g.key!r} "
                                    f"({', '.join(sorted(treatments))}); name arms by their drugs or map them "
                                    "with `treatments`"))
            return NetworkGroup(g.key, g.label, tuple(rows), None, "not estimable", "unknown reference")
        analysis = analyse_network(pairs, reference=net.reference, measure="HR", method=net.method, ci=net.ci,
                                   level=level, small_values="good",
                                   patients={k: v for k, v in patients.items() if v is not None})
    except DisconnectedNetwork as exc:
        return NetworkGroup(g.key, g.label, tuple(rows), None, "refused",
                            f"{net.title} ({g.label}): refused, {exc}. Trials: "
                            + "; ".join(f"{r['acronym']} {r['treat1']} vs {r['treat2']}" for r in rows) + ".")
    except PoolingError as exc:  # e.g. a restricted likelihood without a finite maximum: reported, not raised
        return NetworkGroup(g.key, g.label, tuple(rows), None, "not estimable", f"{net.title} ({g.label}): {exc}")
    except InputError as exc:
        problems.extend(Problem(p.file, (lines or {}).get(("networks", i, "name")), where, p.message)
                        for p in exc.problems)
        return NetworkGroup(g.key, g.label, tuple(rows), None, "not estimable", "invalid input")
    return NetworkGroup(g.key, g.label, tuple(rows), analysis, "fitted", "",
                        tuple(_bucher_rows(spec, indirect, g, analysis, net)))

"""GRADE per outcome and subgroup: the data-driven part of each domain, as a *suggestion*.

The certainty of the evidence is the reviewers' input (``certainty:`` in ``analyses.yaml``);
this module computes what the data say about each GRADE domain so that the reviewers can see
it beside their rating. A suggestion is never copied into the rating.

* **Risk of bias**: the share of the pooled weight from results whose RoB 2 overall judgement
  (:mod:`trialmeta.registry.rob`) is high, some concerns, or not assessed. Suggested rule (GRADE
  Handbook 5.2.1: rate down when most of the information comes from studies at risk):
  *serious* when high + some concerns carry >= 50% of the weight, *very serious* when high
  alone does; no suggestion when the results not assessed could change that.
* **Inconsistency**: I², τ², the prediction interval (k >= 3) against the null and against the
  minimal important difference (``mid``). *Serious* when I² >= 50% (Cochrane Handbook 10.10.2:
  "may represent substantial heterogeneity") or when τ² > 0 and the CI excludes the null but
  the prediction interval does not (with τ² = 0 a k = 3 interval is wide from its t(1) quantile
  alone, not from heterogeneity); *very serious* when I² >= 75% ("considerable"). k = 1: not
  applicable.
* **Imprecision**: the CI against the null and against ``mid`` and its mirror ``1/mid``.
  *Serious* when the CI includes the null, or when the optimal information size (OIS) is not
  met; *very serious* when the CI includes both an important benefit and an important harm
  (``mid`` and ``1/mid``). OIS from the events where every study has counts: Schoenfeld's
  required events ``4 (z_{1-a/2} + z_{1-b})^2 / ln(HR)^2`` for a hazard ratio, the two-proportion
  sample size for a risk ratio (control risk = the pooled control responders / N), with
  a = 0.05, power 0.80 and the effect ``mid`` (default: a relative change of 25%, GRADE Handbook
  5.2.4.1).
* **Publication bias**: only a note: with k < 10 funnel-plot tests are not informative
  (Cochrane Handbook 13.3.5.4); the judgement rests on the search (reviewers' input).
* **Indirectness**: reviewers' input only (population, intervention, comparator, outcome).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from trialmeta import fmt
from trialmeta.registry import rob as robmod
from trialmeta.stats.notes import NoteKind, has

ALPHA, POWER, DEFAULT_RRR = 0.05, 0.80, 0.25
DOMAIN_ORDER = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
DOMAIN_TITLES = {"risk_of_bias": "Risk of bias", "inconsistency": "Inconsistency", "indirectness": "Indirectness",
                 "imprecision": "Imprecision", "publication_bias": "Publication bias"}


@dataclass(frozen=True)
class DomainSuggestion:
    domain: str
    concern: str | None  # "not serious" / "serious" / "very serious"; None: no suggestion (input, or data missing)
    rationale: str
    values: tuple[tuple[str, object], ...] = ()

    def __getitem__(self, name: str):
        return dict(self.values)[name]


@dataclass(frozen=True)
class GradeSuggestion:
    analysis: str
    subgroup: str
    k: int
    domains: tuple[DomainSuggestion, ...]

    def domain(self, name: str) -> DomainSuggestion:
        return next(d for d in self.domains if d.domain == name)


@dataclass(frozen=True)
class Reading:
    """The relative effect a reader should read for a pooled group, and what it is."""

    est: float
    ci_low: float | None
    ci_high: float | None
    label: str  # '' for the primary result; e.g. 'Bayesian RE, half-normal(0.5) prior on τ' for k = 2


def reading(pooled, settings) -> Reading | None:
    """The primary estimate and CI, except where the pooling notes say to read the Bayesian one
    (k = 2 under HKSJ: the note :attr:`NoteKind.K2_READ` the forest prints)."""
    if pooled is None or not _finite(pooled.est):
        return None
    if pooled.bayes is not None and has(pooled.notes, NoteKind.K2_READ):
        b = pooled.bayes
        return Reading(b.est, b.ci_low, b.ci_high, f"{settings.describe_bayes()}; {b.level:.0%} credible interval")
    return Reading(pooled.est, pooled.ci_low, pooled.ci_high, "")


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _pct(x: float) -> str:
    return f"{x:.0f}%"


def study_rob(registry, study, endpoint: str):
    """The RoB 2 assessment that applies to ``study``'s result (None: not assessed)."""
    trial = registry.by_id(study.trial)
    return robmod.find(trial.risk_of_bias, study.population, endpoint, study.row.get("assessment"))


def rob_judgements(groups, registry, endpoint: str) -> dict:
    """(trial, population) -> (D1, ..., D5, overall) RoB 2 judgements of every study in ``groups``
    that has an assessment (None for a domain not assessed); studies without one are left out."""
    out = {}
    for g in groups:
        for s in g.studies:
            found = study_rob(registry, s, endpoint)
            if found is not None:
                out[(s.trial, s.population)] = (*robmod.domain_judgements(found), robmod.overall(found))
    return out


def risk_of_bias(group, registry, endpoint: str) -> DomainSuggestion:
    usable = group.usable
    if not usable or group.pooled is None:
        return DomainSuggestion("risk_of_bias", None, "no pooled result")
    share = {"low": 0.0, "some concerns": 0.0, "high": 0.0, None: 0.0}
    for s, w in zip(usable, group.pooled.weights):
        share[robmod.overall(study_rob(registry, s, endpoint))] += float(w) if _finite(w) else 0.0
    total = sum(share.values()) or 1.0
    share = {k: 100 * v / total for k, v in share.items()}
    high, some, missing = share["high"], share["some concerns"], share[None]
    values = (("high", high), ("some_concerns", some), ("low", share["low"]), ("not_assessed", missing))
    text = (f"weight from results at high risk {_pct(high)}, some concerns {_pct(some)}, low {_pct(share['low'])}, "
            f"not assessed {_pct(missing)}")
    if high >= 50:
        concern = "very serious"
    elif high + some >= 50:
        concern = "serious"
    elif high + some + missing >= 50:
        return DomainSuggestion("risk_of_bias", None, text + ": too much weight not assessed to suggest", values)
    else:
        concern = "not serious"
    return DomainSuggestion("risk_of_bias", concern, text, values)


def _crosses(lo, hi, x) -> bool:
    return _finite(lo) and _finite(hi) and lo < x < hi


def inconsistency(group, mid: float | None) -> DomainSuggestion:
    p = group.pooled
    if p is None or p.k < 2:
        return DomainSuggestion("inconsistency", None, "single study: not applicable" if p is not None and p.k == 1
                                else "no pooled result")
    i2, tau2 = p.i2 if p.i2 is not None else p.i2_q, p.tau2
    parts = [f"I² {i2:.0f}%" if _finite(i2) else "I² undefined"]
    if _finite(tau2):
        parts.append(f"τ² {tau2:.3g}")
    concern = "not serious"
    if _finite(i2) and i2 >= 75:
        concern = "very serious"
    elif _finite(i2) and i2 >= 50:
        concern = "serious"
    pi = (p.pi_low, p.pi_high) if _finite(p.pi_low) and _finite(p.pi_high) else None
    if pi is None:
        parts.append("no prediction interval (k < 3 or common effect)")
    else:
        parts.append(f"prediction interval {fmt.ratio(pi[0])} to {fmt.ratio(pi[1])} "
                     + ("includes" if _crosses(*pi, 1.0) else "excludes") + " the null")
        if mid is not None:
            both = _crosses(*pi, mid) or _crosses(*pi, 1 / mid)
            parts[-1] += f"; it {'crosses' if both else 'does not cross'} the decision threshold {fmt.ratio(mid)}"
        if (_crosses(*pi, 1.0) and not _crosses(p.ci_low, p.ci_high, 1.0) and _finite(tau2) and tau2 > 0
                and concern == "not serious"):
            concern = "serious"
    return DomainSuggestion("inconsistency", concern, "; ".join(parts),
                            (("i2", i2), ("tau2", tau2), ("pi_low", pi and pi[0]), ("pi_high", pi and pi[1])))


def optimal_information_size(measure: str, group, mid: float | None) -> tuple[float | None, float | None, str]:
    """(required, available, what is counted) or (None, None, why not)."""
    ratio = mid if mid is not None else (1 - DEFAULT_RRR if measure == "HR" else 1 + DEFAULT_RRR)
    z = stats.norm.isf(ALPHA / 2) + stats.norm.isf(1 - POWER)
    rows = [s.row for s in group.usable]
    if measure == "HR":
        counts = [(r.get("events_exp"), r.get("events_ctrl")) for r in rows]
        if not rows or not all(_finite(a) and _finite(b) for a, b in counts):
            return None, None, "event counts not reported for every study"
        return 4 * z ** 2 / math.log(ratio) ** 2, float(sum(a + b for a, b in counts)), "events"
    counts = [(r.get("responders_ctrl"), r.get("n_ctrl"), r.get("n_exp")) for r in rows]
    if not rows or not all(_finite(a) and _finite(b) and _finite(c) and b > 0 for a, b, c in counts):
        return None, None, "responder counts and N not reported for every study"
    pc = sum(a for a, _, _ in counts) / sum(b for _, b, _ in counts)
    pe = min(1.0, pc * (1 / ratio if ratio < 1 else ratio))  # the important change in the direction of benefit
    if pe == pc:
        return None, None, "control risk leaves no room for the important difference"
    n_arm = z ** 2 * (pc * (1 - pc) + pe * (1 - pe)) / (pe - pc) ** 2
    return 2 * n_arm, float(sum(b + c for _, b, c in counts)), "participants"


def imprecision(result, group, mid: float | None) -> DomainSuggestion:
    r = reading(group.pooled, result.settings)
    if r is None:
        return DomainSuggestion("imprecision", None, "no pooled result")
    lo, hi = r.ci_low, r.ci_high
    what = "credible interval (Bayesian, the one to read for k = 2)" if r.label else "CI"
    parts = [f"{what} {fmt.ratio(lo)} to {fmt.ratio(hi)} " + ("includes" if _crosses(lo, hi, 1.0) else "excludes")
             + " the null"]
    concern = "serious" if _crosses(lo, hi, 1.0) else "not serious"
    if mid is not None:
        benefit, harm = _crosses(lo, hi, mid) or lo <= mid <= hi, _crosses(lo, hi, 1 / mid) or lo <= 1 / mid <= hi
        parts.append(f"MID {fmt.ratio(mid)} / {fmt.ratio(1 / mid)}: it "
                     + ("includes both" if benefit and harm else "includes the first" if benefit
                        else "includes the second" if harm else "includes neither"))
        if benefit and harm:
            concern = "very serious"
    required, available, what = optimal_information_size(result.spec.measure, group, mid)
    if required is None:
        parts.append(f"OIS not assessable: {what}")
    else:
        met = available >= required
        parts.append(f"OIS {math.ceil(required):,} {what} (alpha {ALPHA}, power {POWER:.0%}, "
                     f"{'MID' if mid is not None else 'default 25% relative change'}); available "
                     f"{int(available):,}: {'met' if met else 'not met'}")
        if not met and concern == "not serious":
            concern = "serious"
    return DomainSuggestion("imprecision", concern, "; ".join(parts),
                            (("ci_low", lo), ("ci_high", hi), ("ois", required), ("available", available)))


def publication_bias(group) -> DomainSuggestion:
    k = len(group.usable)
    if k < 10:
        return DomainSuggestion("publication_bias", None, f"k = {k} < 10: funnel-plot asymmetry tests are not "
                                "informative; judge from the search and trial registration (reviewers' input)")
    return DomainSuggestion("publication_bias", None, f"k = {k}: inspect the funnel plot and Egger's test "
                            "(reviewers' input)")


def suggest(result, group, registry) -> GradeSuggestion:
    """The data-driven GRADE suggestions for one pooled group of ``result``."""
    mid = result.spec.mid
    doms = (risk_of_bias(group, registry, result.spec.endpoint), inconsistency(group, mid),
            DomainSuggestion("indirectness", None, "reviewers' input (population, intervention, comparator, outcome)"),
            imprecision(result, group, mid), publication_bias(group))
    return GradeSuggestion(result.name, group.key, len(group.usable), doms)

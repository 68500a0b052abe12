"""Risk of bias (Cochrane RoB 2) of a trial's results: the schema, the overall algorithm, the checks.

A trial file may carry ``risk_of_bias:``, a list of assessments. Each applies to the results of
one ``endpoint`` (optionally only some ``populations``, and only one ``assessment``, e.g.
investigator-assessed PFS in an open-label trial) and gives, for the five RoB 2 domains
(Sterne et al. BMJ 2019;366:l4898), a judgement ``low`` / ``some concerns`` / ``high`` with the
quote or design fact that supports it and the publication key it comes from. A domain left out
is *not assessed*: judgements are inputs, entered only where a published assessment or the
trial's own design facts support them; trialmeta never fills one in.

The overall judgement follows the RoB 2 algorithm (:func:`rob2_overall`): any domain high →
high; else any some concerns → some concerns; all five low → low; a domain not assessed (and
none high) → not assessed. Reviewers may state an explicit ``overall`` (e.g. high for several
some-concerns domains, as RoB 2 allows) only with a ``reason``, and never below what the
domains imply.
"""

from __future__ import annotations

from typing import Iterable, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field

from trialmeta.registry.types import Assessment, Endpoint, Key

Judgement = Literal["low", "some concerns", "high"]
JUDGEMENTS: tuple[str, ...] = ("low", "some concerns", "high")  # in order of concern
#: The five RoB 2 domains, in the tool's order, with their names as RoB 2 prints them.
DOMAINS: dict[str, str] = {
    "randomisation": "Bias arising from the randomisation process",
    "deviations": "Bias due to deviations from intended interventions",
    "missing_data": "Bias due to missing outcome data",
    "measurement": "Bias in measurement of the outcome",
    "reporting": "Bias in selection of the reported result",
}
#: Column labels of the forest and traffic-light plot (D1-D5 as robvis and RevMan label them).
SHORT = {name: f"D{i}" for i, name in enumerate(DOMAINS, 1)}
NOT_ASSESSED = "not assessed"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)


class DomainJudgement(_Model):
    judgement: Judgement
    support: str = Field(min_length=1, description="The quote or design fact the judgement rests on.")
    source: Key = Field(description="Publication key (of this trial file) of the support.")


class OverallJudgement(_Model):
    judgement: Judgement
    reason: str = Field(min_length=10, description="Why the overall differs from (or restates) the algorithm's.")


class Domains(_Model):
    randomisation: DomainJudgement | None = None
    deviations: DomainJudgement | None = None
    missing_data: DomainJudgement | None = None
    measurement: DomainJudgement | None = None
    reporting: DomainJudgement | None = None


class RiskOfBias(_Model):
    """A RoB 2 assessment of the results of one endpoint (of some populations, of one assessor)."""

    endpoint: Endpoint
    populations: list[Key] = Field(default_factory=list, description="Populations it applies to; empty: all.")
    assessment: Assessment | None = Field(None, description="Only results with this assessment (e.g. "
                                                            "investigator); omitted: every assessment.")
    effect: Literal["assignment", "adhering"] = Field(
        "assignment", description="Effect of interest: of assignment to the intervention (ITT) or of adhering.")
    domains: Domains
    overall: OverallJudgement | None = Field(None, description="Explicit overall judgement, with its reason.")
    assessed_by: str = Field(min_length=1, description="Whose assessment: a published review (cite it) or "
                                                       "the curators from the trial's design facts.")
    notes: str | None = None


def rob2_overall(judgements: Sequence[str | None]) -> str | None:
    """The RoB 2 overall judgement from the five domain judgements (``None``: not assessed).

    Any high → high; else a domain not assessed → None; else any some concerns → some concerns;
    else low.
    """
    if "high" in judgements:
        return "high"
    if any(j is None for j in judgements):
        return None
    return "some concerns" if "some concerns" in judgements else "low"


def domain_judgements(rob: RiskOfBias) -> tuple[str | None, ...]:
    return tuple(getattr(getattr(rob.domains, d), "judgement", None) for d in DOMAINS)


def overall(rob: RiskOfBias | None) -> str | None:
    """The overall judgement: the reviewers' explicit one, else the algorithm's (None: not assessed)."""
    if rob is None:
        return None
    return rob.overall.judgement if rob.overall else rob2_overall(domain_judgements(rob))


def applies(rob: RiskOfBias, population: str, endpoint: str, assessment: str | None) -> bool:
    return (rob.endpoint == endpoint and (not rob.populations or population in rob.populations)
            and (rob.assessment is None or rob.assessment == assessment))


def find(assessments: Iterable[RiskOfBias], population: str, endpoint: str, assessment: str | None):
    """The assessment that applies to a result, or None (not assessed)."""
    return next((r for r in assessments if applies(r, population, endpoint, assessment)), None)


def check(trial, at):
    """Located problems of ``trial.risk_of_bias`` (``at(loc, message, severity)`` makes one)."""
    pubs = {p.key for p in trial.publications}
    pops = {p.key for p in trial.populations}
    for i, rob in enumerate(trial.risk_of_bias):
        loc = ("risk_of_bias", i)
        for j, p in enumerate(rob.populations):
            if p not in pops:
                yield at((*loc, "populations", j), f"unknown population {p!r}; known: {', '.join(sorted(pops))}")
        for d in DOMAINS:
            dj = getattr(rob.domains, d)
            if dj is not None and dj.source not in pubs:
                yield at((*loc, "domains", d, "source"),
                         f"unknown source (publication key) {dj.source!r}; known: {', '.join(sorted(pubs))}")
        floor = _floor(domain_judgements(rob))
        if rob.overall and JUDGEMENTS.index(rob.overall.judgement) < JUDGEMENTS.index(floor):
            yield at((*loc, "overall", "judgement"),
                     f"overall {rob.overall.judgement!r} is below what the domains imply under RoB 2 ({floor!r}: "
                     "any high -> high, any some concerns -> at least some concerns)")
        matched = [r for r in trial.results if applies(rob, r.population, r.endpoint, r.assessment)]
        if not matched:
            yield at(loc, f"applies to no result (endpoint {rob.endpoint}"
                          + (f", assessment {rob.assessment}" if rob.assessment else "") + ")", "warning")
        for j, other in enumerate(trial.risk_of_bias[:i]):
            both = [r for r in matched if applies(other, r.population, r.endpoint, r.assessment)]
            if both:
                yield at(loc, f"a second assessment for {both[0].endpoint} of population {both[0].population!r} "
                              f"(also risk_of_bias[{j}]); narrow `populations` or `assessment`")


def _floor(judgements: Sequence[str | None]) -> str:
    """The least concern the assessed domains allow overall."""
    given = [j for j in judgements if j is not None]
    return max(given, key=JUDGEMENTS.index) if given else "low"


def label(judgement: str | None) -> str:
    return judgement or NOT_ASSESSED

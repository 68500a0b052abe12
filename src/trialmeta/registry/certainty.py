"""GRADE certainty ratings as reviewers enter them in ``trials/analyses.yaml`` (``certainty:`` of an analysis):
the rating, the judgement per GRADE domain, and the check that the two agree.

Importable from :mod:`trialmeta.registry.analyses` as before.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from trialmeta.registry.schema import Model
from trialmeta.registry.types import Key


#: GRADE's five reasons to rate the certainty of evidence from randomised trials down.
GRADE_DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
#: Levels a domain rates down: how many steps.
CONCERN_STEPS = {"not serious": 0, "serious": 1, "very serious": 2}
RATINGS = ("very-low", "low", "moderate", "high")


class DomainRating(Model):
    """The reviewers' judgement of one GRADE domain."""

    concern: Literal["not serious", "serious", "very serious"]
    reason: str | None = Field(None, description="Why (required when the domain rates down).")

    @model_validator(mode="after")
    def _reason_when_rated_down(self):
        if self.concern != "not serious" and not (self.reason and len(self.reason) >= 10):
            raise ValueError(f"a {self.concern!r} concern rates the certainty down and needs its `reason` "
                             "(at least 10 characters)")
        return self


class GradeDomains(Model):
    risk_of_bias: DomainRating | None = None
    inconsistency: DomainRating | None = None
    indirectness: DomainRating | None = None
    imprecision: DomainRating | None = None
    publication_bias: DomainRating | None = None


class Certainty(Model):
    """A GRADE certainty rating made by a reviewer (an input: trialmeta never rates certainty).

    ``domains`` (optional) gives the judgement per GRADE domain; when it is given the rating must
    equal high (randomised trials) minus the steps the domains rate down. trialmeta's data-driven
    suggestions (:mod:`trialmeta.synthesis.grade`) are printed beside it, never copied into it.
    """

    subgroup: Key | None = Field(None, description="Subgroup key (or 'overall') this rating is for; "
                                                    "omitted: every row of the analysis.")
    rating: Literal["high", "moderate", "low", "very-low"]
    domains: GradeDomains | None = Field(None, description="The judgement and reason per GRADE domain.")
    reasons: list[str] = Field(default_factory=list, description="Why it was rated down or up, e.g. "
                                                                 "'imprecision: CI crosses 0.8 and 1.0'.")
    assessed_by: str | None = Field(None, description="Who rated it, and when.")

    @model_validator(mode="after")
    def _rating_matches_domains(self):
        if self.domains is None:
            return self
        steps = sum(CONCERN_STEPS[getattr(self.domains, d).concern] for d in GRADE_DOMAINS
                    if getattr(self.domains, d) is not None)
        implied = RATINGS[max(0, 3 - steps)]
        if implied != self.rating:
            raise ValueError(f"rating {self.rating!r} disagrees with the domains, which rate randomised-trial "
                             f"evidence down {steps} level(s) from high, to {implied!r}")
        return self

    def footnotes(self) -> tuple[str, ...]:
        """The reasons to print: per domain that rates down ('Imprecision (serious): ...'), then the free text."""
        out = []
        for d in GRADE_DOMAINS:
            r = getattr(self.domains, d, None) if self.domains else None
            if r is not None and r.concern != "not serious":
                out.append(f"{d.replace('_', ' ').capitalize()} ({r.concern}, -{CONCERN_STEPS[r.concern]}): {r.reason}")
        return (*out, *self.reasons)

"""The trial-file schema (pydantic v2): what a curated trial entry may say, and nothing else.

Models are frozen and forbid unknown keys, so a typo is an error rather than a silently
ignored field. Single-field rules live here (HR > 0, CI level in (0, 1), counts >= 0,
vocabulary terms); rules that relate several fields or files (CI order, counts <= n,
unknown keys, duplicates) live in :mod:`trialmeta.registry.load`, which can name the exact field.

The hazard ratio is always **experimental vs control** as the arms are listed: HR < 1
favours the experimental arm.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, WithJsonSchema

from trialmeta.registry.rob import RiskOfBias
from trialmeta.registry.types import (URL_RE, Assessment, Biomarker, Bound, Count, Endpoint, Key, NotReached,
                                      Number, PartialDate, Percent, Positive, PublicationKind, Ratio, check_level,
                                      check_url, parse_pvalue)

#: Every text of a trial file or analyses.yaml is at most this long; the texts drawn in figures
#: (acronyms, labels, titles) have tighter limits of their own (:data:`SHORT`, :data:`LABEL`): a
#: 20,000-character acronym passed validate and drove a drawing worker to 12 GB.
MAX_TEXT = 2000
SHORT, LABEL, TITLE = 40, 120, 300


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False,
                              str_max_length=MAX_TEXT)


class PValue(Model):
    value: Number = Field(gt=0, le=1)
    relation: Literal["=", "<"] = "="


PValueField = Annotated[PValue, BeforeValidator(parse_pvalue)]

# --------------------------------------------------------------------------- trial parts


class Design(Model):
    randomisation: str = Field(description="Allocation ratio, e.g. '1:1'.", pattern=r"^\d+(:\d+)+$")
    blinding: Literal["open-label", "single-blind", "double-blind"]
    placebo_controlled: bool
    notes: str | None = None


class Arm(Model):
    label: str = Field(min_length=1, max_length=LABEL)
    drugs: list[str] = Field(min_length=1)
    drug_class: str = Field(description="e.g. 'AKT inhibitor + SERD'.")
    n: Annotated[int, Strict(), Field(ge=1, le=100_000_000)] | None = Field(None, description="Randomised n; null if not verified.")
    regimen: str | None = None


class Arms(Model):
    experimental: Arm
    control: Arm


class Publication(Model):
    key: Key
    kind: PublicationKind
    citation: str = Field(min_length=1)
    doi: Annotated[str, Field(pattern=r"^10\.\d{4,9}/\S+$")] | None = None
    pmid: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v),
                    Field(pattern=r"^\d{1,9}$")] | None = None
    pmcid: Annotated[str, Field(pattern=r"^PMC\d+$")] | None = None
    url: Annotated[str, AfterValidator(check_url), WithJsonSchema({
        "type": "string", "pattern": URL_RE.pattern,
        "description": "A web address (http or https) or doi:10.xxxx/..."})] | None = None
    published: PartialDate | None = Field(None, description="Publication date, to the precision verified.")
    reports: Key | None = Field(None, description="Key of the publication this source reproduces or summarises.")
    notes: str | None = None


class DataCut(Model):
    key: Key
    label: str = Field(max_length=LABEL)
    cutoff: PartialDate | None = Field(None, description="Data cut-off date; null if not verified.")
    publication: Key = Field(description="Key of the publication that first reported this data cut.")
    notes: str | None = None


class Population(Model):
    key: Key
    label: str = Field(max_length=LABEL)
    definition: str
    biomarker: Biomarker
    n_exp: Count | None = None
    n_ctrl: Count | None = None
    n_total: Count | None = None
    nested_in: Key | None = Field(None, description="Population of the same trial that contains this one.")
    overlaps: list[Key] = Field(default_factory=list,
                                description="Populations of the same trial sharing some patients (not nesting).")
    notes: str | None = None


class Landmark(Model):
    time: Positive
    exp: Percent
    ctrl: Percent


class KaplanMeier(Model):
    """A published Kaplan-Meier figure, digitised, for reconstructing patient data (Guyot 2012).

    Both CSV paths are relative to the trial file; formats in :mod:`trialmeta.survival.digitised`.
    """

    curves: str = Field(description="CSV of arm,time,survival points read off the figure.")
    at_risk: str = Field(description="CSV of arm,time,n_at_risk: the table printed under the figure.")
    source: Key = Field(description="Publication key of the figure.")
    figure: str = Field(min_length=1, description="Where in the source, e.g. 'Figure 2A'.")
    survival_scale: Literal["auto", "proportion", "percent"] = "auto"
    event_times: Literal["spread", "click"] = Field(
        "spread", description="Where reconstructed events fall between digitised points.")
    horizon: Positive | None = Field(None, description="RMST horizon; default: the last time both arms "
                                                       "have patients at risk.")
    accept_event_mismatch: bool = Field(
        False, description="Reconstruct even when the reconstructed events differ from the result's "
                           "events_exp/events_ctrl by more than 10%; the difference is reported in every output.")


class Result(Model):
    population: Key
    endpoint: Endpoint
    data_cut: Key
    assessment: Assessment
    label: str | None = Field(None, max_length=LABEL, description="e.g. 'final OS analysis'.")
    # -- the effect as reported (experimental vs control)
    hr: Ratio | None = None
    ci: tuple[Ratio, Ratio] | None = None
    ci_level: Annotated[float, Strict(), AfterValidator(check_level)] = Field(0.95, description="CI level as a fraction, e.g. 0.95.")
    p: PValueField | None = None
    p_sided: Literal["one", "two", "unspecified"] | None = None
    adjusted: bool | None = Field(None, description="True if the HR is covariate-adjusted (beyond stratification).")
    o_minus_e: Number | None = None
    v: Positive | None = Field(None, description="Variance of O-E (log-rank).")
    odds_ratio: Ratio | None = None
    # -- descriptive statistics per arm
    median_exp: Positive | NotReached | None = Field(
        None, description="Median in months; 'NR' (not reached) or 'NE' (not estimable) as published.")
    median_ctrl: Positive | NotReached | None = Field(
        None, description="Median in months; 'NR' (not reached) or 'NE' (not estimable) as published.")
    median_exp_ci: tuple[Bound, Bound] | None = None
    median_ctrl_ci: tuple[Bound, Bound] | None = None
    n_exp: Count | None = Field(None, description="Analysed n, when it differs from the population's.")
    n_ctrl: Count | None = None
    events_exp: Count | None = None
    events_ctrl: Count | None = None
    events_total: Count | None = None
    responders_exp: Count | None = None
    responders_ctrl: Count | None = None
    rate_exp: Percent | None = None
    rate_ctrl: Percent | None = None
    responders_derived: bool = Field(False, description="Responder counts computed from % x n, not published.")
    landmarks: list[Landmark] = Field(default_factory=list)
    immature: bool = False
    km: KaplanMeier | None = Field(None, description="Digitised Kaplan-Meier figure of this result.")
    # -- provenance
    sources: list[Key] = Field(min_length=1, description="Publication keys for every number in this result.")
    provenance: dict[str, list[Key]] = Field(
        default_factory=dict, description="Per-field sources where they differ from `sources`.")
    status: Literal["verified", "unverified"] = Field(
        "verified", description="'unverified': imported (e.g. by `trialmeta new-trial`) and not yet checked against "
                                "the publication; pooling skips it unless --include-unverified.")
    source: Literal["publication", "ctgov"] = Field(
        "publication", description="Where the numbers were entered from: a publication, or ClinicalTrials.gov's "
                                   "posted results.")
    notes: str | None = None


class Trial(Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    acronym: str = Field(min_length=1, max_length=SHORT)
    title: str | None = Field(None, max_length=TITLE)
    nct_id: Annotated[str, Field(pattern=r"^NCT\d{8}$")]
    other_ids: list[str] = Field(default_factory=list)
    phase: Literal["1", "1/2", "2", "2/3", "3", "4"]
    design: Design
    disease: str
    setting: str
    line_of_therapy: str
    primary_endpoint: str
    arms: Arms
    publications: list[Publication] = Field(min_length=1)
    data_cuts: list[DataCut] = Field(min_length=1)
    populations: list[Population] = Field(min_length=1)
    results: list[Result] = Field(min_length=1)
    sources: list[Key] = Field(min_length=1, description="Publication keys for the identity, design and arm facts.")
    risk_of_bias: list[RiskOfBias] = Field(default_factory=list, description="RoB 2 assessments of the results "
                                           "(see trialmeta.registry.rob); a result without one is 'not assessed'.")
    notes: list[str] = Field(default_factory=list)


RESULT_FIELDS = tuple(Result.model_fields)


def trial_json_schema() -> dict:
    """JSON Schema of a trial file, for editors (``# yaml-language-server: $schema=...``)."""
    schema = Trial.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "trialmeta trial file"
    return schema


def arm_n(trial: Trial, r: Result, arm: str) -> int | None:
    """Analysed n for an arm (``"exp"`` or ``"ctrl"``): the result's own, else its population's,
    else the randomised arm's when the population is the whole trial (not nested in another)."""
    n = getattr(r, f"n_{arm}")
    pop = next((p for p in trial.populations if p.key == r.population), None)
    if n is None and pop is not None:
        n = getattr(pop, f"n_{arm}")
    if n is None and pop is not None and pop.biomarker == "all-patients" and pop.nested_in is None:
        n = (trial.arms.experimental if arm == "exp" else trial.arms.control).n
    return n

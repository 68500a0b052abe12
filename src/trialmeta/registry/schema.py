"""The trial-file schema (pydantic v2): what a curated trial entry may say, and nothing else.

Models are frozen and forbid unknown keys, so a typo is an error rather than a silently
ignored field. Single-field rules live here (HR > 0, CI level in (0, 1), counts >= 0,
vocabulary terms); rules that relate several fields or files (CI order, counts <= n,
unknown keys, duplicates) live in :mod:`trialmeta.registry.load`, which can name the exact field.

The hazard ratio is always **experimental vs control** as the arms are listed: HR < 1
favours the experimental arm.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, WithJsonSchema

from trialmeta.registry.vocab import ASSESSMENTS, BIOMARKERS, ENDPOINTS, PUBLICATION_KINDS
from trialmeta.errors import suggest

# --------------------------------------------------------------------------- scalar types

_DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Years a date may name: a typo such as 9999 is an error, not a date arithmetic overflow later.
YEARS = (1900, 2200)


def _partial_date(value: object) -> str:
    """Accept 2019, "2019-05", "2019-05-16" or a YAML date; keep the precision given."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        value = value.isoformat()
    elif isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise ValueError(f"expected a date as YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}")
    parts = [int(p) for p in value.split("-")]
    if not YEARS[0] <= parts[0] <= YEARS[1]:
        raise ValueError(f"year {parts[0]} is outside {YEARS[0]}-{YEARS[1]} (got {value!r})")
    try:
        dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError as exc:
        raise ValueError(f"not a calendar date: {value!r} ({exc})") from None
    return value


PartialDate = Annotated[
    str,
    BeforeValidator(_partial_date),
    WithJsonSchema({"type": "string", "pattern": _DATE_RE.pattern,
                    "description": "YYYY, YYYY-MM or YYYY-MM-DD: the precision the source gives"}),
]


def date_bounds(value: str) -> tuple[dt.date, dt.date]:
    """Earliest and latest calendar day a partial date can stand for."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        d = dt.date(*parts)
        return d, d
    if len(parts) == 2:
        first = dt.date(parts[0], parts[1], 1)
        nxt = dt.date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
        return first, nxt - dt.timedelta(days=1)
    return dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31)


_URL_RE = re.compile(r"^(https?://|doi:)[^\s<>\"'`]+$", re.IGNORECASE)


def _url(value: str) -> str:
    """A link the report may make: http(s) or a DOI, nothing that could run (``javascript:``)."""
    if not _URL_RE.match(value):
        raise ValueError(f"a url is an http:// or https:// address or doi:10.xxxx/..., without spaces, quotes "
                         f"or angle brackets; got {value!r}")
    return value


def _level(value: float) -> float:
    if not 0 < value < 1:
        hint = f" (for a {value:g}% CI write {value / 100:g})" if 1 < value < 100 else ""
        raise ValueError(f"CI level must be a fraction between 0 and 1, got {value:g}{hint}")
    return value


def _key(value: str) -> str:
    if not _KEY_RE.match(value):
        raise ValueError(f"keys use letters, digits, '-', '_' and '.', got {value!r}")
    return value


Key = Annotated[str, AfterValidator(_key)]


def _vocab(table: dict, what: str):
    def check(value: str) -> str:
        if value not in table:
            raise ValueError(f"unknown {what} {value!r}{suggest(value, table)}; allowed: "
                             + ", ".join(sorted(table)))
        return value
    return AfterValidator(check)


Biomarker = Annotated[str, _vocab(BIOMARKERS, "biomarker category"),
                      WithJsonSchema({"type": "string", "enum": sorted(BIOMARKERS)})]
Endpoint = Annotated[str, _vocab(ENDPOINTS, "endpoint"),
                     WithJsonSchema({"type": "string", "enum": sorted(ENDPOINTS)})]
Assessment = Annotated[str, _vocab(ASSESSMENTS, "assessment"),
                       WithJsonSchema({"type": "string", "enum": sorted(ASSESSMENTS)})]
PublicationKind = Annotated[str, _vocab(PUBLICATION_KINDS, "publication kind"),
                            WithJsonSchema({"type": "string", "enum": sorted(PUBLICATION_KINDS)})]

# Numbers are strict: `hr: true` or `n: "12"` is an error, never 1.0 or 12; NaN and infinity
# are refused by the models' config. Ratios are bounded so their logarithms and CIs stay finite.
Number = Annotated[float, Strict()]
Positive = Annotated[float, Strict(), Field(gt=0)]
RATIO_RANGE = (1e-6, 1e6)


def _ratio(value: float) -> float:
    if not RATIO_RANGE[0] <= value <= RATIO_RANGE[1]:
        raise ValueError(f"a ratio must lie between {RATIO_RANGE[0]:g} and {RATIO_RANGE[1]:g}, got {value:g}")
    return value


Ratio = Annotated[float, Strict(), Field(gt=0), AfterValidator(_ratio)]
Count = Annotated[int, Strict(), Field(ge=0, le=100_000_000)]
Percent = Annotated[float, Strict(), Field(ge=0, le=100)]
NotReached = Literal["NR", "NE"]  # as published: not reached / not estimable
Bound = Union[Positive, None]


def _pvalue(value: object) -> object:
    """``0.035`` or ``"<0.001"``: keep the relation the source printed."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"value": value, "relation": "="}
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([<=])?\s*([0-9.eE-]+)\s*", value)
        if m:
            return {"value": float(m.group(2)), "relation": m.group(1) or "="}
        raise ValueError(f"expected a p-value like 0.035 or '<0.001', got {value!r}")
    return value


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)


class PValue(Model):
    value: Number = Field(gt=0, le=1)
    relation: Literal["=", "<"] = "="


PValueField = Annotated[PValue, BeforeValidator(_pvalue)]

# --------------------------------------------------------------------------- trial parts


class Design(Model):
    randomisation: str = Field(description="Allocation ratio, e.g. '1:1'.", pattern=r"^\d+(:\d+)+$")
    blinding: Literal["open-label", "single-blind", "double-blind"]
    placebo_controlled: bool
    notes: str | None = None


class Arm(Model):
    label: str = Field(min_length=1)
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
    url: Annotated[str, AfterValidator(_url), WithJsonSchema({
        "type": "string", "pattern": _URL_RE.pattern,
        "description": "A web address (http or https) or doi:10.xxxx/..."})] | None = None
    published: PartialDate | None = Field(None, description="Publication date, to the precision verified.")
    reports: Key | None = Field(None, description="Key of the publication this source reproduces or summarises.")
    notes: str | None = None


class DataCut(Model):
    key: Key
    label: str
    cutoff: PartialDate | None = Field(None, description="Data cut-off date; null if not verified.")
    publication: Key = Field(description="Key of the publication that first reported this data cut.")
    notes: str | None = None


class Population(Model):
    key: Key
    label: str
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
    label: str | None = Field(None, description="e.g. 'final OS analysis'.")
    # -- the effect as reported (experimental vs control)
    hr: Ratio | None = None
    ci: tuple[Ratio, Ratio] | None = None
    ci_level: Annotated[float, Strict(), AfterValidator(_level)] = Field(0.95, description="CI level as a fraction, e.g. 0.95.")
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
    notes: str | None = None


class Trial(Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    acronym: str
    title: str | None = None
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

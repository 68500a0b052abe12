"""Analyses as data: the schema of ``trials/analyses.yaml`` and its loader.

An analysis names a clinical question, an endpoint, and which trial populations feed which
subgroup (explicitly, or by harmonised biomarker category). Method settings default to
Cochrane's 2025 RevMan defaults (REML, HKSJ, Q-profile tau^2 CI, prediction interval); an
analysis that overrides them must say why.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator

from trialmeta.io import display, read_yaml
from trialmeta.errors import InputError, Problem
from trialmeta.registry.figstyle import StyleSpec
from trialmeta.registry.schema import LABEL, TITLE, Model
from trialmeta.registry.types import Biomarker, Count, Endpoint, Key, Number, PartialDate
from trialmeta.stats.settings import PoolSettings

#: An analysis name becomes file names (tables/<name>.csv, forest/<name>.svg, ...) and a
#: report anchor, so it is a slug that no derived name can collide with.
_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
#: Anchors of report.html's own sections.
RESERVED_NAMES = ("changelog", "indirect", "methods", "trials")


def _analysis_name(value: str) -> str:
    if not _SLUG.fullmatch(value) or len(value) > 80:
        raise ValueError(f"analysis names are lower-case letters and digits joined by single '-' (at most 80 "
                         f"characters; they become file names), got {value!r}")
    if value.endswith(("-history", "-document")) or value.startswith("trial-") or value in RESERVED_NAMES:
        raise ValueError(f"analysis name {value!r} would collide with a derived output name (names may not end "
                         f"in '-history' or '-document', start with 'trial-' or be one of "
                         f"{', '.join(RESERVED_NAMES)})")
    return value


AnalysisName = Annotated[str, AfterValidator(_analysis_name)]


class Settings(PoolSettings):
    """Statistical choices of an analysis: how to pool (:class:`~trialmeta.stats.settings.PoolSettings`,
    with the values allowed here spelled out for the schema) and which studies may enter. Every one
    is printed with its results."""

    model_config = Model.model_config

    method: Literal["fe", "dl", "reml", "pm", "bayes"] = "reml"
    ci: Literal["wald", "hksj", "hksj-adhoc"] = "hksj"
    level: Number = Field(0.95, gt=0.5, lt=1)
    prediction: bool = True
    tau2_ci: Literal["qprofile"] = "qprofile"
    prior: Literal["half-normal", "half-cauchy", "uniform"] = Field(
        "half-normal", description="Prior on tau of the Bayesian random-effects model.")
    prior_scale: Number = Field(0.5, ge=0.001, le=10, description="Its scale on the log scale (uniform: upper "
                                                                   "bound), from 0.001 to 10.")
    bayes_max_k: Count = Field(4, ge=0, description="Groups with 2 <= k <= this also show the Bayesian result "
                                                  "as a labelled sensitivity line (0: never).")
    subgroup_test: Literal["q-between", "moderator"] = "q-between"
    binary_pooling: Literal["mh", "iv"] = Field("iv", description="Risk ratios from responder counts: inverse "
                                                "variance with the settings above (random effects, as every "
                                                "measure; the Mantel-Haenszel common effect is shown beside it as "
                                                "a labelled sensitivity line). `mh` makes the Mantel-Haenszel "
                                                "common effect primary: per analysis only, with a `reason:`.")
    allow_approximate: bool = Field(False, description="Let HRs derived from medians or assumed "
                                                       "p-value sidedness enter the pool.")
    allow_reconstructed: bool = Field(False, description="Let HRs from patient data reconstructed "
                                                         "from a digitised KM figure enter the pool "
                                                         "when no better estimate was published.")
    include_unverified: bool = Field(False, description="Let results marked `status: unverified` (imported from "
                                                        "ClinicalTrials.gov, not yet checked) enter the pool.")
    assessment_preference: tuple[Literal["irc", "bicr", "investigator", "unspecified", "not-applicable"], ...] = Field(
        ("irc", "bicr", "investigator", "unspecified", "not-applicable"),
        description="Which assessment to use when a data cut reports several.")

    @field_validator("binary_pooling")
    @classmethod
    def _mh_needs_a_reason(cls, value):
        if value == "mh":
            raise ValueError("binary_pooling: mh (a common-effect model) is not a default: every measure is pooled by "
                             "random effects; set it under one analysis's `settings:` with the `reason:` it departs")
        return value


class Overrides(Model):
    method: Literal["fe", "dl", "reml", "pm", "bayes"] | None = None
    ci: Literal["wald", "hksj", "hksj-adhoc"] | None = None
    prior: Literal["half-normal", "half-cauchy", "uniform"] | None = None
    prior_scale: Number | None = Field(None, ge=0.001, le=10)
    bayes_max_k: Count | None = Field(None, ge=0)
    level: Number | None = Field(None, gt=0.5, lt=1)
    prediction: bool | None = None
    subgroup_test: Literal["q-between", "moderator"] | None = None
    binary_pooling: Literal["mh", "iv"] | None = None
    allow_approximate: bool | None = None
    allow_reconstructed: bool | None = None
    reason: str = Field(min_length=10, description="Why this analysis departs from the defaults.")


class StudyRef(Model):
    trial: str
    population: Key
    data_cut: Key | None = Field(None, description="Pin a data cut; default: the latest usable one.")


class Subgroup(Model):
    key: Key
    label: str = Field(max_length=LABEL)
    studies: list[StudyRef] = Field(default_factory=list)
    biomarker: Biomarker | None = Field(None, description="Select every population of this category...")
    trials: list[str] = Field(default_factory=list, description="...in these trials (required with biomarker).")

    @model_validator(mode="after")
    def _one_way(self):
        if bool(self.studies) == bool(self.biomarker):
            raise ValueError("give either `studies` or `biomarker` (with `trials`), not both or neither")
        if self.biomarker and not self.trials:
            raise ValueError("`biomarker` selection needs the `trials` it applies to")
        return self


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


class Analysis(Model):
    name: AnalysisName
    title: str = Field(max_length=TITLE)
    question: str = Field(max_length=1000)
    endpoint: Endpoint
    measure: Literal["HR", "RR"] = "HR"
    experimental: str = Field(max_length=LABEL, description="Experimental side, for 'Favours ...' labels.")
    control: str = Field(max_length=LABEL, description="Control side, for 'Favours ...' labels.")
    subgroups: list[Subgroup] = Field(min_length=1)
    pooled: bool = Field(True, description="False: show the studies side by side without pooling.")
    overall: bool = Field(False, description="Also pool all subgroups together.")
    compare_subgroups: bool = True
    interaction: tuple[Key, Key] | None = Field(None, description="Within-trial interaction: subgroup a vs b.")
    sensitivity_of: Key | None = None
    settings: Overrides | None = None
    notes: list[str] = Field(default_factory=list)
    certainty: list[Certainty] = Field(default_factory=list, description="GRADE certainty of the evidence "
                                       "per subgroup, for the summary-of-findings table; 'not rated' when absent.")
    mid: Annotated[Number, Field(gt=0, lt=1)] | None = Field(
        None, description="Minimal important difference as a ratio below 1 (e.g. 0.8 for HR or RR 0.8; its "
                          "mirror 1/0.8 = 1.25 counts as the same difference the other way): the threshold GRADE's "
                          "imprecision and inconsistency suggestions compare the CI and prediction interval with.")
    style: StyleSpec | None = Field(None, description="Figure style of this analysis' forest plot (see README).")


class IndirectArm(Model):
    analysis: Key
    subgroup: Key


class Indirect(Model):
    name: Key
    title: str = Field(max_length=TITLE)
    question: str = Field(max_length=1000)
    a_vs_common: IndirectArm
    c_vs_common: IndirectArm
    label_a: str = Field(max_length=LABEL)
    label_c: str = Field(max_length=LABEL)
    common_comparator: str = Field(max_length=LABEL)
    caveats: list[str] = Field(min_length=1)


class NetworkSubgroup(Model):
    key: Key
    label: str
    studies_from: list[IndirectArm] = Field(min_length=1, description="The studies of these pooled subgroups "
                                            "(analysis + subgroup) form this subgroup's network.")


class NetworkSpec(Model):
    name: AnalysisName
    title: str
    question: str
    endpoint: Endpoint
    reference: str = Field(description="Reference treatment (a treatment name after `treatments`).")
    subgroups: list[NetworkSubgroup] = Field(min_length=1, description="One network per biomarker subgroup.")
    treatments: dict[str, str] = Field(default_factory=dict, description="Arm (its drugs joined by ' + ', e.g. "
                                       "'placebo + fulvestrant') -> treatment name; default: the drugs themselves.")
    method: Literal["reml", "dl", "fe"] = "reml"
    ci: Literal["wald", "hksj", "hksj-adhoc"] = "wald"
    caveats: list[str] = Field(min_length=1)


class AnalysesFile(Model):
    defaults: Settings = Field(default_factory=Settings)
    analyses: list[Analysis] = Field(min_length=1)
    indirect: list[Indirect] = Field(default_factory=list)
    networks: list[NetworkSpec] = Field(default_factory=list, description="Network meta-analyses (see README).")
    as_of: PartialDate | None = Field(None, description="Unused; reserved.", exclude=True)


def settings_for(spec: AnalysesFile, analysis: Analysis) -> Settings:
    """The defaults with the analysis' overrides applied."""
    if analysis.settings is None:
        return spec.defaults
    changes = {k: v for k, v in analysis.settings.model_dump().items() if v is not None and k != "reason"}
    return spec.defaults.model_copy(update=changes)


def load_analyses(path: Path) -> tuple[AnalysesFile, dict]:
    """Read and schema-check an analyses file; return it with its line map.

    Raises
    ------
    InputError
        Located problems, as for trial files.
    """
    from trialmeta.registry.load import schema_problems

    data, lines = read_yaml(path)
    name = display(path)
    if not isinstance(data, dict):
        raise InputError([Problem(name, 1, "", "expected a mapping with `defaults` and `analyses`")])
    try:
        spec = AnalysesFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(schema_problems(exc, name, lines, root=AnalysesFile)) from None
    problems = []
    seen: dict[str, int] = {}
    for i, a in enumerate(spec.analyses):
        if a.name in seen:
            problems.append(Problem(name, lines.get(("analyses", i, "name")), f"analyses[{i}].name",
                                    f"duplicate analysis name {a.name!r} (also analyses[{seen[a.name]}])"))
        seen.setdefault(a.name, i)
        keys = [s.key for s in a.subgroups]
        if a.interaction:
            for j, k in enumerate(a.interaction):
                if k not in keys:
                    problems.append(Problem(name, lines.get(("analyses", i, "interaction")),
                                            f"analyses[{i}].interaction[{j}]",
                                            f"unknown subgroup {k!r}; subgroups: {', '.join(keys)}"))
        seen_rating: set = set()
        for j, c in enumerate(a.certainty):
            where = lines.get(("analyses", i, "certainty", j, "subgroup")) or lines.get(("analyses", i, "certainty"))
            allowed = keys + (["overall"] if a.overall else [])
            if c.subgroup is not None and c.subgroup not in allowed:
                problems.append(Problem(name, where, f"analyses[{i}].certainty[{j}].subgroup",
                                        f"unknown subgroup {c.subgroup!r}; subgroups: {', '.join(allowed)}"))
            if c.subgroup in seen_rating:
                problems.append(Problem(name, where, f"analyses[{i}].certainty[{j}].subgroup",
                                        f"a second rating for {c.subgroup or 'every subgroup'!r}"))
            seen_rating.add(c.subgroup)
    problems += _confine_stylesheets(spec, lines, Path(path).parent, name)
    problems += _network_problems(spec, name, lines)
    if problems:
        raise InputError(problems)
    return spec, lines


#: A style sheet given by name (matplotlib's own, or one in the user's stylelib); anything else
#: (a ``/``, a ``.mplstyle`` suffix) is a path.
_SHEET_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _confine_stylesheets(spec: AnalysesFile, lines: dict, base: Path, name: str) -> list[Problem]:
    """A ``style.stylesheet`` that is a path is relative to the analyses file and stays inside its
    folder (the registry): absolute paths, ``..`` and symbolic links out of it are refused unread
    (:func:`trialmeta.paths.outside_reason`). An accepted path is replaced by its resolved absolute
    path, so drawing does not depend on the working folder; a name is left to matplotlib."""
    from trialmeta.paths import outside_reason

    problems = []
    for i, a in enumerate(spec.analyses):
        sheet = a.style.stylesheet if a.style is not None else None
        if not sheet or (_SHEET_NAME.fullmatch(sheet) and not sheet.endswith(".mplstyle")):
            continue
        why = outside_reason(base, sheet)
        if why is not None:
            problems.append(Problem(name, lines.get(("analyses", i, "style", "stylesheet")),
                                    f"analyses[{i}].style.stylesheet", why))
        else:
            style = a.style.model_copy(update={"stylesheet": str((base / sheet).resolve())})
            spec.analyses[i] = a.model_copy(update={"style": style})
    return problems


def _network_problems(spec: AnalysesFile, name: str, lines: dict) -> list[Problem]:
    """Network names unique and distinct from analyses; every ``studies_from`` names a known analysis and subgroup."""
    out, keys = [], {a.name: {s.key for s in a.subgroups} for a in spec.analyses}
    seen = set()
    for i, n in enumerate(spec.networks):
        if n.name in keys or n.name in seen:
            out.append(Problem(name, lines.get(("networks", i, "name")), f"networks[{i}].name",
                               f"name {n.name!r} is already used by an analysis or another network"))
        seen.add(n.name)
        for j, g in enumerate(n.subgroups):
            for m, ref in enumerate(g.studies_from):
                where = f"networks[{i}].subgroups[{j}].studies_from[{m}]"
                line = lines.get(("networks", i, "subgroups", j, "studies_from", m)) or lines.get(("networks", i, "name"))
                if ref.analysis not in keys:
                    out.append(Problem(name, line, where, f"unknown analysis {ref.analysis!r}"))
                elif ref.subgroup not in keys[ref.analysis]:
                    out.append(Problem(name, line, where, f"analysis {ref.analysis!r} has no subgroup {ref.subgroup!r}; "
                                       f"subgroups: {', '.join(sorted(keys[ref.analysis]))}"))
    return out

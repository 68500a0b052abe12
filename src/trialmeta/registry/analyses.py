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

from pydantic import Field, ValidationError, field_validator, model_validator

from trialmeta.io import display, read_yaml
from trialmeta.errors import InputError, Problem
from trialmeta.registry.certainty import CONCERN_STEPS, GRADE_DOMAINS, RATINGS, Certainty, DomainRating, GradeDomains
from trialmeta.registry.comparisons import Indirect, IndirectArm, NetworkSpec, NetworkSubgroup, network_problems
from trialmeta.registry.figstyle import StyleSpec
from trialmeta.registry.schema import LABEL, TITLE, Model
from trialmeta.registry.types import (RESERVED_NAMES, AnalysisName, Biomarker, Count, Endpoint, Key, Number, PartialDate,
                                      Tag)
from trialmeta.stats.settings import PoolSettings

#: Everything analyses.yaml is made of, importable from here as before the certainty and comparison models
#: moved to :mod:`trialmeta.registry.certainty` and :mod:`trialmeta.registry.comparisons`.
__all__ = ["RESERVED_NAMES", "AnalysisName", "Settings", "Overrides", "StudyRef", "Subgroup", "GRADE_DOMAINS",
           "CONCERN_STEPS", "RATINGS", "DomainRating", "GradeDomains", "Certainty", "Analysis", "IndirectArm",
           "Indirect", "NetworkSubgroup", "NetworkSpec", "AnalysesFile", "settings_for", "load_analyses",
           "network_problems"]


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
    tags: list[Tag] = Field(default_factory=list, description="Short names grouping analyses into chapters (e.g. "
                            "an indication: breast; an outcome: pfs): `--analysis tag:NAME` selects them, and a "
                            "registry beyond 20 analyses gets one Word document and one workbook per tag.")


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
        for j, tag in enumerate(a.tags):
            if tag in a.tags[:j]:
                problems.append(Problem(name, lines.get(("analyses", i, "tags", j)) or lines.get(("analyses", i, "tags")),
                                        f"analyses[{i}].tags[{j}]", f"duplicate tag {tag!r}"))
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
    problems += network_problems(spec, name, lines)
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

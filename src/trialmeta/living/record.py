"""Read a ClinicalTrials.gov API v2 study record into plain data: dates, status, arms, arm sizes,
references and every posted between-arm analysis, with numbers kept as the API printed them
(strings: "1.09", "<0.001", "2.20").

The record's shape is the API's (``protocolSection.*Module``, ``resultsSection.*Module``). A
record without the modules a task needs is a :class:`RecordError` naming what is missing (the
API changed, or a narrow ``fields=`` request left it out); unknown extra fields are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from trialmeta.errors import TrialmetaError


class RecordError(TrialmetaError):
    """A study record lacks what trialmeta needs from it."""


@dataclass(frozen=True)
class PostedAnalysis:
    outcome: str                 # outcome measure title
    outcome_type: str            # PRIMARY / SECONDARY / OTHER_PRE_SPECIFIED / ...
    population: str              # populationDescription
    time_frame: str
    param_type: str              # "Hazard Ratio (HR)", "Odds Ratio (OR)", ...
    value: str | None            # as printed
    ci_pct: str | None
    ci_sides: str | None         # TWO_SIDED / ONE_SIDED
    ci_low: str | None
    ci_high: str | None
    p_value: str | None          # as printed, e.g. "<0.0001"
    method: str | None
    estimate_comment: str | None
    groups: tuple[str, ...]      # group titles the analysis compares, in the record's order
    dangling: tuple[str, ...]    # group ids named by the analysis but absent from the outcome's groups
    n: tuple[str | None, ...]    # analysed n per compared group (the outcome's denominators)

    @property
    def measure(self) -> str | None:
        """HR, OR, RR or MD when the parameter is one of those, else None."""
        t = self.param_type.lower()
        for code, words in (("HR", ("hazard ratio",)), ("OR", ("odds ratio",)), ("RR", ("risk ratio", "relative risk")),
                            ("MD", ("mean difference", "difference in means", "least squares mean"))):
            if any(w in t for w in words):
                return code
        return None

    def key(self) -> str:
        return f"{self.outcome} | {self.param_type} | {', '.join(self.groups)}"

    def printed(self) -> str:
        ci = f" ({self.ci_pct or '?'}% CI {self.ci_low}-{self.ci_high})" if self.ci_low or self.ci_high else ""
        p = f", p {self.p_value}" if self.p_value else ""
        return f"{self.param_type} {self.value}{ci}{p}"


@dataclass(frozen=True)
class Arm:
    label: str
    type: str
    interventions: tuple[str, ...]
    n: str | None = None       # participants STARTED in the first period of the flow, as printed
    n_from: str | None = None  # "participant flow" or "baseline"


@dataclass(frozen=True)
class Study:
    nct_id: str
    acronym: str | None = None
    title: str | None = None
    other_ids: tuple[str, ...] = ()  # sponsor's id, EudraCT and other secondary ids, as "kind id"
    overall_status: str | None = None
    last_update_posted: str | None = None
    results_first_posted: str | None = None
    phases: tuple[str, ...] = ()
    allocation: str | None = None
    masking: str | None = None
    conditions: tuple[str, ...] = ()
    primary_outcome: str | None = None
    arms: tuple[Arm, ...] = ()
    references: tuple[dict, ...] = ()
    analyses: tuple[PostedAnalysis, ...] = ()
    modules: frozenset[str] = field(default_factory=frozenset)


def _get(d: object, *path: str):
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _str(value) -> str | None:
    return None if value is None else str(value)


def parse_study(record: object) -> Study:
    """Plain data from one study record; raises :class:`RecordError` if it has no NCT id."""
    if not isinstance(record, dict):
        raise RecordError(f"a study record must be a JSON object, got {type(record).__name__}")
    proto = record.get("protocolSection")
    nct = _get(proto, "identificationModule", "nctId")
    if not isinstance(nct, str):
        raise RecordError("the study record has no protocolSection.identificationModule.nctId: the API may have "
                          "changed")
    res = record.get("resultsSection") if isinstance(record.get("resultsSection"), dict) else {}
    modules = frozenset([*(proto or {}), *res])
    status = _get(proto, "statusModule") or {}
    design = _get(proto, "designModule") or {}
    return Study(
        nct_id=nct,
        acronym=_str(_get(proto, "identificationModule", "acronym")),
        title=_str(_get(proto, "identificationModule", "officialTitle") or _get(proto, "identificationModule",
                                                                                 "briefTitle")),
        other_ids=_other_ids(_get(proto, "identificationModule") or {}),
        overall_status=_str(status.get("overallStatus")),
        last_update_posted=_str(_get(status, "lastUpdatePostDateStruct", "date")),
        results_first_posted=_str(_get(status, "resultsFirstPostDateStruct", "date")),
        phases=tuple(str(p) for p in _list(design.get("phases"))),
        allocation=_str(_get(design, "designInfo", "allocation")),
        masking=_str(_get(design, "designInfo", "maskingInfo", "masking")),
        conditions=tuple(str(c) for c in _list(_get(proto, "conditionsModule", "conditions"))),
        primary_outcome=next((str(o["measure"]) for o in _list(_get(proto, "outcomesModule", "primaryOutcomes"))
                              if isinstance(o, dict) and o.get("measure")), None),
        arms=_arms(proto, res),
        references=tuple(r for r in _list(_get(proto, "referencesModule", "references")) if isinstance(r, dict)),
        analyses=_analyses(res),
        modules=modules,
    )


_ID_KINDS = {"EUDRACT_NUMBER": "EudraCT", "CTIS": "CTIS", "REGISTRY": "registry", "NIH": "NIH", "FDA": "FDA",
             "OTHER_GRANT": "grant", "OTHER": "other"}


def _other_ids(ident: dict) -> tuple[str, ...]:
    out = []
    if isinstance(ident.get("orgStudyIdInfo"), dict) and ident["orgStudyIdInfo"].get("id"):
        out.append(f"sponsor {ident['orgStudyIdInfo']['id']}")
    for s in _list(ident.get("secondaryIdInfos")):
        if isinstance(s, dict) and s.get("id"):
            out.append(f"{_ID_KINDS.get(str(s.get('type')), str(s.get('type', 'other')).lower())} {s['id']}")
    return tuple(dict.fromkeys(out))


def require(study: Study, *modules: str) -> None:
    """Raise a :class:`RecordError` naming the modules the record lacks."""
    missing = [m for m in modules if m not in study.modules]
    if missing:
        raise RecordError(f"the ClinicalTrials.gov record of {study.nct_id} has no {', '.join(missing)}: the API "
                          "may have changed, or the study has not posted them; nothing was written")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _arms(proto, res) -> tuple[Arm, ...]:
    groups = [g for g in _list(_get(proto, "armsInterventionsModule", "armGroups")) if isinstance(g, dict)]
    counts = _flow_counts(res)
    out = []
    for i, g in enumerate(groups):
        label = str(g.get("label", f"arm {i + 1}"))
        n, src = counts.get(_norm(label), (None, None))
        if n is None and len(counts) == len(groups):  # titles differ from labels: same order
            n, src = list(counts.values())[i]
        names = tuple(re.sub(r"^[A-Za-z ]+:\s*", "", str(x)) for x in _list(g.get("interventionNames")))
        out.append(Arm(label, str(g.get("type", "")), names, n, src))
    return tuple(out)


def _flow_counts(res) -> dict[str, tuple[str, str]]:
    """Group title (normalised) -> (n as printed, where from): participants STARTED in the first
    period of the participant flow, else the baseline denominators."""
    flow = _get(res, "participantFlowModule") or {}
    titles = {g.get("id"): str(g.get("title", "")) for g in _list(flow.get("groups")) if isinstance(g, dict)}
    periods = _list(flow.get("periods"))
    if titles and periods and isinstance(periods[0], dict):
        for m in _list(periods[0].get("milestones")):
            if isinstance(m, dict) and m.get("type") == "STARTED":
                return {_norm(titles[a["groupId"]]): (_str(a.get("numSubjects")), "participant flow")
                        for a in _list(m.get("achievements")) if isinstance(a, dict) and a.get("groupId") in titles}
    base = _get(res, "baselineCharacteristicsModule") or {}
    btitles = {g.get("id"): str(g.get("title", "")) for g in _list(base.get("groups")) if isinstance(g, dict)}
    for d in _list(base.get("denoms"))[:1]:
        return {_norm(btitles[c["groupId"]]): (_str(c.get("value")), "baseline")
                for c in _list(_get(d, "counts")) if isinstance(c, dict) and c.get("groupId") in btitles
                and _norm(btitles[c["groupId"]]) != "total"}
    return {}


def _analyses(res) -> tuple[PostedAnalysis, ...]:
    out = []
    for om in _list(_get(res, "outcomeMeasuresModule", "outcomeMeasures")):
        if not isinstance(om, dict):
            continue
        titles = {g.get("id"): str(g.get("title", "")) for g in _list(om.get("groups")) if isinstance(g, dict)}
        denoms = {}
        for d in _list(om.get("denoms"))[:1]:
            denoms = {c.get("groupId"): _str(c.get("value")) for c in _list(_get(d, "counts")) if isinstance(c, dict)}
        for a in _list(om.get("analyses")):
            if not isinstance(a, dict) or not a.get("paramType"):
                continue
            ids = [str(i) for i in _list(a.get("groupIds"))]
            out.append(PostedAnalysis(
                outcome=str(om.get("title", "")), outcome_type=str(om.get("type", "")),
                population=str(om.get("populationDescription", "")), time_frame=str(om.get("timeFrame", "")),
                param_type=str(a["paramType"]), value=_str(a.get("paramValue")), ci_pct=_str(a.get("ciPctValue")),
                ci_sides=_str(a.get("ciNumSides")), ci_low=_str(a.get("ciLowerLimit")),
                ci_high=_str(a.get("ciUpperLimit")), p_value=_str(a.get("pValue")),
                method=_str(a.get("statisticalMethod")), estimate_comment=_str(a.get("estimateComment")),
                groups=tuple(titles[i] for i in ids if i in titles),
                dangling=tuple(i for i in ids if i not in titles),
                n=tuple(denoms.get(i) for i in ids if i in titles)))
    return tuple(out)


#: Outcome-title words -> the registry's endpoint code (first match wins).
ENDPOINT_WORDS = (("PFS2", ("second progression", "pfs2")), ("PFS", ("progression-free", "progression free", "pfs")),
                  ("OS", ("overall survival",)), ("ORR", ("objective response", "overall response rate",
                                                          "response rate", "orr")),
                  ("DOR", ("duration of response",)))


def endpoint_of(title: str) -> str | None:
    t = title.lower()
    for code, words in ENDPOINT_WORDS:
        if any(re.search(rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])", t) for w in words):
            return code
    return None

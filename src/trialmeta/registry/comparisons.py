"""The comparisons beyond one analysis in ``trials/analyses.yaml``: indirect comparisons (``indirect:``,
Bucher) and network meta-analyses (``networks:``), their models and the check that every network names
known analyses and subgroups.

Importable from :mod:`trialmeta.registry.analyses` as before.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trialmeta.errors import Problem
from trialmeta.registry.schema import LABEL, TITLE, Model
from trialmeta.registry.types import AnalysisName, Endpoint, Key


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


def network_problems(spec, name: str, lines: dict) -> list[Problem]:
    """Network names unique and distinct from analyses; every ``studies_from`` names a known analysis and subgroup.

    ``spec`` is the :class:`trialmeta.registry.analyses.AnalysesFile` (not imported: it imports this module)."""
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

"""Risk of bias and GRADE from Python: :func:`rob2_overall` (the RoB 2 algorithm on five domain
judgements) and :func:`grade` (the GRADE table of an analysis as a DataFrame: per pooled group and
domain, trialmeta's data-driven suggestion beside the reviewers' judgement and rating).

Both use the definitions the outputs use (:mod:`trialmeta.registry.rob`,
:mod:`trialmeta.synthesis.appraisal`), so a number or word here is the one ``evidence.json``, the
GRADE table and the workbook hold. The top layer beside :mod:`trialmeta.api`; imported lazily by
``trialmeta`` (``tm.rob2_overall``, ``tm.grade``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trialmeta.registry import rob as robmod

#: Columns of :func:`grade`'s DataFrame.
GRADE_COLUMNS = ["analysis", "subgroup", "group", "k", "domain", "suggestion", "rationale", "reviewers_concern",
                 "reviewers_reason", "certainty", "certainty_reasons"]


def rob2_overall(randomisation: str | None = None, deviations: str | None = None, missing_data: str | None = None,
                 measurement: str | None = None, reporting: str | None = None) -> str:
    """The RoB 2 overall judgement (Sterne et al. BMJ 2019;366:l4898) from the five domain judgements.

    Each domain is ``"low"``, ``"some concerns"``, ``"high"``, or ``None`` / ``"not assessed"``.
    Any high -> ``"high"``; else a domain not assessed -> ``"not assessed"``; else any some concerns
    -> ``"some concerns"``; else ``"low"``.

    Raises
    ------
    ValueError
        A judgement that is none of these, naming the domain and the value.

    Examples
    --------
    >>> import trialmeta as tm
    >>> tm.rob2_overall("low", "some concerns", "low", "low", "low")
    'some concerns'
    >>> tm.rob2_overall(measurement="high")
    'high'
    """
    given = dict(zip(robmod.DOMAINS, (randomisation, deviations, missing_data, measurement, reporting)))
    judgements = []
    for name, value in given.items():
        if value is None or value == robmod.NOT_ASSESSED:
            judgements.append(None)
        elif value in robmod.JUDGEMENTS:
            judgements.append(value)
        else:
            raise ValueError(f"{name} ({robmod.SHORT[name]}): {value!r} is not a RoB 2 judgement; use one of "
                             f"{', '.join(repr(j) for j in robmod.JUDGEMENTS)} or None (not assessed)")
    return robmod.label(robmod.rob2_overall(judgements))


def grade(result, registry="trials") -> pd.DataFrame:
    """The GRADE table of one analysis: one row per pooled group (subgroups, then overall) and domain.

    Parameters
    ----------
    result : trialmeta.synthesis.run.AnalysisResult
        One value of :func:`trialmeta.analyse`'s dict.
    registry : trialmeta.registry.load.Registry or path
        The registry the analysis ran on (its ``risk_of_bias:`` entries give the risk-of-bias domain).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GRADE_COLUMNS`: ``suggestion`` is trialmeta's, from the data only (None where
        the domain is the reviewers' call or the data cannot say); ``reviewers_concern``/``certainty``
        are the reviewers' (``certainty:`` in analyses.yaml; None: not stated / not rated). A
        suggestion never fills in a reviewers' column.

    Raises
    ------
    TypeError
        ``result`` is not an analysis result of the registry (e.g. a :class:`trialmeta.api.MetaResult`,
        which has no risk-of-bias assessments nor reviewers' ratings).
    """
    from trialmeta.registry.load import Registry, load_registry
    from trialmeta.synthesis.appraisal import grade_records
    from trialmeta.synthesis.run import AnalysisResult

    if not isinstance(result, AnalysisResult):
        raise TypeError(f"grade() takes an analysis result of tm.analyse(), got {type(result).__name__}")
    registry = registry if isinstance(registry, Registry) else load_registry(Path(registry))
    rows = []
    for g in grade_records(result, registry):
        c = g["certainty"]
        for d in g["domains"]:
            mine = d["reviewers"] or {}
            rows.append([result.name, g["subgroup"], g["label"], g["k"], d["domain"], d["suggestion"], d["rationale"],
                         mine.get("concern"), mine.get("reason"), c["rating"] if c else None,
                         "; ".join(c["reasons"]) if c else None])
    return pd.DataFrame(rows, columns=GRADE_COLUMNS)

"""tm.rob2_overall and tm.grade (trialmeta/appraise.py): the RoB 2 algorithm and the GRADE table from Python."""

from __future__ import annotations

import itertools

import pytest

import trialmeta as tm
from conftest import TRIALS
from trialmeta.report import grade_table

LEVELS = ("low", "some concerns", "high", None)


def test_rob2_overall_every_combination():
    """RoB 2 (Sterne et al. 2019, overall algorithm): any high -> high; else any not assessed -> not
    assessed; else any some concerns -> some concerns; else low. All 4^5 = 1024 combinations."""
    seen = set()
    for combo in itertools.product(LEVELS, repeat=5):
        if "high" in combo:
            want = "high"
        elif None in combo:
            want = "not assessed"
        elif "some concerns" in combo:
            want = "some concerns"
        else:
            want = "low"
        assert tm.rob2_overall(*combo) == want, combo
        assert tm.rob2_overall(*("not assessed" if j is None else j for j in combo)) == want, combo
        seen.add(want)
    assert seen == {"high", "not assessed", "some concerns", "low"}


def test_rob2_overall_names_a_bad_judgement():
    with pytest.raises(ValueError, match=r"measurement \(D4\): 'moderate' is not a RoB 2 judgement"):
        tm.rob2_overall("low", "low", "low", "moderate", "low")


def test_grade_frame_is_the_grade_table():
    results = tm.analyse(TRIALS)
    registry = tm.load_trials(TRIALS)
    r = results["pi3k-akt-pfs"]
    df = tm.grade(r, registry)
    groups = [*r.groups, *([r.overall] if r.overall else [])]
    assert len(df) == 5 * len(groups)
    assert list(df["domain"][:5]) == ["risk_of_bias", "inconsistency", "indirectness", "imprecision",
                                      "publication_bias"]
    table = grade_table.rows(r, registry)  # no reviewers' rating here: the cells are the suggestions alone
    for i, row in enumerate(table):
        for j, (_, d) in enumerate(df.iloc[5 * i:5 * i + 5].iterrows(), start=1):
            hint = f"suggested {d['suggestion']}" if d["suggestion"] else "no suggestion"
            assert row[j] == f"{hint.capitalize()}: {d['rationale']}."
    assert df["certainty"].isna().all() and df["reviewers_concern"].isna().all()  # never filled from a suggestion
    assert df.loc[df["domain"] == "indirectness", "suggestion"].isna().all()


def test_grade_refuses_a_pooled_table_result():
    import pandas as pd

    own = tm.meta(pd.DataFrame({"study": ["A", "B"], "hr": [0.7, 0.8], "lower": [0.5, 0.6], "upper": [0.98, 1.07]}),
                  hr="hr", lower="lower", upper="upper")
    with pytest.raises(TypeError, match="analysis result of tm.analyse"):
        tm.grade(own)

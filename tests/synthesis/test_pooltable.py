"""``pool-table`` core: reading a CSV of effects, pooling it, rendering it.

Invalid inputs live in tests/data/pooltable/invalid, one defect per file, named after it.
"""


import pandas as pd
import pytest
from conftest import DATA as _DATA

from trialmeta.stats.pooling import PoolSettings
from trialmeta.synthesis.pooltable import BAYES_KEYS, GROUP_KEYS, format_groups, pool_table, read_effects_table
from trialmeta.errors import InputError

DATA = _DATA / "pooltable"


def read(name, folder=DATA):
    path = folder / name
    return read_effects_table(path.read_text(encoding="utf-8"), path.name)


@pytest.mark.parametrize("name, line, column, message", [
    ("missing-columns.csv", 1, "", "missing columns: need 'study' plus either 'log_hr' and 'se'"),
    ("not-a-number.csv", 3, "log_hr", "'abc' is not a number"),
    ("not-finite.csv", 2, "log_hr", "'nan' is not a finite number"),
    ("se-not-positive.csv", 3, "se", "SE must be > 0, got 0"),
    ("ci-reversed.csv", 3, "ci_low", "reversed CI: ci_low 0.9 is above ci_high 0.5"),
    ("ci-zero-width.csv", 2, "ci_low", "zero-width CI (0.8 to 0.8) gives SE 0"),
    ("hr-outside-ci.csv", 2, "hr", "HR 1.5 is outside its CI [0.6, 1.1]"),
    ("ratio-not-positive.csv", 2, "hr", "must be > 0 (a ratio, not its log), got -0.2"),
    ("wrong-field-count.csv", 3, "", "expected 3 fields, found 2"),
    ("empty-study.csv", 2, "study", "empty study name"),
    ("empty.csv", 1, "", "file is empty"),
    ("header-only.csv", 1, "", "no data rows after the header"),
])
def test_invalid_table_is_located(name, line, column, message):
    with pytest.raises(InputError) as err:
        read(name, DATA / "invalid")
    (problem,) = err.value.problems
    assert (problem.file, problem.line, problem.path) == (name, line, column)
    assert message in problem.message


def test_every_problem_is_reported_before_failing():
    text = "study,log_hr,se\nA,x,0.1\nB,0.1,-1\nC,0.2,0.1\n,0.3,0.1\n"
    with pytest.raises(InputError) as err:
        read_effects_table(text, "many.csv")
    assert [(p.line, p.path) for p in err.value.problems] == [(2, "log_hr"), (3, "se"), (5, "study")]
    assert str(err.value).splitlines()[0] == "many.csv:2: log_hr: 'x' is not a number"


def test_lines_count_quoted_newlines_and_blank_lines():
    text = 'study,log_hr,se\n"two\nline name",0.1,0.2\n\nB,y,0.1\n'
    with pytest.raises(InputError) as err:
        read_effects_table(text, "q.csv")
    assert err.value.problems[0].line == 5


def test_steurer_from_hr_and_ci_reproduces_the_published_rounding():
    """O11 [derived]: SE = (ln ub - ln lb)/3.919928 from the 4-dp HR/CI columns gives
    0.345030, 0.078682, 0.143996, 0.311989 and FE HR 0.886525 [0.778703, 1.009276], p 0.068695,
    Q 3.623874 -- the published meta::metagen(lower=, upper=) p = 0.0687 and Q p 0.3050."""
    frame = read("steurer-hr-ci.csv")
    assert list(frame["se"]) == pytest.approx([0.345030, 0.078682, 0.143996, 0.311989], abs=1e-6)
    assert list(frame["year"]) == ["1996", "2001", "2000", "2000"] and list(frame["line"]) == [2, 3, 4, 5]
    (g,) = pool_table(frame, settings=PoolSettings("fe", "wald"))["groups"]
    assert (g["hr"], g["hr_ci_low"], g["hr_ci_high"]) == pytest.approx((0.886525, 0.778703, 1.009276), abs=1e-6)
    assert (g["p"], g["q"]) == pytest.approx((0.068695, 3.623874), abs=1e-6)
    assert round(g["p"], 4) == 0.0687 and round(g["q_p"], 4) == 0.3050


def test_steurer_from_log_hr_and_se_defaults():
    """O11 [derived] under the defaults (REML + HKSJ): tau² = 0, HR CI [0.7033, 1.1175], p 0.1964,
    Q-profile tau² CI (0, 1.2885); no subgroup test without ``by``."""
    out = pool_table(read("steurer-lnhr.csv"))
    assert out["subgroup_test"] is None
    (g,) = out["groups"]
    assert list(g) == [*GROUP_KEYS, "bayes", "notes"]
    assert (g["group"], g["k"], g["method"], g["ci_method"], g["tau2"]) == ("overall", 4, "reml", "hksj", 0.0)
    assert (g["hr_ci_low"], g["hr_ci_high"], g["p"]) == pytest.approx((0.7033, 1.1175, 0.1964), abs=5e-5)
    assert (g["tau2_ci_low"], g["tau2_ci_high"]) == pytest.approx((0.0, 1.2885), abs=5e-5)


def test_grouped_table_and_its_renderings():
    frame = read("steurer-lnhr.csv")
    out = pool_table(frame, by="year", settings=PoolSettings("fe", "wald"))
    assert [g["group"] for g in out["groups"]] == ["1996", "2001", "2000", "overall"]
    assert [g["k"] for g in out["groups"]] == [1, 1, 2, 4]
    assert out["subgroup_test"]["df_between"] == 2
    # With FE subgroups, Q-between is the Q partition: Q_total = Q_between + sum Q_within.
    within = sum(g["q"] or 0.0 for g in out["groups"][:-1])
    assert out["subgroup_test"]["q_between"] + within == pytest.approx(out["groups"][-1]["q"], rel=1e-12)
    table = format_groups(out, "table", PoolSettings("fe", "wald"))
    assert "Test for subgroup differences: Chi² = " in table and "overall  4  0.89 [0.78, 1.01]" in table
    # Study rows first, as R meta's print(): Rai exp(-0.237 -+ 1.96 * 0.144) = [0.59, 1.05]; within 2000, FE weights 1/0.144^2 : 1/0.312^2 = 82.4% : 17.6%.
    assert table.splitlines()[:2] == ["study       subgroup  HR [95% CI]        weight",
                                      "FCG on CLL  1996      0.55 [0.28, 1.09]  100.0%"]
    assert "Rai         2000      0.79 [0.59, 1.05]  82.4%" in table and "Study weights are within each subgroup." in table
    assert [s["study"] for s in out["studies"]] == ["FCG on CLL", "Leporrier", "Rai", "Robak"]
    rai = out["studies"][2]
    assert (rai["line"], rai["group"], rai["log_hr"], rai["se"]) == (4, "2000", -0.237, 0.144)
    assert rai["weight"] == pytest.approx(100 * 0.144 ** -2 / (0.144 ** -2 + 0.312 ** -2), rel=1e-12)
    md = format_groups(out, "md", PoolSettings("fe", "wald"))
    assert md.splitlines()[0] == "| study | subgroup | HR [95% CI] | weight |" and md == format_groups(out, "md", PoolSettings("fe", "wald"))
    assert "| group | k | HR [95% CI]" in md
    csv_text = format_groups(out, "csv")
    header = ",".join(["row", "study", *GROUP_KEYS, "weight", *(f"bayes_{k}" for k in BAYES_KEYS)])
    assert csv_text.splitlines()[0] == header and len(csv_text.splitlines()) == 9
    assert csv_text.splitlines()[3].startswith("study,Rai,2000,,,,-0.237,0.144,")
    assert repr(out["groups"][-1]["log_hr"]) in csv_text and csv_text.splitlines()[-1].startswith("pooled,,overall,4,")


def test_grouping_problems_are_located():
    frame = read("steurer-lnhr.csv")
    with pytest.raises(InputError, match="grouping column 'arm' not found"):
        pool_table(frame, by="arm")
    bad = frame.assign(year=["1996", "", "overall", "2000"])
    with pytest.raises(InputError) as err:
        pool_table(bad, by="year", name="s.csv")
    assert [(p.line, p.message) for p in err.value.problems] == [
        (3, "empty subgroup label"), (4, "subgroup label 'overall' is reserved for the overall pool")]
    with pytest.raises(InputError, match="no studies"):
        pool_table(pd.DataFrame(columns=["study", "log_hr", "se"]))

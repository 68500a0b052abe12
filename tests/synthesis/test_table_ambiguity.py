"""Issue 29: a table that can be read two ways is refused, never read one way silently:
``1,234`` in a ``;`` file (thousands or decimal comma?), case-variant duplicate headers, and the
effect given twice (HR with its CI and log HR with its SE)."""

from __future__ import annotations

import pytest

from trialmeta.errors import InputError
from trialmeta.synthesis.pooltable import read_effects_table

SEMI = "study;md;ci_low;ci_high\nA;1,234;1,000;1,500\nB;1,300;1,100;1,600\n"


def test_thousands_or_decimal_comma_is_asked_not_guessed():
    """Before: MD 1.234 read from '1,234' (about 130 meant), with only a closing note."""
    with pytest.raises(InputError) as caught:
        read_effects_table(SEMI, "t.csv", measure="MD")
    p = caught.value.problems[0]
    assert p.line == 2 and "'1,234' may be a number with a thousands separator or with a decimal comma" in p.message
    assert "--decimal point" in p.message and "--decimal comma" in p.message
    comma = read_effects_table(SEMI, "t.csv", measure="MD", decimal="comma")
    assert list(comma["hr"]) == [1.234, 1.3] and comma.attrs["decimal_comma"]
    point = read_effects_table(SEMI, "t.csv", measure="MD", decimal="point")
    assert list(point["hr"]) == [1234.0, 1300.0] and not point.attrs["decimal_comma"]
    with pytest.raises(InputError, match="'1,234' may be"):  # beside a decimal point: ',' would be thousands
        read_effects_table("study;yi;se\nA;1,234;12.5\nB;0,85;0,1\n", "t.csv", measure="MD")
    # beside commas that cannot separate thousands and no point: decimal commas
    frame = read_effects_table("study;yi;se\nA;1,234;0,5\nB;0,85;0,1\n", "t.csv", measure="MD")
    assert list(frame["yi"]) == [1.234, 0.85]


def test_unambiguous_decimal_commas_still_read():
    frame = read_effects_table("study;log_hr;se\nA;-0,2;0,125\nB;-0,3;0,15\n", "t.csv")
    assert list(frame["se"]) == [0.125, 0.15] and frame.attrs["decimal_comma"]


@pytest.mark.parametrize("header, message", [
    ("study,HR,hr,ci_low,ci_high", "columns 'HR' and 'hr' both give 'hr'"),
    ("study,Hazard ratio,hr,ci_low,ci_high", "columns 'Hazard ratio' and 'hr' both give 'hr'"),
])
def test_duplicate_columns_by_another_spelling_are_refused(header, message):
    with pytest.raises(InputError) as caught:
        read_effects_table(header + "\nA,0.8,0.7,0.6,1.0\n", "t.csv")
    assert caught.value.problems[0].line == 1 and message in caught.value.problems[0].message


def test_the_effect_given_twice_is_refused():
    text = "study,HR,Lower,Upper,log_hr,se\nA,0.8,0.6,1.0,-0.5,0.1\nB,0.7,0.5,0.9,-0.1,0.2\n"
    with pytest.raises(InputError) as caught:
        read_effects_table(text, "t.csv")
    p = caught.value.problems[0]
    assert p.line == 1 and "gives the HR twice, as (log_hr, se) and (hr, ci_low, ci_high)" in p.message

"""Hostile YAML gets a located error (exit 1), fast, never an internal error or a hang.

Aliases are measured on the parser's events before any node is built, so an alias bomb that
would expand to 10^10 values is refused at once (were it expanded, this test would never end);
depth, file size, integer length, control characters, dates and ratios are bounded, and a
boolean is never read as a number.
"""

from __future__ import annotations

import pytest

from conftest import DATA

MINIMAL = (DATA / "valid" / "minimal.yaml").read_text()


def _bomb(levels: int) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def _nested_block(depth: int) -> str:
    return "".join("  " * i + "a:\n" for i in range(depth)) + "  " * depth + "b: 1\n"


FILES = {
    # name: (text, line, message part)
    "alias-bomb": (_bomb(10), 6, "aliases expand the document beyond 200,000 values"),
    "recursive-alias": ("a: &a [1, *a]\n", 1, "alias *a refers to the collection that contains it"),
    "deep-flow": ("x: " + "[" * 5000 + "]" * 5000 + "\n", 1, "nest"),
    "deep-block": (_nested_block(60), 41, "nested more than 40 levels deep"),
    "huge-integer": ("x: " + "9" * 5000 + "\n", 1, "an integer of 5000 digits; numbers are limited to 30 digits"),
    "control-raw": ("x: 1\ny: a\x07b\n", 2, "control character U+0007 at column 5"),
    "control-escaped": ('x: 1\ny: "a\\x1bb"\n', 2, "y: control character U+001B in the value"),
    "complex-key": ("? [a, b]\n: 1\n", 1, "a key must be a plain name"),
    "duplicate-key": ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first given on line 1)"),
    # issue 29: `<<: *itt` copied the ITT result's events, label and notes into a subgroup result
    "merge-key": ("results:\n  - &itt {population: itt, events_exp: 49}\n  - <<: *itt\n    population: pik3ca\n",
                  3, "results[1]: a YAML merge key ('<<') copies another mapping's fields"),
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_hostile_yaml_is_refused_with_its_line(name, tmp_path):
    from trialmeta.errors import InputError
    from trialmeta.io import read_yaml

    text, line, message = FILES[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_yaml(path)
    problem = caught.value.problems[0]
    assert problem.line == line and message in str(problem), str(problem)


def test_an_oversized_file_is_refused_before_parsing(tmp_path):
    from trialmeta.errors import InputError
    from trialmeta.io import MAX_YAML_BYTES, read_yaml

    path = tmp_path / "big.yaml"
    path.write_text("x: [" + "1, " * (MAX_YAML_BYTES // 3) + "1]\n")
    with pytest.raises(InputError, match="YAML inputs are limited to"):
        read_yaml(path)


def test_anchors_and_aliases_within_the_limits_still_work(tmp_path):
    from trialmeta.io import read_yaml

    path = tmp_path / "ok.yaml"
    path.write_text("base: &b {x: 1}\ncopy: *b\n")
    data, lines = read_yaml(path)
    assert data == {"base": {"x": 1}, "copy": {"x": 1}} and lines[("copy",)] == 2


EDITS = {
    # name: (old, new, field, message part)
    "hr-boolean": ("hr: 0.58", "hr: true", "results[0].hr", "input should be a valid number (got True)"),
    "count-boolean": ("events_exp: 49", "events_exp: yes", "results[0].events_exp",
                      "input should be a valid integer (got True)"),
    "number-as-text": ("hr: 0.58", 'hr: "0.58"', "results[0].hr", "input should be a valid number (got '0.58')"),
    "year-9999": ("published: 2020-03", "published: 9999-12", "publications[0].published",
                  "year 9999 is outside 1900-2200"),
    "yaml-date-9999": ("cutoff: 2019-01", "cutoff: 9999-12-31", "data_cuts[0].cutoff", "year 9999 is outside"),
    "hr-1e307": ("hr: 0.58", "hr: 1.0e+307", "results[0].hr", "a ratio must lie between 1e-06 and 1e+06"),
    "hr-infinite": ("hr: 0.58", "hr: .inf", "results[0].hr", "input should be a finite number"),
    "hr-nan": ("hr: 0.58", "hr: .nan", "results[0].hr", "input should be a finite number"),
    "javascript-url": ("published: 2020-03", "published: 2020-03\n    url: javascript:alert(1)",
                       "publications[0].url", "a url is an http:// or https:// address or doi:10.xxxx/..."),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_out_of_range_values_get_a_located_error(name, tmp_path, run_cli):
    old, new, field, message = EDITS[name]
    assert old in MINIMAL
    text = MINIMAL.replace(old, new, 1)
    line = text[:text.index(new)].count("\n") + 1 + new[:new.index(":")].count("\n")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    code, out, err = run_cli("validate", path)
    assert code == 1, err
    assert f"{name}.yaml:" in err and f": {field}: " in err and message in err, err
    assert "internal error" not in err
    if "url" not in name:
        assert f"{name}.yaml:{line}: {field}" in err, err


@pytest.mark.parametrize("value", ["9999-12", "0000", "2020-13", "soon"])
def test_an_impossible_as_of_date_exits_2(value, run_cli):
    code, _, err = run_cli("pool", "--as-of", value)  # a usage error (issue 29: it was 1)
    assert code == 2 and "--as-of:" in err and "internal error" not in err, err

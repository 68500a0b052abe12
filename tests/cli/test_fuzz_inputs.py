"""Mutated inputs never crash trialmeta: every outcome is a result or located errors.

Each case takes the real registry (or a pool-table CSV), corrupts one to three lines the way
hands and digitisers do (a deleted or doubled line, a number replaced by junk, a shifted
indent, an impossible date, a list where a number belongs) and runs the CLI. The seeds are
fixed, so a failure is reproducible; the cases that found bugs are pinned in
test_validate_invalid.py and test_guyot_input.py. The invariant: exit 0 or 1, never the
internal-error exit 3, never a traceback, and an error always names its file.
"""

from __future__ import annotations

import random
import re
import shutil

import pytest

from conftest import DATA, TRIALS

JUNK = ["-1", "0", "1e9", "1e308", "abc", "", "~", "[", "{a: 1}", "yes", "2020-02-30", "2020-13",
        "[0.5, 0.4]", "[1, 2, 3]", "NR", "NE", "'x'", "null"]


def mutate_yaml(lines: list[str], rng: random.Random) -> list[str]:
    lines = list(lines)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        line, op = lines[i], rng.choice(["delete", "double", "number", "value", "indent", "swap"])
        if op == "delete":
            lines.pop(i)
        elif op == "double":
            lines.insert(i, line)
        elif op == "number":
            lines[i] = re.sub(r"\d+(\.\d+)?", rng.choice(JUNK) or "0", line, count=1)
        elif op == "value" and ":" in line:
            lines[i] = line.split(":")[0] + ": " + rng.choice(JUNK)
        elif op == "indent":
            lines[i] = " " + line
        elif op == "swap":
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
    return lines


def check(code: int, out: str, err: str, where: str) -> None:
    assert code in (0, 1), (code, err[-500:])
    assert "Traceback" not in out + err and "internal error" not in err, err[-500:]
    if code == 1:
        assert where in err, err[-500:]


@pytest.mark.parametrize("seed", range(100))
def test_a_corrupted_registry_gives_located_errors(seed, tmp_path, run_cli):
    rng = random.Random(seed)
    trials = tmp_path / "trials"
    shutil.copytree(TRIALS, trials)
    victim = rng.choice(sorted(trials.glob("*.yaml")))
    victim.write_text("\n".join(mutate_yaml(victim.read_text().splitlines(), rng)) + "\n")
    for command in (("validate", trials), ("pool", trials, "--format", "json")):
        code, out, err = run_cli(*command)
        check(code, out, err, "trials/")


@pytest.mark.parametrize("seed", range(40))
def test_a_corrupted_effects_table_gives_located_errors(seed, tmp_path, run_cli):
    rng = random.Random(1000 + seed)
    rows = ["study,subgroup,hr,ci_low,ci_high", "A,x,0.65,0.50,0.85", "B,x,0.50,0.38,0.65",
            "C,y,0.85,0.58,1.25", "D,y,0.70,0.56,0.88"]
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(rows))
        cells = rows[i].split(",")
        cells[rng.randrange(len(cells))] = rng.choice(JUNK + ["nan", "inf", "1e-320", " 0.7 ", "x,y"])
        rows[i] = ",".join(cells)
    table = tmp_path / "effects.csv"
    table.write_text("\n".join(rows) + "\n")
    for extra in ((), ("--by", "subgroup")):
        code, out, err = run_cli("pool-table", table, *extra)
        check(code, out, err, "effects.csv")


@pytest.mark.parametrize("seed", range(25))
def test_a_corrupted_digitised_figure_gives_located_errors(seed, tmp_path, run_cli):
    rng = random.Random(2000 + seed)
    files = []
    for name in ("curves.csv", "at-risk.csv"):
        rows = (DATA / "km" / name).read_text().splitlines()
        i = rng.randrange(1, len(rows))
        cells = rows[i].split(",")
        cells[rng.randrange(len(cells))] = rng.choice(JUNK + ["nan", "-0.5", "150", "1e-320"])
        rows[i] = ",".join(cells)
        path = tmp_path / name
        path.write_text("\n".join(rows) + "\n")
        files.append(path)
    code, out, err = run_cli("reconstruct", *files, "--format", "json")
    check(code, out, err, ".csv")

"""Mutated inputs never crash trialmeta: every outcome is a result or located errors.

Each case takes the real registry (or a pool-table CSV), corrupts one to three lines the way
hands and digitisers do (a deleted or doubled line, a number replaced by junk, a shifted
indent, an impossible date, a list where a number belongs) and runs the CLI. The seeds are
fixed, so a failure is reproducible; the cases that found bugs are pinned in
test_validate_invalid.py and test_guyot_input.py. The invariant: exit 0 or 1, never the
internal-error exit 3, never a traceback, and an error always names its file.
"""

from __future__ import annotations

import csv
import io
import random
import re
import shutil

import pytest

from conftest import DATA, TRIALS, copy_tree

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


def mutate_figure(curves: list[str], risk: list[str], rng: random.Random) -> tuple[list[str], list[str]]:
    """One to four of the slips seen in real digitisations, anywhere in either file."""
    curves, risk = list(curves), list(risk)
    for _ in range(rng.randint(1, 4)):
        rows = rng.choice([curves, risk])
        data = [i for i, r in enumerate(rows) if r[:1].isalpha() and not r.startswith("arm")]
        if not data:
            continue
        i = rng.choice(data)
        cells = rows[i].split(",")
        op = rng.choice(["delete", "double", "swap", "junk", "jitter", "scale", "start", "table-at-0",
                         "units", "arm", "directive"])
        if op == "delete":
            rows.pop(i)
        elif op == "double":
            rows.insert(i, rows[i])
        elif op == "swap":
            j = rng.choice(data)
            rows[i], rows[j] = rows[j], rows[i]
        elif op == "junk":
            cells[rng.randrange(len(cells))] = rng.choice(JUNK + ["nan", "-0.5", "150", "1e-320", "inf"])
        elif op == "jitter" and len(cells) == 3:  # a point nudged in time or value
            k = rng.choice([1, 2])
            cells[k] = f"{float(cells[k] or 0) * rng.uniform(0.9, 1.1) + rng.uniform(-1, 1):.4g}"
        elif op == "scale" and rows is curves:  # one arm or the whole file in the other scale
            factor = rng.choice([0.01, 100])
            for k in data:
                parts = rows[k].split(",")
                if len(parts) == 3 and (op != "arm" or parts[0] == cells[0]):
                    parts[2] = f"{float(parts[2]) * factor:g}" if _number(parts[2]) else parts[2]
                    rows[k] = ",".join(parts)
            continue
        elif op == "start" and rows is curves:  # the (0, 1) point missing or misplaced
            zero = [k for k in data if rows[k].split(",")[1:2] == ["0"]]
            if zero:
                rows.pop(zero[0]) if rng.random() < 0.5 else rows.__setitem__(
                    zero[0], rows[zero[0]].replace(",0,", f",{rng.uniform(0, 2):.2f},", 1))
            continue
        elif op == "table-at-0" and rows is risk:  # only the time-0 row of each arm kept
            risk[:] = [r for r in risk if not r[:1].isalpha() or r.startswith("arm") or ",0," in r]
            continue
        elif op == "units":  # all times of one file in another unit
            factor = rng.choice([7, 12, 365.25 / 12, 1 / 7, 1 / 12, 12 / 365.25])
            for k in data:
                parts = rows[k].split(",")
                if len(parts) == 3 and _number(parts[1]):
                    parts[1] = f"{float(parts[1]) * factor:.4g}"
                    rows[k] = ",".join(parts)
            continue
        elif op == "arm":
            cells[0] = rng.choice(["control", "experimental", "Control", "treatment", ""])
        elif op == "directive":
            rows.insert(0, rng.choice(["# survival: proportion", "# survival: percent", "# time: days",
                                       "# time: fortnights", "# surival: percent", "#"]))
            continue
        if 0 <= i < len(rows) and op in ("junk", "jitter", "arm"):
            rows[i] = ",".join(cells)
    return curves, risk


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("seed", range(60))
def test_a_realistically_damaged_figure_never_crashes(seed, tmp_path, run_cli):
    """Issue 12: no digitised input ends in exit 3. Slips of people and tracers (a missing start
    point, a point nudged backwards, one arm in percent, the table in other units or cut to time
    0), with random options; the answer is a result (0) or located errors (1)."""
    rng = random.Random(3000 + seed)
    curves = (DATA / "km" / "curves.csv").read_text().splitlines()
    risk = (DATA / "km" / "at-risk.csv").read_text().splitlines()
    curves, risk = mutate_figure(curves, risk, rng)
    files = []
    for name, rows in (("curves.csv", curves), ("at-risk.csv", risk)):
        (tmp_path / name).write_text("\n".join(rows) + "\n")
        files.append(tmp_path / name)
    options = []
    if rng.random() < 0.5:
        options += ["--events-exp", str(rng.choice([38, 3, 60, 0])), "--events-ctrl", str(rng.choice([49, 120, 5]))]
    if rng.random() < 0.3:
        options += ["--horizon", str(rng.choice([1, 12, 24, 29, 30, 1e6]))]
    if rng.random() < 0.3:
        options += ["--accept-event-mismatch"]
    if rng.random() < 0.3:
        options += ["--event-times", "click"]
    code, out, err = run_cli("reconstruct", *files, "--format", "json", *options)
    assert code in (0, 1), (code, err[-800:])
    assert "Traceback" not in out + err and "internal error" not in err, err[-800:]
    if code == 1:
        first = err.splitlines()[0]
        assert ".csv" in first or first.startswith("trialmeta: error: "), err[-800:]
# ----------------------------------------------------------------------------- hostile registries
#
# The property of `refresh` against hostile input (issue 11): exit 0 or 1, no file outside
# --out changes, and outputs/ is either exactly the previous set or a complete new one made
# from the current inputs. Each edit is one class of the probe; a case applies one to three.

HOSTILE = [
    ("minimal.yaml", "hr: 0.58", "hr: true"),
    ("minimal.yaml", "hr: 0.58", "hr: 1.0e+307"),
    ("minimal.yaml", "hr: 0.58", "hr: .inf"),
    ("minimal.yaml", "events_exp: 49", "events_exp: " + "9" * 5000),
    ("minimal.yaml", "published: 2020-03", "published: 9999-12"),
    ("minimal.yaml", "cutoff: 2019-01", "cutoff: 1899-12-31"),
    ("minimal.yaml", "label: All patients", "label: \"\\x07bell\""),
    ("minimal.yaml", "label: All patients", "label: a\x1bb"),
    ("minimal.yaml", "label: All patients", "label: &x [*x]"),
    ("minimal.yaml", "label: All patients", "label: " + "[" * 200 + "]" * 200),
    ("minimal.yaml", "published: 2020-03", "published: 2020-03\n    url: javascript:alert(1)"),
    ("minimal.yaml", "published: 2020-03", "published: 2020-03\n    url: https://example.org/<script>"),
    ("minimal.yaml", "hr: 0.58", "hr: 0.000001"),
    ("minimal.yaml", "    hr: 0.58\n", "    hr: 0.58\n    km:\n      curves: /proc/self/environ\n"
                                     "      at_risk: ../../etc/passwd\n      source: jones2020\n      figure: F1\n"),
    ("minimal.yaml", "id: minimal", "id: minimal\nid: other"),
    ("analyses.yaml", "name: minimal-pfs", "name: minimal.pfs"),
    ("analyses.yaml", "name: minimal-pfs", "name: x-history"),
    ("analyses.yaml", "name: minimal-pfs", "name: trial-minimal-pfs"),
    # issue 29: files from outside the registry, unbounded texts, merge keys, bidi, priors
    ("analyses.yaml", "    title: \"Minimal", "    style: {stylesheet: /proc/self/environ}\n    title: \"Minimal"),
    ("analyses.yaml", "    title: \"Minimal", "    style: {stylesheet: ../../../../etc/passwd}\n    title: \"Minimal"),
    ("minimal.yaml", "acronym: MINIMAL", "acronym: " + "A" * 20_000),
    ("minimal.yaml", "acronym: MINIMAL", "acronym: MINIMAL\n<<: {notes: copied}"),
    ("minimal.yaml", "label: All patients", "label: \"All \\u202epatients\""),
    ("minimal.yaml", "label: All patients", "label: All \u2066patients"),
    ("analyses.yaml", "analyses:", "defaults: {prior_scale: 1.0e+300}\nanalyses:"),
    ("analyses.yaml", "analyses:", "x: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"y{i}: &{'b' * i}a [{', '.join(['*' + 'b' * (i - 1) + 'a'] * 10)}]\n" for i in range(1, 10)) + "analyses:"),
]

#: Valid but extreme: formulas and markup in labels, a CI of width 2e-10, a huge HR.
EXTREME = [
    ("minimal.yaml", "label: All patients", "label: \"=cmd|' /C calc'!A0\""),
    ("minimal.yaml", "acronym: MINIMAL", "acronym: \"@SUM(1+1)*cmd|' /C calc'!A0\""),
    ("minimal.yaml", "citation: Jones", "citation: <script>alert(1)</script> Jones"),
    ("minimal.yaml", "published: 2020-03", "published: 2020-03\n    url: HTTPS://example.org/a?b=1&c=2"),
    ("minimal.yaml", "hr: 0.58\n    ci: [0.39, 0.84]", "hr: 0.58\n    ci: [0.5799999999, 0.5800000001]"),
    ("minimal.yaml", "hr: 0.58\n    ci: [0.39, 0.84]", "hr: 999999\n    ci: [999998, 1000000]"),
    ("analyses.yaml", "label: All patients", "label: \"+@SUM(A1)\""),
    ("analyses.yaml", "title: \"Minimal", "title: \"-1+1 <b>bold</b> Minimal"),
    ("analyses.yaml", "label: All patients", "label: \"<script>alert(1)</script> &lt;b&gt;\""),
]


@pytest.fixture(scope="module")
def hostile_base(tmp_path_factory):
    """A one-trial registry with outputs from a first refresh."""
    from tiny_registry import refreshed_tiny

    return refreshed_tiny(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("seed", range(30))
def test_refresh_on_a_hostile_registry_keeps_every_promise(seed, hostile_base, tmp_path, run_cli, monkeypatch):
    import hashlib
    import json

    import trialmeta.pipeline.refresh as refresh_mod
    from tiny_registry import complete, snapshot

    # figures do not change the property and would make each case seconds: one small SVG instead
    monkeypatch.setattr(refresh_mod, "_write_forest_figures", lambda stage, *a: (stage / "forest").mkdir() or (
        stage / "forest" / "minimal-pfs.svg").write_text("<svg></svg>") or 1)
    monkeypatch.setattr(refresh_mod, "_write_history_figures", lambda *a: 0)
    rng = random.Random(3000 + seed)
    work = tmp_path / "w"
    copy_tree(hostile_base, work)
    edits = rng.sample(EXTREME, rng.randint(1, 3)) + (rng.sample(HOSTILE, rng.randint(1, 2)) if seed % 2 else [])
    for file, old, new in edits:
        path = work / "trials" / file
        path.write_text(path.read_text().replace(old, new, 1))
    (work / "mine").mkdir()
    (work / "mine" / "keep.txt").write_text("mine\n")
    before = snapshot(work)
    out_before = snapshot(work / "outputs")
    target = rng.choice(["outputs"] * 4 + ["mine", "trials", ".", "mine/keep.txt"])
    code, out, err = run_cli("refresh", "--quiet", "--out", target, cwd=work)
    assert "root:x:" not in err and "PATH=" not in err  # never a line of a file outside the registry
    assert len(err) < 20_000  # a 20,000-character value is not repeated
    if target != "outputs":  # a folder or file that is not trialmeta's: refused, nothing anywhere changes
        assert code == 1 and f"--out {target}: " in err and snapshot(work) == before, err
        return
    check(code, out, err, "trials/")
    after = snapshot(work)
    outside = lambda snap: {k: v for k, v in snap.items()  # noqa: E731
                            if not k.startswith(("outputs/", ".outputs.trialmeta-lock"))}
    assert outside(after) == outside(before)
    assert not [p for p in work.iterdir() if "trialmeta-staging" in p.name or "trialmeta-old" in p.name]
    if code == 1:
        assert snapshot(work / "outputs") == out_before
    else:
        assert complete(work / "outputs")
        evidence = json.loads((work / "outputs" / "evidence.json").read_text(),
                              parse_constant=lambda c: pytest.fail(f"JSON holds {c}"))
        for name, digest in evidence["inputs"]["files"].items():
            assert hashlib.sha256((work / name).read_bytes()).hexdigest() == digest
        for table in (work / "outputs").rglob("*.csv"):
            for row in csv.reader(io.StringIO(table.read_text())):
                for cell in row:
                    if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
                        float(cell)  # only a number may start like a formula
        report = (work / "outputs" / "report.html").read_text()
        assert "<script" not in report and 'href="javascript' not in report.lower()
        for md in ("sof.md", "evidence.md", "tables/minimal-pfs.md"):
            assert "<script" not in (work / "outputs" / md).read_text(), md
        assert not re.search("[\u202a-\u202e\u2066-\u2069\x1b]", report)


# ----------------------------------------------------------------------------- hostile tables
#
# pool-table against hostile tables (issue 29): exit 0, 1 or 2, never 3; nothing written; no
# control character or raw HTML reaches the output; peak memory bounded (each case runs in its
# own process, which reports its peak resident size).

def _xlsx_bomb() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["study", "log_hr", "se"])
    book.active.append(["A", -0.2, 0.1])
    book.active["XFD1048576"] = "x"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _big(k: int) -> str:
    rng = random.Random(k)
    return "study,log_hr,se\n" + "".join(f"s{i},{rng.gauss(-0.2, 0.3):.5f},{rng.uniform(0.05, 0.5):.5f}\n"
                                         for i in range(k))


HOSTILE_TABLES = {
    # name: (file content, extra options)
    "xlsx-cell-bomb": (_xlsx_bomb, ()),
    "thousands-or-decimal": ("study;md;ci_low;ci_high\nA;1,234;1,000;1,500\nB;1,300;1,100;1,600\n", ("--measure", "MD")),
    "case-duplicate-header": ("study,HR,hr,ci_low,ci_high\nA,0.8,0.7,0.6,1.0\nB,0.7,0.6,0.5,0.9\n", ()),
    "effect-given-twice": ("study,HR,Lower,Upper,log_hr,se\nA,0.8,0.6,1.0,-0.5,0.1\nB,0.7,0.5,0.9,-0.1,0.2\n", ()),
    "terminal-escape": ("study,g,log_hr,se\nA,\x1b[2J\x1b[31mred,-0.2,0.1\nB,x,-0.3,0.2\n", ("--by", "g")),
    "bidi-override": ("study,g,log_hr,se\nA,x\u202ey,-0.2,0.1\nB,x,-0.3,0.2\n", ("--by", "g")),
    "script-label": ("study,g,log_hr,se\nA,<script>alert(1)</script>,-0.2,0.1\nB,<script>alert(1)</script>,-0.3,0.2\n",
                     ("--by", "g", "--format", "md")),
    "tiny-se": ("study,log_hr,se\nA,0,1e-100\nB,1,0.316227766\n", ("--method", "dl", "--format", "json")),
    "prior-scale-1e300": ("study,log_hr,se\nA,-0.2,0.1\nB,-0.3,0.2\nC,0.1,0.2\n",
                          ("--method", "bayes", "--prior-scale", "1e300")),
    "prior-scale-nan": ("study,log_hr,se\nA,-0.2,0.1\nB,-0.3,0.2\n", ("--method", "bayes", "--prior-scale", "nan")),
    "50000-rows-dl": (lambda: _big(50_000), ("--method", "dl", "--format", "json")),
    "50000-rows-bayes": (lambda: _big(50_000), ("--method", "bayes", "--format", "json")),
}

#: Peak resident size of one pool-table process (Python, NumPy, pandas, SciPy loaded: ~0.2 GB);
#: the k x k matrix of 50,000 rows alone was 18.6 GiB, the Bayesian grid 2.6 GB.
MAX_PEAK_MB = 700


@pytest.mark.parametrize("name", sorted(HOSTILE_TABLES))
def test_pool_table_on_a_hostile_table_keeps_every_promise(name, tmp_path):
    import os
    import subprocess
    import sys

    from conftest import ROOT
    from tiny_registry import snapshot

    content, options = HOSTILE_TABLES[name]
    content = content() if callable(content) else content
    path = tmp_path / ("t.xlsx" if isinstance(content, bytes) else "t.csv")
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    before = snapshot(tmp_path)
    runner = ("import resource, sys\nfrom trialmeta.cli.main import main\ncode = main(sys.argv[1:])\n"
              "sys.stderr.write(f'\\nPEAK {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n')\nsys.exit(code)")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-c", runner, "pool-table", str(path), *options], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    err, peak_kb = proc.stderr.rsplit("\nPEAK ", 1)
    assert proc.returncode in (0, 1, 2), (proc.returncode, err[-800:])
    assert "Traceback" not in err and "internal error" not in err, err[-800:]
    assert int(peak_kb) / 1024 < MAX_PEAK_MB, f"{name}: peak {int(peak_kb) / 1024:.0f} MB"
    assert snapshot(tmp_path) == before  # pool-table writes nothing
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", proc.stdout + err)
    assert "<script" not in proc.stdout
    if proc.returncode != 0:
        assert "t.csv" in err or "t.xlsx" in err or "--prior-scale" in err, err[-800:]
    if name == "tiny-se":
        import json

        overall = json.loads(proc.stdout)["groups"][-1]
        assert overall["q"] == pytest.approx(10.0, rel=1e-6)  # two-study identity: w1 w2 / (w1 + w2) (1 - 0)^2


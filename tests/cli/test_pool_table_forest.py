"""A forest of one's own table from the command line (``pool-table FILE --forest out.png`` and
``trialmeta forest --table FILE``), ``--version``, ``dir(trialmeta)`` and the help texts.

Data: tests/data/pooltable/steurer-hr-ci.csv (Steurer et al. 2006, four CLL trials).
"""

import subprocess
import sys

from conftest import DATA

STEURER = DATA / "pooltable" / "steurer-hr-ci.csv"


def test_pool_table_draws_the_forest_beside_the_table(run_cli, tmp_path):
    out = tmp_path / "cll.png"
    code, stdout, err = run_cli("pool-table", STEURER, "--by", "year", "--forest", out, "--sort=-weight",
                                "--style", "journal", "--title", "First-line CLL")
    assert code == 0, err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "forest plot: " in err
    assert stdout.splitlines()[0].startswith("study")  # the table is still printed
    for suffix in ("svg", "pdf"):
        code, _, err = run_cli("pool-table", STEURER, "--forest", tmp_path / f"cll.{suffix}")
        assert code == 0, err
    assert (tmp_path / "cll.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "cll.pdf").read_bytes().startswith(b"%PDF")


def test_bad_forest_options_are_usage_errors_and_write_nothing(run_cli, tmp_path):
    code, _, err = run_cli("pool-table", STEURER, "--forest", tmp_path / "cll.jpg")
    assert code == 2 and "--forest" in err and "must end in .png, .svg or .pdf" in err
    code, _, err = run_cli("pool-table", STEURER, "--forest", tmp_path / "cll.png", "--sort", "author")
    assert code == 2 and "--sort: cannot sort by 'author': not a column (study, weight, effect, se" in err
    assert list(tmp_path.iterdir()) == []


def test_forest_table_writes_each_format(run_cli, tmp_path):
    out = tmp_path / "figs"
    code, stdout, err = run_cli("forest", "--table", STEURER, "--out", out, "--format", "png,pdf", "--by", "year")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["steurer-hr-ci.pdf", "steurer-hr-ci.png"]
    assert len(stdout.splitlines()) == 2


def test_version_dir_and_help(run_cli, capsys):
    code, out, _ = run_cli("--version")
    import trialmeta

    assert code == 0 and out.strip() == f"trialmeta {trialmeta.__version__}"
    names = dir(trialmeta)
    assert {"meta", "meta_binary", "meta_continuous", "pool", "forest_plot", "PoolSettings"} <= set(names)
    code = subprocess.run([sys.executable, "-c", "import sys, trialmeta; dir(trialmeta); "
                           "print('trialmeta.api' in sys.modules)"], capture_output=True, text=True).stdout
    assert code.strip() == "False"  # listing does not import the lazy names
    code, out, _ = run_cli("pool-table", "--help")
    text = " ".join(out.split())  # argparse wraps the help text
    assert "CI of the pooled estimate: hksj (Hartung" in text and "one row per study then per pooled group" in text


def test_messages_suggest_the_measure_and_list_the_sheets(run_cli, tmp_path):
    import pandas as pd

    counts = tmp_path / "counts.csv"
    counts.write_text("study,events_exp,n_exp,events_ctrl,n_ctrl\nA,4,123,11,139\nB,6,306,29,303\n")
    code, _, err = run_cli("pool-table", counts)
    assert code == 1 and "these are 2x2 counts: pool them with --measure RR, OR or RD" in err
    book = tmp_path / "book.xlsx"
    pd.DataFrame({"study": ["A", "B"], "log_hr": [0.1, 0.2], "se": [0.1, 0.2]}).to_excel(book, sheet_name="Data",
                                                                                       index=False)
    code, _, err = run_cli("pool-table", book, "--sheet", "Sheet1")
    assert code == 1 and "Worksheet named 'Sheet1' not found; its sheets are: Data (--sheet NAME)" in err


def test_small_study_effects_and_funnel_from_the_command_line(run_cli, tmp_path):
    """dat.egger2001 (magnesium) as a counts file, pooled as metafor's rma(yi, vi) [REML, z] on escalc("OR"):
    the printed tests are metafor 3.8.1's (tests/data/smallstudy/reference.json, generate.R)."""
    import json

    import pandas as pd
    import pytest

    ref = json.loads((DATA / "smallstudy" / "reference.json").read_text())["egger2001"]
    path = tmp_path / "magnesium.csv"
    pd.DataFrame({"study": [f"{s} {i + 1}" for i, s in enumerate(ref["study"])], "events_exp": ref["ai"],
                  "n_exp": ref["n1i"], "events_ctrl": ref["ci"], "n_ctrl": ref["n2i"]}).to_csv(path, index=False)
    funnel = tmp_path / "funnel.svg"
    code, out, err = run_cli("pool-table", path, "--measure", "OR", "--method", "reml", "--ci", "wald",
                             "--small-study", "--funnel", funnel, "--format", "json")
    assert code == 0, err
    s = json.loads(out)["small_study"]
    want = ref["reml"]
    assert (s["egger"]["stat"], s["egger"]["p"]) == pytest.approx((want["regtest_rma"]["zval"],
                                                                   want["regtest_rma"]["pval"]), abs=1e-6)
    assert s["harbord"]["stat"] == pytest.approx(ref["harbord"]["zval"], abs=1e-6)
    assert s["peters"]["stat"] == pytest.approx(want["peters"]["zval"], abs=1e-6)
    assert s["trimfill_l0"]["k0"] == want["trimfill_L0"]["k0"] == 7
    assert s["ranktest"]["tau"] == pytest.approx(want["ranktest"]["tau"], abs=1e-6)
    assert funnel.read_text().lstrip().startswith("<?xml") and "funnel plot: " in err
    code, out, _ = run_cli("pool-table", path, "--measure", "OR", "--small-study")
    assert "Note: small-study effects, all studies: Egger's test (metafor regtest: SE as moderator): z = " in out

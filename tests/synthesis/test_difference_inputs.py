"""A difference given as its estimate and SE (``md, se``), a ratio given with an SE but no log, and the
range of an MD's prior scale (in the data's own units, so relative to the studies' SEs)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from conftest import DATA

REF = json.loads((DATA / "issue21" / "differences.json").read_text())
CURTIS = next(c for c in REF["cases"] if c["name"] == "curtis1998-MD")


def _md_se_table(path, header=("study", "MD", "SE")):
    """dat.curtis1998[1:2, ] as escalc("MD") gives it: yi and sqrt(vi) (tests/data/issue21/differences.R)."""
    pd.DataFrame({header[0]: REF["inputs"]["curtis1998"]["study"], header[1]: CURTIS["yi"],
                  header[2]: [math.sqrt(v) for v in CURTIS["vi"]]}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("header", [("study", "MD", "SE"), ("Study", "mean difference", "standard error"),
                                    ("study", "yi", "sei")])
def test_an_md_with_its_se_pools_as_metafor_rma_on_escalc(header, run_cli, tmp_path):
    """rma(escalc('MD', m1i, sd1i, n1i, m2i, sd2i, n2i, data = dat.curtis1998[1:2, ]), method = 'REML',
    test = 'knha'): metafor 3.8.1 (differences.json). Read from the means or from the MD and its SE:
    the same numbers. ("md, se" used to be refused asking for a 'log_hr' column.)"""
    path = _md_se_table(tmp_path / "md.csv", header) if header[1] != "mean difference" else None
    if path is None:
        path = tmp_path / "md.csv"
        frame = pd.DataFrame({"Study": REF["inputs"]["curtis1998"]["study"], "md": CURTIS["yi"],
                              "standard error": [math.sqrt(v) for v in CURTIS["vi"]]})
        frame.to_csv(path, index=False)
    code, out, err = run_cli("pool-table", path, "--measure", "MD", "--method", "reml", "--ci", "hksj",
                             "--format", "json")
    assert code == 0, err
    g = json.loads(out)["groups"][-1]
    assert g["md"] == pytest.approx(CURTIS["beta"], abs=1e-9)
    assert g["md_ci_low"] == pytest.approx(CURTIS["ci_lb"], abs=1e-8)
    assert g["md_ci_high"] == pytest.approx(CURTIS["ci_ub"], abs=1e-8)
    assert g["tau2"] == pytest.approx(CURTIS["tau2"], abs=1e-8)


def test_a_hazard_ratio_with_an_se_is_refused_saying_the_se_is_of_the_log(run_cli, tmp_path):
    path = tmp_path / "hr.csv"
    path.write_text("study,hr,se\nA,0.80,0.10\nB,0.70,0.20\n")
    code, out, err = run_cli("pool-table", path)
    assert code == 1 and out == ""
    assert "hr.csv:1: missing columns" in err
    assert "an SE of a HR is the SE of its log: give the log HR as 'log_hr'" in err, err


def test_the_missing_columns_message_of_an_md_names_the_md_not_a_log(run_cli, tmp_path):
    path = tmp_path / "md.csv"
    path.write_text("study,md,low\nA,0.8,0.1\nB,0.7,0.2\n")
    code, out, err = run_cli("pool-table", path, "--measure", "MD")
    assert code == 1
    assert "'md' (or 'yi') and 'se'" in err and "'log_hr'" not in err, err


@pytest.mark.parametrize("scale, ok", [(1e4, False), (1e10, False), (1e-6, False), (0.5, True), (500.0, True)])
def test_an_md_prior_scale_is_checked_against_the_studies_se(scale, ok, run_cli, tmp_path):
    """At 1e10 times the SE the grid gave tau^2 742,196 with a Wald-narrow interval; 1e7 already moved it.
    The accepted range is 0.001-1000 times the median SE (curtis1998[1:2]: 0.7165, 0.2305 -> median 0.4735)."""
    path = _md_se_table(tmp_path / "md.csv")
    code, out, err = run_cli("pool-table", path, "--measure", "MD", "--method", "bayes", "--prior-scale",
                             repr(scale), "--format", "json")
    median = sorted(math.sqrt(v) for v in CURTIS["vi"])
    median = (median[0] + median[1]) / 2
    if ok:
        assert code == 0, err
        assert json.loads(out)["groups"][-1]["bayes"]["prior"] == f"half-normal({scale:g})"
    else:
        assert code == 2 and out == ""
        assert (f"--prior-scale: the prior scale on tau of a mean difference must be from 0.001 to 1000 times the "
                f"studies' median SE ({median:.4g})") in err, err


def test_the_api_refuses_the_same_prior_scales():
    import trialmeta as tm
    from trialmeta.errors import InputError

    df = pd.DataFrame(REF["inputs"]["curtis1998"])
    with pytest.raises(InputError, match="median SE"):
        tm.meta_continuous(df, "mean_exp", "sd_exp", "n_exp", "mean_ctrl", "sd_ctrl", "n_ctrl", method="bayes",
                           prior_scale=1e10)
    with pytest.raises(InputError, match="from 0.001 to 10"):
        tm.meta_continuous(df, "mean_exp", "sd_exp", "n_exp", "mean_ctrl", "sd_ctrl", "n_ctrl", measure="SMD",
                           method="bayes", prior_scale=50.0)


def test_a_difference_in_small_units_prints_its_digits(run_cli, tmp_path):
    """dat.curtis1998[1:2, ] MDs divided by 1000 (grams -> kilograms): the printed interval keeps two
    significant digits of its width instead of reading "0.00 [-0.01, 0.01]"; tau² likewise. Printed
    numbers equal the JSON's, rounded."""
    path = tmp_path / "kg.csv"
    pd.DataFrame({"study": REF["inputs"]["curtis1998"]["study"], "md": [y / 1000 for y in CURTIS["yi"]],
                  "se": [math.sqrt(v) / 1000 for v in CURTIS["vi"]]}).to_csv(path, index=False)
    code, table, err = run_cli("pool-table", path, "--measure", "MD")
    assert code == 0, err
    code, out, err = run_cli("pool-table", path, "--measure", "MD", "--format", "json")
    doc = json.loads(out)
    g = doc["groups"][-1]
    rows = doc["studies"] + doc["groups"]
    width = min(r["md_ci_high"] - r["md_ci_low"] for r in rows)  # the narrowest interval printed
    d = 1 - math.floor(math.log10(width))  # two significant digits of it
    assert d == 4
    assert f"{g['md']:.{d}f} [{g['md_ci_low']:.{d}f}, {g['md_ci_high']:.{d}f}]" in table, table
    t = 1 - math.floor(math.log10(g["tau2"]))
    assert f"{g['tau2']:.{t}f} [" in table, table
    # the k = 2 note's Wald interval, with the digits of its own width (was "[-0.00, 0.00]")
    wd = 1 - math.floor(math.log10(g["md_wald_ci_high"] - g["md_wald_ci_low"]))
    assert f"Wald (z) CI would be [{g['md_wald_ci_low']:.{wd}f}, {g['md_wald_ci_high']:.{wd}f}]" in table, table


def test_ratios_keep_revman_two_decimals(run_cli):
    from conftest import DATA

    code, out, err = run_cli("pool-table", DATA / "pooltable" / "steurer-lnhr.csv")
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("overall"))
    assert __import__("re").search(r"\d\.\d\d \[\d\.\d\d, \d\.\d\d\]", row), row


def test_the_forest_of_a_small_unit_difference_prints_the_same_digits(run_cli, tmp_path):
    """The forest's cells use the digits pool-table prints (was '0.00 [0.00, 0.00]' for every study);
    the SVG keeps its text as text."""
    path = tmp_path / "kg.csv"
    pd.DataFrame({"study": REF["inputs"]["curtis1998"]["study"], "md": [y / 1000 for y in CURTIS["yi"]],
                  "se": [math.sqrt(v) / 1000 for v in CURTIS["vi"]]}).to_csv(path, index=False)
    code, out, err = run_cli("pool-table", path, "--measure", "MD", "--forest", tmp_path / "kg.svg")
    assert code == 0, err
    svg = (tmp_path / "kg.svg").read_text()
    y0, se0 = CURTIS["yi"][0] / 1000, math.sqrt(CURTIS["vi"][0]) / 1000
    z = 1.959963984540054
    assert f"{y0:.4f} [{y0 - z * se0:.4f}, {y0 + z * se0:.4f}]" in svg

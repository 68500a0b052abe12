"""Sanity checks on one's own table: the typing mistakes that pool without an error are warned about, row by
row, and refused with ``--strict`` / ``strict=True``.

Data: Steurer et al. 2006 (tests/data/pooltable/steurer-hr-ci.csv) with the three mistakes of issue #25 added
(a study listed twice, an HR typed as a percentage, a pooled row copied from the paper); dat.bcg from
tests/data/metafor/binary_reference.json (metafor 3.8.1).
"""

import io
import json
import warnings

import pandas as pd
import pytest
from conftest import DATA

import trialmeta as tm
from trialmeta.api import SuspiciousRowWarning
from trialmeta.errors import InputError
from trialmeta.synthesis.owncheck import sanity_warnings
from trialmeta.synthesis.owndata import check_rows

STEURER = (DATA / "pooltable" / "steurer-hr-ci.csv").read_text()
TYPOS = STEURER + "Leporrier,0.9239,0.7919,1.078,2001\nKhan,72,55,94,2000\nPooled (from paper),0.89,0.78,1.01,\n"
BCG = json.loads((DATA / "metafor" / "binary_reference.json").read_text())["binary"][0]


def _checked(rows, measure="HR"):
    recs = [(i + 2, r) for i, r in enumerate(rows)]
    return sanity_warnings(check_rows(recs, measure, "t.csv"), measure, "t.csv")


def test_the_three_typing_mistakes_are_named_by_line(run_cli, tmp_path):
    path = tmp_path / "typos.csv"
    path.write_text(TYPOS)
    code, out, err = run_cli("pool-table", path)
    assert code == 0 and "Pooled (from paper)" in out  # still pooled, but every mistake is named on stderr
    assert err.splitlines() == [
        f"{path}:6: warning: study: study 'Leporrier' is listed twice (also at line 3) with the same values: "
        "it would be counted twice",
        f"{path}:7: warning: hr: HR 72 [55, 94] looks like a percentage, not a ratio (meant 0.72 [0.55, 0.94]?)",
        f"{path}:8: warning: study: 'Pooled (from paper)' looks like a pooled summary, not a study; it would be "
        "pooled as one more study (delete the row if it is a summary copied from a paper)"]
    code, out, err = run_cli("pool-table", path, "--strict")
    assert code == 1 and out == ""
    assert [ln.split(": ", 1)[0] for ln in err.splitlines()[:3]] == [f"{path}:{n}" for n in (6, 7, 8)]
    assert all("(refused: strict)" in ln for ln in err.splitlines()[:3])
    code, out, err = run_cli("pool-table", path, "--format", "json")
    assert len(json.loads(out)["warnings"]) == 3


def test_the_file_s_own_column_names_are_used(run_cli, tmp_path):
    path = tmp_path / "typos.csv"
    path.write_text(TYPOS.replace("study,hr,ci_low,ci_high", "Study,Hazard ratio,Lower 95% CI,Upper 95% CI", 1))
    code, _, err = run_cli("pool-table", path)
    assert code == 0 and f"{path}:7: warning: Hazard ratio: HR 72 [55, 94]" in err
    code, _, err = run_cli("pool-table", path, "--by", "Year")
    assert code == 1 and "grouping column 'Year' not found (did you mean 'year'?); columns are Study, Hazard ratio, " \
        "Lower 95% CI, Upper 95% CI, year" in err


def test_python_api_warns_and_strict_refuses():
    df = pd.read_csv(io.StringIO(TYPOS))
    with pytest.warns(SuspiciousRowWarning) as record:
        r = tm.meta(df, hr="hr", lower="ci_low", upper="ci_high")
    assert [str(w.message).split(": ")[2] for w in record] == ["row 4, 'study'", "row 5, 'hr'", "row 6, 'study'"]
    assert len(r.warnings) == 3 and "DataFrame: warning: row 5, 'hr': HR 72 [55, 94]" in str(r)
    assert "row 4, 'study': study 'Leporrier' is listed twice (also at row 1)" in r.warnings[0]
    with pytest.raises(InputError, match=r"row 5, 'hr': HR 72 \[55, 94\] looks like a percentage"):
        tm.meta(df, hr="hr", lower="ci_low", upper="ci_high", strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the clean table warns about nothing
        tm.meta(df.iloc[:4], hr="hr", lower="ci_low", upper="ci_high", strict=True)


@pytest.mark.parametrize(("row", "path", "message"), [
    ({"study": "B", "hr": 0.72, "ci_low": 0.55, "ci_high": 9.4}, "ci_high",
     "HR 0.72 [0.55, 9.4]: the CI is lopsided on the log scale (a ratio's CI is symmetric about the estimate there: "
     "with ci_low 0.55, ci_high would be about 0.94): a mistyped bound?"),
    ({"study": "B", "hr": 0.72, "ci_low": 0.055, "ci_high": 0.94}, "ci_low", "ci_low would be about 0.55"),
    ({"study": "B", "hr": 35, "ci_low": 20, "ci_high": 61}, "hr", "looks like a percentage"),
    ({"study": "B", "hr": 0.01, "ci_low": 0.002, "ci_high": 0.05}, "hr", "outside the plausible 0.05 to 20"),
    ({"study": "Total", "hr": 0.8, "ci_low": 0.7, "ci_high": 0.91}, "study", "looks like a pooled summary"),
    ({"study": "Subtotal (random effects)", "hr": 0.8, "ci_low": 0.7, "ci_high": 0.91}, "study", "pooled summary"),
    ({"study": "b ", "hr": 0.85, "ci_low": 0.6, "ci_high": 1.2}, "study",
     "study 'b' is listed twice (also at line 3) with different values: two results of one study"),
    ({"study": "C", "hr": 0.7, "ci_low": 0.5, "ci_high": 0.98}, "study",
     "study 'C' has exactly the values of 'A' (line 2): a row pasted twice?"),
])
def test_each_check(row, path, message):
    found = _checked([{"study": "A", "hr": 0.7, "ci_low": 0.5, "ci_high": 0.98},
                      {"study": "B", "hr": 0.8, "ci_low": 0.6, "ci_high": 1.07}][:1 if row["study"] != "b " else 2]
                     + [row])
    assert [(p.line, p.path, p.severity) for p in found] == [(3 if row["study"] != "b " else 4, path, "warning")]
    assert message in found[0].message


def test_rounded_symmetric_cis_are_not_lopsided():
    # Two-decimal rounding of narrow CIs shifts the log midpoint (1.00 [0.99, 1.02]); not a warning.
    rows = [{"study": s, "hr": h, "ci_low": lo, "ci_high": hi} for s, h, lo, hi in
            [("A", 1.00, 0.99, 1.02), ("B", 0.98, 0.96, 1.00), ("C", 0.5532, 0.2813, 1.0878), ("D", 2.5, 1.1, 5.7)]]
    assert _checked(rows) == []


def test_log_ratio_column_holding_the_ratio_itself():
    found = _checked([{"study": "A", "log_hr": -0.36, "se": 0.1}, {"study": "B", "log_hr": 72.0, "se": 0.2}])
    assert [(p.line, p.path) for p in found] == [(3, "log_hr")] and "typed as its log" in found[0].message


def test_a_summary_row_by_its_values_alone():
    # dat.bcg log RRs (escalc) with their common-effect pool appended under a study-like label.
    recs = [{"study": f"{s} {i}", "events_exp": a, "n_exp": n1, "events_ctrl": c, "n_ctrl": n2}
            for i, (s, a, n1, c, n2) in enumerate(zip(BCG["study"], BCG["ai"], BCG["n1i"], BCG["ci"], BCG["n2i"]))]
    frame = check_rows([(i + 2, r) for i, r in enumerate(recs)], "RR", "bcg.csv")
    assert sanity_warnings(frame, "RR", "bcg.csv") == []  # the real 13 trials: nothing suspicious
    w = 1 / frame["se"] ** 2
    mu, se = float((w * frame["yi"]).sum() / w.sum()), float(w.sum() ** -0.5)
    rows = [{"study": r["study"], "log_hr": y, "se": s} for r, y, s in zip(recs, frame["yi"], frame["se"])]
    found = _checked(rows + [{"study": "Colditz 1994", "log_hr": mu, "se": se}], "RR")
    assert [(p.line, p.path) for p in found] == [(15, "study")]
    assert "look like the pooled result of the other 13 rows" in found[0].message


def test_real_datasets_give_no_warning():
    d = json.loads((DATA / "metafor" / "binary_reference.json").read_text())["continuous"][0]
    rows = [{"study": f"{s}", "mean_exp": m1, "sd_exp": s1, "n_exp": n1, "mean_ctrl": m2, "sd_ctrl": s2,
             "n_ctrl": n2} for s, m1, s1, n1, m2, s2, n2 in zip(*(d[k] for k in
             ("study", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")))]
    assert len(rows) == 9 and _checked(rows, "MD") == []  # dat.normand1999

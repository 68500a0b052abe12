"""Digitised curves and at-risk tables: parsing, validation and Guyot-style cleaning.

The valid pair ``tests/data/km/curves.csv`` + ``at-risk.csv`` is a simulated trial (its header
names the call). Each other file there holds one defect, named after it and described on its
first line; the expected messages quote the values in those files.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import isotonic_regression

from conftest import DATA
from trialmeta.survival.digitised import read_figure
from trialmeta.survival.cleaning import SURVIVAL_NOISE, _antitonic
from trialmeta.errors import InputError

KM = DATA / "km"
CURVES = (KM / "curves.csv").read_text()
AT_RISK = (KM / "at-risk.csv").read_text()
N60 = {"experimental": 60, "control": 60}

# file stem -> (which file it replaces, the first located message, exactly as printed)
CASES = {
    "survival-increasing": ("curves", "survival-increasing.csv:15: survival: survival rises from 70.8 "
                            "(line 14) to 80 at time 9 in arm 'experimental'; a Kaplan-Meier curve never "
                            "rises, and digitisation noise is corrected only up to 2 percentage points: "
                            "is the row from the other arm, or mistyped?"),
    "times-decreasing": ("curves", "times-decreasing.csv:18: time: time 4 comes after time 11 (line 17) "
                         "in arm 'experimental'; points must follow the curve from left to right "
                         "(backward steps up to 0.58, 2% of the figure's time axis 0-29.0249, are "
                         "corrected as digitisation jitter)"),
    "survival-scale-wrong": ("curves", "survival-scale-wrong.csv:6: survival: survival 100 is above 1 but "
                             "the scale is 'proportion' (the '# survival:' line); declare "
                             "'# survival: percent' if the file is in percent"),
    "missing-column": ("curves", "missing-column.csv:5: survival: missing column 'survival': found 'surv' "
                       "(did you mean 'survival'?); the header must be 'arm,time,survival', got "
                       "'arm,time,surv'"),
    "unknown-arm": ("curves", "unknown-arm.csv:11: arm: unknown arm 'treatment'; allowed: experimental, "
                    "control"),
    "non-numeric": ("curves", "non-numeric.csv:11: survival: expected a number, got '74.3%'"),
    "empty": ("curves", "empty.csv: file is empty; expected a header line 'arm,time,survival' followed "
              "by one row per point"),
    "at-risk-increasing": ("at_risk", "at-risk-increasing.csv:12: n_at_risk: at-risk count rises from 29 "
                           "at time 6 (line 11) to 35 at time 12 in arm 'control'; numbers at risk never "
                           "increase"),
    "first-at-risk-not-n": ("at_risk", "first-at-risk-not-n.csv:5: n_at_risk: first at-risk count 58 of "
                            "arm 'experimental' is not the randomised n = 60 (trial file)"),
    "at-risk-not-from-zero": ("at_risk", "at-risk-not-from-zero.csv:5: time: the at-risk table of arm "
                              "'experimental' starts at time 6; it must start at time 0 with the number "
                              "randomised"),
}


def _errors(curves=CURVES, at_risk=AT_RISK, **kw) -> list[str]:
    with pytest.raises(InputError) as info:
        read_figure(curves, at_risk, **kw)
    return [str(p) for p in info.value.problems]


def test_every_defect_file_has_a_case():
    valid = {"curves", "at-risk", "digitisation-noise"}
    assert {p.stem for p in KM.glob("*.csv")} - valid == set(CASES)


@pytest.mark.parametrize("stem", sorted(CASES))
def test_defect_is_located(stem):
    which, expected = CASES[stem]
    text = (KM / f"{stem}.csv").read_text()
    kw = {"curves_name": "curves.csv", "at_risk_name": "at-risk.csv", "randomised": N60,
          "randomised_source": "trial file", f"{which}_name": f"{stem}.csv"}
    errors = _errors(text if which == "curves" else CURVES, text if which == "at_risk" else AT_RISK, **kw)
    assert errors == [expected]


def test_valid_figure():
    fig = read_figure(CURVES, AT_RISK, randomised=N60)
    assert fig.scale == "percent" and fig.time_unit == "months"
    assert fig.warnings == ()
    exp = fig.curves["experimental"]
    # curves.csv lines 5-7: experimental 0,100 / 1,95 / 2,93.3 (percent -> proportion)
    assert exp.lines[:3] == (5, 6, 7)
    np.testing.assert_allclose(exp.survival[:3], [1.0, 0.95, 0.933])
    assert np.all(np.diff(exp.survival) <= 0) and np.all(np.diff(exp.time) >= 0)
    # at-risk.csv: experimental 60, 42, 30, 22, 8 at 0, 6, 12, 18, 24
    assert fig.at_risk["experimental"].n.tolist() == [60, 42, 30, 22, 8]
    assert fig.at_risk["control"].time.tolist() == [0, 6, 12, 18, 24]


def test_digitisation_noise_is_cleaned_and_reported():
    text = (KM / "digitisation-noise.csv").read_text()
    fig = read_figure(text, AT_RISK, curves_name="noise.csv")
    warnings = [str(w) for w in fig.warnings]
    assert warnings == [
        "noise.csv:12: warning: arm experimental: 2 points (lines 12, 13) raised or lowered to keep "
        "survival non-increasing and within 0-100 (isotonic regression; max change 0.2)",
        "noise.csv:14: warning: arm experimental: 1 point (line 14) moved forward in time to keep time "
        "non-decreasing (max change 0.1)",
    ]
    exp = fig.curves["experimental"]
    # lines 12-14: month 6 72.5, month 7 72.9, month "6.9" 70.8 -> pooled mean 72.7 twice; 6.9 -> 7
    np.testing.assert_allclose(exp.survival[6:9], [0.727, 0.727, 0.708])
    assert exp.time[6:9].tolist() == [6.0, 7.0, 7.0]


def _curve(*rows, arm_rows=None, header="arm,time,survival"):
    rows = [f"experimental,{t},{s}" for t, s in rows]
    rows += [f"control,{t},{s}" for t, s in (arm_rows or [(0, 1), (5, 0.5)])]
    return "\n".join([header, *rows]) + "\n"


RISK = "arm,time,n_at_risk\nexperimental,0,100\ncontrol,0,100\n"


def test_noise_tolerance_boundary():
    """A rise just under SURVIVAL_NOISE (0.02) is cleaned; just over is refused."""
    assert SURVIVAL_NOISE == 0.02
    fig = read_figure(_curve((0, 1), (1, 0.8), (2, 0.819), (3, 0.7)), RISK, scale="proportion")
    np.testing.assert_allclose(fig.curves["experimental"].survival, [1, 0.8095, 0.8095, 0.7])
    errors = _errors(_curve((0, 1), (1, 0.8), (2, 0.821), (3, 0.7)), RISK, scale="proportion")
    assert errors[0].startswith("curves.csv:4: survival: survival rises from 0.8 (line 3) to 0.821")


def test_many_errors_are_summarised():
    """Five rises in one arm: three located, the other two counted."""
    curves = _curve((0, 1), (1, 0.5), (2, 0.6), (3, 0.55), (4, 0.58), (5, 0.57), (6, 0.56))
    errors = _errors(curves, RISK, scale="proportion")
    assert errors[0] == "curves.csv: survival: 2 more rows of arm 'experimental' rise above an earlier point"
    assert [e.split(": survival rises")[0] for e in errors[1:]] == [
        "curves.csv:4: survival", "curves.csv:5: survival", "curves.csv:6: survival"]


def test_scale_auto_detection_warns():
    fig = read_figure(_curve((0, 100), (2, 80), arm_rows=[(0, 100), (3, 60)]), RISK)
    assert fig.scale == "percent"
    assert [str(w) for w in fig.warnings] == [
        "curves.csv: warning: survival: no survival scale declared; read as percent (largest value 100); "
        "add '# survival: percent' as the first line to declare it"]
    fig = read_figure(_curve((0, 1), (2, 0.8)), RISK)
    assert fig.scale == "proportion" and "read as proportion" in str(fig.warnings[0])


def test_scale_declarations_must_agree():
    text = "# survival: percent\n" + _curve((0, 100), (2, 80), arm_rows=[(0, 100)])
    assert read_figure(text, RISK, scale="percent").warnings == ()
    assert _errors(text, RISK, scale="proportion") == [
        "curves.csv:1: # survival: the file declares 'percent' but 'proportion' was requested; "
        "remove one of the two"]
    assert _errors(_curve((0, 1), (2, 0.8)), RISK, scale="percent") == [
        "curves.csv: survival: survival values are at most 1 but the scale is 'percent' "
        "(--survival-scale); declare '# survival: proportion'"]
    assert _errors("# survival: percnt\n" + _curve((0, 1)), RISK)[0] == (
        "curves.csv:1: # survival: unknown survival scale 'percnt'; allowed: proportion, percent")


def test_start_point():
    fig = read_figure(_curve((1, 0.9), (2, 0.8)), RISK, scale="proportion")
    exp = fig.curves["experimental"]
    assert exp.time.tolist() == [0, 1, 2] and exp.survival.tolist() == [1, 0.9, 0.8]
    assert exp.lines == (0, 2, 3)
    assert "added the start point (0, 1)" in str(fig.warnings[0])
    fig = read_figure(_curve((0, 0.99), (2, 0.8)), RISK, scale="proportion")
    assert fig.curves["experimental"].survival[0] == 1.0
    assert _errors(_curve((0, 0.9), (2, 0.8)), RISK, scale="proportion") == [
        "curves.csv:2: survival: the curve of arm 'experimental' starts at 0.9 at time 0; a Kaplan-Meier "
        "curve starts at 1"]


def test_negative_and_out_of_range_values():
    errors = _errors(_curve((0, 1), (-1, 0.9), (2, -0.1)), RISK, scale="proportion")
    assert errors == [
        "curves.csv:3: time: time -1 is negative; times run from 0 (randomisation)",
        "curves.csv:4: survival: survival -0.1 is outside 0-1"]
    assert _errors(_curve((0, 1), (2, 1.3)), RISK, scale="proportion") == [
        "curves.csv:3: survival: survival 1.3 is above 1 but the scale is 'proportion' (--survival-scale); "
        "declare '# survival: percent' if the file is in percent"]


def test_at_risk_checks():
    risk = ("arm,time,n_at_risk\nexperimental,0,100\nexperimental,3,90\nexperimental,3,80\n"
            "control,0,100\ncontrol,3,79.5\n")
    assert _errors(_curve((0, 1)), risk, scale="proportion") == [
        "at_risk.csv:4: time: at-risk time 3 does not come after 3 (line 3) in arm 'experimental'; "
        "times must increase",
        "at_risk.csv:6: n_at_risk: expected a whole number >= 0, got '79.5'"]


def test_an_absurd_at_risk_count_is_refused_not_overflowed():
    """Found by fuzzing: '1e308' is a whole number to float(), and overflowed the integer array."""
    risk = "arm,time,n_at_risk\nexperimental,0,100\nexperimental,3,1e308\ncontrol,0,100\n"
    assert _errors(_curve((0, 1)), risk, scale="proportion") == [
        "at_risk.csv:3: n_at_risk: '1e308' patients at risk is more than any trial randomises (at most "
        "1,000,000); a digitising slip?"]


def test_curve_and_table_must_agree():
    risk = "arm,time,n_at_risk\nexperimental,0,100\nexperimental,4,0\ncontrol,0,100\ncontrol,6,10\n"
    errors = _errors(_curve((0, 1), (3, 0.5), (5, 0.2)), risk, scale="proportion")
    assert errors == ["curves.csv:4: survival: the curve of arm 'experimental' falls to 0.2 at time 5, "
                      "after time 4 where the at-risk table has no patient left (at_risk.csv line 3)"]
    fig = read_figure(_curve((0, 1), (3, 0.5), (5, 0.5)), risk, scale="proportion")
    assert fig.curves["experimental"].time.tolist() == [0, 3]
    assert [str(w) for w in fig.warnings] == [
        "at_risk.csv:5: warning: time: 10 patients of arm 'control' are at risk at time 6, after the "
        "digitised curve ends at 5; survival is taken as flat there",
        "curves.csv: warning: arm experimental: 1 points after time 4, where no patient is at risk, "
        "were ignored"]


def test_problems_in_both_files_are_collected():
    curves = _curve((0, 1), (2, "x"))
    risk = "arm,time,n_at_risk\nexperimental,0,100\nexperimental,3,120\ncontrol,0,100\n"
    assert _errors(curves, risk, scale="proportion") == [
        "at_risk.csv:3: n_at_risk: at-risk count rises from 100 at time 0 (line 2) to 120 at time 3 in "
        "arm 'experimental'; numbers at risk never increase",
        "curves.csv:3: survival: expected a number, got 'x'"]


def test_missing_arm_and_separator():
    only_exp = "arm,time,survival\nexperimental,0,1\n"
    assert _errors(only_exp, RISK, scale="proportion") == [
        "curves.csv: arm: no rows for arm 'control'; both arms (experimental, control) are needed"]
    assert _errors("arm;time;survival\nexperimental;0;1\n", RISK) == [
        "curves.csv:1: expected comma-separated columns 'arm,time,survival', got 'arm;time;survival'"]


@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_antitonic_is_the_least_squares_non_increasing_fit(values):
    """Oracle: scipy.optimize.isotonic_regression(y, increasing=False) (scipy >= 1.12)."""
    y = np.array(values)
    fit = _antitonic(y)
    np.testing.assert_allclose(fit, isotonic_regression(y, increasing=False).x, atol=1e-12)
    assert np.all(np.diff(fit) <= 1e-12)

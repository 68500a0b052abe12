"""``trialmeta reconstruct``: outputs, exit codes and located messages for malformed figures.

tests/data/km/curves.csv + at-risk.csv are a simulated trial (60 per arm; the files' headers
give the call and the true event counts, 38 and 49).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import DATA, ROOT
from guyot_simulate import simulate
from trialmeta.survival.reconstruct import JSON_KEYS
from trialmeta.survival.fit import compare_arms

KM = DATA / "km"
CURVES, AT_RISK = KM / "curves.csv", KM / "at-risk.csv"


def test_json_keys_and_values(run_cli):
    code, out, err = run_cli("reconstruct", CURVES, AT_RISK, "--format", "json")
    assert code == 0 and err == ""
    result = json.loads(out)
    assert tuple(result) == JSON_KEYS == (
        "hr", "hr_ci_low", "hr_ci_high", "ph_test_p", "median_exp", "median_ctrl", "rmst_exp",
        "rmst_ctrl", "rmst_diff", "rmst_diff_ci_low", "rmst_diff_ci_high", "horizon", "n_exp", "n_ctrl",
        "events_exp", "events_ctrl", "events_published_exp", "events_published_ctrl", "event_mismatch",
        "curve_distance_max_exp", "curve_distance_max_ctrl")
    assert (result["n_exp"], result["n_ctrl"]) == (60, 60)
    assert (result["events_exp"], result["events_ctrl"]) == (38, 49)  # the simulation's own counts
    assert (result["events_published_exp"], result["events_published_ctrl"], result["event_mismatch"]) == (
        None, None, None)  # no totals given
    assert 0 < result["curve_distance_max_exp"] < 0.01 and 0 < result["curve_distance_max_ctrl"] < 0.01
    assert result["hr_ci_low"] < result["hr"] < result["hr_ci_high"]
    assert result["rmst_diff"] == pytest.approx(result["rmst_exp"] - result["rmst_ctrl"])
    # the same analysis of the simulated patients behind the files
    trial = simulate(7, n_exp=60, n_ctrl=60, hr=0.6, median_ctrl=8.0, accrual=12.0, cutoff=30.0)
    true = compare_arms(trial.time["experimental"], trial.event["experimental"],
                        trial.time["control"], trial.event["control"])
    assert result["hr"] == pytest.approx(true.hr, rel=0.05)
    assert result["median_exp"] == pytest.approx(true.experimental.median, abs=0.5)
    assert result["median_ctrl"] == pytest.approx(true.control.median, abs=0.5)
    assert result["rmst_exp"] == pytest.approx(true.experimental.rmst, rel=0.02)
    assert result["rmst_ctrl"] == pytest.approx(true.control.rmst, rel=0.02)


def test_table(run_cli):
    code, out, _ = run_cli("reconstruct", CURVES, AT_RISK, "--events-exp", "38", "--events-ctrl", "49",
                           "--n-exp", "60", "--n-ctrl", "60", "--horizon", "24")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == ("Reconstructed patient-level data (Guyot 2012; events spread between "
                        "digitised points)")
    assert lines[2].split() == ["experimental", "control"]
    assert lines[3].split() == ["patients", "60", "60"]
    assert lines[4].split() == ["events", "38", "49"]
    assert lines[6].startswith("RMST to 24.00 (95% CI)")
    assert lines[7].split() == ["published", "events", "38", "49"]
    assert lines[8].split() == ["at-risk", "counts", "matched", "5/5", "5/5"]
    assert out.count("HR experimental vs control (95% CI)") == 1
    assert "PH test (Schoenfeld residuals, rank time)" in out


def test_ipd_file(run_cli, tmp_path):
    target = tmp_path / "ipd.csv"
    code, _, _ = run_cli("reconstruct", CURVES, AT_RISK, "--ipd", target)
    assert code == 0
    rows = target.read_text().splitlines()
    assert rows[0] == "arm,time,event" and len(rows) == 1 + 120
    assert sum(r.endswith(",1") for r in rows[1:]) == 38 + 49


# (curves, at-risk, extra options) -> first line of stderr
BAD = [
    ("survival-increasing.csv", "at-risk.csv", (),
     "tests/data/km/survival-increasing.csv:15: survival: survival rises from 70.8 (line 14) to 80 at "
     "time 9 in arm 'experimental'; a Kaplan-Meier curve never rises, and digitisation noise is "
     "corrected only up to 2 percentage points: is the row from the other arm, or mistyped?"),
    ("times-decreasing.csv", "at-risk.csv", (),
     "tests/data/km/times-decreasing.csv:18: time: time 4 comes after time 11 (line 17) in arm "
     "'experimental'; points must follow the curve from left to right (backward steps up to 0.58, "
     "2% of the figure's time axis 0-29.0249, are corrected as digitisation jitter)"),
    ("missing-column.csv", "at-risk.csv", (),
     "tests/data/km/missing-column.csv:5: survival: missing column 'survival': found 'surv' (did you "
     "mean 'survival'?); the header must be 'arm,time,survival', got 'arm,time,surv'"),
    ("unknown-arm.csv", "at-risk.csv", (),
     "tests/data/km/unknown-arm.csv:11: arm: unknown arm 'treatment'; allowed: experimental, control"),
    ("non-numeric.csv", "at-risk.csv", (),
     "tests/data/km/non-numeric.csv:11: survival: expected a number, got '74.3%'"),
    ("empty.csv", "at-risk.csv", (),
     "tests/data/km/empty.csv: file is empty; expected a header line 'arm,time,survival' followed by one "
     "row per point"),
    ("survival-scale-wrong.csv", "at-risk.csv", (),
     "tests/data/km/survival-scale-wrong.csv:6: survival: survival 100 is above 1 but the scale is "
     "'proportion' (the '# survival:' line); declare '# survival: percent' if the file is in percent"),
    ("curves.csv", "at-risk-increasing.csv", (),
     "tests/data/km/at-risk-increasing.csv:12: n_at_risk: at-risk count rises from 29 at time 6 (line 11) "
     "to 35 at time 12 in arm 'control'; numbers at risk never increase"),
    ("curves.csv", "first-at-risk-not-n.csv", ("--n-exp", "60"),
     "tests/data/km/first-at-risk-not-n.csv:5: n_at_risk: first at-risk count 58 of arm 'experimental' is "
     "not the randomised n = 60 (--n-exp/--n-ctrl)"),
    ("curves.csv", "at-risk-not-from-zero.csv", (),
     "tests/data/km/at-risk-not-from-zero.csv:5: time: the at-risk table of arm 'experimental' starts at "
     "time 6; it must start at time 0 with the number randomised"),
    ("curves.csv", "at-risk.csv", ("--survival-scale", "proportion"),
     "tests/data/km/curves.csv:3: # survival: the file declares 'percent' but 'proportion' was requested; "
     "remove one of the two"),
    # curves.csv line 34: the experimental curve ends at 28.1905, the control one later
    ("curves.csv", "at-risk.csv", ("--horizon", "40"),
     "trialmeta: error: RMST horizon 40 is outside the follow-up both arms share (0, 28.1905]; choose "
     "--horizon within it or omit it"),
    ("curves.csv", "at-risk.csv", ("--events-exp", "61"),
     "trialmeta: error: 61 events given for the experimental arm, which has 60 patients "
     "(tests/data/km/at-risk.csv line 4)"),
]


@pytest.mark.parametrize("curves, at_risk, options, message", BAD, ids=[b[0] + "+" + b[1] for b in BAD])
def test_bad_input_exits_1_with_a_located_message(run_cli, curves, at_risk, options, message):
    code, out, err = run_cli("reconstruct", KM / curves, KM / at_risk, *options)
    assert code == 1 and out == ""
    assert err.splitlines()[0] == message
    assert "Traceback" not in err


def test_missing_file_is_a_usage_error(run_cli):
    code, _, err = run_cli("reconstruct", KM / "no-such.csv", AT_RISK)
    assert code == 2 and err.strip() == "trialmeta: error: tests/data/km/no-such.csv: no such file"


def test_digitisation_noise_warns_and_succeeds(run_cli):
    code, out, err = run_cli("reconstruct", KM / "digitisation-noise.csv", AT_RISK, "--format", "json")
    assert code == 0 and json.loads(out)["n_exp"] == 60
    assert err.splitlines() == [
        "tests/data/km/digitisation-noise.csv:12: warning: arm experimental: 2 points (lines 12, 13) "
        "raised or lowered to keep survival non-increasing and within 0-100 (isotonic regression; max "
        "change 0.2)",
        "tests/data/km/digitisation-noise.csv:14: warning: arm experimental: 1 point (line 14) moved "
        "forward in time to keep time non-decreasing (max change 0.1)"]


def test_subprocess_json():
    """One real process: ``python -m trialmeta``, as a user runs it."""
    proc = subprocess.run([sys.executable, "-m", "trialmeta", "reconstruct", str(CURVES), str(AT_RISK),
                           "--format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert tuple(json.loads(proc.stdout)) == JSON_KEYS
    bad = subprocess.run([sys.executable, "-m", "trialmeta", "reconstruct", str(KM / "empty.csv"),
                          str(AT_RISK)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "empty.csv: file is empty" in bad.stderr


def test_reconstructed_hr_as_a_derivation():
    from trialmeta.survival.reconstruct import reconstruct

    result = reconstruct(CURVES.read_text(), AT_RISK.read_text())
    d = result.as_derivation()
    assert d.method == "reconstructed-ipd" and not d.approximate  # gated by allow_reconstructed
    assert (d.log_estimate, d.se) == (result.analysis.log_hr, result.analysis.se_log_hr)
    assert "60 and 60 patients, 38 and 49 events" in d.detail


def test_minimal_case_of_issue_12_reconstructs_with_a_warning(run_cli, tmp_path):
    """No (0, 1) start point plus one point above the one before, at-risk table at time 0 only:
    sorting its two warnings (one without a line) ended in exit 3."""
    (tmp_path / "curves.csv").write_text(
        "# survival: proportion\narm,time,survival\nexperimental,1,0.95\nexperimental,2,0.90\n"
        "experimental,3,0.905\nexperimental,4,0.8\ncontrol,1,0.9\ncontrol,2,0.8\ncontrol,4,0.6\n")
    (tmp_path / "at-risk.csv").write_text("arm,time,n_at_risk\nexperimental,0,100\ncontrol,0,100\n")
    code, out, err = run_cli("reconstruct", tmp_path / "curves.csv", tmp_path / "at-risk.csv", "--format", "json")
    assert code == 0 and json.loads(out)["n_exp"] == 100
    warnings = err.splitlines()
    assert warnings[0].endswith("curves.csv: warning: arm control: added the start point (0, 1)")
    assert any(w.endswith("curves.csv:4: warning: arm experimental: 2 points (lines 4, 5) raised or lowered "
                          "to keep survival non-increasing and within 0-1 (isotonic regression; max change "
                          "0.0025)") for w in warnings)


def test_events_mismatch_exits_1_unless_accepted(run_cli, tmp_path):
    """20 events published for an arm whose curve needs 37 before its last at-risk time."""
    code, out, err = run_cli("reconstruct", CURVES, AT_RISK, "--events-exp", "20", "--events-ctrl", "49")
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "trialmeta: error: 37 events reconstructed in the experimental arm, 20 published (--events-exp): more "
        "than 10% (and 2 events) apart, so the digitised figure does not match the published counts. Check "
        "that the at-risk table and the curves use the same time unit, that the arms are not swapped, and "
        "that the figure is from the same data cut; to reconstruct anyway, pass --accept-event-mismatch"]
    figure = tmp_path / "km.svg"
    code, out, err = run_cli("reconstruct", CURVES, AT_RISK, "--events-exp", "20", "--events-ctrl", "49",
                             "--accept-event-mismatch", "--figure", figure)
    assert code == 0
    note = "37 events reconstructed in the experimental arm, 20 published (--events-exp)"
    assert "EVENTS DO NOT MATCH" in out and f"{note} (accepted)" in out
    assert out.splitlines()[7].split() == ["published", "events", "20", "49"]
    assert f"warning: events: {note}: accepted as asked" in err
    assert "Events differ from the publication: experimental arm 37 reconstructed vs 20 published" in (
        figure.read_text())
    code, out, _ = run_cli("reconstruct", CURVES, AT_RISK, "--events-exp", "20", "--accept-event-mismatch",
                           "--format", "json")
    assert code == 0 and json.loads(out)["event_mismatch"] == note
    assert (json.loads(out)["events_published_exp"], json.loads(out)["events_published_ctrl"]) == (20, None)


def test_at_risk_table_in_months_under_a_curve_in_days_exits_1(run_cli, tmp_path):
    """The issue's wrong answer with exit 0 (HR about 2 from 3 events): now refused, naming both ranges."""
    rows = CURVES.read_text().splitlines()
    days = [",".join([r.split(",")[0], f"{float(r.split(',')[1]) * 365.25 / 12:.1f}", r.split(",")[2]])
            if r.startswith(("experimental", "control")) else r for r in rows]
    (tmp_path / "days.csv").write_text("\n".join(days) + "\n")
    code, out, err = run_cli("reconstruct", tmp_path / "days.csv", AT_RISK, "--events-exp", "38")
    assert code == 1 and out == ""
    assert err.splitlines()[0] == (
        "tests/data/km/at-risk.csv:8: time: the at-risk times run from 0 to 24 (tests/data/km/at-risk.csv) but "
        f"the curves' times from 0 to {max(float(r.split(',')[1]) for r in days if r[:1] in 'ec'):g} ("
        f"{tmp_path / 'days.csv'}): the at-risk table covers less than 30% of the curves' time axis, so the "
        "two files do not describe the same time axis; they are 36.8 times apart, as if the at-risk times were "
        "in months and the curves' in days (a factor of 30.44). Give both files in the unit of the figure's "
        "axis (and declare it with '# time:')")

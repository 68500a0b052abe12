"""Reconstruction of realistic digitisations of real trials' figures (tests/km_corpus.py).

The patients are real (lifelines' bundled datasets: Rossi et al. 1980, GBSG-2, NCCTG lung,
kidney transplant, Freireich et al. 1963); their Kaplan-Meier figure is digitised the way people
and tracers do it (corner or grid tracing, thinning, jitter in both axes, percent or proportion,
days to years). The reconstruction must recover the analysis of the real patients: Cox HR within
5 %, medians within 5 % or one time unit, RMST within 2 % (issue 12), at a horizon inside the
figure (98 % of the last time both arms have patients at risk, so the at-risk table's final 0 is
inside the follow-up). Figures whose at-risk table is in another unit than the curves are
refused, naming both time ranges. benchmarks/km_corpus.py reports the error distribution over
many more seeds.
"""

from __future__ import annotations

import re

import pytest

from km_corpus import CORPUS, MISMATCHED, digitise, within
from trialmeta.errors import InputError
from trialmeta.survival.fit import compare_arms
from trialmeta.survival.reconstruct import reconstruct


def _truth(fig, horizon=None):
    return compare_arms(fig.time["experimental"], fig.event["experimental"], fig.time["control"],
                        fig.event["control"], horizon=horizon)


@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_reconstruction_recovers_the_real_patients(case):
    fig = digitise(case)
    horizon = 0.98 * _truth(fig).horizon
    true = _truth(fig, horizon)
    events = fig.events if case.seed % 2 else None  # half with the published totals
    rec = reconstruct(fig.curves, fig.at_risk, horizon=horizon, events=events)
    check = within(rec.analysis, true)
    assert all(check["ok"].values()), check["errors"]
    assert rec.to_dict()["n_exp"] == len(fig.time["experimental"])
    assert rec.event_mismatch == ""
    if events:
        assert (rec.to_dict()["events_published_exp"], rec.to_dict()["events_published_ctrl"]) == (
            events["experimental"], events["control"])
    # the distance from the digitised points to the reconstructed curves stays within a few pixels
    assert max(rec.ipd[arm].curve_max_error for arm in rec.ipd) < 0.05


@pytest.mark.parametrize("case", MISMATCHED, ids=[c.id for c in MISMATCHED])
def test_at_risk_table_in_another_unit_is_refused(case):
    fig = digitise(case)
    with pytest.raises(InputError) as info:
        reconstruct(fig.curves, fig.at_risk)
    message = str(info.value.problems[0])
    ranges = re.search(r"the at-risk times run from 0 to ([\d.e+]+) \(at_risk.csv\) but the curves' times "
                       r"from 0 to ([\d.e+]+) \(curves.csv\)", message)
    assert ranges, message
    risk_end, curve_end = map(float, ranges.groups())
    assert risk_end == pytest.approx(max(t for t in _risk_times(fig.at_risk)))
    assert f"in {case.risk_unit} and the curves' in {case.unit}" in message


def _risk_times(text):
    return [float(row.split(",")[1]) for row in text.splitlines()[1:]]


def test_mismatch_exits_1_from_the_command_line(tmp_path, run_cli):
    fig = digitise(MISMATCHED[0])  # GBSG-2 in days, at-risk table in months
    (tmp_path / "curves.csv").write_text(fig.curves)
    (tmp_path / "at-risk.csv").write_text(fig.at_risk)
    code, out, err = run_cli("reconstruct", tmp_path / "curves.csv", tmp_path / "at-risk.csv")
    assert code == 1 and out == ""
    assert "the at-risk times run from 0 to 95.93" in err and "curves' times from 0 to 2661" in err
    assert "as if the at-risk times were in months and the curves' in days (a factor of 30.44)" in err


def test_corpus_files_are_deterministic():
    first, again = digitise(CORPUS[3]), digitise(CORPUS[3])
    assert (first.curves, first.at_risk) == (again.curves, again.at_risk)

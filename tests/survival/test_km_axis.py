"""Issue 12: the figure's time axis, unit consistency, follow-up, published events and the fit.

Small hand-made figures, each built to show one rule of trialmeta.survival.axis, .events and
.distance; the realistic cases are in test_km_corpus.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from guyot_simulate import kaplan_meier
from trialmeta.errors import InputError, Problem
from trialmeta.survival.axis import follow_up, unit_pair
from trialmeta.survival.digitised import read_figure
from trialmeta.survival.distance import distance_to_steps, km_steps
from trialmeta.survival.events import EventCheck, EventMismatch
from trialmeta.survival.reconstruct import reconstruct

# The minimal case of issue 12: no (0, 1) start point (a warning without a line) and one point
# above the one before (a warning with a line); at-risk table at time 0 only.
MINIMAL_CURVES = ("arm,time,survival\nexperimental,1,0.95\nexperimental,2,0.90\nexperimental,3,0.905\n"
                  "experimental,4,0.8\ncontrol,1,0.9\ncontrol,2,0.8\ncontrol,4,0.6\n")
TIME0 = "arm,time,n_at_risk\nexperimental,0,100\ncontrol,0,100\n"


def test_problems_with_and_without_lines_sort():
    """Sorting them raised TypeError (None < int) and ended in exit 3."""
    found = [Problem("b.csv", 3, "x", "m"), Problem("a.csv", None, "y", "m"), Problem("a.csv", 2, "a", "m"),
             Problem("a.csv", None, "a", "m", "warning")]
    assert [(p.file, p.line, p.path) for p in sorted(found)] == [
        ("a.csv", None, "a"), ("a.csv", None, "y"), ("a.csv", 2, "a"), ("b.csv", 3, "x")]
    assert sorted(found) == sorted(reversed(found))


def test_the_minimal_case_reconstructs_with_warnings():
    rec = reconstruct(MINIMAL_CURVES, TIME0, survival_scale="proportion")
    warnings = [str(w) for w in rec.warnings]
    assert "curves.csv: warning: arm experimental: added the start point (0, 1)" in warnings
    assert any(w.startswith("curves.csv:3: warning: arm experimental: 2 points (lines 3, 4) raised or lowered")
               for w in warnings)
    assert rec.to_dict()["n_exp"] == 100 and 0 < rec.analysis.hr < 1


def test_time_tolerance_is_a_fraction_of_the_figure_axis():
    """The experimental curve ends at 5, the control curve at 50: a backward step of 0.3 is 6 %
    of the experimental arm's own range but 0.6 % of the figure's axis, so it is jitter; 1.1 is
    more than 2 % of the axis."""
    curves = ("arm,time,survival\nexperimental,0,1\nexperimental,2,0.9\nexperimental,1.7,0.85\n"
              "experimental,5,0.8\ncontrol,0,1\ncontrol,20,0.6\ncontrol,50,0.3\n")
    fig = read_figure(curves, TIME0, scale="proportion")
    assert fig.axis == 50 and fig.curves["experimental"].time.tolist() == [0, 2, 2, 5]
    with pytest.raises(InputError) as info:
        read_figure(curves.replace("1.7,0.85", "0.9,0.85"), TIME0, scale="proportion")
    assert str(info.value.problems[0]) == (
        "curves.csv:4: time: time 0.9 comes after time 2 (line 3) in arm 'experimental'; points must follow "
        "the curve from left to right (backward steps up to 1, 2% of the figure's time axis 0-50, are "
        "corrected as digitisation jitter)")


def test_the_at_risk_table_counts_in_the_time_axis():
    curves = "arm,time,survival\nexperimental,0,1\nexperimental,20,0.5\ncontrol,0,1\ncontrol,20,0.4\n"
    risk = "arm,time,n_at_risk\nexperimental,0,10\nexperimental,24,2\ncontrol,0,10\ncontrol,24,0\n"
    assert read_figure(curves, risk, scale="proportion").axis == 24


@pytest.mark.parametrize("ratio, pair", [(30.4, ("days", "months")), (7.2, ("days", "weeks")),
                                         (11, ("months", "years")), (4.3, ("weeks", "months")),
                                         (2.0, None), (18.0, None)])
def test_unit_pairs(ratio, pair):
    found = unit_pair(ratio)
    assert (found[:2] if found else None) == pair


def test_declared_units_must_agree():
    curves = "# time: months\narm,time,survival\nexperimental,0,1\ncontrol,0,1\ncontrol,3,0.5\n"
    with pytest.raises(InputError) as info:
        read_figure(curves, "# time: days\n" + TIME0, scale="proportion")
    assert str(info.value.problems[0]) == (
        "at_risk.csv:1: # time: the at-risk table is in days but curves.csv declares '# time: months' "
        "(line 1); both files must use the figure's unit")


def test_follow_up_reaches_the_first_zero_of_the_table():
    assert follow_up([0, 10], [0, 6, 12, 18], [50, 20, 0, 0]) == 12
    assert follow_up([0, 10], [0, 6], [50, 20]) == 10
    assert follow_up([0, 10], [0, 6, 12], [50, 20, 4]) == 12


def test_a_horizon_inside_the_figure_is_allowed_when_the_table_ends_in_0():
    """Both arms' last patients leave before month 12, where the table prints 0: a horizon of 12
    is inside the figure (the curves are flat after their last points, as drawn)."""
    curves = ("arm,time,survival\nexperimental,0,1\nexperimental,4,0.8\nexperimental,10.5,0.6\n"
              "control,0,1\ncontrol,3,0.7\ncontrol,10,0.5\n")
    risk = ("arm,time,n_at_risk\nexperimental,0,50\nexperimental,6,35\nexperimental,12,0\n"
            "control,0,50\ncontrol,6,30\ncontrol,12,0\n")
    rec = reconstruct(curves, risk, horizon=12, survival_scale="proportion")
    assert rec.analysis.horizon == 12
    assert max(rec.ipd["control"].time) <= 10.5  # the data themselves end with the curves
    assert rec.ipd["control"].at_risk_reconstructed.tolist() == [50, 30, 0]
    with pytest.raises(Exception, match=r"outside the follow-up both arms share \(0, 12\]"):
        reconstruct(curves, risk, horizon=12.5, survival_scale="proportion")


def test_event_check_tolerance():
    """More than 10 % and more than 2 events apart (both): 123 vs 3 is, 10 vs 12 is not."""
    assert EventCheck("control", 123, 3, "--events-ctrl").mismatch
    assert not EventCheck("control", 12, 10, "x").mismatch  # 17 % but only 2 events
    assert not EventCheck("control", 100, 91, "x").mismatch  # 9 %
    assert EventCheck("control", 100, 89, "x").mismatch


def test_events_far_from_the_published_totals_are_refused_unless_accepted():
    from conftest import DATA

    curves, risk = (DATA / "km" / "curves.csv").read_text(), (DATA / "km" / "at-risk.csv").read_text()
    with pytest.raises(EventMismatch) as info:
        reconstruct(curves, risk, events={"experimental": 20, "control": 49},
                    events_source={"experimental": "--events-exp"})
    assert str(info.value).startswith("37 events reconstructed in the experimental arm, 20 published "
                                      "(--events-exp): more than 10% (and 2 events) apart")
    rec = reconstruct(curves, risk, events={"experimental": 20, "control": 49}, accept_event_mismatch=True)
    assert rec.event_mismatch == "37 events reconstructed in the experimental arm, 20 published (published events)"
    assert rec.to_dict()["event_mismatch"] == rec.event_mismatch
    assert any("accepted as asked" in str(w) for w in rec.warnings)


def test_fit_distance_of_a_corner_digitised_curve_is_zero():
    """Corner tracing puts a point at the top and the bottom of every drop: with exact data the
    reconstructed curve passes through every one (the old vertical error counted each drop)."""
    rng = np.random.default_rng(4)
    t, e = np.round(rng.exponential(10, 80), 1), (rng.uniform(size=80) < 0.8).astype(int)
    u, s = kaplan_meier(t, e)
    xs = np.r_[0.0, np.repeat(u, 2)]
    ys = np.r_[1.0, np.column_stack([np.r_[1.0, s[:-1]], s]).ravel()]
    assert np.max(distance_to_steps(*km_steps(t, e), xs, ys, axis=t.max())) == 0
    # the same points one time unit late: no more than 1/axis horizontally, though the drops are larger
    late = distance_to_steps(*km_steps(t, e), xs + 1, ys, axis=t.max())
    assert np.max(late) == pytest.approx(1 / t.max())
    assert np.max(np.abs(np.diff(s))) > 1 / t.max()

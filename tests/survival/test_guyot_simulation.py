"""Validation by simulation: reconstruct published-resolution figures of simulated trials and
compare with the same analysis of the simulated patients themselves.

Trials (tests/guyot_simulate.py): exponential or Weibull event times with proportional hazards,
uniform staggered entry over 18 months, administrative cut-off at 42 months, random drop-out.
The figure as a journal prints it: survival read every 0.5 or 1 month and rounded to 3
decimals, numbers at risk every 3 months. Tolerances from issue 6: Cox HR within 5 %, medians
within half a month, RMST within 2 %, each arm at each analysis' own default horizon.
"""

from __future__ import annotations

import pytest

from guyot_simulate import publish, simulate
from trialmeta.survival.reconstruct import reconstruct
from trialmeta.survival.fit import compare_arms

# seed, distribution, Weibull shape, n per arm (exp, ctrl), HR, control median, step, percent
CASES = [
    (101, "exponential", 1.0, (150, 150), 0.70, 10.0, 0.5, False),
    (102, "exponential", 1.0, (400, 400), 0.60, 6.0, 1.0, True),
    (103, "exponential", 1.0, (300, 150), 0.80, 14.0, 1.0, False),
    (104, "exponential", 1.0, (200, 200), 1.00, 9.0, 0.5, True),
    (105, "weibull", 1.5, (250, 250), 0.65, 12.0, 1.0, False),
    (106, "weibull", 0.8, (200, 200), 0.70, 8.0, 0.5, False),
    (107, "weibull", 2.0, (350, 350), 0.55, 15.0, 1.0, True),
    (108, "weibull", 1.2, (150, 300), 0.75, 5.0, 0.5, False),
]


def _truth(trial):
    return compare_arms(trial.time["experimental"], trial.event["experimental"],
                        trial.time["control"], trial.event["control"])


def _check(rec, true):
    assert rec.hr / true.hr - 1 == pytest.approx(0, abs=0.05), (rec.hr, true.hr)
    for r, t in ((rec.experimental, true.experimental), (rec.control, true.control)):
        assert (r.median is None) == (t.median is None)
        if t.median is not None:
            assert abs(r.median - t.median) < 0.5, (r.arm, r.median, t.median)
        assert r.rmst / t.rmst - 1 == pytest.approx(0, abs=0.02), (r.arm, r.rmst, t.rmst)
        assert r.n == t.n


@pytest.mark.parametrize("seed, dist, shape, n, hr, median, step, percent", CASES)
def test_reconstruction_recovers_the_trial(seed, dist, shape, n, hr, median, step, percent):
    trial = simulate(seed, dist=dist, shape=shape, n_exp=n[0], n_ctrl=n[1], hr=hr, median_ctrl=median)
    curves, at_risk, _ = publish(trial, step=step, percent=percent)
    rec = reconstruct(curves, at_risk).analysis
    true = _truth(trial)
    _check(rec, true)
    assert abs(rec.horizon - true.horizon) <= step  # the figure ends at the last follow-up time
    assert rec.ph_test_p == pytest.approx(true.ph_test_p, abs=0.1)


@pytest.mark.parametrize("seed", [111, 112])
def test_published_event_totals(seed):
    """Given the published totals, the reconstruction has exactly that many events."""
    trial = simulate(seed, dist="weibull", shape=1.3, n_exp=250, n_ctrl=250, hr=0.7)
    curves, at_risk, events = publish(trial, step=1.0)
    result = reconstruct(curves, at_risk, events=events)
    assert result.to_dict()["events_exp"] == events["experimental"]
    assert result.to_dict()["events_ctrl"] == events["control"]
    _check(result.analysis, _truth(trial))


def test_every_step_digitised_with_guyot_placement():
    """Both corners of every step digitised (Guyot's advice), events at the points ("click")."""
    trial = simulate(121, n_exp=200, n_ctrl=200, hr=0.6)
    curves, at_risk, _ = publish(trial, corners=True)
    click = reconstruct(curves, at_risk, event_times="click")
    spread = reconstruct(curves, at_risk, event_times="spread")
    _check(click.analysis, _truth(trial))
    assert click.to_dict() == spread.to_dict()  # zero-width drops: the two placements agree


def test_click_placement_on_a_sampled_curve_delays_events():
    """Why "spread" is the default: on a curve read once a month, placing each drop's events at
    the point where it is seen delays them by up to a month, so RMST is biased upwards."""
    trial = simulate(131, n_exp=300, n_ctrl=300, hr=0.7)
    curves, at_risk, _ = publish(trial, step=1.0)
    true = _truth(trial)
    click = reconstruct(curves, at_risk, event_times="click").analysis
    spread = reconstruct(curves, at_risk).analysis
    for arm in ("experimental", "control"):
        t, c, s = (getattr(x, arm).rmst for x in (true, click, spread))
        assert c - t > 2 * abs(s - t), (arm, t, c, s)

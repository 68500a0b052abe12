"""The Guyot (2012) reconstruction on small curves worked by hand, and its invariants.

Hand calculations follow Guyot et al. 2012 (BMC Med Res Methodol 12:9): first guess of censoring
``round(n_i S(t_{i+1}) / S(t_i) - n_{i+1})``, censorings spread uniformly over the interval,
events ``round(n_k (1 - S_k / S_hat))``, censored count adjusted by the at-risk error.
"""

from __future__ import annotations

import numpy as np
import pytest

from guyot_simulate import kaplan_meier, publish, simulate
from trialmeta.survival.digitised import read_figure
from trialmeta.survival.guyot import km_at, reconstruct_arm


def _rows(ipd):
    return sorted(zip(ipd.time.tolist(), ipd.event.tolist()))


def test_censoring_iterates_to_the_at_risk_count():
    """S = 1, 0.9, 0.8 at t = 0, 1, 2; 10 at risk at 0 and 8 at 2 (click mode).

    [0, 2): guess round(10 * 0.8 - 8) = 0 censored; event at 1: round(10 * 0.1) = 1, so 9 reach
    t = 2, one too many: 1 censoring, spread to 0 + 2/2 = 1.0, after the event -> 8. Last
    interval (length 0): no censoring; event at 2: round(8 * (1 - 0.8/0.9)) = round(0.89) = 1.
    Survivors 10 - 2 - 1 = 7 are censored at 2.
    """
    ipd = reconstruct_arm([0, 1, 2], [1.0, 0.9, 0.8], [0, 2], [10, 8], event_times="click")
    assert _rows(ipd) == [(1.0, 0), (1.0, 1)] + [(2.0, 0)] * 7 + [(2.0, 1)]
    assert ipd.at_risk_reconstructed.tolist() == [10, 8]
    assert ipd.notes == ()


def test_uncensored_steps_are_recovered_exactly():
    """Event times 1, 2, 2, 3, 5, 8 (n = 6, no censoring); every step digitised at both corners
    with survival rounded to 3 decimals: 0.833, 0.5, 0.333, 0.167, 0."""
    t = [0, 1, 1, 2, 2, 3, 3, 5, 5, 8, 8]
    s = [1, 1, 0.833, 0.833, 0.5, 0.5, 0.333, 0.333, 0.167, 0.167, 0]
    for mode in ("click", "spread"):
        ipd = reconstruct_arm(t, s, [0], [6], event_times=mode)
        assert _rows(ipd) == [(1.0, 1), (2.0, 1), (2.0, 1), (3.0, 1), (5.0, 1), (8.0, 1)], mode


def test_spread_places_events_inside_the_gap():
    """One point at month 2 with survival 0.5, 4 patients: round(4 * 0.5) = 2 events, spread at
    the midpoints of (0, 1] and (1, 2]; Guyot's placement puts both at 2."""
    spread = reconstruct_arm([0, 2], [1, 0.5], [0], [4], event_times="spread")
    click = reconstruct_arm([0, 2], [1, 0.5], [0], [4], event_times="click")
    assert _rows(spread) == [(0.5, 1), (1.5, 1), (2.0, 0), (2.0, 0)]
    assert _rows(click) == [(2.0, 0), (2.0, 0), (2.0, 1), (2.0, 1)]


def test_at_risk_time_between_points():
    """Points (0, 1) and (4, 0.6); 10 at risk at 0 and 8 at 2.

    spread: survival at 2 interpolated, 0.8: round(10 * 0.2) = 2 events in (0, 2) at 0.5, 1.5;
    then round(8 * (1 - 0.6/0.8)) = 2 events in (2, 4) at 2.5, 3.5; 6 censored at 4.
    click: the drop is seen only at 4, so the 2 leaving before 2 are censored (at 2/3, 4/3); after
    2 censoring continues at that rate (1 per month: at 8/3, 10/3), then round(6 * 0.4) = 2 events
    at 4 and 4 censored there.
    """
    spread = reconstruct_arm([0, 4], [1, 0.6], [0, 2], [10, 8], event_times="spread")
    assert _rows(spread) == [(0.5, 1), (1.5, 1), (2.5, 1), (3.5, 1)] + [(4.0, 0)] * 6
    click = reconstruct_arm([0, 4], [1, 0.6], [0, 2], [10, 8], event_times="click")
    np.testing.assert_allclose([t for t, e in _rows(click) if e == 0][:4], [2 / 3, 4 / 3, 8 / 3, 10 / 3])
    assert [t for t, e in _rows(click) if e == 1] == [4.0, 4.0]
    assert click.at_risk_reconstructed.tolist() == spread.at_risk_reconstructed.tolist() == [10, 8]


def test_total_events_set_the_last_interval_censoring():
    """S = 1, 0.8, 0.6 at 0, 1, 2; only n = 10; 3 events published (click mode).

    No censoring: round(10 * 0.2) = 2 events at 1 (S_hat 0.8), round(8 * 0.25) = 2 at 2: 4 events.
    One censoring (at 1.0, after the events at 1): 2 + round(7 * 0.25) = 2 + 2 = 4, one too many.
    Two (at 2/3 and 4/3): round(9 * 0.2) = 2 at 1 (S_hat = 7/9), then
    round(6 * (1 - 0.6 / (7/9))) = round(1.37) = 1 at 2: 3 events. Survivors 10 - 3 - 2 = 5.
    """
    free = reconstruct_arm([0, 1, 2], [1, 0.8, 0.6], [0], [10], event_times="click")
    assert free.events == 4
    ipd = reconstruct_arm([0, 1, 2], [1, 0.8, 0.6], [0], [10], total_events=3, event_times="click")
    rows = _rows(ipd)
    np.testing.assert_allclose([t for t, _ in rows], [2 / 3, 1, 1, 4 / 3] + [2] * 6)
    assert [e for _, e in rows] == [0, 1, 1, 0, 0, 0, 0, 0, 0, 1]
    assert ipd.notes == ()


def test_total_already_reached_before_the_last_interval():
    ipd = reconstruct_arm([0, 1, 2, 3], [1, 0.5, 0.5, 0.25], [0, 2], [10, 5], total_events=4,
                          event_times="click")
    # [0, 2): round(10 * 0.5) = 5 events, 5 at risk at 2 as published; 5 > 4 published in all
    assert ipd.events == 5 and ipd.n == 10
    assert ipd.notes == ("5 events before time 2 already exceed the published total of 4; "
                         "none are placed after it",)


def test_unreachable_at_risk_count_keeps_n_and_says_so():
    """A drop to 0.5 needs 5 of 10 patients to die, but the table has 8 at risk afterwards."""
    ipd = reconstruct_arm([0, 1, 2], [1, 0.5, 0.5], [0, 2], [10, 8], event_times="click")
    assert ipd.n == 10 and ipd.at_risk_reconstructed.tolist() == [10, 5]
    assert ipd.notes == ("at time 2 the reconstruction has 5 at risk, the table 8 (the curve's drops "
                         "need more events than the counts allow)",)


def test_curve_is_kept_to_its_end():
    """Censoring guessed at the earlier rate may not empty the arm before the curve's last time."""
    ipd = reconstruct_arm([0, 3, 6, 9], [1, 0.9, 0.8, 0.8], [0, 3], [10, 3], event_times="click")
    assert ipd.time.max() == 9.0


def test_unknown_event_times():
    with pytest.raises(ValueError, match="event_times must be one of"):
        reconstruct_arm([0, 1], [1, 0.5], [0], [4], event_times="middle")


@pytest.mark.parametrize("seed, step", [(0, 0.5), (1, 0.6), (2, 0.75), (3, 1.0), (4, 0.7), (5, 0.9)])
def test_invariants_on_simulated_figures(seed, step):
    """n preserved; at-risk counts (every 3 months) met exactly when they fall on digitised
    points and within 3 patients otherwise; the refitted KM close to the digitised curve."""
    trial = simulate(seed, dist="weibull" if seed % 2 else "exponential", shape=0.8 + 0.2 * seed,
                     n_exp=80 + 40 * seed, n_ctrl=100, hr=0.5 + 0.1 * seed)
    fig = read_figure(*publish(trial, step=step)[:2])
    aligned = (3 / step) % 1 == 0
    for arm in ("experimental", "control"):
        c, r = fig.curves[arm], fig.at_risk[arm]
        ipd = reconstruct_arm(c.time, c.survival, r.time, r.n)
        assert ipd.n == r.n[0] and 0 < ipd.events <= ipd.n
        gap = np.abs(ipd.at_risk_reconstructed - r.n).max()
        assert gap == 0 if aligned else gap <= 3, (arm, ipd.at_risk_reconstructed - r.n)
        assert bool(ipd.notes) == (gap > 0)  # a missed count is always said
        assert r.time[-1] <= ipd.time.max() <= c.time[-1] and ipd.time.min() >= 0
        # while 20 or more are at risk a patient is < 0.05 of the curve: refitted within 0.01
        well = c.time <= r.time[r.n >= 20][-1]
        err = np.abs(km_at(ipd.time, ipd.event, c.time[well]) - c.survival[well]).max()
        assert err < 0.01 and ipd.curve_rmse < 0.01, (arm, err, ipd.curve_rmse)


def test_km_at_matches_an_independent_estimator():
    rng = np.random.default_rng(5)
    time = np.round(rng.exponential(5, 200), 1)  # ties on purpose
    event = (rng.uniform(size=200) < 0.7).astype(int)
    ref_t, ref_s = kaplan_meier(time, event)
    np.testing.assert_allclose(km_at(time, event, ref_t), ref_s, rtol=1e-12)
    np.testing.assert_allclose(km_at(time, event, ref_t - 1e-9), np.r_[1.0, ref_s[:-1]], rtol=1e-12)

"""Two-arm survival analysis of (reconstructed) patient-level data: trialmeta.survival.fit."""

from __future__ import annotations

import numpy as np
import pytest

from guyot_simulate import simulate
from trialmeta.errors import TrialmetaError
from trialmeta.survival.fit import compare_arms, last_shared_time, rmst_se


def _km_table(time, event):
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter().fit(time, event).event_table


def test_rmst_and_se_without_censoring_are_the_mean_and_its_plug_in_se():
    """Identity: with no censoring and tau past the last time, the KM RMST is the sample mean and
    the Greenwood-type variance sum A_i^2 d_i / (n_i (n_i - d_i)) is sum (x - mean)^2 / n^2.
    Times 1..5: mean 3, variance 2 / 5 = 0.4 (by hand: A = 2, 1.2, 0.6, 0.2, 0 ->
    4/20 + 1.44/12 + 0.36/6 + 0.04/2 = 0.4)."""
    x = np.arange(1.0, 6.0)
    both = compare_arms(x, np.ones(5), x, np.ones(5))
    assert both.horizon == 5.0
    assert both.experimental.rmst == pytest.approx(3.0)
    assert both.experimental.se_rmst == pytest.approx(np.sqrt(0.4))
    rng = np.random.default_rng(2)
    y = rng.gamma(2.0, 3.0, 40)
    assert rmst_se(_km_table(y, np.ones(40)), y.max() + 1) == pytest.approx(np.sqrt(np.var(y) / 40))


def test_rmst_se_matches_monte_carlo_spread():
    """With censoring the SE has no closed form: compare it with the SD of the RMST over 400
    simulated samples (n = 150, exponential, 30% censoring, tau = 8); the mean SE must lie within
    10% of that SD (the SD's own Monte Carlo error is about 3.5%)."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    rng = np.random.default_rng(11)
    rmsts, ses = [], []
    for _ in range(400):
        t = rng.exponential(6.0, 150)
        c = rng.exponential(14.0, 150)
        time, event = np.minimum(t, c), (t <= c).astype(int)
        km = KaplanMeierFitter().fit(time, event)
        rmsts.append(restricted_mean_survival_time(km, t=8.0))
        ses.append(rmst_se(km.event_table, 8.0))
    assert np.mean(ses) == pytest.approx(np.std(rmsts, ddof=1), rel=0.10)


def test_hr_is_experimental_versus_control():
    """Simulated HR 0.5 (exp arm better), 400 per arm: the estimate is within 4 SE of 0.5 (this
    draw is 3.2 SE away; a reversed HR, 2, would be about 16 SE away)."""
    trial = simulate(4, n_exp=400, n_ctrl=400, hr=0.5)
    res = compare_arms(trial.time["experimental"], trial.event["experimental"],
                       trial.time["control"], trial.event["control"])
    assert abs(res.log_hr - np.log(0.5)) < 4 * res.se_log_hr
    assert res.hr == pytest.approx(np.exp(res.log_hr))
    assert np.log(res.hr_ci_high / res.hr_ci_low) == pytest.approx(2 * 1.959964 * res.se_log_hr)
    assert res.rmst_diff > 0 and res.experimental.median > res.control.median
    assert res.rmst_diff == pytest.approx(res.experimental.rmst - res.control.rmst)
    assert res.se_rmst_diff == pytest.approx(np.hypot(res.experimental.se_rmst, res.control.se_rmst))


def test_ph_test_detects_crossing_hazards():
    """Weibull shape 0.5 (falling hazard) vs 3 (rising), same median: hazards cross, so the
    Schoenfeld-residual test must reject; under simulated proportional hazards it must not."""
    rng = np.random.default_rng(8)
    n = 300
    t_exp = 10 * (rng.exponential(size=n) / np.log(2)) ** (1 / 0.5)
    t_ctrl = 10 * (rng.exponential(size=n) / np.log(2)) ** (1 / 3.0)
    crossing = compare_arms(np.minimum(t_exp, 30), (t_exp < 30).astype(int),
                            np.minimum(t_ctrl, 30), (t_ctrl < 30).astype(int))
    assert crossing.ph_test_p < 0.001 and crossing.ph_time_transform == "rank"
    ph = simulate(9, n_exp=300, n_ctrl=300, hr=0.7)
    fine = compare_arms(ph.time["experimental"], ph.event["experimental"], ph.time["control"],
                        ph.event["control"])
    assert fine.ph_test_p > 0.05


def test_median_not_reached_is_none():
    x = np.arange(1.0, 11.0)
    few_events = np.r_[np.ones(3), np.zeros(7)]
    res = compare_arms(x, few_events, x, np.ones(10))
    assert res.experimental.median is None and res.experimental.median_ci_high is None
    assert res.control.median == 5.0


def test_horizon():
    x, y = np.arange(1.0, 11.0), np.arange(1.0, 21.0)
    assert last_shared_time(x, y) == 10.0
    assert compare_arms(x, np.ones(10), y, np.ones(20), horizon=4).horizon == 4.0
    for bad in (0, 12):
        with pytest.raises(TrialmetaError, match=rf"RMST horizon {bad} is outside the follow-up both "
                                                 r"arms share \(0, 10\]"):
            compare_arms(x, np.ones(10), y, np.ones(20), horizon=bad)


def test_km_steps_and_censoring_marks_for_the_figure():
    time = np.array([1.0, 2.0, 2.5, 3.0, 4.0])
    event = np.array([1, 0, 1, 0, 1])
    arm = compare_arms(time, event, time, event).experimental
    # KM: 1 -> 4/5 at 1 -> (4/5)(2/3) = 8/15 at 2.5 -> 0 at 4; marks at 2 (0.8) and 3 (8/15)
    assert arm.km_time == (0.0, 1.0, 2.0, 2.5, 3.0, 4.0)
    np.testing.assert_allclose(arm.km_survival, [1, 0.8, 0.8, 8 / 15, 8 / 15, 0])
    assert arm.censor_time == (2.0, 3.0)
    np.testing.assert_allclose(arm.censor_survival, [0.8, 8 / 15])

"""Two-arm survival analysis of patient-level data: Kaplan-Meier, Cox, PH test, RMST.

The only module that imports lifelines (about 3 s), and only commands that analyse
patient-level data import this module.

Methods, each with what lifelines does and what is computed here:

- Kaplan-Meier per arm (``KaplanMeierFitter``); median and its CI from
  ``lifelines.utils.median_survival_times`` on the pointwise CI (lifelines' default
  exponential Greenwood / log(-log) band, Brookmeyer-Crowley-style inversion).
- Cox model with one covariate, ``experimental`` (1) vs control (0), Efron ties
  (``CoxPHFitter``): HR = exp(coef), Wald CI.
- Proportional hazards: Grambsch-Therneau test on scaled Schoenfeld residuals
  (``lifelines.statistics.proportional_hazard_test``) with the **rank** time transform.
- RMST to a horizon tau: the area under the Kaplan-Meier curve
  (``lifelines.utils.restricted_mean_survival_time``). Its standard error is computed here,
  because lifelines' ``return_variance`` is the variance of min(T, tau), not of the estimate:
  ``Var = sum over event times t_i <= tau of A_i**2 d_i / (n_i (n_i - d_i))`` with
  ``A_i = integral of S from t_i to tau`` (Klein & Moeschberger 2003, section 4.5; the variance
  of R's ``survRM2::rmst2``). Normal CIs for each arm and for the difference (independent arms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from trialmeta.errors import TrialmetaError
from trialmeta.fmt import finite_or_none


@dataclass(frozen=True)
class ArmSurvival:
    """Kaplan-Meier summary of one arm; ``None`` where an estimate is not reached."""

    arm: str
    n: int
    events: int
    median: float | None
    median_ci_low: float | None
    median_ci_high: float | None
    rmst: float
    se_rmst: float
    rmst_ci_low: float
    rmst_ci_high: float
    km_time: tuple[float, ...]  # step function: survival from km_time[j] on is km_survival[j]
    km_survival: tuple[float, ...]
    censor_time: tuple[float, ...]  # censoring marks
    censor_survival: tuple[float, ...]


@dataclass(frozen=True)
class TwoArmSurvival:
    """Experimental vs control: HR, PH test and RMST difference at ``horizon``."""

    experimental: ArmSurvival
    control: ArmSurvival
    log_hr: float
    se_log_hr: float
    hr: float
    hr_ci_low: float
    hr_ci_high: float
    ph_test_statistic: float
    ph_test_p: float
    ph_time_transform: str
    horizon: float
    rmst_diff: float
    se_rmst_diff: float
    rmst_diff_ci_low: float
    rmst_diff_ci_high: float
    level: float


def last_shared_time(time_exp, time_ctrl) -> float:
    """Default RMST horizon: the last time both arms have patients at risk."""
    return float(min(np.max(time_exp), np.max(time_ctrl)))


def compare_arms(time_exp, event_exp, time_ctrl, event_ctrl, *, horizon: float | None = None,
                 level: float = 0.95) -> TwoArmSurvival:
    """Analyse two arms of patient-level data.

    Parameters
    ----------
    time_exp, event_exp, time_ctrl, event_ctrl : array_like
        Follow-up times and event indicators (1 event, 0 censored) per arm.
    horizon : float, optional
        RMST horizon; default :func:`last_shared_time`. It may not exceed that time.
    level : float
        Confidence level of every interval.

    Returns
    -------
    TwoArmSurvival

    Raises
    ------
    TrialmetaError
        If ``horizon`` is not positive or lies beyond the follow-up of either arm.
    """
    import pandas as pd
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    shared = last_shared_time(time_exp, time_ctrl)
    tau = shared if horizon is None else float(horizon)
    if not tau > 0 or tau > shared:
        raise TrialmetaError(f"RMST horizon {tau:g} is outside the follow-up both arms share "
                             f"(0, {shared:g}]; choose --horizon within it or omit it")
    z = float(norm.ppf(0.5 + level / 2))
    arms = [_arm("experimental", time_exp, event_exp, tau, level, z),
            _arm("control", time_ctrl, event_ctrl, tau, level, z)]
    frame = pd.DataFrame({
        "time": np.r_[np.asarray(time_exp, float), np.asarray(time_ctrl, float)],
        "event": np.r_[np.asarray(event_exp, int), np.asarray(event_ctrl, int)],
        "experimental": np.r_[np.ones(len(time_exp), int), np.zeros(len(time_ctrl), int)],
    })
    cox = CoxPHFitter(alpha=1 - level).fit(frame, "time", "event")
    coef = float(cox.params_["experimental"])
    se = float(cox.standard_errors_["experimental"])
    ph = proportional_hazard_test(cox, frame, time_transform="rank").summary.loc["experimental"]
    diff = arms[0].rmst - arms[1].rmst
    se_diff = math.hypot(arms[0].se_rmst, arms[1].se_rmst)
    return TwoArmSurvival(
        arms[0], arms[1], coef, se, math.exp(coef), math.exp(coef - z * se), math.exp(coef + z * se),
        float(ph["test_statistic"]), float(ph["p"]), "rank", tau,
        diff, se_diff, diff - z * se_diff, diff + z * se_diff, level)


def _arm(name, time, event, tau, level, z) -> ArmSurvival:
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times, restricted_mean_survival_time

    time, event = np.asarray(time, float), np.asarray(event, int)
    km = KaplanMeierFitter(alpha=1 - level).fit(time, event, label=name)
    ci = median_survival_times(km.confidence_interval_).iloc[0]
    rmst = float(restricted_mean_survival_time(km, t=tau))
    se = rmst_se(km.event_table, tau)
    steps = km.survival_function_.iloc[:, 0]
    cens = np.sort(time[event == 0])
    return ArmSurvival(
        name, len(time), int(event.sum()), finite_or_none(km.median_survival_time_), finite_or_none(ci.iloc[0]),
        finite_or_none(ci.iloc[1]), rmst, se, rmst - z * se, rmst + z * se,
        tuple(float(x) for x in steps.index), tuple(float(x) for x in steps.to_numpy()),
        tuple(cens.tolist()), tuple(float(x) for x in km.survival_function_at_times(cens).to_numpy()))


def rmst_se(event_table, tau: float) -> float:
    """Greenwood-type standard error of the Kaplan-Meier RMST to ``tau``.

    Parameters
    ----------
    event_table : pandas.DataFrame
        lifelines ``KaplanMeierFitter.event_table`` (index: times; ``observed``, ``at_risk``).
    tau : float
        Horizon.

    Returns
    -------
    float

    Notes
    -----
    ``Var = sum_{t_i <= tau} A_i**2 d_i / (n_i (n_i - d_i))``, ``A_i`` the area under the curve
    from ``t_i`` to ``tau``. Terms with ``n_i == d_i`` are zero (the curve is 0 after them, so
    ``A_i = 0``). Without censoring and with ``tau`` past the last time this equals the plug-in
    variance of a mean, ``sum (x - mean)**2 / n**2``.
    """
    tab = event_table[(event_table["observed"] > 0) & (event_table.index <= tau)]
    t = tab.index.to_numpy(float)
    d = tab["observed"].to_numpy(float)
    n = tab["at_risk"].to_numpy(float)
    surv = np.cumprod(1 - d / n)
    widths = np.diff(np.r_[t, tau])
    area_after = np.cumsum((surv * widths)[::-1])[::-1]  # A_i
    live = n > d
    return float(np.sqrt(np.sum(area_after[live] ** 2 * d[live] / (n[live] * (n[live] - d[live])))))

"""Sensitivity and comparison analyses built on :func:`trialmeta.stats.pooling.pool_many`.

Leave-one-out and cumulative meta-analysis (metafor ``leave1out()``/``cumul()``), the
within-trial ("deft") interaction of a biomarker subgroup (Fisher et al., BMJ 2017;356:j573)
and the Bucher adjusted indirect comparison (Bucher et al., J Clin Epidemiol 1997;50:683-91).
All pooled on the log scale; ratios are exponentiated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats

from trialmeta.errors import PoolingError
from trialmeta.stats.pooling import GroupResult, PoolSettings, as_effects, pool_many


def _labels(labels: Sequence[str] | None, k: int) -> list[str]:
    if labels is None:
        return [str(i + 1) for i in range(k)]
    if len(labels) != k:
        raise PoolingError(f"{k} studies but {len(labels)} labels")
    return [str(x) for x in labels]


def leave_one_out(yi, sei, settings: PoolSettings | None = None,
                  labels: Sequence[str] | None = None) -> list[GroupResult]:
    """Pool the studies k times, each time omitting one (metafor ``leave1out()``).

    Parameters
    ----------
    yi, sei : array-like of float
        Log effects and SEs, k >= 2.
    settings : PoolSettings, optional
    labels : sequence of str, optional
        Study labels (default "1".."k").

    Returns
    -------
    list of GroupResult
        Row i omits study i; ``group`` is ``"omitting <label>"``. All k fits share one
        vectorised pass (every subset has k - 1 studies). Stack with
        :func:`trialmeta.stats.pooling.summary_frame`.
    """
    y, se = as_effects(yi, sei, "leave-one-out")
    if y.size < 2:
        raise PoolingError("leave-one-out needs at least 2 studies")
    names = _labels(labels, y.size)
    keep = ~np.eye(y.size, dtype=bool)
    return pool_many([(y[m], se[m]) for m in keep], settings, [f"omitting {n}" for n in names])


def cumulative(yi, sei, settings: PoolSettings | None = None,
               labels: Sequence[str] | None = None) -> list[GroupResult]:
    """Cumulative meta-analysis in the order given (metafor ``cumul()``; sort first, e.g. by year).

    Returns
    -------
    list of GroupResult
        Row j pools studies 1..j; ``group`` is ``"+ <label>"``. Row 1 is the first study
        alone (k = 1).
    """
    y, se = as_effects(yi, sei, "cumulative meta-analysis")
    names = _labels(labels, y.size)
    return pool_many([(y[:j + 1], se[:j + 1]) for j in range(y.size)], settings,
                     [f"+ {n}" for n in names])


@dataclass(frozen=True)
class TrialInteraction:
    """One trial's within-trial contrast: ratio of HRs ``exp(log_a - log_b)``."""

    trial: str
    log_ratio: float
    se: float
    ratio: float
    ci_low: float
    ci_high: float
    p: float  # two-sided Wald test of no interaction in this trial


@dataclass(frozen=True)
class Interaction:
    """Pooled within-trial interaction (ratio of HRs, subgroup a vs b)."""

    log_ratio: float
    se: float
    ratio: float
    ci_low: float
    ci_high: float
    p: float
    k: int
    trials: tuple
    per_trial: tuple
    pooled: GroupResult


def interaction(pairs: Sequence[tuple], settings: PoolSettings | None = None) -> Interaction:
    """Within-trial ("deft") subgroup interaction, pooled across trials.

    Parameters
    ----------
    pairs : sequence of (log_hr_a, se_a, log_hr_b, se_b, trial)
        Per trial, the log HR and SE in subgroup a (e.g. biomarker-positive) and b.
    settings : PoolSettings, optional
        How to pool the per-trial differences (defaults to ``PoolSettings()``).

    Returns
    -------
    Interaction
        Ratio of HRs (a vs b) with CI and p; ``pooled`` holds the full pooled result
        (heterogeneity of the interactions included). k = 1 returns the trial's own contrast.

    Notes
    -----
    ``d_i = log_hr_a - log_hr_b`` and ``v_i = se_a² + se_b²`` (subgroups within a trial
    are independent; Altman & Bland, BMJ 2003;326:219). Only within-trial information is
    used, avoiding the ecological bias of comparing pooled subgroups across trials
    (Fisher, Carpenter, Morris, Freeman, Tierney; BMJ 2017;356:j573).
    """
    if not pairs:
        raise PoolingError("interaction needs at least one trial")
    a, sa, b, sb = (np.array([p[i] for p in pairs], dtype=float) for i in range(4))
    trials = tuple(str(p[4]) for p in pairs)
    d, se = as_effects(a - b, np.sqrt(sa ** 2 + sb ** 2), "interaction")
    s = settings or PoolSettings()
    pooled = pool_many([(d, se)], s, ["interaction"])[0]
    z = stats.norm.isf((1.0 - s.level) / 2)
    per = tuple(TrialInteraction(t, float(di), float(si), math.exp(di), math.exp(di - z * si),
                                 math.exp(di + z * si), float(2.0 * stats.norm.sf(abs(di / si))))
                for t, di, si in zip(trials, d, se))
    return Interaction(pooled.log_est, pooled.se, pooled.est, pooled.ci_low, pooled.ci_high,
                       pooled.p, pooled.k, trials, per, pooled)


@dataclass(frozen=True)
class Indirect:
    """Adjusted indirect comparison A vs C (log and ratio scales)."""

    log_est: float
    se: float
    est: float
    ci_low: float
    ci_high: float
    z: float
    p: float
    level: float


def bucher(log_ab: float, se_ab: float, log_cb: float, se_cb: float, level: float = 0.95) -> Indirect:
    """Bucher adjusted indirect comparison of A vs C through a common comparator B.

    Parameters
    ----------
    log_ab, se_ab : float
        Log HR of A vs B and its SE (may itself be a pooled estimate).
    log_cb, se_cb : float
        Log HR of C vs B and its SE.
    level : float

    Returns
    -------
    Indirect
        ``log HR_AC = log HR_AB - log HR_CB``, ``SE = sqrt(se_ab² + se_cb²)``, Wald CI and p.

    Notes
    -----
    Valid only under transitivity: effect modifiers balanced across the A-B and C-B
    evidence (Bucher et al. 1997; Song et al., BMJ 2003;326:472).

    Examples
    --------
    >>> r = bucher(math.log(0.65), 0.10, math.log(0.80), 0.12)
    >>> round(r.est, 2), round(r.ci_low, 2), round(r.ci_high, 2)
    (0.81, 0.6, 1.1)
    """
    as_effects([log_ab, log_cb], [se_ab, se_cb], "indirect comparison")
    est, se = log_ab - log_cb, math.hypot(se_ab, se_cb)
    z = stats.norm.isf((1.0 - level) / 2)
    return Indirect(est, se, math.exp(est), math.exp(est - z * se), math.exp(est + z * se),
                    est / se, float(2.0 * stats.norm.sf(abs(est / se))), level)

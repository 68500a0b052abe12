"""Scale and Bayesian summary of a pooled result: the map from the pooled scale to the measure's (exp for a
ratio, none for a difference) and :class:`BayesSummary`, the Bayesian random-effects result of one group
(:mod:`trialmeta.stats.bayes`) on both scales. Kept apart from :mod:`trialmeta.stats.pooling`, which builds
the groups' results from them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from trialmeta.fmt import finite_or_none
from trialmeta.stats import bayes as _bayes
from trialmeta.stats.effects import safe_exp
from trialmeta.stats.settings import PoolSettings


def _exp(x: float | None) -> float | None:
    return None if x is None else safe_exp(x)


def _same(x: float | None) -> float | None:
    return x


def to_measure(ratio: bool):
    """The map from the pooled scale to the measure's: exp (ratios; +inf past the float range) or
    the identity (differences). ``None`` maps to ``None``."""
    return _exp if ratio else _same


@dataclass(frozen=True)
class BayesSummary:
    """The Bayesian random-effects result of one group (:mod:`trialmeta.stats.bayes`).

    ``prior`` names the prior on tau (e.g. ``half-normal(0.5)``); the prior on mu is flat.
    ``log_est`` is the posterior median of mu on the pooled scale, ``log_ci_*`` the
    equal-tailed ``level`` credible interval; ``est``/``ci_*`` the same on the measure's scale
    (exp for a ratio: medians and quantiles carry over; as is for a difference); ``tau``,
    ``tau_ci_*`` the posterior median and interval of tau (pooled scale); ``pi_*`` the posterior
    predictive interval of a new study's true effect (measure's scale, ``log_pi_*`` pooled scale);
    ``p_below_null`` the posterior probability that mu < 0: P(ratio < 1), e.g. P(HR < 1), or
    P(difference < 0). ``log_sd`` the posterior SD of mu, ``None`` where it does not exist
    (half-Cauchy prior, k <= 2: :func:`trialmeta.stats.bayes.finite_moments`).
    """

    prior: str
    level: float
    log_est: float
    log_ci_low: float
    log_ci_high: float
    est: float
    ci_low: float
    ci_high: float
    tau: float
    tau_ci_low: float
    tau_ci_high: float
    pi_low: float
    pi_high: float
    p_below_null: float
    log_sd: float | None = None  # posterior SD of mu (the SE under method bayes)
    log_pi_low: float | None = None
    log_pi_high: float | None = None
    ratio: bool = True


def bayes_summary(bb: _bayes.BayesBatch, i: int, s: PoolSettings, ratio: bool = True) -> BayesSummary | None:
    if math.isnan(bb.mu_median[i]):
        return None
    f = {name: float(getattr(bb, name)[i]) for name in _bayes.FIELDS}
    conv = to_measure(ratio)
    return BayesSummary(prior=s.prior_for(ratio).describe(), level=s.level, log_est=f["mu_median"],
                        log_ci_low=f["mu_low"], log_ci_high=f["mu_high"], est=conv(f["mu_median"]),
                        ci_low=conv(f["mu_low"]), ci_high=conv(f["mu_high"]), tau=f["tau_median"],
                        tau_ci_low=f["tau_low"], tau_ci_high=f["tau_high"], pi_low=conv(f["pred_low"]),
                        pi_high=conv(f["pred_high"]), p_below_null=f["p_below_zero"],
                        log_sd=finite_or_none(f["mu_sd"]), log_pi_low=f["pred_low"], log_pi_high=f["pred_high"],
                        ratio=ratio)

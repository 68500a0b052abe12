"""Bayesian random-effects meta-analysis by numerical integration (no MCMC), many at once.

The normal-normal hierarchical model on the log scale: ``y_i ~ N(mu, v_i + tau^2)``, a normal
or flat (improper uniform) prior on ``mu`` and a proper prior on ``tau`` (half-normal,
half-Cauchy or uniform). Following the direct approach of Röver (2020), ``mu`` is integrated
out analytically: given ``tau``, its posterior is normal with precision
``P = sum(1/(v_i + tau^2)) + 1/s0^2`` and mean ``m = (sum(y_i/(v_i + tau^2)) + m0/s0^2)/P``,
and the marginal posterior of ``tau`` is

    p(tau | y) ∝ p(tau) prod((v_i + tau^2)^(-1/2)) P^(-1/2)
                 exp(-(sum((y_i - m)^2/(v_i + tau^2)) + (m0 - m)^2/s0^2)/2).

It is evaluated on a grid in ``t``, ``tau = c tan(pi t/2)`` (the half-Cauchy(c) prior is
uniform in ``t``; every tail becomes a bounded integrand on [0, 1)), with ``c`` adapted per
analysis: a first pass at the prior's scale, then ``c`` = the posterior's 75th percentile of
``tau``, so the mass fills the grid whatever the data. The trapezoid rule on ``GRID`` nodes
gives the weights of a normal mixture: the marginal posterior of ``mu`` is
``sum_j w_j N(m_j, 1/P_j)``, the posterior predictive of a new study's effect
``sum_j w_j N(m_j, 1/P_j + tau_j^2)``; quantiles solve the mixture CDF by safeguarded
Newton steps. (bayesmeta places its mixture nodes by a bounded-divergence rule instead,
the "DIRECT" grid; a fine fixed grid in the transformed scale reaches the same accuracy,
checked in ``tests/stats/test_bayes.py`` against a brute-force 2-D quadrature and against
the bayesmeta results published by Röver 2020.)

References
----------
Röver C. Bayesian random-effects meta-analysis using the bayesmeta R package. J Stat Softw
2020;93(6):1-51. Röver C, Friede T. Discrete approximation of a mixture distribution via
restricted divergence. J Comput Graph Stat 2017;26:217-22. Friede T, Röver C, Wandel S,
Neuenschwander B. Meta-analysis of few small studies in orphan diseases. Res Synth Methods
2017;8:79-91. Bender R et al. Methods for evidence synthesis in the case of very few
studies. Res Synth Methods 2018;9:382-92.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import special

from trialmeta.stats.settings import PRIORS, TauPrior  # noqa: F401 (TauPrior: part of this module's API)

#: Trapezoid nodes on t in [0, t_max]: the posterior quantiles move by < 1e-7 from 2049 to 8193.
GRID = 2049
#: Analyses integrated together (memory CHUNK x GRID x min(k, STUDY_BLOCK) floats).
CHUNK = 64
#: Studies summed at once; a larger analysis is summed in blocks of this many (O(k) memory).
STUDY_BLOCK = 256
FIELDS = ("k", "mu_median", "mu_low", "mu_high", "mu_mean", "mu_sd", "tau_median", "tau_low",
          "tau_high", "tau_mean", "pred_median", "pred_low", "pred_high", "p_below_zero")




@dataclass(frozen=True)
class BayesBatch:
    """Posterior summaries, arrays of shape (n,), log scale; NaN where not fitted.

    ``mu_*``: marginal posterior of the mean effect (median, equal-tailed ``level`` interval,
    mean, SD); ``tau_*``: of the between-study SD (median, equal-tailed interval, mean);
    ``pred_*``: posterior predictive distribution of a new study's true effect
    (``theta_new ~ N(mu, tau^2)``); ``p_below_zero`` = P(mu < 0 | y), e.g. P(HR < 1).
    """

    k: np.ndarray
    mu_median: np.ndarray
    mu_low: np.ndarray
    mu_high: np.ndarray
    mu_mean: np.ndarray
    mu_sd: np.ndarray
    tau_median: np.ndarray
    tau_low: np.ndarray
    tau_high: np.ndarray
    tau_mean: np.ndarray
    pred_median: np.ndarray
    pred_low: np.ndarray
    pred_high: np.ndarray
    p_below_zero: np.ndarray


def _tau_posterior(y, v, prior, c, p0, m0):
    """Grid, trapezoid weights and conditional moments for rows of (d, k) arrays (one analysis per row).

    Returns ``tau`` (d, G), ``w`` (d, G, each row summing to 1), ``m`` and ``var`` (d, G): the
    conditional posterior mean and variance of mu given tau, and ``t``, ``f`` (the
    unnormalised density in t, for quantiles of tau). Every sum runs along the last,
    contiguous axis, so an analysis' numbers are the same to the last bit whatever else is
    fitted in the same batch (see :func:`fit_bayes`).
    """
    t_max = np.ones_like(c) if prior.family != "uniform" else np.arctan(prior.scale / c) * (2.0 / math.pi)
    u = np.linspace(0.0, 1.0, GRID)[None, :]
    t = np.minimum(u * t_max[:, None], 1.0 - 1e-12)  # (d, G); the open end t = 1 (tau = inf) is a limit
    half = 0.5 * math.pi * t
    tau = c[:, None] * np.tan(half)
    if prior.family == "uniform":  # tan(arctan(s/c)) can round above s: the top node is s itself, inside the support
        tau[:, -1] = prior.scale
        tau = np.minimum(tau, prior.scale)
    log_jac = np.log(c * 0.5 * math.pi)[:, None] - 2.0 * np.log(np.cos(half))
    sum_w, sum_wy, sum_log_v, resid = _study_sums(y, v, tau ** 2)
    P = sum_w + p0
    m = (sum_wy + p0 * m0) / P
    resid = resid(m) + p0 * (m0 - m) ** 2
    log_f = (prior.log_density(tau) + log_jac - 0.5 * sum_log_v - 0.5 * np.log(P)
             - 0.5 * resid)
    f = np.exp(log_f - log_f.max(axis=-1, keepdims=True))
    trap = np.ones(GRID)
    trap[[0, -1]] = 0.5
    wt = f * trap
    wt /= wt.sum(axis=-1, keepdims=True)
    return tau, wt, m, 1.0 / P, t, f


def _study_sums(y, v, tau2):
    """Sums over the studies (last axis) at every grid node: ``sum 1/V``, ``sum y/V``,
    ``sum log V`` and a function of ``m`` giving ``sum (y - m)^2/V`` (``V = v + tau^2``).

    Up to :data:`STUDY_BLOCK` studies in one (d, G, k) array, as always (the sums' bits unchanged);
    more are summed block by block, so memory stays O(G x STUDY_BLOCK) whatever k (a 1e6-study
    table needed 16 GB per array at once)."""
    k = y.shape[-1]
    blocks = [slice(0, k)] if k <= STUDY_BLOCK else [slice(i, i + STUDY_BLOCK) for i in range(0, k, STUDY_BLOCK)]
    sums = [0.0, 0.0, 0.0]
    for b in blocks:
        V = v[:, None, b] + tau2[:, :, None]  # (d, G, block)
        w = 1.0 / V
        sums[0] = sums[0] + w.sum(axis=-1)
        sums[1] = sums[1] + (w * y[:, None, b]).sum(axis=-1)
        sums[2] = sums[2] + np.log(V).sum(axis=-1)

    def resid(m):
        total = 0.0
        for b in blocks:
            w = 1.0 / (v[:, None, b] + tau2[:, :, None])
            total = total + (w * (y[:, None, b] - m[:, :, None]) ** 2).sum(axis=-1)
        return total

    return sums[0], sums[1], sums[2], resid


def _tau_quantile(t, f, c, p, tau_max=math.inf):
    """Quantile ``p`` of tau from its density ``f`` on the (uniform) t grid, per row.

    Cumulative trapezoid in t, then the exact root of the quadratic from the linear
    interpolation of ``f`` inside the bracketing interval.
    """
    h = t[:, 1] - t[:, 0]  # (d,)
    seg = 0.5 * (f[:, 1:] + f[:, :-1]) * h[:, None]
    cum = np.concatenate([np.zeros((f.shape[0], 1)), np.cumsum(seg, axis=-1)], axis=-1)
    target = p * cum[:, -1]
    j = np.clip((cum < target[:, None]).sum(axis=-1), 1, f.shape[1] - 1)  # cum[j-1] < target <= cum[j]
    rows = np.arange(f.shape[0])
    f0, f1, c0 = f[rows, j - 1], f[rows, j], cum[rows, j - 1]
    need = target - c0
    slope = (f1 - f0) / h
    # solve f0 x + slope x^2 / 2 = need for x in [0, h]
    with np.errstate(divide="ignore", invalid="ignore"):
        x_lin = need / f0
        x_quad = 2.0 * need / (f0 + np.sqrt(np.maximum(f0 ** 2 + 2.0 * slope * need, 0.0)))
    x = np.where(np.abs(slope) * h < 1e-12 * np.maximum(f0, 1e-300), x_lin, x_quad)
    tq = t[rows, j - 1] + np.clip(np.nan_to_num(x, nan=0.0), 0.0, h)
    return np.minimum(c * np.tan(0.5 * math.pi * np.minimum(tq, 1.0 - 1e-12)), tau_max)


def mixture_quantile(w, m, s, p, iterations: int = 100):
    """Quantile ``p`` of the normal mixture ``sum_j w_j N(m_j, s_j^2)``, per row (Newton, bracketed).

    Each row stops at its own convergence (later steps of the others do not move it), so its
    quantile does not depend on what else is in the batch.
    """
    lo = (m - 40.0 * s).min(axis=-1)
    hi = (m + 40.0 * s).max(axis=-1)
    x = (w * m).sum(axis=-1)
    out = x.copy()
    done = np.zeros(x.shape, dtype=bool)
    for _ in range(iterations):
        z = (x[:, None] - m) / s
        F = (w * special.ndtr(z)).sum(axis=-1) - p
        dens = (w * np.exp(-0.5 * z ** 2) / (s * math.sqrt(2.0 * math.pi))).sum(axis=-1)
        lo, hi = np.where(F < 0, x, lo), np.where(F < 0, hi, x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = x - F / dens
        bad = ~np.isfinite(step) | (step <= lo) | (step >= hi)
        new = np.where(bad, 0.5 * (lo + hi), step)
        now = ~done & (np.abs(new - x) <= 1e-13 * (1.0 + np.abs(x)))
        out[now] = new[now]
        done |= now
        if done.all():
            return out
        x = np.where(done, x, new)
    out[~done] = x[~done]
    return out


def finite_moments(prior: TauPrior, k: int, mu_prior: bool) -> dict[str, bool]:
    """Which posterior moments exist. With a flat prior on mu, given tau the posterior of mu has
    variance ~ tau^2/k and the marginal likelihood of tau falls as tau^-(k-1); under a half-Cauchy
    prior (density ~ tau^-2) the posterior of tau falls as tau^-(k+1): E[tau] and E[mu] exist only
    for k >= 2 and Var(mu) only for k >= 3. Half-normal and uniform priors (and a proper normal
    prior on mu) leave every moment finite."""
    heavy = prior.family == "half-cauchy" and not mu_prior
    return {"mu_mean": not (heavy and k < 2), "tau_mean": not (heavy and k < 2), "mu_sd": not (heavy and k < 3)}


def _fit_rows(y, v, prior, level, p0, m0):
    """All summaries for (d, k) arrays (finite y, v > 0), one analysis per row."""
    d = y.shape[0]
    c = np.full(d, float(prior.scale) if prior.family != "uniform" else min(prior.scale, 1.0))
    # pass 1 at the prior's scale; pass 2 at the posterior's own scale (its 75th percentile)
    tau, w, m, var, t, f = _tau_posterior(y, v, prior, c, p0, m0)
    c = np.maximum(_tau_quantile(t, f, c, 0.75), 1e-8 * c)
    tau, w, m, var, t, f = _tau_posterior(y, v, prior, c, p0, m0)
    alpha = 1.0 - level
    s_mu, s_pred = np.sqrt(var), np.sqrt(var + tau ** 2)
    out = {"k": np.full(d, float(y.shape[1]))}
    for name, s in (("mu", s_mu), ("pred", s_pred)):
        out[f"{name}_median"] = mixture_quantile(w, m, s, 0.5)
        out[f"{name}_low"] = mixture_quantile(w, m, s, alpha / 2)
        out[f"{name}_high"] = mixture_quantile(w, m, s, 1.0 - alpha / 2)
    top = prior.scale if prior.family == "uniform" else math.inf
    out["tau_median"] = _tau_quantile(t, f, c, 0.5, top)
    out["tau_low"] = _tau_quantile(t, f, c, alpha / 2, top)
    out["tau_high"] = _tau_quantile(t, f, c, 1.0 - alpha / 2, top)
    out["mu_mean"] = (w * m).sum(axis=-1)
    out["mu_sd"] = np.sqrt(np.maximum((w * (var + m ** 2)).sum(axis=-1) - out["mu_mean"] ** 2, 0.0))
    out["tau_mean"] = (w * tau).sum(axis=-1)
    moments = finite_moments(prior, y.shape[1], p0 > 0)
    for name in ("mu_mean", "tau_mean", "mu_sd"):
        if not moments[name]:  # the grid would return a number set by its last node
            out[name] = np.full(d, np.nan)
    out["p_below_zero"] = (w * special.ndtr(-m / s_mu)).sum(axis=-1)
    return out


def fit_bayes(ys: Sequence[Sequence[float]], vs: Sequence[Sequence[float]], *, prior: TauPrior | None = None,
              mu_prior_mean: float = 0.0, mu_prior_sd: float | None = None, level: float = 0.95) -> BayesBatch:
    """Bayesian random-effects meta-analyses, vectorised (one pass per distinct k).

    An analysis' summaries are identical to the last bit whether it is fitted alone or among
    others (so a refresh's cached figures survive edits to unrelated analyses).

    Parameters
    ----------
    ys, vs : sequence of 1-D arrays
        Log effects and their variances, one pair per analysis.
    prior : TauPrior, optional
        Prior on tau; default half-normal(0.5).
    mu_prior_mean, mu_prior_sd : float
        Normal prior on mu; ``mu_prior_sd=None`` (default) is the flat (improper uniform) prior.
    level : float
        Probability of the equal-tailed credible and predictive intervals.

    Returns
    -------
    BayesBatch
        NaN for an analysis with no studies, a non-finite value or a variance <= 0.

    Examples
    --------
    >>> b = fit_bayes([[-0.5, -0.2]], [[0.04, 0.09]])
    >>> round(float(b.mu_median[0]), 3), round(float(b.p_below_zero[0]), 3)
    (-0.387, 0.905)
    """
    prior = prior or TauPrior()
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if mu_prior_sd is not None and not (math.isfinite(mu_prior_sd) and mu_prior_sd > 0):
        raise ValueError(f"mu_prior_sd must be > 0 (or None for a flat prior), got {mu_prior_sd!r}")
    p0 = 0.0 if mu_prior_sd is None else 1.0 / mu_prior_sd ** 2
    arrays = [(np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()) for a, b in zip(ys, vs)]
    if len(arrays) != len(ys) or len(ys) != len(vs) or any(a.size != b.size for a, b in arrays):
        raise ValueError("ys and vs must hold the same number of analyses with matching lengths")
    n = len(arrays)
    out = {name: np.full(n, np.nan) for name in FIELDS}
    out["k"] = np.array([a.size for a, _ in arrays], dtype=float)
    ok = np.array([a.size > 0 and np.isfinite(a).all() and np.isfinite(b).all() and (b > 0).all()
                   for a, b in arrays], dtype=bool)
    for k in np.unique(out["k"][ok]).astype(int):
        idx = np.flatnonzero(ok & (out["k"] == k))
        for start in range(0, idx.size, CHUNK):
            part = idx[start:start + CHUNK]
            y = np.vstack([arrays[i][0] for i in part])
            v = np.vstack([arrays[i][1] for i in part])
            res = _fit_rows(y, v, prior, level, p0, float(mu_prior_mean))
            for name in FIELDS:
                out[name][part] = res[name]
    return BayesBatch(**out)


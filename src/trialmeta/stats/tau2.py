"""Vectorised between-study variance (tau^2) solvers on (k, d) arrays.

Pure NumPy: one column per meta-analysis, every column solved at once, no Python loop over
analyses. :mod:`trialmeta.stats.engine` calls these next to PyMARE, which has no Paule-Mandel
estimator, loops over analyses for the Q-profile interval, and stops its REML search
short of metafor's tight convergence.

All functions take ``y`` and ``v`` of shape (k, d) with finite ``y`` and ``v > 0`` (the
engine screens columns first) and a design ``X`` of shape (k, p), or ``None`` for the
intercept-only model.

Notation: ``w = 1 / (v + tau2)``, ``A = X'WX``, ``r = y - X beta_w`` and
``P = W - W X A^-1 X'W``, so that ``P y = w * r`` and the generalised Q statistic is
``Q(tau2) = y'Py = sum(w r^2)`` (DerSimonian & Kacker 2007).
"""

from __future__ import annotations

import numpy as np

EPS = np.finfo(float).eps
#: Iteration caps: both solvers converge in well under 20 steps on every data set we met.
MAX_NEWTON = 100
MAX_BRACKET_GROWTH = 520  # factor 4 each: 4**520 exceeds the float range


def wls(y: np.ndarray, w: np.ndarray, X: np.ndarray | None):
    """Weighted least squares for every column at once.

    Parameters
    ----------
    y, w : ndarray, shape (k, d)
        Estimates and weights.
    X : ndarray, shape (k, p), or None
        Design; ``None`` is the intercept-only model (fast path).

    Returns
    -------
    beta : ndarray, shape (p, d)
    a_inv : ndarray, shape (d, p, p)
        ``(X'WX)^-1``, the model-based covariance of ``beta``.
    resid : ndarray, shape (k, d)
    """
    if X is None:
        # centred on the heaviest study's estimate, with weights scaled by the largest: the
        # residual of a study that outweighs the rest (SE 1e-100 beside SEs of 0.3) is then
        # computed from the others' differences, not as the difference of two nearly equal
        # numbers (whose rounding, times its weight, made Q 1.9e166 instead of 10)
        cols = np.arange(y.shape[1])
        top = np.argmax(w, axis=0)
        ref, wmax = y[top, cols], w[top, cols]
        ws = w / wmax
        d = y - ref
        shift = (ws * d).sum(axis=0) / ws.sum(axis=0)
        return (ref + shift)[None, :], (1.0 / w.sum(axis=0))[:, None, None], d - shift
    a_inv = np.linalg.inv(np.einsum("kp,kd,kq->dpq", X, w, X))
    beta = np.einsum("dpq,kq,kd->pd", a_inv, X, w * y)
    return beta, a_inv, y - X @ beta


def q_gen(y, v, tau2, X=None):
    """Generalised Q statistic ``sum(w (y - X beta_w)^2)`` at ``tau2`` (shape (d,))."""
    w = 1.0 / (v + tau2)
    _, _, r = wls(y, w, X)
    return (w * r * r).sum(axis=0)


def trace_p(w: np.ndarray) -> np.ndarray:
    """``sum(w) - sum(w^2)/sum(w)`` per column of ``w`` (shape (k, d)), computed without
    cancellation as ``sum_i w_i * (sum_{j != i} w_j) / sum(w)`` (see :func:`dl`)."""
    return (w * _others(w)).sum(axis=0) / w.sum(axis=0)


def _others(w: np.ndarray) -> np.ndarray:
    """Per row of ``w`` (shape (k, d), entries >= 0) the sum of the other rows: the sum of those
    before plus those after, sums of non-negative terms only (no cancellation), in O(k) memory
    (a k x k matrix of ones took 18.6 GiB at k = 50,000)."""
    zero = np.zeros((1, w.shape[1]))
    before = np.concatenate([zero, np.cumsum(w, axis=0)[:-1]])
    after = np.concatenate([np.cumsum(w[::-1], axis=0)[-2::-1], zero])
    return before + after


def dl(y, v, X=None):
    """DerSimonian-Laird tau^2, ``max(0, (Q - (k - p)) / tr P)`` at ``tau2 = 0``, per column.

    Notes
    -----
    For the intercept-only model ``tr P = sum(w) - sum(w^2)/sum(w)``, which cancels
    catastrophically when one study outweighs the rest (an SE of 1e-9 next to SEs of 0.1:
    PyMARE then returns a tau^2 off by half, or divides by zero). It is computed here as
    ``sum_i w_i * (sum_{j != i} w_j) / sum(w)``: every term positive, each "sum of the
    others" summed directly, so no digits are lost. With moderators ``tr P`` is
    ``sum(w) - tr((X'WX)^-1 X'W^2X)`` (DerSimonian & Kacker 2007), as metafor.
    """
    k = y.shape[0]
    w = 1.0 / v
    q = q_gen(y, v, 0.0, X)
    if X is None:
        tr_p = trace_p(w)
        df = k - 1
    else:
        a_inv = np.linalg.inv(np.einsum("kp,kd,kq->dpq", X, w, X))
        tr_p = w.sum(0) - np.einsum("dpq,kq,kd,kp->d", a_inv, X, w * w, X)
        df = k - X.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.maximum(0.0, (q - df) / tr_p)


def _q_and_slope(y, v, tau2, X):
    """Q(tau2) and -dQ/dtau2 = y'PPy = sum((w r)^2)."""
    w = 1.0 / (v + tau2)
    _, _, r = wls(y, w, X)
    a = w * r
    return (a * r).sum(axis=0), (a * a).sum(axis=0)


def solve_q(y, v, target, X=None):
    """Solve the generalised Q equation ``Q(tau2) = target`` for ``tau2 >= 0``, per column.

    Parameters
    ----------
    y, v : ndarray, shape (k, d)
    target : float or ndarray, shape (d,)
        ``k - p`` gives the Paule-Mandel estimator; chi-squared quantiles give the
        Q-profile bounds (:func:`q_profile`).
    X : ndarray, shape (k, p), or None

    Returns
    -------
    tau2 : ndarray, shape (d,)
        The root; exactly 0 where ``Q(0) < target`` (no non-negative root, as metafor's
        ``rma(method="PM")`` and ``confint()`` report), NaN where ``target`` is not finite.

    Notes
    -----
    Q(tau2) decreases from Q(0) to 0, so a root exists whenever Q(0) > target > 0. It is
    found by Newton's method on ``g = 1/Q - 1/target`` inside a bracket that bisection
    takes over whenever a Newton step leaves it. ``1/Q`` rather than ``Q`` because with
    equal variances ``1/Q = (v + tau2) / sum((y - ybar)^2)`` is linear, so Newton is
    exact there and near-exact in general, and the far upper Q-profile bound (k = 2,
    ``target`` near 1e-3) is reached without a hundred halvings.
    """
    d = y.shape[1]
    target = np.broadcast_to(np.asarray(target, dtype=float), (d,))
    q0, s0 = _q_and_slope(y, v, 0.0, X)
    out = np.where(np.isfinite(target), 0.0, np.nan)
    need = np.isfinite(target) & (target > 0) & (q0 >= target) & (q0 > 0)
    if not need.any():
        return out
    y, v, tgt, q0, s0 = y[:, need], v[:, need], target[need], q0[need], s0[need]
    # First guess: the root of the tangent of 1/Q at tau2 = 0 (exact for equal variances).
    guess = np.maximum((q0 / tgt - 1.0) * q0 / s0, 0.0)
    lo = np.zeros_like(tgt)
    hi = np.maximum(2.0 * guess, v.mean(axis=0))
    for _ in range(MAX_BRACKET_GROWTH):
        high_q = _q_and_slope(y, v, hi, X)[0] >= tgt
        if not high_q.any():
            break
        lo = np.where(high_q, hi, lo)
        hi = np.where(high_q, 4.0 * hi, hi)
    x = np.clip(guess, lo, hi)
    done = np.zeros(x.shape, dtype=bool)
    for _ in range(MAX_NEWTON):
        q, s = _q_and_slope(y, v, x, X)
        lo = np.where(q > tgt, x, lo)
        hi = np.where(q < tgt, x, hi)
        # Newton step on 1/Q - 1/target: d(1/Q)/dtau2 = s / Q^2.
        with np.errstate(divide="ignore", invalid="ignore"):
            step = (1.0 / tgt - 1.0 / q) * q * q / s
        new = x + step
        bad = ~np.isfinite(new) | (new <= lo) | (new >= hi)
        new = np.where(bad, 0.5 * (lo + hi), new)
        new = np.where(done | (q == tgt), x, new)
        done |= (np.abs(new - x) <= 4 * EPS * np.abs(new)) | (hi - lo <= 4 * EPS * hi)
        x = new
        if done.all():
            break
    out[need] = x
    return out


def q_profile(y, v, level, X=None):
    """Q-profile confidence interval for tau^2 (Viechtbauer 2007), every column at once.

    Parameters
    ----------
    y, v : ndarray, shape (k, d)
    level : float
        Confidence level, e.g. 0.95.
    X : ndarray, shape (k, p), or None

    Returns
    -------
    low, high : ndarray, shape (d,)
        Bounds: the tau^2 where ``Q(tau2)`` equals the upper and the lower
        ``(1 - level) / 2`` chi-squared(k - p) quantile. A bound is 0 when ``Q(0)`` is
        already below its quantile; when ``Q(0)`` is below the *lower* quantile both are 0
        and the interval is the single point {0} (metafor: "CI is empty/null").
    null : ndarray of bool, shape (d,)
        Where that happened.

    Notes
    -----
    Equal-tailed, as metafor's ``confint(fit)`` and PyMARE's ``q_profile``: the
    estimator-independent interval, so DL and REML fits of one data set share it. No
    upper cap (metafor caps at ``tau2.max``, default ``max(100, 10 tau2)``).
    """
    from scipy.stats import chi2

    k, d = y.shape
    df = k - (1 if X is None else X.shape[1])
    alpha = 1.0 - level
    crit_hi, crit_lo = chi2.isf(alpha / 2, df), chi2.ppf(alpha / 2, df)
    both = solve_q(np.hstack([y, y]), np.hstack([v, v]),
                   np.concatenate([np.full(d, crit_hi), np.full(d, crit_lo)]), X)
    null = q_gen(y, v, 0.0, X) < crit_lo
    return both[:d], both[d:], null


def _reml_terms(y, v, tau2, X):
    """REML score, expected and observed information pieces at ``tau2``.

    Returns ``(yPPy, trP, trPP, aPa, log_lik)`` per column, with ``a = Py`` and the
    restricted log-likelihood up to a constant.
    """
    w = 1.0 / (v + tau2)
    beta, a_inv, r = wls(y, w, X)
    a = w * r
    if X is None:
        # P = W - w w'/sum(w): tr P and tr PP from its entries, P_ii = w_i (sum of the others'
        # w) / sum(w) and P_ij = -w_i w_j / sum(w), never as differences of sums of w^2, w^3
        # (which cancel, and overflow for an SE of 1e-100: w^2 = 1e400)
        sw = w.sum(0)
        u = w / w.max(axis=0)
        p_ii = w * (_others(w) / sw)
        tr_p = p_ii.sum(0)
        tr_pp = (p_ii * p_ii).sum(0) + (((w / u.sum(0)) * np.sqrt(_others(u * u))) ** 2).sum(0)
        log_det = np.log(sw)
    else:
        b2 = np.einsum("dpq,kq,kd,kr->dpr", a_inv, X, w * w, X)
        b3 = np.einsum("dpq,kq,kd,kr->dpr", a_inv, X, w ** 3, X)
        tr_p = w.sum(0) - np.trace(b2, axis1=1, axis2=2)
        tr_pp = (w * w).sum(0) - 2.0 * np.trace(b3, axis1=1, axis2=2) \
            + np.einsum("dpq,dqp->d", b2, b2)
        log_det = -np.linalg.slogdet(a_inv)[1]
    _, _, ra = wls(a, w, X)  # a'Pa = sum(w * resid_w(a)^2)
    a_pa = (w * ra * ra).sum(0)
    ll = -0.5 * (np.log(v + tau2).sum(0) + log_det + (a * r).sum(0))
    return (a * a).sum(0), tr_p, tr_pp, a_pa, ll


def reml_polish(y, v, tau2_start, X=None, rtol=1e-13):
    """Converge REML tau^2 tightly from a good starting value, every column at once.

    Parameters
    ----------
    y, v : ndarray, shape (k, d)
    tau2_start : ndarray, shape (d,)
        Start, e.g. PyMARE's bounded-search REML estimate.
    X : ndarray, shape (k, p), or None
    rtol : float
        Stop when a step is below ``rtol * (tau2 + mean(v))``.

    Returns
    -------
    tau2 : ndarray, shape (d,)
    converged : ndarray of bool, shape (d,)

    Notes
    -----
    Newton steps on the REML score ``U = (y'PPy - tr P) / 2`` with the observed
    information ``a'Pa - tr(PP)/2`` where that is positive, Fisher-scoring steps
    (metafor's update, ``(y'PPy - tr P) / tr(PP)``) where it is not. A step below 0 stops
    at 0, where the search ends if the score there points down (boundary maximum). Finally
    tau2 = 0 replaces the root if it has the higher restricted likelihood, as metafor's
    ``ll0check`` does.
    """
    t = np.maximum(np.asarray(tau2_start, dtype=float), 0.0)
    scale = v.mean(axis=0)
    converged = np.zeros(t.shape, dtype=bool)
    for _ in range(MAX_NEWTON):
        ypp, tr_p, tr_pp, a_pa, _ = _reml_terms(y, v, t, X)
        score = ypp - tr_p  # twice the score
        info = 2.0 * a_pa - tr_pp  # twice the observed information
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(info > 0, score / info, score / tr_pp)
        step = np.where(converged | ~np.isfinite(step), 0.0, step)
        new = np.maximum(t + step, 0.0)
        at_boundary = (new == 0.0) & (t == 0.0) & (score <= 0)
        converged |= at_boundary | (np.abs(new - t) <= rtol * (t + scale))
        t = new
        if converged.all():
            break
    ll = _reml_terms(y, v, t, X)[4]
    ll0 = _reml_terms(y, v, np.zeros_like(t), X)[4]
    t = np.where(ll0 > ll, 0.0, t)
    return t, converged

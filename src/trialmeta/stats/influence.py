"""Leave-one-out and influence diagnostics, as metafor 3.8 ``leave1out`` and ``influence`` (``rma.uni``).

For each study i the model (same design, tau^2 estimator and test) is refitted without it
(:func:`trialmeta.stats.metareg.metareg`); with the full fit's ``beta``, ``vb`` (Knapp-Hartung-scaled under
``test="knha"``), ``w = 1/(v + tau2)``, and the fit without i (``beta_(i)``, ``vb_(i)``, ``tau2_(i)``,
``s2_(i)``, the Knapp-Hartung factor, 1 under z):

* ``hat`` = ``w_i x_i' (X'WX)^-1 x_i``; ``weight`` = ``100 w_i / sum(w)``;
* ``rstudent`` = ``(y_i - x_i' beta_(i)) / sqrt(s2_(i) (v_i + tau2_(i)) + x_i' vb_(i) x_i)``;
* ``dffits`` = ``x_i'(beta - beta_(i)) / sqrt(s2_(i) hat_i (tau2_(i) + v_i))``;
* ``cook_d`` = ``(beta - beta_(i))' vb^-1 (beta - beta_(i))`` over every coefficient, intercept included;
  ``cov_r`` = ``det(vb_(i)) / det(vb)`` over the same;
* ``dfbs`` = ``(beta - beta_(i)) / sqrt(s2_(i) diag((X' diag(1/(v + tau2_(i))) X)^-1))`` (all k studies);
* ``tau2_del``, ``qe_del``; ``influential`` as metafor's ``inf`` flag: ``|dffits| > 3 sqrt(p/(k - p))``, or
  ``pchisq(cook_d, p) > 0.5``, or ``hat > 3 p/k``, or any ``|dfbs| > 1``.

Baujat et al. (2002), as metafor ``baujat``: a study's squared Pearson residual ``(y_i - b)^2 / (tau2 + v_i)``
(its contribution to Q under the common effect) against its influence ``(b_(i) - b)^2 / vb_(i)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from trialmeta.stats.metareg import MetaRegression, metareg


@dataclass(frozen=True)
class Influence:
    rstudent: np.ndarray
    dffits: np.ndarray
    cook_d: np.ndarray
    cov_r: np.ndarray
    tau2_del: np.ndarray
    qe_del: np.ndarray
    hat: np.ndarray
    weight: np.ndarray
    dfbs: np.ndarray  # (k, p)
    influential: np.ndarray


def _design(k, X):
    return np.ones((k, 1)) if X is None else np.asarray(X, float)


def leave1out(y, v, *, method: str = "reml", test: str = "z", level: float = 0.95) -> list[MetaRegression]:
    """The intercept-only model refitted without each study in turn (metafor ``leave1out``)."""
    y, v = np.asarray(y, float), np.asarray(v, float)
    k = len(y)
    if k < 3:
        raise ValueError(f"leave-one-out needs at least 3 studies, got {k}")
    return [metareg(y[m], v[m], np.ones((k - 1, 1)), method=method, test=test, level=level)
            for m in (np.arange(k) != i for i in range(k))]


def influence(y, v, X=None, *, method: str = "reml", test: str = "z") -> Influence:
    """metafor ``influence(rma(y, v, mods = X, intercept = FALSE, method=, test=))`` (see the module)."""
    y, v = np.asarray(y, float), np.asarray(v, float)
    k = len(y)
    X = _design(k, X)
    p = X.shape[1]
    if k - 1 <= p:
        raise ValueError(f"influence diagnostics need more than {p + 1} studies, got {k}")
    intercept = 0 if p > 1 and np.allclose(X[:, 0], 1) else None
    full = metareg(y, v, X, method=method, test=test, intercept_col=intercept)
    btt = list(range(p))  # metafor: every coefficient (influence() calls .set.btt with int.incl = FALSE)
    svb = np.linalg.inv(full.vb[np.ix_(btt, btt)])
    det_full = np.linalg.det(full.vb[np.ix_(btt, btt)])
    w = full.weights
    xwx_inv = np.linalg.inv(X.T @ (w[:, None] * X))
    hat = w * np.einsum("ip,pq,iq->i", X, xwx_inv, X)
    out = {n: np.full(k, np.nan) for n in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del")}
    dfbs = np.full((k, p), np.nan)
    for i in range(k):
        m = np.arange(k) != i
        d = metareg(y[m], v[m], X[m], method=method, test=test, intercept_col=intercept)
        s2 = _s2(d, y[m], v[m], X[m])
        xi = X[i]
        pred_del = float(xi @ d.beta)
        resid = y[i] - pred_del
        resid = 0.0 if abs(resid) < 100 * np.finfo(float).eps else resid
        out["rstudent"][i] = resid / np.sqrt(v[i] * s2 + xi @ d.vb @ xi + d.tau2 * s2)
        out["dffits"][i] = (float(xi @ full.beta) - pred_del) / np.sqrt(s2 * hat[i] * (d.tau2 + v[i]))
        vb_del = np.linalg.inv(X.T @ (X / (v + d.tau2)[:, None]))
        dfb = full.beta - d.beta
        dfbs[i] = dfb / np.sqrt(s2 * np.diag(vb_del))
        out["cook_d"][i] = dfb[btt] @ svb @ dfb[btt]
        out["cov_r"][i] = np.linalg.det(d.vb[np.ix_(btt, btt)]) / det_full
        out["tau2_del"][i], out["qe_del"][i] = d.tau2, d.qe
    weight = 100 * w / w.sum()
    infl = ((np.abs(out["dffits"]) > 3 * np.sqrt(p / (k - p))) | (stats.chi2.cdf(out["cook_d"], len(btt)) > 0.5)
            | (hat > 3 * p / k) | (np.abs(dfbs) > 1).any(axis=1))
    return Influence(**out, hat=hat, weight=weight, dfbs=dfbs, influential=infl)


def _s2(fit: MetaRegression, y, v, X) -> float:
    """The Knapp-Hartung factor of ``fit`` (metafor's ``s2w``): 1 under z."""
    if fit.test != "knha":
        return 1.0
    rss = float((fit.weights * fit.resid ** 2).sum())
    return rss / (len(y) - X.shape[1])


def baujat(y, v, *, method: str = "reml", test: str = "z") -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of each study in metafor's ``baujat`` plot of the intercept-only model: its squared Pearson
    residual ``(y_i - b)^2 / (tau2 + v_i)`` (under the common effect, its contribution to Q) against its
    influence ``(b_(i) - b)^2 / vb_(i)`` on the pooled estimate (the fit without it, same tau^2 estimator and test)."""
    y, v = np.asarray(y, float), np.asarray(v, float)
    k = len(y)
    full = metareg(y, v, np.ones((k, 1)), method=method, test=test, intercept_col=None)
    x = (y - full.beta[0]) ** 2 / (full.tau2 + v)
    infl = np.array([(d.beta[0] - full.beta[0]) ** 2 / d.vb[0, 0]
                     for d in leave1out(y, v, method=method, test=test)])
    return x, infl

"""Mixed-effects meta-regression on a design matrix, as metafor ``rma.uni(yi, vi, mods = X, intercept = FALSE)``.

tau^2 comes from the engine (:func:`trialmeta.stats.engine.pymare_fit`: PyMARE's fit with the design,
REML polished by :mod:`trialmeta.stats.tau2`; DL and PM from :mod:`trialmeta.stats.tau2`), so an
intercept-only design reproduces the pooled analyses exactly. Then, with ``w = 1/(v + tau2)``:

* ``beta = (X'WX)^-1 X'Wy``, ``vb = (X'WX)^-1``; ``test="z"``: Wald z, and the omnibus ``QM = b' vb^-1 b``
  over the moderators (every column but an intercept) against chi^2(m);
* ``test="knha"`` (Knapp & Hartung 2003): ``vb`` times ``s2 = sum(w r^2)/(k - p)`` (0 when that sum is
  below machine epsilon, as metafor), t(k - p) tests and CIs, and ``QM / m`` against F(m, k - p);
* ``QE = sum(r_fe^2 / v)`` with the common-effect residuals, df k - p (residual heterogeneity);
* ``I2 = 100 tau2 / (tau2 + (k - p) / tr(P))`` and ``R2 = max(0, 100 (tau2_0 - tau2) / tau2_0)`` against
  the intercept-only tau2_0 of the same estimator (metafor's ``$I2``, ``$R2``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from trialmeta.stats import tau2 as _tau2
from trialmeta.stats.engine import KNHA_ZERO_RSS, pymare_fit

TESTS = ("z", "knha")


@dataclass(frozen=True)
class MetaRegression:
    """metafor's ``rma.uni`` with moderators: one entry per column of X in ``beta``, ``se``, ``stat``, ``p``,
    ``ci_low``, ``ci_high``; ``qm``/``qm_df``/``qm_p`` the omnibus test of the moderators (F under knha)."""

    names: tuple[str, ...]
    beta: np.ndarray
    se: np.ndarray
    vb: np.ndarray
    stat: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    df: int | None  # t and F denominator df (k - p) under knha; None under z
    tau2: float
    qe: float
    qe_df: int
    qe_p: float
    qm: float | None
    qm_df: int
    qm_p: float | None
    i2: float | None
    r2: float | None
    k: int
    method: str
    test: str
    level: float
    weights: np.ndarray  # w = 1/(v + tau2), not normalised
    resid: np.ndarray

    def __str__(self) -> str:
        stat = "z" if self.df is None else "t"
        lv = f"{self.level:.0%}"
        head = ["", "estimate", "se", stat, "p", f"{lv} CI"]
        rows = [[n, f"{b:.4f}", f"{s:.4f}", f"{z:.4f}", f"{p:.4f}", f"{lo:.4f} to {hi:.4f}"] for n, b, s, z, p, lo, hi
                in zip(self.names, self.beta, self.se, self.stat, self.p, self.ci_low, self.ci_high)]
        widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
        table = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
                 for r in [head] + rows]
        model = f"{'Mixed' if self.method != 'fe' else 'Common'}-effects meta-regression (k = {self.k}; tau² " \
                f"estimator {self.method.upper()}; {'Knapp-Hartung t' if self.df is not None else 'Wald z'} tests)"
        lines = [model, f"tau² (residual) = {self.tau2:.4f}" + ("" if self.i2 is None else f"; I² = {self.i2:.1f}%")
                 + ("" if self.r2 is None else f"; R² = {self.r2:.1f}%"),
                 f"Test for residual heterogeneity: QE({self.qe_df}) = {self.qe:.4f}, p = {self.qe_p:.4f}"]
        if self.qm is not None:
            lines.append(f"Test of moderators: " + (f"QM({self.qm_df}) = {self.qm:.4f}" if self.df is None else
                         f"F({self.qm_df}, {self.df}) = {self.qm:.4f}") + f", p = {self.qm_p:.4f}")
        return "\n".join(lines + [""] + table)


def fit_tau2(y: np.ndarray, v: np.ndarray, X: np.ndarray | None, method: str) -> float:
    """tau^2 of ``y ~ X`` (``X`` None: intercept only) by ``method`` (fe, dl, reml, pm)."""
    tau2, _, _ = pymare_fit(np.asarray(y, float)[:, None], np.asarray(v, float)[:, None], method, "wald", X)
    return float(np.ravel(tau2)[0])


def metareg(y, v, X, *, names=None, method: str = "reml", test: str = "z", level: float = 0.95,
            tau2: float | None = None, intercept_col: int | None = 0) -> MetaRegression:
    """Fit ``y ~ X - 1`` with study variances ``v`` (see the module). ``intercept_col``: the column of ones
    left out of the omnibus test (None: every column is tested). ``tau2`` fixes tau^2 (no estimation)."""
    y, v, X = np.asarray(y, float), np.asarray(v, float), np.asarray(X, float)
    k, p = X.shape
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS}, got {test!r}")
    if k <= p:
        raise ValueError(f"{k} studies cannot fit {p} coefficients")
    t2 = fit_tau2(y, v, X, method) if tau2 is None else float(tau2)
    w = 1.0 / (v + t2)
    b_, a_inv, r_ = _tau2.wls(y[:, None], w[:, None], X)
    beta, vb, r = b_[:, 0], a_inv[0].copy(), r_[:, 0]
    df = None
    if test == "knha":
        rss = float((w * r * r).sum())
        vb = vb * (0.0 if rss <= KNHA_ZERO_RSS else rss / (k - p))
        df = k - p
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = beta / se
    if df is None:
        crit, pv = stats.norm.isf((1 - level) / 2), 2 * stats.norm.sf(np.abs(stat))
    else:
        crit, pv = stats.t.isf((1 - level) / 2, df), 2 * stats.t.sf(np.abs(stat), df)
    mods = [j for j in range(p) if j != intercept_col]
    qm = qm_p = None
    if mods:
        b, sub = beta[mods], vb[np.ix_(mods, mods)]
        qm = float(b @ np.linalg.solve(sub, b))
        if df is None:
            qm_p = float(stats.chi2.sf(qm, len(mods)))
        else:
            qm /= len(mods)
            qm_p = float(stats.f.sf(qm, len(mods), df))
    _, _, r_fe = _tau2.wls(y[:, None], 1.0 / v[:, None], X)
    qe = float((r_fe.ravel() ** 2 / v).sum())
    i2 = r2 = None
    if method != "fe":
        vt = (k - p) / _trace_p(1.0 / v, X)
        i2 = 100.0 * t2 / (t2 + vt)
        if intercept_col is not None and mods:
            t0 = fit_tau2(y, v, None, method)
            r2 = 0.0 if t0 <= 0 else max(0.0, 100.0 * (t0 - t2) / t0)
    return MetaRegression(tuple(names or (f"x{j}" for j in range(p))), beta, se, vb, stat, pv, beta - crit * se,
                          beta + crit * se, df, t2, qe, k - p, float(stats.chi2.sf(qe, k - p)), qm, len(mods), qm_p,
                          i2, r2, k, method, test, level, w, r)


def _trace_p(w: np.ndarray, X: np.ndarray) -> float:
    """tr(P) at tau^2 = 0: ``sum(w) - tr((X'WX)^-1 X'W^2X)``."""
    a = X.T @ (w[:, None] * X)
    return float(w.sum() - np.trace(np.linalg.solve(a, X.T @ ((w * w)[:, None] * X))))

"""Small-study effects: Egger-type regression tests, Begg's rank correlation, trim-and-fill.

Each function follows metafor 3.8 (the function named) on log effects ``y`` (or differences) and
variances ``v``:

* :func:`regtest` = ``regtest(x, model=, predictor=)``: ``model="rma"`` (metafor's default) adds the
  predictor (``sei``, ``vi``, ``ninv``, ``sqrtninv``, ``ni``, ``sqrtni``) as a moderator of the random-effects
  model, with the model's tau^2 estimator and test (z or Knapp-Hartung t); ``model="lm"`` is the classical
  Egger et al. (1997) test, ``lm(yi ~ sei, weights = 1/vi)`` with a t(k - 2) test of the slope (= the intercept
  of the standard normal deviate on precision). With ``sei``, ``vi``, ``ninv`` or ``sqrtninv`` the intercept is
  the "limit estimate" (the effect of an infinitely large study), with its CI.
* Peters et al. (2006), as metafor's ``regtest(x, model="lm", predictor="ninv")``: ``lm(yi ~ 1/ni, weights =
  1/vi)`` with ``ni`` the total sample size (metafor's weights ``1/vi``, not Peters' ``1/(1/(a+c) + 1/(b+d))``).
* Harbord et al. (2006): the efficient score ``Z = a - (a+b)(a+c)/N`` over its variance ``V = (a+b)(c+d)(a+c)
  (b+d)/(N^2 (N-1))``; regressing ``Z/sqrt(V)`` on ``sqrt(V)`` is the classical Egger test on Peto's log odds ratio
  ``Z/V`` with variance ``1/V``, i.e. metafor ``regtest(rma(measure="PETO", ...), model="lm")``.
* :func:`ranktest` = ``ranktest``: Kendall's tau between ``(y - b_fe)/sqrt(v - vb)`` and ``v``, exact p value
  (no ties, k < 50) as R's ``cor.test(method="kendall", exact=TRUE)``, else the normal approximation with tie
  correction.
* :func:`trimfill` = ``trimfill``: L0 or R0 estimator of the number of missing studies (Duval & Tweedie 2000),
  the side from the sign of the ``sqrt(vi)`` slope, iterations on the trimmed data with the model's tau^2
  estimator, the filled studies mirrored about the last trimmed estimate, then the filled data refitted
  (metafor refits with the default z test).

The Cochrane Handbook (section 13.3.5.4) advises against these tests with fewer than 10 studies:
:data:`FEW_STUDIES_NOTE` is attached then.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from trialmeta.stats.metareg import MetaRegression, fit_tau2, metareg

MIN_K = 10
FEW_STUDIES_NOTE = ("fewer than 10 studies: tests for funnel plot asymmetry have too little power to tell chance "
                    "from real asymmetry and should not be used (Cochrane Handbook, section 13.3.5.4)")
PREDICTORS = ("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")
PREDICTOR_NAMES = {"sei": "standard error", "vi": "sampling variance", "ni": "sample size",
                   "ninv": "inverse of the sample size", "sqrtni": "square root of the sample size",
                   "sqrtninv": "inverse of the square root of the sample size"}


@dataclass(frozen=True)
class RegTest:
    model: str  # "rma" or "lm"
    predictor: str
    stat: float  # z (rma, z test) or t
    p: float
    df: int | None
    est: float | None  # the limit estimate (intercept) and its CI, where the predictor allows one
    ci_low: float | None
    ci_high: float | None
    fit: MetaRegression | None
    notes: tuple[str, ...]

    def __str__(self) -> str:
        what = ("mixed-effects meta-regression model" if self.model == "rma" else "weighted regression with "
                "multiplicative dispersion")
        stat = "z" if self.df is None else f"t({self.df})"
        lines = [f"Regression test for funnel plot asymmetry ({what}; predictor: {PREDICTOR_NAMES[self.predictor]})",
                 f"Test for funnel plot asymmetry: {stat} = {self.stat:.4f}, p = {self.p:.4f}"]
        if self.est is not None:
            lines.append(f"Limit estimate (as the predictor -> 0): b = {self.est:.4f} "
                         f"(CI: {self.ci_low:.4f}, {self.ci_high:.4f})")
        return "\n".join(lines + [f"Note: {n}" for n in self.notes])


@dataclass(frozen=True)
class RankTest:
    tau: float
    p: float
    exact: bool
    notes: tuple[str, ...]

    def __str__(self) -> str:
        return "\n".join([f"Rank correlation test for funnel plot asymmetry: Kendall's tau = {self.tau:.4f}, "
                          f"p = {self.p:.4f} ({'exact' if self.exact else 'normal approximation'})"]
                         + [f"Note: {n}" for n in self.notes])


@dataclass(frozen=True)
class TrimFill:
    estimator: str
    side: str
    k0: int
    se_k0: float
    p_k0: float | None  # R0 only
    yi_filled: np.ndarray  # the filled (imputed) studies
    vi_filled: np.ndarray
    fit: MetaRegression  # the model on observed + filled studies (intercept only)
    notes: tuple[str, ...]

    def __str__(self) -> str:
        f = self.fit
        lines = [f"Trim and fill ({self.estimator} estimator): estimated number of missing studies on the "
                 f"{self.side} side: {self.k0} (SE = {self.se_k0:.4f})"
                 + ("" if self.p_k0 is None else f", p = {self.p_k0:.4f}"),
                 f"Estimate with the filled studies (log scale for ratios): {f.beta[0]:.4f} "
                 f"(SE {f.se[0]:.4f}; CI {f.ci_low[0]:.4f}, {f.ci_high[0]:.4f}); tau2 = {f.tau2:.4f}"]
        return "\n".join(lines + [f"Note: {n}" for n in self.notes])


def _notes(k: int) -> tuple[str, ...]:
    return (FEW_STUDIES_NOTE,) if k < MIN_K else ()


def _predictor(name: str, v, ni):
    if name not in PREDICTORS:
        raise ValueError(f"predictor must be one of {PREDICTORS}, got {name!r}")
    if name in ("sei", "vi"):
        return np.sqrt(v) if name == "sei" else v
    if ni is None:
        raise ValueError(f"predictor {name!r} needs the sample sizes")
    ni = np.asarray(ni, float)
    return {"ni": ni, "ninv": 1 / ni, "sqrtni": np.sqrt(ni), "sqrtninv": 1 / np.sqrt(ni)}[name]


def regtest(y, v, *, model: str = "rma", predictor: str = "sei", ni=None, method: str = "reml", test: str = "z",
            level: float = 0.95) -> RegTest:
    """Regression test for funnel plot asymmetry (see the module); ``method``/``test`` those of the model."""
    y, v = np.asarray(y, float), np.asarray(v, float)
    k = len(y)
    if k < 3:
        raise ValueError(f"the regression test needs at least 3 studies, got {k}")
    X = np.column_stack([np.ones(k), _predictor(predictor, v, ni)])
    limit = predictor in ("sei", "vi", "ninv", "sqrtninv")
    if model == "rma":
        fit = metareg(y, v, X, names=("intrcpt", predictor), method=method, test=test, level=level)
        est, lo, hi = (fit.beta[0], fit.ci_low[0], fit.ci_high[0]) if limit else (None, None, None)
        return RegTest(model, predictor, float(fit.stat[1]), float(fit.p[1]), fit.df, est, lo, hi, fit, _notes(k))
    if model != "lm":
        raise ValueError(f"model must be 'rma' or 'lm', got {model!r}")
    w = 1 / v
    a = X.T @ (w[:, None] * X)
    beta = np.linalg.solve(a, X.T @ (w * y))
    r = y - X @ beta
    df = k - 2
    vb = np.linalg.inv(a) * float((w * r * r).sum()) / df  # lm's residual scale with prior weights 1/vi
    se = np.sqrt(np.diag(vb))
    t = beta[1] / se[1]
    crit = stats.t.isf((1 - level) / 2, df)
    est, lo, hi = (beta[0], beta[0] - crit * se[0], beta[0] + crit * se[0]) if limit else (None, None, None)
    return RegTest(model, predictor, float(t), float(2 * stats.t.sf(abs(t), df)), df,
                   None if est is None else float(est), None if lo is None else float(lo),
                   None if hi is None else float(hi), None, _notes(k))


def peters(y, v, ni, level: float = 0.95) -> RegTest:
    """Peters' test as metafor ``regtest(x, model="lm", predictor="ninv")`` (``ni``: total sample sizes)."""
    return regtest(y, v, model="lm", predictor="ninv", ni=ni, level=level)


def harbord(events_exp, n_exp, events_ctrl, n_ctrl, level: float = 0.95) -> RegTest:
    """Harbord's score test for binary outcomes (see the module): Egger's classical test on Peto's log OR."""
    a, n1, c, n2 = (np.asarray(x, float) for x in (events_exp, n_exp, events_ctrl, n_ctrl))
    n = n1 + n2
    e = a + c
    z = a - n1 * e / n
    var = n1 * n2 * e * (n - e) / (n * n * (n - 1))
    if np.any(var <= 0):
        raise ValueError("Harbord's test needs events and non-events in every study (score variance 0)")
    return regtest(z / var, 1 / var, model="lm", predictor="sei", level=level)


def ranktest(y, v) -> RankTest:
    """Begg and Mazumdar's rank correlation test, as metafor ``ranktest`` (see the module)."""
    y, v = np.asarray(y, float), np.asarray(v, float)
    w = 1 / v
    theta, vb = (w * y).sum() / w.sum(), 1 / w.sum()
    ystar = (y - theta) / np.sqrt(v - vb)
    ties = len(np.unique(ystar)) < len(ystar) or len(np.unique(v)) < len(v)
    exact = not ties and len(y) < 50
    res = stats.kendalltau(ystar, v, method="exact" if exact else "asymptotic")
    return RankTest(float(res.statistic), float(res.pvalue), exact, _notes(len(y)))


def _side(y, v, method) -> str:
    X = np.column_stack([np.ones(len(y)), np.sqrt(v)])
    return "right" if metareg(y, v, X, method=method).beta[1] < 0 else "left"


def _center(y, v, method) -> float:
    t2 = fit_tau2(y, v, None, method)
    w = 1 / (v + t2)
    return float((w * y).sum() / w.sum())


def trimfill(y, v, *, estimator: str = "L0", side: str | None = None, method: str = "reml", level: float = 0.95,
             maxiter: int = 100) -> TrimFill:
    """Duval and Tweedie's trim and fill, as metafor ``trimfill`` (see the module)."""
    y0, v0 = np.asarray(y, float), np.asarray(v, float)
    if estimator not in ("L0", "R0"):
        raise ValueError(f"estimator must be 'L0' or 'R0', got {estimator!r}")
    side = side or _side(y0, v0, method)
    sign = -1.0 if side == "right" else 1.0
    order = np.argsort(sign * y0, kind="stable")
    yi, vi = sign * y0[order], v0[order]
    k = len(yi)
    k0, last, it = 0, -1, 0
    while k0 != last:
        last, it = k0, it + 1
        if it > maxiter:
            raise ValueError("trim and fill did not converge")
        beta = _center(yi[:k - k0], vi[:k - k0], method)
        yc = yi - beta
        ranks = stats.rankdata(np.abs(yc), method="ordinal")
        signed = np.sign(yc) * ranks
        if estimator == "R0":
            k0 = (k - max(-signed[signed < 0], default=0)) - 1
            se_k0 = np.sqrt(2 * max(0, k0) + 2)
        else:
            sr = signed[signed > 0].sum()
            k0 = (4 * sr - k * (k + 1)) / (2 * k - 1)
            var_sr = (k * (k + 1) * (2 * k + 1) + 10 * k0 ** 3 + 27 * k0 ** 2 + 17 * k0 - 18 * k * k0 ** 2
                      - 18 * k * k0 + 6 * k * k * k0) / 24
            se_k0 = 4 * np.sqrt(var_sr) / (2 * k - 1)
        k0 = int(max(0, np.round(k0)))  # half to even, as R's round()
        se_k0 = max(0.0, float(se_k0))
    filled_y = sign * (2 * beta - yi[k - k0:]) if k0 else np.zeros(0)
    filled_v = vi[k - k0:] if k0 else np.zeros(0)
    fit = metareg(np.concatenate([y0, filled_y]), np.concatenate([v0, filled_v]), np.ones((k + k0, 1)),
                  method=method, test="z", level=level, intercept_col=0)
    p_k0 = 0.5 ** (k0 + 1) if estimator == "R0" else None  # metafor: 1 - sum(0.5^(m+2)), m = -1..k0-1
    return TrimFill(estimator, side, k0, se_k0, p_k0, filled_y, filled_v, fit, _notes(k))


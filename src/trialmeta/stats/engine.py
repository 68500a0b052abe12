"""Pooling engine: many inverse-variance meta-analyses at once, on the log scale.

The only module that imports PyMARE (pinned at 0.0.13). PyMARE fits the common-effect
(``WeightedLeastSquares``), DerSimonian-Laird and REML models on (k, d) arrays, d analyses
at once; :mod:`trialmeta.stats.tau2` adds what PyMARE lacks or does too slowly: Paule-Mandel,
tight REML convergence and a vectorised Q-profile interval. Every PyMARE option is passed
explicitly, because PyMARE 0.0.11 changed its default ``small_sample_correction``.

Analyses of different sizes k are bucketed by k (one vectorised pass per distinct k, not
one per analysis). Analyses with a non-finite input or a standard error <= 0 are set
aside with a reason instead of failing the batch (PyMARE would raise ``LinAlgError``).

Everything here is on the log scale; callers exponentiate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats

from trialmeta.stats.settings import CI_METHODS
from trialmeta.stats.settings import ENGINE_METHODS as METHODS

from trialmeta.stats import formulas
from trialmeta.stats import tau2 as _tau2

#: trialmeta CI name -> PyMARE ``small_sample_correction`` (metafor ``test=``).
PYMARE_CORRECTION = {"wald": "wald",  # test="z"
                     "hksj": "knapp-hartung",  # test="knha"
                     "hksj-adhoc": "knapp-hartung-conservative"}  # test="adhoc"
#: PyMARE's REML bounded search, spelled out (these are its 0.0.13 defaults); the
#: estimate is then polished by :func:`trialmeta.stats.tau2.reml_polish`.
PYMARE_REML_SEARCH = {"xtol": 1e-6, "ftol": 1e-12, "maxiter": 50}
#: metafor treats a KNHA residual sum of squares this small as zero (``RSS.knha``).
KNHA_ZERO_RSS = np.finfo(float).eps

FIELDS = ("k", "est", "se", "se_wald", "stat", "df_test", "p", "ci_low", "ci_high", "tau2",
          "tau2_ci_low", "tau2_ci_high", "tau2_ci_null", "q", "df", "q_p", "i2", "h2",
          "i2_q", "h2_q", "s2", "pi_low", "pi_high", "hk_scale", "converged")


@dataclass(frozen=True)
class Batch:
    """Results of :func:`fit_batch`, one entry per analysis (arrays of shape (n,)).

    ``k`` studies; ``est``, ``se`` (the SE the CI uses: Wald or HKSJ), ``se_wald``
    (``1/sqrt(sum w)``), ``stat`` (z or t), ``df_test`` (NaN for z), ``p``, ``ci_low``,
    ``ci_high``; ``tau2`` with its Q-profile bounds (``tau2_ci_null`` where the interval is
    {0}); ``q`` (Cochran's Q with weights ``1/v``), ``df = k - 1``, ``q_p``; ``s2``, the
    typical within-study variance ``(k - 1) sum(w) / ((sum w)^2 - sum(w^2))``, ``w = 1/v``
    (Higgins & Thompson 2002, eq. 9); ``i2`` (percent) and ``h2`` as metafor's ``rma.uni``
    and RevMan 2025: from tau^2 under random effects, ``100 tau2/(tau2 + s2)`` and
    ``(tau2 + s2)/s2``, and from Q under the common-effect model; ``i2_q = 100 max(0,
    (Q - df)/Q)`` and ``h2_q = Q/df`` (Q-based whatever the model); ``pi_low``, ``pi_high``; ``hk_scale`` (the HKSJ variance factor before
    any ad-hoc floor; NaN under Wald) and ``converged``. NaN where undefined.
    ``weights`` holds every study's percentage weight, analyses concatenated in input
    order (analysis ``i`` owns ``weights[offsets[i]:offsets[i] + k[i]]``, see
    :meth:`study_weights`); ``reason`` says why an analysis was not fitted (``None`` when
    it was).
    """

    k: np.ndarray
    est: np.ndarray
    se: np.ndarray
    se_wald: np.ndarray
    stat: np.ndarray
    df_test: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    tau2: np.ndarray
    tau2_ci_low: np.ndarray
    tau2_ci_high: np.ndarray
    tau2_ci_null: np.ndarray
    q: np.ndarray
    df: np.ndarray
    q_p: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    i2_q: np.ndarray
    h2_q: np.ndarray
    s2: np.ndarray
    pi_low: np.ndarray
    pi_high: np.ndarray
    hk_scale: np.ndarray
    converged: np.ndarray
    weights: np.ndarray
    offsets: np.ndarray
    reason: tuple

    def study_weights(self, i: int) -> np.ndarray:
        """Percentage weights of analysis ``i``'s studies, in input order."""
        return self.weights[self.offsets[i]:self.offsets[i] + int(self.k[i])]


def pymare_fit(y, v, method, ci, X=None):
    """PyMARE fit of one (k, d) bucket: (tau2, params, converged). ``X``: a (k, p) design for a
    meta-regression (its tau^2 common to the rows); None: the intercept alone, where the tau^2
    estimators take their exact intercept-only path."""
    from pymare.estimators import VarianceBasedLikelihoodEstimator, WeightedLeastSquares

    design = np.ones((y.shape[0], 1)) if X is None else X
    xs = () if X is None else (X,)
    correction = PYMARE_CORRECTION[ci]
    common = {"weight_scheme": "individual", "rho": None, "small_sample_correction": correction}
    converged = True
    if method == "dl":  # PyMARE's DL loses digits to cancellation (see tau2.dl)
        tau2 = _tau2.dl(y, v, *xs)
    elif method == "fe":
        tau2 = np.zeros(y.shape[1])
    elif method == "reml":
        start = VarianceBasedLikelihoodEstimator(method="REML", **common, **PYMARE_REML_SEARCH)
        # PyMARE's search stops at a bracket of 1e-6 of its scan, ~1e-7 in tau^2: far
        # enough from metafor's tight Fisher scoring to move tau^2 by 1e-5 relative. Its
        # global scan makes it a safe start; reml_polish converges from there.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # its DL start may divide by 0, overflow
            first = np.ravel(start.fit(y, v, design).params_["tau2"])
        tau2, converged = _tau2.reml_polish(y, v, np.where(np.isfinite(first), first, _tau2.dl(y, v, *xs)), *xs)
    else:  # pm: PyMARE has no Paule-Mandel estimator
        tau2 = _tau2.solve_q(y, v, float(y.shape[0] - design.shape[1]), *xs)
    fit = WeightedLeastSquares(tau2=tau2, **common).fit(y, design, v)
    return tau2, fit.params_, converged


def fit_same_k(y: np.ndarray, v: np.ndarray, *, method: str, ci: str, level: float,
               prediction: bool) -> dict:
    """Fit d analyses of the same size k >= 2; every input finite and ``v > 0``.

    Parameters
    ----------
    y, v : ndarray, shape (k, d)
        Log effects and their variances (SE squared), one column per analysis.
    method : {"fe", "dl", "reml", "pm"}
    ci : {"wald", "hksj", "hksj-adhoc"}
    level : float
    prediction : bool
        Compute the prediction interval (random-effects methods, k >= 3).

    Returns
    -------
    dict
        Arrays of shape (d,) under the names of :data:`FIELDS`, plus ``"weights"``
        (shape (k, d), percent).

    Notes
    -----
    HKSJ (Hartung & Knapp 2001; Sidik & Jonkman 2002) multiplies the variance by
    ``s2 = sum(w r^2)/(k - 1)`` and uses t(k - 1), = metafor ``test="knha"``;
    ``"hksj-adhoc"`` floors ``s2`` at 1 (never narrower than Wald), = ``test="adhoc"``.
    As in metafor, ``s2`` is 0 when the weighted residuals vanish (identical studies).
    I^2 and H^2 are computed from tau^2 under random effects (metafor ``rma.uni``; RevMan
    2025) and from Q under the common-effect model; ``i2_q``/``h2_q`` are Q-based always.
    Prediction interval (Higgins, Thompson & Spiegelhalter 2009):
    ``est +- t(k - 2) sqrt(tau2 + se_wald^2)`` with the Wald SE even under HKSJ.
    """
    k, d = y.shape
    tau2, params, converged = pymare_fit(y, v, method, ci)
    est = params["fe_params"][0]
    se = np.sqrt(params["inv_cov"][0, 0])
    w = 1.0 / (v + tau2)
    sw = w.sum(axis=0)
    se_wald = np.sqrt(1.0 / sw)
    r = _tau2.wls(y, w, None)[2]  # (residuals without cancellation: see tau2.wls)
    rss = (w * r * r).sum(axis=0)
    out = {"k": np.full(d, k, dtype=float), "est": est, "se": se, "se_wald": se_wald,
           "tau2": tau2, "converged": np.broadcast_to(converged, (d,)).astype(bool)}
    out["hk_scale"] = (np.full(d, np.nan) if ci == "wald"
                       else np.where(rss <= KNHA_ZERO_RSS, 0.0, rss / (k - 1)))
    alpha = 1.0 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est / se
    if ci == "wald":
        crit, out["df_test"] = stats.norm.isf(alpha / 2), np.full(d, np.nan)
        out["p"] = 2.0 * stats.norm.sf(np.abs(stat))
    else:
        crit, out["df_test"] = stats.t.isf(alpha / 2, k - 1), np.full(d, k - 1.0)
        out["p"] = 2.0 * stats.t.sf(np.abs(stat), k - 1)
    out.update(stat=stat, ci_low=est - crit * se, ci_high=est + crit * se)
    q = _tau2.q_gen(y, v, 0.0)
    df = k - 1.0
    out.update(q=q, df=np.full(d, df), q_p=stats.chi2.sf(q, df), h2_q=formulas.h2_from_q(q, df))
    out["i2_q"] = formulas.i2_from_q(q, df)
    out["s2"] = typical_variance(v)
    if method == "fe":
        out.update(i2=out["i2_q"], h2=out["h2_q"])
    else:
        out.update(i2=formulas.i2_from_tau2(tau2, out["s2"]), h2=formulas.h2_from_tau2(tau2, out["s2"]))
    nan = np.full(d, np.nan)
    if method == "fe":
        out.update(tau2_ci_low=nan, tau2_ci_high=nan, tau2_ci_null=np.zeros(d, dtype=bool))
    else:
        low, high, null = _tau2.q_profile(y, v, level)
        out.update(tau2_ci_low=low, tau2_ci_high=high, tau2_ci_null=null)
    if prediction and method != "fe" and k >= 3:
        half = formulas.prediction_half_width(stats.t.isf(alpha / 2, k - 2), tau2, se_wald)
        out.update(pi_low=est - half, pi_high=est + half)
    else:
        out.update(pi_low=nan, pi_high=nan.copy())
    out["weights"] = 100.0 * w / sw
    return out


def typical_variance(v: np.ndarray) -> np.ndarray:
    """Typical within-study variance of each column of ``v`` (shape (k, d), k >= 2).

    ``s2 = (k - 1) sum(w) / ((sum w)^2 - sum(w^2))`` with ``w = 1/v`` (Higgins & Thompson,
    Stat Med 2002;21:1539-58, eq. 9), = metafor's ``vt`` for an intercept-only model
    (``(k - p) / tr(P)``, ``tr(P) = sum(w) - sum(w^2)/sum(w)``), with ``tr(P)`` computed
    without cancellation (:func:`trialmeta.stats.tau2.trace_p`).
    """
    with np.errstate(divide="ignore"):
        return (v.shape[0] - 1.0) / _tau2.trace_p(1.0 / v)


def _single_study(y, v, level):
    """k = 1: the study itself with its own Wald (z) interval."""
    d = y.shape[1]
    se = np.sqrt(v[0])
    crit = stats.norm.isf((1.0 - level) / 2)
    out = {name: np.full(d, np.nan) for name in FIELDS}
    out.update(k=np.ones(d), est=y[0], se=se, se_wald=se, stat=y[0] / se,
               p=2.0 * stats.norm.sf(np.abs(y[0] / se)), ci_low=y[0] - crit * se,
               ci_high=y[0] + crit * se, converged=np.ones(d, dtype=bool),
               tau2_ci_null=np.zeros(d, dtype=bool), weights=np.full((1, d), 100.0))
    return out


def _screen(y, v):
    """Per-column validity, and the reason for each invalid column."""
    finite = np.isfinite(y).all(axis=0) & np.isfinite(v).all(axis=0)
    ok = finite & (v > 0).all(axis=0)
    bad = np.flatnonzero(~ok)
    return ok, {j: "non-finite estimate or standard error" if not finite[j]
                else "standard error <= 0" for j in bad}


def fit_batch(ys: Sequence[Sequence[float]] | np.ndarray, vs: Sequence[Sequence[float]] | np.ndarray,
              *, method: str, ci: str, level: float, prediction: bool) -> Batch:
    """Fit many meta-analyses, possibly of different sizes, in vectorised passes.

    Parameters
    ----------
    ys, vs : sequence of 1-D arrays, or 2-D arrays of shape (k, n)
        Log effects and variances per analysis (a 2-D array is n analyses of one size k).
    method : {"fe", "dl", "reml", "pm"}
        Common effect (inverse variance), DerSimonian-Laird, REML or Paule-Mandel tau^2.
    ci : {"wald", "hksj", "hksj-adhoc"}
        Wald z, Hartung-Knapp-Sidik-Jonkman t(k-1), or HKSJ never narrower than Wald.
    level : float
        Confidence level for the estimate's CI, the tau^2 Q-profile CI and the PI.
    prediction : bool
        Whether to compute prediction intervals (random-effects methods, k >= 3).

    Returns
    -------
    Batch

    Examples
    --------
    >>> b = fit_batch([[-0.5, -0.2, 0.1]], [[0.04, 0.09, 0.05]], method="dl", ci="wald",
    ...               level=0.95, prediction=True)
    >>> round(float(b.est[0]), 4), round(float(b.tau2[0]), 4)
    (-0.211, 0.0564)
    """
    if method not in METHODS or ci not in CI_METHODS or not 0.0 < level < 1.0:
        raise ValueError(f"method must be one of {METHODS} (got {method!r}), ci one of "
                         f"{CI_METHODS} (got {ci!r}) and 0 < level < 1 (got {level!r})")
    if isinstance(ys, np.ndarray) and ys.ndim == 2:
        if np.shape(vs) != ys.shape:
            raise ValueError(f"ys has shape {ys.shape} but vs has shape {np.shape(vs)}")
        lengths, flat_y, flat_v = np.full(ys.shape[1], ys.shape[0]), ys.T.ravel(), np.asarray(vs).T.ravel()
    else:
        lengths = np.array([len(a) for a in ys], dtype=int)
        if len(vs) != len(ys) or any(len(b) != n for b, n in zip(vs, lengths)):
            raise ValueError("ys and vs must hold the same number of analyses with matching lengths")
        flat_y = np.concatenate([np.asarray(a, dtype=float).ravel() for a in ys] or [np.zeros(0)])
        flat_v = np.concatenate([np.asarray(b, dtype=float).ravel() for b in vs] or [np.zeros(0)])
    n = lengths.size
    starts = np.cumsum(lengths) - lengths
    result = {name: np.full(n, np.nan) for name in FIELDS}
    result["k"] = lengths.astype(float)
    result["converged"] = np.zeros(n, dtype=bool)
    result["tau2_ci_null"] = np.zeros(n, dtype=bool)
    weights = np.full(flat_y.size, np.nan)
    reason: list[str | None] = ["k = 0: no studies" if m == 0 else None for m in lengths]
    for k in np.unique(lengths[lengths > 0]):
        idx = np.flatnonzero(lengths == k)
        rows = starts[idx][None, :] + np.arange(k)[:, None]  # (k, d) gather: no per-analysis loop
        y, v = flat_y[rows], flat_v[rows]
        ok, why = _screen(y, v)
        for j, text in why.items():
            reason[idx[j]] = text
        if not ok.any():
            continue
        y, v, idx, rows = y[:, ok], v[:, ok], idx[ok], rows[:, ok]
        part = (_single_study(y, v, level) if k == 1 else
                fit_same_k(y, v, method=method, ci=ci, level=level, prediction=prediction))
        for name in FIELDS:
            result[name][idx] = part[name]
        weights[rows] = part["weights"]
    return Batch(**result, weights=weights, offsets=starts, reason=tuple(reason))

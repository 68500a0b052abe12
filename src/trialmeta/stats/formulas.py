"""The formulas behind the printed heterogeneity and interval numbers, and the sentences that state them.

One source: the engine (:mod:`trialmeta.stats.engine`) computes I², H² and the prediction interval with
the functions here, and every Methods line (the report's Methods, the tables' and evidence.md's "Method:"
lines, the Word notes) states them with :func:`heterogeneity_statement` and
:func:`prediction_statement`, which pick the sentence for the model that produced the number. The
functions take NumPy arrays or floats alike (no import here: `trialmeta validate` stays NumPy-free).

References: Higgins JPT, Thompson SG. Stat Med 2002;21:1539-58 (I², H², the typical within-study
variance s², eq. 9); RevMan 2025 (May 2024 addendum) and metafor ``rma.uni`` (I² from tau²);
Higgins, Thompson & Spiegelhalter, JRSS A 2009;172:137-59 (prediction interval).
"""

from __future__ import annotations


def i2_from_tau2(tau2, s2):
    """I² (percent) under random effects: ``100 tau² / (tau² + s²)``."""
    return 100.0 * tau2 / (tau2 + s2)


def h2_from_tau2(tau2, s2):
    """H² under random effects: ``(tau² + s²) / s²``."""
    return (tau2 + s2) / s2


def i2_from_q(q, df):
    """Q-based I² (percent): ``100 max(0, (Q - df) / Q)``, 0 where Q = 0 (a scalar or an array)."""
    if hasattr(q, "shape"):
        import numpy as np

        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.where(q > 0, 100.0 * np.maximum(0.0, (q - df) / q), 0.0)
    return 100.0 * max(0.0, (q - df) / q) if q > 0 else 0.0


def h2_from_q(q, df):
    """Q-based H²: ``Q / df``."""
    return q / df


def prediction_half_width(t_quantile, tau2, se_wald):
    """Half-width of the prediction interval on the pooled scale: ``t(k-2) sqrt(tau² + SE_wald²)``."""
    return t_quantile * (tau2 + se_wald ** 2) ** 0.5


I2_TAU_TEXT = ("I\u00b2 = \u03c4\u00b2/(\u03c4\u00b2 + s\u00b2) and H\u00b2 = (\u03c4\u00b2 + s\u00b2)/s\u00b2 from the "
               "estimated \u03c4\u00b2, with s\u00b2 = (k \u2212 1)\u03a3w/((\u03a3w)\u00b2 \u2212 \u03a3w\u00b2), "
               "w = 1/v\u1d62, the typical within-study variance (Higgins & Thompson 2002; metafor rma, RevMan 2025)")
I2_Q_TEXT = "I\u00b2 = max(0, (Q \u2212 df)/Q) and H\u00b2 = Q/df from Cochran's Q (common-effect model)"


def heterogeneity_statement(method: str, pooling: str = "iv") -> str:
    """How the printed I² and H² were computed, for the model that computed them: Q-based for a common-effect
    model (``method="fe"``, or Mantel-Haenszel ``pooling="mh"``), tau²-based under random effects (``"bayes"``:
    from the posterior median of tau)."""
    if method == "fe" or pooling in ("mh", "peto"):
        return I2_Q_TEXT
    if method == "bayes":
        return I2_TAU_TEXT.replace("the estimated \u03c4\u00b2", "the posterior median of \u03c4, squared")
    return I2_TAU_TEXT


def prediction_statement(ratio: bool = True, method: str = "reml") -> str:
    """How the printed prediction interval was computed (``ratio``: on the log scale, then exponentiated)."""
    if method == "bayes":
        return "prediction interval: the posterior predictive interval of a new study's true effect"
    inner = "\u03bc \u00b1 t(k\u22122)\u00b7\u221a(\u03c4\u00b2 + SE\u00b2)"
    return (f"prediction interval {'exp(' + inner + ')' if ratio else inner} with the inverse-variance (Wald) "
            "SE = 1/\u221a\u03a3(1/(v\u1d62 + \u03c4\u00b2)), for k \u2265 3 (Higgins, Thompson & Spiegelhalter 2009)")

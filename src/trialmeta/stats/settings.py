"""How to pool: the statistical choices of a meta-analysis, validated, with their labels.

Kept apart from :mod:`trialmeta.stats.pooling` so the notes (:mod:`trialmeta.stats.notes`) and the
pooling can both read the settings without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from trialmeta.errors import InputError, Problem, TrialmetaError
from trialmeta.stats import bayes, engine

METHODS = (*engine.METHODS, "bayes")
METHOD_LABELS = {"fe": "common effect (inverse variance)", "dl": "DerSimonian-Laird",
                 "reml": "REML", "pm": "Paule-Mandel",
                 "bayes": "Bayesian normal-normal random effects (numerical integration)"}
CI_LABELS = {"wald": "Wald z", "hksj": "HKSJ t(k-1)", "hksj-adhoc": "ad-hoc HKSJ t(k-1), never narrower than Wald"}


class PoolingError(TrialmetaError, ValueError):
    """Inputs that cannot be pooled (empty, non-finite, SE <= 0, mismatched lengths)."""


@dataclass(frozen=True)
class PoolSettings:
    """How to pool; the defaults are Cochrane's 2025 RevMan random-effects defaults.

    Parameters
    ----------
    method : {"reml", "dl", "pm", "fe", "bayes"}
        tau^2 estimator (REML, DerSimonian-Laird, Paule-Mandel), ``"fe"`` for the
        common-effect (inverse-variance) model, or ``"bayes"``: the Bayesian normal-normal
        model (:mod:`trialmeta.stats.bayes`) with ``prior`` on tau and a flat prior on mu;
        its posterior median and equal-tailed credible interval are then the estimate and
        CI, and ``ci`` applies only to the frequentist (REML) comparison in the JSON.
    ci : {"hksj", "wald", "hksj-adhoc"}
        CI for the pooled effect: HKSJ t(k-1) (= metafor ``test="knha"``), Wald z
        (``test="z"``) or ad-hoc HKSJ, never narrower than Wald (``test="adhoc"``).
    level : float
        Confidence level of every interval (estimate, tau^2, prediction).
    prediction : bool
        Report a prediction interval (random-effects methods, k >= 3).
    tau2_ci : {"qprofile"}
        CI for tau^2: Q-profile (Viechtbauer 2007), the only one implemented.
    prior, prior_scale
        Prior on tau of the Bayesian model: ``"half-normal"`` (default, scale 0.5 on the log
        scale, weakly informative for log HR/OR/RR), ``"half-cauchy"`` or ``"uniform"``
        (on [0, scale]). The Bayesian result is computed for every group (JSON ``bayes``).
    bayes_max_k : int
        Groups with 2 <= k <= this also show the Bayesian result as a labelled sensitivity
        line in figures and tables (0: never). Default 4.
    """

    method: str = "reml"
    ci: str = "hksj"
    level: float = 0.95
    prediction: bool = True
    tau2_ci: str = "qprofile"
    prior: str = "half-normal"
    prior_scale: float = 0.5
    bayes_max_k: int = 4

    def __post_init__(self):
        allowed = {"method": METHODS, "ci": engine.CI_METHODS, "tau2_ci": ("qprofile",),
                   "prior": bayes.PRIORS}
        problems = [Problem("pool settings", None, name, f"unknown {name} {getattr(self, name)!r}; "
                            f"choose one of {', '.join(values)}")
                    for name, values in allowed.items() if getattr(self, name) not in values]
        if not (isinstance(self.level, (int, float)) and 0.5 <= float(self.level) < 1.0):
            problems.append(Problem("pool settings", None, "level",
                                    f"level must be in [0.5, 1), e.g. 0.95; got {self.level!r}"))
        if not (isinstance(self.prior_scale, (int, float)) and 0 < float(self.prior_scale) < float("inf")):
            problems.append(Problem("pool settings", None, "prior_scale",
                                    f"prior_scale must be a number > 0, e.g. 0.5; got {self.prior_scale!r}"))
        if not (isinstance(self.bayes_max_k, int) and self.bayes_max_k >= 0):
            problems.append(Problem("pool settings", None, "bayes_max_k",
                                    f"bayes_max_k must be an integer >= 0; got {self.bayes_max_k!r}"))
        if problems:
            raise InputError(problems)

    @property
    def tau_prior(self) -> bayes.TauPrior:
        """The prior on tau of the Bayesian model."""
        return bayes.TauPrior(self.prior, float(self.prior_scale))

    def describe_bayes(self) -> str:
        """e.g. ``Bayesian RE, half-normal(0.5) prior on τ, flat prior on μ``."""
        return f"Bayesian RE, {self.tau_prior.describe()} prior on \u03c4, flat prior on \u03bc"

    def describe(self) -> str:
        """One line for an output footer, e.g. ``REML tau² (Q-profile CI); HKSJ t(k-1) CI; ...``."""
        if self.method == "bayes":
            return (f"{self.describe_bayes()}: posterior median, {_pct(self.level)} equal-tailed credible "
                    f"interval and posterior predictive interval (exact numerical integration)")
        pi = "; prediction interval t(k-2) (Higgins 2009)" if self.prediction and self.method != "fe" else ""
        tau = "" if self.method == "fe" else " τ² (Q-profile CI)"
        return f"{METHOD_LABELS[self.method]}{tau}; {CI_LABELS[self.ci]} CI; {_pct(self.level)} level{pi}"


def _pct(level: float) -> str:
    return f"{level * 100:g}%"



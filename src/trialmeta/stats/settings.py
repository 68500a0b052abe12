"""How to pool: the statistical choices of a meta-analysis, validated, with their labels.

Kept apart from :mod:`trialmeta.stats.pooling` so the notes (:mod:`trialmeta.stats.notes`) and the
pooling can both read the settings without importing each other. :class:`PoolSettings` is the one
settings type: an analysis's settings in ``analyses.yaml``
(:class:`trialmeta.registry.analyses.Settings`) extend it with how studies are chosen, so an
analysis's settings are passed to the engine as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from trialmeta.errors import InputError, Problem



#: tau^2 estimators (and "fe", common effect) and CI types the engine implements; "bayes" is
#: the Bayesian model of :mod:`trialmeta.stats.bayes`, with its priors on tau. (Names only: this
#: module stays importable without NumPy/SciPy, so `trialmeta validate` starts fast.)
ENGINE_METHODS = ("fe", "dl", "reml", "pm")
CI_METHODS = ("wald", "hksj", "hksj-adhoc")
PRIORS = ("half-normal", "half-cauchy", "uniform")

METHODS = (*ENGINE_METHODS, "bayes")
METHOD_LABELS = {"fe": "common effect (inverse variance)", "dl": "DerSimonian-Laird",
                 "reml": "REML", "pm": "Paule-Mandel",
                 "bayes": "Bayesian normal-normal random effects (numerical integration)"}
#: The default prior scale of tau for log ratios (half-normal(0.5): Friede et al. 2017; Röver 2021).
RATIO_PRIOR_SCALE = 0.5
CI_LABELS = {"wald": "Wald z", "hksj": "HKSJ t(k-1)", "hksj-adhoc": "ad-hoc HKSJ t(k-1), never narrower than Wald"}

#: The tau prior scales (log scale) that pool-table and analyses.yaml accept: below, the prior fixes tau at 0 (say common effect);
#: above, a half-normal/half-Cauchy is flat far beyond any plausible spread of log ratios (10: a
#: 22,000-fold ratio between trials) and the posterior's grid cannot be trusted (at 1e10 it gave
#: tau^2 742,196; at 1e300 no number at all).
PRIOR_SCALE_RANGE = (0.001, 10.0)


def prior_scale_problem(scale) -> str | None:
    """Why ``scale`` is not an accepted tau prior scale on the log scale of a ratio (or for an
    SMD or RD), naming the range :data:`PRIOR_SCALE_RANGE`, or None."""
    low, high = PRIOR_SCALE_RANGE
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not low <= float(scale) <= high:
        return f"the prior scale on tau must be a number from {low:g} to {high:g} (log scale; e.g. 0.5), got {scale!r}"
    return None


#: The tau prior scales accepted for a mean difference, as multiples of the median within-study SE
#: (an MD's scale is in the data's own units, so no fixed range fits): below, the prior fixes tau at
#: 0; far above, the posterior's grid cannot be trusted (at 1e7 times the SE it moved the interval).
MD_PRIOR_SCALE_SE = (0.001, 1000.0)


def md_prior_scale_problem(scale: float, ses) -> str | None:
    """Why ``scale`` is not an accepted tau prior scale for a mean difference whose studies have
    standard errors ``ses`` (range :data:`MD_PRIOR_SCALE_SE` times their median), or None."""
    import numpy as np

    ses = np.asarray(ses, dtype=float)
    ses = ses[np.isfinite(ses) & (ses > 0)]
    if ses.size == 0:
        return None
    median = float(np.median(ses))
    low, high = (f * median for f in MD_PRIOR_SCALE_SE)
    if not low <= float(scale) <= high:
        return (f"the prior scale on tau of a mean difference must be from {MD_PRIOR_SCALE_SE[0]:g} to "
                f"{MD_PRIOR_SCALE_SE[1]:g} times the studies' median SE ({median:.4g}), i.e. from {low:.4g} to "
                f"{high:.4g} in the data's units; got {scale:g}")
    return None


def measure_prior_scale_problem(scale, measure: str, ses) -> str | None:
    """Why ``scale`` is not an accepted tau prior scale for ``measure``: 0.001-10 for a log ratio, an RD
    or an SMD (:func:`prior_scale_problem`); for an MD, in its own units, 0.001-1000 times the median of
    the studies' SEs ``ses`` (:func:`md_prior_scale_problem`). None when it is."""
    return md_prior_scale_problem(scale, ses) if measure == "MD" else prior_scale_problem(scale)


@dataclass(frozen=True)
class TauPrior:
    """Prior on the between-study SD ``tau``, in the units the effects are pooled in.

    ``family`` half-normal (``scale`` = the normal's SD; 0.5 is the weakly informative choice
    for log HR/OR/RR of Friede et al. 2017 and Röver 2021), half-Cauchy (``scale`` = its
    scale) or uniform on [0, ``scale``]. For a ratio ``tau`` is on the log scale; for a
    difference (RD, MD, SMD) it is in the difference's own units, so its scale must be given
    (:data:`RATIO_PRIOR_SCALE` is meant for log ratios only).
    """

    family: str = "half-normal"
    scale: float = 0.5

    def __post_init__(self):
        if self.family not in PRIORS:
            raise ValueError(f"unknown tau prior {self.family!r}; choose one of {', '.join(PRIORS)}")
        if not (isinstance(self.scale, (int, float)) and math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"tau prior scale must be a finite number > 0, got {self.scale!r}")

    def log_density(self, tau):
        """Log prior density of ``tau >= 0`` (a NumPy array; -inf outside the support)."""
        import numpy as np  # (only when a Bayesian model is fitted: validate stays NumPy-free)

        s = float(self.scale)
        with np.errstate(divide="ignore"):
            if self.family == "half-normal":
                return math.log(2.0 / (s * math.sqrt(2.0 * math.pi))) - 0.5 * (tau / s) ** 2
            if self.family == "half-cauchy":
                return math.log(2.0 / (math.pi * s)) - np.log1p((tau / s) ** 2)
            return np.where(tau <= s, -math.log(s), -np.inf)

    def short(self) -> str:
        """For a narrow figure column: ``HN(0.5)``, ``HC(0.5)`` or ``U(0, 2)``."""
        if self.family == "uniform":
            return f"U(0, {self.scale:g})"
        return f"{'HN' if self.family == 'half-normal' else 'HC'}({self.scale:g})"

    def describe(self) -> str:
        """e.g. ``half-normal(0.5)`` or ``uniform(0, 2)``."""
        return f"uniform(0, {self.scale:g})" if self.family == "uniform" else f"{self.family}({self.scale:g})"


class PoolSettings(BaseModel):
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
        Prior on tau of the Bayesian model: ``"half-normal"`` (default), ``"half-cauchy"`` or
        ``"uniform"`` (on [0, scale]). ``prior_scale`` is in the units the effects are pooled in:
        ``None`` (default) means 0.5 for ratios (log scale, weakly informative for log HR/OR/RR);
        a difference (RD, MD, SMD) has no default: its scale must be stated in its own units. The Bayesian result is computed for groups with k <= ``bayes_max_k``
        (JSON ``bayes``; every group under ``method="bayes"``).
    bayes_max_k : int
        Groups with 2 <= k <= this also show the Bayesian result as a labelled sensitivity
        line in figures and tables (0: never). Default 4.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: str = "reml"
    ci: str = "hksj"
    level: float = 0.95
    prediction: bool = True
    tau2_ci: str = "qprofile"
    prior: str = "half-normal"
    prior_scale: float | None = None
    bayes_max_k: int = 4

    def __init__(self, method: str = "reml", ci: str = "hksj", level: float = 0.95, prediction: bool = True,
                 tau2_ci: str = "qprofile", **more):
        """Positional or keyword, e.g. ``PoolSettings("reml", "wald")``; an unknown value raises
        :class:`~trialmeta.errors.InputError` naming the setting. A schema subclass (the settings of
        ``analyses.yaml``) declares the allowed values as typed fields instead, so pydantic's
        errors, located in the file, are what a user of a file sees."""
        if type(self) is not PoolSettings:
            super().__init__(method=method, ci=ci, level=level, prediction=prediction, tau2_ci=tau2_ci, **more)
            return
        allowed = {"method": METHODS, "ci": CI_METHODS, "tau2_ci": ("qprofile",), "prior": PRIORS}
        given = {"method": method, "ci": ci, "tau2_ci": tau2_ci, "prior": more.get("prior", "half-normal")}
        problems = [Problem("pool settings", None, name, f"unknown {name} {given[name]!r}; "
                            f"choose one of {', '.join(values)}")
                    for name, values in allowed.items() if given[name] not in values]
        if not (isinstance(level, (int, float)) and not isinstance(level, bool) and 0.5 <= float(level) < 1.0):
            problems.append(Problem("pool settings", None, "level",
                                    f"level must be in [0.5, 1), e.g. 0.95; got {level!r}"))
        scale = more.get("prior_scale")
        if scale is not None and not (isinstance(scale, (int, float)) and not isinstance(scale, bool) and 0 < float(scale) < float("inf")):
            problems.append(Problem("pool settings", None, "prior_scale",
                                    f"prior_scale must be a number > 0, e.g. 0.5; got {scale!r}"))
        max_k = more.get("bayes_max_k", 4)
        if not (isinstance(max_k, int) and not isinstance(max_k, bool) and max_k >= 0):
            problems.append(Problem("pool settings", None, "bayes_max_k",
                                    f"bayes_max_k must be an integer >= 0; got {max_k!r}"))
        if problems:
            raise InputError(problems)
        super().__init__(method=method, ci=ci, level=level, prediction=prediction, tau2_ci=tau2_ci, **more)

    @property
    def tau_prior(self) -> TauPrior:
        """The prior on tau of the Bayesian model for a ratio (log scale; scale 0.5 unless given)."""
        return TauPrior(self.prior, float(RATIO_PRIOR_SCALE if self.prior_scale is None else self.prior_scale))

    def prior_for(self, ratio: bool) -> TauPrior | None:
        """The prior on tau for a ratio (log scale) or a difference (its own units; ``None`` when no
        scale was given: a log-scale default would be meaningless in, e.g., mmHg)."""
        if ratio:
            return self.tau_prior
        return None if self.prior_scale is None else TauPrior(self.prior, float(self.prior_scale))

    def describe_bayes(self, ratio: bool = True) -> str:
        """e.g. ``Bayesian RE, half-normal(0.5) prior on τ (log scale), flat prior on μ``."""
        prior = self.prior_for(ratio)
        if prior is None:
            return f"Bayesian RE, {self.prior} prior on \u03c4 (scale not given), flat prior on \u03bc"
        units = "log scale" if ratio else "the difference's units"
        return f"Bayesian RE, {prior.describe()} prior on \u03c4 ({units}), flat prior on \u03bc"

    def describe(self, ratio: bool = True) -> str:
        """One line for an output footer, e.g. ``REML tau² (Q-profile CI); HKSJ t(k-1) CI; ...``."""
        if self.method == "bayes":
            return (f"{self.describe_bayes(ratio)}: posterior median, {_pct(self.level)} equal-tailed credible "
                    f"interval and posterior predictive interval (exact numerical integration)")
        pi = "; prediction interval t(k-2) (Higgins 2009)" if self.prediction and self.method != "fe" else ""
        tau = "" if self.method == "fe" else " τ² (Q-profile CI)"
        return f"{METHOD_LABELS[self.method]}{tau}; {CI_LABELS[self.ci]} CI; {_pct(self.level)} level{pi}"


def _pct(level: float) -> str:
    return f"{level * 100:g}%"



"""How to pool: the statistical choices of a meta-analysis, validated, with their labels.

Kept apart from :mod:`trialmeta.stats.pooling` so the notes (:mod:`trialmeta.stats.notes`) and the
pooling can both read the settings without importing each other. :class:`PoolSettings` is the one
settings type: an analysis's settings in ``analyses.yaml``
(:class:`trialmeta.registry.analyses.Settings`) extend it with how studies are chosen, so an
analysis's settings are passed to the engine as they are.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from trialmeta.errors import InputError, Problem
from trialmeta.stats import engine

METHOD_LABELS = {"fe": "common effect (inverse variance)", "dl": "DerSimonian-Laird",
                 "reml": "REML", "pm": "Paule-Mandel"}
CI_LABELS = {"wald": "Wald z", "hksj": "HKSJ t(k-1)", "hksj-adhoc": "ad-hoc HKSJ t(k-1), never narrower than Wald"}


class PoolSettings(BaseModel):
    """How to pool; the defaults are Cochrane's 2025 RevMan random-effects defaults.

    Parameters
    ----------
    method : {"reml", "dl", "pm", "fe"}
        tau^2 estimator (REML, DerSimonian-Laird, Paule-Mandel) or ``"fe"`` for the
        common-effect (inverse-variance) model.
    ci : {"hksj", "wald", "hksj-adhoc"}
        CI for the pooled effect: HKSJ t(k-1) (= metafor ``test="knha"``), Wald z
        (``test="z"``) or ad-hoc HKSJ, never narrower than Wald (``test="adhoc"``).
    level : float
        Confidence level of every interval (estimate, tau^2, prediction).
    prediction : bool
        Report a prediction interval (random-effects methods, k >= 3).
    tau2_ci : {"qprofile"}
        CI for tau^2: Q-profile (Viechtbauer 2007), the only one implemented.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: str = "reml"
    ci: str = "hksj"
    level: float = 0.95
    prediction: bool = True
    tau2_ci: str = "qprofile"

    def __init__(self, method: str = "reml", ci: str = "hksj", level: float = 0.95, prediction: bool = True,
                 tau2_ci: str = "qprofile", **more):
        """Positional or keyword, e.g. ``PoolSettings("reml", "wald")``; an unknown value raises
        :class:`~trialmeta.errors.InputError` naming the setting (validated files go through
        ``model_validate`` instead, which locates the problem in the file)."""
        allowed = {"method": engine.METHODS, "ci": engine.CI_METHODS, "tau2_ci": ("qprofile",)}
        given = {"method": method, "ci": ci, "tau2_ci": tau2_ci}
        problems = [Problem("pool settings", None, name, f"unknown {name} {given[name]!r}; "
                            f"choose one of {', '.join(values)}")
                    for name, values in allowed.items() if given[name] not in values]
        if not (isinstance(level, (int, float)) and not isinstance(level, bool) and 0.5 <= float(level) < 1.0):
            problems.append(Problem("pool settings", None, "level",
                                    f"level must be in [0.5, 1), e.g. 0.95; got {level!r}"))
        if problems:
            raise InputError(problems)
        super().__init__(method=method, ci=ci, level=level, prediction=prediction, tau2_ci=tau2_ci, **more)

    def describe(self) -> str:
        """One line for an output footer, e.g. ``REML tau² (Q-profile CI); HKSJ t(k-1) CI; ...``."""
        pi = "; prediction interval t(k-2) (Higgins 2009)" if self.prediction and self.method != "fe" else ""
        tau = "" if self.method == "fe" else " τ² (Q-profile CI)"
        return f"{METHOD_LABELS[self.method]}{tau}; {CI_LABELS[self.ci]} CI; {_pct(self.level)} level{pi}"


def _pct(level: float) -> str:
    return f"{level * 100:g}%"



"""Pool your own data from Python: :func:`meta` (effects with a CI or an SE), :func:`meta_binary`
(2x2 counts) and :func:`meta_continuous` (means and SDs), in the spirit of R meta's
``metagen``/``metabin``/``metacont`` and metafor's ``escalc`` + ``rma``/``rma.mh``/``rma.peto``.

Each returns a :class:`MetaResult`: ``.summary`` and ``.studies`` DataFrames (lifelines-style column
names), ``.print_summary()``, an HTML table in notebooks and ``.plot(ax=None)``, the registry's
RevMan-style forest. Nothing here changes matplotlib's backend.

The top layer beside :mod:`trialmeta.cli`; imported lazily by ``trialmeta`` (``tm.meta``...). The result
objects live in :mod:`trialmeta.api_results`, the network API (:func:`netmeta`, :func:`netmeta_arms`) in
:mod:`trialmeta.api_network`; every name is importable from here as before.
"""

from __future__ import annotations

import warnings

import pandas as pd

from trialmeta.api_columns import SOURCE, _records
from trialmeta.api_network import netmeta, netmeta_arms
from trialmeta.api_results import LEGIBLE_PT, LayoutWarning, MetaResult, NetMetaResult, SuspiciousRowWarning
from trialmeta.errors import InputError, Problem
from trialmeta.stats.pooling import PoolSettings
from trialmeta.synthesis.own import pool_studies
from trialmeta.synthesis.owncheck import enforce, sanity_warnings
from trialmeta.synthesis.owndata import check_rows

__all__ = ["meta", "meta_binary", "meta_continuous", "MetaResult", "netmeta", "netmeta_arms", "NetMetaResult",
           "LayoutWarning", "SuspiciousRowWarning", "LEGIBLE_PT", "SOURCE"]


def _settings(method: str, ci: str, level: float, prediction: bool, prior: str = "half-normal",
              prior_scale: float | None = None, bayes_max_k: int = 4) -> PoolSettings:
    """The pool settings, as ``trialmeta pool-table`` builds them (``--prior``, ``--prior-scale``)."""
    return PoolSettings(method=method, ci=ci, level=level, prediction=prediction, prior=prior,
                        prior_scale=prior_scale, bayes_max_k=bayes_max_k)


def _run(df, cols, study, subgroup, measure, pool_method, settings, input_level=0.95,
         double_zero: str = "exclude", strict: bool = False) -> MetaResult:
    extra = {"study": study, "group": subgroup}
    names = {canon: col for canon, col in {**cols, **extra}.items() if col is not None}
    located = lambda problems: [Problem(p.file, None, ", ".join(x for x in (  # noqa: E731
        "" if p.line is None else f"row {df.index[p.line]!r}", repr(names.get(p.path, p.path)) if p.path else "")
        if x), p.message, p.severity) for p in problems]  # the DataFrame's own row labels and columns
    try:
        frame = check_rows(_records(df, cols, extra), measure, SOURCE, input_level)
        found = sanity_warnings(frame, measure, SOURCE, place=lambda i: f"row {df.index[i]!r}")
        _check_prior_scale(settings.prior_scale, measure, frame["se"])
        analysis = pool_studies(frame, measure, pool_method, settings, "group" if subgroup else None, SOURCE,
                                double_zero)
    except InputError as exc:
        raise InputError(located(exc.problems)) from None
    result = MetaResult(analysis, tuple(str(p) for p in enforce(located(found), strict)))
    for text in result.warnings:
        warnings.warn(text, SuspiciousRowWarning, stacklevel=3)
    return result


def _check_prior_scale(scale, measure: str, ses) -> None:
    """The range ``trialmeta pool-table --prior-scale`` accepts: 0.001-10 for a log ratio, an RD or an
    SMD; for an MD (its own units) 0.001-1000 times the studies' median SE."""
    if scale is None:
        return
    from trialmeta.stats.settings import measure_prior_scale_problem

    if why := measure_prior_scale_problem(scale, measure, ses):
        raise InputError([Problem(SOURCE, None, "prior_scale", why)])


def meta(df: pd.DataFrame, study: str = "study", hr: str | None = None, lower: str | None = None,
         upper: str | None = None, *, log_hr: str | None = None, se: str | None = None, subgroup: str | None = None,
         measure: str = "HR", method: str = "reml", ci: str = "hksj", level: float = 0.95,
         input_level: float | str = 0.95, prediction: bool = True, prior: str = "half-normal",
         prior_scale: float | None = None, bayes_max_k: int = 4, strict: bool = False) -> MetaResult:
    """Pool effects given as estimate + CI (``hr``, ``lower``, ``upper``) or log effect + SE (``log_hr``, ``se``).

    ``measure`` names the effect (HR, RR, OR: ratios, pooled on the log scale; RD, MD, SMD: differences).
    ``method`` is the tau² estimator (reml, dl, pm) or fe; ``ci`` hksj, wald or hksj-adhoc (R meta:
    ``metagen(..., method.tau=, method.random.ci=)``). ``input_level`` is the level of the given CIs, or the
    name of a column holding it per row; ``level`` the level of every output interval: changing ``level``
    never changes Q, I² or tau². Suspicious rows (a study listed twice, identical rows, a pooled-summary row,
    a ratio typed as a percentage or outside plausible bounds, a lopsided CI) each give a
    :class:`SuspiciousRowWarning` naming the row (also in ``.warnings``); ``strict=True`` refuses them.
    ``prior`` (half-normal, half-cauchy or uniform) and ``prior_scale`` set the prior on τ of the Bayesian model
    (``method="bayes"``, and the sensitivity line of groups with k <= ``bayes_max_k``), as ``pool-table
    --prior/--prior-scale``: ``prior_scale`` is in the units pooled, 0.5 by default for ratios (log scale);
    a difference (RD, MD, SMD) has no default and needs it stated in its own units.

    Examples
    --------
    >>> import pandas as pd, trialmeta as tm
    >>> df = pd.DataFrame({"study": ["A", "B", "C"], "HR": [0.7, 0.8, 0.9],
    ...                    "lo": [0.5, 0.6, 0.7], "hi": [0.98, 1.07, 1.16]})
    >>> r = tm.meta(df, hr="HR", lower="lo", upper="hi", method="dl", ci="wald")
    >>> round(float(r.summary.loc[0, "exp(coef)"]), 3)  # R: exp(rma(log(HR), sei = ..., method = "DL")$beta)
    0.815
    """
    if (hr is None) == (log_hr is None):
        raise TypeError("give either hr= with lower= and upper=, or log_hr= with se=")
    if hr is not None:
        if lower is None or upper is None:
            raise TypeError("hr= needs lower= and upper=")
        cols = {"hr": hr, "ci_low": lower, "ci_high": upper}
        if isinstance(input_level, str):
            cols["ci_level"] = input_level
            input_level = 0.95
    else:
        if se is None:
            raise TypeError("log_hr= needs se=")
        cols = {"log_hr": log_hr, "se": se}
    return _run(df, cols, study, subgroup, measure.upper(), "iv",
                _settings(method, ci, level, prediction, prior, prior_scale, bayes_max_k), float(input_level),
                strict=strict)


def meta_binary(df: pd.DataFrame, events_exp: str, n_exp: str, events_ctrl: str, n_ctrl: str, *,
                study: str = "study", subgroup: str | None = None, measure: str = "RR", method: str = "MH",
                tau2: str = "reml", ci: str = "hksj", level: float = 0.95, prediction: bool = True,
                prior: str = "half-normal", prior_scale: float | None = None, bayes_max_k: int = 4,
                double_zero: str = "exclude", strict: bool = False) -> MetaResult:
    """Pool 2x2 counts: ``measure`` RR, OR or RD; ``method`` MH (Mantel-Haenszel, RevMan's default), Peto (OR
    only) or IV (inverse variance with ``tau2`` = reml, dl, pm, fe or bayes and ``ci``). Per-study effects are
    metafor's ``escalc`` (0.5 added to zero-cell studies only); MH/Peto match ``rma.mh``/``rma.peto``.
    ``double_zero``: RR/OR studies with no events in either arm are "exclude"-d as not estimable (RevMan,
    R meta) or "include"-d with 0.5 added to every cell (metafor); RD keeps them; a note says which.
    ``strict`` as :func:`meta`.
    ``prior`` (half-normal, half-cauchy or uniform) and ``prior_scale`` set the prior on τ of the Bayesian model
    (``method="bayes"``, and the sensitivity line of groups with k <= ``bayes_max_k``), as ``pool-table
    --prior/--prior-scale``: ``prior_scale`` is in the units pooled, 0.5 by default for ratios (log scale);
    a difference (RD, MD, SMD) has no default and needs it stated in its own units.
    """
    cols = {"events_exp": events_exp, "n_exp": n_exp, "events_ctrl": events_ctrl, "n_ctrl": n_ctrl}
    return _run(df, cols, study, subgroup, measure.upper(), method.lower(),
                _settings(tau2, ci, level, prediction, prior, prior_scale, bayes_max_k), double_zero=double_zero,
                strict=strict)


def meta_continuous(df: pd.DataFrame, mean_exp: str, sd_exp: str, n_exp: str, mean_ctrl: str, sd_ctrl: str,
                    n_ctrl: str, *, study: str = "study", subgroup: str | None = None, measure: str = "MD",
                    method: str = "reml", ci: str = "hksj", level: float = 0.95,
                    prediction: bool = True, prior: str = "half-normal", prior_scale: float | None = None,
                    bayes_max_k: int = 4, strict: bool = False) -> MetaResult:
    """Pool means: ``measure`` MD (mean difference) or SMD (Hedges' g, exact bias correction; metafor
    ``escalc("SMD")``), by inverse variance (``method`` reml, dl, pm, fe or bayes; ``ci``).
    ``prior`` (half-normal, half-cauchy or uniform) and ``prior_scale`` set the prior on τ of the Bayesian model
    (``method="bayes"``, and the sensitivity line of groups with k <= ``bayes_max_k``), as ``pool-table
    --prior/--prior-scale``: ``prior_scale`` is in the units pooled, 0.5 by default for ratios (log scale);
    a difference (RD, MD, SMD) has no default and needs it stated in its own units.
    """
    cols = {"mean_exp": mean_exp, "sd_exp": sd_exp, "n_exp": n_exp, "mean_ctrl": mean_ctrl, "sd_ctrl": sd_ctrl,
            "n_ctrl": n_ctrl}
    return _run(df, cols, study, subgroup, measure.upper(), "iv",
                _settings(method, ci, level, prediction, prior, prior_scale, bayes_max_k), strict=strict)

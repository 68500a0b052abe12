"""Pooled results: frozen result types and pooling (settings: :mod:`trialmeta.stats.settings`; (subgroup tests: :mod:`trialmeta.stats.subgroups`).

Pure: the numbers come from :mod:`trialmeta.stats.engine` (the one module that imports PyMARE).
Ratios are pooled on the log scale (log hazard ratio, log risk ratio, ...) and reported
on both scales: ``log_est``/``se``/``log_ci_*`` and ``est``/``ci_*`` (= exp). Differences
(RD, MD, SMD; ``ratio=False``) are pooled on their own scale and never pass through exp():
``est``/``ci_*`` are then the ``log_*`` values themselves (the "pooled scale" and the
measure's scale coincide).

References
----------
DerSimonian R, Laird N. Control Clin Trials 1986;7:177-88 (DL).
Paule RC, Mandel J. J Res Natl Bur Stand 1982;87:377-85 (PM).
Viechtbauer W. Stat Med 2007;26:37-52 (Q-profile CI for tau^2).
Hartung J, Knapp G. Stat Med 2001;20:3875-89; Sidik K, Jonkman JN. Stat Med 2002;21:3153-9.
Higgins JPT, Thompson SG, Spiegelhalter DJ. JRSS A 2009;172:137-59 (prediction interval).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from trialmeta.stats import bayes as _bayes
from trialmeta.stats import engine, formulas
from trialmeta.stats.effects import LOG_MAX
from trialmeta.stats.scale import BayesSummary, bayes_summary, to_measure
from trialmeta.stats.notes import Note, NoteKind, bayes_notes, pool_notes
from trialmeta.fmt import finite_or_none
from trialmeta.errors import PoolingError
from trialmeta.stats.settings import PoolSettings, _pct


@dataclass(frozen=True)
class GroupResult:
    """One pooled group. Log scale: ``log_*``, ``se``; ratio scale: ``est``, ``ci_*``, ``pi_*``.

    ``se`` is the SE the CI uses (HKSJ-scaled under HKSJ); ``se_wald = 1/sqrt(sum w)`` is
    the inverse-variance SE (used by the prediction interval and the subgroup test).
    ``stat``/``stat_name`` is z or t, ``df_test`` its degrees of freedom (None for z).
    ``q`` is Cochran's Q with ``df = k - 1``. ``i2`` (percent) and ``h2`` are computed as
    metafor and RevMan 2025 do: from tau^2 under random effects, ``100 tau2/(tau2 + s2)``
    and ``(tau2 + s2)/s2`` with ``s2`` the typical within-study variance (Higgins &
    Thompson 2002), from Q under the common-effect model; ``i2_q = 100 max(0, (Q - df)/Q)``
    and ``h2_q = Q/df`` are the Q-based values for every model. ``weights`` are percentages in input
    order. ``None`` where undefined: heterogeneity for k = 1, the prediction interval for
    k < 3 or a common-effect model, tau^2 and its CI for a common-effect model.
    ``wald_ci_*`` is the Wald (z) interval with the same tau^2 (``exp(log_est +- z se_wald)``),
    beside the HKSJ one; ``bayes`` the Bayesian result with the settings' prior on tau (groups
    with k <= ``bayes_max_k``, whatever the method, and every group under ``method="bayes"``;
    ``None`` otherwise, so large batches do not pay for the integration). Under ``method="bayes"`` the estimate, CI, PI and tau^2 (its
    posterior median, with the credible interval as ``tau2_ci_*``) are the Bayesian ones,
    ``ci_method`` is ``"credible"``, ``stat`` and ``p`` are undefined and the Wald interval
    uses the REML tau^2.
    """

    group: str | None
    k: int
    method: str
    ci_method: str
    level: float
    log_est: float | None
    se: float | None
    se_wald: float | None
    log_ci_low: float | None
    log_ci_high: float | None
    est: float | None
    ci_low: float | None
    ci_high: float | None
    stat: float | None
    stat_name: str
    df_test: int | None
    p: float | None
    tau2: float | None
    tau2_ci_low: float | None
    tau2_ci_high: float | None
    q: float | None
    df: int | None
    q_p: float | None
    i2: float | None
    h2: float | None
    i2_q: float | None
    h2_q: float | None
    log_pi_low: float | None
    log_pi_high: float | None
    pi_low: float | None
    pi_high: float | None
    weights: tuple
    notes: tuple  # of trialmeta.stats.notes.Note
    wald_ci_low: float | None = None
    wald_ci_high: float | None = None
    bayes: BayesSummary | None = None
    ratio: bool = True  # False: a difference, est/ci_*/pi_*/wald_ci_* = the log_* values (never exp'd)
    s2: float | None = None  # the typical within-study variance I² and H² are computed with (formulas)

    @property
    def summary(self) -> pd.DataFrame:
        """One-row frame with both scales and the CI level in the names (lifelines style)."""
        lv = _pct(self.level)
        row = {"group": self.group, "k": self.k, "method": self.method, "ci_method": self.ci_method,
               "est": self.log_est, "se(est)": self.se, f"est lower {lv}": self.log_ci_low,
               f"est upper {lv}": self.log_ci_high, "exp(est)": self.est,
               f"exp(est) lower {lv}": self.ci_low, f"exp(est) upper {lv}": self.ci_high,
               self.stat_name: self.stat, "df(test)": self.df_test, "p": self.p, "tau2": self.tau2,
               f"tau2 lower {lv}": self.tau2_ci_low, f"tau2 upper {lv}": self.tau2_ci_high,
               "Q": self.q, "df(Q)": self.df, "p(Q)": self.q_p, "I2 (%)": self.i2, "H2": self.h2,
               "I2 Q-based (%)": self.i2_q, "H2 Q-based": self.h2_q,
               f"est PI lower {lv}": self.log_pi_low, f"est PI upper {lv}": self.log_pi_high,
               f"exp(est) PI lower {lv}": self.pi_low, f"exp(est) PI upper {lv}": self.pi_high,
               f"exp(est) Wald lower {lv}": self.wald_ci_low, f"exp(est) Wald upper {lv}": self.wald_ci_high}
        b = self.bayes
        row.update({f"Bayes {part}": None if b is None else getattr(b, attr) for part, attr in (
            ("prior", "prior"), ("exp(median)", "est"), (f"exp(median) lower {lv}", "ci_low"),
            (f"exp(median) upper {lv}", "ci_high"), ("P(exp(est) < 1)", "p_below_null"))})
        return pd.DataFrame([row])


def _result(b: engine.Batch, i: int, s: PoolSettings, group: str | None,
            by: BayesSummary | None = None, ratio: bool = True) -> GroupResult:
    k = int(b.k[i])
    if b.reason[i] is not None:
        raise PoolingError(f"cannot pool {group or f'analysis {i}'}: {b.reason[i]}")
    v = {name: finite_or_none(getattr(b, name)[i]) for name in engine.FIELDS if name not in ("k", "converged", "tau2_ci_null")}
    fe = s.method == "fe"
    t_test = s.ci != "wald" and k > 1
    half = float(stats.norm.isf((1 - s.level) / 2)) * v["se_wald"]
    conv = to_measure(ratio)
    overflow = ratio and any(x is not None and x > LOG_MAX for x in (v["est"], v["ci_high"], v["pi_high"]))
    r = GroupResult(
        group=group, k=k, method=s.method, ci_method=s.ci if k > 1 else "wald", level=s.level,
        log_est=v["est"], se=v["se"], se_wald=v["se_wald"], log_ci_low=v["ci_low"],
        log_ci_high=v["ci_high"], est=conv(v["est"]), ci_low=conv(v["ci_low"]),
        ci_high=conv(v["ci_high"]), stat=v["stat"], stat_name="t" if t_test else "z",
        df_test=None if v["df_test"] is None else int(v["df_test"]), p=v["p"], tau2=None if fe else v["tau2"],
        tau2_ci_low=v["tau2_ci_low"], tau2_ci_high=v["tau2_ci_high"], q=v["q"],
        df=None if k == 1 else k - 1, q_p=v["q_p"], i2=v["i2"], h2=v["h2"],
        i2_q=v["i2_q"], h2_q=v["h2_q"],
        log_pi_low=v["pi_low"], log_pi_high=v["pi_high"], pi_low=conv(v["pi_low"]),
        pi_high=conv(v["pi_high"]), weights=tuple(float(x) for x in b.study_weights(i)),
        notes=pool_notes(b, i, s, ratio) + ((Note(NoteKind.RATIO_OVERFLOW),) if overflow else ()),
        wald_ci_low=conv(v["est"] - half), wald_ci_high=conv(v["est"] + half), bayes=by, ratio=ratio, s2=v["s2"])
    if s.method == "bayes" and by is None:  # never the REML numbers under a Bayesian method line
        raise PoolingError(f"cannot pool {group or f'analysis {i}'}: the Bayesian posterior could not be "
                           f"evaluated with the {s.tau_prior.describe()} prior on tau")
    if s.method != "bayes" or by is None:
        return replace(r, notes=r.notes + bayes_notes(r, s))
    tau2 = by.tau ** 2
    s2 = v["s2"]
    i2 = None if s2 is None else formulas.i2_from_tau2(tau2, s2)
    return replace(r, ci_method="credible", log_est=by.log_est, se=by.log_sd, log_ci_low=by.log_ci_low,
                   log_ci_high=by.log_ci_high, est=by.est, ci_low=by.ci_low, ci_high=by.ci_high, stat=None,
                   stat_name="z", df_test=None, p=None, tau2=tau2, tau2_ci_low=by.tau_ci_low ** 2,
                   tau2_ci_high=by.tau_ci_high ** 2, i2=i2, h2=None if s2 is None else formulas.h2_from_tau2(tau2, s2),
                   log_pi_low=by.log_pi_low, log_pi_high=by.log_pi_high, pi_low=by.pi_low,
                   pi_high=by.pi_high, notes=bayes_notes(r, s))


def as_effects(yi, sei, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Check and convert log effects and SEs; ``where`` names the input in errors.

    Raises
    ------
    PoolingError
        Mismatched lengths, no studies, a non-finite value or an SE <= 0.
    """
    y, se = np.asarray(yi, dtype=float).ravel(), np.asarray(sei, dtype=float).ravel()
    if y.size != se.size:
        raise PoolingError(f"{where}: {y.size} estimates but {se.size} standard errors")
    if y.size == 0:
        raise PoolingError(f"{where}: no studies to pool")
    bad = np.flatnonzero(~np.isfinite(y) | ~np.isfinite(se) | ~(se > 0))
    if bad.size:
        j = int(bad[0])
        raise PoolingError(f"{where}: study {j + 1} has estimate {float(y[j])!r} and SE {float(se[j])!r}; estimates "
                           f"must be finite and SEs finite and > 0 ({bad.size} such studies)")
    return y, se


def pool(yi, sei, settings: PoolSettings | None = None, group: str | None = None, *,
         ratio: bool = True) -> GroupResult:
    """Pool one set of log effects (or differences, ``ratio=False``).

    Parameters
    ----------
    yi, sei : array-like of float
        Log effects (e.g. log HR) and their standard errors; differences (RD, MD, SMD) with
        ``ratio=False``, which are then reported on their own scale (never exponentiated).
    settings : PoolSettings, optional
        Defaults to ``PoolSettings()`` (REML, HKSJ, Q-profile, prediction interval).
    group : str, optional
        Label carried into the result.

    Returns
    -------
    GroupResult

    Raises
    ------
    PoolingError
        Empty input, mismatched lengths, a non-finite value or an SE <= 0.

    Examples
    --------
    >>> r = pool([-0.592, -0.0791, -0.237, 0.163], [0.345, 0.0787, 0.144, 0.312],
    ...          PoolSettings(method="fe", ci="wald"))
    >>> round(r.est, 4), round(r.p, 4)
    (0.8865, 0.0688)
    """
    return pool_many([(yi, sei)], settings, None if group is None else [group], ratio=ratio)[0]


def pool_many(analyses: Sequence[tuple], settings: PoolSettings | None = None,
              groups: Sequence[str | None] | None = None, *, ratio: bool = True) -> list[GroupResult]:
    """Pool many analyses in vectorised passes (one per distinct k).

    Parameters
    ----------
    analyses : sequence of (yi, sei)
    settings : PoolSettings, optional
    groups : sequence of str, optional
        One label per analysis.
    ratio : bool
        True: log ratios, reported also as exp; False: differences, reported as they are. The
        Bayesian model of a difference needs ``settings.prior_scale`` in the difference's units:
        without it the few-study line is left out (with a note) and ``method="bayes"`` raises.

    Returns
    -------
    list of GroupResult
        In input order.

    Raises
    ------
    PoolingError
        Naming every invalid analysis (all are checked before any is pooled); ``method="bayes"`` for a
        difference without a prior scale.
    """
    s = settings or PoolSettings()
    prior = s.prior_for(ratio)
    if prior is None and s.method == "bayes":
        raise PoolingError("prior_scale: a Bayesian analysis of a difference (RD, MD, SMD) needs the scale of its "
                           "prior on \u03c4 in the difference's own units (e.g. --prior-scale 5 for a mean difference "
                           "in mmHg); the default 0.5 is meant for log ratios and would be an arbitrary, "
                           "unit-dependent assumption here")
    groups = list(groups) if groups is not None else [None] * len(analyses)
    if len(groups) != len(analyses):
        raise PoolingError(f"{len(analyses)} analyses but {len(groups)} group labels")
    pairs, errors = [], []
    for i, ((y, se), g) in enumerate(zip(analyses, groups)):
        try:
            pairs.append(as_effects(y, se, g or f"analysis {i + 1}"))
        except PoolingError as exc:
            errors.append(str(exc))
    if errors:
        raise PoolingError("; ".join(errors))
    ys, vs = [p[0] for p in pairs], [p[1] ** 2 for p in pairs]
    # method "bayes": the frequentist columns (Q, the Wald and HKSJ comparison) come from REML
    b = engine.fit_batch(ys, vs, method="reml" if s.method == "bayes" else s.method, ci=s.ci,
                         level=s.level, prediction=s.prediction)
    # the Bayesian model (numerical integration, the costly part) where it is shown: every group under
    # method "bayes", else the few-studies groups (k <= bayes_max_k: its sensitivity line and JSON)
    need = [i for i, y in enumerate(ys) if prior is not None and (s.method == "bayes" or len(y) <= s.bayes_max_k)]
    bayes = [None] * len(ys)
    if need:
        bb = _bayes.fit_bayes([ys[i] for i in need], [vs[i] for i in need], prior=prior, level=s.level)
        for j, i in enumerate(need):
            bayes[i] = bayes_summary(bb, j, s, ratio)
    return [_result(b, i, s, g, bayes[i], ratio) for i, g in enumerate(groups)]


def summary_frame(results: Sequence[GroupResult]) -> pd.DataFrame:
    """Stack the ``.summary`` rows of several results (e.g. leave-one-out) into one tidy frame."""
    if not results:
        return pd.DataFrame()
    frames = [r.summary for r in results]
    if not frames:
        return pd.DataFrame()
    # (records, not pd.concat, which warns on all-NA columns such as the PI for k = 2)
    return pd.DataFrame([rec for f in frames for rec in f.to_dict(orient="records")], columns=frames[0].columns)

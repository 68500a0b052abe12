"""Tests for subgroup differences: Q-between on separately pooled subgroups, or a moderator.

Two different questions, reported under different names so they cannot be confused
(BCG vaccine trials by allocation, metafor ``dat.bcg`` as in the ``rma.uni`` documentation): Q-between on subgroup estimates pooled with separate
tau^2 (RevMan, meta ``test.subgroup``) gives 19.87 (FE within), 1.54 (DL), 1.86 (REML);
the common-tau^2 moderator model (metafor ``mods = ~ factor(g)``) gives QM = 1.77.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats

from trialmeta.stats import engine
from trialmeta.stats import tau2 as tau2_mod
from trialmeta.errors import PoolingError
from trialmeta.stats.pooling import GroupResult, as_effects
from trialmeta.stats.settings import CI_LABELS, METHOD_LABELS, PoolSettings


@dataclass(frozen=True)
class SubgroupTest:
    """Test for subgroup differences: ``Q_between ~ chi²(J - 1)``; ``i2_between`` in percent."""

    q_between: float
    df_between: int
    p_between: float
    i2_between: float
    groups: tuple
    method: str


def subgroup_test(results: Sequence[GroupResult], se: str = "wald") -> SubgroupTest:
    """Q-between on subgroup pooled estimates (Cochrane / RevMan / meta ``test.subgroup``).

    Parameters
    ----------
    results : sequence of GroupResult
        One per subgroup (J >= 2), each pooled separately (separate tau^2).
    se : {"wald", "reported"}
        Weights ``w_j = 1/SE_j²`` with the inverse-variance (Wald) SE ``se_wald``
        (default), or with the SE the subgroup CI used (``se``, HKSJ-scaled under HKSJ).

    Returns
    -------
    SubgroupTest
        ``Q_between = sum w_j (theta_j - theta_bar)²``, ``theta_bar = sum w_j theta_j / sum w_j``,
        df = J - 1.

    Notes
    -----
    With common-effect subgroups this is the classic Q partition; with random-effects
    subgroups it compares subgroup estimates that each carry their own tau^2 (Borenstein &
    Higgins 2013). It answers a different question from :func:`moderator_test` (common
    tau^2): on the BCG data 19.87 (FE within), 1.54 (DL), 1.86 (REML) vs QM 1.77.
    """
    if se not in ("wald", "reported"):
        raise ValueError(f"se must be 'wald' or 'reported', got {se!r}")
    if len(results) < 2:
        raise PoolingError(f"a subgroup test needs at least 2 subgroups, got {len(results)}")
    theta = np.array([r.log_est for r in results], dtype=float)
    s = np.array([r.se_wald if se == "wald" else r.se for r in results], dtype=float)
    if not (np.isfinite(theta).all() and np.isfinite(s).all() and (s > 0).all()):
        raise PoolingError("every subgroup needs a finite estimate and an SE > 0")
    w = 1.0 / s ** 2
    q = float((w * (theta - (w * theta).sum() / w.sum()) ** 2).sum())
    df = len(results) - 1
    methods = sorted({f"{METHOD_LABELS[r.method]}" + ("" if r.method == "fe" else " τ²") for r in results})
    se_text = "inverse-variance (Wald) SE" if se == "wald" else "SE as used by each subgroup CI"
    return SubgroupTest(q, df, float(stats.chi2.sf(q, df)), 100.0 * max(0.0, (q - df) / q) if q > 0 else 0.0,
                        tuple(r.group for r in results),
                        f"Q-between on subgroup pooled estimates (w = 1/SE², {se_text}, separate τ² "
                        f"per subgroup, method {', '.join(methods)})")


@dataclass(frozen=True)
class ModeratorTest:
    """Omnibus test of a subgroup factor in one model with a common tau^2.

    ``stat_name`` is ``"QM"`` (chi²(df_num)) under Wald or ``"F"`` (F(df_num, df_den)) under
    HKSJ; ``qe``/``qe_df``/``qe_p`` test residual heterogeneity.
    """

    stat: float
    stat_name: str
    df_num: int
    df_den: int | None
    p: float
    tau2: float
    qe: float
    qe_df: int
    qe_p: float
    groups: tuple
    method: str


def moderator_test(yi, sei, groups: Sequence, settings: PoolSettings | None = None) -> ModeratorTest:
    """Common-tau^2 subgroup test: metafor ``rma(yi, sei=, mods = ~ factor(g), method=, test=)``.

    Parameters
    ----------
    yi, sei : array-like of float
    groups : sequence
        Subgroup label per study (>= 2 distinct); the first level seen is the reference.
    settings : PoolSettings, optional
        ``method`` estimates the common tau^2; ``ci`` "wald" gives QM ~ chi²(J - 1), HKSJ
        gives F = QM/(J - 1) ~ F(J - 1, k - J) with the KNHA-scaled covariance.

    Returns
    -------
    ModeratorTest
    """
    s = settings or PoolSettings()
    y, se = as_effects(yi, sei, "moderator test")
    labels = list(dict.fromkeys(groups))
    if len(groups) != y.size or len(labels) < 2 or y.size <= len(labels):
        raise PoolingError(f"moderator test needs one label per study, >= 2 subgroups and more studies "
                           f"than subgroups; got {y.size} studies, {len(groups)} labels, {len(labels)} subgroups")
    X = np.column_stack([np.ones(y.size)] + [[g == lab for g in groups] for lab in labels[1:]]).astype(float)
    m = _fit_moderators(y, se ** 2, X, method=s.method, ci=s.ci)
    return ModeratorTest(stat=m["stat"], stat_name=m["stat_name"], df_num=m["df_num"], df_den=m["df_den"],
                         p=m["p"], tau2=m["tau2"], qe=m["qe"], qe_df=m["qe_df"], qe_p=m["qe_p"],
                         groups=tuple(labels),
                         method=f"moderator test, common τ² ({METHOD_LABELS[s.method]}), {CI_LABELS[s.ci]}")


def _fit_moderators(y: np.ndarray, v: np.ndarray, X: np.ndarray, *, method: str, ci: str) -> dict:
    """One mixed-effects meta-regression; omnibus test of every column of ``X`` but the first.

    Parameters
    ----------
    y, v : ndarray, shape (k,)
        Log effects and variances.
    X : ndarray, shape (k, p)
        Design with an intercept first column (e.g. dummies of a subgroup factor).
    method, ci
        As :func:`trialmeta.stats.engine.fit_batch`; tau^2 is common to all rows.

    Returns
    -------
    dict
        ``stat`` and ``stat_name`` (``"QM"`` ~ chi²(p-1) under Wald; ``"F"`` = QM/(p-1) ~
        F(p-1, k-p) under HKSJ, where QM uses the KNHA-scaled covariance, as metafor),
        ``df_num``, ``df_den``, ``p``, ``tau2``, ``qe``, ``qe_df``, ``qe_p``.
    """
    k, p = X.shape
    y2, v2 = y[:, None], v[:, None]
    tau2, params, _ = engine.pymare_fit(y2, v2, method, ci, X)
    beta, cov = params["fe_params"][1:, 0], params["inv_cov"][1:, 1:, 0]
    qm = float(beta @ np.linalg.solve(cov, beta))
    m = p - 1
    if ci == "wald":
        out = {"stat": qm, "stat_name": "QM", "df_den": None, "p": float(stats.chi2.sf(qm, m))}
    else:
        out = {"stat": qm / m, "stat_name": "F", "df_den": k - p,
               "p": float(stats.f.sf(qm / m, m, k - p))}
    qe = float(tau2_mod.q_gen(y2, v2, 0.0, X)[0])
    out.update(df_num=m, tau2=float(tau2[0]), qe=qe, qe_df=k - p, qe_p=float(stats.chi2.sf(qe, k - p)))
    return out

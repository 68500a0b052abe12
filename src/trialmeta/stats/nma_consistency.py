"""Consistency of a network meta-analysis: the design-by-treatment decomposition of Q and node-splitting.

* :func:`decompose_q` (Krahn, Binder & König, BMC Med Res Methodol 2013;13:35): the common-effect
  generalised Q of the consistency model splits into heterogeneity within designs (each design, i.e.
  set of treatments compared in a study, fitted on its own with all its contrasts free) and the
  design-by-treatment inconsistency between designs, ``Q_inc = Q_total - sum(Q_within)``.
* :func:`q_between_random`: the same between-designs Q with the between-study variance tau^2 added to
  the within-study covariance (``V = S + tau^2 M``; Krahn 2013, Higgins et al. 2012): the
  generalised residual Q of the consistency model minus that of the full design-by-treatment
  interaction model (every design its own treatment effects), both fitted by GLS at that fixed
  tau^2 (= the Wald test of the interaction terms). At tau^2 = 0 it is ``Q_inc``.
* :func:`node_split` (netmeta ``netsplit``, SIDE by back-calculation; Dias et al. 2010, König et al.
  2013): for every comparison with direct evidence, the direct estimate is the inverse-variance
  mean of the studies' pairwise effects with Rücker's reduced weights (multi-arm studies split
  their information over their pairs) at the network's tau^2; the indirect estimate is
  back-calculated from the network estimate: ``1/v_ind = 1/v_nma - 1/v_dir``,
  ``y_ind = v_ind (y_nma/v_nma - y_dir/v_dir)``; the difference direct - indirect gets a z-test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from trialmeta.stats.nma import NMAFit, _blocks, _gls


@dataclass(frozen=True)
class DesignQ:
    design: tuple[str, ...]
    studies: int
    q: float
    df: int

    @property
    def p(self) -> float:
        return float(stats.chi2.sf(self.q, self.df)) if self.df > 0 else float("nan")


@dataclass(frozen=True)
class QDecomposition:
    q_total: float
    df_total: int
    q_within: float
    df_within: int
    q_between: float
    df_between: int
    designs: tuple[DesignQ, ...]

    @staticmethod
    def _p(q, df):
        return float(stats.chi2.sf(q, df)) if df > 0 else float("nan")

    @property
    def p_total(self) -> float:
        return self._p(self.q_total, self.df_total)

    @property
    def p_within(self) -> float:
        return self._p(self.q_within, self.df_within)

    @property
    def p_between(self) -> float:
        return self._p(self.q_between, self.df_between)


def decompose_q(fit: NMAFit) -> QDecomposition:
    """Krahn 2013's decomposition of the common-effect Q into within-design and between-design parts."""
    net = fit.network
    arms = net.study_arms()
    design_of = [tuple(sorted(set(a.tolist()))) for a in arms]
    out = []
    for design in sorted(set(design_of)):
        sids = [s for s, d in enumerate(design_of) if d == design]
        rows = np.flatnonzero(np.isin(net.study, sids))
        X = np.zeros((len(rows), len(design)))
        col = {t: i for i, t in enumerate(design)}
        X[np.arange(len(rows)), [col[t] for t in net.treat[rows]]] += 1.0
        X[np.arange(len(rows)), [col[t] for t in net.base[rows]]] -= 1.0
        X = X[:, 1:]
        y, Si = net.y[rows], np.linalg.inv(net.S[np.ix_(rows, rows)])
        beta = np.linalg.solve(X.T @ Si @ X, X.T @ Si @ y)
        r = y - X @ beta
        out.append(DesignQ(tuple(net.treatments[t] for t in design), len(sids), float(r @ Si @ r),
                           len(rows) - X.shape[1]))
    q_within = float(sum(d.q for d in out))
    df_within = sum(d.df for d in out)
    return QDecomposition(fit.Q, fit.df, q_within, df_within, fit.Q - q_within, fit.df - df_within, tuple(out))


def interaction_design(fit: NMAFit) -> np.ndarray:
    """Design matrix of the full design-by-treatment interaction model: for every design, one column per
    treatment of that design except its first (sorted), +1 for the arm and -1 for the baseline."""
    net = fit.network
    designs = [tuple(sorted(set(a.tolist()))) for a in net.study_arms()]
    did = {d: i for i, d in enumerate(sorted(set(designs)))}
    first = np.array([d[0] for d in sorted(did)])
    row_design = np.array([did[d] for d in designs])[net.study]
    n = len(net.treatments)
    keys = np.concatenate((row_design * n + net.treat, row_design * n + net.base))
    sign = np.concatenate((np.ones(len(net.y)), -np.ones(len(net.y))))
    keep = keys % n != first[keys // n]  # the design's first treatment is its own reference
    cols, col = np.unique(keys[keep], return_inverse=True)
    X = np.zeros((len(net.y), len(cols)))
    np.add.at(X, (np.tile(np.arange(len(net.y)), 2)[keep], col), sign[keep])
    return X


def q_between_random(fit: NMAFit, tau2: float | None = None) -> tuple[float, int, float]:
    """Between-designs Q of the random-effects model at ``tau2`` (default: the fit's tau^2 of the consistency
    model): ``Q_cons(tau2) - Q_interaction(tau2)`` with ``V = S + tau2 M``. Returns ``(Q, df, p)``."""
    net = fit.network
    tau2 = fit.tau2 if tau2 is None else float(tau2)
    if not np.isfinite(tau2) or tau2 < 0:
        raise ValueError(f"tau2 must be a finite number >= 0, not {tau2!r}")
    V, blocks = net.S + tau2 * net.M, _blocks(net.study)
    q = []
    for X in (net.design(fit.reference), interaction_design(fit)):
        beta, _, Vi = _gls(X, V, net.y, blocks)
        r = net.y - X @ beta
        q.append(float(r @ Vi @ r))
        q.append(X.shape[1])
    qb, df = max(q[0] - q[2], 0.0), q[3] - q[1]
    return qb, int(df), float(stats.chi2.sf(qb, df)) if df > 0 else float("nan")


@dataclass(frozen=True)
class SplitRow:
    treat1: str
    treat2: str
    k: int  # studies with direct evidence
    nma: float
    nma_se: float
    direct: float
    direct_se: float
    indirect: float  # nan when all the evidence is direct
    indirect_se: float
    prop_direct: float  # v_nma / v_dir

    @property
    def diff(self) -> float:
        return self.direct - self.indirect

    @property
    def diff_se(self) -> float:
        return float(np.hypot(self.direct_se, self.indirect_se))

    @property
    def p(self) -> float:
        return float(2 * stats.norm.sf(abs(self.diff / self.diff_se))) if np.isfinite(self.indirect) else float("nan")


def node_split(fit: NMAFit, tol: float = 1e-9) -> list[SplitRow]:
    """Direct, indirect (back-calculated) and network estimates of every directly compared pair (treat1 vs treat2,
    in treatment order), with model-based SEs at the fit's tau^2."""
    net = fit.network
    s, t1, t2, te, w = net.pairwise(fit.tau2)
    lo, hi = np.minimum(t1, t2), np.maximum(t1, t2)
    te = np.where(t1 == lo, te, -te)  # every pairwise effect as (lower index) - (higher index)
    key = lo * len(net.treatments) + hi
    pairs, inv = np.unique(key, return_inverse=True)
    sw = np.bincount(inv, weights=w)
    y_dir, v_dir = np.bincount(inv, weights=w * te) / sw, 1.0 / sw
    k = np.array([len(set(s[inv == i])) for i in range(len(pairs))])
    a, b = pairs // len(net.treatments), pairs % len(net.treatments)
    y_nma = fit.d[a] - fit.d[b]
    v_nma = fit.cov[a, a] + fit.cov[b, b] - 2 * fit.cov[a, b]
    with np.errstate(divide="ignore", invalid="ignore"):
        prec_ind = 1.0 / v_nma - 1.0 / v_dir
        ok = prec_ind > tol / v_nma
        v_ind = np.where(ok, 1.0 / prec_ind, np.nan)
        y_ind = np.where(ok, v_ind * (y_nma / v_nma - y_dir / v_dir), np.nan)
    return [SplitRow(net.treatments[a[i]], net.treatments[b[i]], int(k[i]), float(y_nma[i]), float(np.sqrt(v_nma[i])),
                     float(y_dir[i]), float(np.sqrt(v_dir[i])), float(y_ind[i]), float(np.sqrt(v_ind[i])),
                     float(min(1.0, v_nma[i] / v_dir[i]))) for i in range(len(pairs))]

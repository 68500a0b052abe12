"""Contrast-based frequentist network meta-analysis (NMA): the consistency model, fitted at once.

Data: each study contributes its contrasts against one baseline arm, ``y`` (arm - baseline),
with their within-study covariance ``S`` (block diagonal; two contrasts of one multi-arm study
share the baseline arm's variance). Model (metafor's contrast-based NMA on the help pages of
``dat.senn2013`` and ``dat.hasselblad1998``)::

    y = X d + delta + e,   e ~ N(0, S),   delta ~ N(0, tau^2 M)

``d`` are the treatments' effects against the reference, ``X`` has +1 for the arm and -1 for the
baseline (the reference's column dropped) and ``M`` has 1 on the diagonal and 1/2 between two
contrasts of one study: a common heterogeneity tau^2 for every comparison (R:
``rma.mv(yi, V, mods = ~ ... - 1, random = ~ comp | study, rho = 1/2)``).

tau^2 estimators:

* ``"reml"``: the root of the restricted-likelihood score (a Brent root search, so tau^2 is
  exact to rounding, where metafor stops its nlminb search at ``rel.tol``);
* ``"dl"``: netmeta's generalised DerSimonian-Laird (Rücker 2012; Jackson, White & Riley 2013),
  ``max(0, (Q - df) / tr((I - H) (B B' o E / 2) W))`` in the space of all pairwise comparisons
  with Rücker's reduced weights ``W`` (``B`` the comparison-treatment incidence, ``E`` 1 for two
  comparisons of one study, ``H`` the common-effect hat matrix);
* ``"fe"``: the common-effect model (tau^2 = 0).

Intervals: Wald (normal) or HKSJ-type (the covariance scaled by the generalised Q at tau^2 over
its df, ``t(df)``; ``"hksj-adhoc"`` never narrower than Wald). Prediction intervals:
``d +- crit * sqrt(se^2 + tau^2)`` (metafor ``predict.rma`` under Wald).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse, stats

from trialmeta.errors import PoolingError

TAU2_METHODS = ("reml", "dl", "fe")
CI_METHODS = ("wald", "hksj", "hksj-adhoc")


class DisconnectedNetwork(PoolingError):
    """The treatments do not form one connected network; ``components`` lists each part."""

    def __init__(self, components: list[list[str]]):
        self.components = components
        parts = "; ".join("{" + ", ".join(c) + "}" for c in components)
        super().__init__(f"the network is disconnected: {len(components)} separate sub-networks {parts}; "
                         "no comparison across them is estimable (analyse each sub-network on its own)")


@dataclass(frozen=True)
class Network:
    """Contrast rows of every study against that study's baseline arm."""

    treatments: tuple[str, ...]  # index order of every treatment
    studies: tuple[str, ...]
    study: np.ndarray  # (N,) study index of each contrast
    treat: np.ndarray  # (N,) treatment index of the arm
    base: np.ndarray  # (N,) treatment index of the baseline arm
    y: np.ndarray  # (N,) arm minus baseline
    S: np.ndarray  # (N, N) within-study covariance, block diagonal

    @property
    def same_study(self) -> np.ndarray:
        return self.study[:, None] == self.study[None, :]

    @property
    def M(self) -> np.ndarray:
        """Structure of the random effects: 1 on the diagonal, 1/2 within a study."""
        return np.where(self.same_study, 0.5, 0.0) + 0.5 * np.eye(len(self.y))

    def design(self, ref: int) -> np.ndarray:
        n = len(self.treatments)
        X = np.zeros((len(self.y), n))
        rows = np.arange(len(self.y))
        X[rows, self.treat] += 1.0
        X[rows, self.base] -= 1.0
        return np.delete(X, ref, axis=1)

    def components(self) -> list[list[str]]:
        """Connected sets of treatments (scipy.sparse.csgraph), largest first."""
        n = len(self.treatments)
        adj = sparse.coo_matrix((np.ones(len(self.y)), (self.treat, self.base)), shape=(n, n))
        k, labels = sparse.csgraph.connected_components(adj, directed=False)
        comps = [sorted(self.treatments[i] for i in np.flatnonzero(labels == c)) for c in range(k)]
        return sorted(comps, key=lambda c: (-len(c), c))

    def check_connected(self) -> None:
        comps = self.components()
        if len(comps) > 1:
            raise DisconnectedNetwork(comps)

    def study_arms(self) -> list[np.ndarray]:
        """Each study's treatment indices, baseline first."""
        return [np.concatenate(([self.base[self.study == s][0]], self.treat[self.study == s]))
                for s in range(len(self.studies))]

    def pairwise(self, tau2: float = 0.0):
        """Every pair of arms within every study, with Rücker's reduced weights at ``tau2``.

        Returns ``(study, t1, t2, te, w)``: te = arm t1 minus arm t2; ``w = -L[t1, t2]`` where
        ``L = C' V^-1 C`` is the study's Laplacian in arm space (``C`` its contrasts against the
        baseline, ``V = S + tau2 M``): the weights netmeta derives for multi-arm studies.
        """
        V = self.S + tau2 * self.M
        out = []
        for s, arms in enumerate(self.study_arms()):
            rows = np.flatnonzero(self.study == s)
            C = np.hstack((-np.ones((len(rows), 1)), np.eye(len(rows))))
            L = C.T @ np.linalg.solve(V[np.ix_(rows, rows)], C)
            mean = np.concatenate(([0.0], self.y[rows]))
            i, j = np.triu_indices(len(arms), 1)
            out.append((np.full(len(i), s), arms[i], arms[j], mean[i] - mean[j], -L[i, j]))
        return tuple(np.concatenate(c) for c in zip(*out))


def network_from_arms(study, treat, yi, vi) -> Network:
    """Arm-level estimates (e.g. log odds, means) with variances -> contrasts against each study's first arm
    in treatment order; the covariance of two contrasts is the baseline arm's variance (Gleser & Olkin 2009,
    eq. 19.11, as metafor's examples)."""
    study, treat = np.asarray(study, dtype=object), np.asarray(treat, dtype=object)
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    treatments = tuple(sorted(set(treat)))
    studies = tuple(dict.fromkeys(study))
    tix = {t: i for i, t in enumerate(treatments)}
    rows, blocks = [], []
    for s, name in enumerate(studies):
        idx = np.flatnonzero(study == name)
        idx = idx[np.argsort([tix[t] for t in treat[idx]], kind="stable")]
        b, others = idx[0], idx[1:]
        rows += [(s, tix[treat[j]], tix[treat[b]], yi[j] - yi[b]) for j in others]
        blocks.append(np.diag(vi[others]) + vi[b])
    S = _block_diag(blocks)
    s_, t_, b_, y_ = (np.array(c) for c in zip(*rows))
    return Network(treatments, studies, s_.astype(int), t_.astype(int), b_.astype(int), y_.astype(float), S)


def _block_diag(blocks) -> np.ndarray:
    from scipy.linalg import block_diag
    return block_diag(*blocks) if blocks else np.zeros((0, 0))


@dataclass(frozen=True)
class NMAFit:
    network: Network
    reference: int
    method: str  # tau^2 estimator: reml, dl, fe
    ci: str
    level: float
    d: np.ndarray  # (n,) effects vs the reference (0 for it)
    cov: np.ndarray  # (n, n) their model-based covariance (zero row/column for the reference)
    tau2: float
    Q: float  # common-effect generalised Q (= Q_total of Krahn 2013)
    df: int
    hksj_scale: float  # generalised Q at tau^2 / df (1 under Wald)

    @property
    def treatments(self) -> tuple[str, ...]:
        return self.network.treatments

    @property
    def p_q(self) -> float:
        return float(stats.chi2.sf(self.Q, self.df)) if self.df > 0 else float("nan")

    @property
    def i2(self) -> float:
        return max(0.0, (self.Q - self.df) / self.Q) if self.df > 0 and self.Q > 0 else 0.0

    @property
    def scale(self) -> float:
        if self.ci == "wald":
            return 1.0
        return max(1.0, self.hksj_scale) if self.ci == "hksj-adhoc" else self.hksj_scale

    @property
    def crit(self) -> float:
        a = 0.5 + self.level / 2
        return float(stats.norm.ppf(a) if self.ci == "wald" or self.df <= 0 else stats.t.ppf(a, self.df))

    def league(self) -> dict[str, np.ndarray]:
        """Every pair: ``est[i, j]`` is treatment i vs j (log scale), with SE, CI, PI and two-sided p."""
        est = self.d[:, None] - self.d[None, :]
        c = self.cov * self.scale
        dg = np.diag(c)
        se = np.sqrt(np.maximum(dg[:, None] + dg[None, :] - 2 * c, 0.0))
        k, pi = self.crit, self.crit * np.sqrt(se ** 2 + self.tau2)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = est / se
        p = 2 * (stats.norm.sf(np.abs(z)) if self.ci == "wald" or self.df <= 0 else stats.t.sf(np.abs(z), self.df))
        return {"est": est, "se": se, "ci_low": est - k * se, "ci_high": est + k * se,
                "pi_low": est - pi, "pi_high": est + pi, "p": p}

    def p_scores(self, small_values: str = "good") -> np.ndarray:
        """P-scores (Rücker & Schwarzer 2015): the mean over the other treatments of
        ``Phi((d_j - d_i) / se_ij)`` (smaller effects better) from the model-based (unscaled) SEs."""
        est = self.d[:, None] - self.d[None, :]
        dg = np.diag(self.cov)
        se = np.sqrt(np.maximum(dg[:, None] + dg[None, :] - 2 * self.cov, 0.0))
        sign = -1.0 if small_values == "good" else 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            P = stats.norm.cdf(sign * est / se)
        np.fill_diagonal(P, 0.0)
        return P.sum(axis=1) / (len(self.d) - 1)


def _blocks(study: np.ndarray) -> list[np.ndarray]:
    """Row indices of the studies, stacked by block size: one (n_studies, size) array per size."""
    order = np.argsort(study, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(study[order]) != 0])
    sizes = np.diff(np.r_[starts, len(study)])
    return [np.stack([order[a:a + k] for a, kk in zip(starts, sizes) if kk == k]) for k in np.unique(sizes)]


def _inv_blocks(V: np.ndarray, blocks) -> np.ndarray:
    """Inverse of the block-diagonal ``V``, block by block (batched per block size)."""
    Vi = np.zeros_like(V)
    for idx in blocks:
        inv = np.linalg.inv(V[idx[:, :, None], idx[:, None, :]])
        Vi[idx[:, :, None], idx[:, None, :]] = inv
    return Vi


def _gls(X, V, y, blocks=None):
    Vi = np.linalg.inv(V) if blocks is None else _inv_blocks(V, blocks)
    A = np.linalg.inv(X.T @ Vi @ X)
    beta = A @ (X.T @ Vi @ y)
    return beta, A, Vi


def _reml_score(tau2, X, S, M, y, blocks):
    """d logL_REML / d tau2 = -(tr(P M) - y'P M P y) / 2, in O(N² p) with the block-diagonal V^-1."""
    Vi = _inv_blocks(S + tau2 * M, blocks)
    ViX = Vi @ X
    A = np.linalg.inv(X.T @ ViX)
    Py = Vi @ y - ViX @ (A @ (ViX.T @ y))
    MViX = M @ ViX
    trace = np.einsum("ij,ji->", Vi, M) - np.einsum("pq,qi,ip->", A, ViX.T, MViX)
    return -0.5 * (trace - Py @ M @ Py)


def tau2_reml(X, S, M, y, blocks) -> float:
    """tau^2 maximising the restricted likelihood: 0 when its score is not positive at 0, else the root of the score."""
    args = (X, S, M, y, blocks)
    if _reml_score(0.0, *args) <= 0:
        return 0.0
    hi = max(1.0, 10 * float(np.max(np.diag(S))))
    for _ in range(200):
        if _reml_score(hi, *args) < 0:
            break
        hi *= 4
    else:
        raise PoolingError("REML: no finite maximum of the restricted likelihood (tau^2 unbounded)")
    return float(optimize.brentq(_reml_score, 0.0, hi, args=args, xtol=1e-15, rtol=4 * np.finfo(float).eps,
                                 maxiter=500))


def tau2_dl(net: Network, Q: float, df: int) -> float:
    """netmeta's generalised DerSimonian-Laird: max(0, (Q - df) / tr((I - H)(B B' o E / 2) W))."""
    if df <= 0:
        return 0.0
    s, t1, t2, _, w = net.pairwise(0.0)
    B = np.zeros((len(w), len(net.treatments)))
    B[np.arange(len(w)), t1], B[np.arange(len(w)), t2] = 1.0, -1.0
    L = B.T @ (w[:, None] * B)
    H = B @ np.linalg.pinv(L) @ (B.T * w)
    E = s[:, None] == s[None, :]
    T = (np.eye(len(w)) - H) @ ((B @ B.T) * E / 2) * w[None, :]
    return max(0.0, (Q - df) / float(np.trace(T)))


def fit_nma(net: Network, reference: str, method: str = "reml", ci: str = "wald", level: float = 0.95) -> NMAFit:
    """Fit the consistency model; ``method`` reml, dl or fe (the common-effect model)."""
    if method not in TAU2_METHODS:
        raise PoolingError(f"tau^2 method {method!r} not one of {', '.join(TAU2_METHODS)}")
    if ci not in CI_METHODS:
        raise PoolingError(f"CI method {ci!r} not one of {', '.join(CI_METHODS)}")
    if reference not in net.treatments:
        raise PoolingError(f"reference {reference!r} is not a treatment of the network ({', '.join(net.treatments)})")
    net.check_connected()
    ref = net.treatments.index(reference)
    X, M, y, S = net.design(ref), net.M, net.y, net.S
    n = len(net.treatments)
    df = len(y) - (n - 1)
    blocks = _blocks(net.study)
    b0, _, Vi0 = _gls(X, S, y, blocks)
    r0 = y - X @ b0
    Q = float(r0 @ Vi0 @ r0)
    # no degrees of freedom (every comparison estimated by one study): tau² is not identifiable and set to 0, as
    # netmeta (which reports it as NA); the fit is then the common-effect one
    tau2 = 0.0 if method == "fe" or df <= 0 else {"reml": lambda: tau2_reml(X, S, M, y, blocks),
                                                   "dl": lambda: tau2_dl(net, Q, df)}[method]()
    beta, A, Vi = _gls(X, S + tau2 * M, y, blocks)
    r = y - X @ beta
    q_scale = float(r @ Vi @ r) / df if df > 0 else 1.0
    keep = np.delete(np.arange(n), ref)
    d, cov = np.zeros(n), np.zeros((n, n))
    d[keep] = beta
    cov[np.ix_(keep, keep)] = A
    return NMAFit(net, ref, method, ci, level, d, cov, float(tau2), Q, int(df), q_scale)

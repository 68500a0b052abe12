"""Pairwise comparisons (netmeta's input: one row per pair of arms of each study) -> a :class:`Network`.

A two-arm study gives one row. A multi-arm study must give every pair of its arms once
(k(k-1)/2 rows), as netmeta requires; its arms' effects and variances are recovered by least
squares (``te_ij = mu_i - mu_j``, ``se_ij^2 = s_i^2 + s_j^2``; netmeta's ``multiarm``), and the
rows must agree with them within ``tol`` (netmeta's ``tol.multiarm`` = 0.001): otherwise the
study is reported, since its comparisons cannot come from one set of arms. Contrasts then run
against the study's first arm in treatment order, with covariance ``s_b^2`` between them.
"""

from __future__ import annotations

import math

import numpy as np

from trialmeta.errors import InputError, Problem
from trialmeta.stats.nma import Network

TOL_MULTIARM = 0.001


def network_from_pairs(study, treat1, treat2, te, se, *, source: str = "data", lines=None,
                       tol: float = TOL_MULTIARM) -> Network:
    """``te`` is treat1 vs treat2 (log scale for ratios) with standard error ``se``; ``lines`` locate each row
    in ``source`` for error messages (default: the row's position)."""
    n = len(study)
    lines = list(range(1, n + 1)) if lines is None else list(lines)
    problems = []

    def bad(i, field, msg):
        problems.append(Problem(source, lines[i], field, msg))

    te_f, se_f = np.full(n, np.nan), np.full(n, np.nan)
    for i in range(n):
        for arr, val, field in ((te_f, te[i], "te"), (se_f, se[i], "se")):
            try:
                arr[i] = float(val)
            except (TypeError, ValueError):
                bad(i, field, f"{val!r} is not a number")
                continue
            if not math.isfinite(arr[i]):
                bad(i, field, f"{val!r} is not a finite number")
        if math.isfinite(se_f[i]) and se_f[i] <= 0:
            bad(i, "se", f"{se[i]!r} must be positive")
        if str(treat1[i]) == str(treat2[i]):
            bad(i, "treat2", f"{treat2[i]!r} is compared with itself")
    if problems:
        raise InputError(problems)
    t1, t2 = [str(t) for t in treat1], [str(t) for t in treat2]
    treatments = tuple(sorted(set(t1) | set(t2)))
    tix = {t: i for i, t in enumerate(treatments)}
    studies = tuple(dict.fromkeys(str(s) for s in study))
    sid = np.array([studies.index(str(s)) for s in study])
    rows, blocks = [], []
    for s, name in enumerate(studies):
        idx = np.flatnonzero(sid == s)
        arms = sorted({tix[t1[i]] for i in idx} | {tix[t2[i]] for i in idx})
        k = len(arms)
        pairs = {tuple(sorted((tix[t1[i]], tix[t2[i]]))) for i in idx}
        if len(idx) != k * (k - 1) // 2 or len(pairs) != len(idx):
            bad(idx[0], "study", f"study {name!r} compares {k} treatments ({', '.join(treatments[a] for a in arms)}) "
                f"in {len(idx)} rows: a multi-arm study needs each of its {k * (k - 1) // 2} pairs exactly once")
            continue
        col = {a: j for j, a in enumerate(arms)}
        B = np.zeros((len(idx), k))
        B[np.arange(len(idx)), [col[tix[t1[i]]] for i in idx]] = 1.0
        B[np.arange(len(idx)), [col[tix[t2[i]]] for i in idx]] = -1.0
        mu = np.linalg.lstsq(B, te_f[idx], rcond=None)[0]
        mu -= mu[0]
        var = np.linalg.lstsq(np.abs(B), se_f[idx] ** 2, rcond=None)[0] if k > 2 else np.array([0.0, se_f[idx][0] ** 2])
        off_te = np.max(np.abs(B @ mu - te_f[idx]))
        off_se = np.max(np.abs(np.sqrt(np.maximum(np.abs(B) @ var, 0)) - se_f[idx]))
        if off_te > tol or off_se > tol:
            bad(idx[0], "study", f"the {len(idx)} comparisons of multi-arm study {name!r} are inconsistent: "
                f"no set of arm effects and variances reproduces them (largest difference {max(off_te, off_se):.4g} "
                f"> {tol:g}; check each comparison's direction and SE)")
            continue
        S = np.diag(var[1:]) + var[0]
        if k > 2 and np.min(np.linalg.eigvalsh(S)) <= 0:
            bad(idx[0], "study", f"multi-arm study {name!r}: its SEs imply a covariance that is not positive definite")
            continue
        rows += [(s, arms[j], arms[0], mu[j]) for j in range(1, k)]
        blocks.append(S)
    if problems:
        raise InputError(problems)
    from scipy.linalg import block_diag

    s_, t_, b_, y_ = (np.array(c) for c in zip(*rows))
    return Network(treatments, studies, s_.astype(int), t_.astype(int), b_.astype(int), y_.astype(float),
                   block_diag(*blocks))


ARM_MEASURES = ("OR", "RR", "RD", "MD")


def arm_level(measure: str, study, events=None, n=None, mean=None, sd=None, to: str = "only0"):
    """Arm-level estimates and variances whose differences are metafor's ``escalc`` contrasts: log odds
    (OR), log risk (RR), risk (RD) or mean (MD). Counts: when any arm of a study has a zero cell, 1/2 is added to
    every cell of every arm of that study (so that all its contrasts share one baseline; for a two-arm study this is
    escalc's default, ``add = 1/2, to = "only0"``; ``to="all"``: to every arm of every study, as escalc's
    ``to = "all"``). Returns ``(yi, vi, corrected)``."""
    if measure not in ARM_MEASURES:
        raise ValueError(f"arm-level measure must be one of {', '.join(ARM_MEASURES)}, not {measure!r}")
    study = np.asarray(study, dtype=object)
    if measure == "MD":
        m, s, k = (np.asarray(v, float) for v in (mean, sd, n))
        return m, s ** 2 / k, np.zeros(len(m), bool)
    x, k = np.asarray(events, float), np.asarray(n, float)
    zero_arm = (x == 0) | (x == k)
    zero_study = {s for s, z in zip(study, zero_arm) if z}
    add = np.array([0.5 if s in zero_study or to == "all" else 0.0 for s in study])
    x, k = x + add, k + 2 * add
    p = x / k
    if measure == "OR":
        return np.log(x / (k - x)), 1 / x + 1 / (k - x), add > 0
    if measure == "RR":
        return np.log(p), 1 / x - 1 / k, add > 0
    return p, p * (1 - p) / k, add > 0

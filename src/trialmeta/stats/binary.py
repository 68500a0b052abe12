"""Effect measures from counts and means, and Mantel-Haenszel and Peto pooling (pure NumPy/SciPy).

The per-study measures are metafor's ``escalc`` (metafor 3.8.1; Viechtbauer, J Stat Softw 2010;36(3)):

* ``RR`` log risk ratio, var 1/a - 1/n1 + 1/c - 1/n2; ``OR`` log odds ratio, var 1/a + 1/b + 1/c + 1/d;
  ``RD`` risk difference, var p1(1-p1)/n1 + p2(1-p2)/n2. 0.5 is added to every cell of a study
  with a zero cell, and only of such a study (escalc's defaults ``add = 1/2, to = "only0"``).
* ``MD`` mean difference, var sd1²/n1 + sd2²/n2 (``vtype = "LS"``); ``SMD`` Hedges' g: the pooled-SD
  standardised difference times the exact bias correction J(m) = Γ(m/2) / (√(m/2) Γ((m-1)/2)),
  m = n1 + n2 - 2, var 1/n1 + 1/n2 + g²/(2 (n1 + n2)) (Hedges 1981; escalc ``vtype = "LS"``).

Pooling of counts without inverse-variance weights (common-effect models, as ``rma.mh``/``rma.peto``):

* Mantel-Haenszel (Mantel & Haenszel 1959) on the uncorrected counts: OR with the
  Robins-Breslow-Greenland variance (Biometrics 1986;42:311-23), RR with the Greenland-Robins
  variance (Biometrics 1985;41:55-68), RD with the Sato-Greenland-Robins variance (Biometrics
  1989;45:1323-4). Cochran's Q uses the escalc estimates (zero-cell corrected; studies with no
  events or only events in both arms dropped) around the MH estimate, as metafor reports it.
* Peto's one-step odds ratio (Yusuf et al. 1985): ln OR = Σ(O - E) / ΣV, SE = 1/√ΣV,
  Q = Σ (O-E)²/V - (Σ(O-E))²/ΣV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln
from scipy.stats import chi2, norm

from trialmeta.errors import PoolingError

BINARY_MEASURES = ("RR", "OR", "RD")
CONTINUOUS_MEASURES = ("MD", "SMD")
RATIO_MEASURES = ("HR", "RR", "OR")
MEASURE_NAMES = {"HR": "Hazard ratio", "RR": "Risk ratio", "OR": "Odds ratio", "RD": "Risk difference",
                 "MD": "Mean difference", "SMD": "Std. mean difference"}
#: What metafor calls each pooling of counts.
R_FUNCTIONS = {"mh": "rma.mh", "peto": "rma.peto"}


@dataclass(frozen=True)
class Escalc:
    """Per-study effects: ``yi`` (log scale for RR/OR/Peto OR) and ``vi``; ``corrected`` marks studies
    whose cells got 0.5 added; ``double_zero`` marks studies with no events, or only events, in both arms."""

    measure: str
    yi: np.ndarray
    vi: np.ndarray
    corrected: np.ndarray
    double_zero: np.ndarray


def _counts(ai, n1i, ci, n2i, where: str):
    arrays = [np.asarray(x, dtype=float).ravel() for x in (ai, n1i, ci, n2i)]
    names = ("events_exp", "n_exp", "events_ctrl", "n_ctrl")
    k = arrays[0].size
    if any(a.size != k for a in arrays):
        raise PoolingError(f"{where}: the four count columns differ in length")
    if k == 0:
        raise PoolingError(f"{where}: no studies to pool")
    for name, a in zip(names, arrays):
        bad = np.flatnonzero(~np.isfinite(a) | (a < 0) | (a != np.round(a)))
        if bad.size:
            j = int(bad[0])
            raise PoolingError(f"{where}: study {j + 1} has {name} {float(a[j])!r}; counts must be whole "
                               "numbers >= 0")
    a, n1, c, n2 = arrays
    for name, ev, n in (("events_exp", a, n1), ("events_ctrl", c, n2)):
        bad = np.flatnonzero((ev > n) | (n == 0))
        if bad.size:
            j = int(bad[0])
            raise PoolingError(f"{where}: study {j + 1} has {name} {ev[j]:g} out of {n[j]:g}; need "
                               "0 <= events <= n and n > 0")
    return a, n1, c, n2


def escalc_binary(measure: str, ai, n1i, ci, n2i, where: str = "counts") -> Escalc:
    """metafor ``escalc(measure, ai, n1i, ci, n2i)`` with its defaults (add 1/2 to zero-cell studies only).

    Examples
    --------
    Aronson 1948 in dat.bcg; R: ``escalc("RR", ai = 4, n1i = 123, ci = 11, n2i = 139)``.

    >>> e = escalc_binary("RR", [4], [123], [11], [139])
    >>> round(float(e.yi[0]), 6), round(float(e.vi[0]), 6)
    (-0.889311, 0.325585)
    """
    if measure not in BINARY_MEASURES:
        raise PoolingError(f"unknown measure {measure!r} for counts; choose one of {', '.join(BINARY_MEASURES)}")
    a, n1, c, n2 = _counts(ai, n1i, ci, n2i, where)
    b, d = n1 - a, n2 - c
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    add = np.where(zero, 0.5, 0.0)
    a, b, c, d = a + add, b + add, c + add, d + add
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    if measure == "RR":
        yi, vi = np.log(p1 / p2), 1 / a - 1 / n1 + 1 / c - 1 / n2
    elif measure == "OR":
        yi, vi = np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d
    else:
        yi, vi = p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    double = ((a - add == 0) & (c - add == 0)) | ((b - add == 0) & (d - add == 0))
    return Escalc(measure, yi, vi, zero, double)


def hedges_j(m) -> np.ndarray:
    """Exact small-sample correction J(m) = Γ(m/2) / (√(m/2) Γ((m-1)/2)) (metafor's ``.cmicalc``)."""
    m = np.asarray(m, dtype=float)
    return np.exp(gammaln(m / 2) - np.log(np.sqrt(m / 2)) - gammaln((m - 1) / 2))


def escalc_continuous(measure: str, m1i, sd1i, n1i, m2i, sd2i, n2i, where: str = "means") -> Escalc:
    """metafor ``escalc(measure = "MD" | "SMD", m1i, sd1i, n1i, m2i, sd2i, n2i)`` (``vtype = "LS"``)."""
    if measure not in CONTINUOUS_MEASURES:
        raise PoolingError(f"unknown measure {measure!r} for means; choose one of {', '.join(CONTINUOUS_MEASURES)}")
    names = ("mean_exp", "sd_exp", "n_exp", "mean_ctrl", "sd_ctrl", "n_ctrl")
    arrays = [np.asarray(x, dtype=float).ravel() for x in (m1i, sd1i, n1i, m2i, sd2i, n2i)]
    k = arrays[0].size
    if any(a.size != k for a in arrays) or k == 0:
        raise PoolingError(f"{where}: the six columns must have the same, non-zero length")
    for name, a in zip(names, arrays):
        bad = np.flatnonzero(~np.isfinite(a) | ((a <= 0) if name.startswith(("sd", "n")) else False))
        if name.startswith("n"):
            bad = np.union1d(bad, np.flatnonzero(np.isfinite(a) & ((a != np.round(a)) | (a < 2))))
        if bad.size:
            j = int(bad[0])
            need = "a whole number >= 2" if name.startswith("n") else "> 0" if name.startswith("sd") else "finite"
            raise PoolingError(f"{where}: study {j + 1} has {name} {float(a[j])!r}; it must be {need}")
    m1, s1, n1, m2, s2, n2 = arrays
    if measure == "MD":
        yi, vi = m1 - m2, s1 ** 2 / n1 + s2 ** 2 / n2
    else:
        m = n1 + n2 - 2
        sp = np.sqrt(((n1 - 1) * s1 ** 2 + (n2 - 1) * s2 ** 2) / m)
        yi = hedges_j(m) * (m1 - m2) / sp
        vi = 1 / n1 + 1 / n2 + yi ** 2 / (2 * (n1 + n2))
    none = np.zeros(k, dtype=bool)
    return Escalc(measure, yi, vi, none, none)


@dataclass(frozen=True)
class FixedPool:
    """A Mantel-Haenszel or Peto pool: estimate (log scale for RR/OR), Wald CI, Q and I² as metafor reports.

    ``weights`` are percentages in input order (MH weights a_i... as RevMan shows them; Peto: V_i).
    ``k`` counts every study; ``k_q`` the studies in Q (double-zero studies left out).
    """

    measure: str
    method: str  # "mh" or "peto"
    level: float
    k: int
    k_q: int
    est: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    z: float | None
    p: float | None
    q: float
    q_p: float
    i2: float
    h2: float
    weights: tuple


def _finish(measure, method, level, k, k_q, est, se, q, weights) -> FixedPool:
    zc = float(norm.ppf(0.5 + level / 2))
    if est is None or not math.isfinite(est) or se is None or not math.isfinite(se) or se <= 0:
        est = se = lo = hi = z = p = None
    else:
        lo, hi, z = est - zc * se, est + zc * se, est / se
        p = float(2 * norm.sf(abs(z)))
    if k_q > 1:
        q = max(0.0, q)
        qp, i2, h2 = float(chi2.sf(q, k_q - 1)), max(0.0, 100 * (q - (k_q - 1)) / q) if q > 0 else 0.0, q / (k_q - 1)
    else:
        q, qp, i2, h2 = 0.0, 1.0, 0.0, 1.0
    total = float(np.sum(weights))
    pct = tuple(float(100 * w / total) if total > 0 else float("nan") for w in weights)
    return FixedPool(measure, method, level, k, k_q, est, se, lo, hi, z, p, float(q), qp, float(i2), float(h2), pct)


def mantel_haenszel(measure: str, ai, n1i, ci, n2i, level: float = 0.95, where: str = "counts") -> FixedPool:
    """metafor ``rma.mh(measure, ai, n1i, ci, n2i)``: the MH common effect and its variance.

    Examples
    --------
    The first two dat.bcg trials; R: ``exp(rma.mh(measure = "OR", ai = c(4, 6), n1i = c(123, 306),
    ci = c(11, 29), n2i = c(139, 303))$beta)`` = 0.2414 (metafor 3.8.1).

    >>> r = mantel_haenszel("OR", [4, 6], [123, 306], [11, 29], [139, 303])
    >>> round(math.exp(r.est), 4)
    0.2414
    """
    es = escalc_binary(measure, ai, n1i, ci, n2i, where)
    a, n1, c, n2 = _counts(ai, n1i, ci, n2i, where)
    b, d = n1 - a, n2 - c
    n = n1 + n2
    est = se = None
    if measure == "OR":
        r, s = a * d / n, b * c / n
        pp, qq = (a + d) / n, (b + c) / n
        R, S = r.sum(), s.sum()
        if R > 0 and S > 0:
            est = math.log(R / S)
            se = math.sqrt(0.5 * ((pp * r).sum() / R ** 2 + (pp * s + qq * r).sum() / (R * S) + (qq * s).sum() / S ** 2))
        weights = s
    elif measure == "RR":
        R, S = (a * n2 / n).sum(), (c * n1 / n).sum()
        if a.sum() > 0 and c.sum() > 0:
            est = math.log(R / S)
            se = math.sqrt(((n1 / n) * (n2 / n) * (a + c) - (a / n) * c).sum() / (R * S))
        weights = c * n1 / n
    else:
        wsum = (n1 * n2 / n).sum()
        est = float((a * n2 / n - c * n1 / n).sum() / wsum)
        var = (est * (c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2).sum()
               + (a * (n2 - c) / n + c * (n1 - a) / n).sum() / 2) / wsum ** 2
        se = math.sqrt(var) if var > 0 else None
        weights = n1 * n2 / n
    keep = ~es.double_zero
    q = float(np.sum((es.yi[keep] - est) ** 2 / es.vi[keep])) if est is not None else float("nan")
    return _finish(measure, "mh", level, a.size, int(keep.sum()), est, se, q, weights)


def peto_terms(ai, n1i, ci, n2i, where: str = "counts"):
    """Per study (O - E, V) of Peto's method: E = (a+c) n1/N, V = (a+c)(b+d) n1 n2 / (N² (N-1))."""
    return _peto_terms(*_counts(ai, n1i, ci, n2i, where))


def _peto_terms(a, n1, c, n2):
    n = n1 + n2
    xt, yt = a + c, n - a - c
    e = xt * n1 / n
    with np.errstate(invalid="ignore", divide="ignore"):
        v = xt * yt * (n1 / n) * (n2 / n) / (n - 1)
    return a - e, v


def escalc_peto(ai, n1i, ci, n2i, where: str = "counts") -> Escalc:
    """metafor ``escalc("PETO", ...)``: yi = (O-E)/V, vi = 1/V on the zero-cell corrected counts."""
    a, n1, c, n2 = _counts(ai, n1i, ci, n2i, where)
    b, d = n1 - a, n2 - c
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    add = np.where(zero, 0.5, 0.0)
    ome, v = _peto_terms(a + add, n1 + 2 * add, c + add, n2 + 2 * add)
    double = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
    return Escalc("OR", ome / v, 1 / v, zero, double)


def peto(ai, n1i, ci, n2i, level: float = 0.95, where: str = "counts") -> FixedPool:
    """metafor ``rma.peto(ai, n1i, ci, n2i)``: Peto's one-step log odds ratio.

    Examples
    --------
    R: ``rma.peto(ai = c(4, 6), n1i = c(123, 306), ci = c(11, 29), n2i = c(139, 303))``:
    beta -1.2401, se 0.2912 (metafor 3.8.1).

    >>> r = peto([4, 6], [123, 306], [11, 29], [139, 303])
    >>> round(r.est, 4), round(r.se, 4)
    (-1.2401, 0.2912)
    """
    ome, v = peto_terms(ai, n1i, ci, n2i, where)
    esc = escalc_peto(ai, n1i, ci, n2i, where)
    sv = float(v.sum())
    est = float(ome.sum() / sv) if sv > 0 else None
    se = 1 / math.sqrt(sv) if sv > 0 else None
    used = v > 0
    q = float(np.sum(ome[used] ** 2 / v[used]) - (ome.sum()) ** 2 / sv) if sv > 0 else float("nan")
    return _finish("OR", "peto", level, ome.size, int((~esc.double_zero).sum()), est, se, q, v)

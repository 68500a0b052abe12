"""The notes that travel with a pooled estimate: what a reader must know to read it right.

k = 1, tau^2 = 0, HKSJ oddities (a zero scale, an interval narrower than Wald, the t(1)
quantile with two studies), a Wald interval with few studies, a non-converged REML fit, an
undefined prediction interval. They reach every table, figure footnote and JSON record.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

from scipy import stats

from trialmeta import fmt

if TYPE_CHECKING:
    from trialmeta.stats import engine
    from trialmeta.stats.settings import PoolSettings

NARROW_HKSJ = "the HKSJ CI is narrower than the Wald CI"
NOTE_TAU2_ZERO = "τ² estimated as 0: random-effects equals common-effect"


@lru_cache(maxsize=None)
def _quantiles(level: float) -> tuple[float, float]:
    """z and t(1) critical values of a two-sided ``level`` CI (once per level, not per analysis)."""
    return float(stats.norm.isf((1 - level) / 2)), float(stats.t.isf((1 - level) / 2, 1))


def pool_notes(b: engine.Batch, i: int, s: PoolSettings) -> tuple:
    """What a reader must know about pooled analysis ``i`` of batch ``b``, as sentences."""
    k, notes = int(b.k[i]), []
    if k == 1:
        return ("k = 1: the result is the single study's own estimate with its Wald (z) CI; "
                "τ², heterogeneity and the prediction interval are undefined",)
    z, t1 = _quantiles(s.level)
    half_wald = z * b.se_wald[i]
    if s.method != "fe" and b.tau2[i] == 0.0:
        notes.append(NOTE_TAU2_ZERO)
    if s.method == "fe" and s.ci != "wald":
        notes.append("HKSJ applied to a common-effect model (it is meant for random effects)")
    if s.ci != "wald" and b.hk_scale[i] == 0.0:
        notes.append("HKSJ scale factor is 0 (the studies agree exactly)"
                     + (": CI has zero width; consider ci='hksj-adhoc'" if s.ci == "hksj" else ""))
    elif s.ci == "hksj-adhoc" and b.hk_scale[i] < 1.0:
        notes.append(f"ad-hoc HKSJ: scale factor {b.hk_scale[i]:.4g} < 1 replaced by 1 (Wald SE, t quantile)")
    if s.ci == "hksj":
        half_hksj = b.ci_high[i] - b.est[i]
        if half_hksj < half_wald * (1.0 - 1e-9):  # (equal up to rounding is not narrower)
            notes.append(f"{NARROW_HKSJ} (half-widths on the log scale {half_hksj:.4f} vs {half_wald:.4f}: "
                         f"HKSJ SE {b.se[i]:.5f}, Wald SE {b.se_wald[i]:.5f}); with few studies and little "
                         "heterogeneity HKSJ can be implausibly narrow (Jackson et al. 2017): read it with the ad "
                         "hoc variant (ci: hksj-adhoc), which never goes below Wald")
    if s.ci != "wald" and k == 2:
        lo, hi = (math.exp(b.est[i] + sign * half_wald) for sign in (-1, 1))
        times = (b.ci_high[i] - b.ci_low[i]) / (2 * half_wald)
        notes.append(f"k = 2: the HKSJ CI uses t with 1 df (critical value {t1:.2f} "
                     f"vs z {z:.2f}) scaled by how closely the two studies agree, so its width swings widely "
                     f"(here {times:.2f} times the Wald width); with the same \u03c4\u00b2 the Wald (z) CI "
                     f"would be [{fmt.ratio(lo)}, {fmt.ratio(hi)}]")
    elif s.ci == "wald" and s.method != "fe" and 2 <= k < 5:
        notes.append(f"Wald (z) CI with k = {k}: it ignores the uncertainty in \u03c4\u00b2 and can under-cover "
                     "badly with so few studies; HKSJ is Cochrane's 2025 default")
    if b.tau2_ci_null[i]:
        notes.append("Q below its lower chi² quantile: the Q-profile τ² CI is the single point 0")
    if not b.converged[i]:
        notes.append("REML did not converge: τ² may be inaccurate")
    if s.prediction and s.method == "fe":
        notes.append("no prediction interval for a common-effect model")
    elif s.prediction and k < 3:
        notes.append("no prediction interval: it needs k >= 3 (t with k - 2 df)")
    return tuple(notes)


def bayes_notes(by, k: int, s: PoolSettings) -> tuple:
    """Notes for a group pooled with ``method="bayes"`` (``by``: its ``BayesSummary``)."""
    notes = [f"Bayesian random effects: {by.prior} prior on \u03c4 (log scale), flat prior on \u03bc; posterior "
             f"median with {s.level:.0%} equal-tailed credible interval, computed by numerical integration; "
             f"posterior probability that the ratio is below 1: {by.p_below_1:.3f}"]
    if k == 1:
        notes.append("k = 1: the result is the single study's estimate widened by the prior on \u03c4")
    elif k <= 4:
        notes.append(f"k = {k}: \u03c4 is barely informed by the data, so the interval depends on the prior on "
                     "\u03c4; the JSON also holds the REML Wald and HKSJ intervals")
    return tuple(notes)

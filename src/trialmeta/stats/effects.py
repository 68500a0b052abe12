"""Effect derivation: turn what a trial reported into a log effect and its standard error.

Pure functions, no I/O. Every derived value carries a :class:`Derivation` naming the rule,
so a reader can trace each standard error back to the numbers it came from.

Hierarchy for hazard ratios (Parmar, Torri & Stewart, Stat Med 1998;17:2815-34; Tierney et al., Trials 2007;8:16):
HR + CI  >  O-E and V  >  HR + p-value  >  p-value + events  >  medians (approximate).

References
----------
Parmar MKB, Torri V, Stewart L. Stat Med 1998;17:2815-34 (equations cited below).
Altman DG, Bland JM. BMJ 2003;326:219 (interaction as a difference of log estimates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

# The standard normal from the standard library (Wichura's AS241 quantile, relative error
# below 1e-15): reading trial files and building the results table need no SciPy, so
# `trialmeta validate` and `trialmeta results` start without importing it.
_NORMAL = NormalDist()

#: Tolerance (in log units) added to the rounding allowance before a CI is called asymmetric.
ASYMMETRY_SLACK = 1e-9


@dataclass(frozen=True)
class Derivation:
    """A log effect with its SE and how they were obtained."""

    log_estimate: float
    se: float
    method: str  # short code: hr-ci, oe-v, hr-p, p-events, medians-exp, responders
    detail: str  # the formula with the numbers substituted
    approximate: bool = False


def z_for_level(level: float) -> float:
    """Two-sided normal quantile for a CI level: 0.95 -> 1.959964."""
    return _NORMAL.inv_cdf(0.5 + level / 2.0)


def from_hr_ci(hr: float, lower: float, upper: float, level: float = 0.95) -> Derivation:
    """SE from the CI width on the log scale (Parmar eq. 7): (ln U - ln L) / (2 z)."""
    z = z_for_level(level)
    se = (math.log(upper) - math.log(lower)) / (2.0 * z)
    detail = f"SE = (ln {upper:g} - ln {lower:g}) / (2 x {z:.4f}) [Parmar 1998 eq. 7, {level:.0%} CI]"
    return Derivation(math.log(hr), se, "hr-ci", detail)


def bound_ses(hr: float, lower: float, upper: float, level: float = 0.95) -> tuple[float, float]:
    """The SEs each CI bound implies on its own: ((ln HR - ln L)/z, (ln U - ln HR)/z)."""
    z = z_for_level(level)
    return (math.log(hr) - math.log(lower)) / z, (math.log(upper) - math.log(hr)) / z


def decimals(x: float) -> int:
    """Decimal places a number was printed with (0.85 -> 2, 0.791 -> 3, 1.5 -> 1)."""
    text = repr(float(x))
    if "e" in text:
        return 6
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def rounding_allowance(hr: float, lower: float, upper: float) -> float:
    """Largest log-scale asymmetry that rounding the printed values can explain.

    Each printed value x with d decimals may be off by h = 0.5 x 10^-d, i.e. by up to h/x
    on the log scale. The asymmetry (ln U - ln HR) - (ln HR - ln L) moves by at most
    h_U/U + h_L/L + 2 h_HR/HR.
    """
    def half(x: float) -> float:
        return 0.5 * 10.0 ** (-decimals(x))
    return half(upper) / upper + half(lower) / lower + 2 * half(hr) / hr


def asymmetry(hr: float, lower: float, upper: float) -> float:
    """(ln U - ln HR) - (ln HR - ln L): zero for a CI symmetric on the log scale."""
    return (math.log(upper) - math.log(hr)) - (math.log(hr) - math.log(lower))


def from_oe_v(o_minus_e: float, v: float) -> Derivation:
    """Log-rank O-E and its variance V: ln HR = (O-E)/V, SE = 1/sqrt(V) (Parmar eqs. 4, 6)."""
    return Derivation(o_minus_e / v, 1.0 / math.sqrt(v), "oe-v",
                      f"ln HR = {o_minus_e:g}/{v:g}; SE = 1/sqrt({v:g}) [Parmar 1998 eqs. 4, 6]")


def z_for_p(p: float, sided: str) -> float:
    """Normal deviate for a p-value: two-sided uses p/2 in each tail, one-sided uses p."""
    tail = p if sided == "one" else p / 2.0
    return math.inf if tail <= 0 else -_NORMAL.inv_cdf(tail) if tail < 1 else -math.inf


def from_hr_p(hr: float, p: float, sided: str) -> Derivation:
    """SE = |ln HR| / z_p (calcTE.pval; Altman & Bland BMJ 2011;343:d2090).

    ``sided`` is ``"one"``, ``"two"`` or ``"unspecified"`` (treated as two-sided, which gives
    the larger, more cautious SE, and flagged in the detail).
    """
    z = z_for_p(p, "one" if sided == "one" else "two")
    assumed = " (sidedness not reported: assumed two-sided)" if sided == "unspecified" else ""
    return Derivation(math.log(hr), abs(math.log(hr)) / z, "hr-p",
                      f"SE = |ln {hr:g}| / {z:.4f} from {sided}-sided p = {p:g}{assumed}",
                      approximate=sided == "unspecified")


def variance_from_events(events_exp: int, events_ctrl: int) -> float:
    """V ~ O_R O_C / (O_R + O_C) (Parmar eq. 12, as used by Tierney 2007)."""
    return events_exp * events_ctrl / (events_exp + events_ctrl)


def from_p_events(p: float, sided: str, events_exp: int, events_ctrl: int, favours_exp: bool) -> Derivation:
    """ln HR = (O-E)/V with O-E = -+sqrt(V) z_p and V from the event counts (Tierney eq. 14)."""
    v = variance_from_events(events_exp, events_ctrl)
    z = z_for_p(p, "one" if sided == "one" else "two")
    o_minus_e = (-1.0 if favours_exp else 1.0) * math.sqrt(v) * z
    return Derivation(o_minus_e / v, 1.0 / math.sqrt(v), "p-events",
                      f"V = {events_exp}x{events_ctrl}/{events_exp + events_ctrl} = {v:.3f}; "
                      f"O-E = {o_minus_e:.3f} from {sided}-sided p = {p:g} [Parmar eq. 12; Tierney 2007]",
                      approximate=True)


def from_medians(median_exp: float, median_ctrl: float, events_exp: int, events_ctrl: int) -> Derivation:
    """Exponential approximation: HR = M_ctrl / M_exp, Var = 1/d_exp + 1/d_ctrl.

    A time ratio, equal to the HR only if both arms are exponential; flagged approximate
    and excluded from primary pools unless an analysis allows it (Michiels et al. 2005).
    """
    se = math.sqrt(1.0 / events_exp + 1.0 / events_ctrl)
    return Derivation(math.log(median_ctrl) - math.log(median_exp), se, "medians-exp",
                      f"ln HR ~ ln({median_ctrl:g}/{median_exp:g}); SE = sqrt(1/{events_exp} + 1/{events_ctrl}) "
                      "[exponential approximation]", approximate=True)


def _cells(a: float, n1: float, c: float, n2: float) -> tuple[float, float, float, float, str]:
    """2x2 cells, with 0.5 added to every cell only when one of them is zero."""
    b, d = n1 - a, n2 - c
    if min(a, b, c, d) == 0:
        return a + 0.5, b + 0.5, c + 0.5, d + 0.5, " (0.5 added to each cell: zero cell)"
    return a, b, c, d, ""


def log_risk_ratio(events_exp: float, n_exp: float, events_ctrl: float, n_ctrl: float) -> Derivation:
    """ln RR = ln[(a/n1)/(c/n2)], Var = 1/a - 1/n1 + 1/c - 1/n2 (metafor escalc 'RR')."""
    a, b, c, d, note = _cells(events_exp, n_exp, events_ctrl, n_ctrl)
    n1, n2 = a + b, c + d
    est = math.log((a / n1) / (c / n2))
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    return Derivation(est, se, "responders-rr",
                      f"ln RR = ln[({a:g}/{n1:g})/({c:g}/{n2:g})]; SE = sqrt(1/a - 1/n1 + 1/c - 1/n2){note}")


def log_odds_ratio(events_exp: float, n_exp: float, events_ctrl: float, n_ctrl: float) -> Derivation:
    """ln OR = ln[(a d)/(b c)], Var = 1/a + 1/b + 1/c + 1/d (metafor escalc 'OR')."""
    a, b, c, d, note = _cells(events_exp, n_exp, events_ctrl, n_ctrl)
    est = math.log((a * d) / (b * c))
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return Derivation(est, se, "responders-or",
                      f"ln OR = ln[({a:g}x{d:g})/({b:g}x{c:g})]; SE = sqrt(1/a + 1/b + 1/c + 1/d){note}")


def ci_from_log(log_estimate: float, se: float, level: float = 0.95) -> tuple[float, float, float]:
    """Back to the ratio scale: (estimate, lower, upper)."""
    z = z_for_level(level)
    return safe_exp(log_estimate), safe_exp(log_estimate - z * se), safe_exp(log_estimate + z * se)


#: exp() of anything above this overflows a float (~1.8e308).
LOG_MAX = math.log(1.7976931348623157e308)


def safe_exp(x: float) -> float:
    """exp that gives +inf above :data:`LOG_MAX` instead of raising OverflowError."""
    return math.exp(x) if x <= LOG_MAX else math.inf

"""Number formats readers of Cochrane reviews expect (RevMan 5 conventions).

Used by the evidence tables, the terminal output and the forest plots, so a number reads
the same everywhere. Conventions (RevMan 5 / R meta ``settings.meta("RevMan5")``, checked
against the strings of Steurer et al. 2006, Cochrane review CD004270, Analysis 1.1, pinned in
tests/stats/test_engine_oracles.py): ratios and their CIs with two
decimals, "0.89 [0.78, 1.01]"; Chi², Z and t with two decimals; Tau² with two decimals
(one significant digit below 0.005, so a small positive value never prints as 0.00);
I² as a whole percentage; P with two decimals from 0.01, three from 0.001, one significant
digit below that, and "P < 0.00001" at the floor.
"""

from __future__ import annotations

import math
import re

DASH = "\u2013"
MINUS = "\u2212"


def missing(x) -> bool:
    """None or NaN (pandas fills missing numbers with NaN)."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def nan_to_none(x):
    """``x`` itself, or None where it is missing (None or NaN)."""
    return None if missing(x) else x


def finite_or_none(x) -> float | None:
    """``x`` as a float, or None where it is None, NaN or infinite (so JSON never gets NaN/Infinity)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def positive(x) -> bool:
    """A usable positive finite number (not None, NaN, a bool or a text placeholder)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def fixed(x, digits: int) -> str:
    """``x`` with ``digits`` decimals; empty where missing (columns of ``trialmeta pool-table``)."""
    return "" if missing(x) else f"{x:.{digits}f}"


def decimals_for(widths, least: int = 2, most: int = 8) -> int:
    """Decimals that show the narrowest of ``widths`` (CI widths of a difference, or tau² values) with two
    significant digits: never fewer than ``least`` (RevMan's two for an MD), at most ``most``. A mean
    difference in small units (e.g. 0.0012 g) would otherwise print as "0.00 [-0.01, 0.01]"."""
    usable = [abs(float(w)) for w in widths if not missing(w) and math.isfinite(float(w)) and float(w) != 0]
    if not usable:
        return least
    return max(least, min(most, 1 - math.floor(math.log10(min(usable)))))


def p_column(p) -> str:
    """A P value in a table column: four decimals, '<0.0001' below; empty where missing."""
    return "" if missing(p) else ("<0.0001" if p < 1e-4 else f"{p:.4f}")


def pair(a, b, sep: str = " / ") -> str:
    """Two per-arm values ('12 / 15', numbers with :g, texts as given, '?' for one missing);
    empty when both are missing."""
    if missing(a) and missing(b):
        return ""
    show = lambda x: "?" if missing(x) else (x if isinstance(x, str) else f"{x:g}")  # noqa: E731
    return f"{show(a)}{sep}{show(b)}"


def ratio(x, digits: int = 2) -> str:
    """A ratio (HR, RR) to two decimals; very small values keep two significant digits."""
    if missing(x):
        return ""
    if 0 < x < 0.001:  # (an unbounded lower limit would print as 2.9e-17)
        return "< 0.001"
    if 0 < x < 0.005:
        return f"{x:.2g}"
    if x >= 1e6:  # (an unbounded CI, e.g. HKSJ with k = 2, would print dozens of digits)
        return "> 999999"
    if x >= 1000:
        return f"{x:.0f}"
    return f"{x:.{digits}f}"


def difference(x, digits: int = 2) -> str:
    """A difference (RD, MD, SMD) on its own scale: ``digits`` decimals, as the ``pool-table`` columns print
    it; six significant digits from 1e6 on (a mean difference in grams or costs stays readable)."""
    if missing(x):
        return ""
    return f"{x:.6g}" if abs(x) >= 1e6 else f"{x:.{digits}f}"


def on_scale(x, is_ratio: bool, digits: int = 2) -> str:
    """``x`` printed as a ratio (:func:`ratio`) or a difference (:func:`difference`)."""
    return ratio(x, digits) if is_ratio else difference(x, digits)


def ratio_ci(est, lo, hi, digits: int = 2) -> str:
    """'0.55 [0.28, 1.09]' (RevMan); the estimate alone when the CI is unknown."""
    if missing(est):
        return ""
    if missing(lo) or missing(hi):
        return ratio(est, digits)
    return f"{ratio(est, digits)} [{ratio(lo, digits)}, {ratio(hi, digits)}]"


def p_value(p) -> str:
    """'P = 0.16', 'P = 0.002', 'P = 0.0004', 'P < 0.00001'."""
    if missing(p):
        return "P not available"
    if p < 1e-5:
        return "P < 0.00001"
    if p >= 0.01:
        text = f"{p:.2f}"
        return "P = 1.00" if text == "1.00" else f"P = {text}"
    if p >= 0.001:
        return f"P = {p:.3f}"
    return f"P = {float(f'{p:.1g}'):.{-math.floor(math.log10(float(f'{p:.1g}')))}f}"


def number(x, digits: int = 2) -> str:
    return "" if missing(x) else f"{x:.{digits}f}"


def percent(x, digits: int = 0) -> str:
    return "" if missing(x) else f"{x:.{digits}f}%"


def tau2(x) -> str:
    """Tau² with two decimals, as RevMan ('0.00605' -> '0.01', Steurer et al. 2006 Analysis 1.1); one significant
    digit where two decimals would print a positive value as zero ('0.004', '0.00008');
    exactly 0 prints '0.00'."""
    if missing(x):
        return ""
    if 0 < x < 0.005:
        text = f"{x:.1g}"
        if "e" in text:
            text = f"{float(text):.{-math.floor(math.log10(float(text)))}f}"
        return text
    return number(x)


def heterogeneity(r) -> str:
    """RevMan heterogeneity line for a pooled group (``meta.GroupResult``)."""
    if r is None or r.k < 2 or missing(r.q):
        return "Heterogeneity: Not applicable"
    tau = "" if r.method == "fe" else f"Tau\u00b2 = {tau2(r.tau2)}; "
    return (f"Heterogeneity: {tau}Chi\u00b2 = {number(r.q)}, df = {r.df} ({p_value(r.q_p)}); "
            f"I\u00b2 = {percent(r.i2)}")


def overall_effect(r) -> str:
    """'Test for overall effect: Z = 1.82 (P = 0.07)' or '... t = 2.10, df = 2 (P = 0.17)'."""
    return f"Test for overall effect: {overall_effect_stats(r)}"


def overall_effect_stats(r) -> str:
    """The statistic of :func:`overall_effect` alone: 'Z = 1.82 (P = 0.07)', 'Not applicable'."""
    if r is None or missing(r.stat):
        return "Not applicable"
    if r.stat_name == "t":
        return f"t = {number(abs(r.stat))}, df = {int(r.df_test)} ({p_value(r.p)})"
    return f"Z = {number(abs(r.stat))} ({p_value(r.p)})"


def subgroup_differences(t) -> str:
    """'Test for subgroup differences: Chi² = 1.23, df = 1 (P = 0.27)' (Q-between) or the QM test."""
    if t is None:
        return ""
    if hasattr(t, "q_between"):
        i2 = f", I\u00b2 = {percent(t.i2_between)}" if hasattr(t, "i2_between") else ""
        return (f"Test for subgroup differences: Chi\u00b2 = {number(t.q_between)}, df = {t.df_between} "
                f"({p_value(t.p_between)}){i2}")
    name = "F" if t.stat_name == "F" else "Chi\u00b2"
    df = f"df = {t.df_num}" + (f", {t.df_den}" if t.df_den else "")
    return f"Test for subgroup differences (common \u03c4\u00b2 moderator): {name} = {number(t.stat)}, {df} ({p_value(t.p)})"


def interaction_line(it, labels: tuple[str, str], measure: str = "HR") -> str:
    """'Within-trial interaction (ratio of HRs, a vs b): 0.73 [0.48, 1.11], P = 0.07; 2 trials'."""
    if it is None:
        return ""
    trials = "1 trial" if it.k == 1 else f"{it.k} trials"
    return (f"Within-trial interaction (ratio of {measure}s, {labels[0]} vs {labels[1]}): "
            f"{ratio_ci(it.ratio, it.ci_low, it.ci_high)}, {p_value(it.p)}; {trials} ({', '.join(it.trials)})")


def interaction_detail(it, how: str, notes=()) -> str:
    """Each trial's own ratio and how they were pooled (``how``: the pooling method without the
    measure, since what is pooled is a log ratio of ratios): the numbers behind ``interaction_line``,
    then ``notes``."""
    if it is None or it.k < 2:
        return ""
    per = "; ".join(f"{t.trial} {ratio_ci(t.ratio, t.ci_low, t.ci_high)} ({p_value(t.p)})" for t in it.per_trial)
    het = heterogeneity(it.pooled)
    return (f"Within-trial interaction by trial (Wald CI): {per}. Pooled on the log scale: {how}; "
            f"across the trials' interactions, {het[0].lower()}{het[1:]}." + "".join(f" {n}." for n in notes))


def prediction(r) -> str:
    if r is None or missing(r.pi_low):
        return ""
    return f"Prediction interval: [{ratio(r.pi_low)}, {ratio(r.pi_high)}]"


def tau2_ci(r) -> str:
    if r is None or missing(r.tau2_ci_low):
        return ""
    return f"Tau\u00b2 = {number(r.tau2, 3)} [{number(r.tau2_ci_low, 3)}, {number(r.tau2_ci_high, 3)}] (Q-profile)"


#: What would start HTML in a Markdown renderer: a tag, a comment or an entity ('p < 0.05' stays).
_MD_HTML = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?\w+;)")


def md_text(text) -> str:
    """``text`` for a Markdown document: what would start HTML (``<script>``, ``<img ...>``,
    ``&lt;``) written as entities, so a renderer shows it and never runs it; one line."""
    return _MD_HTML.sub(lambda m: "&lt;" if m.group() == "<" else "&amp;", str(text)).replace("\n", " ")

"""The notes that travel with a pooled estimate: what a reader must know to read it right.

k = 1, tau^2 = 0, HKSJ oddities (a zero scale, an interval narrower than Wald, the t(1)
quantile with two studies), a Wald interval with few studies, a non-converged REML fit, an
undefined prediction interval. They reach every table, figure footnote and JSON record.

A note is data: its :class:`NoteKind` and the numbers it cites. Code that needs to know what
a note says tests its ``kind``; the sentence is rendered only where it is shown
(``str(note)``), never parsed back.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from scipy import stats

from trialmeta import fmt
from trialmeta.stats.effects import LOG_MAX

if TYPE_CHECKING:
    from trialmeta.stats import engine
    from trialmeta.stats.settings import PoolSettings


class NoteKind(enum.Enum):
    """What a pooling note is about."""

    SINGLE_STUDY = "single-study"
    TAU2_ZERO = "tau2-zero"
    HKSJ_COMMON_EFFECT = "hksj-common-effect"
    HKSJ_ZERO_SCALE = "hksj-zero-scale"
    ADHOC_SCALE_RAISED = "adhoc-scale-raised"
    HKSJ_NARROWER = "hksj-narrower-than-wald"
    K2_HKSJ = "k2-hksj"
    WALD_FEW_STUDIES = "wald-few-studies"
    TAU2_CI_POINT = "tau2-ci-point"
    REML_NOT_CONVERGED = "reml-not-converged"
    NO_PI_COMMON_EFFECT = "no-pi-common-effect"
    NO_PI_FEW_STUDIES = "no-pi-few-studies"
    RATIO_OVERFLOW = "ratio-overflow"
    BAYES_SENSITIVITY = "bayes-sensitivity"
    K2_READ = "k2-which-interval"
    BAYES_PRIMARY = "bayes-primary"
    BAYES_PRIOR_MATTERS = "bayes-prior-matters"
    BAYES_NO_SCALE = "bayes-no-prior-scale"
    BAYES_SD_UNDEFINED = "bayes-sd-undefined"
    MH_SENSITIVITY = "mh-sensitivity"


@dataclass(frozen=True)
class Note:
    """One note: its kind and the values its sentence cites (``values`` as (name, value) pairs).

    Notes that cite an effect carry ``ratio``: True for a ratio (values given as exp(log)), False for a
    difference (RD, MD, SMD: values on their own scale, never exponentiated).
    """

    kind: NoteKind
    values: tuple[tuple[str, object], ...] = ()

    def __getitem__(self, name: str):
        return dict(self.values)[name]

    def __str__(self) -> str:
        return _TEXT[self.kind](dict(self.values))


_INTERVALS = (("low", "high"), ("wald_low", "wald_high"), ("hksj_low", "hksj_high"))


def _v(v: dict, name: str) -> str:
    """Value ``name`` of a note printed on its measure's scale: a ratio with RevMan's two decimals, a
    difference with enough decimals for two significant digits of the note's narrowest interval (an
    MD in small units would otherwise read "[-0.00, 0.00]")."""
    ratio = v.get("ratio", True)
    digits = 2 if ratio else fmt.decimals_for(
        [v[b] - v[a] for a, b in _INTERVALS if fmt.finite_or_none(v.get(a)) is not None
         and fmt.finite_or_none(v.get(b)) is not None])
    return fmt.on_scale(v[name], ratio, digits)


def _below(v: dict) -> str:
    """'P(ratio < 1)' or 'P(difference < 0)'."""
    return "P(ratio < 1)" if v.get("ratio", True) else "P(difference < 0)"


def _hksj_zero(v: dict) -> str:
    return ("HKSJ scale factor is 0 (the studies agree exactly)"
            + (": CI has zero width; consider ci='hksj-adhoc'" if v["ci"] == "hksj" else ""))


_TEXT = {
    NoteKind.SINGLE_STUDY: lambda v: ("k = 1: the result is the single study's own estimate with its Wald (z) CI; "
                                      "τ², heterogeneity and the prediction interval are undefined"),
    NoteKind.TAU2_ZERO: lambda v: "τ² estimated as 0: random-effects equals common-effect",
    NoteKind.HKSJ_COMMON_EFFECT: lambda v: "HKSJ applied to a common-effect model (it is meant for random effects)",
    NoteKind.HKSJ_ZERO_SCALE: _hksj_zero,
    NoteKind.ADHOC_SCALE_RAISED: lambda v: (f"ad-hoc HKSJ: scale factor {v['scale']:.4g} < 1 replaced by 1 "
                                            "(Wald SE, t quantile)"),
    NoteKind.HKSJ_NARROWER: lambda v: (
        f"the HKSJ CI is narrower than the Wald CI (half-widths on the "
        f"{'log scale' if v.get('ratio', True) else 'scale of the difference'} {v['half_hksj']:.4g} vs "
        f"{v['half_wald']:.4g}: HKSJ SE {v['se_hksj']:.5g}, Wald SE {v['se_wald']:.5g}); with few studies and "
        "little heterogeneity HKSJ can be implausibly narrow (Jackson et al. 2017): read it with the ad hoc "
        "variant (ci: hksj-adhoc), which never goes below Wald"),
    NoteKind.K2_HKSJ: lambda v: (
        f"k = 2: the HKSJ CI uses t with 1 df (critical value {v['t1']:.2f} vs z {v['z']:.2f}) scaled by how "
        f"closely the two studies agree, so its width swings widely (here {v['times']:.2f} times the Wald "
        f"width); with the same τ² the Wald (z) CI would be [{_v(v, 'wald_low')}, {_v(v, 'wald_high')}]"),
    NoteKind.WALD_FEW_STUDIES: lambda v: (
        f"Wald (z) CI with k = {v['k']}: it ignores the uncertainty in τ² and can under-cover badly with so "
        "few studies; HKSJ is Cochrane's 2025 default"),
    NoteKind.TAU2_CI_POINT: lambda v: "Q below its lower chi² quantile: the Q-profile τ² CI is the single point 0",
    NoteKind.REML_NOT_CONVERGED: lambda v: "REML did not converge: τ² may be inaccurate",
    NoteKind.NO_PI_COMMON_EFFECT: lambda v: "no prediction interval for a common-effect model",
    NoteKind.NO_PI_FEW_STUDIES: lambda v: "no prediction interval: it needs k >= 3 (t with k - 2 df)",
    NoteKind.RATIO_OVERFLOW: lambda v: ("a ratio-scale value is beyond the float range (log scale above 709.78) and "
                                        "is given as infinity (null in JSON); the log-scale values are exact"),
    NoteKind.BAYES_SENSITIVITY: lambda v: (
        f"sensitivity, {v['label']}: {_v(v, 'est')} [{_v(v, 'low')}, {_v(v, 'high')}] "
        f"({v['level']:.0%} credible interval; posterior {_below(v)} = {v['p_below']:.3f})"),
    NoteKind.K2_READ: lambda v: (
        f"k = 2, which interval to read: the Bayesian one, {_v(v, 'est')} [{_v(v, 'low')}, "
        f"{_v(v, 'high')}], because its one assumption about the between-study SD \u03c4 is stated "
        f"({v['prior']} prior). Two studies cannot estimate \u03c4: the HKSJ interval "
        f"[{_v(v, 'hksj_low')}, {_v(v, 'hksj_high')}] uses t with 1 df and its width depends on "
        f"how closely the two results happen to agree; the Wald interval [{_v(v, 'wald_low')}, "
        f"{_v(v, 'wald_high')}] treats the estimated \u03c4\u00b2 as known and is too narrow if the trials "
        "differ (Friede et al. 2017; Bender et al. 2018)"),
    NoteKind.BAYES_PRIMARY: lambda v: (
        f"Bayesian random effects: {v['prior']} prior on \u03c4 "
        f"({'log scale' if v.get('ratio', True) else 'in the units of the difference'}), flat prior on \u03bc; "
        f"posterior median with {v['level']:.0%} equal-tailed credible interval by numerical integration; "
        f"posterior {_below(v)} = {v['p_below']:.3f}"),
    NoteKind.BAYES_PRIOR_MATTERS: lambda v: (
        f"k = {v['k']}: \u03c4 is barely informed by the data, so the interval depends on the prior on \u03c4; "
        "the JSON also holds the REML Wald and HKSJ intervals"),
    NoteKind.BAYES_NO_SCALE: lambda v: (
        "no Bayesian line: for a difference (RD, MD, SMD) the prior on \u03c4 must be stated in the measure's "
        "own units (prior_scale, --prior-scale); the 0.5 used for log ratios would mean nothing here"),
    NoteKind.MH_SENSITIVITY: lambda v: (
        f"sensitivity, Mantel-Haenszel common effect from the responder counts (RevMan's dichotomous default; it "
        f"assumes one true effect in every trial): {fmt.ratio(v['est'])} [{fmt.ratio(v['low'])}, "
        f"{fmt.ratio(v['high'])}] ({v['level']:.0%} CI, Wald z)"),
    NoteKind.BAYES_SD_UNDEFINED: lambda v: (
        f"the posterior SD of \u03bc does not exist under a {v['prior']} prior with k = {v['k']} (its tails are "
        "too heavy: the posterior variance diverges), so it is not given; the median and credible interval are "
        "well defined"),
}


def _to_scale(x: float, ratio: bool) -> float:
    """A pooled-scale value on the measure's scale: exp for a ratio (+inf past the float range), as is for a
    difference."""
    return (math.exp(x) if x <= LOG_MAX else math.inf) if ratio else x


@lru_cache(maxsize=None)
def _quantiles(level: float) -> tuple[float, float]:
    """z and t(1) critical values of a two-sided ``level`` CI (once per level, not per analysis)."""
    return float(stats.norm.isf((1 - level) / 2)), float(stats.t.isf((1 - level) / 2, 1))


def pool_notes(b: engine.Batch, i: int, s: PoolSettings, ratio: bool = True) -> tuple[Note, ...]:
    """What a reader must know about pooled analysis ``i`` of batch ``b`` (a ratio, on the log scale, or a
    difference, on its own scale: ``ratio``)."""
    k, notes = int(b.k[i]), []
    if k == 1:
        return (Note(NoteKind.SINGLE_STUDY),)
    z, t1 = _quantiles(s.level)
    half_wald = z * b.se_wald[i]
    if s.method != "fe" and b.tau2[i] == 0.0:
        notes.append(Note(NoteKind.TAU2_ZERO))
    if s.method == "fe" and s.ci != "wald":
        notes.append(Note(NoteKind.HKSJ_COMMON_EFFECT))
    if s.ci != "wald" and b.hk_scale[i] == 0.0:
        notes.append(Note(NoteKind.HKSJ_ZERO_SCALE, (("ci", s.ci),)))
    elif s.ci == "hksj-adhoc" and b.hk_scale[i] < 1.0:
        notes.append(Note(NoteKind.ADHOC_SCALE_RAISED, (("scale", float(b.hk_scale[i])),)))
    if s.ci == "hksj":
        half_hksj = b.ci_high[i] - b.est[i]
        if half_hksj < half_wald * (1.0 - 1e-9):  # (equal up to rounding is not narrower)
            notes.append(Note(NoteKind.HKSJ_NARROWER, (
                ("ratio", ratio), ("half_hksj", float(half_hksj)), ("half_wald", float(half_wald)),
                ("se_hksj", float(b.se[i])), ("se_wald", float(b.se_wald[i])))))
    if s.ci != "wald" and k == 2:
        lo, hi = (_to_scale(float(b.est[i] + sign * half_wald), ratio) for sign in (-1, 1))
        notes.append(Note(NoteKind.K2_HKSJ, (
            ("ratio", ratio), ("t1", t1), ("z", z), ("times", float((b.ci_high[i] - b.ci_low[i]) / (2 * half_wald))),
            ("wald_low", lo), ("wald_high", hi))))
    elif s.ci == "wald" and s.method != "fe" and 2 <= k < 5:
        notes.append(Note(NoteKind.WALD_FEW_STUDIES, (("k", k),)))
    if b.tau2_ci_null[i]:
        notes.append(Note(NoteKind.TAU2_CI_POINT))
    if not b.converged[i]:
        notes.append(Note(NoteKind.REML_NOT_CONVERGED))
    if s.prediction and s.method == "fe":
        notes.append(Note(NoteKind.NO_PI_COMMON_EFFECT))
    elif s.prediction and k < 3:
        notes.append(Note(NoteKind.NO_PI_FEW_STUDIES))
    return tuple(notes)


def bayes_notes(r, s: PoolSettings) -> tuple[Note, ...]:
    """Notes on the Bayesian result ``r.bayes`` of pooled group ``r`` (a ``GroupResult``).

    Under ``method="bayes"``: what was computed and, for k <= 4, that the prior matters.
    Otherwise, for 2 <= k <= ``s.bayes_max_k``: the Bayesian result as a labelled sensitivity
    line and, for k = 2 under HKSJ, which interval to read and why; for a difference pooled
    without a prior scale in its units, why there is no Bayesian line. Values are on the
    measure's scale (``r.ratio``).
    """
    by, ratio = r.bayes, r.ratio
    if by is None:
        if not ratio and s.method != "bayes" and s.prior_scale is None and 2 <= r.k <= s.bayes_max_k:
            return (Note(NoteKind.BAYES_NO_SCALE),)
        return ()
    sd = () if by.log_sd is not None or r.k < 1 else (Note(NoteKind.BAYES_SD_UNDEFINED, (
        ("prior", by.prior), ("k", r.k))),)
    if s.method == "bayes":
        notes = [Note(NoteKind.BAYES_PRIMARY, (("ratio", ratio), ("prior", by.prior), ("level", by.level),
                                               ("p_below", by.p_below_null)))]
        if 1 < r.k <= 4:
            notes.append(Note(NoteKind.BAYES_PRIOR_MATTERS, (("k", r.k),)))
        return tuple(notes) + sd
    if not 2 <= r.k <= s.bayes_max_k:
        return ()
    notes = [Note(NoteKind.BAYES_SENSITIVITY, (
        ("ratio", ratio), ("label", s.describe_bayes(ratio)), ("est", by.est), ("low", by.ci_low),
        ("high", by.ci_high), ("level", by.level), ("p_below", by.p_below_null)))]
    if r.k == 2 and s.ci != "wald" and s.method != "fe":
        notes.append(Note(NoteKind.K2_READ, (
            ("ratio", ratio), ("est", by.est), ("low", by.ci_low), ("high", by.ci_high), ("prior", by.prior),
            ("hksj_low", r.ci_low), ("hksj_high", r.ci_high), ("wald_low", r.wald_ci_low),
            ("wald_high", r.wald_ci_high))))
    return tuple(notes)


def has(notes, kind: NoteKind) -> bool:
    """Whether any of ``notes`` is of ``kind`` (other entries, e.g. plain-text caveats, are skipped)."""
    return any(getattr(n, "kind", None) is kind for n in notes)

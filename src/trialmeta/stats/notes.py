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


@dataclass(frozen=True)
class Note:
    """One note: its kind and the values its sentence cites (``values`` as (name, value) pairs)."""

    kind: NoteKind
    values: tuple[tuple[str, object], ...] = ()

    def __getitem__(self, name: str):
        return dict(self.values)[name]

    def __str__(self) -> str:
        return _TEXT[self.kind](dict(self.values))


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
        f"the HKSJ CI is narrower than the Wald CI (half-widths on the log scale {v['half_hksj']:.4f} vs "
        f"{v['half_wald']:.4f}: HKSJ SE {v['se_hksj']:.5f}, Wald SE {v['se_wald']:.5f}); with few studies and "
        "little heterogeneity HKSJ can be implausibly narrow (Jackson et al. 2017): read it with the ad hoc "
        "variant (ci: hksj-adhoc), which never goes below Wald"),
    NoteKind.K2_HKSJ: lambda v: (
        f"k = 2: the HKSJ CI uses t with 1 df (critical value {v['t1']:.2f} vs z {v['z']:.2f}) scaled by how "
        f"closely the two studies agree, so its width swings widely (here {v['times']:.2f} times the Wald "
        f"width); with the same τ² the Wald (z) CI would be [{fmt.ratio(v['wald_low'])}, "
        f"{fmt.ratio(v['wald_high'])}]"),
    NoteKind.WALD_FEW_STUDIES: lambda v: (
        f"Wald (z) CI with k = {v['k']}: it ignores the uncertainty in τ² and can under-cover badly with so "
        "few studies; HKSJ is Cochrane's 2025 default"),
    NoteKind.TAU2_CI_POINT: lambda v: "Q below its lower chi² quantile: the Q-profile τ² CI is the single point 0",
    NoteKind.REML_NOT_CONVERGED: lambda v: "REML did not converge: τ² may be inaccurate",
    NoteKind.NO_PI_COMMON_EFFECT: lambda v: "no prediction interval for a common-effect model",
    NoteKind.NO_PI_FEW_STUDIES: lambda v: "no prediction interval: it needs k >= 3 (t with k - 2 df)",
}


@lru_cache(maxsize=None)
def _quantiles(level: float) -> tuple[float, float]:
    """z and t(1) critical values of a two-sided ``level`` CI (once per level, not per analysis)."""
    return float(stats.norm.isf((1 - level) / 2)), float(stats.t.isf((1 - level) / 2, 1))


def pool_notes(b: engine.Batch, i: int, s: PoolSettings) -> tuple[Note, ...]:
    """What a reader must know about pooled analysis ``i`` of batch ``b``."""
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
                ("half_hksj", float(half_hksj)), ("half_wald", float(half_wald)),
                ("se_hksj", float(b.se[i])), ("se_wald", float(b.se_wald[i])))))
    if s.ci != "wald" and k == 2:
        lo, hi = (math.exp(b.est[i] + sign * half_wald) for sign in (-1, 1))
        notes.append(Note(NoteKind.K2_HKSJ, (
            ("t1", t1), ("z", z), ("times", float((b.ci_high[i] - b.ci_low[i]) / (2 * half_wald))),
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


def has(notes, kind: NoteKind) -> bool:
    """Whether any of ``notes`` is of ``kind`` (other entries, e.g. plain-text caveats, are skipped)."""
    return any(getattr(n, "kind", None) is kind for n in notes)

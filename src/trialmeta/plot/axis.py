"""The log ratio axis shared by every forest-style figure (pooled and single-trial forests,
the cumulative history): RevMan's symmetric scales around 1 and readable ticks.

* the axis is symmetric around 1 (RevMan scales 0.5-2, 0.2-5, 0.1-10, ..., 0.01-100), the
  smallest scale holding every study estimate and CI; beyond 0.01-100 CIs end in arrows;
* pooled CIs (``soft`` values) may widen it by one scale at most, so one very wide diamond
  (HKSJ with two studies) cannot squeeze every study into a sliver of the plot; a diamond
  still wider is cut at the axis edge and ends in an arrow;
* ticks come from the 1-2-5 series (0.7 and 1.5 on the narrowest scale), thinned until
  their labels cannot touch on an axis of the given width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trialmeta.fmt import positive
from trialmeta.plot.scene import text_width

#: Symmetric axis half-ranges (upper limit; the lower is its inverse) and their ticks.
SCALES: tuple[tuple[float, tuple[float, ...]], ...] = (
    (2.0, (0.5, 0.7, 1.0, 1.5, 2.0)),
    (5.0, (0.2, 0.5, 1.0, 2.0, 5.0)),
    (10.0, (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)),
    (20.0, (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)),
    (50.0, (0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)),
    (100.0, (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)),
)
TICK_FONT = 7.0  # points (forest_text.FONT)


@dataclass(frozen=True)
class LogAxis:
    lim: tuple[float, float]
    ticks: tuple[float, ...]
    labels: tuple[str, ...]

    def frac(self, v: float) -> float:
        """Position of ``v`` across the axis, 0 at the left limit, 1 at the right."""
        lo, hi = (math.log(x) for x in self.lim)
        return (math.log(v) - lo) / (hi - lo)

    def clamp(self, v: float) -> float:
        return min(max(v, self.lim[0]), self.lim[1])


def tick_label(t: float) -> str:
    return f"{t:g}"


def scale_index(values) -> int:
    """Index in :data:`SCALES` of the smallest scale holding every positive value."""
    spread = max((abs(math.log(v)) for v in values if positive(v)), default=0.0)
    return next((i for i, (u, _) in enumerate(SCALES) if math.log(u) >= spread - 1e-9), len(SCALES) - 1)


def log_axis(values, width: float, size: float = TICK_FONT, soft=()) -> LogAxis:
    """Symmetric log axis covering ``values`` (study estimates and CIs, reference lines) and,
    up to one scale wider, ``soft`` values (pooled CIs), with the densest tick set whose
    labels do not touch on an axis ``width`` inches long."""
    values = list(values)
    i = scale_index(values)
    if soft:
        i = max(i, min(scale_index([*values, *soft]), i + 1))
    upper, series = SCALES[i]
    lim = (1.0 / upper, upper)
    decades = tuple(t for t in series if t in lim or math.isclose(math.log10(t), round(math.log10(t))))
    ones_fives = tuple(t for t in series if t in lim or f"{t:g}".strip("0.")[:1] in ("1", "5"))
    for ticks in (series, ones_fives, decades, (lim[0], 1.0, lim[1])):
        if _fits(ticks, lim, width, size):
            break
    return LogAxis(lim, ticks, tuple(tick_label(t) for t in ticks))


def _fits(ticks, lim, width: float, size: float) -> bool:
    axis = LogAxis(lim, ticks, ())
    for a, b in zip(ticks, ticks[1:]):
        gap = (axis.frac(b) - axis.frac(a)) * width
        if gap < 1.07 * (text_width(tick_label(a), size) + text_width(tick_label(b), size)) / 2 + 0.06:
            return False
    return True


#: Half-ranges of linear axes (differences: RD, MD, SMD), as multiples of a power of ten.
LINEAR_STEPS = (1.0, 2.0, 5.0)


def linear_limit(spread: float) -> float:
    """Smallest 1-2-5 x 10^n half-range holding ``spread`` (> 0)."""
    if not spread > 0:
        return 1.0
    e = math.floor(math.log10(spread))
    for base in (e, e + 1):
        for m in LINEAR_STEPS:
            if m * 10.0 ** base >= spread * (1 - 1e-12):
                return m * 10.0 ** base
    return 10.0 ** (e + 1)  # pragma: no cover - the loop always returns


def linear_unit(values) -> float:
    """A power of ten near the largest finite ``|value|`` (differences), so that ``value / unit`` stays within
    [-10, 10] for every study: the exp-encoding of :func:`encode_difference` never overflows."""
    spread = max((abs(v) for v in values if v is not None and math.isfinite(v)), default=0.0)
    return 10.0 ** math.floor(math.log10(spread)) if spread > 0 else 1.0


def encode_difference(x, unit: float):
    """A difference as a forest row carries it: ``exp(x / unit)``, clamped to the float range (``None`` stays)."""
    if x is None or not math.isfinite(x):
        return x
    return math.exp(min(max(x / unit, -700.0), 700.0))


def linear_axis(values, width: float, size: float = TICK_FONT, soft=(), unit: float = 1.0) -> LogAxis:
    """A linear axis for differences, symmetric around 0, carried on the log axis of exp(value / unit).

    Rows of a difference measure hold ``exp(value / unit)`` (:func:`encode_difference`, so every
    positive-value check, the null line at 1 and the drawing code serve both scales); a log axis
    of ``exp(value / unit)`` is a linear axis of ``value``. ``values``/``soft`` are such encoded
    numbers; the ticks are labelled with the differences themselves (-L, -L/2, 0, L/2, L)."""
    spread = max((abs(math.log(v)) for v in values if positive(v)), default=0.0)
    lim = linear_limit(spread)
    if soft:
        wider = max((abs(math.log(v)) for v in soft if positive(v)), default=0.0)
        if wider > lim:
            lim = min(linear_limit(wider), 2.5 * lim)
    ticks = (-lim, -lim / 2, 0.0, lim / 2, lim)
    if not _fits(tuple(math.exp(t) for t in ticks), (math.exp(-lim), math.exp(lim)), width, size):
        ticks = (-lim, 0.0, lim)
    return LogAxis((math.exp(-lim), math.exp(lim)), tuple(math.exp(t) for t in ticks),
                   tuple(f"{t * unit:g}".replace("-", "\u2212") for t in ticks))

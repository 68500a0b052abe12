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

"""Diagnostic figures of one's own studies as scenes (drawn by :mod:`trialmeta.plot.render`): the
contour-enhanced funnel plot, the Baujat plot and the meta-regression bubble plot.

* Funnel (Sterne & Egger 2001; contours: Peters et al. 2008): each study's effect (ratios on a log axis)
  against its standard error, the axis inverted (large studies on top); shaded regions where a study's
  two-sided p value against no effect is between 0.10 and 0.05 (dark grey), 0.05 and 0.01 (light grey) and
  below 0.01 (lightest), as metafor ``funnel(level = c(90, 95, 99), shade = c("white", "gray55", "gray75"),
  refline = 0)``; the pooled estimate as a dashed line with its pseudo 95% limits (dotted); studies filled in
  by trim-and-fill drawn as open circles.
* Baujat (Baujat et al. 2002): contribution to heterogeneity against influence on the pooled result, labelled.
* Bubble: the effect against one continuous moderator, circles sized by the study's weight in the
  meta-regression, with the fitted line (other moderators at their mean).
"""

from __future__ import annotations

import math

import numpy as np

from trialmeta.plot.axis import log_axis
from trialmeta.plot.scene import Axis, Line, Markers, Panel, Polygon, Scene, Text

SIZE = (6.0, 4.6)
RECT = (0.13, 0.14, 0.83, 0.76)
FONT = 8.0
#: (two-sided p, z, shade): regions drawn from the widest inwards
CONTOURS = ((0.01, 2.5758293035489004, "0.75"), (0.05, 1.959963984540054, "0.55"), (0.10, 1.6448536269514722, "white"))
OUTSIDE = "0.9"


def _ticks(lo: float, hi: float, n: int = 5) -> tuple[float, ...]:
    step = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(step)) if step > 0 else 1.0
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= step)
    start = math.ceil(lo / step) * step
    return tuple(round(start + i * step, 10) for i in range(int((hi - start) / step + 1e-9) + 1))


def _x_axis(values, ratio: bool, label: str) -> Axis:
    if ratio:
        ax = log_axis([math.exp(v) for v in values], SIZE[0] * RECT[2])
        return Axis(ax.lim, "log", ax.ticks, ax.labels, label, visible=True)
    lo, hi = min(values), max(values)
    pad = 0.08 * (hi - lo or 1.0)
    lim = (lo - pad, hi + pad)
    ticks = _ticks(*lim)
    return Axis(lim, "linear", ticks, tuple(f"{t:g}" for t in ticks), label, visible=True)


def funnel_scene(yi, sei, *, ratio: bool, measure: str, pooled: float, filled_yi=(), filled_sei=(),
                 contours: bool = True, title: str = "") -> Scene:
    """The contour-enhanced funnel plot (see the module); ``yi`` log effects (or differences), ``pooled`` too."""
    yi, sei = np.asarray(yi, float), np.asarray(sei, float)
    fy, fs = np.asarray(filled_yi, float), np.asarray(filled_sei, float)
    top = float(max(sei.max(), fs.max() if fs.size else 0.0)) * 1.08
    z99 = CONTOURS[0][1]
    span = [*(yi - 0.2 * sei), *(yi + 0.2 * sei), *fy, pooled - 1.96 * top, pooled + 1.96 * top]
    if contours:
        span += [-z99 * top, z99 * top]
    x = _x_axis(span, ratio, f"{measure}" + (" (log scale)" if ratio else ""))
    ex = (lambda v: math.exp(v)) if ratio else (lambda v: v)  # noqa: E731
    items: list = []
    if contours:
        (x0, x1) = x.lim
        items.append(Polygon((x0, x1, x1, x0), (0, 0, top, top), facecolor=OUTSIDE, edgecolor=OUTSIDE,
                             width=0, role="contour-p<0.01", zorder=1))
        for p, z, shade in CONTOURS:
            items.append(Polygon((ex(0.0), ex(-z * top), ex(z * top)), (0.0, top, top), facecolor=shade,
                                 edgecolor=shade, width=0, role=f"contour-p{p}", zorder=1))
    for s in (-1, 1):
        items.append(Line((ex(pooled), ex(pooled + s * 1.959963984540054 * top)), (0.0, top), style=":",
                          width=0.7, role="pseudo-ci"))
    items.append(Line((ex(pooled), ex(pooled)), (0.0, top), style="--", width=0.8, role="pooled"))
    items.append(Markers(tuple(ex(v) for v in yi), tuple(sei), marker="o", areas=(22.0,) * len(yi), role="study"))
    if fy.size:
        items.append(Markers(tuple(ex(v) for v in fy), tuple(fs), marker="o", areas=(22.0,) * len(fy),
                             filled=False, role="filled-study"))
    legend = [("p > 0.10", "white"), ("0.05 < p ≤ 0.10", CONTOURS[1][2]), ("0.01 < p ≤ 0.05", CONTOURS[0][2]),
              ("p ≤ 0.01", OUTSIDE)] if contours else []
    for i, (text, shade) in enumerate(legend):
        yy = 0.96 - i * 0.055
        items += [Text(0.80, yy, "■", ha="center", size=FONT + 3, color=shade, coords="axes", role="legend-key"),
                  Text(0.80, yy, "□", ha="center", size=FONT + 3, coords="axes", role="legend-key")]
        items.append(Text(0.825, yy, text, size=FONT - 1, coords="axes", role="legend"))
    if fy.size:
        items.append(Text(0.02, 0.03, f"open circles: {fy.size} studies filled in by trim and fill", size=FONT - 1,
                          coords="axes", role="legend"))
    y = Axis((0.0, top), "linear", _ticks(0.0, top, 4), (), "Standard error", visible=True, inverted=True)
    panel = Panel("funnel", RECT, x, y, tuple(items), spines=("bottom", "left"), fontsize=FONT)
    return Scene(SIZE[0], SIZE[1], (panel,), title)


def baujat_scene(x, y, labels, *, title: str = "") -> Scene:
    """Baujat plot: contribution to heterogeneity (x) against influence on the pooled result (y), labelled."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    xa = Axis((0.0, float(x.max()) * 1.1 or 1.0), "linear", _ticks(0.0, float(x.max()) * 1.1 or 1.0), (),
              "Squared Pearson residual (contribution to heterogeneity)", visible=True)
    ya = Axis((0.0, float(y.max()) * 1.1 or 1.0), "linear", _ticks(0.0, float(y.max()) * 1.1 or 1.0), (),
              "Influence on the pooled result", visible=True)
    items = [Markers(tuple(x), tuple(y), marker="o", areas=(14.0,) * len(x), filled=False, role="study")]
    items += [Text(float(a), float(b), f" {lab}", size=FONT - 1, role="study-label") for a, b, lab in zip(x, y, labels)]
    return Scene(SIZE[0], SIZE[1], (Panel("baujat", RECT, xa, ya, tuple(items), ("bottom", "left"), FONT),), title)


def bubble_scene(mod, yi, weights, line_x, line_y, *, ratio: bool, measure: str, moderator: str,
                 title: str = "") -> Scene:
    """Bubble plot: effect against a moderator, circle areas proportional to the weights, the fitted line."""
    mod, yi, w = (np.asarray(a, float) for a in (mod, yi, weights))
    lo, hi = float(mod.min()), float(mod.max())
    pad = 0.06 * (hi - lo or 1.0)
    xa = Axis((lo - pad, hi + pad), "linear", _ticks(lo - pad, hi + pad), (), moderator, visible=True)
    ya = _x_axis(list(yi) + list(line_y), ratio, measure + (" (log scale)" if ratio else ""))
    ex = np.exp if ratio else (lambda v: v)  # noqa: E731
    areas = tuple(float(a) for a in 20 + 400 * w / w.max())
    items = [Markers(tuple(mod), tuple(ex(yi)), marker="o", areas=areas, filled=False, role="study"),
             Line(tuple(float(v) for v in line_x), tuple(float(v) for v in ex(np.asarray(line_y))), width=1.0,
                  role="fit")]
    return Scene(SIZE[0], SIZE[1], (Panel("bubble", RECT, xa, ya, tuple(items), ("bottom", "left"), FONT),), title)

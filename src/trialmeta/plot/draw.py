"""Draw a placed forest (:class:`~trialmeta.plot.grid.Placed`) as a :class:`~trialmeta.plot.scene.Scene`.

Two panels: ``table`` covers the figure in inches (y down from the top) and holds every text
and rule; ``plot`` has the log x axis (ratio units) and the same y values, and holds the
null line, the dashed reference lines, CIs (with arrow heads where they run past the axis),
squares, diamonds (cut square short of the axis edge, with an arrow, where the pooled CI runs
past it) and prediction-interval bars. Item roles name what each item is, for tests.
"""

from __future__ import annotations

import math

from trialmeta.fmt import positive
from trialmeta.plot.axis import LogAxis
from trialmeta.plot.grid import Placed, header_lines
from trialmeta.plot.spec import DIAMOND, LINE, MARGIN, TITLE
from trialmeta.plot.text import FONT
from trialmeta.plot.scene import Arrow, Axis, Line, Markers, Panel, Polygon, Scene, Text

def _text_lines(items: list, lines: list, x: float, yc: float, ha: str, role: str, bold=False, size=FONT):
    y0 = yc - (len(lines) - 1) * LINE / 2
    for i, line in enumerate(lines):
        items.append(Text(x, y0 + i * LINE, line, ha=ha, va="center", size=size,
                          weight="bold" if bold else "normal", role=role))


def _table_items(p: Placed) -> list:
    spec, items = p.spec, []
    y = MARGIN + LINE * TITLE / FONT / 2
    for line in p.title:
        items.append(Text(MARGIN, y, line, size=TITLE, weight="bold", role="title"))
        y += LINE * TITLE / FONT
    for line in p.subtitle:
        items.append(Text(MARGIN, y, line, size=FONT, role="subtitle"))
        y += LINE
    n_head = max([header_lines(spec, c) for c in spec.columns] + [len(p.plot_header)])
    head_bottom = p.header_top + n_head * LINE
    for text, keys in spec.spans:
        x0, x1 = p.columns[keys[0]][0], p.columns[keys[-1]][1]
        y = head_bottom - (max(len(c.header) for c in spec.columns if c.key in keys) + 0.5) * LINE
        items.append(Text((x0 + x1) / 2, y, text, ha="center", size=FONT, weight="bold", role="column-header"))
        items.append(Line((x0, x1), (y + LINE / 2,) * 2, width=0.5, role="span-rule"))
    for c in spec.columns:
        x0, x1 = p.columns[c.key]
        x = {"left": x0, "right": x1, "center": (x0 + x1) / 2}[c.ha]
        for i, h in enumerate(reversed(c.header)):
            items.append(Text(x, head_bottom - (i + 0.5) * LINE, h, ha=c.ha, size=FONT, weight="bold",
                              role="column-header"))
    px = (p.plot[0] + p.plot[1]) / 2
    for i, h in enumerate(reversed(p.plot_header)):
        items.append(Text(px, head_bottom - (i + 0.5) * LINE, h, ha="center", size=FONT, weight="bold",
                          role="plot-header"))
    items.append(Line((MARGIN, p.width - MARGIN), (p.plot[2] - 0.03,) * 2, width=0.5, role="header-rule"))
    for pr in p.rows:
        r = pr.row
        if "_span" in pr.lines:
            _text_lines(items, pr.lines["_span"], MARGIN, pr.y, "left", r.role, r.bold)
        for c in spec.columns:
            if c.key in pr.lines:
                x0, x1 = p.columns[c.key]
                x = {"left": x0, "right": x1, "center": (x0 + x1) / 2}[c.ha]
                role = f"{r.kind}-{c.role or c.key}"
                _text_lines(items, pr.lines[c.key], x, pr.y, c.ha, role, r.bold)
    x1 = p.x_of(1.0)
    fy = p.plot[3] + 0.3
    _text_lines(items, p.favours[0], x1 - 0.08, fy + (len(p.favours[0]) - 1) * LINE / 2, "right", "favours-left")
    _text_lines(items, p.favours[1], x1 + 0.08, fy + (len(p.favours[1]) - 1) * LINE / 2, "left", "favours-right")
    for role, lines, y0 in p.footnotes:
        for i, line in enumerate(lines):
            items.append(Text(MARGIN, y0 + i * LINE, line, size=FONT, role=role))
    return items


def _interval(items: list, axis: LogAxis, lo: float, hi: float, y: float, role: str, width=0.8) -> None:
    """A horizontal interval, clipped to the axis with an arrow head at each clipped end."""
    a, b = axis.clamp(lo), axis.clamp(hi)
    items.append(Line((a, b), (y, y), width=width, role=role))
    lim_lo, lim_hi = axis.lim
    inside = (lim_hi / lim_lo) ** 0.06  # arrow shaft: 6% of the axis
    if lo < lim_lo:
        items.append(Arrow(lim_lo * inside, lim_lo, y, width=width, role=f"{role}-arrow"))
    if hi > lim_hi:
        items.append(Arrow(lim_hi / inside, lim_hi, y, width=width, role=f"{role}-arrow"))


def diamond_outline(axis: LogAxis, est: float, lo: float, hi: float, y: float, h: float) -> tuple[tuple, tuple]:
    """Vertices (xs, ys) of a diamond from ``lo`` to ``hi``, widest (half-height ``h``) at
    ``est``: left tip, top, right tip, bottom. An end running past the axis is cut square
    short of the edge (:func:`cut_points`), where an arrow takes over; sides stay straight on
    the log scale."""
    cut_lo, cut_hi = cut_points(axis)
    mid = min(max(est, cut_lo), cut_hi)
    left = [(lo, y)] if lo >= axis.lim[0] else [(cut_lo, y + _side(lo, est, cut_lo, h)),
                                                 (cut_lo, y - _side(lo, est, cut_lo, h))]
    right = [(hi, y)] if hi <= axis.lim[1] else [(cut_hi, y - _side(hi, est, cut_hi, h)),
                                                  (cut_hi, y + _side(hi, est, cut_hi, h))]
    pts = [*left, (mid, y - h), *right, (mid, y + h)]
    return tuple(x for x, _ in pts), tuple(v for _, v in pts)


def cut_points(axis: LogAxis) -> tuple[float, float]:
    """Where arrows start: 6% of the axis inside each end."""
    shaft = (axis.lim[1] / axis.lim[0]) ** 0.06
    return axis.lim[0] * shaft, axis.lim[1] / shaft


def _side(tip: float, est: float, x: float, h: float) -> float:
    """Half-height at ``x`` of a diamond side running from ``tip`` (0) to ``est`` (``h``)."""
    if est == tip:
        return h
    t = (math.log(x) - math.log(tip)) / (math.log(est) - math.log(tip))
    return h * min(max(t, 0.0), 1.0)


def _diamond(axis: LogAxis, est: float, lo: float, hi: float, y: float, h: float) -> list:
    xs, ys = diamond_outline(axis, est, lo, hi, y, h)
    items = [Polygon(xs, ys, role="diamond")]
    cut_lo, cut_hi = cut_points(axis)
    if lo < axis.lim[0]:  # the CI runs past the axis: an arrow carries the cut end on
        items.append(Arrow(cut_lo, axis.lim[0], y, role="diamond-arrow"))
    if hi > axis.lim[1]:
        items.append(Arrow(cut_hi, axis.lim[1], y, role="diamond-arrow"))
    return items


def _plot_items(p: Placed) -> list:
    axis, items = p.axis, []
    top, bottom = p.plot[2], p.plot[3]
    items.append(Line((1.0, 1.0), (top, bottom), width=0.7, role="null-line"))
    rows = p.rows
    for ref in p.spec.ref_lines:
        last = rows[ref.last if ref.last >= 0 else len(rows) - 1]
        first = rows[ref.first]
        y0, y1 = first.y - first.height / 2, last.y + last.height / 2
        items.append(Line((axis.clamp(ref.x),) * 2, (y0, y1), width=0.6, style=ref.style, color="0.35",
                          role=ref.role))
    for pr in rows:
        r, y = pr.row, pr.y
        if r.kind == "study" and positive(r.est):
            if positive(r.lo) and positive(r.hi):
                _interval(items, axis, r.lo, r.hi, y, "ci")
            if axis.lim[0] <= r.est <= axis.lim[1] and r.side > 0:
                items.append(Markers((r.est,), (y,), "s", (r.side ** 2,), filled=r.filled, role="study-square"))
            elif r.side > 0:  # estimate beyond the axis: an arrow at the edge points to it
                edge = axis.clamp(r.est)
                inward = edge * ((axis.lim[1] / axis.lim[0]) ** (0.06 if r.est < 1 else -0.06))
                items.append(Arrow(inward, edge, y, role="estimate-arrow"))
        elif r.kind == "pooled" and positive(r.est) and positive(r.lo) and positive(r.hi):
            items += _diamond(axis, r.est, r.lo, r.hi, y, DIAMOND * pr.height / 2)
        elif r.kind == "pi" and positive(r.lo) and positive(r.hi):
            _interval(items, axis, r.lo, r.hi, y, "prediction-interval", width=1.6)
    return items


def to_scene(p: Placed) -> Scene:
    """The placed forest as a Scene of a ``table`` panel and a ``plot`` panel."""
    w, h = p.width, p.height
    px0, px1, top, bottom = p.plot
    table = Panel("table", (0.0, 0.0, 1.0, 1.0), Axis((0.0, w)), Axis((0.0, h), inverted=True),
                  tuple(_table_items(p)), fontsize=FONT)
    plot = Panel("plot", (px0 / w, (h - bottom) / h, (px1 - px0) / w, (bottom - top) / h),
                 Axis(p.axis.lim, "log", p.axis.ticks, p.axis.labels, visible=True),
                 Axis((top, bottom), inverted=True), tuple(_plot_items(p)), spines=("bottom",), fontsize=FONT)
    return Scene(w, h, (table, plot), metadata={"kind": "forest"})

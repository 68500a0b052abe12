"""Geometry of a forest plot: a table of rows, a log-scale plot column and footnotes, measured.

:class:`ForestSpec` (:mod:`trialmeta.plot.spec`) is the plot as plain data (columns, rows
with their texts, estimates and marker sizes, footnotes); :func:`place` measures it (column
widths from the texts, :mod:`trialmeta.plot.columns`; wrapped cells, row heights, the axis,
:mod:`trialmeta.plot.axis`) into a :class:`Placed` layout, which
:func:`trialmeta.plot.draw.to_scene` draws. Every forest-style figure (pooled analyses,
:mod:`trialmeta.plot.forest`; single-trial subgroups, :mod:`trialmeta.plot.trial_forest`; the
cumulative history, :mod:`trialmeta.plot.history`) is a spec for this one geometry, so they
share its guarantees: every row is placed, in order; rows grow to fit wrapped texts; the
figure keeps its journal width (:data:`WIDTH`, wrapping the population column tighter if
need be) and grows down, widening only when the plot column would still be narrower than
:data:`MIN_PLOT`; titles wrap into even lines.

Coordinates: inches from the top-left corner of the figure; :mod:`trialmeta.plot.draw`
draws the result.
"""

from __future__ import annotations

from dataclasses import dataclass

from trialmeta.fmt import positive
from trialmeta.plot.columns import (_tw, _wrap, balanced, cell_lines, column_widths,
                                      fixed_width, narrow, runs_on, widen, wrap_clauses_padded)
from trialmeta.plot.axis import LogAxis, linear_axis, log_axis
from trialmeta.plot.spec import GAP, LINE, MARGIN, ROW, TITLE, Column, ForestSpec, Row
from trialmeta.plot.text import FONT


@dataclass(frozen=True)
class PlacedRow:
    row: Row
    y: float  # centre, inches from the top
    height: float
    lines: dict  # column key (or "_span") -> list of wrapped lines


@dataclass(frozen=True)
class Placed:
    spec: ForestSpec
    width: float
    height: float
    columns: dict  # key -> (x0, x1)
    plot: tuple[float, float, float, float]  # x0, x1, top, bottom (inches)
    axis: LogAxis
    rows: tuple[PlacedRow, ...]
    title: list
    subtitle: list
    header_top: float
    plot_header: list
    favours: tuple[list, list]
    footnotes: list  # (role, [lines], y of first line)

    def x_of(self, v: float) -> float:
        """Inches from the left edge of the figure of ratio ``v`` on the axis."""
        x0, x1 = self.plot[:2]
        return x0 + (x1 - x0) * self.axis.frac(self.axis.clamp(v))


def header_lines(spec: ForestSpec, col: Column) -> int:
    return len(col.header) + any(col.key in keys for _, keys in spec.spans)


def place(spec: ForestSpec) -> Placed:
    """Measure ``spec``: column x ranges, wrapped texts, row y positions, the axis."""
    spec = narrow(widen(spec))
    widths = column_widths(spec)
    left = [c for c in spec.columns if c.side == "left"]
    right = [c for c in spec.columns if c.side == "right"]
    fixed = fixed_width(spec, widths)
    width = max(spec.width, fixed + spec.min_plot)
    plot_w = width - fixed
    x, columns = MARGIN, {}
    for c in left:
        columns[c.key] = (x, x + widths[c.key])
        x += widths[c.key] + GAP
    px0 = x
    x = px0 + plot_w + GAP
    for c in right:
        columns[c.key] = (x, x + widths[c.key])
        x += widths[c.key] + GAP
    block = (columns[left[-1].key][1] if left else px0) - MARGIN

    # vertical: title, subtitle, headers, rows, axis, favours, footnotes
    y = MARGIN
    title = balanced(spec.title, width - 2 * MARGIN, TITLE, "bold") if spec.title else []
    y += len(title) * LINE * TITLE / FONT
    subtitle = _wrap(spec.subtitle, width - 2 * MARGIN) if spec.subtitle else []
    if len(subtitle) > 1 and _tw(subtitle[-1]) < (width - 2 * MARGIN) / 3:  # no orphaned last words
        subtitle = balanced(spec.subtitle, width - 2 * MARGIN)
    y += len(subtitle) * LINE + 0.08
    header_top = y
    plot_header = [line for h in spec.plot_header for line in wrap_clauses_padded(h, plot_w, "bold", (",",))]
    n_head = max([header_lines(spec, c) for c in spec.columns] + [len(plot_header)])
    y += n_head * LINE + 0.06
    top = y
    # studies' CIs set the scale; pooled CIs may widen it by one step (wider diamonds are cut)
    values = [v for r in spec.rows if r.kind == "study" for v in (r.est, *((r.lo, r.hi) if not r.soft else ()))
              if positive(v)]
    values += [r.est for r in spec.rows if r.kind == "pooled" and positive(r.est)] + [ln.x for ln in spec.ref_lines]
    soft = [v for r in spec.rows if r.kind == "pooled" or r.soft for v in (r.lo, r.hi) if positive(v)]
    axis = (linear_axis(values, plot_w, soft=soft, unit=spec.unit) if spec.scale == "linear"
            else log_axis(values, plot_w, soft=soft))
    x_of = lambda v: px0 + axis.frac(axis.clamp(v)) * plot_w  # noqa: E731
    last = len(spec.rows) - 1
    placed = []
    for i, r in enumerate(spec.rows):
        lines = {}
        if r.kind in ("group", "stat"):
            # a text row may run into the plot column up to the first vertical line it would cross
            stops = [x_of(1.0)] + [x_of(ln.x) for ln in spec.ref_lines
                                   if ln.first <= i <= (last if ln.last < 0 else ln.last)]
            span = max(block, min(stops) - 0.1 - MARGIN)
            lines["_span"] = wrap_clauses_padded(r.text, span, "bold" if r.bold else "normal")
        for c in spec.columns:
            if c.key in r.cells:
                lines[c.key] = cell_lines(r.cells[c.key], c, r.bold, runs_on(spec, c, r))
        n = max((len(v) for v in lines.values()), default=1)
        h = 0.08 if r.kind == "gap" else (LINE + 0.02 if r.kind == "stat" and n == 1 else max(ROW, n * LINE + 0.07))
        if r.kind == "stat" and n > 1:
            h = n * LINE + 0.02
        placed.append(PlacedRow(r, y + h / 2, h, lines))
        y += h
    bottom = y + 0.06
    x1 = x_of(1.0)
    fav_left = _wrap(spec.favours[0], min(2.3, x1 - MARGIN - 0.08))
    fav_right = _wrap(spec.favours[1], min(2.3, width - MARGIN - x1 - 0.08))
    y = bottom + 0.3 + max(len(fav_left), len(fav_right)) * LINE + 0.1
    footnotes = []
    for role, text in spec.footnotes:
        lines = _wrap(text, width - 2 * MARGIN)
        footnotes.append((role, lines, y + LINE / 2))
        y += len(lines) * LINE
    height = y + MARGIN
    return Placed(spec, width, height, columns, (px0, px0 + plot_w, top, bottom), axis, tuple(placed),
                  title, subtitle, header_top, plot_header, (fav_left, fav_right), footnotes)

"""Geometry of a forest plot: a table of rows, a log-scale plot column and footnotes, measured.

:class:`ForestSpec` is the plot as plain data (columns, rows with their texts, estimates and
marker sizes, footnotes); :func:`place` measures it (column widths from the texts, wrapped
cells, row heights, the axis) into a :class:`Placed` layout, which
:func:`trialmeta.forest_scene.to_scene` draws. Both forest kinds (pooled analyses,
:mod:`trialmeta.forest_layout`; single-trial subgroups, :mod:`trialmeta.trial_forest`) are
specs for this one geometry, so they share its guarantees: every row is placed, in order;
rows grow to fit wrapped texts; the figure grows with the rows and widens only when the
plot column would be narrower than :data:`MIN_PLOT`.

Coordinates: inches from the top-left corner of the figure; :mod:`trialmeta.forest_scene`
draws the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from trialmeta.forest_text import FONT, LogAxis, log_axis, ok, wrap_clauses
from trialmeta.scene import text_width, wrap

#: Agg's hinted glyphs run up to ~6% wider than their true (SVG/PDF) width at some resolutions
#: (150 dpi), so every measured text is padded by this factor.
SAFETY = 1.07


def _tw(text: str, weight: str = "normal", size: float = FONT) -> float:
    return text_width(text, size, weight) * SAFETY


def _wrap(text: str, width: float, size: float = FONT, weight: str = "normal") -> list[str]:
    return wrap(text, width / SAFETY, size, weight)


def _wrap_clauses(text: str, width: float, weight: str = "normal", marks=(";", ",")) -> list[str]:
    return wrap_clauses(text, width / SAFETY, FONT, weight, marks)

WIDTH = 7.0  # inches: a double journal column
MARGIN = 0.1
GAP = 0.09  # between columns
MIN_PLOT = 1.6
MAX_PLOT = 1.75  # width beyond this goes to unwrapping wrapped cells first
LINE = 0.125  # inches per text line at 7 pt
ROW = 0.2  # minimum row height
TITLE = 8.5  # points
MAX_SIDE = 10.0  # points: side of the largest square (weight 100%)
MIN_SIDE = 3.0
FIXED_SIDE = 5.0  # un-weighted markers (not pooled; sizes unknown)
DIAMOND = 0.6  # diamond height as a fraction of its row


@dataclass(frozen=True)
class Column:
    key: str
    header: tuple[str, ...]
    side: Literal["left", "right"]
    ha: Literal["left", "center", "right"] = "left"
    wrap: float | None = None  # wrap cells wider than this (inches)
    role: str = ""


@dataclass(frozen=True)
class Row:
    """One line of the table. ``kind``: group (header), study, pooled (diamond), pi (prediction
    interval bar), stat (a text line across the left columns, running into the plot column up to
    the first vertical line it would cross), gap (spacer)."""

    kind: Literal["group", "study", "pooled", "pi", "stat", "gap"]
    cells: dict = field(default_factory=dict)  # column key -> text
    text: str = ""  # group header or statistics line
    role: str = ""  # role of ``text``
    est: float | None = None
    lo: float | None = None
    hi: float | None = None
    side: float = 0.0  # marker side in points (0: no marker)
    filled: bool = True
    bold: bool = False
    key: str = ""  # identity for tests: "trial/population" for a study, the group key for a pooled row


@dataclass(frozen=True)
class RefLine:
    x: float
    first: int  # row indexes spanned (inclusive); -1 = to the last row
    last: int
    style: Literal["-", "--", ":"] = "--"
    role: str = "pooled-line"


@dataclass(frozen=True)
class ForestSpec:
    title: str
    subtitle: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    plot_header: tuple[str, ...]
    favours: tuple[str, str]
    footnotes: tuple[tuple[str, str], ...] = ()  # (role, text)
    ref_lines: tuple[RefLine, ...] = ()
    spans: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (header, column keys) over several columns
    width: float = WIDTH


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


def _cell_lines(text: str, col: Column, bold: bool) -> list[str]:
    weight = "bold" if bold else "normal"
    if col.wrap and _tw(text, weight) > col.wrap:
        return _wrap(text, col.wrap, FONT, weight)
    return [text] if text else []


def _widths(spec: ForestSpec) -> dict:
    widths = {}
    for col in spec.columns:
        lines = [(h, True) for h in col.header]
        for r in spec.rows:
            if col.key in r.cells:
                lines += [(t, r.bold) for t in _cell_lines(r.cells[col.key], col, r.bold)]
        widths[col.key] = max((_tw(t, "bold" if b else "normal") for t, b in lines), default=0.3)
    return widths


def _widen(spec: ForestSpec) -> ForestSpec:
    """Spend width the plot column does not need (beyond MAX_PLOT) on unwrapping cells."""
    widths = _widths(spec)
    slack = spec.width - sum(widths.values()) - GAP * (len(spec.columns) + 1) - 2 * MARGIN - MAX_PLOT
    columns = []
    for c in spec.columns:
        if c.wrap and slack > 0:
            natural = max((_tw(r.cells[c.key], "bold" if r.bold else "normal")
                           for r in spec.rows if c.key in r.cells), default=0.0)
            extra = min(slack, max(0.0, natural - widths[c.key]))
            if extra > 0:
                c = replace(c, wrap=widths[c.key] + extra + 1e-6)
                slack -= extra
        columns.append(c)
    return replace(spec, columns=tuple(columns))


def header_lines(spec: ForestSpec, col: Column) -> int:
    return len(col.header) + any(col.key in keys for _, keys in spec.spans)


def place(spec: ForestSpec) -> Placed:
    """Measure ``spec``: column x ranges, wrapped texts, row y positions, the axis."""
    spec = _widen(spec)
    widths = _widths(spec)
    for text, keys in spec.spans:  # a spanning header wider than its columns widens the last
        short = _tw(text, "bold") - sum(widths[k] for k in keys) - GAP * (len(keys) - 1)
        widths[keys[-1]] += max(0.0, short)
    left = [c for c in spec.columns if c.side == "left"]
    right = [c for c in spec.columns if c.side == "right"]
    fixed = sum(widths.values()) + GAP * (len(spec.columns) + 1) + 2 * MARGIN
    width = max(spec.width, fixed + MIN_PLOT)
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
    title = _wrap(spec.title, width - 2 * MARGIN, TITLE, "bold")
    y += len(title) * LINE * TITLE / FONT
    subtitle = _wrap(spec.subtitle, width - 2 * MARGIN) if spec.subtitle else []
    y += len(subtitle) * LINE + 0.08
    header_top = y
    plot_header = [line for h in spec.plot_header for line in _wrap_clauses(h, plot_w, "bold", (",",))]
    n_head = max([header_lines(spec, c) for c in spec.columns] + [len(plot_header)])
    y += n_head * LINE + 0.06
    top = y
    values = [v for r in spec.rows if r.kind in ("study", "pooled") for v in (r.est, r.lo, r.hi) if ok(v)]
    axis = log_axis(values + [ln.x for ln in spec.ref_lines], plot_w)
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
            lines["_span"] = _wrap_clauses(r.text, span, "bold" if r.bold else "normal")
        for c in spec.columns:
            if c.key in r.cells:
                lines[c.key] = _cell_lines(r.cells[c.key], c, r.bold)
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

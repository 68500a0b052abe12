"""Column widths of a forest plot, measured from their texts (no matplotlib).

Each column is as wide as its widest line; wrapped columns first unwrap into width the plot
column does not need (:func:`widen`), then wrap tighter, the population column first and never
the study labels, until the plot column gets :data:`~trialmeta.plot.spec.MIN_PLOT` within the
journal width (:func:`narrow`). A pooled row's label ('Subtotal (95% CI)ᵃᵇ') runs on over the
empty population cell instead of widening the study column.
"""

from __future__ import annotations

from dataclasses import replace

from trialmeta.plot.spec import GAP, MARGIN, MAX_PLOT, MIN_WRAP, Column, ForestSpec, Row
from trialmeta.plot.text import FONT, wrap_clauses
from trialmeta.plot.scene import text_width, wrap

#: Agg's hinted glyphs run up to ~6% wider than their true (SVG/PDF) width at some resolutions
#: (150 dpi), so every measured text is padded by this factor.
SAFETY = 1.07


def _tw(text: str, weight: str = "normal", size: float = FONT) -> float:
    return text_width(text, size, weight) * SAFETY


def _wrap(text: str, width: float, size: float = FONT, weight: str = "normal", hyphens: bool = False) -> list[str]:
    return wrap(text, width / SAFETY, size, weight, hyphens)


def balanced(text: str, width: float, size: float = FONT, weight: str = "normal") -> list[str]:
    """Word wrap into as few lines as at ``width``, but of even lengths (no one-word last line)."""
    lines = _wrap(text, width, size, weight)
    lo, hi = width / 2, width
    for _ in range(20):  # the narrowest width that still needs no more lines
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if len(_wrap(text, mid, size, weight)) <= len(lines) else (mid, hi)
    return _wrap(text, hi, size, weight) if len(lines) > 1 else lines


def wrap_clauses_padded(text: str, width: float, weight: str = "normal", marks=(";", ",")) -> list[str]:
    """:func:`trialmeta.plot.text.wrap_clauses` at 7 pt, padded like every measured text."""
    return wrap_clauses(text, width / SAFETY, FONT, weight, marks)


def runs_on(spec: ForestSpec, col: Column, row: Row) -> bool:
    """True when ``row``'s cell of ``col`` may run into the next column (empty in that row),
    e.g. 'Subtotal (95% CI)ᵃᵇ' over the empty population cell: it neither widens nor wraps."""
    if not col.overflow:
        return False
    i = spec.columns.index(col)
    nxt = spec.columns[i + 1] if i + 1 < len(spec.columns) else None
    return nxt is not None and nxt.side == col.side and not row.cells.get(nxt.key)


def cell_lines(text: str, col: Column, bold: bool, run_on: bool = False) -> list[str]:
    """The lines of one cell: wrapped at the column's ``wrap`` unless it runs on."""
    weight = "bold" if bold else "normal"
    if col.wrap and not run_on and _tw(text, weight) > col.wrap:
        return _wrap(text, col.wrap, FONT, weight, col.hyphens)
    return [text] if text else []


def _widths(spec: ForestSpec) -> dict:
    widths, runs = {}, []
    for col in spec.columns:
        lines = [(h, True) for h in col.header]
        for r in spec.rows:
            if col.key in r.cells:
                weight = "bold" if r.bold else "normal"
                if runs_on(spec, col, r):
                    runs.append((col, _tw(r.cells[col.key], weight)))
                    continue
                lines += [(t, r.bold) for t in cell_lines(r.cells[col.key], col, r.bold)]
        widths[col.key] = max((_tw(t, "bold" if b else "normal") for t, b in lines), default=0.3)
    for col, need in runs:  # a run-on cell still fits its own column and the next one
        nxt = spec.columns[spec.columns.index(col) + 1]
        widths[nxt.key] = max(widths[nxt.key], need - widths[col.key] - GAP)
    return widths


def column_widths(spec: ForestSpec) -> dict:
    """Column widths; a spanning header wider than its columns widens the last of them."""
    widths = _widths(spec)
    for text, keys in spec.spans:
        short = _tw(text, "bold") - sum(widths[k] for k in keys) - GAP * (len(keys) - 1)
        widths[keys[-1]] += max(0.0, short)
    return widths


def fixed_width(spec: ForestSpec, widths: dict) -> float:
    """Width of everything but the plot column: columns, gaps, margins."""
    return sum(widths.values()) + GAP * (len(spec.columns) + 1) + 2 * MARGIN


def widen(spec: ForestSpec) -> ForestSpec:
    """Spend width the plot column does not need (beyond MAX_PLOT) on unwrapping cells."""
    widths = column_widths(spec)
    slack = spec.width - fixed_width(spec, widths) - MAX_PLOT
    columns = []
    for c in spec.columns:
        if c.wrap and slack > 0:
            natural = max((_tw(r.cells[c.key], "bold" if r.bold else "normal")
                           for r in spec.rows if c.key in r.cells and not runs_on(spec, c, r)), default=0.0)
            extra = min(slack, max(0.0, natural - widths[c.key]))
            if extra > 0:
                c = replace(c, wrap=widths[c.key] + extra + 1e-6)
                slack -= extra
        columns.append(c)
    return replace(spec, columns=tuple(columns))


def narrow(spec: ForestSpec) -> ForestSpec:
    """Wrap cells tighter (population first, then the other wrapped columns but the study
    labels, never below MIN_WRAP) until the plot column gets MIN_PLOT within ``spec.width``:
    the figure keeps its journal width and grows down, not across."""
    order = sorted((c for c in spec.columns if c.wrap and c.role != "label"), key=lambda c: c.role != "population")
    for col in order:
        while True:
            widths = column_widths(spec)
            need = fixed_width(spec, widths) + spec.min_plot - spec.width
            current = widths[col.key]
            if need <= 1e-9 or current <= MIN_WRAP + 1e-6:
                break
            target = max(MIN_WRAP, current - max(need, 0.02))
            narrower = replace(spec, columns=tuple(replace(c, wrap=target) if c.key == col.key else c
                                                   for c in spec.columns))
            if column_widths(narrower)[col.key] >= current - 1e-6:
                break  # a single word is wider than that: wrapping cannot help
            spec = narrower
    return spec

"""A forest plot as plain data: columns, rows (texts, estimates, marker sizes), reference
lines and footnotes (:class:`ForestSpec`), and the grid's dimensions in inches and points.

Specs are built by :mod:`trialmeta.plot.forest` (pooled analyses), :mod:`trialmeta.plot.trial_forest`
(single-trial subgroups) and :mod:`trialmeta.plot.history` (cumulative history), measured by
:func:`trialmeta.plot.grid.place` and drawn by :mod:`trialmeta.plot.draw`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

WIDTH = 6.85  # inches (17.4 cm): fits a double journal column (17.5 cm) at 100%, so 7 pt stays 7 pt
MARGIN = 0.1
GAP = 0.09  # between columns
MIN_PLOT = 1.5
MAX_PLOT = 1.75  # width beyond this goes to unwrapping wrapped cells first
MIN_WRAP = 0.85  # wrapped columns narrow down to this before the figure widens beyond ``width``
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
    overflow: bool = False  # a cell may run into the next column where that is empty (not wrapped)
    hyphens: bool = False  # an over-long word may break after a hyphen or slash (compact styles)


@dataclass(frozen=True)
class Row:
    """One line of the table. ``kind``: group (header), study, pooled (diamond), pi (prediction
    interval bar), bayes (the Bayesian sensitivity result: an open diamond marker on its credible
    interval), stat (a text line across the left columns, running into the plot column up to
    the first vertical line it would cross), gap (spacer)."""

    kind: Literal["group", "study", "pooled", "pi", "bayes", "stat", "gap"]
    cells: dict = field(default_factory=dict)  # column key -> text
    text: str = ""  # group header or statistics line
    role: str = ""  # role of ``text``
    est: float | None = None
    lo: float | None = None
    hi: float | None = None
    side: float = 0.0  # marker side in points (0: no marker)
    filled: bool = True
    bold: bool = False
    soft: bool = False  # its CI may widen the axis by one scale at most (as pooled CIs do)
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
    scale: Literal["log", "linear"] = "log"  # linear: rows carry exp(difference / unit) (see axis.linear_axis)
    unit: float = 1.0  # linear only: the difference one exp-encoded log unit stands for
    min_plot: float = MIN_PLOT  # the plot column's least width (the figure widens rather than go below)

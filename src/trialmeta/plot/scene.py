"""Figures as plain data: panels of texts, lines, markers and polygons.

Layouts (forest plots, Kaplan-Meier plots) are computed as a :class:`Scene` first, so tests
can check rows, positions, printed numbers and diamond vertices without drawing anything;
:mod:`trialmeta.plot.render` (the only module that imports matplotlib) then draws a scene.

Coordinates: each item lives in its panel's data coordinates unless ``coords="axes"``
(0-1 across the panel). Panel rectangles are fractions of the figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Coords = Literal["data", "axes"]


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    ha: Literal["left", "center", "right"] = "left"
    va: Literal["top", "center", "bottom", "baseline"] = "center"
    size: float = 8.0
    weight: Literal["normal", "bold"] = "normal"
    style: Literal["normal", "italic"] = "normal"
    color: str = "black"
    coords: Coords = "data"
    role: str = ""  # what the text is (e.g. "study-label", "hr-ci", "heterogeneity"), for tests


@dataclass(frozen=True)
class Line:
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    color: str = "black"
    width: float = 0.8
    style: Literal["-", "--", ":", "-."] = "-"
    steps: bool = False  # draw as a post-step function (Kaplan-Meier curves)
    coords: Coords = "data"
    role: str = ""


@dataclass(frozen=True)
class Arrow:
    """A horizontal line ending in an arrow head at ``x1`` (a CI running past the axis)."""

    x0: float
    x1: float
    y: float
    color: str = "black"
    width: float = 0.8
    role: str = ""


@dataclass(frozen=True)
class Markers:
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    marker: str = "s"  # matplotlib marker code: "s" square, "|" censoring tick, "o" circle
    areas: tuple[float, ...] = ()  # marker areas in points^2, one per point (empty: 16)
    color: str = "black"
    filled: bool = True
    role: str = ""


@dataclass(frozen=True)
class Polygon:
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    facecolor: str = "black"
    edgecolor: str = "black"
    width: float = 0.8
    role: str = ""
    zorder: float = 3  # above lines (diamonds); a shaded background region goes below (e.g. 1)


Item = Text | Line | Arrow | Markers | Polygon


@dataclass(frozen=True)
class Axis:
    lim: tuple[float, float]
    scale: Literal["linear", "log"] = "linear"
    ticks: tuple[float, ...] = ()
    ticklabels: tuple[str, ...] = ()
    label: str = ""
    visible: bool = False
    inverted: bool = False


@dataclass(frozen=True)
class Panel:
    name: str
    rect: tuple[float, float, float, float]  # left, bottom, width, height (figure fractions)
    x: Axis
    y: Axis
    items: tuple[Item, ...] = ()
    spines: tuple[str, ...] = ()  # which spines to draw: "bottom", "left", ...
    fontsize: float = 8.0


@dataclass(frozen=True)
class Scene:
    width: float  # inches
    height: float  # inches
    panels: tuple[Panel, ...]
    title: str = ""
    metadata: dict = field(default_factory=dict)

    def texts(self, role: str | None = None) -> list[Text]:
        """All texts in all panels, optionally only those with the given role."""
        return [i for p in self.panels for i in p.items
                if isinstance(i, Text) and (role is None or i.role == role)]

    def items(self, kind: type, role: str | None = None) -> list:
        return [i for p in self.panels for i in p.items
                if isinstance(i, kind) and (role is None or i.role == role)]

    def panel(self, name: str) -> Panel:
        return next(p for p in self.panels if p.name == name)


# Approximate advance widths of DejaVu Sans, in ems, so layouts can reserve room for text
# without importing matplotlib. Slightly generous: a column too wide is a cosmetic cost,
# one too narrow makes texts collide. render tests check real extents.
_NARROW = set("iljtfrI.,;:|!'`()[] ")
_WIDE = set("mwMW@%")


def text_width(text: str, size: float, weight: str = "normal") -> float:
    """Estimated width of ``text`` in inches at ``size`` points."""
    ems = 0.0
    for ch in text:
        if ch in _NARROW:
            ems += 0.34
        elif ch in _WIDE:
            ems += 0.92
        elif ch.isupper():
            ems += 0.72
        elif ch.isdigit():
            ems += 0.64
        else:
            ems += 0.6
    if weight == "bold":
        ems *= 1.18  # DejaVu Sans Bold runs 15-19% wider than regular (measured)
    return ems * size / 72.0


def wrap(text: str, max_width: float, size: float, weight: str = "normal", hyphens: bool = False) -> list[str]:
    """Greedy word wrap to ``max_width`` inches; a single over-long word is kept whole, or with
    ``hyphens`` broken after its hyphens and slashes ('AKT-pathway-' / 'altered')."""
    tokens = []  # (piece, glue before it)
    for word in text.split():
        parts = [word]
        if hyphens and text_width(word, size, weight) > max_width:
            parts = re.findall(r"[^-/]+[-/]*|[-/]+", word)
        tokens += [(p, " " if i == 0 else "") for i, p in enumerate(parts)]
    lines, current = [], ""
    for piece, glue in tokens:
        trial = f"{current}{glue}{piece}" if current else piece
        if current and text_width(trial, size, weight) > max_width:
            lines.append(current)
            current = piece
        else:
            current = trial
    if current:
        lines.append(current)
    return lines or [""]

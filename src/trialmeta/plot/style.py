"""Figure styles: presets (revman, journal, slide) and what a style does to a forest plot.

A :class:`FigureStyle` is resolved from the analysis' ``style:`` block in ``analyses.yaml``
with the command line's options on top (:func:`style_for`). It acts in three places, none of
which touches the measuring code:

* :func:`fit_spec` before layout: footnotes full / short (the lettered notes the figure's
  marks point to) / none; the compact columns of a single journal column (population joined to
  the study label, per-arm counts and weights left out: the squares' areas still show the
  weights); the width the layout works in;
* the layout itself runs at the 7 pt the geometry is measured in, in a width of
  ``width x 7 / font_size``, and :func:`apply` scales the finished scene by ``font_size / 7``
  (text sizes, line widths, marker areas), so every spacing rule holds at any size;
* :func:`apply` also sets the colours, and hands the font family and the matplotlib style sheet
  to :mod:`trialmeta.plot.render` through the scene's metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from trialmeta.plot.draw import to_scene
from trialmeta.plot.grid import Placed, place
from trialmeta.plot.scene import Arrow, Line, Markers, Polygon, Scene, Text
from trialmeta.plot.spec import MIN_PLOT, WIDTH, ForestSpec
from trialmeta.plot.text import _SUPERSCRIPTS, FONT

CM = 1 / 2.54


@dataclass(frozen=True)
class FigureStyle:
    name: str = "revman"
    font_family: str = "DejaVu Sans"
    font_size: float = FONT  # table text, points
    width: float = WIDTH  # inches
    footnotes: str = "full"  # full / short / none
    compact: bool = False  # single-column layout: study + population in one column, no counts or weights
    min_plot: float = MIN_PLOT  # inches (at the final size) the plot column keeps at least
    ink: str = "black"
    marker: str = "black"
    diamond: str = "black"
    stylesheet: str | None = None
    text_outside: bool = False  # title, subtitle and notes left to the document (Word caption, notes paragraph)
    box: tuple[float, float] | None = None  # (width, height) in inches the figure must fit
    min_font: float = FONT  # points: the least the text may be condensed to, to fit ``box``
    rob: str = "domains"  # risk-of-bias columns: domains (D1-D5 + Overall) / overall (one column) / none

    @property
    def scale(self) -> float:
        return self.font_size / FONT


#: The tallest a document or journal figure may be (cm): an A4 page's text height (29.7 - 2 x 2 cm)
#: less a line for its caption.
PAGE_HEIGHT_CM = 25.0

PRESETS = {
    # RevMan's layout with the title and every note inside the image (the standalone SVG/PNG/PDF)
    "revman": FigureStyle(),
    # for a Word/PDF document: A4 text width, the title and notes given as text outside the image
    # (risk of bias: the overall column only, so the figure fits 17 cm; the domains are in the RoB figures)
    "document": FigureStyle("document", width=17.0 * CM, text_outside=True, min_plot=1.2, box=(17.0 * CM, PAGE_HEIGHT_CM * CM),
                            rob="overall"),
    # 8.5 cm: a single journal column (BMJ, Lancet, NEJM: 8.4-8.9 cm); 7 pt, the smallest most journals
    # accept; the title and notes go in the figure legend (text outside)
    "journal": FigureStyle("journal", width=8.5 * CM, footnotes="short", compact=True, min_plot=0.9,
                           text_outside=True, box=(8.5 * CM, PAGE_HEIGHT_CM * CM), rob="none"),
    # 17.5 cm: a journal's double column (full page width)
    "journal-double": FigureStyle("journal-double", width=17.5 * CM, footnotes="short", text_outside=True,
                                  box=(17.5 * CM, PAGE_HEIGHT_CM * CM), rob="overall"),
    # a 16:9 slide (PowerPoint widescreen 33.867 x 19.05 cm) at 14 pt, compact columns, no footnotes
    # (they go in the speaker notes); a figure taller than the slide is condensed (text down to 9 pt)
    "slide": FigureStyle("slide", width=33.9 * CM, font_size=14.0, footnotes="none", compact=True, min_plot=3.0,
                         marker="#1f4e79", diamond="#1f4e79", text_outside=True, box=(33.9 * CM, 19.1 * CM),
                         min_font=9.0, rob="none"),
}


def style_for(*blocks) -> FigureStyle:
    """The style of a figure from style blocks (:class:`~trialmeta.registry.figstyle.StyleSpec`
    or None), later blocks overriding earlier ones: ``style_for(analysis.style, command_line)``."""
    given = [b for b in blocks if b is not None]
    merged = {}
    for b in given:
        merged.update(b.model_dump(exclude_none=True))
    base = PRESETS[merged.pop("preset", "revman")]
    if "width" in merged:
        merged["width"] = merged["width"] * CM
        if base.box is not None:  # a width of one's own: the box follows it (the height stays)
            merged["box"] = (merged["width"], base.box[1])
    if "font_size" in merged:  # a size asked for is kept, never condensed
        merged["min_font"] = merged["font_size"]
    return replace(base, **merged)


def resolve(analysis_block, command_line) -> FigureStyle | None:
    """The style of one analysis' figure, or None when neither analyses.yaml nor the command
    line asks for one (the figure is then drawn exactly as without styles)."""
    if analysis_block is None and command_line is None:
        return None
    return style_for(analysis_block, command_line)


def styled_layout(spec: ForestSpec, style: FigureStyle | None) -> Placed:
    """``spec`` placed as ``style`` lays it out (None: as it is)."""
    return place(spec if style is None else fit_spec(spec, style))


def styled_scene(spec: ForestSpec, style: FigureStyle | None) -> Scene:
    """``spec`` laid out and drawn in ``style`` (None: as it is). A figure taller than the style's
    box is condensed: its text made smaller (not below ``min_font``), laid out again."""
    scene = to_scene(styled_layout(spec, style))
    if style is None:
        return scene
    fitted = apply(scene, style)
    for _ in range(4):
        if style.box is None or fitted.height <= style.box[1] or style.font_size <= style.min_font:
            break
        style = replace(style, font_size=max(style.min_font, style.font_size * style.box[1] / fitted.height))
        fitted = apply(to_scene(styled_layout(spec, style)), style)
    return fitted


def fit_spec(spec: ForestSpec, style: FigureStyle) -> ForestSpec:
    """The spec as the style lays it out (at 7 pt; see the module notes)."""
    keep = {"full": ("footnote", "note"), "short": ("footnote",), "none": ()}[style.footnotes]
    spec = replace(spec, footnotes=tuple((role, t) for role, t in spec.footnotes if role in keep),
                   width=style.width / style.scale, min_plot=style.min_plot / style.scale)
    if "footnote" not in keep:  # the lettered notes are not printed: neither are the marks pointing to them
        spec = without_marks(spec)
    if style.text_outside:  # the document prints them (caption, notes paragraph); the marks stay
        spec = replace(spec, title="", subtitle="", footnotes=())
    if style.compact:
        spec = _compact(spec)
    elif style.rob == "overall":  # a width-limited document preset with its RoB column: a long
        # population ('PIK3CA/AKT1/PTEN-altered') may break after a hyphen or slash, as in the compact styles
        spec = replace(spec, columns=tuple(replace(c, hyphens=True) if c.role == "population" else c
                                           for c in spec.columns))
    return spec


_MARKS = re.compile("[" + "".join(_SUPERSCRIPTS.values()) + "]+$")


def without_marks(spec: ForestSpec) -> ForestSpec:
    """``spec`` with the footnote marks (superscript letters closing a cell or a line) removed."""
    rows = tuple(replace(r, cells={k: _MARKS.sub("", v) if isinstance(v, str) else v for k, v in r.cells.items()},
                         text=_MARKS.sub("", r.text)) for r in spec.rows)
    return replace(spec, rows=rows)


def _compact(spec: ForestSpec) -> ForestSpec:
    """Population joined to the study label (wrapped), counts and weights left out. A
    single-trial forest, whose rows are its populations, keeps the population as its label
    and joins the data cut to it instead."""
    roles = {c.key: c.role for c in spec.columns}
    label = next((k for k, role in roles.items() if role == "label"), None)
    if label is None:
        label = next((k for k, role in roles.items() if role == "population"), None)
        joined = next((k for k, role in roles.items() if role == "cut"), None)
    else:
        joined = next((k for k, role in roles.items() if role == "population"), None)
    drop = {k for k, role in roles.items() if role in ("counts", "weight")} | {joined}
    columns = tuple(replace(c, role="population", wrap=1.0, overflow=False, hyphens=True) if c.key == label else c
                    for c in spec.columns if c.key not in drop)
    rows = []
    for r in spec.rows:
        cells = {k: v for k, v in r.cells.items() if k not in drop}
        if label in cells and joined and r.cells.get(joined):
            cells[label] = f"{cells[label]}, {r.cells[joined]}"
        rows.append(replace(r, cells=cells))
    return replace(spec, columns=columns, rows=tuple(rows), spans=())


def apply(scene: Scene, style: FigureStyle) -> Scene:
    """The laid-out scene at the style's size, in its colours and font."""
    s = style.scale
    panels = tuple(replace(p, items=tuple(_item(i, s, style) for i in p.items), fontsize=p.fontsize * s)
                   for p in scene.panels)
    meta = {**scene.metadata, "font_family": style.font_family, "stylesheet": style.stylesheet,
            "style": style.name, "scale": s}
    return replace(scene, width=scene.width * s, height=scene.height * s, panels=panels, metadata=meta)


def _colour(current: str, new: str) -> str:
    return new if current == "black" else current  # greys (reference lines) keep their shade


def _item(item, s: float, style: FigureStyle):
    if isinstance(item, Text):
        return replace(item, size=item.size * s, color=_colour(item.color, style.ink))
    if isinstance(item, Line):
        colour = style.marker if item.role in ("ci", "prediction-interval") else style.ink
        return replace(item, width=item.width * s, color=_colour(item.color, colour))
    if isinstance(item, Arrow):
        colour = style.diamond if item.role.startswith("diamond") else style.marker
        return replace(item, width=item.width * s, color=_colour(item.color, colour))
    if isinstance(item, Markers):
        return replace(item, areas=tuple(a * s * s for a in item.areas), color=_colour(item.color, style.marker))
    if isinstance(item, Polygon):
        return replace(item, width=item.width * s, facecolor=_colour(item.facecolor, style.diamond),
                       edgecolor=_colour(item.edgecolor, style.diamond))
    return item


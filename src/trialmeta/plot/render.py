"""Draw a :class:`~trialmeta.plot.scene.Scene` with matplotlib, and save it deterministically.

The only module that imports matplotlib (lazily, so commands that draw nothing start fast).
Saved SVG and PDF files are byte-identical across runs: fixed SVG hash salt, no dates or
software versions in the metadata.
"""

from __future__ import annotations

import contextlib
import functools

from trialmeta.plot import pdffonts, png
from trialmeta.plot.scene import Arrow, Line, Markers, Panel, Polygon, Scene, Text

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 8.0,
    "svg.hashsalt": "trialmeta",
    "svg.fonttype": "none",  # text stays text (found, copied, read aloud), its font named
    "pdf.fonttype": 42,
    "axes.unicode_minus": True,
    "path.simplify": False,
}
METADATA = {
    "svg": {"Date": None, "Creator": "trialmeta"},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": "trialmeta", "Creator": "trialmeta"},
    "png": png.SOFTWARE,
}


def _mpl():
    """matplotlib, without pyplot: the session's backend (a notebook's inline backend, say) is never
    changed. Figures made here are :class:`matplotlib.figure.Figure` objects that pyplot does not
    track; saving picks the canvas for the file format by itself."""
    import matplotlib

    return matplotlib


def render(scene: Scene, ax=None):
    """Draw ``scene`` on a new figure, or inside ``ax`` (its area is split into the panels).

    Inside ``ax``, texts, markers and lines shrink by the ratio of the axes' size to the
    scene's (never grow), so the columns keep their proportions and cannot overlap.

    Returns
    -------
    matplotlib.figure.Figure
        A new figure (not registered with pyplot), or ``ax.figure``.
    """
    mpl = _mpl()
    from matplotlib.figure import Figure

    with _context(mpl, scene):
        if ax is None:
            fig = _shown_figure_class(Figure)(figsize=(scene.width, scene.height))
            host, k = None, 1.0
        else:
            fig, host = ax.figure, ax
            host.set_axis_off()
            k = fit_factor(scene, ax)
        for panel in scene.panels:
            sub = fig.add_axes(panel.rect) if host is None else host.inset_axes(panel.rect)
            _draw_panel(sub, panel, k, scene.metadata.get("scale", 1.0), _ink(mpl, scene))
        if scene.title:
            fig.suptitle(scene.title)
    return fig


@functools.lru_cache(maxsize=1)
def _shown_figure_class(base):
    """A :class:`~matplotlib.figure.Figure` that a notebook displays by itself (``_repr_png_``), whatever the
    backend and without pyplot: a returned figure shows in Jupyter without ``%matplotlib inline``."""

    class ShownFigure(base):
        def _repr_png_(self) -> bytes:
            return to_bytes(self, "png", dpi=100)

    ShownFigure.__module__ = base.__module__
    return ShownFigure


def warm_up() -> None:
    """Import the figure, the three backends and the font list now (a worker that will draw)."""
    _mpl()
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.backends.backend_pdf  # noqa: F401
    import matplotlib.backends.backend_svg  # noqa: F401
    from matplotlib import font_manager
    from matplotlib.figure import Figure  # noqa: F401

    font_manager.findfont(RC["font.family"])


def fit_factor(scene: Scene, ax) -> float:
    """How much a scene drawn into ``ax`` must shrink: min(1, axes width / scene width, height / height)."""
    pos = ax.get_position()
    w_in, h_in = ax.figure.get_size_inches()
    return min(1.0, pos.width * w_in / scene.width, pos.height * h_in / scene.height)


def _context(mpl, scene: Scene):
    """The scene's style sheet (its colours and background) under the rcParams the layout needs
    (font family, SVG/PDF determinism): sizes always come from the scene."""
    stack = contextlib.ExitStack()
    sheet = scene.metadata.get("stylesheet")
    if sheet:
        import matplotlib.style

        stack.enter_context(matplotlib.style.context(sheet))
    family = scene.metadata.get("font_family")
    # a family that is not installed is left out, not tried (and logged) for every text drawn
    use = family if family and family != RC["font.family"] and font_available(family) else None
    stack.enter_context(mpl.rc_context({**RC, **({"font.family": [use, RC["font.family"]]} if use else {})}))
    return stack


@functools.lru_cache(maxsize=64)
def font_available(family: str) -> bool:
    """Whether matplotlib finds a font of ``family`` (a name, or a generic family such as
    "serif") among those in its font list, without falling back to its default."""
    _mpl()
    from matplotlib import font_manager

    try:
        font_manager.findfont(font_manager.FontProperties(family=[family]), fallback_to_default=False)
    except ValueError:
        return False
    return True


def _ink(mpl, scene: Scene) -> str:
    """Black items take a style sheet's text colour (white on 'dark_background'), else stay black."""
    return mpl.rcParams["text.color"] if scene.metadata.get("stylesheet") else "black"


def stylesheet_problem(sheet: str, files: bool = True) -> str | None:
    """Why matplotlib cannot use style sheet ``sheet`` (a name or a .mplstyle path), or None.
    ``files=False``: only a name will do (a sheet named in analyses.yaml that is not a path
    confined to the registry, never a file of the working folder)."""
    import os

    _mpl()
    import matplotlib.style

    if sheet in matplotlib.style.available:
        return None
    if not files or not os.path.isfile(sheet):
        return (f"unknown matplotlib style sheet {sheet!r}; give a path to a .mplstyle file or one of: "
                f"{', '.join(sorted(matplotlib.style.available))}")
    import logging

    # matplotlib logs a bad line (a warning) and draws without it: here it is an error
    caught: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: caught.append(" ".join(record.getMessage().split()[:40]))
    log = logging.getLogger("matplotlib")
    log.addHandler(handler)
    try:
        matplotlib.rc_params_from_file(sheet, use_default_template=False)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return f"style sheet {sheet!r} cannot be read as matplotlib rc text (UTF-8): {exc}"
    finally:
        log.removeHandler(handler)
    return "; ".join(m.split(" You probably need")[0] for m in caught) or None


def _draw_panel(ax, panel: Panel, k: float = 1.0, scale: float = 1.0, ink: str = "black") -> None:
    """``k``: the shrink into a user's Axes (:func:`fit_factor`); ``scale``: a styled scene's text scale."""
    ax.set_xscale(panel.x.scale)
    ax.set_yscale(panel.y.scale)
    ax.set_xlim(*panel.x.lim)
    ax.set_ylim(*panel.y.lim)
    if panel.y.inverted:
        ax.invert_yaxis()
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(side in panel.spines)
    ax.patch.set_visible(False)
    _axis(ax.xaxis, panel.x, panel.fontsize * k, "bottom" in panel.spines)
    _axis(ax.yaxis, panel.y, panel.fontsize * k, "left" in panel.spines)
    if k != 1.0:
        ax.tick_params(length=3.5 * k, width=0.8 * k)
        for spine in ax.spines.values():
            spine.set_linewidth(0.8 * k)
    for item in panel.items:
        if ink != "black":
            item = _inked(item, ink)
        _draw_item(ax, item, k, scale)  # scale: of a styled scene (arrow heads grow with its text)


def _inked(item, ink: str):
    from dataclasses import fields, replace

    changes = {f.name: ink for f in fields(item) if f.name in ("color", "facecolor", "edgecolor")
               and getattr(item, f.name) == "black"}
    return replace(item, **changes) if changes else item


def _axis(axis, spec, fontsize: float, shown: bool) -> None:
    from matplotlib.ticker import FixedLocator, NullLocator

    axis.set_minor_locator(NullLocator())
    if spec.ticks and (spec.visible or shown):
        axis.set_major_locator(FixedLocator(list(spec.ticks)))
        axis.set_ticklabels(list(spec.ticklabels) if spec.ticklabels else [f"{t:g}" for t in spec.ticks],
                            fontsize=fontsize)
    else:
        axis.set_major_locator(NullLocator())
    if spec.label:
        axis.set_label_text(spec.label, fontsize=fontsize)


def _draw_item(ax, item, k: float = 1.0, scale: float = 1.0) -> None:
    if isinstance(item, Text):
        ax.text(item.x, item.y, item.text, ha=item.ha, va=item.va, fontsize=item.size * k,
                fontweight=item.weight, fontstyle=item.style, color=item.color, clip_on=False,
                transform=ax.transAxes if item.coords == "axes" else ax.transData)
    elif isinstance(item, Line):
        ax.plot(item.xs, item.ys, color=item.color, linewidth=item.width * k, linestyle=item.style,
                drawstyle="steps-post" if item.steps else "default", clip_on=False, solid_capstyle="butt",
                transform=ax.transAxes if item.coords == "axes" else ax.transData)
    elif isinstance(item, Arrow):
        ax.annotate("", xy=(item.x1, item.y), xytext=(item.x0, item.y), annotation_clip=False,
                    arrowprops={"arrowstyle": "-|>", "color": item.color, "linewidth": item.width * k,
                                "shrinkA": 0, "shrinkB": 0, "mutation_scale": 7 * k * scale})
    elif isinstance(item, Markers):
        areas = [a * k * k for a in item.areas] if item.areas else 16.0 * k * k
        ax.scatter(item.xs, item.ys, s=areas, marker=item.marker, clip_on=False, zorder=3,
                   facecolors=item.color if item.filled else "none", edgecolors=item.color,
                   linewidths=0.8 * k)
    elif isinstance(item, Polygon):
        ax.fill(item.xs, item.ys, facecolor=item.facecolor, edgecolor=item.edgecolor,
                linewidth=item.width * k, clip_on=False, zorder=item.zorder)
    else:  # pragma: no cover - the Item union is closed
        raise TypeError(f"cannot draw {type(item).__name__}")


def to_bytes(fig, fmt: str, dpi: int = 200) -> bytes:
    """Encode a figure as PNG (see :func:`trialmeta.plot.png.png_bytes`), SVG or PDF bytes, deterministically."""
    import io

    if fmt == "png":
        return png.png_bytes(raster(fig, dpi), dpi)
    mpl = _mpl()
    buf = io.BytesIO()
    with mpl.rc_context(RC), (_pdf_fonts() if fmt == "pdf" else contextlib.nullcontext()):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=METADATA[fmt])
    if fmt == "svg":  # text kept as text names its font; a reader without it gets a like one
        import re

        return re.sub(rb"font-family: ('[^']+')", rb"font-family: \1, 'DejaVu Sans', Verdana, sans-serif",
                      buf.getvalue())
    return buf.getvalue()


def raster(fig, dpi: int):
    """The figure rasterised by Agg at ``dpi``: the (height, width, 4) RGBA array a PNG from
    ``savefig`` holds, without encoding it as a PNG (and decoding it again to derive the others)."""
    import io

    import numpy as np

    mpl = _mpl()
    buf = io.BytesIO()
    with mpl.rc_context(RC):
        fig.savefig(buf, format="rgba", dpi=dpi)
    # Agg's canvas is the figure's size in inches times dpi, truncated (RendererAgg)
    width, height = (int(v) for v in fig.get_size_inches() * dpi)
    data = np.frombuffer(buf.getbuffer(), dtype=np.uint8)
    if data.size != width * height * 4:  # pragma: no cover - a matplotlib that sizes its canvas otherwise
        raise RuntimeError(f"matplotlib drew {data.size} bytes, not {width}x{height} RGBA pixels")
    return data.reshape(height, width, 4)


@contextlib.contextmanager
def _pdf_fonts():
    """While saving a PDF: lean, shared font subsets (see :mod:`trialmeta.plot.pdffonts`)."""
    from matplotlib.backends import _backend_pdf_ps

    with pdffonts.lean_subsets(), pdffonts.shared_subsets(_backend_pdf_ps):
        yield


def encode(fig, formats) -> tuple[bytes, ...]:
    """Encode a figure in each of ``formats``: "png", "svg", "pdf" (default 200 dpi), "png@300" (a
    PNG at 300 dpi) or "palette@300" (that picture flattened on white with at most 256 colours,
    for Word; the same bytes as "png@300" whenever that PNG is a palette PNG, see
    :func:`trialmeta.plot.png.png_bytes`). Each dpi is rasterised once, however many formats derive from it."""
    rasters: dict[int, object] = {}
    pngs: dict[tuple[int, bool], bytes] = {}

    def png_of(dpi: int, palette: bool) -> bytes:
        if dpi not in rasters:
            rasters[dpi] = raster(fig, dpi)
            exact = png.exact_palette(rasters[dpi])
            if exact is not None:  # one file serves both
                pngs[dpi, False] = pngs[dpi, True] = png.save(exact, dpi, METADATA["png"])
        if (dpi, palette) not in pngs:
            pngs[dpi, palette] = png.save(png.inexact(rasters[dpi], palette), dpi, METADATA["png"])
        return pngs[dpi, palette]

    out = []
    for fmt in formats:
        kind, _, dpi = fmt.partition("@")
        dpi = int(dpi) if dpi else 200
        out.append(png_of(dpi, kind == "palette") if kind in ("png", "palette") else to_bytes(fig, kind, dpi))
    return tuple(out)


def close(fig) -> None:
    """Release a figure made by :func:`render` (Figure objects are not tracked by pyplot)."""
    fig.clear()

"""The fonts a saved PDF embeds: TrueType (Type 42) subsets, lean and shared between figures.

fontTools only; matplotlib's PDF backend module is handed in by :mod:`trialmeta.plot.render`
(the one module that imports matplotlib). Both are context managers active while a PDF is saved.
"""

from __future__ import annotations

import contextlib

#: OpenType layout tables: text shaping data a PDF never reads (glyphs are placed by the PDF itself)
LAYOUT_TABLES = ("GSUB", "GPOS", "GDEF", "kern", "BASE", "JSTF", "MATH")


@contextlib.contextmanager
def lean_subsets():
    """While saving a PDF, the TrueType (Type 42) fonts matplotlib embeds leave out the OpenType
    layout tables: a PDF places every glyph itself, so the page is the same, and subsetting DejaVu
    Sans no longer walks its large GSUB/GPOS tables (it was ~70% of the time to write a PDF).
    Done through fontTools' default list of tables to drop, which matplotlib's subsetter starts
    from; with a fontTools that lacks it, nothing changes."""
    try:
        from fontTools.subset import Options

        default = list(Options._drop_tables_default)
    except (ImportError, AttributeError):
        yield
        return
    Options._drop_tables_default = default + [t for t in LAYOUT_TABLES if t not in default]
    try:
        yield
    finally:
        Options._drop_tables_default = default


#: Characters every font subset embedded in a PDF holds, used or not: the printable ASCII and
#: the symbols and footnote marks our figures print. Most figures then need the same subset,
#: made once per process (:func:`shared_subsets`) at the cost of ~7 KB a font.
COMMON_CHARS = "".join(map(chr, range(0x20, 0x7F))) + "²³·×±−–—≤≥μτχΣ" + "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ"
_SUBSETS: dict[tuple, bytes] = {}


@contextlib.contextmanager
def shared_subsets(pdf_ps):
    """While saving a PDF, each font is subset to the characters the figure uses plus
    :data:`COMMON_CHARS`, and a subset once made is reused: parsing DejaVu Sans for every PDF
    was half the time to write one. Deterministic (the subset depends on the figure's
    characters alone). ``pdf_ps``: matplotlib's ``backends._backend_pdf_ps``, whose 3.10
    ``get_glyphs_subset(fontfile, characters)`` is wrapped; a matplotlib whose subsetter takes
    anything else is left as it is."""
    if not can_share(pdf_ps):
        yield
        return
    original = pdf_ps.get_glyphs_subset
    pdf_ps.get_glyphs_subset = _subsetter(original)
    try:
        yield
    finally:
        pdf_ps.get_glyphs_subset = original


def can_share(pdf_ps) -> bool:
    """Whether this matplotlib's subsetter is the one :func:`shared_subsets` wraps (3.10's)."""
    import inspect

    original = getattr(pdf_ps, "get_glyphs_subset", None)
    return original is not None and list(inspect.signature(original).parameters) == ["fontfile", "characters"]


def _subsetter(original):
    from io import BytesIO

    from fontTools.subset import Options
    from fontTools.ttLib import TTFont

    def get_glyphs_subset(fontfile, characters):
        chars = "".join(sorted(set(characters).union(COMMON_CHARS)))
        key = (fontfile, chars, tuple(getattr(Options, "_drop_tables_default", ())))
        if key not in _SUBSETS:
            if len(_SUBSETS) >= 64:
                _SUBSETS.clear()
            with original(fontfile, chars) as font:
                buf = BytesIO()
                font.save(buf, reorderTables=False)
            _SUBSETS[key] = buf.getvalue()
        # every call (the first too) returns the font read back from the stored bytes
        return TTFont(BytesIO(_SUBSETS[key]), recalcTimestamp=False)

    return get_glyphs_subset

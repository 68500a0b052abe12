"""``report.docx``: the evidence report as a Word document (python-docx) a medical writer can
paste into a clinical study report or an HTA dossier without retouching.

Layout: a title page with the table of contents and the lists of figures and tables (fields
Word refreshes on opening, :mod:`trialmeta.report.wordnav`); a Methods section (the same
statements as the HTML report's, :func:`trialmeta.report.html.methods_section`); then per analysis
the question, the forest plot (a 300 dpi PNG within the text width; Word cannot take the SVG
reliably) captioned below, the summary-of-findings table, and on landscape pages the evidence
table and the subgroup comparison, each captioned above ("Table n", ``SEQ`` fields in the Caption
style), the notes and the sources. Headings and captions are kept with what follows, table rows
never split, header rows repeat (:mod:`trialmeta.report.wordtable`); a running header and "Page
n of N" footer; British English; alt text on every picture; codes printed as words
(:mod:`trialmeta.report.wording`). Figures arrive as bytes rendered by the caller (this module
never imports :mod:`trialmeta.plot`). Deterministic (:mod:`trialmeta.report.ziputil`).
"""

from __future__ import annotations

import html as _html
import io
import re
from dataclasses import dataclass
from typing import Callable

from trialmeta import __version__
from trialmeta.registry.vocab import ENDPOINTS
from trialmeta.report import evidence, grade_table, sof, wording, wordnav, wordxml
from trialmeta.report.wordtable import NBSP, add_table, column_widths  # noqa: F401  (public names)
from trialmeta.report.ziputil import FIXED_DATETIME, normalise
from trialmeta.synthesis.data import describe_method

PAGE = (21.0, 29.7)  # A4, cm
MARGIN = 2.0  # cm
FONT = "Arial"
BODY_PT, TABLE_PT, WIDE_TABLE_PT, NOTE_PT = 10, 9, 9, 8.5
LANGUAGE = "en-GB"
DPI = 300  #: the figures' resolution as placed, at least
TITLE = "trialmeta evidence report"


@dataclass(frozen=True)
class Figure:
    """A rendered figure: PNG bytes (or a function returning them, called once every table is
    built, so a figure may still be drawing meanwhile) and its size in inches."""

    png: bytes | Callable[[], bytes]
    width: float
    height: float
    caption: str = ""
    notes: tuple[str, ...] = ()  #: printed under the caption (the figure's style left them out of the image)
    alt: str = ""  #: alt text, when the caller words it (the history figures)


def _section(doc, landscape: bool):
    from docx.enum.section import WD_SECTION

    section = doc.add_section(WD_SECTION.NEW_PAGE)
    _page(section, landscape)
    return section


def _page(section, landscape: bool) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    w, h = (PAGE[1], PAGE[0]) if landscape else PAGE
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(w), Cm(h)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(MARGIN))
    section.header_distance = section.footer_distance = Cm(1.0)


def text_width(landscape: bool) -> float:
    """Width between the margins, cm."""
    return (PAGE[1] if landscape else PAGE[0]) - 2 * MARGIN


#: Height kept free on a figure's page for the heading, question, method line and caption (cm).
FIGURE_ROOM = 6.0


def _figure(doc, outline, fig: Figure, caption: str, alt: str) -> Callable[[], None]:
    """Place ``fig`` here, kept with its caption below it; return the function that puts the
    picture in (called after every table is built)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    # (0.3 cm short of the text width: LibreOffice draws a picture paragraph a few points right of the
    # margin, so a full-width picture whose content reaches its edge, e.g. a forest with risk-of-bias
    # columns, overflowed)
    max_w, max_h = text_width(False) - 0.3, PAGE[1] - 2 * MARGIN - FIGURE_ROOM
    scale = min(1.0, max_w / (fig.width * 2.54), max_h / (fig.height * 2.54))
    holder = doc.add_paragraph()
    holder.alignment = WD_ALIGN_PARAGRAPH.CENTER
    wordxml.keep_with_next(holder)
    cap = outline.caption("Figure", caption)
    if fig.notes:  # the caption keeps its first note with it; long notes may run on to the next page
        wordxml.keep_with_next(cap)
        for note in fig.notes:
            para = _note(doc, wording.prose(note))
            para.paragraph_format.space_after = Pt(1)
            para.paragraph_format.keep_together = True

    def insert() -> None:
        png = fig.png() if callable(fig.png) else fig.png
        shape = holder.add_run().add_picture(io.BytesIO(png), width=Cm(fig.width * 2.54 * scale))
        image = doc.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed].image
        most = int(image.px_width / DPI * 914400)  # never below 300 dpi as placed (the PNG's pixels are whole)
        if shape.width > most:
            shape.height, shape.width = int(shape.height * most / shape.width), most
        wordxml.alt_text(shape, caption, alt)
    return insert


def forest_alt_text(result) -> str:
    """What the forest plot shows, in words (for screen readers): each pooled estimate."""
    _, rows = evidence.comparison_rows(result)
    parts = [f"{row[0]}: {result.spec.measure} {row[3]}" + (f", {row[1]} studies" if row[1] not in ("", "0") else "")
             for row in rows]
    return (f"Forest plot of {result.spec.measure} ({result.spec.experimental} vs {result.spec.control}; "
            f"{result.spec.measure} < 1 favours {result.spec.experimental}). " + "; ".join(parts) + ".")


def _sources(doc, result, registry) -> None:
    seen = []
    for g in result.groups:
        for s in g.studies:
            trial = registry.by_id(s.trial)
            pubs = {p.key: p for p in trial.publications}
            pub = pubs.get(s.row.get("publication"))
            if pub is not None and (trial.acronym, pub.key) not in [(a, p.key) for a, p in seen]:
                seen.append((trial.acronym, pub))
    for acronym, pub in seen:
        ids = [f"doi:{pub.doi}" if pub.doi else "", f"PMID {pub.pmid}" if pub.pmid else "", pub.url or ""]
        text = f"{acronym} [{pub.key}]: {pub.citation}" + "".join(f"; {i}" for i in ids if i)
        doc.add_paragraph(text, style="List Bullet")


#: The styles the report uses (a reference document lacking one gets python-docx's default).
STYLES = ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "TOC Heading", "Caption", "List Bullet",
          "Table Grid", "Header", "Footer")


def _styles(doc, own: bool = True) -> None:
    """The report's styles: fonts and sizes set here unless ``own`` is False (a company's
    reference document gives them); pagination flags and the language always."""
    from docx.shared import Pt, RGBColor

    if own:
        normal = doc.styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(BODY_PT)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3", "TOC Heading", "Caption"):
        style = doc.styles[name]
        if own:
            style.font.name = FONT
        style.paragraph_format.keep_with_next = True
        style.paragraph_format.keep_together = True
    if own:
        caption = doc.styles["Caption"]
        caption.font.size = Pt(wordnav.CAPTION_PT)
        caption.font.color.rgb = RGBColor(0, 0, 0)
        caption.paragraph_format.space_before = Pt(6)
        caption.paragraph_format.space_after = Pt(6)
    wordxml.language(doc, LANGUAGE)
    wordnav.entry_styles(doc, text_width(False))


def _from_reference(data: bytes):
    """A document with the styles, theme, numbering and settings of the reference document ``data``
    (as pandoc's ``--reference-doc``) and none of its content; styles the report needs and it
    lacks are taken from python-docx's default template."""
    import copy

    from docx import Document

    doc = Document(io.BytesIO(data))
    body = doc.element.body
    last = body.sectPr  # the final section properties (page size, margins, header references) stay
    for child in list(body):
        if child is not last:
            body.remove(child)
    names = {s.name for s in doc.styles}
    default = Document()
    for name in STYLES:
        if name not in names:
            doc.styles.element.append(copy.deepcopy(default.styles[name].element))
    return doc


def _clip(text: str, limit: int = 255) -> str:
    """``text`` within a core property's 255 characters, cut at a word with an ellipsis."""
    return text if len(text) <= limit else text[:limit - 1].rsplit(" ", 1)[0] + "\u2026"


def _properties(doc, results) -> None:
    """Document properties (File > Info) from the analyses of analyses.yaml."""
    props = doc.core_properties
    props.author = props.last_modified_by = "trialmeta"
    props.title = TITLE
    props.subject = _clip("; ".join(r.spec.title for r in results))
    props.keywords = "; ".join(dict.fromkeys([*(r.spec.endpoint for r in results), "meta-analysis",
                                              "forest plot", "summary of findings"]))
    props.comments = _clip(" ".join(r.spec.question for r in results))
    props.category = "Evidence report"
    props.language = LANGUAGE
    props.created = props.modified = props.last_printed = FIXED_DATETIME
    props.revision = 1


def methods_statements(results) -> list[str]:
    """The Methods statements of the HTML report (one source for both), as plain text."""
    from trialmeta.report.html import methods_section

    defaults = next((r.settings for r in results if r.spec.settings is None), results[0].settings)
    items = re.findall(r"<li>(.*?)</li>", methods_section(defaults), flags=re.S)
    return [_html.unescape(re.sub(r"<[^>]+>", "", i)) for i in items]


def _note(doc, text: str, style: str | None = None):
    from docx.shared import Pt

    para = doc.add_paragraph(text, style=style)
    for run in para.runs:
        run.font.size = Pt(NOTE_PT)
    return para


def _analysis(doc, outline, r, registry, rows, figure: Figure | None, pictures: list, history=None) -> None:
    from docx.shared import Pt

    outline.heading(r.spec.title, level=1)
    q = doc.add_paragraph(r.spec.question)
    q.runs[0].italic = True
    wordxml.keep_with_next(q)
    endpoint = ENDPOINTS.get(r.spec.endpoint, ("", r.spec.endpoint))[1]
    m = doc.add_paragraph(f"Outcome: {endpoint} ({r.spec.endpoint}). Method: {describe_method(r)}. "
                          f"Comparison: {r.spec.experimental} vs {r.spec.control}.")
    wordxml.keep_with_next(m)
    if figure is not None:
        pictures.append(_figure(doc, outline, figure, f"Forest plot: {r.spec.title}", forest_alt_text(r)))
    outline.caption("Table", f"Summary of findings: {r.spec.title}")
    head, body, notes = sof.table(r, rows)
    add_table(doc, [wording.prose(h) for h in head], [[wording.prose(c) for c in row] for row in body],
              text_width(False), TABLE_PT)
    for text in notes:  # the certainty footnotes (lettered)
        _note(doc, wording.prose(text))
    _note(doc, wording.sof_footnote(sof.FOOTNOTE)).paragraph_format.space_before = Pt(4)
    if history is not None:  # the history of the evidence (report.html's), in the portrait part
        pictures.append(_figure(doc, outline, history, f"History of the evidence: {r.spec.title}", history.alt))
    _section(doc, landscape=True)
    outline.caption("Table", f"GRADE, reviewers' judgements and data-driven suggestions: {r.spec.title}")
    add_table(doc, [wording.prose(h) for h in grade_table.HEADER],
              [[wording.prose(c) for c in row] for row in grade_table.rows(r, registry)], text_width(True), WIDE_TABLE_PT)
    _note(doc, wording.grade_note(grade_table.NOTE))
    header, body, bold = evidence.evidence_rows(r)
    outline.caption("Table", f"Evidence table: {r.spec.title}")
    add_table(doc, wording.evidence_header(header), [wording.evidence_cells(header, row) for row in body],
              text_width(True), WIDE_TABLE_PT, bold)
    ch, crows = evidence.comparison_rows(r)
    what = "Subgroup comparison" if len(r.groups) > 1 else "Pooled estimate"
    outline.caption("Table", f"{what}: {r.spec.title}")
    add_table(doc, ch, [[wording.prose(c) for c in row] for row in crows], text_width(True), WIDE_TABLE_PT)
    outline.heading("Notes", level=2)
    for line in evidence.footers(r):
        _note(doc, wording.prose(line), style="List Bullet")
    outline.heading("Sources", level=2)
    _sources(doc, r, registry)


def report_docx(results, registry, sof_rows: dict, figures: dict, as_of: str | None = None,
                evidence_status: dict | None = None, reference: bytes | None = None, networks: list | None = None,
                network_pictures: dict | None = None, history: dict | None = None, indirect: list | None = None) -> bytes:
    """The Word report as bytes.

    Parameters
    ----------
    results : list of AnalysisResult
    registry : trialmeta.registry.load.Registry
    sof_rows : dict
        Analysis name -> list of :class:`trialmeta.report.sof.SofRow`.
    figures : dict
        Analysis name -> :class:`Figure` (the forest plot); an analysis without one gets none.
    as_of : str, optional
    evidence_status : dict, optional
        The living-evidence state (:func:`trialmeta.living.state.saved_state`), for its section.
    reference : bytes, optional
        A company's reference document (``.docx``): its styles (fonts, sizes, colours, spacing),
        theme and numbering are used instead of the report's own, as pandoc's ``--reference-doc``.
    networks, network_pictures : optional
        ``evidence.json``'s network meta-analyses and their figures (stem -> PNG bytes), appended
        on landscape pages (:mod:`trialmeta.report.wordnetworks`).
    history, indirect : optional
        Analysis name -> :class:`Figure` (its history of the evidence, with ``alt``); ``evidence.json``'s
        indirect comparisons (:mod:`trialmeta.report.wordextra`).
    """
    from docx import Document

    doc = Document() if reference is None else _from_reference(reference)
    _styles(doc, own=reference is None)
    wordxml.cache_style_ids(doc)
    _properties(doc, results)
    wordxml.update_fields_on_open(doc)
    _page(doc.sections[0], landscape=False)
    scope = f"evidence as of {as_of}" if as_of else "evidence from every data cut in the registry"
    wordnav.running_header_footer(doc.sections[0], f"{TITLE}: {scope}")
    outline = wordnav.Outline(doc)
    doc.add_paragraph(TITLE, style="Title")
    doc.add_paragraph(f"{scope[0].upper()}{scope[1:]}; {len(registry.trials)} trials, {len(results)} analyses; "
                      f"trialmeta {__version__}. Hazard ratios are experimental vs control (HR < 1 favours the "
                      "experimental arm).")
    contents = doc.add_paragraph()  # the contents and lists go here, once every entry is known
    _section(doc, landscape=False)
    outline.heading("Methods", level=1)
    for line in methods_statements(results):
        doc.add_paragraph(line, style="List Bullet")
    pictures = []
    for r in results:
        _section(doc, landscape=False)
        _analysis(doc, outline, r, registry, sof_rows[r.name], figures.get(r.name), pictures,
                  (history or {}).get(r.name))
    if indirect:
        from trialmeta.report.wordextra import indirect_section

        _section(doc, landscape=False)
        indirect_section(doc, outline, indirect, results, text_width(False), TABLE_PT, _note)
    if networks:
        from trialmeta.report.wordnetworks import networks_section

        _section(doc, landscape=True)
        networks_section(doc, outline, networks, network_pictures or {}, text_width(True), WIDE_TABLE_PT,
                         lambda d, text, style: _note(d, text, style))
    if evidence_status:  # the living-evidence state (trialmeta.report.status), when one was saved
        _section(doc, landscape=True)
        from trialmeta.report.wordextra import evidence_status_section

        evidence_status_section(doc, outline, evidence_status, text_width(True), TABLE_PT, _note)
    outline.contents(contents)
    for insert in pictures:  # last: the figures may still be drawing while the tables are built
        insert()
    buf = io.BytesIO()
    doc.save(buf)
    return normalise(buf.getvalue())

"""``report.docx``: the evidence report as a Word document (python-docx), ready for a dossier.

Per analysis: the question, the forest plot (a 300 dpi PNG sized to the text width: Word
cannot take the SVG reliably), the summary-of-findings table, then on landscape pages the
evidence table and the subgroup comparison as real Word tables (fixed column widths within
the margins, header row repeated on each page, intervals kept on one line) and the notes and
sources. Figures arrive as bytes rendered by the command line (this module never imports
:mod:`trialmeta.plot`). The file is deterministic (:mod:`trialmeta.report.ziputil`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

from trialmeta import __version__
from trialmeta.report import evidence, grade_table, sof
from trialmeta.report.ziputil import FIXED_DATETIME, normalise
from trialmeta.synthesis.data import describe_method

PAGE = (21.0, 29.7)  # A4, cm
MARGIN = 2.0  # cm
FONT = "Arial"
BODY_PT, TABLE_PT, WIDE_TABLE_PT = 10, 8, 7.5
NBSP = "\u00a0"


@dataclass(frozen=True)
class Figure:
    """A rendered figure: PNG bytes (or a function returning them, called once every table is
    built, so a figure may still be drawing meanwhile) and its size in inches."""

    png: bytes | Callable[[], bytes]
    width: float
    height: float
    caption: str = ""


def _keep_intervals(text: str) -> str:
    """'0.65 [0.50, 0.85]' never breaks inside (non-breaking spaces), as the HTML report does."""
    return evidence._INTERVAL.sub(lambda m: m.group(0).replace(" ", NBSP), text)


#: Cell padding (left + right, cm) and the width of a character at 1 pt (cm): Arial's digits are
#: 0.556 em, capitals up to 0.72 em; 0.6 em keeps short words such as '27%' whole. Bold header
#: words are counted 15% wider.
PADDING = 0.38
CHAR_CM = 0.6 / 72 * 2.54
BOLD = 1.15


def column_widths(header: list[str], rows: list[list[str]], total: float, size: float) -> list[float]:
    """Widths (cm) summing to ``total``: every column at least as wide as its longest word (an
    interval such as '0.65 [0.50, 0.85]' counts as one word), the rest of the width shared in
    proportion to how much more each column's longest line (up to 40 characters) would need."""
    char = CHAR_CM * size
    least, wish = [], []
    for j, h in enumerate(header):
        texts = [str(h)] + [str(r[j]) for r in rows]
        word = max([len(w) for t in texts[1:] for w in _keep_intervals(t).split(" ")]
                   + [len(w) * BOLD for w in str(h).split(" ")])
        longest = max(len(t) for t in texts)
        least.append(max(word, 4) * char + PADDING)
        wish.append(max(min(longest, 40), word, 4) * char + PADDING)
    if sum(least) >= total:  # cannot fit every word: shrink in proportion (words will break)
        return [w * total / sum(least) for w in least]
    if sum(wish) <= total:
        return [w * total / sum(wish) for w in wish]
    spare, extra = total - sum(least), [w - m for w, m in zip(wish, least)]
    return [m + spare * e / sum(extra) for m, e in zip(least, extra)]


def _fixed_layout(table, width_cm: float) -> None:
    """Fixed layout, the total width given, and the table's border on the left margin (Word
    otherwise hangs the first cell's padding outside it)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    for tag, attrs in (("w:tblW", {"w:w": str(round(width_cm / 2.54 * 1440)), "w:type": "dxa"}),
                       ("w:tblInd", {"w:w": str(round(PADDING / 2 / 2.54 * 1440)), "w:type": "dxa"}),
                       ("w:tblLayout", {"w:type": "fixed"})):
        for old in tbl_pr.findall(qn(tag)):
            tbl_pr.remove(old)
        el = OxmlElement(tag)
        for k, v in attrs.items():
            el.set(qn(k), v)
        tbl_pr.append(el)


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def add_table(doc, header: list[str], rows: list[list[str]], width_cm: float, size: float,
              bold_rows: list[bool] | None = None):
    """A real Word table with fixed column widths summing to ``width_cm``."""
    from docx.shared import Cm, Pt

    widths = column_widths(header, rows, width_cm, size)
    table = doc.add_table(rows=1 + len(rows), cols=len(header))
    table.style = "Table Grid"
    table.autofit = False
    _fixed_layout(table, width_cm)
    for j, w in enumerate(widths):
        table.columns[j].width = Cm(w)
    for i, values in enumerate([header, *rows]):
        row = table.rows[i]
        bold = i == 0 or bool(bold_rows and bold_rows[i - 1])
        for j, value in enumerate(values):
            cell = row.cells[j]
            cell.width = Cm(widths[j])
            para = cell.paragraphs[0]
            para.paragraph_format.space_after = Pt(0)
            run = para.add_run(_keep_intervals(str(value)))
            run.font.size = Pt(size)
            run.bold = bold
    _repeat_header(table.rows[0])
    return table


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


def text_width(landscape: bool) -> float:
    """Width between the margins, cm."""
    return (PAGE[1] if landscape else PAGE[0]) - 2 * MARGIN


def _figure(doc, fig: Figure) -> Callable[[], None]:
    """Place ``fig`` (its paragraph and caption) here; return the function that puts the picture
    in, called after every table is built."""
    from docx.shared import Cm, Pt

    # (0.3 cm short of the text width: LibreOffice draws a picture paragraph a few points right of the margin,
    # so a full-width picture whose content reaches its edge, e.g. a forest with risk-of-bias columns, overflowed)
    max_w, max_h = text_width(False) - 0.3, PAGE[1] - 2 * MARGIN - 4.0  # room for the heading and caption
    scale = min(1.0, max_w / (fig.width * 2.54), max_h / (fig.height * 2.54))
    holder = doc.add_paragraph()
    if fig.caption:
        cap = doc.add_paragraph(fig.caption)
        cap.runs[0].font.size = Pt(9)
        cap.runs[0].italic = True

    def insert() -> None:
        png = fig.png() if callable(fig.png) else fig.png
        holder.add_run().add_picture(io.BytesIO(png), width=Cm(fig.width * 2.54 * scale))
    return insert


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


def _styles(doc) -> None:
    from docx.shared import Pt

    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    props = doc.core_properties
    props.author = props.last_modified_by = "trialmeta"
    props.title = "trialmeta evidence report"
    props.created = props.modified = props.last_printed = FIXED_DATETIME
    props.revision = 1


def report_docx(results, registry, sof_rows: dict, figures: dict, as_of: str | None = None,
                evidence_status: dict | None = None) -> bytes:
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
    """
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    _styles(doc)
    _page(doc.sections[0], landscape=False)
    doc.add_heading("trialmeta evidence report", level=0)
    doc.add_paragraph(f"Evidence {'as of ' + as_of if as_of else 'from every data cut in the registry'}; "
                      f"{len(registry.trials)} trials, {len(results)} analyses; trialmeta {__version__}. "
                      "Hazard ratios are experimental vs control (HR < 1 favours the experimental arm).")
    pictures = []
    for n, r in enumerate(results, start=1):
        if n > 1:
            _section(doc, landscape=False)
        doc.add_heading(r.spec.title, level=1)
        q = doc.add_paragraph(r.spec.question)
        q.runs[0].italic = True
        doc.add_paragraph(f"Analysis {r.name}: {r.spec.endpoint}, {describe_method(r)}.")
        if r.name in figures:
            pictures.append(_figure(doc, figures[r.name]))
        doc.add_heading("Summary of findings", level=2)
        head, rows, notes = sof.table(r, sof_rows[r.name])
        add_table(doc, head, rows, text_width(False), TABLE_PT)
        for text in (*notes, sof.FOOTNOTE):
            note = doc.add_paragraph(text)
            note.runs[0].font.size = Pt(TABLE_PT)

        _section(doc, landscape=True)
        doc.add_heading(f"{r.spec.title}: GRADE, reviewers' judgements and data-driven suggestions", level=2)
        add_table(doc, grade_table.HEADER, grade_table.rows(r, registry), text_width(True), WIDE_TABLE_PT)
        note = doc.add_paragraph(grade_table.NOTE)
        note.runs[0].font.size = Pt(WIDE_TABLE_PT)
        doc.add_heading(f"{r.spec.title}: evidence table", level=2)
        header, body, bold = evidence.evidence_rows(r)
        add_table(doc, header, body, text_width(True), WIDE_TABLE_PT, bold)
        ch, crows = evidence.comparison_rows(r)
        doc.add_heading("Subgroup comparison" if len(r.groups) > 1 else "Pooled estimate", level=2)
        add_table(doc, ch, crows, text_width(True), WIDE_TABLE_PT)
        doc.add_heading("Notes", level=2)
        for line in evidence.footers(r):
            p = doc.add_paragraph(line, style="List Bullet")
            p.runs[0].font.size = Pt(TABLE_PT)
        doc.add_heading("Sources", level=2)
        _sources(doc, r, registry)
    if evidence_status:  # the living-evidence state (trialmeta.report.status), when one was saved
        from trialmeta.report import status

        doc.add_heading("Evidence status", level=1)
        doc.add_paragraph(status.lead(evidence_status))
        add_table(doc, ["Trial", "NCT", "Last update posted", "Posted, not in the registry"],
                  status.status_rows(evidence_status), text_width(True), TABLE_PT)
        for line in status.disagreements(evidence_status):
            doc.add_paragraph("Crosscheck disagreement: " + line, style="List Bullet")
    for insert in pictures:  # last: the figures may still be drawing while the tables are built
        insert()
    buf = io.BytesIO()
    doc.save(buf)
    return normalise(buf.getvalue())

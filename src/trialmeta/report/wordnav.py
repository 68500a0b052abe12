"""Finding one's way in ``report.docx``: bookmarked headings, numbered captions (``SEQ`` fields,
Caption style: tables captioned above, figures below), the table of contents and the lists of
figures and tables (``TOC`` fields), a running header and "Page n of N" footer.

The contents and lists are one hyperlinked entry per heading or caption, in Word's ``toc 1`` and
``table of figures`` styles, each ending in a ``PAGEREF`` field to the bookmark around its target:
Word recomputes those page numbers when it opens the file (``w:updateFields``) and LibreOffice as
it lays the pages out, so the page numbers are right in both without a second pass. (Inside a
``TOC`` field LibreOffice would print the cached entries as they are, with no page numbers, since
they cannot be known before the pages are laid out; a writer who edits the headings can insert
Word's own TOC field in their place.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trialmeta.report import wordxml

CAPTION_PT = 9


@dataclass
class Entry:
    text: str
    bookmark: str
    level: int = 1


@dataclass
class Outline:
    """Headings and captions as they are added, for the contents and lists built at the end."""

    doc: object
    headings: list[Entry] = field(default_factory=list)
    captions: dict[str, list[Entry]] = field(default_factory=lambda: {"Figure": [], "Table": []})
    _ids: int = 0

    def _bookmark(self, paragraph) -> str:
        self._ids += 1
        name = f"_Toc{self._ids:08d}"
        wordxml.bookmark(paragraph, name, self._ids)
        return name

    def heading(self, text: str, level: int, in_contents: bool = True):
        """A heading (kept with the next paragraph by its style); level 1 goes in the contents."""
        para = self.doc.add_heading(text, level=level)
        wordxml.keep_with_next(para)
        if in_contents and level == 1:
            self.headings.append(Entry(text, self._bookmark(para), level))
        return para

    def caption(self, kind: str, text: str):
        """'Figure 3. text' / 'Table 7. text' in the Caption style, numbered by a ``SEQ`` field
        (cached with the right number). A table caption is kept with its table; a figure's
        picture paragraph is kept with its caption by :func:`figure_paragraph`."""
        number = len(self.captions[kind]) + 1
        para = self.doc.add_paragraph(style="Caption")
        wordxml.add_text(para, f"{kind}\u00a0")
        wordxml.add_field(para, f"SEQ {kind} \\* ARABIC", str(number))
        wordxml.add_text(para, f". {text}")
        para.paragraph_format.keep_with_next = kind == "Table"
        para.paragraph_format.keep_together = True
        self.captions[kind].append(Entry(f"{kind} {number}. {text}", self._bookmark(para)))
        return para

    def contents(self, before) -> None:
        """The table of contents, then the lists of figures and tables, inserted before the
        paragraph ``before`` (placed where they belong while the document was written)."""
        blocks = [("Contents", self.headings, "toc 1"),
                  ("List of figures", self.captions["Figure"], "table of figures"),
                  ("List of tables", self.captions["Table"], "table of figures")]
        for title, entries, style in blocks:
            if not entries:
                continue
            head = before.insert_paragraph_before(title, style="TOC Heading")
            wordxml.keep_with_next(head)
            for e in entries:
                para = before.insert_paragraph_before(style=style)
                link = wordxml.hyperlink_to(para, e.bookmark)
                wordxml.add_text(para, e.text, parent=link)
                wordxml.add_tab(para, parent=link)
                wordxml.add_field(para, f"PAGEREF {e.bookmark} \\h", "", parent=link)


def entry_styles(doc, text_width_cm: float) -> None:
    """'toc 1' and 'table of figures' (Word's built-in names): a right tab with a dot leader at the
    text width for the page numbers."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt

    names = {s.name for s in doc.styles}
    for name in ("toc 1", "table of figures"):
        if name in names:  # a reference document's own
            continue
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = doc.styles["Normal"]
        style.paragraph_format.space_after = Pt(2)
        style.paragraph_format.left_indent = Pt(0)
        wordxml.right_tab(style, round(text_width_cm / 2.54 * 1440))


def running_header_footer(section, header_text: str, size_pt: float = 8) -> None:
    """Header: ``header_text``; footer: 'Page n of N' (``PAGE`` and ``NUMPAGES`` fields). Later
    sections inherit both (linked to the previous section)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    head = section.header.paragraphs[0]
    head.text = ""
    wordxml.add_text(head, header_text, size_pt=size_pt)
    head.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    head.paragraph_format.space_after = Pt(0)
    foot = section.footer.paragraphs[0]
    foot.text = ""
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    foot.paragraph_format.space_after = Pt(0)
    wordxml.add_text(foot, "Page ", size_pt=size_pt)
    wordxml.add_field(foot, "PAGE \\* ARABIC", "1", size_pt=size_pt)
    wordxml.add_text(foot, " of ", size_pt=size_pt)
    wordxml.add_field(foot, "NUMPAGES \\* ARABIC", "1", size_pt=size_pt)

"""WordprocessingML that python-docx has no API for: fields, bookmarks, pagination flags,
language, alt text and the settings Word reads on open.

* Fields (``SEQ`` caption numbers, ``TOC``, ``PAGE``, ``NUMPAGES``, ``PAGEREF``) are complex
  fields (``w:fldChar`` begin / separate / end) with a cached result, so a reader that does
  not update fields still shows the right caption numbers; ``w:updateFields`` in
  ``settings.xml`` makes Word refresh every field (TOC page numbers included) when the file
  is opened (ECMA-376 Part 1, 17.15.1.90; 17.16 fields).
* Pagination: ``w:keepNext`` (paragraph kept on the page of the next one), ``w:cantSplit``
  (a table row never breaks across pages), ``w:tblHeader`` (header row repeated).
"""

from __future__ import annotations

from docx.oxml import OxmlElement
from docx.oxml.ns import qn


def element(tag: str, **attrs: str):
    """``<w:tag w:key="value" .../>`` (attribute names without the ``w:`` prefix)."""
    el = OxmlElement(tag)
    for k, v in attrs.items():
        el.set(qn(k if ":" in k else f"w:{k}"), v)
    return el


def _set_child(parent, tag: str, **attrs: str):
    """Replace ``parent``'s ``tag`` child by a new one (python-docx keeps the schema order of the
    properties it knows; these are appended, which Word and LibreOffice both accept)."""
    for old in parent.findall(qn(tag)):
        parent.remove(old)
    el = element(tag, **attrs)
    parent.append(el)
    return el


def _run(paragraph_el, *children, size_pt: float | None = None):
    r = OxmlElement("w:r")
    if size_pt is not None:
        rpr = OxmlElement("w:rPr")
        rpr.append(element("w:sz", val=str(round(size_pt * 2))))
        r.append(rpr)
    for c in children:
        r.append(c)
    paragraph_el.append(r)
    return r


def _text(value: str):
    t = element("w:t")
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    t.text = value
    return t


def add_field(paragraph, instruction: str, result: str, size_pt: float | None = None, parent=None) -> None:
    """Append the field ``instruction`` (e.g. ``SEQ Figure \\* ARABIC``) with its cached ``result``
    to ``paragraph`` (or to ``parent``, an element inside it such as a hyperlink)."""
    host = parent if parent is not None else paragraph._p
    _run(host, element("w:fldChar", fldCharType="begin"), size_pt=size_pt)
    instr = element("w:instrText")
    instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    instr.text = f" {instruction} "
    _run(host, instr, size_pt=size_pt)
    _run(host, element("w:fldChar", fldCharType="separate"), size_pt=size_pt)
    _run(host, _text(result), size_pt=size_pt)
    _run(host, element("w:fldChar", fldCharType="end"), size_pt=size_pt)


def add_text(paragraph, text: str, size_pt: float | None = None, parent=None) -> None:
    _run(parent if parent is not None else paragraph._p, _text(text), size_pt=size_pt)


def add_tab(paragraph, parent=None) -> None:
    _run(parent if parent is not None else paragraph._p, OxmlElement("w:tab"))


def bookmark(paragraph, name: str, number: int) -> None:
    """Wrap the paragraph's content in the bookmark ``name`` (what TOC entries and PAGEREF
    fields point at)."""
    p = paragraph._p
    start = element("w:bookmarkStart", id=str(number), name=name)
    first = p.find(qn("w:pPr"))
    if first is not None:
        first.addnext(start)
    else:
        p.insert(0, start)
    p.append(element("w:bookmarkEnd", id=str(number)))


def hyperlink_to(paragraph, anchor: str):
    """An internal hyperlink (to a bookmark) appended to ``paragraph``; runs go inside it."""
    link = element("w:hyperlink", anchor=anchor, history="1")
    paragraph._p.append(link)
    return link


def keep_with_next(paragraph, on: bool = True) -> None:
    paragraph.paragraph_format.keep_with_next = on


def cant_split(row) -> None:
    """The row is never broken across two pages."""
    _set_child(row._tr.get_or_add_trPr(), "w:cantSplit", val="true")


def repeat_header(row) -> None:
    """The row is repeated at the top of each page the table continues on."""
    _set_child(row._tr.get_or_add_trPr(), "w:tblHeader", val="true")


def fixed_layout(table, width_cm: float, indent_cm: float) -> None:
    """Fixed layout, the total width given, the table indented by ``indent_cm`` (so the border,
    not the first cell's text, sits on the margin)."""
    tbl_pr = table._tbl.tblPr
    _set_child(tbl_pr, "w:tblW", w=str(round(width_cm / 2.54 * 1440)), type="dxa")
    _set_child(tbl_pr, "w:tblInd", w=str(round(indent_cm / 2.54 * 1440)), type="dxa")
    _set_child(tbl_pr, "w:tblLayout", type="fixed")


def update_fields_on_open(document) -> None:
    """``<w:updateFields w:val="true"/>``: Word recomputes every field (TOC and lists of figures
    and tables with their page numbers, caption numbers) when it opens the file."""
    _set_child(document.settings.element, "w:updateFields", val="true")


def language(document, tag: str) -> None:
    """The document's default language (spelling, hyphenation, quotes), e.g. ``en-GB``."""
    rpr = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = element("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), tag)
    lang.set(qn("w:eastAsia"), tag)


def alt_text(inline_shape, title: str, description: str) -> None:
    """The picture's alternative text (``wp:docPr`` ``title`` and ``descr``), read by screen
    readers and shown in Word's Alt Text pane."""
    doc_pr = inline_shape._inline.docPr
    doc_pr.set("title", title)
    doc_pr.set("descr", description)


def right_tab(paragraph_style, position_twips: int, leader: str = "dot") -> None:
    """A right-aligned tab stop with a leader (TOC entries: title ...... page)."""
    ppr = paragraph_style.element.get_or_add_pPr()
    tabs = _set_child(ppr, "w:tabs")
    tabs.append(element("w:tab", val="right", leader=leader, pos=str(position_twips)))


def cache_style_ids(doc) -> None:
    """Look each style name up once per document: python-docx finds a style by name with an XPath
    search of styles.xml at every ``paragraph.style = "..."`` / ``add_paragraph(style=...)``, which
    dominated the report's build time. Call once the document's styles are final (names are unique,
    so a name found keeps its id); a name not found still raises as python-docx does."""
    part = doc.part
    lookup = part.get_style_id
    found: dict = {}

    def get_style_id(style_or_name, style_type):
        if not isinstance(style_or_name, str):
            return lookup(style_or_name, style_type)
        key = (style_or_name, style_type)
        if key not in found:
            found[key] = lookup(style_or_name, style_type)
        return found[key]

    part.get_style_id = get_style_id

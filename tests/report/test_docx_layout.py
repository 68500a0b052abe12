"""report.docx as a medical writer receives it (report/docx.py, wordnav.py, wordtable.py,
wordxml.py, wording.py): numbered captions, contents and lists, pagination flags, page numbers,
Methods, language, alt text, properties and reader-facing words, checked in the file's XML; then
the file rendered by LibreOffice to PDF and checked on the pages' words and their positions
(pdftotext -bbox): captions numbered in order, no heading or caption last on a page, no table row
split across pages, contents with the right page numbers, 'Page n of N' on every page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from xml.etree import ElementTree as ET

import pytest
from docx import Document
from docx.oxml.ns import qn

from trialmeta.report.docx import methods_statements
from trialmeta.report.wordtable import NBSP
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.load import load_registry
from trialmeta.synthesis.run import run_analyses

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def report(refreshed):
    """The report.docx of a full refresh (network meta-analyses included) and the analyses' results."""
    trials = refreshed / "trials"
    spec, lines = load_analyses(trials / "analyses.yaml")
    results = run_analyses(load_registry(trials), spec, spec_file="trials/analyses.yaml", lines=lines)
    assert spec.networks  # the network section is laid out like the rest
    return refreshed / "outputs" / "report.docx", results


def _captions(doc, kind: str) -> list[str]:
    return [p.text for p in doc.paragraphs if p.style.name == "Caption" and p.text.startswith(kind)]


def _body(doc):
    """(kind, object) for each paragraph and table of the body, in order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for el in doc.element.body.iterchildren():
        if el.tag == qn("w:p"):
            yield "p", Paragraph(el, doc)
        elif el.tag == qn("w:tbl"):
            yield "t", Table(el, doc)


def _seq(paragraph) -> tuple[str, str] | None:
    """(sequence name, cached number) of the SEQ field in a caption paragraph."""
    runs = paragraph._p.findall(f".//{W}r")
    for i, r in enumerate(runs):
        instr = r.find(f"{W}instrText")
        if instr is not None and instr.text.strip().startswith("SEQ "):
            name = instr.text.split()[1]
            cached = next(x.find(f"{W}t").text for x in runs[i + 1:] if x.find(f"{W}t") is not None)
            return name, cached
    return None


def test_captions_are_numbered_seq_fields_tables_above_figures_below(report):
    path, results = report
    doc = Document(path)
    items = list(_body(doc))
    numbers = {"Figure": [], "Table": []}
    for i, (kind, obj) in enumerate(items):
        if kind == "p" and obj.style.name == "Caption":
            name, cached = _seq(obj)
            numbers[name].append(int(cached))
            assert obj.text.startswith(f"{name}{NBSP}{cached}. ")
            assert obj.paragraph_format.keep_together
            if name == "Table":  # above its table, kept with it
                assert items[i + 1][0] == "t" and obj.paragraph_format.keep_with_next
            else:  # below its picture, which is kept with it
                prev = items[i - 1][1]
                assert items[i - 1][0] == "p" and prev._p.findall(f".//{W}drawing")
                assert prev.paragraph_format.keep_with_next
        if kind == "t":
            assert items[i - 1][0] == "p" and items[i - 1][1].style.name == "Caption"
    assert numbers["Figure"] == list(range(1, len(numbers["Figure"]) + 1))
    assert numbers["Table"] == list(range(1, len(numbers["Table"]) + 1))
    forests = [c for c in _captions(doc, "Figure") if ". Forest plot: " in c]
    assert len(forests) == len(results) and len(numbers["Table"]) > 3 * len(results)  # + the networks'
    assert sum(". Network " in c for c in _captions(doc, "Figure")) >= 2
    # the history of the evidence of every analysis that has one (outputs/history/<name>.png), in the
    # analysis' section: after its forest plot and summary of findings, before its landscape tables
    with_history = [r for r in results if (path.parent / "history" / f"{r.name}.png").is_file()]
    assert len(with_history) >= len(results) - 1 and with_history
    histories = [c.split(". ", 1)[1] for c in _captions(doc, "Figure") if ". History of the evidence: " in c]
    assert histories == [f"History of the evidence: {r.spec.title}" for r in with_history]
    for r in with_history:
        order = [c.split(". ", 1)[1] for c in _captions(doc, "Figure") + _captions(doc, "Table")
                 if c.endswith(f": {r.spec.title}")]
        caps = [p.text.split(". ", 1)[1] for p in doc.paragraphs if p.style.name == "Caption"]
        at = {c: caps.index(c) for c in order}
        assert at[f"Forest plot: {r.spec.title}"] < at[f"Summary of findings: {r.spec.title}"] \
            < at[f"History of the evidence: {r.spec.title}"] < at[f"Evidence table: {r.spec.title}"]


def test_contents_and_lists_link_every_heading_and_caption_with_a_page_field(report):
    path, results = report
    doc = Document(path)
    entries = [p for p in doc.paragraphs if p.style.name in ("toc 1", "table of figures")]
    bookmarks = {b.get(qn("w:name")): b.getparent() for b in doc.element.body.iter(qn("w:bookmarkStart"))}
    level1 = [p for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert [p.text for p in level1][:1 + len(results)] == ["Methods", *(r.spec.title for r in results)]
    assert len(entries) == len(level1) + len(_captions(doc, "Figure")) + len(_captions(doc, "Table"))
    for e in entries:
        link = e._p.find(qn("w:hyperlink"))
        anchor = link.get(qn("w:anchor"))
        target = bookmarks[anchor]
        instr = " ".join(t.text for t in e._p.iter(qn("w:instrText")))
        assert f"PAGEREF {anchor}" in instr
        text = "".join(t.text or "" for t in target.iter(qn("w:t"))).replace(NBSP, " ")
        assert "".join(t.text or "" for t in link.iter(qn("w:t"))).replace(NBSP, " ") == text
    titles = [p.text for p in doc.paragraphs if p.style.name == "TOC Heading"]
    assert titles == ["Contents", "List of figures", "List of tables"]


def test_pagination_flags_language_fields_and_alt_text(report):
    path, results = report
    doc = Document(path)
    for p in doc.paragraphs:
        if p.style.name.startswith("Heading") or p.style.name == "Caption":
            assert p.paragraph_format.keep_with_next or p.style.paragraph_format.keep_with_next, p.text
    for t in doc.tables:
        for i, row in enumerate(t.rows):
            tr_pr = row._tr.trPr
            assert tr_pr is not None and tr_pr.find(qn("w:cantSplit")) is not None
            assert (tr_pr.find(qn("w:tblHeader")) is not None) == (i == 0)
        sizes = {r.font.size.pt for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs}
        assert sizes <= {9.0, 10.0}, sizes
    with zipfile.ZipFile(path) as z:
        settings = ET.fromstring(z.read("word/settings.xml"))
        styles = ET.fromstring(z.read("word/styles.xml"))
        footer = z.read("word/footer1.xml").decode()
    assert settings.find(f"{W}updateFields").get(f"{W}val") == "true"
    assert styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang").get(f"{W}val") == "en-GB"
    assert " PAGE " in footer and " NUMPAGES " in footer and "Page " in footer
    assert "trialmeta evidence report" in doc.sections[0].header.paragraphs[0].text
    assert all(s.header.is_linked_to_previous and s.footer.is_linked_to_previous for s in doc.sections[1:])
    assert len(doc.inline_shapes) == len(_captions(doc, "Figure"))
    assert all(shape._inline.docPr.get("descr") for shape in doc.inline_shapes)
    forests = [s for s in doc.inline_shapes if s._inline.docPr.get("title").startswith("Forest plot: ")]
    for shape, r in zip(forests, results, strict=True):
        descr = shape._inline.docPr.get("descr")
        assert descr.startswith("Forest plot of ") and r.spec.experimental in descr
        assert shape._inline.docPr.get("title") == f"Forest plot: {r.spec.title}"
    titles = {r.spec.title: r for r in results}
    histories = [s for s in doc.inline_shapes if s._inline.docPr.get("title").startswith("History of the evidence: ")]
    assert histories
    for shape in histories:  # alt text: the pooled estimate per subgroup, in words
        r = titles[shape._inline.docPr.get("title").removeprefix("History of the evidence: ")]
        descr = shape._inline.docPr.get("descr")
        assert descr.startswith(f"Cumulative meta-analysis of {r.spec.title}: the {r.spec.measure} ")
        assert all(f"{g.label}: " in descr for g in r.groups) and "no estimate" not in descr


def test_properties_methods_and_reader_words(report):
    path, results = report
    doc = Document(path)
    props = doc.core_properties
    assert props.title == "trialmeta evidence report" and props.language == "en-GB"
    assert props.subject.startswith(results[0].spec.title) and len(props.subject) <= 255
    texts = [p.text for p in doc.paragraphs]
    methods = texts.index("Methods")
    assert texts[methods + 1: methods + 1 + len(methods_statements(results))] == methods_statements(results)
    assert any("REML" in t and "HKSJ" in t for t in methods_statements(results))
    everything = "\n".join(texts + [c.text for t in doc.tables for row in t.rows for c in row.cells])
    for code in ("hr-ci", "reml, hksj", "n/v", "analyses.yaml", "certainty:", "SE from\n", "Analysis pi3k"):
        assert code not in everything, code
    assert "published HR and CI" in everything and "REML \u03c4\u00b2, HKSJ CI" in everything


def test_indirect_comparisons_section_has_evidence_json_numbers_in_a_captioned_table(report):
    """report.html's "Indirect comparisons" in Word: a level-1 heading, per comparison a captioned
    table (the indirect estimate, then the two pooled estimates it comes from, with their trials and
    analyses in words), the method and the caveats as notes. The numbers are evidence.json's
    (synthesis/indirect.py, Bucher 1997), printed as report.html prints them (fmt.ratio_ci, fmt.p_value)."""
    import json

    from trialmeta import fmt

    path, results = report
    indirect = json.loads((path.parent / "evidence.json").read_text())["indirect"]
    assert indirect
    doc = Document(path)
    items = list(_body(doc))
    texts = [p.text for p in doc.paragraphs]
    assert "Indirect comparisons" in [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    for d in indirect:
        at = next(i for i, (k, o) in enumerate(items) if k == "p" and o.style.name == "Caption"
                  and o.text.endswith(f"Adjusted indirect comparison: {d['comparison']}, through {d['common_comparator']}"))
        table = items[at + 1][1]
        rows = [[c.text.replace(NBSP, " ") for c in row.cells] for row in table.rows]
        assert rows[0] == ["Comparison", "Evidence", "HR [95% CI]", "P value"]
        assert rows[1][2:] == [fmt.ratio_ci(d["hr"], d["ci_low"], d["ci_high"]).replace(NBSP, " "), fmt.p_value(d["p"])]
        for row, side in zip(rows[2:], ("a_vs_common", "c_vs_common"), strict=True):
            s = d[side]
            assert row[2] == fmt.ratio_ci(s["hr"], s["ci_low"], s["ci_high"]).replace(NBSP, " ")
            name, trials = s["source"].split(" (", 1)  # "<analysis>/<subgroup> (<trials>)": trials and titles, not codes
            assert name.split("/")[0] not in row[1] and trials.rstrip(")") in row[1]
        assert all(c in texts for c in d["caveats"])
        assert any(t.startswith("Method: Bucher adjusted indirect comparison (Bucher 1997)") for t in texts)
    # 1.34 [1.01, 1.78]: alpelisib (SOLAR-1, 0.65 [0.50, 0.85]) vs capivasertib (0.49 [0.25, 0.95]) through
    # placebo + fulvestrant, exp(ln HR_a - ln HR_c) of the unrounded pooled estimates (Bucher 1997), the value
    # report.html prints
    assert "1.34 [1.01, 1.78]" in [r[2] for t in doc.tables for r in [[c.text.replace(NBSP, " ") for c in x.cells]
                                                                     for x in t.rows]]


def test_numeric_columns_are_right_aligned(report):
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = Document(report[0])
    # per analysis the tables are: summary of findings, GRADE, evidence table, subgroup comparison;
    # the first evidence table is the first with a Weight column
    evidence_table = next(t for t in doc.tables if "Weight" in [c.text for c in t.rows[0].cells])
    head = [c.text for c in evidence_table.rows[0].cells]
    for name, right in (("Weight", True), ("HR [95% CI]", True), ("Trial", False)):
        j = head.index(name)
        aligns = {row.cells[j].paragraphs[0].alignment for row in evidence_table.rows[1:]}
        assert aligns == ({WD_ALIGN_PARAGRAPH.RIGHT} if right else {None}), (name, aligns)


# -- rendered by LibreOffice ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def rendered_pdf(report, tmp_path_factory):
    """The PDF LibreOffice makes of the report."""
    if not (shutil.which("soffice") and shutil.which("pdftotext")):
        if os.environ.get("CI"):
            pytest.fail("CI is set but LibreOffice (soffice) or poppler-utils (pdftotext) is missing")
        pytest.skip("LibreOffice (soffice) and poppler-utils (pdftotext) are needed to check the rendered pages")
    tmp = tmp_path_factory.mktemp("pdf")
    shutil.copy(report[0], tmp / "report.docx")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp), str(tmp / "report.docx")], check=True, capture_output=True, timeout=300)
    return tmp / "report.pdf"


@pytest.fixture(scope="module")
def pdf_pages(rendered_pdf):
    """Per page: (width, height, words as (x0, y0, x1, y1, text)) of the PDF LibreOffice makes."""
    html = subprocess.run(["pdftotext", "-bbox", str(rendered_pdf), "-"], check=True, capture_output=True,
                          text=True, timeout=120).stdout
    pages = []
    for m in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.S):
        words = [(float(a), float(b), float(c), float(d), _unescape(t)) for a, b, c, d, t in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', m.group(3))]
        pages.append((float(m.group(1)), float(m.group(2)), words))
    return pages


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


MARGIN_PT = 2.0 / 2.54 * 72


def _body_lines(page) -> list[str]:
    """The page's lines between the margins (running header and footer left out), top to bottom."""
    _, h, words = page
    lines: dict[float, list] = {}
    for x0, y0, _, _, t in words:
        if MARGIN_PT - 2 <= y0 <= h - MARGIN_PT:
            lines.setdefault(round(y0), []).append((x0, t))
    return [" ".join(t for _, t in sorted(ws)) for _, ws in sorted(lines.items())]


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.replace(NBSP, " "))


@pytest.mark.slow
def test_rendered_pages_number_captions_in_order_and_every_page(pdf_pages, report):
    pages = pdf_pages
    captions = {"Figure": [], "Table": []}
    for page in pages:
        for line in _body_lines(page):
            m = re.match(r"(Figure|Table) (\d+)\. ", line)
            if m:
                captions[m.group(1)].append(int(m.group(2)))
    doc = Document(report[0])
    # each caption printed twice: in its list on the contents pages, then at its figure or table
    assert captions["Figure"] == 2 * list(range(1, len(_captions(doc, "Figure")) + 1))
    assert captions["Table"] == 2 * list(range(1, len(_captions(doc, "Table")) + 1))
    for n, (w, h, words) in enumerate(pages, start=1):
        footer = " ".join(t for _, y0, _, _, t in words if y0 > h - MARGIN_PT)
        assert f"Page {n} of {len(pages)}" in footer
        assert "trialmeta evidence report" in " ".join(t for _, y0, _, _, t in words if y0 < MARGIN_PT)


@pytest.mark.slow
def test_rendered_figures_and_tables_stay_within_the_margins(rendered_pdf, tmp_path):
    """Every page rasterised (Ghostscript, 72 dpi): no ink left or right of the 2 cm margins, and
    above or below them only the running header and the footer, so every figure (forest plots,
    histories of the evidence, network figures) is placed inside the margins."""
    if not shutil.which("gs"):
        if os.environ.get("CI"):
            pytest.fail("CI is set but Ghostscript (gs) is missing")
        pytest.skip("Ghostscript (gs) is needed to rasterise the pages")
    import matplotlib.image as mpimg
    import numpy as np

    subprocess.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pnggray", "-r72",
                    f"-sOutputFile={tmp_path}/page-%03d.png", str(rendered_pdf)], check=True, timeout=300)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) > 20
    for page in pages:
        ink = mpimg.imread(page) < 0.8
        h, w = ink.shape
        cols, rows = np.where(ink.any(axis=0))[0], np.where(ink.any(axis=1))[0]
        assert cols.min() >= MARGIN_PT - 2 and cols.max() <= w - MARGIN_PT + 2, (page.name, cols.min(), cols.max(), w)
        outside = rows[(rows < MARGIN_PT - 2) | (rows > h - MARGIN_PT + 2)]  # the header and footer lines only
        assert outside.size == 0 or (outside.min() >= MARGIN_PT / 2 - 2 and outside.max() <= h - MARGIN_PT / 2 + 2)
        head, foot = rows[rows < MARGIN_PT - 2], rows[rows > h - MARGIN_PT + 2]
        assert head.size == 0 or head.max() < MARGIN_PT * 0.9, page.name
        assert foot.size == 0 or foot.min() > h - MARGIN_PT * 0.9, page.name


@pytest.mark.slow
def test_rendered_contents_give_the_page_of_each_heading(pdf_pages, report):
    doc = Document(report[0])
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    lines = [(n, line) for n, page in enumerate(pdf_pages, start=1) for line in _body_lines(page)]
    assert [n for n, line in lines if line == "Contents"] == [1]
    front = next(n for n, line in lines if line == "Methods") - 1  # the title, contents and lists' pages
    printed, start = {}, []
    for n, line in lines[[x for _, x in lines].index("Contents") + 1:]:
        if n > front or line.startswith(("List of", "Figure ", "Table ")):
            break
        m = re.fullmatch(r"(.*?)\.{3,}\s*(\d+)", line)
        if m:
            printed[" ".join(_tokens(" ".join([*start, m.group(1)])))] = int(m.group(2))
            start = []
        else:
            start.append(line)
    assert len(printed) == len(headings)
    for title in headings:
        page = printed[" ".join(_tokens(title))]
        # the heading's page: where its words make up whole lines (a heading wraps over at most 3 lines;
        # "Indirect comparisons" also opens a Methods statement)
        first = min(n for n, page in enumerate(pdf_pages, start=1) if n > front
                    for body in [_body_lines(page)] for i in range(len(body)) for k in (1, 2, 3)
                    if _tokens(" ".join(body[i:i + k])) == _tokens(title))
        assert page == first, (title, page, first)


@pytest.mark.slow
def test_rendered_no_heading_or_caption_ends_a_page(pdf_pages, report):
    """A heading, or a table's caption (printed above it), never closes a page: the last lines of
    every page are not one of them whole. (A figure's caption, below it, may.)"""
    doc = Document(report[0])
    ends = {" ".join(_tokens(p.text)) for p in doc.paragraphs
            if p.style.name.startswith("Heading") or p.style.name == "TOC Heading"
            or (p.style.name == "Caption" and p.text.startswith("Table"))}
    for n, page in enumerate(pdf_pages, start=1):
        lines = _body_lines(page)
        for k in range(1, 4):
            last = " ".join(_tokens(" ".join(lines[-k:])))
            assert last not in ends, (n, last)


def split_rows(doc, pdf_pages) -> list[str]:
    """The table rows of ``doc`` not found whole on one page of the rendered PDF. Each row's
    words, in document order, must be together on one page (the pages' words are used up as rows
    are matched, the repeated header row once more on each page a table continues on); a row split
    across pages is on neither page whole."""
    pages = [Counter(_tokens(" ".join(t for *_, t in page[2]))) for page in pdf_pages]
    at, bad = 0, []
    for table in doc.tables:
        header = Counter(_tokens(" ".join(c.text for c in table.rows[0].cells)))
        for i, row in enumerate(table.rows):
            need = Counter(_tokens(" ".join(c.text for c in row.cells)))
            for p in range(at, len(pages)):
                if not need - pages[p]:
                    if p != at and i > 0:
                        pages[p] -= header
                    pages[p] -= need
                    at = p
                    break
                nxt = pages[p + 1] if p + 1 < len(pages) else Counter()
                if need - nxt and not need - (pages[p] + nxt):
                    bad.append(f"pages {p + 1}-{p + 2}: {row.cells[0].text[:40]}")
                    break
            else:
                bad.append(f"nowhere: {row.cells[0].text[:40]}")
    return bad


@pytest.mark.slow
def test_rendered_no_table_row_is_split_across_pages(pdf_pages, report):
    doc = Document(report[0])
    assert sum(len(t.rows) for t in doc.tables) > 100
    assert split_rows(doc, pdf_pages) == []


@pytest.mark.slow
def test_split_row_check_finds_a_row_word_lets_break(tmp_path):
    """The check above on a page where a tall row without cantSplit must break: it is reported."""
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice (soffice) is needed")
    doc = Document()
    for i in range(20):
        doc.add_paragraph(f"filler line {i}")
    table = doc.add_table(rows=2, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Name", "Text"
    table.rows[1].cells[0].text = "tallrow"
    table.rows[1].cells[1].text = "\n".join(f"line{i} word{i}" for i in range(30))
    doc.save(tmp_path / "split.docx")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(tmp_path / "split.docx")], check=True, capture_output=True,
                   timeout=300)
    html = subprocess.run(["pdftotext", "-bbox", str(tmp_path / "split.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout
    pages = [(0, 0, [(0, 0, 0, 0, t) for t in re.findall(r">([^<]*)</word>", body)])
             for body in re.findall(r"<page [^>]*>(.*?)</page>", html, re.S)]
    assert len(pages) >= 2
    assert split_rows(Document(tmp_path / "split.docx"), pages) == ["pages 1-2: tallrow"]


def test_reference_docx_gives_its_styles_and_none_of_its_content(tmp_path, run_cli):
    """--reference-docx FILE (pandoc's --reference-doc): the company template's fonts and colours,
    none of its text; a style the report needs and the template lacks (here Caption) comes from
    python-docx's default template, so captions still work."""
    from docx.shared import Pt, RGBColor

    template = Document()
    template.styles["Normal"].font.name = "Georgia"
    template.styles["Normal"].font.size = Pt(11)
    template.styles["Heading 1"].font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    template.styles["Caption"].delete()
    template.add_paragraph("TEMPLATE BODY TEXT")
    template.save(tmp_path / "company.docx")
    out = tmp_path / "out"
    code, _, err = run_cli("export", "--format", "docx", "--analysis", "carfilzomib-os",
                           "--reference-docx", tmp_path / "company.docx", "--out", out)
    assert code == 0, err
    doc = Document(out / "report.docx")
    assert doc.styles["Normal"].font.name == "Georgia" and doc.styles["Normal"].font.size == Pt(11)
    assert doc.styles["Heading 1"].font.color.rgb == RGBColor(0xC0, 0x00, 0x00)
    assert "TEMPLATE BODY TEXT" not in [p.text for p in doc.paragraphs]
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    # one caption per captioned object: the forest plot, then the summary of findings, GRADE,
    # evidence and subgroup comparison tables
    assert captions[0].startswith(f"Figure{NBSP}1. ")
    assert len(captions) == len(doc.inline_shapes) + len(doc.tables) == 1 + 4
    # the same template again: the same bytes
    code, _, _ = run_cli("export", "--format", "docx", "--analysis", "carfilzomib-os",
                         "--reference-docx", tmp_path / "company.docx", "--out", tmp_path / "again")
    assert (tmp_path / "again" / "report.docx").read_bytes() == (out / "report.docx").read_bytes()


def test_reference_docx_errors(tmp_path, run_cli):
    (tmp_path / "notes.txt").write_text("not a document")
    for bad, why in ((tmp_path / "missing.docx", "cannot read"), (tmp_path / "notes.txt", "is not a Word .docx")):
        code, _, err = run_cli("export", "--reference-docx", bad, "--out", tmp_path / "out")
        assert code == 2 and "--reference-docx" in err and why in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()

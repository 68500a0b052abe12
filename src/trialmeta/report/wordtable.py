"""Word tables of the report: fixed column widths within the margins, header row repeated on each
page, rows never split across pages, intervals kept on one line, numbers right-aligned so their
decimal points line up (every number of a column is printed to the same decimals)."""

from __future__ import annotations

import re

from trialmeta.report import evidence, wordxml

NBSP = "\u00a0"

#: Cell padding (left + right, cm).
PADDING = 0.38
#: Arial's advance widths (em; metric-compatible with Helvetica and Liberation Sans, which
#: LibreOffice substitutes): narrow marks and letters, wide capitals, everything else 0.556 (digits
#: and most lower-case letters). Bold text is counted 8% wider, every word 5% wider for safety.
_EM = {**dict.fromkeys("ijlI.,;:'!|[]()/ \u00a0tf", 0.278), **dict.fromkeys("r-*", 0.333),
       **dict.fromkeys("mMW%", 0.889), "w": 0.722, **dict.fromkeys("ABCDEFGHKNOPQRSTUVXYZ&", 0.722)}
BOLD, SAFETY = 1.08, 1.05


def text_cm(text: str, size_pt: float, bold: bool = False) -> float:
    """Printed width of ``text`` in Arial at ``size_pt`` (cm)."""
    em = sum(_EM.get(c, 0.556) for c in text)
    return em * size_pt / 72 * 2.54 * SAFETY * (BOLD if bold else 1.0)


#: A cell that is only numbers: a ratio with its interval, a percentage, a count, a pair of counts
#: ('169 / 172', '? / 172'), 'k = 3', the '*' of a CI computed from the derived SE.
_NUMERIC = re.compile(r"[\d.,%\[\]\s/*?\u2265\u2264<>=k\u2212-]*\d[\d.,%\[\]\s/*?\u2265\u2264<>=k\u2212-]*")


def keep_intervals(text: str) -> str:
    """'0.65 [0.50, 0.85]' never breaks inside (non-breaking spaces), as the HTML report does."""
    return evidence._INTERVAL.sub(lambda m: m.group(0).replace(" ", NBSP), text)


def numeric_columns(rows: list[list[str]]) -> list[bool]:
    """Per column: every non-empty body cell is a number (such a column is right-aligned)."""
    if not rows:
        return []
    out = []
    for j in range(len(rows[0])):
        cells = [str(r[j]).strip() for r in rows if str(r[j]).strip()]
        out.append(bool(cells) and all(_NUMERIC.fullmatch(c.replace(NBSP, ' ')) for c in cells))
    return out


def _words(text: str) -> list[str]:
    """The pieces a line may not break inside: words, cut after a hyphen (Word and LibreOffice
    break 'AKT-pathway-altered' there)."""
    return [piece for w in text.split(" ") for piece in re.findall(r"[^-]*-|[^-]+", w)]


def column_widths(header: list[str], rows: list[list[str]], total: float, size: float) -> list[float]:
    """Widths (cm) summing to ``total``: every column at least as wide as its longest word (an
    interval such as '0.65 [0.50, 0.85]' counts as one word, a hyphenated word as its parts), the
    rest of the width shared in proportion to how much more each column's longest line (up to 40
    characters) would need."""
    least, wish = [], []
    four = text_cm("0000", size)
    for j, h in enumerate(header):
        texts = [str(r[j]) for r in rows]
        word = max([text_cm(w, size) for t in texts for w in _words(keep_intervals(t))]
                   + [text_cm(w, size, bold=True) for w in _words(str(h))] + [four])
        longest = max([text_cm(t[:40], size) for t in texts] + [text_cm(str(h)[:40], size, bold=True)])
        least.append(word + PADDING)
        wish.append(max(longest, word) + PADDING)
    if sum(least) >= total:  # cannot fit every word: shrink in proportion (words will break)
        return [w * total / sum(least) for w in least]
    if sum(wish) <= total:
        return [w * total / sum(wish) for w in wish]
    spare, extra = total - sum(least), [w - m for w, m in zip(wish, least)]
    return [m + spare * e / sum(extra) for m, e in zip(least, extra)]


def add_table(doc, header: list[str], rows: list[list[str]], width_cm: float, size: float,
              bold_rows: list[bool] | None = None):
    """A real Word table with fixed column widths summing to ``width_cm``, the header repeated on
    every page, no row split across pages, numeric columns right-aligned."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    widths = column_widths(header, rows, width_cm, size)
    numeric = numeric_columns(rows)
    table = doc.add_table(rows=1 + len(rows), cols=len(header))
    table.style = "Table Grid"
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    wordxml.fixed_layout(table, width_cm, PADDING / 2)
    for j, w in enumerate(widths):
        table.columns[j].width = Cm(w)
    for i, values in enumerate([header, *rows]):
        row = table.rows[i]
        wordxml.cant_split(row)
        bold = i == 0 or bool(bold_rows and bold_rows[i - 1])
        for j, value in enumerate(values):
            cell = row.cells[j]
            cell.width = Cm(widths[j])
            para = cell.paragraphs[0]
            para.paragraph_format.space_after = Pt(0)
            para.paragraph_format.space_before = Pt(0)
            para.paragraph_format.line_spacing = 1.0
            if numeric and numeric[j]:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            run = para.add_run(keep_intervals(str(value)))
            run.font.size = Pt(size)
            run.bold = bold
    wordxml.repeat_header(table.rows[0])
    return table

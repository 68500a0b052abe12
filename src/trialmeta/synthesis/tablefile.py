"""Reading the tables people have: CSV with ``,`` ``;`` or tab, decimal commas, and .xlsx sheets.

Pure: the CLI reads the file (:func:`trialmeta.io.read_text` / :func:`trialmeta.io.read_bytes`)
and passes the content here. Every row keeps the line it starts on (CSV, header = line 1) or
its spreadsheet row number, so every problem can be located.

* Delimiter: the one of ``,``, ``;`` and tab found most often, outside quotes, in the header
  line (ties: the comma), unless given.
* Decimal comma: with ``;`` or tab as delimiter, fields like ``0,85`` or ``-1,2`` are read as
  0.85 and -1.2 (never with ``,`` as delimiter, where they would be two fields). A field such
  as ``1,234`` (a thousands separator, or a decimal comma?) is read as 1.234 only beside
  commas that cannot separate thousands (``0,85``) and no decimal point; else it is refused
  unless ``decimal`` says.
* .xlsx (pandas + openpyxl): the first sheet unless one is named; the first non-empty row is
  the header; cells keep their types (numbers stay numbers).
"""

from __future__ import annotations

import csv
import io
import re

from trialmeta.errors import InputError, Problem

DELIMITERS = (",", ";", "\t")
DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
#: ``1,234`` or ``-12,345,678``: a thousands separator as well as a decimal comma could be meant.
DECIMAL_POINT = re.compile(r"^\s*[-+]?\d*\.\d+\s*$")
THOUSANDS_FIELD = re.compile(r"^\s*[-+]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?\s*$")


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: the most frequent of ``,``, ``;``, tab outside quotes."""
    first = next((ln for ln in text.removeprefix("\ufeff").splitlines() if ln.strip()), "")
    outside, quoted = [], False
    for ch in first:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(ch)
    counts = {d: outside.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def csv_rows(text: str, name: str, delimiter: str | None = None, decimal: str | None = None):
    """(header line, header, [(line, fields)], decimal_comma) of a delimited text; blank lines skipped.

    ``decimal``: None (decimal commas recognised as the module says, but a field such as ``1,234``,
    which could be either, refused), ``"comma"`` or ``"point"`` (``,`` separates thousands)."""
    delim = delimiter or sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=delim)
    header, rows, end = None, [], 0
    try:
        for fields in reader:
            start, end = end + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if header is None:
                header = (start, [f.strip() for f in fields])
            else:
                rows.append((start, fields))
    except csv.Error as exc:
        raise InputError([Problem(name, reader.line_num, "", f"not valid CSV: {exc}")]) from None
    if decimal == "point":
        return header, [(ln, [f.replace(",", "") if THOUSANDS_FIELD.match(f) else f for f in fields])
                        for ln, fields in rows], False
    comma = delim != "," and any(DECIMAL_COMMA.match(f) for _, fields in rows for f in fields)
    if comma and decimal is None:
        ambiguous = next(((ln, f) for ln, fields in rows for f in fields if THOUSANDS_FIELD.match(f)), None)
        # '1,234' reads as a decimal comma only beside commas that cannot be thousands ('0,85',
        # '12,5') and no decimal point anywhere ('12.5' says the ',' separates thousands)
        sure = any(DECIMAL_COMMA.match(f) and not THOUSANDS_FIELD.match(f) for _, fields in rows for f in fields)
        point = any(DECIMAL_POINT.match(f) for _, fields in rows for f in fields)
        if ambiguous is not None and (point or not sure):
            raise InputError([Problem(name, ambiguous[0], "", f"{ambiguous[1].strip()!r} may be a number with a "
                                      "thousands separator or with a decimal comma; say which with --decimal point "
                                      "(',' separates thousands) or --decimal comma")])
    if comma:
        rows = [(ln, [f.replace(",", ".") if DECIMAL_COMMA.match(f) else f for f in fields]) for ln, fields in rows]
    return header, rows, comma


#: A table of studies in a spreadsheet fits well within these (checked before the sheet is read:
#: a 4.9 KB workbook with one cell at XFD1048576 made pandas build a 5.7 GB grid).
MAX_XLSX_ROWS = 100_000
MAX_XLSX_COLUMNS = 500


def _check_dimensions(data: bytes, name: str, sheet: str | None) -> None:
    """Refuse a sheet whose cells reach beyond :data:`MAX_XLSX_ROWS` x :data:`MAX_XLSX_COLUMNS`,
    before anything is read into memory: the sheet's XML is streamed and the reference of every
    row and cell looked at (its declared dimension may lie); the scan stops at the first one out
    of bounds."""
    import xml.etree.ElementTree as ET

    import openpyxl
    from openpyxl.utils.cell import coordinate_from_string, column_index_from_string

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - not a workbook: pandas below says so, located
        return
    try:
        if sheet is not None and sheet not in book.sheetnames:
            return
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        with ws._get_source() as source:  # (openpyxl's read-only sheet: its XML part in the archive)
            for _, el in ET.iterparse(source, events=("start",)):
                ref = el.get("r") if el.tag.endswith(("}c", "}row")) else None
                if ref is None:
                    continue
                try:
                    col, row = coordinate_from_string(ref) if el.tag.endswith("}c") else ("A", int(ref))
                    width = column_index_from_string(col)
                except ValueError:
                    continue
                if row > MAX_XLSX_ROWS or width > MAX_XLSX_COLUMNS:
                    raise InputError([Problem(name, row, "", f"the sheet reaches {'cell ' + ref if width > 1 else f'row {row}'}; "
                                              f"tables are limited to {MAX_XLSX_ROWS:,} rows and {MAX_XLSX_COLUMNS} "
                                              "columns (delete what lies beyond the table)")])
    except (ET.ParseError, KeyError, OSError):
        return  # a damaged sheet: pandas below says so
    finally:
        book.close()


def xlsx_rows(data: bytes, name: str, sheet: str | None = None):
    """(header row, header, [(row, cells)]) of a sheet of an .xlsx workbook (row numbers as Excel shows them)."""
    import pandas as pd

    _check_dimensions(data, name, sheet)
    try:
        frame = pd.read_excel(io.BytesIO(data), sheet_name=sheet if sheet is not None else 0, header=None,
                              dtype=object, engine="openpyxl")
    except ValueError as exc:  # unknown sheet: list the workbook's
        raise InputError([Problem(name, None, "", f"cannot read sheet: {exc}{_sheets(data)}")]) from None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a file that is not a workbook
        raise InputError([Problem(name, None, "", f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})")]) \
            from None
    header, rows = None, []
    for i, values in enumerate(frame.itertuples(index=False, name=None)):
        cells = ["" if pd.isna(v) else v for v in values]
        if not any(str(c).strip() for c in cells):
            continue
        if header is None:
            header = (i + 1, [str(c).strip() for c in cells])
        else:
            rows.append((i + 1, cells))
    if header is not None:  # drop trailing unnamed columns (empty header cells with empty data)
        keep = [j for j, h in enumerate(header[1]) if h or any(str(r[1][j]).strip() for r in rows)]
        header = (header[0], [header[1][j] for j in keep])
        rows = [(ln, [cells[j] for j in keep]) for ln, cells in rows]
    return header, rows


def records(header, rows, name: str, mapping: dict | None = None, canonical=None):
    """``[(line, {canonical column: value})]`` from a header and rows, checking field counts and names.

    ``canonical(columns, mapping)`` maps the file's column names (see
    :func:`trialmeta.synthesis.owndata.canonical`).
    """
    from trialmeta.io import CONTROL_IN_CELL

    hline, cols = header
    problems = [Problem(name, hline, c, "duplicate column name") for i, c in enumerate(cols) if c and c in cols[:i]]
    problems += [Problem(name, hline, repr(c), f"control character U+{ord(m.group()):04X} in a column name; remove it")
                 for c in cols if (m := CONTROL_IN_CELL.search(c))]
    for canon, original in (mapping or {}).items():
        if original not in cols:
            problems.append(Problem(name, hline, original, f"--col {canon}={original}: no such column; columns are "
                                    f"{', '.join(cols)}"))
    if problems:
        raise InputError(problems)
    names = canonical(cols, mapping)
    seen: dict[str, str] = {}
    for c in cols:  # 'HR' and 'hr', or 'HR' and 'Hazard ratio': never silently one of them
        if names[c] in seen:
            problems.append(Problem(name, hline, c, f"columns {seen[names[c]]!r} and {c!r} both give "
                                    f"{names[c]!r}; keep one (or name the one to use with --col {names[c]}=...)"))
        seen.setdefault(names[c], c)
    if problems:
        raise InputError(problems)
    out = []
    for line, fields in rows:
        bad = next(((c, m) for c, f in zip(cols, fields) if isinstance(f, str) and (m := CONTROL_IN_CELL.search(f))),
                   None)
        if bad is not None:  # a terminal escape (ESC [ ...) would act on the terminal; a bidi override on reports
            problems.append(Problem(name, line, bad[0], f"control character U+{ord(bad[1].group()):04X} in the "
                                    "value; remove it"))
            continue
        if len(fields) != len(cols):
            problems.append(Problem(name, line, "", f"expected {len(cols)} fields, found {len(fields)}"))
            continue
        out.append((line, {names[c]: (f.strip() if isinstance(f, str) else f) for c, f in zip(cols, fields)}))
    if problems:
        raise InputError(problems)
    return out


def _sheets(data: bytes) -> str:
    """'; its sheets are: A, B' (for a sheet error), or '' when the workbook cannot be listed."""
    import pandas as pd

    try:
        names = pd.ExcelFile(io.BytesIO(data), engine="openpyxl").sheet_names
    except Exception:  # noqa: BLE001 - the error being reported is the sheet's, not this one
        return ""
    return f"; its sheets are: {', '.join(map(str, names))} (--sheet NAME)"

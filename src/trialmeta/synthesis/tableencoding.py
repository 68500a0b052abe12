"""The text of a table file whatever spreadsheet saved it: UTF-8 (with or without a byte-order mark), or the
Windows code page Excel uses for "CSV (comma delimited)" on Western-European systems (Windows-1252, a superset of
Latin-1 for every printable character), read with a note; or the encoding the user names (``--encoding``).

Pure: the CLI reads the bytes (:func:`trialmeta.io.read_input_bytes`) and passes them here.
"""

from __future__ import annotations

import codecs

from trialmeta.errors import InputError, Problem

FALLBACK = "cp1252"


def decode_table(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str | None]:
    """``(text, note)``: the decoded text and, when it was not UTF-8 and no ``encoding`` was given, a note saying
    how it was read. A located :class:`InputError` for UTF-16, binary data, an unknown encoding or bytes the named
    encoding cannot decode."""
    def fail(message: str) -> InputError:
        return InputError([Problem(name, None, "", message)])

    if data.startswith((b"\xff\xfe", b"\xfe\xff")) and encoding is None:
        raise fail("UTF-16 text; save the file as UTF-8 (in a spreadsheet: CSV UTF-8), or pass --encoding utf-16")
    nul = data.find(b"\0")
    if nul >= 0 and encoding is None:
        raise fail(f"binary data (a NUL byte at byte {nul}); expected a text file (CSV)")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise fail(f"--encoding {encoding}: unknown encoding (e.g. utf-8, cp1252, latin-1)") from None
        try:
            return data.decode(encoding), None
        except UnicodeDecodeError as exc:
            raise fail(f"not {encoding} text ({exc.reason} at byte {exc.start})") from None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        first = exc.start
    try:
        text = data.decode(FALLBACK)
    except UnicodeDecodeError:
        text, used = data.decode("latin-1"), "Latin-1 (ISO 8859-1)"
    else:
        used = "Windows-1252 (Excel's CSV on Western-European Windows)"
    return text, (f"{name}: not UTF-8 (byte {first}); read as {used}: check accented names, or pass --encoding")

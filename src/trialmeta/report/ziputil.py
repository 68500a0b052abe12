"""Deterministic Office files: DOCX and XLSX are zip archives with dates inside.

python-docx and openpyxl stamp each zip entry with the current time and write the save time
into ``docProps/core.xml``; :func:`normalise` rewrites the archive with a fixed entry time
(1980-01-01, the zip format's epoch) and fixed document dates, so an unchanged input gives
a byte-identical file.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

FIXED_DATETIME = dt.datetime(2000, 1, 1, 0, 0, 0)
_W3CDTF = FIXED_DATETIME.strftime("%Y-%m-%dT%H:%M:%SZ")
_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def normalise(data: bytes) -> bytes:
    """The same archive with fixed entry times and fixed created/modified dates."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _DATES.sub(lambda m: m.group(1) + _W3CDTF.encode() + m.group(3), body)
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, body)
    return out.getvalue()

"""Issue 29, bounded resources: texts that reach a figure have a length limit checked by validate
(a 20,000-character acronym passed and drove a drawing worker to 12 GB), and a spreadsheet's
extent is checked before it is read (a 4.9 KB .xlsx with one cell at XFD1048576 reached 5.7 GB).
Both refused, located, in well under a second."""

from __future__ import annotations

import io
import shutil
import time

import pytest

from conftest import DATA


@pytest.mark.parametrize("old, new, where", [
    ("acronym: ", "acronym: " + "A" * 20_000 + "  # ", "acronym: string should have at most 40 characters"),
    ("    label: ", "    label: " + "x" * 500 + "  # ", "label: string should have at most 120 characters"),
    ("    citation: ", "    citation: " + "c" * 2_001 + "  # ", "citation: string should have at most 2000 characters"),
])
def test_long_texts_are_refused_by_validate_with_their_line(tmp_path, run_cli, old, new, where):
    text = (DATA / "valid" / "minimal.yaml").read_text()
    assert old in text
    reg = tmp_path / "reg"
    reg.mkdir()
    (reg / "minimal.yaml").write_text(text.replace(old, new, 1))
    start = time.perf_counter()
    code, _, err = run_cli("validate", reg, cwd=tmp_path)
    assert time.perf_counter() - start < 1.0
    assert code == 1 and where in err, err[:500]
    assert "reg/minimal.yaml:" in err and len(err) < 1_000  # located, and the value not repeated in full


def _bomb() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["study", "log_hr", "se"])
    sheet.append(["A", -0.2, 0.1])
    sheet.append(["B", -0.3, 0.2])
    sheet["XFD1048576"] = "x"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_a_spreadsheet_cell_bomb_is_refused_before_reading():
    from trialmeta.errors import InputError
    from trialmeta.synthesis.tablefile import xlsx_rows

    data = _bomb()
    assert len(data) < 6_000
    start = time.perf_counter()
    with pytest.raises(InputError) as caught:
        xlsx_rows(data, "bomb.xlsx")
    assert time.perf_counter() - start < 1.0
    p = caught.value.problems[0]
    assert p.line == 1_048_576 and "tables are limited to 100,000 rows and 500 columns" in p.message, p


def test_a_wide_sheet_is_refused_naming_the_cell():
    import openpyxl

    from trialmeta.errors import InputError
    from trialmeta.synthesis.tablefile import xlsx_rows

    book = openpyxl.Workbook()
    book.active.append(["study", "log_hr", "se"])
    book.active["ZZ2"] = 1  # column 702
    buf = io.BytesIO()
    book.save(buf)
    with pytest.raises(InputError, match="the sheet reaches cell ZZ2"):
        xlsx_rows(buf.getvalue(), "wide.xlsx")


def test_pool_table_refuses_the_bomb_with_exit_1(tmp_path, run_cli):
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(_bomb())
    code, out, err = run_cli("pool-table", path)
    assert code == 1 and "bomb.xlsx:1048576: the sheet reaches row 1048576" in err, err

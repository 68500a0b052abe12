"""`km:` paths in a trial file are relative to it, stay inside the registry folder and name
regular files; anything else is a located error that never shows a byte of the file named."""

from __future__ import annotations

import os

import pytest

from conftest import DATA

MINIMAL = (DATA / "valid" / "minimal.yaml").read_text()
SECRET = "TOP-SECRET-LINE"


def _trial(tmp_path, curves: str, at_risk: str = "km/at-risk.csv"):
    reg = tmp_path / "registry"
    (reg / "km").mkdir(parents=True)
    (tmp_path / "outside.csv").write_text(f"{SECRET}\n")
    block = (f"    hr: 0.58\n    km:\n      curves: {curves}\n      at_risk: {at_risk}\n"
             "      source: jones2020\n      figure: Figure 2\n")
    path = reg / "minimal.yaml"
    path.write_text(MINIMAL.replace("    hr: 0.58\n", block, 1))
    line = MINIMAL.index("    hr: 0.58\n")
    return reg, MINIMAL[:line].count("\n") + 3  # the line of `curves:`


@pytest.mark.parametrize("curves, setup, message", [
    ("/proc/self/environ", None, "'/proc/self/environ' must be a path relative to the trial file"),
    ("../outside.csv", None, "'../outside.csv' must be a path relative to the trial file"),
    ("km/link.csv", "symlink", "'km/link.csv' leads outside the registry folder"),
    ("km", None, "cannot read registry/km: not a regular file"),
    ("km/pipe.csv", "fifo", "cannot read registry/km/pipe.csv: not a regular file"),
    ("km/binary.csv", "binary", "binary data (a NUL byte at byte 3)"),
    ("km/utf16.csv", "utf16", "UTF-16 text; save the file as UTF-8"),
    ("km/missing.csv", None, "file not found"),
])
def test_a_km_path_that_may_not_be_read_is_a_located_error(tmp_path, run_cli, curves, setup, message):
    reg, line = _trial(tmp_path, curves)
    if setup == "symlink":
        (reg / "km" / "link.csv").symlink_to(tmp_path / "outside.csv")
    elif setup == "fifo":
        os.mkfifo(reg / "km" / "pipe.csv")  # opening it would block: it must never be opened
    elif setup == "binary":
        (reg / "km" / "binary.csv").write_bytes(b"arm\0time\n")
    elif setup == "utf16":
        (reg / "km" / "utf16.csv").write_text("arm,time,survival\n", encoding="utf-16")
    (reg / "km" / "at-risk.csv").write_text("arm,time,n_at_risk\n")
    code, _, err = run_cli("validate", reg / "minimal.yaml", cwd=tmp_path)
    assert code == 1, err
    assert f"registry/minimal.yaml:{line}: results[0].km.curves: " in err and message in err, err
    assert SECRET not in err and "internal error" not in err

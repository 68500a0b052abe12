"""Failures of the environment (a full or read-only disk, a terminal that cannot show the
output) and unreadable inputs end in exit 1 with a message, never the internal-error exit 3,
and refresh leaves the previous outputs exactly as they were."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from conftest import ROOT, copy_tree
from tiny_registry import refreshed_tiny, complete, snapshot, tiny_registry


@pytest.fixture(scope="module")
def _built_once(tmp_path_factory):
    return refreshed_tiny(tmp_path_factory.mktemp("env"))


@pytest.fixture
def built(_built_once, tmp_path):
    import shutil

    copy_tree(_built_once, tmp_path / "w", symlinks=True)
    return tmp_path / "w"


def _oserror(code: int):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code), "outputs/some-file")
    return fail


@pytest.mark.parametrize("where, code", [("write_text", errno.ENOSPC), ("write_manifest", errno.ENOSPC),
                                         ("owned_dir", errno.ENOSPC), ("write_text", errno.EDQUOT),
                                         ("owned_dir", errno.EROFS), ("write_manifest", errno.EACCES)])
def test_a_disk_that_fails_leaves_the_previous_outputs(built, run_cli, monkeypatch, where, code):
    import trialmeta.io as io_mod
    import trialmeta.outdir.swap as outdir

    before = snapshot(built)
    if where == "write_text":
        monkeypatch.setattr(io_mod, "write_text", _oserror(code))
    elif where == "write_manifest":
        monkeypatch.setattr(outdir, "write_manifest", _oserror(code))
    else:
        monkeypatch.setattr(outdir, "_owned_dir", _oserror(code))
    status, _, err = run_cli("refresh", "--quiet", "--as-of", "2021-06", cwd=built)
    assert status == 1, err
    assert os.strerror(code) in err and "internal error" not in err and "nothing was changed" in err
    assert snapshot(built, skip=(".outputs.trialmeta-lock",)) == {k: v for k, v in before.items()
                                                                   if not k.startswith(".outputs.trialmeta-lock")}


def test_a_read_only_output_folder_is_exit_1(tmp_path, run_cli):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders; the monkeypatched variants above cover this")
    tiny_registry(tmp_path)
    (tmp_path / "ro").mkdir(mode=0o555)
    code, _, err = run_cli("refresh", "--quiet", "--out", "ro/outputs", cwd=tmp_path)
    assert code == 1 and "Permission denied" in err


def _cli(args, cwd, **env):
    full = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **env}
    return subprocess.run([sys.executable, "-m", "trialmeta", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, encoding="utf-8", errors="replace")


def test_a_terminal_that_cannot_show_the_output_is_exit_1_with_advice(tmp_path):
    table = tmp_path / "effects.csv"
    table.write_text("study,log_hr,se\nA,-0.5,0.2\nB,-0.2,0.1\nC,0.1,0.2\n")
    proc = _cli(["pool-table", str(table)], tmp_path, PYTHONIOENCODING="ascii")
    assert proc.returncode == 1, proc.stderr
    assert "'τ'" in proc.stderr or "cannot represent" in proc.stderr
    assert "PYTHONIOENCODING=utf-8" in proc.stderr and "internal error" not in proc.stderr
    ok = _cli(["pool-table", str(table)], tmp_path, LANG="C", LC_ALL="C")  # Python coerces the C locale to UTF-8
    assert ok.returncode == 0 and "τ²" in ok.stdout, ok.stderr


@pytest.mark.parametrize("content, message", [
    ("study,log_hr,se\nA,-0.5,0.2\n".encode("utf-16"), "UTF-16 text; save the file as UTF-8"),
    (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "binary data (a NUL byte at byte 8)"),
])
def test_an_unreadable_effects_table_is_a_located_error(tmp_path, run_cli, content, message):
    table = tmp_path / "effects.csv"
    table.write_bytes(content)
    code, _, err = run_cli("pool-table", table)
    assert code == 1 and f"{table}: {message}" in err, err


def test_a_windows_1252_table_is_read_with_a_note(tmp_path, run_cli):
    """Excel's "CSV (comma delimited)" on a German or French Windows writes Windows-1252: read, and said so."""
    table = tmp_path / "effects.csv"
    table.write_bytes("study,log_hr,se\nMüller,-0.5,0.2\nGötz,-0.2,0.1\nBéla,0.1,0.2\n".encode("cp1252"))
    code, out, err = run_cli("pool-table", table)
    assert code == 0, err
    assert "Müller" in out and "Götz" in out and "Béla" in out
    assert f"Note: {table}: not UTF-8 (byte 17); read as Windows-1252 (Excel's CSV on Western-European Windows)" in out
    code, _, err = run_cli("pool-table", table, "--encoding", "utf-8")
    assert code == 1 and f"{table}: not utf-8 text (invalid start byte at byte 17)" in err, err
    code, out, _ = run_cli("pool-table", table, "--encoding", "latin-1")
    assert code == 0 and "Müller" in out and "not UTF-8" not in out
    code, _, err = run_cli("pool-table", table, "--encoding", "klingon")
    assert code == 2 and "--encoding klingon: unknown encoding" in err


def test_a_directory_or_device_as_effects_table_is_refused(tmp_path, run_cli):
    code, _, err = run_cli("pool-table", "/dev/zero")
    assert code in (1, 2) and "internal error" not in err, err


def test_refresh_still_works_after_the_failures(built, run_cli):
    code, _, err = run_cli("refresh", "--quiet", "--as-of", "2021-06", cwd=built)
    assert code == 0, err
    assert complete(built / "outputs")

"""`refresh --out` replaces only a folder trialmeta wrote; everything else survives untouched.

A folder is trialmeta's when it holds `.trialmeta-outputs` listing every file in it. Any other
existing path (a user's folder, the registry, the working directory, a file, a symbolic link,
a trialmeta folder someone added a file to) is refused with exit 1 before any work, and no
file anywhere changes. Leftovers of interrupted runs are removed only when their owner is gone.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from tiny_registry import complete, snapshot, tiny_registry

MANIFEST = ".trialmeta-outputs"


@pytest.fixture
def work(tmp_path):
    tiny_registry(tmp_path)
    (tmp_path / "mydocs").mkdir()
    (tmp_path / "mydocs" / "thesis.txt").write_text("years of work\n")
    (tmp_path / "notes.txt").write_text("a file\n")
    return tmp_path


def _refuses(run_cli, work, out: str, why: str):
    before = snapshot(work)
    code, _, err = run_cli("refresh", "--quiet", "--out", out, cwd=work)
    assert code == 1, err
    assert f"--out {out}" in err and why in err and "nothing was changed" in err, err
    assert snapshot(work) == before


@pytest.mark.parametrize("out, why", [
    ("mydocs", "was not written by trialmeta"),
    ("trials", "was not written by trialmeta"),
    (".", "was not written by trialmeta"),
    ("notes.txt", "is a file, not a folder"),
    ("notes.txt/sub", "is not a folder"),
])
def test_a_path_trialmeta_did_not_write_is_refused(work, run_cli, out, why):
    _refuses(run_cli, work, out, why)


def test_a_symbolic_link_is_refused_even_to_a_trialmeta_folder(work, run_cli):
    assert run_cli("refresh", "--quiet", "--out", "real", cwd=work)[0] == 0
    (work / "link").symlink_to(work / "real")
    _refuses(run_cli, work, "link", "is a symbolic link")


def test_a_file_added_to_outputs_blocks_the_refresh_until_moved(work, run_cli):
    assert run_cli("refresh", "--quiet", cwd=work)[0] == 0
    (work / "outputs" / "tables" / "my-notes.md").write_text("mine\n")
    _refuses(run_cli, work, "outputs", "holds files trialmeta did not write: tables/my-notes.md")
    (work / "outputs" / "tables" / "my-notes.md").unlink()
    assert run_cli("refresh", "--quiet", cwd=work)[0] == 0


def test_a_manifest_that_is_not_trialmeta_s_is_refused(work, run_cli):
    (work / "mydocs" / MANIFEST).write_text("thesis.txt\n")
    _refuses(run_cli, work, "mydocs", "is not a trialmeta manifest")


def test_new_empty_and_own_folders_are_written(work, run_cli):
    (work / "empty").mkdir()
    for out in ("empty", "new/deeper/out", "outputs", "outputs"):
        code, _, err = run_cli("refresh", "--quiet", "--out", out, cwd=work)
        assert code == 0, err
        assert complete(work / out)
    assert (work / "mydocs" / "thesis.txt").read_text() == "years of work\n"


def test_the_committed_outputs_folder_is_trialmeta_s():
    from conftest import ROOT
    from trialmeta.outdir import check_target

    check_target(ROOT / "outputs")  # raises if a refresh would refuse the repository's own outputs/


def test_user_folders_with_lookalike_names_survive(work, run_cli):
    """Folders named like old staging folders but not trialmeta's (no owner file) are kept."""
    for name in ("outputs.tmp-1", "outputs.old-1", ".outputs.trialmeta-old-1-0123abcd",
                 ".outputs.trialmeta-staging-1-0123abcd"):
        (work / name).mkdir()
        (work / name / "keep.txt").write_text(name)
    assert run_cli("refresh", "--quiet", cwd=work)[0] == 0
    for name in ("outputs.tmp-1", "outputs.old-1", ".outputs.trialmeta-old-1-0123abcd",
                 ".outputs.trialmeta-staging-1-0123abcd"):
        assert (work / name / "keep.txt").read_text() == name


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_leftovers_are_cleaned_only_when_their_owner_is_gone(work, run_cli):
    dead, alive = _dead_pid(), os.getppid()
    for pid in (dead, alive):
        stage = work / f".outputs.trialmeta-staging-{pid}-0123abcd"
        stage.mkdir()
        (stage / ".trialmeta-owner").write_text(f"{pid} \n")
        (stage / "half.csv").write_text("x\n")
    assert run_cli("refresh", "--quiet", cwd=work)[0] == 0
    assert not (work / f".outputs.trialmeta-staging-{dead}-0123abcd").exists()
    assert (work / f".outputs.trialmeta-staging-{alive}-0123abcd" / "half.csv").exists()


def test_killed_between_two_renames_the_previous_outputs_come_back(work, run_cli):
    assert run_cli("refresh", "--quiet", cwd=work)[0] == 0
    before = snapshot(work / "outputs")
    (work / "outputs").rename(work / f".outputs.trialmeta-old-{_dead_pid()}-0123abcd")
    from trialmeta.outdir import recover

    recover(work / "outputs")
    assert snapshot(work / "outputs") == before


def test_a_mount_point_gets_its_contents_swapped(work, run_cli, monkeypatch):
    """Where the folder itself cannot be renamed (a mount point), its entries are swapped."""
    import trialmeta.outdir.swap as outdir

    real_ismount = os.path.ismount
    monkeypatch.setattr(outdir.os.path, "ismount", lambda p: str(p).endswith("mnt") or real_ismount(p))
    (work / "mnt").mkdir()
    for as_of in ("2020-06", "2021-06"):
        code, _, err = run_cli("refresh", "--quiet", "--out", "mnt", "--as-of", as_of, cwd=work)
        assert code == 0, err
        assert complete(work / "mnt") and as_of in (work / "mnt" / "evidence.json").read_text()
        assert not [p for p in (work / "mnt").iterdir() if p.name.startswith(".trialmeta-") and p.is_dir()]
        assert not [p for p in work.iterdir() if "trialmeta-staging" in p.name]


def test_an_exchange_refused_by_the_kernel_falls_back_to_swapping_contents(work, run_cli, monkeypatch):
    import trialmeta.outdir.swap as outdir

    assert run_cli("refresh", "--quiet", "--as-of", "2020-06", cwd=work)[0] == 0
    monkeypatch.setattr(outdir, "_exchange", lambda a, b: errno.EXDEV)
    code, _, err = run_cli("refresh", "--quiet", "--as-of", "2021-06", cwd=work)
    assert code == 0, err
    assert complete(work / "outputs") and "2021-06" in (work / "outputs" / "evidence.json").read_text()


def test_an_interrupted_content_swap_is_rolled_forward(work, run_cli, monkeypatch):
    """A failure half-way through swapping contents leaves a state the next refresh completes."""
    import trialmeta.outdir.swap as outdir

    monkeypatch.setattr(outdir.os.path, "ismount", lambda p: str(p).endswith("outputs"))
    assert run_cli("refresh", "--quiet", "--as-of", "2020-06", cwd=work)[0] == 0
    real_rename, calls = os.rename, []

    def flaky(a, b, *args, **kwargs):
        calls.append(a)
        if "trialmeta-staging" in str(a) and len([c for c in calls if "trialmeta-staging" in str(c)]) == 3:
            raise OSError(errno.EIO, "Input/output error", str(a))
        return real_rename(a, b, *args, **kwargs)

    monkeypatch.setattr(outdir.os, "rename", flaky)
    code, _, err = run_cli("refresh", "--quiet", "--as-of", "2021-06", cwd=work)
    assert code == 1 and "Input/output error" in err
    monkeypatch.setattr(outdir.os, "rename", real_rename)
    code, _, err = run_cli("refresh", "--quiet", "--as-of", "2021-06", cwd=work)
    assert code == 0, err
    assert complete(work / "outputs") and "2021-06" in (work / "outputs" / "evidence.json").read_text()


def test_forest_never_overwrites_a_file_it_did_not_write(work, run_cli):
    """`forest --out` adds figures to a folder: a same-named file of the user's is refused, the
    figures it wrote are recorded, so drawing again into that folder (or into outputs/forest
    after a refresh) works."""
    (work / "mydocs" / "minimal-pfs.svg").write_text("my own drawing\n")
    before = snapshot(work)
    code, _, err = run_cli("forest", "trials", "--format", "svg", "--out", "mydocs", cwd=work)
    assert code == 1 and "would overwrite files trialmeta did not write: minimal-pfs.svg" in err, err
    assert snapshot(work) == before
    for _ in range(2):
        code, _, err = run_cli("forest", "trials", "--format", "svg", "--out", "figures", cwd=work)
        assert code == 0, err
    assert (work / "figures" / ".trialmeta-outputs").read_text().endswith("\nminimal-pfs.svg\n")
    assert run_cli("refresh", "--quiet", cwd=work)[0] == 0
    code, _, err = run_cli("forest", "trials", "--format", "png", "--out", "outputs/forest", cwd=work)
    assert code == 0, err
    assert run_cli("refresh", "--quiet", cwd=work)[0] == 0  # outputs/ still holds only files trialmeta wrote


def test_a_read_only_parent_gets_the_contents_swapped(work, run_cli, monkeypatch):
    """When no staging folder can be made beside --out (its parent is read-only), refresh
    stages inside the folder and swaps its contents."""
    import trialmeta.outdir.swap as outdir

    assert run_cli("refresh", "--quiet", "--as-of", "2020-06", cwd=work)[0] == 0
    real = outdir._owned_dir

    def read_only_parent(path):
        if path.parent == work:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real(path)

    monkeypatch.setattr(outdir, "_owned_dir", read_only_parent)
    code, _, err = run_cli("refresh", "--quiet", "--as-of", "2021-06", cwd=work)
    assert code == 0, err
    assert complete(work / "outputs") and "2021-06" in (work / "outputs" / "evidence.json").read_text()
    assert not [p for p in (work / "outputs").iterdir() if p.name.startswith(".trialmeta-") and p.is_dir()]

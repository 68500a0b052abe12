"""Issue 29: a person's edits are never silently replaced, and refresh deletes only what its
owner record proves is its own.

* report.docx and evidence.xlsx changed since refresh wrote them (the SHA-256 it recorded in
  .cache/stamp.json): refresh and export refuse, exit 1, naming them, nothing changed; with
  --overwrite-edits they are replaced.
* A folder named like a content-swap leftover but holding no owner record is a person's:
  `--out mydocs` with `mydocs/.trialmeta-old-1-deadbeef/thesis.txt` is refused, the file kept
  (it was deleted with exit 0).
"""

from __future__ import annotations

import pytest

from tiny_registry import complete, snapshot, tiny_registry


@pytest.fixture
def built(tmp_path, run_cli):
    tiny_registry(tmp_path)
    code, _, err = run_cli("refresh", "--quiet", cwd=tmp_path)
    assert code == 0, err
    return tmp_path


@pytest.mark.parametrize("name", ["report.docx", "evidence.xlsx"])
def test_an_edited_deliverable_survives_a_refresh(built, run_cli, name):
    path = built / "outputs" / name
    edited = path.read_bytes() + b"\0my edit"  # in place, as Word or Excel saves it
    path.write_bytes(edited)
    before = snapshot(built)
    for args in (("refresh", "--quiet"), ("refresh", "--quiet", "--no-cache"), ("export",)):
        code, out, err = run_cli(*args, cwd=built)
        assert code == 1, (args, err)
        assert f"outputs/{name} changed since trialmeta wrote it" in err and "--overwrite-edits" in err, err
        assert "nothing was changed" in err
        assert snapshot(built) == before  # the edit, and everything else, as it was
    code, _, err = run_cli("refresh", "--quiet", "--overwrite-edits", cwd=built)
    assert code == 0, err
    assert path.read_bytes() != edited and complete(built / "outputs")
    code, out, err = run_cli("refresh", cwd=built)  # recorded again: no edit any more
    assert code == 0 and "up to date" in out, err


def test_an_unedited_or_deleted_deliverable_is_not_an_edit(built, run_cli):
    (built / "outputs" / "report.docx").unlink()
    code, _, err = run_cli("refresh", "--quiet", cwd=built)
    assert code == 0, err
    assert (built / "outputs" / "report.docx").is_file()


def test_a_lookalike_leftover_without_an_owner_record_is_never_deleted(built, run_cli):
    mine = built / "mydocs" / ".trialmeta-old-1-deadbeef"
    mine.mkdir(parents=True)
    (mine / "thesis.txt").write_text("years of work\n")
    before = snapshot(built)
    code, _, err = run_cli("refresh", "--quiet", "--out", "mydocs", cwd=built)
    assert code == 1 and "was not written by trialmeta" in err, err
    assert snapshot(built) == before
    # inside refresh's own folder too: listed as a file trialmeta did not write
    theirs = built / "outputs" / ".trialmeta-staging-1-deadbeef"
    theirs.mkdir()
    (theirs / "draft.txt").write_text("mine\n")
    code, _, err = run_cli("refresh", "--quiet", "--no-cache", cwd=built)
    assert code == 1 and ".trialmeta-staging-1-deadbeef/" in err, err
    assert (theirs / "draft.txt").read_text() == "mine\n"


def test_python_refresh_protects_edits_too(built, monkeypatch):
    import trialmeta as tm
    from trialmeta.errors import TrialmetaError

    monkeypatch.chdir(built)
    path = built / "outputs" / "report.docx"
    path.write_bytes(path.read_bytes() + b"\0edit")
    with pytest.raises(TrialmetaError, match="report.docx changed since trialmeta wrote it"):
        tm.refresh("trials", "outputs")
    assert path.read_bytes().endswith(b"\0edit")
    summary = tm.refresh("trials", "outputs", overwrite_edits=True, jobs=1)
    assert not path.read_bytes().endswith(b"\0edit") and summary is not None

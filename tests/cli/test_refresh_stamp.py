"""The whole-run key (``outputs/.cache/stamp.json``): a refresh with nothing changed writes nothing
and imports nothing heavy; any change to what the outputs depend on runs the refresh."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, cache_of, copy_tree
from trialmeta.pipeline import stamp

UP_TO_DATE = "is up to date"


@pytest.fixture
def work(refreshed, tmp_path) -> Path:
    copy_tree(refreshed, tmp_path / "w")
    return tmp_path / "w"


def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(out.rglob("*")) if p.is_file()}


def refresh(work: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "trialmeta", "refresh", *args], cwd=work, env=env,
                          capture_output=True, text=True)


def test_nothing_changed_writes_nothing_and_imports_nothing_heavy(work):
    before = snapshot(work / "outputs")
    probe = ("import sys, runpy; sys.argv = ['trialmeta', 'refresh'];\n"
             "try:\n    runpy.run_module('trialmeta', run_name='__main__')\n"
             "except SystemExit as e:\n    assert not e.code, e.code\n"
             "print(sorted(m for m in ('pandas', 'matplotlib', 'scipy', 'pymare', 'lifelines', 'numpy') "
             "if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-c", probe], cwd=work, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert UP_TO_DATE in proc.stdout and proc.stdout.strip().endswith("[]")
    assert snapshot(work / "outputs") == before  # not a byte, not a modification time


@pytest.mark.parametrize("change", ["output edited", "output added", "output removed", "comment added",
                                    "stamp damaged", "stamp huge"])
def test_any_change_runs_the_refresh_and_restores_what_a_refresh_writes(work, refreshed, change):
    """(A changed result is tests/cli/test_refresh_cache.py's; options and new files are in the key test.)"""
    out = work / "outputs"
    if change == "output edited":
        (out / "results.csv").write_text("edited by hand\n")
    elif change == "output added":
        (out / "tables" / "notes.txt").write_text("mine\n")
    elif change == "output removed":
        (out / "forest" / "pearl-pfs-ccne1.svg").unlink()
    elif change == "comment added":
        with open(work / "trials" / "pearl.yaml", "a", encoding="utf-8") as fh:
            fh.write("# checked against the publication again\n")
    elif change == "stamp damaged":
        (cache_of(out) / "stamp.json").write_text("{not json")
    else:  # a stamp far larger than ours is not parsed at all
        (cache_of(out) / "stamp.json").write_text('{"format": 1, "pad": "' + "x" * 21_000_000 + '"}')
    proc = refresh(work)
    if change == "output added":  # a file refresh did not write: refused, nothing touched
        assert proc.returncode == 1 and "notes.txt" in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    assert UP_TO_DATE not in proc.stdout and "refreshed" in proc.stdout
    fresh, ref = snapshot(out), snapshot(refreshed / "outputs")
    differ = {k for k in fresh.keys() | ref.keys() if fresh.get(k, (None,))[0] != ref.get(k, (None,))[0]}
    # the outputs as before; where an input file changed, only what records the inputs' fingerprint
    # (evidence.json, evidence.xlsx, the keys of the caches) differs
    allowed = {".cache/stamp.json", ".cache/manifest.json", "evidence.json", "evidence.xlsx"} \
        if change == "comment added" else {".cache/stamp.json"}
    assert differ <= allowed, sorted(differ)
    assert refresh(work).stdout.startswith("outputs is up to date")


def test_key_covers_code_libraries_options_and_style_sheets(tmp_path, monkeypatch):
    trials = tmp_path / "trials"
    trials.mkdir()
    (trials / "a.yaml").write_text("id: a\n")
    sheet = tmp_path / "house.mplstyle"
    sheet.write_text("axes.edgecolor: red\n")
    base = stamp.run_key(trials, None, None, {str(sheet): "x"})
    assert base == stamp.run_key(trials, None, None, {str(sheet): "y"})  # recorded hashes are re-computed
    (trials / "notes.txt").write_text("a file the registry may read\n")
    assert stamp.run_key(trials, None, None, {str(sheet): "x"}) != base
    (trials / "notes.txt").unlink()
    assert stamp.run_key(trials, "2024-01-01", None, {str(sheet): "x"}) != base
    sheet.write_text("axes.edgecolor: blue\n")
    assert stamp.run_key(trials, None, None, {str(sheet): "x"}) != base
    sheet.write_text("axes.edgecolor: red\n")
    from trialmeta.pipeline import cache

    monkeypatch.setattr(cache, "code_digest", lambda: "other code")
    assert stamp.run_key(trials, None, None, {str(sheet): "x"}) != base
    monkeypatch.undo()
    from importlib import metadata

    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda d: "99" if d == "matplotlib" else real(d))
    assert stamp.run_key(trials, None, None, {str(sheet): "x"}) != base


def test_a_style_sheet_edited_outside_the_registry_makes_the_outputs_stale(work):
    """The run records the style sheets it read by path (refresh._style_files); the next key
    re-hashes them."""
    from trialmeta.pipeline.refresh import _style_files
    from trialmeta.registry.analyses import load_analyses
    from trialmeta.registry.figstyle import StyleSpec

    sheet = work / "house.mplstyle"
    sheet.write_text("axes.edgecolor: 0.2\n")
    style = StyleSpec(stylesheet=str(sheet))
    depends = _style_files(load_analyses(work / "trials" / "analyses.yaml")[0], style)
    assert depends == {str(sheet): stamp._sha(sheet.read_bytes())}
    out = work / "outputs"
    stamp.write(out, stamp.run_key(work / "trials", None, style, depends), depends)
    assert stamp.up_to_date(out, stamp.run_key(work / "trials", None, style, stamp.recorded_depends(out)))
    sheet.write_text("axes.edgecolor: 0.3\n")
    assert not stamp.up_to_date(out, stamp.run_key(work / "trials", None, style, stamp.recorded_depends(out)))
    assert not stamp.up_to_date(out, stamp.run_key(work / "trials", None, None, stamp.recorded_depends(out)))


def test_no_cache_always_refreshes(work, run_cli, monkeypatch):
    calls = []
    monkeypatch.setattr("trialmeta.pipeline.refresh.refresh", lambda *a, **k: calls.append(k["cache"]) or "refreshed")
    assert run_cli("refresh", cwd=work)[1].startswith("outputs is up to date") and calls == []
    assert run_cli("refresh", "--no-cache", cwd=work)[:2] == (0, "refreshed\n") and calls == [False]

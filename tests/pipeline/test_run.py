"""``trialmeta.refresh``: the refresh pipeline called from Python writes what ``trialmeta refresh``
writes, returns what it did, and raises the errors the CLI maps to exit codes."""

from __future__ import annotations

import pytest

import trialmeta
from tiny_registry import snapshot, tiny_registry
from trialmeta.errors import InputError, TrialmetaError

TODAY = "2026-01-01"


def test_python_refresh_equals_the_command_byte_for_byte(tmp_path, run_cli, monkeypatch):
    trials = tiny_registry(tmp_path)
    monkeypatch.chdir(tmp_path)
    summary = trialmeta.refresh(trials="trials", out="api", jobs=1, today=TODAY)
    code, _, err = run_cli("refresh", "trials", "--out", "cli", "--jobs", "1", "--quiet", cwd=tmp_path)
    assert code == 0, err
    # the changelog's date is today's for the command: compare it apart
    api, cli = snapshot(tmp_path / "api", skip=("CHANGELOG.md",)), snapshot(tmp_path / "cli", skip=("CHANGELOG.md",))
    assert api == cli and "evidence.json" in api and any(k.startswith("forest/") for k in api)
    assert isinstance(summary, trialmeta.RefreshSummary) and not summary.up_to_date
    assert (summary.trials, summary.analyses, summary.results) == (1, 1, 2)  # minimal.yaml: one trial, two result rows
    assert summary.drawn > 0 and summary.reused == 0 and summary.figures > 0
    assert summary.changes is None  # a first refresh has nothing to compare with
    assert str(summary).startswith("refreshed api: 1 trials, 2 results, 1 analyses")
    assert trials.is_dir()


def test_a_second_refresh_is_up_to_date_and_writes_nothing(tmp_path):
    trials = tiny_registry(tmp_path)
    trialmeta.refresh(trials, tmp_path / "out", jobs=1, today=TODAY)
    before = snapshot(tmp_path / "out")
    again = trialmeta.refresh(trials, tmp_path / "out", jobs=1, today=TODAY)
    assert again.up_to_date and "is up to date" in str(again)
    assert snapshot(tmp_path / "out") == before
    cold = trialmeta.refresh(trials, tmp_path / "out", jobs=1, cache=False, style="journal", today=TODAY)
    assert not cold.up_to_date and cold.changes is None and cold.drawn > 0
    path = trials / "minimal.yaml"
    path.write_text(path.read_text().replace("hr: 0.58", "hr: 0.60").replace("[0.39, 0.84]", "[0.41, 0.87]"))
    moved = trialmeta.refresh(trials, tmp_path / "out", jobs=1, today=TODAY)
    assert moved.changes is not None and moved.changes in (tmp_path / "out" / "CHANGELOG.md").read_text()
    assert "changelog entry written" in str(moved) and moved.drawn > 0


def test_invalid_registry_raises_located_input_error_and_writes_nothing(tmp_path):
    trials = tiny_registry(tmp_path)
    path = trials / "minimal.yaml"
    path.write_text(path.read_text().replace("acronym:", "acronymm:", 1))
    with pytest.raises(InputError) as exc:
        trialmeta.refresh(trials, tmp_path / "out", jobs=1)
    assert any(p.file.endswith("minimal.yaml") and p.line for p in exc.value.problems)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"as_of": "2020-13"}, "as_of:"),
    ({"style": "poster"}, "style:"),
    ({"style": {"font_size": 99}}, "style:"),
])
def test_bad_options_raise_trialmeta_error(tmp_path, kwargs, message):
    trials = tiny_registry(tmp_path)
    with pytest.raises(TrialmetaError, match=message):
        trialmeta.refresh(trials, tmp_path / "out", jobs=1, **kwargs)
    assert not (tmp_path / "out").exists()


def test_caches_live_in_the_cache_folder_never_in_the_outputs(tmp_path):
    """outputs/ holds only what a reader uses; the figure manifest, the run stamp and the Word
    report's PNGs go to the cache folder (cache_dir, else $TRIALMETA_CACHE_DIR, else the user's)."""
    from trialmeta.pipeline import store

    trials = tiny_registry(tmp_path)
    out, caches = tmp_path / "out", tmp_path / "caches"
    first = trialmeta.refresh(trials, out, jobs=1, today=TODAY, cache_dir=caches)
    kept = store.folder(out, caches)
    assert kept.parent.parent == caches and {p.name for p in kept.iterdir()} == {"manifest.json", "stamp.json", "docx",
                                                                                   "parts"}
    assert not (out / ".cache").exists() and ".cache" not in (out / ".trialmeta-outputs").read_text()
    before = snapshot(out)
    again = trialmeta.refresh(trials, out, jobs=1, today=TODAY, cache=True, cache_dir=caches)
    assert again.up_to_date
    import shutil

    shutil.rmtree(caches)  # a lost cache costs a redraw, never a different output
    redrawn = trialmeta.refresh(trials, out, jobs=1, today=TODAY, cache_dir=caches)
    assert not redrawn.up_to_date and redrawn.drawn == first.drawn and redrawn.reused == 0
    assert snapshot(out) == before and kept.is_dir()

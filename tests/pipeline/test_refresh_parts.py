"""Refresh in proportion to the change: each analysis' pooled result, history, tables and scenes
are kept between refreshes (trialmeta.pipeline.parts), keyed by that analysis' own inputs; an
edit to one trial re-pools and re-renders only the analyses that name it, and a damaged or
stale cache entry is rebuilt, never used. Rebuilds are counted (spies), never timed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import TRIALS, cache_of, copy_tree

from trialmeta.pipeline import parts
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.load import load_registry

EDIT = ("    hr: 0.58\n    ci: [0.39, 0.84]\n", "    hr: 0.57\n    ci: [0.38, 0.85]\n")  # FAKTION's primary PFS


def all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def spies(monkeypatch):
    """What a refresh recomputes: the analyses pooled, those whose history is re-run, the evidence
    tables and forest scenes built."""
    import trialmeta.pipeline.compute as compute
    import trialmeta.pipeline.refresh as refresh
    import trialmeta.plot.forest as forest
    import trialmeta.report.evidence as evidence
    import trialmeta.pipeline.network_outputs as network_outputs
    import trialmeta.report.site as site

    seen = {"pooled": [], "history": [], "tables": [], "scenes": [], "pages": [], "networks": []}

    def spy(name, target, attr, arg):
        real = getattr(target, attr)

        def wrapper(*a, **k):
            seen[name].append(arg(a, k))
            return real(*a, **k)
        monkeypatch.setattr(target, attr, wrapper)

    spy("pooled", compute, "run_analyses", lambda a, k: set(k["only"]))
    spy("history", refresh, "evolution", lambda a, k: {r.name for r in a[2]})
    spy("tables", evidence, "to_csv", lambda a, k: a[0].name)
    spy("scenes", forest, "forest_scene", lambda a, k: a[0].name)
    spy("pages", site, "analysis_page", lambda a, k: a[0].name)
    spy("networks", network_outputs, "_section", lambda a, k: a[0].name)
    return seen


def naming(trials: Path, trial_id: str) -> set[str]:
    spec, _ = load_analyses(trials / "analyses.yaml")
    return {a.name for a in spec.analyses if trial_id in parts.named_trials(a)}


def test_an_edited_trial_repools_and_rerenders_only_the_analyses_that_name_it(refreshed, tmp_path, run_cli,
                                                                                spies):
    work = tmp_path / "w"
    copy_tree(refreshed, work)
    path = work / "trials" / "faktion.yaml"
    path.write_text(path.read_text().replace(*EDIT))
    code, _, err = run_cli("refresh", "--jobs", "1", cwd=work)
    assert code == 0, err
    touched = naming(work / "trials", "faktion")
    total = len(load_analyses(work / "trials" / "analyses.yaml")[0].analyses)
    assert 0 < len(touched) < total
    assert spies["pooled"] == [touched]
    assert spies["history"] == [touched]
    assert sorted(spies["tables"]) == sorted(touched)
    assert sorted(set(spies["scenes"])) == sorted(touched)  # (its web and Word scenes)
    assert sorted(spies["pages"]) == sorted(touched)  # analyses/<name>.html
    # the edited result (FAKTION's overall PFS) is in no network (they pool the biomarker subgroups' results):
    # their documents are unchanged, so no network's tables, section or figures are made again
    assert spies["networks"] == []
    assert f"pooled {total} analyses ({total - len(touched)} unchanged: their parts reused)" in err
    # (test_refresh_cache checks that such a refresh equals a cold one byte for byte)


def _forget_stamp(out: Path) -> None:
    (cache_of(out) / "stamp.json").unlink()  # the whole-run key: without it the refresh runs


@pytest.mark.parametrize("damage", ["garbage", "another analysis' part"])
def test_a_damaged_or_stale_part_is_recomputed_and_the_outputs_do_not_move(refreshed, tmp_path, run_cli, spies,
                                                                         damage):
    work = tmp_path / "w"
    copy_tree(refreshed, work)
    out = work / "outputs"
    _forget_stamp(out)
    store = cache_of(out)
    victim, other = "capivasertib-pfs", "pearl-pfs-ccne1"
    part = store / "parts" / f"{victim}.pkl"
    if damage == "garbage":
        part.write_bytes(b"\x80\x05not a pickle")  # its SHA-256 no longer matches the manifest
    else:
        # a well-formed part of another analysis, recorded with a matching SHA-256: only the key
        # inside it tells that it is not this analysis' part
        data = (store / "parts" / f"{other}.pkl").read_bytes()
        part.write_bytes(data)
        manifest = json.loads((store / "manifest.json").read_text())
        import hashlib

        manifest["files"][f".cache/parts/{victim}.pkl"]["sha256"] = hashlib.sha256(data).hexdigest()
        (store / "manifest.json").write_text(json.dumps(manifest))
    # and a forest scene kept for another analysis, truncated
    scene = store / "parts" / f"{other}.forest.pkl"
    scene.write_bytes(scene.read_bytes()[:50])
    code, _, err = run_cli("refresh", "--jobs", "1", cwd=work)
    assert code == 0, err
    assert spies["pooled"] == [{victim}]
    assert spies["scenes"] == [other]
    assert all_files(out) == all_files(refreshed / "outputs")
    assert (cache_of(out) / "parts" / f"{victim}.pkl").read_bytes() != b"\x80\x05not a pickle"


def test_unchanged_files_are_hard_links_to_the_previous_ones(refreshed, tmp_path, run_cli):
    """Nothing to write or to sync for an unchanged file: the new outputs link the previous one."""
    work = tmp_path / "w"
    copy_tree(refreshed, work)
    out = work / "outputs"
    _forget_stamp(out)
    before = {p: (out / p).stat().st_ino for p in ("forest/pearl-pfs-ccne1.svg", "tables/pearl-pfs-ccne1.md")}
    code, _, err = run_cli("refresh", "--jobs", "1", cwd=work)
    assert code == 0, err
    assert {p: (out / p).stat().st_ino for p in before} == before


def _keys(trials: Path) -> dict[str, str]:
    registry = load_registry(trials)
    spec, lines = load_analyses(trials / "analyses.yaml")
    return parts.analysis_keys(registry, spec, lines, "trials/analyses.yaml", None)


def test_an_analysis_key_moves_with_its_own_inputs_only(tmp_path):
    trials = tmp_path / "trials"
    shutil.copytree(TRIALS, trials)
    before = _keys(trials)
    touched = naming(trials, "faktion")
    with open(trials / "faktion.yaml", "a") as fh:
        fh.write("# a comment: the file's bytes changed\n")
    after = _keys(trials)
    assert {n for n in before if before[n] != after[n]} == touched
    assert _keys(trials) == after  # deterministic
    assert parts.analysis_keys(load_registry(trials), *load_analyses(trials / "analyses.yaml"),
                               "trials/analyses.yaml", "2020") != after  # --as-of is an input of every one


def test_writing_a_linked_file_never_changes_the_file_it_is_linked_to(tmp_path):
    """Refresh hard-links unchanged files to the previous outputs and the cache: a later write to the same
    path (io.write_bytes / write_text) replaces the link, leaving the other file as it was."""
    import os

    from trialmeta import io

    previous = tmp_path / "previous.png"
    previous.write_bytes(b"old figure")
    for write, data in ((io.write_bytes, b"new figure"), (io.write_text, "new text")):
        staged = tmp_path / "stage" / "figure.png"
        staged.parent.mkdir(exist_ok=True)
        staged.unlink(missing_ok=True)
        os.link(previous, staged)
        write(staged, data)
        assert previous.read_bytes() == b"old figure"
        assert staged.read_bytes() == (data if isinstance(data, bytes) else data.encode())


def test_a_changed_network_is_made_again_and_only_it(refreshed, tmp_path, run_cli, spies):
    """A network's outputs are keyed by its evidence document: a new title changes the breast network's
    document only (analyses.yaml's networks come after every analysis: no analysis key moves)."""
    work = tmp_path / "w"
    copy_tree(refreshed, work)
    path = work / "trials" / "analyses.yaml"
    text = path.read_text()
    old = 'title: "Network: alpelisib + fulvestrant'
    assert text.count(old) == 1
    path.write_text(text.replace(old, 'title: "Network (renamed): alpelisib + fulvestrant'))
    code, _, err = run_cli("refresh", "--jobs", "1", cwd=work)
    assert code == 0, err
    assert spies["networks"] == ["pi3k-akt-pfs-network"] and spies["pooled"] == []
    assert "Network (renamed)" in (work / "outputs" / "networks.md").read_text()

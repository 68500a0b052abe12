"""`trialmeta refresh`: complete, deterministic, atomic outputs with a changelog of what moved."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, TRIALS, copy_tree

TEXT = (".json", ".csv", ".md", ".html", ".svg")

# A hypothetical new data cut, added the way the README tells a user to: a publication, a data
# cut and a result for an existing population. (Synthetic numbers, used only in this test.)
NEW_CUT = {
    "publication": """  - key: hypothetical2026
    kind: journal
    citation: Hypothetical final OS report (test fixture, not a real publication)
    published: 2026-06
""",
    "cut": """  - key: final-os-2026
    label: Final OS analysis (hypothetical)
    cutoff: 2025-12-01
    publication: hypothetical2026
""",
    "result": """  - population: itt
    endpoint: OS
    data_cut: final-os-2026
    assessment: not-applicable
    hr: 0.70
    ci: [0.58, 0.85]
    sources: [hypothetical2026]
""",
}


def text_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.suffix in TEXT}


def add_cut(trial_file: Path) -> None:
    text = trial_file.read_text()
    text = text.replace("\ndata_cuts:\n", "\n" + NEW_CUT["publication"] + "data_cuts:\n", 1)
    text = text.replace("\npopulations:\n", "\n" + NEW_CUT["cut"] + "populations:\n", 1)
    text = text.replace("\nresults:\n", "\nresults:\n" + NEW_CUT["result"], 1)
    trial_file.write_text(text)


@pytest.fixture(scope="module")
def built(refreshed, tmp_path_factory):
    """trials/ copied to a scratch directory and refreshed once (a copy of the session's refresh)."""
    work = tmp_path_factory.mktemp("refresh") / "w"
    copy_tree(refreshed, work)
    return work


def test_outputs_are_complete(built):
    out = built / "outputs"
    evidence = json.loads((out / "evidence.json").read_text())
    names = [a["name"] for a in evidence["analyses"]]
    for name in names:
        for suffix in ("csv", "md", "html"):
            assert (out / "tables" / f"{name}.{suffix}").is_file()
        for fmt in ("png", "svg", "pdf"):
            assert (out / "forest" / f"{name}.{fmt}").is_file()
    assert evidence["inputs"]["fingerprint"] and "trials/faktion.yaml" in evidence["inputs"]["files"]
    assert evidence["results"] and evidence["indirect"]
    assert (out / "report.html").read_text().count("<svg") >= len(names)
    assert (out / "CHANGELOG.md").read_text().startswith("# Changelog")
    assert not list(built.glob(".outputs.trialmeta-staging-*")) and not list(built.glob(".outputs.trialmeta-old-*"))


def test_evidence_json_is_the_pool_json(built, run_cli):
    code, out, _ = run_cli("pool", "--format", "json", cwd=built)
    assert code == 0
    assert json.loads(out)["analyses"] == json.loads((built / "outputs" / "evidence.json").read_text())["analyses"]


def test_second_refresh_is_byte_identical_and_writes_no_entry(built, run_cli):
    before = text_files(built / "outputs")
    code, _, _ = run_cli("refresh", "--quiet", cwd=built)
    assert code == 0
    assert text_files(built / "outputs") == before


def test_new_data_cut_updates_everything_and_the_changelog_names_it(built, tmp_path, run_cli):
    work = tmp_path / "w"
    copy_tree(built, work)
    add_cut(work / "trials" / "capitello-291.yaml")
    report_before = (work / "outputs" / "report.html").read_text()
    code, _, err = run_cli("refresh", "--quiet", cwd=work)
    assert code == 0, err
    log = (work / "outputs" / "CHANGELOG.md").read_text()
    entry = log.split("\n## ")[1]
    assert "Added: CAPItello-291 itt OS (final-os-2026, cut-off 2025-12-01): 0.70 [0.58, 0.85]" in entry
    assert "capivasertib-os / all: HR 0.66 [0.45, 0.97] -> " in entry  # FAKTION alone -> pooled with CAPItello
    assert "studies now capitello-291:itt:final-os-2026, faktion:itt:update-2022" in entry
    assert "pi3k-akt" not in entry  # nothing else moved
    assert (work / "outputs" / "report.html").read_text() != report_before
    table = (work / "outputs" / "tables" / "capivasertib-os.csv").read_text()
    assert "final-os-2026" in table


def test_invalid_input_leaves_previous_outputs_untouched(built, tmp_path, run_cli):
    work = tmp_path / "w"
    copy_tree(built, work)
    before = text_files(work / "outputs")
    path = work / "trials" / "faktion.yaml"
    path.write_text(path.read_text().replace("ci: [0.39, 0.84]", "ci: [0.84, 0.39]"))
    code, _, err = run_cli("refresh", "--quiet", cwd=work)
    assert code == 1
    assert "trials/faktion.yaml" in err and "lower bound 0.84 is above upper bound 0.39" in err
    assert "outputs was left unchanged" in err
    assert text_files(work / "outputs") == before


def test_failure_while_writing_leaves_previous_outputs(built, tmp_path, monkeypatch, run_cli):
    """A step failing after some files were written (e.g. disk full) must not leak them."""
    import trialmeta.pipeline.refresh as refresh_mod

    work = tmp_path / "w"
    copy_tree(built, work)
    before = text_files(work / "outputs")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(refresh_mod, "_write_forest_figures", boom)
    add_cut(work / "trials" / "capitello-291.yaml")
    code, _, err = run_cli("refresh", "--quiet", cwd=work)
    assert code != 0 and "No space left on device" in err
    assert text_files(work / "outputs") == before
    assert not list(work.glob(".outputs.trialmeta-staging-*"))


def test_killed_refresh_leaves_a_complete_outputs_dir(built, tmp_path):
    """SIGKILL at several moments: outputs/ is always the old or the new complete set (the new
    one has a file more: CAPItello-291's OS gets a trial forest with the new population)."""
    work = tmp_path / "w"
    copy_tree(built, work)
    before = text_files(work / "outputs")
    add_cut(work / "trials" / "capitello-291.yaml")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    seen = []
    for delay in (0.3, 1.0, 2.0, 4.0):
        proc = subprocess.Popen([sys.executable, "-m", "trialmeta", "refresh", "--quiet"], cwd=work, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        seen.append(text_files(work / "outputs"))
    # the next run recovers: stale staging directories are removed
    assert subprocess.run([sys.executable, "-m", "trialmeta", "refresh", "--quiet"], cwd=work, env=env).returncode == 0
    assert not list(work.glob(".outputs.trialmeta-staging-*"))
    after = text_files(work / "outputs")
    assert "final-os-2026" in after["evidence.json"].decode() and len(after) == len(before) + 1
    for now in seen:
        assert now in (before, after)


def test_as_of_reproduces_the_evidence_before_the_faktion_update(built, tmp_path, run_cli):
    work = tmp_path / "w"
    copy_tree(built, work)
    code, _, err = run_cli("refresh", "--quiet", "--as-of", "2021-12-31", cwd=work)
    assert code == 0, err
    evidence = json.loads((work / "outputs" / "evidence.json").read_text())
    assert evidence["as_of"] == "2021-12-31"
    cuts = {(r["trial"], r["data_cut"]) for r in evidence["results"]}
    assert ("faktion", "primary-2020") in cuts and ("faktion", "update-2022") not in cuts
    assert ("capitello-291", "primary-2022") not in cuts
    log = (work / "outputs" / "CHANGELOG.md").read_text()
    assert "Evidence as of 2021-12-31" in log
    assert "as of 2021-12-31" in (work / "outputs" / "report.html").read_text()


def test_committed_outputs_are_current():
    """The committed outputs/ must equal a fresh refresh (run `make refresh` and commit)."""
    committed = ROOT / "outputs"
    if not (committed / "evidence.json").is_file():
        pytest.fail("outputs/ is not committed: run `make refresh` and commit outputs/")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / f"trialmeta-stale-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(committed, scratch / "outputs")
    shutil.copytree(TRIALS, scratch / "trials")
    (scratch / "outputs" / ".cache" / "stamp.json").unlink(missing_ok=True)  # a real refresh, not "up to date"
    try:
        proc = subprocess.run([sys.executable, "-m", "trialmeta", "refresh", "--quiet"], cwd=scratch, env=env,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        fresh, old = text_files(scratch / "outputs"), text_files(committed)
        for files in (fresh, old):  # (.cache/ holds keys with the library versions, e.g. NumPy's: a new
            for name in [n for n in files if n.startswith(".cache/")]:  # release must not fail this test)
                del files[name]
        stale = sorted(k for k in fresh.keys() | old.keys() if fresh.get(k) != old.get(k))
        assert not stale, f"stale committed outputs (run `make refresh` and commit): {stale[:10]}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

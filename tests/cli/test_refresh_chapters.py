"""Refresh of a registry beyond 20 analyses: a Word document per analysis and a Word document and a
workbook per chapter (tag), no registry-wide report.docx / evidence.xlsx; a change to one trial rebuilds
only the files of the analyses and chapters it enters; a person's edits to any of them are kept.

The registry: ``benchmarks/synth_registry.py`` copies of the one-trial registry of
tests/tiny_registry.py (22 trials, one analysis each, so refresh stays fast), tagged odd/even by copy
number, the last two untagged."""

from __future__ import annotations

import importlib.util

import pytest
import yaml
from docx import Document
from openpyxl import load_workbook

from conftest import ROOT, copy_tree
from tiny_registry import snapshot, tiny_registry

pytestmark = pytest.mark.slow
COPIES = 22
CHAPTER_OF = {i: ("odd" if i % 2 else "even") if i <= 20 else "untagged" for i in range(1, COPIES + 1)}


def _synth():
    spec = importlib.util.spec_from_file_location("synth_registry", ROOT / "benchmarks" / "synth_registry.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    import trialmeta as tm

    root = tmp_path_factory.mktemp("large")
    trials = root / "trials"
    assert _synth().generate(trials, COPIES, source=tiny_registry(root / "one")) == (COPIES, COPIES)
    path = trials / "analyses.yaml"
    doc = yaml.safe_load(path.read_text())
    for i, a in enumerate(doc["analyses"], start=1):
        assert a["name"] == f"minimal-pfs-c{i}"
        if CHAPTER_OF[i] != "untagged":
            a["tags"] = [CHAPTER_OF[i]]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    tm.refresh(trials, root / "outputs", jobs=2)
    return root


def _titles(path) -> list[str]:
    return [p.text for p in Document(path).paragraphs if p.style.name == "Heading 1" and p.text != "Methods"]


def test_chapter_files_instead_of_registry_wide_ones(large):
    out = large / "outputs"
    assert not (out / "report.docx").exists() and not (out / "evidence.xlsx").exists()
    assert sorted(p.name for p in (out / "word").glob("*.docx")) == sorted(f"minimal-pfs-c{i}.docx"
                                                                          for i in CHAPTER_OF)
    for tag in ("odd", "even", "untagged"):
        members = [f"minimal-pfs-c{i}" for i in CHAPTER_OF if CHAPTER_OF[i] == tag]
        assert len(_titles(out / "word" / "chapters" / f"{tag}.docx")) == len(members)
        wb = load_workbook(out / "excel" / "chapters" / f"{tag}.xlsx", read_only=True)
        assert [s for s in wb.sheetnames if s.startswith("minimal-pfs-")] == members
        trials = {r[0] for r in wb["Results"].iter_rows(min_row=2, values_only=True)}
        assert trials == {n.replace("minimal-pfs-", "minimal-") for n in members}  # its own trials' rows only
    assert {p.relative_to(out).as_posix() for p in out.rglob("*.xlsx")} == {
        f"excel/chapters/{t}.xlsx" for t in ("odd", "even", "untagged")}


def test_one_trial_changed_rebuilds_only_its_chapters(large, tmp_path, monkeypatch):
    import trialmeta as tm
    from trialmeta.report import docx, xlsx

    copy_tree(large, tmp_path / "r")
    trial = tmp_path / "r" / "trials" / "minimal-c3.yaml"  # analysis minimal-pfs-c3: chapter odd
    trial.write_text(trial.read_text().replace("hr: 0.58", "hr: 0.6", 1))
    built = []
    monkeypatch.setattr(docx, "report_docx", _counting(docx.report_docx, built, "docx"))
    monkeypatch.setattr(xlsx, "evidence_workbook", _counting(xlsx.evidence_workbook, built, "xlsx"))
    before = snapshot(tmp_path / "r" / "outputs")
    tm.refresh(tmp_path / "r" / "trials", tmp_path / "r" / "outputs", jobs=2)
    odd = [f"minimal-pfs-c{i}" for i in CHAPTER_OF if CHAPTER_OF[i] == "odd"]
    assert sorted(built) == sorted([("docx", ["minimal-pfs-c3"]), ("docx", odd), ("xlsx", odd)])
    after = snapshot(tmp_path / "r" / "outputs")
    changed = {n for n in after if n.startswith(("word/", "excel/")) and after[n] != before.get(n)}
    assert changed == {"word/minimal-pfs-c3.docx", "word/chapters/odd.docx", "excel/chapters/odd.xlsx"}


def _counting(build, built: list, fmt: str):
    def count(results, *args, **kwargs):
        built.append((fmt, [r.name for r in results]))
        return build(results, *args, **kwargs)
    return count


@pytest.mark.parametrize("rel, export", [
    ("word/chapters/even.docx", ("--analysis", "tag:even", "--per", "tag", "--format", "docx")),
    ("excel/chapters/untagged.xlsx", ("--per", "tag", "--format", "xlsx")),
    ("word/minimal-pfs-c2.docx", ("--analysis", "minimal-pfs-c2", "--per", "analysis", "--format", "docx")),
])
def test_edits_to_any_of_them_are_kept(large, tmp_path, run_cli, rel, export):
    copy_tree(large, tmp_path / "r")
    path = tmp_path / "r" / "outputs" / rel
    edited = path.read_bytes() + b"\0my edit"  # in place, as Word or Excel saves it
    path.write_bytes(edited)
    before = snapshot(tmp_path / "r")
    for args in (("refresh", "trials", "--quiet"), ("export", "trials", *export)):
        code, _, err = run_cli(*args, cwd=tmp_path / "r")
        assert code == 1 and f"outputs/{rel} changed since trialmeta wrote it" in err, (args, err)
        assert "nothing was changed" in err and snapshot(tmp_path / "r") == before
    code, _, err = run_cli("refresh", "trials", "--quiet", "--overwrite-edits", cwd=tmp_path / "r")
    assert code == 0, err
    assert path.read_bytes() == (large / "outputs" / rel).read_bytes()

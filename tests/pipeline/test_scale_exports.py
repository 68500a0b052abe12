"""Large registries (pipeline/export.py, pipeline/chapters.py): one Word document per analysis and one
Word document and one workbook per chapter (tag), each keyed by its own inputs and rebuilt only when they
change, instead of one registry-wide report.docx and evidence.xlsx."""

from __future__ import annotations

import copy

import pytest
from docx import Document
from openpyxl import load_workbook

from conftest import TRIALS
from trialmeta.pipeline import export
from trialmeta.pipeline.cache import FigureCache
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.load import load_registry
from trialmeta.synthesis.run import run_analyses

NAMES = ("carfilzomib-pfs", "carfilzomib-os", "capivasertib-os")
#: their chapters, from the tags of trials/analyses.yaml (tags first seen first, analyses in file order)
CHAPTERS = {"breast": ["capivasertib-os"], "os": ["capivasertib-os", "carfilzomib-os"],
            "myeloma": ["carfilzomib-pfs", "carfilzomib-os"], "pfs": ["carfilzomib-pfs"]}


@pytest.fixture(scope="module")
def three():
    registry = load_registry(TRIALS)
    spec, lines = load_analyses(TRIALS / "analyses.yaml")
    results = [r for r in run_analyses(registry, spec, spec_file="trials/analyses.yaml", lines=lines)
               if r.name in NAMES]
    evidence_doc = {"trialmeta_version": "x", "defaults": spec.defaults.model_dump(),
                    "analyses": [r.to_dict() for r in results]}
    return registry, results, evidence_doc


def test_word_per_analysis_rebuilds_only_the_changed_one(three, tmp_path, monkeypatch):
    registry, results, evidence_doc = three
    monkeypatch.setattr(export, "SINGLE_DOCUMENT_LIMIT", 2)
    first = FigureCache(None)
    written = export.write_exports(tmp_path / "a", ("docx",), results, registry, None, evidence_doc, cache=first,
                                   jobs=1)
    first.write(tmp_path / "a")
    assert not (tmp_path / "a" / "report.docx").exists()
    # named before any work (edits protection)
    assert [p.relative_to(tmp_path / "a").as_posix() for p in written] == export.export_files(("docx",), results)
    for r in results:
        doc = Document(tmp_path / "a" / "word" / f"{r.name}.docx")
        assert _headings(doc) == [r.spec.title]
        assert len(doc.inline_shapes) == 1  # its forest plot
    titles = {r.name: r.spec.title for r in results}
    for tag, names in CHAPTERS.items():
        assert _headings(Document(tmp_path / "a" / "word" / "chapters" / f"{tag}.docx")) == [titles[n] for n in names]
    changed = copy.deepcopy(evidence_doc)
    changed["analyses"][0]["title"] = "edited"  # the evidence of the first analysis (capivasertib-os) only
    again = FigureCache(tmp_path / "a")
    monkeypatch.setattr("trialmeta.report.docx.report_docx", _counting(built := []))
    export.write_exports(tmp_path / "b", ("docx",), results, registry, None, changed, cache=again, jobs=1)
    # its own document and those of its chapters (breast, os); the other two analyses' and chapters' are copied
    assert built == [["capivasertib-os"], ["capivasertib-os"], ["capivasertib-os", "carfilzomib-os"]]
    assert again.hits == 2 + 2
    for rel in [f"word/{n}.docx" for n in NAMES[:2]] + ["word/chapters/myeloma.docx", "word/chapters/pfs.docx"]:
        assert (tmp_path / "b" / rel).read_bytes() == (tmp_path / "a" / rel).read_bytes()


def test_workbooks_per_chapter_replace_the_registry_wide_one(three, tmp_path, monkeypatch):
    registry, results, evidence_doc = three
    from trialmeta.registry.frame import results_frame

    frame = results_frame(registry)
    monkeypatch.setattr(export, "SINGLE_DOCUMENT_LIMIT", 2)
    first = FigureCache(None)
    written = export.write_exports(tmp_path / "a", ("xlsx",), results, registry, frame, evidence_doc, cache=first)
    first.write(tmp_path / "a")
    # no registry-wide workbook and, with xlsx alone, no Word files: one workbook per chapter
    assert [p.relative_to(tmp_path / "a").as_posix() for p in written] == \
        [f"excel/chapters/{tag}.xlsx" for tag in CHAPTERS] == export.export_files(("xlsx",), results)
    for tag, names in CHAPTERS.items():
        wb = load_workbook(tmp_path / "a" / "excel" / "chapters" / f"{tag}.xlsx")
        assert [n for n in NAMES if n in wb.sheetnames] == sorted(names, key=NAMES.index)
        assert {row[0] for row in wb["Pooled estimates"].iter_rows(min_row=2, values_only=True)} == set(names)
        trials = {row[0] for row in wb["Results"].iter_rows(min_row=2, values_only=True)}
        capivasertib, carfilzomib = {"capitello-291", "faktion"}, {"aspire", "endeavor"}  # (analyses.yaml)
        assert trials == {"breast": capivasertib, "os": capivasertib | carfilzomib}.get(tag, carfilzomib)
    changed = copy.deepcopy(evidence_doc)
    changed["analyses"][2]["title"] = "edited"  # carfilzomib-os: chapters os and myeloma
    again = FigureCache(tmp_path / "a")
    from trialmeta.report.xlsx import evidence_workbook

    monkeypatch.setattr("trialmeta.report.xlsx.evidence_workbook", _counting(built := [], evidence_workbook))
    export.write_exports(tmp_path / "b", ("xlsx",), results, registry, frame, changed, cache=again)
    assert built == [["capivasertib-os", "carfilzomib-os"], ["carfilzomib-pfs", "carfilzomib-os"]]
    assert again.hits == 2
    for tag in ("breast", "pfs"):
        rel = f"excel/chapters/{tag}.xlsx"
        assert (tmp_path / "b" / rel).read_bytes() == (tmp_path / "a" / rel).read_bytes()


def test_full_keeps_the_single_documents(three, tmp_path, monkeypatch):
    registry, results, evidence_doc = three
    from trialmeta.registry.frame import results_frame

    monkeypatch.setattr(export, "SINGLE_DOCUMENT_LIMIT", 2)
    written = export.write_exports(tmp_path, ("docx", "xlsx"), results, registry, results_frame(registry),
                                   evidence_doc, jobs=1, full=True)
    assert [p.name for p in written] == ["report.docx", "evidence.xlsx"] == \
        export.export_files(("xlsx", "docx"), results, full=True)
    assert export.export_files(("xlsx", "docx"), results, per="analysis") == [
        f"{d}/{r.name}.{f}" for r in results for d, f in (("word", "docx"), ("excel", "xlsx"))]
    assert _headings(Document(tmp_path / "report.docx")) == [r.spec.title for r in results]


def _headings(doc) -> list[str]:
    return [p.text for p in doc.paragraphs if p.style.name == "Heading 1" and p.text != "Methods"]


def _counting(built: list, build=None):
    """``report_docx`` (or ``build``) recording the analyses of each document it builds."""
    from trialmeta.report.docx import report_docx

    build = build or report_docx

    def count(results, *args, **kwargs):
        built.append([r.name for r in results])
        return build(results, *args, **kwargs)
    return count


def test_chapters_beyond_the_limit_are_left_to_export(three, tmp_path, monkeypatch, capsys):
    registry, results, evidence_doc = three
    from trialmeta.registry.frame import results_frame

    monkeypatch.setattr(export, "SINGLE_DOCUMENT_LIMIT", 1)  # os and myeloma hold two analyses each
    written = export.write_exports(tmp_path, ("xlsx",), results, registry, results_frame(registry), evidence_doc,
                                   quiet=False)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["excel/chapters/breast.xlsx",
                                                                    "excel/chapters/pfs.xlsx"]
    assert export.export_files(("xlsx",), results) == ["excel/chapters/breast.xlsx", "excel/chapters/pfs.xlsx"]
    assert "note: chapters of more than 1 analyses get no Word document or workbook of their own" in \
        capsys.readouterr().err

"""``trialmeta export --analysis PATTERN`` (a name, a glob or tag:NAME, repeatable), ``--per analysis|tag``
and ``--full``; ``--analysis`` of pool and forest takes the same patterns. The documents are opened
with python-docx and openpyxl to see which analyses they hold."""

from __future__ import annotations

import json

import pytest
from docx import Document
from openpyxl import load_workbook

from conftest import TRIALS

TITLES = {
    "carfilzomib-pfs": "Carfilzomib-based regimen vs non-carfilzomib comparator in relapsed myeloma: PFS",
    "carfilzomib-pfs-cytogenetics": "Carfilzomib-based regimen vs comparator in relapsed myeloma: PFS by cytogenetic risk",
    "carfilzomib-os": "Carfilzomib-based regimen vs non-carfilzomib comparator in relapsed myeloma: OS",
    "carfilzomib-orr": "Carfilzomib-based regimen vs non-carfilzomib comparator in relapsed myeloma: overall response",
    "pearl-pfs-ccne1": "PEARL: palbociclib + fulvestrant vs capecitabine, PFS in cohort 2 and in CCNE1-high tumours",
}  # (trials/analyses.yaml)
MYELOMA = ["carfilzomib-pfs", "carfilzomib-pfs-cytogenetics", "carfilzomib-os", "carfilzomib-orr"]


def _headings(path) -> list[str]:
    return [p.text for p in Document(path).paragraphs if p.style.name == "Heading 1" and p.text != "Methods"]


def _analyses_in(path) -> list[str]:
    """The analyses of a workbook: its per-analysis sheets, in order."""
    wb = load_workbook(path, read_only=True)
    return [s for s in wb.sheetnames if s in TITLES or s.startswith(("pi3k", "capivasertib", "alpelisib"))]


def _files(folder) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
                  and not p.name.startswith("."))


def test_a_tag_is_one_document(tmp_path, run_cli):
    code, out, err = run_cli("export", TRIALS, "--analysis", "tag:myeloma", "--out", tmp_path)
    assert code == 0, err
    assert out.split() == [f"{tmp_path}/report.docx", f"{tmp_path}/evidence.xlsx"]
    assert _headings(tmp_path / "report.docx") == [TITLES[n] for n in MYELOMA]
    assert _analyses_in(tmp_path / "evidence.xlsx") == MYELOMA
    wb = load_workbook(tmp_path / "evidence.xlsx", read_only=True)
    assert {r[0] for r in wb["Results"].iter_rows(min_row=2, values_only=True)} == {"aspire", "endeavor"}


def test_per_analysis_and_per_tag(tmp_path, run_cli):
    code, out, err = run_cli("export", TRIALS, "--analysis", "pearl-pfs-ccne1", "--analysis", "carfilzomib-o*",
                             "--per", "analysis", "--out", tmp_path / "a")
    assert code == 0, err
    names = ["carfilzomib-os", "carfilzomib-orr", "pearl-pfs-ccne1"]  # analyses.yaml's order
    assert out.split() == [f"{tmp_path}/a/{d}/{n}.{f}" for n in names for d, f in (("word", "docx"), ("excel", "xlsx"))]
    for n in names:
        assert _headings(tmp_path / "a" / "word" / f"{n}.docx") == [TITLES[n]]
        assert _analyses_in(tmp_path / "a" / "excel" / f"{n}.xlsx") == [n]
    # per tag: a file for each tag the selected analyses carry, holding the selected analyses with it
    code, out, err = run_cli("export", TRIALS, "--analysis", "carfilzomib-o*", "--analysis", "pearl-pfs-ccne1",
                             "--per", "tag", "--format", "docx", "--out", tmp_path / "t")
    assert code == 0, err
    assert _files(tmp_path / "t") == [f"word/chapters/{t}.docx" for t in ("breast", "myeloma", "orr", "os", "pfs")]
    assert _headings(tmp_path / "t" / "word" / "chapters" / "myeloma.docx") == [TITLES["carfilzomib-os"],
                                                                                TITLES["carfilzomib-orr"]]
    assert _headings(tmp_path / "t" / "word" / "chapters" / "pfs.docx") == [TITLES["pearl-pfs-ccne1"]]


def test_the_whole_registry_beyond_the_limit(tmp_path, run_cli, monkeypatch):
    from trialmeta.pipeline import export

    monkeypatch.setattr(export, "SINGLE_DOCUMENT_LIMIT", 4)
    code, out, err = run_cli("export", TRIALS, "--format", "xlsx", "--out", tmp_path / "a")
    assert code == 0, err  # what refresh writes: a workbook per chapter of at most 4 analyses, no registry-wide one
    assert _files(tmp_path / "a") == [f"excel/chapters/{t}.xlsx" for t in ("myeloma", "orr", "os", "sensitivity")]
    assert _analyses_in(tmp_path / "a" / "excel" / "chapters" / "myeloma.xlsx") == MYELOMA
    assert err == ("note: chapters of more than 4 analyses get no Word document or workbook of their own (they "
                   "would be rebuilt whole on any change to one of their analyses): breast (8), pfs (8); write one "
                   "with trialmeta export --analysis tag:NAME, or narrower tags\n")
    # on request, every chapter whatever its size
    code, out, err = run_cli("export", TRIALS, "--format", "xlsx", "--per", "tag", "--out", tmp_path / "t")
    assert code == 0 and not err, err
    assert _files(tmp_path / "t") == [f"excel/chapters/{t}.xlsx"
                                      for t in sorted(("breast", "pfs", "sensitivity", "os", "myeloma", "orr"))]
    code, out, err = run_cli("export", TRIALS, "--format", "xlsx", "--full", "--out", tmp_path / "b")
    assert code == 0, err
    assert _files(tmp_path / "b") == ["evidence.xlsx"] and len(_analyses_in(tmp_path / "b" / "evidence.xlsx")) == 12
    assert f"note: {tmp_path}/b/evidence.xlsx holds 12 analyses (" in err and "--per tag" in err
    # a selection is one document whatever its size, with the same note
    code, out, err = run_cli("export", TRIALS, "--format", "xlsx", "--analysis", "tag:myeloma", "--analysis", "tag:os",
                             "--out", tmp_path / "c")
    assert code == 0 and _files(tmp_path / "c") == ["evidence.xlsx"], err
    assert "holds 6 analyses" in err


@pytest.mark.parametrize("args, message", [
    (("--analysis", "tag:lung"), "--analysis 'tag:lung': no analysis in trials/analyses.yaml has tag 'lung'; "
                                 "tags: breast, pfs, sensitivity, os, myeloma, orr"),
    (("--analysis", "carfilzomib-pfs", "--analysis", "ovarian-*"), "--analysis 'ovarian-*' matches no analysis"),
    (("--full", "--per", "tag"), "--full writes one document, --per one per analysis or tag"),
])
def test_usage_errors_write_nothing(tmp_path, run_cli, args, message):
    code, out, err = run_cli("export", "trials", *args, "--out", tmp_path / "x")
    assert code == 2 and message in err and "Traceback" not in err, err
    assert not (tmp_path / "x").exists()


def test_pool_and_forest_take_the_same_patterns(tmp_path, run_cli):
    code, out, err = run_cli("pool", TRIALS, "--analysis", "tag:orr", "--analysis", "*-os", "--format", "json")
    assert code == 0, err
    assert [a["name"] for a in json.loads(out)["analyses"]] == ["pi3k-akt-os", "capivasertib-os", "carfilzomib-os",
                                                               "carfilzomib-orr"]
    code, out, err = run_cli("pool", TRIALS, "--analysis", "tag:nothing")
    assert code == 2 and "has tag 'nothing'" in err
    code, out, err = run_cli("forest", TRIALS, "--analysis", "tag:orr", "--format", "svg", "--out", tmp_path)
    assert code == 0, err
    assert _files(tmp_path) == ["carfilzomib-orr.svg"]

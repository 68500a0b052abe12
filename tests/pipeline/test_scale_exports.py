"""Large registries (pipeline/export.py): one Word document per analysis, each keyed by its own
inputs and rebuilt only when they change, instead of one registry-wide report.docx."""

from __future__ import annotations

import copy

import pytest
from docx import Document

from conftest import TRIALS
from trialmeta.pipeline import export
from trialmeta.pipeline.cache import FigureCache
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.load import load_registry
from trialmeta.synthesis.run import run_analyses

NAMES = ("carfilzomib-pfs", "carfilzomib-os", "capivasertib-os")


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
    export.write_exports(tmp_path / "a", ("docx",), results, registry, None, evidence_doc, cache=first, jobs=1)
    first.write(tmp_path / "a")
    assert not (tmp_path / "a" / "report.docx").exists()
    for r in results:
        doc = Document(tmp_path / "a" / "word" / f"{r.name}.docx")
        assert r.spec.title in [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
        assert len(doc.inline_shapes) == 1  # its forest plot
    changed = copy.deepcopy(evidence_doc)
    changed["analyses"][0]["title"] = "edited"  # the evidence of the first analysis only
    again = FigureCache(tmp_path / "a")
    monkeypatch.setattr("trialmeta.report.docx.report_docx", _counting(built := []))
    export.write_exports(tmp_path / "b", ("docx",), results, registry, None, changed, cache=again, jobs=1)
    assert built == [results[0].name] and again.hits == 2
    for r in results[1:]:
        assert (tmp_path / "b" / "word" / f"{r.name}.docx").read_bytes() == \
            (tmp_path / "a" / "word" / f"{r.name}.docx").read_bytes()


def _counting(built: list):
    from trialmeta.report.docx import report_docx

    def count(results, *args, **kwargs):
        built.extend(r.name for r in results)
        return report_docx(results, *args, **kwargs)
    return count

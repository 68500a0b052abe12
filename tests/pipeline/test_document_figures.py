"""The forest plots for documents (pipeline/outputs.py write_forests): beside outputs/forest/<name>.svg/.pdf
(title and notes in the image), refresh writes <name>-document.svg/.pdf in the ``document`` preset (A4
text width, 17 cm; the title and notes left out, for the document to print them as text), the same
render as the Word report's figure."""

from __future__ import annotations

import re

from trialmeta.pipeline.export import document_style
from trialmeta.plot.forest import figure_notes
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.load import load_registry
from trialmeta.synthesis.run import run_analyses


def _texts(svg: str) -> str:
    """The SVG's text (svg.fonttype none keeps it as <text>), one string."""
    return " ".join(re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text\b.*?</text>", svg, re.S))


def test_document_variants_have_no_title_or_notes_and_the_text_width(refreshed):
    trials, forest = refreshed / "trials", refreshed / "outputs" / "forest"
    spec, lines = load_analyses(trials / "analyses.yaml")
    results = run_analyses(load_registry(trials), spec, spec_file="trials/analyses.yaml", lines=lines)
    assert results and all(r.spec.style is None for r in results)  # every analysis in the default style
    checked = 0
    for r in results:
        main, doc = (forest / f"{r.name}.svg").read_text(), (forest / f"{r.name}-document.svg").read_text()
        assert (forest / f"{r.name}-document.pdf").read_bytes().startswith(b"%PDF")
        assert not (forest / f"{r.name}-document.png").exists()  # (the Word report has its own PNG copy)
        assert r.spec.title in _texts(main)
        assert r.spec.title not in _texts(doc), r.name
        width = float(re.search(r'<svg [^>]*width="([\d.]+)pt"', doc).group(1))
        assert abs(width - 17.0 / 2.54 * 72) < 0.01  # the document preset: 17 cm, A4's text width
        # the notes the document prints under its caption: those the default figure prints in the image
        # (their first 8 words, on one line of it) are not in the document's figure
        for note in figure_notes(r, document_style(r)):
            start = " ".join(note.split()[:8])
            if start in _texts(main):
                assert start not in _texts(doc), (r.name, note)
                checked += 1
    assert checked >= len(results)

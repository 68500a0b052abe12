"""HTML report figures (plot/render.py, report/html.py): SVG text kept as text with its font named
(numbers can be found and copied), each figure captioned by a <figcaption>, print CSS keeping
headings with what follows."""

from __future__ import annotations

import re

from conftest import TRIALS
from trialmeta.plot import render
from trialmeta.plot.forest import forest_scene
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.load import load_registry
from trialmeta.report import html
from trialmeta.synthesis.run import run_analyses


def test_svg_text_is_text_with_its_font_named(tmp_path):
    spec, lines = load_analyses(TRIALS / "analyses.yaml")
    (result,) = run_analyses(load_registry(TRIALS), spec, only="pi3k-akt-pfs", spec_file="x", lines=lines)
    fig = render.render(forest_scene(result))
    try:
        svg = render.to_bytes(fig, "svg").decode()
        again = render.to_bytes(fig, "svg").decode()
    finally:
        render.close(fig)
    assert svg == again  # deterministic
    texts = re.findall(r"<text [^>]*>([^<]*)</text>", svg)
    assert "0.65 [0.50, 0.85]" in texts  # SOLAR-1's published HR (S4), findable and copyable
    assert result.spec.title in " ".join(texts)
    fonts = set(re.findall(r"font-family: ([^;\"]+)", svg))
    assert fonts == {"'DejaVu Sans', 'DejaVu Sans', Verdana, sans-serif"}
    (tmp_path / "f.svg").write_text(svg)
    inlined = html.inline_svg(tmp_path / "f.svg", "f", "Forest plot: <title>")
    assert inlined.endswith("<figcaption>Forest plot: &lt;title&gt;</figcaption></figure>")


def test_print_css_keeps_headings_with_what_follows():
    css = html.REPORT_STYLE
    assert re.search(r"h1, h2, h3[^{]*\{[^}]*break-after: avoid", css)
    assert re.search(r"h2 \+ \*[^{]*\{[^}]*break-before: avoid", css)
    assert re.search(r"tr, figcaption[^{]*\{[^}]*break-inside: avoid", css)

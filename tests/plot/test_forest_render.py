"""Forest plots drawn headless (Agg): no overlapping or clipped text, readable sizes,
deterministic SVG/PDF bytes (also across processes). ``pytest --save-figures`` writes the
PNGs to tests/_artifacts/ for a person to look at."""

from __future__ import annotations

import hashlib
import itertools
import subprocess
import sys

import matplotlib
import pytest

matplotlib.use("Agg")

from conftest import ROOT, TRIALS  # noqa: E402
from trialmeta.registry.analyses import load_analyses  # noqa: E402
from trialmeta.plot.figures import forest_plot, trial_forest_plot  # noqa: E402
from trialmeta.plot.forest import forest_scene  # noqa: E402
from trialmeta.plot.render import RC, close, render, to_bytes  # noqa: E402
from trialmeta.synthesis.run import run_analyses  # noqa: E402
from trialmeta.plot.trial_forest import trial_forests  # noqa: E402
from trialmeta.registry.load import load_registry  # noqa: E402

MIN_POINTS = 7.0
DOUBLE_COLUMN = 17.5 / 2.54  # inches: a figure this wide prints at 100%, so 7 pt stays 7 pt


def draw(scene, save_dir=None, name="figure"):
    """Render ``scene``; with ``--save-figures`` also write it as PNG."""
    fig = render(scene)
    if save_dir is not None:
        (save_dir / f"forest-{name}.png").write_bytes(to_bytes(fig, "png", dpi=150))
    return fig


def text_boxes(fig, dpi: float = 150):
    """(text, bbox in pixels, size) of every visible text and tick label, drawn at ``dpi``:
    150 dpi, where Agg's hinted glyphs run widest (about 6% over their SVG/PDF width)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig.set_dpi(dpi)
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    out = []
    for ax in fig.axes:
        for t in [*ax.texts, *ax.get_xticklabels()]:
            if t.get_visible() and t.get_text():
                out.append((t.get_text(), t.get_window_extent(renderer), t.get_fontsize()))
    return out


def assert_no_overlap(fig) -> None:
    boxes = text_boxes(fig)
    width, height = fig.bbox.width, fig.bbox.height
    clipped = [t for t, b, _ in boxes if b.x0 < 0 or b.y0 < 0 or b.x1 > width or b.y1 > height]
    assert not clipped, f"text outside the figure: {clipped}"
    small = [(t, s) for t, _, s in boxes if s < MIN_POINTS]
    assert not small, f"text below {MIN_POINTS} pt: {small}"
    tol = 0.5  # pixels: glyph boxes of adjacent lines may touch
    overlaps = [(ta, tb) for (ta, a, _), (tb, b, _) in itertools.combinations(boxes, 2)
                if a.x0 < b.x1 - tol and b.x0 < a.x1 - tol and a.y0 < b.y1 - tol and b.y0 < a.y1 - tol]
    assert not overlaps, f"overlapping texts: {overlaps[:5]}"


@pytest.fixture(scope="module")
def registry():
    return load_registry(TRIALS)


@pytest.fixture(scope="module")
def results(registry):
    return run_analyses(registry, load_analyses(TRIALS / "analyses.yaml")[0])


def test_every_analysis_renders_without_overlap(results, save_figures):
    for r in results:
        fig = draw(forest_scene(r), save_figures, r.name)
        try:
            assert_no_overlap(fig)
            # a double journal column; with risk-of-bias columns A4 landscape's text width (25.7 cm)
            assert fig.get_size_inches()[0] <= (25.7 / 2.54 if r.risk_of_bias else DOUBLE_COLUMN), r.name
        finally:
            close(fig)


def test_every_trial_forest_renders_without_overlap(registry, results, save_figures):
    forests = trial_forests(registry, results)
    assert len(forests) >= 8
    for trial, endpoint, scene in forests:
        fig = draw(scene, save_figures, f"trial-{trial}-{endpoint.lower()}")
        try:
            assert_no_overlap(fig)
            assert fig.get_size_inches()[0] <= DOUBLE_COLUMN
        finally:
            close(fig)


def test_axis_is_logarithmic_when_drawn(results):
    fig = forest_plot(results[0])
    plot = fig.axes[1]
    assert plot.get_xscale() == "log"
    assert 1.0 in list(plot.get_xticks())
    close(fig)


def test_forest_plot_accepts_an_axes(results, registry):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 14))
    ax_top, ax_bottom = fig.subplots(2, 1)
    assert forest_plot(results[0], ax=ax_top) is fig
    assert trial_forest_plot(registry, "aspire", "PFS", ax=ax_bottom) is fig
    assert [len(ax.child_axes) for ax in (ax_top, ax_bottom)] == [2, 2]  # a table and a plot panel each
    with pytest.raises(TypeError, match="unknown option"):
        forest_plot(results[0], pooled_lines=False)


def test_svg_and_pdf_are_byte_identical_across_renders(results):
    scene = forest_scene(results[0])
    for fmt in ("svg", "pdf"):
        a, b = render(scene), render(scene)
        assert to_bytes(a, fmt) == to_bytes(b, fmt), fmt


def test_files_are_byte_identical_across_processes(tmp_path):
    """Two separate `python -m trialmeta forest` runs write the same SVG and PDF bytes."""
    digests = []
    for run in ("a", "b"):
        out = tmp_path / run
        subprocess.run([sys.executable, "-m", "trialmeta", "forest", str(TRIALS), "--analysis", "pi3k-akt-pfs",
                        "--format", "svg,pdf", "--out", str(out)], cwd=ROOT, check=True, capture_output=True)
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())})
    assert digests[0] == digests[1]
    assert set(digests[0]) == {"pi3k-akt-pfs.svg", "pi3k-akt-pfs.pdf", ".trialmeta-outputs"}  # + what forest wrote


def _gs_page(pdf: bytes, tmp_path, name: str) -> bytes:
    """The PDF's page rasterised by Ghostscript at 150 dpi (PNG bytes)."""
    import shutil

    if shutil.which("gs") is None:
        pytest.skip("Ghostscript (gs) not installed")
    src, png = tmp_path / f"{name}.pdf", tmp_path / f"{name}.png"
    src.write_bytes(pdf)
    subprocess.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=png16m", "-r150",
                    f"-sOutputFile={png}", str(src)], check=True, capture_output=True)
    return png.read_bytes()


def test_pdf_fonts_embedded_without_layout_tables_print_the_same_page(results, tmp_path, monkeypatch):
    """The embedded Type 42 subsets leave out GSUB/GPOS/GDEF/kern (a PDF places its glyphs itself):
    Ghostscript rasterises the page pixel for pixel as with the full tables, the fonts are still
    TrueType (Type 42, not Type 3) and embedded, and the file is smaller."""
    import contextlib
    import re

    from trialmeta.plot import pdffonts

    fig = render(forest_scene(results[0]))
    lean = to_bytes(fig, "pdf")
    monkeypatch.setattr(pdffonts, "lean_subsets", contextlib.nullcontext)
    full = to_bytes(fig, "pdf")
    close(fig)
    assert lean != full and len(lean) < len(full)
    assert re.findall(rb"/Subtype\s*/CIDFontType2", lean) and not re.search(rb"/Subtype\s*/Type3", lean)
    assert lean.count(b"/FontFile2") == full.count(b"/FontFile2") >= 1
    assert _gs_page(lean, tmp_path, "lean") == _gs_page(full, tmp_path, "full")
    from fontTools.subset import Options

    assert "GSUB" not in Options().drop_tables  # fontTools' default restored after saving


def test_pdf_font_subsets_shared_across_figures_print_the_same_page_and_bytes(results, tmp_path, monkeypatch):
    """Each PDF embeds its fonts subset to its characters plus COMMON_CHARS, a subset made once
    per process: the page rasterises pixel for pixel as with matplotlib's own subsets, the
    fonts stay TrueType, and a PDF's bytes do not depend on which figures were saved before it
    (an incremental refresh equals a cold one)."""
    import contextlib
    import re

    from matplotlib.backends import _backend_pdf_ps

    from trialmeta.plot import pdffonts

    if not pdffonts.can_share(_backend_pdf_ps):
        pytest.skip(f"matplotlib {matplotlib.__version__} subsets fonts by glyph: subsets are not shared")
    figs = [render(forest_scene(r)) for r in results[:2]]
    monkeypatch.setattr(pdffonts, "_SUBSETS", {})
    first = to_bytes(figs[1], "pdf")
    assert len(pdffonts._SUBSETS) >= 1
    to_bytes(figs[0], "pdf")
    assert to_bytes(figs[1], "pdf") == first  # from the stored subset, after another figure's
    original = _backend_pdf_ps.get_glyphs_subset
    monkeypatch.setattr(pdffonts, "shared_subsets", lambda pdf_ps: contextlib.nullcontext())
    own = to_bytes(figs[1], "pdf")
    for fig in figs:
        close(fig)
    assert _backend_pdf_ps.get_glyphs_subset is original  # restored after saving
    assert own != first and re.findall(rb"/Subtype\s*/CIDFontType2", first)
    assert not re.search(rb"/Subtype\s*/Type3", first)
    assert _gs_page(first, tmp_path, "shared") == _gs_page(own, tmp_path, "own")


def test_forest_png_is_a_palette_png_with_every_pixel_of_matplotlibs(results):
    """A forest plot's PNG (300 dpi) has at most 256 colours: it is stored with a palette and
    holds exactly the pixels of matplotlib's own RGBA PNG; Word's copy is the same file. (A forest with
    risk-of-bias discs has more colours, antialiased green, yellow and grey: it stays RGBA, losslessly.)"""
    import io

    import numpy as np
    from PIL import Image

    from trialmeta.plot.render import encode

    fig = render(forest_scene(next(r for r in results if not r.risk_of_bias)))
    png, word = encode(fig, ("png@300", "palette@300"))
    buf = io.BytesIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buf, format="png", dpi=300)
    close(fig)
    assert png == word
    with Image.open(io.BytesIO(png)) as ours, Image.open(buf) as theirs:
        assert (ours.mode, theirs.mode, ours.size) == ("P", "RGBA", theirs.size)
        assert ours.info["dpi"][0] == pytest.approx(300, abs=0.01) and ours.info["Software"] == "trialmeta"
        assert np.array_equal(np.asarray(ours.convert("RGBA")), np.asarray(theirs))
    assert len(png) < len(buf.getvalue()) / 2


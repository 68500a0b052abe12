"""Figure styles: presets, footnotes, sizes and colours (plot/style.py), on the real analyses."""

from __future__ import annotations

import pytest

from conftest import TRIALS
from trialmeta.plot import render
from trialmeta.plot.forest import forest_scene
from trialmeta.plot.scene import Markers, Polygon
from trialmeta.plot.style import PRESETS, resolve, style_for
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.figstyle import StyleSpec
from trialmeta.registry.load import load_registry
from trialmeta.synthesis.run import run_analyses

SINGLE_COLUMN_IN = 8.5 / 2.54  # a journal's single column (BMJ 8.4-8.9 cm)


@pytest.fixture(scope="module")
def results():
    registry = load_registry(TRIALS)
    spec, lines = load_analyses(TRIALS / "analyses.yaml")
    return run_analyses(registry, spec, spec_file="trials/analyses.yaml", lines=lines)


def test_no_style_draws_the_default_figure(results):
    """resolve() returns None without any style block, so figures stay byte-identical."""
    assert resolve(None, None) is None
    plain, revman = forest_scene(results[0]), forest_scene(results[0], PRESETS["revman"])
    assert [t.text for t in plain.texts()] == [t.text for t in revman.texts()]
    assert (plain.width, plain.height) == (revman.width, revman.height)


def test_journal_short_fits_a_single_column_with_7pt_text_on_every_analysis(results):
    style = style_for(StyleSpec(preset="journal", footnotes="short"))
    widths = {}
    for r in results:
        scene = forest_scene(r, style)
        widths[r.name] = scene.width
        assert min(t.size for t in scene.texts()) >= 7.0, r.name
        assert {t.role for t in scene.texts()} & {"note"} == set(), r.name  # only lettered footnotes stay
        fig = render.render(scene)
        try:
            w, h = fig.get_size_inches()
            assert w <= SINGLE_COLUMN_IN + 1e-9, (r.name, w)
            from matplotlib.backends.backend_agg import FigureCanvasAgg

            renderer = FigureCanvasAgg(fig).get_renderer()
            for ax in fig.axes:  # every drawn text inside the figure (the layout's estimates were safe)
                for t in ax.texts:
                    box = t.get_window_extent(renderer)
                    assert box.x0 >= -0.5 and box.x1 <= w * fig.dpi + 0.5, (r.name, t.get_text())
        finally:
            render.close(fig)
    # the widest analyses of trials/analyses.yaml (long population labels, three subgroups) are the test
    assert max(widths.values()) <= SINGLE_COLUMN_IN + 1e-9


def test_compact_columns_keep_every_study_and_number(results):
    r = next(x for x in results if x.name == "pi3k-akt-pfs")
    full, journal = forest_scene(r), forest_scene(r, PRESETS["journal"])
    estimates = lambda s: [t.text for t in s.texts() if t.role.endswith("-estimate")]  # noqa: E731
    assert estimates(full) == estimates(journal)
    assert len(journal.items(Markers, "study-square")) == len(full.items(Markers, "study-square"))
    assert not [t for t in journal.texts() if t.role.endswith("-counts") or t.role.endswith("-weight")]


def test_footnote_levels(results):
    r = next(x for x in results if x.name == "pi3k-akt-pfs")
    roles = lambda s: {t.role for t in s.texts()}  # noqa: E731
    full = forest_scene(r, style_for(StyleSpec(footnotes="full")))
    short = forest_scene(r, style_for(StyleSpec(footnotes="short")))
    none = forest_scene(r, style_for(StyleSpec(footnotes="none")))
    assert {"footnote", "note"} <= roles(full)
    assert "footnote" in roles(short) and "note" not in roles(short)
    assert not {"footnote", "note"} & roles(none)
    assert none.height < short.height < full.height


def test_marks_only_where_their_notes_are_printed(results):
    """--footnotes none prints no lettered note, so no row carries a mark ('ASPIRE 2014ᵃᵇ' was left
    pointing at nothing); with full or short notes every mark printed has its note."""
    from trialmeta.plot.text import _SUPERSCRIPTS

    marks = set(_SUPERSCRIPTS.values())
    for r in results:
        for level in ("none", "short", "full"):
            scene = forest_scene(r, style_for(StyleSpec(footnotes=level)))
            notes = {t.text.split(" ", 1)[0] for t in scene.texts() if t.role == "footnote"}
            for t in scene.texts():
                if t.role == "footnote":
                    continue
                used = "".join(c for c in t.text if c in marks)
                if level == "none":
                    assert not used, (r.name, t.text)
                for c in used:
                    assert c in "".join(notes), (r.name, level, t.text)


def test_slide_preset_scales_text_and_keeps_the_layout(results):
    """A short forest keeps the slide's 14 pt; a long one is condensed (smaller text, never below
    9 pt) to fit the 16:9 slide rather than run off it."""
    short = next(r for r in results if r.name == "alpelisib-altered-pfs")
    base, slide = forest_scene(short), forest_scene(short, PRESETS["slide"])
    assert min(t.size for t in slide.texts()) == pytest.approx(14.0)
    assert slide.width == pytest.approx(33.9 / 2.54, abs=0.01)
    assert slide.metadata["scale"] == pytest.approx(2.0)
    assert not {"footnote", "note", "title", "subtitle"} & {t.role for t in slide.texts()}
    assert all(p.facecolor == "#1f4e79" for p in slide.items(Polygon, "diamond"))
    assert base.metadata.get("scale") is None
    long = forest_scene(results[0], PRESETS["slide"])
    assert 9.0 <= min(t.size for t in long.texts()) < 14.0
    assert long.height <= 19.1 / 2.54 + 1e-9 < forest_scene(results[0]).height * 2.0


BOXES_CM = {"document": (17.0, 25.0), "journal": (8.5, 25.0), "journal-double": (17.5, 25.0), "slide": (33.9, 19.1)}


@pytest.mark.parametrize("preset", sorted(BOXES_CM))
def test_every_preset_fits_its_box_for_every_analysis(results, preset):
    """Each preset's stated box (a journal's single 8.5 cm or double 17.5 cm column within an A4 text
    height less a caption line, a 16:9 slide, the A4 text width), measured on the drawn figure of every
    analysis: its size and every text's extent as matplotlib renders it. Title and notes are text
    outside the image (the document's caption and notes paragraph)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    box_w, box_h = (x / 2.54 for x in BOXES_CM[preset])
    assert PRESETS[preset].box == pytest.approx((box_w, box_h))
    for r in results:
        scene = forest_scene(r, PRESETS[preset])
        assert scene.width <= box_w + 1e-9 and scene.height <= box_h + 1e-9, (preset, r.name, scene.width * 2.54,
                                                                            scene.height * 2.54)
        assert not {"title", "subtitle", "note"} & {t.role for t in scene.texts()}
        fig = render.render(scene)
        try:
            w, h = fig.get_size_inches()
            renderer = FigureCanvasAgg(fig).get_renderer()
            for ax in fig.axes:
                for t in ax.texts:
                    b = t.get_window_extent(renderer)
                    assert b.x0 >= -0.5 and b.x1 <= w * fig.dpi + 0.5 and b.y0 >= -0.5 and b.y1 <= h * fig.dpi + 0.5, (
                        preset, r.name, t.get_text())
        finally:
            render.close(fig)


def test_font_size_and_width_from_a_block_and_the_command_line_wins(results):
    yaml_block = StyleSpec(preset="journal", font_size=8, width=12)
    cli = StyleSpec(width=10)
    style = style_for(yaml_block, cli)
    assert (style.name, style.font_size, style.compact) == ("journal", 8, True)
    assert style.width == pytest.approx(10 / 2.54)
    scene = forest_scene(results[0], style)
    assert scene.width == pytest.approx(10 / 2.54, abs=1e-6)
    assert min(t.size for t in scene.texts()) == pytest.approx(8.0)


def test_style_sheet_colours_apply_and_text_stays_visible(results):
    style = style_for(StyleSpec(stylesheet="dark_background"))
    fig = render.render(forest_scene(results[0], style))
    try:
        assert fig.get_facecolor()[:3] == (0.0, 0.0, 0.0)
        colours = {t.get_color() for ax in fig.axes for t in ax.texts}
        assert colours == {"white"}  # black ink follows the sheet's text colour
    finally:
        render.close(fig)


def test_invalid_style_blocks_are_rejected():
    from pydantic import ValidationError

    for bad in ({"preset": "poster"}, {"font_size": 3}, {"footnotes": "some"}, {"ink": "not a colour!"},
                {"colour": "red"}):
        with pytest.raises(ValidationError):
            StyleSpec(**bad)


def test_forest_plot_api_takes_a_preset_name(results):
    from trialmeta import forest_plot

    fig = forest_plot(results[0], style="journal")
    try:
        assert fig.get_size_inches()[0] <= SINGLE_COLUMN_IN + 1e-9
    finally:
        render.close(fig)
    with pytest.raises(ValueError, match="unknown style 'poster'"):
        forest_plot(results[0], style="poster")


def test_single_trial_forests_take_the_command_line_style(results):
    """`--style journal` also lays out the single-trial forests (which belong to no analysis)
    in a single column: every population row and estimate kept, the data cut joined to the
    population, counts left out, 7 pt text drawn inside 8.5 cm; without a style they are
    drawn as before."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from trialmeta.plot.trial_forest import trial_forests

    registry = load_registry(TRIALS)
    plain = {(t, e): s for t, e, s in trial_forests(registry, results)}
    styled = {(t, e): s for t, e, s in trial_forests(registry, results, style_for(StyleSpec(preset="journal")))}
    assert plain.keys() == styled.keys() and len(plain) >= 10
    estimates = lambda s: [t.text for t in s.texts() if t.role.endswith("-estimate")]  # noqa: E731
    for key, scene in styled.items():
        assert scene.width <= SINGLE_COLUMN_IN + 1e-9 < plain[key].width, key
        assert estimates(scene) == estimates(plain[key]), key
        assert min(t.size for t in scene.texts()) >= 7.0, key
        assert not [t for t in scene.texts() if t.role.endswith("-counts")], key
        population = [t.text for t in plain[key].texts() if t.role.endswith("-population")]
        joined = " ".join(t.text for t in scene.texts() if t.role.endswith("-population"))
        assert all(word in joined for p in population for word in p.replace("-", " ").split()), key
        cuts = [t.text for t in plain[key].texts() if t.role.endswith("-cut") and t.text[:2] in ("19", "20")]
        assert cuts and all(c in joined.replace("- ", "-").replace(" ", "") or c in joined for c in cuts), key
        assert not [t for t in scene.texts() if t.role.endswith("-cut")], key
        fig = render.render(scene)
        try:
            w = fig.get_size_inches()[0]
            renderer = FigureCanvasAgg(fig).get_renderer()
            for ax in fig.axes:
                for t in ax.texts:
                    box = t.get_window_extent(renderer)
                    assert box.x0 >= -0.5 and box.x1 <= w * fig.dpi + 0.5, (key, t.get_text())
        finally:
            render.close(fig)


def test_trial_forest_plot_api_takes_a_preset_name():
    from trialmeta.plot.figures import trial_forest_plot

    registry = load_registry(TRIALS)
    fig = trial_forest_plot(registry, "faktion", "PFS", style="journal")
    try:
        assert fig.get_size_inches()[0] <= SINGLE_COLUMN_IN + 1e-9
    finally:
        render.close(fig)
    with pytest.raises(ValueError, match="unknown style 'poster'"):
        trial_forest_plot(registry, "faktion", "PFS", style="poster")

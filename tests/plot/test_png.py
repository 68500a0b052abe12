"""PNG encoding of a figure's raster (trialmeta.plot.png, trialmeta.plot.render.raster): lossless
palette PNGs when a palette holds every pixel, RGBA otherwise, and Word's flattened copy."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest
from PIL import Image

matplotlib.use("Agg")

from trialmeta.plot import png  # noqa: E402
from trialmeta.plot.render import RC, encode, raster  # noqa: E402


def _decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


@pytest.mark.parametrize(("size", "dpi"), [((3.33, 2.17), 150), ((6.5, 4.01), 300), ((1.0, 0.7), 72), ((2.345, 1.111), 200)])
def test_raster_is_the_rgba_of_matplotlibs_png_at_odd_sizes(size, dpi):
    """The raster's shape (inches x dpi, truncated, as Agg sizes its canvas) and pixels equal
    those of savefig(format="png") at sizes whose pixel counts are not whole."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [1, 0, 2], color="tab:blue")
    ax.set_title("τ² = 0.01 – a test")
    buf = io.BytesIO()
    with matplotlib.rc_context(RC):  # the settings raster() draws under (path.simplify off...)
        fig.savefig(buf, format="png", dpi=dpi)
    assert np.array_equal(raster(fig, dpi), np.asarray(_decode(buf.getvalue())))


def _picture(colors: int, alpha: int = 255) -> np.ndarray:
    rng = np.random.default_rng(7)
    table = rng.choice(1 << 24, colors, replace=False)  # distinct colours, each one used
    packed = rng.permutation(np.resize(table, 30 * 40)).reshape(30, 40)
    rgb = np.dstack([(packed >> s) & 255 for s in (16, 8, 0)]).astype(np.uint8)
    return np.dstack([rgb, np.full((30, 40), alpha, np.uint8)])


def test_at_most_256_opaque_colours_make_an_exact_palette_png():
    rgba = _picture(256)
    im = _decode(png.png_bytes(rgba, 300))
    assert im.mode == "P" and np.array_equal(np.asarray(im.convert("RGBA")), rgba)
    assert im.info["dpi"][0] == pytest.approx(300, abs=0.01)
    assert png.png_bytes(rgba, 300, palette=True) == png.png_bytes(rgba, 300)
    assert len(_decode(png.png_bytes(rgba, 300)).getcolors(256)) == 256


def test_more_colours_or_transparency_stay_rgba_and_words_copy_gets_a_palette():
    for rgba in (_picture(257), _picture(10, alpha=128)):
        im = _decode(png.png_bytes(rgba, 200))
        assert im.mode == "RGBA" and np.array_equal(np.asarray(im), rgba)
        word = _decode(png.png_bytes(rgba, 200, palette=True))
        assert word.mode == "P" and len(word.convert("RGB").getcolors(4096)) <= 256
    # half-transparent on white: 10 colours flattened stay 10, held exactly
    rgba = _picture(10, alpha=128)
    flat = Image.new("RGB", (40, 30), "white")
    flat.paste(Image.fromarray(rgba), mask=Image.fromarray(rgba[..., 3]))
    word = _decode(png.png_bytes(rgba, 200, palette=True))
    assert np.array_equal(np.asarray(word.convert("RGB")), np.asarray(flat))


def test_palette_order_depends_on_the_pixels_alone():
    """Same pixels, same bytes (colours sorted, not in order of first appearance)."""
    rgba = _picture(5)
    assert png.png_bytes(rgba, 300) == png.png_bytes(rgba.copy(), 300)
    flipped = rgba[::-1].copy()
    assert _decode(png.png_bytes(flipped, 300)).getpalette() == _decode(png.png_bytes(rgba, 300)).getpalette()


def test_encode_rasterises_each_dpi_once(monkeypatch):
    from matplotlib.figure import Figure

    from trialmeta.plot import render

    calls = []
    real = render.raster
    monkeypatch.setattr(render, "raster", lambda fig, dpi: calls.append(dpi) or real(fig, dpi))
    fig = Figure(figsize=(2, 1))
    fig.add_subplot().plot([0, 1], [0, 1], color="black")  # black and greys: a palette PNG
    out = encode(fig, ("png@300", "palette@300", "png"))
    assert calls == [300, 200] and out[0] == out[1]

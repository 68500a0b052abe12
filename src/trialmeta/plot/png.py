"""PNG files from a figure's raster (an RGBA array from Agg): stored with a palette whenever
that changes no pixel, and Word's flattened copy. Pillow and NumPy only (no matplotlib)."""

from __future__ import annotations

#: the PNG text chunk every figure carries (no time stamp: files are byte-identical across runs)
SOFTWARE = {"Software": "trialmeta"}


def png_bytes(rgba, dpi: int, palette: bool = False, metadata: dict[str, str] = SOFTWARE) -> bytes:
    """A PNG of the raster ``rgba``, tagged with its dpi (so Word and LaTeX size it right).

    When no pixel would change (an opaque picture of at most 256 colours: every forest plot we
    draw, black text with the greys of antialiasing and a few style colours), it is stored with a
    palette: a third of the RGBA size, and less than half the time to compress. Otherwise it is
    stored as RGBA; with ``palette`` (Word's copy), it is then flattened on white and, above 256
    colours, reduced to 256 by Pillow's median cut.
    """
    exact = exact_palette(rgba)
    return save(exact if exact is not None else inexact(rgba, palette), dpi, metadata)


def inexact(rgba, palette: bool):
    """A picture that a palette cannot hold as it is: RGBA, or (``palette``) flattened on white
    and given a palette (exact if the flattening leaves at most 256 colours)."""
    import numpy as np
    from PIL import Image

    im = Image.fromarray(rgba)
    if not palette:
        return im
    flat = Image.new("RGB", im.size, "white")
    flat.paste(im, mask=im.getchannel("A"))
    exact = exact_palette(np.asarray(flat.convert("RGBA")))
    return exact if exact is not None else flat.quantize(256, dither=Image.Dither.NONE)


def save(im, dpi: int, metadata: dict[str, str]) -> bytes:
    """``im`` as PNG bytes with its dpi and text ``metadata`` (deterministic: no time stamp)."""
    import io

    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for key, value in metadata.items():
        info.add_text(key, value)
    buf = io.BytesIO()
    im.save(buf, "png", pnginfo=info, dpi=(dpi, dpi))
    return buf.getvalue()


def exact_palette(rgba):
    """``rgba`` as a palette image with exactly its colours, or None (transparency, or > 256
    colours). Colours are sorted, so the file depends on the pixels alone."""
    import numpy as np
    from PIL import Image

    if rgba[..., 3].min() < 255:
        return None
    colors = Image.fromarray(rgba).getcolors(256)
    if colors is None:
        return None
    packed = np.ascontiguousarray(rgba).view("<u4")[..., 0] & np.uint32(0xFFFFFF)  # 0xBBGGRR, any byte order
    rgb = np.array(sorted(c[:3] for _, c in colors), dtype=np.uint32)
    lut = np.zeros(1 << 24, dtype=np.uint8)
    lut[rgb[:, 0] | (rgb[:, 1] << 8) | (rgb[:, 2] << 16)] = np.arange(len(rgb), dtype=np.uint8)
    out = Image.fromarray(lut[packed])  # "L" until putpalette makes it "P"
    out.putpalette(rgb.astype(np.uint8).tobytes())
    return out

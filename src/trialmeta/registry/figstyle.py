"""The figure-style block of ``analyses.yaml`` (per analysis ``style:``) and of the command line.

Only the schema lives here; :mod:`trialmeta.plot.style` holds the presets and turns a block
into the measurements a forest plot is laid out with.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trialmeta.registry.schema import Model

PRESETS = ("revman", "journal", "slide")
FOOTNOTES = ("full", "short", "none")
Colour = Field(None, pattern=r"^(#[0-9a-fA-F]{6}|[a-z]+|0?\.[0-9]+)$",
               description="A colour: '#1f4e79', a name ('navy') or a grey level ('0.35').")


class StyleSpec(Model):
    """A figure style: a preset and what to change in it (every field optional)."""

    preset: Literal["revman", "document", "journal", "journal-double", "slide"] | None = Field(
        None, description="revman (default: 17.4 cm, 7 pt, title and every note in the image); for documents, "
                          "with the title and notes as text outside the image: document (17 cm, A4), journal "
                          "(8.5 cm single column, compact columns, short notes), journal-double (17.5 cm), slide "
                          "(16:9, 33.9 x 19.1 cm, 14 pt condensed to fit, compact, no notes).")
    font_family: str | None = Field(None, min_length=1, max_length=100, pattern=r"^[^/\\\x00-\x1f~]+$",
                                    description="A font family name, never a path; e.g. 'Arial' (falls back to DejaVu Sans "
                                                                    "when the font is not installed).")
    font_size: float | None = Field(None, ge=5, le=24, description="Table text, points (the title is 1.2x).")
    width: float | None = Field(None, gt=0, le=40, description="Figure width in cm.")
    footnotes: Literal["full", "short", "none"] | None = None
    ink: str | None = Colour
    marker: str | None = Colour
    diamond: str | None = Colour
    stylesheet: str | None = Field(None, min_length=1, description="A matplotlib style sheet (name or path): "
                                                                   "its colours and font apply, never its sizes.")

    def merged(self, other: "StyleSpec | None") -> "StyleSpec":
        """This block with the fields ``other`` sets replacing ours (a new preset resets nothing else)."""
        if other is None:
            return self
        return self.model_copy(update=other.model_dump(exclude_none=True))

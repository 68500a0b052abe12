"""What the Word and Excel exports are made from, shared by the registry-wide files
(:mod:`trialmeta.pipeline.export`) and those per analysis or chapter (:mod:`trialmeta.pipeline.chapters`):
the forest and history figures, rendered here to 300 dpi PNG and handed to :mod:`trialmeta.report.docx` as
bytes (so the report layer never imports :mod:`trialmeta.plot`), and the cache key of a file.
"""

from __future__ import annotations

import functools
from pathlib import Path


def document_style(result, style=None):
    """The figure style of ``result``'s forest plot in the Word report: the style analyses.yaml or
    the command line asks for, else the ``document`` preset (A4 text width, the title and notes as
    text outside the image: Word's caption and a notes paragraph)."""
    from trialmeta.plot.style import PRESETS, resolve

    return resolve(result.spec.style, style) or PRESETS["document"]


def forest_scenes(results, style=None) -> dict:
    """Analysis name -> the scene of its forest plot in the Word report (:func:`document_style`)."""
    from trialmeta.plot.forest import forest_scene

    return {r.name: forest_scene(r, document_style(r, style)) for r in results}


DOCX_FIGURES = Path(".cache") / "docx"  #: where refresh keeps the Word figures (300 dpi palette PNGs), cached like the others


def forest_figures(results, scenes: dict, jobs: int | None = None, pngs: dict | None = None, style=None) -> dict:
    """Analysis name -> :class:`trialmeta.report.docx.Figure` (forest plot, 300 dpi palette PNG, with
    the notes its style leaves out of the image). ``pngs``: those already drawn (refresh draws them
    with the forest plots, in its cached figure batch); the others are drawn here on ``jobs``
    processes (default: every core)."""
    from trialmeta.pipeline import parallel
    from trialmeta.pipeline.outputs import WORD_FORMAT
    from trialmeta.plot.forest import figure_notes
    from trialmeta.report.docx import Figure

    pngs = dict(pngs or {})
    todo = [r.name for r in results if r.name not in pngs]
    drawn = parallel.draw_all([(scenes[n], (WORD_FORMAT,)) for n in todo],
                              parallel.default_jobs() if jobs is None else jobs)
    pngs.update({todo[i]: data[0] for i, data in drawn})
    figures = {}
    for r in results:
        used = document_style(r, style)
        notes = figure_notes(r, used) if used.text_outside else ()
        figures[r.name] = Figure(pngs[r.name], scenes[r.name].width, scenes[r.name].height,
                                 f"Forest plot: {r.spec.title}.", notes)
    return figures


def history_figures(results, history: dict) -> dict:
    """Analysis name -> :class:`trialmeta.report.docx.Figure` of its history of the evidence, with
    alt text (``history``: name -> (scene, PNG, steps), :func:`~trialmeta.pipeline.export.write_exports`)."""
    from trialmeta.report.docx import Figure
    from trialmeta.report.wordextra import history_alt_text

    return {r.name: Figure(png, scene.width, scene.height, alt=history_alt_text(r.spec.title, steps))
            for r in results if r.name in history for scene, png, steps in [history[r.name]]}


def export_key(fmt: str, scenes: dict, evidence_doc: dict, as_of, reference: bytes | None = None) -> str:
    """The cache key of ``report.docx`` / ``evidence.xlsx``: everything they are made from (the
    evidence, the figures' scenes, the libraries that write them). Unchanged key: the previous file
    is copied, not rebuilt (:class:`trialmeta.pipeline.cache.FigureCache`)."""
    import hashlib
    import json

    from trialmeta.pipeline.cache import scene_digest

    parts = {"format": fmt, "as_of": as_of, **_writers(),
             "figures": {n: scene_digest(s) for n, s in sorted(scenes.items())} if fmt == "docx" else None,
             "reference_docx": hashlib.sha256(reference).hexdigest() if reference and fmt == "docx" else None,
             # the Word report does not show the inputs' fingerprint (the workbook's Contents sheet does):
             # a comment edited in a trial file does not rebuild it
             "evidence": {k: v for k, v in evidence_doc.items() if fmt == "xlsx" or k != "inputs"}}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@functools.lru_cache(maxsize=1)
def _writers() -> dict:
    """What every export key shares: the drawing environment, the versions of the libraries that write
    the files and the code that builds them (computed once per :func:`~trialmeta.pipeline.export.write_exports` call: a registry of
    a thousand analyses has thousands of keys)."""
    import hashlib
    from importlib.metadata import version

    from trialmeta.pipeline.cache import environment

    return {"environment": environment(),
            "libraries": [version(d) for d in ("python-docx", "openpyxl", "pillow")],
            "code": [hashlib.sha256(Path(__file__).with_name(n).read_bytes()).hexdigest()
                     for n in ("export.py", "export_inputs.py", "chapters.py", "network_outputs.py")]
            + [hashlib.sha256(p.read_bytes()).hexdigest()
               for p in sorted(Path(__file__).parent.parent.joinpath("report").glob("*.py"))]}

"""The export step of refresh and ``trialmeta export``: ``report.docx`` and ``evidence.xlsx``.

Figures are rendered here (300 dpi PNG of each forest plot) and handed to
:mod:`trialmeta.report.docx` as bytes, so the report layer never imports :mod:`trialmeta.plot`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from trialmeta import io
from trialmeta.errors import UsageError

EXPORT_FORMATS = ("docx", "xlsx")
FILES = {"docx": "report.docx", "xlsx": "evidence.xlsx"}


def check_styles(spec, lines: dict, spec_file: str, command_line=None) -> None:
    """Style sheets named in analyses.yaml or on the command line exist and parse (before anything
    is drawn); a font family that is not installed gets one warning on stderr (the figures fall
    back to DejaVu Sans).

    Raises
    ------
    InputError
        A located problem per unknown sheet of analyses.yaml.
    UsageError
        An unknown sheet on the command line.
    """
    from trialmeta.errors import InputError, Problem
    from trialmeta.plot.render import stylesheet_problem

    if command_line is not None and command_line.stylesheet:
        why = stylesheet_problem(command_line.stylesheet)
        if why:
            raise UsageError(f"--stylesheet: {why}")
    problems = []
    for i, a in enumerate(spec.analyses):
        if a.style is not None and a.style.stylesheet:
            # (a path was confined to the registry and made absolute by load_analyses)
            why = stylesheet_problem(a.style.stylesheet, files=os.path.isabs(a.style.stylesheet))
            if why:
                problems.append(Problem(spec_file, lines.get(("analyses", i, "style", "stylesheet")),
                                        f"analyses[{i}].style.stylesheet", why))
    if problems:
        raise InputError(problems)
    _warn_missing_fonts(spec, lines, spec_file, command_line)


def _warn_missing_fonts(spec, lines: dict, spec_file: str, command_line) -> None:
    import sys

    from trialmeta.plot.render import RC, font_available

    named = [("--font", command_line.font_family)] if command_line is not None and command_line.font_family else []
    named += [(f"{spec_file}:{lines.get(('analyses', i, 'style', 'font_family'), '?')}: "
               f"analyses[{i}].style.font_family", a.style.font_family)
              for i, a in enumerate(spec.analyses) if a.style is not None and a.style.font_family]
    for where, family in named:
        if family != RC["font.family"] and not font_available(family):
            print(f"warning: {where}: font {family!r} is not installed (or matplotlib has not seen it: after "
                  f"installing a font, delete matplotlib's fontlist-*.json cache); the figures use "
                  f"{RC['font.family']}", file=sys.stderr)


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
    alt text (``history``: name -> (scene, PNG, steps), :func:`write_exports`)."""
    from trialmeta.report.docx import Figure
    from trialmeta.report.wordextra import history_alt_text

    return {r.name: Figure(png, scene.width, scene.height, alt=history_alt_text(r.spec.title, steps))
            for r in results if r.name in history for scene, png, steps in [history[r.name]]}


def read_reference_docx(path: Path) -> bytes:
    """The bytes of a reference Word document, checked to be one.

    Raises
    ------
    UsageError
        The file is missing, unreadable or not a .docx (a zip holding word/styles.xml).
    """
    import io as _io
    import zipfile

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"--reference-docx: cannot read {io.display(path)}: {exc.strerror or exc}") from None
    try:
        with zipfile.ZipFile(_io.BytesIO(data)) as z:
            z.getinfo("word/styles.xml")
    except (zipfile.BadZipFile, KeyError):
        raise UsageError(f"--reference-docx: {io.display(path)} is not a Word .docx file "
                         "(no word/styles.xml in a zip archive)") from None
    return data


def export_key(fmt: str, scenes: dict, evidence_doc: dict, as_of, reference: bytes | None = None) -> str:
    """The cache key of ``report.docx`` / ``evidence.xlsx``: everything they are made from (the
    evidence, the figures' scenes, the libraries that write them). Unchanged key: the previous file
    is copied, not rebuilt (:class:`trialmeta.pipeline.cache.FigureCache`)."""
    import hashlib
    import json

    from trialmeta.pipeline.cache import environment, scene_digest

    parts = {"format": fmt, "as_of": as_of, "environment": environment(), **_export_code(),
             "figures": {n: scene_digest(s) for n, s in sorted(scenes.items())} if fmt == "docx" else None,
             "reference_docx": hashlib.sha256(reference).hexdigest() if reference and fmt == "docx" else None,
             # the Word report does not show the inputs' fingerprint (the workbook's Contents sheet does):
             # a comment edited in a trial file does not rebuild it
             "evidence": {k: v for k, v in evidence_doc.items() if fmt == "xlsx" or k != "inputs"}}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@lru_cache(maxsize=1)
def _export_code() -> dict:
    """The versions of the libraries that write the Word and Excel files, and the SHA-256 of the
    code that builds them (read once per process)."""
    import hashlib
    from importlib.metadata import version

    return {"libraries": [version(d) for d in ("python-docx", "openpyxl", "pillow")],
            "code": [hashlib.sha256(Path(__file__).with_name(n).read_bytes()).hexdigest()
                     for n in ("export.py", "network_outputs.py")]
            + [hashlib.sha256(p.read_bytes()).hexdigest()
               for p in sorted(Path(__file__).parent.parent.joinpath("report").glob("*.py"))]}


def write_exports(out: Path, formats, results, registry, frame, evidence_doc: dict, as_of=None,
                  style=None, cache=None, jobs: int | None = None, pngs: dict | None = None,
                  scenes: dict | None = None, workers=None, evidence_status: dict | None = None,
                  reference_docx: Path | None = None, history: dict | None = None) -> list[Path]:
    """Write ``out/report.docx`` and/or ``out/evidence.xlsx``; return the paths. With ``cache``
    (refresh's :class:`~trialmeta.pipeline.cache.FigureCache`), a file whose inputs are unchanged since
    the previous refresh is copied from it instead of being rebuilt. ``scenes``: the forest scenes
    (:func:`forest_scenes`) if already built; ``workers`` (:class:`trialmeta.pipeline.parallel.Workers`):
    build the workbook in one of them while this process builds the Word file. ``reference_docx``:
    a company's Word template whose styles the report takes (:func:`read_reference_docx`). ``history``:
    analysis name -> (scene, PNG bytes or a function returning them, steps) of its history of the
    evidence, placed in ``report.docx`` (refresh draws them)."""
    from trialmeta.report import sof

    reference = read_reference_docx(reference_docx) if reference_docx is not None else None
    rows = {r.name: sof.sof_rows(r, registry) for r in results}
    if "appraisal" not in evidence_doc:  # `trialmeta export` passes a short document: the sheets need it
        from trialmeta import tables
        from trialmeta.synthesis.appraisal import appraisal

        evidence_doc = {**evidence_doc, "appraisal": tables.jsonable(appraisal(results, registry))}
    scenes = forest_scenes(results, style) if scenes is None else scenes
    fmts = [f for f in ("docx", "xlsx") if f in formats]
    written = []
    if "docx" in fmts and len(results) > SINGLE_DOCUMENT_LIMIT:
        fmts.remove("docx")
        written += _word_per_analysis(out, results, registry, rows, scenes, evidence_doc, as_of, cache, jobs, pngs,
                                      style, reference)
    keyed = {**evidence_doc, "evidence_status": evidence_status} if evidence_status else evidence_doc
    keyed_scenes = {**scenes, **{f"history/{n}": h[0] for n, h in (history or {}).items()}}
    keys = {f: export_key(f, keyed_scenes, keyed, as_of, reference) if cache is not None else None for f in fmts}
    workbook = None
    if "xlsx" in fmts and workers is not None and (cache is None or not cache.has(FILES["xlsx"], keys["xlsx"])):
        from trialmeta.report.xlsx import evidence_workbook

        workbook = workers.executor.submit(evidence_workbook, results, rows, frame, evidence_doc)
    for fmt in fmts:
        path = Path(out) / FILES[fmt]
        key = keys[fmt]
        data = cache.fetch(FILES[fmt], key) if cache is not None else None
        if data is None and fmt == "docx":
            from trialmeta.report.docx import report_docx

            from trialmeta.pipeline.network_outputs import network_pictures

            networks = evidence_doc.get("networks") or None
            data = report_docx(results, registry, rows, forest_figures(results, scenes, jobs, pngs, style), as_of,
                               evidence_status, reference, networks, network_pictures(out) if networks else None,
                               history_figures(results, history or {}), evidence_doc.get("indirect") or None)
        elif data is None and workbook is not None:
            data = workbook.result()
        elif data is None:
            from trialmeta.report.xlsx import evidence_workbook

            data = evidence_workbook(results, rows, frame, evidence_doc)
        if cache is not None:
            cache.put(FILES[fmt], key, data, path)
        else:
            io.write_bytes(path, data)
        written.append(path)
    return written


#: Beyond this many analyses refresh writes one Word document per analysis (``word/<name>.docx``),
#: each rebuilt only when its own inputs change, instead of the registry-wide ``report.docx``.
SINGLE_DOCUMENT_LIMIT = 20
WORD_DIR = "word"


def _word_per_analysis(out: Path, results, registry, rows: dict, scenes: dict, evidence_doc: dict, as_of, cache,
                       jobs, pngs, style=None, reference: bytes | None = None) -> list[Path]:
    """``word/<name>.docx`` for every analysis; with ``cache``, those whose key (:func:`export_key` of
    that analysis alone) is unchanged are copied from the previous outputs."""
    from trialmeta.report.docx import report_docx

    analyses = {a["name"]: a for a in evidence_doc.get("analyses", [])}
    paths = []
    for r in results:
        rel = f"{WORD_DIR}/{r.name}.docx"
        key = None
        if cache is not None:
            # the document names the registry's size in its opening line: part of its inputs
            part = {"analyses": [analyses.get(r.name)], "trials": len(registry.trials),
                    "defaults": evidence_doc.get("defaults"), "trialmeta_version": evidence_doc.get("trialmeta_version")}
            key = export_key("docx", {r.name: scenes[r.name]}, part, as_of, reference)
        data = cache.fetch(rel, key) if cache is not None else None
        if data is None:
            one = {r.name: pngs[r.name]} if pngs and r.name in pngs else None
            data = report_docx([r], registry, {r.name: rows[r.name]},
                               forest_figures([r], scenes, jobs, one, style), as_of, reference=reference)
        path = Path(out) / rel
        if cache is not None:
            cache.put(rel, key, data, path)
        else:
            io.write_bytes(path, data)
        paths.append(path)
    return paths

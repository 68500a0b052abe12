"""The export step of refresh and ``trialmeta export``: ``report.docx`` and ``evidence.xlsx``, or
beyond :data:`SINGLE_DOCUMENT_LIMIT` analyses (or on request) the files per analysis and per chapter of
:mod:`trialmeta.pipeline.chapters`. The figures and keys they are made from: :mod:`trialmeta.pipeline.export_inputs`.
"""

from __future__ import annotations

import os
from pathlib import Path

from trialmeta import io
from trialmeta.errors import UsageError
# (imported here too: refresh and the tests take them from this module)
from trialmeta.pipeline.export_inputs import (DOCX_FIGURES, _writers, document_style, export_key,  # noqa: F401
                                              forest_figures, forest_scenes, history_figures)

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


def export_files(formats, results, per: str | None = None, full: bool = False) -> list[str]:
    """The files (relative to the output folder) :func:`write_exports` writes for these arguments."""
    fmts = [f for f in ("docx", "xlsx") if f in formats]
    if per is None and (full or len(results) <= SINGLE_DOCUMENT_LIMIT):
        return [FILES[f] for f in fmts]
    from trialmeta.pipeline.chapters import parts, part_path

    if per is not None:
        return [part_path(f, per, name) for name in parts(results, per) for f in fmts]
    return ([part_path("docx", "analysis", r.name) for r in results if "docx" in fmts]
            + [part_path(f, "tag", name) for name in parts(results, "tag", SINGLE_DOCUMENT_LIMIT) for f in fmts])


def _note_large_chapters(results, quiet: bool) -> None:
    import sys

    from trialmeta.synthesis.chapters import LISTED, chapters

    large = [f"{tag} ({len(names)})" for tag, names in chapters(results).items() if len(names) > SINGLE_DOCUMENT_LIMIT]
    if large and not quiet:
        shown = ", ".join(large[:LISTED]) + (f", ... and {len(large) - LISTED} more" if len(large) > LISTED else "")
        print(f"note: chapters of more than {SINGLE_DOCUMENT_LIMIT} analyses get no Word document or workbook of "
              f"their own (they would be rebuilt whole on any change to one of their analyses): {shown}; write one "
              "with trialmeta export --analysis tag:NAME, or narrower tags", file=sys.stderr)


def write_exports(out: Path, formats, results, registry, frame, evidence_doc: dict, as_of=None,
                  style=None, cache=None, jobs: int | None = None, pngs: dict | None = None,
                  scenes: dict | None = None, workers=None, evidence_status: dict | None = None,
                  reference_docx: Path | None = None, history: dict | None = None, per: str | None = None,
                  full: bool = False, quiet: bool = True) -> list[Path]:
    """Write ``out/report.docx`` and/or ``out/evidence.xlsx``; return the paths. With ``cache``
    (refresh's :class:`~trialmeta.pipeline.cache.FigureCache`), a file whose inputs are unchanged since
    the previous refresh is copied from it instead of being rebuilt. ``scenes``: the forest scenes
    (:func:`forest_scenes`) if already built; ``workers`` (:class:`trialmeta.pipeline.parallel.Workers`):
    build the workbook in one of them while this process builds the Word file. ``reference_docx``:
    a company's Word template whose styles the report takes (:func:`read_reference_docx`). ``history``:
    analysis name -> (scene, PNG bytes or a function returning them, steps) of its history of the
    evidence, placed in ``report.docx`` (refresh draws them).

    ``per`` (``"analysis"`` or ``"tag"``): instead, one file per analysis or per chapter
    (:mod:`trialmeta.pipeline.chapters`). Beyond :data:`SINGLE_DOCUMENT_LIMIT` analyses, unless
    ``full``: one Word document per analysis, and one Word document and one workbook per chapter of at
    most that many analyses, instead of the registry-wide files (README "Chapters and selections");
    without ``quiet``, a note on stderr names the larger chapters."""
    from trialmeta.report import sof

    _writers.cache_clear()  # (once per run: a library or the code may have changed since the last)
    reference = read_reference_docx(reference_docx) if reference_docx is not None else None
    rows = {r.name: sof.sof_rows(r, registry) for r in results}
    if "appraisal" not in evidence_doc:  # `trialmeta export` passes a short document: the sheets need it
        from trialmeta import tables
        from trialmeta.synthesis.appraisal import appraisal

        evidence_doc = {**evidence_doc, "appraisal": tables.jsonable(appraisal(results, registry))}
    scenes = forest_scenes(results, style) if scenes is None else scenes
    fmts = [f for f in ("docx", "xlsx") if f in formats]
    if per is not None or (len(results) > SINGLE_DOCUMENT_LIMIT and not full):
        from trialmeta.pipeline.chapters import write_parts

        common = (results, registry, frame, evidence_doc, rows, scenes, as_of, cache, jobs, pngs, style, reference,
                  history)
        if per is not None:
            return write_parts(out, fmts, per, *common)
        # a large registry: a Word document per analysis, a Word document and a workbook per chapter of at
        # most SINGLE_DOCUMENT_LIMIT analyses (a larger one would cost, on every change to any of its analyses,
        # what the registry-wide document did: written on request, `export --analysis tag:NAME`)
        _note_large_chapters(results, quiet)
        return (write_parts(out, [f for f in fmts if f == "docx"], "analysis", *common)
                + write_parts(out, fmts, "tag", *common, largest=SINGLE_DOCUMENT_LIMIT))
    written = []
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


#: Beyond this many analyses refresh (and ``trialmeta export`` of the whole registry, without ``--full``)
#: writes one Word document per analysis (``word/<name>.docx``) and one Word document and one workbook per
#: chapter (``word/chapters/<tag>.docx``, ``excel/chapters/<tag>.xlsx``), each rebuilt only when its own
#: inputs change, instead of the registry-wide ``report.docx`` and ``evidence.xlsx``.
SINGLE_DOCUMENT_LIMIT = 20

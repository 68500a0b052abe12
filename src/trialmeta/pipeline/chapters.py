"""Word documents and Excel workbooks of parts of the registry: one per analysis or one per chapter.

A chapter is a tag of analyses.yaml (:func:`trialmeta.synthesis.chapters.chapters`; the analyses
without tags form the chapter ``untagged``). Files, relative to the output folder:

* per analysis: ``word/<analysis>.docx`` and ``excel/<analysis>.xlsx``;
* per chapter: ``word/chapters/<tag>.docx`` and ``excel/chapters/<tag>.xlsx`` (a folder of their
  own, so a tag and an analysis of the same name never collide).

Each file is keyed by its own inputs (:func:`part_key`): with refresh's
:class:`~trialmeta.pipeline.cache.FigureCache`, one whose analyses, figures and trials are unchanged is
copied from the previous outputs, so a change rebuilds only the files of the analyses it touches.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from trialmeta import io

WORD_DIR, EXCEL_DIR, CHAPTERS_DIR = "word", "excel", "chapters"
PER = ("analysis", "tag")


def part_path(fmt: str, per: str, name: str) -> str:
    """The file (relative to the output folder) of the analysis or chapter ``name``."""
    folder = WORD_DIR if fmt == "docx" else EXCEL_DIR
    return f"{folder}/{name}.{fmt}" if per == "analysis" else f"{folder}/{CHAPTERS_DIR}/{name}.{fmt}"


def parts(results, per: str, largest: int | None = None) -> dict[str, list]:
    """Part name -> its results, in analyses.yaml's order: one part per analysis (``per="analysis"``)
    or per chapter (``per="tag"``); ``largest``: only the chapters of at most that many analyses."""
    if per == "analysis":
        return {r.name: [r] for r in results}
    from trialmeta.synthesis.chapters import chapters

    by_name = {r.name: r for r in results}
    return {tag: [by_name[n] for n in names] for tag, names in chapters(results).items()
            if largest is None or len(names) <= largest}


def trial_ids(results) -> set[str]:
    """The trials the analyses of ``results`` name (their subgroups' studies and trials)."""
    return {t for r in results for g in r.spec.subgroups for t in (*(s.trial for s in g.studies), *g.trials)}


def trial_file_digests(registry) -> dict[str, str]:
    """Trial id -> SHA-256 of its file (those read from a file)."""
    return {t.trial.id: hashlib.sha256(Path(t.path).read_bytes()).hexdigest()
            for t in registry.trials if t.path is not None and Path(t.path).is_file()}


def part_evidence(results, registry, frame, evidence_doc: dict, digests: dict | None = None):
    """The evidence document and results table of a part: its analyses, their appraisal and, for a
    workbook (``digests``: :func:`trial_file_digests`), the fingerprint of its trial files (not the
    registry's: an edit elsewhere leaves it unchanged) and the rows of ``frame`` (the registry's
    results table) of its trials; else the table is None."""
    names = {r.name for r in results}
    ids = trial_ids(results)
    doc = {k: evidence_doc.get(k) for k in ("trialmeta_version", "as_of", "defaults") if k in evidence_doc}
    doc["analyses"] = [a for a in evidence_doc.get("analyses", []) if a.get("name") in names]
    if "appraisal" in evidence_doc:
        doc["appraisal"] = [a for a in evidence_doc["appraisal"] if a.get("analysis") in names]
    else:  # `trialmeta export` passes a short document
        from trialmeta import tables
        from trialmeta.synthesis.appraisal import appraisal

        doc["appraisal"] = tables.jsonable(appraisal(results, registry))
    if digests is None:
        return doc, None
    inputs = evidence_doc.get("inputs")
    if inputs and inputs.get("files"):
        mine = {digests[i] for i in ids if i in digests}
        files = {n: sha for n, sha in inputs["files"].items() if sha in mine}
        total = hashlib.sha256("".join(f"{k}\0{v}\n" for k, v in files.items()).encode()).hexdigest()
        doc["inputs"] = {"fingerprint": total, "files": files}
    if frame is not None and "trial" in getattr(frame, "columns", ()):
        frame = frame[frame["trial"].isin(sorted(ids))].reset_index(drop=True)
    return doc, frame


def part_key(fmt: str, results, registry, frame, doc: dict, scenes: dict, history: dict, as_of,
             reference: bytes | None) -> str:
    """The cache key of one part (:func:`trialmeta.pipeline.export_inputs.export_key` of its own inputs)."""
    from trialmeta import tables
    from trialmeta.pipeline.export_inputs import export_key

    names = [r.name for r in results]
    # the Word document names the registry's size in its opening line: part of its inputs
    keyed = {**doc, "trials": len(registry.trials),
             "frame": hashlib.sha256(tables.frame_csv(frame).encode()).hexdigest()
             if fmt == "xlsx" and frame is not None else None}
    figures = ({**{n: scenes[n] for n in names}, **{f"history/{n}": history[n][0] for n in names if n in history}}
               if fmt == "docx" else {})  # (a workbook has no figures: refresh builds it before the scenes exist)
    return export_key(fmt, figures, keyed, as_of, reference)


def write_parts(out: Path, formats, per: str, results, registry, frame, evidence_doc: dict, rows: dict,
                scenes: dict, as_of=None, cache=None, jobs: int | None = None, pngs: dict | None = None,
                style=None, reference: bytes | None = None, history: dict | None = None,
                largest: int | None = None) -> list[Path]:
    """Write every part's Word document and/or workbook (:func:`part_path`) into ``out`` (``largest``:
    as :func:`parts`); return the paths. With ``cache``, a part whose key is unchanged is copied, not rebuilt. The forest plots
    the rebuilt Word documents need and ``pngs`` lacks are drawn first, in one batch on ``jobs``
    processes (an analysis in several chapters is drawn once)."""
    from trialmeta.pipeline.export_inputs import forest_figures, history_figures

    history = history or {}
    digests = trial_file_digests(registry) if "xlsx" in formats else None
    plan = []  # (members, format, file, key, part's evidence document, its results table)
    for group, members in parts(results, per, largest).items():
        doc, sub = part_evidence(members, registry, frame, evidence_doc, digests)
        for fmt in (f for f in ("docx", "xlsx") if f in formats):
            key = (part_key(fmt, members, registry, sub, doc, scenes, history, as_of, reference)
                   if cache is not None else None)
            plan.append((members, fmt, part_path(fmt, per, group), key, doc, sub))
    todo = {r.name: r for members, fmt, rel, key, _, _ in plan
            if fmt == "docx" and (cache is None or not cache.has(rel, key)) for r in members}
    figures = forest_figures(list(todo.values()), scenes, jobs, pngs, style) if todo else {}
    paths = []
    for members, fmt, rel, key, doc, sub in plan:
        data = cache.fetch(rel, key) if cache is not None else None
        if data is None and fmt == "docx":
            from trialmeta.report.docx import report_docx

            missing = [r for r in members if r.name not in figures]  # (a cached copy found changed after all)
            if missing:
                figures.update(forest_figures(missing, scenes, jobs, pngs, style))
            data = report_docx(members, registry, {r.name: rows[r.name] for r in members},
                               {r.name: figures[r.name] for r in members}, as_of, reference=reference,
                               history=history_figures(members, history))
        elif data is None:
            from trialmeta.report.xlsx import evidence_workbook

            data = evidence_workbook(members, {r.name: rows[r.name] for r in members}, sub, doc)
        path = Path(out) / rel
        if cache is not None:
            cache.put(rel, key, data, path)
        else:
            io.write_bytes(path, data)
        paths.append(path)
    return paths

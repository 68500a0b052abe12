"""``trialmeta export`` and refresh's export step: ``report.docx`` and ``evidence.xlsx``.

Figures are rendered here (300 dpi PNG of each forest plot) and handed to
:mod:`trialmeta.report.docx` as bytes, so the report layer never imports :mod:`trialmeta.plot`.
"""

from __future__ import annotations

from pathlib import Path

from trialmeta import io

EXPORT_FORMATS = ("docx", "xlsx")
FILES = {"docx": "report.docx", "xlsx": "evidence.xlsx"}
DPI = 300


def check_export_formats(text: str) -> tuple[str, ...]:
    out = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in out if f not in EXPORT_FORMATS]
    if bad or not out:
        raise io.UsageError(f"--format: unknown export format(s) {', '.join(bad) or '(none given)'}; "
                            f"choose from {', '.join(EXPORT_FORMATS)}")
    return out


def forest_figures(results, style=None) -> dict:
    """Analysis name -> :class:`trialmeta.report.docx.Figure` (forest plot, 300 dpi PNG)."""
    from trialmeta.plot import render
    from trialmeta.plot.forest import forest_scene
    from trialmeta.plot.style import resolve
    from trialmeta.report.docx import Figure

    figures = {}
    for r in results:
        scene = forest_scene(r, resolve(r.spec.style, style))
        fig = render.render(scene)
        try:
            png = render.to_bytes(fig, "png", dpi=DPI)
        finally:
            render.close(fig)
        figures[r.name] = Figure(png, scene.width, scene.height, f"Forest plot: {r.spec.title}.")
    return figures


def write_exports(out: Path, formats, results, registry, frame, evidence_doc: dict, as_of=None,
                  style=None) -> list[Path]:
    """Write ``out/report.docx`` and/or ``out/evidence.xlsx``; return the paths."""
    from trialmeta.report import sof

    rows = {r.name: sof.sof_rows(r, registry) for r in results}
    written = []
    if "docx" in formats:
        from trialmeta.report.docx import report_docx

        path = Path(out) / FILES["docx"]
        io.write_bytes(path, report_docx(results, registry, rows, forest_figures(results, style), as_of))
        written.append(path)
    if "xlsx" in formats:
        from trialmeta.report.xlsx import evidence_workbook

        path = Path(out) / FILES["xlsx"]
        io.write_bytes(path, evidence_workbook(results, rows, frame, evidence_doc))
        written.append(path)
    return written

"""``trialmeta export``: parse its options, write ``report.docx`` and/or ``evidence.xlsx`` through
:mod:`trialmeta.pipeline.export` and print the paths."""

from __future__ import annotations

from trialmeta import io
from trialmeta.errors import UsageError
from trialmeta.pipeline.export import EXPORT_FORMATS, check_styles


def check_export_formats(text: str) -> tuple[str, ...]:
    out = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in out if f not in EXPORT_FORMATS]
    if bad or not out:
        raise UsageError(f"--format: unknown export format(s) {', '.join(bad) or '(none given)'}; "
                            f"choose from {', '.join(EXPORT_FORMATS)}")
    return out


def cmd_export(args) -> int:
    from trialmeta.cli.inputs import as_of as _as_of
    from trialmeta.cli.inputs import load_all as _load_all
    from trialmeta.registry.frame import results_frame
    from trialmeta.synthesis.run import run_analyses
    from trialmeta.synthesis.selection import filter_as_of
    from trialmeta import __version__

    from trialmeta.cli.inputs import cli_style

    formats = check_export_formats(args.format)
    style = cli_style(args)
    if args.reference_docx is not None:  # checked before any work
        from trialmeta.pipeline.export import read_reference_docx

        read_reference_docx(args.reference_docx)
    registry, spec, lines, spec_file = _load_all(args.path)
    names = [a.name for a in spec.analyses]
    if args.analysis is not None and args.analysis not in names:
        from trialmeta.errors import suggest

        raise UsageError(f"unknown analysis {args.analysis!r}{suggest(args.analysis, names)}; "
                             f"defined in {spec_file}: {', '.join(names)}")
    check_styles(spec, lines, spec_file, style)
    as_of = _as_of(args.as_of)
    results = run_analyses(registry, spec, as_of=as_of, only=args.analysis, spec_file=spec_file, lines=lines)
    frame, _ = filter_as_of(results_frame(registry), as_of)
    files = [t.file for t in registry.trials] + [spec_file]
    doc = {"trialmeta_version": __version__, "as_of": as_of, "inputs": io.fingerprint(files, args.path)}
    from trialmeta.living.state import saved_state
    from trialmeta.pipeline.run import write_export_files

    for path in write_export_files(formats, results, registry, frame, doc, args.out, as_of, style,
                                   saved_state(args.path), args.reference_docx,
                                   overwrite_edits=args.overwrite_edits):
        print(io.display(path))  # (written first in a temporary folder; never a file trialmeta did not write replaced)
    return 0

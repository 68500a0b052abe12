"""``trialmeta export``: parse its options, write ``report.docx`` and/or ``evidence.xlsx`` (or one
file per analysis or chapter: ``--per``) of the analyses ``--analysis`` selects through
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
    if args.full and args.per is not None:
        raise UsageError("--full writes one document, --per one per analysis or tag: give one of them")
    registry, spec, lines, spec_file = _load_all(args.path)
    from trialmeta.cli.inputs import selected

    only = selected(args.analysis, spec, spec_file)
    check_styles(spec, lines, spec_file, style)
    as_of = _as_of(args.as_of)
    results = run_analyses(registry, spec, as_of=as_of, only=only, spec_file=spec_file, lines=lines)
    frame, _ = filter_as_of(results_frame(registry), as_of)
    if only is not None:  # the results table of a selection: the rows of its trials
        from trialmeta.pipeline.chapters import trial_ids

        frame = frame[frame["trial"].isin(sorted(trial_ids(results)))].reset_index(drop=True)
    files = [t.file for t in registry.trials] + [spec_file]
    doc = {"trialmeta_version": __version__, "as_of": as_of, "inputs": io.fingerprint(files, args.path)}
    from trialmeta.living.state import saved_state
    from trialmeta.pipeline.run import write_export_files

    # a selection is one document whatever its size; the whole registry, beyond the limit, what refresh writes
    full = args.full or (only is not None and args.per is None)
    paths = write_export_files(formats, results, registry, frame, doc, args.out, as_of, style, saved_state(args.path),
                               args.reference_docx, overwrite_edits=args.overwrite_edits, per=args.per, full=full)
    for path in paths:
        print(io.display(path))  # (written first in a temporary folder; never a file trialmeta did not write replaced)
    _note_size(paths, len(results), args.per)
    return 0


def _note_size(paths, analyses: int, per) -> None:
    """A single document beyond :data:`~trialmeta.pipeline.export.SINGLE_DOCUMENT_LIMIT` analyses:
    a note on stderr of its size, and how to split it."""
    import sys

    from trialmeta.pipeline.export import SINGLE_DOCUMENT_LIMIT

    if per is not None or analyses <= SINGLE_DOCUMENT_LIMIT:
        return
    for path in paths:
        if path.parent.name not in ("word", "excel", "chapters"):
            print(f"note: {io.display(path)} holds {analyses} analyses ({path.stat().st_size / 1e6:.1f} MB); "
                  f"beyond {SINGLE_DOCUMENT_LIMIT}, documents per chapter (--per tag) or per analysis "
                  "(--per analysis) open and print faster", file=sys.stderr)

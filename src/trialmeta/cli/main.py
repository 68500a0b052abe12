"""Command-line interface: parse arguments, call the library, map the outcome to an exit code.

Exit codes: 0 success, 1 invalid input or failed analysis (located messages on stderr),
2 usage error. No statistics here, and never a traceback for a user's mistake.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from trialmeta.cli.args import build_parser
from trialmeta.cli.inputs import as_of as _as_of
from trialmeta.cli.inputs import load_all as _load_all
from trialmeta.errors import InputError, TrialmetaError, UsageError


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (tests call this directly)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    handler = _handler(args.command)
    try:
        return handler(args)
    except InputError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        n = sum(p.severity == "error" for p in exc.problems)
        kept = f"; {args.out} was left unchanged" if hasattr(args, "out") else ""
        print(f"{n} error{'s' if n != 1 else ''} found{kept}.", file=sys.stderr)
        return 1
    except TrialmetaError as exc:
        print(f"trialmeta: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except OSError as exc:  # the environment: disk full, read-only, permissions, a vanished file
        where = f" {exc.filename}" if exc.filename else ""
        print(f"trialmeta: error:{where}: {exc.strerror or exc}"
              + ("; nothing was changed" if args.command == "refresh" else ""), file=sys.stderr)
        return 1
    except UnicodeEncodeError as exc:  # a terminal or pipe that cannot show the output
        enc = getattr(sys.stdout, "encoding", "?")
        print(f"trialmeta: error: the output contains {exc.object[exc.start:exc.end]!r}, which the output "
              f"encoding {enc} cannot represent; set PYTHONIOENCODING=utf-8 (or a UTF-8 locale such as "
              "LANG=C.UTF-8) and try again", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("trialmeta: interrupted; nothing was changed.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug in trialmeta, not in the user's input
        if os.environ.get("TRIALMETA_DEBUG"):
            raise
        print(f"trialmeta: internal error: {type(exc).__name__}: {exc} "
              "(please report it; set TRIALMETA_DEBUG=1 to see the traceback)", file=sys.stderr)
        return 3


def _handler(command: str):
    """The function that runs ``command`` (imported on use: quick commands stay quick)."""
    if command in ("pool-table", "reconstruct", "network-table"):
        from trialmeta.cli import owndata

        return getattr(owndata, f"cmd_{command.replace('-', '_')}")
    if command in ("check-updates", "new-trial", "crosscheck"):
        from trialmeta.cli import living

        return getattr(living, f"cmd_{command.replace('-', '_')}")
    if command == "export":
        from trialmeta.cli.export_command import cmd_export

        return cmd_export
    return globals()[f"cmd_{command.replace('-', '_')}"]


def cmd_validate(args) -> int:
    from trialmeta import io
    from trialmeta.registry.load import load_registry

    analyses = None
    if not (Path(args.path).is_dir() and io.analyses_file(args.path) is not None):
        registry = load_registry(args.path)
    else:
        # a directory is the whole registry: check that its analyses resolve and respect the guards
        # (resolution only: nothing is pooled, so validate imports neither SciPy nor PyMARE)
        from trialmeta.synthesis.resolve import resolve_analyses

        registry, spec, lines, spec_file = _load_all(args.path)
        prepared, _ = resolve_analyses(registry, spec, spec_file=spec_file, lines=lines)
        analyses = (spec_file, len(prepared))
    for w in registry.warnings:
        print(w, file=sys.stderr)
    if not args.quiet:
        print(f"{_count(len(registry.trials), 'trial')} valid"
              + (f" ({_count(len(registry.warnings), 'warning')})" if registry.warnings else ""))
        for t in registry.trials:
            tr = t.trial
            print(f"  {tr.acronym:<14} {t.file:<28} {_count(len(tr.populations), 'population', 2)}  "
                  f"{_count(len(tr.data_cuts), 'data cut', 2)}  {_count(len(tr.results), 'result', 3)}".rstrip())
        if analyses is not None:
            print(f"{_count(analyses[1], 'analysis', plural='analyses')} in {analyses[0]} "
                  "resolve and respect the guards")
    return 0


def _count(n: int, word: str, width: int = 0, plural: str | None = None) -> str:
    """'1 data cut ' / '3 data cuts': singular or plural, padded so table columns stay aligned."""
    many = plural or word + "s"
    return f"{n:>{width}} " + (many if n != 1 else word.ljust(len(many)) if width else word)


def cmd_results(args) -> int:
    from trialmeta import tables
    from trialmeta.registry.frame import results_frame
    from trialmeta.registry.load import load_registry

    frame = results_frame(load_registry(args.path))
    if args.format == "csv":
        sys.stdout.write(tables.frame_csv(frame))
    elif args.format == "json":
        sys.stdout.write(json.dumps({"results": tables.records(frame)}, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(tables.results_text(frame))
    return 0


def cmd_schema(args) -> int:
    from trialmeta.registry.schema import trial_json_schema

    sys.stdout.write(json.dumps(trial_json_schema(), indent=2, ensure_ascii=False) + "\n")
    return 0


def cmd_init(args) -> int:
    from trialmeta import io
    from trialmeta.registry.scaffold import init_registry

    for path in init_registry(args.path):
        print(io.display(path))
    here = io.display(args.path)
    go = "" if here == "." else f"cd {here} && "
    print(f"new registry in {here}: next, {go}trialmeta validate trials && trialmeta refresh trials", file=sys.stderr)
    return 0


def cmd_pool(args) -> int:
    from trialmeta.report import evidence
    from trialmeta import tables
    from trialmeta.synthesis.run import run_analyses

    registry, spec, lines, spec_file = _load_all(args.path)
    from trialmeta.cli.inputs import selected

    only = selected(args.analysis, spec, spec_file)
    as_of = _as_of(args.as_of)
    if args.include_unverified:  # results imported from ClinicalTrials.gov and not yet checked may enter
        spec = spec.model_copy(update={"defaults": spec.defaults.model_copy(update={"include_unverified": True})})
    results = run_analyses(registry, spec, as_of=as_of, only=only, spec_file=spec_file, lines=lines)
    if args.format == "json":
        payload = {"analyses": [r.to_dict() for r in results]}
        sys.stdout.write(json.dumps(tables.jsonable(payload), indent=2, ensure_ascii=False) + "\n")
    elif args.format == "csv":
        import pandas as pd

        sys.stdout.write(tables.frame_csv(pd.concat([r.frame() for r in results], ignore_index=True)))
    elif args.format == "md":
        sys.stdout.write("\n".join(evidence.to_markdown(r) for r in results))
    else:
        sys.stdout.write("\n".join(evidence.to_text(r) for r in results))
    return 0


def _style(args):
    from trialmeta.cli.inputs import cli_style

    return cli_style(args)


def _registry_path(args) -> Path:
    """refresh's registry folder: the positional PATH, as every command takes it (``--trials DIR``
    is its deprecated old spelling)."""
    from trialmeta.cli.args import DEFAULT_TRIALS

    if args.trials is not None:
        if args.path is not None and args.path != args.trials:
            raise UsageError(f"trialmeta refresh: error: two registry folders given: {args.path} and --trials "
                             f"{args.trials}")
        print("warning: --trials DIR is deprecated; give the folder as the first argument: "
              f"trialmeta refresh {args.trials}", file=sys.stderr)
    return args.path or args.trials or DEFAULT_TRIALS


def cmd_refresh(args) -> int:
    from trialmeta.pipeline.run import refresh

    if args.quiet:  # matplotlib's "Glyph ... missing from font" (once per glyph, figure and worker) too
        import warnings

        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
    summary = refresh(_registry_path(args), args.out, as_of=_as_of(args.as_of), jobs=args.jobs, style=_style(args),
                      cache=args.cache, wait=args.wait, quiet=args.quiet, cache_dir=args.cache_dir,
                      overwrite_edits=args.overwrite_edits, executor=args.executor, scheduler=args.scheduler)
    if not args.quiet:
        print(summary)
    return 0


def cmd_forest(args) -> int:
    from trialmeta import io
    from trialmeta.plot.figures import check_formats
    from trialmeta.synthesis.run import run_analyses

    try:
        formats = check_formats(args.format.split(","))
    except ValueError as exc:
        raise UsageError(f"--format: {exc}") from None
    if args.table is not None:
        from trialmeta.cli.owndata import cmd_forest_table

        return cmd_forest_table(args, formats)
    registry, spec, lines, spec_file = _load_all(args.path)
    from trialmeta.cli.inputs import selected

    only = selected(args.analysis, spec, spec_file)
    from trialmeta.pipeline.export import check_styles

    style = _style(args)
    check_styles(spec, lines, spec_file, style)
    results = run_analyses(registry, spec, as_of=_as_of(args.as_of), only=only, spec_file=spec_file,
                           lines=lines)
    from trialmeta.pipeline.run import write_forest_files

    paths = write_forest_files(results, registry, args.out, formats, trials=args.analysis is None, jobs=args.jobs,
                               style=style)
    stems = list(dict.fromkeys(p.with_suffix("") for p in paths))
    suffix = f"{{{','.join(formats)}}}" if len(formats) > 1 else formats[0]
    for stem in stems:
        print(f"{io.display(stem)}.{suffix}")
    print(f"{_count(len(stems), 'forest plot')}, {_count(len(paths), 'file')} in {io.display(args.out)}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

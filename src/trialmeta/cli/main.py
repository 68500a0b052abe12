"""Command-line interface: parse arguments, call the library, map the outcome to an exit code.

Exit codes: 0 success, 1 invalid input or failed analysis (located messages on stderr),
2 usage error. No statistics here, and never a traceback for a user's mistake.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

from trialmeta.cli.args import build_parser
from trialmeta.cli.export import cli_style
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
    handler = globals()[f"cmd_{args.command.replace('-', '_')}"]
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


def _load_all(path: Path):
    """Registry and analyses beside it (``trials/analyses.yaml``)."""
    from trialmeta import io
    from trialmeta.registry.analyses import load_analyses
    from trialmeta.registry.load import load_registry

    registry = load_registry(path)
    spec_path = io.analyses_file(path)
    if spec_path is None:
        raise TrialmetaError(f"no {io.ANALYSES_FILE} beside the trial files in {io.display(path)}")
    spec, lines = load_analyses(spec_path)
    return registry, spec, lines, io.display(spec_path)


def cmd_pool(args) -> int:
    from trialmeta.report import evidence
    from trialmeta import tables
    from trialmeta.synthesis.run import run_analyses

    registry, spec, lines, spec_file = _load_all(args.path)
    names = [a.name for a in spec.analyses]
    if args.analysis is not None and args.analysis not in names:
        from trialmeta.errors import suggest

        raise TrialmetaError(f"unknown analysis {args.analysis!r}{suggest(args.analysis, names)}; "
                             f"defined in {spec_file}: {', '.join(names)}")
    as_of = _as_of(args.as_of)
    results = run_analyses(registry, spec, as_of=as_of, only=args.analysis, spec_file=spec_file, lines=lines)
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


def _as_of(value: str | None) -> str | None:
    if value is None:
        return None
    from trialmeta.registry.schema import _partial_date

    try:
        return _partial_date(value)
    except ValueError as exc:
        raise TrialmetaError(f"--as-of: {exc}") from None


def cmd_pool_table(args) -> int:
    from trialmeta import io, tables
    from trialmeta.stats.pooling import PoolSettings
    from trialmeta.synthesis.owndata import COLUMNS
    from trialmeta.synthesis.pooltable import format_groups, pool_table, read_effects_table

    for flag, value in (("--level", args.level), ("--input-level", args.input_level)):
        if not 0.5 < value < 1:
            raise UsageError(f"{flag} must be a fraction between 0.5 and 1 (e.g. 0.95), got {value:g}")
    if not Path(args.file).is_file():
        raise UsageError(f"{io.display(args.file)}: no such file")
    known = sorted({c for cols in COLUMNS.values() for c in cols} | {"study", "ci_level"})
    mapping = {}
    for item in args.col:
        canon, sep, header = item.partition("=")
        if not sep or canon.strip() not in known or not header.strip():
            raise UsageError(f"--col {item}: expected NAME=HEADER with NAME one of {', '.join(known)}")
        mapping[canon.strip()] = header.strip()
    name = io.display(args.file)
    xlsx = Path(args.file).suffix.lower() in (".xlsx", ".xlsm")
    content = io.read_input_bytes(args.file) if xlsx else io.read_input_text(args.file)
    frame = read_effects_table(content, name, ci_level=args.input_level, measure=args.measure, mapping=mapping,
                               xlsx=xlsx, sheet=args.sheet)
    if not (args.prior_scale > 0 and math.isfinite(args.prior_scale)):
        raise UsageError(f"--prior-scale must be a number > 0 (e.g. 0.5), got {args.prior_scale:g}")
    counts = frame["se_from"].iloc[0] == "counts"
    method = args.method or ("mh" if counts else "reml")
    pool_method = method if method in ("mh", "peto") else "iv"
    settings = PoolSettings(method="fe" if pool_method != "iv" else method, ci="wald" if pool_method != "iv"
                            else args.ci, level=args.level, prediction=args.prediction, prior=args.prior,
                            prior_scale=args.prior_scale)
    result = pool_table(frame, by=args.by, settings=settings, name=name, measure=args.measure, method=pool_method)
    if frame.attrs.get("decimal_comma"):
        result["notes"] = [f"{name}: decimal commas read as decimal points"]
    if args.format == "json":
        sys.stdout.write(json.dumps(tables.jsonable(result), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(format_groups(result, args.format, settings))
    return 0


def cmd_refresh(args) -> int:
    from trialmeta.cli.refresh import refresh

    from trialmeta import outdir

    as_of = _as_of(args.as_of)
    try:  # before any work, and before taking the lock beside it: refresh replaces only a folder it wrote
        outdir.check_target(args.out)
    except outdir.OutputRefused:
        if not outdir.has_leftovers(args.out):  # else it may be an interrupted swap, recovered below
            raise
    with outdir.refresh_lock(args.out, args.wait):
        outdir.recover(args.out)
        outdir.check_target(args.out)
        summary = refresh(args.trials, args.out, as_of=as_of, quiet=args.quiet, jobs=args.jobs, cache=args.cache,
                          style=cli_style(args))
    if not args.quiet:
        print(summary)
    return 0


def cmd_reconstruct(args) -> int:
    from trialmeta import io, tables
    from trialmeta.survival.reconstruct import format_table, ipd_csv, reconstruct

    if args.figure is not None and args.figure.suffix not in (".png", ".svg", ".pdf"):
        raise UsageError(f"--figure {args.figure}: the file must end in .png, .svg or .pdf")
    texts, problems = [], []
    for path in (args.curves, args.at_risk):
        if not path.is_file():
            raise UsageError(f"{io.display(path)}: no such file")
        try:
            texts.append(io.read_input_text(path))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    result = reconstruct(
        *texts, curves_name=io.display(args.curves), at_risk_name=io.display(args.at_risk),
        events={"experimental": args.events_exp, "control": args.events_ctrl},
        randomised={"experimental": args.n_exp, "control": args.n_ctrl},
        randomised_source="--n-exp/--n-ctrl", horizon=args.horizon,
        survival_scale=args.survival_scale, event_times=args.event_times,
        events_source={"experimental": "--events-exp", "control": "--events-ctrl"},
        accept_event_mismatch=args.accept_event_mismatch, accept_source="pass --accept-event-mismatch")
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    if args.ipd is not None:
        io.write_text(args.ipd, ipd_csv(result))
    if args.figure is not None:
        from trialmeta.cli.outputs import write_km_figure

        write_km_figure(result, args.figure.with_suffix(""), formats=(args.figure.suffix[1:],), title=args.title)
    if args.format == "json":
        sys.stdout.write(json.dumps(tables.jsonable(result.to_dict()), indent=2, allow_nan=False) + "\n")
    else:
        sys.stdout.write(format_table(result))
    return 0


def cmd_forest(args) -> int:
    from trialmeta import io
    from trialmeta.cli.outputs import write_forests
    from trialmeta.plot.figures import check_formats
    from trialmeta.synthesis.run import run_analyses

    try:
        formats = check_formats(args.format.split(","))
    except ValueError as exc:
        raise UsageError(f"--format: {exc}") from None
    registry, spec, lines, spec_file = _load_all(args.path)
    names = [a.name for a in spec.analyses]
    if args.analysis is not None and args.analysis not in names:
        from trialmeta.errors import suggest

        raise TrialmetaError(f"unknown analysis {args.analysis!r}{suggest(args.analysis, names)}; "
                             f"defined in {spec_file}: {', '.join(names)}")
    from trialmeta.cli.export import check_styles

    style = cli_style(args)
    check_styles(spec, lines, spec_file, style)
    results = run_analyses(registry, spec, as_of=_as_of(args.as_of), only=args.analysis, spec_file=spec_file,
                           lines=lines)
    import shutil
    import tempfile

    from trialmeta import outdir
    from trialmeta.cli.outputs import Figures

    with tempfile.TemporaryDirectory(prefix="trialmeta-forest-") as tmp:  # draw first: no half-written folder
        staged = write_forests(results, registry, Path(tmp), formats, trials=args.analysis is None,
                               figures=(batch := Figures(jobs=args.jobs)), style=style)
        batch.write()
        root, prefix = outdir.claim(args.out, [p.name for p in staged])  # never overwrite a user's file
        Path(args.out).mkdir(parents=True, exist_ok=True)
        paths = [Path(shutil.move(p, Path(args.out) / p.name)) for p in staged]
    outdir.record(root, [prefix + p.name for p in paths])
    stems = list(dict.fromkeys(p.with_suffix("") for p in paths))
    suffix = f"{{{','.join(formats)}}}" if len(formats) > 1 else formats[0]
    for stem in stems:
        print(f"{io.display(stem)}.{suffix}")
    print(f"{len(stems)} forest plots, {len(paths)} files in {io.display(args.out)}", file=sys.stderr)
    return 0


def cmd_export(args) -> int:
    from trialmeta import io
    from trialmeta.cli.export import check_export_formats, write_exports
    from trialmeta.registry.frame import results_frame
    from trialmeta.synthesis.run import run_analyses
    from trialmeta.synthesis.selection import filter_as_of
    from trialmeta import __version__

    formats = check_export_formats(args.format)
    style = cli_style(args)
    registry, spec, lines, spec_file = _load_all(args.path)
    names = [a.name for a in spec.analyses]
    if args.analysis is not None and args.analysis not in names:
        from trialmeta.errors import suggest

        raise TrialmetaError(f"unknown analysis {args.analysis!r}{suggest(args.analysis, names)}; "
                             f"defined in {spec_file}: {', '.join(names)}")
    from trialmeta.cli.export import check_styles

    check_styles(spec, lines, spec_file, style)
    as_of = _as_of(args.as_of)
    results = run_analyses(registry, spec, as_of=as_of, only=args.analysis, spec_file=spec_file, lines=lines)
    frame, _ = filter_as_of(results_frame(registry), as_of)
    files = [t.file for t in registry.trials] + [spec_file]
    doc = {"trialmeta_version": __version__, "as_of": as_of, "inputs": io.fingerprint(files)}
    for path in write_exports(args.out, formats, results, registry, frame, doc, as_of, style):
        print(io.display(path))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

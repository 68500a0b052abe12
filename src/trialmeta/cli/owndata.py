"""The commands on a user's own files: ``pool-table`` (a table of studies) and ``reconstruct``
(a digitised Kaplan-Meier figure). Dispatched by :func:`trialmeta.cli.main.main`, which maps
every error to its exit code."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from trialmeta.errors import InputError, UsageError


FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def own_table(args):
    """Read, check and pool ``args.file`` as pool-table does: (analysis, result dict, settings)."""
    from trialmeta import io
    from trialmeta.stats.pooling import PoolSettings
    from trialmeta.synthesis.owndata import COLUMNS
    from trialmeta.synthesis.pooltable import pool_own, read_effects_table

    for flag, value in (("--level", args.level), ("--input-level", args.input_level)):
        if not 0.5 < value < 1:
            raise UsageError(f"{flag} must be a fraction between 0.5 and 1 (e.g. 0.95), got {value:g}")
    if not Path(args.file).is_file():
        raise UsageError(f"{io.display(args.file)}: no such file")
    if args.encoding is not None:
        import codecs

        try:
            codecs.lookup(args.encoding)
        except LookupError:
            raise UsageError(f"--encoding {args.encoding}: unknown encoding (e.g. utf-8, cp1252, latin-1)") from None
    known = sorted({c for cols in COLUMNS.values() for c in cols} | {"study", "ci_level"})
    mapping = {}
    for item in args.col:
        canon, sep, header = item.partition("=")
        if not sep or canon.strip() not in known or not header.strip():
            raise UsageError(f"--col {item}: expected NAME=HEADER with NAME one of {', '.join(known)}")
        mapping[canon.strip()] = header.strip()
    name = io.display(args.file)
    xlsx = Path(args.file).suffix.lower() in (".xlsx", ".xlsm")
    content, note = io.read_input_bytes(args.file), None
    if not xlsx:
        from trialmeta.synthesis.tableencoding import decode_table

        content, note = decode_table(content, name, args.encoding)
    frame = read_effects_table(content, name, ci_level=args.input_level, measure=args.measure, mapping=mapping,
                               xlsx=xlsx, sheet=args.sheet, decimal=args.decimal)
    if args.prior_scale is not None:
        from trialmeta.stats.settings import measure_prior_scale_problem

        if args.measure == "MD" and not (args.prior_scale > 0 and math.isfinite(args.prior_scale)):
            raise UsageError(f"--prior-scale must be a number > 0 (e.g. 0.5), got {args.prior_scale:g}")
        if why := measure_prior_scale_problem(args.prior_scale, args.measure, frame["se"]):
            raise UsageError(f"--prior-scale: {why}")
    counts = frame["se_from"].iloc[0] == "counts"
    method = args.method or ("mh" if counts else "reml")
    pool_method = method if method in ("mh", "peto") else "iv"
    settings = PoolSettings(method="fe" if pool_method != "iv" else method, ci="wald" if pool_method != "iv"
                            else args.ci, level=args.level, prediction=args.prediction, prior=args.prior,
                            prior_scale=args.prior_scale)
    analysis, result = pool_own(frame, by=args.by, settings=settings, name=name, measure=args.measure,
                                method=pool_method, strict=args.strict, double_zero=args.double_zero)
    notes = ([note] if note else []) + ([f"{name}: decimal commas read as decimal points"]
                                        if frame.attrs.get("decimal_comma") else [])
    if notes:
        result["notes"] = [*result.get("notes", []), *notes]
    for warning in result["warnings"]:
        print(warning, file=sys.stderr)
    return analysis, result, settings


def own_forest_scene(analysis, args):
    """The forest of one's own table with the command line's options and style."""
    from trialmeta.cli.inputs import cli_style
    from trialmeta.plot.own_forest import own_spec
    from trialmeta.plot.style import resolve, styled_scene

    try:
        spec = own_spec(analysis, title=args.title, sort=args.sort, labels=(args.label_exp, args.label_ctrl))
    except ValueError as exc:
        raise UsageError(f"--sort: {exc}") from None
    return styled_scene(spec, resolve(None, cli_style(args)))


def funnel_of(analysis, title: str = ""):
    """The contour-enhanced funnel plot of every study, with the L0 trim-and-fill studies as open circles."""
    import numpy as np

    from trialmeta.plot.diagnostics import funnel_scene
    from trialmeta.synthesis import owndiag

    y, v = owndiag.effects(analysis)
    try:
        tf = owndiag.trimfill(analysis)
    except ValueError:
        tf = None
    return funnel_scene(y, np.sqrt(v), ratio=analysis.ratio, measure=analysis.measure, pooled=analysis.overall.log_est,
                        filled_yi=() if tf is None else tf.yi_filled,
                        filled_sei=() if tf is None else np.sqrt(tf.vi_filled), title=title)


def cmd_pool_table(args) -> int:
    from trialmeta import io, tables
    from trialmeta.synthesis.pooltable import format_groups

    for flag, path in (("--forest", args.forest), ("--funnel", args.funnel)):
        if path is not None and path.suffix.lower() not in FIGURE_SUFFIXES:
            raise UsageError(f"{flag} {path}: the file must end in .png, .svg or .pdf")
    analysis, result, settings = own_table(args)
    if args.small_study:
        from trialmeta.synthesis.owndiag import small_study_summary

        result["small_study"], lines = small_study_summary(analysis)
        result["notes"] = [*result.get("notes", []), *(f"small-study effects, all studies: {ln}" for ln in lines)]
    for flag, path in (("--forest", args.forest), ("--funnel", args.funnel)):
        if path is None:
            continue
        from trialmeta.pipeline.outputs import write_scene

        scene = own_forest_scene(analysis, args) if flag == "--forest" else funnel_of(analysis, args.title)
        write_scene(scene, path.with_suffix(""), (path.suffix[1:].lower(),))
        print(f"{flag[2:]} plot: {io.display(path)}", file=sys.stderr)
    if args.format == "json":
        sys.stdout.write(json.dumps(tables.jsonable(result), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(format_groups(result, args.format, settings))
    return 0


def cmd_forest_table(args, formats) -> int:
    """``trialmeta forest --table FILE``: the forest of one's own table into ``--out``."""
    import tempfile

    from trialmeta import io
    from trialmeta.pipeline.outputs import deliver, write_scene

    args.file = args.table
    analysis, _, _ = own_table(args)
    scene = own_forest_scene(analysis, args)
    with tempfile.TemporaryDirectory(prefix="trialmeta-forest-") as tmp:  # draw first: no half-written folder
        staged = write_scene(scene, Path(tmp) / Path(args.table).stem, formats)
        paths = deliver(staged, args.out)  # never overwrites a file trialmeta did not write
    for path in paths:
        print(io.display(path))
    return 0


def cmd_network_table(args) -> int:
    from trialmeta import io
    from trialmeta.synthesis.network import analyse_network
    from trialmeta.synthesis.network_table import COLUMNS, format_network, read_network_table

    if not 0.5 < args.level < 1:
        raise UsageError(f"--level must be a fraction between 0.5 and 1 (e.g. 0.95), got {args.level:g}")
    if not Path(args.file).is_file():
        raise UsageError(f"{io.display(args.file)}: no such file")
    mapping = {}
    for item in args.col:
        canon, sep, header = item.partition("=")
        if not sep or canon.strip() not in COLUMNS or not header.strip():
            raise UsageError(f"--col {item}: expected NAME=HEADER with NAME one of {', '.join(COLUMNS)}")
        mapping[canon.strip()] = header.strip()
    name = io.display(args.file)
    xlsx = Path(args.file).suffix.lower() in (".xlsx", ".xlsm")
    content = io.read_input_bytes(args.file) if xlsx else io.read_input_text(args.file)
    net = read_network_table(content, name, mapping, xlsx=xlsx, sheet=args.sheet)
    if args.reference is not None and args.reference not in net.treatments:
        raise UsageError(f"--reference {args.reference}: not a treatment of {name} ({', '.join(net.treatments)})")
    analysis = analyse_network(net, reference=args.reference, measure=args.measure, method=args.method, ci=args.ci,
                               level=args.level, small_values=args.small_values)
    sys.stdout.write(format_network(analysis, args.format))
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
        from trialmeta.pipeline.km_outputs import write_km_figure

        write_km_figure(result, args.figure.with_suffix(""), formats=(args.figure.suffix[1:],), title=args.title)
    if args.format == "json":
        sys.stdout.write(json.dumps(tables.jsonable(result.to_dict()), indent=2, allow_nan=False) + "\n")
    else:
        sys.stdout.write(format_table(result))
    return 0

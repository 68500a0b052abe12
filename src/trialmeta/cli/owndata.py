"""The commands on a user's own files: ``pool-table`` (a table of studies) and ``reconstruct``
(a digitised Kaplan-Meier figure). Dispatched by :func:`trialmeta.cli.main.main`, which maps
every error to its exit code."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from trialmeta.errors import InputError, UsageError


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
                               xlsx=xlsx, sheet=args.sheet, decimal=args.decimal)
    if args.prior_scale is not None and args.measure != "MD":  # (an MD's scale is in the data's own units)
        from trialmeta.stats.settings import prior_scale_problem

        if prior_scale_problem(args.prior_scale):
            raise UsageError(f"--prior-scale: {prior_scale_problem(args.prior_scale)}")
    if args.prior_scale is not None and not (args.prior_scale > 0 and math.isfinite(args.prior_scale)):
        raise UsageError(f"--prior-scale must be a number > 0 (e.g. 0.5), got {args.prior_scale:g}")
    counts = frame["se_from"].iloc[0] == "counts"
    method = args.method or ("mh" if counts else "reml")
    pool_method = method if method in ("mh", "peto") else "iv"
    settings = PoolSettings(method="fe" if pool_method != "iv" else method, ci="wald" if pool_method != "iv"
                            else args.ci, level=args.level, prediction=args.prediction, prior=args.prior,
                            prior_scale=args.prior_scale)
    result = pool_table(frame, by=args.by, settings=settings, name=name, measure=args.measure, method=pool_method,
                        double_zero=args.double_zero)
    if frame.attrs.get("decimal_comma"):
        result["notes"] = [*result.get("notes", []), f"{name}: decimal commas read as decimal points"]
    if args.format == "json":
        sys.stdout.write(json.dumps(tables.jsonable(result), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(format_groups(result, args.format, settings))
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
        from trialmeta.pipeline.outputs import write_km_figure

        write_km_figure(result, args.figure.with_suffix(""), formats=(args.figure.suffix[1:],), title=args.title)
    if args.format == "json":
        sys.stdout.write(json.dumps(tables.jsonable(result.to_dict()), indent=2, allow_nan=False) + "\n")
    else:
        sys.stdout.write(format_table(result))
    return 0

"""The living-evidence commands: ``check-updates``, ``new-trial``, ``crosscheck`` (parse, call
:mod:`trialmeta.living`, print, map the outcome to an exit code)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

DEFAULT_TRIALS = Path("trials")


def add_parsers(sub) -> None:
    def network(p):
        p.add_argument("--offline", action="store_true",
                       help="answer from the on-disk cache only; never ask ClinicalTrials.gov")
        p.add_argument("--max-age", dest="max_age", type=float, default=3600.0, metavar="SECONDS",
                       help="reuse a cached answer younger than this (default 3600)")
        p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                       help="give up on a request that takes longer (default 30; retried with backoff)")

    c = sub.add_parser("check-updates", help="ask ClinicalTrials.gov what changed for every trial with an nct_id")
    c.add_argument("path", nargs="?", type=Path, default=DEFAULT_TRIALS, help="trial directory")
    c.add_argument("--since", default=None, metavar="DATE",
                   help="report trials whose last update was posted on or after DATE (YYYY-MM-DD)")
    c.add_argument("--exit-code", dest="exit_code", action="store_true",
                   help="exit 1 when anything changed (for cron and CI)")
    c.add_argument("--format", choices=["table", "json", "md"], default="table")
    network(c)

    n = sub.add_parser("new-trial", help="draft a trial file from ClinicalTrials.gov records (results unverified)")
    n.add_argument("nct_ids", nargs="+", metavar="NCT", help="ClinicalTrials.gov ids, e.g. NCT02437318")
    n.add_argument("--out", type=Path, default=DEFAULT_TRIALS, help="folder for the drafts (default trials/)")
    network(n)

    x = sub.add_parser("crosscheck", help="compare the registry's hazard ratios with ClinicalTrials.gov's posted "
                                          "results")
    x.add_argument("path", nargs="?", type=Path, default=DEFAULT_TRIALS, help="trial directory")
    x.add_argument("--format", choices=["table", "json"], default="table")
    x.add_argument("--exit-code", dest="exit_code", action="store_true", help="exit 1 when a number differs")
    network(x)


def _client(args):
    from trialmeta.living.client import CtgovClient
    from trialmeta.living.store import ResponseStore

    return CtgovClient(ResponseStore.default(args.max_age), offline=args.offline, timeout=args.timeout)


def _date(value: str | None) -> str | None:
    if value is None:
        return None
    from trialmeta.errors import UsageError
    from trialmeta.registry.types import partial_date

    try:
        return partial_date(value)
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None


def cmd_check_updates(args) -> int:
    from trialmeta.living.state import read_state, state_path, write_state
    from trialmeta.living.updates import check_updates
    from trialmeta.registry.load import load_registry

    since = _date(args.since)
    registry = load_registry(args.path)
    where = state_path(args.path)
    report, new_state = check_updates(registry, _client(args), read_state(where), since=since)
    write_state(where, new_state)  # only once every answer was read and understood
    changed = [u for u in report if u.changed]
    if args.format == "json":
        sys.stdout.write(json.dumps({"checked": new_state["checked"], "trials": [u.to_dict() for u in report]},
                                    indent=2, ensure_ascii=False) + "\n")
    else:
        md = args.format == "md"
        if md:
            sys.stdout.write("| Trial | NCT | Last update posted | Changed | What changed | Posted, not in registry |\n"
                             "|---|---|---|---|---|---|\n")
        for u in report:
            if md:
                cell = lambda xs: "<br>".join(x.replace("|", "\\|") for x in xs) or "-"  # noqa: E731
                sys.stdout.write(f"| {u.acronym} | {u.nct_id} | {u.last_update_posted or '-'} | "
                                 f"{'yes' if u.changed else 'no'} | {cell(u.changes)} | {cell(u.not_in_registry)} |\n")
            else:
                sys.stdout.write(f"{u.acronym:<16} {u.nct_id}  last update {u.last_update_posted or '-':<10}  "
                                 f"{'CHANGED' if u.changed else 'unchanged'}\n")
                for c in u.changes:
                    sys.stdout.write(f"    {c}\n")
                for m in u.not_in_registry:
                    sys.stdout.write(f"    posted, not in the registry: {m}\n")
    print(f"{len(changed)} of {len(report)} trial(s) changed; state saved to {where}", file=sys.stderr)
    return 1 if args.exit_code and changed else 0


def cmd_new_trial(args) -> int:
    from trialmeta.living.draft import build_draft, write_drafts
    from trialmeta.living.record import parse_study

    client = _client(args)
    drafts = [build_draft(parse_study(client.study(nct))) for nct in dict.fromkeys(args.nct_ids)]
    for target, draft in zip(write_drafts(drafts, args.out), drafts):  # all checked before the first is written
        print(f"{target}: draft of {len(draft.imported)} unverified result(s)")
        for line in draft.imported:
            print(f"    imported: {line}")
        for line in draft.not_imported:
            print(f"    not imported: {line}")
        for line in draft.warnings:
            print(f"    warning: {line}", file=sys.stderr)
    return 0


def cmd_crosscheck(args) -> int:
    from trialmeta.living.crosscheck import crosscheck
    from trialmeta.living.record import parse_study
    from trialmeta.living.state import read_state, state_path, write_state
    from trialmeta.registry.load import load_registry

    registry = load_registry(args.path)
    ids = sorted({t.trial.nct_id for t in registry.trials})
    records = _client(args).studies(ids, ("NCTId", "OutcomeMeasuresModule")) if ids else []
    studies = {s.nct_id: s for s in map(parse_study, records)}
    checks = crosscheck(registry, studies)
    where = state_path(args.path)
    state = read_state(where)
    state["crosscheck"] = [c.to_dict() for c in checks]
    write_state(where, state)
    if args.format == "json":
        sys.stdout.write(json.dumps({"checks": [c.to_dict() for c in checks]}, indent=2, ensure_ascii=False) + "\n")
    else:
        for c in checks:
            sys.stdout.write(f"{c.acronym:<16} {c.endpoint:<5} {c.population:<20} {c.verdict.upper():<11} "
                             f"registry {c.registry}; posted {c.posted or '-'}"
                             + (f"  [{c.detail}]" if c.detail else "") + "\n")
    counts = {v: sum(c.verdict == v for c in checks) for v in ("agree", "differ", "not posted")}
    print(", ".join(f"{n} {v}" for v, n in counts.items()), file=sys.stderr)
    return 1 if args.exit_code and counts["differ"] else 0

"""The command line's grammar: every subcommand, option, default and help text.

Kept apart from cli.py (which runs the commands) so the interface can be read in one place.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trialmeta.errors import UsageError

DEFAULT_TRIALS = Path("trials")
DEFAULT_OUT = Path("outputs")


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 itself; keep its message short
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: error: {message}")


def build_parser() -> argparse.ArgumentParser:
    from trialmeta import __version__

    p = Parser(prog="trialmeta", description="Curated trial evidence: validate, tabulate, pool, plot.")
    p.add_argument("--version", action="version", version=f"trialmeta {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    v = sub.add_parser("validate", help="check trial files; list every problem with file, line and field")
    v.add_argument("path", nargs="?", type=Path, default=DEFAULT_TRIALS, help="trial file or directory")
    v.add_argument("--quiet", action="store_true", help="print problems only")

    r = sub.add_parser("results", help="the tidy results table (one row per trial x population x endpoint x cut)")
    r.add_argument("path", nargs="?", type=Path, default=DEFAULT_TRIALS)
    r.add_argument("--format", choices=["table", "csv", "json"], default="table")

    sub.add_parser("schema", help="print the JSON Schema of a trial file")

    i = sub.add_parser("init", help="start a new registry in DIR: trials/ with an example trial pair and analysis, "
                       "JSON Schemas wired for editors, a README and a .gitignore")
    i.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="DIR",
                   help="folder of the new registry (created if missing; default: the current folder)")

    pl = sub.add_parser("pool", help="run the analyses of trials/analyses.yaml (all, or those --analysis selects)")
    pl.add_argument("path", nargs="?", type=Path, default=DEFAULT_TRIALS, help="trial directory")
    _analysis_option(pl, "run only the analyses it selects")
    pl.add_argument("--as-of", dest="as_of", default=None, metavar="DATE",
                    help="use only data cuts published on or before DATE (YYYY, YYYY-MM or YYYY-MM-DD)")
    pl.add_argument("--format", choices=["table", "json", "csv", "md"], default="table")
    pl.add_argument("--include-unverified", dest="include_unverified", action="store_true",
                    help="pool results marked `status: unverified` (imported from ClinicalTrials.gov) too")

    pt = sub.add_parser("pool-table", help="pool your own table of studies (like R meta::metagen/metabin/metacont)")
    pt.add_argument("file", type=Path, metavar="FILE",
                    help="CSV (, ; or tab; decimal commas) or .xlsx; columns: study + (log_hr, se) or "
                    "(hr, ci_low, ci_high) or counts (events_exp, n_exp, events_ctrl, n_ctrl) or means "
                    "(mean_exp, sd_exp, n_exp, mean_ctrl, sd_ctrl, n_ctrl); more columns allowed")
    own_table_options(pt)
    pt.add_argument("--forest", type=Path, default=None, metavar="FILE",
                    help="also draw the RevMan-style forest into FILE (ending .png, .svg or .pdf)")
    pt.add_argument("--funnel", type=Path, default=None, metavar="FILE",
                    help="also draw the contour-enhanced funnel plot (trim-and-fill studies as open circles) into FILE")
    pt.add_argument("--small-study", dest="small_study", action="store_true",
                    help="also test for small-study effects (Egger, Begg, trim and fill; Peters and Harbord for "
                    "counts; as metafor regtest/ranktest/trimfill), printed as notes and under small_study in JSON")
    pt.add_argument("--format", choices=["table", "json", "csv", "md"], default="table",
                    help="table (text, default), md (Markdown), csv (one row per study then per pooled group, full "
                    "precision) or json (everything, with the warnings)")
    _style_options(pt)

    nt = sub.add_parser("network-table", help="network meta-analysis of your own pairwise comparisons (like R netmeta)")
    nt.add_argument("file", type=Path, metavar="FILE",
                    help="CSV (, ; or tab; decimal commas) or .xlsx; columns study, treat1, treat2, te (treat1 vs "
                    "treat2, log scale for ratios), se; a multi-arm study gives every pair of its arms")
    nt.add_argument("--reference", default=None, help="reference treatment (default: the one in most studies)")
    nt.add_argument("--measure", type=str.upper, choices=["HR", "RR", "OR", "RD", "MD", "SMD"], default="HR")
    nt.add_argument("--method", choices=["reml", "dl", "fe"], default="reml",
                    help="tau² by REML (metafor rma.mv), dl (netmeta's generalised DerSimonian-Laird) or fe "
                    "(common effect); default reml")
    nt.add_argument("--ci", choices=["wald", "hksj", "hksj-adhoc"], default="wald")
    nt.add_argument("--level", type=float, default=0.95, help="level of the output intervals (default 0.95)")
    nt.add_argument("--small-values", dest="small_values", choices=["good", "bad"], default="good",
                    help="whether effects below 1 (ratios) or 0 favour treat1 (P-scores; default good)")
    nt.add_argument("--col", action="append", default=[], metavar="NAME=HEADER",
                    help="use the file's column HEADER as NAME (study, treat1, treat2, te, se)")
    nt.add_argument("--sheet", default=None, help=".xlsx: the sheet to read (default: the first)")
    nt.add_argument("--format", choices=["table", "json", "md"], default="table")

    f = sub.add_parser("refresh", help="validate, pool and write every output atomically into outputs/")
    f.add_argument("path", nargs="?", type=Path, default=None, help="trial directory (default: trials/)")
    f.add_argument("--trials", type=Path, default=None, help=argparse.SUPPRESS)  # deprecated: the positional path
    f.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: outputs/)")
    f.add_argument("--as-of", dest="as_of", default=None, help="use only data cuts published on or before DATE")
    f.add_argument("--quiet", action="store_true", help="no progress display")
    f.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                   help="draw figures on N processes (default and at most: every core)")
    f.add_argument("--executor", choices=["processes", "dask"], default="processes",
                   help="draw figures and pool analyses on worker processes of this machine (default) or on a "
                   "Dask distributed cluster (pip install 'trialmeta[dask]'); the outputs are the same byte for byte")
    f.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="with --executor dask: the Dask scheduler, e.g. tcp://host:8786 (default: start a local "
                   "cluster of --jobs worker processes)")
    f.add_argument("--overwrite-edits", dest="overwrite_edits", action="store_true",
                   help="replace report.docx / evidence.xlsx (and the Word and Excel files of word/ and excel/) "
                   "even if they changed since refresh wrote them (default: refuse, exit 1, naming them)")
    f.add_argument("--no-cache", dest="cache", action="store_false",
                   help="redraw every figure (default: copy those unchanged since the last refresh)")
    f.add_argument("--cache-dir", dest="cache_dir", type=Path, default=None, metavar="DIR",
                   help="where refresh keeps its caches (default: $TRIALMETA_CACHE_DIR, else the user's cache "
                   "folder, e.g. ~/.cache/trialmeta); never inside the output folder")
    f.add_argument("--wait", type=_seconds, default=600.0, metavar="SECONDS",
                   help="how long to wait for another refresh of the same folder to finish (default 600; "
                   "0: do not wait)")
    _style_options(f)
    k = sub.add_parser("reconstruct", help="patient-level data from a digitised Kaplan-Meier figure "
                       "(Guyot 2012): HR, PH test, medians, RMST")
    k.add_argument("curves", type=Path, help="CSV of digitised points: arm,time,survival "
                   "(optional first line '# survival: percent' or '# survival: proportion')")
    k.add_argument("at_risk", type=Path, help="CSV of the numbers at risk under the figure: arm,time,n_at_risk")
    k.add_argument("--events-exp", type=int, metavar="N", help="published total events, experimental arm")
    k.add_argument("--events-ctrl", type=int, metavar="N", help="published total events, control arm")
    k.add_argument("--accept-event-mismatch", action="store_true",
                   help="reconstruct even when the reconstructed events differ from --events-exp/--events-ctrl "
                   "by more than 10%% (the difference is then reported in every output)")
    k.add_argument("--n-exp", type=int, metavar="N", help="randomised n, experimental arm (checked against "
                   "the first at-risk count)")
    k.add_argument("--n-ctrl", type=int, metavar="N", help="randomised n, control arm")
    k.add_argument("--horizon", type=_positive, metavar="T",
                   help="RMST horizon (default: the last time both arms have patients at risk)")
    k.add_argument("--survival-scale", choices=["auto", "proportion", "percent"], default="auto",
                   help="scale of the survival column (default: the file's '# survival:' line, else "
                   "percent if any value exceeds 1.5, with a warning)")
    k.add_argument("--event-times", choices=["spread", "click"], default="spread",
                   help="events of a drop spread over the gap since the previous point (default) or "
                   "placed at the point, as Guyot 2012")
    k.add_argument("--ipd", type=Path, metavar="FILE", help="also write the reconstructed data "
                   "(arm,time,event) to FILE")
    k.add_argument("--figure", type=Path, metavar="FILE", help="also draw the Kaplan-Meier figure "
                   "(FILE ending .png, .svg or .pdf)")
    k.add_argument("--title", default="", help="title of the figure")
    k.add_argument("--format", choices=["table", "json"], default="table")
    fo = sub.add_parser("forest", help="forest plots (PNG/SVG/PDF) of every analysis and of every trial with "
                        "several populations")
    fo.add_argument("path", nargs="?", type=Path, default=DEFAULT_TRIALS, help="trial directory")
    _analysis_option(fo, "draw only the analyses it selects (no single-trial forests)")
    fo.add_argument("--table", type=Path, default=None, metavar="FILE",
                    help="draw the forest of your own table FILE instead (as pool-table reads it; the pool-table "
                    "options below apply), into --out as <FILE stem>.<format>")
    fo.add_argument("--format", default="png,svg,pdf", metavar="LIST",
                    help="comma-separated figure formats: png, svg, pdf (default: all three)")
    fo.add_argument("--out", type=Path, default=DEFAULT_OUT / "forest", metavar="DIR",
                    help="output directory (default: outputs/forest)")
    fo.add_argument("--as-of", dest="as_of", default=None, metavar="DATE",
                    help="use only data cuts published on or before DATE")
    fo.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                    help="draw figures on N processes (default and at most: every core)")
    _style_options(fo)
    own_table_options(fo)
    ex = sub.add_parser("export", help="the report as Word (report.docx) and the tables as Excel (evidence.xlsx)")
    ex.add_argument("path", nargs="?", type=Path, default=DEFAULT_TRIALS, help="trial directory")
    ex.add_argument("--format", default="docx,xlsx", metavar="LIST",
                    help="comma-separated: docx, xlsx (default: both)")
    _analysis_option(ex, "export only the analyses it selects, as one document (report.docx, evidence.xlsx) "
                     "whatever their number")
    ex.add_argument("--per", choices=["analysis", "tag"], default=None,
                    help="one file per analysis (word/<name>.docx, excel/<name>.xlsx) or per tag, i.e. chapter "
                         "(word/chapters/<tag>.docx, excel/chapters/<tag>.xlsx; analyses without tags: 'untagged')")
    ex.add_argument("--full", action="store_true",
                    help="one registry-wide report.docx / evidence.xlsx even beyond 20 analyses (without it, the "
                         "whole registry beyond 20 analyses gets what refresh writes: a Word document per analysis, "
                         "a Word document and a workbook per chapter of at most 20)")
    ex.add_argument("--reference-docx", dest="reference_docx", type=Path, default=None, metavar="FILE",
                    help="a Word document whose styles (fonts, sizes, colours, spacing) report.docx takes, "
                         "as pandoc's --reference-doc (e.g. a company template)")
    ex.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                    help="output directory (default: outputs/)")
    ex.add_argument("--as-of", dest="as_of", default=None, metavar="DATE",
                    help="use only data cuts published on or before DATE")
    ex.add_argument("--overwrite-edits", dest="overwrite_edits", action="store_true",
                    help="replace report.docx / evidence.xlsx (or the files of word/ and excel/) of a refresh's "
                         "folder even if edited since")
    _style_options(ex)
    from trialmeta.cli.living import add_parsers as add_living_parsers  # check-updates, new-trial, crosscheck

    add_living_parsers(sub)
    return p



def own_table_options(p) -> None:
    """The options that read and pool one's own table (pool-table, and forest --table)."""
    p.add_argument("--by", default=None, metavar="COLUMN", help="subgroup column")
    p.add_argument("--measure", type=str.upper, choices=["HR", "RR", "OR", "RD", "MD", "SMD"], default="HR",
                   help="effect measure (default HR)")
    p.add_argument("--method", choices=["fe", "dl", "reml", "pm", "bayes", "mh", "peto"], default=None,
                   help="tau² estimator (reml, dl, pm), fe for inverse variance, bayes (Bayesian random effects); "
                   "mh (Mantel-Haenszel) or peto for counts (default: mh for counts, reml otherwise)")
    p.add_argument("--prior", choices=["half-normal", "half-cauchy", "uniform"], default="half-normal",
                   help="prior on tau of the Bayesian model (default half-normal)")
    p.add_argument("--prior-scale", dest="prior_scale", type=float, default=None, metavar="S",
                   help="its scale (uniform: upper bound) in the units pooled: the log scale for HR, RR, OR "
                   "(default 0.5), the difference's own units for RD, MD, SMD (no default: required for "
                   "--method bayes and for the few-study Bayesian line)")
    p.add_argument("--ci", choices=["wald", "hksj", "hksj-adhoc"], default="hksj",
                   help="CI of the pooled estimate: hksj (Hartung-Knapp-Sidik-Jonkman t(k-1), default), wald (z), "
                   "hksj-adhoc (HKSJ never narrower than Wald)")
    p.add_argument("--double-zero", dest="double_zero", choices=["exclude", "include"], default="exclude",
                   help="RR/OR studies with no events in either arm: exclude as not estimable (default; RevMan, "
                   "R meta) or include with 0.5 added to every cell (metafor); RD always keeps them")
    p.add_argument("--level", type=float, default=0.95, help="level of the output intervals (default 0.95)")
    p.add_argument("--input-level", dest="input_level", type=float, default=0.95,
                   help="level of the CIs in the file (default 0.95; a ci_level column overrides it per row)")
    p.add_argument("--col", action="append", default=[], metavar="NAME=HEADER",
                   help="use the file's column HEADER as NAME (e.g. --col hr=HR --col ci_low='Lower 95%% CI')")
    p.add_argument("--sheet", default=None, help=".xlsx: the sheet to read (default: the first)")
    p.add_argument("--decimal", choices=["comma", "point"], default=None,
                   help="CSV: ',' in numbers is a decimal comma, or separates thousands (point); default: "
                   "decimal commas recognised in ';' and tab files, and '1,234' (either) refused")
    p.add_argument("--encoding", default=None, metavar="NAME",
                   help="CSV text encoding (default: UTF-8, else Windows-1252 with a note), e.g. cp1252, latin-1")
    p.add_argument("--no-prediction", dest="prediction", action="store_false",
                   help="omit the prediction interval")
    p.add_argument("--strict", action="store_true",
                   help="refuse suspicious rows (a study listed twice, identical rows, a pooled-summary row, a "
                   "ratio typed as a percentage or outside plausible bounds, a lopsided CI) instead of warning")
    p.add_argument("--sort", default=None, metavar="COLUMN",
                   help="forest: order the studies by COLUMN (study, weight, effect, se or a column of the file; "
                   "--sort=-COLUMN descending)")
    p.add_argument("--title", default="", help="forest: title")
    p.add_argument("--label-exp", dest="label_exp", default="Exp.", metavar="TEXT",
                   help="forest: header of the experimental arm's column (default Exp.)")
    p.add_argument("--label-ctrl", dest="label_ctrl", default="Ctrl", metavar="TEXT",
                   help="forest: header of the control arm's column (default Ctrl)")


def _jobs(value: str) -> int:
    """A number of processes, capped at the cores this process may use (--jobs 10000 started 2,328)."""
    import os

    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 process, got {n}")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(n, cores)


def _number(value: str) -> float:
    import math

    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {value!r}")
    return x


def _seconds(value: str) -> float:
    """A waiting time: finite and >= 0 (-1 waited forever, nan ended in an internal error)."""
    x = _number(value)
    if x < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more seconds, got {value!r}")
    return x


def _positive(value: str) -> float:
    x = _number(value)
    if x <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value!r}")
    return x


def _analysis_option(parser, what: str) -> None:
    """``--analysis PATTERN`` (repeatable), shared by pool, forest and export
    (:func:`trialmeta.synthesis.chapters.select_analyses`)."""
    parser.add_argument("--analysis", action="append", default=None, metavar="PATTERN",
                        help=f"{what}: an analysis name, a shell glob ('carfilzomib-*', quoted) or tag:NAME (the "
                             "analyses with that tag in analyses.yaml); repeat to select more")


def _style_options(p) -> None:
    """Figure style options shared by forest, refresh and export (they override analyses.yaml's `style:`)."""
    p.add_argument("--style", default=None, choices=["revman", "document", "journal", "journal-double", "slide"],
                   help="figure preset: revman (17.4 cm, 7 pt, title and notes in the image; default); with "
                        "the title and notes left to the document: document (17 cm), journal (8.5 cm single "
                        "column), journal-double (17.5 cm), slide (16:9, 33.9 x 19.1 cm, no footnotes)")
    p.add_argument("--footnotes", default=None, choices=["full", "short", "none"],
                   help="figure footnotes: every note (full), the lettered ones only (short) or none")
    p.add_argument("--font", default=None, metavar="FAMILY", help="figure font family, e.g. Arial")
    p.add_argument("--font-size", dest="font_size", type=float, default=None, metavar="PT",
                   help="figure text size in points (5-24)")
    p.add_argument("--width", dest="fig_width", type=float, default=None, metavar="CM",
                   help="figure width in cm")
    p.add_argument("--stylesheet", default=None, metavar="SHEET",
                   help="a matplotlib style sheet (name or .mplstyle path): its colours apply, never its sizes")

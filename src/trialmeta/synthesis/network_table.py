"""``trialmeta network-table FILE``: a table of pairwise comparisons (netmeta's long format) read, checked and
analysed, and the result written as text, Markdown or JSON.

Columns (any order, more allowed): ``study``, ``treat1``, ``treat2``, ``te`` (treat1 vs treat2: the log of a
ratio, or a difference) and ``se``; netmeta's and metafor's names (``studlab``, ``TE``, ``seTE``, ``yi``,
``sei``) are recognised, and ``--col NAME=HEADER`` maps any other. A multi-arm study gives one row per pair
of its arms. Every problem is located as ``file:line column: message``.
"""

from __future__ import annotations

import json

from trialmeta import fmt, tables
from trialmeta.errors import InputError, Problem
from trialmeta.stats.nma_data import network_from_pairs
from trialmeta.synthesis.network import NetworkAnalysis
from trialmeta.synthesis.tablefile import csv_rows, records, xlsx_rows

COLUMNS = ("study", "treat1", "treat2", "te", "se")
SYNONYMS = {"study": ("study", "studlab", "trial", "study id", "studyid"),
            "treat1": ("treat1", "treatment1", "treatment 1", "t1"),
            "treat2": ("treat2", "treatment2", "treatment 2", "t2", "comparator"),
            "te": ("te", "yi", "log_hr", "loghr", "effect", "estimate"),
            "se": ("se", "sete", "sei", "standard error", "se_te")}


def _key(text: str) -> str:
    return "".join(ch for ch in str(text).lower() if ch.isalnum() or ch == "_")


def canonical(columns, mapping: dict | None = None) -> dict:
    """File column -> canonical name (``mapping`` first, then :data:`SYNONYMS`); others keep their name."""
    out, taken = {}, set()
    for canon, original in (mapping or {}).items():
        out[original] = canon
        taken.add(canon)
    lookup = {_key(s): c for c, names in SYNONYMS.items() for s in names}
    for c in columns:
        if c in out:
            continue
        canon = lookup.get(_key(c))
        out[c] = canon if canon is not None and canon not in taken else c
        taken.add(out[c])
    return out


def read_network_table(content, name: str, mapping: dict | None = None, xlsx: bool = False, sheet: str | None = None):
    """The checked :class:`~trialmeta.stats.nma.Network` of a CSV text or .xlsx bytes."""
    header, rows = xlsx_rows(content, name, sheet) if xlsx else csv_rows(content, name)[:2]
    if header is None:
        raise InputError([Problem(name, 1, "", "file is empty: expected a header row (study,treat1,treat2,te,se) "
                                  "and data rows")])
    if not rows:
        raise InputError([Problem(name, header[0], "", "no data rows after the header")])
    recs = records(header, rows, name, mapping, canonical)
    missing = [c for c in COLUMNS if c not in recs[0][1]]
    if missing:
        raise InputError([Problem(name, header[0], "", f"missing column(s) {', '.join(missing)}; columns are "
                                  f"{', '.join(header[1])} (map others with --col NAME=HEADER)")])
    empty = [Problem(name, ln, c, "empty") for ln, r in recs for c in ("study", "treat1", "treat2")
             if not str(r[c]).strip()]
    if empty:
        raise InputError(empty)
    cols = [[r[c] for _, r in recs] for c in COLUMNS]
    return network_from_pairs(*cols, source=name, lines=[ln for ln, _ in recs])


def format_network(a: NetworkAnalysis, form: str = "table") -> str:
    """The analysis as text (``table``), Markdown (``md``) or JSON (``json``)."""
    if form == "json":
        return json.dumps(tables.jsonable(a.to_dict()), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    f = a.fit
    md = form == "md"
    league = a.league()
    est = a.estimates()
    pscores = a.pscores()
    cons = a.consistency()
    split = a.node_split_frame()

    def table(head, rows):
        if md:
            return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + \
                ["| " + " | ".join(r) + " |" for r in rows]
        widths = [max(len(x) for x in col) for col in zip(head, *rows)]
        return ["  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip() for r in [head, *rows]]

    h = (lambda t: f"## {t}") if md else (lambda t: t)
    lv = f"{f.level:.0%}"
    out = [h(f"Network meta-analysis: {len(a.network.studies)} studies, {len(a.network.treatments)} treatments, "
             f"reference {a.reference}"), ""]
    out += [h(f"Treatments vs {a.reference}"), ""]
    out += table(["treatment", f"{a.measure} [{lv} CI]", f"{lv} PI", "p"],
                 [[r["treatment"], a.interval(r["coef"], r["ci_low"], r["ci_high"]),
                   "" if f.method == "fe" else a.interval(r["coef"], r["pi_low"], r["pi_high"]).split(" ", 1)[1],
                   fmt.p_column(r["p"])] for r in est.to_dict(orient="records")])
    out += ["", h("League table (row vs column)"), ""]
    out += table([""] + list(league.columns), [[i] + list(r) for i, r in zip(league.index, league.values.tolist())])
    out += ["", h("Ranking (P-scores)"), ""]
    out += table(["rank", "treatment", "P-score"],
                 [[str(i + 1), t, f"{p:.3f}"] for i, (t, p) in enumerate(pscores.itertuples(index=False))])
    out += ["", a.ranking_caveat, "", h("Consistency"), ""]
    out += [f"Heterogeneity: tau² = {f.tau2:.4g}, I² = {f.i2:.1%}", ""]
    out += table(["Q (Krahn 2013)", "Q", "df", "p"],
                 [[r["part"], f"{r['Q']:.2f}", str(r["df"]), fmt.p_column(r["p"])] for r in cons.to_dict("records")])
    out += [""]
    out += table(["node-split", "k", "direct", "indirect", "network", "p"],
                 [[r["comparison"], str(r["k"]), fmt.number(r["direct"]), fmt.number(r["indirect"]) or "-",
                   fmt.number(r["nma"]), fmt.p_column(r["p"])] for r in split.to_dict("records")])
    return "\n".join(out + ["", f"Method: {a.describe()}", ""])

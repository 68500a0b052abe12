"""Evidence tables for one analysis, as Markdown, HTML, plain text and CSV.

Every table is built from :func:`trialmeta.synthesis.data.analysis_frame`, the same frame the
forest plots draw, so a number in a table and in a figure cannot disagree. Each table ends
with footers stating the method, the CI type and level, the data cut used and every note.
"""

from __future__ import annotations

import html
import re

import pandas as pd

from trialmeta import fmt, tables
from trialmeta.stats import formulas
from trialmeta.stats.notes import NoteKind
from trialmeta.synthesis.data import describe_method

EVIDENCE_HEADER = ["Subgroup", "Trial", "Population", "Data cut", "Source", "{m} [{l} CI]", "Weight",
                   "Median exp vs ctrl (mo)", "N exp/ctrl", "Events exp/ctrl", "SE from"]
COMPARISON_HEADER = ["Subgroup", "k", "Trials", "{m} [{l} CI]", "Prediction interval", "Tau\u00b2 [Q-profile CI]",
                     "I\u00b2", "Test for overall effect"]


def _cut(r) -> str:
    when = r["data_cutoff"] if not fmt.missing(r["data_cutoff"]) else None
    pub = r["publication_date"] if not fmt.missing(r["publication_date"]) else "date n/v"
    return f"{r['data_cut']} (cut-off {when or 'n/v'}; published {pub})"


def _study_cells(r, result) -> list[str]:
    counts = "responders_exp" if result.spec.measure == "RR" else "events_exp"
    est = fmt.ratio_ci(r["est"], r["ci_low"], r["ci_high"])
    if not r["ci_source"].as_published:
        est += " *"
    if not r["usable"]:
        est = (est + " " if est else "") + f"(not pooled: {r['reason']})"
    flags = [f for f, on in (("immature", r["immature"]), ("adjusted HR", r["adjusted"] is True),
                             ("approximate", r["approximate"])) if on]
    return [r["subgroup_label"], r["acronym"], r["population_label"] + (f" ({', '.join(flags)})" if flags else ""),
            _cut(r), r["source"], est, fmt.percent(r["weight"], 1),
            fmt.pair(r["median_exp"], r["median_ctrl"]), fmt.pair(r["n_exp"], r["n_ctrl"]),
            fmt.pair(r[counts], r[counts.replace("_exp", "_ctrl")]), r["derivation"]]


def _pooled_cells(r, result, label: str) -> list[str]:
    if r["k"] == 0:
        return [label, "", "", "", "", "not estimable (no usable study)", "", "", "", "", ""]
    return [label, f"k = {int(r['k'])}", "", "", "", fmt.ratio_ci(r["est"], r["ci_low"], r["ci_high"]),
            "100%", "", "", "", "M-H, wald" if getattr(result, "pooling", "iv") == "mh" else f"{r['method']}, {r['ci_method']}"]


_ROWS: dict = {}  # id(result) -> (weak reference to it, its evidence rows): a refresh asks five times


def evidence_rows(result) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header, rows and a 'is a pooled row' flag per row (computed once per result; copies returned)."""
    import weakref

    hit = _ROWS.get(id(result))
    if hit is None or hit[0]() is not result:
        hit = (weakref.ref(result, lambda _, key=id(result): _ROWS.pop(key, None)), _evidence_rows(result))
        _ROWS[id(result)] = hit
    header, rows, bold = hit[1]
    return list(header), [list(r) for r in rows], list(bold)


def _evidence_rows(result) -> tuple[list[str], list[list[str]], list[bool]]:
    frame = result.frame()
    header = [h.format(m=result.spec.measure, l=f"{result.settings.level:.0%}") for h in EVIDENCE_HEADER]
    records = frame.to_dict(orient="records")
    rmst = any(not fmt.missing(r.get("rmst_diff")) for r in records)  # a column only where a curve exists
    if rmst:
        header.insert(RMST_AT, "RMST difference (mo) [CI] at horizon")
    rows, bold = [], []
    for r in records:
        if r["row_type"] == "study":
            rows.append(_study_cells(r, result))
            bold.append(False)
        else:
            label = "Total" if r["row_type"] == "overall" else f"Subtotal: {r['subgroup_label']}"
            rows.append(_pooled_cells(r, result, label))
            bold.append(True)
        if rmst:
            rows[-1].insert(RMST_AT, _rmst(r))
    return header, rows, bold


#: Position of the RMST column (after "Events exp/ctrl").
RMST_AT = EVIDENCE_HEADER.index("Events exp/ctrl") + 1


def _rmst(r) -> str:
    """RMST difference (experimental - control) from a reconstructed KM figure, with its horizon."""
    if r.get("row_type") != "study" or fmt.missing(r.get("rmst_diff")):
        return ""
    return (f"{r['rmst_diff']:.2f} [{r['rmst_diff_ci_low']:.2f}, {r['rmst_diff_ci_high']:.2f}] "
            f"at {r['rmst_horizon']:.1f}")


def comparison_rows(result) -> tuple[list[str], list[list[str]]]:
    header = [h.format(m=result.spec.measure, l=f"{result.settings.level:.0%}") for h in COMPARISON_HEADER]
    rows = []
    for g in (*result.groups, *([result.overall] if result.overall else [])):
        r = g.pooled
        trials = ", ".join(s.row["acronym"] for s in g.usable)
        if r is None:
            rows.append([g.label, "0" if result.spec.pooled else str(len(g.usable)), trials,
                         "; ".join(fmt.ratio_ci(*_disp(s, result)) for s in g.studies) + " (not pooled)",
                         "", "", "", ""])
            continue
        tau = "" if r.k < 2 or r.tau2 is None else f"{fmt.number(r.tau2, 3)} [{fmt.number(r.tau2_ci_low, 3)}, {fmt.number(r.tau2_ci_high, 3)}]"
        rows.append([g.label, str(r.k), trials, fmt.ratio_ci(r.est, r.ci_low, r.ci_high),
                     fmt.ratio_ci(None, None, None) if fmt.missing(r.pi_low) else f"[{fmt.ratio(r.pi_low)}, {fmt.ratio(r.pi_high)}]",
                     tau, "" if r.k < 2 else fmt.percent(r.i2), fmt.overall_effect_stats(r)])
    return header, rows


def _disp(study, result):
    from trialmeta.synthesis.data import study_display

    return study_display(study, result.settings.level)[:3]


def footers(result) -> list[str]:
    """Method, heterogeneity and test lines, then every note, as plain sentences."""
    s = result.settings
    pooling = getattr(result, "pooling", "iv")
    common = pooling == "mh" or s.method == "fe"
    tau = ("Mantel-Haenszel common effect (no tau\u00b2)" if pooling == "mh"
           else "common effect (no tau\u00b2)" if s.method == "fe"
           else f"tau\u00b2 by {s.method.upper()} with Q-profile CI")
    pi = ("no prediction interval (common-effect model)" if common
          else formulas.prediction_statement(True, s.method) + ("" if s.prediction else " (not requested)"))
    lines = [f"Method: {describe_method(result)}; {tau}; {formulas.heterogeneity_statement(s.method, pooling)}; "
             f"{pi}.",
             "SE of each study from its published CI: (ln upper - ln lower) / (2 z) (Parmar 1998 eq. 7) unless "
             "'SE from' says otherwise; * = CI computed from the derived SE, not published.",
             "Data cut: for each population the latest data cut with a usable estimate"
             + (f", published on or before {result.as_of}" if result.as_of else "") + "."]
    if result.spec.settings is not None:
        lines.append(f"Departure from the default settings: {result.spec.settings.reason}")
    for g in (*result.groups, *([result.overall] if result.overall else [])):
        if g.pooled is not None and g.pooled.k >= 2:
            lines.append(f"{g.label}: {fmt.heterogeneity(g.pooled)}; {fmt.overall_effect(g.pooled)}"
                         + (f"; {fmt.prediction(g.pooled)}" if fmt.prediction(g.pooled) else ""))
        if g.pooled is not None:
            lines += [f"{g.label}: {n}." for n in g.pooled.notes]
        for st in g.studies:
            lines += [f"{st.row['acronym']} {st.population}: {sk}" for sk in st.skipped]
    if result.subgroup_test is not None:
        lines.append(fmt.subgroup_differences(result.subgroup_test) + f" [{result.subgroup_test.method}]")
    if result.interaction is not None:
        labels = tuple(next(g.label for g in result.groups if g.key == k) for k in result.spec.interaction)
        lines.append(fmt.interaction_line(result.interaction, labels, result.spec.measure))
        shown = (NoteKind.K2_HKSJ, NoteKind.WALD_FEW_STUDIES)  # what decides how to read a small-k interval
        detail = fmt.interaction_detail(result.interaction, describe_method(result).how,
                                        [n for n in result.interaction.pooled.notes if n.kind in shown])
        lines += [detail] if detail else []
    lines += list(result.spec.notes) + list(result.notes)
    return list(dict.fromkeys(lines))


md_text = fmt.md_text  # (sof.py imports it from here)


def _md_table(header, rows, bold=None) -> str:
    esc = lambda c: md_text(c).replace("|", "\\|")  # noqa: E731
    out = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    for i, row in enumerate(rows):
        cells = [esc(c) for c in row]
        if bold and bold[i]:
            cells = [f"**{c}**" if c else c for c in cells]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def to_markdown(result) -> str:
    header, rows, bold = evidence_rows(result)
    ch, crows = comparison_rows(result)
    parts = [f"## {md_text(result.spec.title)}", "", f"*{md_text(result.spec.question)}*", "",
             f"Analysis `{result.name}`: {result.spec.endpoint}, {describe_method(result)}.", "",
             "### Evidence table", "", _md_table(header, rows, bold), "",
             "### Subgroup comparison" if len(result.groups) > 1 else "### Pooled estimate", "",
             _md_table(ch, crows), ""]
    parts += [f"- {md_text(line)}" for line in footers(result)]
    return "\n".join(parts) + "\n"


#: An estimate with its interval ("0.65 [0.50, 0.85]") or a bare interval: kept on one line in HTML.
_INTERVAL = re.compile(r"(?:-?[0-9.]+ )?\[-?[0-9.]+, -?[0-9.]+\]")


def _keep_whole(text: str) -> str:
    return _INTERVAL.sub(lambda m: f'<span class="nw">{m.group(0)}</span>', text)


def _html_table(header, rows, bold=None, cls="evidence") -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        attr = ' class="pooled"' if bold and bold[i] else ""
        body.append(f"<tr{attr}>" + "".join(f"<td>{_keep_whole(esc(str(c)))}</td>" for c in row) + "</tr>")
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>' + "".join(body) + "</tbody></table>"


def to_html(result) -> str:
    """An HTML fragment (section) for the report and the per-analysis HTML table file."""
    header, rows, bold = evidence_rows(result)
    ch, crows = comparison_rows(result)
    esc = html.escape
    notes = "".join(f"<li>{esc(line)}</li>" for line in footers(result))
    return (f'<section class="analysis" id="{esc(result.name)}"><h2>{esc(result.spec.title)}</h2>'
            f'<p class="question">{esc(result.spec.question)}</p>'
            f"<p>Analysis <code>{esc(result.name)}</code>: {esc(result.spec.endpoint)}, "
            f"{esc(str(describe_method(result)))}.</p>"
            f"<h3>Evidence table</h3>{_html_table(header, rows, bold)}"
            f"<h3>{'Subgroup comparison' if len(result.groups) > 1 else 'Pooled estimate'}</h3>"
            f"{_html_table(ch, crows, cls='comparison')}<ul class='notes'>{notes}</ul></section>")


def to_text(result) -> str:
    header, rows, bold = evidence_rows(result)
    keep = [0, 1, 2, 3, 5, 6]
    view = pd.DataFrame([[r[i] for i in keep] for r in rows], columns=[header[i] for i in keep])
    lines = [f"== {result.name}: {result.spec.title}", view.to_string(index=False)]
    lines += [f"  {line}" for line in footers(result)]
    return "\n".join(lines) + "\n"


def to_csv(result) -> str:
    return tables.frame_csv(result.frame())


STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; margin: 1.5em; color: #111; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border-bottom: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eef1f5; }
tr.pooled td { font-weight: bold; background: #f7f7f7; }
.question { font-style: italic; }
ul.notes { font-size: 9pt; color: #333; }
.nw { white-space: nowrap; }
@media screen and (max-width: 800px) { table { display: block; overflow-x: auto; } }
@media print {
  body { margin: 0; font-size: 8.5pt; }
  h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
  table { font-size: 7.5pt; }
  tr, li { break-inside: avoid; page-break-inside: avoid; }
  table.comparison { break-inside: avoid; page-break-inside: avoid; }
  th, tr.pooled td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def standalone_html(result) -> str:
    """A complete HTML page holding one analysis' tables (outputs/tables/<name>.html)."""
    esc = html.escape
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(result.spec.title)}</title><style>{STYLE}</style></head><body>"
            f"{to_html(result)}</body></html>\n")

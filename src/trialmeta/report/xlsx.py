"""``evidence.xlsx``: every table of a run as an Excel workbook (openpyxl), one sheet per table.

Cells are typed: numbers are numbers (ratios, CIs, weights, counts), booleans booleans,
missing values empty cells, never the strings the Markdown tables print. Text that a
spreadsheet would take for a formula (starting with ``=``, ``+``, ``-`` or ``@``: CSV/formula
injection, OWASP) is stored as a string cell, so it is shown, never evaluated. The workbook
is deterministic (fixed document dates and zip entry times, :mod:`trialmeta.report.ziputil`).
"""

from __future__ import annotations

import io
import math

from trialmeta import __version__
from trialmeta.report import sof
from trialmeta.report.ziputil import FIXED_DATETIME, normalise

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: (header, frame column, number format) of the per-analysis evidence sheets, in evidence-table order.
EVIDENCE_COLUMNS = [
    ("Subgroup", "subgroup_label", None), ("Row", "row_type", None), ("Trial", "acronym", None),
    ("Population", "population_label", None), ("Data cut", "data_cut", None), ("Cut-off", "data_cutoff", None),
    ("Published", "publication_date", None), ("Source", "source", None), ("{m}", "est", "0.00"),
    ("CI low", "ci_low", "0.00"), ("CI high", "ci_high", "0.00"), ("CI source", "ci_source", None),
    ("Weight (%)", "weight", "0.0"), ("N exp", "n_exp", "0"), ("N ctrl", "n_ctrl", "0"),
    ("Events exp", "events_exp", "0"), ("Events ctrl", "events_ctrl", "0"),
    ("Responders exp", "responders_exp", "0"), ("Responders ctrl", "responders_ctrl", "0"),
    ("Median exp (mo)", "median_exp", "0.0"), ("Median ctrl (mo)", "median_ctrl", "0.0"),
    ("SE from", "derivation", None), ("log {m}", "log_est", "0.0000"), ("SE (log)", "se", "0.0000"),
    ("Usable", "usable", None), ("Reason not pooled", "reason", None), ("k", "k", "0"),
    ("Method", "method", None), ("CI method", "ci_method", None), ("p", "p", "0.0000"),
    ("Tau²", "tau2", "0.0000"), ("Tau² CI low", "tau2_ci_low", "0.0000"), ("Tau² CI high", "tau2_ci_high", "0.0000"),
    ("I² (%)", "i2", "0.0"), ("Q", "q", "0.00"), ("df", "df", "0"), ("p (Q)", "q_p", "0.0000"),
    ("PI low", "pi_low", "0.00"), ("PI high", "pi_high", "0.00"), ("Notes", "notes", None),
]

SOF_COLUMNS = [
    ("Analysis", None), ("Subgroup", None), ("Outcome", None), ("Studies (k)", "0"), ("Trials", None),
    ("Participants", "#,##0"), ("Participants not reported for", None), ("Measure", None), ("Estimate", "0.00"),
    ("CI low", "0.00"), ("CI high", "0.00"), ("CI level", "0%"), ("Landmark (months)", "0.##"),
    ("Control risk per 1000", "0"), ("Experimental risk per 1000", "0"), ("Difference per 1000", "0"),
    ("Difference CI low", "0"), ("Difference CI high", "0"), ("Absolute effect missing because", None),
    ("Counted per 1000", None), ("Control risk from", None), ("Certainty (GRADE)", None), ("Certainty reasons", None),
    ("Estimate read", None),
]


def cell_value(value):
    """A Python/pandas value as (value, is_text): NaN/None/'' -> None; numpy scalars -> Python."""
    if value is None or (isinstance(value, str) and value == ""):
        return None, False
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, bool):
        return value, False
    if isinstance(value, (int, float)):
        return (value if math.isfinite(value) else None), False
    return str(value), True


def write_rows(ws, header: list[str], rows: list[list], formats: list[str | None] | None = None) -> None:
    """Header (bold, frozen, filtered) and typed rows; text never becomes a formula."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    widths = [len(h) for h in header]
    for j, h in enumerate(header, start=1):
        c = ws.cell(row=1, column=j)
        _set(c, h)
        c.font = bold
    for i, row in enumerate(rows, start=2):
        for j, raw in enumerate(row, start=1):
            value, text = cell_value(raw)
            if value is None:
                continue
            c = ws.cell(row=i, column=j)
            _set(c, value)
            if not text and formats and formats[j - 1] and not isinstance(value, bool):
                c.number_format = formats[j - 1]
            widths[j - 1] = max(widths[j - 1], min(60, len(str(value))))
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w + 2
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"


def _set(cell, value) -> None:
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store '=...' as a formula; a string cell is shown, not run


def sheet_title(name: str, taken: set) -> str:
    """A legal, unique sheet name (31 characters, none of []:*?/\\)."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31]
    title, n = clean, 2
    while title.lower() in taken:
        suffix = f"~{n}"
        title, n = clean[:31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def _sof_record(r: sof.SofRow) -> list:
    a = r.absolute
    return [r.analysis, r.subgroup, r.outcome, r.k, ", ".join(r.trials), r.participants,
            ", ".join(r.participants_missing), r.measure, r.est, r.ci_low, r.ci_high, r.level,
            a.baseline.time if a else None, a.per_1000_control if a else None, a.per_1000_exp if a else None,
            a.diff if a else None, a.diff_low if a else None, a.diff_high if a else None, r.absolute_missing,
            r.event, "; ".join(a.baseline.sources) if a else None, r.certainty or "not rated", "; ".join(r.reasons),
            r.reading or (f"{r.single}: the trial's own estimate" if r.single else "primary estimate")]


def evidence_workbook(results, sof_rows: dict, results_frame, evidence_doc: dict) -> bytes:
    """The workbook as bytes.

    Parameters
    ----------
    results : list of AnalysisResult
    sof_rows : dict
        Analysis name -> list of :class:`trialmeta.report.sof.SofRow`.
    results_frame : pandas.DataFrame
        The tidy results table (``outputs/results.csv``).
    evidence_doc : dict
        ``evidence.json`` (for the version, as-of date and inputs fingerprint, and the GRADE and
        risk-of-bias sheets from its ``appraisal``).
    """
    from openpyxl import Workbook

    wb = Workbook()
    wb.properties.creator = "trialmeta"
    wb.properties.created = wb.properties.modified = FIXED_DATETIME
    taken: set = set()
    contents = wb.active
    contents.title = sheet_title("Contents", taken)
    index = []

    ws = wb.create_sheet(sheet_title("Summary of findings", taken))
    write_rows(ws, [h for h, _ in SOF_COLUMNS], [_sof_record(r) for res in results for r in sof_rows[res.name]],
               [f for _, f in SOF_COLUMNS])
    index.append((ws.title, "GRADE summary of findings: one row per pooled estimate"))

    pooled = [rec for res in results for rec in res.frame().to_dict(orient="records") if rec["row_type"] != "study"]
    cols = ["analysis"] + [c for _, c, _ in EVIDENCE_COLUMNS if c in ("subgroup_label", "row_type", "est", "ci_low",
                                                                        "ci_high", "k", "method", "ci_method", "p",
                                                                        "tau2", "tau2_ci_low", "tau2_ci_high", "i2",
                                                                        "q", "df", "q_p", "pi_low", "pi_high", "notes")]
    spec = {c: (h, f) for h, c, f in EVIDENCE_COLUMNS}
    spec["analysis"] = ("Analysis", None)
    ws = wb.create_sheet(sheet_title("Pooled estimates", taken))
    write_rows(ws, [spec[c][0].format(m="Ratio") for c in cols], [[rec.get(c) for c in cols] for rec in pooled],
               [spec[c][1] for c in cols])
    index.append((ws.title, "every pooled estimate of every analysis (ratio = HR or RR, see the analysis sheet)"))

    for res in results:
        frame = res.frame()
        present = [(h.format(m=res.spec.measure), c, f) for h, c, f in EVIDENCE_COLUMNS if c in frame.columns]
        ws = wb.create_sheet(sheet_title(res.name, taken))
        write_rows(ws, [h for h, _, _ in present],
                   [[rec.get(c) for _, c, _ in present] for rec in frame.to_dict(orient="records")],
                   [f for _, _, f in present])
        index.append((ws.title, f"{res.spec.title}: evidence table"))

    if evidence_doc.get("appraisal"):
        from trialmeta.report.appraisal_sheets import add_sheets

        index += add_sheets(wb, evidence_doc["appraisal"], write_rows, sheet_title, taken)

    if evidence_doc.get("networks"):
        from trialmeta.report.networks import networks_sheets

        before = set(wb.sheetnames)
        networks_sheets(wb, evidence_doc["networks"], write_rows, sheet_title, taken)
        index += [(t, "network meta-analysis (league table, ranking, consistency)") for t in wb.sheetnames
                  if t not in before]

    ws = wb.create_sheet(sheet_title("Results", taken))
    write_rows(ws, list(results_frame.columns), results_frame.astype(object).values.tolist())
    index.append((ws.title, "the tidy results table of the registry (results.csv)"))

    fp = (evidence_doc.get("inputs") or {}).get("fingerprint", "")
    write_rows(contents, ["Sheet", "Content"], [
        *index, ["", ""], ["trialmeta version", evidence_doc.get("trialmeta_version", __version__)],
        ["Evidence as of", evidence_doc.get("as_of") or "every data cut in the registry"],
        ["Inputs fingerprint", fp], ["Notes", sof.FOOTNOTE]])
    buf = io.BytesIO()
    wb.save(buf)
    return normalise(buf.getvalue())

"""Reader-facing words for the codes the evidence tables carry (for the Word report).

The tables of :mod:`trialmeta.report.evidence` and :mod:`trialmeta.report.sof` are shared by
the Markdown, CSV and HTML outputs and print a few of trialmeta's own codes: how each study's SE
was derived (``hr-ci``), the pooled row's method (``reml, hksj``), ``n/v`` for a value the
source does not give, and a pointer to ``certainty:`` in ``analyses.yaml``. A medical writer
pastes the Word report as it is, so there each code becomes the words it stands for; numbers
are never touched (a test compares every number with ``evidence.json``).
"""

from __future__ import annotations

import re

#: How a study's log ratio and its SE were obtained (trialmeta.stats.effects.Derivation.method).
DERIVATIONS = {
    "hr-ci": "published HR and CI",
    "oe-v": "O \u2212 E and variance V",
    "hr-p": "HR and p-value",
    "p-events": "p-value and events",
    "medians-exp": "medians (exponential)",
    "responders-rr": "responder counts",
    "responders-or": "responder counts",
    "reconstructed-ipd": "reconstructed patient data",
    "none": "",
}
#: tau² estimators and CI methods (analyses.yaml ``method`` / ``ci``).
ESTIMATORS = {"reml": "REML", "dl": "DerSimonian\u2013Laird", "pm": "Paule\u2013Mandel", "fe": "common effect",
              "bayes": "Bayesian"}
CI_METHODS = {"hksj": "HKSJ CI", "wald": "Wald CI", "hksj-adhoc": "ad hoc HKSJ CI"}

EVIDENCE_HEADERS = {
    "Median exp vs ctrl (mo)": "Median, experimental vs control (months)",
    "N exp/ctrl": "N, experimental / control",
    "Events exp/ctrl": "Events, experimental / control",
    "SE from": "SE derived from",
    "Source": "Source (see Sources)",
}

_POOLED_METHOD = re.compile(r"^(reml|dl|pm|fe|bayes), (hksj-adhoc|hksj|wald)$")


def method_cell(text: str) -> str:
    """'reml, hksj' -> 'REML τ², HKSJ CI'; 'M-H, wald' -> 'Mantel–Haenszel, Wald CI'."""
    if text == "M-H, wald":
        return "Mantel\u2013Haenszel, Wald CI"
    m = _POOLED_METHOD.match(text)
    if m:
        tau = " \u03c4\u00b2" if m.group(1) in ("reml", "dl", "pm") else ""
        return f"{ESTIMATORS[m.group(1)]}{tau}, {CI_METHODS[m.group(2)]}"
    return DERIVATIONS.get(text, text)


def prose(text: str) -> str:
    """Plain-text notation of the shared tables and notes as a reader expects it in print:
    'n/v' -> 'not reported', '>=' -> '≥', '+/-' -> '±', 'tau²' -> 'τ²', 'sqrt(' -> '√('; a pointer
    into analyses.yaml in brackets is left out."""
    text = re.sub(r"\s*\([^()]*\banalyses\.yaml\)", "", text)  # '(pooled: false in analyses.yaml)'
    text = re.sub(r"cut-off n/v", "cut-off not reported", text)
    text = re.sub(r"\bdate n/v\b", "date not reported", text)
    text = re.sub(r"(?<![\w/])n/v(?![\w/])", "not reported", text)
    for old, new in ((" >= ", " \u2265 "), (" <= ", " \u2264 "), ("+/-", "\u00b1"), ("tau\u00b2", "\u03c4\u00b2"),
                     ("sqrt(", "\u221a("), ("(mu ", "(\u03bc "), ("(Q - df)", "(Q \u2212 df)"),
                     ("t(k-2)", "t(k\u22122)"), ("(k - 2)", "(k \u2212 2)")):
        text = text.replace(old, new)
    return text


def evidence_header(header: list[str]) -> list[str]:
    return [EVIDENCE_HEADERS.get(h, h) for h in header]


def evidence_cells(header: list[str], row: list[str]) -> list[str]:
    """One evidence-table row in reader's words (the 'SE from' column decoded)."""
    out = [prose(c) for c in row]
    if "SE from" in header:
        j = header.index("SE from")
        out[j] = method_cell(row[j])
    return out


#: The summary-of-findings footnote without the pointer into analyses.yaml.
SOF_FOOTNOTE_START = "Certainty (GRADE) is the reviewers' rating from certainty: in analyses.yaml,"


def sof_footnote(text: str) -> str:
    return text.replace(SOF_FOOTNOTE_START, "Certainty (GRADE) is the review team's rating,")


#: The GRADE table's note (report/grade_table.NOTE) points at ``certainty:`` in analyses.yaml.
GRADE_NOTE_START = "Each domain: the reviewers' judgement where they rated the outcome (certainty: in analyses.yaml) and,"


def grade_note(text: str) -> str:
    """The GRADE table's note in reader's words: no pointer into analyses.yaml, notation as in print."""
    return prose(text.replace(GRADE_NOTE_START, "Each domain: the review team's judgement where it rated the outcome and,"))

"""The GRADE and risk-of-bias sheets of ``evidence.xlsx``, read from ``evidence.json["appraisal"]``
(:mod:`trialmeta.synthesis.appraisal`), so the workbook holds exactly what the JSON holds.

* **GRADE**: one row per analysis, pooled group and GRADE domain: the reviewers' judgement and reason
  beside trialmeta's data-driven suggestion and its rationale, then the reviewers' certainty rating of
  the group with its reasons. "not stated" / "not rated" where the reviewers gave none; a suggestion
  never fills a reviewers' cell.
* **Risk of bias**: one row per analysis and study result: the RoB 2 judgement of D1-D5 and overall
  (who made the overall: the RoB 2 algorithm or the reviewers, with their reason), then each
  domain's supporting quote or design fact with its publication key. "not assessed" where no
  assessment says otherwise.
"""

from __future__ import annotations

from trialmeta.registry.rob import DOMAINS, SHORT

NOT_STATED, NOT_RATED = "not stated", "not rated"
GRADE_HEADER = ["Analysis", "Subgroup", "Group", "Studies (k)", "Domain", "Reviewers' judgement", "Reviewers' reason",
                "Suggested by trialmeta (data only)", "Data behind the suggestion", "Certainty (reviewers')",
                "Certainty reasons", "Rated for", "Rated by"]
ROB_HEADER = ["Analysis", "Endpoint", "Subgroup", "Trial", "Population", "Assessment", "Data cut",
              *(f"{SHORT[d]} {d.replace('_', ' ')}" for d in DOMAINS), "Overall", "Overall by", "Overall reason",
              "Effect of interest", "Assessed by",
              *(f"{SHORT[d]} support [source]" for d in DOMAINS)]


def grade_sheet_rows(appraisal: list[dict]) -> list[list]:
    out = []
    for a in appraisal:
        for g in a["grade"]:
            c = g["certainty"]
            for d in g["domains"]:
                mine = d["reviewers"]
                out.append([a["analysis"], g["subgroup"], g["label"], g["k"], d["title"],
                            mine["concern"] if mine else (NOT_STATED if c else NOT_RATED),
                            mine["reason"] if mine else None,
                            d["suggestion"] or "no suggestion", d["rationale"],
                            c["rating"].replace("-", " ") if c else NOT_RATED,
                            "; ".join(c["reasons"]) if c else None,
                            c["rated_for"] if c else None, c["assessed_by"] if c else None])
    return out


def _support(d: dict) -> str | None:
    return f"{d['support']} [{d['source']}]" if d["support"] else None


def rob_sheet_rows(appraisal: list[dict]) -> list[list]:
    out = []
    for a in appraisal:
        for r in a["risk_of_bias"]:
            o = r["overall"]
            out.append([a["analysis"], a["endpoint"], r["subgroup"], r["acronym"], r["population"], r["assessment"],
                        r["data_cut"], *(d["judgement"] for d in r["domains"]), o["judgement"], o["by"],
                        o["reason"], r["effect"], r["assessed_by"], *(_support(d) for d in r["domains"])])
    return out


def add_sheets(wb, appraisal: list[dict], write_rows, sheet_title, taken: set) -> list[tuple[str, str]]:
    """Add the GRADE and risk-of-bias sheets to ``wb``; return their (title, description) for Contents."""
    ws = wb.create_sheet(sheet_title("GRADE", taken))
    write_rows(ws, GRADE_HEADER, grade_sheet_rows(appraisal), [None, None, None, "0", *([None] * 9)])
    index = [(ws.title, "GRADE per analysis, group and domain: reviewers' judgement beside the data-driven suggestion")]
    ws = wb.create_sheet(sheet_title("Risk of bias", taken))
    write_rows(ws, ROB_HEADER, rob_sheet_rows(appraisal))
    index.append((ws.title, "RoB 2 per study result: domain and overall judgements with their supports and sources"))
    return index

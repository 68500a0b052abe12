"""The report's "Evidence status" section, from the living-evidence state file saved by
``trialmeta check-updates`` and ``crosscheck`` (``trials/.ctgov-state.json``): when
ClinicalTrials.gov was last checked, the last update posted per trial, posted results the registry
lacks, and crosscheck disagreements. No state file, no section (the report is unchanged)."""

from __future__ import annotations

from html import escape as esc


def status_rows(state: dict) -> list[list[str]]:
    """One row per trial: acronym, NCT id, last update posted, posted results not in the registry."""
    rows = []
    for nct, snap in sorted((state.get("trials") or {}).items(), key=lambda kv: str(kv[1].get("acronym", kv[0]))):
        rows.append([str(snap.get("acronym", "")), nct, str(snap.get("last_update_posted") or "-"),
                     "; ".join(snap.get("not_in_registry") or []) or "none"])
    return rows


def disagreements(state: dict) -> list[str]:
    return [f"{c['acronym']} {c['endpoint']} ({c['population']}, {c['data_cut']}): registry {c['registry']}, "
            f"posted {c['posted']} ({c['detail']})" for c in (state.get("crosscheck") or []) if c.get("verdict") == "differ"]


def lead(state: dict) -> str:
    checks = state.get("crosscheck")
    cross = ("crosscheck not run" if checks is None else
             f"crosscheck: {sum(c.get('verdict') == 'agree' for c in checks)} agree, "
             f"{sum(c.get('verdict') == 'differ' for c in checks)} differ, "
             f"{sum(c.get('verdict') == 'not posted' for c in checks)} not posted")
    return f"ClinicalTrials.gov last checked {state.get('checked') or 'never'}; {cross}."


def status_html(state: dict | None) -> str:
    if not state:
        return ""
    head = "".join(f"<th>{h}</th>" for h in ("Trial", "NCT", "Last update posted", "Posted, not in the registry"))
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in status_rows(state))
    differ = disagreements(state)
    return (f"<section id='evidence-status'><h2>Evidence status</h2><p>{esc(lead(state))}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            + (("<h3>Crosscheck disagreements</h3><ul>" + "".join(f"<li>{esc(d)}</li>" for d in differ) + "</ul>")
               if differ else "") + "</section>")

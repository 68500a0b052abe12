"""The report that scales: ``outputs/index.html`` and one page per analysis, figures as files.

``report.html`` inlines every figure of the registry: fine for a dozen analyses, unusable for
hundreds (its size grows with the registry). This site is the scalable form:

* ``index.html``: the analyses (title, endpoint, trials, pooled estimates), the trials (with the
  analyses they enter) and the latest changelog entries, in tables a search box and an endpoint
  filter narrow down (a few lines of inline JavaScript, no network);
* ``analyses/<name>.html``: one page per analysis, self-sufficient (its own style, the evidence
  table, subgroup comparison, summary of findings and notes), showing its forest and history
  plots from the SVG files beside it (``../forest/<name>.svg``, ``../history/<name>.svg``).

Each page depends only on its own analysis, so a change rewrites the pages it touches and the
index; every page is a pure function of its inputs (byte-identical reruns).
"""

from __future__ import annotations

import html
import re

from trialmeta import __version__, fmt
from trialmeta.report import evidence, sof

esc = html.escape
ANALYSES_DIR = "analyses"
INDEX = "index.html"
#: Beyond this many analyses the single self-contained report.html is not written (index.html is the report).
SINGLE_PAGE_LIMIT = 20
#: The changelog entries the index lists (the whole log is CHANGELOG.md).
CHANGES_SHOWN = 20

SITE_STYLE = """
input[type=search], select { font-size: 10pt; padding: 3px 6px; margin: 0 0.6em 0.6em 0; }
table.list { width: 100%; }
table.list td:first-child { white-space: nowrap; }
figure.figure img { max-width: 100%; height: auto; }
@media screen { figure.figure img { width: 100%; max-width: 62rem; } }
nav.back { font-size: 9pt; margin-bottom: 0.6em; }
.count { color: #555; font-size: 9pt; }
"""

#: Filter every table.list row by the search box (all words, any order) and the endpoint select.
FILTER_JS = """
(function () {
  var q = document.getElementById('q'), ep = document.getElementById('endpoint');
  function apply() {
    var words = q.value.toLowerCase().split(/\\s+/).filter(Boolean), e = ep.value;
    document.querySelectorAll('table.list').forEach(function (t) {
      var shown = 0, rows = t.tBodies[0].rows;
      for (var i = 0; i < rows.length; i++) {
        var r = rows[i], text = r.textContent.toLowerCase(), ok = true;
        for (var j = 0; j < words.length && ok; j++) ok = text.indexOf(words[j]) >= 0;
        if (ok && e && r.dataset.endpoint !== undefined) ok = r.dataset.endpoint === e;
        r.hidden = !ok; if (ok) shown++;
      }
      var c = document.getElementById(t.id + '-count'); if (c) c.textContent = shown + ' of ' + rows.length;
    });
  }
  q.addEventListener('input', apply); ep.addEventListener('change', apply); apply();
})();
"""


def _page(title: str, body: str, script: str = "") -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{evidence.STYLE}{SITE_STYLE}</style></head><body>"
            f"{body}{f'<script>{script}</script>' if script else ''}</body></html>\n")


def _figure(src: str, alt: str) -> str:
    return f'<figure class="figure"><img src="{esc(src)}" alt="{esc(alt)}" loading="lazy"></figure>'


def _pooled(result) -> str:
    """Each pooled group's estimate, e.g. 'altered 0.60 [0.51, 0.71]; non-altered ...'."""
    parts = []
    for g in (*result.groups, result.overall):
        if g is not None and g.pooled is not None:
            label = "" if len(result.groups) == 1 and g is result.groups[0] else f"{g.label}: "
            parts.append(f"{label}{fmt.ratio_ci(g.pooled.est, g.pooled.ci_low, g.pooled.ci_high)} (k = {g.pooled.k})")
    return "; ".join(parts) or "not pooled"


def _trial_ids(result) -> list[str]:
    return sorted({s.trial for g in result.groups for s in g.studies})


def analysis_page(result, registry, has_history: bool) -> str:
    """``analyses/<name>.html``: one analysis, its figures read from the folders beside it."""
    name = result.name
    extra = (_figure(f"../forest/{name}.svg", f"Forest plot: {result.spec.title}")
             + sof.to_html(result, sof.sof_rows(result, registry))
             + (f"<h3>History of the evidence</h3>{_figure(f'../history/{name}.svg', 'History of the evidence')}"
                if has_history else ""))
    section = evidence.to_html(result).replace("<h3>Evidence table</h3>", f"{extra}<h3>Evidence table</h3>", 1)
    files = (f"<p class='count'>Files: <a href='../tables/{esc(name)}.csv'>table (CSV)</a> · "
             f"<a href='../forest/{esc(name)}.pdf'>forest (PDF)</a> · "
             f"<a href='../forest/{esc(name)}.png'>forest (PNG)</a></p>")
    return _page(result.spec.title, f'<nav class="back"><a href="../{INDEX}">All analyses</a></nav>{section}{files}')


def _changes(changelog_md: str) -> list[tuple[str, str]]:
    """The changelog's entries, newest first: (heading, body markdown)."""
    parts = re.split(r"^## ", changelog_md, flags=re.MULTILINE)[1:]
    return [(p.split("\n", 1)[0].strip(), p.split("\n", 1)[1] if "\n" in p else "") for p in parts]


def index_page(registry, results, changelog_md: str, as_of: str | None) -> str:
    """``index.html``: searchable, filterable lists of the analyses, trials and changes."""
    from trialmeta.report.html import _markdown

    endpoints = sorted({r.spec.endpoint for r in results})
    uses: dict[str, list[str]] = {}
    rows = []
    for r in results:
        ids = _trial_ids(r)
        for t in ids:
            uses.setdefault(t, []).append(r.name)
        rows.append(f'<tr data-endpoint="{esc(r.spec.endpoint)}"><td><a href="{ANALYSES_DIR}/{esc(r.name)}.html">'
                    f"{esc(r.name)}</a></td><td>{esc(r.spec.title)}</td><td>{esc(r.spec.endpoint)}</td>"
                    f"<td>{esc(', '.join(ids))}</td><td>{esc(_pooled(r))}</td></tr>")
    trials = []
    for t in registry.trials:
        tr = t.trial
        used = " ".join(f'<a href="{ANALYSES_DIR}/{esc(n)}.html">{esc(n)}</a>' for n in uses.get(tr.id, []))
        trials.append(f"<tr><td>{esc(tr.acronym)}</td><td>{esc(tr.id)}</td><td>{esc(tr.nct_id or '')}</td>"
                      f"<td>{esc(tr.disease)}</td><td>{used}</td></tr>")
    changes = [f"<tr><td>{esc(head)}</td><td>{_markdown(body)}</td></tr>"
               for head, body in _changes(changelog_md)[:CHANGES_SHOWN]]

    def table(tid: str, title: str, head: list[str], body: list[str]) -> str:
        return (f"<h2>{title} <span class='count' id='{tid}-count'></span></h2><table class='list' id='{tid}'>"
                "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"
                + "".join(body) + "</tbody></table>")

    options = "".join(f'<option value="{esc(e)}">{esc(e)}</option>' for e in endpoints)
    body = (f"<header><h1>trialmeta evidence report</h1><p>Evidence "
            f"{'as of ' + esc(as_of) if as_of else 'from every data cut in the registry'}; "
            f"{len(registry.trials)} trials, {len(results)} analyses; trialmeta {esc(__version__)}. "
            "Machine-readable: <a href='evidence.json'>evidence.json</a>, <a href='results.csv'>results.csv</a>; "
            "full history: <a href='CHANGELOG.md'>CHANGELOG.md</a>.</p></header>"
            "<input type='search' id='q' placeholder='Search analyses, trials, changes' aria-label='Search'>"
            f"<select id='endpoint' aria-label='Endpoint'><option value=''>All endpoints</option>{options}</select>"
            + table("analyses", "Analyses", ["Analysis", "Title", "Endpoint", "Trials", "Pooled estimate"], rows)
            + table("trials", "Trials", ["Trial", "Id", "NCT", "Disease", "Analyses"], trials)
            + table("changes", "Latest changes", ["Entry", "Changes"], changes))
    return _page("trialmeta evidence report", body, FILTER_JS)

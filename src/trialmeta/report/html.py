"""``outputs/report.html``: one self-contained page with every figure, table, method and source.

Figures are inlined as SVG (ids prefixed per figure so they cannot clash), so the file can be
mailed or archived alone; a print stylesheet keeps tables and figures whole on paper.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from trialmeta import __version__, fmt, io

from trialmeta.report import evidence, sof
from trialmeta.stats import formulas

esc = html.escape
#: The only links report.html makes from trial files: web addresses and DOIs.
_WEB = re.compile(r"https?://[^\s\"'<>\\`\x00-\x1f\x7f]+", re.IGNORECASE)


def safe_href(url: str) -> str | None:
    """``url`` if it is an http(s) address, a DOI as a doi.org address, else ``None``
    (``javascript:``, ``data:``, ``file:`` and the like never become links)."""
    from urllib.parse import quote

    url = url.strip()
    if url.lower().startswith("doi:"):
        doi = url[4:].strip()
        return f"https://doi.org/{quote(doi, safe='/:;()._-')}" if re.fullmatch(r"10\.\d{4,9}/\S+", doi) else None
    return url if _WEB.fullmatch(url) else None


def inline_svg(path: Path, prefix: str, caption: str = "") -> str:
    """The ``<svg>`` element of a file, with ids made unique by ``prefix``, in a ``<figure>`` with
    ``caption`` as its ``<figcaption>`` (the figure's accessible name)."""
    if not path.is_file():
        return ""
    text = io.read_text(path)
    text = text[text.index("<svg"):]
    text = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{prefix}-{m.group(1)})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', text)
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure class="figure" data-figure="{esc(prefix)}">{text}{cap}</figure>'


def _rob_figures(stage: Path, result) -> str:
    """The risk-of-bias traffic-light and summary plots of an analysis, or why there are none."""
    figs = "".join(inline_svg(stage / "rob" / f"{result.name}-{kind}.svg", f"rob-{kind}-{result.name}",
                              f"Risk of bias, {what}: {result.spec.title}")
                   for kind, what in (("traffic-light", "traffic-light plot"), ("summary", "weighted summary")))
    if figs:
        return f"<h3>Risk of bias (RoB 2)</h3>{figs}"
    return "<h3>Risk of bias (RoB 2)</h3><p>Not assessed for any result of this analysis.</p>"


def _link(pub) -> str:
    parts = []
    if pub.doi:
        parts.append(f'<a href="{esc(safe_href("doi:" + pub.doi) or "")}">doi:{esc(pub.doi)}</a>')
    if pub.pmid:
        parts.append(f'<a href="https://pubmed.ncbi.nlm.nih.gov/{esc(pub.pmid)}/">PMID {esc(pub.pmid)}</a>')
    if pub.pmcid:
        parts.append(f'<a href="https://pmc.ncbi.nlm.nih.gov/articles/{esc(pub.pmcid)}/">{esc(pub.pmcid)}</a>')
    if pub.url:
        href = safe_href(pub.url)
        parts.append(f'<a href="{esc(href)}">link</a>' if href else f"<code>{esc(pub.url)}</code>")
    return " · ".join(parts)


def trials_section(registry, stage: Path) -> str:
    out = ['<section id="trials"><h2>Trials and sources</h2>']
    for t in registry.trials:
        tr = t.trial
        arms = tr.arms
        out.append(f'<article class="trial" id="trial-{esc(tr.id)}"><h3>{esc(tr.acronym)} '
                   f'<small>{esc(tr.nct_id)} · phase {esc(tr.phase)} · {esc(tr.design.blinding)}</small></h3>'
                   f"<p>{esc(tr.disease)}. {esc(tr.setting)}.</p>"
                   f"<p><b>Experimental:</b> {esc(arms.experimental.label)} (n = {arms.experimental.n or 'n/v'}); "
                   f"<b>control:</b> {esc(arms.control.label)} (n = {arms.control.n or 'n/v'}). "
                   "Hazard ratios are experimental vs control.</p><ul class='sources'>")
        for p in tr.publications:
            via = f" (reports {esc(p.reports)})" if p.reports else ""
            out.append(f"<li><code>{esc(p.key)}</code> {esc(p.citation)}{via} "
                       f"{esc(p.published or '')} {_link(p)}</li>")
        out.append("</ul>")
        for svg in sorted((stage / "forest").glob(f"trial-{tr.id}-*.svg")):
            out.append(inline_svg(svg, svg.stem, f"{tr.acronym}: forest plot by population, "
                                                 f"{svg.stem.rsplit('-', 1)[-1].upper()}"))
        for svg in sorted((stage / "km").glob(f"{tr.id}-*.svg")) if (stage / "km").is_dir() else []:
            out.append(inline_svg(svg, f"km-{svg.stem}", f"{tr.acronym}: Kaplan\u2013Meier curves ({svg.stem})"))
        out.append("</article>")
    out.append("</section>")
    return "".join(out)


def methods_section(spec_defaults) -> str:
    items = [
        "Effect measure: hazard ratio of the experimental vs the control arm as the trial lists them (HR &lt; 1 "
        "favours the experimental arm); risk ratio of responders for response rates.",
        "Standard errors: from the published CI, (ln upper − ln lower)/(2 z) (Parmar 1998 eq. 7); else O−E and V; "
        "else HR and p-value (SE = |ln HR|/z_p, a p-value of unreported sidedness taken as two-sided and flagged); "
        "else p-value and events; median-based approximations are excluded unless an analysis allows them.",
        "Data cut: for each trial population the latest data cut with a usable estimate; newer cuts that were "
        "skipped are listed with the reason.",
        f"Default model: random effects, {esc(spec_defaults.method.upper())} τ², "
        f"{'HKSJ (t, k−1 df)' if spec_defaults.ci == 'hksj' else esc(spec_defaults.ci)} CI at "
        f"{spec_defaults.level:.0%}, Q-profile CI for τ², {esc(formulas.prediction_statement(True, spec_defaults.method))}; "
        "Cochrane 2025 RevMan defaults, for every measure (risk ratios included; their Mantel-Haenszel common "
        "effect is shown beside them as a sensitivity line). Analyses that depart from them say why.",
        f"Heterogeneity: Cochran's Q; {esc(formulas.heterogeneity_statement(spec_defaults.method))}. An analysis "
        f"pooled by a common-effect model (common effect, Mantel-Haenszel) gives {esc(formulas.I2_Q_TEXT)}.",
        "Subgroups: pooled separately (own τ²); test for subgroup differences Q-between = Σ w_j(θ_j − θ̄)², "
        "w_j = 1/SE_j², df = J − 1. Across-trial subgroup comparisons are observational; the within-trial "
        "interaction (per trial ln HR_a − ln HR_b, variance v_a + v_b, pooled: the deft approach, Fisher et al. "
        "BMJ 2017) is the comparison to trust.",
        "Indirect comparisons: Bucher adjusted indirect comparison through the common comparator (Bucher 1997); "
        "valid only under transitivity.",
        "A trial contributes at most once to any pooled estimate; populations of one trial that share patients "
        "are never compared with each other.",
    ]
    return "<section id='methods'><h2>Methods</h2><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul></section>"


def _markdown(md: str) -> str:
    """The small Markdown subset the changelog uses: headings, bullets, bold, `code`."""
    out, in_list = [], False
    for line in md.splitlines():
        text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", esc(line))
        text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{text[2:]}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")) + 2, 6)
            out.append(f"<h{level}>{text.lstrip('#').strip()}</h{level}>")
        elif line.strip():
            out.append(f"<p>{text}</p>")
    if in_list:
        out.append("</ul>")
    return "".join(out)


def report_html(registry, results, indirect, history, changelog_md: str, as_of: str | None, stage: Path,
                networks=(), evidence_status: dict | None = None) -> str:
    """The whole report page as a string (figures are read from ``stage``); ``evidence_status`` is the
    living-evidence state (:mod:`trialmeta.report.status`), shown when given."""
    from trialmeta.registry.analyses import Settings

    defaults = results[0].settings if results else Settings()
    toc = "".join(f'<li><a href="#{esc(r.name)}">{esc(r.spec.title)}</a></li>' for r in results)
    body = [f"<header><h1>trialmeta evidence report</h1><p>Evidence "
            f"{'as of ' + esc(as_of) if as_of else 'from every data cut in the registry'}; "
            f"{len(registry.trials)} trials, {len(results)} analyses; trialmeta {esc(__version__)}.</p>"
            f"<nav><ol>{toc}<li><a href='#indirect'>Indirect comparisons</a></li>"
            + ("<li><a href='#networks'>Network meta-analyses</a></li>" if networks else "") +
            "<li><a href='#trials'>Trials and sources</a></li><li><a href='#methods'>Methods</a></li>"
            "<li><a href='#changelog'>Changelog</a></li></ol></nav></header>"]
    for r in results:
        section = evidence.to_html(r)
        figure = inline_svg(stage / "forest" / f"{r.name}.svg", r.name, f"Forest plot: {r.spec.title}")
        hist = inline_svg(stage / "history" / f"{r.name}.svg", f"history-{r.name}",
                          f"History of the evidence: {r.spec.title}")
        extra = (f"{figure}{_rob_figures(stage, r)}{sof.to_html(r, sof.sof_rows(r, registry), registry)}"
                 + (f"<h3>History of the evidence</h3>{hist}" if hist else ""))
        body.append(section.replace("<h3>Evidence table</h3>", f"{extra}<h3>Evidence table</h3>", 1))
    body.append("<section id='indirect'><h2>Indirect comparisons</h2>")
    for i in indirect:
        d = i.to_dict()
        body.append(f"<h3>{esc(d['title'])}</h3><p>{esc(d['comparison'])}: HR "
                    f"<b>{esc(fmt.ratio_ci(d['hr'], d['ci_low'], d['ci_high']))}</b>, {esc(fmt.p_value(d['p']))} "
                    f"({esc(d['method'])} through {esc(d['common_comparator'])}; "
                    f"{esc(d['a_vs_common']['source'])} vs {esc(d['c_vs_common']['source'])}).</p><ul>"
                    + "".join(f"<li>{esc(c)}</li>" for c in d["caveats"]) + "</ul>")
    body.append("</section>")
    if networks:
        from trialmeta.report.networks import networks_html

        body.append(networks_html(list(networks), stage, inline_svg))
    body.append(trials_section(registry, stage))
    body.append(methods_section(defaults))
    if evidence_status:
        from trialmeta.report.status import status_html

        body.append(status_html(evidence_status))
    body.append(f"<section id='changelog'><h2>Changelog</h2>{_markdown(changelog_md)}</section>")
    style = evidence.STYLE + REPORT_STYLE
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>trialmeta evidence report</title><style>{style}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")


REPORT_STYLE = """
p, ul { max-width: 75em; }
header nav ol { columns: 2; column-gap: 3em; font-size: 9.5pt; max-width: none; }
header nav li { break-inside: avoid; }
figure.figure { margin: 0.8em 0; max-width: 100%; overflow-x: auto; }
figure.figure svg { max-width: 100%; height: auto; }
@media screen { figure.figure svg { width: 100%; max-width: 62rem; } }
section.analysis, #trials article { border-top: 2px solid #334; padding-top: 0.4em; margin-top: 1.6em; }
h3 small { font-weight: normal; color: #555; }
figure.figure figcaption { font-size: 9pt; font-weight: bold; margin-top: 0.3em; }
@media print {
  figure.figure { overflow: visible; break-inside: avoid; page-break-inside: avoid; }
  h1, h2, h3, h4, caption { break-after: avoid; page-break-after: avoid; }
  h2 + *, h3 + *, h4 + * { break-before: avoid; page-break-before: avoid; }
  tr, figcaption, li { break-inside: avoid; page-break-inside: avoid; }
  p { orphans: 3; widows: 3; }
  section.analysis { break-before: page; page-break-before: always; }
}
"""

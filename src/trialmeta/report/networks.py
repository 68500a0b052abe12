"""The network meta-analyses in the reports: one HTML section, Excel sheets and a Word section, all built from
the networks' JSON (``evidence.json["networks"]``, :meth:`trialmeta.synthesis.networks.NetworkResult.to_dict`),
so every report prints the same numbers. Figures come as files (HTML: SVG in the output folder) or bytes (Word).
"""

from __future__ import annotations

import html
from pathlib import Path

from trialmeta import fmt

esc = html.escape


def _ratio(d: dict, est: str = "estimate", lo: str = "ci_low", hi: str = "ci_high") -> str:
    return fmt.ratio_ci(d[est], d[lo], d[hi])


def group_tables(g: dict) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Header and rows of each table of one fitted network subgroup (text cells)."""
    nma = g["nma"]
    lv = f"{nma['level']:.0%}"
    ref = nma["reference"]
    order = [p["treatment"] for p in nma["pscores"]]
    pairs = {(p["treatment"], p["comparator"]): p for p in nma["pairs"]}
    league = [[a] + [a if a == b else _ratio(pairs[a, b]) for b in order] for a in order]
    est = [[p["treatment"], _ratio(p), fmt.ratio_ci(p["estimate"], p["pi_low"], p["pi_high"]).split(" ", 1)[-1]
            if nma["tau2_method"] != "fe" else "", fmt.p_column(p["p"])]
           for p in nma["pairs"] if p["comparator"] == ref]
    ranks = [[str(i + 1), p["treatment"], f"{p['P-score']:.3f}"] for i, p in enumerate(nma["pscores"])]
    cons = [[c["part"], f"{c['Q']:.2f}", str(c["df"]), fmt.p_column(c["p"])] for c in nma["consistency"]["q_decomposition"]]
    split = [[s["comparison"], str(s["k"]), fmt.ratio(s["direct"]), fmt.ratio(s["indirect"]) or "not estimable",
              fmt.ratio(s["nma"]), fmt.p_column(s["p"])] for s in nma["consistency"]["node_split"]]
    studies = [[s["acronym"], s["treat1"], s["treat2"], fmt.ratio(s["hr"]), f"{s['se']:.4f}"] for s in g["studies"]]
    out = {"studies": (["Trial", "Treatment", "Comparator", "HR", "SE (log HR)"], studies),
           "estimates": (["Treatment", f"HR vs {ref} [{lv} CI]", f"{lv} PI", "p"], est),
           "league": (["Row vs column"] + order, league),
           "ranking": (["Rank", "Treatment", "P-score"], ranks),
           "consistency": (["Q (Krahn 2013)", "Q", "df", "p"], cons),
           "node-split": (["Comparison", "k", "Direct", "Indirect", "Network", "p (direct vs indirect)"], split)}
    if g["bucher_vs_nma"]:
        out["bucher"] = (["Comparison", "Bucher (indirect section)", "Network meta-analysis"],
                         [[b["comparison"], b["bucher"], b["nma"]] for b in g["bucher_vs_nma"]])
    return out


def _html_table(header, rows) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table class='evidence'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


TITLES = {"studies": "Studies", "estimates": "Network estimates vs the reference", "league": "League table",
          "ranking": "Ranking", "consistency": "Consistency: design-by-treatment decomposition of Q",
          "node-split": "Consistency: node-splitting (direct vs indirect, back-calculation)",
          "bucher": "Bucher indirect comparison vs network meta-analysis"}


def networks_html(networks: list[dict], stage: Path, inline_svg) -> str:
    """The 'Network meta-analyses' section of report.html; ``inline_svg(path, prefix)`` (report.html's) inlines the
    figures from ``stage/networks``."""
    out = ["<section id='networks'><h2>Network meta-analyses</h2>"]
    for n in networks:
        out.append(f"<h3 id='{esc(n['name'])}'>{esc(n['title'])}</h3><p>{esc(n['question'])}</p><ul>"
                   + "".join(f"<li>{esc(c)}</li>" for c in n["caveats"]) + "</ul>")
        for g in n["groups"]:
            out.append(f"<h4>{esc(g['label'])}</h4>")
            if g["status"] != "fitted":
                out.append(f"<p class='refused'><b>Not analysed.</b> {esc(g['message'])}</p>")
                continue
            stem = f"{n['name']}-{g['key']}"
            out.append(inline_svg(stage / "networks" / f"{stem}-graph.svg", f"{stem}-graph"))
            out.append(inline_svg(stage / "networks" / f"{stem}-forest.svg", f"{stem}-forest"))
            nma = g["nma"]
            for key, (header, rows) in group_tables(g).items():
                note = f"<p><i>{esc(nma['ranking_caveat'])}</i></p>" if key == "ranking" else ""
                out.append(f"<h5>{esc(TITLES[key])}</h5>{_html_table(header, rows)}{note}")
            out.append(f"<p>Heterogeneity: tau² = {nma['tau2']:.4g}, I² = {nma['heterogeneity']['I2']:.0%}. "
                       f"Method: {esc(nma['method'])}</p>")
        out += [f"<p>{esc(x)}</p>" for x in n["notes"]]
    out.append("</section>")
    return "\n".join(out)


def networks_sheets(wb, networks: list[dict], write_rows, sheet_title, taken: set) -> None:
    """One sheet per fitted network subgroup (every table one under the other); a refused one says why."""
    for n in networks:
        for g in n["groups"]:
            ws = wb.create_sheet(sheet_title(f"NMA {n['name']}-{g['key']}", taken))
            if g["status"] != "fitted":
                write_rows(ws, ["Network", "Subgroup", "Status", "Why"], [[n["title"], g["label"], g["status"],
                                                                          g["message"]]])
                continue
            rows = [[n["title"]], [g["label"]], [g["nma"]["method"]], []]
            for key, (header, body) in group_tables(g).items():
                rows += [[TITLES[key]], header, *body, []]
            rows.append([g["nma"]["ranking_caveat"]])
            width = max(len(r) for r in rows)
            write_rows(ws, [f"Network meta-analysis: {n['name']}"] + [""] * (width - 1), rows)


def networks_docx(doc, networks: list[dict], pictures: dict, add_table, width_cm: float) -> None:
    """A 'Network meta-analyses' heading and, per subgroup, the graph and forest (``pictures``: stem -> PNG bytes)
    and the tables."""
    import io as _io

    from docx.shared import Cm

    doc.add_heading("Network meta-analyses", level=1)
    for n in networks:
        doc.add_heading(n["title"], level=2)
        doc.add_paragraph(n["question"])
        for c in n["caveats"]:
            doc.add_paragraph(c, style="List Bullet")
        for g in n["groups"]:
            doc.add_heading(g["label"], level=3)
            if g["status"] != "fitted":
                doc.add_paragraph(f"Not analysed. {g['message']}")
                continue
            stem = f"{n['name']}-{g['key']}"
            for kind, width in (("graph", 9.0), ("forest", width_cm)):
                if f"{stem}-{kind}" in pictures:
                    doc.add_picture(_io.BytesIO(pictures[f"{stem}-{kind}"]), width=Cm(width))
            for key, (header, rows) in group_tables(g).items():
                doc.add_paragraph(TITLES[key]).runs[0].bold = True
                add_table(doc, header, rows, width_cm, 8)
            doc.add_paragraph(g["nma"]["ranking_caveat"])
            doc.add_paragraph(f"Method: {g['nma']['method']}")
        for x in n["notes"]:
            doc.add_paragraph(x)

"""The network meta-analyses of ``report.docx``, laid out like the rest of the report: a level-1
heading in the contents, each picture centred with alt text and a numbered caption below it,
each table captioned above it (9 pt, rows never split), notes in reader's words. The tables' cells
come from :func:`trialmeta.report.networks.group_tables`, as in the HTML report and the workbook."""

from __future__ import annotations

import io

from trialmeta.report import wording, wordxml
from trialmeta.report.networks import TITLES, group_tables
from trialmeta.report.wordtable import add_table

#: Picture widths (cm): the network graph, and the forest within the text width.
GRAPH_CM = 9.0


def networks_section(doc, outline, networks: list[dict], pictures: dict, width_cm: float, table_pt: float,
                     note) -> None:
    """Append the network meta-analyses (``networks``: ``evidence.json``'s ``networks``; ``pictures``:
    figure stem -> PNG bytes). ``note(doc, text, style)`` writes a small-print paragraph."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    outline.heading("Network meta-analyses", level=1)
    for n in networks:
        outline.heading(n["title"], level=2)
        q = doc.add_paragraph(n["question"])
        q.runs[0].italic = True
        for c in n["caveats"]:
            note(doc, wording.prose(c), "List Bullet")
        for g in n["groups"]:
            outline.heading(g["label"], level=3)
            if g["status"] != "fitted":
                doc.add_paragraph(f"Not analysed. {g['message']}")
                continue
            stem = f"{n['name']}-{g['key']}"
            for kind, width, what in (("graph", GRAPH_CM, "Network graph"), ("forest", width_cm, "Network forest plot")):
                png = pictures.get(f"{stem}-{kind}")
                if png is None:
                    continue
                holder = doc.add_paragraph()
                holder.alignment = WD_ALIGN_PARAGRAPH.CENTER
                wordxml.keep_with_next(holder)
                shape = holder.add_run().add_picture(io.BytesIO(png), width=Cm(width))
                caption = f"{what}: {n['title']}, {g['label']}"
                wordxml.alt_text(shape, caption, f"{what} of {n['title']} ({g['label']}); its numbers are in the "
                                                 "tables that follow.")
                outline.caption("Figure", caption)
            for key, (header, rows) in group_tables(g).items():
                outline.caption("Table", f"{TITLES[key]}: {n['title']}, {g['label']}")
                add_table(doc, header, [[wording.prose(c) for c in r] for r in rows], width_cm, table_pt)
            note(doc, wording.prose(g["nma"]["ranking_caveat"]), None)
            note(doc, wording.prose(f"Method: {g['nma']['method']}"), None)
        for x in n["notes"]:
            note(doc, wording.prose(x), None)

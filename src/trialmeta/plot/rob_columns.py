"""Risk-of-bias columns beside a forest plot (RevMan 5 style; R meta ``forest(..., rob = )``).

An added column set, self-contained: :func:`with_rob` appends six columns (RoB 2 domains D1-D5
and the overall judgement) to the right of a :class:`~trialmeta.plot.spec.ForestSpec`, one
symbol per study row, and a legend; :func:`decorate` puts a coloured disc behind each symbol
in the drawn :class:`~trialmeta.plot.scene.Scene`. The symbol alone carries the judgement
(``+`` low, ``−`` some concerns, ``×`` high, ``?`` not assessed), so the columns read the same
in greyscale; the colours are robvis's (McGuinness & Higgins, Res Synth Methods 2021).

The judgements come from the analysis result (``AnalysisResult.risk_of_bias``, filled from the
registry's ``risk_of_bias:`` entries); a study without an assessment shows ``?`` in every column.
"""

from __future__ import annotations

from dataclasses import replace

from trialmeta.plot.scene import Markers, Panel, Scene, Text
from trialmeta.plot.spec import Column, ForestSpec

SYMBOLS = {"low": "+", "some concerns": "\u2212", "high": "\u00d7", None: "?"}
COLOURS = {"low": "#02C100", "some concerns": "#E2DF07", "high": "#BF0000", None: "#D9D9D9"}
INK = {"high": "white"}  # the letter on a dark disc
HEADERS = ("D1", "D2", "D3", "D4", "D5", "Overall")
KEYS = tuple(f"rob-{h.lower()}" for h in HEADERS)
ROLE = "rob"
DISC = 64.0  # points^2: a disc about 9 pt across, within a 7 pt line's row
LEGEND = ("Risk of bias (RoB 2): D1 randomisation process; D2 deviations from intended interventions; D3 missing "
          "outcome data; D4 measurement of the outcome; D5 selection of the reported result; Overall by the RoB 2 "
          "algorithm. + low (green), \u2212 some concerns (yellow), \u00d7 high (red), ? not assessed (grey).")
#: The legend of the single overall column (``with_rob(..., domains=False)``: a width-limited document preset).
LEGEND_OVERALL = ("RoB: risk of bias (RoB 2), the overall judgement by the RoB 2 algorithm (the five domains are in "
                  "the risk-of-bias traffic-light plot and the Excel workbook's Risk of bias sheet): + low (green), "
                  "\u2212 some concerns (yellow), \u00d7 high (red), ? not assessed (grey).")
NONE_ASSESSED = "Risk of bias (RoB 2): not assessed for any result shown."


def with_rob(spec: ForestSpec, judgements: dict, domains: bool = True) -> ForestSpec:
    """``spec`` with RoB columns for its study rows (keys ``trial/population``), or, when no study
    shown has an assessment, with a note saying so. ``domains=False``: only the overall column
    (headed 'RoB'), for a figure that must fit a narrower box."""
    studies = [r for r in spec.rows if r.kind == "study"]
    if not studies:
        return spec
    found = {f"{t}/{p}": js for (t, p), js in judgements.items()}
    if not any(r.key in found for r in studies):
        return replace(spec, footnotes=(*spec.footnotes, ("note", NONE_ASSESSED)))
    shown = range(len(KEYS)) if domains else (len(KEYS) - 1,)
    keys = tuple(KEYS[i] for i in shown)
    cols = tuple(Column(KEYS[i], (HEADERS[i] if domains else "RoB",), "right", "center", role=ROLE) for i in shown)
    rows = tuple(replace(r, cells={**r.cells, **{KEYS[i]: SYMBOLS[found.get(r.key, (None,) * 6)[i]] for i in shown}})
                 if r.kind == "study" else r for r in spec.rows)
    spans = (*spec.spans, ("Risk of bias", keys)) if domains else spec.spans
    return replace(spec, columns=(*spec.columns, *cols), rows=rows, spans=spans,
                   footnotes=(*spec.footnotes, ("note", LEGEND if domains else LEGEND_OVERALL)))


def decorate(scene: Scene) -> Scene:
    """A coloured disc behind every RoB symbol of ``scene``'s table panel (role ``study-rob``)."""
    judgement = {v: k for k, v in SYMBOLS.items()}
    panels = []
    for panel in scene.panels:
        items = []
        for item in panel.items:
            if isinstance(item, Text) and item.role == f"study-{ROLE}" and item.text in judgement:
                j = judgement[item.text]
                items.append(Markers((item.x,), (item.y,), "o", (DISC * (item.size / 7.0) ** 2,),
                                     color=COLOURS[j], role=f"rob-disc-{j or 'not-assessed'}"))
                item = replace(item, color=INK.get(j, item.color), weight="bold")
            items.append(item)
        panels.append(replace(panel, items=tuple(items)) if isinstance(panel, Panel) else panel)
    return replace(scene, panels=tuple(panels))

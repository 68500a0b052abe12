"""Risk-of-bias figures of an analysis (robvis's two plots, McGuinness & Higgins 2021), as scenes.

* :func:`traffic_light_scene`: one row per study of the analysis, one disc per RoB 2 domain and
  the overall judgement, coloured and carrying the judgement's symbol (readable in greyscale).
* :func:`summary_scene`: per domain, a 100% bar of the share of the analysis' weight at low /
  some concerns / high risk / not assessed. Weights come from the pooling: a study's weight
  within its subgroup, averaged over the subgroups pooled (so each subgroup counts once); an
  analysis that is not pooled weighs its studies equally (and says so).

Judgements come from ``AnalysisResult.risk_of_bias``; plain data, drawn by :mod:`trialmeta.plot.render`.
"""

from __future__ import annotations

from trialmeta.plot.rob_columns import COLOURS, HEADERS, INK, SYMBOLS
from trialmeta.plot.scene import Axis, Line, Markers, Panel, Polygon, Scene, Text, text_width, wrap
from trialmeta.plot.text import FONT

LINE, MARGIN, PITCH, ROW = 0.125, 0.1, 0.34, 0.22
ORDER = ("low", "some concerns", "high", None)
NAMES = {"low": "Low risk", "some concerns": "Some concerns", "high": "High risk", None: "Not assessed"}
DOMAIN_NAMES = ("D1 Randomisation process", "D2 Deviations from intended interventions", "D3 Missing outcome data",
                "D4 Measurement of the outcome", "D5 Selection of the reported result", "Overall risk of bias")


def _studies(result) -> list[tuple[str, tuple]]:
    """(label, judgements) per distinct study of the analysis, in the forest's order."""
    seen, out = set(), []
    for g in result.groups:
        for s in g.studies:
            if (s.trial, s.population) in seen:
                continue
            seen.add((s.trial, s.population))
            out.append((f"{s.row['acronym']} {s.row['population_label']}",
                        result.risk_of_bias.get((s.trial, s.population), (None,) * 6)))
    return out


def _legend(items: list, y: float) -> float:
    x = MARGIN
    for j in ORDER:
        items.append(Markers((x + 0.06,), (y,), "o", (64.0,), color=COLOURS[j], role=f"legend-{j or 'not-assessed'}"))
        items.append(Text(x + 0.06, y, SYMBOLS[j], ha="center", size=FONT, weight="bold", color=INK.get(j, "black"),
                          role="legend-symbol"))
        items.append(Text(x + 0.16, y, NAMES[j], size=FONT, role="legend"))
        x += 0.2 + text_width(NAMES[j], FONT) + 0.15
    return y + LINE


def _scene(title: str, items: list, width: float, height: float, kind: str) -> Scene:
    panel = Panel("table", (0.0, 0.0, 1.0, 1.0), Axis((0.0, width)), Axis((0.0, height), inverted=True),
                  tuple(items), fontsize=FONT)
    return Scene(width, height, (panel,), metadata={"kind": kind, "title": title})


def _title(items: list, title: str, width: float) -> float:
    """The title, wrapped to the figure; returns the y below it."""
    y = MARGIN + LINE / 2
    for line in wrap(title, width - 2 * MARGIN, FONT + 1, "bold"):
        items.append(Text(MARGIN, y, line, size=FONT + 1, weight="bold", role="title"))
        y += LINE * 1.2
    return y + LINE * 0.3


def traffic_light_scene(result) -> Scene:
    """The traffic-light plot of ``result``'s studies (see the module notes)."""
    studies = _studies(result)
    label_w = max([text_width(label, FONT) for label, _ in studies] + [text_width("Study", FONT, "bold")]) + 0.15
    width = max(MARGIN * 2 + label_w + PITCH * len(HEADERS), 4.2)
    items: list = []
    title = f"Risk of bias (RoB 2): {result.spec.title}"
    y = _title(items, title, width)
    x0 = MARGIN + label_w
    items.append(Text(MARGIN, y, "Study", size=FONT, weight="bold", role="column-header"))
    for i, h in enumerate(HEADERS):
        items.append(Text(x0 + PITCH * (i + 0.5), y, h, ha="center", size=FONT, weight="bold", role="column-header"))
    items.append(Line((MARGIN, width - MARGIN), (y + LINE * 0.7,) * 2, width=0.5, role="header-rule"))
    y += LINE * 0.7 + ROW / 2 + 0.03
    for label, js in studies:
        items.append(Text(MARGIN, y, label, size=FONT, role="study-label"))
        for i, j in enumerate(js):
            x = x0 + PITCH * (i + 0.5)
            items.append(Markers((x,), (y,), "o", (100.0,), color=COLOURS[j], role=f"rob-disc-{j or 'not-assessed'}"))
            items.append(Text(x, y, SYMBOLS[j], ha="center", size=FONT, weight="bold", color=INK.get(j, "black"),
                              role="rob-symbol"))
        y += ROW
    y += LINE * 0.5
    for name in DOMAIN_NAMES:
        items.append(Text(MARGIN, y, name.replace("Overall risk of bias", "Overall: by the RoB 2 algorithm"),
                          size=FONT, role="note"))
        y += LINE
    y = _legend(items, y + LINE * 0.5)
    return _scene(title, items, width, y + MARGIN, "rob-traffic-light")


def weighted_shares(result) -> tuple[list[dict], str]:
    """Per domain (D1..D5, overall), the percentage of the weight at each judgement; and how weighed."""
    weights: dict = {}
    pooled = [g for g in result.groups if g.pooled is not None and result.spec.pooled]
    if pooled:
        for g in pooled:
            for s, w in zip(g.usable, g.pooled.weights):
                key = (s.trial, s.population)
                weights[key] = weights.get(key, 0.0) + float(w) / len(pooled)
        how = "share of the pooling weight (each study's weight within its subgroup, averaged over the subgroups)"
    else:
        studies = {(s.trial, s.population) for g in result.groups for s in g.usable}
        weights = {k: 100.0 / len(studies) for k in studies} if studies else {}
        how = "studies weighed equally (the analysis is not pooled)"
    total = sum(weights.values()) or 1.0
    shares = []
    for d in range(len(HEADERS)):
        share = dict.fromkeys(ORDER, 0.0)
        for key, w in weights.items():
            share[result.risk_of_bias.get(key, (None,) * 6)[d]] += 100.0 * w / total
        # (rounded: a bar that stays 100% is the same scene, so the figure cache keeps it)
        shares.append({j: round(v, 6) for j, v in share.items()})
    return shares, how


def summary_scene(result) -> Scene:
    """The weighted summary bar plot of ``result`` (see the module notes)."""
    shares, how = weighted_shares(result)
    label_w = max(text_width(n, FONT) for n in DOMAIN_NAMES) + 0.15
    bar_w = 3.0
    width = MARGIN * 2 + label_w + bar_w + 0.15  # (room for the '100%' tick label)
    items: list = []
    title = f"Risk of bias (RoB 2), weighted summary: {result.spec.title}"
    y = _title(items, title, width)
    x0 = MARGIN + label_w
    for name, share in zip(DOMAIN_NAMES, shares):
        items.append(Text(MARGIN, y, name, size=FONT, role="domain-label"))
        x = x0
        for j in ORDER:
            w = bar_w * share[j] / 100.0
            if w <= 0:
                continue
            items.append(Polygon((x, x + w, x + w, x), (y - 0.08, y - 0.08, y + 0.08, y + 0.08), facecolor=COLOURS[j],
                                 edgecolor="white", width=0.5, role=f"bar-{j or 'not-assessed'}"))
            text = f"{SYMBOLS[j]} {share[j]:.0f}%"
            if text_width(text, FONT) + 0.04 < w:
                items.append(Text(x + w / 2, y, text, ha="center", size=FONT, color=INK.get(j, "black"),
                                  role="bar-label"))
            x += w
        y += ROW
    axis_y = y - ROW / 2 + 0.04
    items.append(Line((x0, x0 + bar_w), (axis_y, axis_y), width=0.5, role="axis"))
    for p in (0, 25, 50, 75, 100):
        xp = x0 + bar_w * p / 100
        items.append(Line((xp, xp), (axis_y, axis_y + 0.04), width=0.5, role="tick"))
        items.append(Text(xp, axis_y + 0.04 + LINE / 2, f"{p}%", ha="center", size=FONT, role="tick-label"))
    y = axis_y + LINE * 2
    items.append(Text(MARGIN, y, f"Bars: {how}.", size=FONT, role="note"))
    y = _legend(items, y + LINE * 1.2)
    return _scene(title, items, width, y + MARGIN, "rob-summary")

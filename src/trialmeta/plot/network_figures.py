"""Figures of a network meta-analysis as data: the forest of every treatment vs the reference, and the
network graph (nodes on a circle, area by patients randomised, or by studies where patients are unknown;
edge width by the number of studies comparing the two treatments; netmeta's ``netgraph`` conventions).

Drawn by :mod:`trialmeta.plot.render` like every other scene.
"""

from __future__ import annotations

import math

from trialmeta import fmt
from trialmeta.plot.draw import to_scene
from trialmeta.plot.grid import place
from trialmeta.plot.scene import Axis, Line, Markers, Panel, Scene, Text
from trialmeta.plot.spec import FIXED_SIDE, Column, ForestSpec, Row
from trialmeta.stats.binary import MEASURE_NAMES

MODEL = {"fe": "common effect", "reml": "random effects (REML)", "dl": "random effects (DL)"}
CI_SHORT = {"wald": "Wald", "hksj": "HKSJ", "hksj-adhoc": "ad hoc HKSJ"}


def _minus(text: str) -> str:
    return text.replace("-", fmt.MINUS)


def nma_forest_spec(a, *, title: str = "", favours: tuple[str, str] | None = None,
                    width: float | None = None) -> ForestSpec:
    """Every treatment vs the reference (``a``: a :class:`~trialmeta.synthesis.network.NetworkAnalysis`),
    best P-score first, with prediction intervals under random effects."""
    f, est = a.fit, a.estimates().set_index("treatment")
    ps = a.pscores().set_index("treatment")["P-score"]
    level = f.level
    cols = (Column("treatment", ("Treatment",), "left", wrap=2.0, role="label", overflow=True),
            Column("est", (f"{a.measure} [{level:.0%} CI]",), "right", "right", role="estimate"),
            Column("pscore", ("P-score",), "right", "right", role="pscore"))
    rows = []
    for t in (x for x in ps.index if x != a.reference):
        r = est.loc[t]
        e, lo, hi = (math.exp(r[c]) for c in ("coef", "ci_low", "ci_high"))
        rows.append(Row("study", {"treatment": t, "est": _minus(a.interval(r["coef"], r["ci_low"], r["ci_high"])),
                                  "pscore": fmt.number(ps[t])}, est=e, lo=lo, hi=hi, side=FIXED_SIDE, key=t))
        if f.method != "fe":
            pi = _minus(a.interval(r["coef"], r["pi_low"], r["pi_high"]).split(" ", 1)[1])
            rows.append(Row("pi", {"treatment": "Prediction interval", "est": pi},
                            lo=math.exp(r["pi_low"]), hi=math.exp(r["pi_high"]), key=t))
    rows.append(Row("stat", text=f"Reference: {a.reference} (P-score {fmt.number(ps[a.reference])})", role="reference"))
    het = (f"Heterogeneity/inconsistency: Q = {f.Q:.2f}, df = {f.df}, {fmt.p_value(f.p_q)}; I² = {f.i2:.0%}; "
           f"Tau² = {fmt.tau2(f.tau2)}")
    rows.append(Row("stat", text=het, role="heterogeneity"))
    good = a.small_values == "good"
    fav = favours or ((f"Favours treatment", f"Favours {a.reference}") if good else
                      (f"Favours {a.reference}", "Favours treatment"))
    notes = (("method", f"Method: {a.describe()}"), ("ranking", a.ranking_caveat))
    header = (MEASURE_NAMES.get(a.measure, a.measure),
              f"NMA, {MODEL[f.method]}" + ("" if f.method == "fe" else f", {CI_SHORT[f.ci]}") + f", {level:.0%} CI")
    return ForestSpec(title, "", cols, tuple(rows), header, fav, notes, (), (),
                      scale="log" if a.ratio else "linear", **({"width": width} if width else {}))


def nma_forest_scene(a, **options) -> Scene:
    return to_scene(place(nma_forest_spec(a, **options)))


def network_graph_scene(a, *, title: str = "", size: float = 4.0) -> Scene:
    """Nodes on a circle in treatment order, the reference at the top."""
    nodes, edges = a.graph()
    names = list(a.network.treatments)
    start = names.index(a.reference)
    names = names[start:] + names[:start]
    n = len(names)
    pos = {t: (math.sin(2 * math.pi * i / n), math.cos(2 * math.pi * i / n)) for i, t in enumerate(names)}
    by_patients = all(v[1] for v in nodes.values())
    weight = {t: (v[1] if by_patients else v[0]) for t, v in nodes.items()}
    top = max(weight.values())
    most = max(edges.values())
    items = []
    for (x, y), k in sorted(edges.items()):
        (x0, y0), (x1, y1) = pos[x], pos[y]
        items.append(Line((x0, x1), (y0, y1), color="#4d4d4d", width=1.0 + 5.0 * k / most, role="edge"))
        items.append(Text((x0 + x1) / 2, (y0 + y1) / 2, str(k), ha="center", size=7, color="#1f1f1f",
                          role="edge-label"))
    items.append(Markers(tuple(pos[t][0] for t in names), tuple(pos[t][1] for t in names), marker="o",
                         areas=tuple(120.0 + 900.0 * weight[t] / top for t in names), color="#2b6cb0", role="node"))
    for t in names:
        x, y = pos[t]
        count = nodes[t][0]
        label = f"{t}\n({nodes[t][1]:,} patients)" if by_patients else f"{t}\n({count} stud{'y' if count == 1 else 'ies'})"
        items.append(Text(1.32 * x, 1.22 * y, label, ha="center" if abs(x) < 0.3 else ("left" if x > 0 else "right"),
                          size=8, role="node-label"))
    foot = ("Node area: patients randomised." if by_patients else "Node area: studies.") + \
        "\nEdge width and number: studies comparing the two treatments."
    items.append(Text(0.5, 0.04, foot, ha="center", size=7, coords="axes", role="footnote"))
    lim = 2.6
    panel = Panel("graph", (0.02, 0.02, 0.96, 0.9 if title else 0.96), Axis((-lim, lim)), Axis((-1.9, 1.9)),
                  tuple(items))
    return Scene(size * 1.3, size, (panel,), title=title)

"""The cumulative view as a figure: each pooled HR and CI after every publication.

One row per (subgroup, date): the estimate as it stood once that data cut was published,
with the studies (and data cuts) it rested on. Built as a :class:`~trialmeta.scene.Scene`
and drawn by :mod:`trialmeta.render`.
"""

from __future__ import annotations

from pathlib import Path

from trialmeta import fmt, io
from trialmeta.scene import Arrow, Axis, Line, Markers, Panel, Scene, Text, wrap

ROW = 0.24  # inches per row
WIDTH = 7.0
FONT = 7.5


def log_ticks(lo: float, hi: float) -> tuple[tuple[float, ...], tuple[float, float]]:
    """1-2-5 ticks covering [lo, hi] (always including 1) and the axis limits."""
    series = [m * 10.0 ** e for e in range(-3, 4) for m in (1, 2, 5)]
    lo, hi = min(lo, 1.0), max(hi, 1.0)
    below = [t for t in series if t <= lo] or [series[0]]
    above = [t for t in series if t >= hi] or [series[-1]]
    lim = (below[-1], above[0])
    return tuple(t for t in series if lim[0] <= t <= lim[1]), lim


def history_scene(name: str, steps, measure: str = "HR") -> Scene:
    """A scene of the evolution of every subgroup of one analysis."""
    rows: list[tuple] = []  # (kind, label, studies, est, lo, hi)
    groups = {}
    for step in steps:
        r = step.result
        for g in (*r.groups, *([r.overall] if r.overall else [])):
            groups.setdefault(g.key, (g.label, []))[1].append((step.as_of, g))
    for label, items in groups.values():
        rows.append(("header", label, "", None, None, None))
        for as_of, g in items:
            used = ", ".join(f"{s.row['acronym']} {s.row['data_cut']}" for s in g.usable) or "no usable study"
            p = g.pooled
            rows.append(("step", f"as of {as_of}", used, p.est if p else None, p.ci_low if p else None,
                         p.ci_high if p else None))
    values = [v for r in rows for v in r[3:] if v is not None and v > 0]
    ticks, lim = log_ticks(min(values, default=0.5), max(values, default=2.0))
    heights = [ROW * max(1, len(wrap(r[2], 2.6, FONT - 1))) for r in rows]
    total = sum(heights) + 1.0
    y_positions, y = [], 0.5
    for h in heights:
        y_positions.append(y + h / 2)
        y += h
    items_left, items_plot = [], []
    for (kind, label, studies, est, lo, hi), yy in zip(rows, y_positions):
        if kind == "header":
            items_left.append(Text(0.0, yy, label, weight="bold", size=FONT, role="subgroup-label"))
            continue
        items_left.append(Text(0.0, yy, label, size=FONT, role="as-of"))
        for i, line in enumerate(wrap(studies, 2.6, FONT - 1)):
            items_left.append(Text(1.05, yy - 0.5 * (len(wrap(studies, 2.6, FONT - 1)) - 1) * 0.16 + i * 0.16,
                                   line, size=FONT - 1, color="#333333", role="studies"))
        items_left.append(Text(6.9, yy, fmt.ratio_ci(est, lo, hi) or "not estimable", ha="right", size=FONT,
                               role="estimate"))
        if est is None:
            continue
        items_plot.append(Markers((est,), (yy,), marker="D", areas=(14.0,), role="estimate"))
        a, b = max(lo, lim[0]), min(hi, lim[1])
        items_plot.append(Line((a, b), (yy, yy), role="ci"))
        if lo < lim[0]:
            items_plot.append(Arrow(a * 1.01, lim[0], yy, role="arrow"))
        if hi > lim[1]:
            items_plot.append(Arrow(b / 1.01, lim[1], yy, role="arrow"))
    items_plot.append(Line((1.0, 1.0), (0.3, total - 0.7), role="null-line"))
    bottom = 0.55 / total
    height = (total - 0.5) / total - bottom + 0.45 / total
    ylim = (total - 0.3, 0.3)
    y_axis = Axis(lim=ylim)
    left = Panel("text", (0.0, bottom, 1.0, height), Axis(lim=(0.0, WIDTH)), y_axis, tuple(items_left))
    plot = Panel("plot", (3.9 / WIDTH, bottom, 1.9 / WIDTH, height),
                 Axis(lim=lim, scale="log", ticks=ticks, ticklabels=tuple(f"{t:g}" for t in ticks),
                      label=f"{measure} (log scale)", visible=True),
                 y_axis, tuple(items_plot), spines=("bottom",), fontsize=FONT)
    return Scene(WIDTH, total, (left, plot), metadata={"analysis": name})


def write_history_plots(history: dict, out_dir: Path, formats=("png", "svg")) -> list[Path]:
    """One cumulative figure per analysis with at least one step; returns the paths written."""
    from trialmeta import render

    written = []
    for name, steps in sorted(history.items()):
        if not steps:
            continue
        measure = steps[-1].result.spec.measure
        fig = render.render(history_scene(name, steps, measure))
        for f in formats:
            path = Path(out_dir) / f"{name}.{f}"
            io.write_bytes(path, render.to_bytes(fig, f))
            written.append(path)
        render.close(fig)
    return written


"""The Kaplan-Meier figure of a reconstruction, as a :class:`~trialmeta.plot.scene.Scene`.

Both arms as step curves with censoring ticks; a dotted line at the RMST horizon (tau); the
HR, the proportional-hazards test and the RMST difference in a corner, and the legend, each
placed where no curve passes (upper right and lower left first); under the time axis, the
numbers at risk of the plotted (reconstructed) data at the published at-risk times. Pure
data: :mod:`trialmeta.plot.render` draws it.
"""

from __future__ import annotations

import math

import numpy as np

from trialmeta import fmt
from trialmeta.plot.scene import Axis, Line, Panel, Scene, Text, text_width

WIDTH, HEIGHT = 7.0, 5.2
FONT = 8.0
COLOURS = {"experimental": "#0072B2", "control": "#D55E00"}  # Okabe-Ito blue / vermillion
LEFT, PLOT_W = 0.16, 0.80  # figure fractions: room on the left for the at-risk labels
LINE = 0.065  # text line height, axes fraction
TICK = 0.012  # half-height of a censoring tick, in survival units
_NICE = (0.5, 1, 2, 3, 6, 12, 24, 48, 96, 365)


def time_ticks(end: float, published: tuple[float, ...] = ()) -> tuple[float, ...]:
    """The published at-risk times when there are 2-13 of them, else a 1-2-3-6-12 step."""
    if 2 <= len(published) <= 13:
        return tuple(published)
    step = next((s for s in _NICE if end / s <= 10), _NICE[-1])
    return tuple(step * k for k in range(int(end // step) + 1))


def km_scene(result, title: str = "", labels: dict[str, str] | None = None) -> Scene:
    """Build the figure of a :class:`trialmeta.survival.reconstruct.Reconstruction`.

    Parameters
    ----------
    result : trialmeta.survival.reconstruct.Reconstruction
    title : str
        Printed above the plot (e.g. "SOLAR-1, PFS, PIK3CA-mutated").
    labels : dict, optional
        Arm labels (default "Experimental" and "Control").

    Returns
    -------
    Scene
        Panels ``"km"`` and ``"at-risk"``; item roles ``km-curve``, ``censor``, ``horizon``,
        ``legend``, ``hr``, ``ph-test``, ``rmst-diff``, ``event-mismatch`` (only when the
        reconstructed events were accepted although they differ from the published ones),
        ``provenance``, ``at-risk-label``,
        ``at-risk``. Censoring ticks are one line per arm, ``(t, t, nan)`` triples.
    """
    a, unit = result.analysis, result.figure.time_unit
    labels = {"experimental": "Experimental", "control": "Control", **(labels or {})}
    arms = {"experimental": a.experimental, "control": a.control}
    published = sorted({float(t) for arm in arms for t in result.ipd[arm].at_risk_time})
    end = max(max(x.km_time) for x in arms.values())
    ticks = time_ticks(end, tuple(published))
    xlim = (0.0, max(end, ticks[-1]) * 1.02)
    pct = f"{round(a.level * 100):d}%"
    plot: list = []
    for arm, summary in arms.items():
        colour = COLOURS[arm]
        plot.append(Line(summary.km_time + (end,), summary.km_survival + (summary.km_survival[-1],),
                         color=colour, width=1.2, steps=True, role="km-curve"))
        if summary.censor_time:  # vertical ticks, one NaN-separated line per arm
            xs = tuple(v for t in summary.censor_time for v in (t, t, math.nan))
            ys = tuple(v for s in summary.censor_survival for v in (s - TICK, s + TICK, math.nan))
            plot.append(Line(xs, ys, color=colour, width=0.7, role="censor"))
    plot.append(Line((a.horizon, a.horizon), (0.0, 1.0), color="#999999", style=":", role="horizon"))
    plot.append(Text(a.horizon, 1.01, "\u03c4", ha="center", va="bottom", size=FONT, color="#555555",
                     role="horizon"))
    stats = [
        (f"HR {fmt.ratio_ci(a.hr, a.hr_ci_low, a.hr_ci_high)} ({pct} CI)", "hr"),
        (f"PH test (Schoenfeld): {fmt.p_value(a.ph_test_p)}", "ph-test"),
        (f"RMST difference to \u03c4 = {a.horizon:.1f} {unit}: {a.rmst_diff:.2f} "
         f"[{a.rmst_diff_ci_low:.2f}, {a.rmst_diff_ci_high:.2f}]", "rmst-diff"),
        ("Reconstructed from the published curve (Guyot 2012)", "provenance"),
    ]

    legend = [f"{labels[arm]} (n = {arms[arm].n}, {arms[arm].events} events)" for arm in arms]
    right = min(0.98, a.horizon / xlim[1] - 0.015)  # blocks on the right stay left of the tau line
    stats_box, legend_box = _place(arms, xlim[1], right, [t for t, _ in stats], legend)
    x0, x1, _, top = stats_box
    for i, (text, role) in enumerate(stats):
        plot.append(Text(x1, top - LINE * i, text, ha="right", va="top", size=FONT - 0.5, coords="axes",
                         color="#555555" if role == "provenance" else "black", role=role))
    mismatched = [c for c in result.event_checks if c.mismatch]
    if mismatched:  # accepted by the user, and never left out of the figure: under the time axis
        text = "Events differ from the publication: " + "; ".join(
            f"{c.arm} arm {c.reconstructed} reconstructed vs {c.published} published" for c in mismatched)
        plot.append(Text(0.5, -0.2, text, ha="center", va="top", size=FONT, coords="axes", color="#B00000",
                         role="event-mismatch"))
    x0, _, _, top = legend_box
    for i, (arm, text) in enumerate(zip(arms, legend)):
        y = top - LINE * (i + 0.5)
        plot.append(Line((x0, x0 + 0.06), (y, y), color=COLOURS[arm], width=1.2, coords="axes",
                         role="legend"))
        plot.append(Text(x0 + 0.08, y, text, size=FONT, coords="axes", role="legend"))
    km = Panel("km", (LEFT, 0.33, PLOT_W, 0.58),
               Axis(xlim, ticks=ticks, ticklabels=tuple(f"{t:g}" for t in ticks),
                    label=f"Time since randomisation ({unit})", visible=True),
               Axis((0.0, 1.02), ticks=(0, 0.2, 0.4, 0.6, 0.8, 1.0),
                    ticklabels=("0", "20", "40", "60", "80", "100"), label="Survival (%)", visible=True),
               tuple(plot), spines=("bottom", "left"), fontsize=FONT)
    risk: list = [Text(-0.05 * xlim[1], 2.6, "No. at risk", ha="right", size=FONT, weight="bold",
                       role="at-risk-label")]
    for i, arm in enumerate(arms):
        ipd, y = result.ipd[arm], 1.6 - i
        risk.append(Text(-0.05 * xlim[1], y, labels[arm], ha="right", size=FONT, color=COLOURS[arm],
                         role="at-risk-label"))
        for t, n in zip(ipd.at_risk_time, ipd.at_risk_reconstructed):
            risk.append(Text(float(t), y, f"{int(n)}", ha="center", size=FONT, color=COLOURS[arm],
                             role="at-risk"))
    table = Panel("at-risk", (LEFT, 0.04, PLOT_W, 0.14), Axis(xlim), Axis((0.0, 3.0)), tuple(risk),
                  fontsize=FONT)
    panels = (km, table)
    return Scene(WIDTH, HEIGHT, panels, title=title,
                 metadata={"hr": a.hr, "rmst_diff": a.rmst_diff, "horizon": a.horizon,
                           "derivation": result.derivation, "event_mismatch": result.event_mismatch})


def _place(arms, xmax, right, stats, legend):
    """Boxes (x0, x1, y0, y1, axes fractions) for the statistics and the legend where no curve
    passes; the first free candidate wins (top right and bottom left when none is free)."""
    def box(lines, width_extra, size, where):
        w = max(text_width(t, size) for t in lines) / (PLOT_W * WIDTH) + width_extra
        h = LINE * len(lines)
        x0, x1 = (right - w, right) if where[0] == "right" else (0.03, 0.03 + w)
        y1 = {"top": 0.97, "bottom": 0.04 + h, "middle": 0.45 + h / 2}[where[1]]
        return (x0, x1, y1 - h, y1)

    def free(b):
        x0, x1, y0, y1 = b
        for summary in arms.values():
            t, s = np.asarray(summary.km_time), np.asarray(summary.km_survival)
            hi = s[max(np.searchsorted(t, x0 * xmax, side="right") - 1, 0)]  # S is non-increasing
            lo = s[max(np.searchsorted(t, x1 * xmax, side="right") - 1, 0)]
            if lo - 0.03 <= y1 * 1.02 and hi + 0.03 >= y0 * 1.02:
                return False
        return True

    def apart(b, c, gap=0.04):
        return b[1] + gap < c[0] or c[1] + gap < b[0] or b[3] + gap / 2 < c[2] or c[3] + gap / 2 < b[2]

    stat_boxes = [box(stats, 0.0, FONT - 0.5, w)
                  for w in [("right", "top"), ("right", "bottom"), ("left", "bottom"), ("right", "middle")]]
    stats_box = next((b for b in stat_boxes if free(b)), stat_boxes[0])
    height = LINE * len(legend)
    x0, x1, y0, y1 = stats_box
    below = (x0, x1, y0 - 0.03 - height, y0 - 0.03)
    above = (x0, x1, y1 + 0.03, y1 + 0.03 + height)
    others = [box(legend, 0.08, FONT, (x, y)) for x, y in [("left", "bottom"), ("right", "bottom"),
              ("left", "middle"), ("right", "middle"), ("right", "top"), ("left", "top")]]
    candidates = [b for b in [others[0], below, above, *others[1:]]
                  if apart(b, stats_box) and b[2] >= 0 and b[3] <= 1]
    return stats_box, next((b for b in candidates if free(b)), others[0])

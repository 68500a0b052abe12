"""The forest plot of one's own pooled studies (:class:`trialmeta.synthesis.own.OwnAnalysis`) as data.

The same RevMan 5 layout, measuring and drawing as the registry's forests
(:mod:`trialmeta.plot.forest`): study rows with weight-scaled squares, subgroup subtotal
diamonds, prediction-interval bars, the heterogeneity and overall-effect lines, the total and
the test for subgroup differences. Ratios (HR, RR, OR) are drawn on the log axis; differences
(RD, MD, SMD) on a linear axis around 0: the cells print the differences themselves; the rows
carry exp(difference / unit) for the drawing code (:func:`trialmeta.plot.axis.encode_difference`,
a power-of-ten unit keeps it in range whatever the size of the differences).
"""

from __future__ import annotations

import math

from trialmeta import fmt
from trialmeta.plot.draw import to_scene
from trialmeta.plot.grid import Placed, place
from trialmeta.plot.scene import Scene
from trialmeta.plot.spec import FIXED_SIDE, Column, ForestSpec, RefLine, Row
from trialmeta.plot.text import events_n, statistics_lines, weight_text
from trialmeta.plot.forest import square_side
from trialmeta.stats.binary import MEASURE_NAMES, RATIO_MEASURES
from trialmeta.plot.axis import encode_difference, linear_unit
from trialmeta.stats.effects import z_for_level
from trialmeta.stats.scale import to_measure

METHOD_HEADERS = {"mh": "M-H, fixed", "peto": "Peto, fixed"}
MODELS = {"fe": "fixed", "dl": "random (DL", "reml": "random (REML", "pm": "random (PM"}
CI_SHORT = {"wald": "Wald", "hksj": "HKSJ", "hksj-adhoc": "ad hoc HKSJ"}


def _num(x: float) -> str:
    return fmt.number(x).replace("-", fmt.MINUS)


def estimate_cell(ratio: bool, est, lo, hi) -> str:
    """'0.55 [0.28, 1.09]' for ratios; '−0.12 [−0.30, 0.06]' for differences (on their own scale)."""
    if est is None or not math.isfinite(est):
        return "Not estimable"
    if ratio:
        return fmt.ratio_ci(est, lo, hi)
    return f"{_diff(est)} [{_diff(lo)}, {_diff(hi)}]"


def _diff(x) -> str:
    return fmt.difference(x).replace("-", fmt.MINUS)


def _header(a) -> str:
    s = a.settings
    if a.method != "iv":
        return f"{METHOD_HEADERS[a.method]}, {s.level:.0%} CI"
    model = MODELS[s.method] + ("" if s.method == "fe" else f", {CI_SHORT[s.ci]})")
    return f"IV, {model}, {s.level:.0%} CI"


def _arm(rec: dict, arm: str, kind: str) -> str:
    if kind == "counts":
        return events_n(rec[f"events_{arm}"], rec[f"n_{arm}"])
    if kind == "means":
        return f"{rec[f'mean_{arm}']:g} ({rec[f'sd_{arm}']:g}), {int(rec[f'n_{arm}'])}"
    return ""


def _pooled(r, label: str, ratio: bool, key: str, enc) -> list[Row]:
    cells = {"study": label, "weight": "100.0%", "est": estimate_cell(ratio, r.est, r.ci_low, r.ci_high)}
    rows = [Row("pooled", cells, est=enc(r.est), lo=enc(r.ci_low), hi=enc(r.ci_high), bold=True, key=key)]
    if r.pi_low is not None and r.pi_high is not None:
        pi = estimate_cell(ratio, r.est, r.pi_low, r.pi_high).split(" ", 1)[1]
        rows.append(Row("pi", {"study": "Prediction interval", "est": pi}, lo=enc(r.pi_low), hi=enc(r.pi_high),
                        key=key))
    return rows + [Row("stat", text=text, role=role, key=key) for role, text in statistics_lines(r)]


def own_spec(a, *, title: str = "", favours: tuple[str, str] = ("Favours experimental", "Favours control"),
             pooled_line: bool = True, width: float | None = None) -> ForestSpec:
    """The forest of ``a`` (an :class:`~trialmeta.synthesis.own.OwnAnalysis`) as a :class:`ForestSpec`."""
    ratio = a.measure in RATIO_MEASURES
    level = a.settings.level
    kind = a.studies["se_from"].iloc[0]
    arms = kind in ("counts", "means")
    records = a.studies.to_dict(orient="records")
    z = z_for_level(level)
    # a row's numbers for the drawing code: the ratio itself, or a difference exp-encoded in a unit that
    # keeps every study within range (the cells print the difference, never exp'd and logged back)
    unit = 1.0 if ratio else linear_unit([abs(rec["yi"]) + z * rec["se"] for rec in records])
    enc = (lambda x: x) if ratio else (lambda x: encode_difference(x, unit))  # noqa: E731
    cols = [Column("study", ("Study or", "subgroup"), "left", wrap=1.6, role="label", overflow=True)]
    if arms:
        cols += [Column("exp", ("Exp.",), "left", "center", role="counts"),
                 Column("ctrl", ("Ctrl",), "left", "center", role="counts")]
    cols += [Column("weight", ("Weight",), "right", "right", role="weight"),
             Column("est", (f"{a.measure} [{level:.0%} CI]",), "right", "right", role="estimate")]
    rows: list[Row] = []
    refs: list[RefLine] = []
    groups = list(a.groups) if a.by is not None else []
    for gi, g in enumerate(groups or [None]):
        if gi:
            rows.append(Row("gap"))
        first = len(rows)
        if g is not None:
            rows.append(Row("group", text=g.group, role="group-label", bold=True, key=g.group))
        for rec in records:
            if g is not None and rec["group"] != g.group:
                continue
            est, lo, hi = (to_measure(ratio)(rec["yi"] + s * z * rec["se"]) for s in (0, -1, 1))
            if rec.get("status"):  # not estimable (no events in either arm): listed, not drawn
                est = lo = hi = None
            cells = {"study": rec["study"], "exp": _arm(rec, "exp", kind), "ctrl": _arm(rec, "ctrl", kind),
                     "weight": weight_text(rec["weight"]), "est": estimate_cell(ratio, est, lo, hi)}
            rows.append(Row("study", cells, est=enc(est), lo=enc(lo), hi=enc(hi), side=square_side(rec["weight"]) or FIXED_SIDE,
                            key=str(rec["study"])))
        if g is not None:
            diamond = len(rows)
            rows += _pooled(g, f"Subtotal ({level:.0%} CI)", ratio, g.group, enc)
            if pooled_line and g.est is not None:
                refs.append(RefLine(enc(g.est), first + 1, diamond))
    if groups:
        rows.append(Row("gap"))
    total = len(rows)
    rows += _pooled(a.overall, f"Total ({level:.0%} CI)", ratio, "overall", enc)
    if pooled_line and a.overall.est is not None:
        refs = [RefLine(enc(a.overall.est), 0, total)]
    if a.subgroup_test is not None:
        rows.append(Row("stat", text=fmt.subgroup_differences(a.subgroup_test), role="subgroup-differences"))
    notes = [("method", f"Method: {a.describe()}.")]
    if a.studies["corrected"].any():
        notes.append(("zero-cells", "0.5 added to each cell of studies with a zero cell (for their own estimate "
                      "and CI" + (", not for the pooled estimate" if a.method != "iv" else "") + ")."))
    notes += [("note", f"{r.group}: {n}") for r in (*groups, a.overall) for n in r.notes]
    notes += [("note", f"{n}.") for n in a.notes]
    spans = ((("Events/N" if kind == "counts" else "Mean (SD), N"), ("exp", "ctrl")),) if arms else ()
    return ForestSpec(title, "", tuple(cols), tuple(rows), (MEASURE_NAMES[a.measure], _header(a)), favours,
                      tuple(notes), tuple(refs), spans, scale="log" if ratio else "linear", unit=unit,
                      **({"width": width} if width else {}))


def own_layout(a, **options) -> Placed:
    return place(own_spec(a, **options))


def own_scene(a, **options) -> Scene:
    """The forest of ``a`` as a :class:`~trialmeta.plot.scene.Scene` (drawn by :mod:`trialmeta.plot.render`)."""
    return to_scene(own_layout(a, **options))

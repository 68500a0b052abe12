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

#: Columns of the studies frame that are not the user's (never offered to ``sort``).
INTERNAL = ("line", "yi", "se_from", "corrected", "_level", "group", "log_hr")

METHOD_HEADERS = {"mh": "M-H, fixed", "peto": "Peto, fixed"}
MODELS = {"fe": "fixed", "dl": "random (DL", "reml": "random (REML", "pm": "random (PM"}
CI_SHORT = {"wald": "Wald", "hksj": "HKSJ", "hksj-adhoc": "ad hoc HKSJ"}


def _num(x: float) -> str:
    return fmt.number(x).replace("-", fmt.MINUS)


def estimate_cell(ratio: bool, est, lo, hi, digits: int = 2) -> str:
    """'0.55 [0.28, 1.09]' for ratios; '−0.12 [−0.30, 0.06]' for differences (on their own scale, with
    ``digits`` decimals: :func:`trialmeta.fmt.decimals_for` of the figure's intervals)."""
    if est is None or not math.isfinite(est):
        return "Not estimable"
    if ratio:
        return fmt.ratio_ci(est, lo, hi)
    return f"{_diff(est, digits)} [{_diff(lo, digits)}, {_diff(hi, digits)}]"


def _diff(x, digits: int = 2) -> str:
    return fmt.difference(x, digits).replace("-", fmt.MINUS)


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


def _pooled(r, label: str, ratio: bool, key: str, enc, arms: dict | None = None, settings=None,
            digits: int = 2) -> list[Row]:
    cells = {"study": label, "weight": "100.0%", "est": estimate_cell(ratio, r.est, r.ci_low, r.ci_high, digits),
             **(arms or {})}
    rows = [Row("pooled", cells, est=enc(r.est), lo=enc(r.ci_low), hi=enc(r.ci_high), bold=True, key=key)]
    if r.pi_low is not None and r.pi_high is not None:
        pi = estimate_cell(ratio, r.est, r.pi_low, r.pi_high, digits).split(" ", 1)[1]
        rows.append(Row("pi", {"study": "Prediction interval", "est": pi}, lo=enc(r.pi_low), hi=enc(r.pi_high),
                        key=key))
    rows += _bayes_row(r, ratio, key, settings, enc, digits)
    return rows + [Row("stat", text=text, role=role, key=key) for role, text in statistics_lines(r)]


def _bayes_row(r, ratio: bool, key: str, settings, enc, digits: int = 2) -> list[Row]:
    """The registry's few-studies line: for 2 <= k <= ``bayes_max_k`` under a frequentist random-effects model,
    the Bayesian result with its prior on tau named (an open diamond on its credible interval)."""
    b = getattr(r, "bayes", None)
    if settings is None or b is None or settings.method in ("bayes", "fe") or not 2 <= r.k <= settings.bayes_max_k:
        return []
    if not all(x is not None and math.isfinite(x) and (x > 0 or not ratio) for x in (b.est, b.ci_low, b.ci_high)):
        return []
    return [Row("bayes", {"study": f"Bayesian, \u03c4 ~ {settings.tau_prior.short()}",
                          "est": estimate_cell(ratio, b.est, b.ci_low, b.ci_high, digits)},
                est=enc(b.est), lo=enc(b.ci_low), hi=enc(b.ci_high), soft=True, key=key)]


def _pooled_arms(records: list[dict], kind: str) -> dict:
    """Pooled events/N per arm (the sums over the group's studies), as RevMan's subtotal rows."""
    if kind != "counts":
        return {}
    return {arm: events_n(sum(int(r[f"events_{arm}"]) for r in records), sum(int(r[f"n_{arm}"]) for r in records))
            for arm in ("exp", "ctrl")}


def sort_records(records: list[dict], sort: str | None, headers: dict | None = None) -> list[dict]:
    """Study order: as given, or by ``sort`` (``study``, ``weight``, ``effect``, ``se`` or any column of the table,
    by its name in the file (``headers``: canonical -> the file's header); a leading ``-`` sorts descending), as
    R meta's ``sortvar``; ties keep the input order."""
    if not sort:
        return records
    desc, name = sort.startswith("-"), sort.lstrip("-")
    headers = headers or {}
    back = {str(v): k for k, v in headers.items()}
    key = {"effect": "yi", "estimate": "yi"}.get(name) or back.get(name, name)
    if records and key not in records[0]:
        cols = dict.fromkeys(["study", "weight", "effect", "se",
                              *(str(headers.get(k, k)) for k in records[0] if k not in INTERNAL)])
        raise ValueError(f"cannot sort by {name!r}: not a column ({', '.join(cols)})")
    numeric = all(isinstance(r[key], (int, float)) and not isinstance(r[key], bool) for r in records)
    value = (lambda r: float(r[key])) if numeric else (lambda r: str(r[key]))  # noqa: E731
    return sorted(records, key=value, reverse=desc)


def own_spec(a, *, title: str = "", favours: tuple[str, str] = ("Favours experimental", "Favours control"),
             pooled_line: bool = True, width: float | None = None, sort: str | None = None,
             labels: tuple[str, str] = ("Exp.", "Ctrl"), notes: bool = True) -> ForestSpec:
    """The forest of ``a`` (an :class:`~trialmeta.synthesis.own.OwnAnalysis`) as a :class:`ForestSpec`.

    ``sort`` orders the studies within each subgroup (:func:`sort_records`), ``labels`` names the two arms'
    columns (R meta's ``label.e``/``label.c``), ``notes=False`` leaves the notes block out."""
    notes_shown = notes
    ratio = a.measure in RATIO_MEASURES
    level = a.settings.level
    kind = a.studies["se_from"].iloc[0]
    arms = kind in ("counts", "means")
    records = sort_records(a.studies.to_dict(orient="records"), sort, a.studies.attrs.get("columns"))
    z = z_for_level(level)
    # a row's numbers for the drawing code: the ratio itself, or a difference exp-encoded in a unit that
    # keeps every study within range (the cells print the difference, never exp'd and logged back)
    unit = 1.0 if ratio else linear_unit([abs(rec["yi"]) + z * rec["se"] for rec in records])
    enc = (lambda x: x) if ratio else (lambda x: encode_difference(x, unit))  # noqa: E731
    # a difference's cells: two significant digits of the narrowest interval drawn (as pool-table prints them)
    d = 2 if ratio else fmt.decimals_for([2 * z * rec["se"] for rec in records]
                                         + [g.ci_high - g.ci_low for g in [*a.groups, a.overall]
                                            if g.ci_low is not None and g.ci_high is not None])
    cols = [Column("study", ("Study or", "subgroup"), "left", wrap=1.6, role="label", overflow=True)]
    if arms:
        cols += [Column("exp", (labels[0],), "left", "center", role="counts"),
                 Column("ctrl", (labels[1],), "left", "center", role="counts")]
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
                     "weight": weight_text(rec["weight"]), "est": estimate_cell(ratio, est, lo, hi, d)}
            rows.append(Row("study", cells, est=enc(est), lo=enc(lo), hi=enc(hi), side=square_side(rec["weight"]) or FIXED_SIDE,
                            key=str(rec["study"])))
        if g is not None:
            diamond = len(rows)
            rows += _pooled(g, f"Subtotal ({level:.0%} CI)", ratio, g.group, enc,
                            _pooled_arms([r for r in records if r["group"] == g.group], kind), a.settings, d)
            if pooled_line and g.est is not None:
                refs.append(RefLine(enc(g.est), first + 1, diamond))
    if groups:
        rows.append(Row("gap"))
    total = len(rows)
    rows += _pooled(a.overall, f"Total ({level:.0%} CI)", ratio, "overall", enc, _pooled_arms(records, kind),
                    a.settings, d)
    if pooled_line and a.overall.est is not None:
        refs = [RefLine(enc(a.overall.est), 0, total)]
    if a.subgroup_test is not None:
        rows.append(Row("stat", text=fmt.subgroup_differences(a.subgroup_test), role="subgroup-differences"))
    notes = [("method", f"Method: {a.describe()}.")]
    if a.studies["corrected"].any():
        notes.append(("zero-cells", "0.5 added to each cell of studies with a zero cell (for their own estimate "
                      "and CI" + (", not for the pooled estimate" if a.method != "iv" else "") + ")."))
    notes += [("note", f"{r.group}: {n}") for r in (*groups, a.overall) for n in r.notes]
    if any(r.kind == "bayes" for r in rows):
        notes.append(("bayes", f"Bayesian, \u03c4 ~ {a.settings.tau_prior.short()} (open diamond on a line): "
                      f"sensitivity analysis for groups of 2 to {a.settings.bayes_max_k} studies, where \u03c4 "
                      f"cannot be estimated from the data; {a.settings.tau_prior.describe()} prior on \u03c4, flat "
                      "prior on the mean."))
    notes += [("note", f"{n}.") for n in a.notes]
    if not notes_shown:
        notes = [("notes-left-out", f"{len(notes)} notes left out at this size: print the result (or read its "
                  ".method) for them.")]
    spans = ((("Events/N" if kind == "counts" else "Mean (SD), N"), ("exp", "ctrl")),) if arms else ()
    return ForestSpec(title, "", tuple(cols), tuple(rows), (MEASURE_NAMES[a.measure], _header(a)), favours,
                      tuple(notes), tuple(refs), spans, scale="log" if ratio else "linear", unit=unit,
                      **({"width": width} if width else {}))


def own_layout(a, **options) -> Placed:
    return place(own_spec(a, **options))


def own_scene(a, **options) -> Scene:
    """The forest of ``a`` as a :class:`~trialmeta.plot.scene.Scene` (drawn by :mod:`trialmeta.plot.render`)."""
    return to_scene(own_layout(a, **options))

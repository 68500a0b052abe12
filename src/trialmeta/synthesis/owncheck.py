"""Sanity checks on one's own studies: the typing mistakes that pool without any error.

Run on the frame of :func:`trialmeta.synthesis.owndata.check_rows` (every value already a
valid number); each finding is a :class:`~trialmeta.errors.Problem` with ``severity="warning"``
naming the row (file line or DataFrame row), the column and the value. ``strict`` callers turn
them into an :class:`~trialmeta.errors.InputError`. The checks:

* the same study label twice (case and spacing ignored): a study counted twice;
* a row with exactly the values of an earlier row (whatever its label): a row pasted twice;
* a label that names a pooled summary ("Pooled", "Total", "Overall", "Subtotal", "Summary",
  "Combined", "Meta-analysis", "Random/Fixed/Common effect(s)"): a summary line copied from a paper;
* a row whose values look like the pool of the others: an SE within 0.75 to 1.33 times the
  common-effect SE of all the other rows, at most 0.8 times each of theirs, and an estimate within half
  that SE of their common-effect estimate (k >= 4);
* a ratio typed as a percentage (an estimate >= 10 with its CI inside (1, 100], e.g. HR 72 [55, 94]),
  or a ratio outside plausible bounds (HR 0.05 to 20; RR, OR 0.01 to 100);
* a ratio whose CI is lopsided on the log scale (the estimate more than 30% of the half-width,
  beyond two-decimal rounding, from the CI's log midpoint): a mistyped bound such as 0.72 [0.55, 9.4].

A CI that does not contain its estimate is already refused by ``check_rows``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from trialmeta.errors import InputError, Problem
from trialmeta.stats.binary import RATIO_MEASURES

POOLED_LABEL = re.compile(r"\b(pooled|total|overall|sub-?totals?|summary|combined|meta-?analys[ie]s|"
                          r"(random|fixed|common)[- ]effects?)\b", re.IGNORECASE)
#: Plausible range of each ratio measure for a study's estimate (outside: a warning, not an error).
BOUNDS = {"HR": (0.05, 20.0), "RR": (0.01, 100.0), "OR": (0.01, 100.0)}
#: How far (share of the CI's log half-width) the estimate may sit from the CI's log midpoint.
LOPSIDED = 0.3
ROUNDING = 0.005  # half a unit of the second decimal: the precision papers print ratios with


def _label_key(label) -> str:
    return " ".join(str(label).casefold().split())


def _fmt(x) -> str:
    return f"{x:g}"


def sanity_warnings(frame: pd.DataFrame, measure: str, name: str, place=None) -> list[Problem]:
    """Every suspicious row of ``frame`` as a warning (see the module's list), in row order.

    ``place(line)`` names another row in a message (default ``"line N"``; the API says ``"row 'label'"``).
    """
    out: list[Problem] = []
    kind = frame["se_from"].iloc[0]
    lines = [None if pd.isna(x) else int(x) for x in frame["line"]]
    where = lambda i: f"row {i}" if lines[i] is None else (place or "line {}".format)(lines[i])  # noqa: E731
    values = _value_columns(frame, kind)
    seen_label, seen_values = {}, {}
    for i, rec in enumerate(frame.to_dict(orient="records")):
        warn = lambda path, msg: out.append(Problem(name, lines[i], path, msg, "warning"))  # noqa: E731
        label, key = rec["study"], _label_key(rec["study"])
        vals = tuple(rec[c] for c in values)
        if key in seen_label:
            j = seen_label[key]
            same = vals == tuple(frame.iloc[j][c] for c in values)
            warn("study", f"study {label!r} is listed twice (also at {where(j)})"
                 + (" with the same values: it would be counted twice" if same else
                    " with different values: two results of one study (e.g. two data cuts) would count it twice; "
                    "two studies need labels that tell them apart (e.g. with the year)"))
        elif vals in seen_values:
            j = seen_values[vals]
            warn("study", f"study {label!r} has exactly the values of {frame['study'].iloc[j]!r} "
                 f"({where(j)}): a row pasted twice?")
        seen_label.setdefault(key, i)
        seen_values.setdefault(vals, i)
        if POOLED_LABEL.search(str(label)):
            warn("study", f"{label!r} looks like a pooled summary, not a study; it would be pooled as one more "
                 "study (delete the row if it is a summary copied from a paper)")
        if measure in RATIO_MEASURES and kind != "counts":
            out += [Problem(name, lines[i], path, msg, "warning") for path, msg in _ratio_checks(rec, kind, measure)]
    out += _pooled_values(frame, lines, name)
    return out


def _value_columns(frame, kind) -> list[str]:
    from trialmeta.synthesis.owndata import COLUMNS

    return [c for c in COLUMNS[kind] if c in frame.columns]


def _ratio_checks(rec, kind, measure):
    lo_b, hi_b = BOUNDS[measure]
    if kind == "se":
        est = math.exp(rec["yi"]) if rec["yi"] < 700 else math.inf
        if not lo_b <= est <= hi_b:
            yield ("log_hr", f"log {measure} {_fmt(rec['log_hr'])} is a {measure} of {est:.3g}, outside the plausible "
                   f"{_fmt(lo_b)} to {_fmt(hi_b)}: the {measure} itself, or a percentage, typed as its log?")
        return
    est, lo, hi = rec["hr"], rec["ci_low"], rec["ci_high"]
    text = f"{measure} {_fmt(est)} [{_fmt(lo)}, {_fmt(hi)}]"
    if est >= 10 and 1 < lo and hi <= 100:
        yield ("hr", f"{text} looks like a percentage, not a ratio (meant {_fmt(est / 100)} "
               f"[{_fmt(lo / 100)}, {_fmt(hi / 100)}]?)")
    elif not lo_b <= est <= hi_b:
        yield ("hr", f"{text} is outside the plausible {_fmt(lo_b)} to {_fmt(hi_b)} for a study's {measure}")
    else:
        mid, half = (math.log(lo) + math.log(hi)) / 2, (math.log(hi) - math.log(lo)) / 2
        slack = LOPSIDED * half + ROUNDING / lo + ROUNDING / est
        if abs(math.log(est) - mid) > slack:
            low_wrong = math.log(est) > mid  # the bound farther from the estimate on the log scale is suspect
            other = round(est * est / (hi if low_wrong else lo), 2)
            yield ("ci_low" if low_wrong else "ci_high",
                   f"{text}: the CI is lopsided on the log scale (a ratio's CI is symmetric about the estimate "
                   f"there: with {'ci_high' if low_wrong else 'ci_low'} {_fmt(hi if low_wrong else lo)}, "
                   f"{'ci_low' if low_wrong else 'ci_high'} would be about {_fmt(other)}): a mistyped bound?")


def _pooled_values(frame, lines, name) -> list[Problem]:
    """Rows whose estimate and SE are those of the common-effect pool of all the other rows."""
    y, se = frame["yi"].to_numpy(float), frame["se"].to_numpy(float)
    k = len(y)
    if k < 4:
        return []
    out = []
    w = 1.0 / se ** 2
    for i in range(k):
        others = np.arange(k) != i
        sw = w[others].sum()
        mu, se_pool = (w[others] * y[others]).sum() / sw, 1.0 / math.sqrt(sw)
        if (se[i] <= 0.8 * se[others].min() and 0.75 <= se[i] / se_pool <= 4 / 3
                and abs(y[i] - mu) <= 0.5 * se_pool):
            out.append(Problem(name, lines[i], "study", f"the values of {frame['study'].iloc[i]!r} look like the "
                               f"pooled result of the other {k - 1} rows (SE {se[i]:.3g} vs their common-effect SE "
                               f"{se_pool:.3g}; estimate within half of it): a summary row?", "warning"))
    return out


def enforce(warnings: list[Problem], strict: bool) -> list[Problem]:
    """``warnings`` as they are, or with ``strict`` an :class:`InputError` listing them as errors."""
    if strict and warnings:
        raise InputError([Problem(p.file, p.line, p.path, f"{p.message} (refused: strict)") for p in warnings])
    return warnings

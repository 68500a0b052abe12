"""The time axis of a digitised figure: its extent, unit consistency and each arm's follow-up.

A published Kaplan-Meier figure has one time axis, shared by both curves and by the table of
numbers at risk printed under it. Everything measured in time is measured against that axis:

- **Its extent** (:func:`axis_end`): the last time of either curve or of the at-risk table.
  Digitisation tolerances are fractions of it (a pixel is a fraction of the axis, whichever arm
  it belongs to), so jitter on an arm that ends early is judged like jitter on the other.
- **Unit consistency** (:func:`check_units`): the at-risk times and the curves' times must
  describe the same axis. An at-risk table in months under curves digitised in days ends about
  30 times too early (and reconstructs a few events instead of hundreds, with exit 0 before this
  check); one in days under curves in months runs far past the curves' end. Refused when an
  at-risk time lies more than :data:`FAR_PAST` times past the end of the curves, or when a table
  with two or more times covers less than :data:`SHORT` of the curves' axis (the 7x days/weeks,
  12x months/years and 30x days/months mismatches all do; a printed table spans the axis). The
  message gives both time ranges and, when the ratio is close to one, the pair of units.
- **Follow-up** (:func:`follow_up`): how far an arm's figure reaches. A table whose last count is
  0 is printed at an axis tick after the last patient left, and published curves are drawn up to
  that tick's interval; so an arm's follow-up is the later of its curve's end and the last
  at-risk time up to and including the first 0. A horizon inside that range is allowed.
"""

from __future__ import annotations

import math

import numpy as np

from trialmeta.errors import Problem

FAR_PAST = 1.5
SHORT = 0.3
DAYS = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12, "years": 365.25}
_PAIRS = tuple((a, b, DAYS[b] / DAYS[a]) for a in DAYS for b in DAYS if DAYS[b] > DAYS[a])
_NEAR = 0.25  # a ratio within 25 % of a unit factor is named as that pair of units


def axis_end(*times) -> float:
    """The figure's time axis: the largest finite time in any of the given sequences (0 if none)."""
    finite = [float(t) for seq in times for t in seq if math.isfinite(float(t))]
    return max([0.0, *finite])


def unit_pair(ratio: float) -> tuple[str, str, float] | None:
    """``(shorter unit, longer unit, factor)`` whose factor is within 25 % of ``ratio`` (> 1)."""
    best = min(_PAIRS, key=lambda p: abs(math.log(ratio / p[2])))
    return best if abs(ratio / best[2] - 1) <= _NEAR else None


def check_units(curve_rows, risk_rows, curves_name: str, risk_name: str, problems: list[Problem]) -> bool:
    """Refuse at-risk times that cannot share the curves' time axis; True when they can.

    Parameters
    ----------
    curve_rows, risk_rows : list of (line, arm, time, value)
        Parsed rows of both arms of each file.
    curves_name, risk_name : str
        File names for messages.
    problems : list of Problem
        An error is appended when the axes disagree.
    """
    if not curve_rows or not risk_rows:
        return True
    curve_end = max(t for _, _, t, _ in curve_rows)
    if not curve_end > 0:  # no curve to compare with (negative times are refused by the cleaning)
        return True
    line, risk_end = max(((ln, t) for ln, _, t, _ in risk_rows), key=lambda r: (r[1], -r[0]))
    ranges = (f"the at-risk times run from 0 to {risk_end:g} ({risk_name}) but the curves' times from 0 to "
              f"{curve_end:g} ({curves_name})")
    if risk_end > FAR_PAST * curve_end:
        why = f"an at-risk time more than {FAR_PAST:g} times the curves' last time"
        ratio = risk_end / curve_end
        order = "shorter"
    elif risk_end > 0 and risk_end < SHORT * curve_end:
        why = f"the at-risk table covers less than {SHORT:.0%} of the curves' time axis"
        ratio = curve_end / risk_end
        order = "longer"
    else:
        return True
    pair = unit_pair(ratio)
    if pair is None:
        guess = f"; they are {ratio:.3g} times apart"
    else:  # at-risk numbers larger than the curves': the table is in the shorter unit
        risk_unit, curve_unit = pair[:2] if order == "shorter" else pair[1::-1]
        guess = (f"; they are {ratio:.3g} times apart, as if the at-risk times were in {risk_unit} and "
                 f"the curves' in {curve_unit} (a factor of {pair[2]:.4g})")
    problems.append(Problem(risk_name, line, "time", f"{ranges}: {why}, so the two files do not describe "
                            f"the same time axis{guess}. Give both files in the unit of the figure's "
                            "axis (and declare it with '# time:')"))
    return False


def follow_up(curve_time, risk_time, risk_n) -> float:
    """How far one arm's figure reaches (module docstring): its curve's end, or the last at-risk
    time up to and including the first count of 0, whichever is later."""
    risk_time, risk_n = np.asarray(risk_time, float), np.asarray(risk_n, int)
    zero = np.flatnonzero(risk_n == 0)
    shown = risk_time[: zero[0] + 1] if len(zero) else risk_time
    return float(max(np.max(curve_time), np.max(shown)))

"""Checks and cleaning of one arm's digitised curve and at-risk table.

**Cleaning** (Guyot et al. 2012, "Data extraction"; Liu et al. 2021, IPDfromKM ``preprocess``):
the curve starts at (0, 1) - added when missing; points are kept in the order digitised, and a
time that steps back by digitisation jitter is moved forward to the previous time; survival is
made non-increasing by antitonic (isotonic) least-squares regression, the correction Stata
``ipdfc`` offers as ``isotonic``; survival slightly outside [0, 1] is clipped. Each change is
reported as a warning with its size.

**What is noise and what is an error.** A careful digitisation misplaces a point by one to
three pixels, under 1 % of an axis of 300-500 pixels, and auto-tracing can wobble by a line
width (about 1 %); two neighbouring points misplaced in opposite directions step back by up
to twice that. Violations up to :data:`SURVIVAL_NOISE` = 0.02 (2 percentage points) of
survival and :data:`TIME_NOISE` = 2 % of the figure's time axis (both arms and the at-risk
table: :func:`trialmeta.survival.axis.axis_end`, so an arm that ends early gets the same
tolerance in time units as the other) are corrected; anything larger means a row from the other
arm, a typing error or a wrong scale, and is refused with its line and the tolerance.

At-risk counts are integers copied from a table, so they get no tolerance: the table starts at
time 0 (with the randomised n when it is known), times increase and counts never increase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trialmeta.errors import Problem

ARMS = ("experimental", "control")
SURVIVAL_NOISE = 0.02
TIME_NOISE = 0.02
_MAX_LISTED = 3  # located errors listed per check and arm; the rest are counted


def _frozen(values, dtype=float) -> np.ndarray:
    arr = np.asarray(values, dtype=dtype)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Curve:
    """One arm's cleaned curve: survival as a proportion, starting at (0, 1).

    ``lines[k]`` is the CSV line of point k (0 for the added start point).
    """

    arm: str
    time: np.ndarray
    survival: np.ndarray
    lines: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class AtRisk:
    """One arm's numbers at risk, starting at time 0 with the randomised n."""

    arm: str
    time: np.ndarray
    n: np.ndarray
    lines: tuple[int, ...]


def _report(problems, name, found, check, arm) -> None:
    for line, field, message in found[:_MAX_LISTED]:
        problems.append(Problem(name, line, field, message))
    if len(found) > _MAX_LISTED:
        problems.append(Problem(name, None, found[0][1], f"{len(found) - _MAX_LISTED} more rows of "
                                f"arm '{arm}' {check}"))


def clean_curve(arm, pts, factor, name, survival_noise, time_noise, axis, problems) -> Curve | None:
    """Check and clean one arm's digitised points (module docstring).

    Parameters
    ----------
    arm : str
    pts : list of (line, time, survival)
        The arm's rows in file order, survival on the file's scale.
    factor : float
        100 for a file in percent, else 1.
    name : str
        File name for messages.
    survival_noise, time_noise : float
        Largest rise of survival (proportion) and backward step of time (fraction of the
        figure's time axis) corrected as digitisation noise.
    axis : float
        The figure's time axis (:func:`trialmeta.survival.axis.axis_end`).
    problems : list of Problem
        Errors and warnings are appended here.

    Returns
    -------
    Curve or None
        None when an error was found.
    """
    lines = [ln for ln, _, _ in pts]
    t = np.array([p[1] for p in pts], dtype=float)
    s = np.array([p[2] for p in pts], dtype=float) / factor
    t_tol = time_noise * axis
    pct = 100.0 if factor == 100.0 else 1.0
    shown = lambda v: f"{v * pct:g}"  # noqa: E731 - values as the file gives them
    bad: list = []
    for k in np.flatnonzero(t < -t_tol):
        bad.append((lines[k], "time", f"time {t[k]:g} is negative; times run from 0 (randomisation)"))
    _report(problems, name, bad, "have negative times", arm)
    order: list = []
    moved = np.zeros(len(t))
    running, where = -np.inf, 0
    for k in range(len(t)):
        if t[k] < -t_tol:
            continue  # reported as negative
        if t[k] < running - t_tol:
            order.append((lines[k], "time", f"time {t[k]:g} comes after time {running:g} (line "
                          f"{lines[where]}) in arm '{arm}'; points must follow the curve from left to "
                          f"right (backward steps up to {t_tol:.3g}, {time_noise:.0%} of the figure's "
                          f"time axis 0-{axis:g}, are corrected as digitisation jitter)"))
        elif t[k] < running:
            moved[k] = running - t[k]
        if t[k] > running:
            running, where = t[k], k
    _report(problems, name, order, "go back in time", arm)
    outside = [(lines[k], "survival", f"survival {shown(s[k])} is outside 0-{shown(1)}"
                + (" (is the file in percent? declare '# survival: percent')" if s[k] > 1.5 else ""))
               for k in np.flatnonzero((s > 1 + survival_noise) | (s < -survival_noise))]
    _report(problems, name, outside, "are outside the survival range", arm)
    if bad or order or outside:
        return None
    t = np.maximum.accumulate(np.maximum(t, 0.0))
    clipped = np.clip(s, 0.0, 1.0)
    warnings: list[tuple[int | None, str]] = []
    if moved.any():
        warnings.append(_changed(lines, moved > 0, "moved forward in time to keep time non-decreasing "
                                 f"(max change {moved.max():.3g})"))
    if t[0] > 0:
        t, clipped, s, lines = np.r_[0.0, t], np.r_[1.0, clipped], np.r_[1.0, s], [0, *lines]
        warnings.append((None, f"added the start point (0, {shown(1)})"))
    elif abs(clipped[0] - 1.0) > survival_noise:
        problems.append(Problem(name, lines[0], "survival", f"the curve of arm '{arm}' starts at "
                                f"{shown(s[0])} at time 0; a Kaplan-Meier curve starts at {shown(1)}"))
        return None
    else:
        clipped[0] = 1.0
    rising = []
    low = np.minimum.accumulate(clipped)
    for k in np.flatnonzero(clipped[1:] - low[:-1] > survival_noise) + 1:
        j = int(np.flatnonzero(clipped[:k] == low[k - 1])[0])
        rising.append((lines[k], "survival", f"survival rises from {shown(low[k - 1])} (line {lines[j]}) "
                       f"to {shown(clipped[k])} at time {t[k]:g} in arm '{arm}'; a Kaplan-Meier curve "
                       f"never rises, and digitisation noise is corrected only up to "
                       f"{survival_noise * 100:g} percentage points: is the row from the other arm, "
                       "or mistyped?"))
    _report(problems, name, rising, "rise above an earlier point", arm)
    if rising:
        return None
    cleaned = _antitonic(clipped)
    change = np.abs(cleaned - s)
    if (change > 1e-12).any():
        warnings.append(_changed(lines, change > 1e-12, f"raised or lowered to keep survival "
                                 f"non-increasing and within 0-{shown(1)} (isotonic regression; max "
                                 f"change {change.max() * pct:.3g})"))
    for line, w in warnings:
        problems.append(Problem(name, line, f"arm {arm}", w, severity="warning"))
    return Curve(arm, _frozen(t), _frozen(cleaned), tuple(lines))


def _changed(lines, mask, what: str) -> tuple[int, str]:
    """``(first line, "2 points (lines 12, 13) <what>")`` for the points in ``mask``."""
    where = [lines[k] for k in np.flatnonzero(mask) if lines[k]]
    listed = ", ".join(map(str, where[:5])) + (", ..." if len(where) > 5 else "")
    count = int(np.count_nonzero(mask))
    return (where[0] if where else None,
            f"{count} point{'s' * (count != 1)} (line{'s' * (len(where) != 1)} {listed}) {what}")


def _antitonic(y: np.ndarray) -> np.ndarray:
    """Least-squares non-increasing fit (pool-adjacent-violators; Barlow et al. 1972)."""
    sums, counts = [], []
    for v in y:
        sums.append(float(v))
        counts.append(1)
        while len(sums) > 1 and sums[-2] / counts[-2] < sums[-1] / counts[-1]:
            top_sum, top_count = sums.pop(), counts.pop()
            sums[-1] += top_sum
            counts[-1] += top_count
    return np.repeat([s / c for s, c in zip(sums, counts)], counts)


def check_at_risk(arm, rows, name, n, source, problems) -> AtRisk | None:
    """Check one arm's at-risk rows ``(line, time, count)``; None (and problems) if invalid.

    ``n`` is the randomised n (or None) and ``source`` says where it came from.
    """
    lines = [ln for ln, _, _ in rows]
    t = np.array([r[1] for r in rows], dtype=float)
    counts = np.array([r[2] for r in rows], dtype=int)
    found = []
    if t[0] != 0:
        found.append((lines[0], "time", f"the at-risk table of arm '{arm}' starts at time {t[0]:g}; "
                      "it must start at time 0 with the number randomised"))
    elif counts[0] == 0:
        found.append((lines[0], "n_at_risk", f"the at-risk table of arm '{arm}' starts with 0 patients; "
                      "the count at time 0 is the number randomised"))
    elif n is not None and counts[0] != n:
        found.append((lines[0], "n_at_risk", f"first at-risk count {counts[0]} of arm '{arm}' is not the "
                      f"randomised n = {n} ({source})"))
    for k in range(1, len(t)):
        if t[k] <= t[k - 1]:
            found.append((lines[k], "time", f"at-risk time {t[k]:g} does not come after {t[k - 1]:g} "
                          f"(line {lines[k - 1]}) in arm '{arm}'; times must increase"))
        elif counts[k] > counts[k - 1]:
            found.append((lines[k], "n_at_risk", f"at-risk count rises from {counts[k - 1]} at time "
                          f"{t[k - 1]:g} (line {lines[k - 1]}) to {counts[k]} at time {t[k]:g} in arm "
                          f"'{arm}'; numbers at risk never increase"))
    _report(problems, name, found, "are out of order", arm)
    if found:
        return None
    return AtRisk(arm, _frozen(t), _frozen(counts, int), tuple(lines))


def reconcile(curve: Curve, risk: AtRisk, name: str, risk_name: str, survival_noise: float,
              time_tol: float, problems: list[Problem]) -> Curve:
    """Check a curve against its at-risk table.

    Points after the table reaches 0 (by more than ``time_tol``, the digitising jitter allowed
    in time) are dropped, refused if the curve still falls there; patients at risk after the
    curve ends are noted, as the curve is then taken as flat.
    """
    beyond = (risk.time > curve.time[-1]) & (risk.n > 0)
    if beyond.any():
        k = int(np.flatnonzero(beyond)[-1])
        problems.append(Problem(risk_name, risk.lines[k], "time", f"{int(risk.n[k])} patients of arm "
                                f"'{curve.arm}' are at risk at time {risk.time[k]:g}, after the digitised "
                                f"curve ends at {curve.time[-1]:g}; survival is taken as flat there",
                                severity="warning"))
    empty = np.flatnonzero(risk.n == 0)
    after = curve.time > (risk.time[empty[0]] + time_tol if len(empty) else np.inf)
    if not after.any():
        return curve
    t0, keep = float(risk.time[empty[0]]), ~after
    if curve.survival[keep][-1] - curve.survival[after].min() > survival_noise:
        k = int(np.flatnonzero(after)[np.argmin(curve.survival[after])])
        problems.append(Problem(name, curve.lines[k], "survival", f"the curve of arm '{curve.arm}' falls "
                                f"to {curve.survival[k]:.3g} at time {curve.time[k]:g}, after time {t0:g} "
                                f"where the at-risk table has no patient left ({risk_name} line "
                                f"{risk.lines[empty[0]]})"))
        return curve
    problems.append(Problem(name, None, f"arm {curve.arm}", f"{int(after.sum())} points after time {t0:g}, "
                            "where no patient is at risk, were ignored", severity="warning"))
    return Curve(curve.arm, _frozen(curve.time[keep]), _frozen(curve.survival[keep]),
                 tuple(ln for ln, k in zip(curve.lines, keep) if k))

"""How far a reconstructed Kaplan-Meier step function lies from the digitised points.

A digitiser clicks on the drawn curve, vertical segments included: a curve traced at its
corners has two points at each drop, the top one exactly on the vertical segment. Comparing
survival values at the points' times (the right-continuous value) counts each such drop as an
error of its full height. The distance used here is the one a reader sees on the figure: from
the point to the nearest part of the drawn step function, **vertically** (to the curve's value,
or to the vertical segment at that time) or **horizontally** (to the time where the curve passes
the point's survival), whichever is shorter; time is measured as a fraction of the figure's time
axis, survival as a proportion, so both are fractions of their axis.
"""

from __future__ import annotations

import numpy as np


def km_steps(time, event) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate as ``(event times, survival from each on)``.

    Examples
    --------
    >>> t, s = km_steps([1, 2, 3, 4], [1, 0, 1, 1])
    >>> t.tolist(), s.tolist()
    ([1.0, 3.0, 4.0], [0.75, 0.375, 0.0])
    """
    time, event = np.asarray(time, float), np.asarray(event, int)
    u, d = np.unique(time[event == 1], return_counts=True)
    order = np.sort(time)
    n = len(order) - np.searchsorted(order, u, side="left")
    surv = np.cumprod(1 - d / n) if len(u) else np.zeros(0)
    return u, surv


def km_at(time, event, at) -> np.ndarray:
    """Kaplan-Meier survival of ``(time, event)`` evaluated at the times ``at`` (right-continuous).

    Examples
    --------
    >>> km_at([1, 2, 3, 4], [1, 0, 1, 1], [0, 1, 3, 4]).tolist()
    [1.0, 0.75, 0.375, 0.0]
    """
    u, surv = km_steps(time, event)
    idx = np.searchsorted(u, np.asarray(at, float), side="right")
    return np.r_[1.0, surv][idx]


def distance_to_steps(step_time, step_surv, time, survival, axis: float) -> np.ndarray:
    """Distance from each point ``(time, survival)`` to the step function (module docstring).

    Parameters
    ----------
    step_time, step_surv : array_like
        The step function: 1 before ``step_time[0]``, ``step_surv[j]`` from ``step_time[j]`` on.
    time, survival : array_like
        The digitised points.
    axis : float
        Length of the time axis; horizontal distances are divided by it.

    Returns
    -------
    numpy.ndarray
        One distance per point, in axis fractions.

    Examples
    --------
    A drop from 1 to 0.5 at t = 2 on an axis of 10: the top corner (2, 1) and the bottom corner
    (2, 0.5) lie on the curve; (2.1, 0.9) is 0.01 of the axis from the vertical segment, and
    (5, 0.45) 0.05 below the curve.

    >>> distance_to_steps([2.0], [0.5], [2, 2, 2.1, 5], [1, 0.5, 0.9, 0.45], 10).round(6).tolist()
    [0.0, 0.0, 0.01, 0.05]
    """
    u, s_steps = np.asarray(step_time, float), np.asarray(step_surv, float)
    t, s = np.asarray(time, float), np.asarray(survival, float)
    levels = np.r_[1.0, s_steps]
    right = levels[np.searchsorted(u, t, side="right")]  # S(t)
    left = levels[np.searchsorted(u, t, side="left")]  # S(t-)
    vertical = np.maximum(np.maximum(right - s, s - left), 0.0)
    # the curve passes level s at the first step whose survival is <= s (at time 0 for s >= 1)
    # and stays there to the next step when s is one of its levels (at level 1: from time 0 to the
    # first step)
    first = np.searchsorted(-s_steps, -s, side="left")  # s_steps is non-increasing
    ends = np.r_[u, np.inf, np.inf]
    start = np.where(s >= 1.0, 0.0, ends[first])
    on_level = (s >= 1.0) | (np.r_[s_steps, -1.0][first] == s)
    stop = np.where(s >= 1.0, ends[0], np.where(on_level, ends[first + 1], start))
    gap = np.maximum(np.maximum(start - t, t - stop), 0.0)
    horizontal = gap / axis if axis > 0 else np.full(len(t), np.inf)
    return np.minimum(vertical, horizontal)
